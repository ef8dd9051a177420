// temporary stress probe
import { checkLinearizable } from './checker.ts';
import type { History, Operation } from './history.ts';
class Rng { private s: number; constructor(seed: number) { this.s = seed >>> 0; }
  next(): number { this.s = (this.s + 0x6d2b79f5) >>> 0; let t = this.s; t = Math.imul(t ^ (t >>> 15), t | 1); t ^= t + Math.imul(t ^ (t >>> 7), t | 61); return ((t ^ (t >>> 14)) >>> 0) / 4294967296; }
  int(n: number): number { return Math.floor(this.next() * n); } chance(p: number): boolean { return this.next() < p; } pick<T>(xs: readonly T[]): T { return xs[this.int(xs.length)]!; } }
const [clients, total, domain, kills, seed] = process.argv.slice(2).map(Number) as [number, number, number, number, number];
const rng = new Rng(seed);
let unique = 0; const val = () => (domain === 0 ? `v${unique++}` : `x${rng.int(domain)}`);
// time-stepped: each client has a current op; kill events make all in-flight ops unknown
const h: History = []; const eff: { at: number; op: Operation }[] = [];
const killTimes = Array.from({ length: kills }, () => rng.next() * total * 3 / clients * 1.0).sort((a, b) => a - b);
const seen: string[] = [];
for (let c = 0; c < clients; c++) { let t = rng.next();
  while (h.filter((o) => o.clientId === c).length < total / clients) {
    const call = t + rng.next(); const d = 0.2 + rng.next() * 3; let ret: number | null = call + d;
    if (killTimes.some((k) => k > call && k < call + d)) ret = null;
    const r = rng.next(); let op: Operation;
    if (r < 0.3) { op = { clientId: c, key: 'k', kind: 'put', input: { value: val() }, call, return: ret, output: {} }; seen.push(op.input.value!); }
    else if (r < 0.7) op = { clientId: c, key: 'k', kind: 'get', input: {}, call, return: ret, output: { value: null } };
    else op = { clientId: c, key: 'k', kind: 'cas', input: { expected: seen.length ? rng.pick(seen.slice(-5)) : null, newValue: val() }, call, return: ret, output: { ok: false } };
    h.push(op);
    if (ret !== null) eff.push({ at: call + rng.next() * d, op }); else if (rng.chance(0.5)) eff.push({ at: call + rng.next() * 10, op });
    t = ret ?? call + d + 2; } }
eff.sort((p, q) => p.at - q.at); let st: string | null = null;
for (const { op } of eff) { if (op.kind === 'put') st = op.input.value!; else if (op.kind === 'get') op.output = { value: st }; else { const m = st === op.input.expected; if (m) { st = op.input.newValue!; seen.push(st); } op.output = { ok: m }; } }
const unknowns = h.filter((o) => o.return === null).length;
let t0 = performance.now(); let r = checkLinearizable(h, { timeoutMs: 60000 });
console.log(`${h.length} ops, ${clients} clients, domain ${domain}, ${unknowns} unknown: clean ${r.ok} ${(performance.now() - t0).toFixed(0)} ms`);
// corrupt a late get to read absent / never-written value
const gets = h.filter((o) => o.kind === 'get' && o.return !== null);
const g = gets[Math.floor(gets.length * 0.9)]!; g.output = { value: 'never-written' };
t0 = performance.now(); r = checkLinearizable(h, { timeoutMs: 60000 });
console.log(`   corrupt: ${r.ok} ${(performance.now() - t0).toFixed(0)} ms ${r.ok === false ? r.explanation.split('\n')[2] : ''}`);
