// What the KV API needs from the store: reads, writes through Raft, and watches. The HTTP layer
// (src/api/kv) depends only on this interface, so it is tested with a fake.
import type { RangeRequest, RangeResponse, WatchEvent, WatchRequest, WriteOp, WriteResult } from './types.ts';

export interface ResponseHeader {
  /** 64-bit ids, as decimal strings. */
  clusterId: string;
  memberId: string;
  revision: number;
  raftTerm: number;
}

export interface WatchSink {
  /** Events of one revision or more, in revision order, each exactly once. */
  events(header: ResponseHeader, events: WatchEvent[]): void;
  /** The watch cannot continue (e.g. the client fell too far behind and history was compacted). */
  canceled(header: ResponseHeader, reason: string, compactRevision: number): void;
}

export interface WatchHandle {
  /** The revision the watch starts after (events follow from startRevision or now). */
  readonly header: ResponseHeader;
  cancel(): void;
}

export interface KvService {
  /** Throws KvError (bad revision, compacted, no quorum for a linearizable read). */
  range(req: RangeRequest): Promise<{ header: ResponseHeader; response: RangeResponse }>;
  /** Throws KvError; a WriteResult of op 'error' is a refusal decided by the state machine. */
  write(op: WriteOp): Promise<{ header: ResponseHeader; result: WriteResult }>;
  /** Throws KvError when startRevision was compacted or is invalid. */
  watch(req: WatchRequest, sink: WatchSink): WatchHandle;
}
