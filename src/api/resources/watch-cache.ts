// One store watch over every object, fanned out to the resource API's watchers (Kubernetes'
// "watch cache"): each change is decoded once and serialized once per event type, and a short
// history of recent changes lets a watcher that resumes from a recent resourceVersion start
// without a store watch of its own. Only a watcher that resumes from further back than that
// history gets its own store watch (which answers 410 Expired once history is compacted).
import type { KObject } from '../../model/index.ts';
import type { Logger } from '../../log/index.ts';
import type { KvService, WatchHandle } from '../../store/kv/service.ts';
import type { KeyValue, WatchEvent } from '../../store/kv/types.ts';
import { decodeObject, prefixEnd, REGISTRY_PREFIX } from './object-store.ts';
import { Status, StatusError } from './status.ts';

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED';

/** A stored value under /registry/ that is not an object (written around the resource API,
 *  through the KV API): watchers skip it. */
export class UndecodableChange extends Error {}

/**
 * One change to one object, shared read-only by every watcher. Decoded on first use, not when
 * it happens: with no watcher interested (most writes on a busy gateway) it is never parsed.
 */
export class ObjectChange {
  #object: KObject | undefined;
  #prev: KObject | null | undefined;
  #json: string | undefined;
  #bad = false;

  constructor(
    readonly revision: number,
    readonly key: string,
    readonly deleted: boolean,
    /** Made by this change (no earlier value): ADDED rather than MODIFIED. */
    readonly created: boolean,
    private readonly kv: KeyValue,
    private readonly prevKv: KeyValue | null,
  ) {}

  #decode(): void {
    if (this.#object !== undefined) return;
    if (this.#bad) throw new UndecodableChange(this.key);
    try {
      if (this.deleted) {
        const object = decodeObject(this.prevKv!);
        object.metadata.resourceVersion = String(this.kv.modRevision);
        this.#object = object;
        this.#prev = object;
      } else {
        this.#object = decodeObject(this.kv);
        this.#prev = this.prevKv ? decodeObject(this.prevKv) : null;
      }
    } catch {
      this.#bad = true;
      throw new UndecodableChange(this.key);
    }
  }

  /** For a change: the new object. For a deletion: the last object, at the deletion's revision.
   *  Throws UndecodableChange for a value that is not an object. */
  get object(): KObject {
    this.#decode();
    return this.#object!;
  }

  /** The object before this change (null when it was created). */
  get prev(): KObject | null {
    this.#decode();
    return this.#prev!;
  }

  /** The object's JSON text, made once (until released). */
  json(): string {
    return (this.#json ??= JSON.stringify(this.object));
  }

  /** Forgets the decoded forms (kept by whoever took them); they are made again if asked. */
  release(): void {
    this.#object = undefined;
    this.#prev = undefined;
    this.#json = undefined;
  }
}

/** Turns store events under /registry/ into object changes (not decoded yet). */
export function toChanges(events: WatchEvent[]): ObjectChange[] {
  const out: ObjectChange[] = [];
  for (const e of events) {
    // A deletion of a key that held nothing we could show.
    if (e.type === 'DELETE' && !e.prevKv) continue;
    out.push(new ObjectChange(e.kv.modRevision, e.kv.key.toString('utf8'), e.type === 'DELETE', e.type === 'PUT' && e.prevKv === null, e.kv, e.prevKv));
  }
  return out;
}

/** What a subscriber is told: changes in revision order, each once, then maybe an end. */
export interface ChangeSink {
  changes(changes: readonly ObjectChange[], revision: number): void;
  /** The watch cannot go on (history replaced by a snapshot, the member stopping): end it. */
  ended(reason: StatusError): void;
}

export interface Subscription {
  cancel(): void;
}

interface Subscriber {
  prefix: string;
  afterRevision: number;
  sink: ChangeSink;
}

export interface WatchCacheOptions {
  kv: KvService;
  logger: Logger;
  /** Recent changes kept for watchers that resume; older ones need their own store watch. */
  historyChangesMax?: number;
}

const HISTORY_CHANGES_MAX_DEFAULT = 2048;

export class WatchCache {
  readonly #kv: KvService;
  readonly #log: Logger;
  readonly #historyMax: number;
  readonly #history: ObjectChange[] = [];
  readonly #subscribers = new Set<Subscriber>();
  #handle: WatchHandle | null = null;
  /** Every change after this revision is in #history (or still to come). */
  #floor = 0;
  /** The newest revision the store has told us about. */
  #latest = 0;
  #stopped = false;

  constructor(options: WatchCacheOptions) {
    this.#kv = options.kv;
    this.#log = options.logger;
    this.#historyMax = options.historyChangesMax ?? HISTORY_CHANGES_MAX_DEFAULT;
  }

  get latestRevision(): number {
    return this.#latest;
  }

  /** Whether every change after `afterRevision` is known here (kept or still to come). */
  covers(afterRevision: number): boolean {
    return afterRevision >= this.#floor;
  }

  get subscriberCount(): number {
    return this.#subscribers.size;
  }

  start(): void {
    const key = Buffer.from(REGISTRY_PREFIX);
    this.#handle = this.#kv.watch(
      { key, rangeEnd: prefixEnd(key), startRevision: 0, prevKv: true, noPut: false, noDelete: false, progressNotify: false },
      {
        events: (header, events) => this.#onEvents(header.revision, events),
        canceled: (_header, reason) => this.#restart(reason),
      },
    );
    this.#floor = this.#handle.header.revision;
    this.#latest = this.#floor;
  }

  stop(): void {
    this.#stopped = true;
    this.#handle?.cancel();
    this.#handle = null;
    for (const s of [...this.#subscribers]) s.sink.ended(Status.unavailable('the API server is stopping; watch again through another member'));
    this.#subscribers.clear();
  }

  /**
   * Changes under `prefix` after `afterRevision`: first those already known, then live ones.
   * Returns null when `afterRevision` is older than the kept history: the caller then needs a
   * store watch of its own (see `watchStore`).
   */
  subscribe(prefix: string, afterRevision: number, sink: ChangeSink): Subscription | null {
    if (this.#stopped) throw Status.unavailable('the API server is stopping; watch again through another member');
    if (afterRevision < this.#floor) return null;
    const sub: Subscriber = { prefix, afterRevision, sink };
    const past = this.#history.filter((c) => c.revision > afterRevision && c.key.startsWith(prefix));
    if (past.length > 0) {
      sub.afterRevision = past[past.length - 1]!.revision;
      sink.changes(past, this.#latest);
    }
    this.#subscribers.add(sub);
    return { cancel: () => this.#subscribers.delete(sub) };
  }

  /** A store watch of one's own, from `afterRevision`; throws 410 Expired when that history is
   *  compacted. For watchers that resume from before the kept history. */
  watchStore(prefix: string, afterRevision: number, sink: ChangeSink): Subscription {
    const key = Buffer.from(prefix);
    const handle = this.#kv.watch(
      { key, rangeEnd: prefixEnd(key), startRevision: afterRevision + 1, prevKv: true, noPut: false, noDelete: false, progressNotify: false },
      {
        events: (header, events) => sink.changes(toChanges(events), header.revision),
        canceled: (_header, reason, compactRevision) => {
          sink.ended(
            compactRevision > 0
              ? Status.expired(`too old resource version: ${afterRevision} (${compactRevision - 1})`)
              : Status.expired(`the watch cannot continue: ${reason}; list again`),
          );
        },
      },
    );
    return { cancel: () => handle.cancel() };
  }

  #onEvents(revision: number, events: WatchEvent[]): void {
    const changes = toChanges(events);
    this.#latest = Math.max(this.#latest, revision);
    if (changes.length === 0) return;
    for (const c of changes) this.#history.push(c);
    this.#trim();
    for (const sub of this.#subscribers) {
      let mine: ObjectChange[] | null = null;
      for (const c of changes) {
        if (c.revision <= sub.afterRevision || !c.key.startsWith(sub.prefix)) continue;
        (mine ??= []).push(c);
      }
      if (mine) {
        sub.afterRevision = mine[mine.length - 1]!.revision;
        sub.sink.changes(mine, this.#latest);
      }
    }
    // The history keeps the stored bytes only: decoded copies of 2,048 changes (and the objects
    // they replaced) would stay in memory for nobody. A watcher resuming from it decodes again.
    for (const c of changes) c.release();
  }

  // Drops the oldest changes, whole revisions at a time, so "everything after #floor" stays true.
  #trim(): void {
    if (this.#history.length <= this.#historyMax) return;
    let cut = this.#history.length - this.#historyMax;
    const lastDropped = this.#history[cut - 1]!.revision;
    while (cut < this.#history.length && this.#history[cut]!.revision === lastDropped) cut++;
    this.#history.splice(0, cut);
    this.#floor = lastDropped;
  }

  // The store replaced its state (a snapshot was installed): what changed in between is unknown,
  // so every watcher is ended with 410 and lists again, and the cache starts over.
  #restart(reason: string): void {
    if (this.#stopped) return;
    this.#log.warn('watch cache restarted; API watchers must list again', { reason });
    this.#handle?.cancel();
    this.#history.length = 0;
    for (const s of [...this.#subscribers]) s.sink.ended(Status.expired(`the watch cannot continue (${reason}); list again`));
    this.#subscribers.clear();
    this.start();
  }
}
