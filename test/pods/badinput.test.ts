// Bad input on a real gateway: an image that is not there, a command that does not exist, a
// hostPath that does not exist. Each gets a clear reason in the pod's status; the daemon keeps
// serving, and a good pod on the same gateway runs unaffected (and a new one still starts).
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { cs, running, withGateway } from './gateway.ts';

test('a missing image, a missing command and a missing hostPath each get a clear reason; the gateway and its other pods are fine', async () => {
  await withGateway(async (gw) => {
    const plain = (name: string, container: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({
      metadata: { name },
      spec: { terminationGracePeriodSeconds: 1, ...extra, containers: [{ name: 'c', image: 'busybox', command: ['sleep', '3600'], ...container }] },
    });
    await gw.createPod(plain('good', {}));
    await gw.waitPod('good', 'Running', (p) => (running(p) ? p : undefined));
    const daemonPid = gw.daemon!.pid;

    const missingDir = join(gw.dir, 'no-such-dir');
    await gw.createPod(plain('no-image-never', { image: 'registry.invalid/nothing/here:1.0', imagePullPolicy: 'Never' }));
    await gw.createPod(plain('no-image', { image: 'registry.invalid/nothing/here:1.0', imagePullPolicy: 'IfNotPresent' }));
    await gw.createPod(plain('no-command', { command: ['/bin/no-such-command', '--flag'] }, { restartPolicy: 'Never' }));
    await gw.createPod(plain('no-command-always', { command: ['/bin/no-such-command'] }));
    await gw.createPod(
      plain('no-hostpath', { volumeMounts: [{ name: 'd', mountPath: '/d' }] }, { volumes: [{ name: 'd', hostPath: { path: missingDir, type: 'Directory' } }] }),
    );

    // the image: ErrImageNeverPull / ImageNotPresent, naming the image
    const never = await gw.waitPod('no-image-never', 'ErrImageNeverPull', (p) => (cs(p, 'c')?.state.waiting?.reason === 'ErrImageNeverPull' ? p : undefined));
    assert.match(cs(never, 'c')!.state.waiting!.message!, /registry\.invalid\/nothing\/here:1\.0/);
    assert.equal(never.status!.phase, 'Pending');
    const absent = await gw.waitPod('no-image', 'ImageNotPresent', (p) => (cs(p, 'c')?.state.waiting?.reason === 'ImageNotPresent' ? p : undefined));
    assert.match(cs(absent, 'c')!.state.waiting!.message!, /registry\.invalid\/nothing\/here:1\.0/);
    assert.match(cs(absent, 'c')!.state.waiting!.message!, /bramble image import/, 'says what to do');

    // the command: StartError with the runtime's message, the exit code 128 Kubernetes uses
    const noCmd = await gw.waitPod('no-command', 'phase Failed', (p) => (p.status?.phase === 'Failed' ? p : undefined));
    const term = cs(noCmd, 'c')!.state.terminated!;
    assert.equal(term.reason, 'StartError', JSON.stringify(term));
    assert.equal(term.exitCode, 128);
    assert.match(term.message ?? '', /no-such-command/, `the message names the command: ${term.message}`);
    assert.match(term.message ?? '', /no such file or directory|not found/i, `and says why: ${term.message}`);
    // with restartPolicy Always it backs off like any crash, keeping the reason
    const loop = await gw.waitPod('no-command-always', 'CrashLoopBackOff after a StartError', (p) =>
      cs(p, 'c')?.state.waiting?.reason === 'CrashLoopBackOff' && cs(p, 'c')?.lastState?.terminated?.reason === 'StartError' ? p : undefined,
    );
    assert.match(cs(loop, 'c')!.lastState!.terminated!.message ?? '', /no-such-command/);

    // the hostPath: the pod waits in ContainerCreating, and the message names the path
    const noDir = await gw.waitPod('no-hostpath', 'a mount failure', (p) => (/MountVolume/.test(cs(p, 'c')?.state.waiting?.message ?? '') ? p : undefined));
    const waiting = cs(noDir, 'c')!.state.waiting!;
    assert.equal(waiting.reason, 'ContainerCreating');
    assert.ok(waiting.message!.includes(missingDir), `names the path: ${waiting.message}`);
    assert.equal(noDir.status!.phase, 'Pending');
    const events = await gw.api('GET', '/api/v1/namespaces/default/events');
    assert.ok((events.json.items as { reason: string }[]).some((e) => e.reason === 'FailedMount'), 'a FailedMount event');

    // the daemon is the same process, serves, and the good pod runs on untouched
    assert.equal(gw.daemon?.pid, daemonPid, 'the daemon did not crash');
    assert.equal((await gw.api('GET', '/readyz')).status, 200);
    const good = (await gw.getPod('good'))!;
    assert.ok(running(good));
    assert.equal(cs(good, 'c')!.restartCount, 0);
    assert.equal((await gw.exec('good', 'c', ['echo', 'still-here'])).stdout, 'still-here\n');
    await gw.createPod(plain('newcomer', {}));
    await gw.waitPod('newcomer', 'Running', (p) => (running(p) ? p : undefined));
  });
});
