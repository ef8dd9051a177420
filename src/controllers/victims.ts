// Which pods a controller deletes first when it has too many, in Kubernetes' order
// (ActivePodsWithRanks): a pod that is not running yet costs the least to lose, a pod on a
// sick node is probably lost anyway, and spreading matters more than age.
import type { KObject } from '../model/index.ts';
import { isJson, isPodReady, podPhase, podReadySinceMs, specOf, statusOf } from './workload-objects.ts';

const PHASE_RANK: Readonly<Record<string, number>> = { Pending: 0, Unknown: 1, Running: 2 };

function nodeNameOf(pod: KObject): string {
  const node = specOf(pod)['nodeName'];
  return typeof node === 'string' ? node : '';
}

function restarts(pod: KObject): number {
  const statuses = statusOf(pod)['containerStatuses'];
  if (!Array.isArray(statuses)) return 0;
  return statuses.reduce((sum: number, s) => sum + (isJson(s) && typeof s['restartCount'] === 'number' ? s['restartCount'] : 0), 0);
}

function createdMs(pod: KObject): number {
  const at = Date.parse(pod.metadata.creationTimestamp ?? '');
  return Number.isNaN(at) ? 0 : at;
}

/**
 * The pods in the order to delete them: unassigned before assigned; Pending, then Unknown, then
 * Running; not ready before ready; on a node that is not Ready before on one that is; on the
 * nodes that hold more of these pods first; the most recently ready first; more restarts first;
 * the newest first.
 */
export function victimOrder(pods: readonly KObject[], nodeReady: (nodeName: string) => boolean): KObject[] {
  return chooseVictims(pods, pods.length, nodeReady);
}

/**
 * The first `count` pods of the order above, chosen one at a time: after each choice its node
 * holds one pod fewer, so scaling 3/3/3 down to 3 takes two from each node and the spread holds
 * (ranking every pod once by the starting counts, as Kubernetes does, may empty one node).
 */
export function chooseVictims(pods: readonly KObject[], count: number, nodeReady: (nodeName: string) => boolean): KObject[] {
  const perNode = new Map<string, number>();
  for (const pod of pods) {
    const node = nodeNameOf(pod);
    if (node) perNode.set(node, (perNode.get(node) ?? 0) + 1);
  }
  const facts = new Map(
    pods.map((pod) => {
      const node = nodeNameOf(pod);
      return [
        pod,
        {
          node,
          assigned: node === '' ? 0 : 1,
          phase: PHASE_RANK[podPhase(pod)] ?? 0,
          ready: isPodReady(pod) ? 1 : 0,
          nodeReady: node === '' || nodeReady(node) ? 1 : 0,
          readySince: isPodReady(pod) ? podReadySinceMs(pod) : Number.NaN,
          restarts: restarts(pod),
          created: createdMs(pod),
        },
      ] as const;
    }),
  );
  const crowd = (node: string) => (node === '' ? 0 : perNode.get(node)!);
  const before = (a: KObject, b: KObject): number => {
    const x = facts.get(a)!;
    const y = facts.get(b)!;
    if (x.assigned !== y.assigned) return x.assigned - y.assigned;
    if (x.phase !== y.phase) return x.phase - y.phase;
    if (x.ready !== y.ready) return x.ready - y.ready;
    if (x.nodeReady !== y.nodeReady) return x.nodeReady - y.nodeReady;
    if (crowd(x.node) !== crowd(y.node)) return crowd(y.node) - crowd(x.node);
    if (x.ready === 1 && !Number.isNaN(x.readySince) && !Number.isNaN(y.readySince) && x.readySince !== y.readySince) return y.readySince - x.readySince;
    if (x.restarts !== y.restarts) return y.restarts - x.restarts;
    if (x.created !== y.created) return y.created - x.created;
    return String(b.metadata.name).localeCompare(String(a.metadata.name));
  };
  const left = [...pods];
  const chosen: KObject[] = [];
  while (chosen.length < count && left.length > 0) {
    let best = 0;
    for (let i = 1; i < left.length; i++) if (before(left[i]!, left[best]!) < 0) best = i;
    const [victim] = left.splice(best, 1);
    chosen.push(victim!);
    const node = facts.get(victim!)!.node;
    if (node) perNode.set(node, perNode.get(node)! - 1);
  }
  return chosen;
}

/** A Node's Ready condition is True. */
export function isNodeReady(node: KObject | undefined): boolean {
  const conditions = node ? statusOf(node)['conditions'] : undefined;
  if (!Array.isArray(conditions)) return false;
  return conditions.some((c) => isJson(c) && c['type'] === 'Ready' && c['status'] === 'True');
}
