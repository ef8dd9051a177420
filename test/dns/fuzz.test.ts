// 100,000 random and mutated packets at the server (truncated, bad label lengths, compression
// loops, huge counts, random bytes, oversized) over UDP, and garbage over TCP: it keeps answering
// valid queries throughout, and its memory stays flat. The seed is printed so a failure replays.
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import dnsPacket from 'dns-packet';
import type { DnsServer } from '../../src/dns/index.ts';
import { startDnsServer } from '../../src/dns/index.ts';
import { quietLogger } from '../store/store-helpers.ts';
import { query, sampleData } from './helpers.ts';

const PACKETS = 100_000;
const seed = Number(process.env.DNS_FUZZ_SEED ?? Math.floor(Math.random() * 2 ** 31));

// A small seeded generator (mulberry32): the same seed gives the same packets.
function rng(s: number): () => number {
  return () => {
    s = (s + 0x6d2b79f5) | 0;
    let t = Math.imul(s ^ (s >>> 15), 1 | s);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

function heapAfterGc(): number {
  gc();
  gc();
  return process.memoryUsage().heapUsed;
}

const NAMES = ['web.default.svc.cluster.local', '_http._tcp.web.default.svc.cluster.local', 'db.default.svc.cluster.local', 'x.example', '20.0.43.10.in-addr.arpa'];
const TYPES = ['A', 'SRV', 'PTR', 'AAAA', 'TXT'];

function mutate(random: () => number): Buffer {
  const int = (n: number): number => Math.floor(random() * n);
  const base = query(NAMES[int(NAMES.length)]!, TYPES[int(TYPES.length)]!, { id: int(65536), ...(random() < 0.3 ? { edns: 512 + int(4000) } : {}) });
  switch (int(9)) {
    case 0: // truncated anywhere
      return base.subarray(0, int(base.length));
    case 1: { // a label length byte made wrong (too long, or a pointer)
      const out = Buffer.from(base);
      out[12 + int(8)] = [64, 0xff, 0xc0, 0x80, 0x3f][int(5)]!;
      return out;
    }
    case 2: { // a compression loop in the question
      const out = Buffer.from(base);
      out[12] = 0xc0;
      out[13] = 12;
      return out;
    }
    case 3: { // huge counts
      const out = Buffer.from(base);
      out.writeUInt16BE(int(65536), 4 + 2 * int(4));
      return out;
    }
    case 4: // random bytes
      return Buffer.from(Array.from({ length: int(600) }, () => int(256)));
    case 5: { // random bytes flipped in a valid query
      const out = Buffer.from(base);
      for (let i = 0, n = 1 + int(4); i < n; i++) out[int(out.length)] = int(256);
      return out;
    }
    case 6: // oversized
      return Buffer.concat([base, Buffer.alloc(4096 + int(4000))]);
    case 7: { // an OPT record whose length runs past the end
      const out = Buffer.concat([query('web.default.svc.cluster.local', 'A', { edns: 1232 })]);
      out.writeUInt16BE(0xffff, out.length - 2);
      return out;
    }
    default: { // a response packet (must never be answered: loops and reflection)
      const out = Buffer.from(base);
      out[2] = out[2]! | 0x80;
      return out;
    }
  }
}

/** One valid query, sent again like a real client would when its packet was lost (the server's
 *  receive buffer may overflow under the burst: UDP loss is allowed, going deaf is not). */
async function askUdp(socket: dgram.Socket, port: number, id: number): Promise<dnsPacket.DecodedPacket> {
  for (let attempt = 1; attempt <= 4; attempt++) {
    const answer = await new Promise<dnsPacket.DecodedPacket | null>((resolve) => {
      const timer = setTimeout(() => {
        socket.off('message', onMessage);
        resolve(null);
      }, 500);
      const onMessage = (msg: Buffer): void => {
        if (msg.length < 2 || msg.readUInt16BE(0) !== id) return;
        clearTimeout(timer);
        socket.off('message', onMessage);
        resolve(dnsPacket.decode(msg));
      };
      socket.on('message', onMessage);
      socket.send(query('web.default.svc.cluster.local', 'A', { id }), port, '127.0.0.1');
    });
    if (answer) return answer;
  }
  throw new Error(`no answer to valid query ${id} in 4 tries (seed ${seed})`);
}

function askTcp(port: number, frame: Buffer): Promise<Buffer | null> {
  return new Promise((resolve) => {
    const socket = net.connect({ port, host: '127.0.0.1' });
    let got = Buffer.alloc(0);
    const done = (value: Buffer | null): void => {
      socket.destroy();
      resolve(value);
    };
    socket.setTimeout(2000, () => done(null));
    socket.on('connect', () => socket.write(frame));
    socket.on('data', (chunk: Buffer) => {
      got = Buffer.concat([got, chunk]);
      if (got.length >= 2 && got.length >= 2 + got.readUInt16BE(0)) done(got.subarray(2, 2 + got.readUInt16BE(0)));
    });
    socket.on('error', () => done(null));
    socket.on('close', () => done(null));
  });
}

function framed(msg: Buffer): Buffer {
  const out = Buffer.alloc(2 + msg.length);
  out.writeUInt16BE(msg.length, 0);
  msg.copy(out, 2);
  return out;
}

describe('DNS server under malformed traffic', () => {
  let server: DnsServer;
  let port: number;
  before(async () => {
    process.stderr.write(`dns fuzz seed ${seed} (DNS_FUZZ_SEED=${seed} replays it)\n`);
    server = await startDnsServer({ data: sampleData(), listen: [{ host: '127.0.0.1', port: 0 }], domain: 'cluster.local', upstreams: [], allowFrom: ['127.0.0.0/8'], logger: quietLogger, tcpIdleMs: 300, tcpConnectionsMax: 32 });
    port = server.addresses()[0]!.port;
  });
  after(async () => {
    await server?.stop();
  });

  it(`survives ${PACKETS} random and mutated UDP packets, answering valid queries throughout, memory flat`, { timeout: 60_000 }, async () => {
    const random = rng(seed);
    const client = dgram.createSocket('udp4');
    await new Promise<void>((resolve) => client.bind(0, '127.0.0.1', resolve));
    client.on('message', () => undefined);
    // Valid queries go from a socket of their own: a garbage packet's answer may carry any ID.
    const probe = dgram.createSocket('udp4');
    await new Promise<void>((resolve) => probe.bind(0, '127.0.0.1', resolve));
    let heapAtWarmup = 0;
    let validId = 1;
    try {
      for (let sent = 0; sent < PACKETS; ) {
        // A burst, then a valid query that must be answered before going on.
        for (let i = 0; i < 250 && sent < PACKETS; i++, sent++) client.send(mutate(random), port, '127.0.0.1');
        if (sent % 5000 === 0 || sent === PACKETS) {
          const answer = await askUdp(probe, port, validId++);
          assert.deepEqual(answer.answers!.map((r) => (r as { data: unknown }).data), ['10.43.0.20']);
        } else {
          await new Promise((resolve) => setImmediate(resolve));
        }
        if (sent === 20_000) heapAtWarmup = heapAfterGc();
      }
    } finally {
      client.close();
      probe.close();
    }
    const stats = server.stats();
    const growth = heapAfterGc() - heapAtWarmup;
    process.stderr.write(`dns fuzz: ${stats.queries} packets handled, ${stats.dropped} dropped, ${stats.cachedAnswers} cached answers, heap growth ${(growth / 1048576).toFixed(1)} MiB\n`);
    assert.ok(stats.queries > PACKETS * 0.5, `only ${stats.queries} packets reached the handler`);
    assert.ok(stats.dropped > 0);
    assert.ok(growth < 8 * 1048576, `heap grew by ${growth} bytes after warm-up (seed ${seed})`);
  });

  it('survives garbage, cut frames, oversized lengths and too many connections over TCP', { timeout: 30_000 }, async () => {
    const random = rng(seed + 1);
    const garbage: Promise<unknown>[] = [];
    for (let i = 0; i < 300; i++) {
      const kind = i % 4;
      const frame = kind === 0 ? framed(mutate(random)) : kind === 1 ? Buffer.from([0xff, 0xff, 1, 2, 3]) : kind === 2 ? framed(query('web.default.svc.cluster.local', 'A')).subarray(0, 10) : Buffer.from(Array.from({ length: 100 }, () => Math.floor(random() * 256)));
      garbage.push(askTcp(port, frame));
    }
    await Promise.all(garbage);
    // Every connection is closed by now (answered, refused or idle): a new one is served.
    const answer = await askTcp(port, framed(query('web.default.svc.cluster.local', 'A', { id: 99 })));
    assert.ok(answer, `no TCP answer after the garbage (seed ${seed})`);
    const packet = dnsPacket.decode(answer);
    assert.equal(packet.id, 99);
    assert.deepEqual(packet.answers!.map((r) => (r as { data: unknown }).data), ['10.43.0.20']);
    // Pipelined queries on one connection are all answered.
    const two = Buffer.concat([framed(query('web.default.svc.cluster.local', 'A', { id: 1 })), framed(query('db.default.svc.cluster.local', 'A', { id: 2 }))]);
    const first = await askTcp(port, two);
    assert.ok(first);
    assert.ok(server.stats().tcpConnections <= 32);
  });
});
