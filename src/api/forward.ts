// Forwarding an API request to another gateway's API server, as it came (method, path, query,
// body streamed), with a token that gateway accepts and a marker so two gateways that disagree
// cannot bounce a request between them. Used where only one gateway can answer: a pod's logs
// and exec, a node's images.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Pool } from '../host/http-pool.ts';
import { newPool } from '../host/lazy-pool.ts';
import type { Logger } from '../log/index.ts';
import { Status } from './resources/status.ts';

export const FORWARDED_HEADER = 'x-bramble-forwarded-from';

export class MemberForwarder {
  readonly #pools = new Map<string, Pool>();

  constructor(
    private readonly selfNode: string,
    private readonly token: string,
    private readonly logger: Logger,
  ) {}

  /** Answers `res` with what the gateway at `url` (named `node`) answers to `req`. `body` replaces
   *  the request's own body when the caller has already read it. */
  async forward(req: IncomingMessage, res: ServerResponse, node: string, url: string | undefined, body?: string): Promise<void> {
    if (req.headers[FORWARDED_HEADER] !== undefined) {
      throw Status.unavailable(`this request is for node ${node} by this gateway's view, but it was forwarded here by ${String(req.headers[FORWARDED_HEADER])}; the members disagree, retry shortly`);
    }
    if (!url) throw Status.unavailable(`node ${node} is not a member of this cluster (or its API address is unknown)`);
    let pool = this.#pools.get(url);
    if (!pool) {
      pool = await newPool(url, { connections: 4 });
      this.#pools.set(url, pool);
    }
    const abort = new AbortController();
    res.on('close', () => abort.abort());
    const type = req.headers['content-type'];
    const streamed = body === undefined && req.method !== 'GET' && req.method !== 'HEAD';
    let upstream;
    try {
      upstream = await pool.request({
        method: (req.method ?? 'GET') as 'GET',
        path: req.url ?? '/',
        headers: {
          authorization: `Bearer ${this.token}`,
          [FORWARDED_HEADER]: this.selfNode,
          ...(typeof type === 'string' ? { 'content-type': type } : body !== undefined ? { 'content-type': 'application/json' } : {}),
        },
        ...(body !== undefined ? { body } : streamed ? { body: req } : {}),
        signal: abort.signal,
        headersTimeout: 60_000,
        bodyTimeout: 0,
      });
    } catch (error) {
      throw Status.unavailable(`cannot reach node ${node}'s API at ${url} (${(error as Error).message}); the gateway may be down or cut off`);
    }
    const headers: Record<string, string> = {};
    const answerType = upstream.headers['content-type'];
    if (typeof answerType === 'string') headers['content-type'] = answerType;
    res.writeHead(upstream.statusCode, headers);
    try {
      for await (const chunk of upstream.body) res.write(chunk);
    } catch (error) {
      this.logger.debug('forwarded stream ended early', { node, error: String(error) });
    }
    res.end();
  }

  async close(): Promise<void> {
    await Promise.all([...this.#pools.values()].map((p) => p.close()));
    this.#pools.clear();
  }
}
