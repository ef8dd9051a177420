// Pod containers and their tasks, all through ctr. Each container joins the pod's namespaces by
// path: the CNI-prepared netns and the pinned IPC and UTS namespaces (pod-namespaces.ts). A
// sandbox, a tiny long-lived busybox process, is only needed to hold a PID namespace the pod's
// containers share (`shareProcessNamespace: true`); they join it through /proc/<sandbox pid>/ns/pid.
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { dirname, isAbsolute, join } from 'node:path';
import { promisify } from 'node:util';
import { BUSYBOX_IMAGE } from './busybox-image.ts';
import { readOomKills } from './cgroups.ts';
import type { Ctr } from './ctr.ts';
import { CtrError, RuntimeError } from './errors.ts';
import type { TaskEvents } from './events.ts';
import { isValidContainerId } from './ids.ts';
import { normalizeImageName } from './image-names.ts';
import { unmountUnder } from './mounts.ts';
import { processAlive } from '../host/process-alive.ts';

const execFileAsync = promisify(execFile);

export type TaskState = 'running' | 'stopped' | 'created' | 'unknown';

export interface TaskStatus {
  /** 'unknown' also when the container has no task (never started, or deleted). */
  state: TaskState;
  /** Host pid of the task's process; 0 when there is no task. */
  pid: number;
  /** Known when the exit was seen on containerd's event stream (or via deleteTask); else null. */
  exitCode: number | null;
  exitedAt?: string;
}

export interface TaskListEntry {
  id: string;
  pid: number;
  state: TaskState;
  /** ctr's own word: RUNNING, STOPPED, CREATED, PAUSED, ... */
  status: string;
}

export interface ContainerInfo {
  id: string;
  image: string;
  labels: Record<string, string>;
  createdAt: string;
  /** From the spec: where the task's cgroup lives (`/bramble/<id>`). */
  cgroupsPath: string;
}

export interface Mount {
  source: string;
  destination: string;
  readOnly?: boolean;
}

export interface SandboxSpec {
  /** Default `sandboxId(podUid)`. */
  id: string;
  /** The pod's network namespace, prepared (and plugged in by CNI) by the caller. */
  netnsPath: string;
  /** The pod's pinned IPC and UTS namespaces to join (pinPodNamespaces); without them the
   *  sandbox gets new ones and `hostname` is set in its UTS namespace. */
  pinned?: { ipc: string; uts: string };
  /** The pod's name; set in the sandbox's own UTS namespace when none is pinned. */
  hostname: string;
  labels: Record<string, string>;
  /** Default docker.io/library/busybox:latest. */
  image?: string;
}

/** The namespaces a container joins, by path (a pinned file or /proc/PID/ns/KIND). */
export interface JoinedNamespaces {
  network: string;
  ipc: string;
  uts: string;
  /** Only for a PID namespace shared by the pod's containers (the sandbox's). */
  pid?: string;
}

/** The namespaces of a running process, e.g. an old-style sandbox's. */
export function namespacesOfPid(pid: number, sharePid = false): JoinedNamespaces {
  const ns = `/proc/${pid}/ns`;
  return { network: `${ns}/net`, ipc: `${ns}/ipc`, uts: `${ns}/uts`, ...(sharePid ? { pid: `${ns}/pid` } : {}) };
}

export interface ContainerSpec {
  id: string;
  image: string;
  /** Full argv; empty or absent runs the image's entrypoint + cmd. */
  command?: readonly string[];
  env?: Readonly<Record<string, string>>;
  workingDir?: string;
  mounts?: readonly Mount[];
  /** The pod's namespaces, joined by path. */
  namespaces: JoinedNamespaces;
  memoryLimitBytes?: number;
  /** CFS quota in cores (0.5 = half a core). */
  cpuLimitCores?: number;
  /** Absolute path of the container's log file (stdout and stderr, merged, appended). */
  logPath: string;
  labels: Record<string, string>;
}

export interface ExecResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

// PID 1 of the pod: exits on TERM (PID 1 ignores signals it has no handler for), and `wait`
// reaps the sleeps and any orphans of containers that share its PID namespace.
export const SANDBOX_COMMAND = ['sh', '-c', 'trap "exit 0" TERM INT; while :; do sleep 3600 & wait; done'] as const;

const notFound = (_code: number, stderr: string) => /not found/.test(stderr);

/** Unmounts and removes a task bundle directory left behind; a mount that will not go leaves it
 *  (the next start then says why). */
async function removeBundle(bundle: string): Promise<void> {
  if (!existsSync(bundle)) return;
  try {
    await unmountUnder(bundle);
    rmSync(bundle, { recursive: true, force: true });
  } catch {
    // left as it is
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function stateOf(status: string): TaskState {
  switch (status) {
    case 'RUNNING':
    case 'PAUSED':
    case 'PAUSING':
      return 'running';
    case 'STOPPED':
      return 'stopped';
    case 'CREATED':
      return 'created';
    default:
      return 'unknown';
  }
}

/** Parses `ctr task ls`: TASK PID STATUS. */
export function parseTaskList(stdout: string): TaskListEntry[] {
  const tasks: TaskListEntry[] = [];
  for (const line of stdout.split('\n').slice(1)) {
    const [id, pid, status] = line.trim().split(/\s+/);
    if (id === undefined || pid === undefined || status === undefined) continue;
    tasks.push({ id, pid: Number.parseInt(pid, 10) || 0, status, state: stateOf(status) });
  }
  return tasks;
}

function checkId(id: string): void {
  if (!isValidContainerId(id)) {
    throw new RuntimeError(`invalid container id ${JSON.stringify(id)}: use containerId()/sandboxId() to derive one`, { code: 'E_CONTAINER_ID' });
  }
}

// ctr splits --mount on `,` (CSV) and its options on `:`; such paths cannot be expressed.
function mountFlag(mount: Mount): string {
  for (const [what, path] of [['source', mount.source], ['destination', mount.destination]] as const) {
    if (!isAbsolute(path)) throw new RuntimeError(`mount ${what} ${JSON.stringify(path)} must be an absolute path`, { code: 'E_MOUNT' });
    if (/[,"\n]/.test(path)) throw new RuntimeError(`mount ${what} ${JSON.stringify(path)}: a comma, quote or newline cannot be passed to ctr; rename the path`, { code: 'E_MOUNT' });
  }
  return `type=bind,src=${mount.source},dst=${mount.destination},options=rbind:${mount.readOnly ? 'ro' : 'rw'}`;
}

function labelFlags(labels: Readonly<Record<string, string>>): string[] {
  const flags: string[] = [];
  for (const [key, value] of Object.entries(labels)) flags.push('--label', `${key}=${value}`);
  return flags;
}

/** Containers and tasks in one containerd namespace. */
export class Containers {
  readonly #ctr: Ctr;
  readonly #events: TaskEvents | undefined;
  readonly #stateDir: string | undefined;
  // Container records never change after creation (bramble does not relabel), so one
  // `ctr containers info` per container is enough until it is removed.
  readonly #info = new Map<string, ContainerInfo>();
  #execCounter = 0;

  constructor(ctr: Ctr, events?: TaskEvents, stateDir?: string) {
    this.#ctr = ctr;
    this.#events = events;
    this.#stateDir = stateDir;
  }

  /**
   * The pid of a task just started: from the shim's init.pid in containerd's state directory when
   * we know it (a file read instead of a `ctr tasks ls`, a process start saved per container),
   * else from the task list. A pid whose process is gone means the task has already exited.
   */
  async #startedPid(id: string): Promise<{ state: TaskState; pid: number }> {
    if (this.#stateDir !== undefined) {
      try {
        const pid = Number.parseInt(readFileSync(join(this.#stateDir, 'io.containerd.runtime.v2.task', this.#ctr.namespace, id, 'init.pid'), 'utf8'), 10);
        if (pid > 0 && existsSync(`/proc/${pid}`)) return { state: 'running', pid };
      } catch {
        // not there (another runtime layout): ask containerd
      }
    }
    const status = await this.taskStatus(id);
    return { state: status.state, pid: status.pid };
  }

  /** Starts the pod's sandbox and sets its hostname; returns its task pid. */
  async runSandbox(spec: SandboxSpec): Promise<{ id: string; pid: number }> {
    checkId(spec.id);
    if (!isAbsolute(spec.netnsPath)) throw new RuntimeError(`sandbox ${spec.id}: netnsPath ${JSON.stringify(spec.netnsPath)} must be absolute`, { code: 'E_SANDBOX' });
    const image = normalizeImageName(spec.image ?? BUSYBOX_IMAGE);
    const joined = ['--with-ns', `network:${spec.netnsPath}`];
    if (spec.pinned) {
      for (const path of [spec.pinned.ipc, spec.pinned.uts]) {
        if (!isAbsolute(path)) throw new RuntimeError(`sandbox ${spec.id}: namespace path ${JSON.stringify(path)} must be absolute`, { code: 'E_SANDBOX' });
      }
      joined.push('--with-ns', `ipc:${spec.pinned.ipc}`, '--with-ns', `uts:${spec.pinned.uts}`);
    }
    // --null-io: it prints nothing, and a detached task's default fifos would be left unread.
    await this.#ctr.run(['run', '-d', '--null-io', ...joined, ...labelFlags(spec.labels), image, spec.id, ...SANDBOX_COMMAND]);
    const status = await this.#startedPid(spec.id);
    if (status.state !== 'running') throw new RuntimeError(`sandbox ${spec.id} is ${status.state} right after start`, { code: 'E_SANDBOX' });
    // The pinned UTS namespace has the hostname already.
    if (spec.pinned) return { id: spec.id, pid: status.pid };
    // ctr 1.6 has no --hostname; setting it from the host keeps CAP_SYS_ADMIN out of the pod.
    try {
      await execFileAsync('nsenter', [`--uts=/proc/${status.pid}/ns/uts`, '--', 'hostname', spec.hostname], { timeout: 5_000 });
    } catch (error) {
      const stderr = String((error as { stderr?: unknown }).stderr ?? (error as Error).message).trim();
      throw new RuntimeError(`sandbox ${spec.id}: cannot set hostname ${JSON.stringify(spec.hostname)}: ${stderr}`, { cause: error, code: 'E_SANDBOX' });
    }
    return { id: spec.id, pid: status.pid };
  }

  /** Creates and starts a container in the pod's namespaces; returns its task pid. */
  async runContainer(spec: ContainerSpec): Promise<{ id: string; pid: number }> {
    checkId(spec.id);
    if (!isAbsolute(spec.logPath)) throw new RuntimeError(`container ${spec.id}: logPath must be absolute, got ${JSON.stringify(spec.logPath)}`, { code: 'E_LOG' });
    const image = normalizeImageName(spec.image);
    mkdirSync(dirname(spec.logPath), { recursive: true });
    const args = ['run', '-d', '--log-uri', `file://${spec.logPath}`];
    for (const kind of ['network', 'ipc', 'uts', 'pid'] as const) {
      const path = spec.namespaces[kind];
      if (path === undefined) {
        if (kind === 'pid') continue;
        throw new RuntimeError(`container ${spec.id}: no ${kind} namespace given; a pod's containers join the pod's namespaces`, { code: 'E_SANDBOX' });
      }
      if (!isAbsolute(path) || /[\s,:]/.test(path)) throw new RuntimeError(`container ${spec.id}: ${kind} namespace path ${JSON.stringify(path)} must be absolute, without spaces, commas or colons (ctr cannot pass them)`, { code: 'E_SANDBOX' });
      args.push('--with-ns', `${kind}:${path}`);
    }
    for (const mount of spec.mounts ?? []) args.push('--mount', mountFlag(mount));
    for (const [key, value] of Object.entries(spec.env ?? {})) {
      if (key.length === 0 || key.includes('=')) throw new RuntimeError(`container ${spec.id}: bad environment variable name ${JSON.stringify(key)}`, { code: 'E_ENV' });
      args.push('--env', `${key}=${value}`);
    }
    if (spec.workingDir !== undefined && spec.workingDir !== '') args.push('--cwd', spec.workingDir);
    if (spec.memoryLimitBytes !== undefined && spec.memoryLimitBytes > 0) args.push('--memory-limit', String(Math.floor(spec.memoryLimitBytes)));
    if (spec.cpuLimitCores !== undefined && spec.cpuLimitCores > 0) args.push('--cpus', String(spec.cpuLimitCores));
    args.push(...labelFlags(spec.labels), image, spec.id, ...(spec.command ?? []));
    await this.#ctr.run(args);
    const status = await this.#startedPid(spec.id);
    return { id: spec.id, pid: status.pid };
  }

  async listTasks(): Promise<TaskListEntry[]> {
    const { stdout } = await this.#ctr.run(['tasks', 'ls']);
    return parseTaskList(stdout);
  }

  async taskStatus(id: string): Promise<TaskStatus> {
    const task = (await this.listTasks()).find((entry) => entry.id === id);
    const exit = this.#events?.lastExit(id);
    if (task === undefined) return { state: 'unknown', pid: 0, exitCode: exit?.exitCode ?? null, ...(exit ? { exitedAt: exit.exitedAt } : {}) };
    if (task.state === 'stopped' && exit !== undefined && (exit.pid === task.pid || task.pid === 0)) {
      return { state: 'stopped', pid: task.pid, exitCode: exit.exitCode, exitedAt: exit.exitedAt };
    }
    return { state: task.state, pid: task.pid, exitCode: null };
  }

  /** Container IDs, optionally only those with a label value (`io.bramble.pod.uid`, ...). */
  async listContainerIds(label?: { key: string; value: string }): Promise<string[]> {
    const args = ['containers', 'ls', '-q'];
    if (label !== undefined) args.push(`labels.${JSON.stringify(label.key)}==${label.value}`);
    const { stdout } = await this.#ctr.run(args);
    return stdout.split('\n').map((line) => line.trim()).filter((line) => line.length > 0);
  }

  /** Every container with its labels: what the agent adopts after a restart. */
  async listContainers(label?: { key: string; value: string }): Promise<ContainerInfo[]> {
    const ids = await this.listContainerIds(label);
    const infos = await Promise.all(ids.map((id) => this.containerInfo(id)));
    return infos.filter((info): info is ContainerInfo => info !== undefined);
  }

  /** One container's record, or undefined if there is none. */
  async containerInfo(id: string): Promise<ContainerInfo | undefined> {
    const cached = this.#info.get(id);
    if (cached !== undefined) return cached;
    let stdout: string;
    try {
      ({ stdout } = await this.#ctr.run(['containers', 'info', id]));
    } catch (error) {
      if (error instanceof CtrError && error.notFound) return undefined;
      throw error;
    }
    const raw = JSON.parse(stdout) as { ID: string; Image: string; Labels?: Record<string, string> | null; CreatedAt: string; Spec?: { linux?: { cgroupsPath?: string } } };
    const info: ContainerInfo = {
      id: raw.ID,
      image: raw.Image,
      labels: raw.Labels ?? {},
      createdAt: raw.CreatedAt,
      cgroupsPath: raw.Spec?.linux?.cgroupsPath ?? `/${this.#ctr.namespace}/${id}`,
    };
    this.#info.set(id, info);
    return info;
  }

  /** Sends a signal to the task's process (or to every process in it with `all`). */
  async killTask(id: string, signal: NodeJS.Signals | number = 'SIGTERM', options: { all?: boolean } = {}): Promise<void> {
    const args = ['tasks', 'kill', '--signal', String(signal)];
    if (options.all) args.push('--all');
    args.push(id);
    // A task that already exited is what the caller wanted.
    await this.#ctr.run(args, { okExitCode: (_code, stderr) => /not found|process already finished/.test(stderr) });
  }

  /**
   * SIGTERM, up to `graceSeconds` for the task to exit, then SIGKILL to every process in it.
   * Resolves with the final status once the task is stopped (or absent).
   */
  async stopTask(id: string, graceSeconds: number): Promise<TaskStatus> {
    let status = await this.taskStatus(id);
    if (status.state !== 'running') return status;
    const pid = status.pid;
    await this.killTask(id, 'SIGTERM');
    // Watching /proc costs no fork; ctr is asked again only once the process is gone.
    const deadline = Date.now() + Math.max(0, graceSeconds) * 1000;
    while (processAlive(pid) && Date.now() < deadline) await sleep(50);
    if (processAlive(pid)) {
      await this.killTask(id, 'SIGKILL', { all: true });
      const killDeadline = Date.now() + 10_000;
      while (processAlive(pid) && Date.now() < killDeadline) await sleep(50);
    }
    // The shim reaps the process slightly before containerd records STOPPED.
    for (let attempt = 0; attempt < 40; attempt += 1) {
      status = await this.taskStatus(id);
      if (status.state !== 'running') return status;
      await sleep(50);
    }
    throw new RuntimeError(`container ${id}: still running after SIGTERM, ${graceSeconds}s and SIGKILL`, { code: 'E_STOP' });
  }

  /**
   * Deletes a stopped task; returns its exit code (null if there was no task). containerd
   * forgets the code with the task, and ctr 1.6 only reports it here, as a warning line.
   */
  async deleteTask(id: string): Promise<{ exitCode: number | null }> {
    try {
      const { stderr } = await this.#ctr.run(['tasks', 'delete', id]);
      const match = /exit with non-zero exit code (\d+)/.exec(stderr);
      return { exitCode: match ? Number.parseInt(match[1]!, 10) : 0 };
    } catch (error) {
      if (error instanceof CtrError && error.notFound) return { exitCode: null };
      throw error;
    }
  }

  /** Kills the task if it runs, deletes it and the container with its snapshot; idempotent. */
  async removeContainer(id: string): Promise<void> {
    await this.#ctr.run(['tasks', 'delete', '--force', id], { okExitCode: notFound });
    const deleted = await this.#ctr.run(['containers', 'delete', id], { okExitCode: notFound });
    // Deleting a container deletes its snapshot. A `ctr run` cut short (a power cut, kill -9) can
    // leave the snapshot, keyed by the container id, without the container: every later run of
    // that id would fail with "already exists". Only then is there one to remove.
    if (deleted.exitCode !== 0) await this.#ctr.run(['snapshots', 'rm', id], { okExitCode: notFound });
    // ... or a shim killed while it started leaves its bundle directory ("failed to start shim:
    // mkdir ...: file exists"). The task is gone by now, so nothing uses it.
    if (this.#stateDir !== undefined) await removeBundle(join(this.#stateDir, 'io.containerd.runtime.v2.task', this.#ctr.namespace, id));
    this.#info.delete(id);
    this.#events?.forget(id);
  }

  /**
   * Runs argv in the running container (`ctr task exec`), collecting stdout and stderr.
   * Resolves with the process's exit code; throws CtrError when ctr itself failed (no such
   * container, no such binary) or the timeout passed (the process is then killed).
   */
  async exec(id: string, argv: readonly string[], options: { timeoutMs?: number; signal?: AbortSignal } = {}): Promise<ExecResult> {
    if (argv.length === 0) throw new RuntimeError(`exec in ${id}: empty command`, { code: 'E_EXEC' });
    this.#execCounter += 1;
    const execId = `bx${process.pid.toString(36)}-${Date.now().toString(36)}-${this.#execCounter}`;
    const args = ['tasks', 'exec', '--exec-id', execId];
    if (this.#ctr.fifoDir !== undefined) args.push('--fifo-dir', this.#ctr.fifoDir);
    args.push(id, ...argv);
    try {
      const result = await this.#ctr.run(args, {
        lane: 'exec',
        timeoutMs: options.timeoutMs ?? 60_000,
        ...(options.signal === undefined ? {} : { signal: options.signal }),
        // ctr exits with the process's code; its own failures print `ctr: ...` last.
        okExitCode: (_code, stderr) => !/(^|\n)ctr: [^\n]*\n?$/.test(stderr),
      });
      return { exitCode: result.exitCode, stdout: result.stdout, stderr: result.stderr };
    } catch (error) {
      if (error instanceof CtrError && (error.timedOut || /aborted/.test(error.stderr))) {
        // Killing ctr leaves the exec'd process running inside the container.
        await this.#ctr.run(['tasks', 'kill', '--exec-id', execId, '--signal', 'SIGKILL', id], { okExitCode: () => true }).catch(() => undefined);
      }
      throw error;
    }
  }

  /**
   * Whether the container's task was killed by the OOM killer: the cgroup's own counter (read
   * before the task is deleted), or an OOM event seen on containerd's stream.
   */
  async wasOomKilled(id: string): Promise<boolean> {
    if (this.#events?.sawOom(id)) return true;
    const info = await this.containerInfo(id);
    if (info === undefined) return false;
    return (readOomKills(info.cgroupsPath) ?? 0) > 0;
  }
}
