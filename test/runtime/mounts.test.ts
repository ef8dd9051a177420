// tmpfs for memory-backed pod volumes and the removal of every mount under a pod's directory
// (real mounts, in a temporary directory; needs root).
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { isMountPoint, mountsUnder, mountTmpfs, pinPodNamespaces, unmountUnder } from '../../src/runtime/index.ts';
import { requireRoot } from './helpers.ts';

test('mountTmpfs mounts once with the mode and size asked; unmountUnder removes every mount under a pod directory', async () => {
  requireRoot();
  const dir = mkdtempSync(join(tmpdir(), 'bramble-mounts-'));
  try {
    const volume = join(dir, 'pod', 'volumes', 'empty-dir', 'fast');
    const secret = join(dir, 'pod', 'volumes', 'secret', 'tok');
    mkdirSync(volume, { recursive: true });
    mkdirSync(secret, { recursive: true });
    assert.equal(await isMountPoint(volume), false);
    await mountTmpfs(volume, { mode: 0o777, sizeBytes: 1024 * 1024 });
    await mountTmpfs(volume, { mode: 0o777, sizeBytes: 1024 * 1024 }); // already there: kept
    await mountTmpfs(secret, { mode: 0o755 });
    assert.equal(await isMountPoint(volume), true);
    assert.equal(statSync(volume).mode & 0o777, 0o777);
    assert.equal(statSync(secret).mode & 0o777, 0o755);
    assert.deepEqual((await mountsUnder(join(dir, 'pod'))).sort(), [secret, volume].sort());
    // The size cap holds: 2 MiB do not fit in 1 MiB.
    assert.throws(() => writeFileSync(join(volume, 'big'), Buffer.alloc(2 * 1024 * 1024)), /ENOSPC/);
    await pinPodNamespaces(join(dir, 'pod', 'ns'), { hostname: 'mounts-test' });
    assert.equal((await mountsUnder(join(dir, 'pod'))).length, 4, 'two tmpfs and two namespace pins');
    await unmountUnder(join(dir, 'pod'));
    assert.deepEqual(await mountsUnder(join(dir, 'pod')), []);
    rmSync(join(dir, 'pod'), { recursive: true }); // no EBUSY left
  } finally {
    await unmountUnder(dir).catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  }
});
