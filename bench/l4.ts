// npm run bench:l4: HTTP through bramble's L4 balancer on a ClusterIP, against HAProxy
// (mode tcp, round robin, the same backends) and against one backend directly. Everything runs
// in a throwaway network namespace (deleted at the end): three busybox httpd backends serving a
// small file, bramble's balancer in a child process on a real 10.43.x.y ClusterIP put on the
// namespace's loopback by its own address manager, HAProxy, and wrk as the client. Each target
// is measured with keep-alive and with `Connection: close` (a new connection per request), in
// rounds where the targets take turns (medians printed), then with one connection at a time for
// the latency the balancer adds. Prints a table, the added p99 and the bramble/HAProxy ratios.
// A fourth target, `dnat`, is the kernel doing the balancing (iptables DNAT, as kube-proxy's
// iptables mode does): the reference for what leaving user space would buy.
//
//   npm run bench:l4 [-- --seconds 5 --connections 16 --rounds 3]
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { createLogger } from '../src/log/index.ts';
import type { KObject } from '../src/model/index.ts';
import { median } from './lib/load.ts';
import { IpAddressManager, startProxy, type ProxyData } from '../src/proxy/index.ts';

const run = promisify(execFile);

const CLUSTER_IP = '10.43.200.1';
const SERVICE_PORT = 80;
const BACKEND_PORTS = [8081, 8082, 8083];
const HAPROXY_PORT = 8000;
/** A second address whose port 80 the kernel DNATs to the backends: the reference row for what
 *  kube-proxy's iptables mode does (no user-space hop, but no retry of a refusing backend). */
const DNAT_IP = '10.43.200.2';

function flag(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  const value = i >= 0 ? Number(process.argv[i + 1]) : fallback;
  if (!Number.isFinite(value) || value <= 0) throw new Error(`--${name} must be a positive number, not ${process.argv[i + 1]}`);
  return value;
}

// ---------------------------------------------------------------------------------------------
// The child: bramble's balancer alone in the namespace, over a fixed Service and Endpoints.

async function proxyChild(): Promise<void> {
  const service: KObject = {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: 'web', namespace: 'default' },
    spec: { clusterIP: CLUSTER_IP, ports: [{ name: 'http', port: SERVICE_PORT, targetPort: 'http' }] },
  };
  const endpoints: KObject = {
    apiVersion: 'v1',
    kind: 'Endpoints',
    metadata: { name: 'web', namespace: 'default' },
    subsets: [{ addresses: [{ ip: '127.0.0.1' }], ports: [{ name: 'http', port: BACKEND_PORTS[0]! }] }, { addresses: [{ ip: '127.0.0.1' }], ports: [{ name: 'http', port: BACKEND_PORTS[1]! }] }, { addresses: [{ ip: '127.0.0.1' }], ports: [{ name: 'http', port: BACKEND_PORTS[2]! }] }],
  };
  const data: ProxyData = { services: () => [service], endpoints: () => endpoints, onChange: () => () => undefined };
  const proxy = startProxy({ data, nodeAddress: '0.0.0.0', addresses: new IpAddressManager(), logger: createLogger({ level: 'warn' }) });
  await proxy.settled();
  if (proxy.listeners().length !== 1) throw new Error(`the balancer did not listen on ${CLUSTER_IP}:${SERVICE_PORT}`);
  process.stdout.write('ready\n');
  const stop = (): void => void proxy.stop().then(() => process.exit(0));
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

// ---------------------------------------------------------------------------------------------
// The parent: the namespace, the processes, the wrk runs, the table.

const MODES = ['keepalive', 'newconn'] as const;
type Mode = (typeof MODES)[number];

interface Result {
  target: string;
  mode: Mode;
  requestsPerSecond: number;
  p99Ms: number;
  /** CPU time the balancer itself used per request (user + system), in microseconds. */
  cpuUsPerRequest: number | null;
  errors: string;
}

/** User + system CPU of a process so far, in clock ticks (100 a second on Linux). */
function cpuTicks(pid: number | undefined): number {
  if (pid === undefined) return 0;
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return Number(fields[11]) + Number(fields[12]);
  } catch {
    return 0;
  }
}

function parseWrk(output: string): { requestsPerSecond: number; p99Ms: number; errors: string } {
  const rps = /Requests\/sec:\s+([\d.]+)/.exec(output);
  const p99 = /^\s*99%\s+([\d.]+)(us|ms|s)\s*$/m.exec(output);
  if (!rps || !p99) throw new Error(`cannot read wrk's output:\n${output}`);
  const scale = p99[2] === 'us' ? 0.001 : p99[2] === 's' ? 1000 : 1;
  const errors = [/Socket errors: (.*)/.exec(output)?.[1], /Non-2xx or 3xx responses: (\d+)/.exec(output)?.[0]].filter(Boolean).join('; ');
  return { requestsPerSecond: Number(rps[1]), p99Ms: Number(p99[1]) * scale, errors };
}

async function waitForPort(netns: string, host: string, port: number, what: string): Promise<void> {
  for (let i = 0; i < 100; i++) {
    const probe = await run('ip', ['netns', 'exec', netns, 'bash', '-c', `exec 3<>/dev/tcp/${host}/${port}`], { timeout: 2000 }).then(
      () => true,
      () => false,
    );
    if (probe) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${what} did not start listening on ${host}:${port} in the namespace ${netns}`);
}

function spawnIn(netns: string, args: string[], children: ChildProcess[], output: string[]): ChildProcess {
  const child = spawn('ip', ['netns', 'exec', netns, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  const keep = (chunk: Buffer): void => {
    output.push(chunk.toString());
    if (output.length > 100) output.shift();
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  children.push(child);
  return child;
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  await new Promise<void>((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

async function main(): Promise<void> {
  if (process.getuid?.() !== 0) throw new Error('bench:l4 needs root (it makes a network namespace and binds a ClusterIP there)');
  for (const tool of ['wrk', 'haproxy', 'busybox', 'iptables']) {
    await run('sh', ['-c', `command -v ${tool} || test -x /usr/sbin/${tool}`]).catch(() => {
      throw new Error(`bench:l4 needs ${tool}: apt-get install -y ${tool === 'busybox' ? 'busybox-static' : tool}`);
    });
  }
  const seconds = flag('seconds', 5);
  const connections = flag('connections', 16);
  const rounds = flag('rounds', 3);
  const netns = `bl4-${process.pid}`;
  const dnatNetns = `bl4d-${process.pid}`;
  const dir = await mkdtemp(join(tmpdir(), `${netns}-`));
  const children: ChildProcess[] = [];
  const output: string[] = [];
  try {
    await writeFile(join(dir, 'index.html'), `<html><body>${'bramble '.repeat(64)}</body></html>\n`);
    // The kernel-DNAT reference gets a namespace (and backends) of its own: NAT rules turn on
    // connection tracking for every connection of a namespace, which would tax the others.
    for (const ns of [netns, dnatNetns]) {
      await run('ip', ['netns', 'add', ns]);
      await run('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
      // wrk, on the same host, often closes first (it has the whole response before the FIN
      // arrives) and keeps the TIME_WAIT. The kernel reuses those ports only for 127/8 by default
      // (tcp_tw_reuse=2), so wrk would run out of ports on the ClusterIP alone within seconds;
      // allow reuse for every target in this namespace (its own sysctl, not the host's).
      await run('ip', ['netns', 'exec', ns, 'sysctl', '-q', '-w', 'net.ipv4.tcp_tw_reuse=1']);
      for (const port of BACKEND_PORTS) spawnIn(ns, ['busybox', 'httpd', '-f', '-p', `127.0.0.1:${port}`, '-h', dir], children, output);
    }
    const haproxyConfig = join(dir, 'haproxy.cfg');
    await writeFile(
      haproxyConfig,
      [
        'global',
        '  maxconn 4096',
        'defaults',
        '  mode tcp',
        '  timeout connect 1s',
        '  timeout client 30s',
        '  timeout server 30s',
        'listen web',
        `  bind 127.0.0.1:${HAPROXY_PORT}`,
        '  balance roundrobin',
        ...BACKEND_PORTS.map((port, i) => `  server b${i + 1} 127.0.0.1:${port}`),
        '',
      ].join('\n'),
    );
    const haproxy = spawnIn(netns, ['haproxy', '-db', '-f', haproxyConfig], children, output);
    // BENCH_PROXY_PROF=1 writes a CPU profile of the balancer to /tmp/prof (where its time goes)
    const proxy = spawnIn(netns, [process.execPath, ...(process.env['BENCH_PROXY_PROF'] ? ['--cpu-prof', '--cpu-prof-dir=/tmp/prof'] : []), '--import', './scripts/ts-loader.mjs', 'bench/l4.ts', '--proxy-child'], children, output);
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`bramble's balancer did not start in 20 s:\n${output.join('')}`)), 20_000);
      proxy.stdout!.on('data', (chunk: Buffer) => {
        if (chunk.toString().includes('ready')) {
          clearTimeout(timer);
          resolve();
        }
      });
      proxy.once('exit', (code) => reject(new Error(`bramble's balancer exited (${code}):\n${output.join('')}`)));
    });
    for (const ns of [netns, dnatNetns]) for (const port of BACKEND_PORTS) await waitForPort(ns, '127.0.0.1', port, 'busybox httpd');
    await waitForPort(netns, '127.0.0.1', HAPROXY_PORT, 'haproxy');
    // Round robin in the kernel: the first rule takes every 3rd new connection, the second every
    // 2nd of the rest, the last the remainder (conntrack keeps each connection on its backend).
    await run('ip', ['-n', dnatNetns, 'address', 'add', `${DNAT_IP}/32`, 'dev', 'lo']);
    for (const [i, port] of BACKEND_PORTS.entries()) {
      const left = BACKEND_PORTS.length - i;
      const nth = left > 1 ? ['-m', 'statistic', '--mode', 'nth', '--every', String(left), '--packet', '0'] : [];
      await run('ip', ['netns', 'exec', dnatNetns, 'iptables', '-w', '-t', 'nat', '-A', 'OUTPUT', '-d', `${DNAT_IP}/32`, '-p', 'tcp', '--dport', String(SERVICE_PORT), ...nth, '-j', 'DNAT', '--to-destination', `127.0.0.1:${port}`]);
    }

    // `ip netns exec` execs the command, so these pids are haproxy's and the balancer's own.
    const targets = [
      { target: 'direct', url: `http://127.0.0.1:${BACKEND_PORTS[0]}/index.html`, pid: undefined, ns: netns },
      { target: 'haproxy', url: `http://127.0.0.1:${HAPROXY_PORT}/index.html`, pid: haproxy.pid, ns: netns },
      { target: 'bramble', url: `http://${CLUSTER_IP}:${SERVICE_PORT}/index.html`, pid: proxy.pid, ns: netns },
      { target: 'dnat', url: `http://${DNAT_IP}:${SERVICE_PORT}/index.html`, pid: undefined, ns: dnatNetns },
    ];
    const wrk = async ({ url, ns }: { url: string; ns: string }, mode: Mode, clients: number, duration: number): Promise<ReturnType<typeof parseWrk>> => {
      const header = mode === 'newconn' ? ['-H', 'Connection: close'] : [];
      const { stdout } = await run('ip', ['netns', 'exec', ns, 'wrk', '-t1', `-c${clients}`, `-d${duration}s`, '--latency', ...header, url], { timeout: (duration + 30) * 1000 });
      return parseWrk(stdout);
    };
    // A short warm-up (JIT, caches, TIME_WAIT churn) before anything is measured.
    for (const t of targets) await wrk(t, 'keepalive', connections, 2);
    // Throughput: the targets take turns, round after round, so a noisy moment of this shared
    // machine hits them all alike; each figure is the median of its rounds.
    const samples = new Map<string, Result[]>();
    for (let round = 1; round <= rounds; round++) {
      for (const mode of MODES) {
        for (const t of targets) {
          const { target, pid } = t;
          const ticksBefore = cpuTicks(pid);
          const parsed = await wrk(t, mode, connections, seconds);
          const cpuUsPerRequest = pid === undefined ? null : ((cpuTicks(pid) - ticksBefore) * 10_000) / (parsed.requestsPerSecond * seconds);
          const key = `${target} ${mode}`;
          samples.set(key, [...(samples.get(key) ?? []), { target, mode, ...parsed, cpuUsPerRequest }]);
          process.stderr.write(`bench:l4: round ${round}: ${target} ${mode}: ${parsed.requestsPerSecond} req/s, p99 ${parsed.p99Ms} ms${parsed.errors ? ` (${parsed.errors})` : ''}\n`);
        }
      }
    }
    const results: Result[] = [...samples.values()].map((list) => ({
      ...list[0]!,
      requestsPerSecond: median(list.map((r) => r.requestsPerSecond)),
      p99Ms: median(list.map((r) => r.p99Ms)),
      cpuUsPerRequest: list[0]!.cpuUsPerRequest === null ? null : median(list.map((r) => r.cpuUsPerRequest!)),
      errors: list.map((r) => r.errors).filter(Boolean).join('; '),
    }));
    // Latency a balancer adds: one connection, one request at a time, so no queueing on the two
    // cores hides it (at saturation every p99 is the run queue's, HAProxy's too).
    const unloaded = new Map<string, number>();
    for (const mode of MODES) {
      for (const t of targets) {
        const { target } = t;
        const parsed = await wrk(t, mode, 1, seconds);
        unloaded.set(`${target} ${mode}`, parsed.p99Ms);
        process.stderr.write(`bench:l4: one connection: ${target} ${mode}: p99 ${parsed.p99Ms} ms\n`);
      }
    }

    const find = (target: string, mode: string) => results.find((r) => r.target === target && r.mode === mode)!;
    const lines = [
      `bench:l4: wrk -t1 -c${connections} -d${seconds}s, medians of ${rounds} alternating rounds, 3 busybox httpd backends, netns ${netns} (dnat: ${dnatNetns})`,
      `${'target'.padEnd(10)}${'mode'.padEnd(12)}${'req/s'.padStart(10)}${'p99 ms'.padStart(10)}${'cpu us/req'.padStart(12)}${'p99 ms -c1'.padStart(12)}`,
      ...results.map(
        (r) =>
          `${r.target.padEnd(10)}${r.mode.padEnd(12)}${r.requestsPerSecond.toFixed(0).padStart(10)}${r.p99Ms.toFixed(2).padStart(10)}${(r.cpuUsPerRequest === null ? '-' : r.cpuUsPerRequest.toFixed(0)).padStart(12)}${unloaded.get(`${r.target} ${r.mode}`)!.toFixed(2).padStart(12)}${r.errors ? `  errors: ${r.errors}` : ''}`,
      ),
      'busybox httpd answers HTTP/1.0 and closes every connection: the keep-alive runs open a connection per request too.',
      'dnat: for reference, iptables DNAT round robin in the kernel (kube-proxy iptables mode): no user-space hop, no retry of a refusing backend.',
    ];
    for (const mode of MODES) {
      const added = (target: string) => unloaded.get(`${target} ${mode}`)! - unloaded.get(`direct ${mode}`)!;
      lines.push(`added p99 over direct, one connection, ${mode}: bramble ${added('bramble').toFixed(2)} ms, haproxy ${added('haproxy').toFixed(2)} ms`);
    }
    for (const mode of MODES) {
      lines.push(`ratio bramble/haproxy ${mode}: ${(find('bramble', mode).requestsPerSecond / find('haproxy', mode).requestsPerSecond).toFixed(2)}`);
    }
    for (const mode of MODES) {
      lines.push(`for reference, ratio dnat/haproxy ${mode}: ${(find('dnat', mode).requestsPerSecond / find('haproxy', mode).requestsPerSecond).toFixed(2)}`);
    }
    const met = MODES.every((mode) => find('bramble', mode).requestsPerSecond >= 0.8 * find('haproxy', mode).requestsPerSecond && unloaded.get(`bramble ${mode}`)! - unloaded.get(`direct ${mode}`)! < 1);
    lines.push(`target: ratio >= 0.80 on both, added p99 < 1 ms: ${met ? 'met' : 'NOT met'}`);
    process.stdout.write(`${lines.join('\n')}\n`);
  } finally {
    for (const child of children.reverse()) await stopChild(child);
    for (const ns of [netns, dnatNetns]) await run('ip', ['netns', 'del', ns]).catch(() => undefined);
    await rm(dir, { recursive: true, force: true });
  }
}

if (process.argv.includes('--proxy-child')) {
  await proxyChild();
} else {
  await main();
}
