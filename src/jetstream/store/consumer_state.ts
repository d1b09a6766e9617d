// Consumer state helpers shared by both stores: copying, and the JSON form the file store
// writes (maps as arrays of [key, ...values] so that the file stays small and ordered).

import type { ConsumerState } from "./store.ts";

export function cloneConsumerState(s: ConsumerState): ConsumerState {
  const pending = new Map<number, { consumerSeq: number; tsMs: number }>();
  for (const [seq, p] of s.pending) pending.set(seq, { consumerSeq: p.consumerSeq, tsMs: p.tsMs });
  return {
    delivered: { consumerSeq: s.delivered.consumerSeq, streamSeq: s.delivered.streamSeq },
    ackFloor: { consumerSeq: s.ackFloor.consumerSeq, streamSeq: s.ackFloor.streamSeq },
    pending,
    redelivered: new Map(s.redelivered),
  };
}

/** JSON shape on disk: {d:[cseq,sseq], a:[cseq,sseq], p:[[sseq,cseq,tsMs]...], r:[[sseq,count]...]}. */
export function encodeConsumerState(s: ConsumerState): string {
  const p: number[][] = [];
  for (const [seq, v] of s.pending) p.push([seq, v.consumerSeq, v.tsMs]);
  const r: number[][] = [];
  for (const [seq, n] of s.redelivered) r.push([seq, n]);
  return JSON.stringify({
    d: [s.delivered.consumerSeq, s.delivered.streamSeq],
    a: [s.ackFloor.consumerSeq, s.ackFloor.streamSeq],
    p,
    r,
  });
}

export function decodeConsumerState(text: string): ConsumerState {
  const o = JSON.parse(text) as { d: number[]; a: number[]; p: number[][]; r: number[][] };
  const pending = new Map<number, { consumerSeq: number; tsMs: number }>();
  for (const [seq, cseq, ts] of o.p) pending.set(seq, { consumerSeq: cseq, tsMs: ts });
  const redelivered = new Map<number, number>();
  for (const [seq, n] of o.r) redelivered.set(seq, n);
  return {
    delivered: { consumerSeq: o.d[0], streamSeq: o.d[1] },
    ackFloor: { consumerSeq: o.a[0], streamSeq: o.a[1] },
    pending,
    redelivered,
  };
}
