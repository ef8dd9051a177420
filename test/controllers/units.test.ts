// The controllers' pure parts: Kubernetes' rounding of maxSurge/maxUnavailable, victim order,
// toleration rules, endpoint subsets, the Endpoints controller's event routing, expectations and
// slow-start batches.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fenceposts, maxUnavailable, newReplicaSetReplicas } from '../../src/controllers/deployment-math.ts';
import { endpointSubsets, resolveTargetPort } from '../../src/controllers/endpoints-content.ts';
import { EndpointsController } from '../../src/controllers/endpoints-controller.ts';
import { Expectations } from '../../src/controllers/expectations.ts';
import { slowStartBatch } from '../../src/controllers/slow-start.ts';
import { daemonPlacement } from '../../src/controllers/taints.ts';
import { tolerates } from '../../src/scheduler/node-rules.ts';
import { chooseVictims, victimOrder } from '../../src/controllers/victims.ts';
import { scaledIntOrPercent, templateHash } from '../../src/controllers/workload-objects.ts';
import type { KObject } from '../../src/model/index.ts';
import { quietLogger } from '../store/store-helpers.ts';

const dep = (replicas: number, maxSurge: unknown, maxUnavailableValue: unknown): KObject => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name: 'd' },
  spec: { replicas, strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge, maxUnavailable: maxUnavailableValue } } },
});

describe('rollout arithmetic', () => {
  it('rounds surge up and unavailable down, and never lets both be 0', () => {
    assert.deepEqual(fenceposts(dep(10, '25%', '25%')), { surge: 3, unavailable: 2 });
    assert.deepEqual(fenceposts(dep(1, '25%', '25%')), { surge: 1, unavailable: 0 });
    assert.deepEqual(fenceposts(dep(3, 0, '10%')), { surge: 0, unavailable: 1 });
    assert.equal(maxUnavailable(dep(2, 0, 5)), 2, 'never more than the replicas');
    assert.equal(scaledIntOrPercent('50%', 5, true), 3);
    assert.equal(scaledIntOrPercent('50%', 5, false), 2);
  });

  it('grows the new ReplicaSet only within the surge', () => {
    const rs = (replicas: number): KObject => ({ apiVersion: 'apps/v1', kind: 'ReplicaSet', metadata: { name: 'x' }, spec: { replicas } });
    const d = dep(4, 1, 1);
    const fresh = rs(0);
    assert.equal(newReplicaSetReplicas(d, [rs(4), fresh], fresh), 1);
    const grown = rs(1);
    assert.equal(newReplicaSetReplicas(d, [rs(3), grown], grown), 2);
    assert.equal(newReplicaSetReplicas(d, [rs(4), grown], grown), 1, 'at the surge limit: wait');
  });

  it('hashes templates stably in the safe alphabet', () => {
    const a = templateHash({ metadata: { labels: { app: 'x' } }, spec: { containers: [{ name: 'c', image: 'i' }] } });
    const b = templateHash({ spec: { containers: [{ image: 'i', name: 'c' }] }, metadata: { labels: { app: 'x' } } });
    assert.equal(a, b);
    assert.match(a, /^[bcdfghjklmnpqrstvwxz2456789]+$/);
    assert.notEqual(templateHash({ a: 1 }, 1), templateHash({ a: 1 }));
  });
});

describe('victim order', () => {
  const pod = (name: string, o: { node?: string; phase?: string; ready?: boolean; created?: string } = {}): KObject => ({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, creationTimestamp: o.created ?? '2026-01-01T00:00:00Z' },
    spec: o.node ? { nodeName: o.node } : {},
    status: { phase: o.phase ?? 'Running', conditions: [{ type: 'Ready', status: o.ready === false ? 'False' : 'True', lastTransitionTime: '2026-01-01T00:00:00Z' }] },
  });

  it('unassigned, pending, not ready, on a sick node, on a crowded node, newest', () => {
    const pods = [
      pod('old-alone', { node: 'b', created: '2026-01-01T00:00:00Z' }),
      pod('crowd-1', { node: 'a' }),
      pod('crowd-2', { node: 'a', created: '2026-01-01T00:00:01Z' }),
      pod('sick', { node: 'sick' }),
      pod('notready', { node: 'd', ready: false }),
      pod('pending', { node: 'c', phase: 'Pending', ready: false }),
      pod('unassigned', { phase: 'Pending', ready: false }),
    ];
    const order = victimOrder(pods, (node) => node !== 'sick').map((p) => p.metadata.name);
    // after crowd-2, nodes a and b hold one pod each and the rest ties: the name decides
    assert.deepEqual(order, ['unassigned', 'pending', 'notready', 'sick', 'crowd-2', 'old-alone', 'crowd-1']);
  });

  it('scaling 3/3/3 down to 3 takes two from each node: the spread holds', () => {
    const pods = ['a', 'b', 'c'].flatMap((node) => [1, 2, 3].map((i) => pod(`${node}${i}`, { node, created: `2026-01-01T00:00:0${i}Z` })));
    const victims = chooseVictims(pods, 6, () => true);
    const left = pods.filter((p) => !victims.includes(p));
    assert.deepEqual(left.map((p) => (p.spec as { nodeName: string }).nodeName).sort(), ['a', 'b', 'c']);
  });
});

describe('tolerations', () => {
  it('follows Kubernetes: key, operator, value and effect', () => {
    const taint = { key: 'k', value: 'v', effect: 'NoSchedule' };
    const t = (o: { key?: string; operator?: 'Equal' | 'Exists'; value?: string; effect?: string }) => ({ key: '', operator: 'Equal' as const, value: '', effect: '', ...o });
    assert.ok(tolerates(t({ key: 'k', operator: 'Equal', value: 'v', effect: 'NoSchedule' }), taint));
    assert.ok(tolerates(t({ key: 'k', operator: 'Exists' }), taint));
    assert.ok(tolerates(t({ operator: 'Exists' }), taint));
    assert.ok(!tolerates(t({ key: 'k', value: 'w' }), taint));
    assert.ok(!tolerates(t({ key: 'k', operator: 'Exists', effect: 'NoExecute' }), taint));
  });

  it('places daemons on cordoned and not-ready nodes but not on other taints', () => {
    const node = (taints: unknown[], labels: Record<string, string> = {}): KObject => ({ apiVersion: 'v1', kind: 'Node', metadata: { name: 'n', labels }, spec: { taints } });
    assert.deepEqual(daemonPlacement({}, node([{ key: 'node.kubernetes.io/unschedulable', effect: 'NoSchedule' }, { key: 'node.kubernetes.io/not-ready', effect: 'NoExecute' }])), { shouldRun: true, shouldContinueRunning: true });
    assert.deepEqual(daemonPlacement({}, node([{ key: 'gpu', effect: 'NoSchedule' }])), { shouldRun: false, shouldContinueRunning: true });
    assert.deepEqual(daemonPlacement({}, node([{ key: 'gone', effect: 'NoExecute' }])), { shouldRun: false, shouldContinueRunning: false });
    assert.deepEqual(daemonPlacement({ nodeSelector: { disk: 'ssd' } }, node([], { disk: 'ssd' })), { shouldRun: true, shouldContinueRunning: true });
    assert.deepEqual(daemonPlacement({ nodeSelector: { disk: 'ssd' } }, node([])), { shouldRun: false, shouldContinueRunning: false });
    // required node affinity counts as it does for the scheduler
    const arm64Only = { affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'kubernetes.io/arch', operator: 'In', values: ['arm64'] }] }] } } } };
    assert.deepEqual(daemonPlacement(arm64Only, node([], { 'kubernetes.io/arch': 'amd64' })), { shouldRun: false, shouldContinueRunning: false });
    assert.deepEqual(daemonPlacement(arm64Only, node([], { 'kubernetes.io/arch': 'arm64' })), { shouldRun: true, shouldContinueRunning: true });
  });
});

describe('endpoint subsets', () => {
  const pod = (name: string, ip: string, ready: boolean, ports: unknown[] = []): KObject => ({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: 'ns', uid: `u-${name}` },
    spec: { containers: [{ name: 'c', ports }] },
    status: { phase: 'Running', podIP: ip, conditions: [{ type: 'Ready', status: ready ? 'True' : 'False' }] },
  });
  const service = (ports: unknown[], extra: Record<string, unknown> = {}): KObject => ({ apiVersion: 'v1', kind: 'Service', metadata: { name: 's' }, spec: { selector: { a: 'b' }, ports, ...extra } });

  it('resolves named ports per pod, by protocol', () => {
    const p = pod('p', '10.0.0.1', true, [{ name: 'dns', containerPort: 53, protocol: 'UDP' }, { name: 'web', containerPort: 8080 }]);
    assert.equal(resolveTargetPort({ port: 80, targetPort: 'web' }, p), 8080);
    assert.equal(resolveTargetPort({ port: 53, targetPort: 'dns', protocol: 'UDP' }, p), 53);
    assert.equal(resolveTargetPort({ port: 53, targetPort: 'dns', protocol: 'TCP' }, p), undefined);
    assert.equal(resolveTargetPort({ port: 80 }, p), 80);
  });

  it('groups addresses sharing ports, sorted by IP, ready apart from not ready', () => {
    const subsets = endpointSubsets(service([{ port: 80, targetPort: 8080 }]), [pod('b', '10.0.0.10', true), pod('a', '10.0.0.9', true), pod('c', '10.0.0.11', false)]);
    assert.equal(subsets.length, 1);
    assert.deepEqual(subsets[0]!.addresses!.map((a) => a.ip), ['10.0.0.9', '10.0.0.10']);
    assert.deepEqual(subsets[0]!.notReadyAddresses!.map((a) => a.ip), ['10.0.0.11']);
    assert.deepEqual(subsets[0]!.ports, [{ port: 8080, protocol: 'TCP' }]);
    const published = endpointSubsets(service([{ port: 80 }], { publishNotReadyAddresses: true }), [pod('c', '10.0.0.11', false)]);
    assert.deepEqual(published[0]!.addresses!.map((a) => a.ip), ['10.0.0.11']);
  });
});

describe('expectations', () => {
  it('hold until every creation and deletion is seen, or they time out', () => {
    let now = 0;
    const e = new Expectations({ now: () => now, timeoutMs: 1000 });
    assert.ok(e.satisfied('rs'));
    e.expect('rs', 2, ['u1']);
    e.creationObserved('rs');
    assert.ok(!e.satisfied('rs'));
    e.creationObserved('rs');
    assert.ok(!e.satisfied('rs'));
    e.deletionObserved('rs', 'u1');
    assert.ok(e.satisfied('rs'));
    e.expect('rs', 1);
    now = 1001;
    assert.ok(e.satisfied('rs'), 'a lost watch event does not block forever');
  });
});

describe('slow start', () => {
  it('batches 1, 2, 4, ... and stops after the first batch with a failure', async () => {
    const calls: number[] = [];
    const result = await slowStartBatch(20, 16, async (i) => {
      calls.push(i);
      if (i === 5) throw new Error('quota');
    });
    // Batches [0], [1,2], [3..6]: the third failed, so 7 calls and no more.
    assert.equal(calls.length, 7);
    assert.equal(result.successes, 6);
    assert.equal(result.errors.length, 1);
    const all = await slowStartBatch(10, 4, async () => undefined);
    assert.deepEqual(all, { successes: 10, errors: [] });
  });
});

describe('endpoints event routing', () => {
  // Informers over fixed lists, and an API that records writes: enough for the routing map.
  const store = (items: KObject[]) => ({
    list: (ns?: string) => items.filter((o) => ns === undefined || o.metadata.namespace === ns),
    get: (ns: string | undefined, name: string) => items.find((o) => o.metadata.namespace === ns && o.metadata.name === name),
  });
  const podOf = (name: string, app: string): KObject => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'default', labels: { app } }, spec: {} });
  const svcOf = (name: string, app: string): KObject => ({ apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: 'default' }, spec: { selector: { app }, ports: [{ port: 80 }] } });

  it('routes a pod to the Services that select it, forgets it when it leaves them or they go', async () => {
    const pods: KObject[] = [podOf('p1', 'web'), podOf('p2', 'web')];
    const services: KObject[] = [svcOf('web', 'web')];
    const writes: string[] = [];
    const api = { create: async (_i: unknown, _ns: unknown, body: KObject) => void writes.push(`create ${body.metadata.name}`), replace: async () => undefined };
    const controller = new EndpointsController({
      api: api as never,
      deleter: { delete: async () => undefined } as never,
      pods: store(pods) as never,
      services: store(services) as never,
      endpoints: store([]) as never,
      logger: quietLogger,
    });
    await controller.reconcile('default/web');
    assert.deepEqual(writes, ['create web']);
    assert.equal(controller.routedPods, 2);
    assert.deepEqual(controller.keysFor('pods', pods[0]!, 'modified'), ['default/web']);
    // p1 relabelled: its next event still reaches web (to leave it), and after web's reconcile
    // it no longer does.
    pods[0] = podOf('p1', 'db');
    assert.deepEqual(controller.keysFor('pods', pods[0], 'modified'), ['default/web']);
    await controller.reconcile('default/web');
    assert.deepEqual(controller.keysFor('pods', pods[0], 'modified'), []);
    assert.equal(controller.routedPods, 1);
    // web deleted: nothing is routed to it any more.
    services.length = 0;
    await controller.reconcile('default/web');
    assert.equal(controller.routedPods, 0);
    assert.deepEqual(controller.keysFor('pods', pods[1]!, 'modified'), []);
  });
});
