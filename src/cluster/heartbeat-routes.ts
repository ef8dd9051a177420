// The leader's end of the heartbeats on the peer address (the peer link's token and cluster-id
// checks apply, as to every peer route): POST /node/heartbeat records one; POST /node/heartbeats
// answers the whole table, for a follower serving `top nodes` or a Node read. A member that is
// not the leader answers 421, so a sender with a stale idea of the leader tries again next beat.
import type { ServerResponse } from 'node:http';
import { HEARTBEAT_PATH, HEARTBEATS_PATH, HeartbeatError, heartbeatOf, parseHeartbeat, type HeartbeatTable } from './heartbeat.ts';
import type { PeerRoute } from './peer-server.ts';

export interface HeartbeatRoutesOptions {
  table: HeartbeatTable;
  isLeader: () => boolean;
  now?: () => number;
}

/** One node's last heartbeat on the wire: its figures and how long ago it arrived. */
export interface HeartbeatListItem {
  node: string;
  ageMillis: number;
  usage: ReturnType<typeof heartbeatOf>;
}

function send(res: ServerResponse, status: number, body: unknown): void {
  if (res.writableEnded || res.destroyed) return;
  if (status === 204) {
    res.writeHead(204).end();
    return;
  }
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

const NOT_LEADER = { error: 'not the leader', message: 'this member is not the Raft leader; send heartbeats to the leader' };

export function createHeartbeatRoutes(options: HeartbeatRoutesOptions): Map<string, PeerRoute> {
  const now = options.now ?? Date.now;
  const receive: PeerRoute = {
    handler: (_req, res, body) => {
      if (!options.isLeader()) return send(res, 421, NOT_LEADER);
      try {
        options.table.record(parseHeartbeat(body.toString('utf8')));
      } catch (error) {
        if (error instanceof HeartbeatError) return send(res, 400, { error: error.code, message: error.message });
        throw error;
      }
      send(res, 204, undefined);
    },
  };
  const list: PeerRoute = {
    handler: (_req, res) => {
      if (!options.isLeader()) return send(res, 421, NOT_LEADER);
      const at = now();
      const items: HeartbeatListItem[] = options.table.all().map((r) => ({ node: r.node, ageMillis: Math.max(0, at - r.receivedAt), usage: heartbeatOf(r.node, r.usage) }));
      send(res, 200, { items });
    },
  };
  return new Map([
    [HEARTBEAT_PATH, receive],
    [HEARTBEATS_PATH, list],
  ]);
}
