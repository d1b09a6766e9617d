// The `$JS.API.>` request/reply API: one handler per request subject, answering with the
// reference's JSON shapes (field order as Go marshals its structs) and errors. Requests run
// synchronously in the delivery of the request message; the reply is queued to the
// requester before its next message is parsed.
import type { Account } from "../server/account.ts";
import type { InternalClient } from "../server/internal_client.ts";
import { byteStringToText, encodeUtf8, textToByteString } from "../util/bytes.ts";
import { JsErr, type ApiError } from "./errors.ts";
import type { JetStream, JsAccount } from "./jetstream.ts";
import { goJson, nsToRfc3339 } from "./json.ts";
import type { Stream } from "./stream.ts";
import {
  ApiErrorThrown,
  applyStreamDefaults,
  checkStreamConfig,
  checkStreamUpdate,
  decodeStreamConfig,
  encodeStreamConfig,
  parseJsonObject,
  readBool,
  readInt,
  readString,
  sameStreamConfig,
  streamNameHasPathSeparators,
  type StreamConfig,
} from "./stream_config.ts";
import { subjectMatches } from "../server/subject.ts";
import { Consumer } from "./consumer.ts";
import {
  applyConsumerDefaults,
  CErr,
  checkConsumerConfig,
  checkConsumerName,
  checkConsumerUpdate,
  decodeConsumerConfig,
  filtersOf,
  isPull,
  sameConsumerConfig,
} from "./consumer_config.ts";
import { subjectsCollide } from "./subjects.ts";
import { nowNs, rfc3339ToNs } from "./json.ts";

const T = "io.nats.jetstream.api.v1.";
const namesLimit = 1024;
const listLimit = 256;
const subjectsLimit = 100_000;

/** Context of one API request. */
export interface ApiRequest {
  js: JetStream;
  jsa: JsAccount;
  /** Request subject tokens after `$JS.API.` (text). */
  tokens: string[];
  /** The request body as text. */
  body: string;
  raw: Uint8Array;
  hdr: Uint8Array | null;
  reply: string;
}

/** A handler returns the response object (type first) or throws ApiErrorThrown. */
type Handler = (req: ApiRequest) => Record<string, unknown>;

/** Consumer API handlers are registered by the consumer module (JetStream part 2). */
export const extraHandlers: { match: (tokens: string[]) => { type: string; handler: Handler } | null }[] = [];

const decoder = new TextDecoder();

export function handleApiRequest(
  js: JetStream,
  account: Account,
  client: InternalClient,
  subject: string,
  reply: string,
  hdr: Uint8Array | null,
  data: Uint8Array,
): void {
  const tokens = byteStringToText(subject).slice(8).split(".");
  if (tokens[0] === "CONSUMER" && tokens[1] === "MSG" && tokens[2] === "NEXT") {
    // Pull requests are not API calls with a JSON response: the consumer answers them.
    if (tokens.length !== 5) return;
    const stream = js.accounts.get(account.name)?.streams.get(tokens[3]);
    stream?.consumers.get(tokens[4])?.onPullRequest(reply, data);
    return;
  }
  const route = routeFor(tokens);
  if (route === null) return; // the reference does not answer unknown API subjects
  const jsa = js.accounts.get(account.name);
  let response: Record<string, unknown>;
  if (jsa === undefined) {
    response = errorResponse(route.type, JsErr.notEnabledForAccount());
  } else {
    const req: ApiRequest = { js, jsa, tokens, body: data.length === 0 ? "" : decoder.decode(data), raw: data, hdr, reply };
    // An error thrown (fail) is the reference's sendAPIErrResponse and counts in api.errors; an
    // error a handler returns in its response (sendAPIResponse) counts only in api.total.
    let counted = false;
    try {
      response = route.handler(req);
    } catch (e) {
      if (!(e instanceof ApiErrorThrown)) throw e;
      response = errorResponse(route.type, e.apiError);
      counted = true;
    }
    // The reference (2.9.10) does not count a successful STREAM.MSG.GET in api.total.
    if (counted) {
      jsa.apiTotal++;
      jsa.apiErrors++;
    } else if (route.handler !== msgGet) jsa.apiTotal++;
  }
  if (reply !== "") client.publishReply(reply, null, encodeUtf8(goJson(response)));
}

function fail(e: ApiError): never {
  throw new ApiErrorThrown(e);
}

/** The error form of a response: type, error, then the fields the reference always writes. */
function errorResponse(type: string, error: ApiError): Record<string, unknown> {
  const o: Record<string, unknown> = { type, error };
  if (type === `${T}stream_info_response`) Object.assign(o, { total: 0, offset: 0, limit: 0 });
  else if (type === `${T}stream_purge_response`) o.purged = 0;
  else if (type === `${T}stream_names_response`) Object.assign(o, { total: 0, offset: 0, limit: 0, streams: null });
  else if (type === `${T}stream_list_response`) Object.assign(o, { total: 0, offset: 0, limit: 0, streams: [] });
  else if (type === `${T}consumer_names_response` || type === `${T}consumer_list_response`) Object.assign(o, { total: 0, offset: 0, limit: 0 });
  return o;
}

/**
 * The reference's isEmptyRequest: no bytes, or a JSON object without keys. Whitespace alone or
 * `null` is not empty (and then fails, or decodes to zero values, as JSON).
 */
export function isEmptyRequest(body: string): boolean {
  if (body.length === 0 || body === "{}") return true;
  let v: unknown;
  try {
    v = JSON.parse(body);
  } catch {
    return false;
  }
  return v !== null && typeof v === "object" && !Array.isArray(v) && Object.keys(v).length === 0;
}

function routeFor(t: string[]): { type: string; handler: Handler } | null {
  const n = t.length;
  if (n === 1 && t[0] === "INFO") return { type: `${T}account_info_response`, handler: accountInfo };
  if (t[0] === "STREAM") {
    if (n === 3) {
      switch (t[1]) {
        case "CREATE":
          return { type: `${T}stream_create_response`, handler: streamCreate };
        case "UPDATE":
          return { type: `${T}stream_update_response`, handler: streamUpdate };
        case "INFO":
          return { type: `${T}stream_info_response`, handler: streamInfo };
        case "DELETE":
          return { type: `${T}stream_delete_response`, handler: streamDelete };
        case "PURGE":
          return { type: `${T}stream_purge_response`, handler: streamPurge };
      }
    } else if (n === 2) {
      if (t[1] === "NAMES") return { type: `${T}stream_names_response`, handler: streamNames };
      if (t[1] === "LIST") return { type: `${T}stream_list_response`, handler: streamList };
    } else if (n === 4 && t[1] === "MSG") {
      if (t[2] === "GET") return { type: `${T}stream_msg_get_response`, handler: msgGet };
      if (t[2] === "DELETE") return { type: `${T}stream_msg_delete_response`, handler: msgDelete };
    }
    return null;
  }
  if (t[0] === "CONSUMER") {
    if (t[1] === "CREATE" && n >= 3) return { type: `${T}consumer_create_response`, handler: consumerCreate };
    if (t[1] === "DURABLE" && t[2] === "CREATE" && n === 5) return { type: `${T}consumer_create_response`, handler: consumerCreate };
    if (n === 4 && t[1] === "INFO") return { type: `${T}consumer_info_response`, handler: consumerInfo };
    if (n === 4 && t[1] === "DELETE") return { type: `${T}consumer_delete_response`, handler: consumerDelete };
    if (n === 4 && t[1] === "PAUSE") return { type: `${T}consumer_pause_response`, handler: consumerPause };
    if (n === 3 && t[1] === "NAMES") return { type: `${T}consumer_names_response`, handler: consumerNames };
    if (n === 3 && t[1] === "LIST") return { type: `${T}consumer_list_response`, handler: consumerList };
    return null;
  }
  for (const extra of extraHandlers) {
    const r = extra.match(t);
    if (r !== null) return r;
  }
  return null;
}

// ---- Account ---------------------------------------------------------------------------------

function accountInfo(req: ApiRequest): Record<string, unknown> {
  const jsa = req.jsa;
  const o: Record<string, unknown> = {
    type: `${T}account_info_response`,
    memory: jsa.usage("memory"),
    storage: jsa.usage("file"),
    streams: jsa.streams.size,
    consumers: jsa.consumerCount(),
    limits: jsa.limitsJson(),
  };
  if (jsa.domain !== "") o.domain = jsa.domain;
  o.api = { total: jsa.apiTotal, errors: jsa.apiErrors };
  return o;
}

// ---- Streams ---------------------------------------------------------------------------------

function requestObject(req: ApiRequest, emptyOk: boolean): Record<string, unknown> {
  if (emptyOk && isEmptyRequest(req.body)) return {};
  return parseJsonObject(req.body);
}

function lookupStream(req: ApiRequest, name: string): Stream {
  const s = req.jsa.streams.get(name);
  if (s === undefined) fail(JsErr.streamNotFound());
  return s;
}

/**
 * A create or update request's config, with defaults, checked in the reference's order. Create:
 * the name in the subject, path separators and sealed come before the config itself
 * (checkStreamCfg); update: the config itself comes first, then the name in the subject.
 */
function decodeConfigRequest(req: ApiRequest, forCreate: boolean): StreamConfig {
  const cfg = decodeStreamConfig(requestObject(req, false));
  if (forCreate) {
    if (cfg.name !== req.tokens[2]) fail(JsErr.streamMismatch());
    if (streamNameHasPathSeparators(cfg.name)) fail(JsErr.streamNameContainsPathSeparators());
    if (cfg.sealed) fail(JsErr.streamInvalidConfig("stream configuration for create can not be sealed"));
  }
  checkName(cfg.name);
  applyStreamDefaults(cfg);
  const err = checkStreamConfig(cfg, false);
  if (err !== null) fail(err);
  if (!forCreate && cfg.name !== req.tokens[2]) fail(JsErr.streamMismatch());
  return cfg;
}

function streamCreate(req: ApiRequest): Record<string, unknown> {
  const jsa = req.jsa;
  const cfg = decodeConfigRequest(req, true);
  if (cfg.template_owner !== "") fail(JsErr.streamCreate("stream not owned by template"));
  const existing = jsa.streams.get(cfg.name);
  if (existing !== undefined) {
    if (!sameStreamConfig(existing.config, cfg)) fail(JsErr.streamNameExist());
    return createResponse(existing);
  }
  for (const other of jsa.streams.values()) if (other.overlaps(cfg.subjects)) fail(JsErr.streamSubjectOverlap());
  checkLimits(req, cfg, null);
  let stream: Stream;
  try {
    stream = jsa.addStream(cfg);
  } catch (e) {
    fail(JsErr.streamCreate((e as Error).message));
  }
  jsa.advisory(`$JS.EVENT.ADVISORY.STREAM.CREATED.${cfg.name}`, {
    type: "io.nats.jetstream.advisory.v1.stream_action",
    stream: cfg.name,
    action: "create",
  });
  return createResponse(stream);
}

/** The create answer: config, created and state, without the domain (the reference leaves it out here). */
function createResponse(stream: Stream): Record<string, unknown> {
  const { domain: _domain, ...info } = stream.infoJson();
  return { type: `${T}stream_create_response`, ...info, did_create: true };
}

function checkName(name: string): void {
  if (name === "" || /[\s.*>]/.test(name)) fail(JsErr.streamInvalidConfig("stream name is required and can not contain '.', '*', '>'"));
}

/** Account and server resource checks for a new (old === null) or updated stream. */
function checkLimits(req: ApiRequest, cfg: StreamConfig, old: Stream | null): void {
  const jsa = req.jsa;
  const l = jsa.limits;
  if (old === null && l.maxStreams > 0 && jsa.streams.size >= l.maxStreams) fail(JsErr.maximumStreamsLimit());
  if (l.maxBytesRequired && cfg.max_bytes <= 0) fail(JsErr.streamMaxBytesRequired());
  const perStream = cfg.storage === "memory" ? l.memoryMaxStreamBytes : l.storeMaxStreamBytes;
  if (perStream > 0 && cfg.max_bytes > perStream) fail(JsErr.streamMaxStreamBytesExceeded());
  const add = cfg.max_bytes > 0 ? cfg.max_bytes - (old !== null && old.config.max_bytes > 0 ? old.config.max_bytes : 0) : 0;
  if (add <= 0) return;
  const exceeded = cfg.storage === "memory" ? JsErr.memoryResourcesExceeded() : JsErr.storageResourcesExceeded();
  const accountMax = cfg.storage === "memory" ? l.maxMemory : l.maxStore;
  let reservedInAccount = 0;
  for (const s of jsa.streams.values()) if (s.config.storage === cfg.storage && s.config.max_bytes > 0) reservedInAccount += s.config.max_bytes;
  if (accountMax >= 0 && reservedInAccount + add > accountMax) fail(exceeded);
  const serverMax = cfg.storage === "memory" ? req.js.config.maxMemory : req.js.config.maxStore;
  if (req.js.reservedBytes(cfg.storage) + add > serverMax) fail(exceeded);
}

function streamUpdate(req: ApiRequest): Record<string, unknown> {
  const jsa = req.jsa;
  const cfg = decodeConfigRequest(req, false);
  const stream = lookupStream(req, cfg.name);
  const uerr = checkStreamUpdate(stream.config, cfg);
  if (uerr !== null) fail(uerr);
  if (cfg.sealed) {
    // A sealed stream keeps everything: the reference forces these along with the seal.
    cfg.max_age = 0;
    cfg.discard = "new";
    cfg.deny_delete = true;
    cfg.deny_purge = true;
    cfg.allow_rollup_hdrs = false;
  }
  for (const other of jsa.streams.values()) if (other !== stream && other.overlaps(cfg.subjects)) fail(JsErr.streamSubjectOverlap());
  checkLimits(req, cfg, stream);
  try {
    const sourcesChanged = JSON.stringify(encodeStreamConfig(stream.config).sources ?? null) !== JSON.stringify(encodeStreamConfig(cfg).sources ?? null);
    stream.update(cfg);
    jsa.persist(stream);
    if (sourcesChanged) stream.startSources(jsa);
  } catch (e) {
    fail(JsErr.streamUpdate((e as Error).message));
  }
  jsa.advisory(`$JS.EVENT.ADVISORY.STREAM.UPDATED.${cfg.name}`, {
    type: "io.nats.jetstream.advisory.v1.stream_action",
    stream: cfg.name,
    action: "modify",
  });
  return { type: `${T}stream_update_response`, ...stream.infoJson() };
}

function streamInfo(req: ApiRequest): Record<string, unknown> {
  const r = requestObject(req, true);
  const filter = readString(r, "subjects_filter");
  const deletedDetails = readBool(r, "deleted_details");
  let offset = readInt(r, "offset");
  const stream = lookupStream(req, req.tokens[2]);
  const o: Record<string, unknown> = { type: `${T}stream_info_response`, total: 0, offset: 0, limit: 0 };
  const info = stream.infoJson({ deletedDetails });
  if (filter !== "") {
    const totals = stream.store.subjectsTotals(textToByteString(filter));
    const names = [...totals.keys()].sort();
    if (offset > names.length) offset = names.length;
    const page = names.slice(offset, offset + subjectsLimit);
    if (page.length > 0) {
      const subjects: Record<string, number> = {};
      for (const k of page) subjects[byteStringToText(k)] = totals.get(k)!;
      (info.state as Record<string, unknown>).subjects = subjects;
      reorderState(info.state as Record<string, unknown>);
    }
    // The reference fills in the paging fields only when some subject matched.
    if (names.length > 0) {
      o.total = names.length;
      o.offset = offset;
      o.limit = subjectsLimit;
    }
  }
  return Object.assign(o, info);
}

/** Keeps the StreamState field order (subjects before num_deleted/deleted/consumer_count). */
function reorderState(st: Record<string, unknown>): void {
  for (const k of ["num_deleted", "deleted", "lost", "consumer_count"]) {
    if (k in st) {
      const v = st[k];
      delete st[k];
      st[k] = v;
    }
  }
}

function streamDelete(req: ApiRequest): Record<string, unknown> {
  if (!isEmptyRequest(req.body)) fail(JsErr.notEmptyRequest());
  const stream = lookupStream(req, req.tokens[2]);
  try {
    req.jsa.deleteStream(stream);
  } catch (e) {
    fail(JsErr.streamDelete((e as Error).message));
  }
  req.jsa.advisory(`$JS.EVENT.ADVISORY.STREAM.DELETED.${stream.name}`, {
    type: "io.nats.jetstream.advisory.v1.stream_action",
    stream: stream.name,
    action: "delete",
  });
  return { type: `${T}stream_delete_response`, success: true };
}

function listRequest(req: ApiRequest): { offset: number; subject: string } {
  const r = requestObject(req, true);
  return { offset: Math.max(0, readInt(r, "offset")), subject: readString(r, "subject") };
}

function filteredStreams(req: ApiRequest, subject: string): Stream[] {
  const all = [...req.jsa.streams.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  if (subject === "") return all;
  return all.filter((s) => s.config.subjects.some((x) => subjectMatches(x, subject) || subjectMatches(subject, x)));
}

function streamNames(req: ApiRequest): Record<string, unknown> {
  const { offset: requested, subject } = listRequest(req);
  const streams = filteredStreams(req, subject);
  const offset = Math.min(requested, streams.length);
  const page = streams.slice(offset, offset + namesLimit).map((s) => s.name);
  return { type: `${T}stream_names_response`, total: streams.length, offset, limit: namesLimit, streams: page.length === 0 ? null : page };
}

function streamList(req: ApiRequest): Record<string, unknown> {
  const { offset: requested, subject } = listRequest(req);
  const streams = filteredStreams(req, subject);
  const offset = Math.min(requested, streams.length);
  const page = streams.slice(offset, offset + listLimit).map((s) => s.infoJson());
  return { type: `${T}stream_list_response`, total: streams.length, offset, limit: listLimit, streams: page };
}

function streamPurge(req: ApiRequest): Record<string, unknown> {
  const r = requestObject(req, true);
  const filter = readString(r, "filter");
  const seq = readInt(r, "seq");
  const keep = readInt(r, "keep");
  if (seq < 0 || keep < 0) fail(JsErr.invalidJson());
  if (seq > 0 && keep > 0) fail(JsErr.badRequest());
  const stream = lookupStream(req, req.tokens[2]);
  if (stream.config.sealed) fail(JsErr.streamSealed());
  if (stream.config.deny_purge) fail(JsErr.streamPurgeFailed("stream purge not permitted"));
  const opts: { subject?: string; seq?: number; keep?: number } = {};
  if (filter !== "") opts.subject = textToByteString(filter);
  if (seq > 0) opts.seq = seq;
  if (keep > 0) opts.keep = keep;
  let purged: number;
  try {
    purged = stream.purge(opts);
  } catch (e) {
    fail(JsErr.streamPurgeFailed((e as Error).message));
  }
  return { type: `${T}stream_purge_response`, success: true, purged };
}

function msgGet(req: ApiRequest): Record<string, unknown> {
  if (isEmptyRequest(req.body)) fail(JsErr.badRequest());
  const r = parseJsonObject(req.body);
  const seq = readInt(r, "seq");
  const last = readString(r, "last_by_subj");
  const next = readString(r, "next_by_subj");
  if (seq < 0) fail(JsErr.invalidJson());
  // Exactly one way of addressing: seq, last_by_subj, or next_by_subj (with an optional start seq);
  // checked before the stream is looked up, as the reference does.
  if ((seq === 0 && last === "" && next === "") || (seq > 0 && last !== "") || (last !== "" && next !== "")) fail(JsErr.badRequest());
  const stream = lookupStream(req, req.tokens[3]);
  const msg = stream.getMessage({ seq, last_by_subj: last, next_by_subj: next });
  if (msg === null) fail(JsErr.noMessageFound());
  const m: Record<string, unknown> = { subject: byteStringToText(msg.subject), seq: msg.seq };
  if (msg.hdr !== null && msg.hdr.length > 0) m.hdrs = Buffer.from(msg.hdr).toString("base64");
  if (msg.data.length > 0) m.data = Buffer.from(msg.data).toString("base64");
  m.time = nsToRfc3339(msg.ts);
  return { type: `${T}stream_msg_get_response`, message: m };
}

function msgDelete(req: ApiRequest): Record<string, unknown> {
  if (isEmptyRequest(req.body)) fail(JsErr.badRequest());
  const r = parseJsonObject(req.body);
  const seq = readInt(r, "seq");
  const noErase = readBool(r, "no_erase");
  if (seq < 0) fail(JsErr.invalidJson());
  const stream = lookupStream(req, req.tokens[3]);
  if (stream.config.sealed) fail(JsErr.streamSealed());
  if (stream.config.deny_delete) fail(JsErr.streamMsgDeleteFailed("message delete not permitted"));
  let removed: boolean;
  try {
    removed = stream.deleteMessage(seq, !noErase);
  } catch (e) {
    return { type: `${T}stream_msg_delete_response`, error: JsErr.streamMsgDeleteFailed((e as Error).message) };
  }
  // Answered, like a store failure, without counting in api.errors (the reference's sendAPIResponse).
  if (!removed) return { type: `${T}stream_msg_delete_response`, error: JsErr.sequenceNotFound(seq) };
  return { type: `${T}stream_msg_delete_response`, success: true };
}

export { encodeStreamConfig };

// ---- Consumers -------------------------------------------------------------------------------

function consumerCreate(req: ApiRequest): Record<string, unknown> {
  const t = req.tokens;
  const durableApi = t[1] === "DURABLE";
  const streamName = durableApi ? t[3] : t[2];
  const subjectName = durableApi ? t[4] : t.length >= 4 ? t[3] : "";
  const subjectFilter = !durableApi && t.length >= 5 ? t.slice(4).join(".") : "";
  const r = requestObject(req, false);
  const reqStream = readString(r, "stream_name");
  const action = readString(r, "action");
  const cfgObj = r.config === undefined || r.config === null ? null : r.config;
  if (cfgObj !== null && (typeof cfgObj !== "object" || Array.isArray(cfgObj))) fail(JsErr.invalidJson());
  if (reqStream !== streamName) fail(JsErr.streamMismatch());
  // A request without a config creates one with the defaults (the reference decodes into a zero config).
  const cfg = decodeConsumerConfig((cfgObj ?? {}) as Record<string, unknown>);
  if (action !== "" && action !== "create" && action !== "update") fail(JsErr.invalidJson());
  if (durableApi) {
    if (cfg.durable_name === "") fail(CErr.durableNameNotSet());
    if (cfg.durable_name !== subjectName) fail(CErr.durableNameNotMatchSubject());
  } else if (subjectName !== "") {
    if (cfg.durable_name !== "" && cfg.name !== "" && cfg.durable_name !== cfg.name) fail(CErr.durableAndNameMismatch());
    if (cfg.durable_name !== "" && cfg.durable_name !== subjectName) fail(CErr.durableNameNotMatchSubject());
    if (cfg.name !== "" && cfg.name !== subjectName) fail(CErr.durableNameNotMatchSubject());
    if (cfg.durable_name === "") cfg.name = subjectName;
    else if (cfg.name === "") cfg.name = cfg.durable_name;
    if (subjectFilter !== "") {
      if (cfg.filter_subjects !== null && cfg.filter_subjects.length > 1) fail(CErr.multipleFiltersNotAllowed());
      if (cfg.filter_subject !== subjectFilter) fail(CErr.createFilterSubjectMismatch());
    }
  } else if (cfg.durable_name !== "") fail(CErr.ephemeralWithDurableName());
  const name = cfg.durable_name !== "" ? cfg.durable_name : cfg.name;
  if (name !== "") {
    const nerr = checkConsumerName(name);
    if (nerr !== null) fail(nerr);
  }
  const stream = lookupStream(req, streamName);
  applyConsumerDefaults(cfg, stream.config);
  const existing = name === "" ? undefined : stream.consumers.get(name);
  // Work queue: explicit ack, then a new consumer must not overlap the others (unfiltered with
  // any other consumer: 10099; overlapping filters: 10100), then deliver all (in the config
  // checks): the reference's order.
  if (existing === undefined && stream.config.retention === "workqueue") {
    if (cfg.ack_policy !== "explicit") fail(isPull(cfg) ? CErr.pullRequiresAck() : CErr.wqRequiresExplicitAck());
    const mine = filtersOf(cfg);
    for (const other of stream.consumers.values()) {
      if (mine.length === 0) fail(CErr.wqMultipleUnfiltered());
      const theirs = filtersOf(other.config);
      if (theirs.length === 0) fail(CErr.wqNotUnique());
      for (const a of mine) for (const b of theirs) if (subjectsCollide(a, b)) fail(CErr.wqNotUnique());
    }
  }
  const err = checkConsumerConfig(cfg, stream.config);
  if (err !== null) fail(err);
  if (existing !== undefined) {
    if (sameConsumerConfig(existing.config, cfg)) return { type: `${T}consumer_create_response`, ...existing.infoJson() };
    if (action === "create") fail(CErr.alreadyExists());
    const uerr = checkConsumerUpdate(existing.config, cfg);
    if (uerr !== null) fail(uerr);
    existing.update(cfg);
    return { type: `${T}consumer_create_response`, ...existing.infoJson() };
  }
  if (action === "update") fail(CErr.doesNotExist());
  // Limits: the stream's max_consumers and the account's.
  const streamMax = stream.config.max_consumers;
  if (streamMax > 0 && stream.consumers.size >= streamMax) fail(CErr.maximumConsumersLimit());
  const accountMax = req.jsa.limits.maxConsumers;
  if (accountMax > 0 && req.jsa.consumerCount() >= accountMax) fail(CErr.maximumConsumersLimit());
  const consumerName = name !== "" ? name : ephemeralName(stream);
  let store = null;
  const persistent = stream.config.storage === "file" && !cfg.mem_storage;
  if (persistent) {
    try {
      store = stream.store.consumerStore(consumerName);
    } catch (e) {
      fail(CErr.create(`error creating store for consumer: ${(e as Error).message}`));
    }
  }
  const created = nsToRfc3339(nowNs());
  const consumer = new Consumer(stream, consumerName, cfg, created, store, null);
  try {
    store?.writeMeta({ name: consumerName, created, config: cfg });
  } catch (e) {
    fail(CErr.create(`error creating store for consumer: ${(e as Error).message}`));
  }
  stream.addConsumer(consumer);
  req.jsa.advisory(`$JS.EVENT.ADVISORY.CONSUMER.CREATED.${stream.name}.${consumerName}`, {
    type: "io.nats.jetstream.advisory.v1.consumer_action",
    stream: stream.name,
    consumer: consumerName,
    action: "create",
  });
  return { type: `${T}consumer_create_response`, ...consumer.infoJson() };
}

const nameChars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

function ephemeralName(stream: Stream): string {
  for (;;) {
    let n = "";
    const bytes = crypto.getRandomValues(new Uint8Array(8));
    for (const b of bytes) n += nameChars[b % nameChars.length];
    if (!stream.consumers.has(n)) return n;
  }
}

function lookupConsumer(req: ApiRequest): Consumer {
  const stream = lookupStream(req, req.tokens[2]);
  const c = stream.consumers.get(req.tokens[3]);
  if (c === undefined) fail(CErr.notFound());
  return c;
}

function consumerInfo(req: ApiRequest): Record<string, unknown> {
  return { type: `${T}consumer_info_response`, ...lookupConsumer(req).infoJson() };
}

function consumerDelete(req: ApiRequest): Record<string, unknown> {
  const c = lookupConsumer(req);
  c.stream.deleteConsumer(c, "api");
  return { type: `${T}consumer_delete_response`, success: true };
}

function consumerPause(req: ApiRequest): Record<string, unknown> {
  const r = requestObject(req, true);
  const until = readString(r, "pause_until");
  const c = lookupConsumer(req);
  const ns = until === "" ? null : rfc3339ToNs(until);
  if (until !== "" && ns === null) fail(JsErr.invalidJson());
  c.pause(ns !== null && ns > nowNs() ? ns : null);
  const o: Record<string, unknown> = { type: `${T}consumer_pause_response`, paused: c.paused };
  o.pause_until = c.config.pause_until ?? "0001-01-01T00:00:00Z";
  if (c.paused) o.pause_remaining = Number((ns ?? 0n) - nowNs());
  return o;
}

function consumerNames(req: ApiRequest): Record<string, unknown> {
  const r = requestObject(req, true);
  const requested = Math.max(0, readInt(r, "offset"));
  const stream = lookupStream(req, req.tokens[2]);
  const names = [...stream.consumers.keys()].sort();
  const offset = Math.min(requested, names.length);
  return { type: `${T}consumer_names_response`, total: names.length, offset, limit: namesLimit, consumers: names.slice(offset, offset + namesLimit) };
}

function consumerList(req: ApiRequest): Record<string, unknown> {
  const r = requestObject(req, true);
  const requested = Math.max(0, readInt(r, "offset"));
  const stream = lookupStream(req, req.tokens[2]);
  const all = [...stream.consumers.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const offset = Math.min(requested, all.length);
  return { type: `${T}consumer_list_response`, total: all.length, offset, limit: listLimit, consumers: all.slice(offset, offset + listLimit).map((c) => c.infoJson()) };
}
