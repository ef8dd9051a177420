// Heartbeats as any member can read them: the leader answers from its own table; a follower asks
// the leader over the peer link and keeps the answer for a second (one beat), so a burst of Node
// reads or `top nodes` costs the leader one request. A follower cut off from the leader answers
// what it last heard (possibly nothing): the heartbeats are the leader's knowledge, not its own.
import type { KObject } from '../model/index.ts';
import { HEARTBEATS_PATH, usageOf, type HeartbeatRecord, type HeartbeatTable } from './heartbeat.ts';
import type { HeartbeatListItem } from './heartbeat-routes.ts';
import type { LeaderTarget } from './heartbeat-sender.ts';
import type { PeerClient } from './peer-client.ts';
import { timestamp } from '../model/index.ts';

export interface HeartbeatViewOptions {
  table: HeartbeatTable;
  leader: () => LeaderTarget;
  client: Pick<PeerClient, 'post'>;
  clusterId: string;
  /** How long a follower reuses the leader's answer (default 1000 ms). */
  cacheMillis?: number;
  timeoutMillis?: number;
  now?: () => number;
}

/** The Node with its Ready condition's lastHeartbeatTime from the leader's memory (never moved
 *  back: the stored one may be newer, e.g. written at registration). Does not modify `node`. */
export function withHeartbeatTime(node: KObject, receivedAt: number | undefined): KObject {
  if (receivedAt === undefined) return node;
  const status = node['status'] as { conditions?: { type?: string; lastHeartbeatTime?: string }[] } | undefined;
  const conditions = status?.conditions;
  if (!Array.isArray(conditions) || !conditions.some((c) => c?.type === 'Ready')) return node;
  const heard = timestamp(receivedAt);
  return {
    ...node,
    status: {
      ...status,
      conditions: conditions.map((c) => (c?.type === 'Ready' && (c.lastHeartbeatTime === undefined || Date.parse(c.lastHeartbeatTime) < Date.parse(heard)) ? { ...c, lastHeartbeatTime: heard } : c)),
    },
  };
}

export class HeartbeatView {
  readonly #o: HeartbeatViewOptions;
  readonly #now: () => number;
  #cached: { at: number; records: HeartbeatRecord[] } | undefined;
  #inFlight: Promise<HeartbeatRecord[]> | undefined;

  constructor(options: HeartbeatViewOptions) {
    this.#o = options;
    this.#now = options.now ?? Date.now;
  }

  /** Every node's last heartbeat as the leader knows it (receivedAt on this member's clock). */
  async records(): Promise<HeartbeatRecord[]> {
    const leader = this.#o.leader();
    if (leader?.self) return this.#o.table.all();
    const now = this.#now();
    if (this.#cached && now - this.#cached.at < (this.#o.cacheMillis ?? 1000)) return this.#cached.records;
    if (leader === undefined) return this.#cached?.records ?? [];
    this.#inFlight ??= this.#fetch(leader.peerURL).finally(() => (this.#inFlight = undefined));
    return this.#inFlight;
  }

  async #fetch(peerURL: string): Promise<HeartbeatRecord[]> {
    const at = this.#now();
    try {
      const text = await this.#o.client.post(peerURL, HEARTBEATS_PATH, '{}', { clusterId: this.#o.clusterId, timeoutMillis: this.#o.timeoutMillis ?? 2000 });
      const items = (JSON.parse(text) as { items?: HeartbeatListItem[] }).items ?? [];
      // Ages, not the leader's timestamps: the two clocks need not agree.
      const records = items.map((i) => ({ node: i.node, receivedAt: at - i.ageMillis, usage: usageOf(i.usage, at - i.ageMillis) }));
      this.#cached = { at, records };
      return records;
    } catch {
      // The leader did not answer: what we last heard, and not ask again before the cache expires.
      this.#cached = { at, records: this.#cached?.records ?? [] };
      return this.#cached.records;
    }
  }

  /** A Node as a reader should see it: the Ready condition's lastHeartbeatTime from the leader. */
  async nodeView(node: KObject): Promise<KObject> {
    const name = node.metadata.name;
    const record = (await this.records()).find((r) => r.node === name);
    return withHeartbeatTime(node, record?.receivedAt);
  }
}
