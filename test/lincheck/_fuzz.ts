// temporary fuzz: compare against a memoized exhaustive checker (independent implementation)
import { checkLinearizable } from './checker.ts';
import type { History, Operation } from './history.ts';
class Rng { private s: number; constructor(seed: number) { this.s = seed >>> 0; }
  next(): number { this.s = (this.s + 0x6d2b79f5) >>> 0; let t = this.s; t = Math.imul(t ^ (t >>> 15), t | 1); t ^= t + Math.imul(t ^ (t >>> 7), t | 61); return ((t ^ (t >>> 14)) >>> 0) / 4294967296; }
  int(n: number): number { return Math.floor(this.next() * n); } chance(p: number): boolean { return this.next() < p; } pick<T>(xs: readonly T[]): T { return xs[this.int(xs.length)]!; } }
function reference(history: History): boolean {
  const ops = history.filter((o) => !(o.kind === 'get' && o.return === null));
  const n = ops.length; const knownMask = ops.reduce((m, o, i) => (o.return !== null ? m | (1 << i) : m), 0);
  const pred = ops.map((o) => ops.reduce((m, p, k) => (p.return !== null && p.return < o.call ? m | (1 << k) : m), 0));
  const seen = new Set<string>();
  const go = (done: number, state: string | null): boolean => {
    if ((done & knownMask) === knownMask) return true;
    const key = done + '|' + state; if (seen.has(key)) return false; seen.add(key);
    for (let i = 0; i < n; i++) {
      if (done & (1 << i)) continue; if ((pred[i]! & ~done) !== 0) continue;
      const o = ops[i]!; const known = o.return !== null; let next: string | null;
      if (o.kind === 'put') next = o.input.value!;
      else if (o.kind === 'get') { if (o.output.value !== state) continue; next = state; }
      else { const m = state === o.input.expected; if (known && o.output.ok !== m) continue; next = m ? o.input.newValue! : state; }
      if (go(done | (1 << i), next)) return true;
    }
    return false;
  };
  return go(0, null);
}
const seed0 = Number(process.argv[2] ?? 1), count = Number(process.argv[3] ?? 20000);
let pass = 0, fail = 0;
for (let s = seed0; s < seed0 + count; s++) {
  const rng = new Rng(s);
  const n = 5 + rng.int(20); const clients = 2 + rng.int(6); const D = 2 + rng.int(3); const unk = rng.chance(0.5) ? 0.3 : 0.08;
  const h: History = []; const eff: { at: number; op: Operation }[] = [];
  const ts = new Array(clients).fill(0);
  for (let i = 0; i < n; i++) {
    const c = rng.int(clients); const call = ts[c] + rng.int(3); const d = rng.int(8); const unknown = rng.chance(unk);
    const r = rng.next(); let op: Operation; const ret = unknown ? null : call + d; const v = () => 'x' + rng.int(D);
    if (r < 0.35) op = { clientId: c, key: 'k', kind: 'put', input: { value: v() }, call, return: ret, output: {} };
    else if (r < 0.7) op = { clientId: c, key: 'k', kind: 'get', input: {}, call, return: ret, output: { value: null } };
    else op = { clientId: c, key: 'k', kind: 'cas', input: { expected: rng.chance(0.2) ? null : v(), newValue: v() }, call, return: ret, output: { ok: false } };
    h.push(op); ts[c] = call + d + 1;
    if (!unknown) eff.push({ at: call + rng.next() * d, op }); else if (rng.chance(0.5)) eff.push({ at: call + rng.next() * 30, op });
  }
  eff.sort((p, q) => p.at - q.at); let st: string | null = null;
  for (const { op } of eff) { if (op.kind === 'put') st = op.input.value!; else if (op.kind === 'get') op.output = { value: st }; else { const m = st === op.input.expected; if (m) st = op.input.newValue!; op.output = { ok: m }; } }
  // corrupt some outputs at random
  const k = rng.int(3);
  for (let j = 0; j < k; j++) { const o = rng.pick(h); if (o.return === null) continue; if (o.kind === 'get') o.output = { value: rng.chance(0.2) ? null : 'x' + rng.int(D) }; else if (o.kind === 'cas') o.output = { ok: !o.output.ok }; }
  const want = reference(h); const res = checkLinearizable(h); const got = res.ok;
  if (res.ok === false) {
    const x = Number(/first operation that cannot be linearized:\n  op #(\d+) /.exec(res.explanation)![1]);
    const X = h[x]!; const T = X.return!;
    // prefix including X's return: ops returned at <= T (ties: events sorted call<return then index; approximate with strict/loose both)
    const cut = (incl: boolean) => h.filter((o, i) => o.call <= T && !(o.kind === 'get' && (o.return === null || o.return > T || (o.return === T && !(incl ? i <= x : i < x) && i !== x) || (!incl && i === x)))).map((o) => {
      const i = h.indexOf(o); const returned = o.return !== null && (o.return < T || (o.return === T && (incl ? i <= x : i < x)));
      return returned ? o : { ...o, return: null, output: {} };
    });
    if (!X || reference(cut(true)) !== false || reference(cut(false)) !== true) {
      if (!h.some((o, i) => i !== x && o.return === T)) { console.log('BAD EXPLANATION seed', s, x, res.explanation, JSON.stringify(h)); process.exit(1); }
    }
  }
  if (got !== want) { console.log('MISMATCH seed', s, 'want', want, 'got', got, JSON.stringify(h)); process.exit(1); }
  if (want) pass++; else fail++;
}
console.log('ok', { pass, fail });
