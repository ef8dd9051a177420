// One TCP listener of a Service port: accepts, connects to a backend (the next one when a
// backend refuses or does not answer in time, marking it down), then relays both ways. What the
// client sends while the backend is being chosen is held (bounded; the client is paused beyond
// it) and written once a backend accepted, so a retry loses nothing. Half-close passes through
// (allowHalfOpen on both sides: a client's FIN becomes a FIN to the backend, and the reply still
// flows back); an error or reset on one side destroys the other. Closing the listener leaves
// open connections to finish.
//
// Every accepted connection costs two sockets on a gateway's two cores, so the per-connection
// path is kept lean: no `pipe` (its many listeners and stream state per direction), no pause
// and resume on accept (an epoll change each), no Set unless a backend failed.
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
/** Bytes held from a client while its backend is being chosen; beyond it the client waits. */
const EARLY_BYTES_MAX = 64 * 1024;

export class TcpForwarder {
  readonly #o: TcpForwarderOptions;
  readonly #server: Server;
  readonly #open = new Set<Socket>();
  #atCap = false;
  #closed: Promise<void> | null = null;

  constructor(options: TcpForwarderOptions) {
    this.#o = options;
    this.#server = createServer({ allowHalfOpen: true, noDelay: true }, (client) => this.#accept(client));
  }

  /** Connections open now (accepted, connecting or relaying). */
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
    const relay = new Relay(client, this);
    client.once('close', () => {
      this.#open.delete(client);
      relay.clientClosed();
      // Say so once per episode; back under 90% it may warn again.
      if (this.#atCap && this.#open.size < this.#o.connectionsMax * 0.9) this.#atCap = false;
    });
    relay.attempt();
  }

  /** For the relay: the options and the listener's name. */
  get options(): TcpForwarderOptions {
    return this.#o;
  }

  get name(): string {
    return this.#name();
  }
}

/** One client connection: choosing a backend, then relaying. */
class Relay {
  readonly #client: Socket;
  readonly #forwarder: TcpForwarder;
  #upstream: Socket | null = null;
  #connected = false;
  /** What the client sent before a backend accepted. */
  #early: Buffer[] | null = null;
  #earlyBytes = 0;
  #clientEnded = false;
  /** Backends tried so far; made on the first failure only. */
  #tried: Set<string> | null = null;
  #attempts = 0;
  /** The client's address, read only when affinity needs it (it costs a syscall). */
  #clientIp: string | undefined;
  #timer: NodeJS.Timeout | null = null;

  constructor(client: Socket, forwarder: TcpForwarder) {
    this.#client = client;
    this.#forwarder = forwarder;
    client.on('error', () => this.#cut());
    client.on('data', (chunk: Buffer) => this.#fromClient(chunk));
    client.on('end', () => {
      this.#clientEnded = true;
      if (this.#connected) this.#upstream!.end();
    });
  }

  clientClosed(): void {
    if (this.#timer) clearTimeout(this.#timer);
    // A client that closed cleanly has ended the backend's writing, and a backend that ended
    // closes by itself; anything else (still connecting, still sending, or the client cut
    // without its FIN) calls for a destroy.
    const upstream = this.#upstream;
    if (upstream && (!this.#connected || !upstream.readableEnded || !upstream.writableEnded)) upstream.destroy();
  }

  attempt(): void {
    const client = this.#client;
    if (client.destroyed) return;
    const o = this.#forwarder.options;
    const balancer = o.balancer();
    const ip = balancer.usesClientIp ? (this.#clientIp ??= client.remoteAddress ?? '') : '';
    const backend = this.#attempts < o.attemptsMax ? balancer.pick(ip, this.#tried ?? undefined) : undefined;
    if (!backend) {
      o.logger.debug('no backend answered; closing the client connection', { listener: this.#forwarder.name, tried: [...(this.#tried ?? [])] });
      client.destroy();
      return;
    }
    this.#attempts++;
    const upstream = connect({ host: backend.ip, port: backend.port, allowHalfOpen: true, noDelay: true });
    this.#upstream = upstream;
    this.#timer = setTimeout(() => this.#failed(upstream, backend, 'ETIMEDOUT'), o.connectTimeoutMs);
    upstream.once('connect', () => this.#accepted(upstream, backend, ip));
    upstream.on('error', (error: NodeJS.ErrnoException) => {
      if (upstream !== this.#upstream) return; // an earlier attempt's, already given up
      if (this.#connected) this.#cut();
      else this.#failed(upstream, backend, BACKEND_DOWN.has(error.code ?? '') ? error.code! : error.message);
    });
  }

  #failed(upstream: Socket, backend: Backend, why: string): void {
    if (upstream !== this.#upstream || this.#connected) return;
    clearTimeout(this.#timer!);
    this.#timer = null;
    upstream.destroy();
    if (this.#client.destroyed) return;
    const o = this.#forwarder.options;
    o.logger.debug('backend did not accept; trying the next', { listener: this.#forwarder.name, backend: backend.key, error: why });
    (this.#tried ??= new Set()).add(backend.key);
    o.balancer().markDown(backend);
    this.attempt();
  }

  #accepted(upstream: Socket, backend: Backend, ip: string): void {
    clearTimeout(this.#timer!);
    this.#timer = null;
    this.#connected = true;
    const client = this.#client;
    this.#forwarder.options.balancer().connected(ip, backend);
    upstream.on('data', (chunk: Buffer) => {
      if (!client.write(chunk)) upstream.pause();
    });
    client.on('drain', () => upstream.resume());
    upstream.on('drain', () => client.resume());
    upstream.on('end', () => client.end());
    upstream.once('close', () => {
      if (!client.readableEnded) client.destroy();
    });
    const early = this.#early;
    if (early) {
      this.#early = null;
      for (const chunk of early) upstream.write(chunk);
      if (client.isPaused() && !client.destroyed) client.resume();
    }
    if (this.#clientEnded) upstream.end();
  }

  #fromClient(chunk: Buffer): void {
    if (this.#connected) {
      if (!this.#upstream!.write(chunk)) this.#client.pause();
      return;
    }
    (this.#early ??= []).push(chunk);
    this.#earlyBytes += chunk.length;
    if (this.#earlyBytes > EARLY_BYTES_MAX) this.#client.pause();
  }

  #cut(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#client.destroy();
    this.#upstream?.destroy();
  }
}
