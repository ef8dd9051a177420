// The Deployment controller over a real store, with a fake agent making pods Ready: a rolling
// update that never drops below replicas - maxUnavailable available pods, Recreate's order, scale
// through the scale subresource, rollback to an old template, revisionHistoryLimit, the
// progress deadline, and garbage collection of a deleted Deployment's ReplicaSets and pods.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { KObject } from '../../src/model/index.ts';
import type { Bench } from './harness.ts';
import { createNode, deployment, podTemplate, R, sleep, startBench, until } from './harness.ts';

const REVISION = 'deployment.kubernetes.io/revision';

type J = Record<string, unknown>;
const status = (o: KObject): J => (o['status'] ?? {}) as J;
const spec = (o: KObject): J => (o['spec'] ?? {}) as J;

async function setsOf(b: Bench, d: KObject): Promise<KObject[]> {
  return (await b.list(R.replicasets, 'default')).filter((rs) => (rs.metadata.ownerReferences ?? []).some((r) => r.uid === d.metadata.uid));
}

async function podsOfApp(b: Bench, app: string): Promise<KObject[]> {
  return (await b.list(R.pods, 'default')).filter((p) => p.metadata.labels?.['app'] === app);
}

const isReady = (p: KObject): boolean => ((status(p)['conditions'] ?? []) as J[]).some((c) => c['type'] === 'Ready' && c['status'] === 'True');

async function get(b: Bench, name: string): Promise<KObject> {
  return b.api.get(R.deployments, 'default', name, false);
}

async function rolledOut(b: Bench, name: string, replicas: number): Promise<boolean> {
  const d = await get(b, name);
  const s = status(d);
  return s['observedGeneration'] === d.metadata.generation && s['updatedReplicas'] === replicas && s['availableReplicas'] === replicas && s['replicas'] === replicas;
}

async function setImage(b: Bench, name: string, image: string): Promise<void> {
  await b.api.patch(R.deployments, 'default', name, 'merge', { spec: { template: { spec: { containers: [{ name: 'web', image, ports: [{ name: 'http', containerPort: 80 }] }] } } } }, { dryRun: false });
}

describe('deployment controller', () => {
  let b: Bench;
  before(async () => {
    b = await startBench();
    b.agent.ready = () => true;
  });
  after(async () => {
    await b.close();
  });

  it('creates a ReplicaSet named by the template hash, with revision 1, and reports status', async () => {
    const d = await b.api.create(R.deployments, 'default', deployment('web', 3), { dryRun: false });
    await until('rolled out', () => rolledOut(b, 'web', 3));
    const [rs] = await setsOf(b, d);
    const hash = rs!.metadata.labels!['pod-template-hash']!;
    assert.match(hash, /^[bcdfghjklmnpqrstvwxz2456789]+$/);
    assert.equal(rs!.metadata.name, `web-${hash}`);
    assert.equal(rs!.metadata.annotations![REVISION], '1');
    assert.deepEqual((spec(rs!)['selector'] as J)['matchLabels'], { app: 'web', 'pod-template-hash': hash });
    const pods = await podsOfApp(b, 'web');
    assert.equal(pods.length, 3);
    for (const p of pods) assert.equal(p.metadata.labels!['pod-template-hash'], hash);
    const now = await get(b, 'web');
    assert.equal(now.metadata.annotations![REVISION], '1');
    const conditions = status(now)['conditions'] as J[];
    assert.deepEqual(
      conditions.map((c) => [c['type'], c['status'], c['reason']]).sort(),
      [
        ['Available', 'True', 'MinimumReplicasAvailable'],
        ['Progressing', 'True', 'NewReplicaSetAvailable'],
      ],
    );
    assert.equal(status(now)['unavailableReplicas'], 0);
  });

  it('takes a scale of the Deployment at once', async () => {
    await b.api.scale(R.deployments, 'default', 'web', () => ({ spec: { replicas: 5 } }), () => 'app=web', { dryRun: false });
    await until('5 pods', async () => (await podsOfApp(b, 'web')).filter((p) => !p.metadata.deletionTimestamp).length === 5, 2000);
    await until('rolled out at 5', () => rolledOut(b, 'web', 5));
    await b.api.scale(R.deployments, 'default', 'web', () => ({ spec: { replicas: 2 } }), () => 'app=web', { dryRun: false });
    await until('2 pods', async () => (await podsOfApp(b, 'web')).filter((p) => !p.metadata.deletionTimestamp).length === 2, 2000);
  });

  it('rolls out a new template without going below replicas - maxUnavailable available pods', async () => {
    const d = await b.api.create(R.deployments, 'default', deployment('roll', 4, { strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 1 } } }), { dryRun: false });
    await until('rolled out', () => rolledOut(b, 'roll', 4));
    b.agent.readyDelayMs = 150;
    let fewest = Infinity;
    let most = 0;
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        const pods = (await podsOfApp(b, 'roll')).filter((p) => !p.metadata.deletionTimestamp);
        fewest = Math.min(fewest, pods.filter(isReady).length);
        most = Math.max(most, pods.length);
        await sleep(5);
      }
    })();
    await setImage(b, 'roll', 'nginx:1.16');
    await until('rolled out again', () => rolledOut(b, 'roll', 4), 10_000);
    sampling = false;
    await sampler;
    b.agent.readyDelayMs = 0;
    assert.ok(fewest >= 3, `available pods fell to ${fewest}`);
    assert.ok(most <= 5, `pods rose to ${most} (maxSurge 1)`);
    const sets = await setsOf(b, d);
    assert.equal(sets.length, 2);
    const newest = sets.find((rs) => rs.metadata.annotations![REVISION] === '2')!;
    assert.equal(spec(newest)['replicas'], 4);
    assert.equal(spec(sets.find((rs) => rs !== newest)!)['replicas'], 0);
    const pods = (await podsOfApp(b, 'roll')).filter((p) => !p.metadata.deletionTimestamp);
    assert.ok(pods.every((p) => p.metadata.labels!['pod-template-hash'] === newest.metadata.labels!['pod-template-hash']));
    assert.equal((await get(b, 'roll')).metadata.annotations![REVISION], '2');
  });

  it('rolls back by taking an old ReplicaSet template again (its revision becomes the newest)', async () => {
    const d = await get(b, 'roll');
    const old = (await setsOf(b, d)).find((rs) => rs.metadata.annotations![REVISION] === '1')!;
    const template = structuredClone(spec(old)['template']) as J;
    delete ((template['metadata'] as J)['labels'] as J)['pod-template-hash'];
    await b.api.patch(R.deployments, 'default', 'roll', 'merge', { spec: { template } }, { dryRun: false });
    await until('rolled back', () => rolledOut(b, 'roll', 4), 10_000);
    const sets = await setsOf(b, d);
    assert.equal(sets.length, 2, 'no third ReplicaSet: the old one is reused');
    const reused = sets.find((rs) => rs.metadata.uid === old.metadata.uid)!;
    assert.equal(reused.metadata.annotations![REVISION], '3');
    assert.equal(spec(reused)['replicas'], 4);
    assert.equal((await get(b, 'roll')).metadata.annotations![REVISION], '3');
  });

  it('keeps at most revisionHistoryLimit old ReplicaSets', async () => {
    const d = await b.api.create(R.deployments, 'default', deployment('hist', 1, { revisionHistoryLimit: 1 }), { dryRun: false });
    for (const image of ['nginx:1', 'nginx:2', 'nginx:3']) {
      await until('rolled out', () => rolledOut(b, 'hist', 1));
      await setImage(b, 'hist', image);
    }
    await until('rolled out', () => rolledOut(b, 'hist', 1));
    await until('history trimmed', async () => (await setsOf(b, d)).length === 2);
    const revisions = (await setsOf(b, d)).map((rs) => rs.metadata.annotations![REVISION]).sort();
    assert.deepEqual(revisions, ['3', '4']);
  });

  it('does not roll while paused, and marks the Deployment paused', async () => {
    const d = await b.api.create(R.deployments, 'default', deployment('paused', 1), { dryRun: false });
    await until('rolled out', () => rolledOut(b, 'paused', 1));
    await b.api.patch(R.deployments, 'default', 'paused', 'merge', { spec: { paused: true } }, { dryRun: false });
    await setImage(b, 'paused', 'nginx:9');
    await until('paused condition', async () => ((status(await get(b, 'paused'))['conditions'] ?? []) as J[]).some((c) => c['type'] === 'Progressing' && c['reason'] === 'DeploymentPaused'));
    await sleep(150);
    assert.equal((await setsOf(b, d)).length, 1);
    await b.api.patch(R.deployments, 'default', 'paused', 'merge', { spec: { paused: false } }, { dryRun: false });
    await until('rolled out after resuming', async () => (await setsOf(b, d)).length === 2 && (await rolledOut(b, 'paused', 1)));
  });

  it('reports ProgressDeadlineExceeded when pods never become ready', async () => {
    b.agent.ready = (p) => p.metadata.labels?.['app'] !== 'stuck';
    await b.api.create(R.deployments, 'default', deployment('stuck', 1, { progressDeadlineSeconds: 1 }), { dryRun: false });
    await until(
      'deadline exceeded',
      async () => ((status(await get(b, 'stuck'))['conditions'] ?? []) as J[]).some((c) => c['type'] === 'Progressing' && c['status'] === 'False' && c['reason'] === 'ProgressDeadlineExceeded'),
      5000,
    );
    b.agent.ready = () => true;
  });

  it('deleting a Deployment removes its ReplicaSets and their pods', async () => {
    const d = await get(b, 'web');
    await b.deleter.delete(R.deployments, 'default', 'web', { dryRun: false });
    await until('all gone', async () => (await setsOf(b, d)).length === 0 && (await podsOfApp(b, 'web')).length === 0);
  });
});

describe('deployment controller, Recreate', () => {
  let b: Bench;
  before(async () => {
    b = await startBench();
    b.agent.ready = () => true;
  });
  after(async () => {
    await b.close();
  });

  it('scales the old pods to zero and waits until they are gone before creating new ones', async () => {
    await createNode(b.api, 'gw1');
    // Pods bound to a node are deleted gracefully: they linger until the (fake) agent finishes them.
    await b.api.create(R.deployments, 'default', { ...deployment('re', 2, { strategy: { type: 'Recreate' } }), spec: { ...deployment('re', 2).spec, strategy: { type: 'Recreate' }, template: podTemplate('re', { nodeName: 'gw1' }) } }, { dryRun: false });
    await until('rolled out', () => rolledOut(b, 're', 2));
    b.agent.finishDeleteMs = 500;
    const violations: string[] = [];
    const oldUids = new Set((await podsOfApp(b, 're')).map((p) => p.metadata.uid));
    const stop = b.informers.pods.addListener((pod, event) => {
      if (event !== 'added' || pod.metadata.labels?.['app'] !== 're') return;
      const stillThere = b.informers.pods.list('default').filter((p) => oldUids.has(p.metadata.uid));
      if (stillThere.length > 0) violations.push(`${pod.metadata.name} created while ${stillThere.length} old pods remain`);
    });
    try {
      await b.api.patch(R.deployments, 'default', 're', 'merge', { spec: { template: podTemplate('re', { nodeName: 'gw1', hostname: 'v2' }) } }, { dryRun: false });
      await until('old pods terminating', async () => (await podsOfApp(b, 're')).filter((p) => oldUids.has(p.metadata.uid)).every((p) => p.metadata.deletionTimestamp));
      await sleep(200);
      assert.equal((await podsOfApp(b, 're')).filter((p) => !oldUids.has(p.metadata.uid)).length, 0, 'no new pod while old ones are stopping');
      await until('rolled out again', () => rolledOut(b, 're', 2), 10_000);
    } finally {
      stop();
      b.agent.finishDeleteMs = 0;
    }
    assert.deepEqual(violations, []);
  });
});
