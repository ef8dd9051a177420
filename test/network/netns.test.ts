// Named pod network namespaces, and the mount-namespace pitfall netns.ts documents. Needs root.
import assert from 'node:assert/strict';
import { readlink } from 'node:fs/promises';
import { beforeEach, test } from 'node:test';
import { createPodNetns, isNetnsMounted, netnsPath, removePodNetns } from '../../src/network/index.ts';
import { sh, tryRun, withLab } from './lab.ts';
import { requireRoot } from './lab.ts';

const opts = {};
beforeEach(requireRoot);

test('createPodNetns and removePodNetns are idempotent', opts, async () => {
  await withLab(async (lab) => {
    const { name, path } = await lab.podNetns('i');
    assert.equal(path, netnsPath(name));
    assert.equal(await isNetnsMounted(path), true);
    const inode = await sh('ip', ['netns', 'exec', name, 'readlink', '/proc/self/ns/net']);
    // A second create keeps the same namespace (a pod's attachment must survive it).
    await createPodNetns(name);
    assert.equal(await sh('ip', ['netns', 'exec', name, 'readlink', '/proc/self/ns/net']), inode);
    assert.notEqual(inode.trim(), await readlink('/proc/self/ns/net'));
    await removePodNetns(name);
    assert.equal(await isNetnsMounted(path), false);
    await removePodNetns(name);
  });
});

test('a netns added under `ip netns exec GW` leaves only a stale placeholder here, which createPodNetns replaces', opts, async () => {
  await withLab(async (lab) => {
    const name = `${lab.id}-s`;
    try {
      // The bind mount is made in `ip netns exec`'s private mount namespace and dies with it.
      await lab.exec(lab.gw, ['ip', 'netns', 'add', name]);
      assert.equal(await isNetnsMounted(netnsPath(name)), false, 'only a placeholder file is visible in our mount namespace');
      const entering = await tryRun('ip', ['netns', 'exec', name, 'true']);
      assert.notEqual(entering.code, 0);
      assert.match(entering.stderr, /Invalid argument/);
      // The supported way: create it from our own mount namespace.
      await createPodNetns(name);
      assert.equal(await isNetnsMounted(netnsPath(name)), true);
      await sh('ip', ['netns', 'exec', name, 'true']);
    } finally {
      await removePodNetns(name).catch(() => {});
    }
  });
});

test('invalid netns names are refused before running ip', async () => {
  await assert.rejects(createPodNetns('../etc'), /invalid network namespace name/);
  await assert.rejects(removePodNetns('a b'), /invalid network namespace name/);
});
