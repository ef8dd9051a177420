// Authentication of peer requests: every request between gateways carries the cluster's join
// token as a bearer token and the cluster id in X-Bramble-Cluster. The token proves membership;
// the cluster id stops a gateway that was moved between clusters (same token reused, or a
// stale peer list) from mixing two clusters' Raft logs.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

export const CLUSTER_HEADER = 'x-bramble-cluster';

/** Constant-time comparison. Both sides are hashed first so that neither the content nor the
 *  length of the expected token leaks through timing (timingSafeEqual needs equal lengths). */
export function tokensEqual(a: string, b: string): boolean {
  const digestA = createHash('sha256').update(a, 'utf8').digest();
  const digestB = createHash('sha256').update(b, 'utf8').digest();
  return timingSafeEqual(digestA, digestB);
}

/** The token of an `Authorization: Bearer <token>` header, or undefined when there is none. */
export function bearer(req: Pick<IncomingMessage, 'headers'>): string | undefined {
  const header = req.headers.authorization;
  if (header === undefined) return undefined;
  const match = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(header);
  return match?.[1];
}

export type PeerRefusalCode = 'E_PEER_UNAUTHORIZED' | 'E_PEER_WRONG_CLUSTER' | 'E_PEER_CLUSTER_UNKNOWN';

export interface PeerRefusal {
  /** 401 no or wrong token, 403 wrong cluster, 503 this node does not know its cluster yet. */
  status: 401 | 403 | 503;
  code: PeerRefusalCode;
  message: string;
}

export interface PeerAuthOptions {
  token: string;
  /** This node's cluster id; undefined until it has created or joined one. */
  clusterId: string | undefined;
  /** False for a request from a node that does not know the cluster id yet (join). A header
   *  that is present is still checked. */
  clusterIdRequired: boolean;
}

/** Why a peer request must be refused, or null when it may proceed. Token first: a caller
 *  without the token learns nothing about which cluster this is. */
export function checkPeerRequest(req: Pick<IncomingMessage, 'headers'>, options: PeerAuthOptions): PeerRefusal | null {
  const token = bearer(req);
  if (token === undefined) {
    return { status: 401, code: 'E_PEER_UNAUTHORIZED', message: 'peer request has no "Authorization: Bearer <cluster token>" header' };
  }
  if (!tokensEqual(token, options.token)) {
    return { status: 401, code: 'E_PEER_UNAUTHORIZED', message: 'peer request carries a wrong cluster token (check --token on the sending node)' };
  }
  const claimed = singleHeader(req.headers[CLUSTER_HEADER]);
  if (claimed === undefined && !options.clusterIdRequired) return null;
  if (options.clusterId === undefined) {
    return { status: 503, code: 'E_PEER_CLUSTER_UNKNOWN', message: 'this node has not joined a cluster yet; retry after it has' };
  }
  if (claimed === undefined) {
    return { status: 403, code: 'E_PEER_WRONG_CLUSTER', message: `peer request has no ${CLUSTER_HEADER} header; this node is in cluster ${options.clusterId}` };
  }
  if (claimed !== options.clusterId) {
    return {
      status: 403,
      code: 'E_PEER_WRONG_CLUSTER',
      message: `peer request is for cluster ${JSON.stringify(claimed.slice(0, 256))} but this node is in cluster ${options.clusterId}`,
    };
  }
  return null;
}

function singleHeader(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

/**
 * Lets one event per key through per interval and counts the rest, so that a misconfigured or
 * unreachable peer produces one log line a minute instead of one per request. Keys are bounded:
 * when full, the oldest key is forgotten (at worst it logs again early).
 */
export class LogLimiter {
  private readonly last = new Map<string, { atMs: number; suppressed: number }>();

  constructor(
    private readonly intervalMs: number = 60_000,
    private readonly now: () => number = Date.now,
    private readonly keysMax: number = 1024,
  ) {}

  /** The number of events suppressed since the last one let through (≥ 0), or -1 to stay quiet. */
  admit(key: string): number {
    const nowMs = this.now();
    const seen = this.last.get(key);
    if (seen !== undefined && nowMs - seen.atMs < this.intervalMs) {
      seen.suppressed++;
      return -1;
    }
    const suppressed = seen?.suppressed ?? 0;
    this.last.delete(key);
    if (this.last.size >= this.keysMax) {
      const oldest = this.last.keys().next();
      if (oldest.done !== true) this.last.delete(oldest.value);
    }
    this.last.set(key, { atMs: nowMs, suppressed: 0 });
    return suppressed;
  }
}
