// Images with no registry, against a real containerd: the busybox image built from the host,
// imported, listed, found under every spelling, run, removed; a bad archive is a clear error.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { BUSYBOX_BINARY, BUSYBOX_IMAGE, buildBusyboxImageArchive, ensureBusyboxImage, hasImage, imageRunConfig, importImage, listImages, removeImage } from '../../src/runtime/index.ts';
import { startLab, type Lab } from './helpers.ts';

describe('images (real containerd)', () => {
  let lab: Lab;
  before(async () => {
    lab = await startLab();
  });
  after(async () => {
    await lab?.cleanup();
  });

  test('ensureBusyboxImage builds and imports busybox once, then finds it', async () => {
    const progress: string[] = [];
    assert.equal(await ensureBusyboxImage(lab.ctr, { workDir: lab.dir, onProgress: (line) => progress.push(line) }), true);
    assert.ok(progress.some((line) => line.startsWith(`unpacking ${BUSYBOX_IMAGE}`)), progress.join('\n'));
    assert.equal(await ensureBusyboxImage(lab.ctr, { workDir: lab.dir }), false);
    for (const spelling of ['busybox', 'busybox:latest', 'library/busybox', BUSYBOX_IMAGE]) assert.equal(await hasImage(lab.ctr, spelling), true, spelling);
    const images = await listImages(lab.ctr);
    const busybox = images.find((image) => image.name === BUSYBOX_IMAGE);
    assert.ok(busybox, JSON.stringify(images));
    assert.match(busybox.digest, /^sha256:[0-9a-f]{64}$/);
    assert.ok(busybox.sizeBytes > 1_000_000 && busybox.sizeBytes < 10_000_000, String(busybox.sizeBytes));
    // It runs: applets resolve through the links.
    const { stdout } = await lab.ctr.run(['run', '--rm', BUSYBOX_IMAGE, 'img-check', 'sh', '-c', 'echo $((6*7)); wget --help 2>&1 | head -1']);
    assert.match(stdout, /^42\n/);
  });

  test('the archive is byte-for-byte reproducible (same digest on every gateway)', () => {
    assert.ok(buildBusyboxImageArchive().equals(buildBusyboxImageArchive()));
  });

  test('importImage of an archive under another name, then removeImage (idempotent)', async () => {
    const file = join(lab.dir, 'tools.tar');
    writeFileSync(file, buildBusyboxImageArchive());
    const names = await importImage(lab.ctr, file, { baseName: 'example.org/tools/box' });
    assert.deepEqual(names, ['example.org/tools/box:latest']);
    assert.equal(await hasImage(lab.ctr, 'example.org/tools/box'), true);
    assert.equal(await removeImage(lab.ctr, 'example.org/tools/box:latest'), true);
    assert.equal(await removeImage(lab.ctr, 'example.org/tools/box:latest'), false);
    assert.equal(await hasImage(lab.ctr, 'example.org/tools/box'), false);
  });

  test('imageRunConfig reads ENTRYPOINT and CMD from the image config in the content store', async () => {
    const file = join(lab.dir, 'entry.tar');
    writeFileSync(file, buildBusyboxImageArchive(BUSYBOX_BINARY, process.arch, { entrypoint: ['/bin/echo', 'from-entrypoint'], cmd: ['default-arg'] }));
    await importImage(lab.ctr, file, { baseName: 'example.org/tools/entry' });
    const config = await imageRunConfig(lab.ctr, 'example.org/tools/entry');
    assert.deepEqual({ entrypoint: config?.entrypoint, cmd: config?.cmd }, { entrypoint: ['/bin/echo', 'from-entrypoint'], cmd: ['default-arg'] });
    assert.match(config!.digest, /^sha256:[0-9a-f]{64}$/);
    // Read once per digest: a known digest is answered from the cache without the content reads.
    assert.equal(await imageRunConfig(lab.ctr, 'example.org/tools/entry', () => ({ digest: 'cached', entrypoint: [], cmd: [] })).then((c) => c?.digest), 'cached');
    assert.deepEqual((await imageRunConfig(lab.ctr, BUSYBOX_IMAGE))?.entrypoint, []);
    assert.deepEqual((await imageRunConfig(lab.ctr, BUSYBOX_IMAGE))?.cmd, ['sh']);
    assert.equal(await imageRunConfig(lab.ctr, 'example.org/no/such'), undefined);
    await removeImage(lab.ctr, 'example.org/tools/entry');
  });

  test('a file that is not an image archive fails with ctr\'s reason', async () => {
    const file = join(lab.dir, 'junk.tar');
    writeFileSync(file, 'this is not a tar');
    await assert.rejects(importImage(lab.ctr, file), (error: unknown) => {
      assert.match((error as Error).message, /ctr images import/);
      return true;
    });
    await assert.rejects(importImage(lab.ctr, join(lab.dir, 'missing.tar')), /give the path of an image archive/);
  });
});
