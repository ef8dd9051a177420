// The runtime's pure parts: image names, IDs, parsers of ctr's output, the limiter, the tar
// writer (checked by the system's tar) and the event bookkeeping. No containerd needed.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import {
  buildTar,
  cleanStderr,
  containerId,
  Ctr,
  CtrError,
  isValidContainerId,
  Limiter,
  normalizeImageName,
  parseEventLine,
  parseImageList,
  parseTaskList,
  podLabels,
  sandboxId,
  TaskEvents,
} from '../../src/runtime/index.ts';
import { recordLogs } from './helpers.ts';

describe('normalizeImageName', () => {
  const table: Array<[string, string]> = [
    ['busybox', 'docker.io/library/busybox:latest'],
    ['busybox:1.36', 'docker.io/library/busybox:1.36'],
    ['nginx:1.14.2', 'docker.io/library/nginx:1.14.2'],
    ['library/nginx', 'docker.io/library/nginx:latest'],
    ['foo/bar', 'docker.io/foo/bar:latest'],
    ['foo/bar/baz:v1', 'docker.io/foo/bar/baz:v1'],
    ['docker.io/library/busybox:latest', 'docker.io/library/busybox:latest'],
    ['index.docker.io/library/redis', 'docker.io/library/redis:latest'],
    ['localhost/app', 'localhost/app:latest'],
    ['localhost:5000/app:2', 'localhost:5000/app:2'],
    ['registry:5000/x', 'registry:5000/x:latest'],
    [`registry:5000/x@sha256:${'a'.repeat(64)}`, `registry:5000/x@sha256:${'a'.repeat(64)}`],
    [`busybox@sha256:${'b'.repeat(64)}`, `docker.io/library/busybox@sha256:${'b'.repeat(64)}`],
    [`busybox:1.36@sha256:${'c'.repeat(64)}`, `docker.io/library/busybox:1.36@sha256:${'c'.repeat(64)}`],
    ['quay.io/coreos/etcd:v3.5.0', 'quay.io/coreos/etcd:v3.5.0'],
    ['my_org/my-app__x', 'docker.io/my_org/my-app__x:latest'],
  ];
  for (const [input, expected] of table) {
    test(`${input} -> ${expected}`, () => assert.equal(normalizeImageName(input), expected));
  }
  for (const bad of ['', 'Busybox', 'foo//bar', 'foo:bad tag', 'foo@sha256:short', '-foo']) {
    test(`refuses ${JSON.stringify(bad)} with E_IMAGE_NAME`, () => {
      assert.throws(() => normalizeImageName(bad), (error: unknown) => (error as { code?: string }).code === 'E_IMAGE_NAME');
    });
  }
});

describe('container ids and labels', () => {
  const uid = '3f2b6a4e-1c2d-4e5f-8a9b-0c1d2e3f4a5b';
  test('plain names keep the readable <uid>_<name> form, the sandbox <uid>.sandbox', () => {
    assert.equal(containerId(uid, 'web'), `${uid}_web`);
    assert.equal(sandboxId(uid), `${uid}.sandbox`);
    assert.notEqual(containerId(uid, 'sandbox'), sandboxId(uid));
  });
  test('long or odd names become valid, stable, distinct IDs of at most 76 chars', () => {
    const long = 'a'.repeat(63);
    const odd = ['xn--bcher-kva', 'x--y', long, `${long.slice(0, 62)}b`];
    const ids = odd.map((name) => containerId(uid, name));
    for (const id of ids) assert.ok(isValidContainerId(id), id);
    assert.equal(new Set(ids).size, ids.length);
    assert.deepEqual(odd.map((name) => containerId(uid, name)), ids);
  });
  test('labels carry the pod and the container name (sandbox: io.bramble.sandbox=true)', () => {
    const pod = { namespace: 'default', name: 'web', uid };
    assert.deepEqual(podLabels(pod, 'app'), {
      'io.bramble.pod.namespace': 'default',
      'io.bramble.pod.name': 'web',
      'io.bramble.pod.uid': uid,
      'io.bramble.container.name': 'app',
    });
    assert.equal(podLabels(pod)['io.bramble.sandbox'], 'true');
  });
});

describe('parsers of ctr output', () => {
  test('images ls', () => {
    const out = [
      'REF                              TYPE                                       DIGEST                                                                  SIZE    PLATFORMS   LABELS ',
      'docker.io/library/busybox:latest application/vnd.oci.image.manifest.v1+json sha256:5f16 2.0 MiB linux/amd64 -      ',
    ].join('\n');
    assert.deepEqual(parseImageList(out), [
      { name: 'docker.io/library/busybox:latest', mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: 'sha256:5f16', sizeBytes: 2 * 1024 * 1024, platforms: ['linux/amd64'] },
    ]);
  });
  test('task ls', () => {
    const out = 'TASK    PID     STATUS    \na       5641    RUNNING\noom     5696    STOPPED\nc       0       CREATED\n';
    assert.deepEqual(parseTaskList(out), [
      { id: 'a', pid: 5641, status: 'RUNNING', state: 'running' },
      { id: 'oom', pid: 5696, status: 'STOPPED', state: 'stopped' },
      { id: 'c', pid: 0, status: 'CREATED', state: 'created' },
    ]);
  });
  test('cleanStderr drops logrus framing and the ctr: prefix', () => {
    const raw = 'time="2026-11-27T04:49:25Z" level=error msg="failed to load task from ex" error="not found"\nctr: no running task found: task ex not found: not found\n';
    assert.equal(cleanStderr(raw), 'failed to load task from ex error="not found"; no running task found: task ex not found: not found');
  });
  test('events: exit (code 0 left out by protobuf JSON), oom, other namespaces ignored', () => {
    const ns = 'bramble';
    assert.deepEqual(parseEventLine('2026-11-27 04:49:36.03684239 +0000 UTC bramble /tasks/exit {"container_id":"x","id":"x","pid":9,"exited_at":"2026-11-27T04:49:36Z"}', ns), {
      type: 'exit', containerId: 'x', pid: 9, exitCode: 0, exitedAt: '2026-11-27T04:49:36Z',
    });
    assert.equal(parseEventLine('2026-11-27 04:49:36.03 +0000 UTC bramble /tasks/exit {"container_id":"x","id":"exec1","pid":9,"exit_status":1}', ns), undefined);
    assert.equal(parseEventLine('2026-11-27 04:49:36.03 +0000 UTC other /tasks/oom {"container_id":"x"}', ns), undefined);
    assert.deepEqual(parseEventLine('2026-11-27 04:49:36.03 +0000 UTC bramble /tasks/oom {"container_id":"x"}', ns), { type: 'oom', containerId: 'x' });
  });
  test('events bookkeeping: exit remembered until the next start', () => {
    const events = new TaskEvents(new Ctr({ address: '/nonexistent', namespace: 'bramble' }), recordLogs().logger);
    events.handleLine('2026-11-27 04:49:36.03 +0000 UTC bramble /tasks/oom {"container_id":"x"}');
    events.handleLine('2026-11-27 04:49:36.03 +0000 UTC bramble /tasks/exit {"container_id":"x","id":"x","pid":9,"exit_status":137,"exited_at":"t"}');
    assert.equal(events.lastExit('x')?.exitCode, 137);
    assert.equal(events.sawOom('x'), true);
    events.handleLine('2026-11-27 04:49:37.03 +0000 UTC bramble /tasks/start {"container_id":"x","pid":10}');
    assert.equal(events.lastExit('x'), undefined);
    assert.equal(events.sawOom('x'), false);
  });
});

describe('ctr wrapper without containerd', () => {
  test('a failing call throws CtrError with the command and the cleaned stderr', async () => {
    const ctr = new Ctr({ address: '/nonexistent/containerd.sock', namespace: 'bramble', timeoutMs: 5_000, connectTimeoutMs: 500 });
    await assert.rejects(ctr.run(['containers', 'ls']), (error: unknown) => {
      assert.ok(error instanceof CtrError);
      assert.match(error.message, /^ctr containers ls: /);
      assert.match(error.stderr, /nonexistent/);
      assert.ok(!error.stderr.startsWith('ctr: '));
      return true;
    });
  });
  test('a missing ctr binary says what to install', async () => {
    const ctr = new Ctr({ address: '/x', ctrPath: '/nonexistent/ctr' });
    await assert.rejects(ctr.run(['version']), /not found: install containerd/);
  });
});

describe('Limiter', () => {
  test('never runs more than max at once and keeps FIFO order', async () => {
    const limiter = new Limiter(4);
    let running = 0;
    let peak = 0;
    const order: number[] = [];
    await Promise.all(
      Array.from({ length: 30 }, (_, index) =>
        limiter.run(async () => {
          running += 1;
          peak = Math.max(peak, running);
          order.push(index);
          await new Promise((resolve) => setTimeout(resolve, 2));
          running -= 1;
        }),
      ),
    );
    assert.equal(peak, 4);
    assert.deepEqual(order, Array.from({ length: 30 }, (_, index) => index));
  });
});

describe('tar writer', () => {
  test('the system tar reads files, dirs, symlinks and long paths back', () => {
    const dir = mkdtempSync(join(tmpdir(), 'bramble-tar-'));
    try {
      const longPath = `${'d'.repeat(90)}/${'e'.repeat(60)}/file.txt`;
      const tar = buildTar([
        { type: 'dir', path: 'bin' },
        { type: 'file', path: 'bin/tool', mode: 0o755, data: Buffer.from('#!/bin/sh\necho hi\n') },
        { type: 'symlink', path: 'bin/alias', target: '/bin/tool' },
        { type: 'file', path: longPath, data: Buffer.alloc(1000, 0x61) },
      ]);
      assert.equal(tar.length % 512, 0);
      writeFileSync(join(dir, 'x.tar'), tar);
      const listing = execFileSync('tar', ['tvf', join(dir, 'x.tar')], { encoding: 'utf8' });
      assert.match(listing, /^-rwxr-xr-x 0\/0 +18 .* bin\/tool$/m);
      assert.match(listing, /bin\/alias -> \/bin\/tool/);
      assert.ok(listing.includes(longPath));
      execFileSync('tar', ['xf', join(dir, 'x.tar'), '-C', dir]);
      assert.equal(execFileSync('sh', [join(dir, 'bin/tool')], { encoding: 'utf8' }), 'hi\n');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
