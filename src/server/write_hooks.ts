// Work that must happen before any client socket is written. The file store registers its
// flush of coalesced appends here when it is first loaded (JetStream on): a PubAck must not
// reach a client before its message reaches the OS. Kept apart so that a server without
// JetStream never loads the store.
export const writeHooks: { beforeSocketWrite: (() => void) | null } = { beforeSocketWrite: null };
