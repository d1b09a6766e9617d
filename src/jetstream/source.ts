// Mirrors and sources between streams of the same JetStream account, in process: a reader
// follows the origin stream's store from a cursor and hands each message to the target. A
// mirror keeps the origin's sequences and timestamps (gaps become skipped sequences); a source
// appends with the target's own sequences and adds `Nats-Stream-Source: <origin> <seq>`, from
// which the cursor is recovered after a restart. The origin may appear later: the reader
// attaches when a stream of that name is created.
import { getHeader } from "../protocol/headers.ts";
import { subjectMatches } from "../server/subject.ts";
import { byteStringToText, textToByteString } from "../util/bytes.ts";
import { rfc3339ToNs } from "./json.ts";
import type { Stream } from "./stream.ts";
import { mergeHeaders } from "./stream.ts";
import type { StreamSource } from "./stream_config.ts";
import type { StoredMessage } from "./store/store.ts";
import { transformSubject } from "./transform.ts";

export interface SourceHost {
  /**
   * The origin stream by name: in the same account, or — with `external` — in the account
   * whose JetStream API this account imports under `external.api` (or this server's own
   * domain prefix). Undefined while it does not exist.
   */
  lookup(name: string, external: { api: string; deliver: string } | null): Stream | undefined;
}

export class SourceReader {
  origin: Stream | null = null;
  /** Last origin sequence handled. */
  cursor = 0;
  lastActiveMs = Date.now();
  error: string | null = null;
  #pumping = false;
  #closed = false;
  readonly #filters: { filter: string; dest: string }[];

  constructor(
    readonly target: Stream,
    readonly spec: StreamSource,
    readonly mirror: boolean,
    readonly host: SourceHost,
  ) {
    const filters: { filter: string; dest: string }[] = [];
    if (spec.subject_transforms !== null && spec.subject_transforms.length > 0) {
      for (const t of spec.subject_transforms) filters.push({ filter: t.src === "" ? ">" : t.src, dest: t.dest });
    } else if (spec.filter_subject !== "") filters.push({ filter: spec.filter_subject, dest: spec.subject_transform_dest });
    this.#filters = filters;
  }

  get name(): string {
    return this.spec.name;
  }

  /** The origin's name in Nats-Stream-Source: `<name>` or, external, `<name>:<hash of the API prefix>`. */
  get iname(): string {
    return sourceIname(this.spec);
  }

  /** Sets the start cursor (from the target's contents or the spec) and attaches when the origin exists. */
  start(recoveredCursor: number | null): void {
    const origin = this.host.lookup(this.spec.name, this.spec.external);
    if (recoveredCursor !== null) this.cursor = recoveredCursor;
    else this.cursor = this.#initialCursor(origin);
    if (origin !== undefined) this.attach(origin);
  }

  #initialCursor(origin: Stream | undefined): number {
    if (this.spec.opt_start_seq > 0) return this.spec.opt_start_seq - 1;
    if (this.spec.opt_start_time !== null && origin !== undefined) {
      const t = rfc3339ToNs(this.spec.opt_start_time) ?? 0n;
      const st = origin.store.state();
      for (let s = st.firstSeq; s <= st.lastSeq && s > 0; ) {
        const m = origin.store.loadNextMsg("", s);
        if (m === null) break;
        if (m.ts >= t) return m.seq - 1;
        s = m.seq + 1;
      }
      return st.lastSeq;
    }
    return 0;
  }

  attach(origin: Stream): void {
    if (this.#closed || this.origin === origin) return;
    this.origin = origin;
    origin.sourceReaders.add(this);
    this.error = null;
    this.pump();
  }

  /** The origin stream was deleted. */
  detach(): void {
    this.origin?.sourceReaders.delete(this);
    this.origin = null;
  }

  stop(): void {
    this.#closed = true;
    this.detach();
  }

  #matches(subject: string): { ok: boolean; dest: string } {
    if (this.#filters.length === 0) return { ok: true, dest: "" };
    for (const f of this.#filters) {
      const fb = textToByteString(f.filter);
      if (subjectMatches(subject, fb)) return { ok: true, dest: f.dest };
    }
    return { ok: false, dest: "" };
  }

  /** Copies every origin message after the cursor into the target. */
  pump(): void {
    const origin = this.origin;
    if (origin === null || this.#pumping || this.#closed) return;
    this.#pumping = true;
    try {
      for (;;) {
        const m = origin.store.loadNextMsg("", this.cursor + 1);
        if (m === null) break;
        const { ok, dest } = this.#matches(m.subject);
        if (ok && !this.#deliver(m, dest)) break;
        this.cursor = m.seq;
        this.lastActiveMs = Date.now();
      }
    } finally {
      this.#pumping = false;
    }
  }

  #deliver(m: StoredMessage, dest: string): boolean {
    let subject = m.subject;
    if (dest !== "") {
      const text = byteStringToText(subject);
      const filter = this.#filters.find((f) => f.dest === dest)?.filter ?? ">";
      subject = textToByteString(transformSubject(text, filter, dest));
    }
    if (this.mirror) {
      const r = this.target.storeMirrored(subject, m.hdr, m.data, m.seq, m.ts);
      if (r !== null) {
        this.error = r;
        return false;
      }
      return true;
    }
    const hdr = mergeHeaders(m.hdr, [["Nats-Stream-Source", `${this.iname} ${m.seq}`]]);
    const r = this.target.processMessage(subject, hdr, m.data, true);
    if ("error" in r) this.error = r.error.description;
    return true;
  }

  /** StreamSourceInfo: name, lag, active (ns since the last message), error. */
  infoJson(): Record<string, unknown> {
    const o: Record<string, unknown> = { name: this.spec.name };
    if (this.spec.external !== null) o.external = this.spec.external;
    if (this.spec.filter_subject !== "") o.filter_subject = this.spec.filter_subject;
    if (this.spec.subject_transforms !== null) o.subject_transforms = this.spec.subject_transforms;
    const last = this.origin?.store.state().lastSeq ?? this.cursor;
    o.lag = Math.max(0, last - this.cursor);
    o.active = this.origin === null ? -1 : (Date.now() - this.lastActiveMs) * 1e6;
    if (this.error !== null) o.error = { code: 500, err_code: 10029, description: this.error };
    return o;
  }
}

export function sourceIname(spec: StreamSource): string {
  if (spec.external === null || spec.external.api === "") return spec.name;
  const digest = new Bun.CryptoHasher("sha256").update(spec.external.api).digest("base64url");
  return `${spec.name}:${digest.slice(0, 8)}`;
}

/** For sources: the last origin sequence copied, per origin iname, found in the target's newest messages. */
export function recoverSourceCursors(target: Stream, names: string[]): Map<string, number> {
  const found = new Map<string, number>();
  const st = target.store.state();
  let scanned = 0;
  for (let seq = st.lastSeq; seq >= st.firstSeq && seq > 0 && found.size < names.length && scanned < 1_000_000; seq--) {
    const m = target.store.loadMsg(seq);
    scanned++;
    if (m === null || m.hdr === null) continue;
    const v = getHeader(m.hdr, "Nats-Stream-Source");
    if (v === null) continue;
    const [name, n] = v.split(" ");
    if (names.includes(name) && !found.has(name)) found.set(name, Number(n));
  }
  return found;
}
