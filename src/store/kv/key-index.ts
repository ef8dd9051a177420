// The in-memory index of the key-value store (etcd's treeIndex idea): for every key, in key
// order, the revisions at which it changed since the last compaction. The history table on disk
// is then keyed by revision only, so a write appends rows instead of updating randomly placed
// B-tree pages — on an SD card that is most of the bytes written.

/** A change's place in history, packed into one number: (rev, sub) and whether it deleted. */
const SUBS = 2 ** 21;
export const SUB_MAX = SUBS - 1;
export const REV_MAX = Math.floor(Number.MAX_SAFE_INTEGER / (SUBS * 2));

export function packChange(rev: number, sub: number, tombstone: boolean): number {
  return (rev * SUBS + sub) * 2 + (tombstone ? 1 : 0);
}

export function changeRev(code: number): number {
  return Math.floor(code / (SUBS * 2));
}

export function changeSub(code: number): number {
  return Math.floor(code / 2) % SUBS;
}

export function isTombstone(code: number): boolean {
  return code % 2 === 1;
}

export interface KeyEntry {
  key: Buffer;
  /** Changes since compaction, oldest first (packed). */
  changes: number[];
  /** Of the latest change, when it is a put. */
  createRev: number;
  version: number;
}

function compareKeys(a: Buffer, b: Buffer): number {
  return Buffer.compare(a, b);
}

export class KeyIndex {
  private readonly byKey = new Map<string, KeyEntry>();
  /** Every indexed key, sorted (live or deleted-but-not-compacted). */
  private sorted: KeyEntry[] = [];

  get size(): number {
    return this.sorted.length;
  }

  get(key: Buffer): KeyEntry | undefined {
    return this.byKey.get(key.toString('latin1'));
  }

  /** The entry for `key`, created (and placed in order) if new. */
  upsert(key: Buffer): { entry: KeyEntry; created: boolean } {
    const id = key.toString('latin1');
    const found = this.byKey.get(id);
    if (found) return { entry: found, created: false };
    const entry: KeyEntry = { key, changes: [], createRev: 0, version: 0 };
    this.byKey.set(id, entry);
    this.sorted.splice(this.lowerBound(key), 0, entry);
    return { entry, created: true };
  }

  remove(entry: KeyEntry): void {
    const id = entry.key.toString('latin1');
    if (this.byKey.get(id) !== entry) return;
    this.byKey.delete(id);
    const at = this.lowerBound(entry.key);
    if (this.sorted[at] === entry) this.sorted.splice(at, 1);
  }

  /** First position whose key is >= key. */
  private lowerBound(key: Buffer): number {
    let lo = 0;
    let hi = this.sorted.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (compareKeys(this.sorted[mid]!.key, key) < 0) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** Entries with key in [from, to) (to = null: no upper bound), in key order. */
  *between(from: Buffer, to: Buffer | null): Generator<KeyEntry> {
    for (let i = this.lowerBound(from); i < this.sorted.length; i++) {
      const e = this.sorted[i]!;
      if (to !== null && compareKeys(e.key, to) >= 0) return;
      yield e;
    }
  }

  all(): readonly KeyEntry[] {
    return this.sorted;
  }

  /** Replaces the whole index with entries already in key order (used at load). */
  resetSorted(entries: KeyEntry[]): void {
    this.byKey.clear();
    for (const e of entries) this.byKey.set(e.key.toString('latin1'), e);
    this.sorted = entries;
  }
}

/** The key's latest change at or before `rev`, or undefined. */
export function changeAt(entry: KeyEntry, rev: number): number | undefined {
  const changes = entry.changes;
  let lo = 0;
  let hi = changes.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (changeRev(changes[mid]!) <= rev) lo = mid + 1;
    else hi = mid;
  }
  return lo === 0 ? undefined : changes[lo - 1];
}

/** The change just before `code` in the key's history, or undefined. */
export function changeBefore(entry: KeyEntry, code: number): number | undefined {
  const at = entry.changes.indexOf(code);
  return at > 0 ? entry.changes[at - 1] : undefined;
}
