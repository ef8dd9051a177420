// The peer link's stream mode over real sockets on 127.0.0.1: a PeerTransport with
// `stream: true` sending to a node:http server whose 'upgrade' event goes to createPeerHandler.
// Order, refusals, a peer without streams (requests instead), a peer that is down and comes
// back, a bad frame, and that close() leaves nothing running. Also the frame splitter alone.

import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { createPeerHandler, type PeerHandler } from '../../src/cluster/peer-server.ts';
import { PeerTransport, type PeerTransportOptions } from '../../src/cluster/transport.ts';
import { assembleFrame, encodeMessage, FrameReader, STREAM_PATH, STREAM_PROTOCOL, WireError } from '../../src/cluster/wire.ts';
import { createLogger, type Logger } from '../../src/log/index.ts';
import { message, type Message } from '../../src/raft/types.ts';

const TOKEN = 'join-token-8c1f';
const CLUSTER = 'cluster-a';

const scratch = await mkdtemp(join(tmpdir(), 'bramble-stream-'));
after(() => rm(scratch, { recursive: true, force: true }));

interface LogRecord {
  level: string;
  msg: string;
  [field: string]: unknown;
}

function recorder(): { logger: Logger; records: LogRecord[]; count(level: string, msg: RegExp): number } {
  const records: LogRecord[] = [];
  const logger = createLogger({ level: 'debug', sink: { write: (line: string) => records.push(JSON.parse(line) as LogRecord) } });
  return { logger, records, count: (level, msg) => records.filter((r) => r.level === level && msg.test(r.msg)).length };
}

async function waitFor(condition: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

function hb(seq: number, to = 'n2'): Message {
  return message({ type: 'MsgHeartbeat', to, from: 'n1', term: 1, commit: seq });
}

interface Peer {
  url: string;
  port: number;
  handler: PeerHandler;
  delivered: Message[];
  opened: string[];
  requests: number;
  log: ReturnType<typeof recorder>;
  close(): Promise<void>;
}

async function startPeer(setup: { port?: number; token?: string; streams?: boolean } = {}): Promise<Peer> {
  const log = recorder();
  const peer = { delivered: [] as Message[], opened: [] as string[], requests: 0, log } as Peer;
  peer.handler = createPeerHandler({
    token: setup.token ?? TOKEN,
    clusterId: () => CLUSTER,
    logger: log.logger,
    incomingDir: await mkdtemp(join(scratch, 'incoming-')),
    onMessages: (_from, messages) => peer.delivered.push(...messages),
    onSnapshot: () => undefined,
    onStreamOpened: (from) => peer.opened.push(from),
  });
  const server: Server = createServer((req, res) => {
    peer.requests++;
    peer.handler(req, res);
  });
  if (setup.streams !== false) server.on('upgrade', peer.handler.upgrade);
  await new Promise<void>((resolve) => server.listen(setup.port ?? 0, '127.0.0.1', resolve));
  peer.port = (server.address() as AddressInfo).port;
  peer.url = `http://127.0.0.1:${peer.port}`;
  peer.close = async () => {
    peer.handler.closeStreams();
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  };
  return peer;
}

function startSender(peers: Record<string, string>, overrides: Partial<PeerTransportOptions> = {}) {
  const log = recorder();
  const unreachable: string[] = [];
  const transport = new PeerTransport({
    selfId: 'n1',
    clusterId: CLUSTER,
    token: TOKEN,
    peerUrl: (id) => peers[id],
    logger: log.logger,
    onUnreachable: (id) => unreachable.push(id),
    onSnapshotStatus: () => undefined,
    snapshotFile: () => {
      throw new Error('this test sends no snapshot');
    },
    backoff: { initialMs: 20, maxMs: 80 },
    stream: true,
    ...overrides,
  });
  return { transport, unreachable, log };
}

async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as AddressInfo;
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

describe('frame reader', () => {
  test('frames split across chunks in every way come back whole and in order', () => {
    const header = { clusterId: CLUSTER, from: 'n1' };
    const frames = [assembleFrame(header, [encodeMessage(hb(1))]), assembleFrame(header, [encodeMessage(hb(2)), encodeMessage(hb(3))])];
    const all = Buffer.concat(frames);
    for (let cut = 0; cut <= all.length; cut++) {
      const reader = new FrameReader(1 << 20);
      const out = [...reader.push(all.subarray(0, cut)), ...reader.push(all.subarray(cut))];
      assert.deepEqual(out.map((f) => f.toString('hex')), frames.map((f) => f.subarray(4).toString('hex')), `cut at ${cut}`);
      assert.equal(reader.buffered, 0);
    }
    // byte by byte
    const reader = new FrameReader(1 << 20);
    const out: Buffer[] = [];
    for (let i = 0; i < all.length; i++) out.push(...reader.push(all.subarray(i, i + 1)));
    assert.equal(out.length, 2);
  });

  test('a frame longer than the limit is refused', () => {
    const reader = new FrameReader(100);
    const head = Buffer.alloc(4);
    head.writeUInt32BE(101);
    assert.throws(() => reader.push(head), WireError);
  });
});

describe('transport: streams', () => {
  test('messages go over one stream, in order, with no HTTP request per batch', async () => {
    const peer = await startPeer();
    const sender = startSender({ n2: peer.url });
    try {
      for (let seq = 0; seq < 1000; seq++) {
        sender.transport.send([hb(seq)]);
        if (seq % 50 === 0) await new Promise((resolve) => setImmediate(resolve));
      }
      await waitFor(() => peer.delivered.length === 1000, 'all 1000 messages');
      assert.deepEqual(
        peer.delivered.map((m) => m.commit),
        Array.from({ length: 1000 }, (_, i) => i),
      );
      assert.equal(peer.requests, 0, 'no plain HTTP requests');
      assert.equal(peer.handler.streams, 1);
      assert.deepEqual(peer.opened, ['n1']);
      const stats = sender.transport.stats().peers[0]!;
      assert.equal(stats.messagesSent, 1000);
      assert.equal(stats.queuedMessages, 0);
      assert.deepEqual(sender.unreachable, []);
    } finally {
      await sender.transport.close();
      await peer.close();
    }
  });

  test('a peer that does not take streams is sent requests instead', async () => {
    const peer = await startPeer({ streams: false });
    const sender = startSender({ n2: peer.url });
    try {
      for (let seq = 0; seq < 100; seq++) sender.transport.send([hb(seq)]);
      await waitFor(() => peer.delivered.length === 100, 'all messages');
      assert.deepEqual(
        peer.delivered.map((m) => m.commit),
        Array.from({ length: 100 }, (_, i) => i),
      );
      assert.ok(peer.requests >= 2, 'the refused upgrade, then batches');
      assert.equal(sender.log.count('info', /does not take streams/), 1);
    } finally {
      await sender.transport.close();
      await peer.close();
    }
  });

  test('a wrong token: refused, nothing delivered, the peer is reported unreachable, one warning each side', async () => {
    const peer = await startPeer({ token: 'another-token' });
    const sender = startSender({ n2: peer.url });
    try {
      for (let i = 0; i < 20; i++) {
        sender.transport.send([hb(i)]);
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      await waitFor(() => sender.unreachable.length >= 2, 'unreachable reports');
      assert.equal(peer.delivered.length, 0);
      assert.equal(peer.handler.streams, 0);
      assert.equal(sender.log.count('warn', /peer unreachable/), 1);
      assert.match(String(sender.log.records.find((r) => r.level === 'warn')?.['error']), /401/);
      assert.equal(peer.log.count('warn', /refused peer stream/), 1);
    } finally {
      await sender.transport.close();
      await peer.close();
    }
  });

  test('a peer that goes down and comes back: unreachable, then delivery again in order; connect() and peerAlive() skip the back-off', async () => {
    let peer = await startPeer();
    const port = peer.port;
    const sender = startSender({ n2: peer.url }, { backoff: { initialMs: 60_000, maxMs: 60_000 } });
    try {
      sender.transport.connect(['n1', 'n2']);
      await waitFor(() => peer.handler.streams === 1, 'the stream opened by connect()');
      assert.equal(peer.delivered.length, 0);
      sender.transport.send([hb(1)]);
      await waitFor(() => peer.delivered.length === 1, 'the first message');
      await peer.close();
      await waitFor(() => sender.unreachable.length === 1, 'the broken stream to be reported');
      assert.equal(sender.transport.stats().peers[0]!.down, true);
      sender.transport.send([hb(2), hb(3)]);
      peer = await startPeer({ port });
      // A back-off of a minute: only peerAlive brings the link back within this test.
      sender.transport.peerAlive('n2');
      await waitFor(() => peer.delivered.length === 2, 'delivery after the peer came back');
      assert.deepEqual(
        peer.delivered.map((m) => m.commit),
        [2, 3],
      );
      await waitFor(() => sender.log.count('info', /peer reachable again/) === 1, 'the recovery line');
    } finally {
      await sender.transport.close();
      await peer.close();
    }
  });

  test('a stream that sends a bad frame is closed; the server keeps serving', async () => {
    const peer = await startPeer();
    try {
      const socket = connect(peer.port, '127.0.0.1');
      await new Promise((resolve) => socket.once('connect', resolve));
      socket.write(
        `GET ${STREAM_PATH} HTTP/1.1\r\nhost: x\r\nconnection: Upgrade\r\nupgrade: ${STREAM_PROTOCOL}\r\n` +
          `authorization: Bearer ${TOKEN}\r\nx-bramble-cluster: ${CLUSTER}\r\n\r\n`,
      );
      const answer = await new Promise<string>((resolve) => socket.once('data', (d: Buffer) => resolve(d.toString('latin1'))));
      assert.match(answer, /^HTTP\/1.1 101/);
      const closed = new Promise((resolve) => socket.once('close', resolve));
      const garbage = Buffer.alloc(20, 7);
      garbage.writeUInt32BE(16, 0);
      socket.write(garbage);
      await closed;
      assert.equal(peer.delivered.length, 0);
      assert.equal(peer.log.count('warn', /bad frame/), 1);
      const sender = startSender({ n2: peer.url });
      sender.transport.send([hb(9)]);
      await waitFor(() => peer.delivered.length === 1, 'a good stream afterwards');
      await sender.transport.close();
    } finally {
      await peer.close();
    }
  });

  test('close() ends streams, requests and timers on both sides', async () => {
    const countResources = () => {
      const counts = new Map<string, number>();
      for (const name of process.getActiveResourcesInfo()) counts.set(name, (counts.get(name) ?? 0) + 1);
      return counts;
    };
    const before = countResources();
    const peer = await startPeer();
    const downPort = await freePort();
    const sender = startSender({ n2: peer.url, n3: `http://127.0.0.1:${downPort}` }, { backoff: { initialMs: 1000, maxMs: 1000 } });
    sender.transport.send([hb(1, 'n2'), hb(1, 'n3')]);
    await waitFor(() => peer.delivered.length === 1 && sender.unreachable.length === 1, 'one delivery and one failure');
    await sender.transport.close();
    await peer.close();
    await new Promise((resolve) => setTimeout(resolve, 20));
    const afterClose = countResources();
    for (const kind of ['Timeout', 'TCPSocketWrap', 'TCPServerWrap']) {
      assert.ok((afterClose.get(kind) ?? 0) <= (before.get(kind) ?? 0), `${kind}: ${before.get(kind) ?? 0} before, ${afterClose.get(kind) ?? 0} after close`);
    }
  });
});
