// The Raft log and hard state in SQLite, mirrored in memory for the core's reads (the retained
// log is bounded by compaction, so the mirror is too). Writes must run inside the caller's
// transaction: the Ready cycle persists log, hard state and applied state together.
import type { ConfState, Entry, HardState, LogStorage, Snapshot } from '../../raft/index.ts';
import { LogArray, invariant } from '../../raft/index.ts';
import type { Db, Meta } from './database.ts';

const TYPE_CODE = { normal: 0, conf: 1 } as const;

interface LogRow {
  idx: number;
  term: number;
  type: number;
  data: Buffer;
}

export class SqliteLog implements LogStorage {
  /** The retained log, mirrored in memory: the core reads it often, SQLite only at start. */
  private readonly mirror: LogArray;
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
    this.compactConf = meta.json<ConfState>('log_compact_conf', { voters: [], learners: [] });
    this.mirror = new LogArray(compactIndex, meta.number('log_compact_term'));
    const rows = db.prepare('SELECT idx, term, type, data FROM raft_log WHERE idx > ? ORDER BY idx').all(compactIndex) as LogRow[];
    for (const r of rows) {
      invariant(r.idx === this.lastIndex() + 1, () => `the stored Raft log has a gap before index ${r.idx}`);
      this.mirror.append([{ index: r.idx, term: r.term, type: r.type === TYPE_CODE.conf ? 'conf' : 'normal', data: r.data }]);
    }
  }

  initialState(): { hardState: HardState; confState: ConfState } {
    return { hardState: this.hard, confState: this.compactConf };
  }

  hardState(): HardState {
    return this.hard;
  }

  firstIndex(): number {
    return this.mirror.firstIndex();
  }

  lastIndex(): number {
    return this.mirror.lastIndex();
  }

  term(i: number): number | undefined {
    return this.mirror.term(i);
  }

  entries(lo: number, hi: number, maxBytes: number): Entry[] | undefined {
    return this.mirror.entries(lo, hi, maxBytes);
  }

  snapshot(): Snapshot | undefined {
    return this.snapshotSource();
  }

  /** The entry at i (for the driver's own use, e.g. reading conf entries). */
  entry(i: number): Entry | undefined {
    return this.mirror.entry(i);
  }

  // ---- writes (inside the caller's transaction) ----------------------------------------

  append(entries: readonly Entry[]): void {
    const written = this.mirror.append(entries);
    if (!written) return;
    if (written.replaced) this.truncateStmt.run(written.from);
    for (const e of entries) if (e.index >= written.from) this.insertStmt.run(e.index, e.term, TYPE_CODE[e.type], e.data);
  }

  setHardState(hs: HardState): void {
    if (hs.term !== this.hard.term) this.meta.set('hard_term', hs.term);
    if (hs.vote !== this.hard.vote) this.meta.set('hard_vote', hs.vote);
    if (hs.commit !== this.hard.commit) this.meta.set('hard_commit', hs.commit);
    this.hard = { ...hs };
  }

  /** Drops entries up to and including `index`; `conf` is the configuration in force there. */
  compact(index: number, conf: ConfState): void {
    const term = this.mirror.compact(index);
    if (term === undefined) return;
    this.dropPrefixStmt.run(index);
    this.setCompactPoint(index, term, conf);
  }

  /** A snapshot from the leader replaces the whole log. */
  resetToSnapshot(index: number, term: number, conf: ConfState): void {
    this.clearStmt.run();
    this.setCompactPoint(index, term, conf);
    this.mirror.reset(index, term);
  }

  private setCompactPoint(index: number, term: number, conf: ConfState): void {
    this.meta.set('log_compact_index', index);
    this.meta.set('log_compact_term', term);
    this.meta.setJson('log_compact_conf', conf);
    this.compactConf = conf;
  }
}
