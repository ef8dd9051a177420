// /healthz, /readyz, /cluster and member removal on the API address.
import type { ClusterStatus, PeerAnswer } from '../cluster/membership.ts';
import type { Route } from './http/index.ts';
import { parseJsonObject, readBody, sendJson, sendJsonText } from './http/index.ts';

export interface ClusterView {
  status(): ClusterStatus;
  ready(): boolean;
  /** Why this member is not ready beyond the store (a gateway whose Node is not registered yet). */
  notReadyReason?(): string | undefined;
  removeMember(name: string): Promise<PeerAnswer>;
}

export function createClusterRoutes(view: ClusterView): Route[] {
  return [
    { method: 'GET', path: '/healthz', handler: (_req, res) => sendJson(res, 200, { health: 'true' }) },
    {
      method: 'GET',
      path: '/readyz',
      handler: (_req, res) => {
        const status = view.status();
        const other = view.ready() ? view.notReadyReason?.() : undefined;
        if (other !== undefined) sendJson(res, 503, { ready: false, reason: other });
        else if (view.ready()) sendJson(res, 200, { ready: true, leader: status.leader, appliedIndex: status.appliedIndex });
        else
          sendJson(res, 503, {
            ready: false,
            reason: status.leader === null ? 'no leader is known' : `catching up: applied ${status.appliedIndex} of ${status.commitIndex}`,
          });
      },
    },
    { method: 'GET', path: '/cluster', handler: (_req, res) => sendJson(res, 200, view.status()) },
    {
      method: 'POST',
      path: '/cluster/remove',
      handler: async (req, res) => {
        const body = parseJsonObject(await readBody(req), 'remove request');
        const name = body.name;
        if (typeof name !== 'string' || name === '') {
          sendJson(res, 400, { error: 'a remove request needs {"name": "MEMBER"}', message: 'a remove request needs {"name": "MEMBER"}', code: 3 });
          return;
        }
        const answer = await view.removeMember(name);
        sendJsonText(res, answer.status, answer.body);
      },
    },
  ];
}
