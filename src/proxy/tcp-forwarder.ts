// One TCP listener of a Service port: accepts, connects to a backend (the next one when a
// backend refuses or does not answer in time, marking it down), then splices the two sockets
// with `pipe` both ways. The client is paused until a backend answers, so nothing it sends is
// read early and lost on a retry. Half-close passes through (allowHalfOpen on both sides: a
// client's FIN becomes a FIN to the backend, and the reply still flows back); an error or reset
// on one side destroys the other. Closing the listener leaves open connections to finish.
import { createServer, connect, type Server, type Socket } from 'node:net';
import type { Logger } from '../log/index.ts';
import type { Balancer } from './balancer.ts';
import type { Backend } from './service-table.ts';

export interface TcpForwarderOptions {
  host: string;
  port: number;
  /** The Service port's balancer (shared by its ClusterIP and NodePort listeners). */
  balancer: () => Balancer;
  /** Most connections open at once through this listener; more are refused with a warning. */
  connectionsMax: number;
  /** How long one backend gets to accept before the next is tried. */
  connectTimeoutMs: number;
  /** Most backends tried for one client connection. */
  attemptsMax: number;
  logger: Logger;
}

/** Errors that say "this backend is not taking connections": try the next one. */
const BACKEND_DOWN = new Set(['ECONNREFUSED', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ECONNRESET', 'EHOSTDOWN']);

export class TcpForwarder {
  readonly #o: TcpForwarderOptions;
  readonly #server: Server;
  readonly #open = new Set<Socket>();
  #atCap = false;
  #closed: Promise<void> | null = null;

  constructor(options: TcpForwarderOptions) {
    this.#o = options;
    this.#server = createServer({ allowHalfOpen: true, pauseOnConnect: true, noDelay: true }, (client) => this.#accept(client));
  }

  /** Connections open now (accepted, connecting or spliced). */
  get connections(): number {
    return this.#open.size;
  }

  listen(): Promise<void> {
    return new Promise((resolve, reject) => {
      const failed = (error: Error) => reject(error);
      this.#server.once('error', failed);
      this.#server.listen({ host: this.#o.host, port: this.#o.port, backlog: 511 }, () => {
        this.#server.off('error', failed);
        this.#server.on('error', (error) => this.#o.logger.warn('TCP listener failed', { listener: this.#name(), error: error.message }));
        resolve();
      });
    });
  }

  /** Stops accepting; resolves once every open connection has finished on its own. */
  close(): Promise<void> {
    this.#closed ??= new Promise((resolve) => {
      if (!this.#server.listening) return resolve();
      this.#server.close(() => resolve());
    });
    return this.#closed;
  }

  /** Cuts every open connection (shutdown). */
  destroyConnections(): void {
    for (const socket of this.#open) socket.destroy();
  }

  #name(): string {
    return `TCP ${this.#o.host}:${this.#o.port}`;
  }

  #accept(client: Socket): void {
    if (this.#open.size >= this.#o.connectionsMax) {
      if (!this.#atCap) {
        this.#atCap = true;
        this.#o.logger.warn('connection limit reached: refusing new connections until some close', { listener: this.#name(), connectionsMax: this.#o.connectionsMax });
      }
      client.destroy();
      return;
    }
    this.#open.add(client);
    client.once('close', () => {
      this.#open.delete(client);
      // Say so once per episode; back under 90% it may warn again.
      if (this.#atCap && this.#open.size < this.#o.connectionsMax * 0.9) this.#atCap = false;
    });
    client.on('error', () => client.destroy());
    // The peer's address costs a syscall; only affinity needs it.
    let clientIp: string | undefined;
    const tried = new Set<string>();
    const attempt = (): void => {
      if (client.destroyed) return;
      const balancer = this.#o.balancer();
      const ip = balancer.usesClientIp ? (clientIp ??= client.remoteAddress ?? '') : '';
      const backend = tried.size < this.#o.attemptsMax ? balancer.pick(ip, tried) : undefined;
      if (!backend) {
        this.#o.logger.debug('no backend answered; closing the client connection', { listener: this.#name(), tried: [...tried] });
        client.destroy();
        return;
      }
      tried.add(backend.key);
      this.#connect(client, backend, (upstream) => {
        if (upstream) {
          balancer.connected(ip, backend);
          splice(client, upstream);
        } else {
          balancer.markDown(backend);
          attempt();
        }
      });
    };
    attempt();
  }

  /** Connects to one backend; `done(null)` when it refused, failed or timed out. */
  #connect(client: Socket, backend: Backend, done: (upstream: Socket | null) => void): void {
    const upstream = connect({ host: backend.ip, port: backend.port, allowHalfOpen: true, noDelay: true });
    let settled = false;
    const settle = (ok: boolean, why?: string): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      client.off('close', clientGone);
      upstream.off('connect', onConnect);
      if (ok) return done(upstream);
      upstream.destroy();
      if (why !== undefined && !client.destroyed) this.#o.logger.debug('backend did not accept; trying the next', { listener: this.#name(), backend: backend.key, error: why });
      if (!client.destroyed) done(null);
    };
    const onConnect = (): void => settle(true);
    const clientGone = (): void => settle(false);
    const timer = setTimeout(() => settle(false, 'ETIMEDOUT'), this.#o.connectTimeoutMs);
    upstream.once('connect', onConnect);
    upstream.once('error', (error: NodeJS.ErrnoException) => {
      if (settled) return;
      settle(false, BACKEND_DOWN.has(error.code ?? '') ? error.code : error.message);
    });
    client.once('close', clientGone);
  }
}

/** Joins two connected sockets both ways. TCP keepalive is left off: it costs four syscalls a
 *  socket, on every connection, which a balancer taking thousands a second cannot spare. */
export function splice(client: Socket, upstream: Socket): void {
  const cut = (): void => {
    client.destroy();
    upstream.destroy();
  };
  client.on('error', cut);
  upstream.on('error', cut);
  // A side that closed cleanly has ended its peer's writing through the pipe; only input that
  // can no longer be delivered (the peer still sending to a closed side) calls for a destroy.
  client.once('close', () => {
    if (!upstream.readableEnded) upstream.destroy();
  });
  upstream.once('close', () => {
    if (!client.readableEnded) client.destroy();
  });
  client.pipe(upstream);
  upstream.pipe(client);
}
