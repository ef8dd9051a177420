// What a Service's Endpoints should say, computed from its pods (Kubernetes' endpoints
// controller, then RepackSubsets): each pod with an IP gives an address, ready or not ready; a
// named targetPort is looked up in each pod's containers, and a pod without that port is left
// out for that port; addresses with the same ports share one subset. Sorted, so that equal
// content is equal JSON and an unchanged Service is never written again.
import type { KObject } from '../model/index.ts';
import { canonicalJson, isJson, isPodReady, isTerminating, podPhase, specOf, statusOf, type Json } from './workload-objects.ts';

export interface EndpointPort {
  name?: string;
  port: number;
  protocol: string;
}

export interface EndpointAddress {
  ip: string;
  hostname?: string;
  nodeName?: string;
  targetRef: { kind: 'Pod'; namespace: string; name: string; uid: string };
}

export interface EndpointSubset {
  addresses?: EndpointAddress[];
  notReadyAddresses?: EndpointAddress[];
  ports?: EndpointPort[];
}

/** The container port a Service port reaches on this pod, or undefined when the pod has none. */
export function resolveTargetPort(servicePort: Json, pod: KObject): number | undefined {
  const target = servicePort['targetPort'] ?? servicePort['port'];
  if (typeof target === 'number') return target;
  if (typeof target !== 'string') return undefined;
  if (/^[0-9]+$/.test(target)) return Number(target);
  const protocol = typeof servicePort['protocol'] === 'string' ? servicePort['protocol'] : 'TCP';
  const containers = specOf(pod)['containers'];
  for (const c of Array.isArray(containers) ? containers : []) {
    if (!isJson(c) || !Array.isArray(c['ports'])) continue;
    for (const p of c['ports']) {
      if (isJson(p) && p['name'] === target && (p['protocol'] ?? 'TCP') === protocol && typeof p['containerPort'] === 'number') return p['containerPort'];
    }
  }
  return undefined;
}

function ipOf(address: EndpointAddress): number[] {
  return address.ip.split('.').map(Number);
}

function compareAddresses(a: EndpointAddress, b: EndpointAddress): number {
  const x = ipOf(a);
  const y = ipOf(b);
  for (let i = 0; i < Math.max(x.length, y.length); i++) if ((x[i] ?? 0) !== (y[i] ?? 0)) return (x[i] ?? 0) - (y[i] ?? 0);
  return a.targetRef.uid.localeCompare(b.targetRef.uid);
}

/** The pods a Service's Endpoints list: those with an IP that are not finished or being deleted. */
function listed(pod: KObject, publishNotReady: boolean): boolean {
  const ip = statusOf(pod)['podIP'];
  if (typeof ip !== 'string' || ip === '') return false;
  if (isTerminating(pod) && !publishNotReady) return false;
  const phase = podPhase(pod);
  return phase !== 'Failed' && phase !== 'Succeeded';
}

/** The subsets of the Endpoints of `service`, given the pods its selector selects. */
export function endpointSubsets(service: KObject, pods: readonly KObject[]): EndpointSubset[] {
  const spec = specOf(service);
  const publishNotReady = spec['publishNotReadyAddresses'] === true;
  const headless = spec['clusterIP'] === 'None';
  const servicePorts = (Array.isArray(spec['ports']) ? spec['ports'] : []).filter(isJson);
  const groups = new Map<string, { ports: EndpointPort[]; ready: EndpointAddress[]; notReady: EndpointAddress[] }>();
  for (const pod of pods) {
    if (!listed(pod, publishNotReady)) continue;
    const podSpec = specOf(pod);
    const address: EndpointAddress = {
      ip: String(statusOf(pod)['podIP']),
      targetRef: { kind: 'Pod', namespace: pod.metadata.namespace!, name: pod.metadata.name!, uid: pod.metadata.uid! },
    };
    if (typeof podSpec['nodeName'] === 'string' && podSpec['nodeName'] !== '') address.nodeName = podSpec['nodeName'];
    // A headless Service's DNS names its pods by hostname when they declare its subdomain.
    if (headless && typeof podSpec['hostname'] === 'string' && podSpec['hostname'] !== '' && podSpec['subdomain'] === service.metadata.name) address.hostname = podSpec['hostname'];
    const ports: EndpointPort[] = [];
    for (const sp of servicePorts) {
      const port = resolveTargetPort(sp, pod);
      if (port === undefined) continue;
      const entry: EndpointPort = { port, protocol: typeof sp['protocol'] === 'string' ? sp['protocol'] : 'TCP' };
      if (typeof sp['name'] === 'string' && sp['name'] !== '') entry.name = sp['name'];
      ports.push(entry);
    }
    // A pod that offers none of the Service's ports is not an endpoint (unless the Service has no ports).
    if (servicePorts.length > 0 && ports.length === 0) continue;
    ports.sort((a, b) => (a.name ?? '').localeCompare(b.name ?? '') || a.port - b.port || a.protocol.localeCompare(b.protocol));
    const key = canonicalJson(ports);
    let group = groups.get(key);
    if (!group) groups.set(key, (group = { ports, ready: [], notReady: [] }));
    if (isPodReady(pod) || publishNotReady) group.ready.push(address);
    else group.notReady.push(address);
  }
  const subsets: EndpointSubset[] = [];
  for (const [, group] of [...groups].sort(([a], [b]) => a.localeCompare(b))) {
    const subset: EndpointSubset = {};
    if (group.ready.length > 0) subset.addresses = group.ready.sort(compareAddresses);
    if (group.notReady.length > 0) subset.notReadyAddresses = group.notReady.sort(compareAddresses);
    if (group.ports.length > 0) subset.ports = group.ports;
    subsets.push(subset);
  }
  return subsets;
}
