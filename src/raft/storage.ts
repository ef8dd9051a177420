// What the core may read of the durable log. The driver writes it (after each Ready); the core
// only reads. Reads that cannot be served return undefined: the entries were compacted into a
// snapshot (or are not there yet), which the core answers by sending a snapshot instead.
import { cloneConfState } from './confchange.ts';
import type { ConfState, Entry, HardState, Snapshot } from './types.ts';
import { emptyHardState, entrySize, invariant } from './types.ts';

export interface InitialState {
  hardState: HardState;
  /** The configuration as of the latest snapshot (or bootstrap). Conf entries after it are
   *  read from the log by the core. */
  confState: ConfState;
}

export interface LogStorage {
  initialState(): InitialState;
  /** Entries [lo, hi), at most maxBytes (but always at least one if any). */
  entries(lo: number, hi: number, maxBytes: number): Entry[] | undefined;
  /** Term of entry i, for firstIndex()-1 <= i <= lastIndex(); otherwise undefined. */
  term(i: number): number | undefined;
  firstIndex(): number;
  lastIndex(): number;
  /** The latest snapshot, or undefined while one is being made (the core retries later). */
  snapshot(): Snapshot | undefined;
}

export function limitSize(ents: Entry[], maxBytes: number): Entry[] {
  if (ents.length === 0) return ents;
  let size = entrySize(ents[0]!);
  let n = 1;
  for (; n < ents.length; n++) {
    size += entrySize(ents[n]!);
    if (size > maxBytes) break;
  }
  return n === ents.length ? ents : ents.slice(0, n);
}

/** A log held in an array whose first element is a dummy at the compaction point (the index
 *  and term of the last dropped entry). The in-memory storage below, and the SQLite storage's
 *  mirror of its table, are both this. */
export class LogArray {
  private ents: Entry[];

  constructor(index = 0, term = 0) {
    this.ents = [dummy(index, term)];
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

  entry(i: number): Entry | undefined {
    const offset = this.ents[0]!.index;
    return i > offset && i - offset < this.ents.length ? this.ents[i - offset] : undefined;
  }

  entries(lo: number, hi: number, maxBytes: number): Entry[] | undefined {
    const offset = this.ents[0]!.index;
    if (lo <= offset) return undefined;
    invariant(hi <= this.lastIndex() + 1, () => `entries(${lo}, ${hi}) beyond last index ${this.lastIndex()}`);
    if (this.ents.length === 1) return [];
    return limitSize(this.ents.slice(lo - offset, hi - offset), maxBytes);
  }

  /** Appends entries, replacing any at or after the first new index (a follower's conflicting
   *  suffix); entries already compacted are skipped. Returns the first index written and
   *  whether older entries were replaced, or null if there was nothing to write. */
  append(entries: readonly Entry[]): { from: number; replaced: boolean } | null {
    if (entries.length === 0) return null;
    const first = this.firstIndex();
    if (entries[entries.length - 1]!.index < first) return null;
    const fresh = entries[0]!.index < first ? entries.slice(first - entries[0]!.index) : entries;
    const offset = fresh[0]!.index - this.ents[0]!.index;
    invariant(offset >= 1 && offset <= this.ents.length, () => `missing log entries: last ${this.lastIndex()}, appending ${fresh[0]!.index}`);
    const replaced = offset < this.ents.length;
    this.ents.length = offset;
    for (const e of fresh) this.ents.push(e);
    return { from: fresh[0]!.index, replaced };
  }

  /** Drops entries up to and including `index`; returns that entry's term. */
  compact(index: number): number | undefined {
    const offset = this.ents[0]!.index;
    if (index <= offset) return undefined;
    invariant(index <= this.lastIndex(), () => `compact(${index}) beyond last index ${this.lastIndex()}`);
    const term = this.ents[index - offset]!.term;
    this.ents = [dummy(index, term), ...this.ents.slice(index - offset + 1)];
    return term;
  }

  /** Empties the log, the compaction point moving to (index, term) (a snapshot replaced it). */
  reset(index: number, term: number): void {
    this.ents = [dummy(index, term)];
  }
}

function dummy(index: number, term: number): Entry {
  return { index, term, type: 'normal', data: new Uint8Array(0) };
}

/** An in-memory LogStorage: the simulator's "disk". */
export class MemoryStorage implements LogStorage {
  private hardState: HardState = emptyHardState;
  private snap: Snapshot;
  private readonly log = new LogArray();

  constructor(confState: ConfState = { voters: [], learners: [] }) {
    this.snap = { metadata: { index: 0, term: 0, confState: cloneConfState(confState) }, data: new Uint8Array(0) };
  }

  initialState(): InitialState {
    return { hardState: this.hardState, confState: cloneConfState(this.snap.metadata.confState) };
  }

  setHardState(hs: HardState): void {
    this.hardState = { ...hs };
  }

  firstIndex(): number {
    return this.log.firstIndex();
  }

  lastIndex(): number {
    return this.log.lastIndex();
  }

  term(i: number): number | undefined {
    return this.log.term(i);
  }

  entries(lo: number, hi: number, maxBytes: number): Entry[] | undefined {
    return this.log.entries(lo, hi, maxBytes);
  }

  snapshot(): Snapshot {
    return this.snap;
  }

  /** Persist entries; entries at or after the first new index are replaced (a follower's
   *  conflicting suffix). */
  append(entries: readonly Entry[]): void {
    this.log.append(entries);
  }

  /** Replace everything with a snapshot received from the leader. */
  applySnapshot(snap: Snapshot): void {
    invariant(snap.metadata.index >= this.snap.metadata.index, 'applySnapshot: snapshot is older than the current one');
    this.snap = snap;
    this.log.reset(snap.metadata.index, snap.metadata.term);
  }

  /** Record a snapshot of the applied state at index i (the state machine made it). */
  createSnapshot(i: number, confState: ConfState, data: Uint8Array): Snapshot | undefined {
    if (i <= this.snap.metadata.index) return undefined;
    const term = this.term(i);
    invariant(term !== undefined, () => `createSnapshot(${i}) beyond last index ${this.lastIndex()}`);
    this.snap = { metadata: { index: i, term, confState: cloneConfState(confState) }, data };
    return this.snap;
  }

  /** Drop entries up to and including `compactIndex` (they are in the snapshot). */
  compact(compactIndex: number): void {
    invariant(compactIndex <= this.snap.metadata.index || compactIndex <= this.log.firstIndex() - 1, () => `compact(${compactIndex}) beyond snapshot ${this.snap.metadata.index}`);
    this.log.compact(compactIndex);
  }
}
