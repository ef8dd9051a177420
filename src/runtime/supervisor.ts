// containerd as a child of the daemon: its own root, state, socket and config under
// DATA/containerd, restarted with back-off if it dies, stopped on shutdown. Or, with
// `--containerd-socket PATH`, someone else's containerd that we only use.
//
// Why the containers outlive containerd and bramble (verified on containerd 1.6.20, see
// test/runtime/supervisor.test.ts): `containerd-shim-runc-v2 start` forks the real shim and
// exits, so each shim is re-parented to PID 1 and runs in a process group of its own; the
// container's processes are the shim's children. containerd is spawned `detached` (own session
// and process group), so neither a terminal's Ctrl-C nor our SIGTERM/SIGKILL to containerd's pid
// reaches a shim. A new containerd on the same root/state reconnects to the running shims.
// Stopping therefore never touches containers unless `stop({ keepContainers: false })` asks.

import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, renameSync, statSync, writeFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from '../log/index.ts';
import { Ctr } from './ctr.ts';
import { RuntimeError } from './errors.ts';
import { processAlive } from '../host/process-alive.ts';

/** What the rest of the runtime needs from a containerd, supervised or not. */
export interface Containerd {
  /** The socket ctr talks to. */
  readonly address: string;
  /** Resolves once containerd answers `ctr version`. */
  start(): Promise<void>;
  /** Resolves when containerd answers now (immediately when up; after the restart during an outage). */
  whenReady(): Promise<void>;
  stop(options?: StopOptions): Promise<void>;
}

export interface StopOptions {
  /**
   * true (default): containers keep running, to be adopted by the next start. false: kill and
   * remove every task and container in `namespaces` first (tests, `bramble reset`).
   */
  keepContainers?: boolean;
  namespaces?: readonly string[];
}

export interface SupervisorOptions {
  /** DATA/containerd: root/, state/, containerd.sock, config.toml, containerd.pid, containerd.log. */
  dir: string;
  logger: Logger;
  containerdPath?: string;
  ctrPath?: string;
  /** How long the first start may take before it is an error. */
  startTimeoutMs?: number;
  /** SIGTERM, then SIGKILL after this long. */
  stopTimeoutMs?: number;
  backoffInitialMs?: number;
  backoffMaxMs?: number;
  /** containerd's own log is capped at this size (rotated once per start). */
  logBytesMax?: number;
}

type State = 'new' | 'starting' | 'running' | 'restarting' | 'stopping' | 'stopped';

const PROBE_TIMEOUT_MS = 2_000;

// Plugins a ctr-driven gateway never uses: the CRI server alone costs memory and CPU at start,
// and the filesystem-specific snapshotters only log failures on an SD card's ext4.
const DISABLED_PLUGINS = [
  'io.containerd.grpc.v1.cri',
  'io.containerd.snapshotter.v1.aufs',
  'io.containerd.snapshotter.v1.btrfs',
  'io.containerd.snapshotter.v1.devmapper',
  'io.containerd.snapshotter.v1.zfs',
];

function toml(value: string): string {
  return JSON.stringify(value); // a TOML basic string is JSON-compatible for paths
}

export function containerdConfig(dir: string): string {
  return [
    '# Written by bramble on every start; edits are overwritten.',
    'version = 2',
    `root = ${toml(join(dir, 'root'))}`,
    `state = ${toml(join(dir, 'state'))}`,
    // The OOM killer should pick a container, not the runtime every container depends on.
    'oom_score = -999',
    `disabled_plugins = [${DISABLED_PLUGINS.map(toml).join(', ')}]`,
    '',
    '[grpc]',
    `  address = ${toml(join(dir, 'containerd.sock'))}`,
    '',
    '[ttrpc]',
    `  address = ${toml(join(dir, 'containerd.sock.ttrpc'))}`,
    '',
    // Default is /opt/containerd: keep everything under the data directory.
    '[plugins."io.containerd.internal.v1.opt"]',
    `  path = ${toml(join(dir, 'opt'))}`,
    '',
  ].join('\n');
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

async function waitGone(pid: number, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (processAlive(pid)) {
    if (Date.now() >= deadline) return false;
    await sleep(25);
  }
  return true;
}

/** Asks containerd at `address` for its version: the cheapest call that proves it serves. */
export async function probeContainerd(address: string, ctrPath = 'ctr', timeoutMs = PROBE_TIMEOUT_MS): Promise<boolean> {
  try {
    await new Ctr({ address, ctrPath, timeoutMs, connectTimeoutMs: Math.min(1_000, timeoutMs) }).run(['version']);
    return true;
  } catch {
    return false;
  }
}

const notFound = (_code: number, stderr: string) => /not found/.test(stderr);

/** Kills and removes every task and container in the namespaces; tolerant of "not found". */
export async function removeAllContainers(ctr: Ctr, namespaces: readonly string[]): Promise<void> {
  for (const namespace of namespaces) {
    const scoped = ctr.withNamespace(namespace);
    const { stdout } = await scoped.run(['containers', 'ls', '-q']);
    const ids = stdout.split('\n').map((line) => line.trim()).filter((line) => line.length > 0);
    await Promise.all(
      ids.map(async (id) => {
        await scoped.run(['tasks', 'delete', '--force', id], { okExitCode: notFound });
        await scoped.run(['containers', 'delete', id], { okExitCode: notFound });
      }),
    );
  }
}

/** Containers, images and then the namespace itself: what a test leaves behind, gone. */
export async function purgeNamespace(ctr: Ctr, namespace: string): Promise<void> {
  await removeAllContainers(ctr, [namespace]);
  const scoped = ctr.withNamespace(namespace);
  const { stdout } = await scoped.run(['images', 'ls', '-q']);
  const refs = stdout.split('\n').map((line) => line.trim()).filter((line) => line.length > 0);
  if (refs.length > 0) await scoped.run(['images', 'rm', ...refs], { okExitCode: notFound });
  // Content and snapshots are garbage-collected shortly after the images and containers go;
  // until then the namespace is not empty and containerd refuses to remove it. On a busy machine
  // that takes seconds, so wait longer and, now and then, remove what is left by hand.
  for (let attempt = 0; ; attempt += 1) {
    try {
      await scoped.run(['namespaces', 'remove', namespace], { okExitCode: notFound });
      return;
    } catch (error) {
      if (attempt >= 50) throw error;
      if (attempt % 10 === 9) await removeLeftovers(scoped);
      await sleep(200);
    }
  }
}

/** Snapshots and content still in a namespace (what GC has not got to yet). */
async function removeLeftovers(scoped: Ctr): Promise<void> {
  try {
    const snapshots = (await scoped.run(['snapshots', 'ls'])).stdout.split('\n').slice(1).map((l) => l.trim().split(/\s+/)[0]).filter((k): k is string => !!k);
    // Children before parents: a snapshot with dependents cannot go.
    for (const key of snapshots.reverse()) await scoped.run(['snapshots', 'rm', key], { okExitCode: () => true });
    const blobs = (await scoped.run(['content', 'ls', '-q'])).stdout.split('\n').map((l) => l.trim()).filter((l) => l.length > 0);
    if (blobs.length > 0) await scoped.run(['content', 'rm', ...blobs], { okExitCode: () => true });
  } catch {
    // the next attempt tries again
  }
}

/** The daemon's own containerd child. */
export class ContainerdSupervisor implements Containerd {
  readonly dir: string;
  readonly address: string;
  readonly configPath: string;
  readonly pidPath: string;
  readonly logPath: string;
  readonly #logger: Logger;
  readonly #containerdPath: string;
  readonly #ctrPath: string;
  readonly #startTimeoutMs: number;
  readonly #stopTimeoutMs: number;
  readonly #backoffInitialMs: number;
  readonly #backoffMaxMs: number;
  readonly #logBytesMax: number;
  #state: State = 'new';
  #child: ChildProcess | undefined;
  #restartTimer: NodeJS.Timeout | undefined;
  #readyWaiters: Array<() => void> = [];
  #outage: { since: number; attempts: number; delayMs: number } | undefined;
  #restarts = 0;

  constructor(options: SupervisorOptions) {
    this.dir = options.dir;
    this.address = join(options.dir, 'containerd.sock');
    this.configPath = join(options.dir, 'config.toml');
    this.pidPath = join(options.dir, 'containerd.pid');
    this.logPath = join(options.dir, 'containerd.log');
    this.#logger = options.logger.child({ component: 'containerd' });
    this.#containerdPath = options.containerdPath ?? 'containerd';
    this.#ctrPath = options.ctrPath ?? 'ctr';
    this.#startTimeoutMs = options.startTimeoutMs ?? 15_000;
    this.#stopTimeoutMs = options.stopTimeoutMs ?? 10_000;
    this.#backoffInitialMs = options.backoffInitialMs ?? 500;
    this.#backoffMaxMs = options.backoffMaxMs ?? 30_000;
    this.#logBytesMax = options.logBytesMax ?? 1024 * 1024;
  }

  /** containerd's pid while it runs. */
  get pid(): number | undefined {
    return this.#state === 'running' ? this.#child?.pid : undefined;
  }

  get state(): State {
    return this.#state;
  }

  /** How many times containerd was restarted after dying. */
  get restarts(): number {
    return this.#restarts;
  }

  async start(): Promise<void> {
    if (this.#state !== 'new' && this.#state !== 'stopped') throw new Error(`ContainerdSupervisor.start: already ${this.#state}`);
    this.#state = 'starting';
    try {
      mkdirSync(this.dir, { recursive: true, mode: 0o700 });
      writeFileSync(this.configPath, containerdConfig(this.dir));
    } catch (error) {
      this.#state = 'stopped';
      throw new RuntimeError(`containerd: cannot prepare ${this.dir}: ${(error as Error).message}; check the data directory's permissions`, { cause: error });
    }
    await this.#stopLeftover();
    try {
      await this.#launch(this.#startTimeoutMs);
    } catch (error) {
      this.#state = 'stopped';
      throw error;
    }
    this.#state = 'running';
    this.#logger.info('containerd started', { pid: this.#child?.pid, address: this.address });
    // It may have died between answering and this line; #onExit ignored it while 'starting'.
    const child = this.#child;
    if (child !== undefined && (child.exitCode !== null || child.signalCode !== null)) this.#onExit(child.exitCode, child.signalCode);
  }

  whenReady(): Promise<void> {
    if (this.#state === 'running') return Promise.resolve();
    if (this.#state === 'stopped' || this.#state === 'stopping') {
      return Promise.reject(new RuntimeError('containerd is stopped: the daemon is shutting down'));
    }
    return new Promise((resolve) => this.#readyWaiters.push(resolve));
  }

  async stop(options: StopOptions = {}): Promise<void> {
    if (this.#state === 'stopped' || this.#state === 'new') return;
    if (options.keepContainers === false && this.#state === 'running') {
      await removeAllContainers(new Ctr({ address: this.address, ctrPath: this.#ctrPath }), options.namespaces ?? ['bramble']);
    }
    this.#state = 'stopping';
    clearTimeout(this.#restartTimer);
    const child = this.#child;
    if (child?.pid !== undefined && child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      if (!(await waitGone(child.pid, this.#stopTimeoutMs))) {
        this.#logger.warn('containerd did not stop within the bound after SIGTERM; sending SIGKILL', { pid: child.pid, boundMs: this.#stopTimeoutMs });
        child.kill('SIGKILL');
        await waitGone(child.pid, 5_000);
      }
    }
    rmSync(this.pidPath, { force: true });
    this.#child = undefined;
    this.#state = 'stopped';
    this.#logger.info('containerd stopped', { keptContainers: options.keepContainers !== false });
  }

  // A containerd from a bramble that died with kill -9 still holds our root (its bolt DB lock
  // would make a second one hang). Stopping it is harmless to the containers (see top), and
  // having containerd as our own child is what lets us notice when it dies.
  async #stopLeftover(): Promise<void> {
    let pid: number;
    try {
      pid = Number.parseInt(readFileSync(this.pidPath, 'utf8'), 10);
    } catch {
      return;
    }
    if (!Number.isInteger(pid) || pid <= 0 || !processAlive(pid)) return;
    let cmdline = '';
    try {
      cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ');
    } catch {
      return;
    }
    if (!cmdline.includes('containerd') || !cmdline.includes(this.configPath)) return;
    this.#logger.info('stopping the containerd a previous bramble left running; its containers keep running', { pid });
    process.kill(pid, 'SIGTERM');
    if (!(await waitGone(pid, this.#stopTimeoutMs))) {
      process.kill(pid, 'SIGKILL');
      await waitGone(pid, 5_000);
    }
  }

  #openLog(): number {
    try {
      if (statSync(this.logPath).size > this.#logBytesMax) renameSync(this.logPath, `${this.logPath}.1`);
    } catch {
      // no log yet
    }
    return openSync(this.logPath, 'a', 0o600);
  }

  #logTail(): string {
    try {
      const text = readFileSync(this.logPath, 'utf8');
      return text.split('\n').filter((line) => /level=(error|fatal)|panic/.test(line)).slice(-3).join(' | ');
    } catch {
      return '';
    }
  }

  // Spawns containerd and waits until it answers, or fails with what its log says.
  async #launch(timeoutMs: number): Promise<void> {
    const logFd = this.#openLog();
    let child: ChildProcess;
    try {
      // A file, not a pipe, for its output: if bramble is killed a pipe would break, and a Go
      // program writing to a broken stdout/stderr dies of SIGPIPE, taking the runtime with it.
      child = spawn(this.#containerdPath, ['--config', this.configPath, '--log-level', 'warn'], {
        detached: true,
        stdio: ['ignore', logFd, logFd],
      });
    } finally {
      closeSync(logFd);
    }
    let exited: string | undefined;
    let spawnError: Error | undefined;
    child.once('error', (error) => {
      spawnError = error;
    });
    child.once('exit', (code, signal) => {
      exited = signal ? `killed by ${signal}` : `exit code ${code}`;
      if (this.#child === child) this.#onExit(code, signal);
    });
    this.#child = child;
    // containerd must not keep a finished daemon's event loop alive; stop() waits on its pid.
    child.unref();
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (spawnError !== undefined) {
        const missing = (spawnError as NodeJS.ErrnoException).code === 'ENOENT';
        throw new RuntimeError(
          missing
            ? `containerd: ${this.#containerdPath} not found; install containerd (sh scripts/setup.sh host) or point bramble at a running one with --containerd-socket PATH`
            : `containerd: cannot start ${this.#containerdPath}: ${spawnError.message}`,
          { cause: spawnError, code: 'E_CONTAINERD' },
        );
      }
      if (exited !== undefined) {
        const tail = this.#logTail();
        throw new RuntimeError(`containerd exited at start (${exited})${tail ? `: ${tail}` : ''}; see ${this.logPath}`, { code: 'E_CONTAINERD' });
      }
      if (await probeContainerd(this.address, this.#ctrPath)) break;
      if (Date.now() >= deadline) {
        child.kill('SIGKILL');
        throw new RuntimeError(`containerd did not answer on ${this.address} within ${timeoutMs} ms; see ${this.logPath}`, { code: 'E_CONTAINERD' });
      }
      await sleep(50);
    }
    writeFileSync(this.pidPath, `${child.pid}\n`);
  }

  #onExit(code: number | null, signal: NodeJS.Signals | null): void {
    if (this.#state !== 'running') return; // stopping, or a failed start that #launch reports
    this.#state = 'restarting';
    // Once per outage: the retries below only log at debug level.
    this.#logger.error('containerd exited; restarting it with back-off (running containers are not affected)', {
      pid: this.#child?.pid,
      code,
      signal,
    });
    this.#outage = { since: Date.now(), attempts: 0, delayMs: this.#backoffInitialMs };
    this.#scheduleRestart(0);
  }

  #scheduleRestart(delayMs: number): void {
    this.#restartTimer = setTimeout(() => void this.#restart(), delayMs);
  }

  async #restart(): Promise<void> {
    const outage = this.#outage;
    if (this.#state !== 'restarting' || outage === undefined) return;
    outage.attempts += 1;
    try {
      await this.#launch(this.#startTimeoutMs);
    } catch (error) {
      if (this.#state !== 'restarting') return;
      this.#logger.debug('containerd restart failed; retrying', { attempt: outage.attempts, inMs: outage.delayMs, error });
      this.#scheduleRestart(outage.delayMs);
      outage.delayMs = Math.min(outage.delayMs * 2, this.#backoffMaxMs);
      return;
    }
    if (this.#state !== 'restarting') {
      // stop() came while we were starting: take this one down too.
      this.#child?.kill('SIGTERM');
      return;
    }
    this.#state = 'running';
    this.#restarts += 1;
    const child = this.#child;
    if (child !== undefined && (child.exitCode !== null || child.signalCode !== null)) {
      this.#onExit(child.exitCode, child.signalCode);
      return;
    }
    this.#outage = undefined;
    this.#logger.info('containerd is back', { pid: this.#child?.pid, attempts: outage.attempts, downMs: Date.now() - outage.since });
    const waiters = this.#readyWaiters;
    this.#readyWaiters = [];
    for (const resolve of waiters) resolve();
  }
}

/** A containerd someone else runs (`--containerd-socket PATH`): checked, used, never stopped. */
export class ExternalContainerd implements Containerd {
  readonly address: string;
  readonly #ctrPath: string;

  constructor(address: string, options: { ctrPath?: string } = {}) {
    this.address = address;
    this.#ctrPath = options.ctrPath ?? 'ctr';
  }

  async start(): Promise<void> {
    if (!existsSync(this.address)) {
      throw new RuntimeError(`--containerd-socket ${this.address}: no such socket; start containerd there or leave the flag out to let bramble run its own`, { code: 'E_CONTAINERD' });
    }
    if (!(await probeContainerd(this.address, this.#ctrPath, 5_000))) {
      throw new RuntimeError(`--containerd-socket ${this.address}: containerd does not answer 'ctr version'; check that it runs and that this user may use the socket`, { code: 'E_CONTAINERD' });
    }
  }

  whenReady(): Promise<void> {
    return Promise.resolve();
  }

  async stop(options: StopOptions = {}): Promise<void> {
    if (options.keepContainers === false) {
      await removeAllContainers(new Ctr({ address: this.address, ctrPath: this.#ctrPath }), options.namespaces ?? ['bramble']);
    }
  }
}
