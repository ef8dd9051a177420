// Encoding of replicated writes: Raft entry payloads (binary, op-binary.ts), and writes and
// results forwarded over the peer link (JSON, with byte fields as {"$b": base64}).
import { KvError } from './types.ts';


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

/** A Raft entry's payload (binary: every member decodes every entry). */
export { encodeWriteOpBinary as encodeWriteOp, decodeWriteOpBinary as decodeWriteOp } from './op-binary.ts';

export function encodeJsonWithBytes(value: unknown): string {
  return JSON.stringify(value, replacer);
}

export function decodeJsonWithBytes<T>(text: string): T {
  return JSON.parse(text, reviver) as T;
}
