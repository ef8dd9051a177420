// The node lifecycle controller over a real store and real informers, with an injected clock and
// heartbeat table: the grace period (fresh for a new leader), transitions written once, eviction
// of owned, bare and DaemonSet pods after the eviction timeout, and the return to Ready.
import assert from 'node:assert/strict';
import { after, afterEach, before, beforeEach, describe, it } from 'node:test';
import type { Clock } from '../../src/agent/ports.ts';
import { HeartbeatTable } from '../../src/cluster/heartbeat.ts';
import { Informer } from '../../src/controllers/informer.ts';
import { NODE_STATUS_UNKNOWN_MESSAGE, UNREACHABLE_TAINT, evictionOf, startNodeLifecycle, type NodeLifecycle } from '../../src/controllers/node-lifecycle.ts';
import type { KObject } from '../../src/model/index.ts';
import { findResource } from '../../src/model/index.ts';
import type { TestApi } from '../api/resource-helpers.ts';
import { startTestApi } from '../api/resource-helpers.ts';
import { quietLogger, until } from '../store/store-helpers.ts';

const nodesInfo = findResource('', 'v1', 'nodes')!;
const podsInfo = findResource('', 'v1', 'pods')!;
const eventsInfo = findResource('', 'v1', 'events')!;
const GRACE = 5000;
const EVICTION = 20_000;
const T0 = Date.parse('2026-03-01T10:00:00Z');

/** Time moves only when the test says; timers never fire (the test runs the passes). */
class ManualClock implements Clock {
  constructor(public time = T0) {}
  now(): number {
    return this.time;
  }
  setTimer() {
    return { cancel: () => undefined };
  }
}

interface World {
  clock: ManualClock;
  table: HeartbeatTable;
  leader: { is: boolean };
  nodes: Informer;
  pods: Informer;
  lifecycle: NodeLifecycle;
}

const readyOf = (node: KObject | undefined) => ((node?.['status'] as { conditions?: any[] } | undefined)?.conditions ?? []).find((c) => c.type === 'Ready'); // eslint-disable-line @typescript-eslint/no-explicit-any
const taintsOf = (node: KObject | undefined) => ((node?.['spec'] as { taints?: { key: string; effect: string }[] } | undefined)?.taints ?? []).map((t) => `${t.key}:${t.effect}`);

describe('node lifecycle', () => {
  let t: TestApi;
  let w: World;

  before(async () => {
    t = await startTestApi();
  });
  after(async () => {
    await t.close();
  });

  const node = async (name: string) => t.resources.api.get(nodesInfo, undefined, name, false);
  const pod = async (name: string) => t.resources.api.get(podsInfo, 'default', name, false);

  async function addNode(name: string, taints: unknown[] = []): Promise<void> {
    const created = await t.resources.api.create(nodesInfo, undefined, { apiVersion: 'v1', kind: 'Node', metadata: { name }, spec: taints.length ? { taints } : {} }, { dryRun: false });
    const at = new Date(T0 - 60_000).toISOString().slice(0, 19) + 'Z';
    await t.resources.api.update(nodesInfo, undefined, name, (n) => ({ ...n, status: { conditions: [{ type: 'Ready', status: 'True', reason: 'KubeletReady', lastHeartbeatTime: at, lastTransitionTime: at }] } }), { dryRun: false });
    assert.ok(created.metadata.uid);
  }

  async function removeAll(): Promise<void> {
    for (const info of [podsInfo, nodesInfo]) {
      const list = (await t.resources.api.list(info, info === podsInfo ? 'default' : undefined, { serializable: false }))['items'] as KObject[];
      for (const o of list) await t.resources.api.store.remove(info, o.metadata.namespace, o.metadata.name!, Number(o.metadata.resourceVersion));
    }
  }

  beforeEach(async () => {
    await removeAll();
    await addNode('gw1');
    await addNode('gw2', [{ key: 'dedicated', value: 'db', effect: 'NoSchedule' }]);
    const clock = new ManualClock();
    const table = new HeartbeatTable({ now: () => clock.now() });
    const leader = { is: true };
    const nodes = new Informer({ info: nodesInfo, store: t.resources.api.store, cache: t.resources.cache, logger: quietLogger });
    const pods = new Informer({ info: podsInfo, store: t.resources.api.store, cache: t.resources.cache, logger: quietLogger });
    nodes.start();
    pods.start();
    await Promise.all([nodes.whenSynced(), pods.whenSynced()]);
    const lifecycle = startNodeLifecycle({ api: t.resources.api, deleter: t.resources.deleter, nodes, pods, heartbeats: table, isLeader: () => leader.is, logger: quietLogger, graceMillis: GRACE, evictionMillis: EVICTION, clock, selfNode: 'm1' });
    w = { clock, table, leader, nodes, pods, lifecycle };
  });
  afterEach(async () => {
    w.lifecycle.stop();
    await w.lifecycle.events.flush();
    w.nodes.stop();
    w.pods.stop();
  });

  /** Moves the clock, lets gw1 beat (it is healthy throughout), runs a pass, waits for the informers. */
  async function at(millis: number, beats: string[] = ['gw1']): Promise<void> {
    w.clock.time = T0 + millis;
    for (const name of beats) w.table.record({ node: name, cpuCores: 0.1, memoryBytes: 1, windowSeconds: 1 });
    await w.lifecycle.runOnce();
    // The informers must show what the pass wrote before the next pass reads them.
    const stored = [
      ...((await t.resources.api.list(nodesInfo, undefined, { serializable: false }))['items'] as KObject[]).map((o) => [w.nodes, o] as const),
      ...((await t.resources.api.list(podsInfo, 'default', { serializable: false }))['items'] as KObject[]).map((o) => [w.pods, o] as const),
    ];
    await until('the informers to catch up', () => stored.every(([informer, o]) => informer.get(o.metadata.namespace, o.metadata.name!)?.metadata.resourceVersion === o.metadata.resourceVersion));
  }

  it('gives every node a fresh grace period when it starts leading, then marks a silent node NotReady once', async () => {
    const before = (await node('gw2')).metadata.resourceVersion;
    await at(0);
    await at(GRACE - 500);
    assert.equal((await node('gw2')).metadata.resourceVersion, before, 'nothing is written within the grace period');
    assert.equal(readyOf(await node('gw2')).status, 'True');
    await at(GRACE + 500);
    const gw2 = await node('gw2');
    const ready = readyOf(gw2);
    assert.equal(ready.status, 'Unknown');
    assert.equal(ready.reason, 'NodeStatusUnknown');
    assert.equal(ready.message, NODE_STATUS_UNKNOWN_MESSAGE);
    assert.equal(ready.lastTransitionTime, new Date(T0 + GRACE + 500).toISOString().slice(0, 19) + 'Z');
    assert.deepEqual(taintsOf(gw2), ['dedicated:NoSchedule', `${UNREACHABLE_TAINT}:NoSchedule`, `${UNREACHABLE_TAINT}:NoExecute`]);
    assert.equal(readyOf(await node('gw1')).status, 'True', 'the node that beats stays Ready');
    const written = gw2.metadata.resourceVersion;
    await at(GRACE + 1500);
    await at(GRACE + 2500);
    assert.equal((await node('gw2')).metadata.resourceVersion, written, 'the transition is written once');
    await w.lifecycle.events.flush();
    const events = ((await t.resources.api.list(eventsInfo, 'default', { serializable: false }))['items'] as any[]).filter((e) => e.reason === 'NodeNotReady'); // eslint-disable-line @typescript-eslint/no-explicit-any
    assert.equal(events.length, 1);
    assert.equal(events[0].involvedObject.kind, 'Node');
    assert.equal(events[0].source.component, 'node-controller');
  });

  it('does nothing while following; a new leader starts the grace period again', async () => {
    w.leader.is = false;
    const before = (await node('gw2')).metadata.resourceVersion;
    await at(0);
    await at(GRACE * 3);
    assert.equal((await node('gw2')).metadata.resourceVersion, before);
    w.leader.is = true;
    await at(GRACE * 3 + 100);
    await at(GRACE * 4);
    assert.equal(readyOf(await node('gw2')).status, 'True', 'an election marks no node NotReady');
    await at(GRACE * 4 + 200);
    assert.equal(readyOf(await node('gw2')).status, 'Unknown', 'a grace period after the election, a silent node is NotReady');
  });

  it('evicts after the eviction timeout: owned pods deleted gracefully, bare pods Failed/NodeLost, DaemonSet pods left', async () => {
    const owner = (kind: string, name: string) => [{ apiVersion: 'apps/v1', kind, name, uid: `uid-${name}`, controller: true }];
    const mk = (name: string, nodeName: string, ownerReferences?: unknown) =>
      t.resources.api.create(podsInfo, 'default', { apiVersion: 'v1', kind: 'Pod', metadata: { name, ...(ownerReferences ? { ownerReferences } : {}) }, spec: { nodeName, containers: [{ name: 'c', image: 'busybox' }] } }, { dryRun: false });
    await mk('owned', 'gw2', owner('ReplicaSet', 'web-abc'));
    await mk('bare', 'gw2');
    await mk('daemon', 'gw2', owner('DaemonSet', 'agent'));
    await mk('elsewhere', 'gw1', owner('ReplicaSet', 'web-abc'));
    await at(0);
    await at(GRACE + 1000);
    assert.equal(readyOf(await node('gw2')).status, 'Unknown');
    await at(GRACE + 1000 + EVICTION - 1000);
    assert.equal((await pod('owned')).metadata.deletionTimestamp, undefined, 'not before the eviction timeout');
    await at(GRACE + 1000 + EVICTION + 1000);
    const owned = await pod('owned');
    assert.ok(owned.metadata.deletionTimestamp, 'the owned pod is deleted gracefully: it waits for its gateway');
    const bare = (await pod('bare'))['status'] as { phase: string; reason: string; message: string };
    assert.equal(bare.phase, 'Failed');
    assert.equal(bare.reason, 'NodeLost');
    assert.equal(bare.message, 'Node gw2 which was running pod bare is unresponsive');
    const daemon = await pod('daemon');
    assert.equal(daemon.metadata.deletionTimestamp, undefined);
    assert.notEqual((daemon['status'] as { phase?: string }).phase, 'Failed');
    assert.equal((await pod('elsewhere')).metadata.deletionTimestamp, undefined, 'pods of healthy nodes stay');
    const ownedVersion = owned.metadata.resourceVersion;
    await at(GRACE + 1000 + EVICTION + 2000);
    assert.equal((await pod('owned')).metadata.resourceVersion, ownedVersion, 'evicted once');
    await w.lifecycle.events.flush();
    const events = ((await t.resources.api.list(eventsInfo, 'default', { serializable: false }))['items'] as any[]).filter((e) => e.source?.component === 'node-controller' && e.involvedObject.kind === 'Pod'); // eslint-disable-line @typescript-eslint/no-explicit-any
    assert.deepEqual(events.map((e) => `${e.involvedObject.name}:${e.reason}`).sort(), ['bare:NodeLost', 'owned:NodeControllerEviction']);
  });

  it('marks a node Ready again when it beats, removing only the unreachable taints', async () => {
    await at(0);
    await at(GRACE + 1000);
    assert.equal(readyOf(await node('gw2')).status, 'Unknown');
    await at(GRACE + 3000, ['gw1', 'gw2']);
    const gw2 = await node('gw2');
    const ready = readyOf(gw2);
    assert.equal(ready.status, 'True');
    assert.equal(ready.reason, 'KubeletReady');
    assert.equal(ready.lastHeartbeatTime, new Date(T0 + GRACE + 3000).toISOString().slice(0, 19) + 'Z');
    assert.deepEqual(taintsOf(gw2), ['dedicated:NoSchedule']);
    const written = gw2.metadata.resourceVersion;
    await at(GRACE + 4000, ['gw1', 'gw2']);
    assert.equal((await node('gw2')).metadata.resourceVersion, written, 'heartbeats write nothing while Ready');
  });

  it('classifies pods for eviction', () => {
    const p = (meta: Record<string, unknown>, status: Record<string, unknown> = {}): KObject => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', ...meta }, status });
    assert.equal(evictionOf(p({ ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'r', uid: 'u', controller: true }] })), 'delete');
    assert.equal(evictionOf(p({ ownerReferences: [{ apiVersion: 'apps/v1', kind: 'DaemonSet', name: 'd', uid: 'u', controller: true }] })), 'skip');
    assert.equal(evictionOf(p({ ownerReferences: [{ apiVersion: 'v1', kind: 'ConfigMap', name: 'c', uid: 'u' }] })), 'fail', 'an owner that is not a controller leaves the pod bare');
    assert.equal(evictionOf(p({})), 'fail');
    assert.equal(evictionOf(p({}, { phase: 'Succeeded' })), 'skip');
    assert.equal(evictionOf(p({ deletionTimestamp: '2026-01-01T00:00:00Z' })), 'skip');
  });
});
