// Calls from one member to another over the peer link (join, forwarded writes, removal):
// JSON over HTTP with the cluster token, on node:http with one keep-alive agent. (Not undici:
// loading it and compiling its WebAssembly HTTP parser costs a member 10-20 MB of resident
// memory, for a few calls.)
import { Agent, request, type IncomingMessage } from 'node:http';
import { LeaderUnreachableError } from '../store/kv-service.ts';

export interface PeerCallOptions {
  /** Omitted only by a joining member, which does not know the cluster id yet. */
  clusterId?: string;
  timeoutMillis?: number;
}

const CONNECT_TIMEOUT_MILLIS = 2000;

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
  return code === 'ECONNREFUSED' || code === 'EHOSTUNREACH' || code === 'ENETUNREACH' || code === 'E_CONNECT_TIMEOUT';
}

export class PeerClient {
  private readonly agent = new Agent({ keepAlive: true, maxSockets: 4, keepAliveMsecs: 30_000, timeout: 30_000 });

  constructor(private readonly token: string) {}

  /** POSTs JSON text to `peerURL + path` and returns the response text (2xx), or throws
   *  PeerCallError (the peer answered with an error), LeaderUnreachableError (never sent), or
   *  another Error (outcome unknown). */
  async post(peerURL: string, path: string, body: string, options: PeerCallOptions = {}): Promise<string> {
    const url = new URL(peerURL);
    const headers: Record<string, string | number> = {
      authorization: `Bearer ${this.token}`,
      'content-type': 'application/json',
      'content-length': Buffer.byteLength(body),
    };
    if (options.clusterId) headers['x-bramble-cluster'] = options.clusterId;
    const timeoutMillis = options.timeoutMillis ?? 10_000;
    let res: IncomingMessage;
    let text: string;
    try {
      ({ res, text } = await new Promise<{ res: IncomingMessage; text: string }>((resolve, reject) => {
        const req = request({ host: url.hostname.replace(/^\[|\]$/g, ''), port: url.port || 80, path, method: 'POST', headers, agent: this.agent });
        let connectTimer: NodeJS.Timeout | null = null;
        req.on('socket', (socket) => {
          if (!socket.connecting) return;
          connectTimer = setTimeout(() => req.destroy(Object.assign(new Error(`connect timeout after ${CONNECT_TIMEOUT_MILLIS} ms`), { code: 'E_CONNECT_TIMEOUT' })), CONNECT_TIMEOUT_MILLIS);
          socket.once('connect', () => {
            if (connectTimer) clearTimeout(connectTimer);
          });
        });
        // No answer (or a stalled one) within the timeout: the outcome is unknown.
        req.setTimeout(timeoutMillis, () => req.destroy(Object.assign(new Error(`no answer within ${timeoutMillis} ms`), { code: 'E_TIMEOUT' })));
        req.on('error', (err) => {
          if (connectTimer) clearTimeout(connectTimer);
          reject(err);
        });
        req.on('response', (response) => {
          const chunks: Buffer[] = [];
          response.on('data', (c: Buffer) => chunks.push(c));
          response.on('end', () => resolve({ res: response, text: Buffer.concat(chunks).toString('utf8') }));
          response.on('error', reject);
        });
        req.end(body);
      }));
    } catch (err) {
      if (notSent(err)) throw new LeaderUnreachableError(`${url.origin}: ${(err as Error).message}`);
      throw err;
    }
    const status = res.statusCode ?? 0;
    if (status < 200 || status >= 300) {
      let message = text;
      try {
        const parsed = JSON.parse(text) as { message?: string; error?: string };
        message = parsed.message ?? parsed.error ?? text;
      } catch {
        // not JSON: keep the text
      }
      throw new PeerCallError(status, message);
    }
    return text;
  }

  async close(): Promise<void> {
    this.agent.destroy();
  }
}
