// This gateway's Node object: created when missing, its status (capacity, allocatable, addresses,
// nodeInfo, a Ready condition) refreshed once at start when it changed. Minimal on purpose: the
// cluster issue adds heartbeats. A Node must exist for pods bound here to be deleted gracefully.
import { readFileSync } from 'node:fs';
import { arch, cpus, networkInterfaces, release, totalmem, type } from 'node:os';
import { findResource, jsonEqual } from '../model/index.ts';
import type { KObject } from '../model/index.ts';
import type { AgentApi } from './ports.ts';

const nodesInfo = findResource('', 'v1', 'nodes')!;

export interface NodeFacts {
  cpuCores: number;
  memoryBytes: number;
  hostIP: string;
  osImage: string;
  kernelVersion: string;
  architecture: string;
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

/** The first non-internal IPv4 address of this machine (its netns, for a simulated gateway). */
export function firstHostIPv4(): string {
  for (const list of Object.values(networkInterfaces())) {
    for (const a of list ?? []) if (a.family === 'IPv4' && !a.internal) return a.address;
  }
  return '127.0.0.1';
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

export function hostFacts(): NodeFacts {
  return { cpuCores: cpus().length, memoryBytes: totalmem(), hostIP: firstHostIPv4(), osImage: osImage(), kernelVersion: release(), architecture: goArch(arch()) };
}

/** The node's allocatable: capacity minus what the board profile keeps for the system. */
export function allocatable(facts: NodeFacts, reserved: NodeOptions['reserved']): { cpu: number; memory: number } {
  return { cpu: Math.max(0, facts.cpuCores - reserved.cpuMillis / 1000), memory: Math.max(0, facts.memoryBytes - reserved.memoryBytes) };
}

export function nodeStatus(o: NodeOptions, previous: Record<string, unknown> | undefined, now: string): Record<string, unknown> {
  const alloc = allocatable(o.facts, o.reserved);
  const old = Array.isArray(previous?.['conditions']) ? (previous!['conditions'] as { type: string; status: string; lastTransitionTime?: string; lastHeartbeatTime?: string }[]).find((c) => c.type === 'Ready') : undefined;
  const kept = old?.status === 'True';
  return {
    capacity: { cpu: String(o.facts.cpuCores), memory: `${Math.floor(o.facts.memoryBytes / 1024)}Ki`, pods: '110' },
    allocatable: { cpu: `${Math.floor(alloc.cpu * 1000)}m`, memory: `${Math.floor(alloc.memory / 1024)}Ki`, pods: '110' },
    addresses: [
      { type: 'InternalIP', address: o.facts.hostIP },
      { type: 'Hostname', address: o.nodeName },
    ],
    nodeInfo: {
      machineID: '',
      systemUUID: '',
      bootID: '',
      kernelVersion: o.facts.kernelVersion,
      osImage: o.facts.osImage,
      containerRuntimeVersion: o.containerRuntimeVersion,
      kubeletVersion: `v1.29.0-bramble.${o.version}`,
      kubeProxyVersion: `v1.29.0-bramble.${o.version}`,
      operatingSystem: 'linux',
      architecture: o.facts.architecture,
    },
    conditions: [
      {
        type: 'Ready',
        status: 'True',
        reason: 'KubeletReady',
        message: 'bramble agent is posting ready status',
        lastHeartbeatTime: kept && old?.lastHeartbeatTime ? old.lastHeartbeatTime : now,
        lastTransitionTime: kept && old?.lastTransitionTime ? old.lastTransitionTime : now,
      },
    ],
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
