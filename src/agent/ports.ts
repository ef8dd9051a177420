// What the node agent needs from the layers around it, as small interfaces: the container
// runtime (src/runtime, through ctr), the pod network (src/network, CNI), the images on this
// node, the container log files, the resource API and the clock. The agent is written against
// these only, so it is unit-tested with in-memory fakes; runtime-adapter.ts and
// network-adapter.ts map the real modules onto them.
import type { KObject, ResourceInfo } from '../model/index.ts';

// ---------------------------------------------------------------------------------------------
// Time

export interface TimerHandle {
  cancel(): void;
}

/** Injected time: the agent never calls Date.now or setTimeout itself (tests drive a fake). */
export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
  /** Runs `fn` once after `ms`; the timer must not keep the process alive. */
  setTimer(fn: () => void, ms: number): TimerHandle;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  setTimer(fn, ms) {
    const timer = setTimeout(fn, Math.max(0, ms));
    timer.unref();
    return { cancel: () => clearTimeout(timer) };
  },
};

// ---------------------------------------------------------------------------------------------
// Container runtime

/** Labels on every container the agent creates: how it finds them again after a restart. */
export const LABEL_POD_NAMESPACE = 'io.bramble.pod.namespace';
export const LABEL_POD_NAME = 'io.bramble.pod.name';
export const LABEL_POD_UID = 'io.bramble.pod.uid';
export const LABEL_CONTAINER_NAME = 'io.bramble.container.name';
export const LABEL_SANDBOX = 'io.bramble.sandbox';
/** The restart count this instance of the container was started with (kubelet keeps it the same way). */
export const LABEL_RESTART_COUNT = 'io.bramble.container.restart-count';
/** When the agent started this instance (RFC 3339): ctr reports no start time of its own. */
export const LABEL_STARTED_AT = 'io.bramble.container.started-at';
/** A hash of the container's spec: a changed spec (a new image) restarts the container. */
export const LABEL_SPEC_HASH = 'io.bramble.container.spec-hash';
/** Whether the container is an init container ("true") or not. */
export const LABEL_INIT = 'io.bramble.container.init';

export type ContainerState = 'running' | 'exited' | 'created' | 'unknown';

/** One container as the runtime knows it (sandbox or app container). */
export interface RuntimeContainer {
  id: string;
  labels: Readonly<Record<string, string>>;
  image: string;
  /** `exited` is a task that ran and stopped; `created` never started; `unknown` has no task. */
  state: ContainerState;
  /** Host pid of the task; 0 when not running. */
  pid: number;
  /** Exit code of an exited task; null when the runtime does not know it. */
  exitCode: number | null;
  /** RFC 3339, when known. */
  finishedAt?: string;
}

export interface BindMount {
  source: string;
  destination: string;
  readOnly: boolean;
}

/** A PID-namespace holder, only for pods with `shareProcessNamespace: true`. */
export interface SandboxRequest {
  id: string;
  netnsPath: string;
  /** The pod's pinned IPC and UTS namespaces (PodNamespaces.pin), which the sandbox joins. */
  pinned: { ipc: string; uts: string };
  hostname: string;
  labels: Record<string, string>;
}

/** The namespaces a pod's container joins, by path. */
export interface JoinedNamespaces {
  network: string;
  ipc: string;
  uts: string;
  /** The sandbox's PID namespace (`shareProcessNamespace: true`) */
  pid?: string;
}

export interface ContainerRequest {
  id: string;
  image: string;
  /** Full argv; empty runs the image's own entrypoint and cmd. */
  argv: string[];
  env: Record<string, string>;
  workingDir?: string;
  mounts: BindMount[];
  namespaces: JoinedNamespaces;
  memoryLimitBytes?: number;
  cpuLimitCores?: number;
  logPath: string;
  labels: Record<string, string>;
}

export interface ExecOutput {
  exitCode: number;
  stdout: string;
  stderr: string;
}

export interface ContainerRuntime {
  /** Every container of this node's runtime namespace, with its task state. */
  list(): Promise<RuntimeContainer[]>;
  /** Starts a pod's sandbox process (the holder of a shared PID namespace); answers its pid. */
  runSandbox(request: SandboxRequest): Promise<{ pid: number }>;
  /** Creates and starts a container. A failure to start throws with the runtime's words. */
  runContainer(request: ContainerRequest): Promise<{ pid: number }>;
  /** SIGTERM, `graceSeconds`, then SIGKILL; resolves once the task is stopped (or absent). */
  stop(id: string, graceSeconds: number): Promise<void>;
  /** Removes the container and its task (killing it if it runs); idempotent. */
  remove(id: string): Promise<void>;
  exec(id: string, argv: string[], options: { timeoutMs: number; signal?: AbortSignal }): Promise<ExecOutput>;
  /** Whether the container's last task was killed by the OOM killer. */
  wasOomKilled(id: string): Promise<boolean>;
  /** Tells the agent about a task that exited (or was OOM-killed) as soon as the runtime sees it. */
  onExit(listener: (containerId: string) => void): () => void;
  /** A stable container ID for a pod's container, and for its sandbox. */
  containerId(podUid: string, containerName: string): string;
  sandboxId(podUid: string): string;
}

/**
 * The pod's IPC and UTS namespaces, pinned as files so that each container joins them by path
 * (no sandbox container per pod). Pins made by a previous daemon in another mount namespace are
 * not visible here: `fromPid`, a running container of the pod, says whose namespaces to pin then.
 */
export interface PodNamespaces {
  /** Pins (or keeps) the pod's namespaces as files in `dir`; new ones get `hostname`. Answers their paths. */
  pin(dir: string, options: { hostname: string; fromPid?: number }): Promise<{ ipc: string; uts: string; created: boolean }>;
  /** Unmounts and removes the pins in `dir`; idempotent. */
  release(dir: string): Promise<void>;
}

/** Mounts for pod volumes: tmpfs for memory-backed ones, and their removal with the pod. */
export interface VolumeMounts {
  /** Mounts a tmpfs at `path` (an existing directory) unless one is mounted there. */
  tmpfs(path: string, options: { mode: number; sizeBytes?: number }): Promise<void>;
  /** Unmounts everything mounted under `dir` (the pod's directory, before it is removed). */
  unmountUnder(dir: string): Promise<void>;
}

// ---------------------------------------------------------------------------------------------
// Images

export interface ImageStore {
  /** The normalised name: busybox → docker.io/library/busybox:latest. */
  normalize(ref: string): string;
  has(ref: string): Promise<boolean>;
  /** The image's ENTRYPOINT, when known: `args` without `command` run after it. */
  entrypoint?(ref: string): Promise<string[] | undefined>;
}

// ---------------------------------------------------------------------------------------------
// Network

export interface PortMapping {
  hostPort: number;
  containerPort: number;
  protocol: 'tcp' | 'udp';
}

export interface PodNetworkRef {
  uid: string;
  namespace: string;
  name: string;
}

export interface PodNetwork {
  /** Creates the pod's network namespace if needed and attaches it (CNI ADD); idempotent, so
   *  an intact attachment (after a daemon restart) answers the same address. `podPid`: a
   *  running process of the pod, whose netns is the pod's (kept, never replaced by a new one). */
  setUp(pod: PodNetworkRef, portMappings: PortMapping[], podPid?: number): Promise<{ netnsPath: string; ip: string }>;
  /** Creates the pod's network namespace (idempotent) without attaching it, so a sandbox can
   *  start in it while setUp attaches it. Optional: without it the two run one after the other. */
  netns?(pod: PodNetworkRef): Promise<string>;
  /** CNI DEL and removal of the namespace; idempotent, fine when nothing is left. */
  tearDown(pod: PodNetworkRef): Promise<void>;
  /** Pods with an attachment (or a half-done one) on this node. */
  list(): Promise<PodNetworkRef[]>;
}

// ---------------------------------------------------------------------------------------------
// Container logs

export interface LogOwner {
  namespace: string;
  podName: string;
  podUid: string;
  containerName: string;
}

export interface ContainerLogs {
  /** Absolute path of the container's log file (the runtime appends stdout+stderr to it). */
  path(owner: LogOwner): string;
  /** Streams the file (tail, follow) into `write` until done or `signal` aborts. */
  read(path: string, options: { tailLines?: number; follow: boolean; signal: AbortSignal }, write: (chunk: Buffer) => void | Promise<void>): Promise<void>;
  /** Removes every log file of the pod. */
  removePod(owner: Omit<LogOwner, 'containerName'>): Promise<void>;
}

// ---------------------------------------------------------------------------------------------
// Probes over the network (exec probes go through the runtime)

export interface NetworkProber {
  /** Success when the answer's status is 200–399. */
  httpGet(request: { scheme: 'HTTP' | 'HTTPS'; host: string; port: number; path: string; headers: Record<string, string>; timeoutMs: number }): Promise<ProbeOutcome>;
  tcpConnect(request: { host: string; port: number; timeoutMs: number }): Promise<ProbeOutcome>;
}

export interface ProbeOutcome {
  ok: boolean;
  /** Why it failed, for the Unhealthy event. */
  message: string;
}

// ---------------------------------------------------------------------------------------------
// The resource API

/** What the agent reads and writes through the resource API (in-process, no HTTP). Reads are
 *  from the local replica (no quorum); writes need the cluster and may fail while offline. */
export interface AgentApi {
  get(info: ResourceInfo, namespace: string | undefined, name: string): Promise<KObject | undefined>;
  list(info: ResourceInfo, namespace: string | undefined): Promise<{ items: KObject[]; revision: number }>;
  create(info: ResourceInfo, namespace: string | undefined, object: KObject): Promise<KObject>;
  /** Replaces an object's status; fails with 409 if the object's UID is no longer `uid`. */
  replaceStatus(info: ResourceInfo, namespace: string | undefined, name: string, uid: string, status: Record<string, unknown>): Promise<KObject>;
  /** Finishes a graceful deletion (gracePeriodSeconds=0, precondition on the UID). */
  deletePod(namespace: string, name: string, uid: string): Promise<void>;
}

/** The one store watch of the API server (WatchCache satisfies it). */
export interface WatchSource {
  readonly latestRevision: number;
  subscribe(
    prefix: string,
    afterRevision: number,
    sink: { changes(changes: readonly { key: string; object: KObject; deleted: boolean }[], revision: number): void; ended(reason: Error): void },
  ): { cancel(): void } | null;
}
