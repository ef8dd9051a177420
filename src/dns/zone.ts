// The cluster zone as data: every name the Kubernetes DNS specification gives the Services,
// Endpoints and Pods of the replica, with its records, built in one pass whenever the data changed
// (a few thousand names take a few milliseconds). A lookup is then two map reads, and the rules
// that tell NXDOMAIN from NODATA fall out of which names exist (an empty non-terminal such as
// `_tcp.web.default.svc.cluster.local` exists, so it is NODATA, never NXDOMAIN: RFC 8020).
import { isIPv4 } from 'node:net';
import type { KObject } from '../model/index.ts';
import type { DnsData } from './data.ts';
import { TYPE_A, TYPE_ANY, TYPE_CNAME, TYPE_NS, TYPE_PTR, TYPE_SOA, TYPE_SRV, TYPE_TXT, RCODE_NOERROR, RCODE_NXDOMAIN } from './wire.ts';

/** TTL of every cluster record and of the SOA's negative-answer time: short, because Services
 *  and Pods come and go and clients cache. */
export const CLUSTER_TTL_SECONDS = 5;
/** The schema version the `dns-version` TXT record names (kubernetes/dns docs/specification.md). */
export const DNS_SCHEMA_VERSION = '1.1.0';
const TOLERATE_UNREADY = 'service.alpha.kubernetes.io/tolerate-unready-endpoints';

export type RecordData =
  | { type: typeof TYPE_A; address: string }
  | { type: typeof TYPE_CNAME | typeof TYPE_PTR | typeof TYPE_NS; target: string }
  | { type: typeof TYPE_SRV; priority: number; weight: number; port: number; target: string }
  | { type: typeof TYPE_TXT; text: string }
  | { type: typeof TYPE_SOA; mname: string; rname: string; serial: number; refresh: number; retry: number; expire: number; minimum: number };

export interface ZoneRecord {
  /** Lowercase, dotted, no trailing dot. */
  name: string;
  ttl: number;
  data: RecordData;
}

export interface ZoneAnswer {
  rcode: number;
  answers: ZoneRecord[];
  authority: ZoneRecord[];
  additionals: ZoneRecord[];
}

interface ZoneNode {
  records: Map<number, ZoneRecord[]>;
}

export class ClusterZone {
  readonly domain: string;
  readonly soa: ZoneRecord;
  readonly #nodes = new Map<string, ZoneNode>();
  /** Reverse names (`d.c.b.a.in-addr.arpa`): we answer only those we have, and forward the rest. */
  readonly #reverse = new Map<string, ZoneRecord[]>();
  readonly #suffix: string;

  constructor(domain: string, serial: number) {
    this.domain = domain;
    this.#suffix = `.${domain}`;
    this.soa = {
      name: domain,
      ttl: CLUSTER_TTL_SECONDS,
      data: { type: TYPE_SOA, mname: `ns.dns.${domain}`, rname: `hostmaster.${domain}`, serial, refresh: 7200, retry: 1800, expire: 86400, minimum: CLUSTER_TTL_SECONDS },
    };
    this.add(this.soa);
    this.add({ name: domain, ttl: CLUSTER_TTL_SECONDS, data: { type: TYPE_NS, target: `ns.dns.${domain}` } });
    this.add({ name: `dns-version.${domain}`, ttl: CLUSTER_TTL_SECONDS, data: { type: TYPE_TXT, text: DNS_SCHEMA_VERSION } });
    // Always present, even with nothing under them yet.
    this.#touch(`svc.${domain}`);
    this.#touch(`pod.${domain}`);
  }

  /** Whether `name` (lowercase, dotted) is ours to answer: the cluster domain and below, and the
   *  reverse names of the cluster's addresses. */
  owns(name: string): boolean {
    return name === this.domain || name.endsWith(this.#suffix) || this.#reverse.has(name);
  }

  lookup(name: string, qtype: number): ZoneAnswer {
    const reverse = this.#reverse.get(name);
    if (reverse) {
      if (qtype === TYPE_PTR || qtype === TYPE_ANY) return { rcode: RCODE_NOERROR, answers: reverse, authority: [], additionals: [] };
      return { rcode: RCODE_NOERROR, answers: [], authority: [this.soa], additionals: [] };
    }
    const node = this.#nodes.get(name);
    if (!node) return { rcode: RCODE_NXDOMAIN, answers: [], authority: [this.soa], additionals: [] };
    const cname = node.records.get(TYPE_CNAME);
    if (cname && qtype !== TYPE_CNAME) return { rcode: RCODE_NOERROR, answers: cname, authority: [], additionals: [] };
    const answers = qtype === TYPE_ANY ? [...node.records.values()].flat() : (node.records.get(qtype) ?? []);
    if (answers.length === 0) return { rcode: RCODE_NOERROR, answers: [], authority: [this.soa], additionals: [] };
    const additionals: ZoneRecord[] = [];
    if (qtype === TYPE_SRV) {
      // The targets' addresses, so a client needs no second query (the specification allows it).
      const seen = new Set<string>();
      for (const record of answers) {
        if (record.data.type !== TYPE_SRV || seen.has(record.data.target)) continue;
        seen.add(record.data.target);
        additionals.push(...(this.#nodes.get(record.data.target)?.records.get(TYPE_A) ?? []));
      }
    }
    return { rcode: RCODE_NOERROR, answers, authority: [], additionals };
  }

  /** Adds a record under the cluster domain (and its ancestors as empty names). */
  add(record: ZoneRecord): void {
    const list = this.#touch(record.name).records;
    const existing = list.get(record.data.type);
    if (!existing) list.set(record.data.type, [record]);
    else if (!existing.some((r) => sameData(r.data, record.data))) existing.push(record);
  }

  /** Makes `name` exist with no records of its own. */
  declare(name: string): void {
    this.#touch(name);
  }

  addReverse(address: string, target: string): void {
    const name = reverseName(address);
    if (name === null || this.#reverse.has(name)) return;
    this.#reverse.set(name, [{ name, ttl: CLUSTER_TTL_SECONDS, data: { type: TYPE_PTR, target } }]);
  }

  #touch(name: string): ZoneNode {
    let node = this.#nodes.get(name);
    if (node) return node;
    node = { records: new Map() };
    this.#nodes.set(name, node);
    // Every ancestor up to the cluster domain exists too (empty non-terminals).
    let at = name.indexOf('.');
    while (at !== -1) {
      const parent = name.slice(at + 1);
      if (parent.length < this.domain.length || this.#nodes.has(parent)) break;
      this.#nodes.set(parent, { records: new Map() });
      at = name.indexOf('.', at + 1);
    }
    return node;
  }
}

function sameData(a: RecordData, b: RecordData): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/** `10.43.0.1` → `1.0.43.10.in-addr.arpa`; null for anything but an IPv4 address. */
export function reverseName(address: string): string | null {
  if (!isIPv4(address)) return null;
  return `${address.split('.').reverse().join('.')}.in-addr.arpa`;
}

/** `10.42.0.5` → `10-42-0-5`: the name Kubernetes DNS gives an address with no hostname. */
export function dashed(address: string): string {
  return address.replaceAll('.', '-');
}

interface ServicePort {
  name?: string;
  port?: number;
  protocol?: string;
}

interface EndpointAddress {
  ip?: string;
  hostname?: string;
}

interface EndpointSubset {
  addresses?: EndpointAddress[];
  notReadyAddresses?: EndpointAddress[];
  ports?: ServicePort[];
}

function specOf(object: KObject): Record<string, unknown> {
  const spec = object['spec'];
  return spec && typeof spec === 'object' ? (spec as Record<string, unknown>) : {};
}

function stringField(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

function portsOf(value: unknown): ServicePort[] {
  return Array.isArray(value) ? (value as ServicePort[]).filter((p) => p && typeof p === 'object') : [];
}

function srvName(port: ServicePort, owner: string): string | null {
  if (!port.name || typeof port.port !== 'number') return null;
  return `_${port.name.toLowerCase()}._${(port.protocol ?? 'TCP').toLowerCase()}.${owner}`;
}

/** Builds the zone from the replica's objects. Objects that do not have the fields a record
 *  needs give no record; nothing here throws on odd data. */
export function buildZone(data: DnsData, domain: string, serial: number): ClusterZone {
  const zone = new ClusterZone(domain, serial);
  const ttl = CLUSTER_TTL_SECONDS;
  const endpointsByKey = new Map<string, KObject>();
  for (const ep of data.endpoints()) endpointsByKey.set(`${ep.metadata.namespace}/${ep.metadata.name}`, ep);

  for (const svc of data.services()) {
    const ns = svc.metadata.namespace;
    const name = svc.metadata.name;
    if (!ns || !name) continue;
    const spec = specOf(svc);
    const owner = `${name}.${ns}.svc.${domain}`.toLowerCase();
    if (spec['type'] === 'ExternalName') {
      const target = stringField(spec['externalName']);
      if (target) zone.add({ name: owner, ttl, data: { type: TYPE_CNAME, target: target.replace(/\.$/, '').toLowerCase() } });
      else zone.declare(owner);
      continue;
    }
    const clusterIP = stringField(spec['clusterIP']);
    const ports = portsOf(spec['ports']);
    if (clusterIP && clusterIP !== 'None') {
      if (!isIPv4(clusterIP)) continue;
      zone.add({ name: owner, ttl, data: { type: TYPE_A, address: clusterIP } });
      zone.addReverse(clusterIP, owner);
      for (const port of ports) {
        const srv = srvName(port, owner);
        if (srv) zone.add({ name: srv, ttl, data: { type: TYPE_SRV, priority: 0, weight: 100, port: port.port!, target: owner } });
      }
      continue;
    }
    // Headless (or not yet given an address): the name exists; its records are its endpoints.
    // An existing name with no record of its own: a headless Service with no ready endpoint is
    // NODATA, not NXDOMAIN (the specification says so).
    zone.declare(owner);
    if (clusterIP !== 'None') continue;
    const ep = endpointsByKey.get(`${ns}/${name}`);
    const subsets = ep && Array.isArray(ep['subsets']) ? (ep['subsets'] as EndpointSubset[]) : [];
    const annotations = svc.metadata.annotations ?? {};
    const includeUnready = spec['publishNotReadyAddresses'] === true || annotations[TOLERATE_UNREADY] === 'true';
    for (const subset of subsets) {
      if (!subset || typeof subset !== 'object') continue;
      const addresses = [...(Array.isArray(subset.addresses) ? subset.addresses : []), ...(includeUnready && Array.isArray(subset.notReadyAddresses) ? subset.notReadyAddresses : [])];
      // Endpoint ports are the pods' own ports, which is what a client of a headless Service dials.
      const subsetPorts = Array.isArray(subset.ports) && subset.ports.length > 0 ? portsOf(subset.ports) : ports;
      for (const address of addresses) {
        const ip = address && typeof address.ip === 'string' ? address.ip : '';
        if (!isIPv4(ip)) continue;
        const hostname = (stringField(address.hostname) ?? dashed(ip)).toLowerCase();
        const target = `${hostname}.${owner}`;
        zone.add({ name: owner, ttl, data: { type: TYPE_A, address: ip } });
        zone.add({ name: target, ttl, data: { type: TYPE_A, address: ip } });
        zone.addReverse(ip, target);
        for (const port of subsetPorts) {
          const srv = srvName(port, owner);
          if (srv) zone.add({ name: srv, ttl, data: { type: TYPE_SRV, priority: 0, weight: 100, port: port.port!, target } });
        }
      }
    }
  }

  for (const pod of data.pods()) {
    const ns = pod.metadata.namespace;
    if (!ns) continue;
    const status = pod['status'] && typeof pod['status'] === 'object' ? (pod['status'] as Record<string, unknown>) : {};
    const phase = status['phase'];
    if (phase === 'Succeeded' || phase === 'Failed') continue;
    const ips = new Set<string>();
    const podIP = stringField(status['podIP']);
    if (podIP) ips.add(podIP);
    if (Array.isArray(status['podIPs'])) for (const entry of status['podIPs'] as { ip?: unknown }[]) if (entry && typeof entry.ip === 'string') ips.add(entry.ip);
    for (const ip of ips) {
      if (!isIPv4(ip)) continue;
      const owner = `${dashed(ip)}.${ns}.pod.${domain}`.toLowerCase();
      zone.add({ name: owner, ttl, data: { type: TYPE_A, address: ip } });
      // A host-network pod has its node's address, which is not the pod's to name.
      if (specOf(pod)['hostNetwork'] !== true) zone.addReverse(ip, owner);
    }
  }
  return zone;
}
