// Leader-only upkeep of the object store: the namespaces every cluster has exist, and deletions
// that a crash or a slow node agent left unfinished are finished (namespaces being emptied,
// dependents of deleted owners). Level-triggered: each pass looks at what is, not at events.
import type { Logger } from '../log/index.ts';
import type { Deleter, ObjectApi } from '../api/resources/index.ts';
import { PROTECTED_NAMESPACES, StatusError } from '../api/resources/index.ts';
import { findResource } from '../model/index.ts';

export interface HousekeepingOptions {
  api: ObjectApi;
  deleter: Deleter;
  isLeader: () => boolean;
  logger: Logger;
  intervalMillis?: number;
}

export interface Housekeeping {
  /** One pass now (if leader); resolves when it is done. */
  runOnce(): Promise<void>;
  stop(): void;
}

const namespaces = findResource('', 'v1', 'namespaces')!;

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
