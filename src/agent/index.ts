// The node agent (bramble's kubelet): runs on every gateway, watches the pods bound to it in the
// local replica (so it works with no leader) and reconciles each one through a de-duplicating
// work queue; registers the gateway's Node; cleans up after pods that are gone; serves logs and
// exec for the API. Everything it touches is injected (ports.ts).
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { LocalPodRuntime } from '../api/resources/index.ts';
import { UndecodableChange } from '../api/resources/index.ts';
import type { Logger } from '../log/index.ts';
import type { KObject } from '../model/index.ts';
import { findResource, timestamp } from '../model/index.ts';
import { VERSION } from '../version.ts';
import { ContainerCache } from './container-cache.ts';
import { EventRecorder } from './events.ts';
import { allocatable, hostFacts, registerNode, type NodeFacts } from './node.ts';
import { CLUSTER_DNS_DEFAULT, CLUSTER_DOMAIN_DEFAULT } from './pod-files.ts';
import { createPodRuntime } from './pod-runtime.ts';
import type { AgentApi, Clock, ContainerLogs, ContainerRuntime, ImageStore, NetworkProber, PodNamespaces, PodNetwork, TimerHandle, VolumeMounts, WatchSource } from './ports.ts';
import { LABEL_POD_NAME, LABEL_POD_NAMESPACE, LABEL_POD_UID, systemClock } from './ports.ts';
import { networkProber } from './prober.ts';
import { PodReconciler, podKey } from './reconciler.ts';
import type { ReconcilerOptions } from './reconciler.ts';
import { WorkQueue } from './work-queue.ts';

export type * from './ports.ts';
export { LABEL_CONTAINER_NAME, LABEL_INIT, LABEL_POD_NAME, LABEL_POD_NAMESPACE, LABEL_POD_UID, LABEL_RESTART_COUNT, LABEL_SANDBOX, LABEL_SPEC_HASH, LABEL_STARTED_AT, systemClock } from './ports.ts';
export { resourceApiClient } from './api-client.ts';
export { networkProber } from './prober.ts';
export { podKey, parsePodKey } from './reconciler.ts';

const podsInfo = findResource('', 'v1', 'pods')!;

export const POD_CIDR_DEFAULT = '10.42.0.0/24';

export interface AgentOptions {
  /** This gateway's node name (its member name). */
  nodeName: string;
  /** The daemon's data directory: pod files and volumes go to DATA/pods/<uid>/. */
  dataDir: string;
  runtime: ContainerRuntime;
  images: ImageStore;
  network: PodNetwork;
  /** The pods' pinned IPC and UTS namespaces (runtimePorts gives them). */
  namespaces: PodNamespaces;
  /** tmpfs for memory-backed volumes, unmounted with the pod (runtimePorts gives them). */
  mounts: VolumeMounts;
  logs: ContainerLogs;
  api: AgentApi;
  watch: WatchSource;
  logger: Logger;
  clock?: Clock;
  prober?: NetworkProber;
  podCidr?: string;
  /** What the board profile keeps for the system (allocatable = capacity minus this). */
  reserved?: { cpuMillis: number; memoryBytes: number };
  /** This machine's cores, memory, address, OS (default: from node:os). */
  facts?: NodeFacts;
  /** The address pods see as status.hostIP (default: facts.hostIP, read each time, so a change
   *  of facts.hostIP reaches the pods' status at their next reconcile). */
  hostIP?: string;
  /** Exact creation order for Service variables (src/api/resources/services creationRevisions);
   *  without it, creationTimestamp (whole seconds) decides. */
  creationRevisions?: ReconcilerOptions['creationRevisions'];
  version?: string;
  containerRuntimeVersion?: string;
  clusterDns?: string;
  clusterDomain?: string;
  /** Pods reconciled at once (default 4: most of a reconcile is waiting for ctr and CNI). */
  concurrency?: number;
  /** Every pod is reconciled again, and leftovers of gone pods looked for, this often (default 60 s). */
  resyncMs?: number;
  /** Default /etc/resolv.conf: pods with dnsPolicy Default get its servers. */
  hostResolvConfPath?: string;
  /** Create this gateway's Node object (default true). */
  registerNode?: boolean;
}

export interface Agent {
  /** For the API's log and exec subresources (createResourceApi's `runtime`). */
  readonly podRuntime: LocalPodRuntime;
  readonly reconciler: PodReconciler;
  /** Resolves once no reconcile is queued or running (delayed ones do not count): for tests. */
  idle(): Promise<void>;
  /** Queues every pod bound here (and leftovers of gone pods) now. */
  resync(): Promise<void>;
  /** Stops watching and reconciling; containers keep running (a restart adopts them). */
  stop(): Promise<void>;
}

function hostResolvConf(path: string): string {
  try {
    const text = readFileSync(path, 'utf8');
    // systemd-resolved's stub (127.0.0.53) is unreachable from a pod's namespace.
    if (/^nameserver\s+127\.0\.0\.53/m.test(text)) {
      try {
        return readFileSync('/run/systemd/resolve/resolv.conf', 'utf8');
      } catch {
        return text;
      }
    }
    return text;
  } catch {
    return '';
  }
}

export async function startAgent(options: AgentOptions): Promise<Agent> {
  const clock = options.clock ?? systemClock;
  const log = options.logger.child({ component: 'agent' });
  const facts = options.facts ?? hostFacts();
  const reserved = options.reserved ?? { cpuMillis: 0, memoryBytes: 0 };
  const hostIP = (): string => options.hostIP ?? facts.hostIP;
  const containers = new ContainerCache(options.runtime, clock);
  const events = new EventRecorder({ api: options.api, clock, nodeName: options.nodeName, logger: log });
  const resolvPath = options.hostResolvConfPath ?? '/etc/resolv.conf';
  let queue: WorkQueue | undefined;
  const reconciler = new PodReconciler({
    nodeName: options.nodeName,
    hostIP,
    dataDir: options.dataDir,
    clock,
    runtime: options.runtime,
    containers,
    network: options.network,
    namespaces: options.namespaces,
    mounts: options.mounts,
    images: options.images,
    logs: options.logs,
    api: options.api,
    events,
    prober: options.prober ?? networkProber,
    logger: log,
    allocatable: allocatable(facts, reserved),
    hostResolvConf: () => hostResolvConf(resolvPath),
    clusterDns: options.clusterDns ?? CLUSTER_DNS_DEFAULT,
    clusterDomain: options.clusterDomain ?? CLUSTER_DOMAIN_DEFAULT,
    enqueue: (key) => queue?.add(key),
    ...(options.creationRevisions ? { creationRevisions: options.creationRevisions } : {}),
  });
  const q = new WorkQueue({
    clock,
    concurrency: options.concurrency ?? 4,
    handler: (key) => reconciler.reconcile(key),
    onError: (key, error, retryInMs) => log.warn('pod reconcile failed; retrying', { pod: key, retryInMs, error: error instanceof Error ? error.message : String(error) }),
  });
  queue = q;
  const timers = new Set<TimerHandle>();
  // Timers forget themselves when they fire, so a long-running agent holds only pending ones.
  const later = (fn: () => void, ms: number) => {
    const handle = clock.setTimer(() => {
      timers.delete(handle);
      fn();
    }, ms);
    timers.add(handle);
  };
  const subscriptions: { cancel(): void }[] = [];
  let stopped = false;

  const boundHere = (pod: KObject) => (pod['spec'] as { nodeName?: string } | undefined)?.nodeName === options.nodeName;
  const enqueuePod = (pod: KObject) => {
    const { namespace, name, uid } = pod.metadata;
    if (namespace && name && uid) q.add(podKey({ namespace, name, uid }));
  };

  // Watches first (from the cache's newest revision), then the list: a change in between is
  // seen twice, which a level-triggered reconcile does not mind.
  const watchPrefix = (prefix: string, onChange: (key: string, object: KObject, deleted: boolean) => void) => {
    const subscribe = () => {
      if (stopped) return;
      const sub = options.watch.subscribe(prefix, options.watch.latestRevision, {
        changes: (changes) => {
          for (const c of changes) {
            try {
              onChange(c.key, c.object, c.deleted);
            } catch (error) {
              // a value written around the resource API: not a pod or config this agent can use
              if (!(error instanceof UndecodableChange)) throw error;
            }
          }
        },
        ended: (reason) => {
          log.info('watch ended; watching again and resyncing', { prefix, reason: reason.message });
          later(() => {
            subscribe();
            void resync().catch(() => undefined);
          }, 1000);
        },
      });
      if (sub) subscriptions.push(sub);
      else later(subscribe, 1000);
    };
    subscribe();
  };
  watchPrefix('/registry/pods/', (_key, pod, deleted) => {
    if (boundHere(pod) && (deleted || !reconciler.isOwnStatusWrite(pod))) enqueuePod(pod);
  });
  for (const resource of ['configmaps', 'secrets']) {
    watchPrefix(`/registry/${resource}/`, (key) => {
      for (const podKeyText of reconciler.podsUsing(key.slice('/registry/'.length))) q.add(podKeyText);
    });
  }
  const unsubscribeExits = options.runtime.onExit((containerId) => {
    containers.invalidate();
    void containers
      .get()
      .then((all) => {
        const c = all.find((x) => x.id === containerId);
        const { [LABEL_POD_NAMESPACE]: namespace, [LABEL_POD_NAME]: name, [LABEL_POD_UID]: uid } = c?.labels ?? {};
        if (namespace && name && uid) q.add(podKey({ namespace, name, uid }));
      })
      .catch((error: unknown) => log.warn('cannot list containers after an exit', { containerId, error: String(error) }));
  });

  /** Every pod bound here, and the leftovers (containers, networks, directories) of gone ones. */
  const resync = async (): Promise<void> => {
    // A resync asked for just before stop (the periodic one, an address change) does nothing after.
    if (stopped) return;
    const pods = await options.api.list(podsInfo, undefined);
    if (stopped) return;
    const live = new Set<string>();
    for (const pod of pods.items) {
      if (!boundHere(pod)) continue;
      live.add(pod.metadata.uid ?? '');
      enqueuePod(pod);
    }
    const leftovers = new Map<string, { namespace: string; name: string; uid: string }>();
    const running = await containers.get();
    if (stopped) return;
    for (const c of running) {
      const { [LABEL_POD_NAMESPACE]: namespace, [LABEL_POD_NAME]: name, [LABEL_POD_UID]: uid } = c.labels;
      if (!namespace || !name || !uid) {
        // In bramble's containerd namespace, a container no pod owns is a leftover.
        log.info('removing a container that belongs to no pod', { id: c.id });
        await options.runtime.remove(c.id);
        containers.invalidate();
        continue;
      }
      if (!live.has(uid)) leftovers.set(uid, { namespace, name, uid });
    }
    for (const ref of await options.network.list()) if (!live.has(ref.uid)) leftovers.set(ref.uid, ref);
    let dirs: string[] = [];
    try {
      dirs = readdirSync(join(options.dataDir, 'pods'));
    } catch {
      dirs = [];
    }
    for (const uid of dirs) {
      if (live.has(uid) || leftovers.has(uid)) continue;
      try {
        const meta = JSON.parse(readFileSync(join(options.dataDir, 'pods', uid, 'pod.json'), 'utf8')) as { namespace: string; name: string };
        leftovers.set(uid, { namespace: meta.namespace, name: meta.name, uid });
      } catch {
        leftovers.set(uid, { namespace: '_', name: '_', uid });
      }
    }
    for (const ref of leftovers.values()) q.add(podKey(ref));
  };
  const periodic = (everyMs: number, what: string, work: () => Promise<void>) => {
    const tick = () => {
      if (stopped) return;
      void work()
        .catch((error: unknown) => log.warn(`${what} failed; next try in ${everyMs} ms`, { error: error instanceof Error ? error.message : String(error) }))
        .finally(() => {
          if (!stopped) later(tick, everyMs);
        });
    };
    later(tick, everyMs);
  };

  // The Node, in the background: pods bound here start without waiting for a quorum.
  if (options.registerNode !== false) {
    let delayMs = 2000;
    const register = () => {
      if (stopped) return;
      const timestampNow = timestamp(clock.now());
      registerNode(
        options.api,
        {
          nodeName: options.nodeName,
          podCidr: options.podCidr ?? POD_CIDR_DEFAULT,
          version: options.version ?? VERSION,
          containerRuntimeVersion: options.containerRuntimeVersion ?? 'containerd://unknown',
          reserved,
          facts: { ...facts, hostIP: hostIP() },
        },
        timestampNow,
      ).then(
        () => log.info('node registered', { node: options.nodeName }),
        (error: unknown) => {
          log.info('node not registered yet (no quorum?); retrying', { retryInMs: delayMs, error: error instanceof Error ? error.message : String(error) });
          later(register, delayMs);
          delayMs = Math.min(delayMs * 2, 60_000);
        },
      );
    };
    register();
  }

  await resync();
  periodic(options.resyncMs ?? 60_000, 'pod resync', resync);
  log.info('agent started', { node: options.nodeName, pods: reconciler.trackedUids.length });

  return {
    podRuntime: createPodRuntime({ runtime: options.runtime, logs: options.logs, reconciler }),
    reconciler,
    idle: () => q.idle(),
    resync,
    async stop() {
      stopped = true;
      for (const s of subscriptions) s.cancel();
      for (const t of timers) t.cancel();
      unsubscribeExits();
      q.stop();
      await q.drain();
      reconciler.stop();
      await events.flush();
      log.info('agent stopped; containers keep running');
    },
  };
}
