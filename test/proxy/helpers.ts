// Fakes and real sockets for the balancer's tests: an in-memory ProxyData, a recording
// AddressManager, named TCP/UDP echo backends on 127.0.0.1, and clients that say which backend
// answered. ClusterIPs 10.43.a.b listen on 127.43.a.b (all of 127/8 is local), so no test needs
// an address added to the machine.
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { connect, createServer, type Server, type Socket } from 'node:net';
import type { AddressManager } from '../../src/proxy/index.ts';
import type { ProxyData } from '../../src/proxy/index.ts';
import type { KObject } from '../../src/model/index.ts';
import { createLogger, type Logger } from '../../src/log/index.ts';

export const testListenAddress = (clusterIP: string): string => clusterIP.replace(/^10\./, '127.');

export class FakeData implements ProxyData {
  readonly #services = new Map<string, KObject>();
  readonly #endpoints = new Map<string, KObject>();
  readonly #listeners = new Set<() => void>();

  services(): KObject[] {
    return [...this.#services.values()];
  }
  endpoints(namespace: string, name: string): KObject | undefined {
    return this.#endpoints.get(`${namespace}/${name}`);
  }
  onChange(listener: () => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }
  setService(service: KObject): void {
    this.#services.set(`${service.metadata.namespace ?? 'default'}/${service.metadata.name}`, service);
    this.#changed();
  }
  deleteService(name: string, namespace = 'default'): void {
    this.#services.delete(`${namespace}/${name}`);
    this.#changed();
  }
  setEndpoints(endpoints: KObject): void {
    this.#endpoints.set(`${endpoints.metadata.namespace ?? 'default'}/${endpoints.metadata.name}`, endpoints);
    this.#changed();
  }
  #changed(): void {
    for (const listener of this.#listeners) listener();
  }
}

export class FakeAddresses implements AddressManager {
  readonly present = new Set<string>();
  readonly log: string[] = [];
  constructor(earlier: string[] = []) {
    for (const ip of earlier) this.present.add(ip);
  }
  async list(): Promise<string[]> {
    return [...this.present];
  }
  async add(ip: string): Promise<boolean> {
    this.log.push(`add ${ip}`);
    if (this.present.has(ip)) return false;
    this.present.add(ip);
    return true;
  }
  async remove(ip: string): Promise<void> {
    this.log.push(`remove ${ip}`);
    this.present.delete(ip);
  }
}

export interface PortSpec {
  name?: string;
  port: number;
  protocol?: 'TCP' | 'UDP';
  nodePort?: number;
}

export function service(name: string, clusterIP: string, ports: PortSpec[], spec: Record<string, unknown> = {}): KObject {
  return { apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: 'default' }, spec: { clusterIP, ports, selector: { app: name }, ...spec } };
}

export function endpoints(name: string, addresses: { ip: string; port: number }[], portName?: string, protocol: 'TCP' | 'UDP' = 'TCP', notReady: { ip: string; port: number }[] = []): KObject {
  // One subset per backend port, as the endpoints controller groups them.
  const byPort = new Map<number, { ready: string[]; notReady: string[] }>();
  for (const a of addresses) (byPort.get(a.port) ?? byPort.set(a.port, { ready: [], notReady: [] }).get(a.port)!).ready.push(a.ip);
  for (const a of notReady) (byPort.get(a.port) ?? byPort.set(a.port, { ready: [], notReady: [] }).get(a.port)!).notReady.push(a.ip);
  return {
    apiVersion: 'v1',
    kind: 'Endpoints',
    metadata: { name, namespace: 'default' },
    subsets: [...byPort].map(([port, { ready, notReady: waiting }]) => ({
      ...(ready.length ? { addresses: ready.map((ip) => ({ ip })) } : {}),
      ...(waiting.length ? { notReadyAddresses: waiting.map((ip) => ({ ip })) } : {}),
      ports: [{ ...(portName ? { name: portName } : {}), port, protocol }],
    })),
  };
}

export interface Backend {
  name: string;
  port: number;
  server: Server;
  /** Connections it accepted. */
  accepted: number;
  sockets: Set<Socket>;
  close(): Promise<void>;
}

/** A TCP backend that writes `name\n` on connect, then echoes, and ends when the client ends. */
export async function tcpBackend(name: string, port = 0): Promise<Backend> {
  const sockets = new Set<Socket>();
  const backend: Backend = {
    name,
    port,
    accepted: 0,
    sockets,
    server: createServer({ allowHalfOpen: true }, (socket) => {
      backend.accepted++;
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
      socket.on('error', () => socket.destroy());
      socket.write(`${name}\n`);
      socket.pipe(socket);
    }),
    close: () =>
      new Promise((resolve) => {
        for (const s of sockets) s.destroy();
        backend.server.close(() => resolve());
      }),
  };
  await new Promise<void>((resolve, reject) => {
    backend.server.once('error', reject);
    backend.server.listen(port, '127.0.0.1', () => resolve());
  });
  backend.port = (backend.server.address() as { port: number }).port;
  return backend;
}

/** Connects, half-closes after sending `send`, and returns everything read until the end. */
export function exchange(host: string, port: number, send = '', localAddress?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host, port, allowHalfOpen: true, ...(localAddress ? { localAddress } : {}) });
    const chunks: Buffer[] = [];
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.on('error', reject);
    socket.on('end', () => {
      socket.end();
      resolve(Buffer.concat(chunks).toString());
    });
    socket.on('connect', () => socket.end(send));
  });
}

/** The name of the backend that answered a connection to host:port. */
export async function whoAnswers(host: string, port: number, localAddress?: string): Promise<string> {
  return (await exchange(host, port, '', localAddress)).split('\n')[0]!;
}

/** An open connection that reports lines as they come. */
export async function openConnection(host: string, port: number): Promise<{ socket: Socket; read(): Promise<string> }> {
  const socket = connect({ host, port });
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  let buffer = '';
  const waiters: (() => void)[] = [];
  socket.on('data', (c: Buffer) => {
    buffer += c.toString();
    for (const w of waiters.splice(0)) w();
  });
  return {
    socket,
    async read() {
      while (!buffer.includes('\n')) {
        await new Promise<void>((resolve, reject) => {
          waiters.push(resolve);
          const t = setTimeout(() => reject(new Error(`no line from ${host}:${port} within 2 s (have ${JSON.stringify(buffer)})`)), 2000);
          waiters.push(() => clearTimeout(t));
        });
      }
      const nl = buffer.indexOf('\n');
      const line = buffer.slice(0, nl);
      buffer = buffer.slice(nl + 1);
      return line;
    },
  };
}

/** Whether a TCP connection to host:port is accepted (and not cut straight away). */
export function accepts(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** A UDP backend that answers each datagram with `name:payload`. */
export async function udpBackend(name: string): Promise<{ port: number; received: number; close(): Promise<void> }> {
  const socket = createSocket('udp4');
  const backend = { port: 0, received: 0, close: () => new Promise<void>((r) => socket.close(() => r())) };
  socket.on('message', (msg, from) => {
    backend.received++;
    socket.send(`${name}:${msg.toString()}`, from.port, from.address);
  });
  await new Promise<void>((r) => socket.bind(0, '127.0.0.1', () => r()));
  backend.port = socket.address().port;
  return backend;
}

/** Sends one datagram from a fresh or given socket and waits for one reply. */
export async function udpAsk(host: string, port: number, payload: string, socket = createSocket('udp4'), timeoutMs = 2000): Promise<{ text: string; from: string }> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => {
      socket.removeAllListeners('message');
      reject(new Error(`no UDP reply from ${host}:${port} within ${timeoutMs} ms`));
    }, timeoutMs);
    socket.once('message', (msg, from) => {
      clearTimeout(t);
      resolve({ text: msg.toString(), from: `${from.address}:${from.port}` });
    });
    socket.send(payload, port, host);
  });
}

export async function until(what: string, check: () => boolean | Promise<boolean>, ms = 2000): Promise<number> {
  const start = Date.now();
  while (Date.now() - start < ms) {
    if (await check()) return Date.now() - start;
    await new Promise((r) => setTimeout(r, 10));
  }
  assert.fail(`${what}: not within ${ms} ms`);
}

export interface RecordingLogger {
  logger: Logger;
  lines: Record<string, unknown>[];
}

export function recordingLogger(): RecordingLogger {
  const lines: Record<string, unknown>[] = [];
  return { lines, logger: createLogger({ level: 'debug', sink: { write: (line: string) => lines.push(JSON.parse(line)) } }) };
}
