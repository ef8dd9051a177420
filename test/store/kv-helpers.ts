// Request builders with etcd's defaults, for tests of the KV state machine and service.
import type { Compare, DeleteRangeRequest, PutRequest, RangeRequest, TxnRequest } from '../../src/store/kv/types.ts';
import { rangeOf } from '../../src/store/kv/types.ts';

export const b = (s: string) => Buffer.from(s);

export function rangeReq(key: string, over: Partial<RangeRequest> = {}): RangeRequest {
  return rangeOf({ key: b(key), ...over });
}

export function prefixReq(prefix: string, over: Partial<RangeRequest> = {}): RangeRequest {
  const end = Buffer.from(prefix);
  end[end.length - 1]!++;
  return rangeReq(prefix, { rangeEnd: end, ...over });
}

export function putReq(key: string, value: string, over: Partial<PutRequest> = {}): PutRequest {
  return { key: b(key), value: b(value), prevKv: false, ignoreValue: false, ...over };
}

export function delReq(key: string, over: Partial<DeleteRangeRequest> = {}): DeleteRangeRequest {
  return { key: b(key), rangeEnd: Buffer.alloc(0), prevKv: false, ...over };
}

export function cmp(key: string, target: Compare['target'], result: Compare['result'], operand: number | string): Compare {
  return {
    key: b(key),
    rangeEnd: Buffer.alloc(0),
    target,
    result,
    version: target === 'VERSION' ? Number(operand) : 0,
    createRevision: target === 'CREATE' ? Number(operand) : 0,
    modRevision: target === 'MOD' ? Number(operand) : 0,
    value: target === 'VALUE' ? b(String(operand)) : Buffer.alloc(0),
  };
}

export function txnReq(over: Partial<TxnRequest>): TxnRequest {
  return { compare: [], success: [], failure: [], ...over };
}
