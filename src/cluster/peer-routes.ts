// The membership routes on the peer address: join (the only one a not-yet-member may call, with
// the token but without the cluster id), forwarded writes, and removal.
import type { ServerResponse } from 'node:http';
import type { Membership, PeerAnswer } from './membership.ts';
import type { PeerRoute } from './peer-server.ts';

function answer(res: ServerResponse, a: PeerAnswer): void {
  if (res.writableEnded || res.destroyed) return;
  res.writeHead(a.status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(a.body) });
  res.end(a.body);
}

export function createMembershipRoutes(membership: () => Membership | undefined): Map<string, PeerRoute> {
  const unavailable: PeerAnswer = { status: 503, body: JSON.stringify({ error: 'this member is still starting; retry shortly', message: 'this member is still starting; retry shortly' }) };
  const route = (serve: (m: Membership, body: string, remote: string) => Promise<PeerAnswer>, clusterIdRequired = true): PeerRoute => ({
    clusterIdRequired,
    handler: async (req, res, body) => {
      const m = membership();
      answer(res, m ? await serve(m, body.toString('utf8'), req.socket.remoteAddress ?? '') : unavailable);
    },
  });
  return new Map([
    ['/cluster/join', route((m, body, remote) => m.handleJoin(body, remote), false)],
    ['/kv/write', route((m, body) => m.handleForwardedWrite(body))],
    ['/cluster/remove', route((m, body) => m.handleRemove(body))],
    ['/cluster/removed', route((m, body) => m.handleRemovedNotice(body))],
  ]);
}
