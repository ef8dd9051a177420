// The ReplicaSet controller over a real store: it converges on spec.replicas, adopts and
// releases, replaces failed pods, deletes the right pods when scaling down, never creates twice
// behind a slow watch (expectations), and acts only while this member leads.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { KObject } from '../../src/model/index.ts';
import type { Bench } from './harness.ts';
import { createNode, markReady, ownedBy, R, replicaSet, sleep, startBench, until } from './harness.ts';

async function podsOf(b: Bench, rs: KObject): Promise<KObject[]> {
  return (await b.list(R.pods, 'default')).filter(ownedBy(rs));
}

async function live(b: Bench, rs: KObject): Promise<KObject[]> {
  return (await podsOf(b, rs)).filter((p) => !p.metadata.deletionTimestamp);
}

describe('replicaset controller', () => {
  let b: Bench;
  let quotaFull = false;
  before(async () => {
    b = await startBench({ refusePod: (pod) => quotaFull && pod.metadata.labels?.['app'] === 'quota' });
  });
  after(async () => {
    await b.close();
  });

  it('creates spec.replicas pods from the template, owned and unbound, and reports status', async () => {
    const rs = await b.api.create(R.replicasets, 'default', replicaSet('web', 3), { dryRun: false });
    await until('3 pods', async () => (await podsOf(b, rs)).length === 3);
    const pods = await podsOf(b, rs);
    for (const pod of pods) {
      assert.match(pod.metadata.name!, /^web-[a-z0-9]{5}$/);
      assert.equal(pod.metadata.generateName, 'web-');
      assert.deepEqual(pod.metadata.ownerReferences, [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'web', uid: rs.metadata.uid, controller: true, blockOwnerDeletion: true }]);
      assert.equal((pod['spec'] as Record<string, unknown>)['nodeName'], undefined);
      assert.deepEqual(pod.metadata.labels, { app: 'web' });
    }
    await until('status replicas 3', async () => ((await b.api.get(R.replicasets, 'default', 'web', false))['status'] as Record<string, unknown>)['replicas'] === 3);
    for (const pod of pods.slice(0, 2)) await markReady(b.api, pod);
    await until('2 ready', async () => ((await b.api.get(R.replicasets, 'default', 'web', false))['status'] as Record<string, unknown>)['readyReplicas'] === 2);
    const status = (await b.api.get(R.replicasets, 'default', 'web', false))['status'] as Record<string, unknown>;
    assert.deepEqual(
      { replicas: status['replicas'], fullyLabeledReplicas: status['fullyLabeledReplicas'], readyReplicas: status['readyReplicas'], availableReplicas: status['availableReplicas'], observedGeneration: status['observedGeneration'] },
      { replicas: 3, fullyLabeledReplicas: 3, readyReplicas: 2, availableReplicas: 2, observedGeneration: 1 },
    );
  });

  it('scales up and down through the scale subresource', async () => {
    const rs = await b.api.get(R.replicasets, 'default', 'web', false);
    await b.api.scale(R.replicasets, 'default', 'web', () => ({ spec: { replicas: 5 } }), () => 'app=web', { dryRun: false });
    await until('5 pods', async () => (await live(b, rs)).length === 5);
    await b.api.scale(R.replicasets, 'default', 'web', () => ({ spec: { replicas: 1 } }), () => 'app=web', { dryRun: false });
    await until('1 pod', async () => (await live(b, rs)).length === 1);
    // The two ready pods were the last candidates: one of them is the survivor.
    const [survivor] = await live(b, rs);
    assert.equal((survivor!['status'] as Record<string, unknown>)['phase'], 'Running');
  });

  it('deletes in Kubernetes order: unassigned, then not ready, then pods on a not-ready node, then crowded nodes', async () => {
    await createNode(b.api, 'good-a');
    await createNode(b.api, 'good-b');
    await createNode(b.api, 'sick', { ready: false });
    const rs = await b.api.create(R.replicasets, 'default', { ...replicaSet('order', 0), spec: { ...replicaSet('order', 0).spec, template: { ...replicaSet('order', 0).spec.template, metadata: { labels: { app: 'order' } } } } }, { dryRun: false });
    // Pods made by hand and adopted, so each can be put where the test wants it.
    const make = async (name: string, node: string | undefined, ready: boolean): Promise<KObject> => {
      const pod = await b.api.create(
        R.pods,
        'default',
        { apiVersion: 'v1', kind: 'Pod', metadata: { name, labels: { app: 'order' } }, spec: { ...(node ? { nodeName: node } : {}), containers: [{ name: 'c', image: 'busybox' }] } },
        { dryRun: false },
      );
      return ready ? markReady(b.api, pod) : pod;
    };
    await make('o-unassigned', undefined, false);
    await make('o-notready', 'good-a', false);
    await make('o-sick', 'sick', true);
    await make('o-crowd1', 'good-a', true);
    await make('o-crowd2', 'good-a', true);
    await make('o-alone', 'good-b', true);
    await b.api.scale(R.replicasets, 'default', 'order', () => ({ spec: { replicas: 6 } }), () => 'app=order', { dryRun: false });
    await until('6 adopted', async () => (await podsOf(b, rs)).length === 6);
    b.agent.finishDeleteMs = 0;
    const order: string[] = [];
    for (const replicas of [5, 4, 3, 2]) {
      await b.api.scale(R.replicasets, 'default', 'order', () => ({ spec: { replicas } }), () => 'app=order', { dryRun: false });
      await until(`${replicas} left`, async () => (await live(b, rs)).length === replicas);
      const names = new Set((await live(b, rs)).map((p) => p.metadata.name));
      for (const n of ['o-unassigned', 'o-notready', 'o-sick', 'o-crowd1', 'o-crowd2', 'o-alone']) if (!names.has(n) && !order.includes(n)) order.push(n);
    }
    assert.deepEqual(order.slice(0, 3), ['o-unassigned', 'o-notready', 'o-sick']);
    assert.ok(['o-crowd1', 'o-crowd2'].includes(order[3]!), `a pod on the crowded node goes before the lone one: ${order.join(',')}`);
  });

  it('adopts matching orphans and releases pods that stop matching', async () => {
    const orphan = await b.api.create(R.pods, 'default', { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'stray', labels: { app: 'adopt' } }, spec: { containers: [{ name: 'c', image: 'busybox' }] } }, { dryRun: false });
    const rs = await b.api.create(R.replicasets, 'default', replicaSet('adopt', 2), { dryRun: false });
    await until('2 pods, the orphan among them', async () => {
      const pods = await podsOf(b, rs);
      return pods.length === 2 && pods.some((p) => p.metadata.uid === orphan.metadata.uid);
    });
    await sleep(150);
    assert.equal((await podsOf(b, rs)).length, 2, 'the adopted orphan counts: only one pod was created');
    // Relabel the orphan: it is released and replaced.
    await b.api.patch(R.pods, 'default', 'stray', 'merge', { metadata: { labels: { app: 'elsewhere' } } }, { dryRun: false });
    await until('released and replaced', async () => {
      const stray = await b.api.get(R.pods, 'default', 'stray', false);
      return (stray.metadata.ownerReferences ?? []).length === 0 && (await podsOf(b, rs)).length === 2;
    });
  });

  it('deletes a Failed pod and replaces it', async () => {
    const rs = await b.api.create(R.replicasets, 'default', replicaSet('failing', 1), { dryRun: false });
    await until('1 pod', async () => (await podsOf(b, rs)).length === 1);
    const [first] = await podsOf(b, rs);
    await b.api.patchStatus(R.pods, 'default', first!.metadata.name!, 'merge', { status: { phase: 'Failed', reason: 'Evicted' } }, { dryRun: false });
    await until('a replacement and the failed pod gone', async () => {
      const pods = await podsOf(b, rs);
      return pods.length === 1 && pods[0]!.metadata.uid !== first!.metadata.uid;
    });
  });

  it('records a ReplicaFailure condition when pods cannot be created, and clears it', async () => {
    quotaFull = true;
    const rs = await b.api.create(R.replicasets, 'default', replicaSet('quota', 2), { dryRun: false });
    await until('ReplicaFailure', async () => {
      const conditions = (((await b.api.get(R.replicasets, 'default', 'quota', false))['status'] as Record<string, unknown>)['conditions'] ?? []) as Record<string, unknown>[];
      return conditions.some((c) => c['type'] === 'ReplicaFailure' && c['status'] === 'True' && c['reason'] === 'FailedCreate' && String(c['message']).includes('exceeded quota'));
    });
    assert.equal((await podsOf(b, rs)).length, 0);
    quotaFull = false;
    await until('pods made and the condition cleared', async () => {
      const status = (await b.api.get(R.replicasets, 'default', 'quota', false))['status'] as Record<string, unknown>;
      return status['conditions'] === undefined && (await podsOf(b, rs)).length === 2;
    });
  });

  it('deleting a ReplicaSet removes its pods (garbage collection by ownerReferences)', async () => {
    const rs = await b.api.create(R.replicasets, 'default', replicaSet('doomed', 2), { dryRun: false });
    await until('2 pods', async () => (await podsOf(b, rs)).length === 2);
    await b.deleter.delete(R.replicasets, 'default', 'doomed', { dryRun: false });
    await until('pods gone', async () => (await podsOf(b, rs)).length === 0);
  });
});

describe('replicaset controller behind a slow watch', () => {
  let b: Bench;
  before(async () => {
    b = await startBench({ podWatchDelayMs: 400, controllers: { resyncMillis: 30 } });
  });
  after(async () => {
    await b.close();
  });

  it('never creates twice while its own creations are not seen yet (expectations)', async () => {
    const rs = await b.api.create(R.replicasets, 'default', replicaSet('slow', 4), { dryRun: false });
    const most = { count: 0 };
    const deadline = Date.now() + 1500;
    while (Date.now() < deadline) {
      most.count = Math.max(most.count, (await podsOf(b, rs)).length);
      await sleep(20);
    }
    assert.equal(most.count, 4);
    assert.equal((await podsOf(b, rs)).length, 4);
  });
});

describe('replicaset controller leadership', () => {
  let b: Bench;
  before(async () => {
    b = await startBench({ leader: false });
  });
  after(async () => {
    await b.close();
  });

  it('acts only while this member leads', async () => {
    const rs = await b.api.create(R.replicasets, 'default', replicaSet('led', 2), { dryRun: false });
    await sleep(300);
    assert.equal((await podsOf(b, rs)).length, 0, 'a follower creates nothing');
    b.leader.value = true;
    await until('2 pods once leading', async () => (await podsOf(b, rs)).length === 2);
    b.leader.value = false;
    await until('stopped leading', () => !b.controllers.leading);
    await b.api.scale(R.replicasets, 'default', 'led', () => ({ spec: { replicas: 4 } }), () => 'app=led', { dryRun: false });
    await sleep(300);
    assert.equal((await podsOf(b, rs)).length, 2, 'no longer leading: nothing changes');
    b.leader.value = true;
    await until('4 pods after leading again', async () => (await podsOf(b, rs)).length === 4);
  });
});
