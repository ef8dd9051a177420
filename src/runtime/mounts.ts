// Mounts the agent makes for pods besides the containers' own: tmpfs for memory-backed volumes
// (emptyDir `medium: Memory`, secrets: their contents never reach the SD card), and the removal
// of every mount under a pod's directory before the directory goes.
import { execFile } from 'node:child_process';
import { readFile, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import { promisify } from 'node:util';
import { RuntimeError } from './errors.ts';

const run = promisify(execFile);
const COMMAND_TIMEOUT_MS = 10_000;

/** True when `path` is a mount point (its device differs from its directory's); false when absent. */
export async function isMountPoint(path: string): Promise<boolean> {
  try {
    const [file, parent] = await Promise.all([stat(path), stat(dirname(path))]);
    return file.dev !== parent.dev;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw error;
  }
}

async function command(args: readonly string[], what: string): Promise<void> {
  try {
    await run(args[0]!, args.slice(1), { timeout: COMMAND_TIMEOUT_MS });
  } catch (error) {
    const stderr = String((error as { stderr?: unknown }).stderr ?? '').trim();
    throw new RuntimeError(`${what}: ${args.join(' ')} failed: ${stderr || (error as Error).message}`, { cause: error, code: 'E_MOUNT' });
  }
}

export interface TmpfsOptions {
  /** Octal permission bits of the tmpfs root (0o777 for an emptyDir, as Kubernetes). */
  mode: number;
  /** A size cap; without one the kernel's default (half the RAM) applies. */
  sizeBytes?: number;
}

/** Mounts a tmpfs at `path` (an existing directory) unless one is mounted there already. */
export async function mountTmpfs(path: string, options: TmpfsOptions): Promise<void> {
  if (await isMountPoint(path)) return;
  const flags = [`mode=${options.mode.toString(8).padStart(4, '0')}`, 'nosuid', 'nodev'];
  if (options.sizeBytes !== undefined) flags.push(`size=${Math.max(4096, Math.floor(options.sizeBytes))}`);
  await command(['mount', '-t', 'tmpfs', '-o', flags.join(','), 'tmpfs', path], `mounting a tmpfs at ${path}`);
}

/** Mount points strictly under `dir` in this mount namespace, deepest first. */
export async function mountsUnder(dir: string): Promise<string[]> {
  const prefix = dir.endsWith('/') ? dir : `${dir}/`;
  const text = await readFile('/proc/self/mounts', 'utf8');
  const points = text
    .split('\n')
    // /proc/self/mounts escapes space, tab, newline and backslash as octal.
    .map((line) => (line.split(' ')[1] ?? '').replace(/\\([0-7]{3})/g, (_m, octal: string) => String.fromCharCode(Number.parseInt(octal, 8))))
    .filter((point) => point.startsWith(prefix));
  return [...new Set(points)].sort((a, b) => b.length - a.length);
}

/** Unmounts everything mounted under `dir` (a pod's volumes), so the directory can be removed. */
export async function unmountUnder(dir: string): Promise<void> {
  for (const point of await mountsUnder(dir)) {
    try {
      await command(['umount', point], `unmounting ${point}`);
    } catch (error) {
      // Busy (a process of the pod not yet gone): detach it now; the kernel frees it when unused.
      await command(['umount', '-l', point], `unmounting ${point}`).catch(() => {
        throw error;
      });
    }
  }
}
