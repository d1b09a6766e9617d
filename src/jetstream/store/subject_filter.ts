// Subject filters for the store: "" and ">" match everything, a literal matches itself, and
// '*' / '>' tokens match as in subscriptions. The store keeps its own small matcher (rather
// than importing server/subject.ts) so that it stays a pure module with no server imports.

/** A compiled filter: cheap to apply many times during a scan. */
export interface SubjectFilter {
  readonly all: boolean;
  readonly literal: boolean;
  readonly text: string;
  matches(subject: string): boolean;
}

const ANY: SubjectFilter = { all: true, literal: false, text: ">", matches: () => true };

export function compileFilter(filter: string): SubjectFilter {
  if (filter === "" || filter === ">") return ANY;
  const tokens = filter.split(".");
  let literal = true;
  for (const t of tokens) if (t === "*" || t === ">") literal = false;
  if (literal) return { all: false, literal: true, text: filter, matches: (s) => s === filter };
  return { all: false, literal: false, text: filter, matches: (s) => tokensMatch(s.split("."), tokens) };
}

function tokensMatch(subject: string[], pattern: string[]): boolean {
  for (let i = 0; i < pattern.length; i++) {
    const p = pattern[i];
    if (p === ">") return subject.length > i;
    if (i >= subject.length) return false;
    if (p !== "*" && p !== subject[i]) return false;
  }
  return subject.length === pattern.length;
}
