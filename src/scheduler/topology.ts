// Rules that look at other pods by topology domain (a node label's value: a zone, a hostname):
// topology spread constraints, the default spreading of a group's pods, and inter-pod affinity
// and anti-affinity. Each is computed once per pod to place (counts per domain), so checking
// and scoring a node is a few map lookups.
import type { PodAffinityTerm, PodFacts, SpreadConstraint, WeightedPodAffinityTerm } from './facts.ts';
import type { ClusterSnapshot, NodeInfo } from './snapshot.ts';
import { HOSTNAME_LABEL, ZONE_LABEL } from './snapshot.ts';

export interface SpreadCounts {
  constraint: SpreadConstraint;
  /** Matching pods per domain, every eligible domain present (0 when empty). */
  counts: Map<string, number>;
  /** The smallest count over eligible domains (0 when fewer than minDomains). */
  min: number;
  /** 1 when the pod being placed matches its own selector (it will count once placed). */
  selfMatch: number;
}

/**
 * Counts for the spread constraints, over the nodes `eligible` says count (those the pod's node
 * selector and affinity allow, with every topology key of the constraints). Pods being deleted
 * do not count, as in Kubernetes.
 */
export function spreadCounts(pod: PodFacts, snapshot: ClusterSnapshot, constraints: readonly SpreadConstraint[], eligible: (node: NodeInfo) => boolean): SpreadCounts[] {
  const eligibleNodes = [...snapshot.nodes.values()].filter((n) => eligible(n) && constraints.every((c) => n.facts.labels[c.topologyKey] !== undefined));
  const eligibleNames = new Set(eligibleNodes.map((n) => n.facts.name));
  const candidates = snapshot.podsIn(new Set([pod.namespace])).filter((p) => !p.terminating && eligibleNames.has(p.nodeName));
  return constraints.map((constraint) => {
    const counts = new Map<string, number>();
    for (const node of eligibleNodes) counts.set(node.facts.labels[constraint.topologyKey]!, 0);
    for (const p of candidates) {
      if (!constraint.matches(p.labels)) continue;
      const domain = snapshot.domainOf(p.nodeName, constraint.topologyKey)!;
      counts.set(domain, (counts.get(domain) ?? 0) + 1);
    }
    const min = counts.size < constraint.minDomains ? 0 : Math.min(...counts.values());
    return { constraint, counts, min: Number.isFinite(min) ? min : 0, selfMatch: constraint.matches(pod.labels) ? 1 : 0 };
  });
}

/** Whether placing the pod on the node keeps every DoNotSchedule constraint within maxSkew;
 *  'missing-label' when the node lacks a constraint's topology key. */
export function spreadAllows(spread: readonly SpreadCounts[], node: NodeInfo): true | 'missing-label' | 'skew' {
  for (const s of spread) {
    const domain = node.facts.labels[s.constraint.topologyKey];
    if (domain === undefined) return 'missing-label';
    const skew = (s.counts.get(domain) ?? 0) + s.selfMatch - s.min;
    if (skew > s.constraint.maxSkew) return 'skew';
  }
  return true;
}

/** Kubernetes weighs a constraint by log(domains + 2): more domains, finer spreading. */
function constraintWeight(domains: number): number {
  return Math.log(domains + 2);
}

/** The raw spread score of a node (lower is better): weighted matching pods in its domains. */
export function spreadRaw(spread: readonly SpreadCounts[], node: NodeInfo): number {
  let raw = 0;
  for (const s of spread) {
    const domain = node.facts.labels[s.constraint.topologyKey];
    if (domain === undefined) continue;
    raw += (s.counts.get(domain) ?? 0) * constraintWeight(s.counts.size);
  }
  return raw;
}

/**
 * The default spreading of a pod's group (its controller's pods, or pods with the same labels)
 * over zones and hostnames, as Kubernetes' default topology spread: the raw score of each node
 * (lower is better) from the group's counts per node, summed per zone.
 */
export function groupSpreadRaw(pod: PodFacts, snapshot: ClusterSnapshot, nodes: readonly NodeInfo[]): Map<string, number> {
  const raw = new Map<string, number>();
  if (pod.group === null) return raw;
  const perNode = snapshot.groupCounts(pod.group);
  const perZone = new Map<string, number>();
  for (const [nodeName, count] of perNode) {
    const zone = snapshot.domainOf(nodeName, ZONE_LABEL);
    if (zone !== undefined) perZone.set(zone, (perZone.get(zone) ?? 0) + count);
  }
  const zones = new Set<string>();
  for (const n of nodes) {
    const zone = n.facts.labels[ZONE_LABEL];
    if (zone !== undefined) zones.add(zone);
  }
  const hostWeight = constraintWeight(nodes.length);
  const zoneWeight = constraintWeight(zones.size);
  for (const n of nodes) {
    const zone = n.facts.labels[ZONE_LABEL];
    const host = n.facts.labels[HOSTNAME_LABEL];
    // Nodes of one hostname label share a domain; a node without one is its own.
    let hostCount = perNode.get(n.facts.name) ?? 0;
    if (host !== undefined && host !== n.facts.name) {
      hostCount = 0;
      for (const [name, count] of perNode) if (snapshot.domainOf(name, HOSTNAME_LABEL) === host) hostCount += count;
    }
    const zoneCount = zone !== undefined ? (perZone.get(zone) ?? 0) : 0;
    raw.set(n.facts.name, hostCount * hostWeight + (zones.size > 0 ? zoneCount * zoneWeight : 0));
  }
  return raw;
}

function domainKey(topologyKey: string, value: string): string {
  return `${topologyKey}\0${value}`;
}

function termApplies(term: PodAffinityTerm, namespace: string, labels: Record<string, string>): boolean {
  return (term.namespaces === null || term.namespaces.has(namespace)) && term.matches(labels);
}

/** Domains (topologyKey + value) holding pods that match the term. */
function domainsOf(term: PodAffinityTerm, snapshot: ClusterSnapshot): Map<string, number> {
  const out = new Map<string, number>();
  for (const p of snapshot.podsIn(term.namespaces)) {
    if (!term.matches(p.labels)) continue;
    const value = snapshot.domainOf(p.nodeName, term.topologyKey);
    if (value === undefined) continue;
    const key = domainKey(term.topologyKey, value);
    out.set(key, (out.get(key) ?? 0) + 1);
  }
  return out;
}

export interface InterPodState {
  /** Domains the pod's required anti-affinity forbids. */
  antiAffinity: { term: PodAffinityTerm; domains: Map<string, number> }[];
  /** Domains that existing pods' required anti-affinity forbids to this pod. */
  existingAntiAffinity: Set<string>;
  existingKeys: Set<string>;
  /** Domains holding pods for each required affinity term. */
  affinity: { term: PodAffinityTerm; domains: Map<string, number> }[];
  /** No pod matches any required affinity term yet, and the pod matches them all itself: the
   *  first pod of a group that wants to be together may go anywhere. */
  affinityBootstrap: boolean;
  preferred: { term: WeightedPodAffinityTerm; sign: 1 | -1; domains: Map<string, number> }[];
}

export function interPodState(pod: PodFacts, snapshot: ClusterSnapshot): InterPodState {
  const existingAntiAffinity = new Set<string>();
  const existingKeys = new Set<string>();
  for (const other of snapshot.withAntiAffinity) {
    for (const term of other.requiredAntiAffinity) {
      if (!termApplies(term, pod.namespace, pod.labels)) continue;
      const value = snapshot.domainOf(other.nodeName, term.topologyKey);
      if (value === undefined) continue;
      existingAntiAffinity.add(domainKey(term.topologyKey, value));
      existingKeys.add(term.topologyKey);
    }
  }
  const affinity = pod.requiredAffinity.map((term) => ({ term, domains: domainsOf(term, snapshot) }));
  const affinityBootstrap = affinity.every((a) => a.domains.size === 0) && pod.requiredAffinity.every((t) => termApplies(t, pod.namespace, pod.labels));
  return {
    antiAffinity: pod.requiredAntiAffinity.map((term) => ({ term, domains: domainsOf(term, snapshot) })),
    existingAntiAffinity,
    existingKeys,
    affinity,
    affinityBootstrap,
    preferred: [
      ...pod.preferredAffinity.map((term) => ({ term, sign: 1 as const, domains: domainsOf(term, snapshot) })),
      ...pod.preferredAntiAffinity.map((term) => ({ term, sign: -1 as const, domains: domainsOf(term, snapshot) })),
    ],
  };
}

export type InterPodVerdict = true | 'anti-affinity' | 'existing-anti-affinity' | 'affinity';

export function interPodAllows(state: InterPodState, node: NodeInfo): InterPodVerdict {
  const labels = node.facts.labels;
  for (const key of state.existingKeys) {
    const value = labels[key];
    if (value !== undefined && state.existingAntiAffinity.has(domainKey(key, value))) return 'existing-anti-affinity';
  }
  for (const { term, domains } of state.antiAffinity) {
    const value = labels[term.topologyKey];
    if (value !== undefined && domains.has(domainKey(term.topologyKey, value))) return 'anti-affinity';
  }
  if (!state.affinityBootstrap) {
    for (const { term, domains } of state.affinity) {
      const value = labels[term.topologyKey];
      if (value === undefined || !domains.has(domainKey(term.topologyKey, value))) return 'affinity';
    }
  }
  return true;
}

/** Preferred affinity minus preferred anti-affinity: weight times matching pods in the node's
 *  domain of each term (higher is better). */
export function interPodRaw(state: InterPodState, node: NodeInfo): number {
  let raw = 0;
  for (const { term, sign, domains } of state.preferred) {
    const value = node.facts.labels[term.topologyKey];
    if (value === undefined) continue;
    raw += sign * term.weight * (domains.get(domainKey(term.topologyKey, value)) ?? 0);
  }
  return raw;
}
