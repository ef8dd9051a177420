// Several real gateways for the cluster tests, as ../shared/recipes/host-lab.md and the contract
// probes build them: a hub network namespace with a bridge, and per gateway a namespace plugged
// into it by a veth (eth0, 10.77.0.<i>/24), running `bramble server` WITH its node agent, its
// own containerd and CNI bridge, zone-labelled. The test reaches each gateway's API through a
// unix socket proxied inside that gateway's namespace. Cutting a gateway off is `ip link set
// eth0 down` inside its namespace. cleanup() — pass or fail — removes every container,
// process, namespace, cgroup and file the lab made (test/pods/gateway.ts's sweep, per gateway).
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { appendFileSync, closeSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Agent } from 'undici';
import { podNetnsName } from '../../src/network/netns.ts';
import { writeTestProfile } from './members.ts';
import type { ApiAnswer } from '../pods/gateway.ts';
import { apiRequest, killChild, proxySource, requireRoot, sleep, stopChild, sweep } from '../pods/gateway.ts';

const bundle = join(process.cwd(), 'dist', 'bramble.mjs');

export interface LabGateway {
  index: number;
  name: string;
  ns: string;
  addr: string;
  zone: string;
  dataDir: string;
  socket: string;
  daemon: ChildProcess | null;
  /** Starts the daemon; waits for its agent and (unless `ready: false`, for a gateway cut off
   *  from the quorum) for /readyz. */
  start(extra?: string[], options?: { ready?: boolean }): Promise<void>;
  kill9(): Promise<void>;
  stop(): Promise<number | null>;
  api(method: string, path: string, body?: unknown, contentType?: string): Promise<ApiAnswer>;
  cli(args: string[]): { code: number; stdout: string; stderr: string };
  /** Running task ids of this gateway's containerd (app containers and sandboxes). */
  runningTasks(): string[];
  linkDown(): void;
  linkUp(): void;
  log(): string;
  /** Kills every container of this gateway (through its containerd), then containerd and the
   *  shims: with the daemon killed too, what a power cut leaves. */
  killContainers(): Promise<void>;
}

export interface ClusterLab {
  id: string;
  dir: string;
  gateways: LabGateway[];
  token: string;
  /** Creates (or applies) objects through gateway `i` (default the first). */
  apply(manifests: Record<string, any>[], i?: number): Promise<void>;
  cleanup(): Promise<void>;
}

function run(file: string, args: string[], timeout = 15_000): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(file, args, { encoding: 'utf8', timeout });
  return { code: r.status ?? -1, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
}

const ZONE = 'topology.kubernetes.io/zone';

export interface LabOptions {
  /** Zone of each gateway (its length is the gateway count). */
  zones: string[];
  /** Extra server flags for every gateway. */
  extra?: string[];
}

export async function startClusterLab(options: LabOptions): Promise<ClusterLab> {
  requireRoot();
  const id = randomBytes(3).toString('hex');
  const dir = mkdtempSync(join(tmpdir(), `bramble-cl-${id}-`));
  writeFileSync(join(dir, 'owner'), String(process.pid));
  const configDir = writeTestProfile(dir);
  const hub = `bcl-${id}-hub`;
  const made: string[] = [];
  const gateways: LabGateway[] = [];
  const proxies: ChildProcess[] = [];
  const dispatchers: Agent[] = [];
  const podUids = new Set<string>();
  let token = '';

  const lab: ClusterLab = {
    id,
    dir,
    gateways,
    get token() {
      return token;
    },
    async apply(manifests, i = 0) {
      const gw = gateways[i]!;
      const file = join(dir, `apply-${randomBytes(4).toString('hex')}.json`);
      writeFileSync(file, JSON.stringify({ apiVersion: 'v1', kind: 'List', items: manifests }));
      const r = gw.cli(['apply', '-f', file]);
      if (r.code !== 0) throw new Error(`apply through ${gw.name}: ${r.stderr || r.stdout}`);
    },
    async cleanup() {
      // pods' UIDs, for the sweep to find their cgroups even where containerd is gone
      for (const gw of gateways) {
        try {
          const r = await gw.api('GET', '/api/v1/pods');
          for (const p of r.json?.items ?? []) podUids.add(p.metadata.uid);
        } catch {
          // the API is down: the sweep still finds containers through ctr
        }
      }
      for (const gw of gateways) await gw.kill9().catch(() => undefined);
      for (const p of proxies) if (p.exitCode === null) p.kill('SIGKILL');
      for (const d of dispatchers) await d.close().catch(() => undefined);
      const problems: string[] = [];
      for (const gw of gateways) {
        try {
          await sweep({ dir: join(dir, gw.name), ns: gw.ns, netnsPrefix: podNetnsName(gw.name, 'x').slice(0, -1), socket: gw.socket, podUids: [...podUids], nsCreated: true });
        } catch (error) {
          problems.push((error as Error).message);
        }
      }
      for (const pid of run('ip', ['netns', 'pids', hub]).stdout.split('\n').filter(Boolean)) {
        try {
          process.kill(Number(pid), 'SIGKILL');
        } catch {
          // gone
        }
      }
      if (made.includes(hub)) run('ip', ['netns', 'del', hub]);
      rmSync(dir, { recursive: true, force: true });
      if (problems.length > 0) throw new Error(problems.join(' | '));
    },
  };

  try {
    execFileSync('ip', ['netns', 'add', hub]);
    made.push(hub);
    execFileSync('ip', ['-n', hub, 'link', 'add', 'br0', 'type', 'bridge']);
    execFileSync('ip', ['-n', hub, 'link', 'set', 'br0', 'up']);
    for (let i = 1; i <= options.zones.length; i++) {
      const gw = makeGateway(i, options.zones[i - 1]!);
      gateways.push(gw);
    }
    for (const gw of gateways) {
      const join_ = gw.index === 1 ? [] : ['--join', 'http://10.77.0.1:7081', '--token', token];
      await gw.start(join_);
      if (gw.index === 1) token = run(process.execPath, [bundle, 'token', '--data-dir', gw.dataDir]).stdout.trim().split('\n').pop()!;
    }
  } catch (error) {
    await lab.cleanup().catch((e: unknown) => console.error(String(e)));
    throw error;
  }
  return lab;

  function makeGateway(index: number, zone: string): LabGateway {
    const name = `l${id}g${index}`;
    const ns = `bcl-${id}-g${index}`;
    const gdir = join(dir, name);
    mkdirSync(gdir, { recursive: true });
    const dataDir = join(gdir, 'data');
    const socket = join(dataDir, 'containerd', 'containerd.sock');
    const addr = `10.77.0.${index}`;
    const logPath = join(gdir, 'daemon.log');
    const apiSocket = join(gdir, 'api.sock');
    execFileSync('ip', ['netns', 'add', ns]);
    made.push(ns);
    execFileSync('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
    execFileSync('ip', ['-n', hub, 'link', 'add', `h${index}`, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns]);
    execFileSync('ip', ['-n', hub, 'link', 'set', `h${index}`, 'master', 'br0', 'up']);
    execFileSync('ip', ['-n', ns, 'addr', 'add', `${addr}/24`, 'dev', 'eth0']);
    execFileSync('ip', ['-n', ns, 'link', 'set', 'eth0', 'up']);
    const dispatcher = new Agent({ connect: { socketPath: apiSocket }, keepAliveTimeout: 1_000, connections: 8 });
    dispatchers.push(dispatcher);
    let proxyStarted = false;
    let firstArgs: string[] = [];
    const readLog = () => {
      try {
        return readFileSync(logPath, 'utf8');
      } catch {
        return '';
      }
    };
    const tail = () =>
      readLog()
        .split('\n')
        .filter((l) => l && !l.includes('"level":"debug"'))
        .slice(-20)
        .map((l) => l.slice(0, 400))
        .join('\n');
    const gw: LabGateway = {
      index,
      name,
      ns,
      addr,
      zone,
      dataDir,
      socket,
      daemon: null,
      async start(extra = [], startOptions = {}) {
        if (!proxyStarted) {
          const child = spawn('ip', ['netns', 'exec', ns, process.execPath, '-e', proxySource(apiSocket, { host: addr, port: 7080 })], { stdio: ['ignore', 'pipe', 'inherit'] });
          proxies.push(child);
          await new Promise<void>((resolve, reject) => {
            const t = setTimeout(() => reject(new Error('the API proxy did not start')), 10_000);
            child.stdout!.once('data', () => {
              clearTimeout(t);
              resolve();
            });
          });
          proxyStarted = true;
          firstArgs = extra;
        }
        // A restart runs with the flags of the first start (join flags are harmless once joined).
        const args = extra.length > 0 ? extra : firstArgs;
        const offset = readLog().length;
        const fd = openSync(logPath, 'a');
        const child = spawn(
          'ip',
          [
            'netns', 'exec', ns, process.execPath, bundle, 'server', '--name', name, '--data-dir', dataDir,
            '--api-addr', `${addr}:7080`, '--peer-addr', `${addr}:7081`, '--board', 'test-fast', '--config-dir', configDir,
            '--labels', `${ZONE}=${zone}`, ...(options.extra ?? []), ...args,
          ],
          { stdio: ['ignore', fd, fd] },
        );
        closeSync(fd);
        gw.daemon = child;
        child.on('exit', () => {
          if (gw.daemon === child) gw.daemon = null;
        });
        const started = Date.now();
        for (;;) {
          if (gw.daemon !== child) throw new Error(`${name}: the daemon exited at start:\n${tail()}`);
          if (readLog().slice(offset).includes('"node agent started"')) {
            if (startOptions.ready === false) return;
            try {
              if ((await gw.api('GET', '/readyz')).status === 200) return;
            } catch {
              // not yet
            }
          }
          if (Date.now() - started > 90_000) throw new Error(`${name}: not ready within 90 s:\n${tail()}`);
          await sleep(150);
        }
      },
      kill9: () => killChild(gw.daemon),
      stop: () => stopChild(gw.daemon),
      // The proxy reaches the API from the gateway's own address, not loopback: a token it is.
      api: (method, path, body, contentType) =>
        apiRequest(dispatcher, method, path, body, { authorization: `Bearer ${readFileSync(join(gateways[0]!.dataDir, 'admin-token'), 'utf8').trim()}` }, contentType),
      cli(args) {
        const adminToken = readFileSync(join(gateways[0]!.dataDir, 'admin-token'), 'utf8').trim();
        return run('ip', ['netns', 'exec', ns, 'env', `BRAMBLE_SERVER=http://${addr}:7080`, `BRAMBLE_TOKEN=${adminToken}`, process.execPath, bundle, ...args], 60_000);
      },
      runningTasks() {
        const r = run('ctr', ['--address', socket, '-n', 'bramble', 'tasks', 'ls']);
        return r.stdout
          .split('\n')
          .slice(1)
          .map((l) => l.trim().split(/\s+/))
          .filter((f) => f[2] === 'RUNNING')
          .map((f) => f[0]!);
      },
      linkDown() {
        execFileSync('ip', ['-n', ns, 'link', 'set', 'eth0', 'down']);
      },
      linkUp() {
        execFileSync('ip', ['-n', ns, 'link', 'set', 'eth0', 'up']);
      },
      log: readLog,
      async killContainers() {
        const r = run('ctr', ['--address', socket, '-n', 'bramble', 'tasks', 'ls', '-q']);
        for (const t of r.stdout.split('\n').filter(Boolean)) run('ctr', ['--address', socket, '-n', 'bramble', 'tasks', 'kill', '-s', 'KILL', t]);
        await sleep(300);
        for (const line of run('ps', ['-eo', 'pid=,args=']).stdout.split('\n')) {
          const m = /^\s*(\d+)\s+(.*)$/.exec(line);
          if (m && m[2]!.includes(join(dataDir, 'containerd'))) {
            try {
              process.kill(Number(m[1]), 'SIGKILL');
            } catch {
              // gone
            }
          }
        }
        appendFileSync(join(gdir, 'events'), 'power cut\n');
      },
    };
    return gw;
  }
}

/** Runs `body` with a fresh lab; cleans up whether it passed or failed (daemon logs on failure). */
export async function withClusterLab(options: LabOptions, body: (lab: ClusterLab) => Promise<void>): Promise<void> {
  const lab = await startClusterLab(options);
  let failure: unknown;
  try {
    await body(lab);
  } catch (error) {
    failure = error;
    if (error instanceof Error) {
      // The whole logs outlive the lab (its directory is removed): a rare failure can be read.
      const kept = join(tmpdir(), 'bramble-lab-failures', lab.id);
      try {
        mkdirSync(kept, { recursive: true });
        for (const gw of lab.gateways) writeFileSync(join(kept, `${gw.name}.log`), gw.log());
        error.message += `\n(the gateways' whole logs are kept in ${kept})`;
      } catch {
        // best effort
      }
      for (const gw of lab.gateways) {
        const tail = gw
          .log()
          .split('\n')
          .filter((l) => l && !l.includes('"level":"debug"'))
          .slice(-12)
          .map((l) => l.slice(0, 300))
          .join('\n');
        error.message += `\n--- ${gw.name} (${gw.zone}) log ---\n${tail}`;
      }
    }
  }
  try {
    await lab.cleanup();
  } catch (error) {
    if (failure === undefined) failure = error;
    else console.error(String(error));
  }
  if (failure !== undefined) throw failure;
}

/** Polls `check` until it answers a value (not undefined), or fails saying what was awaited. */
export async function eventually<T>(what: string, check: () => Promise<T | undefined>, timeoutMs: number, describe?: () => Promise<string>): Promise<T> {
  const started = Date.now();
  for (;;) {
    let v: T | undefined;
    try {
      v = await check();
    } catch {
      v = undefined;
    }
    if (v !== undefined) return v;
    if (Date.now() - started > timeoutMs) throw new Error(`${what}: not within ${timeoutMs} ms${describe ? `; ${await describe()}` : ''}`);
    await sleep(250);
  }
}
