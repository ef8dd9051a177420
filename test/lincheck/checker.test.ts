// The linearizability checker, proved on hand-written histories both ways, against a brute-force
// checker on small random histories, on histories generated from a simulated linearizable
// register (and the same histories with one read made provably stale), and for speed.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { CheckResult } from './checker.ts';
import { checkLinearizable } from './checker.ts';
import type { History, Operation } from './history.ts';
import { HistoryRecorder } from './history.ts';

// ---- building histories by hand -----------------------------------------------------------

let nextClient = 0;
function put(value: string, call: number, ret: number | null, key = 'k', clientId: number = nextClient++): Operation {
  return { clientId, key, kind: 'put', input: { value }, call, return: ret, output: {} };
}
function get(value: string | null, call: number, ret: number | null, key = 'k', clientId: number = nextClient++): Operation {
  return { clientId, key, kind: 'get', input: {}, call, return: ret, output: ret === null ? {} : { value } };
}
function cas(
  expected: string | null,
  newValue: string,
  ok: boolean | null,
  call: number,
  ret: number | null,
  key = 'k',
  clientId: number = nextClient++,
): Operation {
  return {
    clientId,
    key,
    kind: 'cas',
    input: { expected, newValue },
    call,
    return: ret,
    output: ok === null ? {} : { ok },
  };
}

function assertOk(history: History): void {
  const r = checkLinearizable(history);
  assert.deepEqual(r, { ok: true }, r.ok === false ? r.explanation : undefined);
}
function assertFails(history: History, key = 'k'): string {
  const r = checkLinearizable(history);
  assert.equal(r.ok, false, 'expected a violation');
  assert.ok(r.ok === false);
  assert.equal(r.key, key);
  return r.explanation;
}

// ---- a small seeded PRNG ----------------------------------------------------------------

class Rng {
  private s: number;
  constructor(seed: number) {
    this.s = seed >>> 0;
  }
  next(): number {
    // mulberry32
    this.s = (this.s + 0x6d2b79f5) >>> 0;
    let t = this.s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
  pick<T>(xs: readonly T[]): T {
    return xs[this.int(xs.length)]!;
  }
}

// ---- linearizable histories ----------------------------------------------------------------

describe('linearizable histories pass', () => {
  it('an empty history, and a read of a key never written (absent)', () => {
    assertOk([]);
    assertOk([get(null, 0, 1)]);
  });

  it('a sequential history of puts, gets and cas', () => {
    assertOk([
      put('a', 0, 1),
      get('a', 2, 3),
      put('b', 4, 5),
      get('b', 6, 7),
      cas('b', 'c', true, 8, 9),
      get('c', 10, 11),
      cas('b', 'd', false, 12, 13),
      get('c', 14, 15),
      cas(null, 'e', false, 16, 17),
    ]);
  });

  it('a create-if-absent cas (expected null) succeeds once on an absent key', () => {
    assertOk([cas(null, 'a', true, 0, 10), cas(null, 'b', false, 1, 11), get('a', 12, 13)]);
  });

  it('overlapping puts: a later read may observe either, and later reads agree with it', () => {
    const puts = [put('a', 0, 10), put('b', 5, 15)];
    assertOk([...puts, get('a', 20, 25), get('a', 30, 31)]);
    assertOk([...puts, get('b', 20, 25), get('b', 30, 31)]);
    // A read overlapping both writes may see the old value, either new one, and flip once.
    assertOk([put('x', -5, -4), ...puts, get('x', 1, 2), get('b', 6, 7), get('a', 11, 12)]);
  });

  it('a cas chain: concurrent increments where exactly the right ones succeed', () => {
    const h: History = [put('0', 0, 1)];
    // Two clients race each step with the same expected value: one swaps, the other does not.
    for (let i = 0; i < 20; i++) {
      const t = 10 + i * 10;
      h.push(cas(String(i), String(i + 1), true, t, t + 8, 'k', 1));
      h.push(cas(String(i), String(i + 1) + "'", false, t + 1, t + 9, 'k', 2));
    }
    h.push(get('20', 500, 501));
    assertOk(h);
  });

  it('a put with unknown outcome that did take effect, observed later', () => {
    assertOk([put('a', 0, 1), put('b', 2, null), get('b', 100, 101), get('b', 102, 103)]);
  });

  it('a put with unknown outcome that did not take effect (or took effect and was overwritten)', () => {
    assertOk([put('a', 0, 1), put('b', 2, null), get('a', 100, 101)]);
    assertOk([put('a', 0, 1), put('b', 2, null), get('a', 3, 4), get('b', 100, 101)]); // took effect late
  });

  it('a cas with unknown outcome may or may not have swapped', () => {
    const base = [put('a', 0, 1), cas('a', 'b', null, 2, null)];
    assertOk([...base, get('b', 10, 11)]);
    assertOk([...base, get('a', 10, 11)]);
    // It only swaps when the register holds its expected value.
    assertFails([put('z', 0, 1), cas('a', 'b', null, 2, null), get('b', 10, 11)]);
  });

  it('a get with unknown outcome constrains nothing', () => {
    assertOk([put('a', 0, 1), get('never-written', 2, null), get('a', 3, 4)]);
  });

  it('keys are independent registers; a violation names its key', () => {
    assertOk([put('a', 0, 10, 'x'), put('b', 0, 10, 'y'), get('a', 11, 12, 'x'), get('b', 11, 12, 'y')]);
    const why = assertFails([put('a', 0, 1, 'x'), put('b', 0, 1, 'y'), get('a', 2, 3, 'x'), get('a', 2, 3, 'y')], 'y');
    assert.match(why, /key "y"/);
  });

  it('options.initial sets the state each key starts in', () => {
    const h = [get('seed', 0, 1)];
    assert.equal(checkLinearizable(h).ok, false);
    assert.deepEqual(checkLinearizable(h, { initial: { k: 'seed' } }), { ok: true });
  });

  it('rejects malformed histories', () => {
    assert.throws(() => checkLinearizable([put('a', 5, 4)]), /history\[0\]: return must be null or a finite number >= call/);
    assert.throws(() => checkLinearizable([{ ...get('a', 0, 1), output: {} }]), /history\[0\]: a get that returned needs output.value/);
    assert.throws(() => checkLinearizable([{ ...cas('a', 'b', true, 0, 1), output: {} }]), /needs output.ok/);
  });

  it('calls and returns at the same instant count as concurrent', () => {
    assertOk([put('a', 0, 5), get('a', 5, 6), put('b', 3, 5), get('b', 5, 5)]);
  });
});

// ---- non-linearizable histories ----------------------------------------------------------

describe('non-linearizable histories fail, with an explanation', () => {
  it('a stale read after a completed write', () => {
    const h = [put('a', 0, 1), put('b', 2, 3), get('a', 4, 5)];
    const why = assertFails(h);
    assert.match(why, /first operation that cannot be linearized/);
    assert.match(why, /op #2 .*get\("k"\) -> "a"/);
    assert.match(why, /Wherever it could take effect .*, the register held: "b"\*\nso the get cannot have read "a"\./);
    assert.match(why, /\* no operation on this key read or expected this value/);
    assert.match(why, /op #1 .*put\("k", "b"\)/); // shown as the last write before it
  });

  it('a read sees a new value and a later, non-overlapping read the older one', () => {
    // put b is still in flight, so the first read may see it; once seen, a cannot come back.
    const h = [put('a', 0, 1), put('b', 2, 100), get('b', 3, 4), get('a', 5, 6)];
    const why = assertFails(h);
    assert.match(why, /op #3 .*-> "a"/);
    assert.match(why, /the register held: "b"\n/);
    // Without the earlier read the same history is fine.
    assertOk([h[0]!, h[1]!, h[3]!]);
  });

  it('two cas with the same expected value both succeed', () => {
    const h = [put('a', 0, 1), cas('a', 'b', true, 2, 5), cas('a', 'c', true, 3, 6)];
    const why = assertFails(h);
    assert.match(why, /op #2 .*cas\("k", "a" -> "c"\) -> swapped/);
    // It could swap where the register held "a", but then the other cas cannot have swapped.
    assert.match(why, /could take effect as recorded only where the register held "a" \(elsewhere: "b"\*\)/);
    assert.match(why, /Those orders got stuck at:\n  op #1 .*cas\("k", "a" -> "b"\) -> swapped.*\n.*could then only hold: "c"\*\)/);
  });

  it('a cas reports no swap but a read that returned before it saw its new value', () => {
    const h = [put('a', 0, 0.5), cas('a', 'b', false, 1, 10), get('b', 2, 5)];
    const why = assertFails(h);
    // Until the cas returns it may still swap, which explains the read; its outcome rules that out.
    assert.match(why, /first operation that cannot be linearized:\n  op #1 /);
    assert.match(why, /the register held: "a"\nso the cas, expecting "a", cannot have failed to swap\./);
    assert.match(why, /Operations concurrent with op #1:\n  op #2 .*get\("k"\) -> "b"/);
  });

  it('a cas reports no swap although the register certainly held its expected value', () => {
    const why = assertFails([put('a', 0, 1), cas('a', 'b', false, 2, 3)]);
    assert.match(why, /the register held: "a"\nso the cas, expecting "a", cannot have failed to swap\./);
  });

  it('a get of a value never written', () => {
    const why = assertFails([put('a', 0, 10), put('b', 5, 15), get('z', 6, 7)]);
    assert.match(why, /the register held: absent\*; or, had operations still in flight taken effect just then, "a"\*, "b"\*\n/);
  });

  it('a read of absent after the key was written', () => {
    assertFails([put('a', 0, 1), get(null, 2, 3)]);
  });

  it('a put with unknown outcome seen by one read and then un-seen by a later one', () => {
    const why = assertFails([put('a', 0, 1), put('b', 2, null), get('b', 10, 11), get('a', 12, 13)]);
    assert.match(why, /op #3/);
  });

  it('names the first failing op even when the violation is deep in a long history', () => {
    const h: History = [];
    for (let i = 0; i < 300; i++) h.push(put(`v${i}`, i * 10, i * 10 + 15), get(`v${i}`, i * 10 + 16, i * 10 + 17));
    h.push(get('v5', 3100, 3101));
    const bad = h.length - 1;
    h.push(put('late', 3200, 3201));
    const why = assertFails(h);
    assert.match(why, new RegExp(`op #${bad} .*-> "v5"`));
  });
});

// ---- against a brute-force checker ---------------------------------------------------------

/**
 * Tries every order real time allows (ops with unknown outcome may be left out), remembering
 * (placed set, value) pairs that failed: an independent check for histories of up to ~25 ops.
 */
function bruteForce(history: History): boolean {
  const ops = history.filter((o) => !(o.kind === 'get' && o.return === null));
  assert.ok(ops.length <= 30);
  const knownMask = ops.reduce((m, o, i) => (o.return !== null ? m | (1 << i) : m), 0);
  // before[i]: the ops that returned before op i was called, which must be placed before it.
  const before = ops.map((o) => ops.reduce((m, p, k) => (p.return !== null && p.return < o.call ? m | (1 << k) : m), 0));
  const failed = new Set<string>();
  const go = (placed: number, value: string | null): boolean => {
    if ((placed & knownMask) === knownMask) return true;
    const memo = `${placed}|${value}`;
    if (failed.has(memo)) return false;
    for (let i = 0; i < ops.length; i++) {
      if (placed & (1 << i) || (before[i]! & ~placed) !== 0) continue;
      const o = ops[i]!;
      let next: string | null;
      if (o.kind === 'put') next = o.input.value!;
      else if (o.kind === 'get') {
        if (o.output.value !== value) continue;
        next = value;
      } else {
        const match = value === o.input.expected;
        if (o.return !== null && o.output.ok !== match) continue;
        next = match ? o.input.newValue! : value;
      }
      if (go(placed | (1 << i), next)) return true;
    }
    failed.add(memo);
    return false;
  };
  return go(0, null);
}

/** The history as it stood when op x returned: ops still in flight then have unknown outcome. */
function prefixAtReturnOf(h: History, x: number, includingX: boolean): History {
  const t = h[x]!.return!;
  return h
    .filter((o) => o.call <= t)
    .map((o) => {
      const i = h.indexOf(o);
      const returned = o.return !== null && (o.return < t || (i === x && includingX));
      return returned ? o : { ...o, return: null, output: {} };
    });
}

describe('agrees with a brute-force checker', () => {
  it('on 5,000 random histories of up to 20 ops (ties, unknown outcomes, both verdicts)', () => {
    const rng = new Rng(7);
    let pass = 0;
    let fail = 0;
    for (let n = 0; n < 5000; n++) {
      const values = ['a', 'b', 'c', 'd'].slice(0, 2 + rng.int(3));
      const h: History = [];
      const size = 1 + rng.int(20);
      const unknownRate = rng.pick([0, 0.1, 0.3]);
      // Outputs from a register applied at a random point of each interval (so, linearizable),
      // then a few of them changed at random.
      const points: { at: number; op: Operation }[] = [];
      for (let i = 0; i < size; i++) {
        const call = rng.int(3 * size);
        const length = rng.int(8);
        const ret = rng.chance(unknownRate) ? null : call + length;
        const kind = rng.pick(['put', 'get', 'get', 'cas'] as const);
        let op: Operation;
        if (kind === 'put') op = put(rng.pick(values), call, ret);
        else if (kind === 'get') op = get(null, call, ret);
        else op = cas(rng.chance(0.2) ? null : rng.pick(values), rng.pick(values), ret === null ? null : false, call, ret);
        h.push(op);
        if (ret !== null || rng.chance(0.5)) points.push({ at: call + rng.next() * (ret === null ? 20 : length), op });
      }
      points.sort((p, q) => p.at - q.at);
      let value: string | null = null;
      for (const { op } of points) {
        if (op.kind === 'put') value = op.input.value!;
        else if (op.kind === 'get') op.output = op.return === null ? {} : { value };
        else {
          const match = value === op.input.expected;
          if (match) value = op.input.newValue!;
          op.output = op.return === null ? {} : { ok: match };
        }
      }
      for (let c = rng.int(3); c > 0; c--) {
        const op = rng.pick(h);
        if (op.return === null) continue;
        if (op.kind === 'get') op.output = { value: rng.chance(0.2) ? null : rng.pick(values) };
        if (op.kind === 'cas') op.output = { ok: !op.output.ok };
      }
      const expected = bruteForce(h);
      const got = checkLinearizable(h);
      assert.equal(got.ok, expected, `history ${n}: ${JSON.stringify(h)}\n${got.ok === false ? got.explanation : ''}`);
      if (got.ok !== false) {
        pass++;
        continue;
      }
      fail++;
      // The op named first is the right one: the history fails as of its return, not before.
      const x = Number(/cannot be linearized:\n {2}op #(\d+) /.exec(got.explanation)?.[1]);
      const t = h[x]!.return;
      assert.ok(t !== null, got.explanation);
      if (h.some((o, i) => i !== x && o.return === t)) continue; // a tie: either may be named
      assert.equal(bruteForce(prefixAtReturnOf(h, x, true)), false, `history ${n}, op #${x}`);
      assert.equal(bruteForce(prefixAtReturnOf(h, x, false)), true, `history ${n}, op #${x}`);
    }
    assert.ok(pass > 1000 && fail > 1000, `both verdicts exercised (${pass} pass, ${fail} fail)`);
  });
});

// ---- randomized: a simulated linearizable register ----------------------------------------

interface SimOptions {
  clients: number;
  opsPerClient: number;
  /** 0 = every written value is unique; otherwise values come from this many. */
  domain: number;
  unknownRate: number;
  keys?: number;
  /** Moments at which every op in flight gets an unknown outcome, as when a member is killed. */
  crashes?: number;
}

/**
 * Each op gets a random interval and a linearization point inside it; applying the ops to a
 * register in linearization-point order gives their outputs, so the history is linearizable. An
 * op with unknown outcome either takes effect at some point after its call or never.
 */
function simulate(rng: Rng, o: SimOptions): History {
  let unique = 0;
  const value = (): string => (o.domain === 0 ? `v${unique++}` : `x${rng.int(o.domain)}`);
  const keys = Array.from({ length: o.keys ?? 1 }, (_, i) => (o.keys === undefined ? 'k' : `key-${i}`));
  const recent = new Map<string, string[]>(keys.map((k) => [k, []]));
  const effects: { at: number; op: Operation }[] = [];
  const history: History = [];
  const crashes = Array.from({ length: o.crashes ?? 0 }, () => rng.next() * o.opsPerClient * 16);
  for (let c = 0; c < o.clients; c++) {
    let t = rng.next() * 10;
    for (let i = 0; i < o.opsPerClient; i++) {
      const key = rng.pick(keys);
      const call = t + rng.next() * 5;
      const duration = 0.5 + rng.next() * 25;
      const unknown = rng.chance(o.unknownRate) || crashes.some((t) => t > call && t < call + duration);
      const r = rng.next();
      let op: Operation;
      if (r < 0.4) op = put(value(), call, unknown ? null : call + duration, key, c);
      else if (r < 0.8) op = get(null, call, unknown ? null : call + duration, key, c);
      else {
        const seen = recent.get(key)!;
        const expected = seen.length > 0 && rng.chance(0.8) ? rng.pick(seen.slice(-4)) : rng.chance(0.5) ? null : value();
        op = cas(expected, value(), unknown ? null : false, call, unknown ? null : call + duration, key, c);
      }
      if (op.kind === 'put') recent.get(key)!.push(op.input.value!);
      history.push(op);
      if (!unknown) effects.push({ at: call + rng.next() * duration, op });
      else if (rng.chance(0.5)) effects.push({ at: call + rng.next() * 200, op });
      t = call + duration;
    }
  }
  effects.sort((p, q) => p.at - q.at);
  const register = new Map<string, string | null>();
  for (const { op } of effects) {
    const state = register.get(op.key) ?? null;
    if (op.kind === 'put') register.set(op.key, op.input.value!);
    else if (op.kind === 'get') {
      if (op.return !== null) op.output = { value: state };
    } else {
      const match = state === op.input.expected;
      if (match) register.set(op.key, op.input.newValue!);
      if (op.return !== null) op.output = { ok: match };
      if (match) recent.get(op.key)!.push(op.input.newValue!);
    }
  }
  return history;
}

/**
 * Makes one completed get read a value it provably cannot see: every op on its key that could
 * have written w returned before a completed put of another value was called, and that put
 * returned before the get was called; with no deletes, nothing can restore w (or absent) after
 * that put.
 * Returns the index of the changed get, or -1 if this history has no such triple.
 */
function corruptOneRead(rng: Rng, h: History): number {
  const writers = new Map<string | null, Operation[]>([[null, []]]);
  for (const op of h) {
    const w = op.kind === 'put' ? op.input.value! : op.kind === 'cas' && (op.return === null || op.output.ok) ? op.input.newValue! : undefined;
    if (w === undefined) continue;
    const list = writers.get(w) ?? [];
    list.push(op);
    writers.set(w, list);
  }
  const gets = h.map((op, i) => [op, i] as const).filter(([op]) => op.kind === 'get' && op.return !== null);
  for (let attempt = 0; attempt < 200 && gets.length > 0; attempt++) {
    const [g, gi] = rng.pick(gets);
    const barriers = h.filter((p) => p.key === g.key && p.kind === 'put' && p.return !== null && p.return < g.call);
    if (barriers.length === 0) continue;
    const barrier = rng.pick(barriers);
    const stale = [...writers.entries()]
      .filter(
        ([v, ws]) => v !== barrier.input.value && ws.every((w) => w.key !== g.key || (w.return !== null && w.return < barrier.call)),
      )
      .map(([v]) => v);
    // Prefer a value that was really written over "absent".
    const candidates = stale.length > 1 ? stale.filter((v) => v !== null) : stale;
    if (candidates.length === 0) continue;
    const w = rng.pick(candidates);
    assert.notEqual(w, g.output.value);
    g.output = { value: w };
    return gi;
  }
  return -1;
}

describe('randomized: simulated linearizable registers', () => {
  it('histories from a linearizable register pass; one provably stale read makes them fail', () => {
    const rng = new Rng(2024);
    let corrupted = 0;
    for (let n = 0; n < 150; n++) {
      const opts: SimOptions = {
        clients: 2 + rng.int(7),
        opsPerClient: 5 + rng.int(40),
        domain: rng.chance(0.5) ? 0 : 2 + rng.int(4),
        unknownRate: rng.chance(0.5) ? 0 : 0.05,
        keys: rng.chance(0.3) ? 1 + rng.int(3) : undefined,
        crashes: rng.chance(0.3) ? 1 + rng.int(4) : undefined,
      };
      const h = simulate(rng, opts);
      const r = checkLinearizable(h, { timeoutMs: 20_000 });
      assert.deepEqual(r, { ok: true }, `run ${n} ${JSON.stringify(opts)}: ${r.ok === false ? r.explanation : JSON.stringify(r)}`);
      if (opts.domain !== 0) continue; // the staleness proof needs each value written once
      const bad = corruptOneRead(rng, h);
      if (bad < 0) continue;
      corrupted++;
      const c = checkLinearizable(h, { timeoutMs: 20_000 });
      assert.equal(c.ok, false, `run ${n}: corrupted read #${bad} not caught`);
      assert.ok(c.ok === false);
      assert.equal(c.key, h[bad]!.key);
      // The corrupted read is the first op that cannot be linearized: everything before it is untouched.
      assert.match(c.explanation, new RegExp(`first operation that cannot be linearized:\\n  op #${bad} `), c.explanation);
    }
    assert.ok(corrupted >= 40, `only ${corrupted} histories corrupted`);
  });
});

// ---- the recorder ----------------------------------------------------------------------------

describe('HistoryRecorder', () => {
  it('records call and return on a monotonic clock; pending ops come out unknown', () => {
    const rec = new HistoryRecorder();
    const a = rec.begin(1, 'put', 'k', { value: 'a' });
    const b = rec.begin(2, 'get', 'k');
    rec.end(a);
    const c = rec.begin(3, 'cas', 'k', { expected: 'a', newValue: 'b' });
    rec.unknown(c);
    assert.equal(rec.pending, 1);
    assert.throws(() => rec.end(a), /already ended/);
    assert.throws(() => rec.begin(1, 'put', 'k', {}), /put needs input.value/);
    const h = rec.history();
    assert.equal(h.length, 3);
    assert.ok(h[0]!.return !== null && h[0]!.return >= h[0]!.call);
    assert.ok(h[1]!.call >= h[0]!.call && h[2]!.call >= h[0]!.return!);
    assert.equal(h[1]!.return, null); // b never ended
    assert.equal(h[2]!.return, null);
    assert.equal(rec.history()[1]!.return, null);
    rec.end(b, { value: 'a' });
    assert.deepEqual(rec.history()[1]!.output, { value: 'a' });
    assert.deepEqual(checkLinearizable(rec.history()), { ok: true });
  });

  const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

  /** Concurrent async clients doing put/get/cas against `store`, recorded. */
  async function drive(store: {
    put(k: string, v: string): Promise<void>;
    get(k: string): Promise<string | null>;
    cas(k: string, e: string | null, n: string): Promise<boolean>;
  }): Promise<History> {
    const rec = new HistoryRecorder();
    const rng = new Rng(99);
    let unique = 0;
    await Promise.all(
      Array.from({ length: 6 }, async (_, client) => {
        for (let i = 0; i < 25; i++) {
          const key = rng.pick(['a', 'b']);
          const r = rng.next();
          if (r < 0.4) {
            const op = rec.begin(client, 'put', key, { value: `v${unique++}` });
            await store.put(key, `v${unique - 1}`);
            rec.end(op);
          } else if (r < 0.8) {
            const op = rec.begin(client, 'get', key);
            rec.end(op, { value: await store.get(key) });
          } else {
            const expected = rng.chance(0.3) ? null : `v${rng.int(Math.max(unique, 1))}`;
            const op = rec.begin(client, 'cas', key, { expected, newValue: `v${unique++}` });
            rec.end(op, { ok: await store.cas(key, expected, `v${unique - 1}`) });
          }
        }
      }),
    );
    return rec.history();
  }

  it('concurrent async clients against a linearizable in-memory store pass', async () => {
    const data = new Map<string, string>();
    const rng = new Rng(5);
    // Each request takes effect at one instant between two random delays.
    const atomically = async <T>(f: () => T): Promise<T> => {
      await sleep(rng.int(3));
      const r = f();
      await sleep(rng.int(3));
      return r;
    };
    const h = await drive({
      put: (k, v) => atomically(() => void data.set(k, v)),
      get: (k) => atomically(() => data.get(k) ?? null),
      cas: (k, e, n) =>
        atomically(() => {
          if ((data.get(k) ?? null) !== e) return false;
          data.set(k, n);
          return true;
        }),
    });
    assert.equal(h.length, 150);
    assert.deepEqual(checkLinearizable(h), { ok: true });
  });

  it('the same clients against a store that reads from a lagging replica fail', async () => {
    const leader = new Map<string, string>();
    const replica = new Map<string, string>();
    const replicate = (k: string, v: string): void => void setTimeout(() => replica.set(k, v), 15);
    const h = await drive({
      put: async (k, v) => {
        await sleep(1);
        leader.set(k, v);
        replicate(k, v);
      },
      get: async (k) => {
        await sleep(1);
        return replica.get(k) ?? null;
      },
      cas: async (k, e, n) => {
        await sleep(1);
        if ((leader.get(k) ?? null) !== e) return false;
        leader.set(k, n);
        replicate(k, n);
        return true;
      },
    });
    const r = checkLinearizable(h);
    assert.equal(r.ok, false);
    assert.ok(r.ok === false);
    assert.match(r.explanation, /first operation that cannot be linearized/);
  });
});

// ---- budget and speed --------------------------------------------------------------------

describe('budget and performance', () => {
  it('gives up with ok: "unknown" when the search outlives timeoutMs', () => {
    // 30 puts of unknown outcome and 30 reads, each of one of those values, all concurrent, then a
    // read of a value nobody wrote: proving that no order of them explains that last read means
    // trying every subset of the first reads before it.
    const h: History = [];
    for (let i = 0; i < 30; i++) h.push(put(`u${i}`, 0, null), get(`u${i}`, 1, 100));
    h.push(get('nope', 200, 201));
    const t0 = performance.now();
    const r: CheckResult = checkLinearizable(h, { timeoutMs: 200 });
    const ms = performance.now() - t0;
    assert.equal(r.ok, 'unknown');
    assert.ok(r.ok === 'unknown');
    assert.match(r.reason, /timed out after 200 ms/);
    assert.ok(ms < 5_000, `stopped after ${ms.toFixed(0)} ms`);
  });

  it('checks ~2,000 ops on one key at concurrency 8 in well under the bound', () => {
    const rng = new Rng(31337);
    for (const [label, domain, unknownRate] of [
      ['unique values', 0, 0],
      ['10 values', 10, 0],
      ['3 values, 1% unknown outcomes', 3, 0.01],
    ] as const) {
      const h = simulate(rng, { clients: 8, opsPerClient: 250, domain, unknownRate });
      const t0 = performance.now();
      const r = checkLinearizable(h, { timeoutMs: 20_000 });
      const ms = performance.now() - t0;
      console.log(`# lincheck: ${h.length} ops, 1 key, 8 clients, ${label}: ${r.ok} in ${ms.toFixed(1)} ms`);
      assert.deepEqual(r, { ok: true });
      assert.ok(ms < 20_000);
    }
    // And a failing one: the verdict plus the search for the first failing op.
    const h = simulate(rng, { clients: 8, opsPerClient: 250, domain: 0, unknownRate: 0.01 });
    const bad = corruptOneRead(rng, h);
    assert.ok(bad >= 0);
    const t0 = performance.now();
    const r = checkLinearizable(h, { timeoutMs: 20_000 });
    const ms = performance.now() - t0;
    console.log(`# lincheck: ${h.length} ops, 1 key, 8 clients, one stale read: ${r.ok} in ${ms.toFixed(1)} ms (with explanation)`);
    assert.equal(r.ok, false);
    assert.ok(ms < 20_000);
  });

  it('checks 5,000 ops on one key at concurrency 16 with 20 crashes', () => {
    const rng = new Rng(77);
    const h = simulate(rng, { clients: 16, opsPerClient: 320, domain: 0, unknownRate: 0, crashes: 20 });
    const unknown = h.filter((op) => op.return === null).length;
    let t0 = performance.now();
    let r = checkLinearizable(h, { timeoutMs: 20_000 });
    let ms = performance.now() - t0;
    console.log(`# lincheck: ${h.length} ops, 1 key, 16 clients, ${unknown} unknown outcomes: ${r.ok} in ${ms.toFixed(1)} ms`);
    assert.deepEqual(r, { ok: true });
    assert.ok(unknown > 50);
    assert.ok(corruptOneRead(rng, h) >= 0);
    t0 = performance.now();
    r = checkLinearizable(h, { timeoutMs: 20_000 });
    ms = performance.now() - t0;
    console.log(`# lincheck: the same with one stale read: ${r.ok} in ${ms.toFixed(1)} ms (with explanation)`);
    assert.equal(r.ok, false);
    if (process.env.SHOWX) console.log(r.ok === false ? r.explanation : '');
  });

  it('checks 20,000 ops over 50 keys at concurrency 32', () => {
    const rng = new Rng(4);
    const h = simulate(rng, { clients: 32, opsPerClient: 625, domain: 5, unknownRate: 0.005, keys: 50 });
    const t0 = performance.now();
    const r = checkLinearizable(h, { timeoutMs: 20_000 });
    const ms = performance.now() - t0;
    console.log(`# lincheck: ${h.length} ops, 50 keys, 32 clients: ${r.ok} in ${ms.toFixed(1)} ms`);
    assert.deepEqual(r, { ok: true });
  });
});
