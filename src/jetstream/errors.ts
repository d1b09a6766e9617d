// JetStream API errors: `{code, err_code, description}` exactly as the reference's
// errors.json (code is HTTP-like, err_code the stable JetStream code). Descriptions with
// `{…}` placeholders are filled by the helpers below.

export interface ApiError {
  code: number;
  err_code: number;
  description: string;
}

function e(code: number, errCode: number, description: string): ApiError {
  return { code, err_code: errCode, description };
}

export const JsErr = {
  accountResourcesExceeded: () => e(400, 10002, "resource limits exceeded for account"),
  badRequest: () => e(400, 10003, "bad request"),
  insufficientResources: () => e(503, 10023, "insufficient resources"),
  invalidJson: () => e(400, 10025, "invalid JSON"),
  maximumConsumersLimit: () => e(400, 10026, "maximum consumers limit reached"),
  maximumStreamsLimit: () => e(400, 10027, "maximum number of streams reached"),
  memoryResourcesExceeded: () => e(500, 10028, "insufficient memory resources available"),
  noMessageFound: () => e(404, 10037, "no message found"),
  notEmptyRequest: () => e(400, 10038, "expected an empty request payload"),
  notEnabledForAccount: () => e(503, 10039, "JetStream not enabled for account"),
  sequenceNotFound: (seq: number) => e(400, 10043, `sequence ${seq} not found`),
  storageResourcesExceeded: () => e(500, 10047, "insufficient storage resources available"),
  streamCreate: (err: string) => e(500, 10049, err),
  streamDelete: (err: string) => e(500, 10050, err),
  streamGeneral: (err: string) => e(500, 10051, err),
  streamInvalidConfig: (err: string) => e(500, 10052, err),
  streamLimits: (err: string) => e(500, 10053, err),
  messageExceedsMaximum: () => e(400, 10054, "message size exceeds maximum allowed"),
  streamMirrorNotUpdatable: () => e(400, 10055, "stream mirror configuration can not be updated"),
  streamMismatch: () => e(400, 10056, "stream name in subject does not match request"),
  streamMsgDeleteFailed: (err: string) => e(500, 10057, err),
  streamNameExist: () => e(400, 10058, "stream name already in use with a different configuration"),
  streamNotFound: () => e(404, 10059, "stream not found"),
  streamNotMatch: () => e(400, 10060, "expected stream does not match"),
  streamReplicasNotUpdatable: () => e(400, 10061, "Replicas configuration can not be updated"),
  streamSubjectOverlap: () => e(400, 10065, "subjects overlap with an existing stream"),
  streamUpdate: (err: string) => e(500, 10069, err),
  streamWrongLastMsgId: (id: string) => e(400, 10070, `wrong last msg ID: ${id}`),
  streamWrongLastSequence: (seq: number) => e(400, 10071, `wrong last sequence: ${seq}`),
  streamReplicasNotSupported: () => e(500, 10074, "replicas > 1 not supported in non-clustered mode"),
  notEnabled: () => e(503, 10076, "JetStream not enabled"),
  streamStoreFailed: (err: string) => e(503, 10077, err),
  streamHeaderExceedsMaximum: () => e(400, 10097, "header size exceeds maximum allowed of 64k"),
  streamSealed: () => e(400, 10109, "invalid operation on sealed stream"),
  streamPurgeFailed: (err: string) => e(500, 10110, err),
  streamRollupFailed: (err: string) => e(500, 10111, err),
  streamMaxBytesRequired: () => e(400, 10113, "account requires a stream config to have max bytes set"),
  streamInfoMaxSubjects: () => e(500, 10117, "subject details would exceed maximum allowed"),
  streamMaxStreamBytesExceeded: () => e(400, 10122, "stream max bytes exceeds account limit max stream bytes"),
  streamNameContainsPathSeparators: () => e(400, 10128, "Stream name can not contain path separators"),
  replicasCountCannotBeNegative: () => e(400, 10133, "replicas count cannot be negative"),
  streamTransformInvalidSource: (err: string) => e(400, 10155, `stream transform source: ${err}`),
  streamTransformInvalidDestination: (err: string) => e(400, 10156, `stream transform: ${err}`),
  messageTtlInvalid: () => e(400, 10165, "invalid per-message TTL"),
  messageTtlDisabled: () => e(400, 10166, "per-message TTL is disabled"),
  requiredApiLevel: () => e(412, 10185, "JetStream minimum api level required"),
} as const;
