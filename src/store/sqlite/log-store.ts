// The Raft log and hard state in SQLite, mirrored in memory for the core's reads (the retained
// log is bounded by compaction, so the mirror is too). Writes must run inside the caller's
// transaction: the Ready cycle persists log, hard state and applied state together.
import type { ConfState, Entry, HardState, LogStorage, Snapshot } from '../../raft/index.ts';
import { invariant, limitSize } from '../../raft/index.ts';
import type { Db, Meta } from './database.ts';

const TYPE_CODE = { normal: 0, conf: 1 } as const;

interface LogRow {
  idx: number;
  term: number;
  type: number;
  data: Buffer;
}

export class SqliteLog implements LogStorage {
  /** ents[0] is a dummy at the compaction point (index and term of the last dropped entry). */
  private ents: Entry[];
  private hard: HardState;
  private compactConf: ConfState;
  /** Supplies the snapshot to send to a follower that is too far behind (or undefined while
   *  one is being made). */
  snapshotSource: () => Snapshot | undefined = () => undefined;

  private readonly insertStmt;
  private readonly truncateStmt;
  private readonly dropPrefixStmt;
  private readonly clearStmt;

  constructor(
    db: Db,
    private readonly meta: Meta,
  ) {
    this.insertStmt = db.prepare('INSERT INTO raft_log (idx, term, type, data) VALUES (?, ?, ?, ?)');
    this.truncateStmt = db.prepare('DELETE FROM raft_log WHERE idx >= ?');
    this.dropPrefixStmt = db.prepare('DELETE FROM raft_log WHERE idx <= ?');
    this.clearStmt = db.prepare('DELETE FROM raft_log');
    this.hard = {
      term: meta.number('hard_term'),
      vote: meta.string('hard_vote'),
      commit: meta.number('hard_commit'),
    };
    const compactIndex = meta.number('log_compact_index');
    const compactTerm = meta.number('log_compact_term');
    this.compactConf = meta.json<ConfState>('log_compact_conf', { voters: [], learners: [] });
    this.ents = [{ index: compactIndex, term: compactTerm, type: 'normal', data: new Uint8Array(0) }];
    const rows = db.prepare('SELECT idx, term, type, data FROM raft_log WHERE idx > ? ORDER BY idx').all(compactIndex) as LogRow[];
    for (const r of rows) {
      invariant(r.idx === this.lastIndex() + 1, () => `the stored Raft log has a gap before index ${r.idx}`);
      this.ents.push({ index: r.idx, term: r.term, type: r.type === TYPE_CODE.conf ? 'conf' : 'normal', data: r.data });
    }
  }

  initialState(): { hardState: HardState; confState: ConfState } {
    return { hardState: this.hard, confState: this.compactConf };
  }

  hardState(): HardState {
    return this.hard;
  }

  firstIndex(): number {
    return this.ents[0]!.index + 1;
  }

  lastIndex(): number {
    return this.ents[0]!.index + this.ents.length - 1;
  }

  term(i: number): number | undefined {
    const offset = this.ents[0]!.index;
    if (i < offset || i - offset >= this.ents.length) return undefined;
    return this.ents[i - offset]!.term;
  }

  entries(lo: number, hi: number, maxBytes: number): Entry[] | undefined {
    const offset = this.ents[0]!.index;
    if (lo <= offset) return undefined;
    invariant(hi <= this.lastIndex() + 1, () => `entries(${lo}, ${hi}) beyond the last index ${this.lastIndex()}`);
    return limitSize(this.ents.slice(lo - offset, hi - offset), maxBytes);
  }

  snapshot(): Snapshot | undefined {
    return this.snapshotSource();
  }

  /** The entry at i (for the driver's own use, e.g. reading conf entries). */
  entry(i: number): Entry | undefined {
    const offset = this.ents[0]!.index;
    return i > offset && i - offset < this.ents.length ? this.ents[i - offset] : undefined;
  }

  // ---- writes (inside the caller's transaction) ----------------------------------------

  append(entries: readonly Entry[]): void {
    if (entries.length === 0) return;
    const first = this.firstIndex();
    const fresh = entries[0]!.index < first ? entries.slice(first - entries[0]!.index) : entries;
    if (fresh.length === 0) return;
    const offset = fresh[0]!.index - this.ents[0]!.index;
    invariant(offset >= 1 && offset <= this.ents.length, () => `append at ${fresh[0]!.index} leaves a gap after ${this.lastIndex()}`);
    if (offset < this.ents.length) this.truncateStmt.run(fresh[0]!.index);
    this.ents.length = offset;
    for (const e of fresh) {
      this.insertStmt.run(e.index, e.term, TYPE_CODE[e.type], e.data);
      this.ents.push(e);
    }
  }

  setHardState(hs: HardState): void {
    if (hs.term !== this.hard.term) this.meta.set('hard_term', hs.term);
    if (hs.vote !== this.hard.vote) this.meta.set('hard_vote', hs.vote);
    if (hs.commit !== this.hard.commit) this.meta.set('hard_commit', hs.commit);
    this.hard = { ...hs };
  }

  /** Drops entries up to and including `index`; `conf` is the configuration in force there. */
  compact(index: number, conf: ConfState): void {
    const offset = this.ents[0]!.index;
    if (index <= offset) return;
    invariant(index <= this.lastIndex(), () => `compact(${index}) beyond the last index ${this.lastIndex()}`);
    const term = this.ents[index - offset]!.term;
    this.dropPrefixStmt.run(index);
    this.setCompactPoint(index, term, conf);
    this.ents = [{ index, term, type: 'normal', data: new Uint8Array(0) }, ...this.ents.slice(index - offset + 1)];
  }

  /** A snapshot from the leader replaces the whole log. */
  resetToSnapshot(index: number, term: number, conf: ConfState): void {
    this.clearStmt.run();
    this.setCompactPoint(index, term, conf);
    this.ents = [{ index, term, type: 'normal', data: new Uint8Array(0) }];
  }

  private setCompactPoint(index: number, term: number, conf: ConfState): void {
    this.meta.set('log_compact_index', index);
    this.meta.set('log_compact_term', term);
    this.meta.setJson('log_compact_conf', conf);
    this.compactConf = conf;
  }
}

