// Subject transforms (ADR-30): a source filter and a destination format. Tokens of the input
// subject that match the source's wildcards feed the destination's mapping functions:
// `$N` / `{{wildcard(N)}}`, `{{partition(n, a, b…)}}`, `{{split(N, sep)}}`,
// `{{splitFromLeft(N, k)}}`, `{{splitFromRight(N, k)}}`, `{{sliceFromLeft(N, k)}}`,
// `{{sliceFromRight(N, k)}}`; a `>` in the destination carries what the source's `>` matched.
// Used by account subject mappings and cross-account imports.

type Part =
  | { kind: "literal"; text: string }
  | { kind: "wildcard"; index: number }
  | { kind: "rest" }
  | { kind: "partition"; buckets: number; indexes: number[] }
  | { kind: "split"; index: number; separator: string }
  | { kind: "splitFromLeft" | "splitFromRight" | "sliceFromLeft" | "sliceFromRight"; index: number; size: number };

export class SubjectTransformError extends Error {
  override name = "SubjectTransformError";
}

const FUNCTION = /^\{\{\s*([A-Za-z]+)\s*\((.*)\)\s*\}\}$/;

export class SubjectTransform {
  readonly source: string;
  readonly destination: string;
  readonly #sourceTokens: string[];
  /** Token positions of the source's `*` wildcards, in order. */
  readonly #wildcards: number[] = [];
  readonly #restAt: number;
  readonly #parts: Part[];

  constructor(source: string, destination: string) {
    this.source = source;
    this.destination = destination;
    this.#sourceTokens = source.split(".");
    this.#sourceTokens.forEach((t, i) => {
      if (t === "*") this.#wildcards.push(i);
    });
    this.#restAt = this.#sourceTokens.indexOf(">");
    if (this.#sourceTokens.some((t) => t === "")) throw new SubjectTransformError(`invalid source subject ${JSON.stringify(source)}`);
    this.#parts = destination.split(".").map((token) => this.#parse(token));
    if (this.#parts.some((p) => p.kind === "rest") && this.#restAt < 0) {
      throw new SubjectTransformError(`destination ${JSON.stringify(destination)} uses '>' but the source has none`);
    }
  }

  #parse(token: string): Part {
    if (token === "") throw new SubjectTransformError(`invalid destination subject ${JSON.stringify(this.destination)}`);
    if (token === ">") return { kind: "rest" };
    const legacy = /^\$(\d+)$/.exec(token);
    if (legacy !== null) return { kind: "wildcard", index: this.#wildcardIndex(Number(legacy[1])) };
    const m = FUNCTION.exec(token);
    if (m === null) {
      if (token.includes("{{") || token.includes("}}")) throw new SubjectTransformError(`invalid mapping function ${JSON.stringify(token)}`);
      return { kind: "literal", text: token };
    }
    const name = m[1].toLowerCase();
    const args = m[2].split(",").map((a) => a.trim());
    const int = (a: string | undefined): number => {
      if (a === undefined || !/^\d+$/.test(a)) throw new SubjectTransformError(`invalid arguments in ${JSON.stringify(token)}`);
      return Number(a);
    };
    switch (name) {
      case "wildcard":
        if (args.length !== 1) throw new SubjectTransformError(`invalid arguments in ${JSON.stringify(token)}`);
        return { kind: "wildcard", index: this.#wildcardIndex(int(args[0])) };
      case "partition": {
        const buckets = int(args[0]);
        if (buckets === 0) throw new SubjectTransformError(`invalid partition count in ${JSON.stringify(token)}`);
        return { kind: "partition", buckets, indexes: args.slice(1).filter((a) => a !== "").map((a) => this.#wildcardIndex(int(a))) };
      }
      case "split":
        if (args.length !== 2 || args[1] === "") throw new SubjectTransformError(`invalid arguments in ${JSON.stringify(token)}`);
        return { kind: "split", index: this.#wildcardIndex(int(args[0])), separator: args[1] };
      case "splitfromleft":
      case "splitfromright":
      case "slicefromleft":
      case "slicefromright": {
        if (args.length !== 2) throw new SubjectTransformError(`invalid arguments in ${JSON.stringify(token)}`);
        const size = int(args[1]);
        if (size === 0) throw new SubjectTransformError(`invalid arguments in ${JSON.stringify(token)}`);
        const kind = ({ splitfromleft: "splitFromLeft", splitfromright: "splitFromRight", slicefromleft: "sliceFromLeft", slicefromright: "sliceFromRight" } as const)[name];
        return { kind, index: this.#wildcardIndex(int(args[0])), size };
      }
      default:
        throw new SubjectTransformError(`unknown mapping function ${JSON.stringify(m[1])}`);
    }
  }

  /** The token position of the Nth (1-based) `*` of the source. */
  #wildcardIndex(n: number): number {
    const at = this.#wildcards[n - 1];
    if (at === undefined) throw new SubjectTransformError(`wildcard index ${n} out of range for source ${JSON.stringify(this.source)}`);
    return at;
  }

  /** Does the literal subject match the source filter? */
  matches(subject: string): boolean {
    return tokensMatch(this.#sourceTokens, subject.split("."));
  }

  /** The destination subject for `subject` (which must match the source). */
  transform(subject: string): string {
    const tokens = subject.split(".");
    const out: string[] = [];
    for (const p of this.#parts) {
      switch (p.kind) {
        case "literal":
          out.push(p.text);
          break;
        case "wildcard":
          out.push(tokens[p.index]);
          break;
        case "rest":
          out.push(tokens.slice(this.#restAt).join("."));
          break;
        case "partition": {
          const key = (p.indexes.length === 0 ? tokens : p.indexes.map((i) => tokens[i])).join(p.indexes.length === 0 ? "." : "");
          out.push(String(fnv1a32(key) % p.buckets));
          break;
        }
        case "split": {
          const parts = tokens[p.index].split(p.separator).filter((x) => x !== "");
          if (parts.length > 0) out.push(parts.join("."));
          break;
        }
        case "splitFromLeft":
        case "splitFromRight": {
          const t = tokens[p.index];
          const at = p.kind === "splitFromLeft" ? p.size : t.length - p.size;
          if (at <= 0 || at >= t.length) out.push(t);
          else out.push(`${t.slice(0, at)}.${t.slice(at)}`);
          break;
        }
        case "sliceFromLeft":
        case "sliceFromRight": {
          const t = tokens[p.index];
          const slices: string[] = [];
          if (p.kind === "sliceFromLeft") for (let i = 0; i < t.length; i += p.size) slices.push(t.slice(i, i + p.size));
          else {
            const first = t.length % p.size;
            if (first > 0) slices.push(t.slice(0, first));
            for (let i = first; i < t.length; i += p.size) slices.push(t.slice(i, i + p.size));
          }
          out.push(slices.join("."));
          break;
        }
      }
    }
    return out.join(".");
  }
}

function tokensMatch(pattern: readonly string[], subject: readonly string[]): boolean {
  for (let i = 0; i < pattern.length; i++) {
    const p = pattern[i];
    if (p === ">") return subject.length > i;
    if (i >= subject.length) return false;
    if (p !== "*" && p !== subject[i]) return false;
  }
  return subject.length === pattern.length;
}

/** FNV-1a, 32 bits, over the bytes of a byte string (the reference's partition hash). */
function fnv1a32(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i) & 0xff;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

export interface WeightedDestination {
  transform: SubjectTransform;
  /** Percent, 0–100. */
  weight: number;
}

/**
 * One `mappings` entry: a source and one or more weighted destinations. With weights summing
 * below 100, the rest of the time the subject is not mapped (reference selectMappedSubject).
 */
export class SubjectMapping {
  readonly source: string;
  readonly #sourceTokens: string[];
  readonly #literal: boolean;
  readonly destinations: WeightedDestination[];

  constructor(source: string, destinations: { subject: string; weight: number }[]) {
    this.source = source;
    this.#sourceTokens = source.split(".");
    this.#literal = !this.#sourceTokens.some((t) => t === "*" || t === ">");
    this.destinations = destinations.map((d) => ({ transform: new SubjectTransform(source, d.subject), weight: d.weight }));
  }

  matches(subject: string): boolean {
    return this.#literal ? subject === this.source : tokensMatch(this.#sourceTokens, subject.split("."));
  }

  /** The mapped subject, or null when the weights leave it unmapped this time. */
  select(subject: string, random: () => number = Math.random): string | null {
    const dests = this.destinations;
    let chosen: WeightedDestination | null = null;
    if (dests.length === 1 && dests[0].weight === 100) chosen = dests[0];
    else {
      let w = Math.floor(random() * 100);
      for (const d of dests) {
        if (w < d.weight) {
          chosen = d;
          break;
        }
        w -= d.weight;
      }
    }
    return chosen === null ? null : chosen.transform.transform(subject);
  }
}
