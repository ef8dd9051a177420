// The image routes over HTTP with a fake runtime: list, remove, import (the upload lands in a
// file that the runtime imports, progress streams back), forwarding to the named gateway, and
// a clear 503 on a gateway without containerd.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { request } from 'undici';
import { MemberForwarder } from '../../src/api/forward.ts';
import { Router } from '../../src/api/http/index.ts';
import type { ImageRuntime } from '../../src/api/image-routes.ts';
import { createImageRoutes } from '../../src/api/image-routes.ts';
import { answerStatusError } from '../../src/api/resources/status.ts';
import { quietLogger } from '../store/store-helpers.ts';

describe('image routes', () => {
  const dir = mkdtempSync(join(tmpdir(), 'bramble-images-'));
  const images = new Map<string, number>([['docker.io/library/busybox:latest', 1000]]);
  const seenUploads: string[] = [];
  let runtime: ImageRuntime | undefined = {
    async importImage(file, options) {
      seenUploads.push(readFileSync(file, 'utf8'));
      options.onProgress?.('unpacking docker.io/library/app:1 (sha256:abc)...done');
      images.set('docker.io/library/app:1', 2000);
      return ['docker.io/library/app:1'];
    },
    async listImages() {
      return [...images].map(([name, sizeBytes]) => ({ name, digest: 'sha256:0123456789abcdef0123', sizeBytes }));
    },
    async removeImage(ref) {
      return images.delete(ref.includes('/') ? ref : `docker.io/library/${ref}`);
    },
  };
  let url = '';
  let otherUrl = '';
  const forwarded: string[] = [];
  const servers: ReturnType<typeof createServer>[] = [];
  before(async () => {
    const other = createServer((req, res) => {
      forwarded.push(`${req.method} ${req.url} ${req.headers['x-bramble-forwarded-from']}`);
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{"node":"gw2","items":[]}');
    });
    await new Promise<void>((r) => other.listen(0, '127.0.0.1', r));
    otherUrl = `http://127.0.0.1:${(other.address() as AddressInfo).port}`;
    const router = new Router({ logger: quietLogger, answerError: answerStatusError });
    router.addRoutes(
      createImageRoutes({
        selfNode: 'gw1',
        runtime: () => runtime,
        forwarder: new MemberForwarder('gw1', 'tok', quietLogger),
        apiUrlOf: (node) => (node === 'gw2' ? otherUrl : undefined),
        uploadDir: join(dir, 'uploads'),
        logger: quietLogger,
      }),
    );
    const server = createServer((req, res) => void router.handle(req, res));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    servers.push(server, other);
  });
  after(() => {
    for (const s of servers) s.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('lists, imports with progress, and removes', async () => {
    const list = await (await request(`${url}/bramble/v1/images`)).body.json() as { node: string; items: { name: string }[] };
    assert.equal(list.node, 'gw1');
    assert.deepEqual(list.items.map((i) => i.name), ['docker.io/library/busybox:latest']);
    const res = await request(`${url}/bramble/v1/images/import`, { method: 'POST', body: 'TARBYTES', headers: { 'content-type': 'application/x-tar' } });
    const lines = (await res.body.text()).trim().split('\n').map((l) => JSON.parse(l));
    assert.equal(res.statusCode, 200);
    assert.match(lines[0].progress, /received 8 bytes/);
    assert.match(lines[1].progress, /unpacking docker.io\/library\/app:1/);
    assert.deepEqual(lines.at(-1), { node: 'gw1', imported: ['docker.io/library/app:1'] });
    assert.deepEqual(seenUploads, ['TARBYTES']);
    assert.deepEqual(readdirSync(join(dir, 'uploads')), [], 'the upload file is removed after the import');
    const rm = await request(`${url}/bramble/v1/images?name=docker.io/library/app:1`, { method: 'DELETE' });
    assert.equal(rm.statusCode, 200);
    await rm.body.text();
    const again = await request(`${url}/bramble/v1/images?name=docker.io/library/app:1`, { method: 'DELETE' });
    assert.equal(again.statusCode, 404);
    await again.body.text();
    const noName = await request(`${url}/bramble/v1/images`, { method: 'DELETE' });
    assert.equal(noName.statusCode, 400);
    await noName.body.text();
  });

  it('forwards to the named gateway, and refuses an unknown one', async () => {
    const r = await request(`${url}/bramble/v1/images?node=gw2`);
    assert.equal(r.statusCode, 200);
    assert.deepEqual(await r.body.json(), { node: 'gw2', items: [] });
    assert.deepEqual(forwarded, ['GET /bramble/v1/images?node=gw2 gw1']);
    const unknown = await request(`${url}/bramble/v1/images?node=gw9`);
    assert.equal(unknown.statusCode, 503);
    await unknown.body.text();
  });

  it('answers 503 on a gateway without containerd', async () => {
    const saved = runtime;
    runtime = undefined;
    try {
      const r = await request(`${url}/bramble/v1/images`);
      assert.equal(r.statusCode, 503);
      assert.match(await r.body.text(), /no container runtime/);
    } finally {
      runtime = saved;
    }
    assert.equal(existsSync(join(dir, 'uploads')), true);
  });
});
