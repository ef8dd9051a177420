// npm run bench:dns — bramble's DNS server against dnsmasq, both answering the same 1,000
// service names (dnsmasq from generated host-records), queried by dnsperf with the same query file
// and client settings, taking turns on this machine over several rounds (medians printed). Each
// turn is a throughput run (QPS, loss) and a verbose run whose per-query latencies give p50/p99
// (dnsperf 2.10 has no latency histogram). bramble's server runs in a child process of its own
// over static data (the daemon runs it in its own event loop, over its informers), so its RSS is
// not the daemon's.
import { spawn, spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { closeSync, createReadStream, mkdtempSync, openSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { freePort } from '../test/helpers/ports.ts';
import { median } from './lib/load.ts';
import { rssBytes } from './lib/procs.ts';

const SERVICES = Number(process.env.BENCH_DNS_SERVICES ?? 1000);
const SECONDS = Number(process.env.BENCH_DNS_SECONDS ?? 5);
const ROUNDS = Number(process.env.BENCH_DNS_ROUNDS ?? 3);
const LATENCY_SECONDS = Number(process.env.BENCH_DNS_LATENCY_SECONDS ?? 5);
const CLIENTS = 1;
const IN_FLIGHT = 100;
const DOMAIN = 'cluster.local';

function log(text: string): void {
  process.stderr.write(`bench: ${text}\n`);
}

function serviceName(i: number): string {
  return `svc-${i}.default.svc.${DOMAIN}`;
}

function clusterIP(i: number): string {
  return `10.43.${Math.floor((i + 100) / 250)}.${((i + 100) % 250) + 1}`;
}

/** The child: bramble's DNS server over 1,000 generated Services, until killed. */
async function serve(port: number): Promise<void> {
  const { startDnsServer, StaticDnsData } = await import('../src/dns/index.ts');
  const { createLogger } = await import('../src/log/index.ts');
  const services = Array.from({ length: SERVICES }, (_, i) => ({
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: `svc-${i}`, namespace: 'default' },
    spec: { clusterIP: clusterIP(i), ports: [{ name: 'http', port: 80, protocol: 'TCP' }] },
  }));
  const server = await startDnsServer({
    data: new StaticDnsData({ services }),
    listen: [{ host: '127.0.0.1', port }],
    domain: DOMAIN,
    upstreams: [],
    allowFrom: ['127.0.0.0/8'],
    logger: createLogger({ level: 'warn' }),
  });
  process.stdout.write('ready\n');
  process.on('SIGTERM', () => void server.stop().then(() => process.exit(0)));
}

async function waitReady(child: ChildProcess, what: string): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${what} did not start within 20 s`)), 20_000);
    child.once('exit', (code) => reject(new Error(`${what} exited early with ${code}`)));
    child.stdout!.on('data', (chunk: Buffer) => {
      if (chunk.toString().includes('ready')) {
        clearTimeout(timer);
        resolve();
      }
    });
  });
}

/** Waits until the server answers one query (dnsmasq prints nothing when ready). */
function waitAnswering(port: number): void {
  for (let i = 0; i < 100; i++) {
    const r = spawnSync('dig', ['@127.0.0.1', '-p', String(port), serviceName(0), '+short', '+time=1', '+tries=1'], { encoding: 'utf8' });
    if (r.stdout.trim() === clusterIP(0)) return;
    spawnSync('sleep', ['0.1']);
  }
  throw new Error(`nothing answers ${serviceName(0)} on 127.0.0.1:${port}`);
}

interface Throughput {
  qps: number;
  lossPercent: number;
  avgMs: number;
  sent: number;
}

function dnsperfArgs(port: number, queryFile: string, seconds: number): string[] {
  return ['-s', '127.0.0.1', '-p', String(port), '-d', queryFile, '-c', String(CLIENTS), '-q', String(IN_FLIGHT), '-l', String(seconds)];
}

function throughput(port: number, queryFile: string): Throughput {
  const r = spawnSync('dnsperf', dnsperfArgs(port, queryFile, SECONDS), { encoding: 'utf8', maxBuffer: 16 * 1024 * 1024 });
  if (r.status !== 0) throw new Error(`dnsperf failed: ${r.stderr || r.stdout}`);
  const number = (pattern: RegExp): number => {
    const m = pattern.exec(r.stdout);
    if (!m) throw new Error(`dnsperf output lacks ${pattern}: ${r.stdout}`);
    return Number(m[1]);
  };
  return {
    qps: number(/Queries per second:\s+([\d.]+)/),
    lossPercent: number(/Queries lost:\s+\d+ \(([\d.]+)%\)/),
    avgMs: number(/Average Latency \(s\):\s+([\d.]+)/) * 1000,
    sent: number(/Queries sent:\s+(\d+)/),
  };
}

/** p50/p99 from dnsperf -v, which prints every answer with its latency in seconds. The lines go
 *  to a file and are read once dnsperf is done: parsing them as they come would take one of the
 *  two cores from the server and the client being measured. */
async function latencies(port: number, queryFile: string, dir: string): Promise<Latency> {
  const out = join(dir, 'verbose.txt');
  const fd = openSync(out, 'w');
  try {
    const r = spawnSync('dnsperf', [...dnsperfArgs(port, queryFile, LATENCY_SECONDS), '-v'], { stdio: ['ignore', fd, 'inherit'] });
    if (r.status !== 0) throw new Error(`dnsperf -v failed with ${r.status}`);
  } finally {
    closeSync(fd);
  }
  // A histogram in 10 µs buckets up to 100 ms: no array of a million samples.
  const buckets = new Uint32Array(10_001);
  let answers = 0;
  let notNoerror = 0;
  const lines = createInterface({ input: createReadStream(out) });
  for await (const line of lines) {
    if (!line.startsWith('> ')) continue;
    const parts = line.split(' ');
    const seconds = Number(parts[parts.length - 1]);
    if (!Number.isFinite(seconds)) continue;
    if (parts[1] !== 'NOERROR') notNoerror++;
    buckets[Math.min(10_000, Math.round(seconds * 100_000))]!++;
    answers++;
  }
  rmSync(out, { force: true });
  const at = (fraction: number): number => {
    const want = Math.ceil(answers * fraction);
    let seen = 0;
    for (let i = 0; i < buckets.length; i++) {
      seen += buckets[i]!;
      if (seen >= want) return i / 100;
    }
    return Infinity;
  };
  return { p50Ms: at(0.5), p99Ms: at(0.99), answers, notNoerror };
}

function rssMiB(pid: number | undefined): number {
  if (pid === undefined) return NaN;
  try {
    return rssBytes(pid) / (1024 * 1024);
  } catch {
    return NaN;
  }
}

interface Latency {
  p50Ms: number;
  p99Ms: number;
  answers: number;
  notNoerror: number;
}

interface Row {
  server: string;
  t: Throughput;
  l: Latency;
  rss: number;
}

function table(rows: Row[]): string {
  const head = ['server', 'qps', 'loss %', 'avg ms', 'p50 ms', 'p99 ms', 'rss MiB'];
  const body = rows.map((r) => [r.server, r.t.qps.toFixed(0), r.t.lossPercent.toFixed(2), r.t.avgMs.toFixed(3), r.l.p50Ms.toFixed(2), r.l.p99Ms.toFixed(2), r.rss.toFixed(1)]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
  return [head, ...body].map((cells) => cells.map((c, i) => c.padEnd(widths[i]!)).join('  ')).join('\n');
}

async function measure(server: string, port: number, queryFile: string, dir: string, round: number): Promise<Omit<Row, 'rss'>> {
  log(`round ${round}: ${server}: throughput run (${SECONDS} s, ${CLIENTS} client, ${IN_FLIGHT} in flight)`);
  const t = throughput(port, queryFile);
  log(`round ${round}: ${server}: latency run (${LATENCY_SECONDS} s, dnsperf -v)`);
  const l = await latencies(port, queryFile, dir);
  if (l.notNoerror > 0) throw new Error(`${server}: ${l.notNoerror} answers were not NOERROR: the two servers do not hold the same names`);
  log(`round ${round}: ${server}: ${t.qps.toFixed(0)} qps, loss ${t.lossPercent}%, p99 ${l.p99Ms} ms`);
  return { server, t, l };
}

/** The median of each figure over the rounds. */
function medianRow(server: string, runs: Omit<Row, 'rss'>[], rss: number): Row {
  const m = (pick: (r: Omit<Row, 'rss'>) => number) => median(runs.map(pick));
  return {
    server,
    t: { qps: m((r) => r.t.qps), lossPercent: m((r) => r.t.lossPercent), avgMs: m((r) => r.t.avgMs), sent: m((r) => r.t.sent) },
    l: { p50Ms: m((r) => r.l.p50Ms), p99Ms: m((r) => r.l.p99Ms), answers: m((r) => r.l.answers), notNoerror: 0 },
    rss,
  };
}

function stop(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null) return resolve();
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });
}

async function main(): Promise<void> {
  for (const tool of ['dnsperf', 'dnsmasq', 'dig']) {
    if (spawnSync('sh', ['-c', `command -v ${tool} || test -x /usr/sbin/${tool}`]).status !== 0) {
      throw new Error(`${tool} is not installed: run 'sh scripts/setup.sh host' (Debian packages dnsperf, dnsmasq-base, bind9-dnsutils)`);
    }
  }
  const dir = mkdtempSync(join(tmpdir(), 'bramble-bench-dns-'));
  const rows: Row[] = [];
  try {
    const queryFile = join(dir, 'queries.txt');
    writeFileSync(queryFile, Array.from({ length: SERVICES }, (_, i) => `${serviceName(i)} A\n`).join(''));
    const conf = join(dir, 'dnsmasq.conf');
    writeFileSync(conf, Array.from({ length: SERVICES }, (_, i) => `host-record=${serviceName(i)},${clusterIP(i)}\n`).join(''));

    // Both servers run throughout (an idle one costs nothing) and take turns, round after round,
    // so a noisy moment of this shared machine hits both alike; the table holds the medians.
    const bramblePort = await freePort();
    const bramble = spawn(process.execPath, [...process.execArgv, new URL(import.meta.url).pathname, '--serve', String(bramblePort)], { stdio: ['ignore', 'pipe', 'inherit'] });
    const dnsmasqPort = await freePort();
    // dnsmasq answers host-records from its own table: there is no cache to warm.
    const dnsmasq = spawn('dnsmasq', ['--keep-in-foreground', '--no-resolv', '--no-hosts', '--bind-interfaces', '--listen-address=127.0.0.1', `--port=${dnsmasqPort}`, `--conf-file=${conf}`, '--pid-file=', '--user=root', '--no-negcache'], { stdio: ['ignore', 'pipe', 'inherit'] });
    try {
      await waitReady(bramble, 'bramble DNS');
      waitAnswering(bramblePort);
      waitAnswering(dnsmasqPort);
      const servers = [
        { name: 'bramble', port: bramblePort, pid: bramble.pid, runs: [] as Omit<Row, 'rss'>[] },
        { name: 'dnsmasq', port: dnsmasqPort, pid: dnsmasq.pid, runs: [] as Omit<Row, 'rss'>[] },
      ];
      for (let round = 1; round <= ROUNDS; round++) {
        for (const server of servers) server.runs.push(await measure(server.name, server.port, queryFile, dir, round));
      }
      for (const server of servers) rows.push(medianRow(server.name, server.runs, rssMiB(server.pid)));
    } finally {
      await stop(bramble);
      await stop(dnsmasq);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  process.stdout.write(`DNS: ${SERVICES} service names, dnsperf -c ${CLIENTS} -q ${IN_FLIGHT} -l ${SECONDS}, medians of ${ROUNDS} alternating rounds (p50/p99 from ${LATENCY_SECONDS} s dnsperf -v runs)\n`);
  process.stdout.write(`${table(rows)}\n`);
  const [b, d] = rows;
  process.stdout.write(`ratio bramble/dnsmasq qps: ${(b!.t.qps / d!.t.qps).toFixed(2)}\n`);
  process.stdout.write(`target: ratio >= 1.00, bramble p99 < 2 ms, no loss: ${b!.t.qps >= d!.t.qps && b!.l.p99Ms < 2 && b!.t.lossPercent === 0 ? 'met' : 'NOT met'}\n`);
}

if (process.argv[2] === '--serve') {
  await serve(Number(process.argv[3]));
} else {
  try {
    await main();
  } catch (error) {
    process.stderr.write(`bench:dns: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  }
}
