// Subject rules: tokens separated by '.', '*' matches one token, '>' one or more trailing
// tokens. Validity rules are the reference's (server/sublist.go IsValidSubject,
// IsValidLiteralSubject), including their quirks: a token longer than one character may
// contain '*' or '>' and is then a literal.

const WHITESPACE = /[\t\n\f\r ]/;

/** A valid subscription subject: non-empty tokens, '>' only last, no whitespace. */
export function isValidSubject(subject: string): boolean {
  if (subject === "") return false;
  let sawFwc = false;
  for (const t of subject.split(".")) {
    if (t.length === 0 || sawFwc) return false;
    if (t.length > 1) {
      if (WHITESPACE.test(t)) return false;
      continue;
    }
    if (t === ">") sawFwc = true;
    else if (t === " " || t === "\t" || t === "\n" || t === "\r" || t === "\f") return false;
  }
  return true;
}

/** A valid literal subject (no wildcard tokens); the reference does not check whitespace here. */
export function isValidLiteralSubject(subject: string): boolean {
  for (const t of subject.split(".")) {
    if (t.length === 0) return false;
    if (t === "*" || t === ">") return false;
  }
  return true;
}

/** True when the subject has no wildcard token. */
export function subjectIsLiteral(subject: string): boolean {
  for (const t of subject.split(".")) if (t === "*" || t === ">") return false;
  return true;
}

/** Does the literal subject `subject` match the (possibly wildcard) `pattern`? */
export function subjectMatches(subject: string, pattern: string): boolean {
  const st = subject.split(".");
  const pt = pattern.split(".");
  for (let i = 0; i < pt.length; i++) {
    const p = pt[i];
    if (p === ">") return st.length > i;
    if (i >= st.length) return false;
    if (p !== "*" && p !== st[i]) return false;
  }
  return st.length === pt.length;
}
