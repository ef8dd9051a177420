// A linearizability checker for key-value histories (history.ts) against a sequential register
// per key, in the style of porcupine and Knossos.
//
// Model, per key (keys are independent registers, so the history is checked one key at a time,
// which is what keeps the search small): the register starts absent (null);
//   put(v)                  sets v;
//   get() -> v              legal iff the register holds v (null = absent);
//   cas(e, n) -> swapped    legal iff the register holds e, and then sets n;
//   cas(e, n) -> not        legal iff the register does not hold e, and changes nothing.
// An operation whose outcome is unknown (return = null) may or may not have taken effect: as in
// porcupine, its return time is +infinity and its output is not checked, so it can be placed
// anywhere after its call, including after everything else (which is the same as never). An
// unknown put then sets its value; an unknown cas swaps iff the register holds its expected
// value; an unknown get constrains nothing and is dropped.
//
// The search is Wing & Gong's, with Lowe's memoization, as porcupine does it: the call and return
// events of one key, sorted by time (calls first at equal times, so touching intervals count as
// concurrent), form a doubly linked list. Walking it from the front, a call entry is linearized
// when its operation is legal in the current state: the operation's call and return entries are
// lifted out of the list, (operation, previous state) is pushed on a stack, and the walk restarts
// at the front. Reaching a return entry means that operation had to be linearized by now and was
// not, so the last choice is undone (popped, unlifted) and the walk goes on after it. A memo of
// the configurations already explored - (linearized set as a bitset, state) - prunes repeats:
// the future of the search depends on nothing else. The history is linearizable iff every
// operation with a known outcome gets linearized. On top of that, each argued where it is:
// - unknown-outcome operations live in a list of their own and are tried only at a dead end,
//   and only when they move the register to a value some operation needs; a configuration is
//   also pruned when one with the same known set and state and fewer unknown operations
//   linearized was seen (it can do everything this one can); of unknown operations with the
//   same effect only the first unused one is tried;
// - a legal read (get, or cas that did not swap) is taken at once with no alternative to try;
// - values no operation reads or expects are one state to the search (see KeyValues).
//
// On failure the explanation names the first operation that cannot be linearized - the one
// whose return ends the shortest prefix of the history (operations still in flight at the cut
// treated as unknown) that is not linearizable - and the values the register could hold
// wherever that operation could have taken effect.
import type { History, Operation } from './history.ts';
import { formatOp, formatValue } from './history.ts';

export interface CheckOptions {
  /** Give up (result ok: 'unknown') after this long; default: no limit. */
  timeoutMs?: number;
  /** The value each key holds before the history starts (default: absent for every key). */
  initial?: Readonly<Record<string, string | null>>;
}

export type CheckResult =
  | { ok: true }
  | { ok: false; key: string; explanation: string }
  | { ok: 'unknown'; reason: string };

const PUT = 0;
const GET = 1;
const CAS = 2;

/** One operation of one key, with values interned to small integers (0 = absent). */
interface KeyOp {
  /** Index in the caller's history. */
  index: number;
  op: Operation;
  kind: number;
  known: boolean;
  /** put: value; get: value read; cas: expected (as a state of the search: see KeyValues). */
  a: number;
  /** cas: new value (likewise). */
  b: number;
  /** put: value; cas: new value - the value itself, for explanations. */
  written: number;
  /** cas: swapped. */
  swapped: boolean;
  call: number;
  /** +Infinity when the outcome is unknown. */
  ret: number;
}

class TimeoutError extends Error {}

export function checkLinearizable(history: History, options: CheckOptions = {}): CheckResult {
  const deadline = options.timeoutMs === undefined ? Infinity : performance.now() + options.timeoutMs;
  const byKey = new Map<string, number[]>();
  history.forEach((op, i) => {
    validate(op, i);
    let list = byKey.get(op.key);
    if (list === undefined) byKey.set(op.key, (list = []));
    list.push(i);
  });

  const timedOut: string[] = [];
  for (const key of [...byKey.keys()].sort()) {
    const { ops, values } = keyOps(history, byKey.get(key)!, new Interner(), options.initial?.[key] ?? null);
    let verdict: SearchResult;
    try {
      verdict = search(ops, values, deadline);
    } catch (e) {
      if (!(e instanceof TimeoutError)) throw e;
      timedOut.push(key);
      continue;
    }
    if (verdict.ok) continue;
    return { ok: false, key, explanation: explain(key, ops, values, verdict, deadline) };
  }
  if (timedOut.length > 0) {
    const shown = timedOut.slice(0, 5).map((k) => formatValue(k)).join(', ');
    return {
      ok: 'unknown',
      reason: `timed out after ${options.timeoutMs} ms checking ${timedOut.length} key(s) (${shown}${
        timedOut.length > 5 ? ', …' : ''
      }); no violation found in the keys that finished`,
    };
  }
  return { ok: true };
}

function validate(op: Operation, i: number): void {
  const bad = (what: string): never => {
    throw new TypeError(`history[${i}]: ${what}`);
  };
  if (typeof op.key !== 'string') bad('key must be a string');
  if (!Number.isFinite(op.call)) bad('call must be a finite number');
  if (op.return !== null && !(Number.isFinite(op.return) && op.return >= op.call)) {
    bad('return must be null or a finite number >= call');
  }
  const known = op.return !== null;
  switch (op.kind) {
    case 'put':
      if (typeof op.input.value !== 'string') bad('put needs input.value');
      break;
    case 'get':
      if (known && op.output.value !== null && typeof op.output.value !== 'string') {
        bad('a get that returned needs output.value (string, or null for absent)');
      }
      break;
    case 'cas':
      if (op.input.expected !== null && typeof op.input.expected !== 'string') bad('cas needs input.expected (string or null)');
      if (typeof op.input.newValue !== 'string') bad('cas needs input.newValue');
      if (known && typeof op.output.ok !== 'boolean') bad('a cas that returned needs output.ok');
      break;
    default:
      bad(`unknown kind ${JSON.stringify((op as { kind: unknown }).kind)}`);
  }
}

class Interner {
  private readonly ids = new Map<string, number>();
  private readonly names: (string | null)[] = [null];

  id(v: string | null | undefined): number {
    if (v === null || v === undefined) return 0;
    let id = this.ids.get(v);
    if (id === undefined) {
      id = this.names.length;
      this.ids.set(v, id);
      this.names.push(v);
    }
    return id;
  }

  show(id: number): string {
    return formatValue(this.names[id]);
  }

  get size(): number {
    return this.names.length;
  }
}

/**
 * The values of one key. The model only ever compares the register with the values gets read and
 * cas ops expect ("observed" values); every other value behaves the same in every future, so the
 * search uses one state, `hidden`, for all of them. That keeps the memo from telling apart
 * configurations that differ only in which unread value was written (and makes interchangeable
 * the unknown-outcome puts of values nobody read). Explanations still show the real values.
 */
interface KeyValues {
  names: Interner;
  observed: Uint8Array;
  hidden: number;
  /** The initial state as the search sees it, and as a value. */
  init: number;
  initValue: number;
}

function keyOps(history: History, indexes: number[], names: Interner, initial: string | null): { ops: KeyOp[]; values: KeyValues } {
  const out: KeyOp[] = [];
  const initValue = names.id(initial);
  for (const index of indexes) {
    const op = history[index]!;
    const known = op.return !== null;
    if (op.kind === 'get' && !known) continue; // constrains nothing
    const kind = op.kind === 'put' ? PUT : op.kind === 'get' ? GET : CAS;
    const a = names.id(kind === PUT ? op.input.value : kind === GET ? op.output.value : op.input.expected);
    const b = kind === CAS ? names.id(op.input.newValue) : 0;
    out.push({
      index,
      op,
      kind,
      known,
      a,
      b,
      written: kind === PUT ? a : b,
      swapped: kind === CAS && known && op.output.ok === true,
      call: op.call,
      ret: op.return ?? Infinity,
    });
  }
  const hidden = names.size;
  const observed = new Uint8Array(hidden + 1);
  for (const op of out) if (op.kind !== PUT) observed[op.a] = 1;
  observed[hidden] = 1;
  const state = (v: number): number => (observed[v] ? v : hidden);
  for (const op of out) {
    if (op.kind === PUT) op.a = state(op.a);
    if (op.kind === CAS) op.b = state(op.b);
  }
  return { ops: out, values: { names, observed, hidden, init: state(initValue), initValue } };
}

/** The register after `op` in `state`, or -1 if `op` (with its recorded output) is not legal there. */
function step(state: number, op: KeyOp): number {
  switch (op.kind) {
    case PUT:
      return op.a;
    case GET:
      return state === op.a ? state : -1;
    default:
      if (!op.known) return state === op.a ? op.b : state;
      if (op.swapped) return state === op.a ? op.b : -1;
      return state === op.a ? -1 : state;
  }
}

interface Watched {
  /** Values the register held where the watched op could go and was not legal. */
  illegal: Set<number>;
  /** Values the register held where the watched op could go and was legal. */
  legal: Set<number>;
  /** Values, not legal for it, that operations still in flight could have moved the register to there. */
  illegalVia: Set<number>;
}

interface DeadEnd {
  /** The values the register held when the search got stuck at this op's return entry, not legal there. */
  states: Set<number>;
  /** The further values operations still in flight could have moved the register to there. */
  viaUnknown: Set<number>;
}

type SearchResult =
  | { ok: true }
  | {
      ok: false;
      /** For each operation (local index) whose return entry was a dead end: the states there. */
      deadEnds: Map<number, DeadEnd>;
      /** The longest partial linearization found (local indexes) and the op it stalled on. */
      longest: number[];
      stalledOn: number;
      /** Of the ops the search got stuck at, the one whose return comes last in sortedEvents(). */
      latestStall: number;
      watched: Watched;
    };

/** Sorted events of ops: 2*j = call of ops[j], 2*j+1 = its return. Calls before returns at equal times. */
function sortedEvents(ops: KeyOp[]): number[] {
  const ev: number[] = [];
  for (let j = 0; j < ops.length; j++) ev.push(2 * j, 2 * j + 1);
  const time = (e: number): number => (e & 1 ? ops[e >> 1]!.ret : ops[e >> 1]!.call);
  ev.sort((x, y) => time(x) - time(y) || (x & 1) - (y & 1) || x - y);
  return ev;
}

/** Deterministic 32-bit random numbers for the Zobrist hash of the linearized set. */
function zobrist(n: number, seed: number): Int32Array {
  const out = new Int32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (s + 0x9e3779b9) >>> 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
    out[i] = z ^ (z >>> 16);
  }
  return out;
}

/**
 * The explored configurations: (known ops linearized, state) -> the minimal sets of unknown ops
 * linearized seen with them. An open-addressing hash table over typed arrays, so that millions of
 * entries cost no object each. Known ops are numbered in return order, and a search never
 * linearizes an op much ahead of the first one still to do, so a known set is stored as "every
 * op below word fw" plus its words from fw to the last non-zero one: a few words, not K/32.
 */
class Memo {
  private table = new Int32Array(1 << 16); // entry + 1; 0 = empty
  private entries = 0;
  private entryCap = 1 << 12;
  private entryHash = new Int32Array(this.entryCap);
  private entryState = new Int32Array(this.entryCap);
  private entryFw = new Int32Array(this.entryCap);
  private entryLen = new Int32Array(this.entryCap);
  private entryOff = new Int32Array(this.entryCap);
  private entrySets = new Int32Array(this.entryCap); // first set + 1 of the entry's chain
  private words = new Uint32Array(1 << 14);
  private wordsUsed = 0;
  private sets = 0;
  private setCap = 1 << 10;
  private setNext = new Int32Array(this.setCap); // next set + 1 in the chain; 0 = end
  private unknownBits: Uint32Array;

  constructor(private readonly uWords: number) {
    this.unknownBits = new Uint32Array(this.setCap * uWords);
  }

  get size(): number {
    return this.entries;
  }

  /**
   * Records a configuration: the known set is `known` (all bits below word fw set, none at or
   * above word hw), `unknown` the unknown set. False if one recorded before dominates it.
   */
  visit(hash: number, state: number, known: Uint32Array, fw: number, hw: number, unknown: Uint32Array): boolean {
    const len = hw > fw ? hw - fw : 0;
    const uWords = this.uWords;
    let mask = this.table.length - 1;
    let slot = hash & mask;
    for (;;) {
      const e = this.table[slot]! - 1;
      if (e < 0) break;
      if (
        this.entryHash[e] === hash &&
        this.entryState[e] === state &&
        this.entryFw[e] === fw &&
        this.entryLen[e] === len &&
        this.sameWords(this.entryOff[e]!, known, fw, len)
      ) {
        // Dominated if a recorded unknown set is a subset of this one; otherwise record this one
        // and drop the recorded supersets of it.
        if (uWords === 0) return false;
        let prev = -1;
        for (let st = this.entrySets[e]! - 1; st >= 0; ) {
          const nxt = this.setNext[st]! - 1;
          if (this.subset(st, unknown, true)) return false;
          if (this.subset(st, unknown, false)) {
            if (prev < 0) this.entrySets[e] = nxt + 1;
            else this.setNext[prev] = nxt + 1;
          } else prev = st;
          st = nxt;
        }
        this.entrySets[e] = this.addSet(unknown, this.entrySets[e]!) + 1;
        return true;
      }
      slot = (slot + 1) & mask;
    }

    const e = this.entries++;
    if (e === this.entryCap) {
      this.entryCap *= 2;
      this.entryHash = growInt(this.entryHash, this.entryCap);
      this.entryState = growInt(this.entryState, this.entryCap);
      this.entryFw = growInt(this.entryFw, this.entryCap);
      this.entryLen = growInt(this.entryLen, this.entryCap);
      this.entryOff = growInt(this.entryOff, this.entryCap);
      this.entrySets = growInt(this.entrySets, this.entryCap);
    }
    if (this.wordsUsed + len > this.words.length) {
      const w = new Uint32Array(Math.max(this.words.length * 2, this.wordsUsed + len));
      w.set(this.words);
      this.words = w;
    }
    this.entryHash[e] = hash;
    this.entryState[e] = state;
    this.entryFw[e] = fw;
    this.entryLen[e] = len;
    this.entryOff[e] = this.wordsUsed;
    for (let w = 0; w < len; w++) this.words[this.wordsUsed + w] = known[fw + w]!;
    this.wordsUsed += len;
    this.entrySets[e] = uWords === 0 ? 0 : this.addSet(unknown, 0) + 1;
    this.table[slot] = e + 1;
    if (this.entries * 2 > this.table.length) {
      const table = new Int32Array(this.table.length * 2);
      mask = table.length - 1;
      for (let i = 0; i < this.entries; i++) {
        let sl = this.entryHash[i]! & mask;
        while (table[sl] !== 0) sl = (sl + 1) & mask;
        table[sl] = i + 1;
      }
      this.table = table;
    }
    return true;
  }

  private sameWords(off: number, known: Uint32Array, fw: number, len: number): boolean {
    for (let w = 0; w < len; w++) if (this.words[off + w] !== known[fw + w]) return false;
    return true;
  }

  /** recordedInGiven: is recorded set `st` a subset of `given`; else: is `given` a subset of it. */
  private subset(st: number, given: Uint32Array, recordedInGiven: boolean): boolean {
    const base = st * this.uWords;
    for (let w = 0; w < this.uWords; w++) {
      const r = this.unknownBits[base + w]!;
      const g = given[w]!;
      if (recordedInGiven ? (r & ~g) !== 0 : (g & ~r) !== 0) return false;
    }
    return true;
  }

  private addSet(unknown: Uint32Array, nextPlusOne: number): number {
    const st = this.sets++;
    if (st === this.setCap) {
      this.setCap *= 2;
      this.setNext = growInt(this.setNext, this.setCap);
      const u = new Uint32Array(this.setCap * this.uWords);
      u.set(this.unknownBits);
      this.unknownBits = u;
    }
    this.unknownBits.set(unknown, st * this.uWords);
    this.setNext[st] = nextPlusOne;
    return st;
  }
}

function growInt(a: Int32Array, n: number): Int32Array<ArrayBuffer> {
  const b = new Int32Array(n);
  b.set(a);
  return b;
}

/**
 * Searches for a linearization of ops. With `watch` (an index into ops), also records for
 * explanations where the search got stuck and the values the register held wherever ops[watch]
 * could have been placed.
 */
function search(ops: KeyOp[], values: KeyValues, deadline: number, watch?: number): SearchResult {
  const recordDeadEnds = watch !== undefined;
  // Operations with a known outcome go into the entry list; those with an unknown outcome have
  // no return entry to bound them (it would sit at +infinity), so they are kept apart in their own
  // list, in call order, and tried only after every known operation that could go next: at the
  // first return entry, before giving up on the current choice. Trying them last matters for the
  // memo below.
  const known: number[] = [];
  const unknown: number[] = [];
  ops.forEach((op, j) => (op.known ? known : unknown).push(j));
  known.sort((x, y) => ops[x]!.ret - ops[y]!.ret || ops[x]!.call - ops[y]!.call || x - y); // see Memo
  const K = known.length;
  const U = unknown.length;
  if (K === 0) return { ok: true };
  let remainingKnown = K;

  // The entry list: node 0 is the head; node 1 + 2k is the call of known[k], 2 + 2k its return.
  const HEAD = 0;
  const NIL = -1;
  const next = new Int32Array(2 * K + 1);
  const prev = new Int32Array(2 * K + 1);
  {
    const ev: number[] = [];
    for (let k = 0; k < K; k++) ev.push(2 * k, 2 * k + 1);
    const time = (e: number): number => (e & 1 ? ops[known[e >> 1]!]!.ret : ops[known[e >> 1]!]!.call);
    // The order of sortedEvents(ops), which explain() relies on.
    ev.sort((x, y) => time(x) - time(y) || (x & 1) - (y & 1) || known[x >> 1]! - known[y >> 1]!);
    let last = HEAD;
    prev[HEAD] = NIL;
    for (const e of ev) {
      next[last] = e + 1;
      prev[e + 1] = last;
      last = e + 1;
    }
    next[last] = NIL;
  }
  const lift = (call: number): void => {
    // A call node always has a successor (at least its own return).
    next[prev[call]!] = next[call]!;
    prev[next[call]!] = prev[call]!;
    const ret = call + 1;
    next[prev[ret]!] = next[ret]!;
    if (next[ret] !== NIL) prev[next[ret]!] = prev[ret]!;
  };
  const unlift = (call: number): void => {
    const ret = call + 1;
    next[prev[ret]!] = ret;
    if (next[ret] !== NIL) prev[next[ret]!] = ret;
    next[prev[call]!] = call;
    prev[next[call]!] = call;
  };

  // The unknown list: node 0 is its head; node 1 + u is unknown[u], sorted by call time.
  const unext = new Int32Array(U + 1);
  const uprev = new Int32Array(U + 1);
  {
    const order = [...unknown.keys()].sort((x, y) => ops[unknown[x]!]!.call - ops[unknown[y]!]!.call || x - y);
    let last = HEAD;
    uprev[HEAD] = NIL;
    for (const u of order) {
      unext[last] = u + 1;
      uprev[u + 1] = last;
      last = u + 1;
    }
    unext[last] = NIL;
  }
  // Unknown ops with the same effect are interchangeable once both may go (and both then may go
  // forever after), so only the first unused one of each kind is tried: sameBefore[u] is the
  // previous one (in call order) with the same effect, or -1.
  const sameBefore = new Int32Array(U).fill(-1);
  {
    const lastOf = new Map<string, number>();
    for (let n = unext[HEAD]!; n !== NIL; n = unext[n]!) {
      const op = ops[unknown[n - 1]!]!;
      const effect = op.kind === PUT ? `p${op.a}` : `c${op.a},${op.b}`;
      sameBefore[n - 1] = lastOf.get(effect) ?? -1;
      lastOf.set(effect, n - 1);
    }
  }
  const ulift = (n: number): void => {
    unext[uprev[n]!] = unext[n]!;
    if (unext[n] !== NIL) uprev[unext[n]!] = uprev[n]!;
  };
  const uunlift = (n: number): void => {
    unext[uprev[n]!] = n;
    if (unext[n] !== NIL) uprev[unext[n]!] = n;
  };

  // The memo. A configuration is (known ops linearized, state, unknown ops linearized). One with
  // fewer unknown ops linearized can do everything one with more can (an unknown op need never
  // be linearized), so a configuration is pruned when one with the same known set and state and
  // a subset of its unknown set was seen. The hash covers the known set (Zobrist, kept
  // incrementally) and the state; each memo entry keeps the minimal unknown sets seen.
  const kWords = (K + 31) >>> 5;
  const uWords = (U + 31) >>> 5;
  const kBits = new Uint32Array(kWords);
  const uBits = new Uint32Array(uWords);
  const zKnown = zobrist(K, 0x1234567);
  let hKnown = 0;
  let fw = 0; // every known op below word fw is linearized, and word fw is not full
  let hw = 0; // no known op at or above word hw is linearized
  const memo = new Memo(uWords);
  /** Records the current configuration with `state`; false if it is dominated by one already seen. */
  const explore = (state: number): boolean =>
    memo.visit(hKnown ^ Math.imul(state + 1, 0x9e3779b1), state, kBits, fw, hw, uBits);
  const toggleKnown = (k: number): void => {
    const w = k >>> 5;
    kBits[w]! ^= 1 << (k & 31);
    hKnown ^= zKnown[k]!;
    if (kBits[w]! & (1 << (k & 31))) {
      if (w >= hw) hw = w + 1;
      while (fw < kWords && kBits[fw] === 0xffffffff) fw++;
    } else {
      if (w < fw) fw = w;
      while (hw > 0 && kBits[hw - 1] === 0) hw--;
    }
  };
  const zU = zobrist(U, 0x5eed);
  let uHash = 0;
  const toggleUnknown = (u: number): void => {
    uBits[u >>> 5]! ^= 1 << (u & 31);
    uHash ^= zU[u]!;
  };

  // The stack of choices: a node of the entry list (> 0) or, negated, of the unknown list.
  const stackNode: number[] = [];
  const stackState: number[] = [];
  const deadEnds = new Map<number, DeadEnd>();
  const closed = new Set<string>();
  let longest: number[] = [];
  let stalledOn = -1;
  let latestStall = -1;
  const opOfChoice = (n: number): number => (n > 0 ? known[(n - 1) >> 1]! : unknown[-n - 1]!);
  const firstReturn = (): number => {
    let n = next[HEAD]!;
    while (((n - 1) & 1) === 0) n = next[n]!;
    return n;
  };

  let state = values.init;
  // The value the register holds (state is `hidden` for many), tracked for explanations only.
  let value = values.initValue;
  const stackValue: number[] = [];
  const valueAfter = (op: KeyOp, before: number): number =>
    op.kind === PUT || (op.kind === CAS && before === op.a) ? op.written : value;
  let node = next[HEAD]!; // phase 1: walking the entry list
  let unode = NIL; // phase 2: walking the unknown list, up to the return entry `stop`
  let stop = NIL;
  let stopTime = 0;
  // Which unknown ops are worth trying at a dead end. At a dead end no known op can go next, so
  // a linearization from here (if any) starts with unknown ops and then a known op k that is
  // legal after them and not now. Dropping unknown ops that change nothing, cutting the sequence
  // at its last put and at repeated states, it is a chain of state changes in which each new
  // state is one k needs (a value a get read, a value a swapped cas expected, or - for a cas that
  // failed but expected the current state - any other value) or the value an available unknown
  // cas expects. Only unknown ops that move to such a state are tried.
  const targetMark = new Int32Array(values.hidden + 1); // === mark: a target at this dead end
  let mark = 0;
  let anyChange = false;
  const enterPhase2 = (returnNode: number, s: number): void => {
    stop = returnNode;
    stopTime = ops[known[(returnNode - 1) >> 1]!]!.ret;
    mark++;
    anyChange = false;
    for (let n = next[HEAD]!; n !== returnNode; n = next[n]!) {
      if (((n - 1) & 1) !== 0) continue;
      const op = ops[known[(n - 1) >> 1]!]!;
      if (op.kind === GET || (op.kind === CAS && op.swapped)) {
        if (op.a !== s) targetMark[op.a] = mark;
      } else if (op.kind === CAS && op.a === s) {
        anyChange = true;
      }
    }
    for (let n = unext[HEAD]!; n !== NIL && ops[unknown[n - 1]!]!.call <= stopTime; n = unext[n]!) {
      const op = ops[unknown[n - 1]!]!;
      if (op.kind === CAS) targetMark[op.a] = mark;
    }
  };
  const useful = (after: number, s: number): boolean => after !== s && (anyChange || targetMark[after] === mark);
  // Reads go first. A get, or a cas that failed, changes nothing wherever it is legal, and once
  // it may go (nothing that must precede it is left) any linearization from here can be
  // rearranged to place it first. So a legal one is taken at once, as a forced choice: if that
  // fails, this configuration has failed, with no alternative to try.
  const isRead = (op: KeyOp): boolean => op.kind === GET || (op.kind === CAS && op.known && !op.swapped);
  const stackForced: boolean[] = [];
  const push = (choice: number, op: KeyOp, after: number, forced: boolean): void => {
    stackNode.push(choice);
    stackState.push(state);
    stackForced.push(forced);
    if (recordDeadEnds) {
      stackValue.push(value);
      value = valueAfter(op, state);
    }
    state = after;
  };
  /** Undoes choices up to the last one that has alternatives left; false if there is none. */
  const backtrack = (): boolean => {
    for (;;) {
      const top = stackNode.pop();
      if (top === undefined) return false;
      state = stackState.pop()!;
      const forced = stackForced.pop()!;
      if (recordDeadEnds) value = stackValue.pop()!;
      if (top > 0) {
        toggleKnown((top - 1) >> 1);
        unlift(top);
        remainingKnown++;
        if (forced) continue;
        stop = NIL;
        node = next[top]!;
      } else {
        const un = -top;
        toggleUnknown(un - 1);
        uunlift(un);
        enterPhase2(firstReturn(), state);
        unode = unext[un]!;
      }
      return true;
    }
  };
  const watched: Watched = { illegal: new Set(), legal: new Set(), illegalVia: new Set() };
  const watchNode = watch === undefined ? NIL : 1 + 2 * known.indexOf(watch);
  const failed = (): SearchResult => ({ ok: false, deadEnds, longest, stalledOn, latestStall, watched });
  /** Adds to `into` the values other than v that unknown ops called by `until` could move v to. */
  const closeOver = (v0: number, until: number, into: Set<number>): void => {
    const todo = [v0];
    const seen = new Set(todo);
    while (todo.length > 0) {
      const v = todo.pop()!;
      const s = values.observed[v] ? v : values.hidden;
      for (let n = unext[HEAD]!; n !== NIL && ops[unknown[n - 1]!]!.call <= until; n = unext[n]!) {
        const op = ops[unknown[n - 1]!]!;
        const after = op.kind === PUT || s === op.a ? op.written : v;
        if (!seen.has(after)) {
          seen.add(after);
          into.add(after);
          todo.push(after);
        }
      }
    }
  };
  const closedWatch = new Set<string>();

  let fresh = true; // at a configuration not yet looked at
  let steps = 0;
  for (;;) {
    if (remainingKnown === 0) return { ok: true };
    if ((++steps & 0x7ff) === 0 && performance.now() > deadline) throw new TimeoutError();
    if (fresh) {
      fresh = false;
      stop = NIL;
      node = next[HEAD]!;
      let forced = NIL;
      let dominated = false;
      for (let n = next[HEAD]!; ((n - 1) & 1) === 0; n = next[n]!) {
        const k = (n - 1) >> 1;
        const op = ops[known[k]!]!;
        if (n === watchNode) {
          (step(state, op) < 0 ? watched.illegal : watched.legal).add(value);
          let r = next[n]!;
          while (((r - 1) & 1) === 0) r = next[r]!;
          const once = `${value}:${uHash}:${r}`;
          if (!closedWatch.has(once)) {
            closedWatch.add(once);
            const more = new Set<number>();
            closeOver(value, ops[known[(r - 1) >> 1]!]!.ret, more);
            for (const v of more) (step(values.observed[v] ? v : values.hidden, op) < 0 ? watched.illegalVia : watched.legal).add(v);
          }
        }
        // (Never the watched op: the values it could see after this point matter too.)
        if (!isRead(op) || n === watchNode || step(state, op) < 0) continue;
        toggleKnown(k);
        if (explore(state)) forced = n;
        else {
          // Seen, and failed (it cannot be on the current path: its known set is larger).
          toggleKnown(k);
          dominated = true;
        }
        break;
      }
      if (forced !== NIL) {
        push(forced, ops[known[(forced - 1) >> 1]!]!, state, true);
        lift(forced);
        remainingKnown--;
        fresh = true;
      } else if (dominated && !backtrack()) return failed();
      continue;
    }

    if (stop === NIL) {
      const e = node - 1;
      const k = e >> 1;
      if ((e & 1) === 0) {
        // A call entry: try to linearize known[k] here.
        const op = ops[known[k]!]!;
        const after = step(state, op);
        if (after >= 0) {
          toggleKnown(k);
          if (explore(after)) {
            push(node, op, after, false);
            lift(node);
            remainingKnown--;
            fresh = true;
            continue;
          }
          toggleKnown(k);
        }
        node = next[node]!;
      } else {
        // A return entry: known[k] must be linearized by now. Try the unknown ops first.
        enterPhase2(node, state);
        unode = unext[HEAD]!;
      }
      continue;
    }

    if (unode !== NIL && ops[unknown[unode - 1]!]!.call <= stopTime) {
      const u = unode - 1;
      const op = ops[unknown[u]!]!;
      const after = step(state, op); // always legal: the output is not checked
      let skip = !useful(after, state);
      for (let w = sameBefore[u]!; !skip && w >= 0; w = sameBefore[w]!) {
        if ((uBits[w >>> 5]! & (1 << (w & 31))) === 0) skip = true; // an unused twin goes first
      }
      if (!skip) {
        toggleUnknown(u);
        if (explore(after)) {
          push(-unode, op, after, false);
          ulift(unode);
          fresh = true;
          continue;
        }
        toggleUnknown(u);
      }
      unode = unext[unode]!;
      continue;
    }

    // A dead end: nothing more can go before the return entry `stop`. Undo the last choice.
    const blocked = known[(stop - 1) >> 1]!;
    if (recordDeadEnds && step(state, ops[blocked]!) < 0) {
      // The value here, where the blocked op cannot go, and those the unknown ops still
      // available could move the register to. (Where it could go, but everything after it
      // failed, the value says nothing about it.)
      let d = deadEnds.get(blocked);
      if (d === undefined) deadEnds.set(blocked, (d = { states: new Set(), viaUnknown: new Set() }));
      d.states.add(value);
      const once = `${blocked}:${value}:${uHash}`;
      if (!closed.has(once)) {
        closed.add(once);
        closeOver(value, stopTime, d.viaUnknown);
      }
    }
    if (stackNode.length > longest.length || stalledOn < 0) {
      longest = stackNode.map(opOfChoice);
      stalledOn = blocked;
    }
    const b = ops[blocked]!;
    if (latestStall < 0 || b.ret > ops[latestStall]!.ret || (b.ret === ops[latestStall]!.ret && blocked > latestStall)) {
      latestStall = blocked;
    }
    if (!backtrack()) return failed();
  }
}

/** The ops of the prefix of `ops` that ends at sorted event position `cut` (a return event). */
function prefixOps(ops: KeyOp[], pos: Int32Array, cut: number): KeyOp[] {
  const out: KeyOp[] = [];
  for (let j = 0; j < ops.length; j++) {
    const op = ops[j]!;
    if (pos[2 * j + 1]! <= cut) out.push(op);
    else if (pos[2 * j]! < cut && op.kind !== GET) out.push({ ...op, known: false, ret: Infinity });
  }
  return out;
}

function explain(
  key: string,
  ops: KeyOp[],
  values: KeyValues,
  full: Extract<SearchResult, { ok: false }>,
  deadline: number,
): string {
  const lines: string[] = [];
  const name = (op: KeyOp): string => `op #${op.index}`;
  const line = (op: KeyOp): string => `  ${name(op)}  ${formatOp(op.op)}`;
  lines.push(`key ${formatValue(key)}: not linearizable (${ops.length} operations on this key checked).`);

  // Find the first return event whose prefix is not linearizable. Prefixes only get worse as
  // they grow, so a binary search would do; but the full search can never have got past that
  // return (the ops it had placed by then would linearize the prefix), so the latest return it
  // got stuck at is at or before it - and usually is it, which one search confirms.
  const events = sortedEvents(ops);
  const pos = new Int32Array(events.length);
  events.forEach((e, i) => (pos[e] = i));
  const cuts: number[] = [];
  events.forEach((e, i) => {
    if (e & 1 && ops[e >> 1]!.known) cuts.push(i);
  });
  let failing: { cut: number; ops: KeyOp[]; result: Extract<SearchResult, { ok: false }> } | undefined;
  try {
    let lo = full.latestStall < 0 ? 0 : cuts.indexOf(pos[2 * full.latestStall + 1]!);
    const atStall = prefixOps(ops, pos, cuts[lo]!);
    const atStallWatch = atStall.indexOf(ops[events[cuts[lo]!]! >> 1]!);
    const first = search(atStall, values, deadline, atStallWatch);
    if (!first.ok) failing = { cut: cuts[lo]!, ops: atStall, result: first };
    else {
      // Rare: the order got stuck before the return that makes the history fail.
      lo++;
      let hi = cuts.length - 1; // the whole history (cut at the last known return) fails
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if (search(prefixOps(ops, pos, cuts[mid]!), values, deadline).ok) lo = mid + 1;
        else hi = mid;
      }
      const sub = prefixOps(ops, pos, cuts[lo]!);
      const result = search(sub, values, deadline, sub.indexOf(ops[events[cuts[lo]!]! >> 1]!));
      if (!result.ok) failing = { cut: cuts[lo]!, ops: sub, result };
    }
  } catch (e) {
    if (!(e instanceof TimeoutError)) throw e;
  }

  if (failing === undefined) {
    // Out of time: say what the full search saw.
    const stalled = ops[full.stalledOn]!;
    lines.push('(ran out of time isolating the first operation that cannot be linearized)');
    lines.push(`The longest partial linearization found places ${full.longest.length} of ${ops.length} operations, then stalls on:`);
    lines.push(line(stalled));
    lines.push('Its last operations:');
    for (const j of full.longest.slice(-8)) lines.push(line(ops[j]!));
    return lines.join('\n');
  }

  const x = ops[events[failing.cut]! >> 1]!;
  const completedBefore = failing.ops.filter((o) => o.known && o !== x).length;
  lines.push(
    `The history is linearizable up to the return of ${name(x)} and not with it: this is the first operation that cannot be linearized:`,
  );
  lines.push(line(x));
  const local = failing.ops.indexOf(x);
  let unread = false;
  const list = (states: Iterable<number>): string => {
    const ids = [...states].sort((p, q) => values.observed[q]! - values.observed[p]! || p - q);
    const shown = ids.slice(0, 12).map((v) => {
      if (values.observed[v]) return values.names.show(v);
      unread = true;
      return `${values.names.show(v)}*`;
    });
    return shown.join(', ') + (ids.length > 12 ? `, … (${ids.length} values)` : '');
  };
  const statesAt = (j: number): string => {
    const d = failing.result.deadEnds.get(j)!;
    const extra = [...d.viaUnknown].filter((s) => !d.states.has(s));
    return (
      list(d.states) +
      (extra.length > 0 ? `; or, through operations still in flight then, ${list(extra)}` : '')
    );
  };
  const w = failing.result.watched;
  const via = [...w.illegalVia].filter((v) => !w.illegal.has(v));
  const viaText = `had operations still in flight taken effect just then, ${list(via)}`;
  const elsewhere =
    w.illegal.size === 0 ? viaText : list(w.illegal) + (via.length > 0 ? `; or, ${viaText}` : '');
  const needs =
    x.kind === GET
      ? `so the get cannot have read ${values.names.show(x.a)}.`
      : x.kind === CAS && x.swapped
        ? `so the cas, expecting ${values.names.show(x.a)}, cannot have swapped.`
        : x.kind === CAS
          ? `so the cas, expecting ${values.names.show(x.a)}, cannot have failed to swap.`
          : '';
  const where = '(in every order real time allows, with or without the operations still in flight)';
  const stuckAt = (heading: string): void => {
    // Where orders got stuck, latest first: at ops concurrent with x, or all if none is.
    let stuck = [...failing.result.deadEnds.keys()].filter((j) => j !== local);
    const near = stuck.filter((j) => failing.ops[j]!.ret >= x.call);
    if (near.length > 0) stuck = near;
    stuck.sort((p, q) => failing.ops[q]!.ret - failing.ops[p]!.ret);
    if (stuck.length === 0) return;
    lines.push(heading);
    for (const j of stuck.slice(0, 6)) lines.push(`${line(failing.ops[j]!)}\n      (the register could then only hold: ${statesAt(j)})`);
    if (stuck.length > 6) lines.push(`  … and ${stuck.length - 6} more`);
  };
  if (w.legal.size === 0 && (w.illegal.size > 0 || via.length > 0)) {
    lines.push(`Wherever it could take effect ${where}, the register held: ${elsewhere}`);
    if (needs) lines.push(needs);
  } else if (w.legal.size > 0) {
    lines.push(
      `It could take effect as recorded only where the register held ${list(w.legal)}` +
        (w.illegal.size > 0 || via.length > 0 ? ` (elsewhere: ${elsewhere})` : '') +
        ', and every order that places it there leaves no place for another operation.',
    );
    stuckAt('Those orders got stuck at:');
  } else {
    // It never even could go: with x's outcome as recorded, the operations that returned
    // before it cannot be ordered.
    lines.push(`With its outcome as recorded, the ${completedBefore} operation(s) that returned before it cannot be ordered:`);
    stuckAt('every order got stuck at:');
  }

  if (unread) {
    lines.push(
      '(* no operation on this key read or expected this value; any other such value written then is equally possible)',
    );
  }
  const concurrent = ops.filter((o) => o !== x && o.known && o.call <= x.ret && o.ret >= x.call);
  if (concurrent.length > 0) {
    lines.push(`Operations concurrent with ${name(x)}:`);
    for (const o of concurrent.slice(0, 12)) lines.push(line(o));
    if (concurrent.length > 12) lines.push(`  … and ${concurrent.length - 12} more`);
  } else {
    lines.push(`No operation on this key with a known outcome was concurrent with ${name(x)}.`);
  }
  const inFlight = ops.filter((o) => !o.known && o.call <= x.ret).sort((p, q) => p.call - q.call);
  if (inFlight.length > 0) {
    lines.push(`Operations with unknown outcome called before ${name(x)} returned (any may take effect at any later time, or never)${
      inFlight.length > 6 ? `, ${inFlight.length} in all; the latest` : ''
    }:`);
    for (const o of inFlight.slice(-6)) lines.push(line(o));
  }
  const before = ops.filter((o) => o.ret < x.call).sort((p, q) => p.ret - q.ret);
  if (before.length > 0) {
    lines.push(`The last operations that returned before ${name(x)} was called (newest last):`);
    for (const o of before.slice(-8)) lines.push(line(o));
  } else {
    lines.push(`Nothing on this key returned before ${name(x)} was called; the register started as ${values.names.show(values.initValue)}.`);
  }
  return lines.join('\n');
}
