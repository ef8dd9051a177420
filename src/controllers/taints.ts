// Where a DaemonSet's pods belong: the default tolerations Kubernetes gives them, and placement
// by the scheduler's rules. NoSchedule taints keep new pods away; NoExecute taints also evict
// pods already there. PreferNoSchedule is only a preference.
import type { KObject } from '../model/index.ts';
import { nodeFacts, podFacts } from '../scheduler/facts.ts';
import { nodeAffinityMatches, untoleratedTaint } from '../scheduler/node-rules.ts';
import { isJson, type Json } from './workload-objects.ts';

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

/**
 * Whether a daemon pod should be placed on the node, and whether one already there may stay:
 * the scheduler's own rules (nodeSelector, required node affinity, taints against the template's
 * tolerations plus the daemon defaults), since a DaemonSet binds its pods itself.
 */
export function daemonPlacement(podSpec: Json, node: KObject): { shouldRun: boolean; shouldContinueRunning: boolean } {
  const pod = podFacts({ apiVersion: 'v1', kind: 'Pod', metadata: {}, spec: { ...podSpec, tolerations: daemonTolerations(podSpec) } });
  const facts = nodeFacts(node);
  if (!nodeAffinityMatches(pod, facts)) return { shouldRun: false, shouldContinueRunning: false };
  const shouldContinueRunning = untoleratedTaint(facts.taints, pod.tolerations, ['NoExecute']) === undefined;
  const shouldRun = shouldContinueRunning && untoleratedTaint(facts.taints, pod.tolerations, ['NoSchedule']) === undefined;
  return { shouldRun, shouldContinueRunning };
}
