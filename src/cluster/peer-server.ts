// The receiving end of the peer link: an HTTP handler for a node:http server on the peer
// address. Every request is authenticated (token, then cluster id) before its body is read;
// every body is read with a limit and fully decoded before anything reaches Raft, so a peer
// that lies or sends garbage gets a 4xx naming the problem and changes nothing here.
//
// Refusals are logged once per peer address and problem per minute: a misconfigured node retries
// several times a second and would otherwise flood the log (and the SD card under it).
import { randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { STATUS_CODES, type IncomingMessage, type ServerResponse } from 'node:http';
import { mkdir, open, readdir, rename, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { Transform, type Duplex, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Logger } from '../log/index.ts';
import type { Message, NodeId } from '../raft/types.ts';
import { checkPeerRequest, LogLimiter } from './auth.ts';
import {
  BATCH_BYTES_MAX_DEFAULT,
  decodeBatch,
  decodeSnapshotHeader,
  FrameReader,
  MESSAGE_HEADER,
  MESSAGES_PATH,
  SNAPSHOT_PATH,
  STREAM_FROM_HEADER,
  STREAM_PATH,
  STREAM_PROTOCOL,
  WireError,
} from './wire.ts';

export type PeerRouteHandler = (req: IncomingMessage, res: ServerResponse, body: Buffer) => void | Promise<void>;

export interface PeerRoute {
  handler: PeerRouteHandler;
  /** Default true. False for a request from a node that does not know the cluster id yet
   *  (join): it must still carry the token, and an X-Bramble-Cluster header it does send is
   *  still checked. */
  clusterIdRequired?: boolean;
  /** Default ['POST']. */
  methods?: readonly string[];
}

export interface PeerHandlerOptions {
  token: string;
  /** This node's cluster id; undefined until it knows its cluster (Raft requests get 503). */
  clusterId(): string | undefined;
  logger: Logger;
  /** A decoded, validated batch. Runs synchronously before the 204 goes out. */
  onMessages(from: NodeId, messages: Message[]): void;
  /** The snapshot's data is fully written and synced to `filePath` in incomingDir; the callee
   *  owns the file from now on (move it, or delete it when done). */
  onSnapshot(message: Message, filePath: string): void;
  /** A peer opened a stream to this node: it is up (its id, as it says). */
  onStreamOpened?(from: NodeId): void;
  /** Where incoming snapshots are written. Created when missing. */
  incomingDir: string;
  /** Default 64 MiB. */
  batchBytesMax?: number;
  /** Default 4 GiB. */
  snapshotBytesMax?: number;
  /** Body limit of extraRoutes. Default 1.5 MiB (etcd's request limit). */
  routeBodyBytesMax?: number;
  /** Snapshot uploads at once; beyond, 503 (the sender retries). Default 2. */
  snapshotUploadsMax?: number;
  /** More authenticated routes by exact path, e.g. '/cluster/join'. */
  extraRoutes?: ReadonlyMap<string, PeerRouteHandler | PeerRoute>;
  /** Injected for tests: the clock of the log rate limit. */
  now?: () => number;
}

export interface PeerHandler {
  (req: IncomingMessage, res: ServerResponse): void;
  /** For the server's 'upgrade' event: a peer opening a stream of batches (STREAM_PATH),
   *  authenticated like any request; anything else is answered with an HTTP error. */
  upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void;
  /** Ends every open stream (before the server closes: streams are not HTTP connections). */
  closeStreams(): void;
  /** Streams open now. */
  readonly streams: number;
}

/** A stream's receiver writes one byte this often, so its sender can tell a dead peer from an
 *  idle one (the sender gives up after its request timeout without a byte). */
export const STREAM_PING_MILLIS = 1000;
const PING = Buffer.from([0]);

const SNAPSHOT_BYTES_MAX_DEFAULT = 4 * 1024 * 1024 * 1024;
const ROUTE_BODY_BYTES_MAX_DEFAULT = 1.5 * 1024 * 1024;
const TEMP_PREFIX = '.incoming-';
const TEMP_SUFFIX = '.tmp';

interface Route {
  methods: readonly string[];
  clusterIdRequired: boolean;
  serve(req: IncomingMessage, res: ServerResponse): Promise<void>;
}

/** Why a request failed, as the answer to send. */
class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export function createPeerHandler(options: PeerHandlerOptions): PeerHandler {
  const log = options.logger;
  const limiter = new LogLimiter(60_000, options.now ?? Date.now);
  const batchBytesMax = options.batchBytesMax ?? BATCH_BYTES_MAX_DEFAULT;
  const snapshotBytesMax = options.snapshotBytesMax ?? SNAPSHOT_BYTES_MAX_DEFAULT;
  const routeBodyBytesMax = options.routeBodyBytesMax ?? ROUTE_BODY_BYTES_MAX_DEFAULT;
  const snapshotUploadsMax = options.snapshotUploadsMax ?? 2;
  let snapshotUploads = 0;

  const warnLimited = (peer: string, problem: string, msg: string, fields: Record<string, unknown>): void => {
    const suppressed = limiter.admit(`${peer} ${problem}`);
    if (suppressed < 0) return;
    log.warn(msg, { peer, ...fields, ...(suppressed > 0 ? { suppressedSinceLast: suppressed } : {}) });
  };

  const receiveMessages = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const body = await readBody(req, batchBytesMax);
    const batch = decodeBatch(body, { batchBytesMax });
    checkBodyCluster(batch.clusterId, options.clusterId());
    options.onMessages(batch.from, batch.messages);
    res.writeHead(204).end();
  };

  const receiveSnapshot = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const header = req.headers[MESSAGE_HEADER];
    const { clusterId, message } = decodeSnapshotHeader(Array.isArray(header) ? header[0] : header);
    checkBodyCluster(clusterId, options.clusterId());
    checkDeclaredLength(req, snapshotBytesMax);
    if (snapshotUploads >= snapshotUploadsMax) {
      throw new HttpError(503, 'E_PEER_BUSY', `already receiving ${snapshotUploads} snapshots; retry later`);
    }
    snapshotUploads++;
    let filePath: string;
    try {
      filePath = await receiveFile(req, options.incomingDir, snapshotBytesMax, message);
    } finally {
      snapshotUploads--;
    }
    log.info('received snapshot', { from: message.from, index: message.snapshot?.metadata.index, file: filePath });
    try {
      options.onSnapshot(message, filePath);
    } catch (error) {
      await unlink(filePath).catch(() => undefined);
      throw error;
    }
    res.writeHead(204).end();
  };

  const routes = new Map<string, Route>([
    [MESSAGES_PATH, { methods: ['POST'], clusterIdRequired: true, serve: receiveMessages }],
    [SNAPSHOT_PATH, { methods: ['POST'], clusterIdRequired: true, serve: receiveSnapshot }],
  ]);
  for (const [path, extra] of options.extraRoutes ?? []) {
    if (routes.has(path)) throw new Error(`createPeerHandler: extra route ${path} collides with a Raft route`);
    const route: PeerRoute = typeof extra === 'function' ? { handler: extra } : extra;
    routes.set(path, {
      methods: route.methods ?? ['POST'],
      clusterIdRequired: route.clusterIdRequired ?? true,
      serve: async (req, res) => {
        const body = await readBody(req, routeBodyBytesMax);
        await route.handler(req, res, body);
      },
    });
  }

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const path = (req.url ?? '/').split('?', 1)[0]!;
    const route = routes.get(path);
    if (route === undefined) throw new HttpError(404, 'E_NOT_FOUND', `no peer route ${path}`);
    if (!route.methods.includes(req.method ?? '')) {
      res.setHeader('allow', route.methods.join(', '));
      throw new HttpError(405, 'E_METHOD_NOT_ALLOWED', `${req.method} is not allowed on ${path}; use ${route.methods.join(' or ')}`);
    }
    const refusal = checkPeerRequest(req, { token: options.token, clusterId: options.clusterId(), clusterIdRequired: route.clusterIdRequired });
    if (refusal !== null) throw new HttpError(refusal.status, refusal.code, refusal.message);
    await route.serve(req, res);
  };

  const streams = new Set<Duplex>();

  const refuseUpgrade = (socket: Duplex, peer: string, error: HttpError, path: string | undefined): void => {
    if (error.status !== 404 && error.status !== 405) warnLimited(peer, error.code, 'refused peer stream', { path, status: error.status, code: error.code, reason: error.message });
    const body = JSON.stringify({ error: { code: error.code, message: error.message } });
    socket.on('error', () => undefined);
    socket.end(
      `HTTP/1.1 ${error.status} ${STATUS_CODES[error.status] ?? ''}\r\ncontent-type: application/json\r\n` +
        `content-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
    );
  };

  const upgrade = (req: IncomingMessage, socket: Duplex, head: Buffer): void => {
    const peer = req.socket.remoteAddress ?? 'unknown';
    const path = (req.url ?? '/').split('?', 1)[0]!;
    if (path !== STREAM_PATH) return refuseUpgrade(socket, peer, new HttpError(404, 'E_NOT_FOUND', `no peer stream at ${path}`), req.url);
    if (req.method !== 'GET') return refuseUpgrade(socket, peer, new HttpError(405, 'E_METHOD_NOT_ALLOWED', `${req.method} is not allowed on ${path}; use GET`), req.url);
    const protocol = String(req.headers.upgrade ?? '').toLowerCase();
    if (protocol !== STREAM_PROTOCOL) {
      return refuseUpgrade(socket, peer, new HttpError(400, 'E_PEER_PROTOCOL', `unknown peer stream protocol ${JSON.stringify(protocol.slice(0, 64))}; this node speaks ${STREAM_PROTOCOL}`), req.url);
    }
    const refusal = checkPeerRequest(req, { token: options.token, clusterId: options.clusterId(), clusterIdRequired: true });
    if (refusal !== null) return refuseUpgrade(socket, peer, new HttpError(refusal.status, refusal.code, refusal.message), req.url);

    socket.write(`HTTP/1.1 101 Switching Protocols\r\nconnection: Upgrade\r\nupgrade: ${STREAM_PROTOCOL}\r\n\r\n`);
    (socket as Duplex & { setNoDelay?(on: boolean): void }).setNoDelay?.(true);
    streams.add(socket);
    const reader = new FrameReader(batchBytesMax);
    const ping = setInterval(() => socket.write(PING), STREAM_PING_MILLIS);
    ping.unref();
    const onData = (chunk: Buffer): void => {
      try {
        for (const frame of reader.push(chunk)) {
          const batch = decodeBatch(frame, { batchBytesMax });
          checkBodyCluster(batch.clusterId, options.clusterId());
          options.onMessages(batch.from, batch.messages);
        }
      } catch (error) {
        const answer = toHttpError(error);
        if (answer.status >= 500 && !(error instanceof HttpError)) log.error('peer stream failed', { peer, code: answer.code, error });
        else warnLimited(peer, answer.code, 'closed a peer stream that sent a bad frame', { code: answer.code, reason: answer.message });
        socket.destroy();
      }
    };
    socket.on('data', onData);
    socket.on('error', () => undefined);
    socket.on('end', () => socket.end());
    socket.on('close', () => {
      clearInterval(ping);
      streams.delete(socket);
    });
    if (head.byteLength > 0) onData(head);
    const from = req.headers[STREAM_FROM_HEADER];
    if (typeof from === 'string' && from.length > 0 && from.length <= 256) {
      try {
        options.onStreamOpened?.(from);
      } catch (error) {
        log.error('onStreamOpened threw', { peer, error });
      }
    }
  };

  const handler = (req: IncomingMessage, res: ServerResponse): void => {
    // Read now: once the socket is gone (an aborted upload) the address is too.
    const peer = req.socket.remoteAddress ?? 'unknown';
    handle(req, res).catch((error: unknown) => {
      const answer = toHttpError(error);
      const fields = { path: req.url, status: answer.status, code: answer.code, reason: answer.message };
      if (answer.status >= 500 && !(error instanceof HttpError)) {
        log.error('peer request failed', { peer, ...fields, error });
      } else if (answer.code === 'E_PEER_ABORTED') {
        warnLimited(peer, answer.code, 'peer request aborted', fields);
      } else if (answer.status !== 404 && answer.status !== 405) {
        warnLimited(peer, answer.code, 'refused peer request', fields);
      }
      sendError(req, res, answer);
    });
  };
  const peerHandler = Object.assign(handler, {
    upgrade,
    closeStreams(): void {
      for (const socket of streams) socket.destroy();
      streams.clear();
    },
    streams: 0,
  });
  Object.defineProperty(peerHandler, 'streams', { get: () => streams.size });
  return peerHandler;
}

/** Removes snapshot uploads that a crash left half-written. Call before serving requests. */
export async function cleanIncomingDir(incomingDir: string): Promise<number> {
  let names: string[];
  try {
    names = await readdir(incomingDir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return 0;
    throw error;
  }
  let removed = 0;
  for (const name of names) {
    if (!name.startsWith(TEMP_PREFIX) || !name.endsWith(TEMP_SUFFIX)) continue;
    await unlink(join(incomingDir, name)).catch(() => undefined);
    removed++;
  }
  return removed;
}

function checkBodyCluster(claimed: string, ours: string | undefined): void {
  if (claimed !== ours) {
    throw new HttpError(403, 'E_PEER_WRONG_CLUSTER', `peer batch is for cluster ${JSON.stringify(claimed)} but this node is in cluster ${ours ?? '(none yet)'}`);
  }
}

function checkDeclaredLength(req: IncomingMessage, bytesMax: number): void {
  const declared = req.headers['content-length'];
  if (declared !== undefined && Number(declared) > bytesMax) {
    throw new HttpError(413, 'E_PEER_TOO_LARGE', `peer request body is ${declared} bytes, more than the limit of ${bytesMax}`);
  }
}

/** The whole body, or an HttpError 413 as soon as it passes `bytesMax`. Listeners rather than
 *  `for await`: leaving that loop early destroys the socket, and the 413 would never arrive. */
function readBody(req: IncomingMessage, bytesMax: number): Promise<Buffer> {
  checkDeclaredLength(req, bytesMax);
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let bytes = 0;
    const onData = (chunk: Buffer): void => {
      bytes += chunk.byteLength;
      if (bytes > bytesMax) {
        finish();
        req.pause();
        reject(new HttpError(413, 'E_PEER_TOO_LARGE', `peer request body is more than the limit of ${bytesMax} bytes`));
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = (): void => {
      finish();
      resolve(Buffer.concat(chunks, bytes));
    };
    const onError = (error: Error): void => {
      finish();
      reject(error);
    };
    const onClose = (): void => {
      finish();
      reject(Object.assign(new Error('peer closed the connection before the body was complete'), { code: 'ECONNRESET' }));
    };
    const finish = (): void => {
      req.off('data', onData).off('end', onEnd).off('error', onError).off('close', onClose);
    };
    req.on('data', onData).on('end', onEnd).on('error', onError).on('close', onClose);
  });
}

/** Streams the body into a temp file, syncs it, then renames it into place, so that a file
 *  with the final name is always complete; any failure removes the temp file. */
async function receiveFile(req: IncomingMessage, dir: string, bytesMax: number, message: Message): Promise<string> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const unique = randomBytes(6).toString('hex');
  const tempPath = join(dir, `${TEMP_PREFIX}${unique}${TEMP_SUFFIX}`);
  const meta = message.snapshot?.metadata;
  const finalPath = join(dir, `snapshot-${meta?.term ?? 0}-${meta?.index ?? 0}-${unique}.snap`);
  try {
    await pipeline(req, new ByteLimit(bytesMax), createWriteStream(tempPath, { flags: 'wx', mode: 0o600 }));
    await syncPath(tempPath);
    await rename(tempPath, finalPath);
    await syncPath(dir);
    return finalPath;
  } catch (error) {
    await unlink(tempPath).catch(() => undefined);
    throw error;
  }
}

/** fsync of a file (its data) or of a directory (a rename in it). Linux syncs the inode, so a
 *  fresh descriptor works after the writing stream has closed its own. */
async function syncPath(path: string): Promise<void> {
  const handle = await open(path, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

class ByteLimit extends Transform {
  private bytes = 0;
  constructor(private readonly bytesMax: number) {
    super();
  }
  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.bytes += chunk.byteLength;
    if (this.bytes > this.bytesMax) {
      callback(new HttpError(413, 'E_PEER_TOO_LARGE', `peer snapshot is more than the limit of ${this.bytesMax} bytes`));
      return;
    }
    callback(null, chunk);
  }
}

function toHttpError(error: unknown): HttpError {
  if (error instanceof HttpError) return error;
  if (error instanceof WireError) return new HttpError(400, error.code, error.message);
  const code = (error as { code?: unknown } | null)?.code;
  if (code === 'ECONNRESET' || code === 'ERR_STREAM_PREMATURE_CLOSE') {
    return new HttpError(400, 'E_PEER_ABORTED', 'peer closed the connection before the body was complete');
  }
  return new HttpError(500, 'E_INTERNAL', `peer request failed here: ${error instanceof Error ? error.message : String(error)}`);
}

function sendError(req: IncomingMessage, res: ServerResponse, error: HttpError): void {
  if (res.headersSent || res.destroyed) {
    res.destroy();
    return;
  }
  const body = JSON.stringify({ error: { code: error.code, message: error.message } });
  // A body we stopped reading is still on the wire; closing is cheaper than draining it.
  const unread = !req.complete;
  res.writeHead(error.status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(body),
    ...(unread ? { connection: 'close' } : {}),
  });
  // With connection: close, node:http closes the socket once this answer is out; destroying it
  // here instead could reset the connection before the peer has read why.
  res.end(body);
}
