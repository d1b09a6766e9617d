// Subject relations JetStream needs beyond matching: do two subjects (with wildcards) share
// any literal subject, and is every subject of one also a subject of the other.

/** True when some literal subject matches both `a` and `b` (the reference's SubjectsCollide). */
export function subjectsCollide(a: string, b: string): boolean {
  const ta = a.split(".");
  const tb = b.split(".");
  const n = Math.min(ta.length, tb.length);
  for (let i = 0; i < n; i++) {
    const x = ta[i];
    const y = tb[i];
    if (x === ">" || y === ">") return true;
    if (x === "*" || y === "*") continue;
    if (x !== y) return false;
  }
  // A '>' within the common length was handled above; otherwise lengths must agree.
  return ta.length === tb.length;
}

/** True when every literal subject matching `subject` also matches `test` (subjectIsSubsetMatch). */
export function isSubsetMatch(subject: string, test: string): boolean {
  const ts = subject.split(".");
  const tt = test.split(".");
  for (let i = 0; i < tt.length; i++) {
    const t = tt[i];
    if (t === ">") return i < ts.length;
    if (i >= ts.length) return false;
    const s = ts[i];
    if (t === "*") {
      if (s === ">") return false;
      continue;
    }
    if (s !== t) return false;
  }
  return ts.length === tt.length;
}
