// The node agent's reconcile of one pod (kubelet's syncPod, level-triggered): read the pod from
// the local replica and the pod's containers from the runtime, take the steps toward what the
// spec asks (network, files, volumes, sandbox, init containers in order, app containers with
// restart policy, back-off and probes), and write the status only when it changed. The same
// call stops and removes a pod that is being deleted, and cleans up after one that is gone.
import { createHash } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from '../log/index.ts';
import type { KObject } from '../model/index.ts';
import { findResource, jsonEqual, parseQuantity, timestamp } from '../model/index.ts';
import { CrashBackoff } from './backoff.ts';
import type { ContainerCache } from './container-cache.ts';
import { EnvError, expandArgs, podField, resolveEnv, serviceEnvForPod, type ContainerEnvSpec, type ServiceEnvReads } from './env.ts';
import type { EventRecorder } from './events.ts';
import { podHostname, renderHosts, renderResolvConf, resolvFor } from './pod-files.ts';
import type {
  AgentApi,
  BindMount,
  Clock,
  ContainerLogs,
  ContainerRuntime,
  ImageStore,
  JoinedNamespaces,
  NetworkProber,
  PodNamespaces,
  PodNetwork,
  PodNetworkRef,
  PortMapping,
  RuntimeContainer,
  VolumeMounts,
} from './ports.ts';
import { LABEL_CONTAINER_NAME, LABEL_INIT, LABEL_POD_NAME, LABEL_POD_NAMESPACE, LABEL_POD_UID, LABEL_RESTART_COUNT, LABEL_SANDBOX, LABEL_SPEC_HASH, LABEL_STARTED_AT } from './ports.ts';
import { ProbeWorker, probeTiming, type ProbeKind, type ProbeResult, type ProbeRun, type ProbeSpec } from './probes.ts';
import { buildPodStatus, isTerminalPhase, qosClass, type ContainerView, type Terminated } from './status.ts';
import { checkHostPath, projectKeys, subPathSource, VolumeError, writeAtomic, type HostPathType, type KeyToPath } from './volumes.ts';
import type { ReconcileResult } from './work-queue.ts';

const podsInfo = findResource('', 'v1', 'pods')!;
const configMapsInfo = findResource('', 'v1', 'configmaps')!;
const secretsInfo = findResource('', 'v1', 'secrets')!;
const servicesInfo = findResource('', 'v1', 'services')!;

/** Grace for the containers of a pod that vanished from the store (a force delete means now). */
const VANISHED_GRACE_SECONDS = 2;
/** The sandbox only holds namespaces and exits on SIGTERM. */
const SANDBOX_GRACE_SECONDS = 2;
/** How soon to look again at a pod waiting for something no watch reports (an image import). */
const WAITING_RECHECK_MS = 30_000;
const VOLUME_RECHECK_MS = 10_000;
const STATUS_RETRY_BASE_MS = 1000;
const STATUS_RETRY_MAX_MS = 30_000;
const GRACE_DEFAULT_SECONDS = 30;

// --- pod spec shapes (validated by the object model before they reach the store) ---

interface ContainerSpec extends ContainerEnvSpec {
  image?: string;
  command?: string[];
  args?: string[];
  workingDir?: string;
  ports?: { name?: string; containerPort: number; hostPort?: number; protocol?: string }[];
  volumeMounts?: { name: string; mountPath: string; readOnly?: boolean; subPath?: string }[];
  livenessProbe?: ProbeSpec;
  readinessProbe?: ProbeSpec;
  startupProbe?: ProbeSpec;
  imagePullPolicy?: 'Always' | 'IfNotPresent' | 'Never';
}

interface VolumeSpec {
  name: string;
  emptyDir?: { medium?: string; sizeLimit?: string | number };
  hostPath?: { path: string; type?: HostPathType };
  configMap?: { name?: string; items?: KeyToPath[]; defaultMode?: number; optional?: boolean };
  secret?: { secretName?: string; items?: KeyToPath[]; defaultMode?: number; optional?: boolean };
}

interface PodSpec {
  nodeName?: string;
  containers: ContainerSpec[];
  initContainers?: ContainerSpec[];
  volumes?: VolumeSpec[];
  restartPolicy?: 'Always' | 'OnFailure' | 'Never';
  terminationGracePeriodSeconds?: number;
  activeDeadlineSeconds?: number;
  dnsPolicy?: string;
  dnsConfig?: { nameservers?: string[]; searches?: string[]; options?: { name: string; value?: string }[] };
  hostNetwork?: boolean;
  hostname?: string;
  subdomain?: string;
  shareProcessNamespace?: boolean;
  hostAliases?: { ip: string; hostnames?: string[] }[];
  enableServiceLinks?: boolean;
  serviceAccountName?: string;
}

// --- what the agent remembers about a pod between reconciles (lost on restart, rebuilt) ---

interface ContainerMemo {
  /** Restart count of the latest instance. */
  count: number;
  /** An instance existed, so the next start is a restart. */
  hadInstance: boolean;
  lastTermination?: Terminated;
  /** A start that failed: it stands for an exited instance. */
  startError?: Terminated;
  /** Why the container is not running (image missing, config error, back-off). */
  waiting?: { reason: string; message?: string };
  termination?: { instance: string; terminated: Terminated };
  probes: Map<ProbeKind, ProbeWorker>;
  probeInstance?: string;
  /** The status before a restart of the daemon said ready/started for this very instance. */
  adopted?: { instance: string; ready: boolean; started: boolean };
}

interface PodMemo {
  ref: PodNetworkRef;
  containers: Map<string, ContainerMemo>;
  startTime: string;
  podIP: string;
  /** The last status written (object and text), for "changed?" and for transition times. */
  written?: { text: string; status: Record<string, unknown> };
  /** The status text being written now (its watch event may come before the write returns). */
  writing?: string;
  /** What the last reconcile saw of the pod besides its status: a change to either is news. */
  seen?: { generation: number | undefined; deletionTimestamp: string | undefined };
  statusRetryAt: number;
  statusFailures: number;
  failure?: { reason: string; message: string };
  /** ConfigMaps and Secrets the pod uses (`configmaps/ns/name`): their changes reconcile it. */
  refs: Set<string>;
  /** A terminal pod's containers and network are already stopped. */
  terminalDone: boolean;
}

export interface ReconcilerOptions {
  nodeName: string;
  /** The gateway's address now (it follows an address change: status.hostIP, hostNetwork pods' IP). */
  hostIP: () => string;
  dataDir: string;
  clock: Clock;
  runtime: ContainerRuntime;
  containers: ContainerCache;
  network: PodNetwork;
  /** The pod's pinned IPC and UTS namespaces. */
  namespaces: PodNamespaces;
  /** tmpfs for emptyDir `medium: Memory` and secret volumes. */
  mounts: VolumeMounts;
  images: ImageStore;
  logs: ContainerLogs;
  api: AgentApi;
  events: EventRecorder;
  prober: NetworkProber;
  logger: Logger;
  allocatable: { cpu: number; memory: number };
  /** The gateway's resolv.conf text (dnsPolicy Default). */
  hostResolvConf: () => string;
  clusterDns: string;
  clusterDomain: string;
  /** Asks for a reconcile of the pod (a probe changed its result). */
  enqueue: (key: string) => void;
  /** Exact creation order for Service variables (src/api/resources/services creationRevisions). */
  creationRevisions?: ServiceEnvReads['creationRevisions'];
}

export function podKey(ref: PodNetworkRef): string {
  return `${ref.namespace}/${ref.name}/${ref.uid}`;
}

export function parsePodKey(key: string): PodNetworkRef {
  const [namespace, name, uid] = key.split('/');
  if (!namespace || !name || !uid) throw new Error(`bad pod key ${JSON.stringify(key)}: expected namespace/name/uid`);
  return { namespace, name, uid };
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

// Only the image: it is the one container field a pod update may change, and hashing more would
// restart every adopted container whenever a bramble upgrade defaults one more field.
function specHash(container: ContainerSpec): string {
  return createHash('sha256').update(container.image ?? '').digest('hex').slice(0, 16);
}

/** Kubernetes' default pull policy: Always for :latest or no tag, else IfNotPresent. */
function pullPolicy(c: ContainerSpec): string {
  if (c.imagePullPolicy) return c.imagePullPolicy;
  const image = c.image ?? '';
  const name = image.split('@')[0]!;
  const tag = name.lastIndexOf(':') > name.lastIndexOf('/') ? name.slice(name.lastIndexOf(':') + 1) : '';
  return image.includes('@') ? 'IfNotPresent' : tag === '' || tag === 'latest' ? 'Always' : 'IfNotPresent';
}

function instanceOf(r: RuntimeContainer): string {
  return `${r.id}@${r.labels[LABEL_STARTED_AT] ?? ''}@${r.labels[LABEL_RESTART_COUNT] ?? ''}`;
}

function decodeData(object: KObject | undefined, base64Field: 'data' | 'binaryData' | 'both'): Record<string, Buffer> | undefined {
  if (!object) return undefined;
  const out: Record<string, Buffer> = {};
  const data = (object['data'] ?? {}) as Record<string, string>;
  const binary = (object['binaryData'] ?? {}) as Record<string, string>;
  if (base64Field === 'data') for (const [k, v] of Object.entries(data)) out[k] = Buffer.from(v, 'base64');
  else {
    for (const [k, v] of Object.entries(data)) out[k] = Buffer.from(v, 'utf8');
    for (const [k, v] of Object.entries(binary)) out[k] = Buffer.from(v, 'base64');
  }
  return out;
}

function asStrings(data: Record<string, Buffer> | undefined): Record<string, string> | undefined {
  if (!data) return undefined;
  return Object.fromEntries(Object.entries(data).map(([k, v]) => [k, v.toString('utf8')]));
}

type StatusLike = { name?: string; restartCount?: number; ready?: boolean; started?: boolean; containerID?: string; state?: Record<string, unknown>; lastState?: { terminated?: Terminated } };

/** One reconcile's working set: the pod and what the runtime has for it. */
interface SyncContext {
  pod: KObject;
  spec: PodSpec;
  ref: PodNetworkRef;
  key: string;
  memo: PodMemo;
  now: number;
  records: Map<string, RuntimeContainer>;
  initRecords: Map<string, RuntimeContainer>;
  sandbox: RuntimeContainer | undefined;
  /** The running sandbox's pid (pods with a shared PID namespace only), else 0. */
  sandboxPid: number;
  /** The pod's namespaces its containers join, once #preparePod has them. */
  joined?: JoinedNamespaces;
  volumes: Map<string, string>;
  podDir: string;
  requeue: number[];
  views: Map<string, ContainerView>;
}

export class PodReconciler {
  readonly #o: ReconcilerOptions;
  readonly #log: Logger;
  readonly #pods = new Map<string, PodMemo>();
  readonly backoff = new CrashBackoff();

  constructor(options: ReconcilerOptions) {
    this.#o = options;
    this.#log = options.logger;
  }

  /** Pods the agent currently tracks (by UID). */
  get trackedUids(): string[] {
    return [...this.#pods.keys()];
  }

  /**
   * Whether this version of the pod is the one this agent's own status write made: nothing in it
   * is news to the agent, so its watch event needs no reconcile (which would list the runtime's
   * containers again while the next pod starts).
   */
  isOwnStatusWrite(pod: KObject): boolean {
    const memo = this.#pods.get(pod.metadata.uid ?? '');
    if (memo?.seen === undefined || (memo.writing === undefined && memo.written === undefined)) return false;
    // A new spec bumps the generation; a graceful delete sets deletionTimestamp.
    if (pod.metadata.generation !== memo.seen.generation || pod.metadata.deletionTimestamp !== memo.seen.deletionTimestamp) return false;
    const text = JSON.stringify(pod['status'] ?? {});
    return text === memo.writing || text === memo.written?.text;
  }

  /** Keys of the pods that use a ConfigMap or Secret (`configmaps/ns/name`). */
  podsUsing(ref: string): string[] {
    const keys: string[] = [];
    for (const memo of this.#pods.values()) if (memo.refs.has(ref)) keys.push(podKey(memo.ref));
    return keys;
  }

  podDir(uid: string): string {
    return join(this.#o.dataDir, 'pods', uid);
  }

  async reconcile(key: string): Promise<ReconcileResult> {
    const ref = parsePodKey(key);
    const pod = await this.#o.api.get(podsInfo, ref.namespace, ref.name);
    const spec = (pod?.['spec'] ?? {}) as PodSpec;
    if (!pod || pod.metadata.uid !== ref.uid || spec.nodeName !== this.#o.nodeName) {
      await this.cleanUp(ref, VANISHED_GRACE_SECONDS);
      return {};
    }
    if (pod.metadata.deletionTimestamp) {
      await this.#terminate(pod, spec, ref);
      return {};
    }
    return this.#sync(pod, spec, ref, key);
  }

  // ------------------------------------------------------------------------------------------
  // Deletion and cleanup

  async #terminate(pod: KObject, spec: PodSpec, ref: PodNetworkRef): Promise<void> {
    const grace = pod.metadata.deletionGracePeriodSeconds ?? spec.terminationGracePeriodSeconds ?? GRACE_DEFAULT_SECONDS;
    await this.cleanUp(ref, grace, pod);
    await this.#o.api.deletePod(ref.namespace, ref.name, ref.uid);
    this.#log.info('pod stopped and deleted', { pod: `${ref.namespace}/${ref.name}`, uid: ref.uid });
  }

  /**
   * Stops the pod's containers (SIGTERM, `graceSeconds`, SIGKILL), removes them, its network,
   * volumes, files and logs, and forgets it. Idempotent: safe after a crash half-way.
   */
  async cleanUp(ref: PodNetworkRef, graceSeconds: number, pod?: KObject): Promise<void> {
    const memo = this.#pods.get(ref.uid);
    if (memo) for (const m of memo.containers.values()) this.#stopProbes(m);
    const mine = (await this.#o.containers.get()).filter((c) => c.labels[LABEL_POD_UID] === ref.uid);
    const apps = mine.filter((c) => c.labels[LABEL_SANDBOX] !== 'true');
    const running = apps.filter((c) => c.state === 'running');
    await Promise.all(
      running.map(async (c) => {
        if (pod) this.#o.events.record(ref, 'Normal', 'Killing', `Stopping container ${c.labels[LABEL_CONTAINER_NAME] ?? c.id}`, this.#fieldPath(pod, c.labels[LABEL_CONTAINER_NAME] ?? ''));
        await this.#o.runtime.stop(c.id, graceSeconds);
      }),
    );
    for (const c of mine.filter((x) => x.labels[LABEL_SANDBOX] === 'true' && x.state === 'running')) await this.#o.runtime.stop(c.id, SANDBOX_GRACE_SECONDS);
    for (const c of mine) await this.#o.runtime.remove(c.id);
    if (mine.length > 0) this.#o.containers.invalidate();
    await this.#o.network.tearDown(ref);
    // The pins are mounts: unmounted first, or removing the directory fails on them.
    await this.#o.namespaces.release(join(this.podDir(ref.uid), 'ns'));
    await this.#o.mounts.unmountUnder(this.podDir(ref.uid));
    rmSync(this.podDir(ref.uid), { recursive: true, force: true });
    await this.#o.logs.removePod({ namespace: ref.namespace, podName: ref.name, podUid: ref.uid });
    this.#pods.delete(ref.uid);
    this.#o.containers.forget(ref.uid);
    this.backoff.forgetPrefix(`${ref.uid}/`);
    this.#o.events.forget(ref.uid);
    if (mine.length > 0) this.#log.info('pod cleaned up', { pod: `${ref.namespace}/${ref.name}`, uid: ref.uid, containers: mine.length });
  }

  // ------------------------------------------------------------------------------------------
  // Sync

  #memoFor(pod: KObject, spec: PodSpec, ref: PodNetworkRef, records: Map<string, RuntimeContainer>, initRecords: Map<string, RuntimeContainer>, now: number): PodMemo {
    let memo = this.#pods.get(ref.uid);
    if (memo) return memo;
    const stored = (pod['status'] ?? {}) as Record<string, unknown>;
    memo = {
      ref,
      containers: new Map(),
      startTime: typeof stored['startTime'] === 'string' ? stored['startTime'] : timestamp(now),
      podIP: '',
      statusRetryAt: 0,
      statusFailures: 0,
      refs: new Set(),
      terminalDone: false,
    };
    // Rebuilt from the runtime's labels (adoption) or else from the stored status (a reboot:
    // the containers are gone, and starting them again counts as a restart).
    const seed = (list: ContainerSpec[] | undefined, recs: Map<string, RuntimeContainer>, statuses: unknown, prefix: string) => {
      const all = Array.isArray(statuses) ? (statuses as StatusLike[]) : [];
      for (const c of list ?? []) {
        const r = recs.get(c.name);
        const cs = all.find((s) => s.name === c.name);
        const m: ContainerMemo = { count: 0, hadInstance: false, probes: new Map() };
        if (r) {
          m.count = Number(r.labels[LABEL_RESTART_COUNT] ?? 0) || 0;
          m.hadInstance = true;
          if (r.state === 'running' && cs && cs.containerID === `containerd://${r.id}` && cs.restartCount === m.count) {
            m.adopted = { instance: instanceOf(r), ready: cs.ready === true, started: cs.started !== false };
          }
        } else if (cs) {
          m.count = cs.restartCount ?? 0;
          m.hadInstance = Boolean(cs.state?.['running'] || cs.state?.['terminated'] || cs.lastState?.terminated);
        }
        if (cs?.lastState?.terminated) m.lastTermination = cs.lastState.terminated;
        memo!.containers.set(`${prefix}${c.name}`, m);
      }
    };
    seed(spec.initContainers, initRecords, stored['initContainerStatuses'], 'init/');
    seed(spec.containers, records, stored['containerStatuses'], 'app/');
    this.#pods.set(ref.uid, memo);
    return memo;
  }

  #memoOf(ctx: SyncContext, name: string, init: boolean): ContainerMemo {
    const key = `${init ? 'init' : 'app'}/${name}`;
    let m = ctx.memo.containers.get(key);
    if (!m) {
      m = { count: 0, hadInstance: false, probes: new Map() };
      ctx.memo.containers.set(key, m);
    }
    return m;
  }

  async #sync(pod: KObject, spec: PodSpec, ref: PodNetworkRef, key: string): Promise<ReconcileResult> {
    const now = this.#o.clock.now();
    const stored = (pod['status'] ?? {}) as Record<string, unknown>;
    const mine = await this.#o.containers.forPod(ref.uid);
    const records = new Map<string, RuntimeContainer>();
    const initRecords = new Map<string, RuntimeContainer>();
    let sandbox: RuntimeContainer | undefined;
    for (const c of mine) {
      if (c.labels[LABEL_SANDBOX] === 'true') sandbox = c;
      else if (c.labels[LABEL_INIT] === 'true') initRecords.set(c.labels[LABEL_CONTAINER_NAME] ?? '', c);
      else records.set(c.labels[LABEL_CONTAINER_NAME] ?? '', c);
    }
    const memo = this.#memoFor(pod, spec, ref, records, initRecords, now);
    memo.seen = { generation: pod.metadata.generation, deletionTimestamp: pod.metadata.deletionTimestamp };
    const ctx: SyncContext = { pod, spec, ref, key, memo, now, records, initRecords, sandbox, sandboxPid: 0, volumes: new Map(), podDir: this.podDir(ref.uid), requeue: [], views: new Map() };

    if (isTerminalPhase(stored['phase'])) {
      await this.#stopTerminal(ctx);
      return {};
    }
    if (spec.activeDeadlineSeconds !== undefined && !memo.failure) {
      const deadline = Date.parse(memo.startTime) + spec.activeDeadlineSeconds * 1000;
      if (now >= deadline) {
        memo.failure = { reason: 'DeadlineExceeded', message: `Pod was active on the node longer than the specified deadline (${spec.activeDeadlineSeconds}s)` };
        this.#o.events.record(ref, 'Normal', 'DeadlineExceeded', memo.failure.message);
      } else ctx.requeue.push(deadline - now);
    }
    if (memo.failure) {
      await this.#stopContainers(ctx, spec.terminationGracePeriodSeconds ?? GRACE_DEFAULT_SECONDS);
      this.#viewsAsIs(ctx);
      return this.#finish(ctx);
    }

    // When not ready, #preparePod has already said why in every container's view.
    if (!(await this.#preparePod(ctx))) return this.#finish(ctx);
    const initDone = await this.#syncInit(ctx);
    for (const c of spec.containers) {
      if (initDone) await this.#syncContainer(ctx, c);
      else this.#view(ctx, c, false, ctx.records.get(c.name), { reason: 'PodInitializing' });
    }
    return this.#finish(ctx);
  }

  /** Network, namespaces, files, volumes (and sandbox); false when the pod cannot go on yet (status says why). */
  async #preparePod(ctx: SyncContext): Promise<boolean> {
    const { spec, ref, memo } = ctx;
    const sharePid = spec.shareProcessNamespace === true;
    const sandboxRunning = ctx.sandbox?.state === 'running';
    // A running process of the pod holds its namespaces: pins that a previous daemon made in
    // another mount namespace (kill -9, upgrade) are made again from it, not replaced.
    const podPid = this.#runningPid(ctx);
    const hostname = spec.hostNetwork ? this.#o.nodeName : podHostname(ref.name, spec.hostname);
    // The IPC and UTS pins and the network are independent: both go at once (each is a process
    // start or a few, and the CNI chain is most of a pod's start time besides its container).
    const pinning = this.#o.namespaces.pin(join(ctx.podDir, 'ns'), { hostname, ...(podPid > 0 ? { fromPid: podPid } : {}) });
    pinning.catch(() => undefined); // awaited below; a network failure must not leave it unhandled
    let netnsPath: string;
    // A new sandbox (shared PID namespace only) starts while CNI attaches the pod's netns.
    let sandboxStarting: Promise<boolean> | undefined;
    try {
      if (spec.hostNetwork) {
        netnsPath = `/proc/${process.pid}/ns/net`;
        memo.podIP = this.#o.hostIP();
      } else {
        if (sharePid && !sandboxRunning && this.#o.network.netns) {
          const early = await this.#o.network.netns(ref);
          sandboxStarting = pinning.then((pinned) => this.#startSandbox(ctx, early, pinned), () => false);
        }
        const attached = await this.#o.network.setUp(ref, this.#portMappings(spec), podPid > 0 ? podPid : undefined);
        netnsPath = attached.netnsPath;
        memo.podIP = attached.ip;
      }
    } catch (error) {
      await sandboxStarting;
      const message = `Failed to create pod sandbox: network setup failed: ${messageOf(error)}`;
      this.#o.events.record(ref, 'Warning', 'FailedCreatePodSandBox', message);
      this.#waitAll(ctx, { reason: 'ContainerCreating', message });
      ctx.requeue.push(VOLUME_RECHECK_MS);
      return false;
    }
    let pinned: { ipc: string; uts: string };
    try {
      pinned = await pinning;
    } catch (error) {
      await sandboxStarting;
      const message = `Failed to create pod sandbox: ${messageOf(error)}`;
      this.#o.events.record(ref, 'Warning', 'FailedCreatePodSandBox', message);
      this.#waitAll(ctx, { reason: 'ContainerCreating', message });
      ctx.requeue.push(VOLUME_RECHECK_MS);
      return false;
    }
    try {
      this.#writePodFiles(ctx);
      await this.#prepareVolumes(ctx);
    } catch (error) {
      await sandboxStarting;
      const message = error instanceof VolumeError ? `MountVolume.SetUp failed: ${error.message}` : `preparing the pod's files failed: ${messageOf(error)}`;
      this.#o.events.record(ref, 'Warning', 'FailedMount', message);
      this.#waitAll(ctx, { reason: 'ContainerCreating', message });
      ctx.requeue.push(VOLUME_RECHECK_MS);
      return false;
    }
    ctx.joined = { network: netnsPath, ipc: pinned.ipc, uts: pinned.uts };
    if (!sharePid) return true;
    if (sandboxRunning) ctx.sandboxPid = ctx.sandbox!.pid;
    else if (!(await (sandboxStarting ?? this.#startSandbox(ctx, netnsPath, pinned)))) return false;
    ctx.joined.pid = `/proc/${ctx.sandboxPid}/ns/pid`;
    return true;
  }

  /** The host pid of a running process of the pod (its sandbox first), or 0. */
  #runningPid(ctx: SyncContext): number {
    const candidates = [ctx.sandbox, ...ctx.records.values(), ...ctx.initRecords.values()];
    return candidates.find((r) => r?.state === 'running' && r.pid > 0)?.pid ?? 0;
  }

  /**
   * Starts the holder of the pod's shared PID namespace (`shareProcessNamespace: true`) in the
   * pod's netns and pinned namespaces; false (status says why) when it cannot.
   */
  async #startSandbox(ctx: SyncContext, netnsPath: string, pinned: { ipc: string; uts: string }): Promise<boolean> {
    const { spec, ref } = ctx;
    // No sandbox (first start, or after a reboot) or a dead one: its PID namespace is gone (and
    // every process in it was killed with it), so every container of the pod starts over in a
    // new one, init containers included.
    const leftovers = [...ctx.records.values(), ...ctx.initRecords.values()];
    if (ctx.sandbox) this.#o.events.record(ref, 'Normal', 'SandboxChanged', 'Pod sandbox changed, it will be killed and re-created.');
    for (const r of leftovers) {
      if (r.state === 'running') await this.#o.runtime.stop(r.id, spec.terminationGracePeriodSeconds ?? GRACE_DEFAULT_SECONDS);
      await this.#o.runtime.remove(r.id);
    }
    ctx.records.clear();
    ctx.initRecords.clear();
    const id = this.#o.runtime.sandboxId(ref.uid);
    try {
      if (ctx.sandbox) await this.#o.runtime.remove(ctx.sandbox.id);
      const { pid } = await this.#o.runtime.runSandbox({
        id,
        netnsPath,
        pinned,
        hostname: spec.hostNetwork ? this.#o.nodeName : podHostname(ref.name, spec.hostname),
        labels: { [LABEL_POD_NAMESPACE]: ref.namespace, [LABEL_POD_NAME]: ref.name, [LABEL_POD_UID]: ref.uid, [LABEL_SANDBOX]: 'true' },
      });
      ctx.sandboxPid = pid;
    } catch (error) {
      const message = `Failed to create pod sandbox: ${messageOf(error)}`;
      this.#o.events.record(ref, 'Warning', 'FailedCreatePodSandBox', message);
      await this.#o.runtime.remove(id).catch(() => undefined);
      this.#waitAll(ctx, { reason: 'ContainerCreating', message });
      ctx.requeue.push(VOLUME_RECHECK_MS);
      return false;
    } finally {
      this.#o.containers.invalidate();
    }
    return true;
  }

  #portMappings(spec: PodSpec): PortMapping[] {
    const out: PortMapping[] = [];
    for (const c of spec.containers) {
      for (const p of c.ports ?? []) {
        if (p.hostPort) out.push({ hostPort: p.hostPort, containerPort: p.containerPort, protocol: (p.protocol ?? 'TCP').toLowerCase() === 'udp' ? 'udp' : 'tcp' });
      }
    }
    return out;
  }

  #writePodFiles(ctx: SyncContext): void {
    const { spec, ref, memo, podDir } = ctx;
    mkdirSync(podDir, { recursive: true, mode: 0o755 });
    const hostname = spec.hostNetwork ? this.#o.nodeName : podHostname(ref.name, spec.hostname);
    const files: [string, string][] = [
      ['pod.json', `${JSON.stringify({ namespace: ref.namespace, name: ref.name, uid: ref.uid })}\n`],
      ['hosts', renderHosts({ podIP: memo.podIP, hostname, namespace: ref.namespace, clusterDomain: this.#o.clusterDomain, ...(spec.subdomain ? { subdomain: spec.subdomain } : {}), ...(spec.hostAliases ? { hostAliases: spec.hostAliases } : {}) })],
      [
        'resolv.conf',
        renderResolvConf(
          resolvFor({
            namespace: ref.namespace,
            hostResolvConf: this.#o.hostResolvConf(),
            clusterDns: this.#o.clusterDns,
            clusterDomain: this.#o.clusterDomain,
            ...(spec.dnsPolicy ? { dnsPolicy: spec.dnsPolicy } : {}),
            ...(spec.hostNetwork ? { hostNetwork: true } : {}),
            ...(spec.dnsConfig ? { dnsConfig: spec.dnsConfig } : {}),
          }),
        ),
      ],
      ['hostname', `${hostname}\n`],
    ];
    for (const [name, text] of files) {
      const path = join(podDir, name);
      let current: string | undefined;
      try {
        current = readFileSync(path, 'utf8');
      } catch {
        current = undefined;
      }
      // Rewritten in place (not renamed): a bind-mounted file keeps its inode.
      if (current !== text) writeFileSync(path, text, { mode: 0o644 });
    }
  }

  async #prepareVolumes(ctx: SyncContext): Promise<void> {
    const { spec, ref, memo, podDir } = ctx;
    const refs = new Set<string>();
    for (const v of spec.volumes ?? []) {
      if (v.emptyDir) {
        const path = join(podDir, 'volumes', 'empty-dir', v.name);
        // 0777 as in Kubernetes: containers running as any user share it.
        if (!existsSync(path)) {
          mkdirSync(path, { recursive: true });
          chmodSync(path, 0o777);
        }
        if (v.emptyDir.medium === 'Memory') {
          const sizeLimit = v.emptyDir.sizeLimit;
          await this.#tmpfs(v.name, path, { mode: 0o777, ...(sizeLimit !== undefined ? { sizeBytes: parseQuantity(sizeLimit) } : {}) });
        }
        ctx.volumes.set(v.name, path);
      } else if (v.hostPath) {
        checkHostPath(v.name, v.hostPath.path, v.hostPath.type);
        ctx.volumes.set(v.name, v.hostPath.path);
      } else if (v.configMap || v.secret) {
        const isSecret = Boolean(v.secret);
        const source = (v.configMap ?? v.secret)!;
        const name = (isSecret ? v.secret!.secretName : v.configMap!.name) ?? '';
        const info = isSecret ? secretsInfo : configMapsInfo;
        refs.add(`${info.resource}/${ref.namespace}/${name}`);
        const object = await this.#o.api.get(info, ref.namespace, name);
        const data = decodeData(object, isSecret ? 'data' : 'both');
        const path = join(podDir, 'volumes', isSecret ? 'secret' : 'configmap', v.name);
        if (!data && !source.optional) throw new VolumeError(`volume "${v.name}": ${isSecret ? 'secret' : 'configmap'} "${name}" not found in namespace ${ref.namespace}`);
        // A secret's values live in memory only, never on the SD card (as kubelet's tmpfs).
        if (isSecret) {
          mkdirSync(path, { recursive: true, mode: 0o755 });
          await this.#tmpfs(v.name, path, { mode: 0o755 });
        }
        writeAtomic(path, projectKeys(isSecret ? 'secret' : 'configmap', name, data ?? {}, source.items, source.defaultMode, source.optional === true));
        ctx.volumes.set(v.name, path);
      } else {
        throw new VolumeError(`volume "${v.name}" has no source bramble supports (emptyDir, hostPath, configMap, secret)`);
      }
    }
    // Env references count too: a ConfigMap created later lets a waiting container start.
    for (const c of [...(spec.initContainers ?? []), ...spec.containers]) {
      for (const from of c.envFrom ?? []) {
        if (from.configMapRef) refs.add(`configmaps/${ref.namespace}/${from.configMapRef.name ?? ''}`);
        if (from.secretRef) refs.add(`secrets/${ref.namespace}/${from.secretRef.name ?? ''}`);
      }
      for (const e of c.env ?? []) {
        if (e.valueFrom?.configMapKeyRef) refs.add(`configmaps/${ref.namespace}/${e.valueFrom.configMapKeyRef.name ?? ''}`);
        if (e.valueFrom?.secretKeyRef) refs.add(`secrets/${ref.namespace}/${e.valueFrom.secretKeyRef.name ?? ''}`);
      }
    }
    memo.refs = refs;
  }

  async #tmpfs(volume: string, path: string, options: { mode: number; sizeBytes?: number }): Promise<void> {
    try {
      await this.#o.mounts.tmpfs(path, options);
    } catch (error) {
      throw new VolumeError(`volume "${volume}": cannot mount its tmpfs: ${messageOf(error)}`);
    }
  }

  /** Init containers one at a time, in order; true once every one has exited 0. */
  async #syncInit(ctx: SyncContext): Promise<boolean> {
    const list = ctx.spec.initContainers ?? [];
    let done = true;
    for (const c of list) {
      if (!done) {
        this.#view(ctx, c, true, ctx.initRecords.get(c.name), { reason: 'PodInitializing' });
        continue;
      }
      const m = this.#memoOf(ctx, c.name, true);
      const r = ctx.initRecords.get(c.name);
      if (r?.state === 'running') {
        done = false;
        this.#view(ctx, c, true, r);
        continue;
      }
      if (r?.state === 'exited' || (!r && m.startError)) {
        const term = r ? await this.#termination(r, m) : m.startError!;
        if (term.exitCode === 0) {
          this.#view(ctx, c, true, r, undefined, term);
          continue;
        }
        done = false;
        if (this.#restartPolicy(ctx) === 'Never') {
          this.#view(ctx, c, true, r, undefined, term);
          continue;
        }
        await this.#restartAfterBackoff(ctx, c, true, r, term);
        continue;
      }
      done = false;
      if (r) await this.#o.runtime.remove(r.id);
      await this.#start(ctx, c, true);
    }
    return done;
  }

  #restartPolicy(ctx: SyncContext): 'Always' | 'OnFailure' | 'Never' {
    return ctx.spec.restartPolicy ?? 'Always';
  }

  async #syncContainer(ctx: SyncContext, c: ContainerSpec): Promise<void> {
    const m = this.#memoOf(ctx, c.name, false);
    const r = ctx.records.get(c.name);
    const grace = ctx.spec.terminationGracePeriodSeconds ?? GRACE_DEFAULT_SECONDS;
    if (r?.state === 'running') {
      if (r.labels[LABEL_SPEC_HASH] !== undefined && r.labels[LABEL_SPEC_HASH] !== specHash(c)) {
        this.#o.events.record(ctx.ref, 'Normal', 'Killing', `Container ${c.name} definition changed, will be restarted`, this.#fieldPath(ctx.pod, c.name));
        await this.#stopAndRequeue(ctx, r, grace);
        this.#view(ctx, c, false, r);
        return;
      }
      this.#ensureProbes(ctx, c, r, m);
      if (m.probes.get('liveness')?.result === 'failure') {
        this.#o.events.record(ctx.ref, 'Normal', 'Killing', `Container ${c.name} failed liveness probe, will be restarted`, this.#fieldPath(ctx.pod, c.name));
        this.#stopProbes(m);
        await this.#stopAndRequeue(ctx, r, grace);
      }
      m.waiting = undefined;
      this.#view(ctx, c, false, r);
      return;
    }
    if (r?.state === 'exited' || (!r && m.startError)) {
      this.#stopProbes(m);
      const term = r ? await this.#termination(r, m) : m.startError!;
      const policy = this.#restartPolicy(ctx);
      const restart = policy === 'Always' || (policy === 'OnFailure' && term.exitCode !== 0);
      if (!restart) {
        m.waiting = undefined;
        this.#view(ctx, c, false, r, undefined, term);
        return;
      }
      await this.#restartAfterBackoff(ctx, c, false, r, term);
      return;
    }
    if (r) await this.#o.runtime.remove(r.id);
    await this.#start(ctx, c, false);
  }

  async #stopAndRequeue(ctx: SyncContext, r: RuntimeContainer, grace: number): Promise<void> {
    await this.#o.runtime.stop(r.id, grace);
    this.#o.containers.invalidate();
    ctx.requeue.push(0);
  }

  /** Restarts an exited container unless its crash-loop back-off still runs. */
  async #restartAfterBackoff(ctx: SyncContext, c: ContainerSpec, init: boolean, r: RuntimeContainer | undefined, term: Terminated): Promise<void> {
    const m = this.#memoOf(ctx, c.name, init);
    const key = `${ctx.ref.uid}/${init ? 'init' : 'app'}/${c.name}`;
    const exitedMs = Date.parse(term.finishedAt) || ctx.now;
    const waitMs = this.backoff.remainingMs(key, exitedMs, ctx.now);
    if (waitMs > 0) {
      const seconds = Math.round(this.backoff.delayMs(key) / 1000);
      m.waiting = { reason: 'CrashLoopBackOff', message: `back-off ${seconds}s restarting failed container=${c.name} pod=${ctx.ref.name}_${ctx.ref.namespace}(${ctx.ref.uid})` };
      this.#o.events.record(ctx.ref, 'Warning', 'BackOff', `Back-off restarting failed container ${c.name} in pod ${ctx.ref.name}_${ctx.ref.namespace}(${ctx.ref.uid})`, this.#fieldPath(ctx.pod, c.name));
      ctx.requeue.push(waitMs);
      this.#view(ctx, c, init, r, undefined, term);
      return;
    }
    this.backoff.next(key, exitedMs);
    m.lastTermination = term;
    m.startError = undefined;
    if (r) await this.#o.runtime.remove(r.id);
    await this.#start(ctx, c, init);
  }

  /** How an exited instance ended (asked of the runtime once per instance). */
  async #termination(r: RuntimeContainer, m: ContainerMemo): Promise<Terminated> {
    const instance = instanceOf(r);
    if (m.termination?.instance === instance) return m.termination.terminated;
    const exitCode = r.exitCode ?? 255;
    let reason = exitCode === 0 ? 'Completed' : 'Error';
    if (exitCode !== 0) {
      try {
        if (await this.#o.runtime.wasOomKilled(r.id)) reason = 'OOMKilled';
      } catch (error) {
        this.#log.debug('cannot tell whether a container was OOM-killed', { id: r.id, error: messageOf(error) });
      }
    }
    const terminated: Terminated = {
      exitCode,
      reason: r.exitCode === null ? 'Unknown' : reason,
      ...(r.exitCode === null ? { message: 'the exit code was not recorded (the container ended while bramble was not watching)' } : {}),
      ...(r.labels[LABEL_STARTED_AT] ? { startedAt: r.labels[LABEL_STARTED_AT] } : {}),
      finishedAt: r.finishedAt ?? timestamp(this.#o.clock.now()),
      containerID: `containerd://${r.id}`,
    };
    m.termination = { instance, terminated };
    if (exitCode !== 0) this.#log.info('container exited', { pod: `${r.labels[LABEL_POD_NAMESPACE]}/${r.labels[LABEL_POD_NAME]}`, container: r.labels[LABEL_CONTAINER_NAME], exitCode, reason: terminated.reason });
    return terminated;
  }

  async #start(ctx: SyncContext, c: ContainerSpec, init: boolean): Promise<void> {
    const { ref, pod } = ctx;
    const m = this.#memoOf(ctx, c.name, init);
    const fieldPath = this.#fieldPath(pod, c.name);
    const imageName = c.image ?? '';
    const image = this.#o.images.normalize(imageName);
    if (!(await this.#o.images.has(image))) {
      if (pullPolicy(c) === 'Never') {
        m.waiting = { reason: 'ErrImageNeverPull', message: `Container image "${imageName}" is not present with pull policy of Never` };
        this.#o.events.record(ref, 'Warning', 'ErrImageNeverPull', m.waiting.message!, fieldPath);
      } else {
        m.waiting = {
          reason: 'ImageNotPresent',
          message: `Container image "${imageName}" (${image}) is not on gateway ${this.#o.nodeName}, and bramble does not pull from registries: import it with \`bramble image import FILE.tar --node ${this.#o.nodeName}\``,
        };
        this.#o.events.record(ref, 'Warning', 'Failed', m.waiting.message!, fieldPath);
      }
      ctx.requeue.push(WAITING_RECHECK_MS);
      this.#view(ctx, c, init, undefined);
      return;
    }
    let env: Record<string, string>;
    try {
      env = await this.#environment(ctx, c);
    } catch (error) {
      if (!(error instanceof EnvError)) throw error;
      m.waiting = { reason: 'CreateContainerConfigError', message: error.message };
      this.#o.events.record(ref, 'Warning', 'Failed', `Error: ${error.message}`, fieldPath);
      ctx.requeue.push(WAITING_RECHECK_MS);
      this.#view(ctx, c, init, undefined);
      return;
    }
    let mounts: BindMount[];
    try {
      mounts = this.#mounts(ctx, c);
    } catch (error) {
      m.waiting = { reason: 'CreateContainerConfigError', message: messageOf(error) };
      this.#o.events.record(ref, 'Warning', 'Failed', `Error: ${messageOf(error)}`, fieldPath);
      ctx.requeue.push(WAITING_RECHECK_MS);
      this.#view(ctx, c, init, undefined);
      return;
    }
    const count = m.hadInstance ? m.count + 1 : m.count;
    const startedAt = timestamp(this.#o.clock.now());
    const id = this.#o.runtime.containerId(ref.uid, c.name);
    const argv = await this.#argv(c, image, env);
    const limits = c.resources?.limits ?? {};
    const labels: Record<string, string> = {
      [LABEL_POD_NAMESPACE]: ref.namespace,
      [LABEL_POD_NAME]: ref.name,
      [LABEL_POD_UID]: ref.uid,
      [LABEL_CONTAINER_NAME]: c.name,
      [LABEL_RESTART_COUNT]: String(count),
      [LABEL_STARTED_AT]: startedAt,
      [LABEL_SPEC_HASH]: specHash(c),
      ...(init ? { [LABEL_INIT]: 'true' } : {}),
    };
    this.#o.events.record(ref, 'Normal', 'Pulled', `Container image "${imageName}" already present on machine`, fieldPath);
    m.count = count;
    m.hadInstance = true;
    m.waiting = undefined;
    m.termination = undefined;
    try {
      const { pid } = await this.#o.runtime.runContainer({
        id,
        image,
        argv,
        env,
        ...(c.workingDir ? { workingDir: c.workingDir } : {}),
        mounts,
        namespaces: ctx.joined!,
        ...(limits['memory'] !== undefined ? { memoryLimitBytes: Math.floor(parseQuantity(limits['memory'])) } : {}),
        ...(limits['cpu'] !== undefined ? { cpuLimitCores: parseQuantity(limits['cpu']) } : {}),
        logPath: this.#o.logs.path({ namespace: ref.namespace, podName: ref.name, podUid: ref.uid, containerName: c.name }),
        labels,
      });
      m.startError = undefined;
      this.#o.events.record(ref, 'Normal', 'Created', `Created container ${c.name}`, fieldPath);
      this.#o.events.record(ref, 'Normal', 'Started', `Started container ${c.name}`, fieldPath);
      const record: RuntimeContainer = { id, labels, image, state: 'running', pid, exitCode: null };
      (init ? ctx.initRecords : ctx.records).set(c.name, record);
      if (!init) this.#ensureProbes(ctx, c, record, m);
      this.#view(ctx, c, init, record);
    } catch (error) {
      // A start that fails (no such command, a bad mount) counts as an exit with code 128,
      // as in Kubernetes, so restart policy and back-off apply to it.
      const message = messageOf(error);
      m.startError = { exitCode: 128, reason: 'StartError', message, startedAt, finishedAt: startedAt };
      // In the log too: an event is dropped while the store has no leader (a gateway cut off).
      this.#log.warn('container did not start; restarting it with back-off', { pod: `${ref.namespace}/${ref.name}`, container: c.name, error: message });
      this.#o.events.record(ref, 'Warning', 'Failed', `Error: ${message}`, fieldPath);
      await this.#o.runtime.remove(id).catch(() => undefined);
      (init ? ctx.initRecords : ctx.records).delete(c.name);
      ctx.requeue.push(0);
      this.#view(ctx, c, init, undefined, undefined, m.startError);
    } finally {
      this.#o.containers.invalidate();
    }
  }

  async #environment(ctx: SyncContext, c: ContainerSpec): Promise<Record<string, string>> {
    const { ref, spec, pod, memo } = ctx;
    const cache = new Map<string, Record<string, string> | undefined>();
    const load = async (kind: 'configmaps' | 'secrets', name: string) => {
      const k = `${kind}/${name}`;
      if (!cache.has(k)) {
        const object = await this.#o.api.get(kind === 'configmaps' ? configMapsInfo : secretsInfo, ref.namespace, name);
        cache.set(k, asStrings(decodeData(object, kind === 'secrets' ? 'data' : 'both')));
      }
    };
    // Lookups in resolveEnv are synchronous: load what the container refers to first.
    for (const from of c.envFrom ?? []) {
      if (from.configMapRef) await load('configmaps', from.configMapRef.name ?? '');
      if (from.secretRef) await load('secrets', from.secretRef.name ?? '');
    }
    for (const e of c.env ?? []) {
      if (e.valueFrom?.configMapKeyRef) await load('configmaps', e.valueFrom.configMapKeyRef.name ?? '');
      if (e.valueFrom?.secretKeyRef) await load('secrets', e.valueFrom.secretKeyRef.name ?? '');
    }
    let services: Record<string, string> = {};
    try {
      const list = async (namespace: string) => (await this.#o.api.list(servicesInfo, namespace)).items;
      services = await serviceEnvForPod(pod, { list, ...(this.#o.creationRevisions ? { creationRevisions: this.#o.creationRevisions } : {}) });
    } catch (error) {
      this.#log.debug('services not listed for environment variables', { error: messageOf(error) });
    }
    const all = [...(spec.initContainers ?? []), ...spec.containers];
    const { env, skipped } = resolveEnv(c, {
      configMap: (name) => cache.get(`configmaps/${name}`),
      secret: (name) => cache.get(`secrets/${name}`),
      field: (path) => podField(pod as never, memo.podIP, this.#o.hostIP(), path),
      container: (name) => all.find((x) => x.name === name),
      allocatable: this.#o.allocatable,
      serviceEnv: services,
    });
    if (skipped.length > 0) {
      this.#o.events.record(ref, 'Warning', 'InvalidEnvironmentVariableNames', `Keys [${skipped.join(', ')}] from the EnvFrom sources were skipped since they are not valid environment variable names.`, this.#fieldPath(pod, c.name));
    }
    return env;
  }

  async #argv(c: ContainerSpec, image: string, env: Record<string, string>): Promise<string[]> {
    const command = expandArgs(c.command, env);
    const args = expandArgs(c.args, env);
    // Kubernetes: command replaces the image's ENTRYPOINT, args its CMD.
    if (command && command.length > 0) return [...command, ...(args ?? [])];
    if (args && args.length > 0) {
      const entrypoint = (await this.#o.images.entrypoint?.(image)) ?? [];
      return [...entrypoint, ...args];
    }
    return [];
  }

  #mounts(ctx: SyncContext, c: ContainerSpec): BindMount[] {
    const mounts: BindMount[] = [];
    const targets = new Set((c.volumeMounts ?? []).map((v) => v.mountPath.replace(/\/+$/, '')));
    for (const [file, target] of [['hosts', '/etc/hosts'], ['resolv.conf', '/etc/resolv.conf'], ['hostname', '/etc/hostname']] as const) {
      // A container that mounts its own file there keeps it (as in Kubernetes).
      if (!targets.has(target)) mounts.push({ source: join(ctx.podDir, file), destination: target, readOnly: false });
    }
    for (const vm of c.volumeMounts ?? []) {
      const path = ctx.volumes.get(vm.name);
      if (path === undefined) throw new VolumeError(`volumeMount ${JSON.stringify(vm.name)} names no volume of the pod`);
      mounts.push({ source: subPathSource(path, vm.subPath), destination: vm.mountPath, readOnly: vm.readOnly === true });
    }
    return mounts;
  }

  // ------------------------------------------------------------------------------------------
  // Probes

  #ensureProbes(ctx: SyncContext, c: ContainerSpec, r: RuntimeContainer, m: ContainerMemo): void {
    const instance = instanceOf(r);
    if (m.probeInstance === instance) return;
    this.#stopProbes(m);
    m.probeInstance = instance;
    const startedAtMs = Date.parse(r.labels[LABEL_STARTED_AT] ?? '') || this.#o.clock.now();
    const adopted = m.adopted?.instance === instance ? m.adopted : undefined;
    const key = ctx.key;
    const ref = ctx.ref;
    const fieldPath = this.#fieldPath(ctx.pod, c.name);
    const specs: [ProbeKind, ProbeSpec | undefined][] = [
      ['startup', c.startupProbe],
      ['liveness', c.livenessProbe],
      ['readiness', c.readinessProbe],
    ];
    for (const [kind, spec] of specs) {
      if (!spec) continue;
      let initial: ProbeResult | undefined;
      if (adopted && kind === 'readiness' && adopted.ready) initial = 'success';
      if (adopted && kind === 'startup' && adopted.started) initial = 'success';
      const worker = new ProbeWorker({
        kind,
        timing: probeTiming(spec, kind),
        clock: this.#o.clock,
        startedAtMs,
        ...(initial ? { initial } : {}),
        run: (timeoutMs) => this.#probe(ctx.memo, c, r.id, spec, timeoutMs),
        gate: () => kind === 'startup' || m.probes.get('startup') === undefined || m.probes.get('startup')!.result === 'success',
        onChange: () => this.#o.enqueue(key),
        onFailure: (message) => this.#o.events.record(ref, 'Warning', 'Unhealthy', `${kind[0]!.toUpperCase()}${kind.slice(1)} probe failed: ${message}`, fieldPath),
      });
      m.probes.set(kind, worker);
    }
  }

  #stopProbes(m: ContainerMemo): void {
    for (const w of m.probes.values()) w.stop();
    m.probes.clear();
    m.probeInstance = undefined;
  }

  async #probe(memo: PodMemo, c: ContainerSpec, id: string, spec: ProbeSpec, timeoutMs: number): Promise<ProbeRun> {
    if (spec.exec) {
      const command = spec.exec.command ?? [];
      const out = await this.#o.runtime.exec(id, command, { timeoutMs });
      if (out.exitCode === 0) return { ok: true, message: '' };
      const text = `${out.stdout}${out.stderr}`.trim().slice(0, 200);
      return { ok: false, message: `command ${JSON.stringify(command)} exited with ${out.exitCode}${text ? `: ${text}` : ''}` };
    }
    const portOf = (port: number | string): number => {
      if (typeof port === 'number') return port;
      const named = (c.ports ?? []).find((p) => p.name === port);
      if (!named) throw new Error(`the probe names port ${JSON.stringify(port)}, which container ${c.name} does not declare`);
      return named.containerPort;
    };
    if (spec.httpGet) {
      const g = spec.httpGet;
      const headers = Object.fromEntries((g.httpHeaders ?? []).map((h) => [h.name, h.value ?? '']));
      return this.#o.prober.httpGet({ scheme: g.scheme ?? 'HTTP', host: g.host || memo.podIP, port: portOf(g.port), path: g.path || '/', headers, timeoutMs });
    }
    if (spec.tcpSocket) return this.#o.prober.tcpConnect({ host: spec.tcpSocket.host || memo.podIP, port: portOf(spec.tcpSocket.port), timeoutMs });
    return { ok: false, message: 'the probe has no exec, httpGet or tcpSocket action' };
  }

  // ------------------------------------------------------------------------------------------
  // Terminal pods, failures

  async #stopContainers(ctx: SyncContext, grace: number): Promise<void> {
    for (const m of ctx.memo.containers.values()) this.#stopProbes(m);
    const running = [...ctx.records.values(), ...ctx.initRecords.values()].filter((r) => r.state === 'running');
    await Promise.all(running.map((r) => this.#o.runtime.stop(r.id, grace)));
    if (running.length > 0) {
      this.#o.containers.invalidate();
      ctx.requeue.push(0);
    }
  }

  /** A Succeeded or Failed pod: its containers stop and its address is given back; the status stays. */
  async #stopTerminal(ctx: SyncContext): Promise<void> {
    if (ctx.memo.terminalDone) return;
    await this.#stopContainers(ctx, ctx.spec.terminationGracePeriodSeconds ?? GRACE_DEFAULT_SECONDS);
    if (ctx.sandbox?.state === 'running') await this.#o.runtime.stop(ctx.sandbox.id, SANDBOX_GRACE_SECONDS);
    if (!ctx.spec.hostNetwork) await this.#o.network.tearDown(ctx.ref);
    await this.#o.namespaces.release(join(ctx.podDir, 'ns'));
    this.#o.containers.invalidate();
    ctx.memo.terminalDone = true;
  }

  // ------------------------------------------------------------------------------------------
  // Status

  #fieldPath(pod: KObject, container: string): string {
    const spec = (pod['spec'] ?? {}) as PodSpec;
    const init = (spec.initContainers ?? []).some((c) => c.name === container);
    return `spec.${init ? 'initContainers' : 'containers'}{${container}}`;
  }

  #waitAll(ctx: SyncContext, waiting: { reason: string; message: string }): void {
    for (const c of ctx.spec.initContainers ?? []) this.#view(ctx, c, true, ctx.initRecords.get(c.name), waiting);
    for (const c of ctx.spec.containers) this.#view(ctx, c, false, ctx.records.get(c.name), waiting);
  }

  /** Views of every container as the runtime has them, with no step taken. */
  #viewsAsIs(ctx: SyncContext): void {
    for (const c of ctx.spec.initContainers ?? []) this.#view(ctx, c, true, ctx.initRecords.get(c.name));
    for (const c of ctx.spec.containers) this.#view(ctx, c, false, ctx.records.get(c.name));
  }

  /** Records how one container looks after this reconcile's step, for the status. */
  #view(ctx: SyncContext, c: ContainerSpec, init: boolean, r: RuntimeContainer | undefined, waiting?: { reason: string; message?: string }, term?: Terminated): void {
    const m = this.#memoOf(ctx, c.name, init);
    const image = this.#o.images.normalize(c.image ?? '');
    const base = { name: c.name, image, restartCount: m.count, ...(r ? { containerID: r.id } : {}) };
    let view: ContainerView;
    if (r?.state === 'running' && !term) {
      const startup = m.probes.get('startup');
      const readiness = m.probes.get('readiness');
      const started = !startup || startup.result === 'success';
      const ready = !init && started && (!readiness || readiness.result === 'success');
      view = { ...base, state: { running: { startedAt: r.labels[LABEL_STARTED_AT] ?? timestamp(ctx.now) } }, ready, started, ...(m.lastTermination ? { lastState: m.lastTermination } : {}) };
    } else if (term && m.waiting?.reason === 'CrashLoopBackOff') {
      view = { ...base, state: { waiting: m.waiting }, lastState: term, ready: false, started: false };
    } else if (term) {
      view = { ...base, state: { terminated: term }, ready: false, started: false, ...(m.lastTermination ? { lastState: m.lastTermination } : {}) };
    } else {
      const w = m.waiting ?? waiting ?? { reason: 'ContainerCreating' };
      view = { ...base, state: { waiting: w.message ? { reason: w.reason, message: w.message } : { reason: w.reason } }, ready: false, started: false, ...(m.lastTermination ? { lastState: m.lastTermination } : {}) };
    }
    ctx.views.set(`${init ? 'init' : 'app'}/${c.name}`, view);
  }

  async #finish(ctx: SyncContext): Promise<ReconcileResult> {
    const { spec, memo, pod } = ctx;
    const stored = (pod['status'] ?? {}) as Record<string, unknown>;
    const viewOf = (c: ContainerSpec, init: boolean) => ctx.views.get(`${init ? 'init' : 'app'}/${c.name}`) ?? { name: c.name, image: this.#o.images.normalize(c.image ?? ''), state: { waiting: { reason: init ? 'PodInitializing' : 'ContainerCreating' } }, ready: false, started: false, restartCount: this.#memoOf(ctx, c.name, init).count };
    const status = buildPodStatus(
      {
        restartPolicy: this.#restartPolicy(ctx),
        init: (spec.initContainers ?? []).map((c) => viewOf(c, true)),
        containers: spec.containers.map((c) => viewOf(c, false)),
        // A hostNetwork pod's IP is the gateway's, which may have changed since it started.
        podIP: spec.hostNetwork ? this.#o.hostIP() : memo.podIP,
        hostIP: this.#o.hostIP(),
        startTime: memo.startTime,
        qosClass: qosClass(spec.containers),
        ...(typeof stored['phase'] === 'string' ? { previousPhase: stored['phase'] } : {}),
        ...(memo.failure ? { failure: memo.failure } : {}),
      },
      memo.written?.status ?? stored,
      timestamp(ctx.now),
    );
    const retry = await this.#writeStatus(ctx, status, stored);
    if (retry !== undefined) ctx.requeue.push(retry);
    // A pod that just became terminal: stop what is left on the next pass.
    if (isTerminalPhase(status['phase']) && !isTerminalPhase(stored['phase']) && memo.written?.status === status) ctx.requeue.push(0);
    if (ctx.requeue.length === 0) return {};
    return { requeueAfterMs: Math.max(0, Math.min(...ctx.requeue)) };
  }

  /** Writes the status if it changed; answers when to try again if the write failed. */
  async #writeStatus(ctx: SyncContext, status: Record<string, unknown>, stored: Record<string, unknown>): Promise<number | undefined> {
    const { memo, ref } = ctx;
    const text = JSON.stringify(status);
    if (memo.written?.text === text) return undefined;
    if (memo.written === undefined && jsonEqual(status, stored)) {
      memo.written = { text, status };
      return undefined;
    }
    const now = this.#o.clock.now();
    // After a failed write the next try waits its turn, whatever else wakes the pod up.
    if (now < memo.statusRetryAt) return memo.statusRetryAt - now;
    try {
      memo.writing = text;
      await this.#o.api.replaceStatus(podsInfo, ref.namespace, ref.name, ref.uid, status).finally(() => (memo.writing = undefined));
      memo.written = { text, status };
      memo.statusFailures = 0;
      memo.statusRetryAt = 0;
      return undefined;
    } catch (error) {
      const code = (error as { code?: unknown }).code;
      if (code === 404 || code === 409) return undefined; // the pod is gone or replaced: its own event follows
      memo.statusFailures++;
      const delay = Math.min(STATUS_RETRY_MAX_MS, STATUS_RETRY_BASE_MS * 2 ** Math.min(memo.statusFailures - 1, 16));
      memo.statusRetryAt = now + delay;
      this.#log.info('pod status not written (will retry with the newest status)', { pod: `${ref.namespace}/${ref.name}`, retryInMs: delay, error: messageOf(error) });
      return delay;
    }
  }

  /** Stops every probe worker (shutdown). */
  stop(): void {
    for (const memo of this.#pods.values()) for (const m of memo.containers.values()) this.#stopProbes(m);
  }

  /** A running container of a pod on this node, for exec (logs need none). */
  async runningContainer(uid: string, container: string): Promise<RuntimeContainer | undefined> {
    const all = await this.#o.containers.get();
    return all.find((c) => c.labels[LABEL_POD_UID] === uid && c.labels[LABEL_CONTAINER_NAME] === container && c.state === 'running');
  }
}
