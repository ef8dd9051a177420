// A real containerd per test file, in a temp directory and a containerd namespace of its own,
// and the cleanup that removes everything it made (containers, images, namespace, cgroups,
// network namespaces, processes by pid, the directory), pass or fail.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, rmdirSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { createLogger, type Logger } from '../../src/log/index.ts';
import { CGROUP_ROOT, ContainerdSupervisor, Ctr, purgeNamespace, Runtime } from '../../src/runtime/index.ts';

export interface LogRecorder {
  logger: Logger;
  records(): Array<Record<string, unknown>>;
}

export function recordLogs(): LogRecorder {
  const lines: string[] = [];
  const logger = createLogger({ level: 'debug', sink: { write: (line: string) => lines.push(line) } });
  return { logger, records: () => lines.map((line) => JSON.parse(line) as Record<string, unknown>) };
}

export function uniqueName(prefix: string): string {
  return `${prefix}-${process.pid}-${randomBytes(3).toString('hex')}`;
}

export function requireRoot(): void {
  if (process.getuid?.() !== 0) {
    throw new Error('runtime tests need root (containerd, runc, network namespaces): run them as root on a Debian machine prepared by sh scripts/setup.sh host');
  }
}

export interface Lab {
  dir: string;
  namespace: string;
  supervisor: ContainerdSupervisor;
  ctr: Ctr;
  runtime: Runtime;
  logs: LogRecorder;
  netns: string[];
  /** Adds a fresh network namespace with lo up; removed by cleanup. Returns its path. */
  addNetns(): string;
  cleanup(): Promise<void>;
}

export async function startLab(options: { backoffInitialMs?: number } = {}): Promise<Lab> {
  requireRoot();
  const dir = mkdtempSync(join(tmpdir(), 'bramble-rt-'));
  const namespace = uniqueName('bramble-test');
  const logs = recordLogs();
  const supervisor = new ContainerdSupervisor({
    dir: join(dir, 'containerd'),
    logger: logs.logger,
    backoffInitialMs: options.backoffInitialMs ?? 100,
    stopTimeoutMs: 5_000,
  });
  const netns: string[] = [];
  const lab: Lab = {
    dir,
    namespace,
    supervisor,
    ctr: new Ctr({ address: supervisor.address, namespace, fifoDir: join(dir, 'fifo') }),
    runtime: undefined as unknown as Runtime,
    logs,
    netns,
    addNetns() {
      const name = uniqueName('brt');
      execFileSync('ip', ['netns', 'add', name]);
      netns.push(name);
      execFileSync('ip', ['-n', name, 'link', 'set', 'lo', 'up']);
      return `/var/run/netns/${name}`;
    },
    async cleanup() {
      const problems: unknown[] = [];
      const attempt = async (what: () => unknown) => {
        try {
          await what();
        } catch (error) {
          problems.push(error);
        }
      };
      lab.runtime?.events.stop();
      if (supervisor.state === 'running') await attempt(() => purgeNamespace(lab.ctr, namespace));
      await attempt(() => supervisor.stop());
      // A containerd the test killed and that never came back leaves shims; end them by pid.
      await attempt(() => killShimsUnder(dir));
      for (const name of netns) await attempt(() => execFileSync('ip', ['netns', 'delete', name]));
      await attempt(() => removeCgroups(namespace));
      await attempt(() => unmountUnder(dir));
      await attempt(() => rmSync(dir, { recursive: true, force: true }));
      if (problems.length > 0) throw new AggregateError(problems, `runtime test cleanup: ${problems.map((problem) => (problem as Error).message).join(' | ')}`);
    },
  };
  try {
    await supervisor.start();
  } catch (error) {
    await lab.cleanup().catch(() => undefined);
    throw error;
  }
  // With containerd's state directory, as the daemon runs its own containerd.
  lab.runtime = new Runtime(supervisor, lab.ctr, logs.logger, join(dir, 'logs'), join(supervisor.dir, 'state'));
  lab.runtime.events.start();
  return lab;
}

// ctr's tasks get cgroup /<namespace>/<id>; the per-namespace parent stays behind otherwise.
function removeCgroups(namespace: string): void {
  const root = CGROUP_ROOT;
  const candidates = [join(root, namespace)];
  for (const controller of readdirSync(root)) candidates.push(join(root, controller, namespace));
  for (const path of candidates) {
    try {
      for (const child of readdirSync(path, { withFileTypes: true })) if (child.isDirectory()) rmdirSync(join(path, child.name));
      rmdirSync(path);
    } catch {
      // not there
    }
  }
}

function killShimsUnder(dir: string): void {
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let cmdline: string;
    try {
      cmdline = readFileSync(`/proc/${entry}/cmdline`, 'utf8');
    } catch {
      continue;
    }
    if (cmdline.includes(dir) && (cmdline.includes('containerd-shim') || cmdline.startsWith('containerd'))) {
      try {
        process.kill(Number(entry), 'SIGKILL');
      } catch {
        // gone
      }
    }
  }
}

function unmountUnder(dir: string): void {
  const mounts = readFileSync('/proc/self/mounts', 'utf8')
    .split('\n')
    .map((line) => line.split(' ')[1] ?? '')
    .filter((point) => point.startsWith(dir))
    .sort((a, b) => b.length - a.length);
  for (const point of mounts) execFileSync('umount', ['-l', point]);
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export async function waitFor<T>(what: string, probe: () => Promise<T | undefined> | T | undefined, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(50);
  }
}

export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
