// The one place the store maps files (Bun.mmap), with its sharp edges handled:
// - an empty file cannot be mapped (EINVAL): an empty view is returned instead;
// - truncating a mapped file makes later reads past the new end fault (SIGBUS): the file store
//   maps only sealed blocks, which never shrink in place — a compaction writes a new file and
//   renames it over the old one, so the old mapping keeps the old inode alive until collected.
//   Unlinking a mapped file is equally safe on Linux for the same reason.
// - a mapping is released when its array is garbage collected: drop every reference to it.
// Mappings are shared (MAP_SHARED) so that an in-place erase written through a file descriptor
// is what later reads see. The store never writes through a mapping.

export function mapFile(path: string, size: number): Uint8Array {
  if (size === 0) return new Uint8Array(0);
  const m = Bun.mmap(path, { shared: true });
  if (m.length < size) throw new Error(`mapping ${path}: ${m.length} bytes, expected ${size}`);
  return m;
}
