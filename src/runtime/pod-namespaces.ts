// A pod's IPC and UTS namespaces pinned as files (bind mounts of nsfs, as `ip netns add` pins a
// network namespace), so that each app container joins them by path with `ctr run --with-ns` and
// a pod costs one container start instead of a sandbox container plus one per app container.
//
// `unshare --ipc=FILE --uts=FILE hostname NAME` makes both namespaces, sets the pod's hostname in
// the new UTS namespace and bind-mounts each onto its file; the namespaces live as long as the
// mounts (or a process in them). A bind mount belongs to the mount namespace it was made in: a
// daemon restarted under `ip netns exec` (a new private mount namespace) finds placeholder files
// only. Then the pins are made again from a running container's /proc/PID/ns/{ipc,uts}, so the
// path and the running containers keep meaning the same namespaces; with no container running,
// new namespaces are made (as Kubernetes makes a new sandbox).
import { execFile } from 'node:child_process';
import { mkdir, rm, rmdir, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { RuntimeError } from './errors.ts';
import { isMountPoint } from './mounts.ts';

const run = promisify(execFile);
const COMMAND_TIMEOUT_MS = 10_000;

export type PinnedKind = 'ipc' | 'uts';
const KINDS: readonly PinnedKind[] = ['ipc', 'uts'];

export interface PodNamespacePaths {
  ipc: string;
  uts: string;
}

/** Where the pins of a pod live: `dir/ipc` and `dir/uts`. */
export function podNamespacePaths(dir: string): PodNamespacePaths {
  return { ipc: join(dir, 'ipc'), uts: join(dir, 'uts') };
}

/** True when `path` is a mounted namespace (nsfs: its device differs from its directory's). */
export const isNamespaceMounted: (path: string) => Promise<boolean> = isMountPoint;

async function command(file: string, args: readonly string[], what: string): Promise<void> {
  try {
    await run(file, args, { timeout: COMMAND_TIMEOUT_MS });
  } catch (error) {
    const stderr = String((error as { stderr?: unknown }).stderr ?? '').trim();
    throw new RuntimeError(`${what}: ${file} ${args.join(' ')} failed: ${stderr || (error as Error).message}`, { cause: error, code: 'E_POD_NAMESPACES' });
  }
}

export interface PinOptions {
  /** Set in a new UTS namespace (the pod's name, or spec.hostname). */
  hostname: string;
  /** A process in the pod's namespaces (a running container): pin its namespaces, not new ones. */
  fromPid?: number;
}

/**
 * Makes `dir/ipc` and `dir/uts` the pod's namespaces and answers their paths; `created` says
 * whether new namespaces were made. Pins already mounted here are kept as they are.
 */
export async function pinPodNamespaces(dir: string, options: PinOptions): Promise<{ paths: PodNamespacePaths; created: boolean }> {
  if (!/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}$/.test(options.hostname)) {
    throw new RuntimeError(`pod hostname ${JSON.stringify(options.hostname)} is not a valid hostname (letters, digits, '-', '_' and '.', at most 64)`, { code: 'E_POD_NAMESPACES' });
  }
  const paths = podNamespacePaths(dir);
  const mounted = await Promise.all(KINDS.map((kind) => isNamespaceMounted(paths[kind])));
  if (mounted.every(Boolean)) return { paths, created: false };
  // Half a pair (a crash between the two mounts) is not worth keeping: both are made again.
  if (mounted.some(Boolean)) await releasePodNamespaces(dir);
  await mkdir(dir, { recursive: true, mode: 0o755 });
  // The mount points; a placeholder left from another mount namespace may be there already.
  await Promise.all(KINDS.map((kind) => writeFile(paths[kind], '', { flag: 'a', mode: 0o000 })));
  const pid = options.fromPid;
  if (pid !== undefined && pid > 0 && (await exists(`/proc/${pid}/ns/ipc`))) {
    try {
      for (const kind of KINDS) await command('mount', ['--bind', `/proc/${pid}/ns/${kind}`, paths[kind]], `pinning the ${kind} namespace of pid ${pid}`);
      return { paths, created: false };
    } catch (error) {
      // The process ended in between: new namespaces below, like a pod with nothing running.
      if (await exists(`/proc/${pid}/ns/ipc`)) throw error;
      await releasePodNamespaces(dir);
      await Promise.all(KINDS.map((kind) => writeFile(paths[kind], '', { flag: 'a', mode: 0o000 })));
    }
  }
  // ctr 1.6 has no --hostname: it is set here, from the host, keeping CAP_SYS_ADMIN out of the pod.
  await command('unshare', [`--ipc=${paths.ipc}`, `--uts=${paths.uts}`, 'hostname', options.hostname], `making the pod's IPC and UTS namespaces in ${dir}`);
  return { paths, created: true };
}

/** Unmounts and removes the pins (and `dir` when empty); idempotent. Containers still in the namespaces keep them. */
export async function releasePodNamespaces(dir: string): Promise<void> {
  const paths = podNamespacePaths(dir);
  for (const kind of KINDS) {
    if (await isNamespaceMounted(paths[kind])) await command('umount', [paths[kind]], `releasing the pod's ${kind} namespace`);
    await rm(paths[kind], { force: true });
  }
  await rmdir(dir).catch(() => undefined);
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}
