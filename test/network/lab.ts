// A throwaway network lab for one test, following ../shared/recipes/host-lab.md: its own
// uniquely named "gateway" netns (the CNI plugins run inside it, so bramble0 and the iptables
// rules land there and never in the machine's root netns), pod namespaces, a temp data dir,
// and a cleanup that removes all of it (by name and by pid) whether the test passed or not.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { createLogger } from '../../src/log/index.ts';
import { createPodNetns, PodNetwork, removePodNetns, type PodNetworkOptions } from '../../src/network/index.ts';

const run = promisify(execFile);

export const isRoot = process.getuid?.() === 0;

/** Real-plugin tests need root; without it they fail saying so (never a silent skip). */
export function requireRoot(): void {
  if (!isRoot) throw new Error('this test needs root (network namespaces, CNI plugins, iptables): run the suite as root, as the README says');
}

export async function sh(file: string, args: string[], timeout = 10_000): Promise<string> {
  const { stdout } = await run(file, args, { timeout });
  return stdout;
}

/** Runs a command and returns its exit code and output instead of throwing. */
export async function tryRun(file: string, args: string[], timeout = 10_000): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(file, args, { timeout });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code?: unknown; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : -1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

export interface Lab {
  id: string;
  /** The gateway netns: plugins run here. */
  gw: string;
  /** An address of the gateway itself (on its lo), for hostPort checks. */
  gwAddress: string;
  dir: string;
  /** A unique pod netns name in this lab; created with createPodNetns. */
  podNetns(suffix: string): Promise<{ name: string; path: string }>;
  network(options?: Partial<PodNetworkOptions>): PodNetwork;
  /** In a netns: `ip netns exec NS cmd...`. */
  exec(ns: string, args: string[], timeout?: number): Promise<string>;
  tryExec(ns: string, args: string[], timeout?: number): Promise<{ code: number; stdout: string; stderr: string }>;
  /** A long-running process in a netns, killed by pid at cleanup. */
  spawnIn(ns: string, args: string[]): ChildProcess;
  cleanup(): Promise<void>;
}

export async function createLab(): Promise<Lab> {
  // Short and unique across parallel test processes: bnt = bramble network test.
  const id = `bnt${randomBytes(3).toString('hex')}`;
  const gw = `${id}-gw`;
  const dir = await mkdtemp(join(tmpdir(), `${id}-`));
  const netnsNames: string[] = [];
  const children: ChildProcess[] = [];
  const lab: Lab = {
    id,
    gw,
    gwAddress: '172.31.254.1',
    dir,
    async podNetns(suffix) {
      const name = `${id}-${suffix}`;
      netnsNames.push(name);
      // Created from this process's mount namespace, not under `ip netns exec gw`: see netns.ts.
      return { name, path: await createPodNetns(name) };
    },
    network(options = {}) {
      return new PodNetwork({ dataDir: join(dir, 'data'), hostNetns: gw, logger: createLogger({ level: 'warn' }), ...options });
    },
    exec: (ns, args, timeout) => sh('ip', ['netns', 'exec', ns, ...args], timeout),
    tryExec: (ns, args, timeout) => tryRun('ip', ['netns', 'exec', ns, ...args], timeout),
    spawnIn(ns, args) {
      const child = spawn('ip', ['netns', 'exec', ns, ...args], { stdio: 'ignore' });
      child.on('error', () => {});
      children.push(child);
      return child;
    },
    async cleanup() {
      for (const child of children) {
        if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      }
      // The gateway netns takes bramble0, the host veths and its iptables rules with it; pod
      // namespaces take their eth0.
      for (const name of [...netnsNames].reverse()) await removePodNetns(name).catch(() => {});
      await rm(dir, { recursive: true, force: true });
    },
  };
  netnsNames.push(gw);
  try {
    await sh('ip', ['netns', 'add', gw]);
    await sh('ip', ['-n', gw, 'link', 'set', 'lo', 'up']);
    await sh('ip', ['-n', gw, 'addr', 'add', `${lab.gwAddress}/32`, 'dev', 'lo']);
  } catch (error) {
    await lab.cleanup();
    throw error;
  }
  return lab;
}

/** Runs `body` with a fresh lab and always cleans it up. */
export async function withLab(body: (lab: Lab) => Promise<void>): Promise<void> {
  const lab = await createLab();
  try {
    await body(lab);
  } finally {
    await lab.cleanup();
  }
}

export async function waitFor(what: string, probe: () => Promise<boolean>, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await probe()) return;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
