// The arithmetic of Deployment rollouts, as Kubernetes' deployment/util does it: surge and
// unavailability budgets, how far the new ReplicaSet may grow and the old ones shrink, and when
// a rollout is complete, progressing or stuck. Pure functions over the objects.
import type { KObject } from '../model/index.ts';
import { numberOr, scaledIntOrPercent, specOf, statusOf, isJson, conditionOf } from './workload-objects.ts';

export const REVISION_ANNOTATION = 'deployment.kubernetes.io/revision';
export const DESIRED_REPLICAS_ANNOTATION = 'deployment.kubernetes.io/desired-replicas';
export const MAX_REPLICAS_ANNOTATION = 'deployment.kubernetes.io/max-replicas';
export const POD_TEMPLATE_HASH_LABEL = 'pod-template-hash';

export function replicasOf(object: KObject | undefined): number {
  return object ? numberOr(specOf(object)['replicas'], 1) : 0;
}

export function statusCount(object: KObject | undefined, field: string): number {
  return object ? numberOr(statusOf(object)[field], 0) : 0;
}

export function revisionOf(rs: KObject): number {
  const value = Number(rs.metadata.annotations?.[REVISION_ANNOTATION]);
  return Number.isInteger(value) && value > 0 ? value : 0;
}

function strategyOf(d: KObject): { type: string; rolling: Record<string, unknown> } {
  const strategy = isJson(specOf(d)['strategy']) ? (specOf(d)['strategy'] as Record<string, unknown>) : {};
  const type = typeof strategy['type'] === 'string' ? strategy['type'] : 'RollingUpdate';
  const rolling = isJson(strategy['rollingUpdate']) ? strategy['rollingUpdate'] : { maxSurge: '25%', maxUnavailable: '25%' };
  return { type, rolling };
}

export function isRollingUpdate(d: KObject): boolean {
  return strategyOf(d).type === 'RollingUpdate';
}

/** maxSurge and maxUnavailable as counts: surge rounded up, unavailable down, never both 0 (ResolveFenceposts). */
export function fenceposts(d: KObject): { surge: number; unavailable: number } {
  const { rolling } = strategyOf(d);
  const replicas = replicasOf(d);
  const surge = scaledIntOrPercent(rolling['maxSurge'], replicas, true);
  let unavailable = scaledIntOrPercent(rolling['maxUnavailable'], replicas, false);
  if (surge === 0 && unavailable === 0) unavailable = 1;
  return { surge, unavailable };
}

export function maxSurge(d: KObject): number {
  return isRollingUpdate(d) ? fenceposts(d).surge : 0;
}

/** Pods that may be unavailable during a rolling update (never more than the replicas). */
export function maxUnavailable(d: KObject): number {
  const replicas = replicasOf(d);
  if (!isRollingUpdate(d) || replicas === 0) return 0;
  return Math.min(fenceposts(d).unavailable, replicas);
}

export function sumSpecReplicas(sets: readonly KObject[]): number {
  return sets.reduce((n, rs) => n + replicasOf(rs), 0);
}

export function sumStatus(sets: readonly KObject[], field: string): number {
  return sets.reduce((n, rs) => n + statusCount(rs, field), 0);
}

/** How many replicas the new ReplicaSet should have now (NewRSNewReplicas). */
export function newReplicaSetReplicas(d: KObject, allSets: readonly KObject[], newSet: KObject): number {
  const replicas = replicasOf(d);
  if (!isRollingUpdate(d)) return replicas;
  const current = sumSpecReplicas(allSets);
  const maxTotal = replicas + maxSurge(d);
  if (current >= maxTotal) return replicasOf(newSet);
  const scaleUp = Math.min(maxTotal - current, replicas - replicasOf(newSet));
  return replicasOf(newSet) + Math.max(0, scaleUp);
}

export function createdMs(object: KObject): number {
  const at = Date.parse(object.metadata.creationTimestamp ?? '');
  return Number.isNaN(at) ? 0 : at;
}

/** Oldest first (creation, then name). */
export function byAge(a: KObject, b: KObject): number {
  return createdMs(a) - createdMs(b) || String(a.metadata.name).localeCompare(String(b.metadata.name));
}

/** Whether the rollout is done: every replica updated and available, and the spec observed. */
export function deploymentComplete(d: KObject, status: Record<string, unknown>): boolean {
  const replicas = replicasOf(d);
  return (
    numberOr(status['updatedReplicas'], 0) === replicas &&
    numberOr(status['replicas'], 0) === replicas &&
    numberOr(status['availableReplicas'], 0) === replicas &&
    numberOr(status['observedGeneration'], 0) >= (d.metadata.generation ?? 1)
  );
}

/** Whether the new status shows progress over the stored one. */
export function deploymentProgressing(d: KObject, status: Record<string, unknown>): boolean {
  const old = statusOf(d);
  const oldOld = numberOr(old['replicas'], 0) - numberOr(old['updatedReplicas'], 0);
  const newOld = numberOr(status['replicas'], 0) - numberOr(status['updatedReplicas'], 0);
  return (
    numberOr(status['updatedReplicas'], 0) > numberOr(old['updatedReplicas'], 0) ||
    newOld < oldOld ||
    numberOr(status['readyReplicas'], 0) > numberOr(old['readyReplicas'], 0) ||
    numberOr(status['availableReplicas'], 0) > numberOr(old['availableReplicas'], 0)
  );
}

/** Milliseconds until the progress deadline passes (<= 0: passed), or undefined when there is none to watch. */
export function progressDeadlineInMs(d: KObject, nowMs: number): number | undefined {
  const seconds = specOf(d)['progressDeadlineSeconds'];
  if (typeof seconds !== 'number') return undefined;
  const cond = conditionOf(d, 'Progressing');
  if (!cond) return undefined;
  if (cond['reason'] === 'ProgressDeadlineExceeded') return 0;
  if (cond['reason'] === 'NewReplicaSetAvailable' || cond['status'] === 'Unknown') return undefined;
  const from = Date.parse(String(cond['lastUpdateTime'] ?? cond['lastTransitionTime'] ?? ''));
  if (Number.isNaN(from)) return undefined;
  return from + seconds * 1000 - nowMs;
}
