// A watch answered as Kubernetes does: HTTP 200 and then one JSON event a line, ADDED / MODIFIED /
// DELETED in revision order (selectors turn an object that starts or stops matching into ADDED or
// DELETED), BOOKMARKs when asked for, and an ERROR event when the watch cannot go on. A
// resourceVersion older than the store's history is a 410 Gone Status before the stream starts.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from '../../log/index.ts';
import type { KObject, ResourceInfo } from '../../model/index.ts';
import { groupVersion } from '../../model/index.ts';
import { listPrefix } from './object-store.ts';
import type { ObjectApi, Selectors } from './objects.ts';
import { matchesSelectors } from './objects.ts';
import type { Query } from './request.ts';
import { Status, StatusError } from './status.ts';
import type { ChangeSink, ObjectChange, Subscription, WatchCache } from './watch-cache.ts';
import { UndecodableChange } from './watch-cache.ts';

/** A watcher whose connection takes no more than this much unsent data is cut (it lists again). */
export const WATCH_BUFFER_BYTES_MAX = 16 * 1024 * 1024;
const WATCH_TIMEOUT_SECONDS_DEFAULT = 1800;
const BOOKMARK_INTERVAL_MILLIS = 10_000;

export interface WatchRequestContext {
  cache: WatchCache;
  api: ObjectApi;
  info: ResourceInfo;
  namespace: string | undefined;
  selectors: Selectors;
  resourceVersion: { kind: 'none' } | { kind: 'any' } | { kind: 'at'; revision: number };
  query: Query;
  logger: Logger;
}

function line(type: string, objectJson: string): string {
  return `{"type":"${type}","object":${objectJson}}\n`;
}

/** The event line for one change as this watcher sees it, or null when it does not concern it
 *  (or its stored value is not an object: written around the resource API, skipped). */
export function eventLine(change: ObjectChange, selectors: Selectors, filtered: boolean): string | null {
  try {
    return eventLineOf(change, selectors, filtered);
  } catch (error) {
    if (error instanceof UndecodableChange) return null;
    throw error;
  }
}

function eventLineOf(change: ObjectChange, selectors: Selectors, filtered: boolean): string | null {
  if (!filtered) {
    if (change.deleted) return line('DELETED', change.json());
    return line(change.created ? 'ADDED' : 'MODIFIED', change.json());
  }
  const oldMatch = change.prev !== null && matchesSelectors(change.prev, selectors);
  if (change.deleted) return oldMatch ? line('DELETED', change.json()) : null;
  const newMatch = matchesSelectors(change.object, selectors);
  if (newMatch) return line(oldMatch ? 'MODIFIED' : 'ADDED', change.json());
  return oldMatch ? line('DELETED', change.json()) : null;
}

export async function streamWatch(req: IncomingMessage, res: ServerResponse, ctx: WatchRequestContext): Promise<void> {
  const { cache, api, info, namespace, selectors, query } = ctx;
  const filtered = selectors.labels !== undefined || selectors.fields !== undefined;
  const timeoutSeconds = query.int('timeoutSeconds', 24 * 3600) ?? WATCH_TIMEOUT_SECONDS_DEFAULT;
  const bookmarks = query.bool('allowWatchBookmarks');
  const prefix = listPrefix(info, namespace);

  let initial: KObject[] = [];
  let after: number;
  if (ctx.resourceVersion.kind === 'at') {
    after = ctx.resourceVersion.revision;
    // History the store has compacted is gone even if the watch cache still holds some of it.
    if ((await api.store.historyFrom(after + 1)) === 'compacted') {
      throw Status.expired(`too old resource version: ${after}; list again and watch from the list's resourceVersion`);
    }
  } else {
    // No resourceVersion: the current state first, as ADDED events, then the changes after it.
    const list = await api.list(info, namespace, { serializable: ctx.resourceVersion.kind === 'any', ...selectors });
    initial = list['items'] as KObject[];
    after = Number((list.metadata as { resourceVersion: string }).resourceVersion);
  }

  res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-cache, private', 'transfer-encoding': 'chunked' });
  res.flushHeaders();
  let closed = false;
  let delivered = after;
  let subscription: Subscription | null = null;
  const timers: NodeJS.Timeout[] = [];
  const close = (): void => {
    if (closed) return;
    closed = true;
    subscription?.cancel();
    for (const t of timers) clearTimeout(t);
    if (!res.writableEnded) res.end();
  };
  const write = (text: string): void => {
    if (closed) return;
    res.write(text);
    if (res.writableLength > WATCH_BUFFER_BYTES_MAX) {
      ctx.logger.warn('a watcher is too slow to keep up; its watch is ended', { resource: info.resource, namespace });
      close();
    }
  };
  req.on('close', close);
  res.on('close', close);

  for (const object of initial) write(line('ADDED', JSON.stringify(object)));
  const sink: ChangeSink = {
    changes(changes) {
      let text = '';
      for (const c of changes) {
        if (c.revision <= delivered) continue;
        const l = eventLine(c, selectors, filtered);
        if (l !== null) text += l;
      }
      if (changes.length > 0) delivered = Math.max(delivered, changes[changes.length - 1]!.revision);
      if (text !== '') write(text);
    },
    ended(error: StatusError) {
      write(line('ERROR', JSON.stringify(error.toStatus())));
      close();
    },
  };
  try {
    subscription = cache.subscribe(prefix, after, sink) ?? cache.watchStore(prefix, after, sink);
  } catch (error) {
    sink.ended(error instanceof StatusError ? error : Status.internal(String(error)));
    return;
  }
  if (closed) subscription.cancel();
  timers.push(setTimeout(close, timeoutSeconds * 1000).unref());
  if (bookmarks) {
    const kind = info.kind;
    const apiVersion = groupVersion(info);
    const tick = (): void => {
      if (closed) return;
      const revision = Math.max(delivered, cache.latestRevision);
      write(line('BOOKMARK', JSON.stringify({ kind, apiVersion, metadata: { resourceVersion: String(revision) } })));
      timers.push(setTimeout(tick, BOOKMARK_INTERVAL_MILLIS).unref());
    };
    timers.push(setTimeout(tick, BOOKMARK_INTERVAL_MILLIS).unref());
  }
}
