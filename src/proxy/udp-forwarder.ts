// One UDP listener of a Service port. Each client address gets a session: a socket connected to
// the backend chosen for it, so replies come back on that socket and are relayed to the client
// from the listener's own address (the one the client sent to). A session idle for `idleMs` is
// closed. A connected UDP socket hears the backend's ICMP "port unreachable" as ECONNREFUSED:
// the backend is marked down and the session dropped, so the client's next datagram picks another.
import { createSocket, type Socket } from 'node:dgram';
import type { Logger } from '../log/index.ts';
import type { Balancer } from './balancer.ts';
import type { Backend } from './service-table.ts';

export interface UdpForwarderOptions {
  host: string;
  port: number;
  balancer: () => Balancer;
  /** Most client sessions at once; datagrams from further clients are dropped with a warning. */
  sessionsMax: number;
  idleMs: number;
  logger: Logger;
}

/** Datagrams held per session while its socket is still connecting. */
const PENDING_MAX = 64;

interface Session {
  socket: Socket;
  backend: Backend;
  lastActiveMs: number;
  pending: Buffer[] | null;
}

export class UdpForwarder {
  readonly #o: UdpForwarderOptions;
  readonly #socket: Socket;
  readonly #sessions = new Map<string, Session>();
  #sweeper: NodeJS.Timeout | null = null;
  #atCap = false;
  #closed = false;

  constructor(options: UdpForwarderOptions) {
    this.#o = options;
    this.#socket = createSocket({ type: 'udp4' });
    this.#socket.on('message', (message, from) => this.#fromClient(message, from.address, from.port));
  }

  get sessions(): number {
    return this.#sessions.size;
  }

  listen(): Promise<void> {
    return new Promise((resolve, reject) => {
      const failed = (error: Error) => reject(error);
      this.#socket.once('error', failed);
      this.#socket.bind({ address: this.#o.host, port: this.#o.port, exclusive: true }, () => {
        this.#socket.off('error', failed);
        this.#socket.on('error', (error) => this.#o.logger.warn('UDP listener failed', { listener: this.#name(), error: error.message }));
        const every = Math.max(20, Math.min(1000, Math.floor(this.#o.idleMs / 4)));
        this.#sweeper = setInterval(() => this.#sweep(), every);
        this.#sweeper.unref();
        resolve();
      });
    });
  }

  /** Replies go out through the listener's socket, so closing it ends every session too. */
  close(): Promise<void> {
    if (this.#closed) return Promise.resolve();
    this.#closed = true;
    if (this.#sweeper) clearInterval(this.#sweeper);
    for (const key of [...this.#sessions.keys()]) this.#end(key);
    return new Promise((resolve) => {
      try {
        this.#socket.close(() => resolve());
      } catch {
        resolve(); // never bound
      }
    });
  }

  #name(): string {
    return `UDP ${this.#o.host}:${this.#o.port}`;
  }

  #fromClient(message: Buffer, address: string, port: number): void {
    const key = `${address}:${port}`;
    let session = this.#sessions.get(key);
    if (!session) {
      session = this.#open(key, address, port);
      if (!session) return;
    }
    session.lastActiveMs = Date.now();
    if (session.pending) {
      if (session.pending.length < PENDING_MAX) session.pending.push(message);
      return;
    }
    session.socket.send(message);
  }

  #open(key: string, address: string, port: number): Session | undefined {
    if (this.#sessions.size >= this.#o.sessionsMax) {
      if (!this.#atCap) {
        this.#atCap = true;
        this.#o.logger.warn('UDP session limit reached: dropping datagrams from new clients until sessions go idle', { listener: this.#name(), sessionsMax: this.#o.sessionsMax });
      }
      return undefined;
    }
    this.#atCap = false;
    const balancer = this.#o.balancer();
    const backend = balancer.pick(address);
    if (!backend) return undefined;
    const socket = createSocket({ type: 'udp4' });
    const session: Session = { socket, backend, lastActiveMs: Date.now(), pending: [] };
    this.#sessions.set(key, session);
    socket.on('message', (reply) => {
      session.lastActiveMs = Date.now();
      if (!this.#closed) this.#socket.send(reply, port, address);
    });
    socket.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'ECONNREFUSED') balancer.markDown(backend);
      this.#o.logger.debug('UDP session ended by an error', { listener: this.#name(), client: key, backend: backend.key, error: error.code ?? error.message });
      if (this.#sessions.get(key) === session) this.#end(key);
    });
    socket.connect(backend.port, backend.ip, () => {
      balancer.connected(address, backend);
      const pending = session.pending ?? [];
      session.pending = null;
      for (const message of pending) socket.send(message);
    });
    return session;
  }

  #end(key: string): void {
    const session = this.#sessions.get(key);
    if (!session) return;
    this.#sessions.delete(key);
    try {
      session.socket.close();
    } catch {
      // already closed by an error
    }
  }

  #sweep(): void {
    const idleSince = Date.now() - this.#o.idleMs;
    for (const [key, session] of this.#sessions) if (session.lastActiveMs < idleSince) this.#end(key);
  }
}
