// The node lifecycle controller (Kubernetes' node-lifecycle-controller), on the Raft leader only.
// From the heartbeats in the leader's memory it writes the transitions of each Node's Ready
// condition, and nothing in between:
// - no heartbeat for --node-grace: Ready becomes Unknown (NodeStatusUnknown, "Kubelet stopped
//   posting node status.") and the node gets the node.kubernetes.io/unreachable taints
//   (NoSchedule, NoExecute);
// - a heartbeat again: Ready becomes True and those taints go.
// A member that starts leading has heard nobody yet, so it gives every node a fresh grace period
// from then: an election never marks healthy nodes NotReady.
// Pods of a node NotReady for longer than --eviction-timeout (and still silent) are evicted:
// pods with a controller are deleted gracefully (they keep a deletionTimestamp until their
// gateway confirms, so their controller replaces them elsewhere); bare pods are marked Failed
// with reason NodeLost; DaemonSet pods stay (they tolerate unreachable nodes).
import type { Deleter, ObjectApi } from '../api/resources/index.ts';
import { StatusError } from '../api/resources/index.ts';
import { EventRecorder } from '../agent/events.ts';
import type { Clock, TimerHandle } from '../agent/ports.ts';
import { systemClock } from '../agent/ports.ts';
import type { Logger } from '../log/index.ts';
import type { KObject } from '../model/index.ts';
import { findResource, timestamp } from '../model/index.ts';
import type { Informer } from './informer.ts';

const nodesInfo = findResource('', 'v1', 'nodes')!;
const podsInfo = findResource('', 'v1', 'pods')!;

export const UNREACHABLE_TAINT = 'node.kubernetes.io/unreachable';
export const NODE_STATUS_UNKNOWN_MESSAGE = 'Kubelet stopped posting node status.';
/** Evictions started per pass at most: a whole node's pods go over a few passes, not at once. */
const EVICTIONS_PER_PASS_MAX = 32;

export interface NodeLifecycleOptions {
  api: ObjectApi;
  deleter: Deleter;
  nodes: Informer;
  pods: Informer;
  /** The leader's heartbeat table (only `get` is used): receivedAt on `clock`'s time. */
  heartbeats: { get(node: string): { receivedAt: number } | undefined };
  isLeader: () => boolean;
  logger: Logger;
  graceMillis: number;
  evictionMillis: number;
  clock?: Clock;
  /** The member this runs on, as the source host of its Events. */
  selfNode?: string;
  /** Default: one with component node-controller writing through `api`. */
  events?: EventRecorder;
  /** How often nodes are checked (default: a quarter of the grace, at most 1 s). */
  periodMillis?: number;
}

export interface NodeLifecycle {
  /** One pass now (the timer's passes call this too). */
  runOnce(): Promise<void>;
  stop(): void;
  readonly events: EventRecorder;
}

interface Condition {
  type: string;
  status: string;
  reason?: string;
  message?: string;
  lastHeartbeatTime?: string;
  lastTransitionTime?: string;
}

interface Taint {
  key: string;
  value?: string;
  effect: string;
  timeAdded?: string;
}

function conditionsOf(node: KObject): Condition[] {
  const conditions = (node['status'] as { conditions?: unknown } | undefined)?.conditions;
  return Array.isArray(conditions) ? (conditions as Condition[]) : [];
}

export function readyCondition(node: KObject): Condition | undefined {
  return conditionsOf(node).find((c) => c.type === 'Ready');
}

function taintsOf(node: KObject): Taint[] {
  const taints = (node['spec'] as { taints?: unknown } | undefined)?.taints;
  return Array.isArray(taints) ? (taints as Taint[]) : [];
}

function hasUnreachableTaints(node: KObject): boolean {
  const taints = taintsOf(node).filter((t) => t.key === UNREACHABLE_TAINT);
  return taints.some((t) => t.effect === 'NoSchedule') && taints.some((t) => t.effect === 'NoExecute');
}

function withReady(node: KObject, ready: Condition, taints: Taint[]): KObject {
  const others = conditionsOf(node).filter((c) => c.type !== 'Ready');
  const spec = { ...((node['spec'] as Record<string, unknown> | undefined) ?? {}) };
  if (taints.length > 0) spec['taints'] = taints;
  else delete spec['taints'];
  return { ...node, spec, status: { ...((node['status'] as Record<string, unknown> | undefined) ?? {}), conditions: [ready, ...others] } };
}

/** The Node marked unreachable (idempotent: an already marked node comes back unchanged). */
export function markedNotReady(node: KObject, now: number): KObject {
  const ready = readyCondition(node);
  if (ready?.status === 'Unknown' && hasUnreachableTaints(node)) return node;
  const at = timestamp(now);
  const next: Condition = {
    type: 'Ready',
    status: 'Unknown',
    reason: 'NodeStatusUnknown',
    message: NODE_STATUS_UNKNOWN_MESSAGE,
    ...(ready?.lastHeartbeatTime ? { lastHeartbeatTime: ready.lastHeartbeatTime } : {}),
    lastTransitionTime: ready?.status === 'Unknown' && ready.lastTransitionTime ? ready.lastTransitionTime : at,
  };
  const taints = taintsOf(node);
  const added = (['NoSchedule', 'NoExecute'] as const).filter((effect) => !taints.some((t) => t.key === UNREACHABLE_TAINT && t.effect === effect)).map((effect) => ({ key: UNREACHABLE_TAINT, effect, timeAdded: at }));
  return withReady(node, next, [...taints, ...added]);
}

/** The Node ready again, its unreachable taints removed (idempotent). */
export function markedReady(node: KObject, heardAt: number, now: number): KObject {
  const ready = readyCondition(node);
  if (ready?.status === 'True' && !taintsOf(node).some((t) => t.key === UNREACHABLE_TAINT)) return node;
  const next: Condition = {
    type: 'Ready',
    status: 'True',
    reason: 'KubeletReady',
    message: 'bramble agent is posting ready status',
    lastHeartbeatTime: timestamp(heardAt),
    lastTransitionTime: ready?.status === 'True' && ready.lastTransitionTime ? ready.lastTransitionTime : timestamp(now),
  };
  return withReady(node, next, taintsOf(node).filter((t) => t.key !== UNREACHABLE_TAINT));
}

type Eviction = 'delete' | 'fail' | 'skip';

/** What eviction does to a pod: its controller replaces a deleted one; a bare one is only marked. */
export function evictionOf(pod: KObject): Eviction {
  const phase = (pod['status'] as { phase?: string } | undefined)?.phase;
  if (pod.metadata.deletionTimestamp || phase === 'Succeeded' || phase === 'Failed') return 'skip';
  const owner = (pod.metadata.ownerReferences ?? []).find((o) => o.controller === true);
  if (owner?.kind === 'DaemonSet') return 'skip';
  return owner ? 'delete' : 'fail';
}

export function startNodeLifecycle(options: NodeLifecycleOptions): NodeLifecycle {
  const o = options;
  const clock = o.clock ?? systemClock;
  const log = o.logger.child({ component: 'node-lifecycle' });
  const events =
    o.events ??
    new EventRecorder({
      api: { create: (info, namespace, object) => o.api.create(info, namespace, object, { dryRun: false }) },
      clock,
      nodeName: o.selfNode ?? '',
      component: 'node-controller',
      logger: log,
    });
  const periodMillis = o.periodMillis ?? Math.max(50, Math.min(1000, Math.floor(o.graceMillis / 4)));
  /** When this member started leading; undefined while it follows. */
  let leadingSince: number | undefined;
  /** When this leader first saw each node: the start of its grace period without a heartbeat. */
  const firstSeen = new Map<string, number>();
  /** Pods whose eviction was started, until the informer shows it (no second Event). */
  const evicted = new Set<string>();
  let running: Promise<void> | undefined;
  let timer: TimerHandle | undefined;
  let stopped = false;

  const update = async (node: string, change: (current: KObject) => KObject): Promise<KObject | undefined> => {
    try {
      return await o.api.update(nodesInfo, undefined, node, change, { dryRun: false });
    } catch (error) {
      if (error instanceof StatusError && error.code === 404) return undefined; // removed meanwhile
      throw error;
    }
  };

  const nodeRef = (node: KObject) => ({ namespace: 'default', name: node.metadata.name!, uid: node.metadata.uid ?? '', kind: 'Node', apiVersion: 'v1' });

  const evict = async (nodeName: string, budget: { left: number }): Promise<void> => {
    for (const pod of o.pods.list()) {
      if (budget.left <= 0) return;
      const spec = pod['spec'] as { nodeName?: string } | undefined;
      if (spec?.nodeName !== nodeName) continue;
      const uid = pod.metadata.uid ?? '';
      const what = evictionOf(pod);
      if (what === 'skip' || evicted.has(uid)) continue;
      const { namespace, name } = pod.metadata as { namespace: string; name: string };
      const ref = { namespace, name, uid };
      budget.left--;
      evicted.add(uid);
      try {
        if (what === 'delete') {
          await o.deleter.delete(podsInfo, namespace, name, { dryRun: false, preconditions: { uid } });
          events.record(ref, 'Normal', 'NodeControllerEviction', `Marking for deletion Pod ${namespace}/${name} from Node ${nodeName}`);
          log.info('pod evicted from an unreachable node', { pod: `${namespace}/${name}`, node: nodeName });
        } else {
          const message = `Node ${nodeName} which was running pod ${name} is unresponsive`;
          await o.api.update(
            podsInfo,
            namespace,
            name,
            (current) => {
              if (current.metadata.uid !== uid || evictionOf(current) !== 'fail') return current;
              const status = { ...((current['status'] as Record<string, unknown> | undefined) ?? {}) };
              const conditions = Array.isArray(status['conditions']) ? (status['conditions'] as Condition[]) : [];
              status['conditions'] = conditions.map((c) => (c.type === 'Ready' && c.status !== 'False' ? { ...c, status: 'False', lastTransitionTime: timestamp(clock.now()) } : c));
              return { ...current, status: { ...status, phase: 'Failed', reason: 'NodeLost', message } };
            },
            { dryRun: false },
          );
          events.record(ref, 'Warning', 'NodeLost', `Marking Pod ${namespace}/${name} Failed: ${message}`);
          log.info('bare pod on an unreachable node marked Failed (NodeLost)', { pod: `${namespace}/${name}`, node: nodeName });
        }
      } catch (error) {
        evicted.delete(uid);
        if (error instanceof StatusError && (error.code === 404 || error.code === 409)) continue; // gone or replaced
        throw error;
      }
    }
  };

  const pass = async (): Promise<void> => {
    if (!o.isLeader()) {
      if (leadingSince !== undefined) log.info('no longer leading: node lifecycle paused');
      leadingSince = undefined;
      firstSeen.clear();
      evicted.clear();
      return;
    }
    const now = clock.now();
    if (leadingSince === undefined) {
      leadingSince = now;
      // A new leader may not have applied everything committed before its election.
      await Promise.all([o.nodes.relist({ linearizable: true }), o.pods.relist({ linearizable: true })]);
      log.info('leading: every node gets a fresh grace period', { nodes: o.nodes.size, graceMillis: o.graceMillis });
    }
    const budget = { left: EVICTIONS_PER_PASS_MAX };
    const names = new Set<string>();
    for (const node of o.nodes.list()) {
      const name = node.metadata.name!;
      names.add(name);
      if (!firstSeen.has(name)) firstSeen.set(name, now);
      const heartbeat = o.heartbeats.get(name)?.receivedAt;
      const heard = Math.max(heartbeat ?? -Infinity, firstSeen.get(name)!);
      const silent = now - heard > o.graceMillis;
      const fresh = heartbeat !== undefined && now - heartbeat <= o.graceMillis;
      const ready = readyCondition(node);
      let current: KObject | undefined = node;
      if (silent && (ready?.status === 'True' || ready === undefined || !hasUnreachableTaints(node))) {
        current = await update(name, (n) => markedNotReady(n, now));
        if (current && readyCondition(node)?.status !== 'Unknown') {
          events.record(nodeRef(node), 'Normal', 'NodeNotReady', `Node ${name} status is now: NodeNotReady`);
          log.warn('node unreachable: no heartbeat within the grace period', { node: name, graceMillis: o.graceMillis, silentMillis: now - heard });
        }
      } else if (fresh && (ready?.status !== 'True' || taintsOf(node).some((t) => t.key === UNREACHABLE_TAINT))) {
        current = await update(name, (n) => markedReady(n, heartbeat, now));
        if (current) {
          events.record(nodeRef(node), 'Normal', 'NodeReady', `Node ${name} status is now: NodeReady`);
          log.info('node ready again: heartbeats are back', { node: name });
        }
      }
      if (!current || !silent) continue;
      const stored = readyCondition(current);
      const since = stored?.status === 'True' ? NaN : Date.parse(stored?.lastTransitionTime ?? '');
      if (Number.isFinite(since) && now - since >= o.evictionMillis) await evict(name, budget);
    }
    for (const name of firstSeen.keys()) if (!names.has(name)) firstSeen.delete(name);
    // Forget evictions the informer shows as done (the pod is gone, deleting or Failed).
    const live = new Set(o.pods.list().filter((p) => evictionOf(p) !== 'skip').map((p) => p.metadata.uid ?? ''));
    for (const uid of evicted) if (!live.has(uid)) evicted.delete(uid);
  };

  const runOnce = (): Promise<void> => {
    running ??= pass().finally(() => (running = undefined));
    return running;
  };

  const schedule = (): void => {
    if (stopped) return;
    timer = clock.setTimer(() => {
      runOnce()
        .catch((error: unknown) => log.warn('node lifecycle pass failed; next pass soon', { error: error instanceof Error ? error.message : String(error) }))
        .finally(schedule);
    }, periodMillis);
  };
  schedule();

  return {
    runOnce,
    events,
    stop() {
      stopped = true;
      timer?.cancel();
    },
  };
}
