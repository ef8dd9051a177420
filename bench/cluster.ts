// npm run bench:cluster — issue 6's three figures on this machine:
//  (a) scheduling throughput: a 3-member cluster without agents (--disable-agent) and three
//      Nodes registered through the API, so nothing starts the pods: a Deployment of 500 pods
//      with a tiny request; pods bound per second, from the create to the 500th binding;
//  (b) failover: 3 gateways with agents, each in its own network namespace; a Deployment of 18
//      (6 per gateway); cut a gateway's link, time until 18 are Running again on the other two;
//      heal; median of 3, next to the configured grace + eviction (defaults 5 s + 20 s);
//  (c) disk writes per gateway per minute of that idle cluster with 30 running pods, from the
//      daemons' /proc/PID/io write_bytes over a minute.
// Targets: >= 300 pods/s bound; failover <= grace + eviction + 5 s; idle writes <= 64 KiB per
// gateway per minute.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startBrambleCluster } from './lib/bramble-cluster.ts';
import { percentile } from './lib/load.ts';
import { writeBytes } from './lib/procs.ts';
import type { ClusterLab, LabGateway } from '../test/helpers/cluster-lab.ts';
import { eventually, startClusterLab } from '../test/helpers/cluster-lab.ts';
import { timestamp } from '../src/model/index.ts';

const PODS = Number(process.env['BENCH_SCHED_PODS'] ?? 500);
const ROUNDS = Number(process.env['BENCH_FAILOVER_ROUNDS'] ?? 3);

function log(text: string): void {
  process.stderr.write(`bench: ${text}\n`);
}

async function json(url: string, init: RequestInit = {}): Promise<any> {
  const res = await fetch(url, { ...init, headers: { 'content-type': 'application/json', ...(init.headers ?? {}) } });
  const text = await res.text();
  if (!res.ok) throw new Error(`${init.method ?? 'GET'} ${url}: HTTP ${res.status} ${text.slice(0, 300)}`);
  return text ? JSON.parse(text) : undefined;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** (a) pods bound per second. */
async function schedulingThroughput(): Promise<{ seconds: number; rate: number }> {
  const dir = mkdtempSync(join(tmpdir(), 'bramble-bench-sched-'));
  // No heartbeats come from the registered Nodes: a long grace keeps them Ready.
  const cluster = await startBrambleCluster(dir, 3, ['--node-grace', '1h', '--eviction-timeout', '1h']);
  try {
    const api = await cluster.leader();
    for (let i = 1; i <= 3; i++) {
      const name = `bench-node-${i}`;
      await json(`${api}/api/v1/nodes`, { method: 'POST', body: JSON.stringify({ apiVersion: 'v1', kind: 'Node', metadata: { name, labels: { 'kubernetes.io/hostname': name, 'topology.kubernetes.io/zone': `z${i}` } } }) });
      await json(`${api}/api/v1/nodes/${name}/status`, {
        method: 'PATCH',
        headers: { 'content-type': 'application/merge-patch+json' },
        body: JSON.stringify({
          status: {
            capacity: { cpu: '64', memory: '256Gi', pods: '1000' },
            allocatable: { cpu: '64', memory: '256Gi', pods: '1000' },
            conditions: [{ type: 'Ready', status: 'True', reason: 'KubeletReady', lastHeartbeatTime: timestamp(Date.now()), lastTransitionTime: timestamp(Date.now()) }],
          },
        }),
      });
    }
    const started = Date.now();
    await json(`${api}/apis/apps/v1/namespaces/default/deployments`, {
      method: 'POST',
      body: JSON.stringify({
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        metadata: { name: 'many' },
        spec: {
          replicas: PODS,
          selector: { matchLabels: { app: 'many' } },
          template: { metadata: { labels: { app: 'many' } }, spec: { containers: [{ name: 'c', image: 'busybox', resources: { requests: { cpu: '1m', memory: '1Mi' } } }] } },
        },
      }),
    });
    let bound = 0;
    for (;;) {
      const list = await json(`${api}/api/v1/namespaces/default/pods?labelSelector=app%3Dmany`);
      bound = (list.items as { spec: { nodeName?: string } }[]).filter((p) => p.spec.nodeName).length;
      if (bound >= PODS) break;
      if (Date.now() - started > 120_000) throw new Error(`only ${bound} of ${PODS} pods bound after 120 s`);
      await sleep(50);
    }
    const seconds = (Date.now() - started) / 1000;
    return { seconds, rate: PODS / seconds };
  } finally {
    await cluster.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

type Pod = { metadata: { deletionTimestamp?: string }; spec: { nodeName?: string }; status?: { phase?: string } };

async function runningOn(gw: LabGateway, names: string[]): Promise<number> {
  const r = await gw.api('GET', '/api/v1/namespaces/default/pods?labelSelector=app%3Dfo');
  const items = (r.json?.items ?? []) as Pod[];
  return items.filter((p) => !p.metadata.deletionTimestamp && p.status?.phase === 'Running' && names.includes(p.spec.nodeName ?? '')).length;
}

/** The daemon's pid: `ip netns exec` execs the command in place, so it is the pid we started. */
function daemonPid(gw: LabGateway): number {
  const pid = gw.daemon?.pid;
  if (!pid) throw new Error(`${gw.name} is not running`);
  return pid;
}

async function failoverAndIdle(): Promise<{ failovers: number[]; writes: number[]; configured: number }> {
  const grace = 5_000;
  const eviction = 20_000;
  const lab: ClusterLab = await startClusterLab({ zones: ['z1', 'z2', 'z3'] });
  try {
    const [g1] = lab.gateways as [LabGateway, LabGateway, LabGateway];
    const deploy = (replicas: number) => ({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'fo' },
      spec: { replicas, selector: { matchLabels: { app: 'fo' } }, template: { metadata: { labels: { app: 'fo' } }, spec: { terminationGracePeriodSeconds: 1, containers: [{ name: 'c', image: 'busybox', command: ['sleep', '36000'] }] } } },
    });
    await lab.apply([deploy(30)]);
    const all = lab.gateways.map((g) => g.name);
    await eventually('30 running pods', async () => ((await runningOn(g1, all)) === 30 ? true : undefined), 180_000);
    // (c) idle writes over a minute, 30 pods running, once the start has settled: the last
    // status writes (readiness, Deployment and Endpoints status), and the agent's first
    // once-a-minute resync, whose first read of each new pod file updates its atime (relatime)
    await sleep(90_000);
    log('measuring idle disk writes for 60 s');
    const before = lab.gateways.map((g) => writeBytes(daemonPid(g)));
    await sleep(60_000);
    const writes = lab.gateways.map((g, i) => writeBytes(daemonPid(g)) - before[i]!);
    // (b) failover with 18 pods, 6 per gateway
    const scale = g1.cli(['scale', 'deploy/fo', '--replicas=18']);
    if (scale.code !== 0) throw new Error(scale.stderr);
    await eventually('18 running pods', async () => ((await runningOn(g1, all)) === 18 ? true : undefined), 120_000);
    const failovers: number[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      const cut = lab.gateways[2 - (round % 2)]!; // g3, g2, g3
      const rest = lab.gateways.filter((g) => g !== cut);
      const via = rest[0]!;
      const restNames = rest.map((g) => g.name);
      log(`round ${round + 1}: cutting ${cut.name} off`);
      cut.linkDown();
      const t0 = Date.now();
      await eventually('18 running on the other two', async () => ((await runningOn(via, restNames)) >= 18 ? true : undefined), grace + eviction + 90_000);
      failovers.push(Date.now() - t0);
      log(`round ${round + 1}: replaced in ${failovers[failovers.length - 1]} ms; healing`);
      cut.linkUp();
      await eventually('exactly 18 pods after heal', async () => {
        const r = await via.api('GET', '/api/v1/namespaces/default/pods?labelSelector=app%3Dfo');
        const items = (r.json?.items ?? []) as Pod[];
        return items.length === 18 && cut.runningTasks().length === 0 ? true : undefined;
      }, 90_000);
      // spread again over all three for the next round: scale down and up
      if (round < ROUNDS - 1) {
        for (const n of [0, 18]) {
          const r = g1.cli(['scale', 'deploy/fo', `--replicas=${n}`]);
          if (r.code !== 0) throw new Error(r.stderr);
          await eventually(`${n} pods`, async () => {
            const list = ((await g1.api('GET', '/api/v1/namespaces/default/pods?labelSelector=app%3Dfo')).json?.items ?? []) as Pod[];
            return list.length === n && (await runningOn(g1, all)) === n ? true : undefined;
          }, 120_000);
        }
      }
    }
    return { failovers, writes, configured: grace + eviction };
  } finally {
    await lab.cleanup();
  }
}

async function main(): Promise<void> {
  log(`(a) scheduling ${PODS} pods on 3 members without agents`);
  const sched = await schedulingThroughput();
  log(`(b, c) 3 gateways with agents, each in its own network namespace`);
  const fo = await failoverAndIdle();
  const kib = (b: number) => (b / 1024).toFixed(1);
  const median = percentile([...fo.failovers].sort((a, b) => a - b), 50);
  process.stdout.write(
    [
      'measure                               value',
      `pods bound per second (${PODS} pods)       ${sched.rate.toFixed(0)}  (${sched.seconds.toFixed(2)} s)`,
      `failover, cut gateway with 6 pods     median ${(median / 1000).toFixed(1)} s  (runs: ${fo.failovers.map((f) => (f / 1000).toFixed(1)).join(', ')} s; grace + eviction ${fo.configured / 1000} s; Kubernetes default 340 s)`,
      `idle disk writes per gateway per min  ${fo.writes.map(kib).join(', ')} KiB (30 running pods)`,
      '',
      `target pods bound/s >= 300: ${sched.rate >= 300 ? 'met' : 'not met'}`,
      `target failover <= grace + eviction + 5 s: ${median <= fo.configured + 5000 ? 'met' : 'not met'}`,
      `target idle writes <= 64 KiB/min/gateway: ${fo.writes.every((w) => w <= 64 * 1024) ? 'met' : 'not met'}`,
      '',
    ].join('\n'),
  );
}

await main();
