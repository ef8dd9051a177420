// Names outside the cluster zone: asked of the upstream resolvers one after the other within one
// bounded time, remembered for their TTL, and served stale (RFC 8767) when no upstream answers,
// so a gateway cut off from the internet still resolves the names its pods have used. A name
// never seen gets SERVFAIL within the time bound instead of a client-side timeout.
import { randomInt } from 'node:crypto';
import dgram from 'node:dgram';
import net from 'node:net';
import dnsPacket from 'dns-packet';
import type { Logger } from '../log/index.ts';
import type { Query } from './wire.ts';
import { answerFrom, FLAG_TC, HEADER_BYTES, RCODE_NOERROR, RCODE_NXDOMAIN, recordLayout, TYPE_OPT, UDP_EDNS_BYTES_MAX } from './wire.ts';

export interface Upstream {
  host: string;
  port: number;
}

export interface ForwarderOptions {
  upstreams: readonly Upstream[];
  logger: Logger;
  /** The whole time one query may spend on the upstreams, all tries included. Default 1500 ms. */
  timeoutMs?: number;
  /** Cached answers kept at most (each at most 64 KiB, most under 200 bytes). Default 5000. */
  cacheEntriesMax?: number;
  /** Bytes of cached answers kept at most. Default 4 MiB. */
  cacheBytesMax?: number;
  /** How long past its TTL an answer may still be served stale. Default one day (RFC 8767: 1–3). */
  staleSeconds?: number;
  /** Upstream queries in flight at most; past it new names get SERVFAIL. Default 512. */
  inflightMax?: number;
  now?: () => number;
}

/** RFC 8767's recommended TTL for a stale answer. */
export const STALE_TTL_SECONDS = 30;
/** Cached answers live at most this long, whatever the upstream says. */
const TTL_SECONDS_MAX = 3600;
const TCP_MESSAGE_BYTES_MAX = 65535;
const TRY_MS_MIN = 250;

interface Entry {
  /** The upstream's answer with ID 0, the question in lowercase, no OPT record. */
  wire: Buffer;
  ttlOffsets: number[];
  ttls: number[];
  storedAt: number;
  expiresAt: number;
  staleUntil: number;
}

interface Pending {
  id: number;
  upstream: Upstream;
  question: Buffer;
  resolve: (answer: Buffer | null) => void;
  timer: NodeJS.Timeout;
}

export interface ForwarderStats {
  forwarded: number;
  cacheHits: number;
  stale: number;
  failed: number;
}

export class Forwarder {
  readonly stats: ForwarderStats = { forwarded: 0, cacheHits: 0, stale: 0, failed: 0 };
  readonly #o: Required<Omit<ForwarderOptions, 'upstreams' | 'logger' | 'now'>> & { now: () => number };
  readonly #upstreams: readonly Upstream[];
  readonly #logger: Logger;
  readonly #cache = new Map<string, Entry>();
  #cacheBytes = 0;
  readonly #inflight = new Map<string, Promise<Buffer | null>>();
  readonly #pending = new Map<number, Pending>();
  readonly #sockets = new Map<'udp4' | 'udp6', dgram.Socket>();
  readonly #tcp = new Set<net.Socket>();
  #closed = false;

  constructor(options: ForwarderOptions) {
    this.#upstreams = options.upstreams;
    this.#logger = options.logger;
    this.#o = {
      timeoutMs: options.timeoutMs ?? 1500,
      cacheEntriesMax: options.cacheEntriesMax ?? 5000,
      cacheBytesMax: options.cacheBytesMax ?? 4 * 1024 * 1024,
      staleSeconds: options.staleSeconds ?? 86400,
      inflightMax: options.inflightMax ?? 512,
      now: options.now ?? Date.now,
    };
  }

  get upstreams(): readonly Upstream[] {
    return this.#upstreams;
  }

  /** A fresh cached answer to `query`, or null. */
  cached(query: Query, buf: Buffer, limit: number): Buffer | null {
    const entry = this.#cache.get(query.key);
    if (!entry || entry.expiresAt <= this.#o.now()) return null;
    this.stats.cacheHits++;
    return this.#serve(entry, query, buf, limit, false);
  }

  /** Asks the upstreams (one question in flight per name and type, shared by every client asking
   *  it meanwhile); without an answer, the stale one or null (the caller answers SERVFAIL). */
  async resolve(query: Query, buf: Buffer, limit: number, viaTcp: boolean): Promise<Buffer | null> {
    let flight = this.#inflight.get(query.key);
    if (!flight) {
      if (this.#inflight.size >= this.#o.inflightMax || this.#upstreams.length === 0) return this.#stale(query, buf, limit);
      flight = this.#ask(buf.subarray(HEADER_BYTES, query.questionEnd), viaTcp);
      this.#inflight.set(query.key, flight);
      void flight.finally(() => this.#inflight.delete(query.key));
    }
    const answer = await flight;
    if (answer === null) return this.#stale(query, buf, limit);
    const entry = this.#entryOf(answer);
    if (entry === null) return this.#stale(query, buf, limit);
    const truncated = (entry.wire.readUInt16BE(2) & FLAG_TC) !== 0;
    if (!truncated && entry.expiresAt >= this.#o.now()) this.#store(query.key, entry);
    // A truncated upstream answer goes to a UDP client as it is (it asks again over TCP); a TCP
    // client's question went to the upstream over TCP already.
    return this.#serve(entry, query, buf, limit, false);
  }

  close(): void {
    this.#closed = true;
    for (const p of this.#pending.values()) {
      clearTimeout(p.timer);
      p.resolve(null);
    }
    this.#pending.clear();
    for (const socket of this.#sockets.values()) socket.close();
    this.#sockets.clear();
    for (const socket of this.#tcp) socket.destroy();
  }

  #stale(query: Query, buf: Buffer, limit: number): Buffer | null {
    const entry = this.#cache.get(query.key);
    if (!entry) {
      this.stats.failed++;
      return null;
    }
    if (entry.staleUntil <= this.#o.now()) {
      this.#drop(query.key, entry);
      this.stats.failed++;
      return null;
    }
    this.stats.stale++;
    return this.#serve(entry, query, buf, limit, true);
  }

  #serve(entry: Entry, query: Query, buf: Buffer, limit: number, stale: boolean): Buffer {
    const copy = Buffer.from(entry.wire);
    const elapsed = Math.floor((this.#o.now() - entry.storedAt) / 1000);
    for (let i = 0; i < entry.ttlOffsets.length; i++) {
      copy.writeUInt32BE(stale ? STALE_TTL_SECONDS : Math.max(0, entry.ttls[i]! - elapsed), entry.ttlOffsets[i]!);
    }
    return answerFrom(copy, query, buf, limit);
  }

  /** The cache form of an upstream answer, or null when it cannot be read or is a failure that
   *  another upstream or the stale copy should answer instead. */
  #entryOf(answer: Buffer): Entry | null {
    const layout = recordLayout(answer);
    if (layout === null) return null;
    let packet: dnsPacket.DecodedPacket;
    try {
      packet = dnsPacket.decode(answer);
    } catch {
      return null;
    }
    const rcode = answer[3]! & 0xf;
    if (rcode !== RCODE_NOERROR && rcode !== RCODE_NXDOMAIN) return null;
    let wire = Buffer.from(answer);
    let ttlOffsets = layout.ttlOffsets;
    if (layout.optStart >= 0) {
      wire = Buffer.concat([answer.subarray(0, layout.optStart), answer.subarray(layout.optEnd)]);
      wire.writeUInt16BE(wire.readUInt16BE(10) - 1, 10);
      ttlOffsets = ttlOffsets.map((offset) => (offset > layout.optStart ? offset - (layout.optEnd - layout.optStart) : offset));
    } else if (packet.additionals?.some((r) => r.type === 'OPT')) {
      return null; // an OPT that is not last: not a form we can cache or rewrite
    }
    wire.writeUInt16BE(0, 0);
    // Lowercase the question so the copy matches any client's case once patched.
    for (let i = HEADER_BYTES; i < wire.length && wire[i] !== 0; ) {
      const length = wire[i]!;
      for (let j = i + 1; j <= i + length && j < wire.length; j++) if (wire[j]! >= 0x41 && wire[j]! <= 0x5a) wire[j] = wire[j]! | 0x20;
      i += 1 + length;
    }
    const ttls = ttlOffsets.map((offset) => wire.readUInt32BE(offset) & 0x7fffffff);
    let ttl = layout.ttlMin;
    const answers = packet.answers ?? [];
    if (rcode === RCODE_NXDOMAIN || answers.length === 0) {
      // RFC 2308: a negative answer lives as long as its SOA's TTL and minimum allow; none, not at all.
      const soa = (packet.authorities ?? []).find((r) => r.type === 'SOA');
      ttl = soa && soa.type === 'SOA' ? Math.min(soa.ttl ?? 0, soa.data.minimum ?? 0) : 0;
    }
    if (!Number.isFinite(ttl)) ttl = 0;
    ttl = Math.min(ttl, TTL_SECONDS_MAX);
    const now = this.#o.now();
    return { wire, ttlOffsets, ttls, storedAt: now, expiresAt: now + ttl * 1000, staleUntil: now + (ttl + this.#o.staleSeconds) * 1000 };
  }

  #store(key: string, entry: Entry): void {
    const old = this.#cache.get(key);
    if (old) this.#drop(key, old);
    this.#cache.set(key, entry);
    this.#cacheBytes += entry.wire.length;
    // The oldest entries go first (a Map iterates in insertion order).
    for (const [oldKey, oldEntry] of this.#cache) {
      if (this.#cache.size <= this.#o.cacheEntriesMax && this.#cacheBytes <= this.#o.cacheBytesMax) break;
      this.#drop(oldKey, oldEntry);
    }
  }

  #drop(key: string, entry: Entry): void {
    if (this.#cache.get(key) !== entry) return;
    this.#cache.delete(key);
    this.#cacheBytes -= entry.wire.length;
  }

  /** Asks each upstream in turn until one answers usefully, all within the time bound. */
  async #ask(question: Buffer, viaTcp: boolean): Promise<Buffer | null> {
    this.stats.forwarded++;
    const question0 = Buffer.from(question);
    const deadline = this.#o.now() + this.#o.timeoutMs;
    const tryMs = Math.max(TRY_MS_MIN, Math.floor(this.#o.timeoutMs / this.#upstreams.length));
    for (const upstream of this.#upstreams) {
      const left = deadline - this.#o.now();
      if (left <= 0 || this.#closed) break;
      const ms = Math.min(tryMs, left);
      let answer = viaTcp ? await this.#askTcp(upstream, question0, ms) : await this.#askUdp(upstream, question0, ms);
      // Too big for UDP: a TCP client gets it whole from the upstream's TCP side.
      if (answer && viaTcp === false && (answer.readUInt16BE(2) & FLAG_TC) !== 0) return answer;
      if (answer && this.#entryOf(answer) === null) answer = null;
      if (answer) return answer;
    }
    return null;
  }

  #query(id: number, question: Buffer): Buffer {
    const out = Buffer.alloc(HEADER_BYTES + question.length + 11);
    out.writeUInt16BE(id, 0);
    out.writeUInt16BE(0x0100, 2); // RD
    out.writeUInt16BE(1, 4);
    out.writeUInt16BE(1, 10);
    question.copy(out, HEADER_BYTES);
    const at = HEADER_BYTES + question.length;
    out.writeUInt16BE(TYPE_OPT, at + 1);
    out.writeUInt16BE(UDP_EDNS_BYTES_MAX, at + 3);
    return out;
  }

  #socket(family: 'udp4' | 'udp6'): dgram.Socket {
    let socket = this.#sockets.get(family);
    if (socket) return socket;
    const created = dgram.createSocket(family);
    created.on('message', (msg, rinfo) => this.#onAnswer(msg, rinfo));
    created.on('error', (error) => this.#logger.warn('DNS upstream socket error', { error: error.message }));
    created.unref();
    this.#sockets.set(family, created);
    socket = created;
    return socket;
  }

  #askUdp(upstream: Upstream, question: Buffer, ms: number): Promise<Buffer | null> {
    return new Promise((resolve) => {
      if (this.#pending.size >= 65000) return resolve(null);
      let id = randomInt(65536);
      while (this.#pending.has(id)) id = randomInt(65536);
      const done = (answer: Buffer | null): void => {
        clearTimeout(pending.timer);
        this.#pending.delete(id);
        resolve(answer);
      };
      const pending: Pending = { id, upstream, question, resolve: done, timer: setTimeout(() => done(null), ms) };
      pending.timer.unref();
      this.#pending.set(id, pending);
      const socket = this.#socket(net.isIPv6(upstream.host) ? 'udp6' : 'udp4');
      socket.send(this.#query(id, question), upstream.port, upstream.host, (error) => {
        if (error) done(null);
      });
    });
  }

  #onAnswer(msg: Buffer, rinfo: dgram.RemoteInfo): void {
    if (msg.length < HEADER_BYTES) return;
    const pending = this.#pending.get(msg.readUInt16BE(0));
    if (!pending) return;
    // Only the upstream we asked, answering the question we asked (spoofing resistance).
    if (rinfo.port !== pending.upstream.port || normalise(rinfo.address) !== normalise(pending.upstream.host)) return;
    if (!sameQuestion(msg, pending.question)) return;
    pending.resolve(msg);
  }

  #askTcp(upstream: Upstream, question: Buffer, ms: number): Promise<Buffer | null> {
    return new Promise((resolve) => {
      const id = randomInt(65536);
      const query = this.#query(id, question);
      const socket = net.connect({ host: upstream.host, port: upstream.port });
      this.#tcp.add(socket);
      let received = Buffer.alloc(0);
      let settled = false;
      const finish = (answer: Buffer | null): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        this.#tcp.delete(socket);
        socket.destroy();
        resolve(answer);
      };
      const timer = setTimeout(() => finish(null), ms);
      timer.unref();
      socket.on('connect', () => {
        const frame = Buffer.alloc(2 + query.length);
        frame.writeUInt16BE(query.length, 0);
        query.copy(frame, 2);
        socket.write(frame);
      });
      socket.on('data', (chunk: Buffer) => {
        received = Buffer.concat([received, chunk]);
        if (received.length > TCP_MESSAGE_BYTES_MAX + 2) return finish(null);
        if (received.length < 2) return;
        const length = received.readUInt16BE(0);
        if (received.length < 2 + length) return;
        const answer = received.subarray(2, 2 + length);
        finish(answer.length >= HEADER_BYTES && answer.readUInt16BE(0) === id && sameQuestion(answer, question) ? Buffer.from(answer) : null);
      });
      socket.on('error', () => finish(null));
      socket.on('close', () => finish(null));
    });
  }
}

function normalise(address: string): string {
  return address.startsWith('::ffff:') ? address.slice(7) : address;
}

/** Whether `answer` has one question equal to `question` (name compared case-insensitively). */
function sameQuestion(answer: Buffer, question: Buffer): boolean {
  if (answer.readUInt16BE(4) !== 1 || answer.length < HEADER_BYTES + question.length) return false;
  for (let i = 0; i < question.length; i++) {
    let a = answer[HEADER_BYTES + i]!;
    let b = question[i]!;
    if (a >= 0x41 && a <= 0x5a) a |= 0x20;
    if (b >= 0x41 && b <= 0x5a) b |= 0x20;
    if (a !== b) return false;
  }
  return true;
}
