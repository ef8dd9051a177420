// From Services and Endpoints to the listeners one gateway should have: pure, so the rules
// (which Services get a listener, which endpoint port serves which Service port) are tested
// without sockets. Objects are read defensively: they come from the replica as stored JSON.
import { isIPv4 as netIsIPv4 } from 'node:net';
import type { KObject } from '../model/index.ts';

export type Protocol = 'TCP' | 'UDP';

/** One ready endpoint of a Service port. */
export interface Backend {
  ip: string;
  port: number;
  /** The Node the endpoint's pod runs on, when the Endpoints say (traffic policy `Local`). */
  nodeName?: string;
  /** `ip:port`: the backend's identity for round robin, affinity and being marked down. */
  key: string;
}

/** What every listener of one Service port forwards to. */
export interface RouteSpec {
  /** `namespace/name:portName/PROTOCOL`: one balancer (round robin, affinity) per Service port;
   *  with ` local` after it for the same port's traffic policy `Local` (this gateway's endpoints). */
  key: string;
  service: string;
  portName: string;
  protocol: Protocol;
  /** Kubernetes' `sessionAffinity: ClientIP` timeout; null without affinity. */
  affinityTimeoutMs: number | null;
  backends: Backend[];
}

export interface ListenerSpec {
  /** `PROTOCOL host:port`: two Services can never share one. */
  key: string;
  protocol: Protocol;
  host: string;
  port: number;
  /** The ClusterIP this listener serves (it must be on the loopback), or null for a NodePort. */
  clusterIP: string | null;
  route: RouteSpec;
}

export interface ListenerPlan {
  listeners: ListenerSpec[];
  routes: RouteSpec[];
  /** Every ClusterIP that has a listener: the addresses the loopback must carry. */
  clusterIPs: Set<string>;
  /** Listeners that could not be had, with why (two Services on one NodePort, say). */
  conflicts: string[];
}

export interface PlanOptions {
  /** Where a NodePort listens: 0.0.0.0 or one host address. */
  nodeAddress: string;
  /** Where a ClusterIP's listener binds; the ClusterIP itself in production, 127.0.0.x in tests. */
  clusterListenAddress: (clusterIP: string) => string;
  /** This gateway's Node: traffic policy `Local` keeps to the endpoints on it. Without it, `Local`
   *  keeps to none. */
  nodeName?: string;
}

/** Kubernetes' default `sessionAffinityConfig.clientIP.timeoutSeconds` (3 hours). */
export const DEFAULT_AFFINITY_TIMEOUT_SECONDS = 10_800;

/** A string holding an IPv4 address (object fields are unknown until checked). */
export function isIPv4(text: unknown): text is string {
  return typeof text === 'string' && netIsIPv4(text);
}

type Json = Record<string, unknown>;
const asObject = (value: unknown): Json => (value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Json) : {});
const asArray = (value: unknown): unknown[] => (Array.isArray(value) ? value : []);
const isPort = (value: unknown): value is number => typeof value === 'number' && Number.isInteger(value) && value > 0 && value < 65536;

function protocolOf(value: unknown): Protocol | null {
  if (value === undefined || value === 'TCP') return 'TCP';
  if (value === 'UDP') return 'UDP';
  return null; // SCTP and anything else: not balanced here
}

/** A Service balanced by the proxy: has a ClusterIP (not headless) and is not an ExternalName. */
export function balancedClusterIP(service: KObject): string | null {
  const spec = asObject(service['spec']);
  if (spec['type'] === 'ExternalName') return null;
  const ip = spec['clusterIP'];
  return isIPv4(ip) ? ip : null;
}

/** The ready endpoints for one Service port: the Endpoints port with the same name and protocol
 *  (an unnamed Service port matches the unnamed endpoint port, as the endpoints controller writes
 *  them). Not-ready addresses are never used. */
export function backendsFor(endpoints: KObject | undefined, portName: string, protocol: Protocol): Backend[] {
  if (!endpoints) return [];
  const out: Backend[] = [];
  const seen = new Set<string>();
  for (const subsetValue of asArray(endpoints['subsets'])) {
    const subset = asObject(subsetValue);
    const port = asArray(subset['ports'])
      .map(asObject)
      .find((p) => (typeof p['name'] === 'string' ? p['name'] : '') === portName && protocolOf(p['protocol']) === protocol);
    if (!port || !isPort(port['port'])) continue;
    for (const addressValue of asArray(subset['addresses'])) {
      const address = asObject(addressValue);
      const ip = address['ip'];
      if (!isIPv4(ip)) continue;
      const key = `${ip}:${port['port']}`;
      if (seen.has(key)) continue;
      seen.add(key);
      const nodeName = address['nodeName'];
      out.push({ ip, port: port['port'], key, ...(typeof nodeName === 'string' ? { nodeName } : {}) });
    }
  }
  return out;
}

function affinityTimeoutMs(spec: Json): number | null {
  if (spec['sessionAffinity'] !== 'ClientIP') return null;
  const seconds = asObject(asObject(spec['sessionAffinityConfig'])['clientIP'])['timeoutSeconds'];
  return (typeof seconds === 'number' && seconds > 0 ? seconds : DEFAULT_AFFINITY_TIMEOUT_SECONDS) * 1000;
}

/** The listeners and routes the given Services and Endpoints call for. Sorted by Service so that
 *  two Services claiming one port resolve the same way on every pass (the first keeps it). */
export function planListeners(services: readonly KObject[], endpointsOf: (namespace: string, name: string) => KObject | undefined, options: PlanOptions): ListenerPlan {
  const plan: ListenerPlan = { listeners: [], routes: [], clusterIPs: new Set(), conflicts: [] };
  const taken = new Map<string, string>();
  const sorted = [...services].sort((a, b) => serviceName(a).localeCompare(serviceName(b)));
  for (const service of sorted) {
    const clusterIP = balancedClusterIP(service);
    if (!clusterIP) continue;
    const spec = asObject(service['spec']);
    const namespace = service.metadata.namespace ?? 'default';
    const name = String(service.metadata.name);
    const endpoints = endpointsOf(namespace, name);
    const affinity = affinityTimeoutMs(spec);
    for (const portValue of asArray(spec['ports'])) {
      const port = asObject(portValue);
      const protocol = protocolOf(port['protocol']);
      if (!protocol || !isPort(port['port'])) continue;
      const portName = typeof port['name'] === 'string' ? port['name'] : '';
      const backends = backendsFor(endpoints, portName, protocol);
      // One route per traffic policy in use: ClusterIP traffic follows internalTrafficPolicy,
      // NodePort traffic externalTrafficPolicy; `Local` keeps to this gateway's endpoints.
      const routes = new Map<boolean, RouteSpec>();
      const routeFor = (local: boolean): RouteSpec => {
        let route = routes.get(local);
        if (!route) {
          route = {
            key: `${namespace}/${name}:${portName}/${protocol}${local ? ' local' : ''}`,
            service: `${namespace}/${name}`,
            portName,
            protocol,
            affinityTimeoutMs: affinity,
            backends: local ? backends.filter((b) => options.nodeName !== undefined && b.nodeName === options.nodeName) : backends,
          };
          routes.set(local, route);
          plan.routes.push(route);
        }
        return route;
      };
      const wanted: ListenerSpec[] = [
        { key: '', protocol, host: options.clusterListenAddress(clusterIP), port: port['port'], clusterIP, route: routeFor(spec['internalTrafficPolicy'] === 'Local') },
      ];
      if (spec['type'] === 'NodePort' && isPort(port['nodePort'])) {
        wanted.push({ key: '', protocol, host: options.nodeAddress, port: port['nodePort'], clusterIP: null, route: routeFor(spec['externalTrafficPolicy'] === 'Local') });
      }
      for (const listener of wanted) {
        listener.key = `${protocol} ${listener.host}:${listener.port}`;
        const holder = taken.get(listener.key);
        if (holder !== undefined) {
          plan.conflicts.push(`${listener.route.service} port ${portName || listener.port}: ${listener.key} is already served for ${holder}`);
          continue;
        }
        taken.set(listener.key, listener.route.service);
        plan.listeners.push(listener);
        if (listener.clusterIP) plan.clusterIPs.add(listener.clusterIP);
      }
    }
  }
  return plan;
}

function serviceName(service: KObject): string {
  return `${service.metadata.namespace ?? ''}/${service.metadata.name ?? ''}`;
}
