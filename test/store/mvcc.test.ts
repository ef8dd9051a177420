// The KV state machine on a real SQLite file: revisions, versions, ranges, past reads,
// transactions with compares, events in revision order, compaction.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { KvStateMachine } from '../../src/store/kv/mvcc.ts';
import type { WatchEvent, WriteOp, WriteResult } from '../../src/store/kv/types.ts';
import { KvError } from '../../src/store/kv/types.ts';
import type { Db } from '../../src/store/sqlite/database.ts';
import { Meta, openDatabase } from '../../src/store/sqlite/database.ts';
import { cmp, delReq, prefixReq, putReq, rangeReq, txnReq } from './kv-helpers.ts';

let dir = '';
let db: Db;
let kv: KvStateMachine;
let events: WatchEvent[];

function write(op: WriteOp): WriteResult {
  return db.transaction(() => {
    const r = kv.apply(op, events);
    kv.flush();
    return r;
  })();
}
const put = (k: string, v: string, over = {}) => write({ op: 'put', put: putReq(k, v, over) });
const keys = (r: { kvs: Array<{ key: Buffer }> }) => r.kvs.map((x) => x.key.toString());

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'bramble-mvcc-'));
  db = openDatabase(join(dir, 'store.db'), { cacheBytes: 1 << 20, walAutocheckpointPages: 1000 });
  kv = new KvStateMachine(db, new Meta(db), { prevKvWanted: () => true });
  events = [];
});
afterEach(() => {
  db.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('revisions and versions', () => {
  it('starts at revision 1; each put makes a revision; versions count per key', () => {
    assert.equal(kv.revision(), 1);
    assert.deepEqual(put('a', '1'), { op: 'put', revision: 2, put: { prevKv: null } });
    put('b', '1');
    const r = put('a', '2', { prevKv: true });
    assert.equal(r.revision, 4);
    assert.ok(r.op === 'put' && r.put.prevKv?.value.toString() === '1');
    const a = kv.range(rangeReq('a')).kvs[0]!;
    assert.deepEqual([a.createRevision, a.modRevision, a.version, a.value.toString()], [2, 4, 2, '2']);
  });

  it('a delete that finds nothing makes no revision; a delete and re-create restarts the version', () => {
    put('a', '1');
    const none = write({ op: 'deleteRange', deleteRange: delReq('zzz') });
    assert.ok(none.op === 'deleteRange' && none.deleteRange.deleted === 0);
    assert.equal(kv.revision(), 2);
    write({ op: 'deleteRange', deleteRange: delReq('a') });
    put('a', 'again');
    const a = kv.range(rangeReq('a')).kvs[0]!;
    assert.deepEqual([a.createRevision, a.version], [4, 1]);
  });

  it('survives a reopen: revision, compaction point and data are durable', () => {
    put('a', '1');
    put('a', '2');
    write({ op: 'compact', compact: { revision: 3 } });
    db.close();
    db = openDatabase(join(dir, 'store.db'), { cacheBytes: 1 << 20, walAutocheckpointPages: 1000 });
    kv = new KvStateMachine(db, new Meta(db), { prevKvWanted: () => true });
    assert.equal(kv.revision(), 3);
    assert.equal(kv.compactRevision(), 3);
    assert.equal(kv.range(rangeReq('a')).kvs[0]!.value.toString(), '2');
  });
});

describe('ranges', () => {
  beforeEach(() => {
    for (const k of ['a', 'b1', 'b2', 'b3', 'c']) put(k, `v-${k}`);
  });

  it('reads one key, a prefix, everything from a key, with limit, count and more', () => {
    assert.deepEqual(keys(kv.range(rangeReq('b2'))), ['b2']);
    assert.deepEqual(keys(kv.range(prefixReq('b'))), ['b1', 'b2', 'b3']);
    assert.deepEqual(keys(kv.range(rangeReq('b3', { rangeEnd: Buffer.from([0]) }))), ['b3', 'c']);
    const limited = kv.range(prefixReq('b', { limit: 2 }));
    assert.deepEqual([keys(limited), limited.more, limited.count], [['b1', 'b2'], true, 3]);
    assert.deepEqual(kv.range(prefixReq('b', { countOnly: true })), { kvs: [], more: false, count: 3 });
    assert.equal(kv.range(rangeReq('nope')).count, 0);
  });

  it('sorts by any target and order, and keys-only leaves values out', () => {
    put('b1', 'z'); // b1 now has the highest mod revision
    assert.deepEqual(keys(kv.range(prefixReq('b', { sortTarget: 'MOD', sortOrder: 'DESCEND' }))), ['b1', 'b3', 'b2']);
    assert.deepEqual(keys(kv.range(prefixReq('b', { sortOrder: 'DESCEND' }))), ['b3', 'b2', 'b1']);
    assert.ok(kv.range(prefixReq('b', { keysOnly: true })).kvs.every((x) => x.value.length === 0));
  });

  it('reads the past at a revision, until it is compacted; the future is refused', () => {
    put('b1', 'new'); // revision 7
    write({ op: 'deleteRange', deleteRange: delReq('c') }); // revision 8
    assert.equal(kv.range(rangeReq('b1', { revision: 6 })).kvs[0]!.value.toString(), 'v-b1');
    assert.equal(kv.range(rangeReq('c', { revision: 7 })).count, 1);
    assert.equal(kv.range(rangeReq('c', { revision: 8 })).count, 0);
    assert.throws(() => kv.range(rangeReq('a', { revision: 99 })), /future revision/);
    write({ op: 'compact', compact: { revision: 7 } });
    assert.throws(() => kv.range(rangeReq('a', { revision: 6 })), (e: unknown) => e instanceof KvError && e.grpcCode === 11 && /compacted/.test(e.message));
    // At the compaction revision every key still reads as it was.
    assert.deepEqual(keys(kv.range(rangeReq('a', { revision: 7, rangeEnd: Buffer.from([0]) }))), ['a', 'b1', 'b2', 'b3', 'c']);
    assert.equal(kv.range(rangeReq('b1', { revision: 7 })).kvs[0]!.value.toString(), 'new');
  });
});

describe('transactions', () => {
  it('compare-and-swap on value, version, create and mod revision', () => {
    put('k', 'v1'); // rev 2
    const cas = (c: ReturnType<typeof cmp>) =>
      write({ op: 'txn', txn: txnReq({ compare: [c], success: [{ put: putReq('k', 'swapped') }], failure: [{ range: rangeReq('k') }] }) });
    const failed = cas(cmp('k', 'VALUE', 'EQUAL', 'nope'));
    assert.ok(failed.op === 'txn' && !failed.txn.succeeded);
    assert.equal(failed.revision, 2, 'a txn without writes makes no revision');
    assert.ok(failed.op === 'txn' && 'range' in failed.txn.responses[0]!);
    for (const c of [cmp('k', 'VALUE', 'EQUAL', 'v1'), cmp('k', 'VERSION', 'EQUAL', 2), cmp('k', 'CREATE', 'EQUAL', 2), cmp('k', 'MOD', 'GREATER', 3), cmp('k', 'MOD', 'LESS', 7)]) {
      const r = cas(c);
      assert.ok(r.op === 'txn' && r.txn.succeeded, `${c.target} ${c.result}`);
    }
    assert.equal(kv.range(rangeReq('k')).kvs[0]!.version, 6);
  });

  it('compares a missing key against zero, and never its value', () => {
    const absent = (c: ReturnType<typeof cmp>) => {
      const r = write({ op: 'txn', txn: txnReq({ compare: [c] }) });
      return r.op === 'txn' && r.txn.succeeded;
    };
    assert.equal(absent(cmp('missing', 'VERSION', 'EQUAL', 0)), true);
    assert.equal(absent(cmp('missing', 'CREATE', 'EQUAL', 0)), true);
    assert.equal(absent(cmp('missing', 'VALUE', 'EQUAL', '')), false);
    assert.equal(absent(cmp('missing', 'VALUE', 'NOT_EQUAL', 'x')), false);
  });

  it('all writes of a txn share one revision, and later reads in it see earlier writes', () => {
    const r = write({
      op: 'txn',
      txn: txnReq({ success: [{ put: putReq('x', '1') }, { put: putReq('y', '2') }, { range: prefixReq('', { rangeEnd: Buffer.from([0]), key: Buffer.from([0]) }) }] }),
    });
    assert.equal(r.revision, 2);
    assert.ok(r.op === 'txn');
    const seen = r.txn.responses[2]!;
    assert.ok('range' in seen && seen.range.count === 2);
    assert.deepEqual(kv.range(rangeReq('x')).kvs[0]!.modRevision, kv.range(rangeReq('y')).kvs[0]!.modRevision);
  });

  it('the in-memory index is rebuilt from disk on reopen, history included', () => {
    put('a', '1'); // 2
    put('a', '2'); // 3
    write({ op: 'deleteRange', deleteRange: delReq('a') }); // 4
    put('b', 'x'); // 5
    db.close();
    db = openDatabase(join(dir, 'store.db'), { cacheBytes: 1 << 20, walAutocheckpointPages: 1000 });
    kv = new KvStateMachine(db, new Meta(db), { prevKvWanted: () => true });
    assert.equal(kv.range(rangeReq('a')).count, 0);
    assert.equal(kv.range(rangeReq('a', { revision: 3 })).kvs[0]!.value.toString(), '2');
    assert.equal(kv.range(rangeReq('a', { revision: 3 })).kvs[0]!.version, 2);
    put('a', 'new'); // a fresh life: version 1, created now
    const a = kv.range(rangeReq('a')).kvs[0]!;
    assert.deepEqual([a.createRevision, a.version], [6, 1]);
    assert.equal(kv.keyCount(), 2);
  });

  it('a clean shutdown leaves the index for the next start; it is used once, and ignored when it does not match', () => {
    const reopen = () => {
      db.close();
      db = openDatabase(join(dir, 'store.db'), { cacheBytes: 1 << 20, walAutocheckpointPages: 1000 });
      kv = new KvStateMachine(db, new Meta(db), { prevKvWanted: () => true });
    };
    const image = () => new Meta(db).get('kv_index_image');
    for (let i = 0; i < 50; i++) put(`k${i % 20}`, `v${i}`);
    write({ op: 'deleteRange', deleteRange: delReq('k3') });
    write({ op: 'compact', compact: { revision: 10 } });
    const snapshotOf = () => ({
      all: kv.range(prefixReq('k')).kvs.map((x) => [x.key.toString(), x.value.toString(), x.version, x.createRevision, x.modRevision]),
      past: kv.range(prefixReq('k', { revision: 30 })).kvs.map((x) => [x.key.toString(), x.value.toString()]),
      keys: kv.keyCount(),
      revision: kv.revision(),
    });
    const expected = snapshotOf();
    kv.saveIndexImage();
    reopen();
    assert.equal(image(), undefined, 'the image is deleted when it is read');
    assert.deepEqual(snapshotOf(), expected);
    put('k1', 'after');
    assert.equal(kv.range(rangeReq('k1')).kvs[0]!.version, 4);
    // An image that no longer matches the history (written, then the history changed) is ignored.
    kv.saveIndexImage();
    put('k2', 'later');
    const withLater = snapshotOf();
    reopen();
    assert.deepEqual(snapshotOf(), withLater);
    // A damaged image too.
    kv.saveIndexImage();
    const damaged = image() as Buffer;
    new Meta(db).set('kv_index_image', damaged.subarray(0, damaged.length - 3));
    reopen();
    assert.deepEqual(snapshotOf(), withLater);
  });

  it('a refusal half-way through a txn changes nothing', () => {
    put('a', '1');
    const r = write({ op: 'txn', txn: txnReq({ success: [{ put: putReq('b', '2') }, { put: putReq('missing', '', { ignoreValue: true }) }] }) });
    assert.equal(r.op, 'error');
    assert.equal(kv.revision(), 2);
    assert.equal(kv.range(rangeReq('b')).count, 0);
    assert.equal(events.length, 1, 'only the earlier put produced an event');
    // and the key the refused txn tried to create starts its life cleanly later
    put('b', 'real');
    const b = kv.range(rangeReq('b')).kvs[0]!;
    assert.deepEqual([b.createRevision, b.modRevision, b.version], [3, 3, 1]);
  });
});

describe('events and compaction', () => {
  it('emits each change once, in revision order, with previous values', () => {
    put('w1', 'a');
    put('w2', 'b');
    put('w1', 'c');
    write({ op: 'deleteRange', deleteRange: delReq('w', { rangeEnd: Buffer.from('x') }) });
    assert.deepEqual(
      events.map((e) => `${e.type} ${e.kv.key} ${e.kv.modRevision} ${e.prevKv?.value.toString() ?? '-'}`),
      ['PUT w1 2 -', 'PUT w2 3 -', 'PUT w1 4 a', 'DELETE w1 5 c', 'DELETE w2 5 b'],
    );
    const history = kv.eventsBetween(prefixReq('w'), 3, 5, true);
    assert.deepEqual(
      history.map((e) => `${e.type} ${e.kv.key} ${e.kv.modRevision} ${e.prevKv?.value.toString() ?? '-'}`),
      ['PUT w2 3 -', 'PUT w1 4 a', 'DELETE w1 5 c', 'DELETE w2 5 b'],
    );
  });

  it('compaction drops superseded history but keeps what reads at or after it need', () => {
    for (let i = 0; i < 10; i++) put('k', `v${i}`); // revisions 2..11
    put('gone', 'x'); // 12
    write({ op: 'deleteRange', deleteRange: delReq('gone') }); // 13
    put('k', 'last'); // 14
    assert.deepEqual(write({ op: 'compact', compact: { revision: 13 } }), { op: 'compact', revision: 14 });
    const rows = db.prepare('SELECT COUNT(*) FROM kv_history').pluck().get();
    assert.equal(rows, 3, 'k@11 (to read at 13), the deletion at 13 (to watch from 13) and k@14');
    assert.equal(kv.range(rangeReq('k', { revision: 13 })).kvs[0]!.value.toString(), 'v9');
    assert.equal(kv.range(rangeReq('gone', { revision: 13 })).count, 0);
    assert.throws(() => kv.eventsBetween(prefixReq('k'), 12, 14, false), /compacted/);
    const again = write({ op: 'compact', compact: { revision: 13 } });
    assert.ok(again.op === 'error' && /compacted/.test(again.error.message));
    const future = write({ op: 'compact', compact: { revision: 99 } });
    assert.ok(future.op === 'error' && /future/.test(future.error.message));
  });
});
