// What nats-io/jwt v2 `Validate` finds wrong with decoded claims, issue by issue, with the
// reference's texts. The server acts on the verdict in three ways:
//   - isBlocking(true):  a user or account JWT in use is refused (time checks included);
//   - isBlocking(false): a pushed account JWT is refused ("jwt validation failed - validation
//     errors: [..]") — an expired account may still be stored;
//   - warnings never block.
import type { AccountClaims, ActivationClaims, Claims, ClaimsData, Export, Import, OperatorClaims, Permission, Permissions, UserClaims, UserPermissionLimits } from "./claims.ts";
import { goQuote } from "./claims.ts";
import { parseCidr } from "./cidr.ts";
import { checkTimeZone, parseClock } from "./time_window.ts";
import { isAccountKey, isOperatorKey } from "./keys.ts";
import { decodeActivationClaims } from "./decode.ts";
import { JwtError, JwtErrorId } from "./errors.ts";

export interface ValidationIssue {
  description: string;
  blocking: boolean;
  /** A time check (expired / not yet valid): blocking only when time checks are asked for. */
  timeCheck: boolean;
}

export class ValidationResults {
  readonly issues: ValidationIssue[] = [];

  addError(description: string): void {
    this.issues.push({ description, blocking: true, timeCheck: false });
  }

  addWarning(description: string): void {
    this.issues.push({ description, blocking: false, timeCheck: false });
  }

  addTimeCheck(description: string): void {
    this.issues.push({ description, blocking: true, timeCheck: true });
  }

  isEmpty(): boolean {
    return this.issues.length === 0;
  }

  isBlocking(includeTimeChecks: boolean): boolean {
    return this.issues.some((i) => i.blocking && (includeTimeChecks || !i.timeCheck));
  }

  /** The blocking issues' texts, time checks left out, as jwt's Errors(). */
  errors(): string[] {
    return this.issues.filter((i) => i.blocking && !i.timeCheck).map((i) => i.description);
  }

  /** Go's `%v` of the error list: `[first second …]`. */
  errorList(): string {
    return `[${this.errors().join(" ")}]`;
  }
}

/** Unix seconds, as the reference compares `exp` and `nbf`. */
export function unixSeconds(nowMs: number): number {
  return Math.floor(nowMs / 1000);
}

// ---------------------------------------------------------------------------------------
// Subjects, as the jwt library checks them (a lighter check than the server's).

export function validateSubject(subject: string, vr: ValidationResults): void {
  if (subject === "") {
    vr.addError("subject cannot be empty");
    return;
  }
  if (subject.includes(" ")) vr.addError(`subject ${goQuote(subject)} cannot have spaces`);
}

/** jwt Subject.HasWildCards. */
export function subjectHasWildcards(s: string): boolean {
  return s.endsWith(".>") || s.includes(".*.") || s.endsWith(".*") || s.startsWith("*.") || s === "*" || s === ">";
}

/** jwt Subject.IsContainedIn: whether `s` lies within `other` (token-wise, `*` and `>`). */
export function subjectIsContainedIn(s: string, other: string): boolean {
  const mine = s.split(".");
  const theirs = other.split(".");
  if (mine.length > theirs.length && theirs[theirs.length - 1] !== ">") return false;
  if (mine.length < theirs.length) return false;
  for (let i = 0; i < theirs.length; i++) {
    const tok = theirs[i];
    if (i === theirs.length - 1 && tok === ">") return true;
    if (tok !== mine[i] && tok !== "*") return false;
  }
  return true;
}

function countTokenWildcards(s: string): number {
  if (s === "*") return 1;
  return s.split(".").filter((t) => t === "*").length;
}

/** jwt RenamingSubject.Validate: a local subject for an import of `from`. */
function validateRenamingSubject(subject: string, from: string, vr: ValidationResults): void {
  validateSubject(subject, vr);
  if (from === "") vr.addError("subject cannot be empty");
  if (subject.includes(" ")) vr.addError(`subject ${goQuote(subject)} cannot have spaces`);
  const endsInRest = (s: string): boolean => s === ">" || s.endsWith(".>");
  if (endsInRest(subject) !== endsInRest(from)) vr.addError("both, renaming subject and subject, need to end or not end in >");
  const fromCount = countTokenWildcards(from);
  let refCount = 0;
  for (const tk of subject.split(".")) {
    if (tk === "*") refCount++;
    if (tk.length < 2) continue;
    if (tk[0] === "$" && /^[+-]?[0-9]+$/.test(tk.slice(1))) {
      const idx = Number(tk.slice(1));
      if (idx > fromCount) vr.addError(`Reference $${idx} in ${goQuote(subject)} reference * in ${goQuote(from)} that do not exist`);
      else refCount++;
    }
  }
  if (refCount !== fromCount) vr.addError("subject does not contain enough * or reference wildcards $[0-9]");
}

/** jwt RenamingSubject.ToSubject: `$n` references become `*`. */
export function renamingToSubject(subject: string): string {
  if (!subject.includes("$")) return subject;
  return subject
    .split(".")
    .map((tk) => (tk.length > 1 && tk[0] === "$" && /^[+-]?[0-9]+$/.test(tk.slice(1)) ? "*" : tk))
    .join(".");
}

// ---------------------------------------------------------------------------------------
// URLs, approximately as Go's net/url.Parse sees them (scheme, user info, host, path).

interface ParsedUrl {
  scheme: string;
  user: boolean;
  host: string;
  path: string;
}

function parseUrl(raw: string): { url: ParsedUrl } | { error: string } {
  if (/[\x00-\x1f\x7f]/.test(raw)) return { error: `parse ${goQuote(raw)}: net/url: invalid control character in URL` };
  const bad = /%(?![0-9a-fA-F]{2})(.{0,2})/.exec(raw);
  if (bad) return { error: `parse ${goQuote(raw)}: invalid URL escape ${goQuote(bad[0])}` };
  let rest = raw.split("#")[0].split("?")[0];
  let scheme = "";
  const m = /^([a-zA-Z][a-zA-Z0-9+.-]*):/.exec(rest);
  if (m) {
    scheme = m[1];
    rest = rest.slice(m[0].length);
  } else if (rest.startsWith(":")) return { error: `parse ${goQuote(raw)}: missing protocol scheme` };
  let host = "";
  let user = false;
  if ((scheme !== "" || rest.startsWith("//")) && rest.startsWith("//")) {
    const authorityEnd = rest.indexOf("/", 2);
    const authority = authorityEnd < 0 ? rest.slice(2) : rest.slice(2, authorityEnd);
    rest = authorityEnd < 0 ? "" : rest.slice(authorityEnd);
    const at = authority.lastIndexOf("@");
    if (at >= 0) user = true;
    host = at >= 0 ? authority.slice(at + 1) : authority;
  }
  // Hostname: the host without its port (and without IPv6 brackets).
  let hostname = host;
  if (hostname.startsWith("[")) hostname = hostname.slice(1, hostname.indexOf("]") < 0 ? undefined : hostname.indexOf("]"));
  else if (hostname.includes(":")) hostname = hostname.slice(0, hostname.indexOf(":"));
  return { url: { scheme, user, host: hostname, path: rest } };
}

// ---------------------------------------------------------------------------------------
// Per-kind validation.

function validateClaimsData(c: ClaimsData, vr: ValidationResults, nowSec: number): void {
  if (c.exp > 0 && nowSec > c.exp) vr.addTimeCheck("claim is expired");
  if (c.nbf > 0 && c.nbf > nowSec) vr.addTimeCheck("claim is not yet valid");
}

const maxInfoLength = 8 * 1024;

function validateInfo(description: string, infoUrl: string, vr: ValidationResults): void {
  if (description.length > maxInfoLength) vr.addError("Description is too long");
  if (infoUrl !== "") {
    if (infoUrl.length > maxInfoLength) vr.addError("Info URL is too long");
    const parsed = parseUrl(infoUrl);
    let error = "error" in parsed ? parsed.error : null;
    if (error === null && "url" in parsed && (parsed.url.host === "" || parsed.url.scheme === "")) error = "no hostname or scheme";
    if (error !== null) vr.addError(`error parsing info url: ${error}`);
  }
}

function checkPermissionEntry(subject: string, permitQueue: boolean, vr: ValidationResults): void {
  const tokens = subject.split(" ");
  if (tokens.length === 1) validateSubject(tokens[0], vr);
  else if (tokens.length === 2) {
    validateSubject(tokens[0], vr);
    validateSubject(tokens[1], vr);
    if (!permitQueue) vr.addError(`Permission Subject "${subject}" is not allowed to contain queue`);
  } else vr.addError(`Permission Subject "${subject}" contains too many spaces`);
}

function validatePermission(p: Permission, permitQueue: boolean, vr: ValidationResults): void {
  for (const s of p.allow ?? []) checkPermissionEntry(s, permitQueue, vr);
  for (const s of p.deny ?? []) checkPermissionEntry(s, permitQueue, vr);
}

export function validatePermissions(p: Permissions, vr: ValidationResults): void {
  validatePermission(p.sub, true, vr);
  validatePermission(p.pub, false, vr);
}

/** jwt Limits.Validate: source networks, time windows and their zone. */
export function validateUserLimits(u: UserPermissionLimits, vr: ValidationResults): void {
  for (const cidr of u.src ?? []) {
    if (parseCidr(cidr) === null) vr.addError(`invalid cidr ${goQuote(cidr)} in user src limits`);
  }
  for (const t of u.times ?? []) {
    if (t.start === "") vr.addError("time ranges start must contain a start");
    else if (parseClock(t.start) === null) vr.addError(`start in time range is invalid ${goQuote(t.start)}`);
    if (t.end === "") vr.addError("time ranges end must contain an end");
    else if (parseClock(t.end) === null) vr.addError(`end in time range is invalid ${goQuote(t.end)}`);
  }
  if (u.times_location !== "") {
    const zone = checkTimeZone(u.times_location);
    if (!zone.ok) vr.addError(`could not parse iana time zone by name: ${zone.error}`);
  }
}

function validateUser(c: UserClaims, vr: ValidationResults, nowSec: number): void {
  validateClaimsData(c, vr, nowSec);
  validatePermissions(c.nats, vr);
  validateUserLimits(c.nats, vr);
  if (c.nats.issuer_account !== "" && !isAccountKey(c.nats.issuer_account)) vr.addError("account_id is not an account public key");
}

const exportTypeName = (t: string): string => (t === "" ? "unknown" : t);

function validateActivationBody(c: ActivationClaims, vr: ValidationResults): void {
  const n = c.nats;
  if (n.kind !== "service" && n.kind !== "stream") vr.addError(`invalid export type: ${goQuote(exportTypeName(n.kind))}`);
  validateSubject(n.subject, vr);
  if (n.issuer_account !== "" && !isAccountKey(n.issuer_account)) vr.addError("account_id is not an account public key");
}

function validateActivation(c: ActivationClaims, vr: ValidationResults, nowSec: number, timeChecks = true): void {
  if (timeChecks) validateClaimsData(c, vr, nowSec);
  validateActivationBody(c, vr);
}

function validateImport(i: Import, importer: string, vr: ValidationResults, nowSec: number): void {
  if (i.type !== "service" && i.type !== "stream") vr.addError(`invalid import type: ${goQuote(exportTypeName(i.type))}`);
  if (i.account === "") vr.addError("account to import from is not specified");
  if (i.to !== "") vr.addWarning("the field to has been deprecated (use LocalSubject instead)");
  validateSubject(i.subject, vr);
  if (i.local_subject !== "") {
    validateRenamingSubject(i.local_subject, i.subject, vr);
    if (i.to !== "") vr.addError("Local Subject replaces To");
  }
  if (i.share && i.type !== "service") vr.addError(`sharing information (for latency tracking) is only valid for services: ${goQuote(i.subject)}`);
  if (i.token === "") return;
  let act: ActivationClaims;
  try {
    act = decodeActivationClaims(i.token);
  } catch (e) {
    if (!(e instanceof JwtError)) throw e;
    vr.addError(`import ${goQuote(i.subject)} contains an invalid activation token`);
    return;
  }
  if (!(act.iss === i.account || act.nats.issuer_account === i.account)) vr.addError(`activation token doesn't match account for import ${goQuote(i.subject)}`);
  if (act.sub !== importer) vr.addError(`activation token doesn't match account it is being included in, ${goQuote(i.subject)}`);
  if (act.nats.kind !== i.type) vr.addError(`mismatch between token import type ${exportTypeName(act.nats.kind)} and type of import ${exportTypeName(i.type)}`);
  validateActivation(act, vr, nowSec, false);
  const subject = i.type === "service" && i.to !== "" ? i.to : i.subject;
  if (!subjectIsContainedIn(subject, act.nats.subject)) vr.addError(`activation token import subject ${goQuote(act.nats.subject)} doesn't match import ${goQuote(i.subject)}`);
}

function validateImports(imports: (Import | null)[], importer: string, vr: ValidationResults, nowSec: number): void {
  const seen: string[] = [];
  for (const i of imports) {
    if (i === null) {
      vr.addError("null import is not allowed");
      continue;
    }
    if (i.type === "service") {
      let sub = i.to;
      if (sub === "") sub = renamingToSubject(i.local_subject);
      if (sub === "") sub = i.subject;
      for (const k of seen) {
        if (subjectIsContainedIn(sub, k) || subjectIsContainedIn(k, sub)) vr.addError(`overlapping subject namespace for ${goQuote(sub)} and ${goQuote(k)}`);
      }
      if (seen.includes(sub)) vr.addError(`overlapping subject namespace for ${goQuote(i.to)}`);
      else seen.push(sub);
    }
    validateImport(i, importer, vr, nowSec);
  }
}

function validateExport(e: Export, vr: ValidationResults): void {
  const service = e.type === "service";
  const stream = e.type === "stream";
  if (!service && !stream) vr.addError(`invalid export type: ${goQuote(exportTypeName(e.type))}`);
  if (service && !["", "Singleton", "Stream", "Chunked"].includes(e.response_type)) vr.addError(`invalid response type for service: ${goQuote(e.response_type)}`);
  if (stream && e.response_type !== "") vr.addError(`invalid response type for stream: ${goQuote(e.response_type)}`);
  if (e.service_latency !== null) {
    if (!service) vr.addError("latency tracking only permitted for services");
    const l = e.service_latency;
    if (l.sampling !== 0 && (l.sampling < 1 || l.sampling > 100)) vr.addError("sampling percentage needs to be between 1-100");
    validateSubject(l.results, vr);
    if (subjectHasWildcards(l.results)) vr.addError("results subject can not contain wildcards");
  }
  if (e.response_threshold < 0) vr.addError("negative response threshold is invalid");
  if (e.response_threshold > 0 && !service) vr.addError("response threshold only valid for services");
  validateSubject(e.subject, vr);
  if (e.account_token_position > 0) {
    if (!subjectHasWildcards(e.subject)) vr.addError(`Account Token Position can only be used with wildcard subjects: ${e.subject}`);
    else {
      const tokens = e.subject.split(".");
      if (e.account_token_position > tokens.length) vr.addError(`Account Token Position ${e.account_token_position} exceeds length of subject '${e.subject}'`);
      else {
        const tk = tokens[e.account_token_position - 1];
        if (tk !== "*") vr.addError(`Account Token Position ${e.account_token_position} matches '${tk}' but must match a * in: ${e.subject}`);
      }
    }
  }
  validateInfo(e.description, e.info_url, vr);
}

/** An export subject contained in another export of the same kind. */
function checkExportOverlap(kind: string, subjects: string[], vr: ValidationResults): void {
  const found = new Map<string, string>();
  for (let i = 0; i < subjects.length; i++) {
    for (let j = 0; j < subjects.length; j++) {
      if (i === j) continue;
      if (subjectIsContainedIn(subjects[i], subjects[j]) && !found.has(subjects[j])) found.set(subjects[j], subjects[i]);
    }
  }
  for (const [k, v] of found) vr.addError(`${kind} export subject ${goQuote(k)} already exports ${goQuote(v)}`);
}

function validateExports(exports: (Export | null)[], vr: ValidationResults): void {
  const services: string[] = [];
  const streams: string[] = [];
  for (const e of exports) {
    if (e === null) {
      vr.addError("null export is not allowed");
      continue;
    }
    if (e.type === "service") services.push(e.subject);
    else streams.push(e.subject);
    validateExport(e, vr);
  }
  checkExportOverlap("service", services, vr);
  checkExportOverlap("stream", streams, vr);
}

function jetStreamLimitsSet(l: AccountClaims["nats"]["limits"]): boolean {
  return (
    l.mem_storage !== 0 ||
    l.disk_storage !== 0 ||
    l.streams !== 0 ||
    l.consumer !== 0 ||
    l.max_ack_pending !== 0 ||
    l.mem_max_stream_bytes !== 0 ||
    l.disk_max_stream_bytes !== 0 ||
    l.max_bytes_required
  );
}

function limitsEmpty(l: AccountClaims["nats"]["limits"]): boolean {
  return (
    l.subs === 0 &&
    l.data === 0 &&
    l.payload === 0 &&
    l.imports === 0 &&
    l.exports === 0 &&
    !l.wildcards &&
    !l.disallow_bearer &&
    l.conn === 0 &&
    l.leaf === 0 &&
    !jetStreamLimitsSet(l) &&
    (l.tiered_limits === null || l.tiered_limits.size === 0)
  );
}

function validateAccount(c: AccountClaims, vr: ValidationResults, nowSec: number): void {
  validateClaimsData(c, vr, nowSec);
  const n = c.nats;
  validateImports(n.imports ?? [], c.sub, vr, nowSec);
  validateExports(n.exports ?? [], vr);
  const l = n.limits;
  if (l.tiered_limits !== null && l.tiered_limits.size > 0) {
    if (l.tiered_limits.has("")) vr.addError('Tiered JetStream Limits can not contain a blank "" tier name');
  }
  validatePermissions(n.default_permissions, vr);
  for (const [from, list] of n.mappings ?? []) {
    validateSubject(from, vr);
    const perCluster = new Map<string, number>();
    let total = 0;
    for (const m of list ?? []) {
      validateSubject(m.subject, vr);
      // Weights are Go uint8: sums wrap at 256.
      if (m.cluster !== "") {
        const t = ((perCluster.get(m.cluster) ?? 0) + m.weight) & 0xff;
        perCluster.set(m.cluster, t);
        if (t > 100) vr.addError(`Mapping ${goQuote(from)} in cluster ${goQuote(m.cluster)} exceeds 100% among all of it's weighted to mappings`);
      } else total = (total + (m.weight === 0 ? 100 : m.weight)) & 0xff;
    }
    if (total > 100) vr.addError(`Mapping ${goQuote(from)} exceeds 100% among all of it's weighted to mappings`);
  }
  const imports = n.imports?.length ?? 0;
  const exports = n.exports?.length ?? 0;
  if (!limitsEmpty(l) && l.imports >= 0 && imports > l.imports) vr.addError("the account contains more imports than allowed by the operator");
  if (l.imports !== -1 && imports > l.imports) vr.addError("the account contains more imports than allowed by the operator");
  if (l.exports !== -1) {
    if (exports > l.exports) vr.addError("the account contains more exports than allowed by the operator");
    if (!l.wildcards) {
      for (const e of n.exports ?? []) {
        if (e !== null && subjectHasWildcards(e.subject)) vr.addError("the account contains wildcard exports that are not allowed by the operator");
      }
    }
  }
  for (const [key, scope] of n.signing_keys) {
    if (scope !== null) {
      if (!isAccountKey(scope.key)) vr.addError(`${scope.key} is not an account public key`);
    } else if (!isAccountKey(key)) vr.addError(`${goQuote(key)} is not a valid account signing key`);
  }
  validateInfo(n.description, n.info_url, vr);
  if (isAccountKey(c.iss) && !limitsEmpty(l)) vr.addWarning("self-signed account JWTs shouldn't contain operator limits");
}

function validateServiceUrl(v: string): string | null {
  if (v === "") return null;
  const parsed = parseUrl(v);
  if ("error" in parsed) return `error parsing operator service url ${goQuote(v)}: ${parsed.error}`;
  if (parsed.url.user) return `operator service url ${goQuote(v)} - credentials are not supported`;
  if (parsed.url.path !== "") return `operator service url ${goQuote(v)} - paths are not supported`;
  const scheme = parsed.url.scheme.toLowerCase();
  if (scheme === "nats" || scheme === "tls") return null;
  return `operator service url ${goQuote(v)} - protocol not supported (only 'nats' or 'tls' only)`;
}

function validateOperator(c: OperatorClaims, vr: ValidationResults, nowSec: number): void {
  validateClaimsData(c, vr, nowSec);
  const n = c.nats;
  if (n.account_server_url !== "") {
    const parsed = parseUrl(n.account_server_url);
    if ("error" in parsed) vr.addError(`error parsing account server url: ${parsed.error}`);
    else if (parsed.url.scheme === "") vr.addError(`account server url ${goQuote(n.account_server_url)} requires a protocol`);
  }
  for (const u of n.operator_service_urls ?? []) {
    const error = validateServiceUrl(u);
    if (error !== null) vr.addError(error);
  }
  for (const k of n.signing_keys ?? []) {
    if (!isOperatorKey(k)) vr.addError(`${k} is not an operator public key`);
  }
  if (n.system_account !== "" && !isAccountKey(n.system_account)) vr.addError(`${n.system_account} is not an account public key`);
  if (n.assert_server_version !== "" && !/^v?[0-9]+\.[0-9]+\.[0-9]+/.test(n.assert_server_version)) {
    vr.addError(`assert server version error: ${n.assert_server_version}`);
  }
}

/**
 * Throws JwtError(invalid) when the claims have blocking issues at `nowMs` (time checks
 * included unless `timeChecks` is false); the message lists every issue, as Go prints them.
 */
export function requireValid(claims: Claims, nowMs: number, timeChecks = true): void {
  const vr = validateClaims(claims, nowMs);
  if (vr.isBlocking(timeChecks)) {
    const blocking = vr.issues.filter((i) => i.blocking && (timeChecks || !i.timeCheck)).map((i) => i.description);
    throw new JwtError(JwtErrorId.invalid, blocking.join("; "));
  }
}

/** Validates decoded claims as the reference's `Validate` does, at `nowMs`. */
export function validateClaims(claims: Claims, nowMs: number): ValidationResults {
  const vr = new ValidationResults();
  const nowSec = unixSeconds(nowMs);
  switch (claims.kind) {
    case "operator":
      validateOperator(claims, vr, nowSec);
      break;
    case "account":
      validateAccount(claims, vr, nowSec);
      break;
    case "user":
      validateUser(claims, vr, nowSec);
      break;
    case "activation":
      validateActivation(claims, vr, nowSec);
      break;
    case "generic":
      validateClaimsData(claims, vr, nowSec);
      break;
  }
  return vr;
}
