// Dispatch by exact path and method: two Map lookups per request, no patterns. Unknown paths get
// a 404 and known paths with another method a 405, both as JSON errors. A handler that throws
// never takes the server down: an HttpError is answered as such, anything else is logged and
// answered 500 without details.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from '../../log/index.ts';
import { HttpError } from './errors.ts';
import { sendError, sendHttpError } from './send.ts';
import { GrpcStatus } from './status.ts';

export type Handler = (req: IncomingMessage, res: ServerResponse) => void | Promise<void>;

export interface Route {
  method: string;
  path: string;
  handler: Handler;
}

export interface RouterOptions {
  /** Where unexpected handler failures are reported. */
  logger?: Logger;
  /** Answers an error of a kind this layer does not know (the resource API's Status errors,
   *  thrown by parts shared with it); false when it is not one of those. */
  answerError?: (res: ServerResponse, error: unknown) => boolean;
}

export const INTERNAL_ERROR_MESSAGE = 'internal error: the server failed to answer this request; see its log';

/** Answers an exception that escaped a handler: HttpError as itself, anything else as a 500 with
 *  a generic message (details go to the log, not to the client). */
export function sendUnexpected(res: ServerResponse, error: unknown, logger: Logger | undefined, context: string): void {
  if (error instanceof HttpError) {
    sendHttpError(res, error);
    return;
  }
  logger?.error('request failed', { context, error });
  sendError(res, 500, GrpcStatus.Internal, INTERNAL_ERROR_MESSAGE);
}

export class Router {
  // path -> method -> handler
  readonly #routes = new Map<string, Map<string, Handler>>();
  readonly #logger: Logger | undefined;
  readonly #answerError: ((res: ServerResponse, error: unknown) => boolean) | undefined;

  constructor(options: RouterOptions = {}) {
    this.#logger = options.logger;
    this.#answerError = options.answerError;
  }

  add(method: string, path: string, handler: Handler): this {
    let byMethod = this.#routes.get(path);
    if (byMethod === undefined) {
      byMethod = new Map();
      this.#routes.set(path, byMethod);
    }
    if (byMethod.has(method)) throw new Error(`route ${method} ${path} is registered twice`);
    byMethod.set(method, handler);
    return this;
  }

  get(path: string, handler: Handler): this {
    return this.add('GET', path, handler);
  }

  post(path: string, handler: Handler): this {
    return this.add('POST', path, handler);
  }

  addRoutes(routes: Iterable<Route>): this {
    for (const route of routes) this.add(route.method, route.path, route.handler);
    return this;
  }

  /** Answers the request; never rejects. */
  async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = req.url ?? '/';
    const query = url.indexOf('?');
    const path = query < 0 ? url : url.slice(0, query);
    const byMethod = this.#routes.get(path);
    if (byMethod === undefined) {
      sendError(res, 404, GrpcStatus.NotFound, `not found: no handler for path ${JSON.stringify(path)}; check the URL`);
      return;
    }
    const method = req.method ?? '';
    const handler = byMethod.get(method);
    if (handler === undefined) {
      const allowed = [...byMethod.keys()].join(', ');
      sendError(
        res,
        405,
        GrpcStatus.Unimplemented,
        `method ${method} is not allowed on ${path}; use ${allowed}`,
        undefined,
        { allow: allowed },
      );
      return;
    }
    try {
      await handler(req, res);
    } catch (error) {
      if (this.#answerError?.(res, error)) return;
      sendUnexpected(res, error, this.#logger, `${method} ${path}`);
    }
  }
}
