// ClusterIPs and NodePorts for Services, given out by the API (Kubernetes' service REST
// allocators). Every allocated value is a key in the replicated store,
//   /bramble/allocations/clusterips/<ip>    /bramble/allocations/nodeports/<port>
// written in the same transaction as the Service that holds it, with a compare that the key did
// not exist. So two members creating Services at the same moment can never both get one value
// (the second transaction fails and picks again), an allocation outlives any leader change, and
// a Service is never stored without its allocations or the other way round. Deleting the
// Service deletes its keys in the same transaction; `repair()` frees what anything else leaked.
import type { FieldCause, KObject, ResourceInfo } from '../../../model/index.ts';
import { findResource, formatValue } from '../../../model/index.ts';
import type { Logger } from '../../../log/index.ts';
import type { Compare, KeyValue, RequestOp, TxnResponse } from '../../../store/kv/types.ts';
import { rangeOf } from '../../../store/kv/types.ts';
import type { ObjectStore } from '../object-store.ts';
import { encodeObject, objectKey, prefixEnd, statusFromKv } from '../object-store.ts';
import { Status } from '../status.ts';
import type { ServiceNetworkConfig } from './ranges.ts';
import { Ipv4Range, pickFree, SERVICE_NETWORK_DEFAULT, staticBandSize } from './ranges.ts';

export const CLUSTER_IP_PREFIX = '/bramble/allocations/clusterips/';
export const NODE_PORT_PREFIX = '/bramble/allocations/nodeports/';
/** Kubernetes' default for sessionAffinityConfig.clientIP.timeoutSeconds (3 hours). */
export const CLIENT_IP_TIMEOUT_SECONDS_DEFAULT = 10800;

const servicesInfo = findResource('', 'v1', 'services')!;

type Json = Record<string, unknown>;

/** Who holds an allocation: the value of its key. */
export interface AllocationOwner {
  namespace: string;
  name: string;
  uid: string;
}

interface Claim {
  key: string;
  field: string;
  value: string | number;
  /** Asked for by the client: losing it is the client's 422, not a reason to pick again. */
  requested: boolean;
}

interface Plan {
  object: KObject;
  claims: Claim[];
  releases: string[];
}

/** What is allocated, as far as this member's replica knows (the transaction has the last word). */
interface Taken {
  ips: Set<string>;
  ports: Set<number>;
}

export interface ServiceAllocatorOptions {
  store: ObjectStore;
  network?: ServiceNetworkConfig;
  random?: () => number;
  /** Transactions lost to concurrent creates before giving up (each loss picks again). */
  attemptsMax?: number;
  logger?: Logger;
}

const isObj = (v: unknown): v is Json => v !== null && typeof v === 'object' && !Array.isArray(v);
const str = (v: unknown): string => (typeof v === 'string' ? v : '');
const specOf = (o: KObject): Json => (isObj(o['spec']) ? o['spec'] : {});
const portsOf = (spec: Json): Json[] => (Array.isArray(spec['ports']) ? spec['ports'].filter(isObj) : []);
const nodePortOf = (p: Json): number => (typeof p['nodePort'] === 'number' ? p['nodePort'] : 0);

function needsClusterIP(spec: Json): boolean {
  return str(spec['type']) !== 'ExternalName';
}

/** The cluster IP a spec names: `clusterIP`, or the first of `clusterIPs` ('' for none). */
function requestedIP(spec: Json): string {
  const ips = Array.isArray(spec['clusterIPs']) ? spec['clusterIPs'] : [];
  return str(spec['clusterIP']) || str(ips[0]);
}

function ownerOf(object: KObject): AllocationOwner {
  return { namespace: object.metadata.namespace ?? '', name: object.metadata.name ?? '', uid: object.metadata.uid ?? '' };
}

function notCreated(key: string): Compare {
  return { key: Buffer.from(key), rangeEnd: Buffer.alloc(0), target: 'CREATE', result: 'EQUAL', version: 0, createRevision: 0, modRevision: 0, value: Buffer.alloc(0) };
}

function modifiedAt(key: string, modRevision: number): Compare {
  return { key: Buffer.from(key), rangeEnd: Buffer.alloc(0), target: 'MOD', result: 'EQUAL', version: 0, createRevision: 0, modRevision, value: Buffer.alloc(0) };
}

const put = (key: string, value: Buffer): RequestOp => ({ put: { key: Buffer.from(key), value, prevKv: false, ignoreValue: false } });
const del = (key: string): RequestOp => ({ deleteRange: { key: Buffer.from(key), rangeEnd: Buffer.alloc(0), prevKv: false } });
const read = (key: string): RequestOp => ({ range: rangeOf({ key: Buffer.from(key), serializable: false }) });

function invalid(field: string, value: unknown, detail: string): FieldCause {
  return { reason: 'FieldValueInvalid', field, message: `Invalid value: ${formatValue(value)}: ${detail}` };
}

export class ServiceAllocator {
  readonly #store: ObjectStore;
  readonly #range: Ipv4Range;
  readonly #network: ServiceNetworkConfig;
  readonly #random: () => number;
  readonly #attempts: number;
  readonly #log: Logger | undefined;

  constructor(options: ServiceAllocatorOptions) {
    this.#store = options.store;
    this.#network = options.network ?? SERVICE_NETWORK_DEFAULT;
    this.#range = new Ipv4Range(this.#network.clusterIpCidr);
    this.#random = options.random ?? Math.random;
    this.#attempts = options.attemptsMax ?? 16;
    this.#log = options.logger;
  }

  get clusterIpCidr(): string {
    return this.#range.cidr;
  }

  clusterIpKey(ip: string): string {
    return `${CLUSTER_IP_PREFIX}${ip}`;
  }

  nodePortKey(port: number): string {
    return `${NODE_PORT_PREFIX}${port}`;
  }

  /** The keys a stored Service holds. */
  keysOf(object: KObject): string[] {
    const spec = specOf(object);
    const keys: string[] = [];
    const ip = str(spec['clusterIP']);
    if (needsClusterIP(spec) && this.#range.contains(ip)) keys.push(this.clusterIpKey(ip));
    if (str(spec['type']) === 'NodePort') {
      for (const port of new Set(portsOf(spec).map(nodePortOf))) if (this.#inNodePortRange(port)) keys.push(this.nodePortKey(port));
    }
    return keys;
  }

  /** Stores a new Service with its allocations (or, dry, answers what would be stored). */
  async create(info: ResourceInfo, object: KObject, dryRun: boolean): Promise<KObject> {
    const name = object.metadata.name!;
    const key = objectKey(info, object.metadata.namespace, name);
    const taken = await this.#taken();
    for (let attempt = 0; attempt < this.#attempts; attempt++) {
      const plan = this.#plan(info, object, undefined, taken);
      if (dryRun) return plan.object;
      const txn = await this.#txn(
        [notCreated(key), ...plan.claims.map((c) => notCreated(c.key))],
        [put(key, encodeObject(plan.object)), ...this.#claimOps(plan, object)],
        [read(key), ...plan.claims.map((c) => read(c.key))],
      );
      if (txn.succeeded) return this.#written(plan.object, txn.revision);
      const found = txn.responses.map(firstKv);
      if (found[0]) throw Status.alreadyExists(info, name);
      this.#lost(info, name, plan.claims, found.slice(1), taken);
    }
    throw this.#busy(name);
  }

  /** Replaces a stored Service (read at `modRevision`), allocating what the new spec needs and
   *  releasing what it no longer holds. 409 Conflict when the Service changed meanwhile. */
  async replace(info: ResourceInfo, current: { object: KObject; modRevision: number }, next: KObject, dryRun: boolean): Promise<KObject> {
    const name = current.object.metadata.name!;
    const key = objectKey(info, current.object.metadata.namespace, name);
    const taken = await this.#taken();
    for (let attempt = 0; attempt < this.#attempts; attempt++) {
      const plan = this.#plan(info, next, current.object, taken);
      if (dryRun) return plan.object;
      const txn = await this.#txn(
        [modifiedAt(key, current.modRevision), ...plan.claims.map((c) => notCreated(c.key))],
        [put(key, encodeObject(plan.object)), ...this.#claimOps(plan, current.object), ...plan.releases.map(del)],
        [read(key), ...plan.claims.map((c) => read(c.key))],
      );
      if (txn.succeeded) return this.#written(plan.object, txn.revision);
      const found = txn.responses.map(firstKv);
      if (found[0]?.modRevision !== current.modRevision) {
        throw Status.conflict(info, name, 'the object has been modified; please apply your changes to the latest version and try again');
      }
      this.#lost(info, name, plan.claims, found.slice(1), taken);
    }
    throw this.#busy(name);
  }

  /** Deletes a stored Service (read at `modRevision`) and frees its allocations, in one
   *  transaction. Returns the deletion's revision; 409 Conflict when it changed meanwhile. */
  async remove(info: ResourceInfo, object: KObject, modRevision: number): Promise<number> {
    const name = object.metadata.name!;
    const key = objectKey(info, object.metadata.namespace, name);
    const txn = await this.#txn([modifiedAt(key, modRevision)], [del(key), ...this.keysOf(object).map(del)], []);
    if (!txn.succeeded) throw Status.conflict(info, name, 'the object has been modified; please apply your changes to the latest version and try again');
    return txn.revision;
  }

  /**
   * Brings the allocation keys in line with the Services (run on the leader now and then):
   * frees keys whose Service is gone (written around the API, or by a crash between versions),
   * and writes missing keys for Services that hold a value without one. Two Services holding
   * one value cannot be mended here: they are logged and answered in `duplicates`.
   */
  async repair(): Promise<{ released: string[]; restored: string[]; duplicates: string[] }> {
    // Keys first, then Services: every key read has its Service visible in the later list.
    const keys = [...(await this.#keys(CLUSTER_IP_PREFIX, false)), ...(await this.#keys(NODE_PORT_PREFIX, false))];
    const services = (await this.#store.list(servicesInfo, undefined, { serializable: false })).items;
    const wanted = new Map<string, AllocationOwner>();
    const duplicates: string[] = [];
    for (const service of services) {
      const owner = ownerOf(service);
      for (const key of this.keysOf(service)) {
        const other = wanted.get(key);
        if (other && other.uid !== owner.uid) duplicates.push(`${key.slice('/bramble/allocations/'.length)} is held by ${other.namespace}/${other.name} and ${owner.namespace}/${owner.name}`);
        else wanted.set(key, owner);
      }
    }
    const released: string[] = [];
    const restored: string[] = [];
    const stored = new Map(keys.map((kv) => [kv.key.toString('utf8'), kv]));
    for (const [key, kv] of stored) {
      const owner = wanted.get(key);
      const holder = parseOwner(kv.value);
      if (owner && holder?.uid === owner.uid) continue;
      // Gone, or now held by another Service (the key names a deleted one): rewrite or free it,
      // unless it changed since we read it (a create or delete under way has the last word).
      const ops = owner ? [put(key, ownerValue(owner))] : [del(key)];
      const txn = await this.#txn([modifiedAt(key, kv.modRevision)], ops, []);
      if (txn.succeeded) (owner ? restored : released).push(key);
    }
    for (const [key, owner] of wanted) {
      if (stored.has(key)) continue;
      const txn = await this.#txn([notCreated(key)], [put(key, ownerValue(owner))], []);
      if (txn.succeeded) restored.push(key);
    }
    for (const d of duplicates) this.#log?.warn('two Services hold one allocation; delete and create one of them again', { allocation: d });
    if (released.length + restored.length > 0) this.#log?.info('Service allocations repaired', { released, restored });
    return { released, restored, duplicates };
  }

  // --- planning ---

  /** The object to store (spec completed like Kubernetes' for IPv4 single-stack) and the keys
   *  to claim and release. Throws 422 for a requested value that cannot be had. */
  #plan(info: ResourceInfo, input: KObject, current: KObject | undefined, taken: Taken): Plan {
    const object = structuredClone(input);
    const spec = isObj(object['spec']) ? object['spec'] : (object['spec'] = {});
    const held = new Set(current ? this.keysOf(current) : []);
    const claims: Claim[] = [];
    const causes: FieldCause[] = [];
    const name = object.metadata.name!;

    if (needsClusterIP(spec)) {
      let ip = requestedIP(spec);
      if (ip === '') {
        const index = pickFree(this.#range.usable, staticBandSize(this.#range.usable, 16, 256), (i) => this.#ipFree(this.#range.at(i), taken), this.#random);
        if (index === undefined) throw Status.internal(`failed to allocate a serviceIP: range is full (no free address in ${this.#range.cidr}); delete Services you no longer need`);
        ip = this.#range.at(index);
        claims.push({ key: this.clusterIpKey(ip), field: 'spec.clusterIP', value: ip, requested: false });
      } else if (ip !== 'None' && !held.has(this.clusterIpKey(ip))) {
        const why = this.#ipRefusal(ip, object, taken);
        if (why) causes.push(invalid('spec.clusterIP', ip, why));
        else claims.push({ key: this.clusterIpKey(ip), field: 'spec.clusterIP', value: ip, requested: true });
      }
      spec['clusterIP'] = ip;
      spec['clusterIPs'] = [ip];
      spec['ipFamilies'] ??= ['IPv4'];
      spec['ipFamilyPolicy'] ??= 'SingleStack';
      spec['internalTrafficPolicy'] ??= 'Cluster';
    } else {
      // ExternalName: a DNS alias only, with no address of its own.
      for (const field of ['clusterIP', 'clusterIPs', 'ipFamilies', 'ipFamilyPolicy']) delete spec[field];
    }

    if (str(spec['type']) === 'NodePort') {
      spec['externalTrafficPolicy'] ??= 'Cluster';
      this.#planNodePorts(spec, held, taken, claims, causes);
    }
    if (str(spec['sessionAffinity']) === 'ClientIP') {
      const config = isObj(spec['sessionAffinityConfig']) ? spec['sessionAffinityConfig'] : (spec['sessionAffinityConfig'] = {});
      const clientIP = isObj(config['clientIP']) ? config['clientIP'] : (config['clientIP'] = {});
      clientIP['timeoutSeconds'] ??= CLIENT_IP_TIMEOUT_SECONDS_DEFAULT;
    }
    if (causes.length > 0) throw Status.invalid(info, name, causes);

    const keeps = new Set(this.keysOf(object));
    return { object, claims, releases: [...held].filter((k) => !keeps.has(k)) };
  }

  /** One nodePort per port; ports with the same number (TCP and UDP) share one, as in Kubernetes. */
  #planNodePorts(spec: Json, held: Set<string>, taken: Taken, claims: Claim[], causes: FieldCause[]): void {
    const ports = portsOf(spec);
    const byPortNumber = new Map<unknown, number>();
    const claimed = new Set<number>();
    ports.forEach((p, i) => {
      const nodePort = nodePortOf(p);
      if (nodePort === 0) return;
      byPortNumber.set(p['port'], nodePort);
      if (claimed.has(nodePort) || held.has(this.nodePortKey(nodePort))) return;
      claimed.add(nodePort);
      if (taken.ports.has(nodePort)) causes.push(invalid(`spec.ports[${i}].nodePort`, nodePort, 'provided port is already allocated'));
      else claims.push({ key: this.nodePortKey(nodePort), field: `spec.ports[${i}].nodePort`, value: nodePort, requested: true });
    });
    const { min, max } = this.#network.nodePorts;
    const size = max - min + 1;
    for (const p of ports) {
      if (nodePortOf(p) !== 0) continue;
      const shared = byPortNumber.get(p['port']);
      if (shared !== undefined) {
        p['nodePort'] = shared;
        continue;
      }
      const free = (i: number) => !taken.ports.has(min + i) && !claimed.has(min + i) && !held.has(this.nodePortKey(min + i));
      const index = pickFree(size, staticBandSize(size, 32, 128), free, this.#random);
      if (index === undefined) throw Status.internal(`failed to allocate a nodePort: range is full (no free port in ${min}-${max}); delete NodePort Services you no longer need`);
      p['nodePort'] = min + index;
      claimed.add(min + index);
      byPortNumber.set(p['port'], min + index);
      claims.push({ key: this.nodePortKey(min + index), field: 'spec.ports.nodePort', value: min + index, requested: false });
    }
  }

  #ipFree(ip: string, taken: Taken): boolean {
    return !taken.ips.has(ip) && !this.#network.reserved.some((r) => r.ip === ip);
  }

  /** Why a requested cluster IP cannot be had, or null. */
  #ipRefusal(ip: string, object: KObject, taken: Taken): string | null {
    if (!this.#range.contains(ip)) return `provided IP is not in the valid range. The range of valid IPs is ${this.#range.cidr}`;
    const reserved = this.#network.reserved.find((r) => r.ip === ip);
    if (reserved && reserved.owner !== `${object.metadata.namespace}/${object.metadata.name}`) return `provided IP is reserved for ${reserved.why}`;
    if (taken.ips.has(ip)) return 'provided IP is already allocated';
    return null;
  }

  #inNodePortRange(port: number): boolean {
    return port >= this.#network.nodePorts.min && port <= this.#network.nodePorts.max;
  }

  // A transaction lost a claim to a concurrent one: a requested value is the client's 422; a
  // picked one is marked taken so the next attempt picks another.
  #lost(info: ResourceInfo, name: string, claims: Claim[], found: (KeyValue | undefined)[], taken: Taken): void {
    const causes: FieldCause[] = [];
    claims.forEach((claim, i) => {
      if (!found[i]) return;
      if (typeof claim.value === 'string') taken.ips.add(claim.value);
      else taken.ports.add(claim.value);
      if (claim.requested) causes.push(invalid(claim.field, claim.value, typeof claim.value === 'string' ? 'provided IP is already allocated' : 'provided port is already allocated'));
    });
    if (causes.length > 0) throw Status.invalid(info, name, causes);
  }

  #busy(name: string): Error {
    return Status.unavailable(`could not allocate a cluster IP or node port for Service "${name}" in ${this.#attempts} attempts: other Services took each pick first; try again`);
  }

  #claimOps(plan: Plan, owner: KObject): RequestOp[] {
    const value = ownerValue(ownerOf(owner));
    return plan.claims.map((c) => put(c.key, value));
  }

  #written(object: KObject, revision: number): KObject {
    object.metadata.resourceVersion = String(revision);
    return object;
  }

  // --- store access ---

  async #taken(): Promise<Taken> {
    const ips = (await this.#keys(CLUSTER_IP_PREFIX, true)).map((kv) => kv.key.toString('utf8').slice(CLUSTER_IP_PREFIX.length));
    const ports = (await this.#keys(NODE_PORT_PREFIX, true)).map((kv) => Number(kv.key.toString('utf8').slice(NODE_PORT_PREFIX.length)));
    return { ips: new Set(ips), ports: new Set(ports) };
  }

  async #keys(prefix: string, local: boolean): Promise<KeyValue[]> {
    const key = Buffer.from(prefix);
    try {
      const { response } = await this.#store.kv.range(rangeOf({ key, rangeEnd: prefixEnd(key), serializable: local, keysOnly: local }));
      return response.kvs;
    } catch (error) {
      return statusFromKv(error);
    }
  }

  async #txn(compare: Compare[], success: RequestOp[], failure: RequestOp[]): Promise<TxnResponse & { revision: number }> {
    try {
      const { result } = await this.#store.kv.write({ op: 'txn', txn: { compare, success, failure } });
      if (result.op === 'error') throw result.error;
      if (result.op !== 'txn') throw Status.internal(`the store answered a transaction with ${result.op}`);
      return { ...result.txn, revision: result.revision };
    } catch (error) {
      return statusFromKv(error);
    }
  }
}

function firstKv(response: TxnResponse['responses'][number]): KeyValue | undefined {
  return 'range' in response ? response.range.kvs[0] : undefined;
}

function ownerValue(owner: AllocationOwner): Buffer {
  return Buffer.from(JSON.stringify(owner));
}

function parseOwner(value: Buffer): AllocationOwner | undefined {
  try {
    const parsed = JSON.parse(value.toString('utf8')) as Partial<AllocationOwner>;
    return typeof parsed.uid === 'string' ? (parsed as AllocationOwner) : undefined;
  } catch {
    return undefined;
  }
}
