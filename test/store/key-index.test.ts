// The in-memory key index keeps keys in byte order across chunk splits and removals.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { KeyIndex, changeAt, changeRev, isTombstone, keyId, packChange } from '../../src/store/kv/key-index.ts';
import { Prng } from '../sim/prng.ts';

describe('key index', () => {
  it('stays ordered by bytes through thousands of random inserts and removals', () => {
    const rng = new Prng(7);
    const index = new KeyIndex();
    const model = new Set<string>();
    for (let i = 0; i < 5000; i++) {
      const key = Buffer.from(Array.from({ length: 1 + rng.int(6) }, () => rng.pick([0, 1, 0x41, 0x7f, 0x80, 0xff, rng.int(256)])));
      const id = keyId(key);
      if (model.has(id) && rng.chance(0.3)) {
        index.remove(index.get(id)!);
        model.delete(id);
      } else {
        index.upsert(id);
        model.add(id);
      }
    }
    const ids = [...index.all()].map((e) => e.id);
    const byBytes = [...model].sort((a, b) => Buffer.compare(Buffer.from(a, 'latin1'), Buffer.from(b, 'latin1')));
    assert.deepEqual(ids, byBytes);
    assert.equal(index.size, model.size);
    const from = byBytes[Math.floor(byBytes.length / 3)]!;
    const to = byBytes[Math.floor((2 * byBytes.length) / 3)]!;
    assert.deepEqual([...index.between(from, to)].map((e) => e.id), byBytes.filter((k) => k >= from && k < to));
  });

  it('finds the change in force at a revision', () => {
    const entry = { id: 'k', changes: [packChange(2, 0, false), packChange(5, 3, true), packChange(9, 1, false)] };
    assert.equal(changeAt(entry, 1), undefined);
    assert.equal(changeRev(changeAt(entry, 4)!), 2);
    assert.ok(isTombstone(changeAt(entry, 7)!));
    assert.equal(changeRev(changeAt(entry, 100)!), 9);
  });
});
