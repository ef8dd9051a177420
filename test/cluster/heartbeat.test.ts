// Heartbeats over a real peer HTTP server (the peer link's handler, token and cluster-id checks):
// the sender reaches the leader's table, a wrong token or cluster is refused, a follower refuses
// them, a follower's view asks the leader (cached), and the metrics API serves them.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { mkdirSync, writeFileSync } from 'node:fs';
import { NodeMetricsRoutes } from '../../src/api/resources/metrics.ts';
import { UsageSampler } from '../../src/host/usage.ts';
import { HEARTBEAT_PATH, HeartbeatTable, parseHeartbeat } from '../../src/cluster/heartbeat.ts';
import { createHeartbeatRoutes } from '../../src/cluster/heartbeat-routes.ts';
import { startHeartbeats } from '../../src/cluster/heartbeat-sender.ts';
import { HeartbeatView, withHeartbeatTime } from '../../src/cluster/heartbeat-view.ts';
import { PeerCallError, PeerClient } from '../../src/cluster/peer-client.ts';
import { createPeerHandler } from '../../src/cluster/peer-server.ts';
import type { KObject } from '../../src/model/index.ts';
import { findResource } from '../../src/model/index.ts';
import { quietLogger, until } from '../store/store-helpers.ts';
import { startTestApi } from '../api/resource-helpers.ts';

const TOKEN = 'cluster-token-1';
const CLUSTER = 'cluster-a';
const usage = (cpuCores: number) => () => ({ cpuCores, memoryBytes: 256 * 1024 * 1024, windowSeconds: 1, timestamp: new Date(), diskUsedBytes: 3e9, diskTotalBytes: 1.6e10, temperatureCelsius: 51.5 });

describe('heartbeats over the peer link', () => {
  let server: Server;
  let url: string;
  let dir: string;
  const table = new HeartbeatTable();
  const leading = { is: true };
  const client = new PeerClient(TOKEN);

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'bramble-hb-'));
    const handler = createPeerHandler({
      token: TOKEN,
      clusterId: () => CLUSTER,
      logger: quietLogger,
      onMessages: () => undefined,
      onSnapshot: () => undefined,
      incomingDir: join(dir, 'incoming'),
      extraRoutes: createHeartbeatRoutes({ table, isLeader: () => leading.is }),
    });
    server = createServer(handler);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(async () => {
    await client.close();
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
    rmSync(dir, { recursive: true, force: true });
  });

  it('a sender reaches the leader every interval; the leader keeps the figures in memory', async () => {
    const sender = startHeartbeats({ nodeName: 'gw2', intervalMillis: 20, usage: usage(0.5), leader: () => ({ self: false, peerURL: url }), client, clusterId: CLUSTER, local: () => assert.fail('not the leader'), logger: quietLogger });
    try {
      await until('a heartbeat', () => table.get('gw2') !== undefined, 3000);
      const first = table.get('gw2')!.receivedAt;
      await until('another heartbeat', () => table.get('gw2')!.receivedAt > first, 3000);
      const record = table.get('gw2')!;
      assert.equal(record.usage.cpuCores, 0.5);
      assert.equal(record.usage.diskTotalBytes, 1.6e10);
      assert.equal(record.usage.temperatureCelsius, 51.5);
      assert.equal(sender.failures, 0);
    } finally {
      sender.stop();
    }
  });

  it('a leader delivers its own beats to its table without HTTP', async () => {
    const own = new HeartbeatTable();
    const sender = startHeartbeats({ nodeName: 'gw1', intervalMillis: 1000, usage: usage(1), leader: () => ({ self: true }), client: { post: () => assert.fail('no HTTP to itself') }, clusterId: CLUSTER, local: (hb) => own.record(hb), logger: quietLogger });
    sender.stop();
    assert.equal(await sender.beat(), true);
    assert.equal(own.get('gw1')!.usage.cpuCores, 1);
  });

  it('the peer link refuses a wrong token and a wrong cluster; a follower refuses heartbeats', async () => {
    const body = JSON.stringify({ node: 'gw9', cpuCores: 0, memoryBytes: 0, windowSeconds: 1 });
    const stranger = new PeerClient('not-the-token');
    try {
      await assert.rejects(stranger.post(url, HEARTBEAT_PATH, body, { clusterId: CLUSTER }), (e: unknown) => e instanceof PeerCallError && e.status === 401);
    } finally {
      await stranger.close();
    }
    await assert.rejects(client.post(url, HEARTBEAT_PATH, body, { clusterId: 'cluster-b' }), (e: unknown) => e instanceof PeerCallError && e.status >= 400 && e.status < 500);
    await assert.rejects(client.post(url, HEARTBEAT_PATH, '{"node":"Bad_Name"}', { clusterId: CLUSTER }), (e: unknown) => e instanceof PeerCallError && e.status === 400 && /node must be a DNS-1123 label/.test(e.message));
    assert.equal(table.get('gw9'), undefined);
    leading.is = false;
    try {
      await assert.rejects(client.post(url, HEARTBEAT_PATH, body, { clusterId: CLUSTER }), (e: unknown) => e instanceof PeerCallError && e.status === 421);
      const sender = startHeartbeats({ nodeName: 'gw9', intervalMillis: 1000, usage: usage(0), leader: () => ({ self: false, peerURL: url }), client, clusterId: CLUSTER, local: () => undefined, logger: quietLogger });
      sender.stop();
      await until('the first beat', () => sender.failures > 0, 3000);
      assert.equal(table.get('gw9'), undefined);
    } finally {
      leading.is = true;
    }
  });

  it("a follower's view asks the leader once per cache period and shows lastHeartbeatTime on Nodes", async () => {
    table.record({ node: 'gw3', cpuCores: 0.25, memoryBytes: 1024, windowSeconds: 1 });
    let calls = 0;
    const counting = { post: (...args: Parameters<PeerClient['post']>) => (calls++, client.post(...args)) };
    let now = Date.now();
    const view = new HeartbeatView({ table: new HeartbeatTable(), leader: () => ({ self: false, peerURL: url }), client: counting, clusterId: CLUSTER, cacheMillis: 1000, now: () => now });
    const [a, b] = await Promise.all([view.records(), view.records()]);
    assert.equal(calls, 1, 'concurrent reads share one request');
    assert.deepEqual(a, b);
    const gw3 = a.find((r) => r.node === 'gw3')!;
    assert.ok(Math.abs(gw3.receivedAt - table.get('gw3')!.receivedAt) < 1000);
    await view.records();
    assert.equal(calls, 1, 'cached');
    now += 1500;
    await view.records();
    assert.equal(calls, 2, 'asked again after the cache period');
    const node: KObject = { apiVersion: 'v1', kind: 'Node', metadata: { name: 'gw3' }, status: { conditions: [{ type: 'Ready', status: 'True', lastHeartbeatTime: '2020-01-01T00:00:00Z' }] } };
    const shown = await view.nodeView(node);
    const ready = (shown['status'] as { conditions: { lastHeartbeatTime: string }[] }).conditions[0]!;
    assert.ok(Date.parse(ready.lastHeartbeatTime) > Date.parse('2025-01-01T00:00:00Z'));
    assert.equal((node['status'] as { conditions: { lastHeartbeatTime: string }[] }).conditions[0]!.lastHeartbeatTime, '2020-01-01T00:00:00Z', 'the stored object is not modified');
    assert.deepEqual(withHeartbeatTime(node, Date.parse('2019-01-01T00:00:00Z')), node, 'never moved back');
  });

  it('the metrics API serves the heartbeats (fresh ones only), with disk and temperature', async () => {
    const fresh = new HeartbeatTable({ now: () => 1_000_000 });
    fresh.record({ node: 'gw2', cpuCores: 0.5, memoryBytes: 512 * 1024 * 1024, windowSeconds: 1, diskUsedBytes: 4e9, diskTotalBytes: 8e9, temperatureCelsius: 48 });
    const old = new HeartbeatTable({ now: () => 1_000_000 - 120_000 });
    old.record({ node: 'gw1', cpuCores: 1, memoryBytes: 1, windowSeconds: 1 });
    const metrics = new NodeMetricsRoutes({ selfNode: 'gw1', usage: () => assert.fail('not asked'), members: () => assert.fail('not asked'), token: 't', heartbeats: async () => [...fresh.all(), ...old.all()], now: () => 1_000_000 });
    let body = '';
    const res = { writeHead: () => res, end: (text: string) => (body = text) } as never;
    await metrics.handle({ method: 'GET' } as never, res, '/apis/metrics.k8s.io/v1beta1/nodes');
    const list = JSON.parse(body) as { items: { metadata: { name: string }; usage: { cpu: string; memory: string }; bramble?: Record<string, number> }[] };
    assert.deepEqual(list.items.map((i) => i.metadata.name), ['gw2'], 'a node silent for a minute is left out');
    assert.deepEqual(list.items[0]!.usage, { cpu: '500m', memory: '512Mi' });
    assert.deepEqual(list.items[0]!.bramble, { diskUsedBytes: 4e9, diskTotalBytes: 8e9, temperatureCelsius: 48 });
    await metrics.close();
  });

  it("the resource API shows Nodes (get, status, list) with the leader's heartbeat time, writing nothing", async () => {
    const t = await startTestApi();
    try {
      const created = await t.call('POST', '/api/v1/nodes', { apiVersion: 'v1', kind: 'Node', metadata: { name: 'gw5' } });
      assert.equal(created.status, 201, created.text);
      const nodesInfo = findResource('', 'v1', 'nodes')!;
      await t.resources.api.update(nodesInfo, undefined, 'gw5', (n) => ({ ...n, status: { conditions: [{ type: 'Ready', status: 'True', lastHeartbeatTime: '2026-01-01T00:00:00Z' }] } }), { dryRun: false });
      const own = new HeartbeatTable({ now: () => Date.parse('2026-06-01T12:00:00Z') });
      own.record({ node: 'gw5', cpuCores: 0.75, memoryBytes: 64 * 1024 * 1024, windowSeconds: 1, temperatureCelsius: 40 });
      const view = new HeartbeatView({ table: own, leader: () => ({ self: true }), client, clusterId: CLUSTER });
      t.resources.routes.useNodeHeartbeats(view);
      const heartbeatOf = (body: any) => body.status.conditions[0].lastHeartbeatTime; // eslint-disable-line @typescript-eslint/no-explicit-any
      assert.equal(heartbeatOf((await t.call('GET', '/api/v1/nodes/gw5')).body), '2026-06-01T12:00:00Z');
      assert.equal(heartbeatOf((await t.call('GET', '/api/v1/nodes/gw5/status')).body), '2026-06-01T12:00:00Z');
      assert.equal(heartbeatOf((await t.call('GET', '/api/v1/nodes')).body.items[0]), '2026-06-01T12:00:00Z');
      const stored = await t.resources.api.store.get(nodesInfo, undefined, 'gw5', false);
      assert.equal((stored!.object['status'] as any).conditions[0].lastHeartbeatTime, '2026-01-01T00:00:00Z', 'nothing written per heartbeat'); // eslint-disable-line @typescript-eslint/no-explicit-any
    } finally {
      await t.close();
    }
  });

  it('samples disk (statfs of the data directory) and the hottest thermal zone for the beats', async () => {
    const thermal = join(dir, 'thermal');
    for (const [zone, milli] of [['thermal_zone0', '48250'], ['thermal_zone1', '61500'], ['thermal_zone2', '-274000'], ['cooling_device0', '1']] as const) {
      mkdirSync(join(thermal, zone), { recursive: true });
      writeFileSync(join(thermal, zone, 'temp'), `${milli}\n`);
    }
    const sampler = new UsageSampler(1000, { diskPath: dir, thermalDir: thermal, temperatureFallback: async () => assert.fail('zones exist') });
    await sampler.refreshSlow();
    const usage = sampler.sample();
    assert.equal(usage.temperatureCelsius, 61.5);
    assert.ok(usage.diskTotalBytes! > 0 && usage.diskUsedBytes! > 0 && usage.diskUsedBytes! <= usage.diskTotalBytes!);
    const bare = new UsageSampler(1000, { thermalDir: join(dir, 'none'), temperatureFallback: async () => undefined });
    await bare.refreshSlow();
    const none = bare.sample();
    assert.equal(none.temperatureCelsius, undefined);
    assert.equal(none.diskTotalBytes, undefined);
  });

  it('checks heartbeat fields', () => {
    assert.deepEqual(parseHeartbeat('{"node":"gw1","cpuCores":1,"memoryBytes":2,"windowSeconds":1}'), { node: 'gw1', cpuCores: 1, memoryBytes: 2, windowSeconds: 1 });
    assert.throws(() => parseHeartbeat('{"node":"gw1","cpuCores":"x","memoryBytes":2,"windowSeconds":1}'), /cpuCores must be a finite number/);
    assert.throws(() => parseHeartbeat('[]'), /expected a JSON object/);
    assert.throws(() => parseHeartbeat('nope'), /not JSON/);
  });
});
