// What the scheduler needs to know of a pod and of a node, read once from their JSON: resource
// requests in integer units (millicores, bytes), host ports, tolerations, taints, the affinity
// terms and spread constraints. Reading is forgiving (the API has validated the objects); a
// field of the wrong shape counts as absent.
import type { KObject, LabelMatcher, LabelSelector, OwnerReference } from '../model/index.ts';
import { matcherForLabelSelector, parseQuantity, SelectorError } from '../model/index.ts';

export type Resources = Record<string, number>;

export interface HostPort {
  port: number;
  protocol: string;
  /** '0.0.0.0' when unset (every address). */
  ip: string;
}

export interface Toleration {
  key: string;
  operator: 'Equal' | 'Exists';
  value: string;
  effect: string;
}

export interface Taint {
  key: string;
  value: string;
  effect: string;
}

export interface NodeSelectorRequirement {
  key: string;
  operator: string;
  values: string[];
}

export interface NodeSelectorTerm {
  matchExpressions: NodeSelectorRequirement[];
  matchFields: NodeSelectorRequirement[];
}

export interface PodAffinityTerm {
  matches: LabelMatcher;
  /** Namespaces the term looks at; null means every namespace. */
  namespaces: ReadonlySet<string> | null;
  topologyKey: string;
}

export interface WeightedPodAffinityTerm extends PodAffinityTerm {
  weight: number;
}

export interface SpreadConstraint {
  maxSkew: number;
  topologyKey: string;
  whenUnsatisfiable: 'DoNotSchedule' | 'ScheduleAnyway';
  matches: LabelMatcher;
  minDomains: number;
}

export interface PodFacts {
  key: string;
  uid: string;
  namespace: string;
  name: string;
  labels: Record<string, string>;
  nodeName: string;
  /** Requests in millicores (cpu) and bytes (memory, others), as Kubernetes sums them. */
  requests: Resources;
  /** cpu and memory with Kubernetes' defaults for a container that requests none (100m, 200Mi),
   *  used only for scoring so that best-effort pods spread too. */
  nonZeroCpu: number;
  nonZeroMemory: number;
  ports: HostPort[];
  tolerations: Toleration[];
  nodeSelector: Record<string, string>;
  /** Required node affinity terms (ORed); null when the pod has none. */
  requiredNodeTerms: NodeSelectorTerm[] | null;
  preferredNodeTerms: { weight: number; term: NodeSelectorTerm }[];
  requiredAffinity: PodAffinityTerm[];
  requiredAntiAffinity: PodAffinityTerm[];
  preferredAffinity: WeightedPodAffinityTerm[];
  preferredAntiAffinity: WeightedPodAffinityTerm[];
  spread: SpreadConstraint[];
  /** Pods of one owner (or of one label set) are spread by default; null for a lone pod. */
  group: string | null;
  terminating: boolean;
  terminal: boolean;
  creationTimestamp: string;
}

export interface NodeFacts {
  name: string;
  labels: Record<string, string>;
  ready: boolean;
  unschedulable: boolean;
  taints: Taint[];
  /** Allocatable in millicores (cpu), bytes (memory) and a count (pods). */
  allocatable: Resources;
}

export const DEFAULT_CPU_MILLIS = 100;
export const DEFAULT_MEMORY_BYTES = 200 * 1024 * 1024;

type Json = Record<string, unknown>;

function obj(value: unknown): Json | undefined {
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Json) : undefined;
}

function list(value: unknown): Json[] {
  return Array.isArray(value) ? value.map(obj).filter((v): v is Json => v !== undefined) : [];
}

function str(value: unknown): string {
  return typeof value === 'string' ? value : '';
}

function stringMap(value: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(obj(value) ?? {})) if (typeof v === 'string') out[k] = v;
  return out;
}

/** A quantity in the scheduler's integer unit for the resource (millicores for cpu). */
export function quantityOf(resource: string, value: unknown): number {
  if (typeof value !== 'string' && typeof value !== 'number') return 0;
  let parsed: number;
  try {
    parsed = parseQuantity(value);
  } catch {
    return 0;
  }
  return resource === 'cpu' ? Math.ceil(parsed * 1000 - 1e-9) : Math.ceil(parsed - 1e-9);
}

function containerRequests(container: Json): Resources {
  const resources = obj(container['resources']) ?? {};
  const requests = obj(resources['requests']) ?? {};
  const limits = obj(resources['limits']) ?? {};
  const out: Resources = {};
  // As Kubernetes' defaulting: a limit without a request requests the limit.
  for (const [name, value] of Object.entries({ ...limits, ...requests })) out[name] = quantityOf(name, value);
  return out;
}

/** The pod's effective requests: the containers' sum, or an init container's if larger. */
export function podRequests(spec: Json): Resources {
  const total: Resources = {};
  for (const c of list(spec['containers'])) for (const [name, v] of Object.entries(containerRequests(c))) total[name] = (total[name] ?? 0) + v;
  for (const c of list(spec['initContainers'])) {
    for (const [name, v] of Object.entries(containerRequests(c))) if (v > (total[name] ?? 0)) total[name] = v;
  }
  return total;
}

function nonZero(spec: Json, resource: 'cpu' | 'memory', fallback: number): number {
  let sum = 0;
  for (const c of list(spec['containers'])) {
    const v = containerRequests(c)[resource];
    sum += v === undefined || v === 0 ? fallback : v;
  }
  return sum;
}

function hostPorts(spec: Json): HostPort[] {
  const out: HostPort[] = [];
  const hostNetwork = spec['hostNetwork'] === true;
  for (const c of [...list(spec['initContainers']), ...list(spec['containers'])]) {
    for (const p of list(c['ports'])) {
      // On the host's network a container port is a host port (Kubernetes defaults it so).
      const port = typeof p['hostPort'] === 'number' && p['hostPort'] > 0 ? p['hostPort'] : hostNetwork && typeof p['containerPort'] === 'number' ? p['containerPort'] : 0;
      if (port > 0) out.push({ port, protocol: str(p['protocol']) || 'TCP', ip: str(p['hostIP']) || '0.0.0.0' });
    }
  }
  return out;
}

function tolerationsOf(spec: Json): Toleration[] {
  return list(spec['tolerations']).map((t) => ({
    key: str(t['key']),
    operator: t['operator'] === 'Exists' ? 'Exists' : 'Equal',
    value: str(t['value']),
    effect: str(t['effect']),
  }));
}

function requirements(value: unknown): NodeSelectorRequirement[] {
  return list(value).map((r) => ({ key: str(r['key']), operator: str(r['operator']), values: Array.isArray(r['values']) ? r['values'].map(String) : [] }));
}

function nodeTerm(value: unknown): NodeSelectorTerm {
  const t = obj(value) ?? {};
  return { matchExpressions: requirements(t['matchExpressions']), matchFields: requirements(t['matchFields']) };
}

/** A label selector as a matcher; one that does not parse matches nothing (the API checks them). */
function selectorMatcher(selector: unknown, extra: Record<string, string> = {}): LabelMatcher {
  const s = obj(selector);
  if (!s) return () => false;
  try {
    const merged: LabelSelector = { ...(s as LabelSelector), matchLabels: { ...stringMap(s['matchLabels']), ...extra } };
    return matcherForLabelSelector(merged);
  } catch (error) {
    if (error instanceof SelectorError) return () => false;
    throw error;
  }
}

/** The label values the pod has for `keys` (matchLabelKeys of spread constraints and terms). */
function labelValues(keys: unknown, labels: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  if (Array.isArray(keys)) for (const k of keys) if (typeof k === 'string' && labels[k] !== undefined) out[k] = labels[k];
  return out;
}

function podAffinityTerm(value: Json, namespace: string, labels: Record<string, string>): PodAffinityTerm {
  const names = Array.isArray(value['namespaces']) ? value['namespaces'].filter((n): n is string => typeof n === 'string') : [];
  const nsSelector = obj(value['namespaceSelector']);
  // An empty namespaceSelector selects every namespace; one with terms would need the
  // namespaces' labels, which the scheduler does not watch: it then adds no namespace.
  const everyNamespace = nsSelector !== undefined && Object.keys(nsSelector).every((k) => (Array.isArray(nsSelector[k]) ? nsSelector[k].length === 0 : Object.keys(obj(nsSelector[k]) ?? {}).length === 0));
  return {
    matches: selectorMatcher(value['labelSelector'], labelValues(value['matchLabelKeys'], labels)),
    namespaces: everyNamespace ? null : new Set(names.length > 0 ? names : nsSelector ? [] : [namespace]),
    topologyKey: str(value['topologyKey']),
  };
}

function weighted(value: unknown, namespace: string, labels: Record<string, string>): WeightedPodAffinityTerm[] {
  return list(value).map((w) => ({ weight: typeof w['weight'] === 'number' ? w['weight'] : 0, ...podAffinityTerm(obj(w['podAffinityTerm']) ?? {}, namespace, labels) }));
}

function spreadConstraints(spec: Json, labels: Record<string, string>): SpreadConstraint[] {
  return list(spec['topologySpreadConstraints']).map((c) => ({
    maxSkew: typeof c['maxSkew'] === 'number' && c['maxSkew'] > 0 ? c['maxSkew'] : 1,
    topologyKey: str(c['topologyKey']),
    whenUnsatisfiable: c['whenUnsatisfiable'] === 'ScheduleAnyway' ? 'ScheduleAnyway' : 'DoNotSchedule',
    matches: selectorMatcher(c['labelSelector'], labelValues(c['matchLabelKeys'], labels)),
    minDomains: typeof c['minDomains'] === 'number' && c['minDomains'] > 0 ? c['minDomains'] : 1,
  }));
}

/** The group a pod spreads with by default: its controller, else its exact label set. */
function groupOf(namespace: string, labels: Record<string, string>, owners: unknown): string | null {
  const controller = (Array.isArray(owners) ? (owners as OwnerReference[]) : []).find((o) => o && o.controller === true && typeof o.uid === 'string');
  if (controller) return `${namespace}/owner/${controller.uid}`;
  const keys = Object.keys(labels).sort();
  if (keys.length === 0) return null;
  return `${namespace}/labels/${keys.map((k) => `${k}=${labels[k]}`).join(',')}`;
}

export function podKeyOf(pod: KObject): string {
  return `${pod.metadata.namespace ?? ''}/${pod.metadata.name ?? ''}`;
}

export function isTerminalPod(pod: KObject): boolean {
  const phase = obj(pod['status'])?.['phase'];
  return phase === 'Succeeded' || phase === 'Failed';
}

export function podFacts(pod: KObject): PodFacts {
  const spec = obj(pod['spec']) ?? {};
  const namespace = pod.metadata.namespace ?? '';
  const labels = pod.metadata.labels ?? {};
  const affinity = obj(spec['affinity']) ?? {};
  const nodeAffinity = obj(affinity['nodeAffinity']) ?? {};
  const required = obj(nodeAffinity['requiredDuringSchedulingIgnoredDuringExecution']);
  const podAffinity = obj(affinity['podAffinity']) ?? {};
  const podAntiAffinity = obj(affinity['podAntiAffinity']) ?? {};
  return {
    key: podKeyOf(pod),
    uid: pod.metadata.uid ?? '',
    namespace,
    name: pod.metadata.name ?? '',
    labels,
    nodeName: str(spec['nodeName']),
    requests: podRequests(spec),
    nonZeroCpu: nonZero(spec, 'cpu', DEFAULT_CPU_MILLIS),
    nonZeroMemory: nonZero(spec, 'memory', DEFAULT_MEMORY_BYTES),
    ports: hostPorts(spec),
    tolerations: tolerationsOf(spec),
    nodeSelector: stringMap(spec['nodeSelector']),
    requiredNodeTerms: required ? list(required['nodeSelectorTerms']).map(nodeTerm) : null,
    preferredNodeTerms: list(nodeAffinity['preferredDuringSchedulingIgnoredDuringExecution']).map((p) => ({ weight: typeof p['weight'] === 'number' ? p['weight'] : 0, term: nodeTerm(p['preference']) })),
    requiredAffinity: list(podAffinity['requiredDuringSchedulingIgnoredDuringExecution']).map((t) => podAffinityTerm(t, namespace, labels)),
    requiredAntiAffinity: list(podAntiAffinity['requiredDuringSchedulingIgnoredDuringExecution']).map((t) => podAffinityTerm(t, namespace, labels)),
    preferredAffinity: weighted(podAffinity['preferredDuringSchedulingIgnoredDuringExecution'], namespace, labels),
    preferredAntiAffinity: weighted(podAntiAffinity['preferredDuringSchedulingIgnoredDuringExecution'], namespace, labels),
    spread: spreadConstraints(spec, labels),
    group: groupOf(namespace, labels, pod.metadata.ownerReferences),
    terminating: typeof pod.metadata.deletionTimestamp === 'string',
    terminal: isTerminalPod(pod),
    creationTimestamp: pod.metadata.creationTimestamp ?? '',
  };
}

export function nodeFacts(node: KObject): NodeFacts {
  const spec = obj(node['spec']) ?? {};
  const status = obj(node['status']) ?? {};
  const allocatable: Resources = {};
  for (const [name, value] of Object.entries(obj(status['allocatable']) ?? {})) allocatable[name] = quantityOf(name, value);
  const ready = list(status['conditions']).some((c) => c['type'] === 'Ready' && c['status'] === 'True');
  return {
    name: node.metadata.name ?? '',
    labels: node.metadata.labels ?? {},
    ready,
    unschedulable: spec['unschedulable'] === true,
    taints: list(spec['taints']).map((t) => ({ key: str(t['key']), value: str(t['value']), effect: str(t['effect']) })),
    allocatable,
  };
}
