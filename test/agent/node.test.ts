// The gateway's Node: registration (labels from flags kept up to date, users' labels, taints,
// unschedulable and the Ready condition left alone), the pod CIDR claim (unique under
// concurrent claimants, stable across restarts from the data directory, waiting for a writable
// store on the first start), and the agent stopping the containers of pods that the node
// lifecycle controller evicted (a deletionTimestamp, or Failed/NodeLost) once it hears of it.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { followHostAddress } from '../../src/agent/address-follower.ts';
import { BOARD_LABEL, claimPodCidr, FLAG_LABELS_ANNOTATION, obtainPodCidr, POD_CIDR_FILE, podCidrClaims, registerGatewayNode, type GatewayNodeOptions } from '../../src/agent/node.ts';
import { createLogger } from '../../src/log/index.ts';
import type { KObject } from '../../src/model/index.ts';
import { findResource } from '../../src/model/index.ts';
import type { KvService } from '../../src/store/kv/service.ts';
import type { TestApi } from '../api/resource-helpers.ts';
import { startTestApi } from '../api/resource-helpers.ts';
import { quietLogger } from '../store/store-helpers.ts';
import { NODE, phaseOf, startHarness } from './harness.ts';

const nodesInfo = findResource('', 'v1', 'nodes')!;
const podsInfo = findResource('', 'v1', 'pods')!;

const options = (labels: Record<string, string>, podCidr = '10.42.7.0/24'): GatewayNodeOptions => ({
  nodeName: 'gw7',
  podCidr,
  version: '1.2.3',
  containerRuntimeVersion: 'containerd://1.7.0',
  reserved: { cpuMillis: 500, memoryBytes: 2 ** 30 },
  facts: { cpuCores: 4, memoryBytes: 4 * 2 ** 30, hostIP: '192.168.1.7', osImage: 'Debian', kernelVersion: '6.1.0', architecture: 'arm64', machineID: 'mid', systemUUID: 'suuid', bootID: 'bid' },
  labels,
  board: 'raspberry-pi-4',
});

describe('node registration and pod CIDR', () => {
  let t: TestApi;
  let dir: string;
  before(async () => {
    t = await startTestApi();
    dir = mkdtempSync(join(tmpdir(), 'bramble-node-'));
  });
  after(async () => {
    await t.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('registers labels, board, pod CIDR, capacity, allocatable and nodeInfo', async () => {
    const node = await registerGatewayNode(t.resources.api, options({ 'topology.kubernetes.io/zone': 'z1', 'topology.kubernetes.io/region': 'r1' }), '2026-03-01T10:00:00Z');
    assert.deepEqual(node.metadata.labels, {
      'kubernetes.io/hostname': 'gw7',
      'kubernetes.io/os': 'linux',
      'kubernetes.io/arch': 'arm64',
      [BOARD_LABEL]: 'raspberry-pi-4',
      'topology.kubernetes.io/zone': 'z1',
      'topology.kubernetes.io/region': 'r1',
    });
    assert.deepEqual(node['spec'], { podCIDR: '10.42.7.0/24', podCIDRs: ['10.42.7.0/24'] });
    const status = node['status'] as any; // eslint-disable-line @typescript-eslint/no-explicit-any
    assert.deepEqual(status.capacity, { cpu: '4', memory: `${4 * 1024 * 1024}Ki`, pods: '110' });
    assert.deepEqual(status.allocatable, { cpu: '3500m', memory: `${3 * 1024 * 1024}Ki`, pods: '110' });
    assert.equal(status.nodeInfo.machineID, 'mid');
    assert.equal(status.nodeInfo.systemUUID, 'suuid');
    assert.equal(status.nodeInfo.bootID, 'bid');
    assert.equal(status.conditions[0].type, 'Ready');
    assert.equal(status.conditions[0].status, 'True');
  });

  it('on restart brings flag labels up to date and keeps what others set: labels, taints, unschedulable, Ready', async () => {
    await t.resources.api.update(
      nodesInfo,
      undefined,
      'gw7',
      (n) => ({
        ...n,
        metadata: { ...n.metadata, labels: { ...n.metadata.labels, team: 'edge' } },
        spec: { ...(n['spec'] as object), unschedulable: true, taints: [{ key: 'node.kubernetes.io/unreachable', effect: 'NoExecute' }] },
        status: { ...(n['status'] as object), conditions: [{ type: 'Ready', status: 'Unknown', reason: 'NodeStatusUnknown', lastTransitionTime: '2026-03-01T10:05:00Z' }] },
      }),
      { dryRun: false },
    );
    const node = await registerGatewayNode(t.resources.api, options({ 'topology.kubernetes.io/zone': 'z2' }), '2026-03-01T11:00:00Z');
    assert.equal(node.metadata.labels!['topology.kubernetes.io/zone'], 'z2', 'a changed flag label is updated');
    assert.equal(node.metadata.labels!['topology.kubernetes.io/region'], undefined, 'a flag label no longer given is removed');
    assert.equal(node.metadata.labels!['team'], 'edge', "a user's label is kept");
    assert.equal(node.metadata.annotations![FLAG_LABELS_ANNOTATION], 'topology.kubernetes.io/zone');
    const spec = node['spec'] as { unschedulable: boolean; taints: unknown[] };
    assert.equal(spec.unschedulable, true);
    assert.deepEqual(spec.taints, [{ key: 'node.kubernetes.io/unreachable', effect: 'NoExecute' }]);
    const ready = (node['status'] as { conditions: { status: string }[] }).conditions[0]!;
    assert.equal(ready.status, 'Unknown', 'Ready transitions are the lifecycle controller’s');
    const again = await registerGatewayNode(t.resources.api, options({ 'topology.kubernetes.io/zone': 'z2' }), '2026-03-01T12:00:00Z');
    assert.equal(again.metadata.resourceVersion, node.metadata.resourceVersion, 'nothing changed, nothing written');
  });

  it('follows a change of the gateway\'s address into the Node\'s InternalIP, writing once per change', async () => {
    const o = options({ 'topology.kubernetes.io/zone': 'z2' });
    let address: string | null = o.facts.hostIP;
    const written: string[] = [];
    const follower = followHostAddress({
      facts: o.facts,
      read: () => address,
      everyMs: 10,
      changed: () => void registerGatewayNode(t.resources.api, o, '2026-03-01T13:00:00Z').then((n) => written.push((n['status'] as { addresses: { type: string; address: string }[] }).addresses.find((a) => a.type === 'InternalIP')!.address)),
      logger: quietLogger,
    });
    try {
      await new Promise((r) => setTimeout(r, 50));
      assert.deepEqual(written, [], 'an unchanged address writes nothing');
      address = null;
      await new Promise((r) => setTimeout(r, 50));
      assert.deepEqual(written, [], 'no address up (a link down) keeps the last one');
      assert.equal(o.facts.hostIP, '192.168.1.7');
      address = '192.168.9.70';
      for (let i = 0; i < 200 && written.length === 0; i++) await new Promise((r) => setTimeout(r, 10));
      await new Promise((r) => setTimeout(r, 50));
      assert.deepEqual(written, ['192.168.9.70']);
      assert.equal(o.facts.hostIP, '192.168.9.70');
      const stored = await t.resources.api.get(nodesInfo, undefined, 'gw7', false);
      assert.deepEqual((stored!['status'] as { addresses: unknown[] }).addresses, [
        { type: 'InternalIP', address: '192.168.9.70' },
        { type: 'Hostname', address: 'gw7' },
      ]);
      // A gateway with no address of its own yet (uplink down at start) names none.
      const bare = await registerGatewayNode(t.resources.api, { ...o, facts: { ...o.facts, hostIP: '127.0.0.1' } }, '2026-03-01T14:00:00Z');
      assert.deepEqual((bare['status'] as { addresses: unknown[] }).addresses, [{ type: 'Hostname', address: 'gw7' }]);
    } finally {
      follower.stop();
    }
  });

  it('gives concurrent claimants distinct /24s of 10.42.0.0/16, and a claimant the one it holds', async () => {
    const names = ['a1', 'a2', 'a3', 'a4', 'a5', 'a6'];
    const cidrs = await Promise.all(names.map((n) => claimPodCidr(t.store.service, n)));
    assert.equal(new Set(cidrs).size, names.length, `distinct: ${cidrs.join(' ')}`);
    for (const c of cidrs) assert.match(c, /^10\.42\.\d{1,3}\.0\/24$/);
    assert.equal(await claimPodCidr(t.store.service, 'a3'), cidrs[2], 'idempotent');
    const claims = await podCidrClaims(t.store.service);
    for (const [i, n] of names.entries()) assert.equal(claims.get(cidrs[i]!), n);
    // A preferred CIDR (the Node's from before) is taken when free, refused when held.
    assert.equal(await claimPodCidr(t.store.service, 'b1', '10.42.200.0/24'), '10.42.200.0/24');
    assert.notEqual(await claimPodCidr(t.store.service, 'b2', '10.42.200.0/24'), '10.42.200.0/24');
  });

  it('waits for a writable store on the first start, then keeps the CIDR in the data directory', async () => {
    let failing = 2;
    const flaky: KvService = {
      range: (req) => (failing-- > 0 ? Promise.reject(new Error('no leader: the cluster has no quorum')) : t.store.service.range(req)),
      write: (op) => t.store.service.write(op),
      watch: (req, sink) => t.store.service.watch(req, sink),
    } as KvService;
    const lines: string[] = [];
    const logger = createLogger({ level: 'info', sink: { write: (line: string) => void lines.push(line) } });
    const first = await obtainPodCidr({ kv: flaky, api: t.resources.api, nodeName: 'c1', dataDir: dir, override: undefined, logger, retryMillis: 5 });
    assert.equal(first.how, 'claimed');
    assert.equal(lines.filter((l) => /waiting for the cluster to assign this gateway a pod CIDR/.test(l)).length, 2, 'progress is logged per attempt');
    assert.equal(readFileSync(join(dir, POD_CIDR_FILE), 'utf8'), `${first.cidr}\n`);
    // A restart with no quorum at all: the saved CIDR, without asking the store.
    const dead = { range: () => assert.fail('no store read'), write: () => assert.fail('no store write'), watch: () => assert.fail('no watch') } as unknown as KvService;
    assert.deepEqual(await obtainPodCidr({ kv: dead, api: t.resources.api, nodeName: 'c1', dataDir: dir, override: undefined, logger: quietLogger }), { cidr: first.cidr, how: 'saved' });
    assert.deepEqual(await obtainPodCidr({ kv: dead, api: t.resources.api, nodeName: 'c1', dataDir: dir, override: '10.99.0.0/24', logger: quietLogger }), { cidr: '10.99.0.0/24', how: 'flag' });
    const abort = new AbortController();
    const empty = mkdtempSync(join(tmpdir(), 'bramble-node-'));
    try {
      const never = { range: () => Promise.reject(new Error('no quorum')), write: () => Promise.reject(new Error('no quorum')) } as unknown as KvService;
      const waiting = obtainPodCidr({ kv: never, api: t.resources.api, nodeName: 'c2', dataDir: empty, override: undefined, logger: quietLogger, retryMillis: 5, signal: abort.signal });
      setTimeout(() => abort.abort(), 30);
      await assert.rejects(waiting, /abort/i, 'a shutdown ends the wait');
      assert.equal(existsSync(join(empty, POD_CIDR_FILE)), false);
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
  });
});

describe('agent: pods evicted by the node lifecycle controller', () => {
  const running = (h: Awaited<ReturnType<typeof startHarness>>, uid: string) => [...h.runtime.containers.values()].filter((c) => c.labels['io.bramble.pod.uid'] === uid && c.state === 'running').length;

  it('stops and removes the containers of a pod another party deleted, then confirms the deletion', async () => {
    const h = await startHarness();
    try {
      const pod = await h.createPod('owned', { containers: [{ name: 'c', image: 'busybox' }] });
      await h.until('Running', async () => phaseOf(await h.pod('owned')) === 'Running');
      await h.until('node registered', async () => (await h.api.get(nodesInfo, undefined, NODE)) !== undefined);
      const { gone } = await h.test.resources.deleter.delete(podsInfo, 'default', 'owned', { dryRun: false, preconditions: { uid: pod.metadata.uid! } });
      assert.equal(gone, false, 'graceful: waits for the agent');
      await h.until('the pod is gone', async () => (await h.pod('owned')) === undefined);
      assert.equal(running(h, pod.metadata.uid!), 0);
      assert.equal([...h.runtime.containers.values()].filter((c) => c.labels['io.bramble.pod.uid'] === pod.metadata.uid).length, 0);
    } finally {
      await h.close();
    }
  });

  it('stops the containers of a pod another party marked Failed/NodeLost, and leaves that status', async () => {
    const h = await startHarness();
    try {
      const pod = await h.createPod('bare', { containers: [{ name: 'c', image: 'busybox' }] });
      await h.until('Running', async () => phaseOf(await h.pod('bare')) === 'Running');
      assert.ok(running(h, pod.metadata.uid!) >= 1, 'its container runs');
      await h.test.resources.api.update(podsInfo, 'default', 'bare', (p: KObject) => ({ ...p, status: { ...(p['status'] as object), phase: 'Failed', reason: 'NodeLost', message: 'Node gw1 which was running pod bare is unresponsive' } }), { dryRun: false });
      await h.until('containers stopped', () => running(h, pod.metadata.uid!) === 0);
      await h.agent.idle();
      const status = (await h.pod('bare'))!['status'] as { phase: string; reason: string };
      assert.equal(status.phase, 'Failed');
      assert.equal(status.reason, 'NodeLost');
    } finally {
      await h.close();
    }
  });
});

describe('agent status writes after a partition', () => {
  it('a status write never takes a pod out of a terminal phase', async () => {
    const { resourceApiClient } = await import('../../src/agent/api-client.ts');
    const podsInfo = findResource('', 'v1', 'pods')!;
    const t = await startTestApi({ selfNode: 'gw1' });
    try {
      const client = resourceApiClient(t.resources.api, t.resources.deleter);
      const pod = await client.create(podsInfo, 'default', { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', namespace: 'default' }, spec: { nodeName: 'gw1', containers: [{ name: 'c', image: 'busybox' }] } });
      await t.resources.api.update(podsInfo, 'default', 'p', (p) => ({ ...p, status: { phase: 'Failed', reason: 'NodeLost' } }), { dryRun: false });
      await assert.rejects(client.replaceStatus(podsInfo, 'default', 'p', pod.metadata.uid!, { phase: 'Running' }), (e: { code?: number }) => e.code === 409);
      assert.equal(((await client.get(podsInfo, 'default', 'p'))!['status'] as { phase: string }).phase, 'Failed');
    } finally {
      await t.close();
    }
  });
});
