// Control-plane helpers shared by the JetStream scenarios: find or create the stream, purge
// it on request, (re)create the durable consumer. These may allocate and await freely.
import { AckPolicy, DeliverPolicy, jetstreamManager, JetStreamApiCodes, JetStreamApiError, StorageType, type JetStreamManager, type StreamInfo } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import type { AckPolicyName, BenchRun } from "../options.ts";

export async function manager(connection: NatsConnection): Promise<JetStreamManager> {
  try {
    return await jetstreamManager(connection);
  } catch (error) {
    throw new Error(`JetStream is not available on this server (${(error as Error).message})`);
  }
}

export function isNotFound(error: unknown, code: number): boolean {
  return error instanceof JetStreamApiError && error.code === code;
}

/**
 * The stream a publishing run writes to: created when missing (subjects `<subject>` or, with
 * --multisubject, `<subject>.>`; direct gets allowed so `js get` works), purged with --purge.
 */
export async function ensureStream(jsm: JetStreamManager, run: BenchRun, notes: string[]): Promise<StreamInfo> {
  try {
    const info = await jsm.streams.info(run.stream);
    if (run.purge) {
      await jsm.streams.purge(run.stream);
      notes.push(`Purged stream "${run.stream}"`);
    }
    return info;
  } catch (error) {
    if (!isNotFound(error, JetStreamApiCodes.StreamNotFound)) throw error;
  }
  const info = await jsm.streams.add({
    name: run.stream,
    subjects: [run.multisubject ? `${run.subject}.>` : run.subject],
    storage: run.storage === "memory" ? StorageType.Memory : StorageType.File,
    num_replicas: run.replicas,
    max_bytes: run.maxBytes,
    allow_direct: true,
  });
  notes.push(`Created stream "${run.stream}" (${run.storage}, replicas=${run.replicas}) for "${info.config.subjects?.join(", ")}"`);
  return info;
}

/** A reading run needs an existing stream with messages in it. */
export async function existingStream(jsm: JetStreamManager, run: BenchRun): Promise<StreamInfo> {
  try {
    return await jsm.streams.info(run.stream);
  } catch (error) {
    if (isNotFound(error, JetStreamApiCodes.StreamNotFound)) {
      throw new Error(`stream "${run.stream}" does not exist: publish to it first (nats-bun bench js pub …)`);
    }
    throw error;
  }
}

export const ackPolicies: Record<AckPolicyName, AckPolicy> = {
  explicit: AckPolicy.Explicit,
  none: AckPolicy.None,
  all: AckPolicy.All,
};

/** Recreates the durable so every run reads the stream from its first message. */
export async function recreateDurable(jsm: JetStreamManager, run: BenchRun): Promise<void> {
  try {
    await jsm.consumers.delete(run.stream, run.consumer);
  } catch (error) {
    if (!isNotFound(error, JetStreamApiCodes.ConsumerNotFound)) throw error;
  }
  await jsm.consumers.add(run.stream, {
    durable_name: run.consumer,
    ack_policy: ackPolicies[run.acks],
    deliver_policy: DeliverPolicy.All,
    max_ack_pending: Math.max(run.batch * run.clients * 2, 1000),
  });
}

export async function deleteDurable(jsm: JetStreamManager, run: BenchRun): Promise<void> {
  try {
    await jsm.consumers.delete(run.stream, run.consumer);
  } catch {
    // Best effort: the run's numbers are already taken.
  }
}
