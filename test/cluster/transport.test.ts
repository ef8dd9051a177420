// The peer link over real sockets on 127.0.0.1: a PeerTransport sending to a node:http server
// running createPeerHandler. Batching and order, refusals (auth, garbage, limits), a peer that
// is down and comes back, the bounded queue, snapshot streaming and its failures, and that
// close() leaves nothing running.

import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { after, describe, test } from 'node:test';
import { request } from 'undici';
import { createPeerHandler, type PeerHandlerOptions, type PeerRoute } from '../../src/cluster/peer-server.ts';
import { PeerTransport, type PeerTransportOptions } from '../../src/cluster/transport.ts';
import { encodeBatch, encodedMessageBytes, MESSAGES_PATH, PEER_MESSAGE_TYPES } from '../../src/cluster/wire.ts';
import { createLogger, type Logger } from '../../src/log/index.ts';
import { message, type Message } from '../../src/raft/types.ts';

const TOKEN = 'join-token-8c1f';
const CLUSTER = 'cluster-a';

const scratch = await mkdtemp(join(tmpdir(), 'bramble-transport-'));
after(() => rm(scratch, { recursive: true, force: true }));

interface LogRecord {
  level: string;
  msg: string;
  [field: string]: unknown;
}

function recorder(): { logger: Logger; records: LogRecord[]; count(level: string, msg: string | RegExp): number } {
  const records: LogRecord[] = [];
  const logger = createLogger({ level: 'debug', sink: { write: (line: string) => records.push(JSON.parse(line) as LogRecord) } });
  const count = (level: string, msg: string | RegExp) =>
    records.filter((r) => r.level === level && (typeof msg === 'string' ? r.msg === msg : msg.test(r.msg))).length;
  return { logger, records, count };
}

async function waitFor(condition: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A heartbeat numbered by its commit field, so order can be checked at the receiver. */
function hb(seq: number, to = 'n2', padding = ''): Message {
  return message({ type: 'MsgHeartbeat', to, from: 'n1', term: 1, commit: seq, context: padding });
}

interface Peer {
  url: string;
  port: number;
  server: Server;
  incomingDir: string;
  /** Messages delivered to onMessages, in arrival order. */
  delivered: Message[];
  /** Batches delivered (one per successful /raft/messages request). */
  batches: number;
  snapshots: Array<{ message: Message; path: string }>;
  log: ReturnType<typeof recorder>;
  close(): Promise<void>;
}

interface PeerSetup extends Partial<Omit<PeerHandlerOptions, 'clusterId'>> {
  port?: number;
  clusterId?: string | undefined;
  /** Runs before the handler sees a request; may hold it (the request is "in flight"). */
  before?: (req: IncomingMessage, res: ServerResponse) => Promise<void> | void;
}

async function startPeer(setup: PeerSetup = {}): Promise<Peer> {
  const incomingDir = await mkdtemp(join(scratch, 'incoming-'));
  const log = recorder();
  const peer: Peer = {
    url: '',
    port: 0,
    server: undefined as unknown as Server,
    incomingDir,
    delivered: [],
    batches: 0,
    snapshots: [],
    log,
    close: async () => {
      peer.server.closeAllConnections();
      await new Promise((resolve) => peer.server.close(resolve));
    },
  };
  const { port, before, clusterId: _clusterId, ...handlerOptions } = setup;
  const clusterId = 'clusterId' in setup ? setup.clusterId : CLUSTER;
  const handler = createPeerHandler({
    token: TOKEN,
    clusterId: () => clusterId,
    logger: log.logger,
    incomingDir,
    onMessages: (from, messages) => {
      assert.equal(from, 'n1');
      peer.batches++;
      peer.delivered.push(...messages);
    },
    onSnapshot: (m, path) => peer.snapshots.push({ message: m, path }),
    ...handlerOptions,
  });
  peer.server = createServer((req, res) => {
    if (before === undefined) return handler(req, res);
    Promise.resolve(before(req, res)).then(() => handler(req, res));
  });
  await new Promise<void>((resolve) => peer.server.listen(port ?? 0, '127.0.0.1', resolve));
  peer.port = (peer.server.address() as AddressInfo).port;
  peer.url = `http://127.0.0.1:${peer.port}`;
  return peer;
}

interface Sender {
  transport: PeerTransport;
  unreachable: string[];
  snapshotStatus: Array<[string, boolean]>;
  log: ReturnType<typeof recorder>;
}

function startSender(peers: Record<string, string>, overrides: Partial<PeerTransportOptions> = {}): Sender {
  const log = recorder();
  const sender: Sender = { transport: undefined as unknown as PeerTransport, unreachable: [], snapshotStatus: [], log };
  sender.transport = new PeerTransport({
    selfId: 'n1',
    clusterId: CLUSTER,
    token: TOKEN,
    peerUrl: (id) => peers[id],
    logger: log.logger,
    onUnreachable: (id) => sender.unreachable.push(id),
    onSnapshotStatus: (id, ok) => sender.snapshotStatus.push([id, ok]),
    snapshotFile: () => {
      throw new Error('this test sends no snapshot');
    },
    backoff: { initialMs: 20, maxMs: 80 },
    ...overrides,
  });
  return sender;
}

async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as AddressInfo;
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

function post(url: string, path: string, body: Uint8Array | string, headers: Record<string, string> = {}) {
  return request(`${url}${path}`, { method: 'POST', body, headers: { 'content-type': 'application/octet-stream', ...headers } });
}

const goodHeaders = { authorization: `Bearer ${TOKEN}`, 'x-bramble-cluster': CLUSTER };

async function errorOf(response: Awaited<ReturnType<typeof request>>): Promise<{ status: number; code: string; message: string }> {
  const json = (await response.body.json()) as { error: { code: string; message: string } };
  return { status: response.statusCode, code: json.error.code, message: json.error.message };
}

describe('transport: batches', () => {
  test('messages sent while a request is in flight go in the next batch, in order', async () => {
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    let requests = 0;
    const peer = await startPeer({ before: () => (++requests === 1 ? released : undefined) });
    const sender = startSender({ n2: peer.url });
    try {
      sender.transport.send([hb(0)]);
      await waitFor(() => requests === 1, 'the first request to arrive');
      // 999 separate sends over many turns of the event loop, all while request 1 is held.
      for (let seq = 1; seq < 1000; seq++) {
        sender.transport.send([hb(seq)]);
        if (seq % 50 === 0) await new Promise((resolve) => setImmediate(resolve));
      }
      assert.equal(sender.transport.stats().peers[0]!.queuedMessages, 999);
      release();
      await waitFor(() => peer.delivered.length === 1000, 'all 1000 messages');
      assert.deepEqual(
        peer.delivered.map((m) => m.commit),
        Array.from({ length: 1000 }, (_, i) => i),
      );
      assert.ok(peer.batches <= 3, `1000 messages took ${peer.batches} requests`);
      // The receiver delivers before it answers, so the sender may not have counted the last yet.
      await waitFor(() => sender.transport.stats().peers[0]!.messagesSent === 1000, 'the sender to count the last batch');
      const stats = sender.transport.stats().peers[0]!;
      assert.equal(stats.queuedMessages, 0);
      assert.deepEqual(sender.unreachable, []);
    } finally {
      await sender.transport.close();
      await peer.close();
    }
  });

  test('sends of one turn of the event loop share one request', async () => {
    const peer = await startPeer();
    const sender = startSender({ n2: peer.url, n3: peer.url });
    try {
      for (let seq = 0; seq < 100; seq++) sender.transport.send([hb(seq, 'n2'), hb(seq, 'n3')]);
      await waitFor(() => peer.delivered.length === 200, 'all messages');
      assert.equal(peer.batches, 2, 'one request per peer');
    } finally {
      await sender.transport.close();
      await peer.close();
    }
  });

  test('messages for a peer with no address are dropped with one warning', async () => {
    const sender = startSender({});
    try {
      for (let seq = 0; seq < 100; seq++) sender.transport.send([hb(seq, 'n9')]);
      assert.equal(sender.transport.stats().messagesDroppedUnknownPeer, 100);
      assert.equal(sender.log.count('warn', /no known address/), 1);
    } finally {
      await sender.transport.close();
    }
  });
});

describe('peer server: refusals', () => {
  test('no token, a wrong token, a wrong or missing cluster: refused, nothing delivered, one log line each', async () => {
    const peer = await startPeer();
    const body = encodeBatch({ clusterId: CLUSTER, from: 'n1' }, [hb(1)]);
    try {
      assert.deepEqual(await errorOf(await post(peer.url, MESSAGES_PATH, body, { 'x-bramble-cluster': CLUSTER })), {
        status: 401,
        code: 'E_PEER_UNAUTHORIZED',
        message: 'peer request has no "Authorization: Bearer <cluster token>" header',
      });
      for (let i = 0; i < 20; i++) {
        const wrong = await errorOf(await post(peer.url, MESSAGES_PATH, body, { ...goodHeaders, authorization: 'Bearer not-the-token' }));
        assert.equal(wrong.status, 401);
        assert.match(wrong.message, /wrong cluster token/);
      }
      const otherCluster = await errorOf(await post(peer.url, MESSAGES_PATH, body, { ...goodHeaders, 'x-bramble-cluster': 'cluster-b' }));
      assert.equal(otherCluster.status, 403);
      assert.equal(otherCluster.code, 'E_PEER_WRONG_CLUSTER');
      assert.match(otherCluster.message, /"cluster-b" but this node is in cluster cluster-a/);
      const noCluster = await errorOf(await post(peer.url, MESSAGES_PATH, body, { authorization: `Bearer ${TOKEN}` }));
      assert.equal(noCluster.status, 403);
      // The header says cluster-a but the batch inside says cluster-b.
      const lying = encodeBatch({ clusterId: 'cluster-b', from: 'n1' }, [hb(1)]);
      assert.equal((await errorOf(await post(peer.url, MESSAGES_PATH, lying, goodHeaders))).status, 403);

      assert.equal(peer.delivered.length, 0);
      // 21 unauthorized and 3 wrong-cluster requests from one address within a minute: one line
      // per problem.
      assert.deepEqual(
        peer.log.records.map((r) => [r.level, r.msg, r['code']]),
        [
          ['warn', 'refused peer request', 'E_PEER_UNAUTHORIZED'],
          ['warn', 'refused peer request', 'E_PEER_WRONG_CLUSTER'],
        ],
      );

      const accepted = await post(peer.url, MESSAGES_PATH, body, goodHeaders);
      assert.equal(accepted.statusCode, 204);
      await accepted.body.dump();
      assert.equal(peer.delivered.length, 1);
    } finally {
      await peer.close();
    }
  });

  test('a node that does not know its cluster yet answers 503 to Raft traffic', async () => {
    const peer = await startPeer({ clusterId: undefined });
    try {
      const answer = await errorOf(await post(peer.url, MESSAGES_PATH, encodeBatch({ clusterId: CLUSTER, from: 'n1' }, [hb(1)]), goodHeaders));
      assert.equal(answer.status, 503);
      assert.equal(answer.code, 'E_PEER_CLUSTER_UNKNOWN');
    } finally {
      await peer.close();
    }
  });

  test('a sender with the wrong token is told, reports the peer unreachable and logs once', async () => {
    const peer = await startPeer();
    const sender = startSender({ n2: peer.url }, { token: 'stale-token' });
    try {
      for (let i = 0; i < 10; i++) {
        sender.transport.send([hb(i)]);
        await sleep(30);
      }
      await waitFor(() => sender.unreachable.length >= 2, 'unreachable reports');
      assert.equal(sender.log.count('warn', /peer unreachable/), 1);
      assert.match(String(sender.log.records.find((r) => r.level === 'warn')?.['error']), /401.*wrong cluster token/);
      assert.equal(peer.delivered.length, 0);
    } finally {
      await sender.transport.close();
      await peer.close();
    }
  });

  test('garbage bodies get 400 naming the problem; nothing is delivered; the server keeps serving', async () => {
    const peer = await startPeer({ batchBytesMax: 64 * 1024 });
    const valid = encodeBatch({ clusterId: CLUSTER, from: 'n1' }, [hb(1), hb(2)]);
    const wrongType = Buffer.from(valid);
    wrongType[valid.length - encodedMessageBytes(hb(2))] = PEER_MESSAGE_TYPES.length + 3;
    const cases: Array<[string, Uint8Array | string, RegExp]> = [
      ['empty', Buffer.alloc(0), /magic needs 4 bytes/],
      ['JSON', JSON.stringify({ messages: [hb(1)] }), /not a bramble peer batch/],
      ['truncated', valid.subarray(0, valid.length - 3), /truncated/],
      ['wrong type', wrongType, /messages\[1\]\.type code 16/],
    ];
    for (let i = 0; i < 30; i++) cases.push([`random ${i}`, randomBytes(1 + i * 37), /peer batch/]);
    try {
      for (const [name, body, pattern] of cases) {
        const answer = await errorOf(await post(peer.url, MESSAGES_PATH, body, goodHeaders));
        assert.equal(answer.status, 400, name);
        assert.equal(answer.code, 'E_PEER_WIRE', name);
        assert.match(answer.message, pattern, name);
      }
      const tooLarge = await post(peer.url, MESSAGES_PATH, randomBytes(64 * 1024 + 1), goodHeaders);
      assert.equal((await errorOf(tooLarge)).status, 413);
      // Without a content-length (chunked) the limit is found while reading; the answer still arrives.
      const chunked = await request(`${peer.url}${MESSAGES_PATH}`, {
        method: 'POST',
        headers: goodHeaders,
        body: Readable.from(Array.from({ length: 9 }, () => Buffer.alloc(8 * 1024))),
      });
      assert.equal((await errorOf(chunked)).status, 413);
      const notFound = await post(peer.url, '/raft/nope', valid, goodHeaders);
      assert.equal((await errorOf(notFound)).status, 404);
      const wrongMethod = await request(`${peer.url}${MESSAGES_PATH}`, { method: 'GET', headers: goodHeaders });
      assert.equal(wrongMethod.headers['allow'], 'POST');
      assert.equal((await errorOf(wrongMethod)).status, 405);

      assert.equal(peer.delivered.length, 0);
      assert.equal(peer.log.count('warn', 'refused peer request'), 2, 'one line for bad batches, one for the oversized body');
      const accepted = await post(peer.url, MESSAGES_PATH, valid, goodHeaders);
      assert.equal(accepted.statusCode, 204);
      await accepted.body.dump();
      assert.deepEqual(peer.delivered.map((m) => m.commit), [1, 2]);
    } finally {
      await peer.close();
    }
  });

  test('extra routes: authenticated, body read with a limit, cluster header optional when marked so', async () => {
    const seen: string[] = [];
    const join: PeerRoute = {
      clusterIdRequired: false,
      handler: (_req, res, body) => {
        seen.push(body.toString());
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ clusterId: CLUSTER }));
      },
    };
    const forward = async (_req: IncomingMessage, res: ServerResponse, body: Buffer) => {
      seen.push(`forward ${body.length}`);
      res.writeHead(204).end();
    };
    const peer = await startPeer({ extraRoutes: new Map<string, PeerRoute | typeof forward>([['/cluster/join', join], ['/cluster/forward', forward]]) });
    try {
      const joined = await post(peer.url, '/cluster/join', 'hello', { authorization: `Bearer ${TOKEN}` });
      assert.equal(joined.statusCode, 200);
      assert.deepEqual(await joined.body.json(), { clusterId: CLUSTER });
      assert.equal((await errorOf(await post(peer.url, '/cluster/join', 'x', {}))).status, 401);
      assert.equal((await errorOf(await post(peer.url, '/cluster/join', 'x', { authorization: `Bearer ${TOKEN}`, 'x-bramble-cluster': 'other' }))).status, 403);
      assert.equal((await errorOf(await post(peer.url, '/cluster/forward', 'x', { authorization: `Bearer ${TOKEN}` }))).status, 403);
      const forwarded = await post(peer.url, '/cluster/forward', 'abc', goodHeaders);
      assert.equal(forwarded.statusCode, 204);
      await forwarded.body.dump();
      const big = await post(peer.url, '/cluster/forward', Buffer.alloc(1.5 * 1024 * 1024 + 1), goodHeaders);
      assert.equal((await errorOf(big)).status, 413);
      assert.deepEqual(seen, ['hello', 'forward 3']);
    } finally {
      await peer.close();
    }
  });
});

describe('transport: a peer that is down', () => {
  test('reports unreachable, warns once, backs off, then logs one info and delivers again', async () => {
    const port = await freePort();
    const sender = startSender({ n2: `http://127.0.0.1:${port}` });
    let peer: Peer | undefined;
    try {
      const startedMs = Date.now();
      let seq = 0;
      while (Date.now() - startedMs < 500) {
        sender.transport.send([hb(seq++)]);
        await sleep(2);
      }
      const failures = sender.unreachable.length;
      assert.ok(failures >= 3, `only ${failures} unreachable reports`);
      // Back-off 20 → 80 ms: a request per message would have made hundreds of attempts.
      assert.ok(failures < 40, `${failures} attempts in 500 ms: no back-off`);
      assert.ok(seq > 100);
      assert.equal(sender.log.count('warn', /peer unreachable/), 1);
      assert.match(String(sender.log.records.find((r) => r.level === 'warn')?.['error']), /ECONNREFUSED/);
      assert.equal(sender.transport.stats().peers[0]!.down, true);

      const revived = await startPeer({ port });
      peer = revived;
      const resumeFrom = seq;
      await waitFor(() => {
        sender.transport.send([hb(seq++)]);
        return revived.delivered.some((m) => m.commit >= resumeFrom);
      }, 'delivery after the peer came back');
      await waitFor(() => sender.log.count('info', 'peer reachable again') === 1, 'the recovery line');
      const tail = revived.delivered.map((m) => m.commit);
      assert.deepEqual(tail, [...tail].sort((a, b) => a - b), 'in order');
      assert.equal(sender.log.count('warn', /peer unreachable/), 1);
      assert.equal(sender.transport.stats().peers[0]!.down, false);
    } finally {
      await sender.transport.close();
      await peer?.close();
    }
  });

  test('a full queue drops the oldest messages and reports the peer unreachable', async () => {
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    let requests = 0;
    const peer = await startPeer({ before: () => (++requests === 1 ? released : undefined) });
    const padding = 'p'.repeat(1000);
    const messageBytes = encodedMessageBytes(hb(0, 'n2', padding));
    const sender = startSender({ n2: peer.url }, { queueBytesMax: messageBytes * 10 });
    try {
      sender.transport.send([hb(0, 'n2', padding)]);
      await waitFor(() => requests === 1, 'the first request');
      for (let seq = 1; seq <= 100; seq++) sender.transport.send([hb(seq, 'n2', padding)]);
      const stats = sender.transport.stats().peers[0]!;
      assert.equal(stats.queuedMessages, 10);
      assert.ok(stats.queuedBytes <= messageBytes * 10);
      assert.equal(stats.messagesDropped, 90);
      await waitFor(() => sender.unreachable.length > 0, 'an unreachable report');
      assert.deepEqual(sender.unreachable, ['n2'], 'one report for one burst of drops');
      assert.equal(sender.log.count('warn', /queue is full/), 1);
      release();
      await waitFor(() => peer.delivered.length === 11, 'the kept messages');
      assert.deepEqual(
        peer.delivered.map((m) => m.commit),
        [0, 91, 92, 93, 94, 95, 96, 97, 98, 99, 100],
      );
    } finally {
      await sender.transport.close();
      await peer.close();
    }
  });

  test('a message larger than a batch is dropped, not retried forever', async () => {
    const peer = await startPeer();
    const sender = startSender({ n2: peer.url }, { batchBytesMax: 2000 });
    try {
      sender.transport.send([hb(1, 'n2', 'x'.repeat(1000)), hb(2, 'n2', 'y'.repeat(1000)), message({ ...hb(3), entries: [] })]);
      await waitFor(() => peer.delivered.length === 3, 'three messages in two batches');
      sender.transport.send([
        message({ type: 'MsgApp', to: 'n2', from: 'n1', term: 1, entries: [{ term: 1, index: 1, type: 'normal', data: new Uint8Array(5000) }] }),
        hb(4),
      ]);
      await waitFor(() => peer.delivered.length === 4, 'the message after the oversized one');
      assert.equal(peer.delivered[3]!.commit, 4);
      assert.equal(sender.log.count('error', /larger than a whole batch/), 1);
      await waitFor(() => sender.unreachable.length === 1, 'an unreachable report');
    } finally {
      await sender.transport.close();
      await peer.close();
    }
  });
});

describe('transport: snapshots', () => {
  async function writeRandomFile(path: string, bytes: number): Promise<string> {
    const hash = createHash('sha256');
    const out = createWriteStream(path);
    for (let written = 0; written < bytes; ) {
      const chunk = randomBytes(Math.min(1 << 20, bytes - written));
      hash.update(chunk);
      if (!out.write(chunk)) await new Promise<void>((resolve) => out.once('drain', () => resolve()));
      written += chunk.length;
    }
    await new Promise<void>((resolve, reject) => {
      out.once('error', reject);
      out.end(() => resolve());
    });
    return hash.digest('hex');
  }

  function snap(to = 'n2'): Message {
    return message({
      type: 'MsgSnap',
      to,
      from: 'n1',
      term: 7,
      snapshot: { metadata: { index: 4242, term: 6, confState: { voters: ['n1', 'n2', 'n3'], learners: [] } }, data: new Uint8Array([9, 9]) },
    });
  }

  test('a 20 MB snapshot streams byte-identical; onSnapshotStatus(true)', async () => {
    const file = join(scratch, 'snapshot-20mb');
    const digest = await writeRandomFile(file, 20 * 1024 * 1024 + 13);
    const peer = await startPeer();
    const sender = startSender({ n2: peer.url }, { snapshotFile: () => file });
    try {
      sender.transport.send([snap(), hb(1)]);
      await waitFor(() => sender.snapshotStatus.length === 1, 'the snapshot status');
      assert.deepEqual(sender.snapshotStatus, [['n2', true]]);
      assert.equal(peer.snapshots.length, 1);
      const received = peer.snapshots[0]!;
      assert.deepEqual(received.message, { ...snap(), snapshot: { ...snap().snapshot!, data: new Uint8Array(0) } });
      assert.equal(createHash('sha256').update(await readFile(received.path)).digest('hex'), digest);
      assert.deepEqual(await readdir(peer.incomingDir), [received.path.slice(peer.incomingDir.length + 1)]);
      // The heartbeat sent with it was not held up behind the upload.
      await waitFor(() => peer.delivered.length === 1, 'the heartbeat');
      assert.equal(sender.transport.stats().peers[0]!.snapshotsSent, 1);
    } finally {
      await sender.transport.close();
      await peer.close();
    }
  });

  test('a connection cut mid-upload: onSnapshotStatus(false), no file left at the receiver', async () => {
    const file = join(scratch, 'snapshot-cut');
    await writeRandomFile(file, 24 * 1024 * 1024);
    let cut = false;
    const peer = await startPeer({
      before: (req) => {
        if (!req.url?.startsWith('/raft/snapshot')) return;
        const timer = setInterval(() => {
          if (req.socket.bytesRead > 4 * 1024 * 1024) {
            cut = true;
            clearInterval(timer);
            req.socket.destroy();
          }
        }, 1);
        req.socket.once('close', () => clearInterval(timer));
      },
    });
    const sender = startSender({ n2: peer.url }, { snapshotFile: () => file });
    try {
      sender.transport.send([snap()]);
      await waitFor(() => sender.snapshotStatus.length === 1, 'the snapshot status');
      assert.equal(cut, true, 'the upload was cut');
      assert.deepEqual(sender.snapshotStatus, [['n2', false]]);
      await waitFor(() => peer.log.count('warn', 'peer request aborted') === 1, 'the receiver to give up');
      assert.deepEqual(await readdir(peer.incomingDir), []);
      assert.deepEqual(peer.snapshots, []);
    } finally {
      await sender.transport.close();
      await peer.close();
    }
  });

  test('a snapshot over the receiver limit, a missing file or an unknown peer: onSnapshotStatus(false)', async () => {
    const file = join(scratch, 'snapshot-5mb');
    await writeRandomFile(file, 5 * 1024 * 1024);
    const peer = await startPeer({ snapshotBytesMax: 1024 * 1024 });
    let path = file;
    const sender = startSender({ n2: peer.url }, { snapshotFile: () => path });
    try {
      sender.transport.send([snap()]);
      await waitFor(() => sender.snapshotStatus.length === 1, 'the first status');
      assert.match(String(sender.log.records.find((r) => r.level === 'warn')?.['error']), /peer answered 413: .*5242880 bytes, more than the limit of 1048576/);
      path = join(scratch, 'no-such-file');
      sender.transport.send([snap()]);
      await waitFor(() => sender.snapshotStatus.length === 2, 'the second status');
      sender.transport.send([snap('n7')]);
      await waitFor(() => sender.snapshotStatus.length === 3, 'the third status');
      assert.deepEqual(sender.snapshotStatus, [
        ['n2', false],
        ['n2', false],
        ['n7', false],
      ]);
      assert.deepEqual(await readdir(peer.incomingDir), []);
      assert.deepEqual(peer.snapshots, []);
    } finally {
      await sender.transport.close();
      await peer.close();
    }
  });

  test('a malformed snapshot header is refused with 400 and writes nothing', async () => {
    const peer = await startPeer();
    try {
      const noHeader = await post(peer.url, '/raft/snapshot', 'data', goodHeaders);
      assert.match((await errorOf(noHeader)).message, /X-Bramble-Message header is missing/);
      const notSnap = encodeBatch({ clusterId: CLUSTER, from: 'n1' }, [hb(1)]).toString('base64');
      const wrong = await post(peer.url, '/raft/snapshot', 'data', { ...goodHeaders, 'x-bramble-message': notSnap });
      assert.deepEqual(await errorOf(wrong), {
        status: 400,
        code: 'E_PEER_WIRE',
        message: 'peer snapshot: the X-Bramble-Message header holds a MsgHeartbeat, expected a MsgSnap',
      });
      assert.deepEqual(await readdir(peer.incomingDir), []);
    } finally {
      await peer.close();
    }
  });
});

describe('transport: close', () => {
  test('close() ends connections, requests and retry timers', async () => {
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
    assert.equal(sender.transport.stats().peers.length, 2);
    await sender.transport.close();
    await peer.close();
    sender.transport.send([hb(2, 'n2')]);
    await sleep(20);
    const afterClose = countResources();
    for (const kind of ['Timeout', 'TCPSocketWrap', 'TCPServerWrap']) {
      assert.ok((afterClose.get(kind) ?? 0) <= (before.get(kind) ?? 0), `${kind}: ${before.get(kind) ?? 0} before, ${afterClose.get(kind) ?? 0} after close`);
    }
    assert.deepEqual(sender.transport.stats().peers, []);
  });
});
