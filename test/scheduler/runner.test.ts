// The scheduler's loop over a real single-member store: only the leader binds, a Deployment-like
// burst spreads 2/2/2 over three zones, an unschedulable pod gets the condition and the event and
// is bound once a node fits, pods being deleted are left alone, a new leader binds only what is
// left, and 500 pods bind (the rate is printed, not asserted).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Informer } from '../../src/controllers/informer.ts';
import type { KObject } from '../../src/model/index.ts';
import { findResource } from '../../src/model/index.ts';
import { startScheduler } from '../../src/scheduler/index.ts';
import type { Scheduler } from '../../src/scheduler/index.ts';
import type { TestApi } from '../api/resource-helpers.ts';
import { startTestApi } from '../api/resource-helpers.ts';
import { quietLogger } from '../store/store-helpers.ts';

const podsInfo = findResource('', 'v1', 'pods')!;
const nodesInfo = findResource('', 'v1', 'nodes')!;
const base = '/api/v1/namespaces/default/pods';

async function until<T>(what: string, check: () => Promise<T | undefined> | T | undefined, ms = 10_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) assert.fail(`${what}: not within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

interface Running {
  scheduler: Scheduler;
  stop(): void;
}

/** A scheduler with informers of its own, as the lead wires them in main.ts. */
function run(t: TestApi, isLeader: () => boolean): Running {
  let scheduler: Scheduler | undefined;
  const kick = () => scheduler?.kick();
  const common = { store: t.resources.api.store, cache: t.resources.cache, logger: quietLogger, onChange: kick };
  const pods = new Informer({ info: podsInfo, ...common });
  const nodes = new Informer({ info: nodesInfo, ...common });
  pods.start();
  nodes.start();
  scheduler = startScheduler({
    api: t.resources.api,
    pods,
    nodes,
    isLeader,
    logger: quietLogger,
    nodeName: 'm1',
    checkIntervalMillis: 50,
    backoffInitialMillis: 50,
    backoffMaxMillis: 200,
  });
  return {
    scheduler,
    stop() {
      scheduler!.stop();
      pods.stop();
      nodes.stop();
    },
  };
}

async function addNode(t: TestApi, name: string, zone: string, allocatable: Record<string, string> = { cpu: '4', memory: '8Gi', pods: '1000' }): Promise<void> {
  const r = await t.call('POST', '/api/v1/nodes', { apiVersion: 'v1', kind: 'Node', metadata: { name, labels: { 'kubernetes.io/hostname': name, 'topology.kubernetes.io/zone': zone } } });
  assert.equal(r.status, 201, r.text);
  const s = await t.call(
    'PATCH',
    `/api/v1/nodes/${name}/status`,
    { status: { allocatable, capacity: allocatable, conditions: [{ type: 'Ready', status: 'True', reason: 'KubeletReady', lastHeartbeatTime: '2026-01-01T00:00:00Z', lastTransitionTime: '2026-01-01T00:00:00Z' }] } },
    { 'content-type': 'application/merge-patch+json' },
  );
  assert.equal(s.status, 200, s.text);
}

function podBody(name: string, labels: Record<string, string>, extra: Record<string, unknown> = {}, requests: Record<string, string> = { cpu: '1m', memory: '1Mi' }) {
  return { apiVersion: 'v1', kind: 'Pod', metadata: { name, labels }, spec: { containers: [{ name: 'c', image: 'busybox', resources: { requests } }], ...extra } };
}

async function listPods(t: TestApi, selector: string): Promise<KObject[]> {
  return (await t.call('GET', `${base}?labelSelector=${encodeURIComponent(selector)}`)).body.items as KObject[];
}

const nodeOf = (p: KObject) => (p['spec'] as { nodeName?: string }).nodeName;

describe('scheduler over a real store', () => {
  let t: TestApi;
  let leader = false;
  let main: Running;
  before(async () => {
    t = await startTestApi();
    main = run(t, () => leader);
  });
  after(async () => {
    main.stop();
    await t.close();
  });

  it('binds nothing while not leading, then spreads a burst of 6 pods 2/2/2 over three zones', async () => {
    for (const [name, zone] of [['gw1', 'z1'], ['gw2', 'z2'], ['gw3', 'z3']] as const) await addNode(t, name, zone);
    await Promise.all(Array.from({ length: 6 }, (_, i) => t.call('POST', base, podBody(`web-${i}`, { app: 'web' }, { schedulerName: 'default-scheduler' }))));
    await new Promise((r) => setTimeout(r, 300));
    assert.deepEqual((await listPods(t, 'app=web')).map(nodeOf).filter(Boolean), [], 'a member that does not lead binds nothing');
    leader = true;
    const pods = await until('6 pods bound', async () => {
      const list = await listPods(t, 'app=web');
      return list.every((p) => nodeOf(p)) ? list : undefined;
    });
    const counts: Record<string, number> = {};
    for (const p of pods) counts[nodeOf(p)!] = (counts[nodeOf(p)!] ?? 0) + 1;
    assert.deepEqual(counts, { gw1: 2, gw2: 2, gw3: 2 });
    for (const p of pods) assert.equal(((p['status'] as { conditions: { type: string; status: string }[] }).conditions.find((c) => c.type === 'PodScheduled'))?.status, 'True');
    await main.scheduler.idle();
    const events = (await t.call('GET', '/api/v1/namespaces/default/events')).body.items as { reason: string; message: string; source: { component: string } }[];
    const scheduled = events.filter((e) => e.reason === 'Scheduled');
    assert.equal(scheduled.length, 6);
    assert.match(scheduled[0]!.message, /^Successfully assigned default\/web-\d to gw\d$/);
    assert.equal(scheduled[0]!.source.component, 'default-scheduler');
  });

  it('marks a pod that fits nowhere Unschedulable with an event, and binds it once a node fits', async () => {
    assert.equal((await t.call('POST', base, podBody('huge', { app: 'huge' }, {}, { memory: '64Gi' }))).status, 201);
    const condition = await until('the PodScheduled=False condition', async () => {
      const p = (await t.call('GET', `${base}/huge`)).body;
      return (p.status.conditions ?? []).find((c: { type: string }) => c.type === 'PodScheduled');
    });
    assert.deepEqual({ ...condition, lastTransitionTime: undefined, lastProbeTime: undefined }, {
      type: 'PodScheduled',
      status: 'False',
      reason: 'Unschedulable',
      message: '0/3 nodes are available: 3 Insufficient memory.',
      lastTransitionTime: undefined,
      lastProbeTime: undefined,
    });
    const event = await until('the FailedScheduling event', async () => {
      const events = (await t.call('GET', '/api/v1/namespaces/default/events')).body.items as { reason: string; type: string; message: string; involvedObject: { name: string } }[];
      return events.find((e) => e.reason === 'FailedScheduling' && e.involvedObject.name === 'huge');
    });
    assert.equal(event.type, 'Warning');
    assert.equal(event.message, '0/3 nodes are available: 3 Insufficient memory.');
    await addNode(t, 'big', 'z1', { cpu: '8', memory: '128Gi', pods: '1000' });
    const bound = await until('huge bound to the new node', async () => nodeOf((await t.call('GET', `${base}/huge`)).body) ?? undefined);
    assert.equal(bound, 'big');
  });

  it('leaves pods being deleted alone', async () => {
    // Not leading while the pod is made and deleted: otherwise it is bound before the delete.
    leader = false;
    await new Promise((r) => setTimeout(r, 150));
    const body = { ...podBody('going', { app: 'going' }), metadata: { name: 'going', labels: { app: 'going' }, finalizers: ['example.com/hold'] } };
    assert.equal((await t.call('POST', base, body)).status, 201);
    assert.equal((await t.call('DELETE', `${base}/going`)).status, 202);
    leader = true;
    assert.equal((await t.call('POST', base, podBody('after', { app: 'after' }))).status, 201);
    await until('the later pod bound', async () => nodeOf((await t.call('GET', `${base}/after`)).body) ?? undefined);
    await main.scheduler.idle();
    assert.equal(nodeOf((await t.call('GET', `${base}/going`)).body), undefined);
    assert.equal((await t.call('PATCH', `${base}/going`, { metadata: { finalizers: null } }, { 'content-type': 'application/merge-patch+json' })).status, 200);
  });

  it('a new leader binds only the pods still pending', async () => {
    leader = false;
    await new Promise((r) => setTimeout(r, 150));
    await Promise.all(Array.from({ length: 3 }, (_, i) => t.call('POST', base, podBody(`late-${i}`, { app: 'late' }))));
    const next = run(t, () => true);
    try {
      await until('3 late pods bound', async () => ((await listPods(t, 'app=late')).every((p) => nodeOf(p)) ? true : undefined));
      await next.scheduler.idle();
      assert.equal(next.scheduler.stats.bound, 3, 'the new leader bound only the pending pods');
      assert.equal(next.scheduler.stats.conflicts, 0);
      assert.equal((await listPods(t, 'app=web')).filter((p) => nodeOf(p)).length, 6);
    } finally {
      next.stop();
      leader = true;
    }
  });

  it('binds 500 pods created at once', async (ctx) => {
    // Created while no member leads, so that the rate measured is the scheduler's alone.
    leader = false;
    await new Promise((r) => setTimeout(r, 150));
    const names = Array.from({ length: 500 }, (_, i) => `many-${i}`);
    for (let i = 0; i < names.length; i += 50) {
      await Promise.all(names.slice(i, i + 50).map((name) => t.call('POST', base, podBody(name, { app: 'many' }))));
    }
    const started = Date.now();
    const boundBefore = main.scheduler.stats.bound;
    leader = true;
    await until('500 pods bound', async () => (main.scheduler.stats.bound - boundBefore >= 500 ? true : undefined), 60_000);
    const seconds = (Date.now() - started) / 1000;
    ctx.diagnostic(`500 pending pods bound in ${seconds.toFixed(2)} s: ${(500 / seconds).toFixed(0)} pods/s (from the leadership check to the last bind)`);
    await until('the informer to show them all', async () => ((await listPods(t, 'app=many')).filter((p) => nodeOf(p)).length === 500 ? true : undefined), 10_000);
    const counts: Record<string, number> = {};
    for (const p of await listPods(t, 'app=many')) counts[nodeOf(p)!] = (counts[nodeOf(p)!] ?? 0) + 1;
    ctx.diagnostic(`spread: ${JSON.stringify(counts)}`);
    // Equal nodes get equal shares; the big node (half its memory taken by the huge pod) shares
    // zone z1 with gw1, and resource scores weigh against spreading there, as in Kubernetes.
    assert.ok(Math.abs((counts['gw2'] ?? 0) - (counts['gw3'] ?? 0)) <= 2, JSON.stringify(counts));
    for (const name of ['gw1', 'gw2', 'gw3', 'big']) assert.ok((counts[name] ?? 0) > 0, JSON.stringify(counts));
  });
});
