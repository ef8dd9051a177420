// Sends Raft messages to peers over HTTP. Raft tolerates loss, duplication and delay but wants
// order per peer and wants to hear when a peer cannot be reached, so per peer this keeps one
// ordered queue and at most one batch request in flight: whatever Raft hands over while a
// request is out goes in the next one (batching falls out of that). A failed request drops its
// batch and tells Raft (onUnreachable) — Raft resends what matters — and the link backs off.
//
// In stream mode (what a member uses) the batches go instead over one long-lived stream per
// peer (an HTTP Upgrade, then length-prefixed frames): each Ready's messages leave in one write,
// with no request to build and no answer to wait for, which is most of a write's latency at low
// load. Order comes from TCP; a stream that breaks or goes silent is reported to Raft and
// reopened with the same back-off.
//
// Snapshots take a separate request that streams a file from disk, so a large snapshot neither
// sits in memory nor holds up heartbeats and votes behind it.
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import type { Pool } from '../host/http-pool.ts';
import { loadPool } from '../host/lazy-pool.ts';
import type { Logger } from '../log/index.ts';
import type { Message, NodeId } from '../raft/types.ts';
import { CLUSTER_HEADER, LogLimiter } from './auth.ts';
import {
  assembleBatch,
  assembleFrame,
  BATCH_BYTES_MAX_DEFAULT,
  encodedBatchBytes,
  encodeMessage,
  encodeSnapshotHeader,
  MESSAGE_HEADER,
  MESSAGES_PATH,
  SNAPSHOT_PATH,
  STREAM_FROM_HEADER,
  STREAM_PATH,
  STREAM_PROTOCOL,
} from './wire.ts';

export interface BackoffOptions {
  initialMs: number;
  maxMs: number;
}

export interface PeerTransportOptions {
  selfId: NodeId;
  clusterId: string;
  token: string;
  /** Base URL of a peer (`http://10.0.0.2:7081`), or undefined when it is not a member (any
   *  more). Asked again before every batch, so a changed or removed member is noticed. */
  peerUrl(id: NodeId): string | undefined;
  logger: Logger;
  /** A request to `id` failed or its messages were dropped (Raft: reportUnreachable). */
  onUnreachable(id: NodeId): void;
  /** A MsgSnap to `id` was delivered (true) or not (false) (Raft: reportSnapshot). */
  onSnapshotStatus(id: NodeId, ok: boolean): void;
  /** Path of the file on this machine that holds `msg.snapshot`'s data. */
  snapshotFile(msg: Message): string;
  /** Largest batch body. Default 64 MiB. */
  batchBytesMax?: number;
  /** Most bytes queued for one peer; beyond, the oldest messages are dropped. Default 64 MiB. */
  queueBytesMax?: number;
  /** Delay before retrying a peer that failed, doubling per failure. Default 100 ms → 5 s. */
  backoff?: BackoffOptions;
  /** Default 3 s. */
  connectTimeoutMs?: number;
  /** Longest wait for an answer, or between two chunks of a body. Default 10 s. */
  requestTimeoutMs?: number;
  /** Connections per peer. One carries batches, one a snapshot; more only help a slow peer. */
  connectionsPerPeer?: number;
  /** Send batches over one long-lived stream per peer (an HTTP Upgrade to STREAM_PATH) rather
   *  than one HTTP request each: one write per batch, no answer to wait for, so a batch leaves
   *  as soon as Raft hands it over. A peer that does not know streams (404/405) is sent
   *  requests as before. Default false. */
  stream?: boolean;
  /** Injected for tests: back-off jitter in [0, 1) and the clock for durations in logs. */
  random?: () => number;
  now?: () => number;
}

export interface PeerLinkStats {
  id: NodeId;
  url: string;
  queuedMessages: number;
  queuedBytes: number;
  inFlight: boolean;
  down: boolean;
  consecutiveFailures: number;
  batchesSent: number;
  messagesSent: number;
  messagesDropped: number;
  snapshotInFlight: boolean;
  snapshotsSent: number;
  snapshotsFailed: number;
}

export interface TransportStats {
  peers: PeerLinkStats[];
  /** Messages for a peer that peerUrl did not know. */
  messagesDroppedUnknownPeer: number;
}

const BACKOFF_DEFAULT: BackoffOptions = { initialMs: 100, maxMs: 5_000 };
const ERROR_BODY_BYTES_MAX = 1024;
const RESPONSE_DUMP_BYTES_MAX = 64 * 1024;

class PeerLink {
  /** Made when first needed (see loadPool). */
  pool: Pool | null = null;
  // An array with a moving head: shift() on a long array is O(n), and the queue can hold
  // thousands of messages while a peer is slow.
  queue: Buffer[] = [];
  head = 0;
  queueBytes = 0;
  pumpScheduled = false;
  inFlight: AbortController | null = null;
  /** The stream to this peer (stream mode), connecting or open. */
  stream: PeerStream | null = null;
  /** The peer answered the stream upgrade with 404/405: it only takes requests. */
  streamRefused = false;
  snapshotInFlight: AbortController | null = null;
  retryTimer: NodeJS.Timeout | null = null;
  downSinceMs: number | null = null;
  consecutiveFailures = 0;
  batchesSent = 0;
  messagesSent = 0;
  messagesDropped = 0;
  snapshotsSent = 0;
  snapshotsFailed = 0;

  constructor(
    readonly id: NodeId,
    public url: string,
  ) {}

  queued(): number {
    return this.queue.length - this.head;
  }

  shift(): Buffer | undefined {
    if (this.head >= this.queue.length) return undefined;
    const item = this.queue[this.head]!;
    this.queue[this.head] = EMPTY;
    this.head++;
    this.queueBytes -= item.byteLength;
    // Compact once the dead prefix is the larger part, so memory stays proportional to the queue.
    if (this.head > 1024 && this.head * 2 > this.queue.length) {
      this.queue = this.queue.slice(this.head);
      this.head = 0;
    }
    return item;
  }

  peek(): Buffer | undefined {
    return this.queue[this.head];
  }

  clear(): number {
    const dropped = this.queued();
    this.queue = [];
    this.head = 0;
    this.queueBytes = 0;
    return dropped;
  }
}

const EMPTY = Buffer.alloc(0);

// undici is loaded only when a request is to be made (a snapshot, or a peer that does not take
// streams): see src/host/lazy-pool.ts.
let PoolClass: typeof Pool | null = null;
function ensurePool(): Promise<void> {
  return loadPool().then((P) => {
    PoolClass = P;
  });
}

/** One stream to a peer: connecting until the peer answers 101, then open. */
interface PeerStream {
  request: ReturnType<typeof httpRequest>;
  socket: Socket | null;
  /** The socket's buffer is full: wait for 'drain' before the next frame. */
  blocked: boolean;
  /** When the peer last sent anything (it pings every STREAM_PING_MILLIS). */
  heardMs: number;
  watchdog: NodeJS.Timeout;
}

export class PeerTransport {
  private readonly options: PeerTransportOptions;
  private readonly log: Logger;
  private readonly links = new Map<NodeId, PeerLink>();
  /** Pools of links whose URL changed, still finishing their last request. */
  private readonly retiring = new Set<Pool>();
  private readonly limiter: LogLimiter;
  private readonly batchBytesMax: number;
  private readonly queueBytesMax: number;
  private readonly backoff: BackoffOptions;
  private readonly connectTimeoutMs: number;
  private readonly requestTimeoutMs: number;
  private readonly connectionsPerPeer: number;
  private readonly streamMode: boolean;
  private readonly random: () => number;
  private readonly now: () => number;
  private readonly headers: Record<string, string>;
  private readonly unreachablePending = new Set<NodeId>();
  private messagesDroppedUnknownPeer = 0;
  private closed = false;

  constructor(options: PeerTransportOptions) {
    this.options = options;
    this.log = options.logger;
    this.batchBytesMax = positive(options.batchBytesMax ?? BATCH_BYTES_MAX_DEFAULT, 'batchBytesMax');
    this.queueBytesMax = positive(options.queueBytesMax ?? 64 * 1024 * 1024, 'queueBytesMax');
    this.backoff = options.backoff ?? BACKOFF_DEFAULT;
    positive(this.backoff.initialMs, 'backoff.initialMs');
    if (this.backoff.maxMs < this.backoff.initialMs) {
      throw new Error(`PeerTransport: backoff.maxMs (${this.backoff.maxMs}) is below backoff.initialMs (${this.backoff.initialMs})`);
    }
    this.connectTimeoutMs = positive(options.connectTimeoutMs ?? 3_000, 'connectTimeoutMs');
    this.requestTimeoutMs = positive(options.requestTimeoutMs ?? 10_000, 'requestTimeoutMs');
    this.connectionsPerPeer = positive(options.connectionsPerPeer ?? 2, 'connectionsPerPeer');
    this.streamMode = options.stream ?? false;
    this.random = options.random ?? Math.random;
    this.now = options.now ?? Date.now;
    this.limiter = new LogLimiter(60_000, this.now);
    this.headers = {
      authorization: `Bearer ${options.token}`,
      [CLUSTER_HEADER]: options.clusterId,
    };
  }

  /** Queues messages for their peers and returns at once. Never throws: a message that cannot
   *  be sent is dropped and logged, and Raft hears of it through onUnreachable. */
  send(messages: readonly Message[]): void {
    if (this.closed) return;
    for (const m of messages) {
      try {
        if (m.type === 'MsgSnap') this.sendSnapshot(m);
        else this.enqueue(m);
      } catch (error) {
        // Only a bug gets here (a message our own core produced that cannot be encoded).
        this.log.error('dropped a message that cannot be sent', { peer: m.to, type: m.type, error });
      }
    }
  }

  /** Opens streams to these peers now, before there is anything to send (stream mode): a
   *  member that starts connects to its peers, which hear from it (peerAlive) and need not wait
   *  out their back-off to reach it again. */
  connect(ids: readonly NodeId[]): void {
    if (this.closed || !this.streamMode) return;
    for (const id of ids) {
      if (id === this.options.selfId) continue;
      const link = this.linkFor(id);
      if (link === undefined || link.streamRefused || link.stream !== null || link.retryTimer !== null) continue;
      if (this.refreshUrl(link)) this.openStream(link);
    }
  }

  /** The peer was just heard from (it opened a stream to us): a link backing off from it
   *  retries now rather than at the end of its back-off. */
  peerAlive(id: NodeId): void {
    const link = this.links.get(id);
    if (this.closed || link === undefined || link.retryTimer === null) return;
    clearTimeout(link.retryTimer);
    link.retryTimer = null;
    if (this.streamMode && !link.streamRefused && link.stream === null) {
      if (this.refreshUrl(link)) this.openStream(link);
    } else {
      this.pump(link);
    }
  }

  /** Stops all sending: drops queues, cancels requests and timers, closes connections. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const pools: Pool[] = [...this.retiring];
    for (const link of this.links.values()) {
      if (link.retryTimer !== null) clearTimeout(link.retryTimer);
      link.retryTimer = null;
      link.inFlight?.abort();
      this.dropStream(link);
      link.snapshotInFlight?.abort();
      link.clear();
      if (link.pool !== null) pools.push(link.pool);
    }
    this.links.clear();
    this.retiring.clear();
    await Promise.all(pools.map((pool) => pool.destroy().catch(() => undefined)));
  }

  stats(): TransportStats {
    const peers: PeerLinkStats[] = [];
    for (const link of this.links.values()) {
      peers.push({
        id: link.id,
        url: link.url,
        queuedMessages: link.queued(),
        queuedBytes: link.queueBytes,
        inFlight: link.inFlight !== null || link.stream?.blocked === true,
        down: link.downSinceMs !== null,
        consecutiveFailures: link.consecutiveFailures,
        batchesSent: link.batchesSent,
        messagesSent: link.messagesSent,
        messagesDropped: link.messagesDropped,
        snapshotInFlight: link.snapshotInFlight !== null,
        snapshotsSent: link.snapshotsSent,
        snapshotsFailed: link.snapshotsFailed,
      });
    }
    return { peers, messagesDroppedUnknownPeer: this.messagesDroppedUnknownPeer };
  }

  // --- batches ------------------------------------------------------------------------------

  private enqueue(m: Message): void {
    const link = this.linkFor(m.to);
    if (link === undefined) {
      this.messagesDroppedUnknownPeer++;
      return;
    }
    const encoded = encodeMessage(m);
    link.queue.push(encoded);
    link.queueBytes += encoded.byteLength;
    if (link.queueBytes > this.queueBytesMax) this.dropOldest(link);
    this.schedulePump(link);
  }

  private dropOldest(link: PeerLink): void {
    let dropped = 0;
    while (link.queueBytes > this.queueBytesMax && link.shift() !== undefined) dropped++;
    link.messagesDropped += dropped;
    this.warnLimited(`queue-full ${link.id}`, 'peer send queue is full; dropped the oldest messages (Raft will resend)', {
      peer: link.id,
      dropped,
      queueBytesMax: this.queueBytesMax,
    });
    this.notifyUnreachable(link.id);
  }

  // Deferred to a microtask so that every send() of one Raft Ready (and of the same turn of the
  // event loop) lands in the same batch.
  private schedulePump(link: PeerLink): void {
    if (link.pumpScheduled) return;
    link.pumpScheduled = true;
    queueMicrotask(() => {
      link.pumpScheduled = false;
      this.pump(link);
    });
  }

  private pump(link: PeerLink): void {
    if (this.streamMode && !link.streamRefused) {
      this.pumpStream(link);
      return;
    }
    if (this.closed || link.inFlight !== null || link.retryTimer !== null || link.queued() === 0) return;
    if (!this.refreshUrl(link)) return;
    if (link.pool === null) {
      if (PoolClass === null) {
        ensurePool().then(
          () => this.pump(link),
          (error: unknown) => this.log.error('cannot load the HTTP client', { error }),
        );
        return;
      }
      link.pool = this.createPool(link.url);
    }
    const batch = this.takeBatch(link);
    if (batch.length === 0) return;
    const body = assembleBatch({ clusterId: this.options.clusterId, from: this.options.selfId }, batch);
    const controller = new AbortController();
    link.inFlight = controller;
    link.pool
      .request({
        path: MESSAGES_PATH,
        method: 'POST',
        headers: { ...this.headers, 'content-type': 'application/octet-stream' },
        body,
        signal: controller.signal,
        headersTimeout: this.requestTimeoutMs,
        bodyTimeout: this.requestTimeoutMs,
      })
      .then(async (response) => {
        if (response.statusCode >= 200 && response.statusCode < 300) {
          await response.body.dump({ limit: RESPONSE_DUMP_BYTES_MAX }).catch(() => undefined);
          return null;
        }
        return new Error(`peer answered ${response.statusCode}: ${await readErrorBody(response.body)}`);
      })
      .catch((error: unknown) => error)
      .then((error) => {
        if (link.inFlight !== controller) return;
        link.inFlight = null;
        // Closed, or the peer was removed while the request was out: nothing left to do.
        if (this.closed || this.links.get(link.id) !== link) return;
        if (error === null) this.succeeded(link, batch.length);
        else this.failed(link, batch.length, error);
      });
  }

  // --- streams ------------------------------------------------------------------------------

  /** Writes everything queued to the peer's stream, opening it first when needed. A batch is
   *  counted as sent once written: a stream that breaks reports the peer unreachable, and
   *  Raft resends what the peer may have missed. */
  private pumpStream(link: PeerLink): void {
    if (this.closed || link.retryTimer !== null || link.queued() === 0) return;
    const url = link.url;
    if (!this.refreshUrl(link)) return;
    if (link.url !== url) this.dropStream(link);
    const stream = link.stream;
    if (stream === null) {
      this.openStream(link);
      return;
    }
    if (stream.socket === null || stream.blocked) return;
    const header = { clusterId: this.options.clusterId, from: this.options.selfId };
    while (link.queued() > 0) {
      const batch = this.takeBatch(link);
      if (batch.length === 0) break;
      const ok = stream.socket.write(assembleFrame(header, batch));
      link.batchesSent++;
      link.messagesSent += batch.length;
      if (!ok) {
        stream.blocked = true;
        stream.socket.once('drain', () => {
          stream.blocked = false;
          if (link.stream === stream) this.pumpStream(link);
        });
        break;
      }
    }
  }

  private openStream(link: PeerLink): void {
    const target = new URL(link.url);
    const request = httpRequest({
      host: target.hostname.replace(/^\[|\]$/g, ''),
      port: target.port || 80,
      path: STREAM_PATH,
      method: 'GET',
      agent: false,
      headers: { ...this.headers, connection: 'Upgrade', upgrade: STREAM_PROTOCOL, [STREAM_FROM_HEADER]: this.options.selfId },
    });
    const stream: PeerStream = { request, socket: null, blocked: false, heardMs: this.now(), watchdog: undefined as unknown as NodeJS.Timeout };
    link.stream = stream;
    // Connecting and upgrading must finish within the connect and request timeouts; an open
    // stream must hear the peer's ping within the request timeout.
    const openBy = this.now() + this.connectTimeoutMs + this.requestTimeoutMs;
    stream.watchdog = setInterval(() => {
      const now = this.now();
      if (stream.socket === null ? now > openBy : now - stream.heardMs > this.requestTimeoutMs) {
        this.streamFailed(link, stream, new Error(stream.socket === null ? 'peer stream was not opened in time' : `peer sent nothing for ${this.requestTimeoutMs} ms`));
      }
    }, Math.min(1000, this.requestTimeoutMs));
    stream.watchdog.unref();
    request.on('upgrade', (response: IncomingMessage, socket: Socket, head: Buffer) => {
      if (link.stream !== stream || this.closed) {
        socket.destroy();
        return;
      }
      stream.socket = socket;
      stream.heardMs = this.now();
      socket.setNoDelay(true);
      socket.on('data', () => (stream.heardMs = this.now()));
      socket.on('error', (error: Error) => this.streamFailed(link, stream, error));
      socket.on('close', () => this.streamFailed(link, stream, new Error('peer closed the stream')));
      void head;
      void response;
      this.reachable(link);
      this.pumpStream(link);
    });
    request.on('response', (response: IncomingMessage) => {
      if (response.statusCode === 404 || response.statusCode === 405) {
        // An older peer: requests it is.
        response.resume();
        if (link.stream !== stream) return;
        this.dropStream(link);
        link.streamRefused = true;
        this.log.info('peer does not take streams; sending it requests', { peer: link.id, url: link.url });
        this.pump(link);
        return;
      }
      void readErrorBody(response).then((text) => this.streamFailed(link, stream, new Error(`peer answered ${response.statusCode}: ${text}`)));
    });
    request.on('error', (error: Error) => this.streamFailed(link, stream, error));
    request.end();
  }

  /** The stream broke: whatever was written may be lost (Raft hears so), reconnect later. */
  private streamFailed(link: PeerLink, stream: PeerStream, error: unknown): void {
    if (link.stream !== stream) return;
    this.dropStream(link);
    if (this.closed || this.links.get(link.id) !== link) return;
    this.failed(link, 0, error);
  }

  private dropStream(link: PeerLink): void {
    const stream = link.stream;
    if (stream === null) return;
    link.stream = null;
    clearInterval(stream.watchdog);
    stream.request.destroy();
    stream.socket?.destroy();
  }

  /** Takes the oldest messages that fit one batch. A message too big for any batch is dropped
   *  here: the peer would refuse it (413) forever. */
  private takeBatch(link: PeerLink): Buffer[] {
    const header = { clusterId: this.options.clusterId, from: this.options.selfId };
    const batch: Buffer[] = [];
    let bytes = encodedBatchBytes(header, 0);
    for (let next = link.peek(); next !== undefined; next = link.peek()) {
      if (bytes + next.byteLength > this.batchBytesMax) {
        if (batch.length > 0) break;
        link.shift();
        link.messagesDropped++;
        this.log.error('dropped a message larger than a whole batch (lower Raft maxSizePerMsg or raise batchBytesMax)', {
          peer: link.id,
          messageBytes: next.byteLength,
          batchBytesMax: this.batchBytesMax,
        });
        this.notifyUnreachable(link.id);
        continue;
      }
      link.shift();
      batch.push(next);
      bytes += next.byteLength;
    }
    return batch;
  }

  private succeeded(link: PeerLink, count: number): void {
    link.batchesSent++;
    link.messagesSent += count;
    this.reachable(link);
    this.pump(link);
  }

  private reachable(link: PeerLink): void {
    link.consecutiveFailures = 0;
    if (link.downSinceMs !== null) {
      this.log.info('peer reachable again', { peer: link.id, url: link.url, downMs: this.now() - link.downSinceMs });
      link.downSinceMs = null;
    }
  }

  private failed(link: PeerLink, count: number, error: unknown): void {
    link.messagesDropped += count;
    link.consecutiveFailures++;
    this.notifyUnreachable(link.id);
    if (link.downSinceMs === null) {
      link.downSinceMs = this.now();
      this.log.warn('peer unreachable; retrying with back-off', { peer: link.id, url: link.url, error: describe(error) });
    }
    const delayMs = this.backoffMs(link.consecutiveFailures);
    link.retryTimer = setTimeout(() => {
      link.retryTimer = null;
      this.pump(link);
    }, delayMs);
  }

  /** Exponential with "equal jitter": half fixed, half random, so peers that failed together
   *  do not retry in lockstep, yet the delay still grows. */
  private backoffMs(failures: number): number {
    const exponent = Math.min(failures - 1, 30);
    const ceilingMs = Math.min(this.backoff.maxMs, this.backoff.initialMs * 2 ** exponent);
    return ceilingMs / 2 + (this.random() * ceilingMs) / 2;
  }

  // --- snapshots ----------------------------------------------------------------------------

  private sendSnapshot(m: Message): void {
    const link = this.linkFor(m.to);
    if (link === undefined) {
      this.messagesDroppedUnknownPeer++;
      this.notifySnapshot(m.to, false);
      return;
    }
    if (link.snapshotInFlight !== null) {
      // Raft sends one snapshot at a time per follower; a second one means the first is stale.
      this.warnLimited(`snapshot-busy ${link.id}`, 'a snapshot to this peer is still being sent; refused another', { peer: link.id });
      this.notifySnapshot(link.id, false);
      return;
    }
    let filePath: string;
    let header: string;
    try {
      filePath = this.options.snapshotFile(m);
      header = encodeSnapshotHeader({ clusterId: this.options.clusterId, from: this.options.selfId }, m);
    } catch (error) {
      this.log.error('cannot send snapshot', { peer: link.id, index: m.snapshot?.metadata.index, error });
      link.snapshotsFailed++;
      this.notifySnapshot(link.id, false);
      return;
    }
    const controller = new AbortController();
    link.snapshotInFlight = controller;
    const startedMs = this.now();
    this.streamSnapshot(link, filePath, header, controller.signal).then(
      (bytes) => this.snapshotDone(link, controller, null, { bytes, ms: this.now() - startedMs, index: m.snapshot?.metadata.index }),
      (error: unknown) => this.snapshotDone(link, controller, error, { index: m.snapshot?.metadata.index, file: filePath }),
    );
  }

  private async streamSnapshot(link: PeerLink, filePath: string, header: string, signal: AbortSignal): Promise<number> {
    const { size } = await stat(filePath);
    // The URL is checked here too: a member that was replaced must not receive our snapshot.
    if (!this.refreshUrl(link)) throw new Error('peer is no longer a member');
    const file = createReadStream(filePath);
    try {
      await ensurePool();
      link.pool ??= this.createPool(link.url);
      const response = await link.pool.request({
        path: SNAPSHOT_PATH,
        method: 'POST',
        headers: {
          ...this.headers,
          'content-type': 'application/octet-stream',
          'content-length': String(size),
          [MESSAGE_HEADER]: header,
        },
        body: file,
        signal,
        headersTimeout: this.requestTimeoutMs,
        bodyTimeout: this.requestTimeoutMs,
      });
      if (response.statusCode < 200 || response.statusCode >= 300) {
        throw new Error(`peer answered ${response.statusCode}: ${await readErrorBody(response.body)}`);
      }
      await response.body.dump({ limit: RESPONSE_DUMP_BYTES_MAX }).catch(() => undefined);
      return size;
    } finally {
      file.destroy();
    }
  }

  private snapshotDone(link: PeerLink, controller: AbortController, error: unknown, fields: Record<string, unknown>): void {
    if (link.snapshotInFlight === controller) link.snapshotInFlight = null;
    if (this.closed) return;
    if (error === null) {
      link.snapshotsSent++;
      this.log.info('snapshot sent', { peer: link.id, ...fields });
      this.notifySnapshot(link.id, true);
    } else {
      link.snapshotsFailed++;
      this.warnLimited(`snapshot-failed ${link.id}`, 'snapshot send failed (Raft will retry)', { peer: link.id, url: link.url, error: describe(error), ...fields });
      this.notifySnapshot(link.id, false);
    }
  }

  // --- links --------------------------------------------------------------------------------

  private linkFor(id: NodeId): PeerLink | undefined {
    const existing = this.links.get(id);
    if (existing !== undefined) return existing;
    if (id === this.options.selfId) {
      this.log.error('dropped a message addressed to this node itself (a bug in the caller)', { peer: id });
      return undefined;
    }
    const url = this.options.peerUrl(id);
    if (url === undefined) {
      this.warnLimited(`unknown ${id}`, 'dropped messages for a peer with no known address', { peer: id });
      return undefined;
    }
    const link = new PeerLink(id, url);
    this.links.set(id, link);
    return link;
  }

  /** Follows a changed peer address and forgets a removed peer. False when the peer is gone. */
  private refreshUrl(link: PeerLink): boolean {
    const url = this.options.peerUrl(link.id);
    if (url === link.url) return true;
    if (url === undefined) {
      const dropped = link.clear();
      link.messagesDropped += dropped;
      this.warnLimited(`unknown ${link.id}`, 'peer is no longer known; dropped its queued messages', { peer: link.id, dropped });
      this.links.delete(link.id);
      if (link.retryTimer !== null) clearTimeout(link.retryTimer);
      this.dropStream(link);
      if (link.pool !== null) this.retirePool(link.pool);
      return false;
    }
    this.log.info('peer address changed', { peer: link.id, from: link.url, to: url });
    if (link.pool !== null) this.retirePool(link.pool);
    link.url = url;
    link.pool = null;
    return true;
  }

  private retirePool(pool: Pool): void {
    this.retiring.add(pool);
    pool.close().then(
      () => this.retiring.delete(pool),
      () => this.retiring.delete(pool),
    );
  }

  private createPool(url: string): Pool {
    return new PoolClass!(url, {
      connections: this.connectionsPerPeer,
      // One request per connection at a time: order per peer is kept by the one-in-flight rule,
      // and a pipelined request would die with the one before it.
      pipelining: 1,
      connectTimeout: this.connectTimeoutMs,
      headersTimeout: this.requestTimeoutMs,
      bodyTimeout: this.requestTimeoutMs,
    });
  }

  // --- callbacks and logs -------------------------------------------------------------------

  // Callbacks run on a later microtask: send() is called from inside the Raft driver's Ready
  // cycle, and stepping the core again from in there would re-enter it.
  // Several reports for one peer in the same turn (a burst of drops) tell Raft nothing more
  // than one, so they are coalesced.
  private notifyUnreachable(id: NodeId): void {
    if (this.unreachablePending.has(id)) return;
    this.unreachablePending.add(id);
    queueMicrotask(() => {
      this.unreachablePending.delete(id);
      if (this.closed) return;
      try {
        this.options.onUnreachable(id);
      } catch (error) {
        this.log.error('onUnreachable threw', { peer: id, error });
      }
    });
  }

  private notifySnapshot(id: NodeId, ok: boolean): void {
    queueMicrotask(() => {
      if (this.closed) return;
      try {
        this.options.onSnapshotStatus(id, ok);
      } catch (error) {
        this.log.error('onSnapshotStatus threw', { peer: id, ok, error });
      }
    });
  }

  private warnLimited(key: string, msg: string, fields: Record<string, unknown>): void {
    const suppressed = this.limiter.admit(key);
    if (suppressed < 0) return;
    this.log.warn(msg, suppressed > 0 ? { ...fields, suppressedSinceLast: suppressed } : fields);
  }
}

async function readErrorBody(body: AsyncIterable<Buffer> & { destroy(): unknown }): Promise<string> {
  const chunks: Buffer[] = [];
  let bytes = 0;
  try {
    for await (const chunk of body) {
      chunks.push(chunk);
      bytes += chunk.byteLength;
      if (bytes >= ERROR_BODY_BYTES_MAX) break;
    }
  } catch {
    // The answer is only for the log; a broken one is reported by its status alone.
  } finally {
    body.destroy();
  }
  return Buffer.concat(chunks).subarray(0, ERROR_BODY_BYTES_MAX).toString('utf8');
}

function describe(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const code = (error as { code?: unknown }).code;
  const cause = error.cause instanceof Error ? `: ${error.cause.message}` : '';
  return `${typeof code === 'string' ? `${code} ` : ''}${error.message}${cause}`;
}

function positive(value: number, name: string): number {
  if (!Number.isFinite(value) || value <= 0) throw new Error(`PeerTransport: ${name} must be a positive number, got ${value}`);
  return value;
}
