// One table of the client-visible protocol errors: id → the exact `-ERR` text the reference
// sends, and whether the connection is closed after it (server/client.go, server/errors.go).
// Texts are the reference's, including its capitalisation ("maximum control line exceeded").

export const ProtoError = {
  unknownOp: { text: "Unknown Protocol Operation", closes: true },
  authViolation: { text: "Authorization Violation", closes: true },
  authTimeout: { text: "Authentication Timeout", closes: true },
  maxPayload: { text: "Maximum Payload Violation", closes: true },
  maxControlLine: { text: "maximum control line exceeded", closes: true },
  maxConnections: { text: "maximum connections exceeded", closes: true },
  maxAccountConnections: { text: "maximum account active connections exceeded", closes: true },
  accountRegistration: { text: "Failed Account Registration", closes: true },
  userExpired: { text: "User Authentication Expired", closes: true },
  accountExpired: { text: "Account Authentication Expired", closes: true },
  userRevoked: { text: "User Authentication Revoked", closes: true },
  staleConnection: { text: "Stale Connection", closes: true },
  badProtocol: { text: "invalid client protocol", closes: true },
  noRespondersNeedHeaders: { text: "no responders requires headers support", closes: true },
  tlsRequired: { text: "Secure Connection - TLS Required", closes: true },
  maxSubscriptions: { text: "maximum subscriptions exceeded", closes: false },
  invalidSubject: { text: "Invalid Subject", closes: false },
  invalidPublishSubject: { text: "Invalid Publish Subject", closes: false },
} as const;

export type ProtoErrorId = keyof typeof ProtoError;

/** `Permissions Violation for Publish to "<subject>"` (does not close). */
export function pubPermissionViolation(subject: string): string {
  return `Permissions Violation for Publish to "${subject}"`;
}

/** `Permissions Violation for Subscription to "<subject>"` [` using queue "<queue>"`]. */
export function subPermissionViolation(subject: string, queue?: string): string {
  return queue ? `Permissions Violation for Subscription to "${subject}" using queue "${queue}"` : `Permissions Violation for Subscription to "${subject}"`;
}

/** A subscription removed because a configuration reload no longer allows it (with its sid). */
export function subPermissionRevoked(subject: string, sid: string): string {
  return `Permissions Violation for Subscription to ${JSON.stringify(subject)} (sid ${JSON.stringify(sid)})`;
}

/**
 * Why a connection was closed: the reference's ClosedState strings (server/client.go), shown
 * in logs and, later, in /connz.
 */
export const ClosedReason = {
  clientClosed: "Client Closed",
  authTimeout: "Authentication Timeout",
  authViolation: "Authentication Failure",
  tlsHandshakeError: "TLS Handshake Failure",
  slowConsumerPendingBytes: "Slow Consumer (Pending Bytes)",
  slowConsumerWriteDeadline: "Slow Consumer (Write Deadline)",
  writeError: "Write Error",
  readError: "Read Error",
  parseError: "Parse Error",
  staleConnection: "Stale Connection",
  protocolViolation: "Protocol Violation",
  badClientProtocolVersion: "Bad Client Protocol Version",
  maxPayloadExceeded: "Maximum Message Payload Exceeded",
  maxControlLineExceeded: "Maximum Control Line Exceeded",
  maxConnectionsExceeded: "Maximum Connections Exceeded",
  maxAccountConnectionsExceeded: "Maximum Account Connections Exceeded",
  authenticationExpired: "Authentication Expired",
  authenticationRevoked: "Authentication Revoked",
  maxSubscriptionsExceeded: "Maximum Subscriptions Exceeded",
  serverShutdown: "Server Shutdown",
  noRespondersRequiresHeaders: "No Responders Requires Headers",
} as const;

export type ClosedReasonText = (typeof ClosedReason)[keyof typeof ClosedReason];
