// The replicated key-value store's requests and responses, shaped after etcd v3's API so that
// the JSON gateway codec (src/api/kv) maps them one to one. Keys and values are bytes; numbers
// are revisions and counts (safe integers: 2^53 revisions is far beyond any gateway's life).

export interface KeyValue {
  key: Buffer;
  createRevision: number;
  modRevision: number;
  version: number;
  value: Buffer;
}

/** A single key, a range [key, rangeEnd), or everything >= key when rangeEnd is "\0". */
export interface KeyRange {
  key: Buffer;
  /** Empty: just `key`. A single zero byte: every key >= `key`. */
  rangeEnd: Buffer;
}

export type SortOrder = 'NONE' | 'ASCEND' | 'DESCEND';
export type SortTarget = 'KEY' | 'VERSION' | 'CREATE' | 'MOD' | 'VALUE';

export interface RangeRequest extends KeyRange {
  /** 0: no limit. */
  limit: number;
  /** <= 0: the current revision. */
  revision: number;
  sortOrder: SortOrder;
  sortTarget: SortTarget;
  /** Read this member's replica without a quorum round (may be stale). */
  serializable: boolean;
  keysOnly: boolean;
  countOnly: boolean;
  minModRevision: number;
  maxModRevision: number;
  minCreateRevision: number;
  maxCreateRevision: number;
}

/** A range request with etcd's defaults for everything not given (one key, current revision,
 *  linearizable, no limits). */
export function rangeOf(request: Partial<RangeRequest> & { key: Buffer }): RangeRequest {
  return {
    rangeEnd: Buffer.alloc(0),
    limit: 0,
    revision: 0,
    sortOrder: 'NONE',
    sortTarget: 'KEY',
    serializable: false,
    keysOnly: false,
    countOnly: false,
    minModRevision: 0,
    maxModRevision: 0,
    minCreateRevision: 0,
    maxCreateRevision: 0,
    ...request,
  };
}

export interface RangeResponse {
  kvs: KeyValue[];
  /** More keys matched than `limit` allowed. */
  more: boolean;
  count: number;
}

export interface PutRequest {
  key: Buffer;
  value: Buffer;
  prevKv: boolean;
  /** Keep the current value (the key must exist). */
  ignoreValue: boolean;
}

export interface PutResponse {
  prevKv: KeyValue | null;
}

export interface DeleteRangeRequest extends KeyRange {
  prevKv: boolean;
}

export interface DeleteRangeResponse {
  deleted: number;
  prevKvs: KeyValue[];
}

export type CompareTarget = 'VERSION' | 'CREATE' | 'MOD' | 'VALUE';
export type CompareResult = 'EQUAL' | 'GREATER' | 'LESS' | 'NOT_EQUAL';

export interface Compare extends KeyRange {
  target: CompareTarget;
  result: CompareResult;
  /** The operand, per target: a number for VERSION/CREATE/MOD, bytes for VALUE. */
  version: number;
  createRevision: number;
  modRevision: number;
  value: Buffer;
}

export type RequestOp =
  | { range: RangeRequest }
  | { put: PutRequest }
  | { deleteRange: DeleteRangeRequest }
  | { txn: TxnRequest };

export type ResponseOp =
  | { range: RangeResponse }
  | { put: PutResponse }
  | { deleteRange: DeleteRangeResponse }
  | { txn: TxnResponse };

export interface TxnRequest {
  compare: Compare[];
  success: RequestOp[];
  failure: RequestOp[];
}

export interface TxnResponse {
  succeeded: boolean;
  responses: ResponseOp[];
}

export interface CompactionRequest {
  revision: number;
}

/** What goes through Raft: every write, and compaction (applied identically everywhere). */
export type WriteOp =
  | { op: 'put'; put: PutRequest }
  | { op: 'deleteRange'; deleteRange: DeleteRangeRequest }
  | { op: 'txn'; txn: TxnRequest }
  | { op: 'compact'; compact: CompactionRequest };

export type WriteResult =
  | { op: 'put'; revision: number; put: PutResponse }
  | { op: 'deleteRange'; revision: number; deleteRange: DeleteRangeResponse }
  | { op: 'txn'; revision: number; txn: TxnResponse }
  | { op: 'compact'; revision: number }
  | { op: 'error'; revision: number; error: KvError };

export interface WatchRequest extends KeyRange {
  /** 0: from now on. */
  startRevision: number;
  prevKv: boolean;
  noPut: boolean;
  noDelete: boolean;
  progressNotify: boolean;
}

export interface WatchEvent {
  type: 'PUT' | 'DELETE';
  /** For DELETE: the key and the deleting revision (modRevision), as etcd reports it. */
  kv: KeyValue;
  prevKv: KeyValue | null;
}

/** gRPC status codes, as etcd's JSON gateway reports them. */
export const GrpcCode = {
  InvalidArgument: 3,
  DeadlineExceeded: 4,
  NotFound: 5,
  ResourceExhausted: 8,
  FailedPrecondition: 9,
  OutOfRange: 11,
  Unimplemented: 12,
  Unavailable: 14,
} as const;

/** An error answered to a KV client: `message` names what was wrong, `grpcCode` is etcd's. */
export class KvError extends Error {
  constructor(
    readonly grpcCode: number,
    message: string,
  ) {
    super(message);
    this.name = 'KvError';
  }
}

export const ErrCompacted = () => new KvError(GrpcCode.OutOfRange, 'etcdserver: mvcc: required revision has been compacted');
export const ErrFutureRevision = () => new KvError(GrpcCode.OutOfRange, 'etcdserver: mvcc: required revision is a future revision');
