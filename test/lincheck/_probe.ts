// temporary probe (deleted after)
import { checkLinearizable } from './checker.ts';
import type { History, Operation } from './history.ts';
class Rng { private s: number; constructor(seed: number) { this.s = seed >>> 0; }
  next(): number { this.s = (this.s + 0x6d2b79f5) >>> 0; let t = this.s; t = Math.imul(t ^ (t >>> 15), t | 1); t ^= t + Math.imul(t ^ (t >>> 7), t | 61); return ((t ^ (t >>> 14)) >>> 0) / 4294967296; }
  int(n: number): number { return Math.floor(this.next() * n); } chance(p: number): boolean { return this.next() < p; } pick<T>(xs: readonly T[]): T { return xs[this.int(xs.length)]!; } }
const clients = Number(process.argv[2] ?? 8), per = Number(process.argv[3] ?? 250), unknownRate = Number(process.argv[4] ?? 0), dur = Number(process.argv[5] ?? 25);
const rng = new Rng(Number(process.argv[6] ?? 1));
let unique = 0;
const h: History = []; const effects: { at: number; op: Operation }[] = [];
for (let c = 0; c < clients; c++) { let t = rng.next() * 10;
  for (let i = 0; i < per; i++) { const call = t + rng.next() * 5; const d = 0.5 + rng.next() * dur; const unknown = rng.chance(unknownRate); const r = rng.next();
    let op: Operation; const ret = unknown ? null : call + d;
    if (r < 0.4) op = { clientId: c, key: 'k', kind: 'put', input: { value: `v${unique++}` }, call, return: ret, output: {} };
    else if (r < 0.8) op = { clientId: c, key: 'k', kind: 'get', input: {}, call, return: ret, output: { value: null } };
    else op = { clientId: c, key: 'k', kind: 'cas', input: { expected: `v${rng.int(unique + 1)}`, newValue: `v${unique++}` }, call, return: ret, output: { ok: false } };
    h.push(op); if (!unknown) effects.push({ at: call + rng.next() * d, op }); else if (rng.chance(0.5)) effects.push({ at: call + rng.next() * 200, op });
    t = call + d; } }
effects.sort((p, q) => p.at - q.at); let st: string | null = null;
for (const { op } of effects) { if (op.kind === 'put') st = op.input.value!; else if (op.kind === 'get') op.output = { value: st }; else { const m = st === op.input.expected; if (m) st = op.input.newValue!; op.output = { ok: m }; } }
let t0 = performance.now(); let r = checkLinearizable(h, { timeoutMs: 30000 }); console.log('clean', r.ok, (performance.now() - t0).toFixed(0), 'ms');
// corrupt: a get in the middle reads absent (provably stale once any put completed before it)
const gets = h.map((o, i) => [o, i] as const).filter(([o]) => o.kind === 'get' && o.return !== null && o.call > 100);
const [g, gi] = gets[Math.floor(gets.length / 2)]!; g.output = { value: null };
t0 = performance.now(); r = checkLinearizable(h, { timeoutMs: 30000 }); console.log('corrupt #' + gi, r.ok, (performance.now() - t0).toFixed(0), 'ms', r.ok === false ? r.explanation.split('\n').slice(0, 3).join(' | ') : '');
