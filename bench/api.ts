// npm run bench:api — the resource API against a 3-member bramble cluster: creating 5,000
// ConfigMaps with 32 concurrent clients next to raw /v3/kv/put of the same bytes (the anchor: the
// store underneath), listing them, and the delay from a write to its watch event at 100 watchers.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Agent, Pool, request } from 'undici';
import { startBrambleCluster } from './lib/bramble-cluster.ts';
import { median, percentile, runLoad } from './lib/load.ts';
import type { LoadResult } from './lib/load.ts';

const OBJECTS = Number(process.env.BENCH_OBJECTS ?? 5000);
const CLIENTS = 32;
const WATCHERS = 100;
const WATCHED_WRITES = 300;

function log(text: string): void {
  process.stderr.write(`bench: ${text}\n`);
}

function configMap(name: string, label = 'api'): string {
  return JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: 'default', labels: { bench: label } }, data: { 'app.properties': 'x'.repeat(200), mode: 'edge' } });
}

async function send(pool: Pool, method: 'POST' | 'GET', path: string, body: string | undefined, want: number): Promise<string> {
  const res = await pool.request({ method, path, ...(body !== undefined ? { body } : {}), headers: { 'content-type': 'application/json' } });
  const text = await res.body.text();
  if (res.statusCode !== want) throw new Error(`${method} ${path}: HTTP ${res.statusCode} ${text.slice(0, 200)}`);
  return text;
}

interface Row {
  workload: string;
  concurrency: number;
  result: LoadResult;
}

function table(rows: Row[]): string {
  const head = ['workload', 'concurrency', 'ops/s', 'p50 ms', 'p99 ms'];
  const body = rows.map((r) => [r.workload, String(r.concurrency), r.result.opsPerSecond.toFixed(0), r.result.p50Ms.toFixed(2), r.result.p99Ms.toFixed(2)]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
  return [head, ...body].map((cells) => cells.map((c, i) => c.padEnd(widths[i]!)).join('  ')).join('\n');
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'bramble-bench-api-'));
  const cluster = await startBrambleCluster(dir);
  const rows: Row[] = [];
  try {
    const leader = await cluster.leader();
    const pool = new Pool(leader, { connections: CLIENTS });
    // Namespaces are made by the leader's housekeeping right after election.
    for (let i = 0; i < 100; i++) {
      const res = await request(`${leader}/api/v1/namespaces/default`);
      await res.body.text();
      if (res.statusCode === 200) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    // warm-up of both paths
    let w = 0;
    await runLoad({ concurrency: 16, durationMs: 3000, op: async (_x, i) => {
      const n = w++;
      if (i % 2) await send(pool, 'POST', '/api/v1/namespaces/default/configmaps', configMap(`warm-${n}`, 'warm-up'), 201);
      else await send(pool, 'POST', '/v3/kv/put', JSON.stringify({ key: Buffer.from(`/bench/warm-${n}`).toString('base64'), value: Buffer.from(configMap(`warm-${n}`)).toString('base64') }), 200);
    } });

    // raw puts of the same bytes, then the API creates, in the same run
    let k = 0;
    const kv = await runLoad({ concurrency: CLIENTS, durationMs: 600_000, count: OBJECTS, op: async () => {
      const n = k++;
      await send(pool, 'POST', '/v3/kv/put', JSON.stringify({ key: Buffer.from(`/bench/kv/default/cm-${n}`).toString('base64'), value: Buffer.from(configMap(`cm-${n}`)).toString('base64') }), 200);
    } });
    rows.push({ workload: 'kv-put', concurrency: CLIENTS, result: kv });
    log(`kv-put c=${CLIENTS}: ${kv.opsPerSecond.toFixed(0)} ops/s`);
    let c = 0;
    const create = await runLoad({ concurrency: CLIENTS, durationMs: 600_000, count: OBJECTS, op: async () => {
      const n = c++;
      await send(pool, 'POST', '/api/v1/namespaces/default/configmaps', configMap(`cm-${n}`), 201);
    } });
    rows.push({ workload: 'api-create', concurrency: CLIENTS, result: create });
    log(`api-create c=${CLIENTS}: ${create.opsPerSecond.toFixed(0)} ops/s`);

    // listing all of them (linearizable, as kubectl get does)
    const lists: number[] = [];
    let listed = 0;
    for (let i = 0; i < 5; i++) {
      const t0 = performance.now();
      const text = await send(pool, 'GET', '/api/v1/namespaces/default/configmaps?labelSelector=bench%3Dapi', undefined, 200);
      lists.push(performance.now() - t0);
      listed = (JSON.parse(text) as { items: unknown[] }).items.length;
    }
    const list = await runLoad({ concurrency: 4, durationMs: 5000, op: () => send(pool, 'GET', '/api/v1/namespaces/default/configmaps?limit=500', undefined, 200).then(() => undefined) });
    rows.push({ workload: 'api-list-page-500', concurrency: 4, result: list });

    // write → watch event delay, 100 watchers spread over the members
    const agent = new Agent({ connections: WATCHERS + 8 });
    const rv = (JSON.parse(await send(pool, 'GET', '/api/v1/namespaces/default/configmaps?limit=1', undefined, 200)) as { metadata: { resourceVersion: string } }).metadata.resourceVersion;
    const sentAt = new Map<string, number>();
    const delays: number[] = [];
    const controllers: AbortController[] = [];
    let opened = 0;
    const watchers = Array.from({ length: WATCHERS }, async (_, i) => {
      const endpoint = cluster.endpoints[i % cluster.endpoints.length]!;
      const abort = new AbortController();
      controllers.push(abort);
      const res = await request(`${endpoint}/api/v1/namespaces/default/configmaps?watch=true&resourceVersion=${rv}&labelSelector=bench%3Dwatch`, { dispatcher: agent, signal: abort.signal });
      opened++;
      let buffer = '';
      let seen = 0;
      try {
        for await (const chunk of res.body) {
          const now = performance.now();
          buffer += chunk.toString();
          let nl;
          while ((nl = buffer.indexOf('\n')) >= 0) {
            const event = JSON.parse(buffer.slice(0, nl)) as { object: { metadata: { name: string } } };
            buffer = buffer.slice(nl + 1);
            const t0 = sentAt.get(event.object.metadata.name);
            if (t0 !== undefined) delays.push(now - t0);
            seen++;
          }
          if (seen >= WATCHED_WRITES) break;
        }
      } catch {
        // aborted at the end
      }
    });
    while (opened < WATCHERS) await new Promise((r) => setTimeout(r, 10));
    await new Promise((r) => setTimeout(r, 500));
    for (let i = 0; i < WATCHED_WRITES; i++) {
      const name = `watched-${i}`;
      const body = JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, labels: { bench: 'watch' } }, data: { i: String(i) } });
      sentAt.set(name, performance.now());
      await send(pool, 'POST', '/api/v1/namespaces/default/configmaps', body, 201);
      await new Promise((r) => setTimeout(r, 10));
    }
    await Promise.race([Promise.all(watchers), new Promise((r) => setTimeout(r, 10_000))]);
    for (const c2 of controllers) c2.abort();
    await agent.close();
    await pool.close();
    delays.sort((a, b) => a - b);

    console.log(table(rows));
    console.log('');
    console.log(`list of ${listed} ConfigMaps (one request, linearizable): median ${median(lists).toFixed(1)} ms`);
    console.log(`watch delivery, write sent → event received, ${WATCHERS} watchers × ${WATCHED_WRITES} writes (${delays.length} events): p50 ${percentile(delays, 50).toFixed(2)} ms, p99 ${percentile(delays, 99).toFixed(2)} ms`);
    console.log(`ratio api-create/kv-put c=${CLIENTS}: ${(create.opsPerSecond / kv.opsPerSecond).toFixed(2)}`);
  } finally {
    await cluster.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
