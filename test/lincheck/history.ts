// A client-side history of operations on a key-value store, as the linearizability checker
// (checker.ts) reads it: every operation's call time, return time and outcome.
//
// Concurrent async clients share one HistoryRecorder:
//
//   const op = rec.begin(client, 'cas', key, { expected: 'a', newValue: 'b' });
//   try { const r = await api.cas(...); rec.end(op, { ok: r.succeeded }); }
//   catch { rec.unknown(op); }   // timed out, connection reset, member killed: may or may not have applied
//
// The rules that keep a recorded history honest:
// - call begin() before the request leaves and end() after the response arrived, so the recorded
//   interval contains the real one (a wider interval only makes the check more lenient);
// - an operation whose outcome is not known for certain (timeout, reset, 5xx from a member that
//   may have proposed it) is recorded with unknown(), never end(): the checker then lets it take
//   effect at any time after its call, or never;
// - an operation that is known to have had no effect (rejected before it was proposed) may simply
//   be left out of the history.

export type OpKind = 'put' | 'get' | 'cas';

export interface OpInput {
  /** put: the value written. */
  value?: string;
  /** cas: the value the register must hold for the swap to happen; null = the key is absent. */
  expected?: string | null;
  /** cas: the value written when the swap happens. */
  newValue?: string;
}

export interface OpOutput {
  /** cas: whether the swap happened. */
  ok?: boolean;
  /** get: the value read; null = the key was absent. */
  value?: string | null;
}

export interface Operation {
  clientId: number | string;
  key: string;
  kind: OpKind;
  input: OpInput;
  /** When the client issued the request (any monotonic clock; the recorder uses ns). */
  call: number;
  /** When the client got the response; null = the outcome is unknown (never returned). */
  return: number | null;
  /** Ignored when return is null. */
  output: OpOutput;
}

export type History = Operation[];

/** A handle on an operation that has begun; give it back to end() or unknown(). */
export interface PendingOp {
  /** The operation's index in the recorder's history (and in history()). */
  readonly index: number;
}

type Clock = () => number;

function monotonicNs(): Clock {
  const origin = process.hrtime.bigint();
  // Nanoseconds since the recorder was made: a Number is exact for 104 days of that.
  return () => Number(process.hrtime.bigint() - origin);
}

export class HistoryRecorder {
  private readonly ops: Operation[] = [];
  private readonly state: ('pending' | 'done')[] = [];
  private readonly now: Clock;

  /** clock: a monotonic clock (default: process.hrtime.bigint in ns since construction). */
  constructor(clock?: Clock) {
    this.now = clock ?? monotonicNs();
  }

  begin(clientId: number | string, kind: OpKind, key: string, input: OpInput = {}): PendingOp {
    if (kind === 'put' && typeof input.value !== 'string') throw new TypeError('put needs input.value');
    if (kind === 'cas' && (input.expected === undefined || typeof input.newValue !== 'string')) {
      throw new TypeError('cas needs input.expected (string or null) and input.newValue');
    }
    const index = this.ops.length;
    this.ops.push({ clientId, key, kind, input: { ...input }, call: this.now(), return: null, output: {} });
    this.state.push('pending');
    return { index };
  }

  /** The operation returned with this output (get: { value }, cas: { ok }, put: {}). */
  end(op: PendingOp, output: OpOutput = {}): void {
    const t = this.now();
    const rec = this.take(op);
    if (rec.kind === 'get' && output.value === undefined) throw new TypeError('get output needs value (string or null)');
    if (rec.kind === 'cas' && typeof output.ok !== 'boolean') throw new TypeError('cas output needs ok');
    rec.return = t;
    rec.output = { ...output };
  }

  /** The operation's outcome is unknown: it may or may not have taken effect. */
  unknown(op: PendingOp): void {
    const rec = this.take(op);
    rec.return = null;
    rec.output = {};
  }

  /** Operations begun so far, in begin order (index = PendingOp.index); one still pending counts as unknown. */
  history(): History {
    return this.ops.map((o) => ({ ...o, input: { ...o.input }, output: { ...o.output } }));
  }

  get size(): number {
    return this.ops.length;
  }

  /** How many operations have begun and not yet ended. */
  get pending(): number {
    let n = 0;
    for (const s of this.state) if (s === 'pending') n++;
    return n;
  }

  private take(op: PendingOp): Operation {
    const rec = this.ops[op.index];
    if (rec === undefined) throw new RangeError(`no operation #${op.index}`);
    if (this.state[op.index] !== 'pending') throw new Error(`operation #${op.index} already ended`);
    this.state[op.index] = 'done';
    return rec;
  }
}

function showValue(v: string | null | undefined): string {
  if (v === null) return 'absent';
  if (v === undefined) return '?';
  const s = JSON.stringify(v);
  return s.length > 42 ? `${s.slice(0, 39)}…"` : s;
}

/** One line for an operation, e.g. `client 3: cas("k", "a" -> "b") -> ok   [call 10, return 20]`. */
export function formatOp(op: Operation): string {
  const key = showValue(op.key);
  let text: string;
  const known = op.return !== null;
  switch (op.kind) {
    case 'put':
      text = `put(${key}, ${showValue(op.input.value)})${known ? ' -> ok' : ''}`;
      break;
    case 'get':
      text = `get(${key})${known ? ` -> ${showValue(op.output.value)}` : ''}`;
      break;
    case 'cas':
      text = `cas(${key}, ${showValue(op.input.expected)} -> ${showValue(op.input.newValue)})${
        known ? (op.output.ok ? ' -> swapped' : ' -> not swapped') : ''
      }`;
      break;
  }
  if (!known) text += ' -> outcome unknown';
  return `client ${op.clientId}: ${text}   [call ${op.call}, return ${op.return ?? 'never'}]`;
}

export { showValue as formatValue };
