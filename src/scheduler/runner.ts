// The scheduler's loop, on the Raft leader only: each pass reads the pods and nodes from the
// shared informers (never the store), places every pending pod with the pure core, and binds
// the chosen ones through the binding subresource, many at once. A pod chosen but not yet seen
// bound by the informer stays "assumed" on its node (as kube-scheduler's cache), so a burst of
// pods spreads by its own choices. A bind is a compare-and-swap on the pod's resourceVersion:
// a 409 means someone else changed the pod, which is read again, never bound twice.
import type { ObjectApi } from '../api/resources/index.ts';
import { StatusError } from '../api/resources/index.ts';
import { podCondition } from '../api/resources/binding.ts';
import { EventRecorder } from '../agent/events.ts';
import type { PodRef } from '../agent/events.ts';
import { systemClock } from '../agent/ports.ts';
import type { Informer } from '../controllers/informer.ts';
import type { Logger } from '../log/index.ts';
import type { KObject } from '../model/index.ts';
import { findResource, timestamp } from '../model/index.ts';
import type { PodFacts } from './facts.ts';
import { podFacts } from './facts.ts';
import { schedulePod } from './schedule.ts';
import { ClusterSnapshot } from './snapshot.ts';

const podsInfo = findResource('', 'v1', 'pods')!;

export const SCHEDULER_NAME = 'default-scheduler';

export type SchedulerApi = Pick<ObjectApi, 'bind' | 'update' | 'create'>;

export interface SchedulerEvents {
  record(ref: PodRef, type: 'Normal' | 'Warning', reason: string, message: string): void;
}

export interface SchedulerOptions {
  api: SchedulerApi;
  /** Informers shared with the controllers; their onChange should call `kick()`. */
  pods: Pick<Informer, 'list' | 'relist'>;
  nodes: Pick<Informer, 'list' | 'relist'>;
  isLeader: () => boolean;
  logger: Logger;
  /** Where Scheduled and FailedScheduling events go (default: an EventRecorder over `api`). */
  events?: SchedulerEvents;
  /** This member's name, as the events' reporting instance. */
  nodeName?: string;
  now?: () => number;
  /** Binds in flight at most (default 16). */
  bindsInFlightMax?: number;
  /** Back-off of an unschedulable pod: doubles from the initial value up to the maximum. */
  backoffInitialMillis?: number;
  backoffMaxMillis?: number;
  /** How often leadership and back-offs are checked without a change to look at (default 1 s). */
  checkIntervalMillis?: number;
  /** The same FailedScheduling message for a pod is recorded again after this long (default 5 min). */
  repeatEventMillis?: number;
}

export interface SchedulerStats {
  bound: number;
  unschedulable: number;
  conflicts: number;
  errors: number;
}

export interface Scheduler {
  /** Something changed (wire the informers' onChange here): a pass runs soon. */
  kick(): void;
  /** Resolves when nothing is left to do for now: no pass due, no bind or status write in flight. */
  idle(): Promise<void>;
  stop(): void;
  readonly stats: Readonly<SchedulerStats>;
}

interface Assumed {
  nodeName: string;
  inFlight: boolean;
}

interface Waiting {
  attempts: number;
  retryAt: number;
  /** The cluster epoch of the last attempt: a node change or a freed pod retries at once. */
  epoch: number;
  message?: string;
  eventAt?: number;
}

interface BindWork {
  pod: KObject;
  facts: PodFacts;
  nodeName: string;
}

function schedulerNameOf(pod: KObject): string {
  const spec = pod['spec'] as { schedulerName?: unknown } | undefined;
  return typeof spec?.schedulerName === 'string' ? spec.schedulerName : '';
}

function podScheduledCondition(pod: KObject): { status?: unknown; message?: unknown } | undefined {
  const conditions = (pod['status'] as { conditions?: unknown } | undefined)?.conditions;
  if (!Array.isArray(conditions)) return undefined;
  return conditions.find((c) => c && typeof c === 'object' && (c as { type?: unknown }).type === 'PodScheduled') as { status?: unknown; message?: unknown } | undefined;
}

function refOf(pod: KObject): PodRef {
  return { namespace: pod.metadata.namespace ?? '', name: pod.metadata.name ?? '', uid: pod.metadata.uid ?? '' };
}

export function startScheduler(o: SchedulerOptions): Scheduler {
  const log = o.logger.child({ component: 'scheduler' });
  const now = o.now ?? Date.now;
  const bindsMax = o.bindsInFlightMax ?? 16;
  const backoffInitial = o.backoffInitialMillis ?? 1000;
  const backoffMax = o.backoffMaxMillis ?? 10_000;
  const repeatEvent = o.repeatEventMillis ?? 5 * 60_000;
  const events: SchedulerEvents =
    o.events ??
    new EventRecorder({
      api: { create: (info, namespace, object) => o.api.create(info, namespace, object, { dryRun: false }) },
      clock: systemClock,
      nodeName: o.nodeName ?? '',
      component: SCHEDULER_NAME,
      logger: log,
    });

  const stats: SchedulerStats = { bound: 0, unschedulable: 0, conflicts: 0, errors: 0 };
  let stopped = false;
  let leading = false;
  let becoming: Promise<void> | null = null;
  let passTimer: NodeJS.Timeout | null = null;
  const assumed = new Map<string, Assumed>();
  const waiting = new Map<string, Waiting>();
  /** Pods whose bind met a 409, with the resourceVersion tried: retried once it changes. */
  const conflicts = new Map<string, string>();
  const factsCache = new Map<string, { resourceVersion: string; facts: PodFacts }>();
  const queue: BindWork[] = [];
  let inFlight = 0;
  const statusWrites = new Set<string>();
  let epoch = 0;
  let nodeFingerprint = '';
  let boundBefore = new Set<string>();

  const kick = (): void => {
    if (stopped || passTimer) return;
    passTimer = setTimeout(pass, 2);
    passTimer.unref();
  };

  const factsOf = (pod: KObject): PodFacts => {
    const uid = pod.metadata.uid ?? '';
    const rv = pod.metadata.resourceVersion ?? '';
    const cached = factsCache.get(uid);
    if (cached && cached.resourceVersion === rv) return cached.facts;
    const facts = podFacts(pod);
    factsCache.set(uid, { resourceVersion: rv, facts });
    return facts;
  };

  const resign = (): void => {
    leading = false;
    for (const work of queue.splice(0)) assumed.delete(work.facts.uid);
    waiting.clear();
    conflicts.clear();
    log.info('scheduler stopped: this member no longer leads');
  };

  // A new leader reads through the leader first (linearizable): its replica may not have
  // applied the binds its predecessor made, and those pods must not be bound again.
  const lead = (): void => {
    if (becoming) return;
    becoming = Promise.all([o.pods.relist({ linearizable: true }), o.nodes.relist({ linearizable: true })])
      .then(() => {
        if (stopped || !o.isLeader()) return;
        leading = true;
        epoch++;
        log.info('scheduler started: this member leads');
      })
      .catch((error: unknown) => log.warn('scheduler could not read pods and nodes; retrying', { error: String(error) }))
      .finally(() => {
        becoming = null;
        kick();
      });
  };

  function pass(): void {
    passTimer = null;
    if (stopped) return;
    if (!o.isLeader()) {
      if (leading) resign();
      return;
    }
    if (!leading) {
      lead();
      return;
    }
    const at = now();
    const nodes = o.nodes.list();
    const fingerprint = nodes
      .map((n) => `${n.metadata.name}@${n.metadata.resourceVersion}`)
      .sort()
      .join(',');
    if (fingerprint !== nodeFingerprint) {
      nodeFingerprint = fingerprint;
      epoch++;
    }
    const snapshot = new ClusterSnapshot();
    for (const node of nodes) snapshot.addNode(node);
    const pending: { pod: KObject; facts: PodFacts }[] = [];
    const seen = new Set<string>();
    const bound = new Set<string>();
    for (const pod of o.pods.list()) {
      const facts = factsOf(pod);
      seen.add(facts.uid);
      if (facts.nodeName !== '') {
        snapshot.addPod(facts, facts.nodeName);
        if (!facts.terminal) bound.add(facts.uid);
        if (assumed.get(facts.uid)?.inFlight === false) assumed.delete(facts.uid);
        waiting.delete(facts.uid);
        conflicts.delete(facts.uid);
        continue;
      }
      const mine = assumed.get(facts.uid);
      if (mine) {
        snapshot.addPod(facts, mine.nodeName);
        continue;
      }
      if (facts.terminating || facts.terminal) continue;
      const scheduler = schedulerNameOf(pod);
      if (scheduler !== '' && scheduler !== SCHEDULER_NAME) continue;
      pending.push({ pod, facts });
    }
    // A pod that left a node frees room: every waiting pod tries again.
    for (const uid of boundBefore) {
      if (!bound.has(uid)) {
        epoch++;
        break;
      }
    }
    boundBefore = bound;
    for (const [uid, a] of assumed) if (!seen.has(uid) && !a.inFlight) assumed.delete(uid);
    for (const map of [waiting, conflicts, factsCache] as Map<string, unknown>[]) for (const uid of map.keys()) if (!seen.has(uid)) map.delete(uid);

    pending.sort((a, b) => (a.facts.creationTimestamp < b.facts.creationTimestamp ? -1 : a.facts.creationTimestamp > b.facts.creationTimestamp ? 1 : a.facts.key < b.facts.key ? -1 : 1));
    for (const { pod, facts } of pending) {
      const wait = waiting.get(facts.uid);
      if (wait && at < wait.retryAt && wait.epoch === epoch) continue;
      const tried = conflicts.get(facts.uid);
      if (tried !== undefined) {
        if (tried === pod.metadata.resourceVersion) continue;
        conflicts.delete(facts.uid);
      }
      const decision = schedulePod(facts, snapshot);
      if (decision.nodeName !== null) {
        snapshot.addPod(facts, decision.nodeName);
        assumed.set(facts.uid, { nodeName: decision.nodeName, inFlight: true });
        queue.push({ pod, facts, nodeName: decision.nodeName });
      } else {
        unschedulable(pod, facts, decision.message, at);
      }
    }
    pump();
  }

  function backoff(facts: PodFacts, at: number, message?: string): Waiting {
    const previous = waiting.get(facts.uid);
    const attempts = (previous?.attempts ?? 0) + 1;
    const wait: Waiting = {
      attempts,
      retryAt: at + Math.min(backoffMax, backoffInitial * 2 ** Math.min(attempts - 1, 20)),
      epoch,
      ...(previous?.message !== undefined ? { message: previous.message } : {}),
      ...(previous?.eventAt !== undefined ? { eventAt: previous.eventAt } : {}),
    };
    if (message !== undefined) wait.message = message;
    waiting.set(facts.uid, wait);
    return wait;
  }

  function unschedulable(pod: KObject, facts: PodFacts, message: string, at: number): void {
    const before = waiting.get(facts.uid);
    const wait = backoff(facts, at, message);
    const changed = before?.message !== message;
    if (changed) {
      stats.unschedulable++;
      log.info('pod unschedulable', { pod: facts.key, message });
    }
    if (changed || wait.eventAt === undefined || at - wait.eventAt >= repeatEvent) {
      wait.eventAt = at;
      events.record(refOf(pod), 'Warning', 'FailedScheduling', message);
    }
    const condition = podScheduledCondition(pod);
    if (condition?.status === 'False' && condition.message === message) return;
    if (statusWrites.has(facts.uid)) return;
    statusWrites.add(facts.uid);
    const ns = facts.namespace;
    o.api
      .update(
        podsInfo,
        ns,
        facts.name,
        (current) => {
          const spec = current['spec'] as { nodeName?: string } | undefined;
          // Bound or replaced meanwhile: nothing to say about this pod any more.
          if (current.metadata.uid !== facts.uid || spec?.nodeName) return current;
          const status = (current['status'] ?? {}) as Record<string, unknown>;
          const stamp = timestamp(now());
          return { ...current, status: { ...status, conditions: podCondition(status['conditions'], { type: 'PodScheduled', status: 'False', reason: 'Unschedulable', message }, stamp) } };
        },
        { dryRun: false },
      )
      .catch((error: unknown) => {
        if (!(error instanceof StatusError && error.code === 404)) log.debug('PodScheduled condition not written', { pod: facts.key, error: String(error) });
      })
      .finally(() => statusWrites.delete(facts.uid));
  }

  function pump(): void {
    while (inFlight < bindsMax && queue.length > 0) {
      const work = queue.shift()!;
      if (stopped || !leading) {
        assumed.delete(work.facts.uid);
        continue;
      }
      inFlight++;
      void bind(work).finally(() => {
        inFlight--;
        pump();
      });
    }
  }

  async function bind(work: BindWork): Promise<void> {
    const { pod, facts, nodeName } = work;
    try {
      await o.api.bind(facts.namespace, facts.name, nodeName, { resourceVersion: pod.metadata.resourceVersion, uid: facts.uid, dryRun: false });
      const a = assumed.get(facts.uid);
      if (a) a.inFlight = false;
      waiting.delete(facts.uid);
      stats.bound++;
      log.debug('pod bound', { pod: facts.key, node: nodeName });
      events.record(refOf(pod), 'Normal', 'Scheduled', `Successfully assigned ${facts.key} to ${nodeName}`);
    } catch (error) {
      assumed.delete(facts.uid);
      if (error instanceof StatusError && error.code === 409) {
        // Someone else changed (or bound, or is deleting) the pod: decide again from what the
        // informer shows next, never with the resourceVersion that just failed.
        stats.conflicts++;
        conflicts.set(facts.uid, pod.metadata.resourceVersion ?? '');
        log.debug('bind conflict; the pod is read again', { pod: facts.key, error: error.message });
      } else if (!(error instanceof StatusError && error.code === 404)) {
        stats.errors++;
        backoff(facts, now());
        log.warn('bind failed; retrying with back-off', { pod: facts.key, node: nodeName, error: String(error) });
      }
      kick();
    }
  }

  const check = setInterval(kick, o.checkIntervalMillis ?? 1000);
  check.unref();
  kick();

  const isIdle = (): boolean => passTimer === null && becoming === null && inFlight === 0 && queue.length === 0 && statusWrites.size === 0;
  return {
    kick,
    stats,
    async idle() {
      while (!isIdle()) await new Promise((r) => setTimeout(r, 5));
      if (events instanceof EventRecorder) await events.flush();
    },
    stop() {
      stopped = true;
      clearInterval(check);
      if (passTimer) clearTimeout(passTimer);
      passTimer = null;
    },
  };
}
