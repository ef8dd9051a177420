// The replicated store across real `bramble server` processes with real SQLite files: join,
// replication, local reads, failover after kill -9 without losing acknowledged writes, catch-up
// by snapshot, removal, restart from the data directory, leadership handover on SIGTERM, and a
// refusal to start on a damaged database.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Lab, MemberProcess } from '../helpers/members.ts';
import { clusterStatus, count, get, put, startLab, waitReady } from '../helpers/members.ts';

const bundle = join(process.cwd(), 'dist', 'bramble.mjs');

async function until(what: string, cond: () => Promise<boolean> | boolean, ms = 20_000): Promise<void> {
  const started = Date.now();
  while (!(await cond())) {
    if (Date.now() - started > ms) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function voters(m: MemberProcess): Promise<number> {
  return (await clusterStatus(m)).members.filter((x) => x.role === 'voter').length;
}

async function leaderOf(lab: Lab): Promise<MemberProcess> {
  for (const m of lab.members.values()) {
    if (!m.child) continue;
    const s = await clusterStatus(m).catch(() => null);
    if (s?.leader) return lab.members.get(s.leader)!;
  }
  throw new Error('no leader');
}

describe('a three-member store', () => {
  let lab: Lab;
  before(async () => {
    lab = startLab({ snapshotEntries: 1000 });
    await lab.start('m1');
    await lab.join('m2');
    await lab.join('m3');
    await until('3 voters', async () => (await voters(lab.members.get('m1')!)) === 3);
  });
  after(() => lab.close());

  it('replicates writes taken by any member; each serves its own replica', async () => {
    const [m1, m2, m3] = ['m1', 'm2', 'm3'].map((n) => lab.members.get(n)!) as [MemberProcess, MemberProcess, MemberProcess];
    for (let i = 0; i < 30; i++) await put([m1, m2, m3][i % 3]!, `rep/${i}`, `v${i}`);
    assert.equal(await count(m3, 'rep/'), 30, 'a linearizable read on a follower sees every write');
    await until('local replicas converge', async () => (await count(m2, 'rep/', true)) === 30);
    assert.equal(await get(m2, 'rep/7', true), 'v7');
  });

  it('loses no acknowledged write when the leader is killed, and a new leader takes writes', async () => {
    const leader = await leaderOf(lab);
    const acked: string[] = [];
    let stop = false;
    const writers = [...lab.members.values()].filter((m) => m !== leader).map(async (m, w) => {
      for (let i = 0; !stop; i++) {
        const key = `ack/${w}/${i}`;
        try {
          await put(m, key, 'x');
          acked.push(key);
        } catch {
          // no quorum for a moment: not acknowledged, not counted
        }
      }
    });
    await until('some writes', () => acked.length > 50);
    await lab.kill(leader.name);
    const killedAt = acked.length;
    await until('writes resume after the kill', () => acked.length > killedAt + 50, 15_000);
    stop = true;
    await Promise.all(writers);
    const survivor = [...lab.members.values()].find((m) => m.child)!;
    for (const key of acked) assert.equal(await get(survivor, key), 'x', `acknowledged ${key} is present`);
    const newLeader = await leaderOf(lab);
    assert.notEqual(newLeader.name, leader.name);
    // the killed member comes back from its data directory, without --join
    await lab.restart(leader.name);
    await until('it catches up', async () => (await count(lab.members.get(leader.name)!, 'ack/', true)) === (await count(survivor, 'ack/', true)));
  });

  it('a member that missed 10,000 writes catches up by snapshot', async () => {
    const m3 = lab.members.get('m3')!;
    await lab.stop('m3');
    const writer = [...lab.members.values()].find((m) => m.child)!;
    const batch: Array<Promise<number>> = [];
    for (let i = 0; i < 10_000; i++) {
      batch.push(put(writer, `bulk/${i}`, 'v'.repeat(64)));
      if (batch.length === 64) await Promise.all(batch.splice(0));
    }
    await Promise.all(batch);
    await lab.restart('m3');
    await until('m3 has every key', async () => (await count(m3, 'bulk/', true)) === 10_000, 60_000);
    assert.ok(
      m3.log.some((l) => l.includes('installed a snapshot from the leader')),
      'm3 caught up from a snapshot, not by replaying 10,000 entries',
    );
  });

  it('removes a member with the CLI; the removed member stops', async () => {
    const m4 = await lab.join('m4');
    await until('m4 is a voter', async () => (await voters(m4)) === 4);
    const m1 = lab.members.get('m1')!;
    const r = spawnSync('node', [bundle, 'cluster', 'remove', 'm4', '--server', `http://${m1.api}`], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /member m4 .* removed/);
    await until('3 members again', async () => (await clusterStatus(m1)).members.length === 3);
    await until('m4 stopped', () => m4.child === null, 10_000);
    const table = spawnSync('node', [bundle, 'cluster', 'status', '--server', `http://${m1.api}`], { encoding: 'utf8' });
    assert.equal(table.status, 0, table.stderr);
    assert.match(table.stdout, /^NAME\s+ID\s+ROLE\s+LEADER\s+PEER-URL/m);
    assert.doesNotMatch(table.stdout, /m4/);
  });

  it('a leader stopped with SIGTERM hands leadership over first', async () => {
    const leader = await leaderOf(lab);
    const code = await lab.stop(leader.name);
    assert.equal(code, 0);
    assert.ok(leader.log.some((l) => l.includes('leadership handed over')), leader.log.slice(-5).join('\n'));
    const other = [...lab.members.values()].find((m) => m.child)!;
    await until('a new leader', async () => (await clusterStatus(other)).leader !== null && (await clusterStatus(other)).leader !== leader.name, 5000);
    await lab.restart(leader.name);
  });
});

describe('a damaged database', () => {
  let lab: Lab;
  after(() => lab.close());

  it('is refused at start with a clear message, and left untouched', async () => {
    lab = startLab();
    const m = await lab.start('solo');
    await put(m, 'k', 'v');
    await lab.stop('solo');
    const db = join(m.dataDir, 'bramble.db');
    writeFileSync(db, Buffer.from('this is not a database at all, just garbage'.repeat(200)));
    m.log.length = 0;
    await assert.rejects(waitReadyAfterStart(lab, 'solo'), /exited with 1/);
    assert.ok(m.log.some((l) => /damaged or not a bramble database/.test(l) && /left untouched/.test(l)), m.log.join('\n'));
  });
});

async function waitReadyAfterStart(lab: Lab, name: string): Promise<void> {
  const m = lab.members.get(name)!;
  await lab.restart(name).catch(async (err: Error) => {
    await until('exit', () => m.child === null, 5000);
    throw err;
  });
  await waitReady(m);
}
