// The daemon dies, the pods do not: after `kill -9` the new daemon adopts the running containers
// (same IDs, same PIDs, no restarts counted), pins the pods' namespaces again from them (its
// mount namespace is a new one), and cleans up after a pod deleted while it was down.
// After a simulated reboot (containerd, every container, the pod namespaces, the bridge and the
// firewall rules gone) the daemon starts every pod bound to it again from its own replica, with
// their hostPath volumes' contents intact.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { cs, running, sleep, withGateway, type Gateway, type Pod, type TaskRow } from './gateway.ts';

const PODS = ['p0', 'p1', 'p2', 'p3', 'p4'];

async function fivePods(gw: Gateway): Promise<Map<string, Pod>> {
  for (const name of PODS) {
    const host = join(gw.dir, 'host', name);
    mkdirSync(host, { recursive: true });
    await gw.createPod({
      metadata: { name },
      spec: {
        terminationGracePeriodSeconds: 1,
        volumes: [{ name: 'data', hostPath: { path: host, type: 'Directory' } }],
        containers: [
          {
            name: 'c',
            image: 'busybox',
            command: ['sh', '-c', 'echo start >> /data/starts; exec sleep 3600'],
            volumeMounts: [{ name: 'data', mountPath: '/data' }],
            readinessProbe: { exec: { command: ['true'] }, periodSeconds: 1 },
          },
        ],
      },
    });
  }
  const pods = new Map<string, Pod>();
  for (const name of PODS) pods.set(name, await gw.waitPod(name, 'Running and Ready', (p) => (running(p) && cs(p, 'c')!.ready ? p : undefined)));
  return pods;
}

/** The pod's eth0 has its status IP and the pod reaches the gateway's bridge address. */
async function assertNetwork(gw: Gateway, name: string): Promise<void> {
  const p = (await gw.getPod(name))!;
  const addr = await gw.exec(name, 'c', ['ip', '-4', '-o', 'addr', 'show', 'dev', 'eth0']);
  assert.ok(addr.stdout.includes(`inet ${p.status!.podIP}/24`), `${name}: eth0 should have ${p.status!.podIP}: ${JSON.stringify(addr)}`);
  const ping = await gw.exec(name, 'c', ['ping', '-c1', '-W2', '10.42.0.1']);
  assert.equal(ping.exitCode, 0, `${name}: ping of the gateway: ${JSON.stringify(ping)}`);
}

const tasksOf = (tasks: Map<string, TaskRow>, uid: string) => [...tasks.values()].filter((t) => t.id.startsWith(uid)).sort((a, b) => a.id.localeCompare(b.id));

test('kill -9 of the daemon: the same containers and PIDs are adopted, no restarts; a pod deleted meanwhile is cleaned up', async () => {
  await withGateway(async (gw) => {
    const before = await fivePods(gw);
    const tasksBefore = gw.tasks();
    assert.equal(tasksBefore.size, 5, 'one container per pod, no sandbox');

    await gw.kill9();
    await gw.start();
    await sleep(3_000); // reconciles, probes and a status write if anything had changed
    const tasksAfter = gw.tasks();
    assert.deepEqual([...tasksAfter.values()].sort((a, b) => a.id.localeCompare(b.id)), [...tasksBefore.values()].sort((a, b) => a.id.localeCompare(b.id)), 'same task IDs, PIDs, all RUNNING');
    for (const name of PODS) {
      const p = (await gw.getPod(name))!;
      const was = before.get(name)!;
      assert.equal(p.status!.phase, 'Running');
      assert.equal(cs(p, 'c')!.restartCount, 0, `${name}: no restart counted`);
      assert.equal(cs(p, 'c')!.containerID, cs(was, 'c')!.containerID);
      assert.equal(cs(p, 'c')!.state.running!.startedAt, cs(was, 'c')!.state.running!.startedAt);
      assert.equal(cs(p, 'c')!.ready, true, `${name} stays ready`);
      assert.equal(p.status!.podIP, was.status!.podIP);
    }
    // the new daemon's containerd talks to the old shims
    assert.equal((await gw.exec('p0', 'c', ['cat', '/data/starts'])).stdout, 'start\n');
    // A container that dies after the restart starts again in the pod's own namespaces, which the
    // new daemon pinned from it (its predecessor's pins are not visible in its mount namespace):
    // same IP with eth0 there, same IPC and UTS namespaces, the pod's hostname.
    const p3 = before.get('p3')!;
    const p3task = tasksOf(gw.tasks(), p3.metadata.uid)[0]!;
    const nsOf = (pid: number) => ['net', 'ipc', 'uts'].map((kind) => readlinkSync(`/proc/${pid}/ns/${kind}`));
    const namespacesBefore = nsOf(p3task.pid);
    gw.ctr(['tasks', 'kill', '-s', 'KILL', p3task.id]);
    const p3again = await gw.waitPod('p3', 'restarted', (p) => (running(p) && cs(p, 'c')!.restartCount === 1 ? p : undefined));
    assert.equal(p3again.status!.podIP, p3.status!.podIP, 'p3 keeps its address');
    await assertNetwork(gw, 'p3');
    const p3new = tasksOf(gw.tasks(), p3.metadata.uid)[0]!;
    assert.notEqual(p3new.pid, p3task.pid);
    assert.deepEqual(nsOf(p3new.pid), namespacesBefore, 'the same network, IPC and UTS namespaces');
    assert.equal((await gw.exec('p3', 'c', ['hostname'])).stdout, 'p3\n');

    // p4 is force-deleted while the agent is down (the API alone is up, as another member's
    // would be in a cluster), then the agent comes back.
    const p4 = before.get('p4')!.metadata.uid;
    await gw.kill9();
    await gw.start(['--disable-agent']);
    const del = await gw.deletePod('p4', { gracePeriodSeconds: 0 });
    assert.equal(del.status, 200, JSON.stringify(del.json));
    assert.equal(await gw.getPod('p4'), undefined, 'gone from the API at once');
    assert.equal(tasksOf(gw.tasks(), p4).length, 1, 'its container still runs while no agent looks');
    await gw.stop();
    await gw.start();
    const t0 = Date.now();
    for (;;) {
      const left = gw.ctr(['containers', 'ls', '-q']).split('\n').filter((id) => id.startsWith(p4));
      const netnsLeft = gw.podNetns().filter((n) => n.endsWith(p4.replace(/-/g, '').slice(0, 12)));
      const dirLeft = existsSync(join(gw.dataDir, 'pods', p4));
      if (left.length === 0 && netnsLeft.length === 0 && !dirLeft) break;
      if (Date.now() - t0 > 20_000) assert.fail(`p4's containers [${left.join(', ')}], network namespace [${netnsLeft.join(', ')}] or directory with its pins (${dirLeft}) still there 20 s after the agent came back`);
      await sleep(200);
    }
    // its veth left the gateway's bridge: one per remaining pod
    const veths = execFileSync('ip', ['-n', gw.ns, '-o', 'link', 'show', 'master', 'bramble0'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).split('\n').filter(Boolean);
    assert.equal(veths.length, 4, `veths on bramble0:\n${veths.join('\n')}`);
    // and the other three were left alone
    const now = gw.tasks();
    for (const name of PODS.slice(0, 3)) {
      const uid = before.get(name)!.metadata.uid;
      assert.deepEqual(tasksOf(now, uid), tasksOf(tasksBefore, uid), `${name} untouched`);
    }
  });
});

test('simulated reboot: every pod runs again from the local replica, hostPath contents intact', async () => {
  await withGateway(async (gw) => {
    const before = await fivePods(gw);
    for (const name of PODS) {
      const r = await gw.exec(name, 'c', ['sh', '-c', `echo kept-${name} > /data/marker`]);
      assert.equal(r.exitCode, 0);
    }
    const pidsBefore = new Set([...gw.tasks().values()].map((t) => t.pid));

    await gw.simulateReboot();
    assert.deepEqual(gw.podNetns(), [], 'the pod namespaces are gone');
    const t0 = Date.now();
    await gw.start();
    const after = new Map<string, Pod>();
    await Promise.all(
      PODS.map(async (name) => {
        // The stored status said Running before the reboot: wait for the agent's new status
        // (starting again counts as a restart) and for a new process of the pod's container.
        const uid = before.get(name)!.metadata.uid;
        const fresh = () => {
          const mine = tasksOf(gw.tasks(), uid);
          return mine.length === 1 && mine.every((t) => t.status === 'RUNNING' && !pidsBefore.has(t.pid));
        };
        after.set(name, await gw.waitPod(name, 'Running again', (p) => (running(p) && cs(p, 'c')!.restartCount === 1 && fresh() ? p : undefined), 30_000));
      }),
    );
    const millis = Date.now() - t0;
    console.log(`reboot recovery: ${PODS.length} pods running again in ${millis} ms (daemon start included)`);

    const tasks = gw.tasks();
    assert.equal(tasks.size, 5, 'a new container per pod');
    for (const t of tasks.values()) {
      assert.equal(t.status, 'RUNNING', t.id);
      assert.ok(!pidsBefore.has(t.pid), `${t.id} is a new process`);
    }
    for (const name of PODS) {
      const r = await gw.exec(name, 'c', ['cat', '/data/marker', '/data/starts']);
      assert.equal(r.stdout, `kept-${name}\nstart\nstart\n`, `${name}: the hostPath kept what was written before the reboot`);
      assert.equal((await gw.exec(name, 'c', ['hostname'])).stdout, `${name}\n`, `${name}: the hostname in its new UTS namespace`);
      assert.ok(after.get(name)!.status!.podIP!.startsWith('10.42.0.'), `${name}: pod IP ${after.get(name)!.status!.podIP}`);
      assert.equal(after.get(name)!.metadata.uid, before.get(name)!.metadata.uid);
      await assertNetwork(gw, name);
    }
    assert.equal(gw.podNetns().length, PODS.length, 'a new network namespace per pod');
  });
});
