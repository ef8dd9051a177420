// Fans the store's changes out to watchers: one hub per member, fed once per applied Ready, so
// a hundred watchers cost one pass over each batch of events, not a hundred store watches.
import type { KvStateMachine } from './kv/mvcc.ts';
import type { ResponseHeader, WatchHandle, WatchSink } from './kv/service.ts';
import type { KeyRange, WatchEvent, WatchRequest } from './kv/types.ts';
import { GrpcCode, KvError } from './kv/types.ts';

interface Watcher {
  range: KeyRange;
  all: boolean;
  req: WatchRequest;
  sink: WatchSink;
  /** Events below this revision were already delivered (or predate the watch). */
  nextRevision: number;
}

function inRange(key: Buffer, w: Watcher): boolean {
  const { range } = w;
  if (range.rangeEnd.length === 0) return key.equals(range.key);
  if (Buffer.compare(key, range.key) < 0) return false;
  return w.all || Buffer.compare(key, range.rangeEnd) < 0;
}

export class WatchHub {
  private readonly watchers = new Set<Watcher>();

  constructor(
    private readonly kv: () => KvStateMachine,
    private readonly header: (revision: number) => ResponseHeader,
    /** Watchers at most; beyond, new ones are refused (each holds a client connection). */
    private readonly watchersMax = 10_000,
  ) {}

  get size(): number {
    return this.watchers.size;
  }

  /** Some watcher asked for previous values: the store then reads them for every change. */
  wantsPrevKv(): boolean {
    for (const w of this.watchers) if (w.req.prevKv) return true;
    return false;
  }

  /** Starts a watch: first the history from startRevision (throws KvError if compacted),
   *  then every change as it is applied. */
  watch(req: WatchRequest, sink: WatchSink): WatchHandle {
    if (this.watchers.size >= this.watchersMax) throw new KvError(GrpcCode.ResourceExhausted, `etcdserver: too many watchers on this member (${this.watchersMax}); close some or watch through another member`);
    const kv = this.kv();
    const current = kv.revision();
    const w: Watcher = {
      range: { key: req.key, rangeEnd: req.rangeEnd },
      all: req.rangeEnd.length === 1 && req.rangeEnd[0] === 0,
      req,
      sink,
      nextRevision: req.startRevision > 0 ? req.startRevision : current + 1,
    };
    const header = this.header(current);
    // History and registration happen in one turn of the event loop: no change can fall between.
    if (req.startRevision > 0 && req.startRevision < kv.compactRevision()) {
      // As etcd: the watch is created, then canceled, telling the client where history begins.
      setImmediate(() => sink.canceled(header, 'etcdserver: mvcc: required revision has been compacted', kv.compactRevision()));
      return { header, cancel: () => undefined };
    }
    if (req.startRevision > 0 && req.startRevision <= current) {
      const past = this.filter(w, kv.eventsBetween(w.range, req.startRevision, current, req.prevKv));
      w.nextRevision = current + 1;
      if (past.length > 0) sink.events(header, past);
    }
    this.watchers.add(w);
    return { header, cancel: () => this.watchers.delete(w) };
  }

  private filter(w: Watcher, events: WatchEvent[]): WatchEvent[] {
    const out: WatchEvent[] = [];
    for (const e of events) {
      if (e.kv.modRevision < w.nextRevision) continue;
      if (e.type === 'PUT' ? w.req.noPut : w.req.noDelete) continue;
      if (!inRange(e.kv.key, w)) continue;
      out.push(w.req.prevKv || e.prevKv === null ? e : { ...e, prevKv: null });
    }
    return out;
  }

  /** Changes applied by one Ready (revision order). */
  notify(events: WatchEvent[], revision: number): void {
    if (this.watchers.size === 0) return;
    const header = this.header(revision);
    for (const w of this.watchers) {
      const mine = this.filter(w, events);
      w.nextRevision = Math.max(w.nextRevision, revision + 1);
      if (mine.length > 0) w.sink.events(header, mine);
    }
  }

  /** The state jumped (a snapshot replaced it): watchers cannot be told what they missed. */
  cancelAll(reason: string, revision: number): void {
    const header = this.header(revision);
    for (const w of [...this.watchers]) {
      this.watchers.delete(w);
      w.sink.canceled(header, reason, 0);
    }
  }
}
