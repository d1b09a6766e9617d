// Stream configuration: decoding the request JSON the way Go's encoding/json does (unknown
// fields ignored, wrong types and unknown enum values are "invalid JSON"), the reference's
// defaults and validation (with its error texts), and encoding back in its field order.
import { isValidSubject } from "../server/subject.ts";
import { JsErr, type ApiError } from "./errors.ts";
import { subjectsCollide, isSubsetMatch } from "./subjects.ts";
import { isValidTransform } from "./transform.ts";

export type Retention = "limits" | "interest" | "workqueue";
export type Storage = "file" | "memory";
export type Discard = "old" | "new";

export interface SubjectTransform {
  src: string;
  dest: string;
}
export interface Republish {
  src: string;
  dest: string;
  headers_only: boolean;
}
/** A mirror or source (StreamSource): the origin stream and which of its messages. */
export interface StreamSource {
  name: string;
  opt_start_seq: number;
  opt_start_time: string | null;
  filter_subject: string;
  /** 2.9 single transform destination for filter_subject. */
  subject_transform_dest: string;
  subject_transforms: SubjectTransform[] | null;
  external: { api: string; deliver: string } | null;
}

export interface Placement {
  cluster: string;
  tags: string[];
}
export interface ConsumerLimits {
  inactive_threshold: number;
  max_ack_pending: number;
}

/** Durations are integer nanoseconds, as on the wire (safe as numbers up to ~104 days… beyond, precision is lost but limits are still honoured). */
export interface StreamConfig {
  name: string;
  description: string;
  subjects: string[];
  retention: Retention;
  max_consumers: number;
  max_msgs: number;
  max_bytes: number;
  max_age: number;
  max_msgs_per_subject: number;
  max_msg_size: number;
  discard: Discard;
  storage: Storage;
  num_replicas: number;
  no_ack: boolean;
  template_owner: string;
  duplicate_window: number;
  placement: Placement | null;
  mirror: StreamSource | null;
  sources: StreamSource[] | null;
  compression: "none" | "s2";
  first_seq: number;
  subject_transform: SubjectTransform | null;
  republish: Republish | null;
  allow_direct: boolean;
  mirror_direct: boolean;
  discard_new_per_subject: boolean;
  sealed: boolean;
  deny_delete: boolean;
  deny_purge: boolean;
  allow_rollup_hdrs: boolean;
  consumer_limits: ConsumerLimits;
  allow_msg_ttl: boolean;
  subject_delete_marker_ttl: number;
  metadata: Record<string, string> | null;
}

export const defaultDuplicateWindowNs = 2 * 60 * 1e9;
/** Smallest max_age and duplicate_window the reference accepts. */
const minWindowNs = 100 * 1e6;
const maxReplicas = 5;
const maxNameLength = 255;
const maxDescriptionLength = 4096;

/** Thrown while decoding: the request is answered with this API error. */
export class ApiErrorThrown extends Error {
  constructor(readonly apiError: ApiError) {
    super(apiError.description);
  }
}

function invalidJson(): never {
  throw new ApiErrorThrown(JsErr.invalidJson());
}

// ---- Go-like typed reads of a decoded JSON object ------------------------------------------
//
// Go's encoding/json, which the reference decodes requests with, matches object keys to struct
// fields case-insensitively (the last matching key wins) and refuses, for an integer field, a
// number written as 1.0 or 1e3 or out of the field's range. JSON.parse keeps neither, so
// parseJsonObject records the number literals that are not plain int64 integers and the reads
// below look keys up the way Go does.

/** Holder (object or array) → keys whose number literal is not a plain integer within int64. */
const nonInt64Numbers = new WeakMap<object, Set<string>>();
const int64Min = -(2n ** 63n);
const int64Max = 2n ** 63n - 1n;

function isInt64Literal(source: string): boolean {
  if (!/^-?(0|[1-9]\d*)$/.test(source)) return false;
  const n = BigInt(source);
  return n >= int64Min && n <= int64Max;
}

/** The value of the last key of `o` equal to `key` ignoring ASCII case, and that key. */
function field(o: Record<string, unknown>, key: string): { key: string; value: unknown } {
  if (key in o) {
    // Fast path: no other spelling of the key (the common case).
    let other = false;
    const lower = key.toLowerCase();
    for (const k of Object.keys(o)) if (k !== key && k.toLowerCase() === lower) other = true;
    if (!other) return { key, value: o[key] };
  }
  const lower = key.toLowerCase();
  let found: string | undefined;
  for (const k of Object.keys(o)) if (k.toLowerCase() === lower) found = k;
  return found === undefined ? { key, value: undefined } : { key: found, value: o[found] };
}

export function readString(o: Record<string, unknown>, key: string): string {
  const v = field(o, key).value;
  if (v === undefined || v === null) return "";
  if (typeof v !== "string") invalidJson();
  return v;
}

/** An integer field (int64; `bits` 32 for Go's int32 fields). */
export function readInt(o: Record<string, unknown>, key: string, bits: 32 | 64 = 64): number {
  const f = field(o, key);
  const v = f.value;
  if (v === undefined || v === null) return 0;
  if (typeof v !== "number" || !Number.isInteger(v) || nonInt64Numbers.get(o)?.has(f.key) === true) invalidJson();
  if (bits === 32 && (v < -(2 ** 31) || v > 2 ** 31 - 1)) invalidJson();
  return v;
}

export function readUint(o: Record<string, unknown>, key: string): number {
  const v = readInt(o, key);
  if (v < 0) invalidJson();
  return v;
}

export function readBool(o: Record<string, unknown>, key: string): boolean {
  const v = field(o, key).value;
  if (v === undefined || v === null) return false;
  if (typeof v !== "boolean") invalidJson();
  return v;
}

export function readObject(o: Record<string, unknown>, key: string): Record<string, unknown> | null {
  const v = field(o, key).value;
  if (v === undefined || v === null) return null;
  if (typeof v !== "object" || Array.isArray(v)) invalidJson();
  return v as Record<string, unknown>;
}

export function readStringArray(o: Record<string, unknown>, key: string): string[] | null {
  const v = field(o, key).value;
  if (v === undefined || v === null) return null;
  if (!Array.isArray(v)) invalidJson();
  return v.map((x) => {
    if (x === null) return "";
    if (typeof x !== "string") invalidJson();
    return x;
  });
}

/** `{"key": value}` in the request, any spelling (for fields the decoder passes through as they are). */
export function readRaw(o: Record<string, unknown>, key: string): unknown {
  return field(o, key).value;
}

function readEnum<T extends string>(o: Record<string, unknown>, key: string, values: readonly T[], dflt: T, foldCase = false): T {
  let v = field(o, key).value;
  if (v === undefined || v === null) return dflt;
  if (typeof v === "string" && foldCase) v = v.toLowerCase();
  if (typeof v !== "string" || !(values as readonly string[]).includes(v)) invalidJson();
  return v as T;
}

/** Parses a request body as a JSON object (empty body → {}); anything else is invalid JSON. */
export function parseJsonObject(body: string): Record<string, unknown> {
  if (body.trim() === "") invalidJson();
  let v: unknown;
  try {
    v = JSON.parse(body, function (this: object, key: string, value: unknown, context?: { source?: string }) {
      if (typeof value === "number" && context?.source !== undefined && !isInt64Literal(context.source)) {
        let keys = nonInt64Numbers.get(this);
        if (keys === undefined) nonInt64Numbers.set(this, (keys = new Set()));
        keys.add(key);
      }
      return value;
    } as (key: string, value: unknown) => unknown);
  } catch {
    invalidJson();
  }
  if (v === null) return {};
  if (typeof v !== "object" || Array.isArray(v)) invalidJson();
  return v as Record<string, unknown>;
}

/** Decodes a StreamConfig request (fields not given take Go's zero values). */
export function decodeStreamConfig(o: Record<string, unknown>): StreamConfig {
  const placement = readObject(o, "placement");
  const transform = readObject(o, "subject_transform");
  const republish = readObject(o, "republish");
  const limits = readObject(o, "consumer_limits") ?? {};
  const metadata = readObject(o, "metadata");
  if (metadata !== null) for (const v of Object.values(metadata)) if (typeof v !== "string") invalidJson();
  const sources = readRaw(o, "sources");
  if (sources !== undefined && sources !== null && !Array.isArray(sources)) invalidJson();
  const mirrorObj = readObject(o, "mirror");
  const mirror = mirrorObj === null ? null : decodeSource(mirrorObj);
  const sourceList = Array.isArray(sources)
    ? sources.map((x) => {
        if (x === null || typeof x !== "object" || Array.isArray(x)) invalidJson();
        return decodeSource(x as Record<string, unknown>);
      })
    : [];
  return {
    name: readString(o, "name"),
    description: readString(o, "description"),
    subjects: readStringArray(o, "subjects") ?? [],
    retention: readEnum(o, "retention", ["limits", "interest", "workqueue"], "limits"),
    max_consumers: readInt(o, "max_consumers"),
    max_msgs: readInt(o, "max_msgs"),
    max_bytes: readInt(o, "max_bytes"),
    max_age: readInt(o, "max_age"),
    max_msgs_per_subject: readInt(o, "max_msgs_per_subject"),
    max_msg_size: readInt(o, "max_msg_size", 32),
    // The reference's DiscardPolicy decoding alone ignores case ("OLD" is "old").
    discard: readEnum(o, "discard", ["old", "new"], "old", true),
    storage: readEnum(o, "storage", ["file", "memory"], "file"),
    num_replicas: readInt(o, "num_replicas"),
    no_ack: readBool(o, "no_ack"),
    template_owner: readString(o, "template_owner"),
    duplicate_window: readInt(o, "duplicate_window"),
    placement: placement === null ? null : { cluster: readString(placement, "cluster"), tags: readStringArray(placement, "tags") ?? [] },
    mirror,
    sources: sourceList.length > 0 ? sourceList : null,
    compression: readEnum(o, "compression", ["none", "s2"], "none"),
    first_seq: readUint(o, "first_seq"),
    subject_transform: transform === null ? null : { src: readString(transform, "src"), dest: readString(transform, "dest") },
    republish: republish === null ? null : { src: readString(republish, "src"), dest: readString(republish, "dest"), headers_only: readBool(republish, "headers_only") },
    allow_direct: readBool(o, "allow_direct"),
    mirror_direct: readBool(o, "mirror_direct"),
    discard_new_per_subject: readBool(o, "discard_new_per_subject"),
    sealed: readBool(o, "sealed"),
    deny_delete: readBool(o, "deny_delete"),
    deny_purge: readBool(o, "deny_purge"),
    allow_rollup_hdrs: readBool(o, "allow_rollup_hdrs"),
    consumer_limits: { inactive_threshold: readInt(limits, "inactive_threshold"), max_ack_pending: readInt(limits, "max_ack_pending") },
    allow_msg_ttl: readBool(o, "allow_msg_ttl"),
    subject_delete_marker_ttl: readInt(o, "subject_delete_marker_ttl"),
    metadata: metadata as Record<string, string> | null,
  };
}

function decodeSource(o: Record<string, unknown>): StreamSource {
  const ext = readObject(o, "external");
  const transforms = o.subject_transforms;
  if (transforms !== undefined && transforms !== null && !Array.isArray(transforms)) invalidJson();
  const startTime = readString(o, "opt_start_time");
  return {
    name: readString(o, "name"),
    opt_start_seq: readUint(o, "opt_start_seq"),
    opt_start_time: startTime === "" ? null : startTime,
    filter_subject: readString(o, "filter_subject"),
    subject_transform_dest: readString(o, "subject_transform_dest"),
    subject_transforms: Array.isArray(transforms)
      ? transforms.map((t) => {
          if (t === null || typeof t !== "object") invalidJson();
          const r = t as Record<string, unknown>;
          return { src: readString(r, "src"), dest: readString(r, "dest") };
        })
      : null,
    external: ext === null ? null : { api: readString(ext, "api"), deliver: readString(ext, "deliver") },
  };
}

export function encodeSource(s: StreamSource): Record<string, unknown> {
  const o: Record<string, unknown> = { name: s.name };
  if (s.opt_start_seq !== 0) o.opt_start_seq = s.opt_start_seq;
  if (s.opt_start_time !== null) o.opt_start_time = s.opt_start_time;
  if (s.filter_subject !== "") o.filter_subject = s.filter_subject;
  if (s.subject_transform_dest !== "") o.subject_transform_dest = s.subject_transform_dest;
  if (s.subject_transforms !== null) o.subject_transforms = s.subject_transforms;
  if (s.external !== null) {
    const e: Record<string, unknown> = { api: s.external.api };
    if (s.external.deliver !== "") e.deliver = s.external.deliver;
    o.external = e;
  }
  return o;
}

/** The reference's setStreamConfigDefaults. */
export function applyStreamDefaults(cfg: StreamConfig): void {
  if (cfg.subjects.length === 0 && cfg.mirror === null) cfg.subjects = [cfg.name];
  if (cfg.max_msgs === 0) cfg.max_msgs = -1;
  if (cfg.max_msgs_per_subject === 0) cfg.max_msgs_per_subject = -1;
  if (cfg.max_bytes === 0) cfg.max_bytes = -1;
  if (cfg.max_consumers === 0) cfg.max_consumers = -1;
  if (cfg.duplicate_window === 0 && cfg.mirror === null) {
    cfg.duplicate_window = cfg.max_age !== 0 && cfg.max_age < defaultDuplicateWindowNs ? cfg.max_age : defaultDuplicateWindowNs;
  }
  if (cfg.max_msg_size === 0) cfg.max_msg_size = -1;
  if (cfg.num_replicas === 0) cfg.num_replicas = 1;
}

/** Stream names: no path separators, wildcards, dots or whitespace (checked before defaults). */
export function streamNameHasPathSeparators(name: string): boolean {
  return name.includes("/") || name.includes("\\");
}

export function isValidStreamName(name: string): boolean {
  return name !== "" && !/[.*>\s/\\]/.test(name);
}

/** The reference's checkStreamCfg, for a create or an update (after defaults). */
export function checkStreamConfig(cfg: StreamConfig, forCreate: boolean): ApiError | null {
  const invalid = (text: string): ApiError => JsErr.streamInvalidConfig(text);
  if (cfg.name.length > maxNameLength) return invalid(`stream name is too long, maximum allowed is ${maxNameLength}`);
  if (cfg.description.length > maxDescriptionLength) return invalid(`stream description is too long, maximum allowed is ${maxDescriptionLength}`);
  if (cfg.metadata !== null) {
    let size = 0;
    for (const [k, v] of Object.entries(cfg.metadata)) size += k.length + v.length;
    if (size > 128 * 1024) return invalid("stream metadata exceeds maximum size of 128 KB");
  }
  if (cfg.num_replicas > maxReplicas) return invalid(`maximum replicas is ${maxReplicas}`);
  if (cfg.num_replicas < 0) return JsErr.replicasCountCannotBeNegative();
  if (cfg.max_age > 0 && cfg.max_age < minWindowNs) return invalid("max age needs to be >= 100ms");
  if (cfg.duplicate_window < 0) return invalid("duplicates window can not be negative");
  if (cfg.max_age !== 0 && cfg.duplicate_window > cfg.max_age) return invalid("duplicates window can not be larger then max age");
  if (cfg.duplicate_window > 0 && cfg.duplicate_window < minWindowNs) return invalid("duplicates window needs to be >= 100ms");
  if (cfg.max_age < 0) return invalid("max age needs to be >= 0");
  if (cfg.deny_purge && cfg.allow_rollup_hdrs) return invalid("roll-ups require the purge permission");
  if (cfg.discard_new_per_subject) {
    if (cfg.discard !== "new") return invalid("discard new per subject requires discard new policy to be set");
    if (cfg.max_msgs_per_subject <= 0) return invalid("discard new per subject requires max msgs per subject > 0");
  }
  if (cfg.subject_delete_marker_ttl > 0) {
    if (cfg.subject_delete_marker_ttl < 1e9) return invalid("subject delete marker TTL must be at least 1 second");
    // Markers need TTLs and roll-ups: the reference (outside pedantic mode) turns them on.
    if (!cfg.allow_msg_ttl) cfg.allow_msg_ttl = true;
    if (!cfg.allow_rollup_hdrs) {
      cfg.allow_rollup_hdrs = true;
      cfg.deny_purge = false;
    }
  } else if (cfg.subject_delete_marker_ttl < 0) {
    return invalid("subject delete marker TTL must not be negative");
  }
  const sourceErr = (code: number, text: string): ApiError => ({ code: 400, err_code: code, description: text });
  if (cfg.mirror !== null) {
    const m = cfg.mirror;
    if (cfg.subjects.length > 0) return sourceErr(10034, "stream mirrors can not contain subjects");
    if (cfg.sources !== null) return sourceErr(10031, "stream mirrors can not also contain other sources");
    if (cfg.first_seq > 0) return sourceErr(10143, "stream mirrors can not have first sequence configured");
    if (!isValidStreamName(m.name)) return sourceErr(10142, "mirrored stream name is invalid");
    if (m.opt_start_seq > 0 && m.opt_start_time !== null) return sourceErr(10032, "stream mirrors can not have both start seq and start time configured");
    if (m.name === cfg.name) return invalid("stream mirror can not be the same stream");
  }
  if (cfg.sources !== null) {
    const seen = new Set<string>();
    for (const src of cfg.sources) {
      if (!isValidStreamName(src.name)) return sourceErr(10141, "sourced stream name is invalid");
      if (src.name === cfg.name) return invalid("stream can not source itself");
      const key = `${src.name} ${src.filter_subject} ${src.subject_transform_dest} ${JSON.stringify(src.subject_transforms)} ${src.external?.api ?? ""}`;
      if (seen.has(key)) return sourceErr(10140, "duplicate source configuration detected");
      seen.add(key);
    }
  }
  if (cfg.compression === "s2" && cfg.storage === "memory") {
    // The reference accepts it and ignores compression for memory streams.
  }
  const seen = new Set<string>();
  for (const subject of cfg.subjects) {
    if (seen.has(subject)) return invalid("duplicate subjects detected");
    if (isSubsetMatch(subject, "$JS.API.>")) return invalid("subjects overlap with jetstream api");
    if (!isValidSubject(subject)) return invalid("invalid subject");
    seen.add(subject);
  }
  for (let i = 0; i < cfg.subjects.length; i++) {
    for (let j = i + 1; j < cfg.subjects.length; j++) {
      if (subjectsCollide(cfg.subjects[i], cfg.subjects[j])) return invalid(`subject "${cfg.subjects[i]}" overlaps with "${cfg.subjects[j]}"`);
    }
  }
  if (cfg.subject_transform !== null) {
    const t = cfg.subject_transform;
    if (t.src !== "" && !isValidSubject(t.src)) return JsErr.streamTransformInvalidSource("invalid subject");
    if (t.dest === "" || !isValidSubject(t.dest)) return JsErr.streamTransformInvalidDestination("invalid subject");
  }
  if (cfg.republish !== null) {
    const r = cfg.republish;
    if (r.src === "") r.src = ">";
    for (const subject of cfg.subjects) {
      if (subjectsCollide(r.dest, subject)) return invalid("stream configuration for republish destination forms a cycle");
    }
    if (!isValidTransform(r.src, r.dest)) return invalid(`stream configuration for republish with transform from '${r.src}' to '${r.dest}' not valid`);
  }
  if (forCreate && cfg.sealed) return invalid("stream configuration for create can not be sealed");
  // Checked after the configuration itself, as the reference does when it adds the stream.
  if (cfg.num_replicas > 1) return JsErr.streamReplicasNotSupported();
  return null;
}

/** The reference's update checks: what may not change between `old` and `cfg`. */
export function checkStreamUpdate(old: StreamConfig, cfg: StreamConfig): ApiError | null {
  const invalid = (text: string): ApiError => JsErr.streamInvalidConfig(text);
  if (cfg.name !== old.name) return invalid("stream configuration name must match original");
  if (cfg.max_consumers !== old.max_consumers) return invalid("stream configuration update can not change MaxConsumers");
  if (cfg.storage !== old.storage) return invalid("stream configuration update can not change storage type");
  if (cfg.retention !== old.retention) return invalid("stream configuration update can not change retention policy");
  if (old.template_owner !== "") return invalid("stream configuration update not allowed on template owned stream");
  if (cfg.template_owner !== "") return invalid("stream configuration update can not be owned by a template");
  if (old.sealed && !cfg.sealed) return invalid("stream configuration update can not unseal a sealed stream");
  if (old.deny_delete && !cfg.deny_delete) return invalid("stream configuration update can not cancel deny message deletes");
  if (old.deny_purge && !cfg.deny_purge) return invalid("stream configuration update can not cancel deny purge");
  if (old.allow_msg_ttl && !cfg.allow_msg_ttl) return invalid("message TTL status can not be disabled");
  if (cfg.num_replicas !== old.num_replicas) return JsErr.streamReplicasNotUpdatable();
  if (JSON.stringify(old.mirror === null ? null : encodeSource(old.mirror)) !== JSON.stringify(cfg.mirror === null ? null : encodeSource(cfg.mirror))) return JsErr.streamMirrorNotUpdatable();
  return null;
}

/** Equal configurations (a create repeating an existing stream's config is not an error). */
export function sameStreamConfig(a: StreamConfig, b: StreamConfig): boolean {
  return JSON.stringify(encodeStreamConfig(a)) === JSON.stringify(encodeStreamConfig(b));
}

/**
 * The config as the reference marshals it: its field order, `omitempty` fields left out
 * when empty. Fields the 2.9 reference does not know are written only when set, so that
 * configurations it understands come back byte-identical.
 */
export function encodeStreamConfig(c: StreamConfig): Record<string, unknown> {
  const o: Record<string, unknown> = { name: c.name };
  if (c.description !== "") o.description = c.description;
  if (c.subjects.length > 0) o.subjects = c.subjects;
  o.retention = c.retention;
  o.max_consumers = c.max_consumers;
  o.max_msgs = c.max_msgs;
  o.max_bytes = c.max_bytes;
  o.max_age = c.max_age;
  o.max_msgs_per_subject = c.max_msgs_per_subject;
  o.max_msg_size = c.max_msg_size;
  o.discard = c.discard;
  o.storage = c.storage;
  o.num_replicas = c.num_replicas;
  if (c.no_ack) o.no_ack = true;
  if (c.template_owner !== "") o.template_owner = c.template_owner;
  if (c.duplicate_window !== 0) o.duplicate_window = c.duplicate_window;
  if (c.placement !== null) {
    const p: Record<string, unknown> = {};
    if (c.placement.cluster !== "") p.cluster = c.placement.cluster;
    if (c.placement.tags.length > 0) p.tags = c.placement.tags;
    o.placement = p;
  }
  if (c.mirror !== null) o.mirror = encodeSource(c.mirror);
  if (c.sources !== null) o.sources = c.sources.map(encodeSource);
  if (c.compression !== "none") o.compression = c.compression;
  if (c.first_seq !== 0) o.first_seq = c.first_seq;
  if (c.subject_transform !== null) o.subject_transform = c.subject_transform;
  if (c.republish !== null) {
    const r: Record<string, unknown> = {};
    if (c.republish.src !== "") r.src = c.republish.src;
    r.dest = c.republish.dest;
    if (c.republish.headers_only) r.headers_only = true;
    o.republish = r;
  }
  o.allow_direct = c.allow_direct;
  o.mirror_direct = c.mirror_direct;
  if (c.discard_new_per_subject) o.discard_new_per_subject = true;
  o.sealed = c.sealed;
  o.deny_delete = c.deny_delete;
  o.deny_purge = c.deny_purge;
  o.allow_rollup_hdrs = c.allow_rollup_hdrs;
  if (c.consumer_limits.inactive_threshold !== 0 || c.consumer_limits.max_ack_pending !== 0) {
    const l: Record<string, unknown> = {};
    if (c.consumer_limits.inactive_threshold !== 0) l.inactive_threshold = c.consumer_limits.inactive_threshold;
    if (c.consumer_limits.max_ack_pending !== 0) l.max_ack_pending = c.consumer_limits.max_ack_pending;
    o.consumer_limits = l;
  }
  if (c.allow_msg_ttl) o.allow_msg_ttl = true;
  if (c.subject_delete_marker_ttl !== 0) o.subject_delete_marker_ttl = c.subject_delete_marker_ttl;
  if (c.metadata !== null && Object.keys(c.metadata).length > 0) o.metadata = c.metadata;
  return o;
}
