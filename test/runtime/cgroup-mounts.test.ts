// The cgroup mounts a daemon under `ip netns exec` recreates (its private /sys has none).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { cgroupMountPlan, ensureCgroupMounts, hasCgroupMounts } from '../../src/runtime/cgroups.ts';

const HYBRID = '9:name=systemd:/\n4:memory:/x\n2:cpu,cpuacct:/\n0::/\n';

describe('cgroup mounts', () => {
  it('plans one mount per v1 hierarchy (named ones too) and the v2 tree of a hybrid host', () => {
    const plan = cgroupMountPlan(HYBRID);
    assert.equal(plan.tmpfsRoot, true);
    assert.deepEqual(plan.mounts, [
      { type: 'cgroup', options: 'name=systemd', target: '/sys/fs/cgroup/systemd' },
      { type: 'cgroup', options: 'memory', target: '/sys/fs/cgroup/memory' },
      { type: 'cgroup', options: 'cpu,cpuacct', target: '/sys/fs/cgroup/cpu,cpuacct' },
      { type: 'cgroup2', options: '', target: '/sys/fs/cgroup/unified' },
    ]);
    assert.deepEqual(cgroupMountPlan('0::/user.slice\n'), { tmpfsRoot: false, mounts: [{ type: 'cgroup2', options: '', target: '/sys/fs/cgroup' }] });
  });

  it('mounts only when no cgroup filesystem is there', () => {
    const calls: string[] = [];
    const run = (file: string, args: string[]) => void calls.push([file, ...args].join(' '));
    const mounted = '31 23 0:28 / /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory\n';
    assert.equal(hasCgroupMounts(mounted), true);
    assert.equal(ensureCgroupMounts(run, mounted, HYBRID), false);
    assert.deepEqual(calls, []);
    const bare = '22 1 0:21 / /sys rw - sysfs sysfs rw\n';
    assert.equal(ensureCgroupMounts(run, bare, '4:memory:/\n'), true);
    assert.deepEqual(calls, ['mount -t tmpfs -o mode=755 cgroup-root /sys/fs/cgroup', 'mkdir -p /sys/fs/cgroup/memory', 'mount -t cgroup -o memory cgroup /sys/fs/cgroup/memory']);
    assert.throws(() => ensureCgroupMounts(run, bare, ''), /no cgroup filesystem/);
  });
});
