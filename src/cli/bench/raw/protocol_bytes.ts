// Byte constants of the client protocol the raw client writes and recognises.

export const encoder = new TextEncoder();

export const pingBytes = encoder.encode("PING\r\n");
export const pongBytes = encoder.encode("PONG\r\n");
export const crlfBytes = encoder.encode("\r\n");

export const charCR = 13;
export const charLF = 10;
export const charSpace = 32;
export const charTab = 9;
export const char0 = 48;
export const char9 = 57;

/** Upper-cased first letters of the server operations (protocol ops are case-insensitive). */
export const charM = 77; // MSG
export const charH = 72; // HMSG
export const charP = 80; // PING / PONG
export const charI = 73; // INFO
export const charPlus = 43; // +OK
export const charMinus = 45; // -ERR

/** Longest server control line we accept (the reference's max_control_line default is 4096). */
export const controlLineBytesMax = 64 * 1024;
