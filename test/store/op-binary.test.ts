// The binary payload of replicated writes round-trips every field, and refuses garbage.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decodeWriteOpBinary, encodeWriteOpBinary } from '../../src/store/kv/op-binary.ts';
import type { WriteOp } from '../../src/store/kv/types.ts';
import { cmp, delReq, prefixReq, putReq, rangeReq, txnReq } from './kv-helpers.ts';

const ops: WriteOp[] = [
  { op: 'put', put: putReq('k', 'v', { prevKv: true }) },
  { op: 'put', put: putReq('k', '', { ignoreValue: true }) },
  { op: 'deleteRange', deleteRange: delReq('a', { rangeEnd: Buffer.from([0]), prevKv: true }) },
  { op: 'compact', compact: { revision: 2 ** 40 } },
  {
    op: 'txn',
    txn: txnReq({
      compare: [cmp('k', 'VALUE', 'NOT_EQUAL', 'x'), cmp('k', 'MOD', 'LESS', 9_000_000_000)],
      success: [{ put: putReq('k', 'y') }, { range: prefixReq('p', { limit: 5, sortOrder: 'DESCEND', sortTarget: 'MOD', keysOnly: true, minModRevision: 3 }) }],
      failure: [{ txn: txnReq({ success: [{ deleteRange: delReq('z') }, { range: rangeReq('q', { countOnly: true, serializable: true }) }] }) }],
    }),
  },
];

describe('write payloads', () => {
  for (const op of ops) {
    it(`round-trips ${op.op}`, () => {
      assert.deepEqual(decodeWriteOpBinary(encodeWriteOpBinary(op)), op);
    });
  }

  it('refuses truncated, trailing, unknown-version and unknown-op payloads', () => {
    const good = encodeWriteOpBinary(ops[0]!);
    assert.throws(() => decodeWriteOpBinary(good.subarray(0, good.length - 3)), /truncated/);
    assert.throws(() => decodeWriteOpBinary(Buffer.concat([good, Buffer.from([1])])), /trailing/);
    assert.throws(() => decodeWriteOpBinary(Buffer.from([9, 1])), /version 9/);
    assert.throws(() => decodeWriteOpBinary(Buffer.from([1, 77])), /unknown op code 77/);
  });
});
