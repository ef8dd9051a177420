// Who may use the API: anything from loopback (this gateway's own tools and pods' host-side
// calls) with full access; anyone else with a bearer token: the join token or the admin token
// (full access), or a token made by `bramble token create` (read-only ones may only read).
import type { IncomingMessage } from 'node:http';
import { bearer, tokensEqual } from '../cluster/auth.ts';
import type { TokenRegistry } from './tokens.ts';

export type Access = 'admin' | 'read';

export function isLoopback(address: string | undefined): boolean {
  if (!address) return false;
  return address === '::1' || address.startsWith('127.') || address.startsWith('::ffff:127.');
}

export interface AccessRule {
  /** Tokens with full access (join token, admin token). */
  adminTokens: readonly string[];
  registry?: TokenRegistry;
}

export const UNAUTHORIZED_MESSAGE = 'unauthorized: requests from outside this gateway need "Authorization: Bearer <token>" (DATA/admin-token, or bramble token create)';

/** The caller's access, or null when it has none (the caller answers 401). */
export async function authenticate(req: IncomingMessage, rule: AccessRule): Promise<Access | null> {
  if (isLoopback(req.socket.remoteAddress)) return 'admin';
  const given = bearer(req);
  if (given !== undefined) {
    for (const t of rule.adminTokens) if (tokensEqual(given, t)) return 'admin';
    const stored = await rule.registry?.lookup(given).catch(() => null);
    if (stored) return stored.readOnly ? 'read' : 'admin';
  }
  return null;
}
