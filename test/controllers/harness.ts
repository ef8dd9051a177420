// A controller test bench: the real resource API over a real single-member store (the API
// helpers), shared informers feeding a ChangeHub, the controllers with a leadership switch the
// test flips, and a fake node agent that does what kubelet would (marks pods Running and Ready
// with an IP, finishes graceful deletions) when the test asks it to.
import type { Deleter, ObjectApi, WatchCache } from '../../src/api/resources/index.ts';
import { StatusError } from '../../src/api/resources/index.ts';
import { startControllers } from '../../src/controllers/index.ts';
import type { ControllerInformers, Controllers, ControllersOptions } from '../../src/controllers/index.ts';
import { Informer } from '../../src/controllers/informer.ts';
import type { KObject, ResourceInfo } from '../../src/model/index.ts';
import { findResource, timestamp } from '../../src/model/index.ts';
import type { TestApi } from '../api/resource-helpers.ts';
import { startTestApi } from '../api/resource-helpers.ts';
import { createLogger } from '../../src/log/index.ts';
import { quietLogger } from '../store/store-helpers.ts';

export const R = {
  pods: findResource('', 'v1', 'pods')!,
  nodes: findResource('', 'v1', 'nodes')!,
  services: findResource('', 'v1', 'services')!,
  endpoints: findResource('', 'v1', 'endpoints')!,
  replicasets: findResource('apps', 'v1', 'replicasets')!,
  deployments: findResource('apps', 'v1', 'deployments')!,
  daemonsets: findResource('apps', 'v1', 'daemonsets')!,
};

export async function until(what: string, check: () => boolean | Promise<boolean>, ms = 5000): Promise<void> {
  const start = Date.now();
  while (!(await check())) {
    if (Date.now() - start > ms) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** A watch cache whose changes reach the subscriber `delayMs` late (a slow watch). */
export function delayedCache(cache: WatchCache, delayMs: number): WatchCache {
  return {
    get latestRevision() {
      return cache.latestRevision;
    },
    subscribe(prefix: string, after: number, sink: Parameters<WatchCache['subscribe']>[2]) {
      return cache.subscribe(prefix, after, {
        changes: (changes, revision) => void setTimeout(() => sink.changes(changes, revision), delayMs),
        ended: (reason) => sink.ended(reason),
      });
    },
  } as unknown as WatchCache;
}

export interface BenchOptions {
  /** Delay of the pods informer's watch (ms). */
  podWatchDelayMs?: number;
  leader?: boolean;
  /** Pod creations the API refuses (a fake quota), by the pod the controller asks for. */
  refusePod?: (pod: KObject) => boolean;
  controllers?: Partial<ControllersOptions>;
}

export interface Bench {
  t: TestApi;
  api: ObjectApi;
  deleter: Deleter;
  informers: ControllerInformers;
  controllers: Controllers;
  leader: { value: boolean };
  agent: FakeAgent;
  list(info: ResourceInfo, ns?: string): Promise<KObject[]>;
  close(): Promise<void>;
}

export async function startBench(options: BenchOptions = {}): Promise<Bench> {
  const t = await startTestApi();
  const api = t.resources.api;
  const make = (resource: keyof typeof R, delayMs = 0): Informer =>
    new Informer({ info: R[resource], store: api.store, cache: delayMs > 0 ? delayedCache(t.resources.cache, delayMs) : t.resources.cache, logger: quietLogger });
  const informers: ControllerInformers = {
    pods: make('pods', options.podWatchDelayMs),
    nodes: make('nodes'),
    replicasets: make('replicasets'),
    deployments: make('deployments'),
    daemonsets: make('daemonsets'),
    services: make('services'),
    endpoints: make('endpoints'),
  };
  for (const i of Object.values(informers)) i.start();
  const leader = { value: options.leader ?? true };
  // The controllers' view of the API: the real one, but refusing the pods the test says.
  const controllerApi = new Proxy(api, {
    get(target, prop, receiver) {
      if (prop === 'create') {
        return async (info: ResourceInfo, ns: string | undefined, body: KObject, o: { dryRun: boolean }) => {
          if (info === R.pods && options.refusePod?.(body)) throw new StatusError(403, 'Forbidden', 'pods "x" is forbidden: exceeded quota: test-quota');
          return target.create(info, ns, body, o);
        };
      }
      const value = Reflect.get(target, prop, receiver);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
  const controllers = startControllers({
    api: controllerApi,
    deleter: t.resources.deleter,
    informers,
    isLeader: () => leader.value,
    logger: process.env['BENCH_LOG'] ? createLogger({ level: 'debug' }) : quietLogger,
    selfNode: 'm1',
    leaderCheckMillis: 20,
    ...options.controllers,
  });
  const agent = new FakeAgent(api, t.resources.deleter, informers.pods);
  return {
    t,
    api,
    deleter: t.resources.deleter,
    informers,
    controllers,
    leader,
    agent,
    list: async (info, ns) => (await api.store.list(info, ns, { serializable: false })).items,
    async close() {
      agent.stop();
      controllers.stop();
      for (const i of Object.values(informers)) i.stop();
      await t.close();
    },
  };
}

let ipCounter = 1;

/**
 * Plays kubelet for the tests: pods that `ready(pod)` accepts are marked Running and Ready with
 * an IP; pods being deleted are finished after `finishDeleteMs`.
 */
export class FakeAgent {
  readonly #api: ObjectApi;
  readonly #deleter: Deleter;
  readonly #pods: Informer;
  readonly #timer: NodeJS.Timeout;
  readonly #busy = new Set<string>();
  ready: (pod: KObject) => boolean = () => false;
  finishDeleteMs = 0;
  readyDelayMs = 0;
  readonly #seenAt = new Map<string, number>();
  readonly #terminatingSince = new Map<string, number>();

  constructor(api: ObjectApi, deleter: Deleter, pods: Informer) {
    this.#api = api;
    this.#deleter = deleter;
    this.#pods = pods;
    this.#timer = setInterval(() => this.#tick(), 10);
  }

  stop(): void {
    clearInterval(this.#timer);
  }

  #tick(): void {
    const now = Date.now();
    for (const pod of this.#pods.list()) {
      const uid = pod.metadata.uid!;
      if (this.#busy.has(uid)) continue;
      if (!this.#seenAt.has(uid)) this.#seenAt.set(uid, now);
      const status = (pod['status'] ?? {}) as Record<string, unknown>;
      if (pod.metadata.deletionTimestamp) {
        if (!this.#terminatingSince.has(uid)) this.#terminatingSince.set(uid, now);
        if (now - this.#terminatingSince.get(uid)! < this.finishDeleteMs) continue;
        this.#run(uid, () => this.#deleter.delete(R.pods, pod.metadata.namespace, pod.metadata.name!, { dryRun: false, gracePeriodSeconds: 0, preconditions: { uid } }));
        continue;
      }
      if (status['phase'] !== 'Running' && this.ready(pod) && now - this.#seenAt.get(uid)! >= this.readyDelayMs) {
        this.#run(uid, () => markReady(this.#api, pod));
      }
    }
  }

  #run(uid: string, work: () => Promise<unknown>): void {
    this.#busy.add(uid);
    void work()
      .catch(() => undefined)
      .finally(() => this.#busy.delete(uid));
  }
}

/** What kubelet writes when a pod's containers run and pass readiness. */
export async function markReady(api: ObjectApi, pod: KObject, ready = true, ip?: string): Promise<KObject> {
  const now = timestamp(Date.now());
  const podIP = ip ?? (((pod['status'] as Record<string, unknown> | undefined)?.['podIP'] as string | undefined) || `10.42.${Math.floor(ipCounter / 250)}.${(ipCounter++ % 250) + 2}`);
  return api.patchStatus(
    R.pods,
    pod.metadata.namespace,
    pod.metadata.name!,
    'merge',
    { status: { phase: 'Running', podIP, conditions: [{ type: 'Ready', status: ready ? 'True' : 'False', lastTransitionTime: now }] } },
    { dryRun: false },
  );
}

export async function createNode(api: ObjectApi, name: string, options: { labels?: Record<string, string>; taints?: unknown[]; ready?: boolean } = {}): Promise<KObject> {
  await api.create(R.nodes, undefined, { apiVersion: 'v1', kind: 'Node', metadata: { name, labels: { 'kubernetes.io/hostname': name, ...(options.labels ?? {}) } }, spec: options.taints ? { taints: options.taints } : {} }, { dryRun: false });
  return api.replaceStatus(
    R.nodes,
    undefined,
    name,
    { apiVersion: 'v1', kind: 'Node', metadata: { name }, status: { conditions: [{ type: 'Ready', status: options.ready === false ? 'False' : 'True' }] } },
    { dryRun: false },
  );
}

export function podTemplate(app: string, extra: Record<string, unknown> = {}) {
  return {
    metadata: { labels: { app } },
    spec: { containers: [{ name: 'web', image: 'nginx:1.14.2', ports: [{ name: 'http', containerPort: 80 }] }], ...extra },
  };
}

export function replicaSet(name: string, replicas: number, extra: Record<string, unknown> = {}) {
  return { apiVersion: 'apps/v1', kind: 'ReplicaSet', metadata: { name }, spec: { replicas, selector: { matchLabels: { app: name } }, template: podTemplate(name), ...extra } };
}

export function deployment(name: string, replicas: number, spec: Record<string, unknown> = {}) {
  return { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name }, spec: { replicas, selector: { matchLabels: { app: name } }, template: podTemplate(name), ...spec } };
}

export function ownedBy(owner: KObject) {
  return (o: KObject): boolean => (o.metadata.ownerReferences ?? []).some((r) => r.uid === owner.metadata.uid && r.controller === true);
}
