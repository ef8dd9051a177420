// The busybox image's wget shim: with Debian's busybox (wget built without -T, which crashes on
// it) `wget -T SEC URL` must work, through busybox's timeout applet.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { WGET_APPLET_RENAMED, WGET_TIMEOUT_SHIM, wgetHasTimeout, withWgetRenamed } from '../../src/runtime/busybox-image.ts';
import { readFileSync } from 'node:fs';

function run(file: string, args: string[]): Promise<{ code: number | null; stdout: string; ms: number }> {
  const started = Date.now();
  return new Promise((resolve) => {
    const child = spawn(file, args, { stdio: ['ignore', 'pipe', 'ignore'] });
    let stdout = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.on('exit', (code) => resolve({ code, stdout, ms: Date.now() - started }));
  });
}

test('wget -T SEC works through the shim, and times out when nothing answers', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'bramble-wget-'));
  const shim = join(dir, 'wget');
  // the shim runs /bin/busybox: give it the renamed copy's applet name through a test binary
  const renamed = withWgetRenamed(readFileSync('/bin/busybox'));
  const busybox = join(dir, 'busybox');
  if (renamed) writeFileSync(busybox, renamed);
  else writeFileSync(busybox, readFileSync('/bin/busybox'));
  chmodSync(busybox, 0o755);
  writeFileSync(shim, WGET_TIMEOUT_SHIM.replaceAll('/bin/busybox', busybox).replaceAll(` ${WGET_APPLET_RENAMED} `, renamed ? ` ${WGET_APPLET_RENAMED} ` : ' wget '));
  chmodSync(shim, 0o755);
  // answers the first request; the second one hangs (a backend that accepted and went quiet)
  let requests = 0;
  const server = createServer((_req, res) => {
    if (++requests === 1) res.end('hello from the backend\n');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  try {
    assert.equal(typeof wgetHasTimeout('/bin/busybox'), 'boolean');
    if (renamed) {
      // the renamed copy still works as a shell, and its sh no longer runs wget as an applet: the
      // name goes to PATH, where the image puts the shim
      assert.equal((await run(busybox, ['sh', '-c', 'echo works'])).stdout, 'works\n');
      assert.equal((await run(busybox, ['sh', '-c', `PATH=${dir}; wget -qO- -T 2 ${url}`])).stdout, 'hello from the backend\n');
      requests = 0;
    }
    const ok = await run(shim, ['-qO-', '-T', '2', url]);
    assert.equal(ok.code, 0);
    assert.equal(ok.stdout, 'hello from the backend\n');
    const hung = await run(shim, ['-q', '-O', '-', '-T1', url]);
    assert.notEqual(hung.code, 0);
    assert.ok(hung.ms < 5000, `the -T 1 request took ${hung.ms} ms`);
  } finally {
    server.closeAllConnections();
    server.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
