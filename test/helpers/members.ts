// Real `bramble server` processes on loopback (free ports, own data directories), for cluster
// tests: start, kill -9, stop, restart, and a small etcd-JSON client to talk to them.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'undici';
import { freePort } from './ports.ts';

const bundle = join(process.cwd(), 'dist', 'bramble.mjs');

export interface MemberProcess {
  name: string;
  dataDir: string;
  api: string;
  peer: string;
  child: ChildProcess | null;
  log: string[];
  exitCode: number | null;
}

export interface Lab {
  dir: string;
  members: Map<string, MemberProcess>;
  start(name: string, extra?: string[]): Promise<MemberProcess>;
  join(name: string): Promise<MemberProcess>;
  kill(name: string): Promise<void>;
  stop(name: string): Promise<number | null>;
  restart(name: string): Promise<MemberProcess>;
  token(): string;
  close(): Promise<void>;
}

/** A board profile with fast Raft timing and small snapshots, so tests run in seconds. */
export function writeTestProfile(dir: string, over: { snapshotEntries?: number; tickMillis?: number } = {}): string {
  const profile = JSON.parse(readFileSync(join('firmware-configs', 'generic-x86_64.json'), 'utf8'));
  profile.name = 'test-fast';
  profile.raft.tickMillis = over.tickMillis ?? 50;
  profile.raft.electionTicks = 10;
  profile.raft.snapshotEntries = over.snapshotEntries ?? 1000;
  const configDir = join(dir, 'configs');
  mkdirSync(configDir, { recursive: true });
  writeFileSync(join(configDir, 'test-fast.json'), JSON.stringify(profile));
  return configDir;
}

export function startLab(options: { snapshotEntries?: number } = {}): Lab {
  const dir = mkdtempSync(join(tmpdir(), 'bramble-lab-'));
  const configDir = writeTestProfile(dir, options);
  const members = new Map<string, MemberProcess>();
  let founder = '';

  const spawnMember = (m: MemberProcess, extra: string[]) => {
    const args = [bundle, 'server', '--name', m.name, '--data-dir', m.dataDir, '--api-addr', m.api, '--peer-addr', m.peer, '--board', 'test-fast', '--config-dir', configDir, '--disable-agent', ...extra];
    const child = spawn('node', args, { stdio: ['ignore', 'ignore', 'pipe'] });
    m.child = child;
    m.exitCode = null;
    let buffer = '';
    child.stderr!.on('data', (chunk: Buffer) => {
      buffer += chunk.toString();
      let nl;
      while ((nl = buffer.indexOf('\n')) >= 0) {
        m.log.push(buffer.slice(0, nl));
        buffer = buffer.slice(nl + 1);
      }
    });
    child.on('exit', (code) => {
      m.exitCode = code;
      if (m.child === child) m.child = null;
    });
  };

  const lab: Lab = {
    dir,
    members,
    async start(name, extra = []) {
      const m: MemberProcess = members.get(name) ?? {
        name,
        dataDir: join(dir, name),
        api: `127.0.0.1:${await freePort()}`,
        peer: `127.0.0.1:${await freePort()}`,
        child: null,
        log: [],
        exitCode: null,
      };
      members.set(name, m);
      if (!founder) founder = name;
      spawnMember(m, extra);
      await waitReady(m);
      return m;
    },
    async join(name) {
      const f = members.get(founder)!;
      return lab.start(name, ['--join', `http://${f.peer}`, '--token', lab.token()]);
    },
    async kill(name) {
      const m = members.get(name)!;
      const child = m.child;
      if (!child) return;
      await new Promise<void>((resolve) => {
        child.once('exit', () => resolve());
        child.kill('SIGKILL');
      });
    },
    async stop(name) {
      const m = members.get(name)!;
      const child = m.child;
      if (!child) return m.exitCode;
      return new Promise((resolve) => {
        child.once('exit', (code) => resolve(code));
        child.kill('SIGTERM');
      });
    },
    async restart(name) {
      const m = members.get(name)!;
      spawnMember(m, []);
      await waitReady(m);
      return m;
    },
    token() {
      return readFileSync(join(members.get(founder)!.dataDir, 'token'), 'utf8').trim();
    },
    async close() {
      await Promise.all([...members.keys()].map((n) => lab.kill(n)));
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return lab;
}

export async function waitReady(m: MemberProcess, ms = 20_000): Promise<void> {
  const started = Date.now();
  for (;;) {
    if (m.child === null && m.exitCode !== null) throw new Error(`${m.name} exited with ${m.exitCode}:\n${m.log.slice(-10).join('\n')}`);
    try {
      const res = await request(`http://${m.api}/readyz`, { headersTimeout: 1000, bodyTimeout: 1000 });
      await res.body.text();
      if (res.statusCode === 200) return;
    } catch {
      // not listening yet
    }
    if (Date.now() - started > ms) throw new Error(`${m.name} not ready within ${ms} ms:\n${m.log.slice(-10).join('\n')}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

// ---- a small etcd-JSON client --------------------------------------------------------------

const b64 = (s: string) => Buffer.from(s).toString('base64');
const unb64 = (s: string | undefined) => (s === undefined ? '' : Buffer.from(s, 'base64').toString());

export interface KvAnswer {
  status: number;
  body: Record<string, unknown>;
}

export async function kvCall(m: MemberProcess | string, path: string, body: unknown, timeoutMs = 10_000): Promise<KvAnswer> {
  const api = typeof m === 'string' ? m : m.api;
  const res = await request(`http://${api}${path}`, { method: 'POST', body: JSON.stringify(body), headersTimeout: timeoutMs, bodyTimeout: timeoutMs });
  const text = await res.body.text();
  return { status: res.statusCode, body: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
}

export async function put(m: MemberProcess, key: string, value: string): Promise<number> {
  const r = await kvCall(m, '/v3/kv/put', { key: b64(key), value: b64(value) });
  if (r.status !== 200) throw new Error(`put ${key} on ${m.name}: HTTP ${r.status} ${JSON.stringify(r.body)}`);
  return Number((r.body.header as { revision: string }).revision);
}

export async function get(m: MemberProcess, key: string, serializable = false): Promise<string | null> {
  const r = await kvCall(m, '/v3/kv/range', { key: b64(key), serializable });
  if (r.status !== 200) throw new Error(`get ${key} on ${m.name}: HTTP ${r.status} ${JSON.stringify(r.body)}`);
  const kvs = r.body.kvs as Array<{ value?: string }> | undefined;
  return kvs && kvs.length > 0 ? unb64(kvs[0]!.value) : null;
}

export async function count(m: MemberProcess, prefix: string, serializable = false): Promise<number> {
  const end = Buffer.from(prefix);
  end[end.length - 1]!++;
  const r = await kvCall(m, '/v3/kv/range', { key: b64(prefix), range_end: end.toString('base64'), count_only: true, serializable });
  if (r.status !== 200) throw new Error(`count ${prefix} on ${m.name}: HTTP ${r.status} ${JSON.stringify(r.body)}`);
  return Number(r.body.count ?? 0);
}

/** Compare-and-swap: succeeds iff the value is `expected` (null: the key is absent). */
export async function cas(m: MemberProcess, key: string, expected: string | null, next: string, timeoutMs?: number): Promise<boolean> {
  const compare = expected === null ? { key: b64(key), target: 'VERSION', result: 'EQUAL', version: '0' } : { key: b64(key), target: 'VALUE', result: 'EQUAL', value: b64(expected) };
  const r = await kvCall(m, '/v3/kv/txn', { compare: [compare], success: [{ request_put: { key: b64(key), value: b64(next) } }] }, timeoutMs);
  if (r.status !== 200) throw new Error(`cas ${key} on ${m.name}: HTTP ${r.status} ${JSON.stringify(r.body)}`);
  return r.body.succeeded === true;
}

export async function clusterStatus(m: MemberProcess): Promise<{ leader: string | null; members: Array<{ name: string; role: string }>; term: number }> {
  const res = await request(`http://${m.api}/cluster`);
  return (await res.body.json()) as { leader: string | null; members: Array<{ name: string; role: string }>; term: number };
}

export function hasDb(m: MemberProcess): boolean {
  return existsSync(join(m.dataDir, 'bramble.db'));
}
