// The agent over a real in-process resource API (SQLite store, watch cache, deleter) with fake
// runtime, network, images, logs and clock; the API can be switched "offline" (writes answer
// 503 as without a quorum) to test offline operation.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resourceApiClient, startAgent, type Agent, type AgentOptions } from '../../src/agent/index.ts';
import type { AgentApi } from '../../src/agent/ports.ts';
import { Status } from '../../src/api/resources/index.ts';
import type { KObject } from '../../src/model/index.ts';
import { findResource } from '../../src/model/index.ts';
import { startTestApi, type TestApi } from '../api/resource-helpers.ts';
import { quietLogger } from '../store/store-helpers.ts';
import { FakeClock, FakeImages, FakeLogs, FakeMounts, FakeNamespaces, FakeNetwork, FakeProber, FakeRuntime, settle } from './fakes.ts';

export const NODE = 'gw1';
export const podsInfo = findResource('', 'v1', 'pods')!;
export const nodesInfo = findResource('', 'v1', 'nodes')!;
export const eventsInfo = findResource('', 'v1', 'events')!;
export const configMapsInfo = findResource('', 'v1', 'configmaps')!;

export interface Harness {
  test: TestApi;
  api: AgentApi;
  clock: FakeClock;
  runtime: FakeRuntime;
  network: FakeNetwork;
  namespaces: FakeNamespaces;
  mounts: FakeMounts;
  images: FakeImages;
  logs: FakeLogs;
  prober: FakeProber;
  dataDir: string;
  agent: Agent;
  /** Writes fail with 503 while true; `writesRefused` counts them. */
  offline: boolean;
  writesRefused: number;
  statusWrites: number;
  startAgent(extra?: Partial<AgentOptions>): Promise<Agent>;
  createPod(name: string, spec: Record<string, unknown>, namespace?: string): Promise<KObject>;
  pod(name: string, namespace?: string): Promise<KObject | undefined>;
  /** Polls (real time) until `check` passes, letting the agent work in between. */
  until(what: string, check: () => Promise<boolean> | boolean, ms?: number): Promise<void>;
  close(): Promise<void>;
}

export async function startHarness(options: { startAgent?: boolean } = {}): Promise<Harness> {
  const test = await startTestApi({ selfNode: NODE });
  const real = resourceApiClient(test.resources.api, test.resources.deleter);
  const clock = new FakeClock();
  const dataDir = mkdtempSync(join(tmpdir(), 'bramble-agent-'));
  const h = {
    test,
    clock,
    runtime: new FakeRuntime(clock),
    network: new FakeNetwork(),
    namespaces: new FakeNamespaces(),
    mounts: new FakeMounts(),
    images: new FakeImages(),
    logs: new FakeLogs(join(dataDir, 'logs')),
    prober: new FakeProber(),
    dataDir,
    offline: false,
    writesRefused: 0,
    statusWrites: 0,
  } as Harness;
  const refuse = () => {
    h.writesRefused++;
    return Status.unavailable('no leader: the cluster has no quorum (test offline)');
  };
  h.api = {
    get: (...a) => real.get(...a),
    list: (...a) => real.list(...a),
    async create(...a) {
      if (h.offline) throw refuse();
      return real.create(...a);
    },
    async replaceStatus(...a) {
      if (h.offline) throw refuse();
      if (a[0].resource === 'pods') h.statusWrites++;
      return real.replaceStatus(...a);
    },
    async deletePod(...a) {
      if (h.offline) throw refuse();
      return real.deletePod(...a);
    },
  };
  h.startAgent = async (extra = {}) => {
    h.agent = await startAgent({
      nodeName: NODE,
      dataDir,
      runtime: h.runtime,
      images: h.images,
      network: h.network,
      namespaces: h.namespaces,
      mounts: h.mounts,
      logs: h.logs,
      api: h.api,
      watch: test.resources.cache,
      logger: quietLogger,
      clock,
      prober: h.prober,
      reserved: { cpuMillis: 500, memoryBytes: 2 ** 30 },
      facts: { cpuCores: 4, memoryBytes: 4 * 2 ** 30, hostIP: '192.168.1.5', osImage: 'Debian GNU/Linux 12 (bookworm)', kernelVersion: '6.1.0', architecture: 'arm64' },
      hostResolvConfPath: '/nonexistent/resolv.conf',
      containerRuntimeVersion: 'containerd://1.6.20',
      ...extra,
    });
    return h.agent;
  };
  h.createPod = (name, spec, namespace = 'default') =>
    real.create(podsInfo, namespace, { apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace }, spec: { nodeName: NODE, ...spec } } as KObject);
  h.pod = (name, namespace = 'default') => real.get(podsInfo, namespace, name);
  h.until = async (what, check, ms = 5000) => {
    const deadline = Date.now() + ms;
    for (;;) {
      await h.agent?.idle();
      if (await check()) return;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 10));
      await settle();
    }
  };
  h.close = async () => {
    await h.agent?.stop();
    await test.close();
    rmSync(dataDir, { recursive: true, force: true });
  };
  if (options.startAgent !== false) await h.startAgent();
  return h;
}

/** The status of container `name` of a pod. */
export function containerStatus(pod: KObject | undefined, name: string, init = false): any { // eslint-disable-line @typescript-eslint/no-explicit-any
  const status = (pod?.['status'] ?? {}) as Record<string, unknown>;
  const list = (status[init ? 'initContainerStatuses' : 'containerStatuses'] ?? []) as { name: string }[];
  return list.find((c) => c.name === name);
}

export function phaseOf(pod: KObject | undefined): string | undefined {
  return (pod?.['status'] as { phase?: string } | undefined)?.phase;
}

export function condition(pod: KObject | undefined, type: string): string | undefined {
  const conditions = ((pod?.['status'] as { conditions?: { type: string; status: string }[] } | undefined)?.conditions ?? []);
  return conditions.find((c) => c.type === type)?.status;
}
