// Calls from one member to another over the peer link (join, forwarded writes, removal):
// JSON over HTTP with the cluster token, one undici keep-alive pool per peer.
import { Pool, errors } from '../host/http-pool.ts';
import { LeaderUnreachableError } from '../store/kv-service.ts';

export interface PeerCallOptions {
  /** Omitted only by a joining member, which does not know the cluster id yet. */
  clusterId?: string;
  timeoutMillis?: number;
}

export class PeerCallError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = 'PeerCallError';
  }
}

/** Errors that mean the request never reached the peer (safe to retry elsewhere). */
function notSent(err: unknown): boolean {
  const code = (err as { code?: string }).code;
  return (
    err instanceof errors.ConnectTimeoutError ||
    code === 'ECONNREFUSED' ||
    code === 'EHOSTUNREACH' ||
    code === 'ENETUNREACH' ||
    code === 'UND_ERR_CONNECT_TIMEOUT'
  );
}

export class PeerClient {
  private readonly pools = new Map<string, Pool>();

  constructor(private readonly token: string) {}

  private pool(origin: string): Pool {
    let p = this.pools.get(origin);
    if (!p) {
      p = new Pool(origin, { connections: 4, connectTimeout: 2000, keepAliveTimeout: 30_000 });
      this.pools.set(origin, p);
    }
    return p;
  }

  /** POSTs JSON text to `peerURL + path` and returns the response text (2xx), or throws
   *  PeerCallError (the peer answered with an error), LeaderUnreachableError (never sent), or
   *  another Error (outcome unknown). */
  async post(peerURL: string, path: string, body: string, options: PeerCallOptions = {}): Promise<string> {
    const url = new URL(peerURL);
    const headers: Record<string, string> = { authorization: `Bearer ${this.token}`, 'content-type': 'application/json' };
    if (options.clusterId) headers['x-bramble-cluster'] = options.clusterId;
    let res;
    try {
      res = await this.pool(url.origin).request({
        method: 'POST',
        path,
        headers,
        body,
        headersTimeout: options.timeoutMillis ?? 10_000,
        bodyTimeout: options.timeoutMillis ?? 10_000,
      });
    } catch (err) {
      if (notSent(err)) throw new LeaderUnreachableError(`${url.origin}: ${(err as Error).message}`);
      throw err;
    }
    const text = await res.body.text();
    if (res.statusCode < 200 || res.statusCode >= 300) {
      let message = text;
      try {
        const parsed = JSON.parse(text) as { message?: string; error?: string };
        message = parsed.message ?? parsed.error ?? text;
      } catch {
        // not JSON: keep the text
      }
      throw new PeerCallError(res.statusCode, message);
    }
    return text;
  }

  async close(): Promise<void> {
    await Promise.all([...this.pools.values()].map((p) => p.close()));
    this.pools.clear();
  }
}
