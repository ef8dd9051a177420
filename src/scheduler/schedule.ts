// The scheduling decision, pure: given a pod and the cluster's snapshot, the node to bind it to,
// or why no node fits (per node, and the message Kubernetes prints). Filters first, in
// kube-scheduler's order (a node fails on the first filter that refuses it), then the nodes
// left are scored, each score normalized to 0..100 and weighted as Kubernetes' defaults.
import type { KObject } from '../model/index.ts';
import type { PodFacts } from './facts.ts';
import { podFacts } from './facts.ts';
import { countUntolerated, insufficient, nodeAffinityMatches, portsConflict, termMatches, tolerates, untoleratedTaint } from './node-rules.ts';
import type { NodeInfo } from './snapshot.ts';
import { ClusterSnapshot } from './snapshot.ts';
import type { InterPodState, SpreadCounts } from './topology.ts';
import { groupSpreadRaw, interPodAllows, interPodRaw, interPodState, spreadAllows, spreadCounts, spreadRaw } from './topology.ts';

export const REASONS = {
  notReady: 'node(s) were not ready',
  unschedulable: 'node(s) were unschedulable',
  nodeAffinity: "node(s) didn't match Pod's node affinity/selector",
  ports: "node(s) didn't have free ports for the requested pod ports",
  spreadMissingLabel: "node(s) didn't match pod topology spread constraints (missing required label)",
  spread: "node(s) didn't match pod topology spread constraints",
  affinity: "node(s) didn't match pod affinity rules",
  antiAffinity: "node(s) didn't match pod anti-affinity rules",
  existingAntiAffinity: "node(s) didn't satisfy existing pods anti-affinity rules",
} as const;

export const NO_NODES_MESSAGE = 'no nodes available to schedule pods';

/** Weights of the scores, as kube-scheduler's default profile. */
export const SCORE_WEIGHTS = { leastAllocated: 1, balancedAllocation: 1, topologySpread: 2, interPodAffinity: 2, nodeAffinity: 2, taintToleration: 3 } as const;

export type Decision =
  | { nodeName: string; score: number }
  | { nodeName: null; reasons: Map<string, string[]>; message: string };

// A cordoned node admits only pods that tolerate this taint (Kubernetes' NodeUnschedulable).
const UNSCHEDULABLE_TAINT = { key: 'node.kubernetes.io/unschedulable', value: '', effect: 'NoSchedule' };

interface PodContext {
  pod: PodFacts;
  hardSpread: SpreadCounts[];
  interPod: InterPodState;
}

function filter(ctx: PodContext, node: NodeInfo): string[] {
  const { pod } = ctx;
  const facts = node.facts;
  if (!facts.ready) return [REASONS.notReady];
  if (facts.unschedulable && !pod.tolerations.some((t) => tolerates(t, UNSCHEDULABLE_TAINT))) return [REASONS.unschedulable];
  const taint = untoleratedTaint(facts.taints, pod.tolerations, ['NoSchedule', 'NoExecute']);
  if (taint) return [`node(s) had untolerated taint {${taint.key}: ${taint.value}}`];
  if (!nodeAffinityMatches(pod, facts)) return [REASONS.nodeAffinity];
  if (pod.ports.length > 0 && portsConflict(pod.ports, node.ports)) return [REASONS.ports];
  const short = insufficient(pod, node);
  if (short.length > 0) return short;
  if (ctx.hardSpread.length > 0) {
    const spread = spreadAllows(ctx.hardSpread, node);
    if (spread === 'missing-label') return [REASONS.spreadMissingLabel];
    if (spread === 'skew') return [REASONS.spread];
  }
  const interPod = interPodAllows(ctx.interPod, node);
  if (interPod === 'existing-anti-affinity') return [REASONS.existingAntiAffinity];
  if (interPod === 'anti-affinity') return [REASONS.antiAffinity];
  if (interPod === 'affinity') return [REASONS.affinity];
  return [];
}

/** Kubernetes' message for a pod no node fits: "0/3 nodes are available: 1 node(s) were not
 *  ready, 2 Insufficient memory." (each reason counted, the phrases sorted). */
export function unschedulableMessage(nodeCount: number, reasons: ReadonlyMap<string, readonly string[]>): string {
  if (nodeCount === 0) return NO_NODES_MESSAGE;
  const counts = new Map<string, number>();
  for (const list of reasons.values()) for (const reason of list) counts.set(reason, (counts.get(reason) ?? 0) + 1);
  const phrases = [...counts].map(([reason, count]) => `${count} ${reason}`).sort();
  return `0/${nodeCount} nodes are available${phrases.length > 0 ? `: ${phrases.join(', ')}` : ''}.`;
}

/** Larger raw is better: 0..100 over the spread of values (all 0 when they are equal). */
function minMaxNormalized(raw: ReadonlyMap<string, number>): Map<string, number> {
  const values = [...raw.values()];
  const min = Math.min(...values);
  const max = Math.max(...values);
  const out = new Map<string, number>();
  for (const [k, v] of raw) out.set(k, max > min ? (100 * (v - min)) / (max - min) : 0);
  return out;
}

/** Smaller raw is better, as Kubernetes' topology spread normalizes: 100 * (max + min - raw) / max. */
function spreadNormalized(raw: ReadonlyMap<string, number>): Map<string, number> {
  const values = [...raw.values()];
  const min = Math.min(...values);
  const max = Math.max(...values);
  const out = new Map<string, number>();
  for (const [k, v] of raw) out.set(k, max > 0 ? (100 * (max + min - v)) / max : 100);
  return out;
}

function leastAllocated(pod: PodFacts, node: NodeInfo): number {
  const part = (allocatable: number, requested: number) => (allocatable > 0 ? (Math.max(0, allocatable - requested) * 100) / allocatable : 0);
  const cpu = part(node.facts.allocatable['cpu'] ?? 0, node.nonZeroCpu + pod.nonZeroCpu);
  const memory = part(node.facts.allocatable['memory'] ?? 0, node.nonZeroMemory + pod.nonZeroMemory);
  return (cpu + memory) / 2;
}

function balancedAllocation(pod: PodFacts, node: NodeInfo): number {
  const fraction = (allocatable: number, requested: number) => (allocatable > 0 ? Math.min(1, requested / allocatable) : 1);
  const cpu = fraction(node.facts.allocatable['cpu'] ?? 0, node.nonZeroCpu + pod.nonZeroCpu);
  const memory = fraction(node.facts.allocatable['memory'] ?? 0, node.nonZeroMemory + pod.nonZeroMemory);
  // The standard deviation of two fractions is half their difference.
  return (1 - Math.abs(cpu - memory) / 2) * 100;
}

function scores(ctx: PodContext, snapshot: ClusterSnapshot, feasible: NodeInfo[]): Map<string, number> {
  const { pod } = ctx;
  const total = new Map<string, number>();
  const add = (name: string, weight: number, value: number) => total.set(name, (total.get(name) ?? 0) + weight * value);
  for (const node of feasible) {
    add(node.facts.name, SCORE_WEIGHTS.leastAllocated, leastAllocated(pod, node));
    add(node.facts.name, SCORE_WEIGHTS.balancedAllocation, balancedAllocation(pod, node));
  }
  if (feasible.length < 2) return total;
  // Spreading: the pod's own ScheduleAnyway constraints, or (with no constraints at all) the
  // default spreading of its group over zones and hostnames.
  let spreadRawScores: Map<string, number> | null = null;
  if (pod.spread.length > 0) {
    const soft = pod.spread.filter((c) => c.whenUnsatisfiable === 'ScheduleAnyway');
    if (soft.length > 0) {
      const counts = spreadCounts(pod, snapshot, soft, (n) => nodeAffinityMatches(pod, n.facts));
      spreadRawScores = new Map(feasible.map((n) => [n.facts.name, spreadRaw(counts, n)]));
    }
  } else if (pod.group !== null) {
    spreadRawScores = groupSpreadRaw(pod, snapshot, feasible);
  }
  if (spreadRawScores) for (const [name, v] of spreadNormalized(spreadRawScores)) add(name, SCORE_WEIGHTS.topologySpread, v);
  if (ctx.interPod.preferred.length > 0) {
    const raw = new Map(feasible.map((n) => [n.facts.name, interPodRaw(ctx.interPod, n)]));
    for (const [name, v] of minMaxNormalized(raw)) add(name, SCORE_WEIGHTS.interPodAffinity, v);
  }
  if (pod.preferredNodeTerms.length > 0) {
    const raw = new Map(feasible.map((n) => [n.facts.name, pod.preferredNodeTerms.reduce((sum, p) => sum + (termMatches(p.term, n.facts) ? p.weight : 0), 0)]));
    const max = Math.max(...raw.values());
    for (const [name, v] of raw) add(name, SCORE_WEIGHTS.nodeAffinity, max > 0 ? (100 * v) / max : 0);
  }
  const untolerated = new Map(feasible.map((n) => [n.facts.name, countUntolerated(n.facts.taints, pod.tolerations, 'PreferNoSchedule')]));
  const maxUntolerated = Math.max(...untolerated.values());
  for (const [name, v] of untolerated) add(name, SCORE_WEIGHTS.taintToleration, maxUntolerated > 0 ? 100 - (100 * v) / maxUntolerated : 100);
  return total;
}

/** Chooses a node for the pod, or says why none fits. The snapshot is not changed. */
export function schedulePod(pod: PodFacts, snapshot: ClusterSnapshot): Decision {
  const nodes = [...snapshot.nodes.values()];
  const hard = pod.spread.filter((c) => c.whenUnsatisfiable === 'DoNotSchedule');
  const ctx: PodContext = {
    pod,
    hardSpread: hard.length > 0 ? spreadCounts(pod, snapshot, hard, (n) => nodeAffinityMatches(pod, n.facts)) : [],
    interPod: interPodState(pod, snapshot),
  };
  const reasons = new Map<string, string[]>();
  const feasible: NodeInfo[] = [];
  for (const node of nodes) {
    const refused = filter(ctx, node);
    if (refused.length > 0) reasons.set(node.facts.name, refused);
    else feasible.push(node);
  }
  if (feasible.length === 0) return { nodeName: null, reasons, message: unschedulableMessage(nodes.length, reasons) };
  const total = scores(ctx, snapshot, feasible);
  // Ties go to the node with the fewest pods, then by name, so equal nodes fill evenly and the
  // choice is reproducible.
  let best = feasible[0]!;
  let bestScore = total.get(best.facts.name) ?? 0;
  for (const node of feasible.slice(1)) {
    const score = total.get(node.facts.name) ?? 0;
    const better = score > bestScore + 1e-9 || (Math.abs(score - bestScore) <= 1e-9 && (node.podCount < best.podCount || (node.podCount === best.podCount && node.facts.name < best.facts.name)));
    if (better) {
      best = node;
      bestScore = score;
    }
  }
  return { nodeName: best.facts.name, score: bestScore };
}

/** The pure form for one pod: nodes and the pods already bound, as API objects. */
export function schedule(pod: KObject, nodes: readonly KObject[], boundPods: readonly KObject[]): Decision {
  return schedulePod(podFacts(pod), ClusterSnapshot.of(nodes, boundPods));
}
