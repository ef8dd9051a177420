// The scheduler's picture of the cluster for one pass: each node with what its pods already take
// (requests, pod count, host ports) and, per spreading group, how many pods of the group each
// node has. Built once per pass from the informers, then updated as each pod is placed, so a
// burst of pods sees its own earlier choices (kube-scheduler's "assumed" pods).
import type { KObject } from '../model/index.ts';
import type { HostPort, NodeFacts, PodFacts, Resources } from './facts.ts';
import { nodeFacts, podFacts } from './facts.ts';

export interface NodeInfo {
  facts: NodeFacts;
  /** Sum of the requests of the node's pods (terminal pods excluded). */
  requested: Resources;
  nonZeroCpu: number;
  nonZeroMemory: number;
  podCount: number;
  ports: HostPort[];
  pods: PodFacts[];
}

export const ZONE_LABEL = 'topology.kubernetes.io/zone';
export const HOSTNAME_LABEL = 'kubernetes.io/hostname';

export class ClusterSnapshot {
  readonly nodes = new Map<string, NodeInfo>();
  /** Non-terminal pods bound to a node (known or not), by namespace. */
  readonly #podsByNamespace = new Map<string, PodFacts[]>();
  /** Non-terminal bound pods with required anti-affinity terms (checked against every newcomer). */
  readonly withAntiAffinity: PodFacts[] = [];
  /** Per spreading group: pods per node name (terminating pods do not count). */
  readonly #groups = new Map<string, Map<string, number>>();

  static of(nodes: readonly KObject[], pods: readonly KObject[]): ClusterSnapshot {
    const snapshot = new ClusterSnapshot();
    for (const node of nodes) snapshot.addNode(node);
    for (const pod of pods) {
      const facts = podFacts(pod);
      if (facts.nodeName !== '') snapshot.addPod(facts, facts.nodeName);
    }
    return snapshot;
  }

  addNode(node: KObject): void {
    const facts = nodeFacts(node);
    if (facts.name === '') return;
    this.nodes.set(facts.name, { facts, requested: {}, nonZeroCpu: 0, nonZeroMemory: 0, podCount: 0, ports: [], pods: [] });
  }

  /** Counts a pod as running on `nodeName` (bound, or just chosen there). Terminal pods take
   *  nothing. A node the snapshot does not know still counts for spreading and affinity. */
  addPod(pod: PodFacts, nodeName: string): void {
    if (pod.terminal) return;
    const placed = pod.nodeName === nodeName ? pod : { ...pod, nodeName };
    const node = this.nodes.get(nodeName);
    if (node) {
      for (const [name, v] of Object.entries(placed.requests)) node.requested[name] = (node.requested[name] ?? 0) + v;
      node.nonZeroCpu += placed.nonZeroCpu;
      node.nonZeroMemory += placed.nonZeroMemory;
      node.podCount += 1;
      node.ports.push(...placed.ports);
      node.pods.push(placed);
    }
    let inNamespace = this.#podsByNamespace.get(placed.namespace);
    if (!inNamespace) this.#podsByNamespace.set(placed.namespace, (inNamespace = []));
    inNamespace.push(placed);
    if (placed.requiredAntiAffinity.length > 0) this.withAntiAffinity.push(placed);
    if (placed.group !== null && !placed.terminating) {
      let counts = this.#groups.get(placed.group);
      if (!counts) this.#groups.set(placed.group, (counts = new Map()));
      counts.set(nodeName, (counts.get(nodeName) ?? 0) + 1);
    }
  }

  /** Non-terminal bound pods of a namespace, or of every namespace when `namespaces` is null. */
  podsIn(namespaces: ReadonlySet<string> | null): PodFacts[] {
    if (namespaces === null) return [...this.#podsByNamespace.values()].flat();
    const out: PodFacts[] = [];
    for (const ns of namespaces) out.push(...(this.#podsByNamespace.get(ns) ?? []));
    return out;
  }

  /** Pods of the spreading group per node name. */
  groupCounts(group: string): ReadonlyMap<string, number> {
    return this.#groups.get(group) ?? new Map();
  }

  /** The value of a topology label for the node `name` ('' when unknown or unlabelled). */
  domainOf(nodeName: string, topologyKey: string): string | undefined {
    return this.nodes.get(nodeName)?.facts.labels[topologyKey];
  }
}
