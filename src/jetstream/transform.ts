// Subject transforms of streams (subject_transform, republish, sources): the server's
// SubjectTransform (ADR-30, also used by account mappings and imports), compiled once per
// source/destination pair.
import { isValidSubject } from "../server/subject.ts";
import { SubjectTransform } from "../server/subject_transform.ts";

const compiled = new Map<string, SubjectTransform>();

function transformFor(src: string, dest: string): SubjectTransform {
  const key = `${src}\u0000${dest}`;
  let t = compiled.get(key);
  if (t === undefined) {
    t = new SubjectTransform(src, dest);
    if (compiled.size > 1024) compiled.clear();
    compiled.set(key, t);
  }
  return t;
}

/** Applies src → dest to `subject` (which matches src). */
export function transformSubject(subject: string, src: string, dest: string): string {
  return transformFor(src, dest).transform(subject);
}

/**
 * Whether src → dest is a transform the reference accepts (its NewSubjectTransform): both valid
 * subjects, no '*' in dest, '>' in both or in neither, and every mapping function valid with
 * its wildcard references naming one of src's '*' tokens.
 */
export function isValidTransform(src: string, dest: string): boolean {
  if (!isValidSubject(src) || !isValidSubject(dest)) return false;
  const st = src.split(".");
  const dt = dest.split(".");
  if (dt.includes("*") || st.includes(">") !== dt.includes(">")) return false;
  try {
    transformFor(src, dest);
    return true;
  } catch {
    return false;
  }
}
