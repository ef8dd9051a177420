// The replicated key-value state machine (etcd's MVCC model): every write makes a new
// store-wide revision; each key has create revision, mod revision and version; history is kept
// for reads in the past and for watches until it is compacted.
//
// On disk, only `kv_history`, keyed by (revision, sub-revision): writes append. In memory, the
// KeyIndex: for each key, the revisions at which it changed. Writes run inside the caller's
// transaction (the Raft Ready cycle). Deterministic: the same entries give the same state on
// every member.
import type { Statement } from 'better-sqlite3';
import type { Db, Meta } from '../sqlite/database.ts';
import type { KeyEntry } from './key-index.ts';
import { KeyIndex, REV_MAX, SUB_MAX, appendChange, changeAt, changeBefore, changeRev, changeSub, isTombstone, keyBytes, keyId, packChange } from './key-index.ts';
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

const EMPTY = Buffer.alloc(0);

interface HistoryRow {
  rev: number;
  sub: number;
  key: Buffer;
  create_rev: number;
  version: number;
  value: Buffer | null;
  tombstone: number;
}

/** [from, to) of a KeyRange as index ids; to = null means no upper bound; one = a single key. */
function bounds(r: KeyRange): { from: string; to: string | null; one: boolean } {
  if (r.rangeEnd.length === 0) return { from: keyId(r.key), to: null, one: true };
  if (r.rangeEnd.length === 1 && r.rangeEnd[0] === 0) return { from: keyId(r.key), to: null, one: false };
  return { from: keyId(r.key), to: keyId(r.rangeEnd), one: false };
}

function inRange(key: Buffer, r: KeyRange): boolean {
  const id = keyId(key);
  const b = bounds(r);
  if (b.one) return id === b.from;
  return id >= b.from && (b.to === null || id < b.to);
}

/** Where a clean shutdown leaves the key index (see saveIndexImage). */
const IMAGE_KEY = 'kv_index_image';
const IMAGE_MAGIC = 0x3158494b; // "KIX1"

export interface KvOptions {
  /** Whether watch events need their previous value (a disk read per change otherwise saved). */
  prevKvWanted?: () => boolean;
}

export class KvStateMachine {
  private readonly db: Db;
  private readonly meta: Meta;
  private readonly index = new KeyIndex();
  private rev: number;
  private compactRev: number;
  private revisionDirty = false;
  /** Revision and sub-revision handed out by the write in progress (txn writes share one). */
  private pendingRev = 0;
  private pendingSub = 0;
  private events: WatchEvent[] | null = null;
  /** Undo steps for the index while a txn runs in a savepoint (a refusal rolls both back). */
  private undo: Array<() => void> | null = null;
  private readonly prevKvWanted: () => boolean;

  private readonly rowStmt: Statement<[number, number]>;
  private readonly insertHistory: Statement<unknown[]>;
  private readonly inSavepoint: (op: WriteOp) => WriteResult;

  constructor(db: Db, meta: Meta, options: KvOptions = {}) {
    this.db = db;
    this.meta = meta;
    this.prevKvWanted = options.prevKvWanted ?? (() => false);
    this.rev = meta.number('kv_revision', 1);
    this.compactRev = meta.number('kv_compact_revision', 0);
    this.rowStmt = db.prepare('SELECT rev, sub, key, create_rev, version, value, tombstone FROM kv_history WHERE rev = ? AND sub = ?');
    this.insertHistory = db.prepare('INSERT INTO kv_history (rev, sub, key, create_rev, version, value, tombstone) VALUES (?, ?, ?, ?, ?, ?, ?)');
    this.inSavepoint = db.transaction((op: WriteOp) => this.applyOp(op));
    this.load();
  }

  /** Rebuilds the index: from the image a clean shutdown left (saveIndexImage), else from the
   *  history table. */
  private load(): void {
    if (this.loadImage()) return;
    this.scan();
  }

  /** The newest and oldest change in the history table, as (rev * SUBS + sub), or -1. */
  private historyBounds(): [number, number] {
    const newest = this.db.prepare('SELECT rev * 2097152 + sub FROM kv_history ORDER BY rev DESC, sub DESC LIMIT 1').pluck().get() as number | undefined;
    const oldest = this.db.prepare('SELECT rev * 2097152 + sub FROM kv_history ORDER BY rev, sub LIMIT 1').pluck().get() as number | undefined;
    return [newest ?? -1, oldest ?? -1];
  }

  /** Writes the index into the meta table, for the next start (the scan of a history of
   *  200,000 changes takes most of a second; reading this, a tenth). Call it last, after the
   *  final write: the image is valid only while the history is unchanged, and the next start
   *  deletes it before anything can write. */
  saveIndexImage(): void {
    let bytes = 4 + 8 * 4 + 4;
    let count = 0;
    for (const e of this.index.all()) {
      bytes += 4 + e.id.length + 4 + 8 * e.changes.length;
      count++;
    }
    const buf = Buffer.allocUnsafe(bytes);
    const [newest, oldest] = this.historyBounds();
    let at = buf.writeUInt32LE(IMAGE_MAGIC, 0);
    at = buf.writeDoubleLE(this.rev, at);
    at = buf.writeDoubleLE(this.compactRev, at);
    at = buf.writeDoubleLE(newest, at);
    at = buf.writeDoubleLE(oldest, at);
    at = buf.writeUInt32LE(count, at);
    for (const e of this.index.all()) {
      at = buf.writeUInt32LE(e.id.length, at);
      at += buf.write(e.id, at, 'latin1');
      at = buf.writeUInt32LE(e.changes.length, at);
      for (const code of e.changes) at = buf.writeDoubleLE(code, at);
    }
    if (at !== bytes) throw new Error(`kv index image: wrote ${at} bytes of ${bytes}`);
    this.meta.set(IMAGE_KEY, buf);
  }

  /** Loads the index image if there is one that matches the history table; deletes it either
   *  way, so that it can never outlive a change to the history. */
  private loadImage(): boolean {
    const image = this.meta.get(IMAGE_KEY);
    if (image === undefined) return false;
    this.db.prepare('DELETE FROM meta WHERE key = ?').run(IMAGE_KEY);
    if (!Buffer.isBuffer(image) || image.byteLength < 40 || image.readUInt32LE(0) !== IMAGE_MAGIC) return false;
    const [newest, oldest] = this.historyBounds();
    if (image.readDoubleLE(4) !== this.rev || image.readDoubleLE(12) !== this.compactRev || image.readDoubleLE(20) !== newest || image.readDoubleLE(28) !== oldest) return false;
    try {
      const count = image.readUInt32LE(36);
      const entries: KeyEntry[] = new Array<KeyEntry>(count);
      let at = 40;
      let previous: string | null = null;
      for (let i = 0; i < count; i++) {
        const length = image.readUInt32LE(at);
        at += 4;
        if (at + length > image.byteLength) return false;
        const id = image.toString('latin1', at, at + length);
        at += length;
        if (previous !== null && !(previous < id)) return false;
        previous = id;
        const n = image.readUInt32LE(at);
        at += 4;
        if (n === 0 || at + 8 * n > image.byteLength) return false;
        const changes = new Array<number>(n);
        for (let j = 0; j < n; j++, at += 8) changes[j] = image.readDoubleLE(at);
        entries[i] = { id, changes };
      }
      if (at !== image.byteLength) return false;
      this.index.resetSorted(entries);
      return true;
    } catch {
      return false; // a damaged image: scan instead
    }
  }

  /** Rebuilds the index from the history table: one sequential scan of the changes' places
   *  and keys (packed in SQL, no values). */
  private scan(): void {
    const byKey = new Map<string, KeyEntry>();
    const rows = this.db.prepare('SELECT (rev * 2097152 + sub) * 2 + tombstone, key FROM kv_history ORDER BY rev, sub').raw().iterate() as IterableIterator<[number, Buffer]>;
    for (const [code, key] of rows) {
      const id = keyId(key);
      let entry = byKey.get(id);
      if (!entry) {
        entry = { id, changes: [] };
        byKey.set(id, entry);
      }
      appendChange(entry, code);
    }
    const entries = [...byKey.values()].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    this.index.resetSorted(entries);
  }

  /** The current revision (etcd starts at 1 with an empty store). */
  revision(): number {
    return this.rev;
  }

  compactRevision(): number {
    return this.compactRev;
  }

  /** Live keys (for status and tests). */
  keyCount(): number {
    let n = 0;
    for (const e of this.index.all()) if (!isTombstone(e.changes[e.changes.length - 1]!)) n++;
    return n;
  }

  private row(code: number): HistoryRow {
    const r = this.rowStmt.get(changeRev(code), changeSub(code)) as HistoryRow | undefined;
    if (!r) throw new Error(`kv index points at revision ${changeRev(code)}.${changeSub(code)}, which is not in the history table`);
    return r;
  }

  private kvOf(code: number, withValue = true): KeyValue {
    const r = this.row(code);
    return { key: r.key, createRevision: r.create_rev, modRevision: r.rev, version: r.version, value: withValue ? (r.value ?? EMPTY) : EMPTY };
  }

  /** The key's live value now, if any. */
  private currentCode(entry: KeyEntry | undefined): number | undefined {
    if (!entry || entry.changes.length === 0) return undefined;
    const last = entry.changes[entry.changes.length - 1]!;
    return isTombstone(last) ? undefined : last;
  }

  /** Live keys of a range as of revision `at`, in key order: entry and its change. */
  private liveAt(range: KeyRange, at: number): Array<{ entry: KeyEntry; code: number }> {
    const b = bounds(range);
    const out: Array<{ entry: KeyEntry; code: number }> = [];
    const consider = (entry: KeyEntry | undefined) => {
      if (!entry) return;
      const code = at >= this.rev ? this.currentCode(entry) : changeAt(entry, at);
      if (code !== undefined && !isTombstone(code)) out.push({ entry, code });
    };
    if (b.one) consider(this.index.get(b.from));
    else for (const entry of this.index.between(b.from, b.to)) consider(entry);
    return out;
  }

  // ---- reads ----------------------------------------------------------------------------

  range(req: RangeRequest): RangeResponse {
    const at = req.revision > 0 ? req.revision : this.rev;
    if (at > this.rev) throw ErrFutureRevision();
    if (req.revision > 0 && at < this.compactRev) throw ErrCompacted();
    let hits = this.liveAt(req, at);
    const filtered = req.minModRevision > 0 || req.maxModRevision > 0 || req.minCreateRevision > 0 || req.maxCreateRevision > 0;
    // etcd: a sort target other than KEY with order NONE sorts ascending.
    const order = req.sortOrder === 'NONE' && req.sortTarget !== 'KEY' ? 'ASCEND' : req.sortOrder;
    if (!filtered && req.sortTarget === 'KEY') {
      // The common case: key order, answered from the index; rows are read only for the page.
      const count = hits.length;
      if (req.countOnly) return { kvs: [], more: false, count };
      if (order === 'DESCEND') hits = hits.reverse();
      const more = req.limit > 0 && hits.length > req.limit;
      if (more) hits = hits.slice(0, req.limit);
      return { kvs: hits.map((h) => this.kvOf(h.code, !req.keysOnly)), more, count };
    }
    let kvs = hits.map((h) => this.kvOf(h.code, true));
    if (filtered) {
      kvs = kvs.filter(
        (kv) =>
          (req.minModRevision <= 0 || kv.modRevision >= req.minModRevision) &&
          (req.maxModRevision <= 0 || kv.modRevision <= req.maxModRevision) &&
          (req.minCreateRevision <= 0 || kv.createRevision >= req.minCreateRevision) &&
          (req.maxCreateRevision <= 0 || kv.createRevision <= req.maxCreateRevision),
      );
    }
    const count = kvs.length;
    if (req.countOnly) return { kvs: [], more: false, count };
    const value = (kv: KeyValue): number | Buffer => {
      switch (req.sortTarget) {
        case 'VERSION':
          return kv.version;
        case 'CREATE':
          return kv.createRevision;
        case 'MOD':
          return kv.modRevision;
        case 'VALUE':
          return kv.value;
        default:
          return kv.key;
      }
    };
    if (order !== 'NONE') {
      const sign = order === 'DESCEND' ? -1 : 1;
      kvs.sort((a, b) => {
        const x = value(a);
        const y = value(b);
        const c = typeof x === 'number' ? x - (y as number) : Buffer.compare(x, y as Buffer);
        return sign * (c !== 0 ? c : Buffer.compare(a.key, b.key));
      });
    }
    const more = req.limit > 0 && kvs.length > req.limit;
    if (more) kvs = kvs.slice(0, req.limit);
    if (req.keysOnly) kvs = kvs.map((kv) => ({ ...kv, value: EMPTY }));
    return { kvs, more, count };
  }

  /** Changes in [fromRev, toRev] to keys in `range`, in revision order (watch catch-up). */
  eventsBetween(range: KeyRange, fromRev: number, toRev: number, withPrevKv: boolean): WatchEvent[] {
    if (fromRev < this.compactRev) throw ErrCompacted();
    const rows = this.db
      .prepare<[number, number], HistoryRow>('SELECT rev, sub, key, create_rev, version, value, tombstone FROM kv_history WHERE rev >= ? AND rev <= ? ORDER BY rev, sub')
      .all(fromRev, toRev);
    const out: WatchEvent[] = [];
    for (const r of rows) {
      if (!inRange(r.key, range)) continue;
      let prevKv: KeyValue | null = null;
      if (withPrevKv) {
        const entry = this.index.get(keyId(r.key));
        const before = entry ? changeBefore(entry, packChange(r.rev, r.sub, r.tombstone === 1)) : undefined;
        if (before !== undefined && !isTombstone(before)) prevKv = this.kvOf(before);
      }
      if (r.tombstone) out.push({ type: 'DELETE', kv: { key: r.key, createRevision: 0, modRevision: r.rev, version: 0, value: EMPTY }, prevKv });
      else out.push({ type: 'PUT', kv: { key: r.key, createRevision: r.create_rev, modRevision: r.rev, version: r.version, value: r.value ?? EMPTY }, prevKv });
    }
    return out;
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
      if (op.op !== 'txn') return this.applyOp(op); // these check everything before changing anything
      // A txn runs in a savepoint, and its index changes are undone with it on a refusal.
      this.undo = [];
      return this.inSavepoint(op);
    } catch (err) {
      if (!(err instanceof KvError)) throw err;
      if (this.undo) for (const step of this.undo.reverse()) step();
      events.length = mark;
      this.pendingRev = 0;
      return { op: 'error', revision: this.rev, error: err };
    } finally {
      this.undo = null;
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
    if (this.pendingRev === 0) {
      this.pendingRev = this.rev + 1;
      if (this.pendingRev > REV_MAX) throw new Error('the store ran out of revisions');
    }
    if (this.pendingSub > SUB_MAX) throw new KvError(GrpcCode.InvalidArgument, `etcdserver: one write may change at most ${SUB_MAX + 1} keys`);
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

  /** Records a change in the index (undoable inside a txn). */
  private recordChange(key: Buffer, code: number): void {
    const { entry, created } = this.index.upsert(keyId(key));
    appendChange(entry, code);
    this.undo?.push(() => {
      entry.changes.pop();
      if (created) this.index.remove(entry);
    });
  }

  private put(req: PutRequest): PutResponse {
    if (req.key.length === 0) throw new KvError(GrpcCode.InvalidArgument, 'etcdserver: key is not provided');
    const entry = this.index.get(keyId(req.key));
    const cur = this.currentCode(entry);
    if (req.ignoreValue && cur === undefined) throw new KvError(GrpcCode.InvalidArgument, 'etcdserver: key not found');
    // The current version's row: its create revision and version continue in the new one.
    const current = cur !== undefined ? this.kvOf(cur, req.prevKv || req.ignoreValue || this.prevKvWanted()) : null;
    const prev = current && (req.prevKv || this.prevKvWanted()) ? current : null;
    const value = req.ignoreValue ? current!.value : req.value;
    const { rev, sub } = this.nextSlot();
    const createRev = current ? current.createRevision : rev;
    const version = current ? current.version + 1 : 1;
    this.insertHistory.run(rev, sub, req.key, createRev, version, value, 0);
    this.recordChange(req.key, packChange(rev, sub, false));
    this.events!.push({ type: 'PUT', kv: { key: req.key, createRevision: createRev, modRevision: rev, version, value }, prevKv: prev });
    return { prevKv: req.prevKv ? prev : null };
  }

  private deleteRange(req: DeleteRangeRequest): DeleteRangeResponse {
    if (req.key.length === 0) throw new KvError(GrpcCode.InvalidArgument, 'etcdserver: key is not provided');
    const live = this.liveAt(req, this.rev);
    const wantPrev = req.prevKv || this.prevKvWanted();
    const prevKvs: KeyValue[] = [];
    for (const { entry, code } of live) {
      const prev = wantPrev ? this.kvOf(code) : null;
      if (prev && req.prevKv) prevKvs.push(prev);
      const key = keyBytes(entry);
      const { rev, sub } = this.nextSlot();
      this.insertHistory.run(rev, sub, key, 0, 0, null, 1);
      this.recordChange(key, packChange(rev, sub, true));
      this.events!.push({ type: 'DELETE', kv: { key, createRevision: 0, modRevision: rev, version: 0, value: EMPTY }, prevKv: prev });
    }
    return { deleted: live.length, prevKvs };
  }

  private compareHolds(c: Compare): boolean {
    const live = this.liveAt(c, this.rev);
    if (live.length === 0) {
      // etcd: a value cannot be compared on a missing key; the rest compare against zero.
      if (c.target === 'VALUE') return false;
      return this.compareOne(c, { version: 0, createRevision: 0, modRevision: 0, value: () => EMPTY });
    }
    return live.every(({ code }) => {
      const kv = c.target === 'MOD' ? null : this.kvOf(code, c.target === 'VALUE');
      return this.compareOne(c, { version: kv?.version ?? 0, createRevision: kv?.createRevision ?? 0, modRevision: changeRev(code), value: () => kv!.value });
    });
  }

  private compareOne(c: Compare, kv: { version: number; createRevision: number; modRevision: number; value: () => Buffer }): boolean {
    let cmp: number;
    switch (c.target) {
      case 'VERSION':
        cmp = Math.sign(kv.version - c.version);
        break;
      case 'CREATE':
        cmp = Math.sign(kv.createRevision - c.createRevision);
        break;
      case 'MOD':
        cmp = Math.sign(kv.modRevision - c.modRevision);
        break;
      case 'VALUE':
        cmp = Buffer.compare(kv.value(), c.value);
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
    // Reads inside a txn see the txn's earlier writes: they are already in the index.
    if ('range' in op) return { range: this.range(op.range) };
    if ('put' in op) return { put: this.put(op.put) };
    if ('deleteRange' in op) return { deleteRange: this.deleteRange(op.deleteRange) };
    return { txn: this.txn(op.txn, depth + 1) };
  }

  private compact(req: CompactionRequest): void {
    if (req.revision <= this.compactRev) throw ErrCompacted();
    if (req.revision > this.rev) throw ErrFutureRevision();
    const c = req.revision;
    // Keep, for each key, its latest change at or before c (reads at c need it) unless that is a
    // deletion, and every change after c; drop the rest. Changes at c itself stay too: a watch
    // may start at the compaction revision.
    const drop: number[] = [];
    const emptied: KeyEntry[] = [];
    for (const entry of this.index.all()) {
      const changes = entry.changes;
      let keepFrom = 0;
      while (keepFrom < changes.length && changeRev(changes[keepFrom]!) < c) keepFrom++;
      // changes[keepFrom - 1] is the latest before c: keep it if no change at c supersedes it
      // and it is not a deletion.
      let firstKept = keepFrom;
      const latestBefore = keepFrom > 0 ? changes[keepFrom - 1]! : undefined;
      const supersededAtC = keepFrom < changes.length && changeRev(changes[keepFrom]!) === c;
      if (latestBefore !== undefined && !isTombstone(latestBefore) && !supersededAtC) firstKept = keepFrom - 1;
      for (let i = 0; i < firstKept; i++) drop.push(changes[i]!);
      if (firstKept > 0) entry.changes = changes.slice(firstKept);
      if (entry.changes.length === 0) emptied.push(entry);
    }
    for (const entry of emptied) this.index.remove(entry);
    const del = this.db.prepare<[number, number]>('DELETE FROM kv_history WHERE rev = ? AND sub = ?');
    drop.sort((a, b) => a - b); // in revision order: the deletes walk the table front to back
    for (const code of drop) del.run(changeRev(code), changeSub(code));
    this.compactRev = c;
    this.meta.set('kv_compact_revision', c);
  }
}
