// Jepsen-style: concurrent clients do put/get/compare-and-swap on a few keys against a 3-member
// cluster of real processes while members are killed with SIGKILL and restarted; every call and
// return is recorded, and the history must be linearizable for a register per key.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import type { Lab, MemberProcess } from '../helpers/members.ts';
import { cas, get, put, startLab } from '../helpers/members.ts';
import { checkLinearizable } from '../lincheck/checker.ts';
import { HistoryRecorder } from '../lincheck/history.ts';

const SECONDS = Number(process.env.BRAMBLE_LINEARIZABLE_SECONDS ?? 15);
const KEYS = ['x', 'y', 'z', 'w'];
const CLIENTS = 6;

describe('linearizability under crashes', () => {
  let lab: Lab;
  after(() => lab?.close());

  it(`a ${SECONDS} s history of put/get/cas with kill -9 and restarts is linearizable`, async () => {
    lab = startLab({ snapshotEntries: 200 });
    await lab.start('m1');
    await lab.join('m2');
    await lab.join('m3');
    const members = [...lab.members.values()];
    const rec = new HistoryRecorder();
    const deadline = Date.now() + SECONDS * 1000;
    let seq = 0;
    let killed = 0;
    let completed = 0;

    const client = async (id: number) => {
      let lastSeen: string | null = null;
      while (Date.now() < deadline) {
        const live = members.filter((m) => m.child);
        const m: MemberProcess = live[Math.floor(Math.random() * live.length)] ?? members[0]!;
        const key = KEYS[Math.floor(Math.random() * KEYS.length)]!;
        const dice = Math.random();
        if (dice < 0.4) {
          const op = rec.begin(id, 'get', key);
          try {
            lastSeen = await get(m, key);
            rec.end(op, { value: lastSeen });
            completed++;
          } catch {
            rec.unknown(op); // a read that failed constrains nothing
          }
        } else if (dice < 0.7) {
          const value = `${id}-${++seq}`;
          const op = rec.begin(id, 'put', key, { value });
          try {
            await put(m, key, value);
            rec.end(op, {});
            completed++;
          } catch {
            rec.unknown(op); // may have been proposed before the error
          }
        } else {
          const newValue = `${id}-${++seq}`;
          const op = rec.begin(id, 'cas', key, { expected: lastSeen, newValue });
          try {
            const ok = await cas(m, key, lastSeen, newValue, 5000);
            rec.end(op, { ok });
            completed++;
          } catch {
            rec.unknown(op);
          }
        }
      }
    };

    const nemesis = async () => {
      while (Date.now() < deadline - 3000) {
        await new Promise((r) => setTimeout(r, 1500 + Math.random() * 1500));
        const victim = members[Math.floor(Math.random() * members.length)]!;
        await lab.kill(victim.name);
        killed++;
        await new Promise((r) => setTimeout(r, 300 + Math.random() * 1000));
        await lab.restart(victim.name);
      }
    };

    await Promise.all([nemesis(), ...Array.from({ length: CLIENTS }, (_, i) => client(i))]);
    const history = rec.history();
    const verdict = checkLinearizable(history, { timeoutMs: 60_000 });
    const unknown = history.filter((o) => o.return === null).length;
    process.stdout.write(`# ${history.length} operations (${completed} completed, ${unknown} with unknown outcome), ${killed} kills\n`);
    assert.ok(killed >= 2, 'the nemesis killed members');
    assert.ok(completed > 200, `only ${completed} operations completed`);
    assert.equal(verdict.ok, true, verdict.ok === false ? `key ${verdict.key}: ${verdict.explanation}` : verdict.ok === 'unknown' ? verdict.reason : '');
  });
});
