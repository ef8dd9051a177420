// The store with real SQLite files: a single member and in-process clusters (real cores, a
// loopback network): writes, linearizable and local reads, watches, restart recovery,
// membership changes, and catch-up of a far-behind member by snapshot.
import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import type { WatchEvent } from '../../src/store/kv/types.ts';
import type { Cluster } from './store-helpers.ts';
import { inProcessCluster, quietLogger, until } from './store-helpers.ts';
import { startCompactor } from '../../src/store/compactor.ts';
import { prefixReq, putReq, rangeReq } from './kv-helpers.ts';

let cluster: Cluster;
afterEach(() => cluster?.close());

const value = (r: { response: { kvs: Array<{ value: Buffer }> } }) => r.response.kvs[0]?.value.toString();

describe('one member', () => {
  it('elects itself, writes and reads, and keeps everything across a restart', async () => {
    cluster = inProcessCluster();
    const a = cluster.add('a', true);
    await until('leader', () => a.driver.isLeader);
    for (let i = 0; i < 50; i++) {
      const { result } = await a.service.write({ op: 'put', put: putReq(`k${i}`, `v${i}`) });
      assert.equal(result.op, 'put');
    }
    assert.equal(value(await a.service.range(rangeReq('k7'))), 'v7');
    const before = a.replica.kv.revision();
    const b = cluster.restart('a');
    await until('leader again', () => b.driver.isLeader);
    assert.equal(b.replica.kv.revision(), before);
    assert.equal((await b.service.range(prefixReq('k', { countOnly: true }))).response.count, 50);
  });

  it('compacts history on its own, keeping the last revisions', async () => {
    cluster = inProcessCluster();
    const a = cluster.add('a', true);
    await until('leader', () => a.driver.isLeader);
    const compactor = startCompactor({ store: a, retainRevisions: 100, checkEveryMillis: 20, logger: quietLogger });
    try {
      for (let i = 0; i < 300; i++) await a.service.write({ op: 'put', put: putReq(`c/${i % 10}`, `v${i}`) });
      const kept = () => a.replica.kv.revision() - a.replica.kv.compactRevision();
      // Once writes stop, history settles at 100 to 110 revisions (it compacts past 110).
      await until('history settled', () => a.replica.kv.compactRevision() > 0 && kept() <= 110);
      assert.ok(kept() >= 100, `kept ${kept()} revisions`);
      assert.equal((await a.service.range(prefixReq('c/', { countOnly: true }))).response.count, 10);
    } finally {
      compactor.stop();
    }
  });

  it('streams watch events from a past revision, then live ones, in order', async () => {
    cluster = inProcessCluster();
    const a = cluster.add('a', true);
    await until('leader', () => a.driver.isLeader);
    await a.service.write({ op: 'put', put: putReq('w/1', 'x') });
    const start = a.replica.kv.revision();
    await a.service.write({ op: 'put', put: putReq('w/2', 'y') });
    const seen: WatchEvent[] = [];
    a.service.watch({ ...prefixReq('w/'), startRevision: start, prevKv: false, noPut: false, noDelete: false, progressNotify: false }, { events: (_h, ev) => seen.push(...ev), canceled: () => undefined });
    await a.service.write({ op: 'deleteRange', deleteRange: { key: Buffer.from('w/1'), rangeEnd: Buffer.alloc(0), prevKv: false } });
    await until('3 events', () => seen.length === 3);
    assert.deepEqual(seen.map((e) => `${e.type} ${e.kv.key}`), ['PUT w/1', 'PUT w/2', 'DELETE w/1']);
  });
});

describe('three members', () => {
  async function three(): Promise<void> {
    cluster = inProcessCluster();
    const a = cluster.add('a', true);
    await until('a leads', () => a.driver.isLeader);
    for (const name of ['b', 'c']) {
      cluster.add(name, false);
      await a.driver.proposeConfChange({ type: 'addLearner', node: name, context: JSON.stringify({ name, peerURL: `mem://${name}`, apiURL: '' }) });
      await until(`${name} caught up`, () => cluster.stores.get(name)!.replica.applied >= a.replica.applied);
      await a.driver.proposeConfChange({ type: 'promote', node: name, context: '' });
    }
    await until('3 voters everywhere', () => [...cluster.stores.values()].every((s) => s.replica.members().filter((m) => m.role === 'voter').length === 3));
  }

  it('replicates; any member takes writes (forwarded) and serves reads', async () => {
    await three();
    await cluster.stores.get('b')!.service.write({ op: 'put', put: putReq('from-b', '1') });
    await cluster.stores.get('c')!.service.write({ op: 'put', put: putReq('from-c', '2') });
    // A linearizable read on a follower sees both at once.
    assert.equal(value(await cluster.stores.get('b')!.service.range(rangeReq('from-c'))), '2');
    await until('local replicas converge', () => [...cluster.stores.values()].every((s) => s.replica.kv.range(rangeReq('from-b')).count === 1));
    assert.deepEqual(cluster.stores.get('a')!.replica.members().map((m) => `${m.name}:${m.role}`), ['a:voter', 'b:voter', 'c:voter']);
  });

  it('without a quorum a write fails with Unavailable in bounded time, and a local read still works', async () => {
    await three();
    await cluster.stores.get('a')!.service.write({ op: 'put', put: putReq('k', 'v') });
    await until('c has it', () => cluster.stores.get('c')!.replica.kv.range(rangeReq('k')).count === 1);
    cluster.cut.add('a');
    cluster.cut.add('b');
    const c = cluster.stores.get('c')!;
    const started = Date.now();
    await assert.rejects(c.service.write({ op: 'put', put: putReq('k', 'w') }), (e: Error & { grpcCode?: number }) => e.grpcCode === 14);
    assert.ok(Date.now() - started < 3000);
    assert.equal(value(await c.service.range(rangeReq('k', { serializable: true }))), 'v');
  });

  it('a member that missed many writes catches up by snapshot', async () => {
    await three();
    cluster.stop('c');
    const a = cluster.stores.get('a')!;
    const writes = [];
    for (let i = 0; i < 1000; i++) writes.push(a.service.write({ op: 'put', put: putReq(`bulk/${i}`, `v${i}`) }));
    await Promise.all(writes);
    assert.ok(a.replica.log.firstIndex() > 100, 'the leader compacted its log');
    const c = cluster.restart('c');
    await until('c caught up', () => c.replica.kv.revision() === a.replica.kv.revision(), 10_000);
    assert.equal(c.replica.kv.range(prefixReq('bulk/', { countOnly: true })).count, 1000);
    assert.ok(c.replica.log.firstIndex() > 100, 'c started from a snapshot, not from the first entry');
    // and keeps replicating afterwards
    await a.service.write({ op: 'put', put: putReq('after', 'x') });
    await until('c sees later writes', () => c.replica.kv.range(rangeReq('after')).count === 1);
  });

  it('removes a member; the leader can remove itself and another takes over', async () => {
    await three();
    const a = cluster.stores.get('a')!;
    await a.driver.proposeConfChange({ type: 'remove', node: 'a', context: '' });
    await until('a new leader among b, c', () => ['b', 'c'].some((n) => cluster.stores.get(n)!.driver.isLeader));
    const b = cluster.stores.get('b')!;
    await until('b sees 2 members', () => b.replica.members().length === 2);
    await b.service.write({ op: 'put', put: putReq('after-removal', '1') });
  });
});
