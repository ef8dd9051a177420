// The API address's request handler: authenticate, then the Kubernetes-shaped resource API
// (/api, /apis, /version) or the exact-path routes (etcd's /v3 KV API, cluster endpoints, tokens).
// A read-only caller may read: GET anything, and the KV API's range and watch.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Access, AccessRule } from './auth.ts';
import { authenticate, UNAUTHORIZED_MESSAGE } from './auth.ts';
import type { Router } from './http/index.ts';
import { sendError } from './http/index.ts';
import type { ResourceRoutes } from './resources/routes.ts';
import { sendStatus, Status } from './resources/status.ts';
import type { Logger } from '../log/index.ts';

const READ_ONLY_POSTS = new Set(['/v3/kv/range', '/v3/watch']);

const PUBLIC_PATHS: ReadonlySet<string> = new Set(['/healthz', '/readyz', '/version']);

export interface ApiHandlerOptions {
  rule: AccessRule;
  resources: ResourceRoutes;
  router: Router;
  logger: Logger;
}

function pathOf(req: IncomingMessage): string {
  const url = req.url ?? '/';
  const q = url.indexOf('?');
  return q < 0 ? url : url.slice(0, q);
}

export function createApiHandler(options: ApiHandlerOptions): (req: IncomingMessage, res: ServerResponse) => void {
  const { rule, resources, router, logger } = options;
  const serve = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const path = pathOf(req);
    const isResource = resources.handles(path);
    // Health and version are public, as Kubernetes' system:public-info-viewer makes them: load
    // balancers, supervisors and joining gateways ask without a token.
    const access: Access | null = req.method === 'GET' && PUBLIC_PATHS.has(path) ? 'read' : await authenticate(req, rule);
    if (access === null) {
      if (isResource) sendStatus(res, Status.unauthorized(UNAUTHORIZED_MESSAGE));
      else sendError(res, 401, 16, UNAUTHORIZED_MESSAGE);
      return;
    }
    if (isResource) return resources.handle(req, res, access);
    if (access === 'read' && req.method !== 'GET' && !(req.method === 'POST' && READ_ONLY_POSTS.has(path))) {
      sendError(res, 403, 7, `forbidden: this token is read-only; ${req.method} ${path} needs an admin token (DATA/admin-token)`);
      return;
    }
    return router.handle(req, res);
  };
  return (req, res) => {
    serve(req, res).catch((error: unknown) => {
      logger.error('request failed', { path: pathOf(req), error });
      if (!res.headersSent) sendError(res, 500, 13, 'internal error: the server failed to answer this request; see its log');
      else res.destroy();
    });
  };
}
