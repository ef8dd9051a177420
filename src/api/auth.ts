// Who may use the API: anything from loopback (this gateway's own tools and pods' host-side
// calls), and anyone else with the cluster's bearer token (the join token doubles as the admin
// token until read-only tokens exist).
import type { IncomingMessage, ServerResponse } from 'node:http';
import { bearer, tokensEqual } from '../cluster/auth.ts';
import { sendError } from './http/index.ts';

export function isLoopback(address: string | undefined): boolean {
  if (!address) return false;
  return address === '::1' || address.startsWith('127.') || address.startsWith('::ffff:127.');
}

/** Answers 401 and returns false when the request may not proceed. */
export function authorize(req: IncomingMessage, res: ServerResponse, token: string): boolean {
  if (isLoopback(req.socket.remoteAddress)) return true;
  const given = bearer(req);
  if (given !== undefined && tokensEqual(given, token)) return true;
  sendError(res, 401, 16, 'unauthorized: requests from outside this gateway need "Authorization: Bearer <token>" (bramble token prints it)');
  return false;
}
