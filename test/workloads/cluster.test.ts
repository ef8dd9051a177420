// Issue 6 for real: several `bramble server` processes WITH their node agents, each gateway in
// its own network namespace on a shared bridge, zone-labelled; Deployments spread, scale, roll,
// fail over when a gateway is cut off, heal to exactly `replicas`, and survive the leader's death.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ClusterLab, LabGateway } from '../helpers/cluster-lab.ts';
import { eventually, withClusterLab } from '../helpers/cluster-lab.ts';
import { sleep } from '../pods/gateway.ts';

// Short timings so the failover scenarios fit in a test run (defaults: 1 s, 5 s, 20 s).
const TIMING = ['--heartbeat-interval', '500ms', '--node-grace', '3s', '--eviction-timeout', '4s'];

type Pod = { metadata: { name: string; uid: string; deletionTimestamp?: string; labels?: Record<string, string> }; spec: { nodeName?: string }; status?: { phase?: string; conditions?: { type: string; status: string }[] } };

function deployment(name: string, replicas: number, extra: Record<string, unknown> = {}, command = ['sleep', '3600']) {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name },
    spec: {
      replicas,
      selector: { matchLabels: { app: name } },
      ...extra,
      template: {
        metadata: { labels: { app: name } },
        spec: { terminationGracePeriodSeconds: 1, containers: [{ name: 'c', image: 'busybox', command }] },
      },
    },
  };
}

async function pods(gw: LabGateway, app: string): Promise<Pod[]> {
  const r = await gw.api('GET', `/api/v1/namespaces/default/pods?labelSelector=app%3D${app}`);
  if (r.status !== 200) throw new Error(`list pods: HTTP ${r.status}`);
  return r.json.items as Pod[];
}

const live = (p: Pod) => !p.metadata.deletionTimestamp;
const ready = (p: Pod) => live(p) && p.status?.phase === 'Running' && p.status.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') === true;

/** Ready pods per gateway, in gateway order. */
async function spread(lab: ClusterLab, app: string, via = 0): Promise<number[]> {
  const list = await pods(lab.gateways[via]!, app);
  return lab.gateways.map((g) => list.filter((p) => ready(p) && p.spec.nodeName === g.name).length);
}

async function describeApp(lab: ClusterLab, app: string, via = 0): Promise<string> {
  const list = await pods(lab.gateways[via]!, app).catch(() => [] as Pod[]);
  return list.map((p) => `${p.metadata.name}@${p.spec.nodeName ?? '-'}:${p.status?.phase ?? '?'}${p.metadata.deletionTimestamp ? '(deleting)' : ''}`).join(' ');
}

async function scale(gw: LabGateway, name: string, replicas: number): Promise<void> {
  const r = gw.cli(['scale', `deploy/${name}`, `--replicas=${replicas}`]);
  assert.equal(r.code, 0, r.stderr);
}

describe('a cluster that runs itself (3 gateways in 3 zones)', { concurrency: false }, () => {
  it('spreads a Deployment 2/2/2, scales to 9 and back to 3 keeping the spread, rolls an update without dropping below replicas - maxUnavailable, and explains a pod that fits nowhere', async () => {
    await withClusterLab({ zones: ['z1', 'z2', 'z3'], extra: TIMING }, async (lab) => {
      const [g1] = lab.gateways as [LabGateway, LabGateway, LabGateway];
      await lab.apply([deployment('spread', 6)]);
      await eventually('6 pods spread 2/2/2', async () => ((await spread(lab, 'spread')).join() === '2,2,2' ? true : undefined), 90_000, () => describeApp(lab, 'spread'));
      await scale(g1, 'spread', 9);
      await eventually('9 pods spread 3/3/3', async () => ((await spread(lab, 'spread')).join() === '3,3,3' ? true : undefined), 90_000, () => describeApp(lab, 'spread'));
      await scale(g1, 'spread', 3);
      await eventually('3 pods spread 1/1/1, nothing left terminating', async () => {
        const all = await pods(g1, 'spread');
        return (await spread(lab, 'spread')).join() === '1,1,1' && all.length === 3 ? true : undefined;
      }, 90_000, () => describeApp(lab, 'spread'));

      // A rolling update: watch the ready count all along.
      const r = await g1.api('PATCH', '/apis/apps/v1/namespaces/default/deployments/spread', {
        spec: {
          strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 1 } },
          template: { spec: { containers: [{ name: 'c', image: 'busybox', command: ['sleep', '3601'] }] } },
        },
      }, 'application/merge-patch+json');
      assert.equal(r.status, 200, JSON.stringify(r.json));
      let lowest = Infinity;
      await eventually('the rollout to finish', async () => {
        const list = await pods(g1, 'spread');
        lowest = Math.min(lowest, list.filter(ready).length);
        const d = (await g1.api('GET', '/apis/apps/v1/namespaces/default/deployments/spread')).json;
        const done = d.status?.updatedReplicas === 3 && d.status?.readyReplicas === 3 && d.status?.replicas === 3 && d.status?.observedGeneration >= d.metadata.generation;
        return done && list.filter(live).length === 3 ? true : undefined;
      }, 120_000, () => describeApp(lab, 'spread'));
      assert.ok(lowest >= 2, `ready pods dropped to ${lowest} during the rollout (replicas 3, maxUnavailable 1)`);
      const status = g1.cli(['rollout', 'status', 'deploy/spread', '--timeout=10s']);
      assert.equal(status.code, 0, status.stderr);
      assert.match(status.stdout, /successfully rolled out/);

      // A pod that fits nowhere: the scheduler says why, per node.
      const big = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'huge' }, spec: { containers: [{ name: 'c', image: 'busybox', command: ['sleep', '1'], resources: { requests: { memory: '900Ti' } } }] } };
      assert.equal((await g1.api('POST', '/api/v1/namespaces/default/pods', big)).status, 201);
      const message = await eventually('a FailedScheduling event for the huge pod', async () => {
        const events = (await g1.api('GET', '/api/v1/namespaces/default/events')).json.items as { reason: string; message: string; involvedObject: { name: string } }[];
        return events.find((e) => e.reason === 'FailedScheduling' && e.involvedObject.name === 'huge')?.message;
      }, 30_000);
      assert.match(message, /^0\/3 nodes are available: 3 Insufficient memory/);
      const huge = (await g1.api('GET', '/api/v1/namespaces/default/pods/huge')).json as Pod;
      assert.equal(huge.spec.nodeName, undefined);
      assert.equal(huge.status?.conditions?.find((c) => c.type === 'PodScheduled')?.status, 'False');
    });
  });

  it('replaces the pods of a gateway cut off, keeps them running there meanwhile, heals to exactly replicas; a reboot while cut off brings its pods back without quorum; the leader\'s death loses no replica for long', async () => {
    await withClusterLab({ zones: ['z1', 'z2', 'z3'], extra: TIMING }, async (lab) => {
      const [g1, g2, g3] = lab.gateways as [LabGateway, LabGateway, LabGateway];
      await lab.apply([deployment('keep', 6)]);
      await eventually('6 pods spread 2/2/2', async () => ((await spread(lab, 'keep')).join() === '2,2,2' ? true : undefined), 90_000, () => describeApp(lab, 'keep'));
      const onG3 = g3.runningTasks().length;
      assert.ok(onG3 >= 2, `g3 runs ${onG3} tasks`);

      // Cut g3 off: within grace + eviction (+ slack) 6 ready pods on g1 and g2.
      g3.linkDown();
      const cutAt = Date.now();
      await eventually('6 ready pods on g1 and g2', async () => {
        const [a, b] = await spread(lab, 'keep');
        return a! + b! >= 6 ? true : undefined;
      }, 3_000 + 4_000 + 30_000, () => describeApp(lab, 'keep'));
      const replacedIn = Date.now() - cutAt;
      // edge autonomy: g3 kept its pods running meanwhile
      assert.ok(g3.runningTasks().length >= 2, 'the cut-off gateway stopped its pods');

      // Heal: g3 stops the replaced pods; exactly 6 pods remain, none terminating.
      g3.linkUp();
      await eventually('exactly 6 pods after heal, none left on g3', async () => {
        const list = await pods(g1, 'keep');
        return list.length === 6 && list.every(live) && g3.runningTasks().length === 0 ? true : undefined;
      }, 60_000, () => describeApp(lab, 'keep'));
      console.log(`# replaced in ${replacedIn} ms (grace 3 s + eviction 4 s)`);

      // Reboot g3 while cut off: its pods come back from its own replica, no quorum needed.
      await scale(g1, 'keep', 9);
      await eventually('pods on g3 again', async () => ((await spread(lab, 'keep'))[2]! >= 1 ? true : undefined), 90_000, () => describeApp(lab, 'keep'));
      const before = g3.runningTasks().length;
      g3.linkDown();
      // a power cut: every container killed (through containerd while it answers), then the daemon
      await g3.killContainers();
      await g3.kill9();
      await g3.killContainers();
      await g3.start([], { ready: false });
      await eventually(`g3's ${before} pods running again while cut off`, async () => (g3.runningTasks().length >= before ? true : undefined), 60_000, async () => `running tasks on g3 before the cut: ${before}, now: ${JSON.stringify(g3.runningTasks())}`);
      g3.linkUp();
      await eventually('exactly 9 pods after the cut-off reboot heals', async () => {
        const list = await pods(g1, 'keep');
        const readyCount = list.filter(ready).length;
        return list.length === 9 && readyCount === 9 ? true : undefined;
      }, 90_000, () => describeApp(lab, 'keep'));

      // Kill the leader: the new leader's controllers keep the Deployment whole, no pod twice.
      const leaderName = (await g1.api('GET', '/cluster')).json.leader as string;
      const leader = lab.gateways.find((g) => g.name === leaderName)!;
      const other = lab.gateways.find((g) => g !== leader)!;
      const uidsBefore = new Set((await pods(other, 'keep')).map((p) => p.metadata.uid));
      await leader.kill9();
      await scale(other, 'keep', 10).catch(async () => {
        await sleep(3000);
        await scale(other, 'keep', 10);
      });
      const survivors = lab.gateways.filter((g) => g !== leader);
      // The dead gateway's pods are evicted after grace + eviction and replaced on the survivors;
      // at no moment are there more live pods than wanted (none created twice).
      let most = 0;
      await eventually('10 ready pods, all on the survivors', async () => {
        const list = (await pods(other, 'keep')).filter(live);
        most = Math.max(most, list.length);
        return list.length === 10 && list.every((p) => ready(p) && survivors.some((g) => g.name === p.spec.nodeName)) ? true : undefined;
      }, 90_000, () => describeApp(lab, 'keep', other.index - 1));
      assert.ok(most <= 10, `${most} live pods at once for 10 replicas`);
      assert.ok([...uidsBefore].length >= 9);
      void g2;
    });
  });
});

describe('five gateways over three zones (2+2+1)', { concurrency: false }, () => {
  it('cutting off any one zone keeps the store writable and the workloads running', async () => {
    await withClusterLab({ zones: ['z1', 'z1', 'z2', 'z2', 'z3'], extra: TIMING }, async (lab) => {
      const gws = lab.gateways;
      await eventually('5 voters', async () => {
        const members = (await gws[0]!.api('GET', '/cluster')).json.members as { role: string }[];
        return members.filter((m) => m.role === 'voter').length === 5 ? true : undefined;
      }, 60_000);
      const status = gws[0]!.cli(['cluster', 'status']);
      assert.doesNotMatch(status.stdout, /warning/, 'five voters over 2+2+1 zones survive any one zone');
      await lab.apply([deployment('zones', 5)]);
      await eventually('5 ready pods', async () => ((await spread(lab, 'zones')).reduce((a, b) => a + b, 0) === 5 ? true : undefined), 120_000, () => describeApp(lab, 'zones'));
      for (const zone of ['z1', 'z2', 'z3']) {
        const cut = gws.filter((g) => g.zone === zone);
        const rest = gws.filter((g) => g.zone !== zone);
        for (const g of cut) g.linkDown();
        const via = rest[0]!;
        await eventually(`a write with zone ${zone} cut off`, async () => {
          const r = await via.api('POST', '/api/v1/namespaces/default/configmaps', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: `while-${zone}-cut` }, data: { a: '1' } });
          return r.status === 201 || r.status === 409 ? true : undefined;
        }, 30_000);
        // the workloads keep running: on the cut gateways (alone) and on the rest
        const running = gws.reduce((n, g) => n + g.runningTasks().length, 0);
        assert.ok(running >= 5, `only ${running} tasks running with ${zone} cut off`);
        for (const g of cut) g.linkUp();
        await eventually('5 ready pods again', async () => {
          const list = (await pods(via, 'zones')).filter(live);
          return list.length === 5 && list.every(ready) ? true : undefined;
        }, 90_000, () => describeApp(lab, 'zones', via.index - 1));
      }
    });
  });
});

describe('DaemonSets follow nodes', { concurrency: false }, () => {
  it('one pod per node, a pod for a node that joins, none left for a node that leaves', async () => {
    await withClusterLab({ zones: ['z1', 'z2'], extra: TIMING }, async (lab) => {
      const [g1, g2] = lab.gateways as [LabGateway, LabGateway];
      await lab.apply([
        {
          apiVersion: 'apps/v1',
          kind: 'DaemonSet',
          metadata: { name: 'agent' },
          spec: { selector: { matchLabels: { app: 'agent' } }, template: { metadata: { labels: { app: 'agent' } }, spec: { terminationGracePeriodSeconds: 1, containers: [{ name: 'c', image: 'busybox', command: ['sleep', '3600'] }] } } },
        },
      ]);
      await eventually('a ready agent pod per gateway', async () => ((await spread(lab, 'agent')).join() === '1,1' ? true : undefined), 60_000, () => describeApp(lab, 'agent'));
      // a Node that joins (registered by hand: no gateway behind it) gets its pod
      const extra = { apiVersion: 'v1', kind: 'Node', metadata: { name: 'late-joiner', labels: { 'kubernetes.io/hostname': 'late-joiner' } } };
      assert.equal((await g1.api('POST', '/api/v1/nodes', extra)).status, 201);
      await eventually('a pod bound to the joining node', async () => ((await pods(g1, 'agent')).some((p) => p.spec.nodeName === 'late-joiner') ? true : undefined), 30_000);
      assert.equal((await g1.api('DELETE', '/api/v1/nodes/late-joiner')).status, 200);
      await eventually('the pod of the node that left is gone', async () => ((await pods(g1, 'agent')).every((p) => p.spec.nodeName !== 'late-joiner') ? true : undefined), 30_000, () => describeApp(lab, 'agent'));
      void g2;
    });
  });
});
