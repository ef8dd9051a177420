// The DNS server's sockets: one UDP socket and one TCP listener per address, feeding the handler.
// Everything a client can fill is bounded: UDP packets by size, TCP by message length, bytes
// buffered per connection, queries in flight per connection, connections at once and idle time.
import dgram from 'node:dgram';
import net from 'node:net';
import type { Logger } from '../log/index.ts';
import { SourceFilter } from './access.ts';
import type { DnsData } from './data.ts';
import type { ForwarderStats, Upstream } from './forwarder.ts';
import { Forwarder } from './forwarder.ts';
import type { HandlerStats } from './handler.ts';
import { DnsHandler } from './handler.ts';
import { parseUpstream } from './options.ts';
import { readResolvConfUpstreams } from './resolv-conf.ts';

export interface ListenAddress {
  host: string;
  port: number;
}

export interface DnsServerOptions {
  data: DnsData;
  /** Where to answer, UDP and TCP each. Port 0 picks one port for both. */
  listen: readonly ListenAddress[];
  /** The cluster domain (`cluster.local`). */
  domain: string;
  /** `IP[:PORT]` of the resolvers for other names; default: the host's resolv.conf. */
  upstreams?: readonly string[];
  /** Networks allowed to ask (CIDRs or addresses); any other source is REFUSED. */
  allowFrom: readonly string[];
  logger: Logger;
  /** The time the upstreams get for one query (default 1500 ms). */
  upstreamTimeoutMs?: number;
  /** Where to read upstreams when `upstreams` is not given (default /etc/resolv.conf). */
  resolvConfPath?: string;
  /** Limits; the defaults suit a gateway. */
  tcpConnectionsMax?: number;
  tcpIdleMs?: number;
}

export interface DnsServer {
  stop(): Promise<void>;
  /** The addresses actually bound (ports resolved). */
  addresses(): ListenAddress[];
  stats(): HandlerStats & ForwarderStats & { tcpConnections: number };
  /** The upstreams in use. */
  upstreams(): readonly Upstream[];
  /** Lets one more address or CIDR ask (the node's address after it changed). */
  allow(entry: string): void;
}

/** UDP packets longer than this are dropped unread: a query is a name and an OPT record. */
const UDP_QUERY_BYTES_MAX = 4096;
/** A socket buffer large enough to absorb a burst of queries while the event loop is busy. */
const UDP_BUFFER_BYTES = 4 * 1024 * 1024;
const TCP_BUFFERED_BYTES_MAX = 2 + 65535 + 4096;
const TCP_INFLIGHT_MAX = 32;
const BIND_TRIES = 8;

export async function startDnsServer(options: DnsServerOptions): Promise<DnsServer> {
  const logger = options.logger.child({ component: 'dns' });
  const domain = options.domain.toLowerCase().replace(/\.$/, '');
  const filter = new SourceFilter(options.allowFrom);
  const upstreams = options.upstreams
    ? options.upstreams.map((text) => parseUpstream(text))
    : await readResolvConfUpstreams(options.resolvConfPath ?? '/etc/resolv.conf', options.listen);
  if (upstreams.length === 0) logger.warn('no DNS upstream: names outside the cluster will get SERVFAIL', {});
  const forwarder = new Forwarder({ upstreams, logger, ...(options.upstreamTimeoutMs ? { timeoutMs: options.upstreamTimeoutMs } : {}) });
  const handler = new DnsHandler({ data: options.data, domain, forwarder, logger });
  const tcpConnectionsMax = options.tcpConnectionsMax ?? 128;
  const tcpIdleMs = options.tcpIdleMs ?? 10_000;
  const udpSockets: dgram.Socket[] = [];
  const tcpServers: net.Server[] = [];
  const connections = new Set<net.Socket>();
  const bound: ListenAddress[] = [];

  const answerUdp = (socket: dgram.Socket, msg: Buffer, rinfo: dgram.RemoteInfo): void => {
    if (msg.length > UDP_QUERY_BYTES_MAX) return;
    let answer: Buffer | null | Promise<Buffer | null>;
    try {
      answer = handler.handle(msg, false, filter.allows(rinfo.address));
    } catch (error) {
      logger.error('DNS query handling failed', { error: String(error) });
      return;
    }
    if (answer === null) return;
    if (!(answer instanceof Promise)) {
      socket.send(answer, rinfo.port, rinfo.address);
      return;
    }
    answer.then(
      (out) => {
        if (out) socket.send(out, rinfo.port, rinfo.address);
      },
      (error: unknown) => logger.error('DNS query handling failed', { error: String(error) }),
    );
  };

  const serveTcp = (socket: net.Socket): void => {
    if (connections.size >= tcpConnectionsMax) {
      socket.destroy();
      return;
    }
    connections.add(socket);
    socket.on('close', () => connections.delete(socket));
    socket.on('error', () => socket.destroy());
    socket.setTimeout(tcpIdleMs, () => socket.destroy());
    socket.setNoDelay(true);
    const allowed = filter.allows(socket.remoteAddress ?? '');
    let buffered: Buffer = Buffer.alloc(0);
    let inflight = 0;
    const send = (out: Buffer | null): void => {
      if (!out || socket.destroyed) return;
      const frame = Buffer.allocUnsafe(2 + out.length);
      frame.writeUInt16BE(out.length, 0);
      out.copy(frame, 2);
      socket.write(frame);
    };
    const drain = (): void => {
      while (buffered.length >= 2 && inflight < TCP_INFLIGHT_MAX) {
        const length = buffered.readUInt16BE(0);
        if (buffered.length < 2 + length) break;
        const msg = Buffer.from(buffered.subarray(2, 2 + length));
        buffered = buffered.subarray(2 + length);
        let answer: Buffer | null | Promise<Buffer | null>;
        try {
          answer = handler.handle(msg, true, allowed);
        } catch (error) {
          logger.error('DNS query handling failed', { error: String(error) });
          socket.destroy();
          return;
        }
        if (answer === null) {
          // RFC 7766: a connection that sends something not a DNS query is closed.
          socket.destroy();
          return;
        }
        if (!(answer instanceof Promise)) {
          send(answer);
          continue;
        }
        inflight++;
        if (inflight >= TCP_INFLIGHT_MAX) socket.pause();
        answer.then(
          (out) => {
            inflight--;
            send(out);
            if (socket.isPaused() && !socket.destroyed) socket.resume();
            drain();
          },
          () => socket.destroy(),
        );
      }
    };
    socket.on('data', (chunk: Buffer) => {
      buffered = buffered.length === 0 ? chunk : Buffer.concat([buffered, chunk]);
      if (buffered.length > TCP_BUFFERED_BYTES_MAX) {
        socket.destroy();
        return;
      }
      drain();
    });
  };

  const stopAll = async (): Promise<void> => {
    for (const socket of udpSockets) socket.close();
    for (const socket of connections) socket.destroy();
    await Promise.all(tcpServers.map((server) => new Promise<void>((resolve) => server.close(() => resolve()))));
    forwarder.close();
    handler.close();
  };

  try {
    for (const address of options.listen) {
      const { udp, tcp, port } = await bindPair(address, answerUdp, serveTcp);
      udpSockets.push(udp);
      tcpServers.push(tcp);
      bound.push({ host: address.host, port });
    }
  } catch (error) {
    await stopAll();
    throw error;
  }
  logger.info('DNS server listening', { addresses: bound.map((a) => `${a.host}:${a.port}`), domain, upstreams: upstreams.map((u) => `${u.host}:${u.port}`) });

  return {
    stop: stopAll,
    addresses: () => bound.map((a) => ({ ...a })),
    stats: () => ({ ...handler.stats, ...forwarder.stats, tcpConnections: connections.size }),
    upstreams: () => upstreams,
    allow: (entry) => filter.allow(entry),
  };
}

/** Every answer goes back to the address a query came from, always an IP: the default lookup
 *  (dns.lookup) would validate it and defer each send to the next tick for nothing. */
function literalAddress(address: string, family: unknown, callback: (error: Error | null, address: string, family: number) => void): void {
  callback(null, address, typeof family === 'number' ? family : net.isIPv6(address) ? 6 : 4);
}

/** Binds UDP then TCP on the same port; with port 0, tries again when TCP's port is taken. */
async function bindPair(
  address: ListenAddress,
  onMessage: (socket: dgram.Socket, msg: Buffer, rinfo: dgram.RemoteInfo) => void,
  onConnection: (socket: net.Socket) => void,
): Promise<{ udp: dgram.Socket; tcp: net.Server; port: number }> {
  const family = net.isIPv6(address.host) ? 'udp6' : 'udp4';
  for (let attempt = 1; ; attempt++) {
    const udp = dgram.createSocket({ type: family, recvBufferSize: UDP_BUFFER_BYTES, sendBufferSize: UDP_BUFFER_BYTES, lookup: literalAddress });
    udp.on('message', (msg, rinfo) => onMessage(udp, msg, rinfo));
    try {
      await new Promise<void>((resolve, reject) => {
        udp.once('error', reject);
        udp.bind(address.port, address.host, () => {
          udp.off('error', reject);
          resolve();
        });
      });
    } catch (error) {
      udp.close();
      throw new Error(`DNS: cannot bind UDP ${address.host}:${address.port}: ${(error as Error).message} (is another DNS server running there, or is the address not on this host?)`, { cause: error });
    }
    // Errors after binding (a send to a vanished client) must not take the process down.
    udp.on('error', () => undefined);
    const port = udp.address().port;
    const tcp = net.createServer({ noDelay: true }, onConnection);
    try {
      await new Promise<void>((resolve, reject) => {
        tcp.once('error', reject);
        tcp.listen({ port, host: address.host }, () => {
          tcp.off('error', reject);
          resolve();
        });
      });
    } catch (error) {
      udp.close();
      if (address.port === 0 && attempt < BIND_TRIES) continue;
      throw new Error(`DNS: cannot listen on TCP ${address.host}:${port}: ${(error as Error).message}`, { cause: error });
    }
    tcp.on('error', () => undefined);
    return { udp, tcp, port };
  }
}
