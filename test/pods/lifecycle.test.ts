// A pod's life on a real gateway: restart policies and CrashLoopBackOff timing, init containers,
// the three probe kinds, graceful deletion, configMap volume updates, and the OOM killer. Each
// test has its own gateway (daemon, containerd, netns), removed pass or fail.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { condition, cs, running, sleep, withGateway, type Pod } from './gateway.ts';

const grace = 1;

test('restartPolicy Always: a crashing container restarts at once, then waits ~10 s in CrashLoopBackOff', async (t) => {
  await withGateway(async (gw) => {
    await gw.createPod({
      metadata: { name: 'crash' },
      spec: { terminationGracePeriodSeconds: grace, containers: [{ name: 'c', image: 'busybox', command: ['sh', '-c', 'echo crashing; exit 3'] }] },
    });
    // The first exit is restarted immediately (restartCount 1, no back-off yet).
    const first = await gw.waitPod('crash', 'restartCount 1', (p) => ((cs(p, 'c')?.restartCount ?? 0) >= 1 ? p : undefined), 20_000);
    assert.equal(cs(first, 'c')!.restartCount, 1);
    // The second exit waits: CrashLoopBackOff, with the last termination kept.
    const backoff = await gw.waitPod('crash', 'CrashLoopBackOff', (p) => (cs(p, 'c')?.state.waiting?.reason === 'CrashLoopBackOff' ? p : undefined), 20_000);
    const c = cs(backoff, 'c')!;
    assert.equal(c.restartCount, 1, 'still 1 while backing off');
    assert.match(c.state.waiting!.message ?? '', /back-off 10s restarting failed container=c pod=crash/);
    assert.equal(c.lastState?.terminated?.exitCode, 3);
    assert.equal(c.lastState?.terminated?.reason, 'Error');
    const exitedAt = Date.parse(c.lastState!.terminated!.finishedAt!); // whole seconds
    // The next restart comes ~10 s after that exit, not before.
    const second = await gw.waitPod('crash', 'restartCount 2', (p) => ((cs(p, 'c')?.restartCount ?? 0) >= 2 ? Date.now() : undefined), 25_000);
    const waited = second - exitedAt;
    t.diagnostic(`second restart seen ${waited} ms after the exit that preceded it (finishedAt has whole seconds)`);
    assert.ok(waited >= 9_000 && waited <= 14_000, `second restart ${waited} ms after the exit; expected ~10 s`);
  });
});

test('restartPolicy OnFailure/Never: exit 0 is Succeeded, exit 1 with Never is Failed, exit 1 with OnFailure restarts', async () => {
  await withGateway(async (gw) => {
    const pod = (name: string, policy: string, code: number) => ({
      metadata: { name },
      spec: { restartPolicy: policy, terminationGracePeriodSeconds: grace, containers: [{ name: 'c', image: 'busybox', command: ['sh', '-c', `sleep 0.3; exit ${code}`] }] },
    });
    await gw.createPod(pod('onfailure-ok', 'OnFailure', 0));
    await gw.createPod(pod('never-ok', 'Never', 0));
    await gw.createPod(pod('never-fail', 'Never', 1));
    await gw.createPod(pod('onfailure-fail', 'OnFailure', 1));
    const phaseOf = (name: string, phase: string) => gw.waitPod(name, `phase ${phase}`, (p) => (p.status?.phase === phase ? p : undefined));
    for (const name of ['onfailure-ok', 'never-ok']) {
      const p = await phaseOf(name, 'Succeeded');
      assert.equal(cs(p, 'c')!.state.terminated?.exitCode, 0);
      assert.equal(cs(p, 'c')!.state.terminated?.reason, 'Completed');
      assert.equal(cs(p, 'c')!.restartCount, 0);
    }
    const failed = await phaseOf('never-fail', 'Failed');
    assert.equal(cs(failed, 'c')!.state.terminated?.exitCode, 1);
    assert.equal(cs(failed, 'c')!.restartCount, 0);
    const retried = await gw.waitPod('onfailure-fail', 'a restart', (p) => ((cs(p, 'c')?.restartCount ?? 0) >= 1 ? p : undefined));
    assert.ok(!['Succeeded', 'Failed'].includes(retried.status!.phase!), `OnFailure keeps the pod going: ${retried.status!.phase}`);
    // Terminal pods keep their status but their containers are stopped: only the restarting pod's remain.
    await sleep(500);
    const succeededUid = (await gw.getPod('never-ok'))!.metadata.uid;
    const runningTasks = [...gw.tasks().values()].filter((t) => t.id.startsWith(succeededUid) && t.status === 'RUNNING');
    assert.deepEqual(runningTasks, [], 'a Succeeded pod has no running task (sandbox included)');
  });
});

test('init containers run in order, to completion, before the app container', async () => {
  await withGateway(async (gw) => {
    await gw.createPod({
      metadata: { name: 'inits' },
      spec: {
        terminationGracePeriodSeconds: grace,
        volumes: [{ name: 'work', emptyDir: {} }],
        initContainers: [
          { name: 'first', image: 'busybox', command: ['sh', '-c', 'sleep 0.5; echo first >> /work/order'], volumeMounts: [{ name: 'work', mountPath: '/work' }] },
          { name: 'second', image: 'busybox', command: ['sh', '-c', 'test -f /work/order && echo second >> /work/order'], volumeMounts: [{ name: 'work', mountPath: '/work' }] },
        ],
        containers: [{ name: 'app', image: 'busybox', command: ['sh', '-c', 'cp /work/order /work/seen-by-app; sleep 3600'], volumeMounts: [{ name: 'work', mountPath: '/work' }] }],
      },
    });
    const p = await gw.waitPod('inits', 'Running', (x) => (running(x) ? x : undefined));
    const inits = p.status!.initContainerStatuses!;
    assert.deepEqual(
      inits.map((s) => [s.name, s.state.terminated?.reason, s.state.terminated?.exitCode]),
      [
        ['first', 'Completed', 0],
        ['second', 'Completed', 0],
      ],
    );
    assert.equal(condition(p, 'Initialized'), 'True');
    let seen = '';
    for (let i = 0; i < 30 && seen === ''; i++) {
      seen = (await gw.exec('inits', 'app', ['cat', '/work/seen-by-app'])).stdout;
      if (seen === '') await sleep(100);
    }
    assert.equal(seen, 'first\nsecond\n', 'the app read what both init containers wrote, in order');
  });
});

test('probes: exec, httpGet and tcpSocket drive readiness and liveness restarts', async () => {
  await withGateway(async (gw) => {
    const quick = { periodSeconds: 1, timeoutSeconds: 1, failureThreshold: 1 };
    // Liveness starts a second late and needs two failures in a row, so a server still starting
    // up (httpd not listening yet) is not a reason to restart.
    const live = { initialDelaySeconds: 1, periodSeconds: 1, timeoutSeconds: 1, failureThreshold: 2 };
    await gw.createPod({
      metadata: { name: 'probes' },
      spec: {
        terminationGracePeriodSeconds: grace,
        containers: [
          {
            name: 'exec',
            image: 'busybox',
            command: ['sh', '-c', 'touch /tmp/alive; exec sleep 3600'],
            readinessProbe: { exec: { command: ['cat', '/tmp/ready'] }, ...quick },
            livenessProbe: { exec: { command: ['cat', '/tmp/alive'] }, ...live },
          },
          {
            name: 'http',
            image: 'busybox',
            command: ['sh', '-c', 'mkdir -p /www; echo ok > /www/healthz; exec httpd -f -p 8080 -h /www'],
            ports: [{ name: 'web', containerPort: 8080 }],
            readinessProbe: { httpGet: { path: '/ready', port: 'web' }, ...quick },
            livenessProbe: { httpGet: { path: '/healthz', port: 8080 }, ...live },
          },
          {
            name: 'tcp',
            image: 'busybox',
            command: ['sh', '-c', 'mkdir -p /www; httpd -p 9001 -h /www; exec sleep 3600'],
            readinessProbe: { tcpSocket: { port: 9002 }, ...quick },
            livenessProbe: { tcpSocket: { port: 9001 }, ...live },
          },
        ],
      },
    });
    const ready = (p: Pod, c: string) => cs(p, c)?.ready === true && cs(p, c)?.state.running !== undefined;
    // Running, alive, but nobody is ready: /tmp/ready, /ready and port 9002 are missing.
    const p0 = await gw.waitPod('probes', 'Running', (p) => (running(p) ? p : undefined));
    await sleep(2_500);
    const p1 = (await gw.getPod('probes'))!;
    for (const c of ['exec', 'http', 'tcp']) {
      assert.equal(cs(p1, c)!.ready, false, `${c} must not be ready yet`);
      assert.equal(cs(p1, c)!.restartCount, 0, `${c} is alive`);
    }
    assert.equal(condition(p1, 'Ready'), 'False');
    assert.ok(p0.status!.podIP!.startsWith('10.42.'), `pod IP ${p0.status!.podIP}`);

    // Readiness, one kind at a time.
    await gw.exec('probes', 'exec', ['touch', '/tmp/ready']);
    await gw.waitPod('probes', 'exec ready (exec probe)', (p) => (ready(p, 'exec') ? p : undefined), 10_000);
    await gw.exec('probes', 'http', ['sh', '-c', 'echo yes > /www/ready']);
    await gw.waitPod('probes', 'http ready (httpGet probe)', (p) => (ready(p, 'http') ? p : undefined), 10_000);
    assert.equal(condition((await gw.getPod('probes'))!, 'Ready'), 'False', 'tcp is not ready yet');
    await gw.exec('probes', 'tcp', ['httpd', '-p', '9002', '-h', '/www']);
    await gw.waitPod('probes', 'pod Ready (tcpSocket probe)', (p) => (condition(p, 'Ready') === 'True' && ready(p, 'tcp') ? p : undefined), 10_000);
    // and back: an exec readiness failure makes the pod unready without a restart
    await gw.exec('probes', 'exec', ['rm', '/tmp/ready']);
    const unready = await gw.waitPod('probes', 'exec unready', (p) => (cs(p, 'exec')?.ready === false ? p : undefined), 10_000);
    assert.equal(condition(unready, 'Ready'), 'False');
    assert.equal(cs(unready, 'exec')!.restartCount, 0);

    // Liveness, each kind: break it, the container is restarted.
    await gw.exec('probes', 'exec', ['rm', '/tmp/alive']);
    await gw.exec('probes', 'http', ['rm', '/www/healthz']);
    await gw.exec('probes', 'tcp', ['killall', 'httpd']);
    const restarted = await gw.waitPod(
      'probes',
      'a liveness restart of each container',
      (p) => (['exec', 'http', 'tcp'].every((c) => (cs(p, c)?.restartCount ?? 0) >= 1 && cs(p, c)?.state.running !== undefined) ? p : undefined),
      25_000,
    );
    for (const c of ['exec', 'http', 'tcp']) assert.equal(cs(restarted, c)!.restartCount, 1, `${c} restarted once`);
    const events = await gw.api('GET', '/api/v1/namespaces/default/events');
    const messages = (events.json.items as { reason: string; message: string }[]).map((e) => `${e.reason}: ${e.message}`).join('\n');
    for (const c of ['exec', 'http', 'tcp']) assert.match(messages, new RegExp(`Container ${c} failed liveness probe`), messages);
  });
});

test('graceful delete: the container gets SIGTERM, handles it, and the pod goes away', async (t) => {
  await withGateway(async (gw) => {
    const marker = join(gw.dir, 'term-marker');
    await gw.createPod({
      metadata: { name: 'graceful' },
      spec: {
        terminationGracePeriodSeconds: 30,
        volumes: [{ name: 'out', hostPath: { path: gw.dir, type: 'Directory' } }],
        containers: [
          {
            name: 'c',
            image: 'busybox',
            command: ['sh', '-c', "trap 'echo got-SIGTERM > /out/term-marker; exit 0' TERM; echo up > /out/term-marker; while :; do sleep 0.1; done"],
            volumeMounts: [{ name: 'out', mountPath: '/out' }],
          },
        ],
      },
    });
    const p = await gw.waitPod('graceful', 'Running', (x) => (running(x) ? x : undefined));
    for (let i = 0; i < 50 && !readFileSync(marker, { flag: 'a+' }).toString().includes('up'); i++) await sleep(100);
    const uid = p.metadata.uid;
    const t0 = Date.now();
    const del = await gw.deletePod('graceful');
    assert.ok(del.status === 200 || del.status === 202, `delete: HTTP ${del.status}`);
    await gw.waitGone('graceful', 25_000);
    const took = Date.now() - t0;
    t.diagnostic(`pod gone ${took} ms after the delete (grace 30 s)`);
    assert.equal(readFileSync(marker, 'utf8').trim(), 'got-SIGTERM');
    // Gone long before the 30 s grace: the container exited on SIGTERM, no SIGKILL was needed.
    assert.ok(took < 15_000, `pod gone after ${took} ms`);
    const left = gw.ctr(['containers', 'ls', '-q']).split('\n').filter((id) => id.startsWith(uid));
    assert.deepEqual(left, [], 'the pod\'s containers are removed');
    assert.deepEqual(gw.podNetns(), [], 'and its network namespace');
    // The pod's directory went too: its pinned IPC/UTS namespaces were unmounted, then removed.
    assert.equal(existsSync(join(gw.dataDir, 'pods', uid)), false, 'and its directory with the namespace pins');
  });
});

test('a configMap volume follows changes to the ConfigMap in the running pod', async () => {
  await withGateway(async (gw) => {
    const cm = (value: string) => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'settings' }, data: { greeting: value } });
    const created = await gw.api('POST', '/api/v1/namespaces/default/configmaps', cm('hello'));
    assert.equal(created.status, 201, JSON.stringify(created.json));
    await gw.createPod({
      metadata: { name: 'reader' },
      spec: {
        terminationGracePeriodSeconds: grace,
        volumes: [{ name: 'config', configMap: { name: 'settings' } }],
        containers: [{ name: 'c', image: 'busybox', command: ['sleep', '3600'], volumeMounts: [{ name: 'config', mountPath: '/config' }] }],
      },
    });
    await gw.waitPod('reader', 'Running', (x) => (running(x) ? x : undefined));
    assert.equal((await gw.exec('reader', 'c', ['cat', '/config/greeting'])).stdout, 'hello');
    const current = await gw.api('GET', '/api/v1/namespaces/default/configmaps/settings');
    const updated = await gw.api('PUT', '/api/v1/namespaces/default/configmaps/settings', { ...current.json, data: { greeting: 'bonjour' } });
    assert.equal(updated.status, 200, JSON.stringify(updated.json));
    const t0 = Date.now();
    let seen = '';
    while (Date.now() - t0 < 20_000) {
      seen = (await gw.exec('reader', 'c', ['cat', '/config/greeting'])).stdout;
      if (seen === 'bonjour') break;
      await sleep(200);
    }
    assert.equal(seen, 'bonjour', 'the running container sees the new value');
    const p = (await gw.getPod('reader'))!;
    assert.equal(cs(p, 'c')!.restartCount, 0, 'without a restart');
  });
});

test('a memory limit kills a container that allocates past it, reported as OOMKilled', async () => {
  await withGateway(async (gw) => {
    await gw.createPod({
      metadata: { name: 'hog' },
      spec: {
        restartPolicy: 'Never',
        terminationGracePeriodSeconds: grace,
        containers: [
          {
            name: 'c',
            image: 'busybox',
            resources: { limits: { memory: '16Mi' } },
            // dd's 64 MiB buffer is filled by read(): 4x the limit
            command: ['sh', '-c', 'sleep 0.5; dd if=/dev/zero of=/dev/null bs=64M count=4'],
          },
        ],
      },
    });
    const p = await gw.waitPod('hog', 'phase Failed', (x) => (x.status?.phase === 'Failed' ? x : undefined));
    const term = cs(p, 'c')!.state.terminated!;
    assert.equal(term.reason, 'OOMKilled', JSON.stringify(term));
    assert.equal(term.exitCode, 137);
  });
});
