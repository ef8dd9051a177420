// A pod's containers share what the seed says they share — network, UTS, IPC, volumes and (with
// shareProcessNamespace) PIDs — on a real gateway: real containerd, runc and CNI, one assertion
// each, through the API's exec. A second pod is the control: it shares none of it with the first;
// its containers share network, UTS and IPC through the pinned namespaces alone (no sandbox), and
// its emptyDir is memory-backed, with a secret volume beside it (both tmpfs).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { running, withGateway } from './gateway.ts';

test('a two-container pod shares network, hostname, IPC, an emptyDir and (shareProcessNamespace) PIDs', async () => {
  await withGateway(async (gw) => {
    const secret = await gw.api('POST', '/api/v1/namespaces/default/secrets', { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'tok' }, data: { token: Buffer.from('s3cret').toString('base64') } });
    assert.equal(secret.status, 201, JSON.stringify(secret.json));
    const duo = (name: string, sharePids: boolean) => ({
      metadata: { name },
      spec: {
        terminationGracePeriodSeconds: 1,
        shareProcessNamespace: sharePids,
        volumes: sharePids ? [{ name: 'shared', emptyDir: {} }] : [{ name: 'shared', emptyDir: { medium: 'Memory', sizeLimit: '8Mi' } }, { name: 'tok', secret: { secretName: 'tok' } }],
        containers: [
          {
            name: 'server',
            image: 'busybox',
            // a POSIX message queue in the pod's IPC namespace (its mqueue filesystem), a file in
            // the emptyDir, and an HTTP server on the pod's loopback only
            command: ['sh', '-c', `touch /dev/mqueue/q-${name}; echo written-by-server > /shared/note; mkdir -p /www; echo hello-from-server > /www/index.html; exec httpd -f -p 127.0.0.1:8080 -h /www`],
            volumeMounts: [{ name: 'shared', mountPath: '/shared' }],
          },
          { name: 'client', image: 'busybox', command: ['sleep', '3600'], volumeMounts: [{ name: 'shared', mountPath: '/shared' }, ...(sharePids ? [] : [{ name: 'tok', mountPath: '/tok' }])] },
        ],
      },
    });
    await gw.createPod(duo('duo', true));
    await gw.createPod(duo('other', false));
    await gw.waitPod('duo', 'Running', (p) => (running(p) ? p : undefined));
    await gw.waitPod('other', 'Running', (p) => (running(p) ? p : undefined));
    // the server's start-up writes may trail "Running" by a moment
    for (let i = 0; i < 50; i++) {
      const r = await gw.exec('duo', 'client', ['wget', '-qO-', 'http://127.0.0.1:8080/']);
      if (r.exitCode === 0) break;
      await new Promise((res) => setTimeout(res, 100));
    }

    // 1. network: the client reaches the server's 127.0.0.1:8080
    const web = await gw.exec('duo', 'client', ['wget', '-qO-', 'http://127.0.0.1:8080/']);
    assert.equal(web.stdout.trim(), 'hello-from-server', `wget over localhost: ${JSON.stringify(web)}`);

    // 2. UTS: both report the pod's name as hostname
    const h1 = await gw.exec('duo', 'server', ['hostname']);
    const h2 = await gw.exec('duo', 'client', ['hostname']);
    assert.deepEqual([h1.stdout.trim(), h2.stdout.trim()], ['duo', 'duo']);
    const h3 = await gw.exec('other', 'server', ['hostname']);
    const h4 = await gw.exec('other', 'client', ['hostname']);
    assert.deepEqual([h3.stdout.trim(), h4.stdout.trim()], ['other', 'other'], 'without a sandbox too');

    // 3. IPC: the server's message queue is in the client's IPC namespace, not in another pod's
    const q = await gw.exec('duo', 'client', ['ls', '/dev/mqueue']);
    assert.deepEqual(q.stdout.split('\n').filter(Boolean), ['q-duo'], `mqueue seen by the client: ${JSON.stringify(q)}`);
    const qOther = await gw.exec('other', 'client', ['ls', '/dev/mqueue']);
    assert.deepEqual(qOther.stdout.split('\n').filter(Boolean), ['q-other'], 'another pod must not see duo\'s queue');

    // 4. volume: the file the server wrote to the emptyDir is there for the client
    const note = await gw.exec('duo', 'client', ['cat', '/shared/note']);
    assert.equal(note.stdout.trim(), 'written-by-server');
    // a memory-backed emptyDir and a secret are tmpfs (nothing of them on the SD card), still shared
    const mounts = await gw.exec('other', 'client', ['cat', '/proc/mounts']);
    assert.match(mounts.stdout, /^tmpfs \/shared tmpfs [^ ]*size=8192k/m, `mounts in the client:\n${mounts.stdout}`);
    assert.match(mounts.stdout, /^tmpfs \/tok tmpfs /m);
    assert.equal((await gw.exec('other', 'client', ['cat', '/shared/note'])).stdout.trim(), 'written-by-server');
    assert.equal((await gw.exec('other', 'client', ['cat', '/tok/token'])).stdout, 's3cret');

    // 5. PID: with shareProcessNamespace the client sees the server's httpd; without, it does not
    const ps = await gw.exec('duo', 'client', ['ps', '-o', 'pid,args']);
    assert.match(ps.stdout, /httpd -f -p 127\.0\.0\.1:8080/, `ps in the client:\n${ps.stdout}`);
    const psOther = await gw.exec('other', 'client', ['ps', '-o', 'pid,args']);
    assert.doesNotMatch(psOther.stdout, /httpd/, `ps in a pod without shareProcessNamespace:\n${psOther.stdout}`);

    // and the same through the CLI, run inside the gateway's namespace
    const cli = gw.cli(['exec', 'duo', '-c', 'client', '--', 'cat', '/shared/note']);
    assert.equal(cli.code, 0, cli.stderr);
    assert.equal(cli.stdout.trim(), 'written-by-server');
  });
});
