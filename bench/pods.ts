// npm run bench:pods — time from API create to `Running` (seen through a watch) for 30 busybox
// pods created one after another, then 30 at once, next to the floor: a raw `ctr run -d` of the
// same image on the same containerd, in the same run (one floor run before each sequential pod). Prints p50/p99 of each, the daemon's RSS
// with 30 pods, and `ratio bramble/ctr-floor p50: <x>`.
//
// The gateway runs in a network namespace of its own (its bridge and iptables rules stay out of
// this machine's), so the script re-runs itself inside one and removes it at the end.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Agent, request } from 'undici';
import { percentile } from './lib/load.ts';
import { rssBytes, startProc } from './lib/procs.ts';
import { waitHttp } from './lib/bramble-cluster.ts';

const PODS = Number(process.env.BENCH_PODS ?? 30);
const API = 'http://127.0.0.1:7080';

function log(text: string): void {
  process.stderr.write(`bench: ${text}\n`);
}

function outside(): void {
  const ns = `bbench${process.pid}`;
  spawnSync('ip', ['netns', 'del', ns]);
  execFileSync('ip', ['netns', 'add', ns]);
  const before = new Set(spawnSync('ip', ['netns', 'list'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).stdout.split('\n').map((l) => l.split(' ')[0]));
  try {
    execFileSync('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
    const r = spawnSync('ip', ['netns', 'exec', ns, process.execPath, ...process.execArgv, process.argv[1]!], { stdio: 'inherit', env: { ...process.env, BENCH_IN_NS: ns }, timeout: 20 * 60_000 });
    process.exitCode = r.status ?? 1;
  } finally {
    // every process left in the namespace, then pod namespaces made while we ran, then ours
    for (const pid of spawnSync('ip', ['netns', 'pids', ns], { encoding: 'utf8' }).stdout.split('\n').filter(Boolean)) spawnSync('kill', ['-9', pid]);
    for (const line of spawnSync('ip', ['netns', 'list'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).stdout.split('\n')) {
      const name = line.split(' ')[0];
      if (name && name.startsWith('bramble-') && !before.has(name)) spawnSync('ip', ['netns', 'del', name]);
    }
    spawnSync('ip', ['netns', 'del', ns]);
  }
}

function pod(name: string) {
  return { apiVersion: 'v1', kind: 'Pod', metadata: { name, labels: { bench: 'pods' } }, spec: { nodeName: 'bench', terminationGracePeriodSeconds: 1, containers: [{ name: 'c', image: 'busybox', command: ['sleep', '3600'] }] } };
}

async function call(method: string, path: string, body?: unknown): Promise<{ status: number; json: any }> {
  const res = await request(`${API}${path}`, { method: method as 'GET', ...(body !== undefined ? { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } } : {}) });
  const text = await res.body.text();
  return { status: res.statusCode, json: text ? JSON.parse(text) : undefined };
}

/** Resolves with the time each pod was first seen Running, from one watch. */
function runningWatch(agent: Agent, fromRevision: string): { seen: Map<string, number>; waitFor(names: string[], ms: number): Promise<void>; close(): void } {
  const seen = new Map<string, number>();
  const waiters: (() => void)[] = [];
  const abort = new AbortController();
  void (async () => {
    const res = await request(`${API}/api/v1/namespaces/default/pods?watch=true&resourceVersion=${fromRevision}&labelSelector=bench%3Dpods`, { dispatcher: agent, signal: abort.signal });
    let buffer = '';
    try {
      for await (const chunk of res.body) {
        const now = performance.now();
        buffer += chunk.toString();
        let nl;
        while ((nl = buffer.indexOf('\n')) >= 0) {
          const event = JSON.parse(buffer.slice(0, nl)) as { object: { metadata: { name: string }; status?: { phase?: string } } };
          buffer = buffer.slice(nl + 1);
          if (event.object.status?.phase === 'Running' && !seen.has(event.object.metadata.name)) {
            seen.set(event.object.metadata.name, now);
            for (const w of waiters.splice(0)) w();
          }
        }
      }
    } catch {
      // closed
    }
  })();
  return {
    seen,
    async waitFor(names, ms) {
      const deadline = Date.now() + ms;
      while (!names.every((n) => seen.has(n))) {
        if (Date.now() > deadline) throw new Error(`pods not Running within ${ms} ms: ${names.filter((n) => !seen.has(n)).join(', ')}`);
        await new Promise<void>((r) => {
          waiters.push(r);
          setTimeout(r, 200);
        });
      }
    },
    close: () => abort.abort(),
  };
}

function summary(values: number[]): { p50: number; p99: number } {
  const sorted = [...values].sort((a, b) => a - b);
  return { p50: percentile(sorted, 50), p99: percentile(sorted, 99) };
}

async function inside(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'bramble-bench-pods-'));
  const dataDir = join(dir, 'data');
  // BRAMBLE_BUNDLE: another build of the daemon (a private one while others rebuild dist/).
  const bundle = process.env.BRAMBLE_BUNDLE ?? join(process.cwd(), 'dist', 'bramble.mjs');
  // Run as shipped: the bundle's first line gives node its flags.
  const daemon = startProc(bundle, ['server', '--name', 'bench', '--data-dir', dataDir, '--board', 'generic-x86_64', '--log-level', 'warn']);
  const socket = join(dataDir, 'containerd', 'containerd.sock');
  const ctr = (args: string[]) => execFileSync('ctr', ['--address', socket, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  const agent = new Agent({ connections: 64 });
  try {
    await waitHttp(`${API}/readyz`, 30_000);
    for (const started = Date.now(); (await call('GET', '/api/v1/nodes/bench')).status !== 200; ) {
      if (Date.now() - started > 60_000) throw new Error('the agent did not register its node');
      await new Promise((r) => setTimeout(r, 100));
    }
    // Warm-up: one pod through the whole path (image, bridge, first sandbox).
    const rv0 = (await call('GET', '/api/v1/namespaces/default/pods')).json.metadata.resourceVersion as string;
    const warm = runningWatch(agent, rv0);
    await call('POST', '/api/v1/namespaces/default/pods', pod('warm'));
    await warm.waitFor(['warm'], 60_000);
    warm.close();

    // The floor: raw ctr run -d of the same image, in a containerd namespace of its own (the agent
    // removes containers in its namespace that no pod owns). Each floor run is followed by one
    // sequential pod, so that both see the same load on the machine (others' work drifts).
    const imageTar = join(dir, 'busybox.tar');
    ctr(['-n', 'bramble', 'images', 'export', imageTar, 'docker.io/library/busybox:latest']);
    ctr(['-n', 'bench-floor', 'images', 'import', imageTar]);
    const floor: number[] = [];
    const loadBefore = loadavg()[0]!;

    // Sequential: create, wait for Running through the watch, next.
    const rv1 = (await call('GET', '/api/v1/namespaces/default/pods')).json.metadata.resourceVersion as string;
    const watch = runningWatch(agent, rv1);
    const sequential: number[] = [];
    for (let i = 0; i < PODS; i++) {
      const f0 = performance.now();
      ctr(['-n', 'bench-floor', 'run', '-d', '--null-io', 'docker.io/library/busybox:latest', `floor-${i}`, 'sleep', '3600']);
      floor.push(performance.now() - f0);
      const name = `seq-${i}`;
      const t0 = performance.now();
      const r = await call('POST', '/api/v1/namespaces/default/pods', pod(name));
      if (r.status !== 201) throw new Error(`create ${name}: HTTP ${r.status} ${JSON.stringify(r.json)}`);
      await watch.waitFor([name], 60_000);
      sequential.push(watch.seen.get(name)! - t0);
    }
    log(`ctr run -d floor: p50 ${summary(floor).p50.toFixed(0)} ms`);
    log(`sequential: p50 ${summary(sequential).p50.toFixed(0)} ms`);
    const rss30 = rssBytes(daemon.pid);
    for (let i = 0; i < PODS; i++) {
      spawnSync('ctr', ['--address', socket, '-n', 'bench-floor', 'tasks', 'kill', '-s', 'KILL', `floor-${i}`]);
    }
    await new Promise((r) => setTimeout(r, 500));
    for (let i = 0; i < PODS; i++) {
      spawnSync('ctr', ['--address', socket, '-n', 'bench-floor', 'tasks', 'rm', '-f', `floor-${i}`]);
      spawnSync('ctr', ['--address', socket, '-n', 'bench-floor', 'containers', 'rm', `floor-${i}`]);
    }

    // 30 at once.
    const created = new Map<string, number>();
    await Promise.all(
      Array.from({ length: PODS }, async (_, i) => {
        const name = `par-${i}`;
        created.set(name, performance.now());
        const r = await call('POST', '/api/v1/namespaces/default/pods', pod(name));
        if (r.status !== 201) throw new Error(`create ${name}: HTTP ${r.status}`);
      }),
    );
    await watch.waitFor([...created.keys()], 180_000);
    const parallel = [...created].map(([name, t0]) => watch.seen.get(name)! - t0);
    watch.close();
    const rss60 = rssBytes(daemon.pid);

    const f = summary(floor);
    const s = summary(sequential);
    const p = summary(parallel);
    const rows = [
      ['ctr run -d (floor)', String(PODS), f.p50.toFixed(0), f.p99.toFixed(0)],
      ['bramble sequential', String(PODS), s.p50.toFixed(0), s.p99.toFixed(0)],
      ['bramble 30 at once', String(PODS), p.p50.toFixed(0), p.p99.toFixed(0)],
    ];
    const head = ['workload', 'pods', 'p50 ms', 'p99 ms'];
    const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
    console.log([head, ...rows].map((cells) => cells.map((c, i) => c.padEnd(widths[i]!)).join('  ')).join('\n'));
    console.log('');
    console.log(`daemon RSS with ${PODS + 1} pods: ${(rss30 / 1024 / 1024).toFixed(1)} MB; with ${2 * PODS + 1}: ${(rss60 / 1024 / 1024).toFixed(1)} MB`);
    console.log(`machine load average (1 min) at the start of the sequential runs: ${loadBefore.toFixed(1)}; at the end: ${loadavg()[0]!.toFixed(1)} (${cpus().length} cores)`);
    console.log(`ratio bramble/ctr-floor p50: ${(s.p50 / f.p50).toFixed(2)}`);
  } finally {
    await agent.close();
    // The daemon goes first (its containerd stays up: containers outlive the daemon on purpose),
    // then every container the bench made, through that containerd, then containerd itself.
    await daemon.stop('SIGKILL');
    for (const ns of ['bramble', 'bench-floor']) {
      const list = (what: string) => spawnSync('ctr', ['--address', socket, '-n', ns, what, 'ls', '-q'], { encoding: 'utf8', timeout: 30_000 }).stdout?.split('\n').filter(Boolean) ?? [];
      const tasks = list('tasks');
      for (const t of tasks) spawnSync('ctr', ['--address', socket, '-n', ns, 'tasks', 'kill', '-s', 'KILL', t], { timeout: 30_000 });
      await new Promise((r) => setTimeout(r, 500));
      for (const t of tasks) spawnSync('ctr', ['--address', socket, '-n', ns, 'tasks', 'rm', '-f', t], { timeout: 30_000 });
      for (const c of list('containers')) spawnSync('ctr', ['--address', socket, '-n', ns, 'containers', 'rm', c], { timeout: 30_000 });
    }
    spawnSync('pkill', ['-f', `containerd --config ${join(dataDir, 'containerd')}`]);
    // The daemon's mounts (pods' pinned IPC/UTS namespaces) are in this mount namespace too.
    const mounts = readFileSync('/proc/self/mounts', 'utf8').split('\n').map((line) => line.split(' ')[1] ?? '').filter((point) => point.startsWith(dir));
    for (const point of mounts.sort((a, b) => b.length - a.length)) spawnSync('umount', ['-l', point]);
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.env.BENCH_IN_NS) {
  // Exit explicitly: processes the daemon left (containerd, shims) may hold our pipes open.
  inside().then(
    () => process.exit(0),
    (error: unknown) => {
      console.error(error);
      process.exit(1);
    },
  );
} else {
  outside();
}
