// The agent end to end over a real in-process store, with fake runtime, network and clock:
// create → Running, crash → restart and CrashLoopBackOff timing, init containers in order,
// probes, graceful delete, cleanup of pods gone while the agent was down, adoption after a
// restart, a reboot, offline status writes, volumes, bad input.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { LABEL_POD_UID } from '../../src/agent/ports.ts';
import { findResource } from '../../src/model/index.ts';
import { condition, configMapsInfo, containerStatus, eventsInfo, NODE, nodesInfo, phaseOf, podsInfo, startHarness, type Harness } from './harness.ts';

async function withHarness(fn: (h: Harness) => Promise<void>, options: { startAgent?: boolean } = {}): Promise<void> {
  const h = await startHarness(options);
  try {
    await fn(h);
  } finally {
    await h.close();
  }
}

const busybox = (name: string, extra: Record<string, unknown> = {}) => ({ name, image: 'busybox', ...extra });

async function running(h: Harness, name: string): Promise<void> {
  await h.until(`pod ${name} Running`, async () => phaseOf(await h.pod(name)) === 'Running');
}

describe('agent: pods come up', () => {
  it('registers its Node with capacity, allocatable and nodeInfo', () =>
    withHarness(async (h) => {
      await h.until('the node', async () => (await h.api.get(nodesInfo, undefined, NODE))?.['status'] !== undefined && Object.keys((await h.api.get(nodesInfo, undefined, NODE))!['status'] as object).length > 0);
      const node = (await h.api.get(nodesInfo, undefined, NODE))!;
      const status = node['status'] as any; // eslint-disable-line @typescript-eslint/no-explicit-any
      assert.equal(status.capacity.cpu, '4');
      assert.equal(status.allocatable.cpu, '3500m');
      assert.equal(status.allocatable.memory, `${3 * 1024 * 1024}Ki`);
      assert.match(status.nodeInfo.kubeletVersion, /^v1\.29\.0-bramble\./);
      assert.equal(status.nodeInfo.containerRuntimeVersion, 'containerd://1.6.20');
      assert.deepEqual(status.addresses[0], { type: 'InternalIP', address: '192.168.1.5' });
      assert.equal(status.conditions[0].type, 'Ready');
      assert.deepEqual((node['spec'] as { podCIDR: string }).podCIDR, '10.42.0.0/24');
    }));

  it('runs a pod: network, pinned IPC/UTS namespaces, one container start with env, mounts, limits; status Running with podIP', () =>
    withHarness(async (h) => {
      await h.test.resources.api.create(configMapsInfo, 'default', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'cfg' }, data: { GREETING: 'hello', 'app.conf': 'x=1' } }, { dryRun: false });
      const pod = await h.createPod('web', {
        containers: [
          busybox('app', {
            command: ['sh', '-c'],
            args: ['echo $(GREETING) $(POD_IP)'],
            env: [
              { name: 'GREETING', valueFrom: { configMapKeyRef: { name: 'cfg', key: 'GREETING' } } },
              { name: 'POD_IP', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } },
            ],
            workingDir: '/tmp',
            ports: [{ containerPort: 80, hostPort: 8080 }],
            resources: { limits: { memory: '64Mi', cpu: '500m' } },
            volumeMounts: [
              { name: 'conf', mountPath: '/etc/app', readOnly: true },
              { name: 'scratch', mountPath: '/scratch' },
            ],
          }),
        ],
        volumes: [
          { name: 'conf', configMap: { name: 'cfg' } },
          { name: 'scratch', emptyDir: {} },
        ],
      });
      const uid = pod.metadata.uid!;
      await running(h, 'web');
      const stored = (await h.pod('web'))!;
      const status = stored['status'] as any; // eslint-disable-line @typescript-eslint/no-explicit-any
      assert.equal(status.podIP, '10.42.0.2');
      assert.equal(status.hostIP, '192.168.1.5');
      assert.equal(condition(stored, 'Ready'), 'True');
      assert.equal(condition(stored, 'PodScheduled'), 'True');
      assert.equal(status.qosClass, 'Guaranteed');
      const cs = containerStatus(stored, 'app');
      assert.equal(cs.ready, true);
      assert.equal(cs.restartCount, 0);
      assert.equal(cs.image, 'docker.io/library/busybox:latest');
      assert.equal(cs.containerID, `containerd://${uid}_app`);
      assert.ok(cs.state.running.startedAt);

      assert.deepEqual(h.network.attached.get(uid)!.ports, [{ hostPort: 8080, containerPort: 80, protocol: 'tcp' }]);
      const run = h.runtime.calls.find((c) => c.op === 'runContainer')!;
      assert.ok(run.op === 'runContainer');
      const req = run.request;
      assert.deepEqual(req.argv, ['sh', '-c', 'echo hello 10.42.0.2']);
      assert.equal(req.env['GREETING'], 'hello');
      assert.equal(req.workingDir, '/tmp');
      assert.equal(req.memoryLimitBytes, 64 * 2 ** 20);
      assert.equal(req.cpuLimitCores, 0.5);
      assert.equal(req.labels[LABEL_POD_UID], uid);
      // One container start per pod: it joins the netns and the pinned IPC/UTS namespaces by path.
      const pins = join(h.dataDir, 'pods', uid, 'ns');
      assert.deepEqual(req.namespaces, { network: `/run/netns/fake-${uid}`, ipc: join(pins, 'ipc'), uts: join(pins, 'uts') });
      assert.deepEqual(h.namespaces.pinned.get(pins), { hostname: 'web', serial: 0 });
      assert.equal(h.runtime.count('runSandbox'), 0, 'no sandbox container without shareProcessNamespace');
      const byDest = Object.fromEntries(req.mounts.map((m) => [m.destination, m]));
      assert.equal(readFileSync(byDest['/etc/app']!.source + '/app.conf', 'utf8'), 'x=1');
      assert.equal(byDest['/etc/app']!.readOnly, true);
      assert.match(readFileSync(byDest['/etc/hosts']!.source, 'utf8'), /10\.42\.0\.2\tweb\n/);
      assert.match(readFileSync(byDest['/etc/resolv.conf']!.source, 'utf8'), /^search default\.svc\.cluster\.local svc\.cluster\.local cluster\.local\nnameserver 10\.43\.0\.10\noptions ndots:5\n$/);
      assert.equal(readFileSync(byDest['/etc/hostname']!.source, 'utf8'), 'web\n');
      assert.ok(existsSync(byDest['/scratch']!.source));

      // One reconcile brought it up: the watch event of its own status write is no news.
      assert.equal(h.network.podPids.length, 1, 'one reconcile (network setUp) so far');
      // Nothing changes: no more status writes however often the pod is reconciled.
      const writes = h.statusWrites;
      await h.agent.resync();
      await h.clock.advance(60_000);
      await h.agent.idle();
      assert.equal(h.statusWrites, writes);
    }));

  it('follows a change of the gateway address: status.hostIP, and a hostNetwork pod\'s IP, after a resync', () =>
    withHarness(
      async (h) => {
        const facts = { cpuCores: 4, memoryBytes: 4 * 2 ** 30, hostIP: '192.168.1.5', osImage: 'Debian', kernelVersion: '6.1.0', architecture: 'arm64' };
        const agent = await h.startAgent({ facts });
        await h.createPod('plain', { containers: [busybox('app')] });
        await h.createPod('host', { hostNetwork: true, containers: [busybox('app')] });
        await running(h, 'plain');
        await running(h, 'host');
        const status = async (name: string) => (await h.pod(name))!['status'] as { hostIP: string; podIP: string };
        assert.equal((await status('host')).podIP, '192.168.1.5');
        facts.hostIP = '192.168.9.70';
        await agent.resync();
        await h.until('the new address in both statuses', async () => (await status('plain')).hostIP === '192.168.9.70' && (await status('host')).hostIP === '192.168.9.70');
        assert.equal((await status('plain')).podIP, '10.42.0.2');
        assert.equal((await status('host')).podIP, '192.168.9.70');
      },
      { startAgent: false },
    ));

  it('runs init containers one at a time, in order, before the app containers', () =>
    withHarness(async (h) => {
      const pod = await h.createPod('init', { initContainers: [busybox('one'), busybox('two')], containers: [busybox('app')] });
      const uid = pod.metadata.uid!;
      await h.until('init one started', () => h.runtime.find(uid, 'one')?.state === 'running');
      assert.equal(h.runtime.find(uid, 'two'), undefined);
      assert.equal(phaseOf(await h.pod('init')), 'Pending');
      h.runtime.exit(uid, 'one', 0);
      await h.until('init two started', () => h.runtime.find(uid, 'two')?.state === 'running');
      assert.equal(h.runtime.find(uid, 'app'), undefined);
      h.runtime.exit(uid, 'two', 0);
      await running(h, 'init');
      const stored = await h.pod('init');
      assert.equal(condition(stored, 'Initialized'), 'True');
      assert.equal(containerStatus(stored, 'one', true).state.terminated.reason, 'Completed');
    }));

  it('fails a pod whose init container fails under restartPolicy Never', () =>
    withHarness(async (h) => {
      const pod = await h.createPod('initfail', { restartPolicy: 'Never', initContainers: [busybox('one')], containers: [busybox('app')] });
      const uid = pod.metadata.uid!;
      await h.until('init started', () => h.runtime.find(uid, 'one')?.state === 'running');
      h.runtime.exit(uid, 'one', 3);
      await h.until('Failed', async () => phaseOf(await h.pod('initfail')) === 'Failed');
      assert.equal(containerStatus(await h.pod('initfail'), 'one', true).state.terminated.exitCode, 3);
      assert.equal(h.runtime.find(uid, 'app'), undefined);
    }));
});

describe('agent: restarts', () => {
  it('restarts a crashed container at once, then backs off 10 s, 20 s (CrashLoopBackOff)', () =>
    withHarness(async (h) => {
      const pod = await h.createPod('crash', { containers: [busybox('c')] });
      const uid = pod.metadata.uid!;
      await running(h, 'crash');
      const starts = () => h.runtime.count('runContainer', `${uid}_c`);
      h.runtime.exit(uid, 'c', 1);
      await h.until('first restart', async () => starts() === 2 && containerStatus(await h.pod('crash'), 'c')?.restartCount === 1);
      const afterFirst = containerStatus(await h.pod('crash'), 'c');
      assert.equal(afterFirst.lastState.terminated.exitCode, 1);
      assert.equal(afterFirst.lastState.terminated.reason, 'Error');

      h.runtime.exit(uid, 'c', 1);
      await h.until('CrashLoopBackOff', async () => containerStatus(await h.pod('crash'), 'c')?.state.waiting?.reason === 'CrashLoopBackOff');
      assert.match(containerStatus(await h.pod('crash'), 'c').state.waiting.message, /back-off 10s restarting failed container=c/);
      assert.equal(phaseOf(await h.pod('crash')), 'Running');
      await h.clock.advance(9000);
      await h.agent.idle();
      assert.equal(starts(), 2, 'still backing off after 9 s');
      await h.clock.advance(1500);
      await h.until('second restart', async () => starts() === 3 && containerStatus(await h.pod('crash'), 'c')?.restartCount === 2);

      h.runtime.exit(uid, 'c', 1);
      await h.until('back-off 20s', async () => /back-off 20s/.test(containerStatus(await h.pod('crash'), 'c')?.state.waiting?.message ?? ''));
      await h.clock.advance(19_000);
      await h.agent.idle();
      assert.equal(starts(), 3);
      await h.clock.advance(1500);
      await h.until('third restart', () => starts() === 4);
      const events = await h.api.list(eventsInfo, 'default');
      assert.ok(events.items.some((e) => e['reason'] === 'BackOff'), 'a BackOff event');
    }));

  it('follows restartPolicy OnFailure and Never, and reports OOMKilled', () =>
    withHarness(async (h) => {
      const ok = await h.createPod('onfailure-ok', { restartPolicy: 'OnFailure', containers: [busybox('c')] });
      const never = await h.createPod('never', { restartPolicy: 'Never', containers: [busybox('c')] });
      const oom = await h.createPod('oom', { restartPolicy: 'Never', containers: [busybox('c')] });
      await running(h, 'onfailure-ok');
      await running(h, 'never');
      await running(h, 'oom');
      h.runtime.exit(ok.metadata.uid!, 'c', 0);
      h.runtime.exit(never.metadata.uid!, 'c', 2);
      h.runtime.exit(oom.metadata.uid!, 'c', 137, true);
      await h.until('Succeeded', async () => phaseOf(await h.pod('onfailure-ok')) === 'Succeeded');
      await h.until('Failed', async () => phaseOf(await h.pod('never')) === 'Failed');
      await h.until('OOMKilled', async () => containerStatus(await h.pod('oom'), 'c')?.state.terminated?.reason === 'OOMKilled');
      assert.equal(h.runtime.count('runContainer', `${never.metadata.uid}_c`), 1, 'Never: not restarted');
      // A finished pod gives its address back and stops its sandbox.
      await h.until('network torn down', () => h.network.tornDown.includes(never.metadata.uid!));
      assert.equal(condition(await h.pod('never'), 'Ready'), 'False');
    }));

  it('restarts on liveness failure and drives Ready from readiness', () =>
    withHarness(async (h) => {
      let healthy = true;
      h.runtime.execHandler = () => ({ exitCode: healthy ? 0 : 1, stdout: '', stderr: healthy ? '' : 'unhealthy' });
      h.prober.answers.set(8080, false);
      const pod = await h.createPod('probed', {
        containers: [
          busybox('c', {
            ports: [{ name: 'http', containerPort: 8080 }],
            livenessProbe: { exec: { command: ['cat', '/tmp/healthy'] }, periodSeconds: 5, failureThreshold: 2 },
            readinessProbe: { httpGet: { path: '/ready', port: 'http' }, periodSeconds: 5 },
          }),
        ],
      });
      const uid = pod.metadata.uid!;
      await running(h, 'probed');
      assert.equal(condition(await h.pod('probed'), 'Ready'), 'False', 'not ready before the readiness probe passes');
      h.prober.answers.set(8080, true);
      await h.clock.advance(5000);
      await h.until('Ready', async () => condition(await h.pod('probed'), 'Ready') === 'True');
      assert.deepEqual(h.prober.calls.at(-1), { kind: 'http', host: '10.42.0.2', port: 8080 });

      healthy = false;
      await h.clock.advance(5000);
      await h.clock.advance(5000);
      await h.until('restarted after liveness failure', async () => containerStatus(await h.pod('probed'), 'c')?.restartCount === 1);
      assert.ok(h.runtime.calls.some((c) => c.op === 'stop' && c.id === `${uid}_c` && c.graceSeconds === 30));
      const events = await h.api.list(eventsInfo, 'default');
      assert.ok(events.items.some((e) => e['reason'] === 'Unhealthy' && /Liveness probe failed/.test(String(e['message']))));
      assert.ok(events.items.some((e) => e['reason'] === 'Killing' && /failed liveness probe/.test(String(e['message']))));
    }));
});

describe('agent: deletion and cleanup', () => {
  it('deletes gracefully: SIGTERM with the grace, then teardown, then the pod is removed', () =>
    withHarness(async (h) => {
      const pod = await h.createPod('bye', { terminationGracePeriodSeconds: 7, containers: [busybox('c')] });
      const uid = pod.metadata.uid!;
      await running(h, 'bye');
      await h.until('node registered', async () => (await h.api.get(nodesInfo, undefined, NODE)) !== undefined);
      const answer = await h.test.call('DELETE', '/api/v1/namespaces/default/pods/bye');
      assert.equal(answer.status, 202, 'a pod on a node with an agent is deleted gracefully');
      await h.until('pod removed', async () => (await h.pod('bye')) === undefined);
      assert.ok(h.runtime.calls.some((c) => c.op === 'stop' && c.id === `${uid}_c` && c.graceSeconds === 7));
      assert.equal([...h.runtime.containers.keys()].length, 0);
      assert.ok(h.network.tornDown.includes(uid));
      assert.ok(h.logs.removed.includes(uid));
      assert.equal(h.namespaces.pinned.size, 0, 'the IPC/UTS pins are released');
      assert.equal(existsSync(join(h.dataDir, 'pods', uid)), false);
    }));

  it('cleans up on start after a pod was deleted while the agent was down, and removes unowned containers', () =>
    withHarness(
      async (h) => {
        // What a previous run left: a sandbox and container of a pod that no longer exists, its
        // network and directory, and a container with no pod labels at all.
        const uid = 'gone-uid';
        const ns = { network: '/x/net', ipc: '/x/ipc', uts: '/x/uts' };
        await h.runtime.runSandbox({ id: `${uid}.sandbox`, netnsPath: '/x', pinned: ns, hostname: 'gone', labels: { [LABEL_POD_UID]: uid, 'io.bramble.pod.namespace': 'default', 'io.bramble.pod.name': 'gone', 'io.bramble.sandbox': 'true' } });
        await h.runtime.runContainer({ id: `${uid}_c`, image: 'i', argv: [], env: {}, mounts: [], namespaces: ns, logPath: '/x', labels: { [LABEL_POD_UID]: uid, 'io.bramble.pod.namespace': 'default', 'io.bramble.pod.name': 'gone', 'io.bramble.container.name': 'c' } });
        await h.runtime.runContainer({ id: 'stray', image: 'i', argv: [], env: {}, mounts: [], namespaces: ns, logPath: '/x', labels: {} });
        await h.network.setUp({ uid, namespace: 'default', name: 'gone' }, []);
        const pins = join(h.dataDir, 'pods', uid, 'ns');
        await h.namespaces.pin(pins, { hostname: 'gone' });
        mkdirSync(join(h.dataDir, 'pods', 'other-gone'), { recursive: true });
        await h.startAgent();
        await h.until('cleaned up', () => h.runtime.containers.size === 0 && h.network.attached.size === 0 && !existsSync(join(h.dataDir, 'pods', 'other-gone')));
        assert.ok(h.runtime.calls.some((c) => c.op === 'stop' && c.id === `${uid}_c`));
        assert.ok(h.namespaces.released.includes(pins) && !h.namespaces.pinned.has(pins), 'the pins of a gone pod are released');
      },
      { startAgent: false },
    ));
});

describe('agent: pods the leader evicted while this gateway was cut off', () => {
  it('a bare pod the leader marked Failed (NodeLost) is stopped, not restarted, and its status left as the leader wrote it', () =>
    withHarness(async (h) => {
      const pod = await h.createPod('lost', { terminationGracePeriodSeconds: 3, containers: [busybox('c'), busybox('d')] });
      const uid = pod.metadata.uid!;
      await running(h, 'lost');
      const runs = h.runtime.count('runContainer');
      const current = (await h.pod('lost'))!;
      // What the leader's node lifecycle controller writes for a bare pod on a lost node.
      const evicted = { ...(current['status'] as Record<string, unknown>), phase: 'Failed', reason: 'NodeLost', message: `Node ${NODE} which was running pod lost is unresponsive` };
      await h.api.replaceStatus(podsInfo, 'default', 'lost', uid, evicted);
      await h.until('containers stopped', () => ['c', 'd'].every((name) => h.runtime.find(uid, name)?.state === 'exited'));
      assert.ok(h.runtime.calls.some((c) => c.op === 'stop' && c.id === `${uid}_c` && c.graceSeconds === 3));
      // Their exits, a resync and time passing restart nothing and write nothing.
      const writes = h.statusWrites;
      await h.agent.resync();
      await h.clock.advance(120_000);
      await h.agent.idle();
      assert.equal(h.runtime.count('runContainer'), runs, 'no container started again');
      assert.equal(h.statusWrites, writes, 'the status is the leader\'s');
      const after = (await h.pod('lost'))!['status'] as Record<string, unknown>;
      assert.equal(after['phase'], 'Failed');
      assert.equal(after['reason'], 'NodeLost');
      assert.ok(h.network.tornDown.includes(uid), 'its address is given back');
      assert.equal(h.namespaces.pinned.size, 0, 'its IPC/UTS pins are released');
    }));

  it('after an agent restart (the gateway rebooted while cut off) a Failed pod\'s running containers are stopped too', () =>
    withHarness(async (h) => {
      const pod = await h.createPod('lost2', { containers: [busybox('c')] });
      const uid = pod.metadata.uid!;
      await running(h, 'lost2');
      await h.agent.stop();
      const current = (await h.pod('lost2'))!;
      await h.api.replaceStatus(podsInfo, 'default', 'lost2', uid, { ...(current['status'] as Record<string, unknown>), phase: 'Failed', reason: 'NodeLost' });
      const runs = h.runtime.count('runContainer');
      await h.startAgent();
      await h.until('container stopped', () => h.runtime.find(uid, 'c')?.state === 'exited');
      await h.clock.advance(60_000);
      await h.agent.idle();
      assert.equal(h.runtime.count('runContainer'), runs);
      assert.equal(((await h.pod('lost2'))!['status'] as { reason?: string }).reason, 'NodeLost');
    }));

  it('a pod the leader deletes (deletionTimestamp) while the gateway was away is stopped and removed when it is back', () =>
    withHarness(async (h) => {
      const pod = await h.createPod('gone', { terminationGracePeriodSeconds: 4, containers: [busybox('c')] });
      const uid = pod.metadata.uid!;
      await running(h, 'gone');
      await h.agent.stop();
      await h.until('node registered', async () => (await h.api.get(nodesInfo, undefined, NODE)) !== undefined);
      assert.equal((await h.test.call('DELETE', '/api/v1/namespaces/default/pods/gone')).status, 202);
      await h.startAgent();
      await h.until('pod removed', async () => (await h.pod('gone')) === undefined);
      assert.ok(h.runtime.calls.some((c) => c.op === 'stop' && c.id === `${uid}_c` && c.graceSeconds === 4));
      assert.equal(h.runtime.containers.size, 0);
    }));
});

describe('agent: restart, reboot, offline', () => {
  it('adopts running containers after a restart: same IDs and PIDs, no restart counted, no status write', () =>
    withHarness(async (h) => {
      const a = await h.createPod('a', { containers: [busybox('c')] });
      await h.createPod('b', { containers: [busybox('c')] });
      await running(h, 'a');
      await running(h, 'b');
      // One crash before the restart, so the count to keep is not 0.
      h.runtime.exit(a.metadata.uid!, 'c', 1);
      await h.until('a restarted', async () => containerStatus(await h.pod('a'), 'c')?.restartCount === 1 && containerStatus(await h.pod('a'), 'c')?.state.running);
      const pids = [...h.runtime.containers.values()].map((c) => `${c.id}:${c.pid}`).sort();
      const runs = h.runtime.count('runContainer');
      const sandboxes = h.runtime.count('runSandbox');
      await h.agent.stop();
      const writes = h.statusWrites;
      await h.startAgent();
      await h.agent.resync();
      await h.agent.idle();
      await h.clock.advance(1000);
      await h.agent.idle();
      assert.deepEqual([...h.runtime.containers.values()].map((c) => `${c.id}:${c.pid}`).sort(), pids);
      assert.equal(h.runtime.count('runContainer'), runs);
      assert.equal(h.runtime.count('runSandbox'), sandboxes);
      assert.equal(containerStatus(await h.pod('a'), 'c').restartCount, 1);
      assert.equal(containerStatus(await h.pod('b'), 'c').restartCount, 0);
      assert.equal(h.statusWrites, writes, 'an adopted pod whose state did not change is not written');
    }));

  it('after a reboot starts every pod again from the local replica, with the same volumes', () =>
    withHarness(async (h) => {
      const hostDir = join(h.dataDir, 'host-data');
      mkdirSync(hostDir);
      await h.createPod('p1', { containers: [busybox('c', { volumeMounts: [{ name: 'data', mountPath: '/data' }] })], volumes: [{ name: 'data', hostPath: { path: hostDir, type: 'Directory' } }] });
      await h.createPod('p2', { containers: [busybox('c')] });
      await running(h, 'p1');
      await running(h, 'p2');
      await h.agent.stop();
      h.runtime.reboot();
      h.network.attached.clear();
      h.namespaces.forgetAll();
      h.offline = true; // no peers yet after the reboot
      await h.startAgent();
      await h.until('containers running again', () => [...h.runtime.containers.values()].filter((c) => c.state === 'running').length === 2);
      assert.equal(h.namespaces.pinned.size, 2, 'new IPC/UTS pins for both pods');
      assert.ok(h.namespaces.pins.slice(-2).every((p) => p.created && p.fromPid === undefined));
      const mount = [...h.runtime.calls].reverse().find((c) => c.op === 'runContainer' && c.request.mounts.some((m) => m.destination === '/data'));
      assert.ok(mount && mount.op === 'runContainer' && mount.request.mounts.some((m) => m.source === hostDir));
      h.offline = false;
      await h.clock.advance(60_000);
      await h.until('restart counted once the cluster is back', async () => containerStatus(await h.pod('p1'), 'c')?.restartCount === 1);
    }));

  it('keeps pods running and restarting offline; writes the newest status once the cluster is back', () =>
    withHarness(async (h) => {
      const pod = await h.createPod('off', { containers: [busybox('c')] });
      const uid = pod.metadata.uid!;
      await running(h, 'off');
      h.offline = true;
      h.runtime.exit(uid, 'c', 1);
      await h.until('restarted offline', () => h.runtime.count('runContainer', `${uid}_c`) === 2);
      const refused = h.writesRefused;
      assert.ok(refused > 0, 'the status write was tried and refused');
      // No hot loop: without time passing, no more attempts.
      await new Promise((r) => setTimeout(r, 100));
      await h.agent.idle();
      assert.ok(h.writesRefused - refused <= 1, `no hot loop (${h.writesRefused - refused} more refusals)`);
      h.runtime.exit(uid, 'c', 1);
      await h.until('back-off offline', () => h.runtime.containers.get(`${uid}_c`)?.state === 'exited');
      await h.clock.advance(11_000);
      await h.until('restarted again offline', () => h.runtime.count('runContainer', `${uid}_c`) === 3);
      h.offline = false;
      await h.clock.advance(30_000);
      await h.until('newest status written', async () => containerStatus(await h.pod('off'), 'c')?.restartCount === 2 && containerStatus(await h.pod('off'), 'c')?.state.running !== undefined);
    }));
});

describe('agent: command and args over the image\'s ENTRYPOINT and CMD', () => {
  it('args alone run after the image\'s ENTRYPOINT; command replaces it; neither leaves ENTRYPOINT and CMD to the image', () =>
    withHarness(async (h) => {
      h.images.present.add('example.org/app:1');
      h.images.entrypoints.set('example.org/app:1', ['/bin/app', '--serve']);
      const image = 'example.org/app:1';
      await h.createPod('args', { containers: [{ name: 'c', image, args: ['--port', '80'] }] });
      await h.createPod('cmd', { containers: [{ name: 'c', image, command: ['/bin/other'], args: ['x'] }] });
      await h.createPod('none', { containers: [{ name: 'c', image }] });
      for (const name of ['args', 'cmd', 'none']) await running(h, name);
      const argvOf = async (name: string) => {
        const uid = (await h.pod(name))!.metadata.uid!;
        const run = h.runtime.calls.find((c) => c.op === 'runContainer' && c.id === `${uid}_c`);
        return run?.op === 'runContainer' ? run.request.argv : undefined;
      };
      assert.deepEqual(await argvOf('args'), ['/bin/app', '--serve', '--port', '80']);
      assert.deepEqual(await argvOf('cmd'), ['/bin/other', 'x']);
      assert.deepEqual(await argvOf('none'), [], 'the runtime runs the image\'s own ENTRYPOINT + CMD');
    }));
});

describe('agent: memory-backed volumes', () => {
  it('mounts a tmpfs for emptyDir medium Memory (with its sizeLimit) and for secrets, not for disk volumes; unmounts them on delete', () =>
    withHarness(async (h) => {
      await h.test.resources.api.create(findResource('', 'v1', 'secrets')!, 'default', { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'tok' }, data: { token: Buffer.from('s3cret').toString('base64') } }, { dryRun: false });
      await h.test.resources.api.create(configMapsInfo, 'default', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'cfg' }, data: { a: '1' } }, { dryRun: false });
      const pod = await h.createPod('mem', {
        containers: [busybox('c', { volumeMounts: ['fast', 'disk', 'tok', 'cfg'].map((name) => ({ name, mountPath: `/${name}` })) })],
        volumes: [
          { name: 'fast', emptyDir: { medium: 'Memory', sizeLimit: '16Mi' } },
          { name: 'disk', emptyDir: {} },
          { name: 'tok', secret: { secretName: 'tok' } },
          { name: 'cfg', configMap: { name: 'cfg' } },
        ],
      });
      const uid = pod.metadata.uid!;
      await running(h, 'mem');
      const volumes = join(h.dataDir, 'pods', uid, 'volumes');
      assert.deepEqual(
        [...h.mounts.tmpfsAt.entries()].sort(),
        [
          [join(volumes, 'empty-dir', 'fast'), { mode: 0o777, sizeBytes: 16 * 2 ** 20 }],
          [join(volumes, 'secret', 'tok'), { mode: 0o755 }],
        ].sort(),
      );
      assert.equal(readFileSync(join(volumes, 'secret', 'tok', 'token'), 'utf8'), 's3cret');
      await h.until('node registered', async () => (await h.api.get(nodesInfo, undefined, NODE)) !== undefined);
      await h.test.call('DELETE', '/api/v1/namespaces/default/pods/mem');
      await h.until('pod removed', async () => (await h.pod('mem')) === undefined);
      assert.equal(h.mounts.tmpfsAt.size, 0, 'every tmpfs unmounted before the pod directory went');
      assert.equal(h.mounts.unmounted.length, 2);
    }));
});

describe('agent: bad input and volumes', () => {
  it('gives a clear reason for a missing image, a missing configmap key, a failing command, a missing hostPath; others unaffected', () =>
    withHarness(async (h) => {
      h.runtime.startFailure = (r) => (r.argv[0] === '/no/such/binary' ? 'failed to create shim task: exec: "/no/such/binary": stat /no/such/binary: no such file or directory' : undefined);
      await h.createPod('noimage', { containers: [{ name: 'c', image: 'nginx:1.25', imagePullPolicy: 'Never' }] });
      await h.createPod('noimage2', { containers: [{ name: 'c', image: 'nginx:1.25' }] });
      await h.createPod('nokey', { containers: [busybox('c', { env: [{ name: 'X', valueFrom: { configMapKeyRef: { name: 'absent', key: 'k' } } }] })] });
      await h.createPod('nocmd', { restartPolicy: 'Never', containers: [busybox('c', { command: ['/no/such/binary'] })] });
      await h.createPod('nohost', { containers: [busybox('c')], volumes: [{ name: 'v', hostPath: { path: '/no/such/dir', type: 'Directory' } }] });
      await h.createPod('fine', { containers: [busybox('c')] });
      await running(h, 'fine');
      const waitingOf = async (name: string) => containerStatus(await h.pod(name), 'c')?.state.waiting;
      await h.until('ErrImageNeverPull', async () => (await waitingOf('noimage'))?.reason === 'ErrImageNeverPull');
      assert.match((await waitingOf('noimage')).message, /Container image "nginx:1.25" is not present with pull policy of Never/);
      await h.until('ImageNotPresent', async () => (await waitingOf('noimage2'))?.reason === 'ImageNotPresent');
      assert.match((await waitingOf('noimage2')).message, /bramble image import/);
      await h.until('CreateContainerConfigError', async () => (await waitingOf('nokey'))?.reason === 'CreateContainerConfigError');
      assert.match((await waitingOf('nokey')).message, /configmap "absent" not found/);
      await h.until('StartError', async () => containerStatus(await h.pod('nocmd'), 'c')?.state.terminated?.reason === 'StartError');
      assert.match(containerStatus(await h.pod('nocmd'), 'c').state.terminated.message, /no such file or directory/);
      assert.equal(phaseOf(await h.pod('nocmd')), 'Failed');
      await h.until('hostPath reason', async () => /hostPath volume "v" \(\/no\/such\/dir\): does not exist/.test((await waitingOf('nohost'))?.message ?? ''));
      assert.equal(phaseOf(await h.pod('fine')), 'Running');
      // The config appears: the waiting pod starts without waiting for a timer.
      await h.test.resources.api.create(configMapsInfo, 'default', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'absent' }, data: { k: 'v' } }, { dryRun: false });
      await running(h, 'nokey');
    }));

  it('updates configMap volume files when the ConfigMap changes', () =>
    withHarness(async (h) => {
      await h.test.resources.api.create(configMapsInfo, 'default', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'live' }, data: { 'a.txt': 'one' } }, { dryRun: false });
      const pod = await h.createPod('cm', { containers: [busybox('c', { volumeMounts: [{ name: 'v', mountPath: '/cfg' }] })], volumes: [{ name: 'v', configMap: { name: 'live', items: [{ key: 'a.txt', path: 'dir/a.txt', mode: 0o600 }] } }] });
      await running(h, 'cm');
      const file = join(h.dataDir, 'pods', pod.metadata.uid!, 'volumes', 'configmap', 'v', 'dir', 'a.txt');
      assert.equal(readFileSync(file, 'utf8'), 'one');
      await h.test.resources.api.update(configMapsInfo, 'default', 'live', (cur) => ({ ...cur, data: { 'a.txt': 'two' } }), { dryRun: false });
      await h.until('file updated', () => readFileSync(file, 'utf8') === 'two');
    }));
});

describe('agent: logs and exec', () => {
  it('serves logs with tailLines and exec through the runtime', () =>
    withHarness(async (h) => {
      const pod = await h.createPod('talk', { containers: [busybox('c')] });
      await running(h, 'talk');
      h.logs.append({ namespace: 'default', podName: 'talk', podUid: pod.metadata.uid!, containerName: 'c' }, 'one\ntwo\nthree\n');
      h.runtime.execHandler = (_id, argv) => ({ exitCode: 0, stdout: argv.join(' '), stderr: '' });
      let body = '';
      const out = { writeHead: () => undefined, write: (c: Buffer) => ((body += c.toString()), true), end: () => undefined, destroyed: false, once: () => out } as never;
      await h.agent.podRuntime.logs((await h.pod('talk'))!, 'c', { container: 'c', follow: false, tailLines: 2 }, out, new AbortController().signal);
      assert.equal(body, 'two\nthree\n');
      const result = await h.agent.podRuntime.exec((await h.pod('talk'))!, 'c', ['echo', 'hi'], new AbortController().signal);
      assert.deepEqual(result, { exitCode: 0, stdout: 'echo hi', stderr: '' });
    }));
});
