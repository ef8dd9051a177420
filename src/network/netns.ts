// Named network namespaces for pods, made with iproute2 (`ip netns add` = unshare a new netns
// and bind-mount /proc/self/ns/net onto /run/netns/NAME), because Node has no unshare/setns.
//
// What was verified on these machines (iproute2 6.1, Debian 12):
// - `ip netns exec GW cmd` runs cmd in a fresh *mount* namespace that is a slave of the
//   caller's. An `ip netns add POD` run in there bind-mounts /run/netns/POD only inside that
//   short-lived mount namespace: the caller sees an empty placeholder file (mode 000, not a
//   mount), `ip netns exec POD` then fails with "Invalid argument", and the netns itself is
//   freed as soon as the command exits. So pod namespaces are created from the daemon's own
//   mount namespace (never under `ip netns exec`), and only the CNI plugins run inside the
//   gateway's netns. Which netns a netns is created "from" does not matter: a new netns
//   starts empty either way; the plugins alone decide where the host side of the veth goes.
// - A daemon that itself runs under `ip netns exec gw1` (several gateways on one machine) has
//   such a private mount namespace too: its pod namespaces are visible to it and to its
//   children (ctr, containerd), not to the machine's root mount namespace.
// - A mounted netns file lives on nsfs, so its st_dev differs from its directory's; a stale
//   placeholder file does not. That is how `isNetnsMounted` tells them apart.
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdir, stat, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { NetnsError } from './errors.ts';

const run = promisify(execFile);

export const NETNS_RUN_DIR = '/run/netns';
const IP_TIMEOUT_MS = 10_000;

/**
 * A short netns name unique per gateway and pod: `bramble-<6 hex of node name>-<12 of uid>`.
 * The node part keeps two gateways simulated on one machine from colliding.
 */
export function podNetnsName(nodeName: string, podUid: string): string {
  const node = createHash('sha256').update(nodeName).digest('hex').slice(0, 6);
  const uid = podUid.replace(/[^0-9a-zA-Z]/g, '').toLowerCase().slice(0, 12);
  if (uid === '') throw new NetnsError(`pod UID ${JSON.stringify(podUid)} has no letters or digits to name a network namespace after`);
  return `bramble-${node}-${uid}`;
}

export function netnsPath(name: string): string {
  return join(NETNS_RUN_DIR, name);
}

function checkName(name: string): void {
  if (!/^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(name) || name.length > 64) {
    throw new NetnsError(`invalid network namespace name ${JSON.stringify(name)}: use letters, digits, '.', '_' and '-' (at most 64)`);
  }
}

/** True when `path` is a mounted netns (nsfs), false when absent or a stale placeholder file. */
export async function isNetnsMounted(path: string): Promise<boolean> {
  try {
    const [file, dir] = await Promise.all([stat(path), stat(dirname(path))]);
    return file.dev !== dir.dev;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw error;
  }
}

async function ip(args: string[]): Promise<void> {
  try {
    await run('ip', args, { timeout: IP_TIMEOUT_MS });
  } catch (error) {
    const stderr = String((error as { stderr?: unknown }).stderr ?? '').trim();
    throw new NetnsError(`ip ${args.join(' ')} failed: ${stderr || (error as Error).message}`, { cause: error });
  }
}

/** Creates /run/netns/NAME (idempotent) and returns its path. A stale placeholder is replaced. */
export async function createPodNetns(name: string): Promise<string> {
  checkName(name);
  const path = netnsPath(name);
  if (await isNetnsMounted(path)) return path;
  // A placeholder left by a crash or by a private mount namespace: remove it, or `ip netns add`
  // refuses with "File exists".
  await removePodNetns(name);
  await ip(['netns', 'add', name]);
  if (!(await isNetnsMounted(path))) {
    throw new NetnsError(
      `created network namespace ${name} but ${path} is not a mount in this process's mount namespace: ` +
        `is /run/netns a private or slave mount here (running under 'ip netns exec' or 'unshare -m')?`,
    );
  }
  return path;
}

/** Removes /run/netns/NAME (idempotent). Processes still inside keep the netns alive. */
export async function removePodNetns(name: string): Promise<void> {
  checkName(name);
  const path = netnsPath(name);
  try {
    await stat(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw error;
  }
  // `ip netns del` unmounts (if mounted) and unlinks; for a placeholder the umount fails
  // quietly and the unlink still happens.
  await ip(['netns', 'del', name]);
}

/**
 * Makes /run/netns/NAME the network namespace at `source` (a running sandbox's
 * /proc/PID/ns/net) when NAME is not a mounted netns here, and returns its path.
 *
 * Why: a daemon run under `ip netns exec` (a lab gateway, the contract tests) has a private mount
 * namespace, so the bind mounts made by the daemon before a restart (kill -9, upgrade) are not
 * visible to the next one: it finds only the placeholder files. createPodNetns() would then put
 * a new, empty netns at the path, and a sandbox started later (the old one died) would join that
 * one: a pod with no eth0. Pinning the namespace the running sandbox holds keeps the path and the
 * pod's network the same thing.
 */
export async function pinPodNetns(name: string, source: string): Promise<string> {
  checkName(name);
  const path = netnsPath(name);
  if (await isNetnsMounted(path)) return path;
  await mkdir(NETNS_RUN_DIR, { recursive: true });
  await writeFile(path, '', { flag: 'a', mode: 0o000 }); // the mount point (a placeholder may be there already)
  try {
    await run('mount', ['--bind', source, path], { timeout: IP_TIMEOUT_MS });
  } catch (error) {
    const stderr = String((error as { stderr?: unknown }).stderr ?? '').trim();
    throw new NetnsError(`cannot pin network namespace ${source} at ${path}: ${stderr || (error as Error).message}`, { cause: error });
  }
  if (!(await isNetnsMounted(path))) throw new NetnsError(`pinned ${source} at ${path}, but it is not a mounted network namespace here`);
  return path;
}

/** The identity of the netns mounted at `path` (device and inode of its nsfs file). */
export async function netnsIdentity(path: string): Promise<string> {
  const st = await stat(path);
  return `${st.dev}:${st.ino}`;
}
