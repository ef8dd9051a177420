// An in-memory copy of one resource's objects, kept current from the resource API's watch cache
// (client-go's informer): controllers and the scheduler read it instead of listing the store on
// every pass, and are told which object changed. A watch that ends (history replaced by a
// snapshot) is answered by a fresh list, so the copy converges whatever was missed.
import type { Logger } from '../log/index.ts';
import type { KObject, ResourceInfo } from '../model/index.ts';
import type { ObjectStore, Subscription, WatchCache } from '../api/resources/index.ts';
import { UndecodableChange } from '../api/resources/index.ts';

export type InformerEvent = 'added' | 'modified' | 'deleted' | 'resync';

export interface InformerOptions {
  info: ResourceInfo;
  store: ObjectStore;
  cache: WatchCache;
  logger: Logger;
  /** Called for every object that changed (after the copy is updated); `resync` after a list. */
  onChange?: (object: KObject, event: InformerEvent) => void;
  /** A list read from this member's replica rather than through the leader (default: linearizable). */
  serializable?: boolean;
}

/** `namespace/name`, or `name` for cluster-scoped objects. */
export function objectKeyOf(object: KObject): string {
  const { namespace, name } = object.metadata;
  return namespace ? `${namespace}/${name}` : String(name);
}

export class Informer {
  readonly info: ResourceInfo;
  readonly #o: InformerOptions;
  readonly #objects = new Map<string, KObject>();
  readonly #prefix: string;
  #sub: Subscription | null = null;
  #stopped = false;
  #timer: NodeJS.Timeout | null = null;
  #synced = false;
  #waiters: (() => void)[] = [];
  readonly #listeners = new Set<(object: KObject, event: InformerEvent) => void>();
  /** While a list is in flight: keys the watch deleted, with the deletion's revision (a list
   *  older than the deletion must not bring the object back). */
  #deletedDuringList: Map<string, number> | null = null;

  constructor(options: InformerOptions) {
    this.#o = options;
    this.info = options.info;
    this.#prefix = `/registry/${options.info.resource}/`;
  }

  /** Adds a listener (besides the constructor's onChange), told of every change; returns its
   *  removal. Several readers share one informer this way. */
  addListener(listener: (object: KObject, event: InformerEvent) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  #notify(object: KObject, event: InformerEvent): void {
    this.#o.onChange?.(object, event);
    for (const l of this.#listeners) {
      try {
        l(object, event);
      } catch (error) {
        this.#o.logger.warn('an informer listener failed', { resource: this.info.resource, error: String(error) });
      }
    }
  }

  /** Whether the first list has been read. */
  get synced(): boolean {
    return this.#synced;
  }

  /** Resolves once the first list has been read. */
  whenSynced(): Promise<void> {
    if (this.#synced) return Promise.resolve();
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  start(): void {
    this.#subscribe();
  }

  stop(): void {
    this.#stopped = true;
    this.#sub?.cancel();
    this.#sub = null;
    if (this.#timer) clearTimeout(this.#timer);
  }

  get(namespace: string | undefined, name: string): KObject | undefined {
    return this.#objects.get(namespace ? `${namespace}/${name}` : name);
  }

  /** Every object (of one namespace when given). The objects are shared: never modify them. */
  list(namespace?: string): KObject[] {
    const out: KObject[] = [];
    for (const object of this.#objects.values()) if (namespace === undefined || object.metadata.namespace === namespace) out.push(object);
    return out;
  }

  get size(): number {
    return this.#objects.size;
  }

  /** Lists again now. A controller that starts leading asks for `linearizable`: a new leader may
   *  not have applied everything committed before its election yet. */
  async relist(options: { linearizable?: boolean } = {}): Promise<void> {
    const serializable = options.linearizable ? false : (this.#o.serializable ?? false);
    const deleted = (this.#deletedDuringList ??= new Map());
    let page;
    try {
      page = await this.#o.store.list(this.info, undefined, { serializable });
    } finally {
      this.#deletedDuringList = null;
    }
    const seen = new Set<string>();
    for (const object of page.items) {
      const key = objectKeyOf(object);
      seen.add(key);
      if ((deleted.get(key) ?? 0) > page.revision) continue;
      const old = this.#objects.get(key);
      // A watch change may have brought something newer than the list's snapshot.
      if (old && Number(old.metadata.resourceVersion) > Number(object.metadata.resourceVersion)) continue;
      this.#objects.set(key, object);
    }
    for (const [key, object] of [...this.#objects]) {
      if (!seen.has(key) && Number(object.metadata.resourceVersion) <= page.revision) this.#objects.delete(key);
    }
    if (!this.#synced) {
      this.#synced = true;
      for (const w of this.#waiters.splice(0)) w();
    }
    for (const object of this.#objects.values()) this.#notify(object, 'resync');
  }

  // Watch first (from the cache's newest revision), then list: a change in between is seen
  // twice, which level-triggered consumers do not mind.
  #subscribe(): void {
    if (this.#stopped) return;
    const sub = this.#o.cache.subscribe(this.#prefix, this.#o.cache.latestRevision, {
      changes: (changes) => {
        for (const c of changes) {
          let object: KObject;
          try {
            object = c.object;
          } catch (error) {
            if (error instanceof UndecodableChange) continue;
            throw error;
          }
          const key = objectKeyOf(object);
          if (c.deleted) {
            this.#objects.delete(key);
            this.#deletedDuringList?.set(key, c.revision);
            this.#notify(object, 'deleted');
          } else {
            this.#objects.set(key, object);
            this.#notify(object, c.created ? 'added' : 'modified');
          }
        }
      },
      ended: (reason) => {
        this.#o.logger.info('informer watch ended; listing again', { resource: this.info.resource, reason: reason.message });
        this.#sub = null;
        this.#later(() => this.#subscribe(), 500);
      },
    });
    if (!sub) {
      this.#later(() => this.#subscribe(), 500);
      return;
    }
    this.#sub = sub;
    this.relist().catch((error: unknown) => {
      this.#o.logger.warn('informer list failed; retrying', { resource: this.info.resource, error: String(error) });
      sub.cancel();
      this.#sub = null;
      this.#later(() => this.#subscribe(), 1000);
    });
  }

  #later(fn: () => void, ms: number): void {
    if (this.#stopped) return;
    this.#timer = setTimeout(fn, ms);
    this.#timer.unref();
  }
}
