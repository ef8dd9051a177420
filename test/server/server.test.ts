// `bramble server` as a real process from the built bundle: it starts, elects itself, logs JSON
// lines, refuses bad boards and a second server on its data directory, and stops on SIGTERM.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { freePort } from '../helpers/ports.ts';

const bundle = join(process.cwd(), 'dist', 'bramble.mjs');
let tmp = '';

before(() => {
  if (!existsSync(bundle)) assert.equal(spawnSync('node', ['build.mjs']).status, 0, 'npm run build failed');
  tmp = mkdtempSync(join(tmpdir(), 'bramble-server-'));
});
after(() => rmSync(tmp, { recursive: true, force: true }));

interface Started {
  lines: Array<Record<string, unknown>>;
  exit: Promise<number | null>;
  kill(signal: NodeJS.Signals): void;
  waitFor(msg: string, ms: number): Promise<Record<string, unknown>>;
}

async function addresses(): Promise<string[]> {
  return ['--api-addr', `127.0.0.1:${await freePort()}`, '--peer-addr', `127.0.0.1:${await freePort()}`];
}

function startServer(args: string[]): Started {
  // No containers here: these servers run in the machine's own network namespace.
  const child = spawn('node', [bundle, 'server', '--disable-agent', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: Array<Record<string, unknown>> = [];
  const waiters: Array<() => void> = [];
  let buffer = '';
  child.stderr.on('data', (chunk: Buffer) => {
    buffer += chunk.toString();
    let nl;
    while ((nl = buffer.indexOf('\n')) >= 0) {
      const line = buffer.slice(0, nl);
      buffer = buffer.slice(nl + 1);
      lines.push(JSON.parse(line) as Record<string, unknown>); // every line must be JSON
      for (const w of waiters.splice(0)) w();
    }
  });
  const exit = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return {
    lines,
    exit,
    kill: (signal) => child.kill(signal),
    waitFor(msg, ms) {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no "${msg}" log line within ${ms} ms; got ${JSON.stringify(lines)}`)), ms);
        const check = () => {
          const hit = lines.find((l) => l.msg === msg);
          if (hit) {
            clearTimeout(timer);
            resolve(hit);
          } else waiters.push(check);
        };
        check();
      });
    },
  };
}

describe('bramble server', () => {
  it('starts a single-member group, elects itself leader, and stops cleanly on SIGTERM', async () => {
    const dataDir = join(tmp, 'd1');
    const s = startServer(['--data-dir', dataDir, '--name', 'gw1', '--board', 'generic-x86_64', ...(await addresses())]);
    const elected = await s.waitFor('elected leader', 10_000);
    assert.equal(elected.level, 'info');
    assert.equal(elected.member, 'gw1');
    assert.ok(existsSync(join(dataDir, 'LOCK')), 'the data directory is locked while running');

    // A second server on the same data directory is refused, naming the holder.
    const second = spawnSync('node', [bundle, 'server', '--data-dir', dataDir, '--name', 'gw2', '--board', 'generic-x86_64', ...(await addresses())], { encoding: 'utf8', timeout: 10_000 });
    assert.notEqual(second.status, 0);
    assert.match(second.stderr, /in use by another bramble server/);

    s.kill('SIGTERM');
    assert.equal(await s.exit, 0);
    assert.ok(s.lines.some((l) => l.msg === 'shutting down' && l.reason === 'SIGTERM'));
    assert.ok(!existsSync(join(dataDir, 'LOCK')), 'the lock is released on shutdown');
  });

  it('takes over a stale lock left by a killed server', async () => {
    const dataDir = join(tmp, 'd2');
    mkdirSync(dataDir);
    writeFileSync(join(dataDir, 'LOCK'), '999999999\n');
    const s = startServer(['--data-dir', dataDir, '--name', 'gw1', '--board', 'generic-x86_64', ...(await addresses())]);
    await s.waitFor('elected leader', 10_000);
    s.kill('SIGINT');
    assert.equal(await s.exit, 0);
  });

  it('refuses an unknown board, naming it', () => {
    const r = spawnSync('node', [bundle, 'server', '--data-dir', join(tmp, 'd3'), '--name', 'x', '--board', 'no-such-board'], { encoding: 'utf8' });
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /no-such-board/);
  });

  it('refuses a malformed profile, naming the file and the field', () => {
    const dir = join(tmp, 'configs');
    mkdirSync(dir);
    const profile = JSON.parse(readFileSync(join('firmware-configs', 'raspberry-pi-4.json'), 'utf8'));
    profile.raft.electionTicks = 'ten';
    writeFileSync(join(dir, 'raspberry-pi-4.json'), JSON.stringify(profile));
    const r = spawnSync('node', [bundle, 'server', '--data-dir', join(tmp, 'd4'), '--name', 'x', '--board', 'raspberry-pi-4', '--config-dir', dir], { encoding: 'utf8' });
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /raspberry-pi-4\.json/);
    assert.match(r.stderr, /raft\.electionTicks/);
  });

  it('refuses a bad flag, naming it', () => {
    const r = spawnSync('node', [bundle, 'server', '--no-such-flag'], { encoding: 'utf8' });
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /no-such-flag/);
  });
});
