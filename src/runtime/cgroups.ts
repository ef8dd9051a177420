// Where a ctr task's cgroup lives and whether the OOM killer hit it. ctr gives each container
// the cgroup path `/<namespace>/<id>` (its spec's linux.cgroupsPath). On a cgroup v1 host (this
// lab: memory controller at /sys/fs/cgroup/memory) the count is `oom_kill` in
// memory.oom_control; on cgroup v2 it is `oom_kill` in memory.events. The cgroup exists from
// task start until the task is deleted, so ask before removing the task.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export const CGROUP_ROOT = '/sys/fs/cgroup';

export type CgroupVersion = 1 | 2;

export function cgroupVersion(root: string = CGROUP_ROOT): CgroupVersion {
  // Only a unified (v2) mount has cgroup.controllers at its top.
  return existsSync(join(root, 'cgroup.controllers')) ? 2 : 1;
}

/** The file that counts OOM kills for a cgroup path such as `/bramble/<id>`. */
export function oomCounterFile(cgroupsPath: string, root: string = CGROUP_ROOT): string {
  const relative = cgroupsPath.replace(/^\/+/, '');
  return cgroupVersion(root) === 2 ? join(root, relative, 'memory.events') : join(root, 'memory', relative, 'memory.oom_control');
}

/** OOM kills in the cgroup, or undefined when it does not exist (task deleted, never started). */
export function readOomKills(cgroupsPath: string, root: string = CGROUP_ROOT): number | undefined {
  let text: string;
  try {
    text = readFileSync(oomCounterFile(cgroupsPath, root), 'utf8');
  } catch {
    return undefined;
  }
  const match = /^oom_kill (\d+)$/m.exec(text);
  return match ? Number.parseInt(match[1]!, 10) : 0;
}

/** Whether this process's mount namespace has any cgroup filesystem mounted. */
export function hasCgroupMounts(mountinfo: string = readFileSync('/proc/self/mountinfo', 'utf8')): boolean {
  return mountinfo.split('\n').some((line) => / - cgroup2? /.test(line));
}

/** The mounts that recreate this process's cgroup hierarchies (from /proc/self/cgroup lines
 *  like `4:memory:/`, `9:name=systemd:/` and `0::/`): where, and with which options. */
export function cgroupMountPlan(procSelfCgroup: string): { tmpfsRoot: boolean; mounts: { type: 'cgroup' | 'cgroup2'; options: string; target: string }[] } {
  const v1: string[] = [];
  let unified = false;
  for (const line of procSelfCgroup.split('\n')) {
    const m = /^(\d+):([^:]*):/.exec(line);
    if (!m) continue;
    if (m[1] === '0' && m[2] === '') unified = true;
    else if (m[2] !== '') v1.push(m[2]!);
  }
  if (v1.length === 0) return { tmpfsRoot: false, mounts: unified ? [{ type: 'cgroup2', options: '', target: CGROUP_ROOT }] : [] };
  const mounts: { type: 'cgroup' | 'cgroup2'; options: string; target: string }[] = v1.map((controllers) => ({ type: 'cgroup', options: controllers, target: join(CGROUP_ROOT, controllers.replace(/^name=/, '')) }));
  // A hybrid host also has the v2 tree, at unified/ (systemd's layout).
  if (unified) mounts.push({ type: 'cgroup2', options: '', target: join(CGROUP_ROOT, 'unified') });
  return { tmpfsRoot: true, mounts };
}

/**
 * runc needs the cgroup filesystems. `ip netns exec` (how a gateway is run in its own network
 * namespace, on a lab machine or a test) gives its command a private mount namespace with a
 * fresh /sys, and so no /sys/fs/cgroup mounts: every container start then fails with "no cgroup
 * mount found in mountinfo". When that is the case, mount this process's cgroup hierarchies
 * again inside the private namespace (mounting an existing v1 hierarchy or the v2 tree a second
 * time shows the same cgroups). Returns true if it mounted; on a normal host it does nothing.
 */
export function ensureCgroupMounts(run: (file: string, args: string[]) => void, mountinfo?: string, procSelfCgroup: string = readFileSync('/proc/self/cgroup', 'utf8')): boolean {
  if (hasCgroupMounts(mountinfo)) return false;
  const plan = cgroupMountPlan(procSelfCgroup);
  if (plan.mounts.length === 0) throw new Error(`no cgroup filesystem is mounted and /proc/self/cgroup names none; mount the cgroup hierarchy at ${CGROUP_ROOT}`);
  if (plan.tmpfsRoot) run('mount', ['-t', 'tmpfs', '-o', 'mode=755', 'cgroup-root', CGROUP_ROOT]);
  for (const m of plan.mounts) {
    run('mkdir', ['-p', m.target]);
    run('mount', ['-t', m.type, ...(m.options ? ['-o', m.options] : []), m.type, m.target]);
  }
  return true;
}
