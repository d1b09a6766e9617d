// Consumer configuration: decoding the request the way Go's encoding/json does, the
// reference's defaults and validation (with its error texts and codes), and encoding back in
// its field order (omitempty fields left out).
import { isValidSubject } from "../server/subject.ts";
import { ApiErrorThrown, readBool, readInt, readObject, readString, readStringArray } from "./stream_config.ts";
import type { ApiError } from "./errors.ts";
import { rfc3339ToNs } from "./json.ts";
import { isSubsetMatch, subjectsCollide } from "./subjects.ts";
import type { StreamConfig } from "./stream_config.ts";

export type DeliverPolicy = "all" | "last" | "new" | "by_start_sequence" | "by_start_time" | "last_per_subject";
export type AckPolicy = "none" | "all" | "explicit";
export type ReplayPolicy = "instant" | "original";

export interface ConsumerConfig {
  durable_name: string;
  name: string;
  description: string;
  deliver_policy: DeliverPolicy;
  opt_start_seq: number;
  opt_start_time: string | null;
  ack_policy: AckPolicy;
  ack_wait: number;
  max_deliver: number;
  backoff: number[] | null;
  filter_subject: string;
  filter_subjects: string[] | null;
  replay_policy: ReplayPolicy;
  rate_limit_bps: number;
  sample_freq: string;
  max_waiting: number;
  max_ack_pending: number;
  idle_heartbeat: number;
  flow_control: boolean;
  headers_only: boolean;
  max_batch: number;
  max_expires: number;
  max_bytes: number;
  deliver_subject: string;
  deliver_group: string;
  inactive_threshold: number;
  num_replicas: number;
  mem_storage: boolean;
  metadata: Record<string, string> | null;
  pause_until: string | null;
}

export const defaultAckWaitNs = 30e9;
export const defaultMaxAckPending = 1000;
export const defaultMaxWaiting = 512;
export const defaultInactiveThresholdNs = 5e9;

const e = (code: number, errCode: number, description: string): ApiError => ({ code, err_code: errCode, description });
export const CErr = {
  notFound: () => e(404, 10014, "consumer not found"),
  create: (text: string) => e(500, 10012, text),
  nameExist: () => e(400, 10013, "consumer name already in use"),
  durableNameNotInSubject: () => e(400, 10016, "consumer expected to be durable but no durable name set in subject"),
  durableNameNotMatchSubject: () => e(400, 10017, "consumer name in subject does not match durable name in request"),
  durableNameNotSet: () => e(400, 10018, "consumer expected to be durable but a durable name was not set"),
  ephemeralWithDurableInSubject: () => e(400, 10019, "consumer expected to be ephemeral but detected a durable name set in subject"),
  ephemeralWithDurableName: () => e(400, 10020, "consumer expected to be ephemeral but a durable name was set in request"),
  configRequired: () => e(400, 10078, "consumer config required"),
  deliverToWildcards: () => e(400, 10079, "consumer deliver subject has wildcards"),
  pushMaxWaiting: () => e(400, 10080, "consumer in push mode can not set max waiting"),
  deliverCycle: () => e(400, 10081, "consumer deliver subject forms a cycle"),
  maxPendingAckPolicyRequired: () => e(400, 10082, "consumer requires ack policy for max ack pending"),
  smallHeartbeat: () => e(400, 10083, "consumer idle heartbeat needs to be >= 100ms"),
  pullRequiresAck: () => e(400, 10084, "consumer in pull mode requires ack policy"),
  pullWithRateLimit: () => e(400, 10086, "consumer in pull mode can not have rate limit set"),
  maxWaitingNegative: () => e(400, 10087, "consumer max waiting needs to be positive"),
  hbRequiresPush: () => e(400, 10088, "consumer idle heartbeat requires a push based consumer"),
  fcRequiresPush: () => e(400, 10089, "consumer flow control requires a push based consumer"),
  filterNotSubset: () => e(400, 10093, "consumer filter subject is not a valid subset of the interest subjects"),
  invalidPolicy: (text: string) => e(400, 10094, text),
  invalidSampling: (text: string) => e(400, 10095, `failed to parse consumer sampling configuration: ${text}`),
  wqRequiresExplicitAck: () => e(400, 10098, "workqueue stream requires explicit ack"),
  wqMultipleUnfiltered: () => e(400, 10099, "multiple non-filtered consumers not allowed on workqueue stream"),
  wqNotUnique: () => e(400, 10100, "filtered consumer not unique on workqueue stream"),
  wqNotDeliverAll: () => e(400, 10101, "consumer must be deliver all on workqueue stream"),
  nameTooLong: (max: number) => e(400, 10102, `consumer name is too long, maximum allowed is ${max}`),
  badDurableName: () => e(400, 10103, "durable name can not contain '.', '*', '>'"),
  existingActive: () => e(400, 10105, "consumer already exists and is still active"),
  replacementDifferentName: () => e(400, 10106, "consumer replacement durable config not the same"),
  descriptionTooLong: (max: number) => e(400, 10107, `consumer description is too long, maximum allowed is ${max}`),
  fcNeedsHeartbeats: () => e(400, 10108, "consumer with flow control also needs heartbeats"),
  invalidDeliverSubject: () => e(400, 10112, "invalid push consumer deliver subject"),
  maxRequestBatchNegative: () => e(400, 10114, "consumer max request batch needs to be > 0"),
  maxRequestExpiresTooSmall: () => e(400, 10115, "consumer max request expires needs to be >= 1ms"),
  maxDeliverBackoff: () => e(400, 10116, "max deliver is required to be > length of backoff values"),
  nameContainsPathSeparators: () => e(400, 10127, "Consumer name can not contain path separators"),
  createFilterSubjectMismatch: () => e(400, 10131, "Consumer create request did not match filtered subject from create subject"),
  durableAndNameMismatch: () => e(400, 10132, "Consumer Durable and Name have to be equal if both are provided"),
  replicasNegative: () => e(400, 10133, "replicas count cannot be negative"),
  metadataLength: () => e(400, 10135, "consumer metadata exceeds maximum size of 128 KB"),
  duplicateFilterSubjects: () => e(400, 10136, "consumer cannot have both FilterSubject and FilterSubjects specified"),
  multipleFiltersNotAllowed: () => e(400, 10137, "consumer with multiple subject filters cannot use subject based API"),
  overlappingFilters: () => e(400, 10138, "consumer subject filters cannot overlap"),
  emptyFilter: () => e(400, 10139, "consumer filter in FilterSubjects cannot be empty"),
  alreadyExists: () => e(400, 10148, "consumer already exists"),
  doesNotExist: () => e(400, 10149, "consumer does not exist"),
  maximumConsumersLimit: () => e(400, 10026, "maximum consumers limit reached"),
};

function invalidJson(): never {
  throw new ApiErrorThrown(e(400, 10025, "invalid JSON"));
}

function readEnum<T extends string>(o: Record<string, unknown>, key: string, values: readonly T[], dflt: T): T {
  const v = o[key];
  if (v === undefined || v === null) return dflt;
  if (typeof v !== "string" || !(values as readonly string[]).includes(v)) invalidJson();
  return v as T;
}

export function decodeConsumerConfig(o: Record<string, unknown>): ConsumerConfig {
  const metadata = readObject(o, "metadata");
  if (metadata !== null) for (const v of Object.values(metadata)) if (typeof v !== "string") invalidJson();
  const backoff = o.backoff;
  if (backoff !== undefined && backoff !== null && (!Array.isArray(backoff) || backoff.some((x) => typeof x !== "number" || !Number.isInteger(x)))) invalidJson();
  const startTime = readString(o, "opt_start_time");
  if (startTime !== "" && rfc3339ToNs(startTime) === null) invalidJson();
  const pauseUntil = readString(o, "pause_until");
  if (pauseUntil !== "" && rfc3339ToNs(pauseUntil) === null) invalidJson();
  return {
    durable_name: readString(o, "durable_name"),
    name: readString(o, "name"),
    description: readString(o, "description"),
    deliver_policy: readEnum(o, "deliver_policy", ["all", "last", "new", "by_start_sequence", "by_start_time", "last_per_subject"], "all"),
    opt_start_seq: readInt(o, "opt_start_seq"),
    opt_start_time: startTime === "" ? null : startTime,
    ack_policy: readEnum(o, "ack_policy", ["none", "all", "explicit"], "none"),
    ack_wait: readInt(o, "ack_wait"),
    max_deliver: readInt(o, "max_deliver"),
    backoff: Array.isArray(backoff) && backoff.length > 0 ? (backoff as number[]) : null,
    filter_subject: readString(o, "filter_subject"),
    filter_subjects: readStringArray(o, "filter_subjects"),
    replay_policy: readEnum(o, "replay_policy", ["instant", "original"], "instant"),
    rate_limit_bps: readInt(o, "rate_limit_bps"),
    sample_freq: readString(o, "sample_freq"),
    max_waiting: readInt(o, "max_waiting"),
    max_ack_pending: readInt(o, "max_ack_pending"),
    idle_heartbeat: readInt(o, "idle_heartbeat"),
    flow_control: readBool(o, "flow_control"),
    headers_only: readBool(o, "headers_only"),
    max_batch: readInt(o, "max_batch"),
    max_expires: readInt(o, "max_expires"),
    max_bytes: readInt(o, "max_bytes"),
    deliver_subject: readString(o, "deliver_subject"),
    deliver_group: readString(o, "deliver_group"),
    inactive_threshold: readInt(o, "inactive_threshold"),
    num_replicas: readInt(o, "num_replicas"),
    mem_storage: readBool(o, "mem_storage"),
    metadata: metadata as Record<string, string> | null,
    pause_until: pauseUntil === "" ? null : pauseUntil,
  };
}

export function isPull(c: ConsumerConfig): boolean {
  return c.deliver_subject === "";
}

/** The filters of a consumer: [] means every subject of the stream. */
export function filtersOf(c: ConsumerConfig): string[] {
  if (c.filter_subjects !== null && c.filter_subjects.length > 0) return c.filter_subjects;
  if (c.filter_subject !== "" && c.filter_subject !== ">") return [c.filter_subject];
  return [];
}

/** The reference's setConsumerConfigDefaults. */
export function applyConsumerDefaults(c: ConsumerConfig, stream: StreamConfig): void {
  if (c.max_deliver === 0) c.max_deliver = -1;
  if (c.backoff !== null && c.ack_wait === 0) c.ack_wait = c.backoff[0];
  if (c.ack_wait === 0 && c.ack_policy !== "none") c.ack_wait = defaultAckWaitNs;
  if (c.max_ack_pending === 0 && c.ack_policy !== "none") {
    c.max_ack_pending = stream.consumer_limits.max_ack_pending > 0 ? stream.consumer_limits.max_ack_pending : defaultMaxAckPending;
  }
  if (c.max_waiting === 0 && isPull(c)) c.max_waiting = defaultMaxWaiting;
  if (c.durable_name === "" && c.inactive_threshold === 0) {
    c.inactive_threshold = stream.consumer_limits.inactive_threshold > 0 ? stream.consumer_limits.inactive_threshold : defaultInactiveThresholdNs;
  }
}

const policyName: Record<DeliverPolicy, string> = {
  all: "all",
  last: "last",
  new: "new",
  by_start_sequence: "by start sequence",
  by_start_time: "by start time",
  last_per_subject: "last per subject",
};

/** The reference's checkConsumerCfg (after defaults). */
export function checkConsumerConfig(c: ConsumerConfig, stream: StreamConfig): ApiError | null {
  if (c.description.length > 4096) return CErr.descriptionTooLong(4096);
  if (c.metadata !== null) {
    let size = 0;
    for (const [k, v] of Object.entries(c.metadata)) size += k.length + v.length;
    if (size > 128 * 1024) return CErr.metadataLength();
  }
  if (c.num_replicas < 0) return CErr.replicasNegative();
  if (c.num_replicas > 1) return e(500, 10074, "replicas > 1 not supported in non-clustered mode");
  // The reference (2.9) also refuses a backoff with an unlimited (-1) max_deliver.
  if (c.backoff !== null && c.max_deliver <= c.backoff.length) return CErr.maxDeliverBackoff();
  const dp = c.deliver_policy;
  if (dp === "by_start_sequence") {
    if (c.opt_start_seq === 0) return CErr.invalidPolicy("consumer delivery policy is deliver by start sequence, but optional start sequence is not set");
    if (c.opt_start_time !== null) return CErr.invalidPolicy("consumer delivery policy is deliver by start sequence, but optional start time is also set");
  } else if (dp === "by_start_time") {
    if (c.opt_start_time === null) return CErr.invalidPolicy("consumer delivery policy is deliver by start time, but optional start time is not set");
    if (c.opt_start_seq !== 0) return CErr.invalidPolicy("consumer delivery policy is deliver by start time, but optional start start sequence is also set"); // sic: the reference's text
  } else {
    if (c.opt_start_seq > 0) return CErr.invalidPolicy(`consumer delivery policy is deliver ${policyName[dp]}, but optional start sequence is also set`);
    if (c.opt_start_time !== null) return CErr.invalidPolicy(`consumer delivery policy is deliver ${policyName[dp]}, but optional start time is also set`);
    if (dp === "last_per_subject" && c.filter_subject === "" && (c.filter_subjects === null || c.filter_subjects.length === 0)) {
      return CErr.invalidPolicy("consumer delivery policy is deliver last per subject, but optional filter subject is not set");
    }
  }
  if (c.sample_freq !== "") {
    const s = c.sample_freq.endsWith("%") ? c.sample_freq.slice(0, -1) : c.sample_freq;
    const n = Number(s);
    if (!/^\d+$/.test(s) || n < 0 || n > 100) return CErr.invalidSampling(`strconv.Atoi: parsing "${s}": invalid syntax`);
  }
  // max_ack_pending with ack policy none is accepted (and ignored) by the reference (2.9).
  if (c.idle_heartbeat > 0 && c.idle_heartbeat < 100e6) return CErr.smallHeartbeat();
  if (isPull(c)) {
    if (c.max_waiting < 0) return CErr.maxWaitingNegative();
    if (c.idle_heartbeat > 0) return CErr.hbRequiresPush();
    if (c.flow_control) return CErr.fcRequiresPush();
    if (c.rate_limit_bps > 0) return CErr.pullWithRateLimit();
    if (c.max_batch < 0) return CErr.maxRequestBatchNegative();
    if (c.max_expires !== 0 && c.max_expires < 1e6) return CErr.maxRequestExpiresTooSmall();
  } else {
    if (c.max_waiting > 0) return CErr.pushMaxWaiting();
    if (c.flow_control && c.idle_heartbeat <= 0) return CErr.fcNeedsHeartbeats();
    if (!isValidSubject(c.deliver_subject)) return CErr.invalidDeliverSubject();
    if (/(^|\.)(\*|>)(\.|$)/.test(c.deliver_subject)) return CErr.deliverToWildcards();
    for (const s of stream.subjects) if (subjectsCollide(s, c.deliver_subject)) return CErr.deliverCycle();
  }
  if (c.filter_subject !== "" && c.filter_subjects !== null && c.filter_subjects.length > 0) return CErr.duplicateFilterSubjects();
  const filters = filtersOf(c);
  if (c.filter_subjects !== null) {
    for (const f of c.filter_subjects) if (f === "") return CErr.emptyFilter();
    for (let i = 0; i < filters.length; i++) {
      for (let j = i + 1; j < filters.length; j++) if (subjectsCollide(filters[i], filters[j])) return CErr.overlappingFilters();
    }
  }
  for (const f of filters) {
    if (!isValidSubject(f)) return CErr.filterNotSubset();
    if (stream.subjects.length > 0 && !stream.subjects.some((s) => subjectsCollide(s, f) || isSubsetMatch(f, s))) return CErr.filterNotSubset();
  }
  if (stream.retention === "workqueue") {
    if (c.ack_policy !== "explicit") return isPull(c) ? CErr.pullRequiresAck() : CErr.wqRequiresExplicitAck();
    if (c.deliver_policy !== "all") return CErr.wqNotDeliverAll();
  }
  return null;
}

/** Fields that may change on a consumer update (the reference's updateConfig checks). */
export function checkConsumerUpdate(old: ConsumerConfig, c: ConsumerConfig): ApiError | null {
  const fail = (text: string): ApiError => CErr.create(text);
  if (old.deliver_policy !== c.deliver_policy) return fail("deliver policy can not be updated");
  if (old.opt_start_seq !== c.opt_start_seq) return fail("start sequence can not be updated");
  if (old.opt_start_time !== c.opt_start_time) return fail("start time can not be updated");
  if (old.ack_policy !== c.ack_policy) return fail("ack policy can not be updated");
  if (old.replay_policy !== c.replay_policy) return fail("replay policy can not be updated");
  if (old.idle_heartbeat !== c.idle_heartbeat) return fail("heart beats can not be updated");
  if (old.flow_control !== c.flow_control) return fail("flow control can not be updated");
  if (old.max_waiting !== c.max_waiting) return fail("max waiting can not be updated");
  if (old.deliver_subject === "" && c.deliver_subject !== "") return fail("can not update pull consumer to push based");
  if (old.deliver_subject !== "" && c.deliver_subject === "") return fail("can not update push consumer to pull based");
  if (old.mem_storage !== c.mem_storage) return fail("can not change mem_storage");
  if (old.max_waiting !== c.max_waiting && isPull(c) && c.max_waiting < old.max_waiting) {
    // The reference lets max_waiting change.
  }
  return null;
}

/** Encodes in the reference's field order, omitempty fields left out. */
export function encodeConsumerConfig(c: ConsumerConfig): Record<string, unknown> {
  const o: Record<string, unknown> = {};
  if (c.durable_name !== "") o.durable_name = c.durable_name;
  if (c.name !== "") o.name = c.name;
  if (c.description !== "") o.description = c.description;
  o.deliver_policy = c.deliver_policy;
  if (c.opt_start_seq !== 0) o.opt_start_seq = c.opt_start_seq;
  if (c.opt_start_time !== null) o.opt_start_time = c.opt_start_time;
  o.ack_policy = c.ack_policy;
  if (c.ack_wait !== 0) o.ack_wait = c.ack_wait;
  if (c.max_deliver !== 0) o.max_deliver = c.max_deliver;
  if (c.backoff !== null) o.backoff = c.backoff;
  if (c.filter_subject !== "") o.filter_subject = c.filter_subject;
  o.replay_policy = c.replay_policy;
  if (c.rate_limit_bps !== 0) o.rate_limit_bps = c.rate_limit_bps;
  if (c.sample_freq !== "") o.sample_freq = c.sample_freq;
  if (c.max_waiting !== 0) o.max_waiting = c.max_waiting;
  if (c.max_ack_pending !== 0) o.max_ack_pending = c.max_ack_pending;
  if (c.idle_heartbeat !== 0) o.idle_heartbeat = c.idle_heartbeat;
  if (c.flow_control) o.flow_control = true;
  if (c.headers_only) o.headers_only = true;
  if (c.max_batch !== 0) o.max_batch = c.max_batch;
  if (c.max_expires !== 0) o.max_expires = c.max_expires;
  if (c.max_bytes !== 0) o.max_bytes = c.max_bytes;
  if (c.deliver_subject !== "") o.deliver_subject = c.deliver_subject;
  if (c.deliver_group !== "") o.deliver_group = c.deliver_group;
  if (c.inactive_threshold !== 0) o.inactive_threshold = c.inactive_threshold;
  o.num_replicas = c.num_replicas;
  if (c.mem_storage) o.mem_storage = true;
  if (c.filter_subjects !== null && c.filter_subjects.length > 0) o.filter_subjects = c.filter_subjects;
  if (c.metadata !== null && Object.keys(c.metadata).length > 0) o.metadata = c.metadata;
  if (c.pause_until !== null) o.pause_until = c.pause_until;
  return o;
}

export function sameConsumerConfig(a: ConsumerConfig, b: ConsumerConfig): boolean {
  return JSON.stringify(encodeConsumerConfig(a)) === JSON.stringify(encodeConsumerConfig(b));
}

/** Durable/consumer names: no '.', '*', '>', path separators or whitespace. */
export function checkConsumerName(name: string): ApiError | null {
  if (name.length > 255) return CErr.nameTooLong(255);
  if (name.includes("/") || name.includes("\\")) return CErr.nameContainsPathSeparators();
  if (/[.*>\s]/.test(name)) return CErr.badDurableName();
  return null;
}

/** The pull request body: empty (batch 1), a number, or JSON. Null when invalid. */
export interface PullRequest {
  batch: number;
  expiresNs: number;
  noWait: boolean;
  maxBytes: number;
  heartbeatNs: number;
}

export function parsePullRequest(body: string): PullRequest | null {
  const t = body.trim();
  if (t === "") return { batch: 1, expiresNs: 0, noWait: false, maxBytes: 0, heartbeatNs: 0 };
  if (/^\d+$/.test(t)) return { batch: Math.max(1, Number(t)), expiresNs: 0, noWait: false, maxBytes: 0, heartbeatNs: 0 };
  let o: unknown;
  try {
    o = JSON.parse(t);
  } catch {
    return null;
  }
  if (o === null || typeof o !== "object" || Array.isArray(o)) return null;
  const r = o as Record<string, unknown>;
  const num = (k: string): number => (typeof r[k] === "number" ? (r[k] as number) : 0);
  return {
    batch: Math.max(1, num("batch")),
    expiresNs: Math.max(0, num("expires")),
    noWait: r.no_wait === true,
    maxBytes: Math.max(0, num("max_bytes")),
    heartbeatNs: Math.max(0, num("idle_heartbeat")),
  };
}
