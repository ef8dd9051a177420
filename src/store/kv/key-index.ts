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
  /** The key's bytes as a latin1 string: one byte per char, so string order is byte order,
   *  and a short string costs far less memory than a Buffer (which pins an 8 KB pool slab). */
  id: string;
  /** Changes since compaction, oldest first (packed). */
  changes: number[];
}

export function keyId(key: Buffer): string {
  return key.toString('latin1');
}

export function keyBytes(entry: KeyEntry): Buffer {
  return Buffer.from(entry.id, 'latin1');
}

/** Entries per chunk of the ordered list: a new key costs a splice of at most this many. */
const CHUNK_MAX = 512;

/** Keys in order, kept as a list of sorted chunks (a one-level B-tree): inserting a key moves
 *  at most a chunk, not the whole list. */
export class KeyIndex {
  private readonly byKey = new Map<string, KeyEntry>();
  private chunks: KeyEntry[][] = [[]];

  get size(): number {
    return this.byKey.size;
  }

  get(id: string): KeyEntry | undefined {
    return this.byKey.get(id);
  }

  /** The entry for key `id`, created (and placed in order) if new. */
  upsert(id: string): { entry: KeyEntry; created: boolean } {
    const found = this.byKey.get(id);
    if (found) return { entry: found, created: false };
    const entry: KeyEntry = { id, changes: [] };
    this.byKey.set(id, entry);
    const c = this.chunkFor(id);
    const chunk = this.chunks[c]!;
    chunk.splice(lowerBound(chunk, id), 0, entry);
    if (chunk.length > CHUNK_MAX) this.chunks.splice(c, 1, chunk.slice(0, chunk.length >> 1), chunk.slice(chunk.length >> 1));
    return { entry, created: true };
  }

  remove(entry: KeyEntry): void {
    if (this.byKey.get(entry.id) !== entry) return;
    this.byKey.delete(entry.id);
    const c = this.chunkFor(entry.id);
    const chunk = this.chunks[c]!;
    const at = lowerBound(chunk, entry.id);
    if (chunk[at] === entry) chunk.splice(at, 1);
    if (chunk.length === 0 && this.chunks.length > 1) this.chunks.splice(c, 1);
  }

  /** The chunk a key belongs in: the last whose first key is <= id. */
  private chunkFor(id: string): number {
    let lo = 0;
    let hi = this.chunks.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >>> 1;
      if (this.chunks[mid]![0]!.id <= id) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }

  /** Entries with key in [from, to) (to = null: no upper bound), in key order. */
  *between(from: string, to: string | null): Generator<KeyEntry> {
    const first = this.chunkFor(from);
    for (let c = first; c < this.chunks.length; c++) {
      const chunk = this.chunks[c]!;
      for (let i = c === first ? lowerBound(chunk, from) : 0; i < chunk.length; i++) {
        const e = chunk[i]!;
        if (to !== null && e.id >= to) return;
        yield e;
      }
    }
  }

  *all(): Generator<KeyEntry> {
    for (const chunk of this.chunks) yield* chunk;
  }

  /** Replaces the whole index with entries already in key order (used at load). */
  resetSorted(entries: KeyEntry[]): void {
    this.byKey.clear();
    for (const e of entries) this.byKey.set(e.id, e);
    this.chunks = [];
    for (let i = 0; i < entries.length; i += CHUNK_MAX / 2) this.chunks.push(entries.slice(i, i + CHUNK_MAX / 2));
    if (this.chunks.length === 0) this.chunks.push([]);
  }
}

function lowerBound(chunk: KeyEntry[], id: string): number {
  let lo = 0;
  let hi = chunk.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (chunk[mid]!.id < id) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Appends a change to a key's history. Most keys change rarely between compactions, and an
 *  array that is pushed to grows by half plus 16 slots: 130 bytes of empty slots per key (13 MB
 *  for 100,000 keys). Short histories are therefore copied at their exact size; long ones grow
 *  as usual (amortised). */
export function appendChange(entry: KeyEntry, code: number): void {
  const c = entry.changes;
  if (c.length === 0) entry.changes = [code];
  else if (c.length < 8) entry.changes = c.concat(code);
  else c.push(code);
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
