// The store's one error type. Kept apart from store.ts so that memstore.ts and filestore.ts can
// import it without a runtime import cycle through store.ts (which re-exports their factories).

export type StoreErrorCode = "max_msgs" | "max_bytes" | "max_msgs_per_subject" | "msg_too_large" | "store_closed" | "io";

/** An operating error of a store (limit hit with discard new, closed store, I/O); `code` is stable. */
export class StoreError extends Error {
  override readonly name = "StoreError";
  constructor(
    readonly code: StoreErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
