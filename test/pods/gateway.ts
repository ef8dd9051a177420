// One real gateway for the pods tests: `node dist/bramble.mjs server` WITH its node agent (its own
// containerd, CNI bridge, pods) inside a network namespace of its own, as
// ../shared/recipes/host-lab.md says. The API listens on 127.0.0.1:7080 inside that namespace;
// the test reaches it through a tiny proxy started in the namespace that forwards a unix socket
// under the temp directory to it (a socket file is reachable from every mount namespace, and
// nothing is added to the machine's own network namespace).
//
// cleanup() — pass or fail — stops the daemon, kills every container (through ctr while
// containerd answers, and by the pids in the containers' cgroups in any case), the containerd
// and shims it started (found by the socket path in their command line), every process left in
// the gateway's namespace, removes the pod network namespaces of this gateway (their names carry
// a hash of its unique node name), the gateway namespace, empty cgroup directories of its
// containers (rmdir only) and the temp directory; then it checks that none of it is left.
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { appendFileSync, closeSync, existsSync, mkdtempSync, openSync, readdirSync, readFileSync, rmdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Agent, request } from 'undici';
import { podNetnsName } from '../../src/network/netns.ts';
import { writeTestProfile } from '../helpers/members.ts';

// BRAMBLE_BUNDLE: run another build of the daemon (a private one while others rebuild dist/).
const bundle = process.env.BRAMBLE_BUNDLE ?? join(process.cwd(), 'dist', 'bramble.mjs');
const CGROUP_ROOT = '/sys/fs/cgroup';
const NETNS_DIR = '/run/netns';

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export function requireRoot(): void {
  if (process.getuid?.() !== 0) {
    throw new Error('the pods tests run real containerd, runc and CNI in network namespaces: run them as root on a machine prepared by `sh scripts/setup.sh host`');
  }
  if (!existsSync(bundle)) throw new Error(`${bundle} is missing: run \`node build.mjs\` first (the pods tests run the real daemon)`);
  warnIfStale();
}

let staleChecked = false;

/** The tests run the bundle, not the sources: say so when the sources changed since the build. */
function warnIfStale(): void {
  if (staleChecked) return;
  staleChecked = true;
  const built = statSync(bundle).mtimeMs;
  const newer: string[] = [];
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name.endsWith('.ts') && statSync(p).mtimeMs > built) newer.push(p);
    }
  };
  walk(join(process.cwd(), 'src'));
  if (newer.length > 0) console.error(`warning: dist/bramble.mjs is older than ${newer.length} source file(s) (${newer.slice(0, 3).join(', ')}...): these tests run the bundle; rebuild with \`node build.mjs\` (npm test does)`);
}

export interface ApiAnswer {
  status: number;
  json: any;
}

export interface ExecAnswer {
  exitCode: number;
  stdout: string;
  stderr: string;
}

export type Pod = {
  metadata: { name: string; uid: string; deletionTimestamp?: string };
  spec: Record<string, any>;
  status?: {
    phase?: string;
    podIP?: string;
    reason?: string;
    message?: string;
    conditions?: { type: string; status: string }[];
    containerStatuses?: ContainerStatus[];
    initContainerStatuses?: ContainerStatus[];
  };
};

export interface ContainerStatus {
  name: string;
  ready: boolean;
  started?: boolean;
  restartCount: number;
  containerID?: string;
  state: { running?: { startedAt: string }; waiting?: { reason: string; message?: string }; terminated?: Terminated };
  lastState?: { terminated?: Terminated };
}

export interface Terminated {
  exitCode: number;
  reason?: string;
  message?: string;
  startedAt?: string;
  finishedAt?: string;
}

export interface TaskRow {
  id: string;
  pid: number;
  status: string;
}

export interface Gateway {
  /** Unique node (member) name: pods bind to it with spec.nodeName. */
  name: string;
  /** The gateway's network namespace. */
  ns: string;
  dir: string;
  dataDir: string;
  /** containerd's socket (under the data directory). */
  socket: string;
  daemon: ChildProcess | null;
  /** Starts the daemon and waits for /readyz and for its node agent. */
  start(extra?: string[]): Promise<void>;
  /** kill -9 of the daemon; containerd and the containers stay. */
  kill9(): Promise<void>;
  /** SIGTERM, waits for the exit; answers the exit code. */
  stop(): Promise<number | null>;
  /** Stop, then kill containerd, every container and shim, the pod network namespaces, the
   *  bridge and the firewall rules of the gateway: what a power cut leaves. */
  simulateReboot(): Promise<void>;
  api(method: string, path: string, body?: unknown): Promise<ApiAnswer>;
  createPod(manifest: Record<string, any>, namespace?: string): Promise<Pod>;
  getPod(name: string, namespace?: string): Promise<Pod | undefined>;
  deletePod(name: string, options?: { gracePeriodSeconds?: number }): Promise<ApiAnswer>;
  exec(pod: string, container: string, command: string[]): Promise<ExecAnswer>;
  /** Polls the pod until `check` answers a value (not undefined); fails with the last status. */
  waitPod<T>(name: string, what: string, check: (pod: Pod) => T | undefined, timeoutMs?: number): Promise<T>;
  waitGone(name: string, timeoutMs?: number): Promise<void>;
  /** `ctr --address SOCKET -n bramble ARGS...`. */
  ctr(args: string[]): string;
  tasks(): Map<string, TaskRow>;
  /** The CLI run inside the gateway's namespace against its own API. */
  cli(args: string[]): { code: number; stdout: string; stderr: string };
  /** The daemon's log lines (JSON) since it was first started. */
  log(): string;
  /** Pod network namespaces of this gateway that exist now. */
  podNetns(): string[];
  cleanup(): Promise<void>;
}

function run(file: string, args: string[], timeout = 10_000): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(file, args, { encoding: 'utf8', timeout });
  return { code: r.status ?? -1, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
}

function cmdlineOf(pid: string): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ');
  } catch {
    return '';
  }
}

/** Processes whose command line mentions `needle` (containerd, shims, the daemon). */
function pidsMentioning(needle: string): number[] {
  const out: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    if (cmdlineOf(entry).includes(needle)) out.push(Number(entry));
  }
  return out;
}

function cgroupControllers(): string[] {
  try {
    return readdirSync(CGROUP_ROOT).filter((c) => {
      try {
        return statSync(join(CGROUP_ROOT, c)).isDirectory();
      } catch {
        return false;
      }
    });
  } catch {
    return [];
  }
}

/** cgroup directories of the bramble containerd namespace whose container ID starts with a prefix. */
function cgroupDirs(prefixes: string[]): string[] {
  if (prefixes.length === 0) return [];
  const dirs: string[] = [];
  for (const controller of cgroupControllers()) {
    const base = join(CGROUP_ROOT, controller, 'bramble');
    let entries: string[];
    try {
      entries = readdirSync(base);
    } catch {
      continue;
    }
    for (const e of entries) if (prefixes.some((p) => e.startsWith(p))) dirs.push(join(base, e));
  }
  return dirs;
}

function pidsInCgroups(dirs: string[]): number[] {
  const pids = new Set<number>();
  for (const d of dirs) {
    try {
      for (const line of readFileSync(join(d, 'cgroup.procs'), 'utf8').split('\n')) if (line.trim()) pids.add(Number(line));
    } catch {
      // gone
    }
  }
  return [...pids];
}

/** The proxy run inside the gateway netns: unix socket (outside reachable) -> 127.0.0.1:7080. */
export function proxySource(socketPath: string, target = { host: '127.0.0.1', port: 7080 }): string {
  return `
const net = require('node:net'); const fs = require('node:fs');
const path = ${JSON.stringify(socketPath)};
try { fs.unlinkSync(path); } catch {}
const parent = process.ppid;
setInterval(() => { if (process.ppid !== parent) process.exit(0); }, 500).unref();
net.createServer((c) => {
  const u = net.connect(${target.port}, ${JSON.stringify(target.host)});
  c.pipe(u); u.pipe(c);
  const end = () => { c.destroy(); u.destroy(); };
  c.on('error', end); u.on('error', end); c.on('close', end); u.on('close', end);
}).listen(path, () => process.stdout.write('listening\\n'));
`;
}

export interface SweepTarget {
  dir: string;
  ns: string;
  netnsPrefix: string;
  socket: string;
  podUids: string[];
  nsCreated: boolean;
}

/**
 * Removes everything a gateway made: containers (through ctr while containerd answers, and by
 * the pids in their cgroups in any case), containerd, shims and any process naming the temp dir,
 * every process in the gateway's netns, the pod network namespaces, the gateway netns, empty
 * cgroup directories (rmdir only), the temp dir. Then checks that none of it is left.
 */
export async function sweep(t: SweepTarget): Promise<void> {
  const { dir, ns, netnsPrefix, socket } = t;
  const problems: string[] = [];
  const attempt = async (what: string, step: () => unknown) => {
    try {
      await step();
    } catch (error) {
      problems.push(`${what}: ${(error as Error).message}`);
    }
  };
  const containerIds = new Set<string>();
  const ctrRun = (args: string[]) => run('ctr', ['--address', socket, '-n', 'bramble', ...args]);
  if (existsSync(socket) && run('ctr', ['--address', socket, 'version'], 3_000).code === 0) {
    await attempt('kill containers through ctr', async () => {
      const tasks = ctrRun(['tasks', 'ls', '-q']).stdout.split('\n').filter(Boolean);
      for (const task of tasks) ctrRun(['tasks', 'kill', '-s', 'KILL', task]);
      for (const c of ctrRun(['containers', 'ls', '-q']).stdout.split('\n').filter(Boolean)) containerIds.add(c);
      if (tasks.length > 0) await sleep(300);
      for (const c of containerIds) {
        ctrRun(['tasks', 'rm', '-f', c]);
        ctrRun(['containers', 'rm', c]);
      }
    });
  }
  // whatever is still in our containers' cgroups (container IDs start with the pod UID)
  const prefixes = [...t.podUids, ...containerIds];
  await attempt('kill container processes', async () => {
    for (let i = 0; i < 40; i++) {
      const pids = pidsInCgroups(cgroupDirs(prefixes));
      if (pids.length === 0) return;
      for (const pid of pids) kill(pid);
      await sleep(50);
    }
    throw new Error(`still running: ${pidsInCgroups(cgroupDirs(prefixes)).join(', ')}`);
  });
  // the daemon, containerd, shims, a `ctr events` a killed daemon left: their command lines name the dir
  await attempt('kill containerd and shims', async () => {
    for (let i = 0; i < 40; i++) {
      const pids = pidsMentioning(dir);
      if (pids.length === 0) return;
      for (const pid of pids) kill(pid);
      await sleep(50);
    }
  });
  // every process left in the gateway's namespace (the API proxy, a stray plugin)
  if (t.nsCreated) for (const pid of run('ip', ['netns', 'pids', ns]).stdout.split('\n').filter(Boolean)) kill(Number(pid));
  const podNetns = () => {
    try {
      return readdirSync(NETNS_DIR).filter((n) => n.startsWith(netnsPrefix));
    } catch {
      return [];
    }
  };
  await attempt('remove pod network namespaces', () => {
    for (const n of podNetns()) {
      const r = run('ip', ['netns', 'del', n]);
      if (r.code !== 0 && existsSync(join(NETNS_DIR, n))) throw new Error(`ip netns del ${n}: ${r.stderr.trim()}`);
    }
  });
  if (t.nsCreated) {
    await attempt('remove the gateway namespace', () => {
      const r = run('ip', ['netns', 'del', ns]);
      if (r.code !== 0 && existsSync(join(NETNS_DIR, ns))) throw new Error(r.stderr.trim());
    });
  }
  await attempt('remove cgroups', async () => {
    for (let i = 0; i < 40; i++) {
      const dirs = cgroupDirs(prefixes);
      if (dirs.length === 0) return;
      for (const d of dirs) {
        try {
          rmdirSync(d);
        } catch {
          // not empty yet
        }
      }
      await sleep(50);
    }
    throw new Error(`cgroup directories left: ${cgroupDirs(prefixes).join(', ')}`);
  });
  await attempt('unmount and remove the temp dir', () => {
    const mounts = readFileSync('/proc/self/mounts', 'utf8')
      .split('\n')
      .map((l) => l.split(' ')[1] ?? '')
      .filter((m) => m.startsWith(dir))
      .sort((a, b) => b.length - a.length);
    for (const m of mounts) run('umount', ['-l', m]);
    rmSync(dir, { recursive: true, force: true });
  });
  // nothing of ours may be left
  const left: string[] = [];
  const procs = pidsMentioning(dir);
  if (procs.length > 0) left.push(`processes ${procs.map((p) => `${p} (${cmdlineOf(String(p)).slice(0, 80)})`).join(', ')}`);
  if (podNetns().length > 0) left.push(`pod netns ${podNetns().join(', ')}`);
  if (existsSync(join(NETNS_DIR, ns))) left.push(`netns ${ns}`);
  if (cgroupDirs(prefixes).length > 0) left.push(`cgroups ${cgroupDirs(prefixes).join(', ')}`);
  if (existsSync(dir)) left.push(`directory ${dir}`);
  if (left.length > 0) problems.push(`left behind: ${left.join('; ')}`);
  if (problems.length > 0) throw new Error(`cleanup of ${ns}: ${problems.join(' | ')}`);
}

function kill(pid: number): void {
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // gone
  }
}

const live = new Set<Gateway>();
let handlersInstalled = false;

// Ctrl-C or the test runner's SIGTERM: clean up the gateways of this process before leaving.
function installSignalHandlers(): void {
  if (handlersInstalled) return;
  handlersInstalled = true;
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      void Promise.allSettled([...live].map((gw) => gw.cleanup())).then(() => process.exit(130));
    });
  }
}

/**
 * Leftovers of a test process that died before its cleanup (kill -9, a crash): each gateway's
 * temp dir records its owner's pid and its pods' UIDs; sweep those whose owner is gone.
 */
async function sweepOrphans(): Promise<void> {
  for (const entry of readdirSync(tmpdir())) {
    const m = /^bramble-pods-([0-9a-f]{6})-/.exec(entry);
    if (!m) continue;
    const dir = join(tmpdir(), entry);
    let owner = 0;
    try {
      owner = Number(readFileSync(join(dir, 'owner'), 'utf8'));
    } catch {
      continue; // being set up right now, or not ours
    }
    if (owner > 0 && processAlive(owner)) continue;
    let uids: string[] = [];
    try {
      uids = readFileSync(join(dir, 'pod-uids'), 'utf8').split('\n').filter(Boolean);
    } catch {
      // no pods
    }
    const id = m[1]!;
    await sweep({ dir, ns: `bpt-${id}`, netnsPrefix: podNetnsName(`gwp${id}`, 'x').slice(0, -1), socket: join(dir, 'data', 'containerd', 'containerd.sock'), podUids: uids, nsCreated: true }).catch((error: unknown) =>
      console.error(`sweeping the leftovers of a dead test run: ${(error as Error).message}`),
    );
  }
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** One request through a gateway's API socket; the answer's JSON (or text). */
export async function apiRequest(dispatcher: Agent, method: string, path: string, body?: unknown, headers: Record<string, string> = {}, contentType = 'application/json'): Promise<ApiAnswer> {
  const res = await request(`http://gateway${path}`, {
    method: method as 'GET',
    dispatcher,
    headersTimeout: 15_000,
    bodyTimeout: 15_000,
    headers: { ...headers, ...(body !== undefined ? { 'content-type': contentType } : {}) },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const text = await res.body.text();
  let json: unknown;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = text;
  }
  return { status: res.statusCode, json };
}

/** kill -9 of a daemon; resolves when it has exited. */
export async function killChild(child: ChildProcess | null): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  await new Promise<void>((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGKILL');
  });
}

/** SIGTERM, SIGKILL after 30 s; answers the exit code. */
export function stopChild(child: ChildProcess | null): Promise<number | null> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return Promise.resolve(null);
  return new Promise((resolve) => {
    const t = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.once('exit', (code) => {
      clearTimeout(t);
      resolve(code);
    });
    child.kill('SIGTERM');
  });
}

export async function startGateway(): Promise<Gateway> {
  requireRoot();
  installSignalHandlers();
  await sweepOrphans();
  const id = randomBytes(3).toString('hex');
  const name = `gwp${id}`;
  const ns = `bpt-${id}`;
  const dir = mkdtempSync(join(tmpdir(), `bramble-pods-${id}-`));
  const dataDir = join(dir, 'data');
  const socket = join(dataDir, 'containerd', 'containerd.sock');
  const apiSocket = join(dir, 'api.sock');
  const logPath = join(dir, 'daemon.log');
  const configDir = writeTestProfile(dir);
  writeFileSync(join(dir, 'owner'), String(process.pid));
  // Every pod netns of this node is bramble-<hash of the node name>-<uid>.
  const netnsPrefix = podNetnsName(name, 'x').slice(0, -1);
  const dispatcher = new Agent({ connect: { socketPath: apiSocket }, keepAliveTimeout: 1_000, connections: 8 });
  const podUids = new Set<string>();
  let proxy: ChildProcess | null = null;
  let nsCreated = false;

  const readLog = () => {
    try {
      return readFileSync(logPath, 'utf8');
    } catch {
      return '';
    }
  };
  const logTail = (n = 25) =>
    readLog()
      .split('\n')
      .filter((l) => l && !l.includes('"level":"debug"'))
      .slice(-n)
      .map((l) => l.slice(0, 400))
      .join('\n');

  const inNs = (args: string[], timeout = 30_000) => run('ip', ['netns', 'exec', ns, ...args], timeout);

  const startProxy = async () => {
    const child = spawn('ip', ['netns', 'exec', ns, process.execPath, '-e', proxySource(apiSocket)], { stdio: ['ignore', 'pipe', 'inherit'] });
    proxy = child;
    await new Promise<void>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error('the API proxy in the gateway netns did not start')), 10_000);
      child.stdout!.once('data', () => {
        clearTimeout(t);
        resolve();
      });
      child.once('exit', (code) => reject(new Error(`the API proxy exited with ${code}`)));
    });
  };

  const gw: Gateway = {
    name,
    ns,
    dir,
    dataDir,
    socket,
    daemon: null,

    async start(extra = []) {
      if (gw.daemon) throw new Error(`${name}: already running`);
      const offset = readLog().length;
      const fd = openSync(logPath, 'a');
      const child = spawn(
        'ip',
        ['netns', 'exec', ns, process.execPath, bundle, 'server', '--name', name, '--data-dir', dataDir, '--api-addr', '127.0.0.1:7080', '--peer-addr', '127.0.0.1:7081', '--board', 'test-fast', '--config-dir', configDir, ...extra],
        { stdio: ['ignore', fd, fd] },
      );
      closeSync(fd);
      gw.daemon = child;
      child.on('exit', () => {
        if (gw.daemon === child) gw.daemon = null;
      });
      const agent = !extra.includes('--disable-agent');
      const started = Date.now();
      for (;;) {
        if (gw.daemon !== child) throw new Error(`${name}: the daemon exited at start (code ${child.exitCode}, signal ${child.signalCode}):\n${logTail()}`);
        const since = readLog().slice(offset);
        if (since.includes('this gateway cannot run containers')) throw new Error(`${name}: the node did not start:\n${logTail()}`);
        if (!agent || since.includes('"node agent started"')) {
          try {
            if ((await gw.api('GET', '/readyz')).status === 200 && (!agent || (await gw.api('GET', `/api/v1/nodes/${name}`)).status === 200)) return;
          } catch {
            // not listening yet
          }
        }
        if (Date.now() - started > 60_000) throw new Error(`${name}: not ready with its agent within 60 s:\n${logTail()}`);
        await sleep(100);
      }
    },

    kill9: () => killChild(gw.daemon),

    stop: () => stopChild(gw.daemon),

    async simulateReboot() {
      await gw.stop();
      // containerd (the daemon stops it on SIGTERM; a leftover one goes too) and the shims
      for (const pid of pidsMentioning(join(dataDir, 'containerd'))) process.kill(pid, 'SIGKILL');
      // every container process, by its cgroup (no containerd to ask any more)
      const dirs = cgroupDirs([...podUids]);
      for (const pid of pidsInCgroups(dirs)) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // gone
        }
      }
      for (let i = 0; i < 100 && pidsInCgroups(dirs).length > 0; i++) await sleep(50);
      const left = pidsInCgroups(dirs);
      if (left.length > 0) throw new Error(`reboot simulation: container processes ${left.join(', ')} survived SIGKILL`);
      for (const d of dirs) {
        try {
          rmdirSync(d);
        } catch {
          // busy or gone
        }
      }
      // the pods' network namespaces, the bridge, the firewall rules: all gone after a reboot
      for (const n of gw.podNetns()) run('ip', ['netns', 'del', n]);
      run('ip', ['-n', ns, 'link', 'del', 'bramble0']);
      for (const table of ['nat', 'filter', 'mangle']) {
        inNs(['iptables', '-t', table, '-F']);
        inNs(['iptables', '-t', table, '-X']);
      }
    },

    api: (method, path, body) => apiRequest(dispatcher, method, path, body),

    async createPod(manifest, namespace = 'default') {
      const body = { apiVersion: 'v1', kind: 'Pod', ...manifest, spec: { nodeName: name, ...manifest['spec'] } };
      const r = await gw.api('POST', `/api/v1/namespaces/${namespace}/pods`, body);
      if (r.status !== 201) throw new Error(`create pod ${manifest['metadata']?.name}: HTTP ${r.status} ${JSON.stringify(r.json)}`);
      podUids.add(r.json.metadata.uid);
      appendFileSync(join(dir, 'pod-uids'), `${r.json.metadata.uid}\n`);
      return r.json as Pod;
    },

    async getPod(podName, namespace = 'default') {
      const r = await gw.api('GET', `/api/v1/namespaces/${namespace}/pods/${podName}`);
      if (r.status === 404) return undefined;
      if (r.status !== 200) throw new Error(`get pod ${podName}: HTTP ${r.status} ${JSON.stringify(r.json)}`);
      return r.json as Pod;
    },

    async deletePod(podName, options = {}) {
      const query = options.gracePeriodSeconds !== undefined ? `?gracePeriodSeconds=${options.gracePeriodSeconds}` : '';
      return gw.api('DELETE', `/api/v1/namespaces/default/pods/${podName}${query}`);
    },

    async exec(pod, container, command) {
      const r = await gw.api('POST', `/api/v1/namespaces/default/pods/${pod}/exec`, { command, container });
      if (r.status !== 200) throw new Error(`exec ${JSON.stringify(command)} in ${pod}/${container}: HTTP ${r.status} ${JSON.stringify(r.json)}`);
      return r.json as ExecAnswer;
    },

    async waitPod(podName, what, check, timeoutMs = 30_000) {
      const started = Date.now();
      let last: Pod | undefined;
      let lastError = '';
      for (;;) {
        try {
          last = await gw.getPod(podName);
          lastError = '';
        } catch (error) {
          last = undefined; // the daemon restarting
          lastError = `${(error as Error).message} (${(error as { code?: string }).code ?? ''})`;
        }
        if (last) {
          const v = check(last);
          if (v !== undefined) return v;
        }
        if (Date.now() - started > timeoutMs) {
          // When the API itself did not answer, tell the proxy apart from the daemon.
          const direct = lastError ? inNs(['curl', '-s', '-m', '3', '-o', '/dev/null', '-w', '%{http_code}', `http://127.0.0.1:7080/api/v1/namespaces/default/pods/${podName}`], 5_000).stdout : '';
          throw new Error(
            `${name}: pod ${podName}: ${what} not seen within ${timeoutMs} ms; ` +
              (lastError ? `the last GET failed: ${lastError}; a direct GET inside the netns answered HTTP ${direct || 'nothing'}` : `last status:\n${JSON.stringify(last?.status, null, 1)}`),
          );
        }
        await sleep(150);
      }
    },

    async waitGone(podName, timeoutMs = 30_000) {
      const started = Date.now();
      while ((await gw.getPod(podName)) !== undefined) {
        if (Date.now() - started > timeoutMs) throw new Error(`${name}: pod ${podName} still there after ${timeoutMs} ms:\n${logTail(15)}`);
        await sleep(150);
      }
    },

    ctr(args) {
      return execFileSync('ctr', ['--address', socket, '-n', 'bramble', ...args], { encoding: 'utf8', timeout: 20_000, stdio: ['ignore', 'pipe', 'pipe'] });
    },

    tasks() {
      const rows = new Map<string, TaskRow>();
      for (const line of gw.ctr(['tasks', 'ls']).split('\n').slice(1)) {
        const [tid, pid, status] = line.trim().split(/\s+/);
        if (tid && pid && status) rows.set(tid, { id: tid, pid: Number(pid), status });
      }
      return rows;
    },

    cli(args) {
      return inNs([process.execPath, bundle, ...args], 60_000);
    },

    log: readLog,

    podNetns() {
      try {
        return readdirSync(NETNS_DIR).filter((n) => n.startsWith(netnsPrefix));
      } catch {
        return [];
      }
    },

    async cleanup() {
      live.delete(gw);
      await gw.kill9().catch(() => undefined);
      if (proxy && (proxy as ChildProcess).exitCode === null) (proxy as ChildProcess).kill('SIGKILL');
      await dispatcher.close().catch(() => undefined);
      await sweep({ dir, ns, netnsPrefix, socket, podUids: [...podUids], nsCreated });
    },
  };
  live.add(gw);

  try {
    execFileSync('ip', ['netns', 'add', ns]);
    nsCreated = true;
    execFileSync('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
    await startProxy();
    await gw.start();
  } catch (error) {
    await gw.cleanup().catch(() => undefined);
    throw error;
  }
  return gw;
}

/**
 * Runs `body` with a fresh gateway; cleans it up whether the body passed or failed. On failure
 * the daemon's last log lines are added to the error.
 */
export async function withGateway(body: (gw: Gateway) => Promise<void>): Promise<void> {
  const gw = await startGateway();
  let failure: unknown;
  try {
    await body(gw);
  } catch (error) {
    failure = error;
    const tail = gw
      .log()
      .split('\n')
      .filter((l) => l && !l.includes('"level":"debug"'))
      .slice(-15)
      .map((l) => l.slice(0, 400))
      .join('\n');
    if (error instanceof Error) error.message += `\n--- ${gw.name} daemon log (last lines) ---\n${tail}`;
  }
  try {
    await gw.cleanup();
  } catch (error) {
    if (failure === undefined) failure = error;
    else console.error(String(error));
  }
  if (failure !== undefined) throw failure;
}

/** A container status by name. */
export function cs(pod: Pod, container: string): ContainerStatus | undefined {
  return pod.status?.containerStatuses?.find((c) => c.name === container);
}

export function condition(pod: Pod, type: string): string | undefined {
  return pod.status?.conditions?.find((c) => c.type === type)?.status;
}

export function running(pod: Pod): boolean {
  const list = pod.status?.containerStatuses ?? [];
  return pod.status?.phase === 'Running' && list.length === (pod.spec['containers'] as unknown[]).length && list.every((c) => c.state.running !== undefined);
}
