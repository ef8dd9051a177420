// etcd v3 JSON gateway bodies <-> the store's KV types. Decoding is strict where etcd's gateway
// is (base64 as Go's StdEncoding, unknown fields, key required) and refuses the etcd features
// bramble lacks (leases, watch fragments) instead of dropping them. Encoding follows protobuf's
// JSON mapping as etcd's gateway prints it: snake_case names, 64-bit numbers as strings, and
// every field at its default value (0, false, empty) left out.
import type { ResponseHeader } from '../../store/kv/service.ts';
import type {
  Compare,
  CompareResult,
  CompareTarget,
  CompactionRequest,
  DeleteRangeRequest,
  DeleteRangeResponse,
  KeyValue,
  PutRequest,
  PutResponse,
  RangeRequest,
  RangeResponse,
  RequestOp,
  ResponseOp,
  SortOrder,
  SortTarget,
  TxnRequest,
  TxnResponse,
  WatchEvent,
  WatchRequest,
} from '../../store/kv/types.ts';
import { rangeOf } from '../../store/kv/types.ts';
import type { HttpError, JsonObject } from '../http/index.ts';
import { badRequest, describeJson, parseJsonObject, unsupported } from '../http/index.ts';

// ---------------------------------------------------------------------------------------------
// Limits

export interface TxnLimits {
  /** Most entries in one txn's compare, success or failure list (etcd's --max-txn-ops). */
  txnOpsMax: number;
  /** Most txns nested inside each other, the outermost counting as 1. */
  txnDepthMax: number;
  /** Most compares and ops in a whole txn tree, so nesting cannot multiply the work. */
  txnOpsTotalMax: number;
}

export const TXN_LIMITS_DEFAULT: Readonly<TxnLimits> = { txnOpsMax: 128, txnDepthMax: 8, txnOpsTotalMax: 1024 };

// ---------------------------------------------------------------------------------------------
// Errors

const ERR_EMPTY_KEY = 'etcdserver: key is not provided';
const ERR_VALUE_PROVIDED = 'etcdserver: value is provided';
const ERR_DUPLICATE_KEY = 'etcdserver: duplicate key given in txn request';
const ERR_TOO_MANY_OPS = 'etcdserver: too many operations in txn request';

// At the top level etcd's exact words; inside a txn they also say which op lacks the key.
function keyNotProvided(where: string): HttpError {
  return where.startsWith('txn request')
    ? badRequest(`${ERR_EMPTY_KEY} (in ${where}); give a non-empty base64 "key"`, ERR_EMPTY_KEY)
    : badRequest(ERR_EMPTY_KEY);
}

function unknownField(name: string, where: string): HttpError {
  return badRequest(`unknown field ${JSON.stringify(name)} in ${where}`);
}

// ---------------------------------------------------------------------------------------------
// Field readers. `where` names the message being decoded ("put request",
// "txn request success[0].request_put"); `field` is etcd's snake_case name.

const EMPTY = Buffer.alloc(0);

// Go's base64.StdEncoding alphabet; 0xff marks bytes outside it.
const BASE64_VALUES = (() => {
  const table = new Uint8Array(128).fill(0xff);
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
  for (let i = 0; i < alphabet.length; i++) table[alphabet.charCodeAt(i)] = i;
  return table;
})();
// The common case, checked natively: alphabet, then at most two '=' at the very end.
const BASE64_CANONICAL = /^[A-Za-z0-9+/]*={0,2}$/;
const NEWLINES = /[\r\n]/g;

function isBase64Char(c: number): boolean {
  return c < 128 && BASE64_VALUES[c] !== 0xff;
}

function isNewline(c: number): boolean {
  return c === 0x0a || c === 0x0d;
}

/** Where Go's base64.StdEncoding.DecodeString fails on `text` (its "input byte N"), or -1 if it
 *  would succeed. Go skips '\r' and '\n' anywhere and requires padding. Every character before
 *  a failure is ASCII, so the string index equals Go's byte offset. */
export function base64ErrorOffset(text: string): number {
  const n = text.length;
  let si = 0;
  while (si < n) {
    for (let j = 0; j < 4; j++) {
      if (si === n) return j === 0 ? -1 : si - j;
      const c = text.charCodeAt(si);
      si++;
      if (isBase64Char(c)) continue;
      if (isNewline(c)) {
        j--;
        continue;
      }
      if (c !== 0x3d || j < 2) return si - 1;
      if (j === 2) {
        // "==" is expected; the first '=' is consumed.
        while (si < n && isNewline(text.charCodeAt(si))) si++;
        if (si === n) return n;
        if (text.charCodeAt(si) !== 0x3d) return si - 1;
        si++;
      }
      while (si < n && isNewline(text.charCodeAt(si))) si++;
      return si < n ? si : -1; // anything after the padding is trailing garbage
    }
  }
  return -1;
}

/** Decodes standard, padded base64 exactly as strictly as etcd (Go) does. */
export function decodeBase64(text: string, where: string, field: string): Buffer {
  if (text.length === 0) return EMPTY;
  if ((text.length & 3) === 0 && BASE64_CANONICAL.test(text)) return Buffer.from(text, 'base64');
  const offset = base64ErrorOffset(text);
  if (offset >= 0) {
    const goText = `illegal base64 data at input byte ${offset}`;
    throw badRequest(`${where}: ${field}: ${goText} (expected standard base64 with '=' padding)`, goText);
  }
  return Buffer.from(text.replace(NEWLINES, ''), 'base64');
}

function readBytes(value: unknown, where: string, field: string): Buffer {
  if (typeof value === 'string') return decodeBase64(value, where, field);
  if (value === null) return EMPTY;
  throw badRequest(`${where}: ${field} must be a base64 string, got ${describeJson(value)}`);
}

function readBool(value: unknown, where: string, field: string): boolean {
  if (typeof value === 'boolean') return value;
  if (value === null) return false;
  throw badRequest(`${where}: ${field} must be true or false, got ${describeJson(value)}`);
}

const DECIMAL = /^-?[0-9]+$/;

/** An int64 field: a JSON number or a decimal string (protobuf's JSON mapping allows both),
 *  within ±(2^53-1), and not negative unless `allowNegative`. */
function readInt(value: unknown, where: string, field: string, allowNegative: boolean): number {
  let n: number;
  if (typeof value === 'number') n = value;
  else if (typeof value === 'string' && DECIMAL.test(value)) n = Number(value);
  else if (value === null) return 0;
  else throw badRequest(`${where}: ${field} must be an integer (a JSON number or a decimal string), got ${describeJson(value)}`);
  if (!Number.isInteger(n)) {
    throw badRequest(`${where}: ${field} must be an integer (a JSON number or a decimal string), got ${describeJson(value)}`);
  }
  if (!Number.isSafeInteger(n)) {
    throw badRequest(`${where}: ${field} ${String(value)} is out of range: bramble handles integers up to 2^53-1 (9007199254740991)`);
  }
  if (n < 0 && !allowNegative) throw badRequest(`${where}: ${field} must not be negative, got ${n}`);
  return n === 0 ? 0 : n; // no -0
}

/** A protobuf enum: its name, or its number (the index in `names`). */
function readEnum<T extends string>(value: unknown, where: string, field: string, names: readonly T[]): T {
  if (typeof value === 'string') {
    const index = names.indexOf(value as T);
    if (index >= 0) return names[index]!;
  } else if (typeof value === 'number' && Number.isInteger(value) && value >= 0 && value < names.length) {
    return names[value]!;
  } else if (value === null) {
    return names[0]!;
  }
  throw badRequest(`${where}: ${field} must be one of ${names.join(', ')} (or 0 to ${names.length - 1}), got ${describeJson(value)}`);
}

function readObject(value: unknown, where: string): JsonObject | null {
  if (value === null) return null;
  if (typeof value === 'object' && !Array.isArray(value)) return value as JsonObject;
  throw badRequest(`${where} must be a JSON object, got ${describeJson(value)}`);
}

function readArray(value: unknown, where: string): unknown[] {
  if (Array.isArray(value)) return value;
  if (value === null) return [];
  throw badRequest(`${where} must be a JSON array, got ${describeJson(value)}`);
}

// ---------------------------------------------------------------------------------------------
// Requests. Each message accepts etcd's snake_case names and, as protobuf JSON parsers do, the
// lowerCamelCase ones; a field given both ways keeps the later one.

const SORT_ORDERS: readonly SortOrder[] = ['NONE', 'ASCEND', 'DESCEND'];
const SORT_TARGETS: readonly SortTarget[] = ['KEY', 'VERSION', 'CREATE', 'MOD', 'VALUE'];
const COMPARE_TARGETS: readonly (CompareTarget | 'LEASE')[] = ['VERSION', 'CREATE', 'MOD', 'VALUE', 'LEASE'];
const COMPARE_RESULTS: readonly CompareResult[] = ['EQUAL', 'GREATER', 'LESS', 'NOT_EQUAL'];
const WATCH_FILTERS: readonly ('NOPUT' | 'NODELETE')[] = ['NOPUT', 'NODELETE'];

function rangeFromJson(o: JsonObject, where: string): RangeRequest {
  const r: RangeRequest = rangeOf({ key: EMPTY });
  for (const name in o) {
    const v = o[name];
    switch (name) {
      case 'key':
        r.key = readBytes(v, where, 'key');
        break;
      case 'range_end':
      case 'rangeEnd':
        r.rangeEnd = readBytes(v, where, 'range_end');
        break;
      case 'limit':
        r.limit = readInt(v, where, 'limit', false);
        break;
      case 'revision':
        // etcd reads at the current revision for any revision <= 0.
        r.revision = readInt(v, where, 'revision', true);
        break;
      case 'sort_order':
      case 'sortOrder':
        r.sortOrder = readEnum(v, where, 'sort_order', SORT_ORDERS);
        break;
      case 'sort_target':
      case 'sortTarget':
        r.sortTarget = readEnum(v, where, 'sort_target', SORT_TARGETS);
        break;
      case 'serializable':
        r.serializable = readBool(v, where, 'serializable');
        break;
      case 'keys_only':
      case 'keysOnly':
        r.keysOnly = readBool(v, where, 'keys_only');
        break;
      case 'count_only':
      case 'countOnly':
        r.countOnly = readBool(v, where, 'count_only');
        break;
      case 'min_mod_revision':
      case 'minModRevision':
        r.minModRevision = readInt(v, where, 'min_mod_revision', false);
        break;
      case 'max_mod_revision':
      case 'maxModRevision':
        r.maxModRevision = readInt(v, where, 'max_mod_revision', false);
        break;
      case 'min_create_revision':
      case 'minCreateRevision':
        r.minCreateRevision = readInt(v, where, 'min_create_revision', false);
        break;
      case 'max_create_revision':
      case 'maxCreateRevision':
        r.maxCreateRevision = readInt(v, where, 'max_create_revision', false);
        break;
      default:
        throw unknownField(name, where);
    }
  }
  if (r.key.length === 0) throw keyNotProvided(where);
  return r;
}

function putFromJson(o: JsonObject, where: string): PutRequest {
  const r: PutRequest = { key: EMPTY, value: EMPTY, prevKv: false, ignoreValue: false };
  for (const name in o) {
    const v = o[name];
    switch (name) {
      case 'key':
        r.key = readBytes(v, where, 'key');
        break;
      case 'value':
        r.value = readBytes(v, where, 'value');
        break;
      case 'lease':
        if (readInt(v, where, 'lease', true) !== 0) {
          throw unsupported(`${where}: lease is not supported: bramble has no leases; leave "lease" out (or 0)`);
        }
        break;
      case 'prev_kv':
      case 'prevKv':
        r.prevKv = readBool(v, where, 'prev_kv');
        break;
      case 'ignore_value':
      case 'ignoreValue':
        r.ignoreValue = readBool(v, where, 'ignore_value');
        break;
      case 'ignore_lease':
      case 'ignoreLease':
        if (readBool(v, where, 'ignore_lease')) {
          throw unsupported(`${where}: ignore_lease is not supported: bramble has no leases; leave "ignore_lease" out (or false)`);
        }
        break;
      default:
        throw unknownField(name, where);
    }
  }
  if (r.key.length === 0) throw keyNotProvided(where);
  if (r.ignoreValue && r.value.length !== 0) {
    throw badRequest(`${ERR_VALUE_PROVIDED} (in ${where}): with ignore_value true, leave "value" out`, ERR_VALUE_PROVIDED);
  }
  return r;
}

function deleteRangeFromJson(o: JsonObject, where: string): DeleteRangeRequest {
  const r: DeleteRangeRequest = { key: EMPTY, rangeEnd: EMPTY, prevKv: false };
  for (const name in o) {
    const v = o[name];
    switch (name) {
      case 'key':
        r.key = readBytes(v, where, 'key');
        break;
      case 'range_end':
      case 'rangeEnd':
        r.rangeEnd = readBytes(v, where, 'range_end');
        break;
      case 'prev_kv':
      case 'prevKv':
        r.prevKv = readBool(v, where, 'prev_kv');
        break;
      default:
        throw unknownField(name, where);
    }
  }
  if (r.key.length === 0) throw keyNotProvided(where);
  return r;
}

function compareFromJson(o: JsonObject, where: string): Compare {
  const r: Compare = {
    key: EMPTY,
    rangeEnd: EMPTY,
    target: 'VERSION',
    result: 'EQUAL',
    version: 0,
    createRevision: 0,
    modRevision: 0,
    value: EMPTY,
  };
  for (const name in o) {
    const v = o[name];
    switch (name) {
      case 'key':
        r.key = readBytes(v, where, 'key');
        break;
      case 'range_end':
      case 'rangeEnd':
        r.rangeEnd = readBytes(v, where, 'range_end');
        break;
      case 'target': {
        const target = readEnum(v, where, 'target', COMPARE_TARGETS);
        if (target === 'LEASE') {
          throw unsupported(`${where}: target LEASE is not supported: bramble has no leases; compare VERSION, CREATE, MOD or VALUE`);
        }
        r.target = target;
        break;
      }
      case 'result':
        r.result = readEnum(v, where, 'result', COMPARE_RESULTS);
        break;
      case 'version':
        r.version = readInt(v, where, 'version', true);
        break;
      case 'create_revision':
      case 'createRevision':
        r.createRevision = readInt(v, where, 'create_revision', true);
        break;
      case 'mod_revision':
      case 'modRevision':
        r.modRevision = readInt(v, where, 'mod_revision', true);
        break;
      case 'value':
        r.value = readBytes(v, where, 'value');
        break;
      case 'lease':
        if (readInt(v, where, 'lease', true) !== 0) {
          throw unsupported(`${where}: lease is not supported: bramble has no leases; leave "lease" out (or 0)`);
        }
        break;
      default:
        throw unknownField(name, where);
    }
  }
  return r;
}

interface TxnBudget {
  readonly limits: TxnLimits;
  /** Compares and ops counted so far in the whole tree. */
  opsTotal: number;
}

function requestOpFromJson(value: unknown, where: string, depth: number, budget: TxnBudget): RequestOp {
  const o = readObject(value, where);
  let op: RequestOp | null = null;
  let chosen = '';
  if (o !== null) {
    for (const name in o) {
      const v = o[name];
      let next: RequestOp | null;
      let canonical: string;
      switch (name) {
        case 'request_range':
        case 'requestRange':
          canonical = 'request_range';
          next = nonNull(v, (m) => ({ range: rangeFromJson(m, `${where}.request_range`) }), `${where}.request_range`);
          break;
        case 'request_put':
        case 'requestPut':
          canonical = 'request_put';
          next = nonNull(v, (m) => ({ put: putFromJson(m, `${where}.request_put`) }), `${where}.request_put`);
          break;
        case 'request_delete_range':
        case 'requestDeleteRange':
          canonical = 'request_delete_range';
          next = nonNull(
            v,
            (m) => ({ deleteRange: deleteRangeFromJson(m, `${where}.request_delete_range`) }),
            `${where}.request_delete_range`,
          );
          break;
        case 'request_txn':
        case 'requestTxn': {
          canonical = 'request_txn';
          const at = `${where}.request_txn`;
          if (depth + 1 > budget.limits.txnDepthMax) {
            throw badRequest(`${at}: txns are nested more than ${budget.limits.txnDepthMax} deep; flatten the request`);
          }
          next = nonNull(v, (m) => ({ txn: txnFromJson(m, at, depth + 1, budget) }), at);
          break;
        }
        default:
          throw unknownField(name, where);
      }
      if (next === null) continue;
      if (op !== null) {
        throw badRequest(`${where} has both ${chosen} and ${canonical}; a request op holds exactly one request`);
      }
      op = next;
      chosen = canonical;
    }
  }
  if (op === null) {
    throw badRequest(`${where} is empty; give one of request_range, request_put, request_delete_range or request_txn`);
  }
  return op;
}

// A oneof member set to null counts as absent, as in protobuf JSON.
function nonNull(value: unknown, decode: (o: JsonObject) => RequestOp, where: string): RequestOp | null {
  const o = readObject(value, where);
  return o === null ? null : decode(o);
}

function txnFromJson(o: JsonObject, where: string, depth: number, budget: TxnBudget): TxnRequest {
  let compareJson: unknown[] = [];
  let successJson: unknown[] = [];
  let failureJson: unknown[] = [];
  for (const name in o) {
    const v = o[name];
    switch (name) {
      case 'compare':
        compareJson = readArray(v, `${where}: compare`);
        break;
      case 'success':
        successJson = readArray(v, `${where}: success`);
        break;
      case 'failure':
        failureJson = readArray(v, `${where}: failure`);
        break;
      default:
        throw unknownField(name, where);
    }
  }
  // Counted before anything is decoded, so an oversized request costs little.
  const { txnOpsMax, txnOpsTotalMax } = budget.limits;
  const longest = Math.max(compareJson.length, successJson.length, failureJson.length);
  if (longest > txnOpsMax) {
    throw badRequest(
      `${ERR_TOO_MANY_OPS}: ${where} has ${compareJson.length} compares, ${successJson.length} success and ` +
        `${failureJson.length} failure ops; at most ${txnOpsMax} in each list`,
      ERR_TOO_MANY_OPS,
    );
  }
  budget.opsTotal += compareJson.length + successJson.length + failureJson.length;
  if (budget.opsTotal > txnOpsTotalMax) {
    throw badRequest(
      `${ERR_TOO_MANY_OPS}: the nested txns hold more than ${txnOpsTotalMax} compares and ops in all (at ${where}); split the request`,
      ERR_TOO_MANY_OPS,
    );
  }
  const compare = compareJson.map((c, i) => {
    const at = `${where} compare[${i}]`;
    const obj = readObject(c, at);
    return compareFromJson(obj ?? {}, at);
  });
  const success = successJson.map((op, i) => requestOpFromJson(op, `${where} success[${i}]`, depth, budget));
  const failure = failureJson.map((op, i) => requestOpFromJson(op, `${where} failure[${i}]`, depth, budget));
  return { compare, success, failure };
}

function compactionFromJson(o: JsonObject, where: string): CompactionRequest {
  let revision = 0;
  for (const name in o) {
    const v = o[name];
    switch (name) {
      case 'revision':
        revision = readInt(v, where, 'revision', false);
        break;
      case 'physical':
        // Accepted and needs nothing: a compaction is applied to the SQLite state machine before
        // the write is answered, which is what "physical" waits for in etcd.
        readBool(v, where, 'physical');
        break;
      default:
        throw unknownField(name, where);
    }
  }
  if (revision === 0) throw badRequest(`${where}: revision must be given and positive: the revision to compact history up to`);
  return { revision };
}

/** A decoded `/v3/watch` body: the store's request plus the client's watch id, echoed back. */
export interface WatchCreate {
  request: WatchRequest;
  watchId: number;
}

const ZERO_KEY = Buffer.from([0]);

function watchCreateFromJson(o: JsonObject, where: string): WatchCreate {
  const request: WatchRequest = {
    key: EMPTY,
    rangeEnd: EMPTY,
    startRevision: 0,
    prevKv: false,
    noPut: false,
    noDelete: false,
    progressNotify: false,
  };
  let watchId = 0;
  for (const name in o) {
    const v = o[name];
    switch (name) {
      case 'key':
        request.key = readBytes(v, where, 'key');
        break;
      case 'range_end':
      case 'rangeEnd':
        request.rangeEnd = readBytes(v, where, 'range_end');
        break;
      case 'start_revision':
      case 'startRevision':
        request.startRevision = readInt(v, where, 'start_revision', false);
        break;
      case 'progress_notify':
      case 'progressNotify':
        request.progressNotify = readBool(v, where, 'progress_notify');
        break;
      case 'filters': {
        const filters = readArray(v, `${where}: filters`);
        for (let i = 0; i < filters.length; i++) {
          const filter = readEnum(filters[i], where, `filters[${i}]`, WATCH_FILTERS);
          if (filter === 'NOPUT') request.noPut = true;
          else request.noDelete = true;
        }
        break;
      }
      case 'prev_kv':
      case 'prevKv':
        request.prevKv = readBool(v, where, 'prev_kv');
        break;
      case 'watch_id':
      case 'watchId':
        watchId = readInt(v, where, 'watch_id', false);
        break;
      case 'fragment':
        if (readBool(v, where, 'fragment')) {
          throw unsupported(`${where}: fragment is not supported: bramble sends each event batch whole; leave "fragment" out`);
        }
        break;
      default:
        throw unknownField(name, where);
    }
  }
  // As etcd's watch server: no key means the smallest key, "\0".
  if (request.key.length === 0) request.key = ZERO_KEY;
  return { request, watchId };
}

// ---------------------------------------------------------------------------------------------
// Request bodies

export function decodeRangeRequest(body: Buffer): RangeRequest {
  return rangeFromJson(parseJsonObject(body, 'range request'), 'range request');
}

export function decodePutRequest(body: Buffer): PutRequest {
  return putFromJson(parseJsonObject(body, 'put request'), 'put request');
}

export function decodeDeleteRangeRequest(body: Buffer): DeleteRangeRequest {
  return deleteRangeFromJson(parseJsonObject(body, 'deleterange request'), 'deleterange request');
}

export function decodeTxnRequest(body: Buffer, limits: TxnLimits = TXN_LIMITS_DEFAULT): TxnRequest {
  const txn = txnFromJson(parseJsonObject(body, 'txn request'), 'txn request', 1, { limits, opsTotal: 0 });
  checkTxnKeys(txn);
  return txn;
}

export function decodeCompactionRequest(body: Buffer): CompactionRequest {
  return compactionFromJson(parseJsonObject(body, 'compaction request'), 'compaction request');
}

export function decodeWatchRequest(body: Buffer): WatchCreate {
  const where = 'watch request';
  const o = parseJsonObject(body, where);
  let create: WatchCreate | null = null;
  for (const name in o) {
    const v = o[name];
    switch (name) {
      case 'create_request':
      case 'createRequest': {
        const at = `${where} create_request`;
        const m = readObject(v, at);
        if (m !== null) create = watchCreateFromJson(m, at);
        break;
      }
      case 'cancel_request':
      case 'cancelRequest':
      case 'progress_request':
      case 'progressRequest':
        if (v === null) break;
        throw unsupported(
          `${where}: ${name} is not supported over HTTP: each /v3/watch request carries one create_request; ` +
            'close the response to cancel the watch',
        );
      default:
        throw unknownField(name, where);
    }
  }
  if (create === null) throw badRequest(`${where}: create_request is missing; send {"create_request": {"key": ...}}`);
  return create;
}

// ---------------------------------------------------------------------------------------------
// Keys written twice in one txn branch: etcd's checkIntervals. Puts may not repeat a key, and no
// put may fall inside a delete's range, within one branch and its nested txns. The two branches
// of a nested txn exclude each other, so they may write the same key. Keys are compared as
// latin1 strings: one char per byte, so string order is byte order.

interface KeyInterval {
  start: string;
  /** Exclusive; null: no end (every key >= start). */
  end: string | null;
}

function intervalOf(key: Buffer, rangeEnd: Buffer): KeyInterval {
  const start = key.toString('latin1');
  if (rangeEnd.length === 0) return { start, end: `${start}\0` }; // just `key`
  if (rangeEnd.length === 1 && rangeEnd[0] === 0) return { start, end: null };
  return { start, end: rangeEnd.toString('latin1') };
}

function intersects(deletes: readonly KeyInterval[], key: string): boolean {
  for (const d of deletes) if (key >= d.start && (d.end === null || key < d.end)) return true;
  return false;
}

function duplicateKey(key: string): HttpError {
  const shown = Buffer.from(key, 'latin1').toString('base64');
  return badRequest(`${ERR_DUPLICATE_KEY}: key ${shown} (base64) is written more than once in one branch`, ERR_DUPLICATE_KEY);
}

function checkIntervals(ops: readonly RequestOp[]): { puts: Set<string>; deletes: KeyInterval[] } {
  const deletes: KeyInterval[] = [];
  for (const op of ops) if ('deleteRange' in op) deletes.push(intervalOf(op.deleteRange.key, op.deleteRange.rangeEnd));
  const puts = new Set<string>();
  for (const op of ops) {
    if (!('txn' in op)) continue;
    const then = checkIntervals(op.txn.success);
    const otherwise = checkIntervals(op.txn.failure);
    for (const key of then.puts) {
      if (puts.has(key) || intersects(deletes, key)) throw duplicateKey(key);
      puts.add(key);
    }
    for (const key of otherwise.puts) {
      if (puts.has(key) && !then.puts.has(key)) throw duplicateKey(key);
      if (intersects(deletes, key)) throw duplicateKey(key);
      puts.add(key);
    }
    deletes.push(...then.deletes, ...otherwise.deletes);
  }
  for (const op of ops) {
    if (!('put' in op)) continue;
    const key = op.put.key.toString('latin1');
    if (puts.has(key) || intersects(deletes, key)) throw duplicateKey(key);
    puts.add(key);
  }
  return { puts, deletes };
}

function checkTxnKeys(txn: TxnRequest): void {
  checkIntervals(txn.success);
  checkIntervals(txn.failure);
}

// ---------------------------------------------------------------------------------------------
// Responses: plain objects for JSON.stringify, fields in etcd's order, defaults left out.

export interface JsonResponseHeader {
  cluster_id?: string;
  member_id?: string;
  revision?: string;
  raft_term?: string;
}

export interface JsonKeyValue {
  key?: string;
  create_revision?: string;
  mod_revision?: string;
  version?: string;
  value?: string;
}

export interface JsonRangeResponse {
  header: JsonResponseHeader;
  kvs?: JsonKeyValue[];
  more?: boolean;
  count?: string;
}

export interface JsonPutResponse {
  header: JsonResponseHeader;
  prev_kv?: JsonKeyValue;
}

export interface JsonDeleteRangeResponse {
  header: JsonResponseHeader;
  deleted?: string;
  prev_kvs?: JsonKeyValue[];
}

export type JsonResponseOp =
  | { response_range: JsonRangeResponse }
  | { response_put: JsonPutResponse }
  | { response_delete_range: JsonDeleteRangeResponse }
  | { response_txn: JsonTxnResponse };

export interface JsonTxnResponse {
  header: JsonResponseHeader;
  succeeded?: boolean;
  responses?: JsonResponseOp[];
}

export interface JsonCompactionResponse {
  header: JsonResponseHeader;
}

export interface JsonEvent {
  type?: 'DELETE';
  kv?: JsonKeyValue;
  prev_kv?: JsonKeyValue;
}

export interface JsonWatchResult {
  header: JsonResponseHeader;
  watch_id?: string;
  created?: boolean;
  canceled?: boolean;
  compact_revision?: string;
  cancel_reason?: string;
  events?: JsonEvent[];
}

/** One line of a `/v3/watch` stream. */
export interface JsonWatchLine {
  result: JsonWatchResult;
}

function int64(n: number): string {
  return String(n);
}

export function encodeHeader(header: ResponseHeader): JsonResponseHeader {
  const json: JsonResponseHeader = {};
  if (header.clusterId !== '' && header.clusterId !== '0') json.cluster_id = header.clusterId;
  if (header.memberId !== '' && header.memberId !== '0') json.member_id = header.memberId;
  if (header.revision !== 0) json.revision = int64(header.revision);
  if (header.raftTerm !== 0) json.raft_term = int64(header.raftTerm);
  return json;
}

// Inside a txn, etcd's nested responses carry a header with only the revision.
function nestedHeader(revision: number): JsonResponseHeader {
  return revision === 0 ? {} : { revision: int64(revision) };
}

export function encodeKeyValue(kv: KeyValue): JsonKeyValue {
  const json: JsonKeyValue = {};
  if (kv.key.length !== 0) json.key = kv.key.toString('base64');
  if (kv.createRevision !== 0) json.create_revision = int64(kv.createRevision);
  if (kv.modRevision !== 0) json.mod_revision = int64(kv.modRevision);
  if (kv.version !== 0) json.version = int64(kv.version);
  if (kv.value.length !== 0) json.value = kv.value.toString('base64');
  return json;
}

function rangeBody(header: JsonResponseHeader, response: RangeResponse): JsonRangeResponse {
  const json: JsonRangeResponse = { header };
  if (response.kvs.length !== 0) json.kvs = response.kvs.map(encodeKeyValue);
  if (response.more) json.more = true;
  if (response.count !== 0) json.count = int64(response.count);
  return json;
}

function putBody(header: JsonResponseHeader, response: PutResponse): JsonPutResponse {
  const json: JsonPutResponse = { header };
  if (response.prevKv !== null) json.prev_kv = encodeKeyValue(response.prevKv);
  return json;
}

function deleteRangeBody(header: JsonResponseHeader, response: DeleteRangeResponse): JsonDeleteRangeResponse {
  const json: JsonDeleteRangeResponse = { header };
  if (response.deleted !== 0) json.deleted = int64(response.deleted);
  if (response.prevKvs.length !== 0) json.prev_kvs = response.prevKvs.map(encodeKeyValue);
  return json;
}

function txnBody(header: JsonResponseHeader, response: TxnResponse, revision: number): JsonTxnResponse {
  const json: JsonTxnResponse = { header };
  if (response.succeeded) json.succeeded = true;
  if (response.responses.length !== 0) json.responses = response.responses.map((op) => responseOpBody(op, revision));
  return json;
}

function responseOpBody(op: ResponseOp, revision: number): JsonResponseOp {
  const header = nestedHeader(revision);
  if ('range' in op) return { response_range: rangeBody(header, op.range) };
  if ('put' in op) return { response_put: putBody(header, op.put) };
  if ('deleteRange' in op) return { response_delete_range: deleteRangeBody(header, op.deleteRange) };
  return { response_txn: txnBody(header, op.txn, revision) };
}

export function encodeRangeResponse(header: ResponseHeader, response: RangeResponse): JsonRangeResponse {
  return rangeBody(encodeHeader(header), response);
}

export function encodePutResponse(header: ResponseHeader, response: PutResponse): JsonPutResponse {
  return putBody(encodeHeader(header), response);
}

export function encodeDeleteRangeResponse(header: ResponseHeader, response: DeleteRangeResponse): JsonDeleteRangeResponse {
  return deleteRangeBody(encodeHeader(header), response);
}

/** `revision` is the txn's WriteResult revision; every nested response's header carries it
 *  (etcd reports the txn's revision there too, except for reads ordered before a write). */
export function encodeTxnResponse(header: ResponseHeader, response: TxnResponse, revision: number): JsonTxnResponse {
  return txnBody(encodeHeader(header), response, revision);
}

export function encodeCompactionResponse(header: ResponseHeader): JsonCompactionResponse {
  return { header: encodeHeader(header) };
}

export function encodeEvent(event: WatchEvent): JsonEvent {
  const json: JsonEvent = {};
  if (event.type === 'DELETE') json.type = 'DELETE';
  json.kv = encodeKeyValue(event.kv);
  if (event.prevKv !== null) json.prev_kv = encodeKeyValue(event.prevKv);
  return json;
}

function watchResult(header: ResponseHeader, watchId: number): JsonWatchResult {
  const result: JsonWatchResult = { header: encodeHeader(header) };
  if (watchId !== 0) result.watch_id = int64(watchId);
  return result;
}

export function encodeWatchCreated(header: ResponseHeader, watchId: number): JsonWatchLine {
  const result = watchResult(header, watchId);
  result.created = true;
  return { result };
}

/** Events, or with none a progress notification (the header alone). */
export function encodeWatchEvents(header: ResponseHeader, events: readonly WatchEvent[], watchId: number): JsonWatchLine {
  const result = watchResult(header, watchId);
  if (events.length !== 0) result.events = events.map(encodeEvent);
  return { result };
}

export function encodeWatchCanceled(header: ResponseHeader, reason: string, compactRevision: number, watchId: number): JsonWatchLine {
  const result = watchResult(header, watchId);
  result.canceled = true;
  if (compactRevision !== 0) result.compact_revision = int64(compactRevision);
  if (reason !== '') result.cancel_reason = reason;
  return { result };
}
