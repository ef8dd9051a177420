// Node heartbeats: what a gateway tells the Raft leader every --heartbeat-interval (its name and
// its CPU, memory, disk and temperature), and the leader's table of the last one per node. The
// table lives in memory only: nothing is written per heartbeat (an SD card counts writes); the
// node lifecycle controller writes just the Ready ↔ NotReady transitions it derives from it.
import type { Usage } from '../host/usage.ts';

export const HEARTBEAT_PATH = '/node/heartbeat';
export const HEARTBEATS_PATH = '/node/heartbeats';

/** A heartbeat as sent over the peer link. */
export interface Heartbeat {
  node: string;
  cpuCores: number;
  memoryBytes: number;
  windowSeconds: number;
  diskUsedBytes?: number;
  diskTotalBytes?: number;
  temperatureCelsius?: number;
}

/** The last heartbeat of one node, as the leader keeps it. */
export interface HeartbeatRecord {
  node: string;
  /** When it arrived, on the receiver's clock (milliseconds since the epoch). */
  receivedAt: number;
  /** `timestamp` is `receivedAt`. */
  usage: Usage;
}

export class HeartbeatError extends Error {
  readonly code = 'E_HEARTBEAT_INVALID';
}

const NODE_NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const NUMBER_MAX = 2 ** 53;

function number(value: unknown, field: string, optional: boolean): number | undefined {
  if (value === undefined && optional) return undefined;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < -300 || value > NUMBER_MAX) {
    throw new HeartbeatError(`heartbeat: ${field} must be a finite number, got ${JSON.stringify(value)}`);
  }
  return value;
}

/** Checks a heartbeat's JSON text; throws HeartbeatError naming the bad field. */
export function parseHeartbeat(text: string): Heartbeat {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new HeartbeatError('heartbeat: the body is not JSON');
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new HeartbeatError('heartbeat: expected a JSON object');
  const o = body as Record<string, unknown>;
  if (typeof o['node'] !== 'string' || o['node'].length > 63 || !NODE_NAME.test(o['node'])) {
    throw new HeartbeatError(`heartbeat: node must be a DNS-1123 label, got ${JSON.stringify(o['node'])}`);
  }
  const hb: Heartbeat = {
    node: o['node'],
    cpuCores: Math.max(0, number(o['cpuCores'], 'cpuCores', false)!),
    memoryBytes: Math.max(0, number(o['memoryBytes'], 'memoryBytes', false)!),
    windowSeconds: Math.max(0, number(o['windowSeconds'], 'windowSeconds', false)!),
  };
  const disk = number(o['diskUsedBytes'], 'diskUsedBytes', true);
  const diskTotal = number(o['diskTotalBytes'], 'diskTotalBytes', true);
  const temperature = number(o['temperatureCelsius'], 'temperatureCelsius', true);
  if (disk !== undefined && diskTotal !== undefined && diskTotal > 0) Object.assign(hb, { diskUsedBytes: Math.max(0, disk), diskTotalBytes: diskTotal });
  if (temperature !== undefined) hb.temperatureCelsius = temperature;
  return hb;
}

/** A heartbeat of `node` from a usage sample. */
export function heartbeatOf(node: string, usage: Usage): Heartbeat {
  return {
    node,
    cpuCores: usage.cpuCores,
    memoryBytes: usage.memoryBytes,
    windowSeconds: usage.windowSeconds,
    ...(usage.diskUsedBytes !== undefined && usage.diskTotalBytes !== undefined ? { diskUsedBytes: usage.diskUsedBytes, diskTotalBytes: usage.diskTotalBytes } : {}),
    ...(usage.temperatureCelsius !== undefined ? { temperatureCelsius: usage.temperatureCelsius } : {}),
  };
}

export function usageOf(hb: Heartbeat, receivedAt: number): Usage {
  const { node: _node, ...figures } = hb;
  return { ...figures, timestamp: new Date(receivedAt) };
}

export interface HeartbeatTableOptions {
  now?: () => number;
  /** Nodes remembered at most; beyond, the one silent longest is forgotten (default 1024). */
  nodesMax?: number;
}

/** The leader's memory of the last heartbeat of every node. */
export class HeartbeatTable {
  readonly #now: () => number;
  readonly #nodesMax: number;
  readonly #records = new Map<string, HeartbeatRecord>();

  constructor(options: HeartbeatTableOptions = {}) {
    this.#now = options.now ?? Date.now;
    this.#nodesMax = options.nodesMax ?? 1024;
  }

  record(hb: Heartbeat): HeartbeatRecord {
    const receivedAt = this.#now();
    const record: HeartbeatRecord = { node: hb.node, receivedAt, usage: usageOf(hb, receivedAt) };
    // Re-inserted so the map's order is oldest heartbeat first.
    this.#records.delete(hb.node);
    this.#records.set(hb.node, record);
    if (this.#records.size > this.#nodesMax) this.#records.delete(this.#records.keys().next().value!);
    return record;
  }

  get(node: string): HeartbeatRecord | undefined {
    return this.#records.get(node);
  }

  all(): HeartbeatRecord[] {
    return [...this.#records.values()];
  }

  /** Forgets every node (a member that stops leading: its table would be stale next time). */
  clear(): void {
    this.#records.clear();
  }

  get size(): number {
    return this.#records.size;
  }
}
