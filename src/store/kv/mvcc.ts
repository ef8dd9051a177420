// The replicated key-value state machine (etcd's MVCC model) over SQLite: every write makes a
// new store-wide revision; each key has create revision, mod revision and version; history is
// kept for reads in the past and for watches until it is compacted.
//
// Writes run inside the caller's transaction (the Raft Ready cycle), so applying an entry and
// recording it as applied are one atomic step. Deterministic: the same entries give the same
// state on every member.
import type { Statement } from 'better-sqlite3';
import type { Db, Meta } from '../sqlite/database.ts';
import type {
  Compare,
  CompactionRequest,
  DeleteRangeRequest,
  DeleteRangeResponse,
  KeyRange,
  KeyValue,
  PutRequest,
  PutResponse,
  RangeRequest,
  RangeResponse,
  RequestOp,
  ResponseOp,
  TxnRequest,
  TxnResponse,
  WatchEvent,
  WriteOp,
  WriteResult,
} from './types.ts';
import { ErrCompacted, ErrFutureRevision, GrpcCode, KvError } from './types.ts';

interface Row {
  key: Buffer;
  create_rev: number;
  mod_rev: number;
  version: number;
  value: Buffer | null;
}

interface CurrentRow extends Row {
  sub: number;
}

const EMPTY = Buffer.alloc(0);

function toKv(r: Row): KeyValue {
  return { key: r.key, createRevision: r.create_rev, modRevision: r.mod_rev, version: r.version, value: r.value ?? EMPTY };
}

type RangeShape = 'one' | 'from' | 'between';

/** How a KeyRange reads in SQL: one key, every key >= key, or [key, rangeEnd). */
function shapeOf(r: KeyRange): RangeShape {
  if (r.rangeEnd.length === 0) return 'one';
  if (r.rangeEnd.length === 1 && r.rangeEnd[0] === 0) return 'from';
  return 'between';
}

function rangeArgs(r: KeyRange): Buffer[] {
  const shape = shapeOf(r);
  return shape === 'between' ? [r.key, r.rangeEnd] : [r.key];
}

const keyCondition: Record<RangeShape, (col: string) => string> = {
  one: (c) => `${c} = ?`,
  from: (c) => `${c} >= ?`,
  between: (c) => `${c} >= ? AND ${c} < ?`,
};

const sortColumn: Record<string, string> = { KEY: 'key', VERSION: 'version', CREATE: 'create_rev', MOD: 'mod_rev', VALUE: 'value' };

export class KvStateMachine {
  private readonly db: Db;
  private readonly meta: Meta;
  private rev: number;
  private compactRev: number;
  /** Revision and sub-revision handed out by the write in progress (txn writes share one). */
  private pendingRev = 0;
  private revisionDirty = false;
  private pendingSub = 0;
  private events: WatchEvent[] | null = null;
  private readonly stmts = new Map<string, Statement<unknown[]>>();

  private readonly currentOne;
  private readonly insertHistory;
  private readonly upsertKv;
  private readonly deleteKv;
  /** Applies an op in a savepoint (a nested transaction inside the Ready's). */
  private readonly inSavepoint: (op: WriteOp) => WriteResult;

  constructor(db: Db, meta: Meta) {
    this.db = db;
    this.meta = meta;
    this.rev = meta.number('kv_revision', 1);
    this.compactRev = meta.number('kv_compact_revision', 0);
    this.currentOne = db.prepare(
      'SELECT k.key AS key, h.create_rev AS create_rev, h.rev AS mod_rev, h.version AS version, h.value AS value, h.sub AS sub ' +
        'FROM kv k JOIN kv_history h ON h.rev = k.rev AND h.sub = k.sub WHERE k.key = ?',
    );
    this.insertHistory = db.prepare('INSERT INTO kv_history (rev, sub, key, create_rev, version, value, tombstone) VALUES (?, ?, ?, ?, ?, ?, ?)');
    this.upsertKv = db.prepare('INSERT INTO kv (key, rev, sub) VALUES (?, ?, ?) ON CONFLICT (key) DO UPDATE SET rev = excluded.rev, sub = excluded.sub');
    this.deleteKv = db.prepare('DELETE FROM kv WHERE key = ?');
    this.inSavepoint = db.transaction((op: WriteOp) => this.applyOp(op));
  }

  /** The current revision (etcd starts at 1 with an empty store). */
  revision(): number {
    return this.rev;
  }

  compactRevision(): number {
    return this.compactRev;
  }

  private stmt(sql: string) {
    let s = this.stmts.get(sql);
    if (!s) {
      s = this.db.prepare<unknown[]>(sql);
      this.stmts.set(sql, s);
    }
    return s;
  }

  // ---- reads ----------------------------------------------------------------------------

  range(req: RangeRequest): RangeResponse {
    const at = req.revision > 0 ? req.revision : this.rev;
    if (at > this.rev) throw ErrFutureRevision();
    if (req.revision > 0 && at < this.compactRev) throw ErrCompacted();
    const historical = at < this.rev;
    const shape = shapeOf(req);
    const args: unknown[] = rangeArgs(req);
    // The rows as of revision `at`: live keys now, or each key's latest change <= at.
    const source = historical
      ? `(SELECT h.key AS key, h.create_rev AS create_rev, h.rev AS mod_rev, h.version AS version, h.value AS value FROM kv_history h ` +
        `WHERE ${keyCondition[shape]('h.key')} AND h.rev <= ? AND h.tombstone = 0 AND (h.rev, h.sub) = ` +
        `(SELECT h2.rev, h2.sub FROM kv_history h2 WHERE h2.key = h.key AND h2.rev <= ? ORDER BY h2.rev DESC, h2.sub DESC LIMIT 1))`
      : `(SELECT k.key AS key, h.create_rev AS create_rev, h.rev AS mod_rev, h.version AS version, h.value AS value ` +
        `FROM kv k JOIN kv_history h ON h.rev = k.rev AND h.sub = k.sub WHERE ${keyCondition[shape]('k.key')})`;
    if (historical) args.push(at, at);
    const filters: string[] = [];
    if (req.minModRevision > 0) filters.push(`mod_rev >= ${req.minModRevision}`);
    if (req.maxModRevision > 0) filters.push(`mod_rev <= ${req.maxModRevision}`);
    if (req.minCreateRevision > 0) filters.push(`create_rev >= ${req.minCreateRevision}`);
    if (req.maxCreateRevision > 0) filters.push(`create_rev <= ${req.maxCreateRevision}`);
    const where = filters.length > 0 ? ` WHERE ${filters.join(' AND ')}` : '';

    const columns = req.keysOnly ? 'key, create_rev, mod_rev, version, NULL AS value' : 'key, create_rev, mod_rev, version, value';
    if (shape === 'one' && !req.countOnly) {
      // One key: at most one row, and its count is the number of rows.
      const rows = this.stmt(`SELECT ${columns} FROM ${source}${where}`).all(...args) as Row[];
      const more = req.limit > 0 && rows.length > req.limit;
      return { kvs: rows.map(toKv), more, count: rows.length };
    }
    const count = Number(this.stmt(`SELECT COUNT(*) FROM ${source}${where}`).pluck().get(...args));
    if (req.countOnly) return { kvs: [], more: false, count };

    // etcd: a sort target other than KEY with order NONE sorts ascending.
    const order = req.sortOrder === 'NONE' && req.sortTarget !== 'KEY' ? 'ASCEND' : req.sortOrder;
    const column = sortColumn[req.sortTarget] ?? 'key';
    const orderBy = order === 'DESCEND' ? ` ORDER BY ${column} DESC, key DESC` : ` ORDER BY ${column}, key`;
    const limit = req.limit > 0 ? ` LIMIT ${req.limit + 1}` : '';
    const rows = this.stmt(`SELECT ${columns} FROM ${source}${where}${orderBy}${limit}`).all(...args) as Row[];
    const more = req.limit > 0 && rows.length > req.limit;
    if (more) rows.length = req.limit;
    return { kvs: rows.map(toKv), more, count };
  }

  /** Changes in [fromRev, toRev] to keys in `range`, in revision order (watch catch-up). */
  eventsBetween(range: KeyRange, fromRev: number, toRev: number, withPrevKv: boolean): WatchEvent[] {
    if (fromRev < this.compactRev) throw ErrCompacted();
    const shape = shapeOf(range);
    const rows = this.stmt(
      `SELECT rev, sub, key, create_rev, version, value, tombstone FROM kv_history WHERE rev >= ? AND rev <= ? AND ${keyCondition[shape]('key')} ORDER BY rev, sub`,
    ).all(fromRev, toRev, ...rangeArgs(range)) as Array<{ rev: number; sub: number; key: Buffer; create_rev: number; version: number; value: Buffer | null; tombstone: number }>;
    const prevStmt = withPrevKv
      ? this.stmt(
          'SELECT key, create_rev, rev AS mod_rev, version, value, tombstone FROM kv_history WHERE key = ? AND (rev < ? OR (rev = ? AND sub < ?)) ORDER BY rev DESC, sub DESC LIMIT 1',
        )
      : null;
    return rows.map((r) => {
      let prevKv: KeyValue | null = null;
      if (prevStmt) {
        const p = prevStmt.get(r.key, r.rev, r.rev, r.sub) as (Row & { tombstone: number }) | undefined;
        if (p && p.tombstone === 0) prevKv = toKv(p);
      }
      if (r.tombstone) return { type: 'DELETE', kv: { key: r.key, createRevision: 0, modRevision: r.rev, version: 0, value: EMPTY }, prevKv };
      return { type: 'PUT', kv: { key: r.key, createRevision: r.create_rev, modRevision: r.rev, version: r.version, value: r.value ?? EMPTY }, prevKv };
    });
  }

  // ---- writes ---------------------------------------------------------------------------

  /** Applies one replicated write; refusals come back as op 'error' and change nothing.
   *  `events` receives the changes for watchers. Runs inside the caller's transaction. */
  apply(op: WriteOp, events: WatchEvent[]): WriteResult {
    this.events = events;
    this.pendingRev = 0;
    this.pendingSub = 0;
    const mark = events.length;
    try {
      // A txn runs in a savepoint, so a refusal half-way through leaves nothing behind; the
      // other writes check everything before they change anything.
      return op.op === 'txn' ? this.inSavepoint(op) : this.applyOp(op);
    } catch (err) {
      if (!(err instanceof KvError)) throw err;
      events.length = mark;
      return { op: 'error', revision: this.rev, error: err };
    } finally {
      this.events = null;
    }
  }

  private applyOp(op: WriteOp): WriteResult {
    switch (op.op) {
      case 'put': {
        const put = this.put(op.put);
        this.finishRevision();
        return { op: 'put', revision: this.rev, put };
      }
      case 'deleteRange': {
        const deleteRange = this.deleteRange(op.deleteRange);
        this.finishRevision();
        return { op: 'deleteRange', revision: this.rev, deleteRange };
      }
      case 'txn': {
        const txn = this.txn(op.txn, 0);
        this.finishRevision();
        return { op: 'txn', revision: this.rev, txn };
      }
      case 'compact':
        this.compact(op.compact);
        return { op: 'compact', revision: this.rev };
    }
  }

  /** The revision this write's changes get (one per write, shared by a txn's changes). */
  private nextSlot(): { rev: number; sub: number } {
    if (this.pendingRev === 0) this.pendingRev = this.rev + 1;
    return { rev: this.pendingRev, sub: this.pendingSub++ };
  }

  private finishRevision(): void {
    if (this.pendingRev === 0) return;
    this.rev = this.pendingRev;
    this.pendingRev = 0;
    this.revisionDirty = true;
  }

  /** Persists the revision counter; the caller runs it once at the end of its transaction. */
  flush(): void {
    if (!this.revisionDirty) return;
    this.meta.set('kv_revision', this.rev);
    this.revisionDirty = false;
  }

  private current(key: Buffer): CurrentRow | undefined {
    return this.currentOne.get(key) as CurrentRow | undefined;
  }

  private put(req: PutRequest): PutResponse {
    if (req.key.length === 0) throw new KvError(GrpcCode.InvalidArgument, 'etcdserver: key is not provided');
    const cur = this.current(req.key);
    if (req.ignoreValue && !cur) throw new KvError(GrpcCode.InvalidArgument, 'etcdserver: key not found');
    const value = req.ignoreValue ? (cur!.value ?? EMPTY) : req.value;
    const { rev, sub } = this.nextSlot();
    const createRev = cur ? cur.create_rev : rev;
    const version = cur ? cur.version + 1 : 1;
    this.insertHistory.run(rev, sub, req.key, createRev, version, value, 0);
    this.upsertKv.run(req.key, rev, sub);
    const prev = cur ? toKv(cur) : null;
    this.events!.push({ type: 'PUT', kv: { key: req.key, createRevision: createRev, modRevision: rev, version, value }, prevKv: prev });
    return { prevKv: req.prevKv ? prev : null };
  }

  private currentInRange(range: KeyRange): CurrentRow[] {
    const shape = shapeOf(range);
    return this.stmt(
      'SELECT k.key AS key, h.create_rev AS create_rev, h.rev AS mod_rev, h.version AS version, h.value AS value, h.sub AS sub ' +
        `FROM kv k JOIN kv_history h ON h.rev = k.rev AND h.sub = k.sub WHERE ${keyCondition[shape]('k.key')} ORDER BY k.key`,
    ).all(...rangeArgs(range)) as CurrentRow[];
  }

  private deleteRange(req: DeleteRangeRequest): DeleteRangeResponse {
    if (req.key.length === 0) throw new KvError(GrpcCode.InvalidArgument, 'etcdserver: key is not provided');
    const rows = this.currentInRange(req);
    for (const r of rows) {
      const { rev, sub } = this.nextSlot();
      this.insertHistory.run(rev, sub, r.key, 0, 0, null, 1);
      this.deleteKv.run(r.key);
      this.events!.push({ type: 'DELETE', kv: { key: r.key, createRevision: 0, modRevision: rev, version: 0, value: EMPTY }, prevKv: toKv(r) });
    }
    return { deleted: rows.length, prevKvs: req.prevKv ? rows.map(toKv) : [] };
  }

  private compareHolds(c: Compare): boolean {
    const rows = shapeOf(c) === 'one' ? [this.current(c.key)].filter((r): r is CurrentRow => r !== undefined) : this.currentInRange(c);
    if (rows.length === 0) {
      // etcd: a value cannot be compared on a missing key; the rest compare against zero.
      if (c.target === 'VALUE') return false;
      return this.compareOne(c, { key: c.key, create_rev: 0, mod_rev: 0, version: 0, value: null });
    }
    return rows.every((r) => this.compareOne(c, r));
  }

  private compareOne(c: Compare, r: Row): boolean {
    let cmp: number;
    switch (c.target) {
      case 'VERSION':
        cmp = Math.sign(r.version - c.version);
        break;
      case 'CREATE':
        cmp = Math.sign(r.create_rev - c.createRevision);
        break;
      case 'MOD':
        cmp = Math.sign(r.mod_rev - c.modRevision);
        break;
      case 'VALUE':
        cmp = Buffer.compare(r.value ?? EMPTY, c.value);
        break;
    }
    switch (c.result) {
      case 'EQUAL':
        return cmp === 0;
      case 'NOT_EQUAL':
        return cmp !== 0;
      case 'GREATER':
        return cmp > 0;
      case 'LESS':
        return cmp < 0;
    }
  }

  private txn(req: TxnRequest, depth: number): TxnResponse {
    if (depth > 16) throw new KvError(GrpcCode.InvalidArgument, 'etcdserver: too many nested transactions');
    const succeeded = req.compare.every((c) => this.compareHolds(c));
    const ops = succeeded ? req.success : req.failure;
    const responses: ResponseOp[] = ops.map((op) => this.txnOp(op, depth));
    return { succeeded, responses };
  }

  private txnOp(op: RequestOp, depth: number): ResponseOp {
    if ('range' in op) {
      // Reads inside a txn see the txn's earlier writes (they are in this transaction).
      return { range: this.range(op.range) };
    }
    if ('put' in op) return { put: this.put(op.put) };
    if ('deleteRange' in op) return { deleteRange: this.deleteRange(op.deleteRange) };
    return { txn: this.txn(op.txn, depth + 1) };
  }

  private compact(req: CompactionRequest): void {
    if (req.revision <= this.compactRev) throw ErrCompacted();
    if (req.revision > this.rev) throw ErrFutureRevision();
    const c = req.revision;
    // Keep, for each key, its latest change at or before c (reads at c need it), unless that
    // change is a deletion; drop everything older.
    this.stmt(
      'DELETE FROM kv_history WHERE rev < ? AND (tombstone = 1 OR EXISTS (SELECT 1 FROM kv_history h2 WHERE h2.key = kv_history.key AND h2.rev <= ? AND (h2.rev > kv_history.rev OR (h2.rev = kv_history.rev AND h2.sub > kv_history.sub))))',
    ).run(c, c);
    this.compactRev = c;
    this.meta.set('kv_compact_revision', c);
  }
}
