// Encoding of replicated writes (Raft entry payloads) and their results (answers forwarded from
// the leader over the peer link): JSON, with byte fields as {"$b": base64}.
import type { WriteOp } from './types.ts';
import { KvError } from './types.ts';

const encoder = new TextEncoder();
const decoder = new TextDecoder();

function replacer(this: Record<string, unknown>, key: string, value: unknown): unknown {
  // `this[key]` is the value before Buffer#toJSON turned it into an array of numbers.
  const original = this[key];
  if (Buffer.isBuffer(original)) return { $b: original.toString('base64') };
  if (original instanceof KvError) return { $kvError: original.grpcCode, message: original.message };
  return value;
}

function reviver(_key: string, value: unknown): unknown {
  if (value !== null && typeof value === 'object') {
    const v = value as Record<string, unknown>;
    if (typeof v.$b === 'string') return Buffer.from(v.$b, 'base64');
    if (typeof v.$kvError === 'number') return new KvError(v.$kvError, String(v.message));
  }
  return value;
}

/** A Raft entry's payload: a tagged envelope, so entry kinds can be added without ambiguity. */
interface Envelope {
  kv: WriteOp;
}

export function encodeWriteOp(op: WriteOp): Uint8Array {
  return encoder.encode(JSON.stringify({ kv: op } satisfies Envelope, replacer));
}

/** Decodes an entry payload written by encodeWriteOp. A payload that does not decode is a
 *  corrupt log (it passed through Raft from our own encoder): the caller treats it as fatal. */
export function decodeWriteOp(data: Uint8Array): WriteOp {
  const envelope = JSON.parse(decoder.decode(data), reviver) as Partial<Envelope>;
  if (!envelope || typeof envelope !== 'object' || !envelope.kv || typeof envelope.kv.op !== 'string') {
    throw new Error('a log entry does not hold a key-value write');
  }
  return envelope.kv;
}



export function encodeJsonWithBytes(value: unknown): string {
  return JSON.stringify(value, replacer);
}

export function decodeJsonWithBytes<T>(text: string): T {
  return JSON.parse(text, reviver) as T;
}
