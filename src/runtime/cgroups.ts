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
