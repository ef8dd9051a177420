// npm run bench:store — a 3-member bramble cluster and a 3-member etcd 3.4 cluster on this
// machine, one after the other, driven by the same client over the same etcd v3 JSON API.
// Prints one table, then per bramble member: RSS, bytes written per committed put, and the time
// a member holding 100,000 keys takes from start to /readyz 200; last, one ratio per workload.
//
// BENCH_SECONDS (default 8) sets each workload's duration.
import { execSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Pool } from 'undici';
import { freePort } from '../test/helpers/ports.ts';
import { startBrambleCluster, waitHttp } from './lib/bramble-cluster.ts';
import type { LoadResult } from './lib/load.ts';
import { runLoad } from './lib/load.ts';
import type { Proc } from './lib/procs.ts';
import { rssBytes, startProc, writeBytes } from './lib/procs.ts';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 8);
const VALUE = 'v'.repeat(256);
const b64 = (s: string) => Buffer.from(s).toString('base64');

function log(text: string): void {
  process.stderr.write(`bench: ${text}\n`);
}

function ensureEtcd(): void {
  if (spawnSync('sh', ['-c', 'command -v etcd']).status === 0) return;
  log('etcd is missing: installing Debian etcd-server (the anchor of this benchmark)');
  execSync('DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends etcd-server', { stdio: 'inherit' });
}

interface Cluster {
  system: 'bramble' | 'etcd';
  endpoints: string[];
  procs: Proc[];
  leader(): Promise<string>;
  stop(): Promise<void>;
}

async function startBramble(dir: string): Promise<Cluster> {
  return { system: 'bramble', ...(await startBrambleCluster(dir)) };
}

async function startEtcd(dir: string): Promise<Cluster> {
  const client: string[] = [];
  const peer: string[] = [];
  for (let i = 0; i < 3; i++) {
    client.push(`http://127.0.0.1:${await freePort()}`);
    peer.push(`http://127.0.0.1:${await freePort()}`);
  }
  const initial = peer.map((p, i) => `e${i + 1}=${p}`).join(',');
  const procs = client.map((c, i) =>
    startProc('etcd', [
      '--name', `e${i + 1}`, '--data-dir', join(dir, `e${i + 1}`),
      '--listen-client-urls', c, '--advertise-client-urls', c,
      '--listen-peer-urls', peer[i]!, '--initial-advertise-peer-urls', peer[i]!,
      '--initial-cluster', initial, '--initial-cluster-state', 'new', '--initial-cluster-token', 'bench',
      '--log-level', 'warn', '--logger', 'zap',
    ]),
  );
  for (const c of client) await waitHttp(`${c}/health`, 30_000);
  return {
    system: 'etcd',
    endpoints: client,
    procs,
    async leader() {
      for (const c of client) {
        const s = (await (await fetch(`${c}/v3/maintenance/status`, { method: 'POST', body: '{}' })).json()) as { header: { member_id: string }; leader: string };
        if (s.header.member_id === s.leader) return c;
      }
      throw new Error('etcd: no leader');
    },
    async stop() {
      await Promise.all(procs.map((p) => p.stop()));
    },
  };
}

function randomKey(): string {
  const length = 8 + Math.floor(Math.random() * 9);
  let key = 'k';
  while (key.length < length) key += Math.random().toString(36).slice(2);
  return key.slice(0, length);
}

async function post(pool: Pool, path: string, body: string): Promise<void> {
  const res = await pool.request({ method: 'POST', path, body, headers: { 'content-type': 'application/json' } });
  const text = await res.body.text();
  if (res.statusCode !== 200) throw new Error(`${path}: HTTP ${res.statusCode} ${text.slice(0, 200)}`);
}

interface Row {
  system: string;
  workload: string;
  concurrency: number;
  result: LoadResult;
}

async function runWorkloads(cluster: Cluster, rows: Row[], extra: { writtenPerPut?: number[] }): Promise<void> {
  const target = await cluster.leader();
  const pool = new Pool(target, { connections: 64, pipelining: 1 });
  const readKeys = Array.from({ length: 1000 }, (_, i) => `read-${i}`);
  for (const k of readKeys) await post(pool, '/v3/kv/put', JSON.stringify({ key: b64(k), value: b64(VALUE) }));
  const putBody = () => JSON.stringify({ key: b64(randomKey()), value: b64(VALUE) });
  // Warm up (JIT, connection pools, page cache) before anything is measured, for both systems.
  await runLoad({ concurrency: 16, durationMs: 3000, op: (_w, i) => (i % 2 ? post(pool, '/v3/kv/put', putBody()) : post(pool, '/v3/kv/range', JSON.stringify({ key: b64(readKeys[i % 1000]!) }))) });
  for (const c of [1, 16, 64]) {
    const before = cluster.procs.map((p) => writeBytes(p.pid));
    const result = await runLoad({ concurrency: c, durationMs: SECONDS * 1000, op: () => post(pool, '/v3/kv/put', putBody()) });
    if (c === 64) extra.writtenPerPut = cluster.procs.map((p, i) => (writeBytes(p.pid) - before[i]!) / result.ops);
    rows.push({ system: cluster.system, workload: 'put', concurrency: c, result });
    log(`${cluster.system} put c=${c}: ${result.opsPerSecond.toFixed(0)} ops/s`);
  }
  for (const serializable of [false, true]) {
    const workload = serializable ? 'range-serializable' : 'range-linearizable';
    const result = await runLoad({
      concurrency: 16,
      durationMs: SECONDS * 1000,
      op: () => post(pool, '/v3/kv/range', JSON.stringify({ key: b64(readKeys[Math.floor(Math.random() * readKeys.length)]!), serializable })),
    });
    rows.push({ system: cluster.system, workload, concurrency: 16, result });
    log(`${cluster.system} ${workload} c=16: ${result.opsPerSecond.toFixed(0)} ops/s`);
  }
  await pool.close();
}

/** Fills bramble to 100,000 keys, restarts a follower, and times start → /readyz 200. */
async function startupWith100kKeys(cluster: Cluster, dir: string): Promise<number> {
  const target = await cluster.leader();
  const pool = new Pool(target, { connections: 64 });
  let n = 0;
  await runLoad({ concurrency: 64, durationMs: 600_000, count: 100_000, op: async () => {
    const i = n++;
    await post(pool, '/v3/kv/put', JSON.stringify({ key: b64(`fill/${i.toString().padStart(6, '0')}`), value: b64(VALUE) }));
  } });
  await pool.close();
  const followerIndex = cluster.endpoints.findIndex((e) => e !== target);
  const proc = cluster.procs[followerIndex]!;
  const args = (proc.child.spawnargs ?? []).slice(1);
  await proc.stop();
  const started = performance.now();
  const restarted = startProc('node', args);
  cluster.procs[followerIndex] = restarted;
  await waitHttp(`${cluster.endpoints[followerIndex]}/readyz`, 60_000);
  const millis = performance.now() - started;
  void dir;
  return millis;
}

function table(rows: Row[]): string {
  const head = ['system', 'workload', 'concurrency', 'ops/s', 'p50 ms', 'p99 ms'];
  const body = rows.map((r) => [r.system, r.workload, String(r.concurrency), r.result.opsPerSecond.toFixed(0), r.result.p50Ms.toFixed(2), r.result.p99Ms.toFixed(2)]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
  return [head, ...body].map((cells) => cells.map((c, i) => c.padEnd(widths[i]!)).join('  ')).join('\n');
}

async function main(): Promise<void> {
  ensureEtcd();
  if (!existsSync('dist/bramble.mjs')) execSync('node build.mjs', { stdio: 'inherit' });
  const dir = mkdtempSync(join(tmpdir(), 'bramble-bench-store-'));
  const rows: Row[] = [];
  const bramble: { writtenPerPut?: number[]; rssIdle?: number[]; startupMs?: number; rssFull?: number[] } = {};
  try {
    log('starting 3 bramble members');
    const b = await startBramble(dir);
    await new Promise((r) => setTimeout(r, 3000));
    bramble.rssIdle = b.procs.map((p) => rssBytes(p.pid));
    await runWorkloads(b, rows, bramble);
    log('filling bramble to 100,000 keys for the start-up measurement');
    bramble.startupMs = await startupWith100kKeys(b, dir);
    bramble.rssFull = b.procs.map((p) => rssBytes(p.pid));
    await b.stop();

    log('starting 3 etcd members');
    const e = await startEtcd(dir);
    await new Promise((r) => setTimeout(r, 3000));
    const etcdRss = e.procs.map((p) => rssBytes(p.pid));
    const etcdExtra: { writtenPerPut?: number[] } = {};
    await runWorkloads(e, rows, etcdExtra);
    await e.stop();

    console.log(table(rows));
    console.log('');
    const mb = (x: number) => `${(x / 1024 / 1024).toFixed(1)} MB`;
    console.log(`bramble member RSS idle: ${bramble.rssIdle.map(mb).join(', ')}; after 100,000 keys: ${bramble.rssFull.map(mb).join(', ')} (etcd idle: ${etcdRss.map(mb).join(', ')})`);
    console.log(`bramble bytes written per committed put (c=64), per member: ${bramble.writtenPerPut!.map((x) => x.toFixed(0)).join(', ')} (etcd: ${etcdExtra.writtenPerPut!.map((x) => x.toFixed(0)).join(', ')})`);
    console.log(`bramble member with 100,000 keys, start to /readyz 200: ${bramble.startupMs.toFixed(0)} ms`);
    for (const r of rows.filter((x) => x.system === 'bramble')) {
      const other = rows.find((x) => x.system === 'etcd' && x.workload === r.workload && x.concurrency === r.concurrency)!;
      console.log(`ratio bramble/etcd ${r.workload} c=${r.concurrency}: ${(r.result.opsPerSecond / other.result.opsPerSecond).toFixed(2)}`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
