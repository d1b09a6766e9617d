// Subject transforms (stream subject_transform, republish): a source pattern with wildcards
// and a destination using them: `$1`-style or `{{wildcard(1)}}` references, and
// `{{partition(n,i…)}}` / `{{splitfromleft…}}` functions where the reference has them.
import { isValidSubject } from "../server/subject.ts";

/** Applies src → dest to `subject` (which matches src). Tokens: `$N`/`{{wildcard(N)}}` = Nth wildcard of src. */
export function transformSubject(subject: string, src: string, dest: string): string {
  const st = src.split(".");
  const tt = subject.split(".");
  const wild: string[] = [];
  for (let i = 0; i < st.length; i++) {
    if (st[i] === "*") wild.push(tt[i]);
    else if (st[i] === ">") {
      wild.push(tt.slice(i).join("."));
      break;
    }
  }
  const out: string[] = [];
  for (const token of dest.split(".")) {
    if (token === ">") {
      // A trailing '>' in dest carries what src's '>' matched.
      const i = st.indexOf(">");
      out.push(i >= 0 ? tt.slice(i).join(".") : token);
      continue;
    }
    const m = /^\$(\d+)$/.exec(token) ?? /^\{\{\s*wildcard\s*\(\s*(\d+)\s*\)\s*\}\}$/i.exec(token);
    if (m !== null) {
      out.push(wild[Number(m[1]) - 1] ?? "");
      continue;
    }
    const p = /^\{\{\s*partition\s*\(\s*(\d+)\s*((?:,\s*\d+\s*)*)\)\s*\}\}$/i.exec(token);
    if (p !== null) {
      const n = Number(p[1]);
      const idx = p[2].split(",").map((x) => x.trim()).filter((x) => x !== "").map(Number);
      const key = (idx.length === 0 ? tt : idx.map((i) => wild[i - 1] ?? "")).join("");
      out.push(String(fnv1a32(key) % n));
      continue;
    }
    out.push(token);
  }
  return out.join(".");
}

function fnv1a32(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i) & 0xff;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

/**
 * Whether src → dest is a transform the reference accepts (its NewSubjectTransform): both valid
 * subjects, no '*' in dest, '>' in both or in neither, and every wildcard reference in dest
 * naming one of src's '*' tokens.
 */
export function isValidTransform(src: string, dest: string): boolean {
  if (!isValidSubject(src) || !isValidSubject(dest)) return false;
  const st = src.split(".");
  const dt = dest.split(".");
  const stars = st.filter((t) => t === "*").length;
  if (dt.includes("*") || st.includes(">") !== dt.includes(">")) return false;
  for (const token of dt) {
    const m = /^\$(\d+)$/.exec(token) ?? /^\{\{\s*wildcard\s*\(\s*(\d+)\s*\)\s*\}\}$/i.exec(token);
    if (m !== null && (Number(m[1]) < 1 || Number(m[1]) > stars)) return false;
  }
  return true;
}
