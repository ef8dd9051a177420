// The DaemonSet controller over a real store: one pod per matching node, bound directly, that
// follows nodes joining and leaving, nodeSelector and taints (with the tolerations every daemon
// pod gets), and a rolling update within maxUnavailable.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { KObject } from '../../src/model/index.ts';
import type { Bench } from './harness.ts';
import { createNode, podTemplate, R, sleep, startBench, until } from './harness.ts';

type J = Record<string, unknown>;
const spec = (o: KObject): J => (o['spec'] ?? {}) as J;

function daemonSet(name: string, template = podTemplate(name), extra: J = {}) {
  return { apiVersion: 'apps/v1', kind: 'DaemonSet', metadata: { name }, spec: { selector: { matchLabels: { app: name } }, template, ...extra } };
}

async function nodesOf(b: Bench, app: string): Promise<string[]> {
  return (await b.list(R.pods, 'default'))
    .filter((p) => p.metadata.labels?.['app'] === app && !p.metadata.deletionTimestamp)
    .map((p) => String(spec(p)['nodeName']))
    .sort();
}

describe('daemonset controller', () => {
  let b: Bench;
  before(async () => {
    b = await startBench();
    b.agent.ready = () => true;
    await createNode(b.api, 'n1', { labels: { zone: 'a' } });
    await createNode(b.api, 'n2', { labels: { zone: 'b' } });
  });
  after(async () => {
    await b.close();
  });

  it('runs one pod per node, bound to it, and follows nodes joining and leaving', async () => {
    await b.api.create(R.daemonsets, 'default', daemonSet('agent'), { dryRun: false });
    await until('a pod on each node', async () => (await nodesOf(b, 'agent')).join() === 'n1,n2');
    const pod = (await b.list(R.pods, 'default')).find((p) => p.metadata.labels?.['app'] === 'agent')!;
    const tolerations = (spec(pod)['tolerations'] as J[]).map((t) => `${t['key']}:${t['effect']}`).sort();
    assert.deepEqual(tolerations, [
      'node.kubernetes.io/disk-pressure:NoSchedule',
      'node.kubernetes.io/memory-pressure:NoSchedule',
      'node.kubernetes.io/not-ready:NoExecute',
      'node.kubernetes.io/pid-pressure:NoSchedule',
      'node.kubernetes.io/unreachable:NoExecute',
      'node.kubernetes.io/unschedulable:NoSchedule',
    ]);
    assert.equal(pod.metadata.ownerReferences![0]!.kind, 'DaemonSet');
    await createNode(b.api, 'n3');
    await until('a pod on the new node', async () => (await nodesOf(b, 'agent')).join() === 'n1,n2,n3');
    await b.deleter.delete(R.nodes, undefined, 'n3', { dryRun: false });
    await until('its pod gone with it', async () => (await nodesOf(b, 'agent')).join() === 'n1,n2');
    await until('status', async () => {
      const s = (await b.api.get(R.daemonsets, 'default', 'agent', false))['status'] as J;
      return s['desiredNumberScheduled'] === 2 && s['currentNumberScheduled'] === 2 && s['numberReady'] === 2 && s['numberAvailable'] === 2 && s['updatedNumberScheduled'] === 2 && s['numberMisscheduled'] === 0 && s['observedGeneration'] === 1;
    });
  });

  it('honours nodeSelector', async () => {
    await b.api.create(R.daemonsets, 'default', daemonSet('zoned', podTemplate('zoned', { nodeSelector: { zone: 'b' } })), { dryRun: false });
    await until('only on n2', async () => (await nodesOf(b, 'zoned')).join() === 'n2');
    await b.api.patch(R.nodes, undefined, 'n2', 'merge', { metadata: { labels: { zone: 'c' } } }, { dryRun: false });
    await until('removed when the node stops matching', async () => (await nodesOf(b, 'zoned')).length === 0);
  });

  it('keeps off tainted nodes unless tolerated; NoExecute evicts, not-ready does not', async () => {
    await createNode(b.api, 't1', { taints: [{ key: 'dedicated', value: 'db', effect: 'NoSchedule' }] });
    await createNode(b.api, 't2', { taints: [{ key: 'node.kubernetes.io/not-ready', effect: 'NoExecute' }] });
    await b.api.create(R.daemonsets, 'default', daemonSet('tainted'), { dryRun: false });
    await b.api.create(R.daemonsets, 'default', daemonSet('tolerant', podTemplate('tolerant', { tolerations: [{ key: 'dedicated', operator: 'Equal', value: 'db', effect: 'NoSchedule' }] })), { dryRun: false });
    await until('placed', async () => (await nodesOf(b, 'tainted')).join() === 'n1,n2,t2' && (await nodesOf(b, 'tolerant')).join() === 'n1,n2,t1,t2');
    // A NoSchedule taint added later keeps new pods away but does not evict.
    await b.api.patch(R.nodes, undefined, 'n1', 'merge', { spec: { taints: [{ key: 'maintenance', effect: 'NoSchedule' }] } }, { dryRun: false });
    await sleep(200);
    assert.equal((await nodesOf(b, 'tainted')).join(), 'n1,n2,t2');
    await b.api.patch(R.nodes, undefined, 'n1', 'merge', { spec: { taints: [{ key: 'maintenance', effect: 'NoExecute' }] } }, { dryRun: false });
    await until('evicted by NoExecute', async () => (await nodesOf(b, 'tainted')).join() === 'n2,t2');
    await b.api.patch(R.nodes, undefined, 'n1', 'merge', { spec: { taints: null } }, { dryRun: false });
    await until('back', async () => (await nodesOf(b, 'tainted')).join() === 'n1,n2,t2');
  });

  // Nodes now: n1, n2 and t2 take daemon pods; t1's taint is not tolerated.
  it('rolls a new template out node by node within maxUnavailable', async () => {
    await b.api.create(R.daemonsets, 'default', daemonSet('rolling', podTemplate('rolling'), { updateStrategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 1 } } }), { dryRun: false });
    await until('placed and ready', async () => {
      const s = (await b.api.get(R.daemonsets, 'default', 'rolling', false))['status'] as J;
      return s['numberAvailable'] === 3 && s['desiredNumberScheduled'] === 3;
    });
    b.agent.readyDelayMs = 100;
    b.agent.finishDeleteMs = 50;
    let worst = 0;
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        const pods = (await b.list(R.pods, 'default')).filter((p) => p.metadata.labels?.['app'] === 'rolling' && !p.metadata.deletionTimestamp);
        const ready = new Set(pods.filter((p) => ((p['status'] as J)['conditions'] as J[] | undefined)?.some((c) => c['type'] === 'Ready' && c['status'] === 'True')).map((p) => spec(p)['nodeName']));
        worst = Math.max(worst, 3 - ready.size);
        await sleep(5);
      }
    })();
    await b.api.patch(R.daemonsets, 'default', 'rolling', 'merge', { spec: { template: { metadata: { labels: { app: 'rolling', v: '2' } } } } }, { dryRun: false });
    try {
      await until(
        'updated everywhere',
        async () => {
          const s = (await b.api.get(R.daemonsets, 'default', 'rolling', false))['status'] as J;
          return s['observedGeneration'] === 2 && s['updatedNumberScheduled'] === 3 && s['numberAvailable'] === 3;
        },
        10_000,
      );
    } finally {
      sampling = false;
      await sampler;
      b.agent.readyDelayMs = 0;
      b.agent.finishDeleteMs = 0;
    }
    assert.ok(worst <= 1, `${worst} nodes were without a ready pod at once`);
    const pods = (await b.list(R.pods, 'default')).filter((p) => p.metadata.labels?.['app'] === 'rolling' && !p.metadata.deletionTimestamp);
    assert.equal(pods.length, 3);
    assert.ok(pods.every((p) => p.metadata.labels!['v'] === '2'));
  });

  it('OnDelete leaves old pods until they are deleted', async () => {
    await b.api.create(R.daemonsets, 'default', daemonSet('manual', podTemplate('manual'), { updateStrategy: { type: 'OnDelete' } }), { dryRun: false });
    await until('placed', async () => (await nodesOf(b, 'manual')).join() === 'n1,n2,t2');
    await b.api.patch(R.daemonsets, 'default', 'manual', 'merge', { spec: { template: { metadata: { labels: { app: 'manual', v: '2' } } } } }, { dryRun: false });
    await sleep(300);
    const pods = (await b.list(R.pods, 'default')).filter((p) => p.metadata.labels?.['app'] === 'manual');
    assert.ok(pods.every((p) => p.metadata.labels!['v'] === undefined && !p.metadata.deletionTimestamp));
    await b.deleter.delete(R.pods, 'default', pods[0]!.metadata.name!, { dryRun: false });
    await until('replaced by a new-template pod', async () => {
      const now = (await b.list(R.pods, 'default')).filter((p) => p.metadata.labels?.['app'] === 'manual' && !p.metadata.deletionTimestamp);
      return now.length === 3 && now.filter((p) => p.metadata.labels!['v'] === '2').length === 1;
    });
  });
});
