// metrics.k8s.io/v1beta1 NodeMetrics, for `bramble top nodes`. With `heartbeats` (the cluster's
// node heartbeats, kept by the Raft leader) every node's last reported usage comes from there,
// with no request to each member; a node whose heartbeat is older than `staleMillis` is left out,
// as metrics-server leaves out a node it cannot scrape. Without it each gateway reports its own
// usage and the list asks every member. Besides Kubernetes' cpu and memory, an item may carry
// `bramble` figures (disk, temperature) that generic clients ignore.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Pool } from '../../host/http-pool.ts';
import { newPool } from '../../host/lazy-pool.ts';
import type { Usage } from '../../host/usage.ts';
import { formatBytes, formatCpu } from '../../model/index.ts';
import { Status } from './status.ts';

export const METRICS_PREFIX = '/apis/metrics.k8s.io/';
const GROUP_VERSION = 'metrics.k8s.io/v1beta1';
const MEMBER_TIMEOUT_MILLIS = 2000;

export interface MetricsOptions {
  selfNode: string;
  usage: () => Usage;
  /** Every member's node name and API URL. */
  members: () => { name: string; apiURL: string }[];
  token: string;
  /** Every node's last heartbeat (see src/cluster/heartbeat-view.ts); replaces asking members. */
  heartbeats?: () => Promise<readonly { node: string; receivedAt: number; usage: Usage }[]>;
  /** Heartbeats older than this are not shown (default 60 s). */
  staleMillis?: number;
  now?: () => number;
}

export interface NodeMetrics {
  kind: 'NodeMetrics';
  apiVersion: string;
  metadata: { name: string; creationTimestamp: string };
  timestamp: string;
  window: string;
  usage: { cpu: string; memory: string };
  bramble?: { diskUsedBytes?: number; diskTotalBytes?: number; temperatureCelsius?: number };
}

export function nodeMetrics(node: string, usage: Usage): NodeMetrics {
  const extra = {
    ...(usage.diskUsedBytes !== undefined && usage.diskTotalBytes !== undefined ? { diskUsedBytes: usage.diskUsedBytes, diskTotalBytes: usage.diskTotalBytes } : {}),
    ...(usage.temperatureCelsius !== undefined ? { temperatureCelsius: usage.temperatureCelsius } : {}),
  };
  return {
    kind: 'NodeMetrics',
    apiVersion: GROUP_VERSION,
    metadata: { name: node, creationTimestamp: usage.timestamp.toISOString().replace(/\.\d+Z$/, 'Z') },
    timestamp: usage.timestamp.toISOString().replace(/\.\d+Z$/, 'Z'),
    window: `${usage.windowSeconds}s`,
    usage: { cpu: formatCpu(usage.cpuCores), memory: formatBytes(usage.memoryBytes) },
    ...(Object.keys(extra).length > 0 ? { bramble: extra } : {}),
  };
}

export class NodeMetricsRoutes {
  readonly #o: MetricsOptions;
  readonly #pools = new Map<string, Pool>();
  #heartbeats: MetricsOptions['heartbeats'];

  constructor(options: MetricsOptions) {
    this.#o = options;
    this.#heartbeats = options.heartbeats;
  }

  /** Serves the heartbeats from now on (main sets it once the peer link exists). */
  useHeartbeats(heartbeats: NonNullable<MetricsOptions['heartbeats']>): void {
    this.#heartbeats = heartbeats;
  }

  async handle(req: IncomingMessage, res: ServerResponse, path: string): Promise<void> {
    if (req.method !== 'GET') throw Status.methodNotAllowed(req.method ?? '', path);
    const parts = path.split('/').filter(Boolean); // apis, metrics.k8s.io, v1beta1, nodes, name
    let body: unknown;
    if (parts.length === 2) body = { kind: 'APIGroup', apiVersion: 'v1', name: 'metrics.k8s.io', versions: [{ groupVersion: GROUP_VERSION, version: 'v1beta1' }], preferredVersion: { groupVersion: GROUP_VERSION, version: 'v1beta1' } };
    else if (parts.length === 3 && parts[2] === 'v1beta1') {
      body = { kind: 'APIResourceList', apiVersion: 'v1', groupVersion: GROUP_VERSION, resources: [{ name: 'nodes', singularName: '', namespaced: false, kind: 'NodeMetrics', verbs: ['get', 'list'] }] };
    } else if (parts.length === 4 && parts[2] === 'v1beta1' && parts[3] === 'nodes') {
      body = { kind: 'NodeMetricsList', apiVersion: GROUP_VERSION, metadata: {}, items: await this.#all() };
    } else if (parts.length === 5 && parts[2] === 'v1beta1' && parts[3] === 'nodes') {
      const name = decodeURIComponent(parts[4]!);
      if (name === this.#o.selfNode && !this.#heartbeats) body = nodeMetrics(name, this.#o.usage());
      else {
        const found = (await this.#all()).find((m) => m.metadata.name === name);
        if (!found) throw Status.pathNotFound(`nodemetrics.metrics.k8s.io "${name}" not found`);
        body = found;
      }
    } else throw Status.pathNotFound(`the server could not find the requested resource: ${path}`);
    const text = JSON.stringify(body);
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
    res.end(text);
  }

  async #all(): Promise<NodeMetrics[]> {
    if (this.#heartbeats) return this.#fromHeartbeats(this.#heartbeats);
    const out: NodeMetrics[] = [];
    await Promise.all(
      this.#o.members().map(async (m) => {
        if (m.name === this.#o.selfNode) {
          out.push(nodeMetrics(m.name, this.#o.usage()));
          return;
        }
        try {
          let pool = this.#pools.get(m.apiURL);
          if (!pool) this.#pools.set(m.apiURL, (pool = await newPool(m.apiURL, { connections: 1 })));
          const r = await pool.request({
            method: 'GET',
            path: `${METRICS_PREFIX}v1beta1/nodes/${encodeURIComponent(m.name)}`,
            headers: { authorization: `Bearer ${this.#o.token}` },
            headersTimeout: MEMBER_TIMEOUT_MILLIS,
            bodyTimeout: MEMBER_TIMEOUT_MILLIS,
          });
          const text = await r.body.text();
          if (r.statusCode === 200) out.push(JSON.parse(text) as NodeMetrics);
        } catch {
          // unreachable member: left out of the list
        }
      }),
    );
    return out.sort((a, b) => a.metadata.name.localeCompare(b.metadata.name));
  }

  async #fromHeartbeats(heartbeats: NonNullable<MetricsOptions['heartbeats']>): Promise<NodeMetrics[]> {
    const now = (this.#o.now ?? Date.now)();
    const staleMillis = this.#o.staleMillis ?? 60_000;
    return (await heartbeats())
      .filter((r) => now - r.receivedAt <= staleMillis)
      .map((r) => nodeMetrics(r.node, r.usage))
      .sort((a, b) => a.metadata.name.localeCompare(b.metadata.name));
  }

  async close(): Promise<void> {
    await Promise.all([...this.#pools.values()].map((p) => p.close()));
  }
}
