// Placeholder until the file store lands on this branch (same day): refuses clearly.
import type { FileStoreOptions, StoreConfig, StreamStore } from "./store.ts";
import { StoreError } from "./store_error.ts";

export function openFileStore(dir: string, config: StoreConfig, _options?: FileStoreOptions): StreamStore {
  throw new StoreError("io", `file store for stream "${config.name}" in ${dir}: not implemented yet`);
}
