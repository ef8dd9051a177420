// Whether a pod may run on a node: its nodeSelector matches the node's labels and it tolerates
// the node's taints (Kubernetes' toleration rules). NoSchedule taints keep new pods away;
// NoExecute taints also evict pods already there. PreferNoSchedule is only a preference.
import type { KObject } from '../model/index.ts';
import { isJson, specOf, type Json } from './workload-objects.ts';

export interface Taint {
  key: string;
  value?: string;
  effect: string;
}

export function taintsOf(node: KObject): Taint[] {
  const taints = specOf(node)['taints'];
  return Array.isArray(taints) ? taints.filter((t): t is Taint => isJson(t) && typeof t['key'] === 'string' && typeof t['effect'] === 'string') : [];
}

/** One toleration against one taint. An empty key with `Exists` tolerates everything. */
export function tolerates(toleration: Json, taint: Taint): boolean {
  const effect = toleration['effect'];
  if (typeof effect === 'string' && effect !== '' && effect !== taint.effect) return false;
  const key = typeof toleration['key'] === 'string' ? toleration['key'] : '';
  if (key !== '' && key !== taint.key) return false;
  const operator = toleration['operator'] === 'Exists' ? 'Exists' : 'Equal';
  if (operator === 'Exists') return true;
  if (key === '') return false;
  return (typeof toleration['value'] === 'string' ? toleration['value'] : '') === (taint.value ?? '');
}

export function toleratesAll(tolerations: readonly Json[], taints: readonly Taint[]): boolean {
  return taints.every((taint) => tolerations.some((t) => tolerates(t, taint)));
}

/** Every label of `selector` is on the node with the same value. */
export function nodeSelectorMatches(selector: unknown, node: KObject): boolean {
  if (!isJson(selector)) return true;
  const labels = node.metadata.labels ?? {};
  return Object.entries(selector).every(([k, v]) => labels[k] === v);
}

/**
 * The tolerations Kubernetes adds to every DaemonSet pod: a daemon keeps running on a node that
 * is not ready, unreachable or under pressure, and is placed on a cordoned node.
 */
export const DAEMON_TOLERATIONS: readonly Json[] = [
  { key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute' },
  { key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute' },
  { key: 'node.kubernetes.io/disk-pressure', operator: 'Exists', effect: 'NoSchedule' },
  { key: 'node.kubernetes.io/memory-pressure', operator: 'Exists', effect: 'NoSchedule' },
  { key: 'node.kubernetes.io/pid-pressure', operator: 'Exists', effect: 'NoSchedule' },
  { key: 'node.kubernetes.io/unschedulable', operator: 'Exists', effect: 'NoSchedule' },
];

/** The template's tolerations plus the daemon defaults it does not already state. */
export function daemonTolerations(podSpec: Json): Json[] {
  const own = Array.isArray(podSpec['tolerations']) ? podSpec['tolerations'].filter(isJson) : [];
  const extra = DAEMON_TOLERATIONS.filter((d) => !own.some((t) => t['key'] === d['key'] && t['effect'] === d['effect']));
  return [...own, ...extra.map((t) => ({ ...t }))];
}

/** Whether a daemon pod should be placed on the node, and whether one already there may stay. */
export function daemonPlacement(podSpec: Json, node: KObject): { shouldRun: boolean; shouldContinueRunning: boolean } {
  if (!nodeSelectorMatches(podSpec['nodeSelector'], node)) return { shouldRun: false, shouldContinueRunning: false };
  const tolerations = daemonTolerations(podSpec);
  const taints = taintsOf(node);
  const noExecute = taints.filter((t) => t.effect === 'NoExecute');
  const shouldContinueRunning = toleratesAll(tolerations, noExecute);
  const shouldRun = shouldContinueRunning && toleratesAll(tolerations, taints.filter((t) => t.effect === 'NoSchedule'));
  return { shouldRun, shouldContinueRunning };
}
