// The rules between one pod and one node that need nothing else: taints against tolerations,
// nodeSelector and node affinity terms, host ports, and whether the requests fit. Each answers
// plainly (matches or not, the reasons it does not fit) so the filters read like Kubernetes'.
import type { HostPort, NodeFacts, NodeSelectorRequirement, NodeSelectorTerm, PodFacts, Taint, Toleration } from './facts.ts';
import type { NodeInfo } from './snapshot.ts';

/** Kubernetes' ToleratesTaint: an empty key with Exists tolerates every taint. */
export function tolerates(toleration: Toleration, taint: Taint): boolean {
  if (toleration.effect !== '' && toleration.effect !== taint.effect) return false;
  if (toleration.key !== '' && toleration.key !== taint.key) return false;
  if (toleration.operator === 'Exists') return true;
  return toleration.value === taint.value;
}

/** The first taint with one of `effects` that no toleration tolerates. */
export function untoleratedTaint(taints: readonly Taint[], tolerations: readonly Toleration[], effects: readonly string[]): Taint | undefined {
  return taints.find((taint) => effects.includes(taint.effect) && !tolerations.some((t) => tolerates(t, taint)));
}

export function countUntolerated(taints: readonly Taint[], tolerations: readonly Toleration[], effect: string): number {
  return taints.filter((taint) => taint.effect === effect && !tolerations.some((t) => tolerates(t, taint))).length;
}

function integer(text: string | undefined): number | undefined {
  if (text === undefined || !/^-?[0-9]+$/.test(text)) return undefined;
  return Number(text);
}

/** One matchExpressions/matchFields requirement against a value (undefined: not there). */
function requirementHolds(req: NodeSelectorRequirement, value: string | undefined): boolean {
  switch (req.operator) {
    case 'In':
      return value !== undefined && req.values.includes(value);
    case 'NotIn':
      return value === undefined || !req.values.includes(value);
    case 'Exists':
      return value !== undefined;
    case 'DoesNotExist':
      return value === undefined;
    case 'Gt':
    case 'Lt': {
      const have = integer(value);
      const bound = integer(req.values[0]);
      if (have === undefined || bound === undefined) return false;
      return req.operator === 'Gt' ? have > bound : have < bound;
    }
    default:
      return false;
  }
}

/** A node selector term: every expression on labels and every field (only metadata.name). An
 *  empty term matches nothing, as in Kubernetes. */
export function termMatches(term: NodeSelectorTerm, node: NodeFacts): boolean {
  if (term.matchExpressions.length === 0 && term.matchFields.length === 0) return false;
  for (const req of term.matchExpressions) if (!requirementHolds(req, node.labels[req.key])) return false;
  for (const req of term.matchFields) {
    const value = req.key === 'metadata.name' ? node.name : undefined;
    if (value === undefined || !requirementHolds(req, value)) return false;
  }
  return true;
}

/** nodeSelector and required node affinity (terms ORed) both hold. */
export function nodeAffinityMatches(pod: PodFacts, node: NodeFacts): boolean {
  for (const [key, value] of Object.entries(pod.nodeSelector)) if (node.labels[key] !== value) return false;
  if (pod.requiredNodeTerms !== null && !pod.requiredNodeTerms.some((term) => termMatches(term, node))) return false;
  return true;
}

/** Kubernetes' host port conflict: same port and protocol, and the same address or either one
 *  on every address. */
export function portsConflict(wanted: readonly HostPort[], used: readonly HostPort[]): boolean {
  for (const w of wanted) {
    for (const u of used) {
      if (w.port === u.port && w.protocol === u.protocol && (w.ip === u.ip || w.ip === '0.0.0.0' || u.ip === '0.0.0.0')) return true;
    }
  }
  return false;
}

/** Resources considered besides cpu and memory: extended resources (domain-prefixed names) and
 *  ephemeral-storage when the node reports it. */
function checked(resource: string, node: NodeInfo): boolean {
  if (resource === 'cpu' || resource === 'memory') return true;
  if (resource.includes('/')) return true;
  return resource === 'ephemeral-storage' && node.facts.allocatable[resource] !== undefined;
}

/** Why the pod's requests do not fit on the node (empty when they do): "Too many pods",
 *  "Insufficient cpu", "Insufficient memory". */
export function insufficient(pod: PodFacts, node: NodeInfo): string[] {
  const reasons: string[] = [];
  if (node.podCount + 1 > (node.facts.allocatable['pods'] ?? 0)) reasons.push('Too many pods');
  for (const [resource, wanted] of Object.entries(pod.requests)) {
    if (wanted <= 0 || resource === 'pods' || !checked(resource, node)) continue;
    const free = (node.facts.allocatable[resource] ?? 0) - (node.requested[resource] ?? 0);
    if (wanted > free) reasons.push(`Insufficient ${resource}`);
  }
  return reasons;
}
