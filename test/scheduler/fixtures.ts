// Nodes and pods as the API stores them, small enough to read in a test line.
import type { KObject } from '../../src/model/index.ts';
import { ClusterSnapshot, podFacts, schedulePod } from '../../src/scheduler/index.ts';

export interface NodeSpec {
  zone?: string;
  cpu?: string;
  memory?: string;
  pods?: string;
  ready?: boolean;
  unschedulable?: boolean;
  taints?: { key: string; value?: string; effect: string }[];
  labels?: Record<string, string>;
}

export function node(name: string, o: NodeSpec = {}): KObject {
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name, resourceVersion: '1', labels: { 'kubernetes.io/hostname': name, ...(o.zone ? { 'topology.kubernetes.io/zone': o.zone } : {}), ...(o.labels ?? {}) } },
    spec: { ...(o.unschedulable ? { unschedulable: true } : {}), ...(o.taints ? { taints: o.taints } : {}) },
    status: {
      allocatable: { cpu: o.cpu ?? '4', memory: o.memory ?? '8Gi', pods: o.pods ?? '110' },
      conditions: [{ type: 'Ready', status: o.ready === false ? 'False' : 'True' }],
    },
  };
}

export interface PodSpec {
  cpu?: string;
  memory?: string;
  labels?: Record<string, string>;
  owner?: string;
  nodeName?: string;
  phase?: string;
  deleting?: boolean;
  hostPort?: number;
  protocol?: string;
  hostIP?: string;
  spec?: Record<string, unknown>;
  namespace?: string;
}

let uidCounter = 0;

export function pod(name: string, o: PodSpec = {}): KObject {
  const requests: Record<string, string> = {};
  if (o.cpu) requests['cpu'] = o.cpu;
  if (o.memory) requests['memory'] = o.memory;
  const port = o.hostPort ? [{ containerPort: 80, hostPort: o.hostPort, ...(o.protocol ? { protocol: o.protocol } : {}), ...(o.hostIP ? { hostIP: o.hostIP } : {}) }] : undefined;
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name,
      namespace: o.namespace ?? 'default',
      uid: `uid-${name}-${++uidCounter}`,
      resourceVersion: '1',
      creationTimestamp: '2026-01-01T00:00:00Z',
      labels: o.labels ?? {},
      ...(o.owner ? { ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: o.owner, uid: `owner-${o.owner}`, controller: true }] } : {}),
      ...(o.deleting ? { deletionTimestamp: '2026-01-01T00:00:10Z' } : {}),
    },
    spec: {
      ...(o.nodeName ? { nodeName: o.nodeName } : {}),
      containers: [{ name: 'c', image: 'busybox', ...(Object.keys(requests).length ? { resources: { requests } } : {}), ...(port ? { ports: port } : {}) }],
      ...(o.spec ?? {}),
    },
    status: { phase: o.phase ?? (o.nodeName ? 'Running' : 'Pending') },
  };
}

/** Places pods one after another the way the runner does in one pass (each choice assumed). */
export function placeAll(snapshot: ClusterSnapshot, pods: KObject[]): (string | null)[] {
  return pods.map((p) => {
    const facts = podFacts(p);
    const decision = schedulePod(facts, snapshot);
    if (decision.nodeName !== null) snapshot.addPod(facts, decision.nodeName);
    return decision.nodeName;
  });
}

export function countBy(names: (string | null)[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const n of names) out[String(n)] = (out[String(n)] ?? 0) + 1;
  return out;
}
