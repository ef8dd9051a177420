// This gateway's Node object and its pod CIDR. Registration creates the Node when missing and
// brings up to date what this gateway owns: its default and --labels labels (labels users set
// are kept), its pod CIDR, capacity, allocatable, addresses and nodeInfo; taints,
// spec.unschedulable and the Ready condition are left as they are (the node lifecycle controller
// on the leader writes Ready transitions from the heartbeats). A Node must exist for pods bound
// here to be deleted gracefully.
//
// The pod CIDR is a /24 of 10.42.0.0/16 claimed once, at join, with a create-only key per /24
// (a compare-and-swap, so two gateways joining at once never get the same one), and kept in
// DATA/pod-cidr: a gateway that restarts without a quorum knows it without asking anyone.
import { closeSync, fsyncSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { arch, cpus, networkInterfaces, release, totalmem, type } from 'node:os';
import { join } from 'node:path';
import type { ObjectApi } from '../api/resources/index.ts';
import { StatusError } from '../api/resources/index.ts';
import { Ipv4Range } from '../api/resources/services/ranges.ts';
import { DEFAULT_CLUSTER_CIDR, SERVICE_CIDR } from '../network/config.ts';
import type { Logger } from '../log/index.ts';
import { findResource, jsonEqual } from '../model/index.ts';
import type { KObject } from '../model/index.ts';
import type { KvService } from '../store/kv/service.ts';
import { rangeOf } from '../store/kv/types.ts';
import type { AgentApi } from './ports.ts';

const nodesInfo = findResource('', 'v1', 'nodes')!;

export interface NodeFacts {
  cpuCores: number;
  memoryBytes: number;
  hostIP: string;
  osImage: string;
  kernelVersion: string;
  architecture: string;
  /** /etc/machine-id, the DMI product UUID, the kernel's boot id ('' when unreadable). */
  machineID?: string;
  systemUUID?: string;
  bootID?: string;
}

export interface NodeOptions {
  nodeName: string;
  podCidr: string;
  version: string;
  containerRuntimeVersion: string;
  reserved: { cpuMillis: number; memoryBytes: number };
  facts: NodeFacts;
  labels?: Record<string, string>;
}

/** Go's names for architectures, as Kubernetes reports them. */
export function goArch(nodeArch: string): string {
  return nodeArch === 'x64' ? 'amd64' : nodeArch === 'ia32' ? '386' : nodeArch;
}

/** Never the gateway's address: the pod and Service ranges (the pod bridge's address) and
 *  link-local (what a board gives itself when DHCP failed). */
const NOT_HOST_RANGES = [DEFAULT_CLUSTER_CIDR, SERVICE_CIDR, '169.254.0.0/16'].map((cidr) => new Ipv4Range(cidr));

/** This machine's address (its netns, for a simulated gateway): the first non-internal IPv4
 *  outside those ranges on an interface that is up, or null while there is none. */
export function hostIPv4(): string | null {
  for (const list of Object.values(networkInterfaces())) {
    for (const a of list ?? []) if (a.family === 'IPv4' && !a.internal && !NOT_HOST_RANGES.some((range) => range.contains(a.address))) return a.address;
  }
  return null;
}

/** hostIPv4, or the loopback address on a machine with no network up. */
export function firstHostIPv4(): string {
  return hostIPv4() ?? '127.0.0.1';
}

function osImage(): string {
  try {
    const text = readFileSync('/etc/os-release', 'utf8');
    const m = /^PRETTY_NAME="?([^"\n]*)"?/m.exec(text);
    if (m) return m[1]!;
  } catch {
    // not Linux, or a minimal image
  }
  return `${type()} ${release()}`;
}

function firstLine(path: string): string {
  try {
    return readFileSync(path, 'utf8').split('\n')[0]!.trim();
  } catch {
    return '';
  }
}

// The files systeminformation's uuid() reads, read directly: no child process, and the DMI
// UUID (root only, absent on most ARM boards) falls back to the device tree's serial number.
export function hostIds(): { machineID: string; systemUUID: string; bootID: string } {
  const systemUUID = firstLine('/sys/class/dmi/id/product_uuid') || firstLine('/proc/device-tree/serial-number').replace(/\0/g, '');
  return { machineID: firstLine('/etc/machine-id'), systemUUID, bootID: firstLine('/proc/sys/kernel/random/boot_id') };
}

export function hostFacts(): NodeFacts {
  return { cpuCores: cpus().length, memoryBytes: totalmem(), hostIP: firstHostIPv4(), osImage: osImage(), kernelVersion: release(), architecture: goArch(arch()), ...hostIds() };
}

/** The node's allocatable: capacity minus what the board profile keeps for the system. */
export function allocatable(facts: NodeFacts, reserved: NodeOptions['reserved']): { cpu: number; memory: number } {
  return { cpu: Math.max(0, facts.cpuCores - reserved.cpuMillis / 1000), memory: Math.max(0, facts.memoryBytes - reserved.memoryBytes) };
}

export function nodeStatus(o: NodeOptions, previous: Record<string, unknown> | undefined, now: string): Record<string, unknown> {
  const alloc = allocatable(o.facts, o.reserved);
  const conditions = Array.isArray(previous?.['conditions']) ? (previous!['conditions'] as { type: string }[]) : [];
  // An existing Ready condition is the lifecycle controller's to change (it may say Unknown).
  const ready = conditions.some((c) => c.type === 'Ready')
    ? conditions
    : [{ type: 'Ready', status: 'True', reason: 'KubeletReady', message: 'bramble agent is posting ready status', lastHeartbeatTime: now, lastTransitionTime: now }];
  return {
    capacity: { cpu: String(o.facts.cpuCores), memory: `${Math.floor(o.facts.memoryBytes / 1024)}Ki`, pods: '110' },
    allocatable: { cpu: `${Math.floor(alloc.cpu * 1000)}m`, memory: `${Math.floor(alloc.memory / 1024)}Ki`, pods: '110' },
    // No InternalIP while the gateway has no address of its own (started with its uplink down):
    // the other gateways would route its pods via the loopback; the follower adds it once up.
    addresses: [
      ...(o.facts.hostIP.startsWith('127.') ? [] : [{ type: 'InternalIP', address: o.facts.hostIP }]),
      { type: 'Hostname', address: o.nodeName },
    ],
    nodeInfo: {
      machineID: o.facts.machineID ?? '',
      systemUUID: o.facts.systemUUID ?? '',
      bootID: o.facts.bootID ?? '',
      kernelVersion: o.facts.kernelVersion,
      osImage: o.facts.osImage,
      containerRuntimeVersion: o.containerRuntimeVersion,
      kubeletVersion: `v1.29.0-bramble.${o.version}`,
      kubeProxyVersion: `v1.29.0-bramble.${o.version}`,
      operatingSystem: 'linux',
      architecture: o.facts.architecture,
    },
    conditions: ready,
  };
}

/**
 * Creates the Node if missing and brings its status up to date. Throws when the API cannot be
 * written (no quorum): the caller retries later; pods do not wait for it.
 */
export async function registerNode(api: AgentApi, o: NodeOptions, now: string): Promise<KObject> {
  let node = await api.get(nodesInfo, undefined, o.nodeName);
  if (!node) {
    const labels = { 'kubernetes.io/hostname': o.nodeName, 'kubernetes.io/os': 'linux', 'kubernetes.io/arch': o.facts.architecture, ...(o.labels ?? {}) };
    node = await api.create(nodesInfo, undefined, { apiVersion: 'v1', kind: 'Node', metadata: { name: o.nodeName, labels }, spec: { podCIDR: o.podCidr, podCIDRs: [o.podCidr] } });
  }
  const previous = (node['status'] ?? {}) as Record<string, unknown>;
  const status = nodeStatus(o, previous, now);
  if (jsonEqual(status, previous)) return node;
  return api.replaceStatus(nodesInfo, undefined, o.nodeName, node.metadata.uid!, status);
}

// ---------------------------------------------------------------------------------------------
// Registration of a gateway (start-node.ts): labels, pod CIDR and status in one write (two when
// the Node is new: the create, then its status).

/** The board profile a gateway runs with, as a label (scheduling by board). */
export const BOARD_LABEL = 'bramble.io/board';
/** Which labels came from --labels last time, so a flag label dropped since is removed. */
export const FLAG_LABELS_ANNOTATION = 'bramble.io/flag-labels';

export interface GatewayNodeOptions extends NodeOptions {
  /** The board profile's name. */
  board: string;
}

/** The labels this gateway owns: the defaults, the board, then --labels. */
export function ownLabels(o: Pick<GatewayNodeOptions, 'nodeName' | 'facts' | 'board' | 'labels'>): Record<string, string> {
  return { 'kubernetes.io/hostname': o.nodeName, 'kubernetes.io/os': 'linux', 'kubernetes.io/arch': o.facts.architecture, [BOARD_LABEL]: o.board, ...(o.labels ?? {}) };
}

/** The Node's metadata and spec with this gateway's labels and pod CIDR; everything else kept. */
export function reRegistered(current: KObject, o: GatewayNodeOptions): KObject {
  const meta = current.metadata;
  const before = (meta.annotations?.[FLAG_LABELS_ANNOTATION] ?? '').split(',').filter((k) => k !== '');
  const flagKeys = Object.keys(o.labels ?? {}).sort();
  const labels: Record<string, string> = { ...(meta.labels ?? {}) };
  for (const key of before) if (!flagKeys.includes(key)) delete labels[key];
  Object.assign(labels, ownLabels(o));
  const annotations: Record<string, string> = { ...(meta.annotations ?? {}) };
  if (flagKeys.length > 0) annotations[FLAG_LABELS_ANNOTATION] = flagKeys.join(',');
  else delete annotations[FLAG_LABELS_ANNOTATION];
  const spec = { ...((current['spec'] as Record<string, unknown> | undefined) ?? {}), podCIDR: o.podCidr, podCIDRs: [o.podCidr] };
  const next: KObject = { ...current, metadata: { ...meta, labels }, spec };
  if (Object.keys(annotations).length > 0) next.metadata.annotations = annotations;
  else delete next.metadata.annotations;
  return next;
}

/**
 * Creates this gateway's Node, or brings the existing one up to date (labels, pod CIDR, status)
 * in one write, or none when nothing changed. Throws when the store cannot be written (no
 * quorum): the caller retries; pods do not wait for it.
 */
export async function registerGatewayNode(api: ObjectApi, o: GatewayNodeOptions, now: string): Promise<KObject> {
  const fresh = (): KObject => {
    const node = reRegistered({ apiVersion: 'v1', kind: 'Node', metadata: { name: o.nodeName } }, o);
    node['status'] = nodeStatus(o, undefined, now);
    return node;
  };
  try {
    await api.get(nodesInfo, undefined, o.nodeName, false);
  } catch (error) {
    if (!(error instanceof StatusError && error.code === 404)) throw error;
    try {
      // The create's status is reset by the API (a status subresource): written just after.
      const created = await api.create(nodesInfo, undefined, fresh(), { dryRun: false });
      return await api.update(nodesInfo, undefined, o.nodeName, (current) => (current.metadata.uid === created.metadata.uid ? { ...current, status: nodeStatus(o, undefined, now) } : current), { dryRun: false });
    } catch (createError) {
      if (!(createError instanceof StatusError && createError.reason === 'AlreadyExists')) throw createError;
    }
  }
  return api.update(
    nodesInfo,
    undefined,
    o.nodeName,
    (current) => {
      const next = reRegistered(current, o);
      const previous = (current['status'] ?? {}) as Record<string, unknown>;
      const status = nodeStatus(o, previous, now);
      next['status'] = jsonEqual(status, previous) ? current['status'] : status;
      return next;
    },
    { dryRun: false },
  );
}

// ---------------------------------------------------------------------------------------------
// Pod CIDR: one /24 of the cluster CIDR per gateway.

export const CLUSTER_CIDR = DEFAULT_CLUSTER_CIDR;
/** `/bramble/podcidrs/10.42.3.0-24` → the node name that claimed it. */
export const POD_CIDR_PREFIX = '/bramble/podcidrs/';
export const POD_CIDR_FILE = 'pod-cidr';
const SUBNETS = 256;

const keyOf = (cidr: string): Buffer => Buffer.from(`${POD_CIDR_PREFIX}${cidr.replace('/', '-')}`);
const cidrOfKey = (key: Buffer): string => key.toString('utf8').slice(POD_CIDR_PREFIX.length).replace('-', '/');
export const subnetCidr = (index: number): string => `10.42.${index}.0/24`;

/** DATA/pod-cidr, when this gateway has been assigned one before. */
export function readSavedPodCidr(dataDir: string): string | undefined {
  const text = firstLine(join(dataDir, POD_CIDR_FILE));
  return text === '' ? undefined : text;
}

/** Written whole or not at all (temp file, fsync, rename): a torn file would lose the claim. */
export function savePodCidr(dataDir: string, cidr: string): void {
  const path = join(dataDir, POD_CIDR_FILE);
  const temp = `${path}.tmp`;
  const fd = openSync(temp, 'w', 0o644);
  try {
    writeSync(fd, `${cidr}\n`);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(temp, path);
}

/** Who holds which /24 now (a linearizable read). */
export async function podCidrClaims(kv: KvService): Promise<Map<string, string>> {
  const prefix = Buffer.from(POD_CIDR_PREFIX);
  const end = Buffer.from(prefix);
  end[end.length - 1]! += 1;
  const { response } = await kv.range(rangeOf({ key: prefix, rangeEnd: end }));
  return new Map(response.kvs.map((kv) => [cidrOfKey(kv.key), kv.value.toString('utf8')]));
}

/** Takes `cidr` for `node` unless someone holds it; true when it is `node`'s now. */
async function tryClaim(kv: KvService, cidr: string, node: string): Promise<boolean> {
  const key = keyOf(cidr);
  const { result } = await kv.write({
    op: 'txn',
    txn: {
      compare: [{ key, rangeEnd: Buffer.alloc(0), target: 'CREATE', result: 'EQUAL', createRevision: 0, version: 0, modRevision: 0, value: Buffer.alloc(0) }],
      success: [{ put: { key, value: Buffer.from(node), prevKv: false, ignoreValue: false } }],
      failure: [{ range: rangeOf({ key }) }],
    },
  });
  if (result.op === 'error') throw result.error;
  if (result.op !== 'txn') throw new Error(`pod CIDR claim: unexpected store answer ${result.op}`);
  if (result.txn.succeeded) return true;
  const held = result.txn.responses[0];
  return held !== undefined && 'range' in held && held.range.kvs[0]?.value.toString('utf8') === node;
}

/**
 * A /24 of 10.42.0.0/16 for `node`: the one it already holds (a claim whose save was lost), else
 * `preferred` when free (e.g. its Node's podCIDR from before), else the lowest free one. Each
 * claim is a compare-and-swap, so of two gateways claiming at once one gets the next /24.
 */
export async function claimPodCidr(kv: KvService, node: string, preferred?: string): Promise<string> {
  for (let attempt = 0; attempt < SUBNETS; attempt++) {
    const claims = await podCidrClaims(kv);
    for (const [cidr, owner] of claims) if (owner === node) return cidr;
    const inCluster = preferred !== undefined && /^10\.42\.\d{1,3}\.0\/24$/.test(preferred);
    const candidate = inCluster && !claims.has(preferred) ? preferred : [...Array(SUBNETS).keys()].map(subnetCidr).find((c) => !claims.has(c));
    if (candidate === undefined) throw new Error(`no free pod CIDR: all ${SUBNETS} /24 networks of ${CLUSTER_CIDR} are claimed; remove departed gateways' claims under ${POD_CIDR_PREFIX}`);
    if (await tryClaim(kv, candidate, node)) return candidate;
    // Someone took it in between: read the claims again.
  }
  throw new Error(`pod CIDR claim: gave up after ${SUBNETS} contended attempts`);
}

export interface PodCidrOptions {
  kv: KvService;
  api: ObjectApi;
  nodeName: string;
  dataDir: string;
  /** --pod-cidr: used as given. */
  override: string | undefined;
  logger: Logger;
  /** First retry delay; doubles up to 5 s (default 500 ms). */
  retryMillis?: number;
  signal?: AbortSignal;
}

/**
 * This gateway's pod CIDR: --pod-cidr when given; the saved one on later starts (no quorum
 * needed); on the first start a claim, retried with progress logs until the store is writable.
 */
export async function obtainPodCidr(o: PodCidrOptions): Promise<{ cidr: string; how: 'flag' | 'saved' | 'claimed' }> {
  if (o.override !== undefined) return { cidr: o.override, how: 'flag' };
  const saved = readSavedPodCidr(o.dataDir);
  if (saved !== undefined) return { cidr: saved, how: 'saved' };
  let delay = o.retryMillis ?? 500;
  for (let attempt = 1; ; attempt++) {
    o.signal?.throwIfAborted();
    try {
      let preferred: string | undefined;
      try {
        const spec = (await o.api.get(nodesInfo, undefined, o.nodeName, true))['spec'] as { podCIDR?: string } | undefined;
        preferred = spec?.podCIDR;
      } catch {
        // no Node yet
      }
      const cidr = await claimPodCidr(o.kv, o.nodeName, preferred);
      savePodCidr(o.dataDir, cidr);
      return { cidr, how: 'claimed' };
    } catch (error) {
      o.logger.info('waiting for the cluster to assign this gateway a pod CIDR (the store is not writable yet)', { attempt, retryInMs: delay, error: error instanceof Error ? error.message : String(error) });
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, delay);
        o.signal?.addEventListener('abort', () => {
          clearTimeout(timer);
          resolve();
        }, { once: true });
      });
      delay = Math.min(delay * 2, 5000);
    }
  }
}
