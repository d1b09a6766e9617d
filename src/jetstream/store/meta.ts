// Stream metadata next to the store: the stream layer's config JSON in `meta.json`, written
// atomically (write a temporary file, fsync it, rename over the old one, fsync the directory)
// so that a crash leaves either the old or the new file, never a torn one.

import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, writeSync } from "node:fs";
import { join } from "node:path";
import { StoreError } from "./store_error.ts";

export const STREAM_META_FILE = "meta.json";

/**
 * Writes `bytes` to `path` atomically (tmp + fsync + rename + directory fsync). With `durable`
 * false the two fsyncs are left out: still all-or-nothing across a process crash (rename is
 * atomic), but a power failure may lose the new contents.
 */
export function writeFileAtomic(dir: string, name: string, bytes: Uint8Array, durable = true): void {
  const path = join(dir, name);
  const tmp = `${path}.tmp`;
  try {
    mkdirSync(dir, { recursive: true });
    const fd = openSync(tmp, "w");
    try {
      let off = 0;
      while (off < bytes.length) off += writeSync(fd, bytes, off, bytes.length - off);
      if (durable) fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, path);
    if (durable) fsyncDir(dir);
  } catch (err) {
    throw new StoreError("io", `writing ${path}: ${(err as Error).message}`, { cause: err });
  }
}

/** fsync a directory so that a rename or a new file in it survives a crash. */
export function fsyncDir(dir: string): void {
  const fd = openSync(dir, "r");
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

export function writeStreamMeta(dir: string, meta: unknown): void {
  writeFileAtomic(dir, STREAM_META_FILE, new TextEncoder().encode(JSON.stringify(meta)));
}

/** The stream metadata, or null when none was written. A corrupt file is an "io" StoreError. */
export function readStreamMeta(dir: string): unknown | null {
  return readJsonFile(join(dir, STREAM_META_FILE));
}

export function readJsonFile(path: string): unknown | null {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return null;
    throw new StoreError("io", `reading ${path}: ${(err as Error).message}`, { cause: err });
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new StoreError("io", `${path} is not valid JSON: ${(err as Error).message}`, { cause: err });
  }
}
