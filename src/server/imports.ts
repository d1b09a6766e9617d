// Cross-account imports, wired with internal subscriptions (Subscription.handler):
//
// - Stream import (B imports A's stream `s.>` with prefix `p` or `to`): a subscription in A's
//   sublist on the imported subject hands each message to B under the local subject, keeping
//   its reply. Messages that an import carries into an account skip that account's own import
//   subscriptions (`crossAccount`), so imports never loop.
// - Service import (B imports A's service `svc.x` to local `x`): a subscription in B's sublist
//   on `x` forwards requests into A on `svc.x`. A request's reply subject is rewritten to a
//   fresh `_R_.<token>` in A, remembered with the route back to the requester's reply in B;
//   A's subscription on `_R_.>` carries the responses back. A singleton route ends with its
//   first response; stream and chunked routes last until the export's response threshold.
//   Unanswered routes are swept at their threshold (sweepResponses).
//
// The reference uses shadow subscriptions for streams instead; what clients see is the same.
import type { ExportEntry, ImportEntry } from "../config/options.ts";
import { subjectIsSubsetMatch } from "../auth/permissions.ts";
import { goJson } from "../protocol/encode.ts";
import type { Account } from "./account.ts";
import { publisherOfCurrentMessage, type Publisher } from "./deliver.ts";
import { InternalClient } from "./internal_client.ts";
import type { Server } from "./server.ts";
import { SubjectTransform } from "./subject_transform.ts";
import type { Subscription } from "./sublist.ts";

/** Prefix of rewritten service reply subjects (the reference's reserved `_R_.`). */
export const SERVICE_REPLY_PREFIX = "_R_.";

const TOKEN_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

function randomToken(length: number): string {
  const bytes = crypto.getRandomValues(new Uint8Array(length));
  let out = "";
  for (const b of bytes) out += TOKEN_ALPHABET[b % 62];
  return out;
}

/** The export of `exporter` that authorizes `importer` to import `subject` as `kind`, if any. */
export function findExport(exporter: Account, kind: "stream" | "service", subject: string, importer: Account): ExportEntry | null {
  for (const e of exporter.exports) {
    if (e.kind !== kind || !subjectIsSubsetMatch(subject, e.subject)) continue;
    if (e.accounts !== null && !e.accounts.includes(importer.name)) continue;
    return e;
  }
  return null;
}

/** An account's publisher for what imports bring into it: never handed to further imports. */
class ImportClient extends InternalClient {
  readonly skipImports = true;
}

/** The account's internal client for what imports bring into it. */
function internalOf(server: Server, account: Account): InternalClient {
  account.internal ??= new ImportClient(server, account, "Imports");
  return account.internal;
}

function subscribeImport(server: Server, target: Account, subject: string, handler: Subscription["handler"]): Subscription {
  const sub = internalOf(server, target).subscribe(subject, handler!);
  sub.crossAccount = true;
  return sub;
}

/**
 * Installs (again) the imports of `importer`, removing what was installed before. Returns
 * the imports that could not be wired, with why (unknown account, not authorized).
 */
export function installImports(server: Server, importer: Account, resolve: (account: string) => Account | undefined): string[] {
  removeImports(importer);
  const problems: string[] = [];
  for (const im of importer.imports) {
    const exporter = resolve(im.account);
    if (exporter === undefined) {
      problems.push(`${im.kind} import ${JSON.stringify(im.subject)}: account ${JSON.stringify(im.account)} not found`);
      continue;
    }
    const ex = findExport(exporter, im.kind, im.subject, importer);
    if (ex === null) {
      problems.push(`${im.kind} import ${JSON.stringify(im.subject)}: ${im.kind} import not authorized`);
      continue;
    }
    try {
      if (im.kind === "stream") importer.importSubs.push(installStreamImport(server, importer, exporter, im));
      else importer.importSubs.push(installServiceImport(server, importer, exporter, im, ex));
    } catch (e) {
      problems.push(`${im.kind} import ${JSON.stringify(im.subject)}: ${(e as Error).message}`);
    }
  }
  return problems;
}

/** Removes the import subscriptions of `importer` (wherever they sit). */
export function removeImports(importer: Account): void {
  for (const sub of importer.importSubs) {
    const owner = sub.conn as InternalClient;
    owner.unsubscribe(sub);
  }
  importer.importSubs = [];
}

function localSubjectOf(im: ImportEntry): string {
  if (im.prefix !== "") return `${im.prefix}.${im.subject}`;
  return im.to !== "" ? im.to : im.subject;
}

/** Why an import cannot be wired (a `to` that does not fit its subject), or null. */
export function importRouteProblem(im: ImportEntry): string | null {
  try {
    if (im.kind === "service") serviceImportRoute(im.subject, im.to);
    else {
      const local = localSubjectOf(im);
      if (local !== im.subject) new SubjectTransform(im.subject, local);
    }
    return null;
  } catch (e) {
    return `${im.kind} import ${JSON.stringify(im.subject)}: ${(e as Error).message}`;
  }
}

function installStreamImport(server: Server, importer: Account, exporter: Account, im: ImportEntry): Subscription {
  const local = localSubjectOf(im);
  const transform = local === im.subject ? null : new SubjectTransform(im.subject, local);
  const into = internalOf(server, importer);
  return subscribeImport(server, exporter, im.subject, (subject, reply, hdr, data) => {
    const target = transform === null ? subject : transform.transform(subject);
    // Nothing to do without interest in the importing account.
    if (importer.sublist.match(target).empty) return;
    into.publish(target, reply, hdr, data);
  });
}

/**
 * A service import's local subject and the transform from it back to the exported subject.
 * `to` is written in terms of the import subject's wildcards (`local.$2.$1` for `svc.*.*`):
 * the subscription is on `to` with those references as `*`, and the request goes to the
 * import subject with each wildcard taken from the local token that names it.
 */
export function serviceImportRoute(subject: string, to: string): { local: string; transform: SubjectTransform | null } {
  if (to === "" || to === subject) return { local: subject, transform: null };
  const refs: number[] = [];
  const localTokens = to.split(".").map((t) => {
    const m = /^\$(\d+)$/.exec(t) ?? /^\{\{\s*wildcard\s*\(\s*(\d+)\s*\)\s*\}\}$/i.exec(t);
    if (m !== null) {
      refs.push(Number(m[1]));
      return "*";
    }
    if (t === "*") refs.push(refs.length + 1);
    return t;
  });
  const local = localTokens.join(".");
  let n = 0;
  const dest = subject
    .split(".")
    .map((t) => {
      if (t !== "*") return t;
      n++;
      const k = refs.indexOf(n);
      if (k < 0) throw new Error(`wildcard ${n} of ${JSON.stringify(subject)} is not used in ${JSON.stringify(to)}`);
      return `$${k + 1}`;
    })
    .join(".");
  return { local, transform: new SubjectTransform(local, dest) };
}

function installServiceImport(server: Server, importer: Account, exporter: Account, im: ImportEntry, ex: ExportEntry): Subscription {
  const { local, transform } = serviceImportRoute(im.subject, im.to);
  ensureResponseSubscription(server, exporter);
  const into = internalOf(server, exporter);
  return subscribeImport(server, importer, local, (subject, reply, hdr, data) => {
    const target = transform === null ? subject : transform.transform(subject);
    // A request with headers tells the service who asks (the reference's Nats-Request-Info).
    if (hdr !== null) hdr = withRequestInfo(hdr, importer, publisherOfCurrentMessage());
    let routed = "";
    if (reply !== "") {
      routed = `${SERVICE_REPLY_PREFIX}${randomToken(10)}.${randomToken(12)}`;
      exporter.responses.set(routed, { account: importer, reply, type: ex.responseType, expiresAtMs: Date.now() + ex.responseThresholdMs });
    }
    into.publish(target, routed, hdr, data);
  });
}

const CRLF_CRLF = "\r\n\r\n";

/** Adds `Nats-Request-Info: {"acc":…,"rtt":…}` before the end of a header block. */
function withRequestInfo(hdr: Uint8Array, importer: Account, pub: Publisher | null): Uint8Array {
  const text = Buffer.from(hdr.buffer, hdr.byteOffset, hdr.byteLength).toString("latin1");
  if (!text.endsWith(CRLF_CRLF)) return hdr;
  const rttMs = pub !== null && "rttMs" in pub ? (pub as { rttMs: number }).rttMs : 0;
  const info = goJson({ acc: importer.name, rtt: Math.round(rttMs * 1e6) });
  return Buffer.from(`${text.slice(0, -2)}Nats-Request-Info: ${info}\r\n\r\n`, "latin1");
}

/** The exporter's subscription on `_R_.>` that carries service responses back. */
function ensureResponseSubscription(server: Server, exporter: Account): void {
  if (exporter.responseSub !== null) return;
  exporter.responseSub = subscribeImport(server, exporter, `${SERVICE_REPLY_PREFIX}>`, (subject, reply, hdr, data) => {
    const route = exporter.responses.get(subject);
    if (route === undefined) return;
    if (route.type === "Singleton" || Date.now() > route.expiresAtMs) exporter.responses.delete(subject);
    if (Date.now() > route.expiresAtMs) return;
    internalOf(server, route.account).publish(route.reply, reply, hdr, data);
  });
}

/** Drops service routes past their response threshold (called from the housekeeping tick). */
export function sweepResponses(account: Account, nowMs: number): void {
  if (account.responses.size === 0) return;
  for (const [reply, route] of account.responses) if (nowMs > route.expiresAtMs) account.responses.delete(reply);
}
