// In-memory stand-ins for the agent's ports: a clock that moves only when told, a runtime that
// records every call and lets a test make containers exit, crash or answer exec probes, a pod
// network that hands out addresses, an image store, log files in a temporary directory.
import { appendFileSync, existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type {
  Clock,
  ContainerLogs,
  ContainerRequest,
  ContainerRuntime,
  ExecOutput,
  ImageStore,
  LogOwner,
  NetworkProber,
  PodNamespaces,
  PodNetwork,
  PodNetworkRef,
  PortMapping,
  ProbeOutcome,
  RuntimeContainer,
  SandboxRequest,
  TimerHandle,
  VolumeMounts,
} from '../../src/agent/ports.ts';
import { LABEL_CONTAINER_NAME, LABEL_POD_UID, LABEL_SANDBOX } from '../../src/agent/ports.ts';
import { timestamp } from '../../src/model/index.ts';

/** Lets pending promise chains (and real I/O callbacks) run. */
export function settle(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

export class FakeClock implements Clock {
  #now: number;
  #timers: { at: number; seq: number; fn: () => void; cancelled: boolean }[] = [];
  #seq = 0;

  constructor(start = Date.parse('2026-03-01T10:00:00Z')) {
    this.#now = start;
  }

  now(): number {
    return this.#now;
  }

  setTimer(fn: () => void, ms: number): TimerHandle {
    const timer = { at: this.#now + Math.max(0, ms), seq: this.#seq++, fn, cancelled: false };
    this.#timers.push(timer);
    return { cancel: () => void (timer.cancelled = true) };
  }

  get pendingTimers(): number {
    return this.#timers.filter((t) => !t.cancelled).length;
  }

  /** Moves time forward, firing due timers in order and letting their work run in between. */
  async advance(ms: number): Promise<void> {
    const end = this.#now + ms;
    for (;;) {
      this.#timers = this.#timers.filter((t) => !t.cancelled);
      this.#timers.sort((a, b) => a.at - b.at || a.seq - b.seq);
      const next = this.#timers[0];
      if (!next || next.at > end) break;
      this.#timers.shift();
      this.#now = Math.max(this.#now, next.at);
      next.fn();
      for (let i = 0; i < 5; i++) await settle();
    }
    this.#now = end;
    await settle();
  }
}

interface FakeContainer extends RuntimeContainer {
  request?: ContainerRequest;
  sandbox?: SandboxRequest;
  oom: boolean;
}

export type CallRecord =
  | { op: 'runSandbox'; id: string }
  | { op: 'runContainer'; id: string; request: ContainerRequest }
  | { op: 'stop'; id: string; graceSeconds: number }
  | { op: 'remove'; id: string }
  | { op: 'exec'; id: string; argv: string[] };

export class FakeRuntime implements ContainerRuntime {
  readonly containers = new Map<string, FakeContainer>();
  readonly calls: CallRecord[] = [];
  readonly #listeners = new Set<(id: string) => void>();
  #pid = 1000;
  /** A start fails with this message when it returns one (a missing command, say). */
  startFailure: (request: ContainerRequest) => string | undefined = () => undefined;
  /** What an exec answers (exec probes, `bramble exec`). */
  execHandler: (id: string, argv: string[]) => ExecOutput = () => ({ exitCode: 0, stdout: '', stderr: '' });
  /** Containers that ignore SIGTERM and are killed when the grace ends. */
  readonly ignoresSigterm = new Set<string>();
  /** Makes list() fail (containerd down). */
  down = false;

  constructor(private readonly clock: Clock) {}

  containerId(podUid: string, containerName: string): string {
    return `${podUid}_${containerName}`;
  }

  sandboxId(podUid: string): string {
    return `${podUid}.sandbox`;
  }

  async list(): Promise<RuntimeContainer[]> {
    if (this.down) throw new Error('containerd is not running');
    return [...this.containers.values()].map((c) => ({ id: c.id, labels: { ...c.labels }, image: c.image, state: c.state, pid: c.pid, exitCode: c.exitCode, ...(c.finishedAt ? { finishedAt: c.finishedAt } : {}) }));
  }

  async runSandbox(request: SandboxRequest): Promise<{ pid: number }> {
    this.calls.push({ op: 'runSandbox', id: request.id });
    if (this.containers.has(request.id)) throw new Error(`container ${request.id}: already exists`);
    const pid = this.#pid++;
    this.containers.set(request.id, { id: request.id, labels: request.labels, image: 'docker.io/library/busybox:latest', state: 'running', pid, exitCode: null, sandbox: request, oom: false });
    return { pid };
  }

  async runContainer(request: ContainerRequest): Promise<{ pid: number }> {
    this.calls.push({ op: 'runContainer', id: request.id, request });
    if (this.containers.has(request.id)) throw new Error(`container ${request.id}: already exists`);
    const failure = this.startFailure(request);
    if (failure) {
      this.containers.set(request.id, { id: request.id, labels: request.labels, image: request.image, state: 'created', pid: 0, exitCode: null, request, oom: false });
      throw new Error(failure);
    }
    const pid = this.#pid++;
    this.containers.set(request.id, { id: request.id, labels: request.labels, image: request.image, state: 'running', pid, exitCode: null, request, oom: false });
    return { pid };
  }

  async stop(id: string, graceSeconds: number): Promise<void> {
    this.calls.push({ op: 'stop', id, graceSeconds });
    const c = this.containers.get(id);
    if (!c || c.state !== 'running') return;
    this.#exited(c, this.ignoresSigterm.has(id) ? 137 : 143, false);
  }

  async remove(id: string): Promise<void> {
    this.calls.push({ op: 'remove', id });
    this.containers.delete(id);
  }

  async exec(id: string, argv: string[]): Promise<ExecOutput> {
    this.calls.push({ op: 'exec', id, argv });
    const c = this.containers.get(id);
    if (!c || c.state !== 'running') throw new Error(`container ${id} is not running`);
    return this.execHandler(id, argv);
  }

  async wasOomKilled(id: string): Promise<boolean> {
    return this.containers.get(id)?.oom ?? false;
  }

  onExit(listener: (id: string) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  #exited(c: FakeContainer, code: number, oom: boolean): void {
    c.state = 'exited';
    c.exitCode = code;
    c.pid = 0;
    c.oom = oom;
    c.finishedAt = timestamp(this.clock.now());
    for (const l of this.#listeners) l(c.id);
  }

  /** The app (or init) container `name` of the pod `uid`. */
  find(uid: string, name: string): FakeContainer | undefined {
    return [...this.containers.values()].find((c) => c.labels[LABEL_POD_UID] === uid && c.labels[LABEL_CONTAINER_NAME] === name && c.labels[LABEL_SANDBOX] !== 'true');
  }

  /** Makes a running container exit with `code` (137 and oom for an OOM kill). */
  exit(uid: string, name: string, code: number, oom = false): void {
    const c = this.find(uid, name);
    if (!c || c.state !== 'running') throw new Error(`fake runtime: container ${name} of pod ${uid} is not running`);
    this.#exited(c, code, oom);
  }

  /** Everything gone, as after a reboot (containerd's state is in tmpfs). */
  reboot(): void {
    this.containers.clear();
  }

  count(op: CallRecord['op'], id?: string): number {
    return this.calls.filter((c) => c.op === op && (id === undefined || c.id === id)).length;
  }
}

export class FakeNetwork implements PodNetwork {
  readonly attached = new Map<string, { ref: PodNetworkRef; ip: string; ports: PortMapping[] }>();
  readonly tornDown: string[] = [];
  #next = 2;
  failWith: string | undefined;

  /** The pod process each setUp was told holds the netns (undefined: none running). */
  readonly podPids: (number | undefined)[] = [];

  async setUp(pod: PodNetworkRef, portMappings: PortMapping[], podPid?: number): Promise<{ netnsPath: string; ip: string }> {
    this.podPids.push(podPid);
    if (this.failWith) throw new Error(this.failWith);
    let entry = this.attached.get(pod.uid);
    if (!entry) {
      entry = { ref: pod, ip: `10.42.0.${this.#next++}`, ports: portMappings };
      this.attached.set(pod.uid, entry);
    }
    return { netnsPath: `/run/netns/fake-${pod.uid}`, ip: entry.ip };
  }

  async tearDown(pod: PodNetworkRef): Promise<void> {
    this.tornDown.push(pod.uid);
    this.attached.delete(pod.uid);
  }

  async list(): Promise<PodNetworkRef[]> {
    return [...this.attached.values()].map((e) => e.ref);
  }
}

/** Pinned IPC/UTS namespaces as a map from directory to what they were pinned with. */
export class FakeNamespaces implements PodNamespaces {
  readonly pinned = new Map<string, { hostname: string; fromPid?: number; serial: number }>();
  readonly pins: { dir: string; hostname: string; fromPid?: number; created: boolean }[] = [];
  readonly released: string[] = [];
  #serial = 0;
  failWith: string | undefined;

  async pin(dir: string, options: { hostname: string; fromPid?: number }): Promise<{ ipc: string; uts: string; created: boolean }> {
    if (this.failWith) throw new Error(this.failWith);
    let created = false;
    if (!this.pinned.has(dir)) {
      created = options.fromPid === undefined;
      this.pinned.set(dir, { hostname: options.hostname, ...(options.fromPid !== undefined ? { fromPid: options.fromPid } : {}), serial: this.#serial++ });
    }
    this.pins.push({ dir, ...options, created });
    return { ipc: join(dir, 'ipc'), uts: join(dir, 'uts'), created };
  }

  async release(dir: string): Promise<void> {
    this.released.push(dir);
    this.pinned.delete(dir);
  }

  /** The pins are gone, as after a reboot (/run is a tmpfs) or a restart in a new mount namespace. */
  forgetAll(): void {
    this.pinned.clear();
  }
}

/** tmpfs mounts as a set of paths; unmountUnder forgets those under a directory. */
export class FakeMounts implements VolumeMounts {
  readonly tmpfsAt = new Map<string, { mode: number; sizeBytes?: number }>();
  readonly unmounted: string[] = [];

  async tmpfs(path: string, options: { mode: number; sizeBytes?: number }): Promise<void> {
    if (!existsSync(path)) throw new Error(`mount: ${path}: mount point does not exist`);
    if (!this.tmpfsAt.has(path)) this.tmpfsAt.set(path, options);
  }

  async unmountUnder(dir: string): Promise<void> {
    for (const path of [...this.tmpfsAt.keys()]) {
      if (path.startsWith(`${dir}/`)) {
        this.tmpfsAt.delete(path);
        this.unmounted.push(path);
      }
    }
  }
}

export class FakeImages implements ImageStore {
  readonly present = new Set<string>(['docker.io/library/busybox:latest']);

  normalize(ref: string): string {
    let name = ref;
    if (!name.includes('/')) name = `docker.io/library/${name}`;
    else if (!/^[^/]+[.:]/.test(name)) name = `docker.io/${name}`;
    if (!/:[^/]+$/.test(name) && !name.includes('@')) name = `${name}:latest`;
    return name;
  }

  async has(ref: string): Promise<boolean> {
    return this.present.has(this.normalize(ref));
  }

  /** ENTRYPOINT by normalised image name (none: empty). */
  readonly entrypoints = new Map<string, string[]>();

  async entrypoint(ref: string): Promise<string[] | undefined> {
    return this.entrypoints.get(this.normalize(ref)) ?? [];
  }
}

export class FakeLogs implements ContainerLogs {
  readonly removed: string[] = [];
  constructor(readonly dir: string) {}

  path(owner: LogOwner): string {
    return join(this.dir, `${owner.namespace}_${owner.podName}_${owner.podUid}`, owner.containerName, 'current.log');
  }

  async read(path: string, options: { tailLines?: number; follow: boolean; signal: AbortSignal }, write: (chunk: Buffer) => void | Promise<void>): Promise<void> {
    const text = existsSync(path) ? readFileSync(path, 'utf8') : '';
    let lines = text.split('\n');
    if (lines[lines.length - 1] === '') lines.pop();
    if (options.tailLines !== undefined) lines = lines.slice(Math.max(0, lines.length - options.tailLines));
    if (lines.length > 0) await write(Buffer.from(`${lines.join('\n')}\n`));
  }

  async removePod(owner: Omit<LogOwner, 'containerName'>): Promise<void> {
    this.removed.push(owner.podUid);
    rmSync(join(this.dir, `${owner.namespace}_${owner.podName}_${owner.podUid}`), { recursive: true, force: true });
  }

  /** Appends to a container's log as the runtime would. */
  append(owner: LogOwner, text: string): void {
    const path = this.path(owner);
    mkdirSync(dirname(path), { recursive: true });
    appendFileSync(path, text);
  }
}

export class FakeProber implements NetworkProber {
  /** Answers by port; missing ports refuse the connection. */
  readonly answers = new Map<number, boolean>();
  readonly calls: { kind: 'http' | 'tcp'; host: string; port: number }[] = [];

  async httpGet(request: { host: string; port: number }): Promise<ProbeOutcome> {
    this.calls.push({ kind: 'http', host: request.host, port: request.port });
    const ok = this.answers.get(request.port);
    return ok ? { ok: true, message: '' } : { ok: false, message: ok === false ? 'HTTP probe failed with statuscode: 500' : 'connection refused' };
  }

  async tcpConnect(request: { host: string; port: number }): Promise<ProbeOutcome> {
    this.calls.push({ kind: 'tcp', host: request.host, port: request.port });
    return this.answers.get(request.port) ? { ok: true, message: '' } : { ok: false, message: 'connection refused' };
  }
}
