// Leader-only upkeep of the object store: the namespaces every cluster has exist, deletions that
// a crash or a slow node agent left unfinished are finished (namespaces being emptied,
// dependents of deleted owners), and Events older than their time to live are removed (as
// Kubernetes' --event-ttl, 1 h: an SD card should not fill up with them). Level-triggered: each
// pass looks at what is, not at what happened.
import type { Logger } from '../log/index.ts';
import type { Deleter, ObjectApi } from '../api/resources/index.ts';
import { PROTECTED_NAMESPACES, StatusError } from '../api/resources/index.ts';
import type { KObject } from '../model/index.ts';
import { findResource } from '../model/index.ts';

export interface HousekeepingOptions {
  api: ObjectApi;
  deleter: Deleter;
  isLeader: () => boolean;
  logger: Logger;
  intervalMillis?: number;
  /** Events last seen longer ago than this are deleted (default 1 h). */
  eventTtlMillis?: number;
  now?: () => number;
}

export interface Housekeeping {
  /** One pass now (if leader); resolves when it is done. */
  runOnce(): Promise<void>;
  stop(): void;
}

const namespaces = findResource('', 'v1', 'namespaces')!;
const events = findResource('', 'v1', 'events')!;

export const EVENT_TTL_MILLIS_DEFAULT = 60 * 60_000;

/** When an Event was last seen: lastTimestamp, eventTime, or its creation. */
export function eventLastSeen(event: KObject): number {
  for (const field of [event['lastTimestamp'], event['eventTime'], event.metadata.creationTimestamp]) {
    if (typeof field === 'string') {
      const at = Date.parse(field);
      if (!Number.isNaN(at)) return at;
    }
  }
  return Number.NaN;
}

export function startHousekeeping(o: HousekeepingOptions): Housekeeping {
  let stopped = false;
  let running: Promise<void> | null = null;
  let namespacesMade = false;
  const pass = async (): Promise<void> => {
    if (stopped || !o.isLeader()) return;
    if (!namespacesMade) {
      for (const name of PROTECTED_NAMESPACES) {
        try {
          await o.api.create(namespaces, undefined, { apiVersion: 'v1', kind: 'Namespace', metadata: { name } }, { dryRun: false });
          o.logger.info('namespace created', { namespace: name });
        } catch (error) {
          if (!(error instanceof StatusError && error.reason === 'AlreadyExists')) throw error;
        }
      }
      namespacesMade = true;
    }
    await o.deleter.sweep();
    await expireEvents();
  };
  const expireEvents = async (): Promise<void> => {
    const cutoff = (o.now ?? Date.now)() - (o.eventTtlMillis ?? EVENT_TTL_MILLIS_DEFAULT);
    const list = await o.api.store.list(events, undefined, { serializable: false });
    let removed = 0;
    for (const event of list.items) {
      if (!(eventLastSeen(event) < cutoff)) continue;
      try {
        await o.deleter.delete(events, event.metadata.namespace, event.metadata.name!, { dryRun: false });
        removed++;
      } catch (error) {
        if (!(error instanceof StatusError && error.code === 404)) throw error;
      }
    }
    if (removed > 0) o.logger.info('expired events deleted', { count: removed });
  };
  const runOnce = (): Promise<void> => {
    running ??= pass()
      .catch((error: unknown) => o.logger.warn('housekeeping pass failed; retrying later', { error: String(error) }))
      .finally(() => (running = null));
    return running;
  };
  // A member that becomes leader makes a pass at once, then one every interval while it leads.
  const interval = o.intervalMillis ?? 60_000;
  let lastPass = -Infinity;
  let wasLeader = false;
  const check = setInterval(() => {
    const leader = o.isLeader();
    if (leader && (!wasLeader || Date.now() - lastPass >= interval)) {
      lastPass = Date.now();
      void runOnce();
    }
    if (!leader) namespacesMade = false;
    wasLeader = leader;
  }, 1000);
  check.unref();
  return {
    runOnce,
    stop: () => {
      stopped = true;
      clearInterval(check);
    },
  };
}
