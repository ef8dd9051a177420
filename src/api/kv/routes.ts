// The etcd v3 JSON gateway endpoints over a KvService: read the body (bounded), decode it, call
// the service, encode the answer. Handlers answer every failure themselves and never reject, so
// they can be mounted on any router. Bad input is always a 4xx; only a fault in the service or
// in bramble is a 5xx.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from '../../log/index.ts';
import type { KvService, ResponseHeader, WatchHandle, WatchSink } from '../../store/kv/service.ts';
import { KvError } from '../../store/kv/types.ts';
import type { WatchEvent, WriteOp, WriteResult } from '../../store/kv/types.ts';
import type { Handler, Route } from '../http/index.ts';
import {
  httpStatusForGrpcCode,
  isJsonBlank,
  readBody,
  readFirstJsonObject,
  REQUEST_BYTES_MAX_DEFAULT,
  sendError,
  sendJson,
  sendUnexpected,
} from '../http/index.ts';
import type { TxnLimits, WatchCreate } from './codec.ts';
import {
  decodeCompactionRequest,
  decodeDeleteRangeRequest,
  decodePutRequest,
  decodeRangeRequest,
  decodeTxnRequest,
  decodeWatchRequest,
  encodeCompactionResponse,
  encodeDeleteRangeResponse,
  encodePutResponse,
  encodeRangeResponse,
  encodeTxnResponse,
  encodeWatchCanceled,
  encodeWatchCreated,
  encodeWatchEvents,
  TXN_LIMITS_DEFAULT,
} from './codec.ts';

export interface KvRoutesOptions {
  /** Largest request body accepted; default 1.5 MiB, etcd's --max-request-bytes. */
  requestBytesMax?: number;
  /** Txn size and nesting limits; defaults in TXN_LIMITS_DEFAULT. */
  txnLimits?: Partial<TxnLimits>;
  /** A watch whose unsent output exceeds this is canceled (its client is not reading); 8 MiB. */
  watchBufferBytesMax?: number;
  /** How long a canceled slow watch may take to drain before its connection is cut; 30 s. */
  watchDrainTimeoutMs?: number;
  /** Interval of progress notifications for watches that ask for them; 10 minutes, as etcd. */
  progressNotifyIntervalMs?: number;
  /** Where faults (a service that throws something other than KvError) are reported. */
  logger?: Logger;
}

export const KV_ROUTE_PATHS = {
  put: '/v3/kv/put',
  range: '/v3/kv/range',
  deleteRange: '/v3/kv/deleterange',
  txn: '/v3/kv/txn',
  compaction: '/v3/kv/compaction',
  watch: '/v3/watch',
} as const;

export const WATCH_BUFFER_BYTES_MAX_DEFAULT = 8 * 1024 * 1024;
export const WATCH_DRAIN_TIMEOUT_MS_DEFAULT = 30_000;
export const PROGRESS_NOTIFY_INTERVAL_MS_DEFAULT = 10 * 60 * 1000;

interface Settings {
  requestBytesMax: number;
  txnLimits: TxnLimits;
  watchBufferBytesMax: number;
  watchDrainTimeoutMs: number;
  progressNotifyIntervalMs: number;
  logger: Logger | undefined;
}

/** Answers a KvError as etcd's gateway does: the gRPC code mapped to an HTTP status. */
export function sendKvError(res: ServerResponse, error: KvError): void {
  sendError(res, httpStatusForGrpcCode(error.grpcCode), error.grpcCode, error.message);
}

function sendFailure(res: ServerResponse, error: unknown, settings: Settings, context: string): void {
  if (error instanceof KvError) sendKvError(res, error);
  else sendUnexpected(res, error, settings.logger, context);
}

// A WriteResult of another op than the one proposed is a bug in the store, not bad input.
function unexpectedResult(expected: WriteOp['op'], result: WriteResult): Error {
  return new Error(`the store answered a ${expected} with a ${result.op} result`);
}

/** The KV API's routes, all POST, to mount on a Router (`router.addRoutes(createKvRoutes(kv))`). */
export function createKvRoutes(service: KvService, options: KvRoutesOptions = {}): Route[] {
  const settings: Settings = {
    requestBytesMax: options.requestBytesMax ?? REQUEST_BYTES_MAX_DEFAULT,
    txnLimits: { ...TXN_LIMITS_DEFAULT, ...options.txnLimits },
    watchBufferBytesMax: options.watchBufferBytesMax ?? WATCH_BUFFER_BYTES_MAX_DEFAULT,
    watchDrainTimeoutMs: options.watchDrainTimeoutMs ?? WATCH_DRAIN_TIMEOUT_MS_DEFAULT,
    progressNotifyIntervalMs: options.progressNotifyIntervalMs ?? PROGRESS_NOTIFY_INTERVAL_MS_DEFAULT,
    logger: options.logger,
  };
  const limit = settings.requestBytesMax;

  // Each handler: body -> request -> service -> JSON, with every failure answered here.
  const guarded =
    (path: string, run: (req: IncomingMessage, res: ServerResponse) => Promise<void>): Handler =>
    async (req, res) => {
      try {
        await run(req, res);
      } catch (error) {
        sendFailure(res, error, settings, `POST ${path}`);
      }
    };

  const range = guarded(KV_ROUTE_PATHS.range, async (req, res) => {
    const request = decodeRangeRequest(await readBody(req, limit));
    const { header, response } = await service.range(request);
    sendJson(res, 200, encodeRangeResponse(header, response));
  });

  const put = guarded(KV_ROUTE_PATHS.put, async (req, res) => {
    const request = decodePutRequest(await readBody(req, limit));
    const { header, result } = await service.write({ op: 'put', put: request });
    if (result.op === 'error') return sendKvError(res, result.error);
    if (result.op !== 'put') throw unexpectedResult('put', result);
    sendJson(res, 200, encodePutResponse(header, result.put));
  });

  const deleteRange = guarded(KV_ROUTE_PATHS.deleteRange, async (req, res) => {
    const request = decodeDeleteRangeRequest(await readBody(req, limit));
    const { header, result } = await service.write({ op: 'deleteRange', deleteRange: request });
    if (result.op === 'error') return sendKvError(res, result.error);
    if (result.op !== 'deleteRange') throw unexpectedResult('deleteRange', result);
    sendJson(res, 200, encodeDeleteRangeResponse(header, result.deleteRange));
  });

  const txn = guarded(KV_ROUTE_PATHS.txn, async (req, res) => {
    const request = decodeTxnRequest(await readBody(req, limit), settings.txnLimits);
    const { header, result } = await service.write({ op: 'txn', txn: request });
    if (result.op === 'error') return sendKvError(res, result.error);
    if (result.op !== 'txn') throw unexpectedResult('txn', result);
    sendJson(res, 200, encodeTxnResponse(header, result.txn, result.revision));
  });

  const compaction = guarded(KV_ROUTE_PATHS.compaction, async (req, res) => {
    const request = decodeCompactionRequest(await readBody(req, limit));
    const { header, result } = await service.write({ op: 'compact', compact: request });
    if (result.op === 'error') return sendKvError(res, result.error);
    if (result.op !== 'compact') throw unexpectedResult('compact', result);
    sendJson(res, 200, encodeCompactionResponse(header));
  });

  const watch = guarded(KV_ROUTE_PATHS.watch, async (req, res) => {
    // Answered as soon as the first message is in: etcd's clients may keep the body open.
    const { body, rest } = await readFirstJsonObject(req, limit);
    const create = decodeWatchRequest(body);
    const stream = new WatchStream(res, create, settings);
    let handle: WatchHandle;
    try {
      handle = service.watch(create.request, stream.sink);
    } catch (error) {
      stream.discard();
      throw error; // answered as an ordinary error: nothing is streamed yet
    }
    stream.start(handle);
    if (rest !== null) stream.followBody(req, rest);
  });

  return [
    { method: 'POST', path: KV_ROUTE_PATHS.put, handler: put },
    { method: 'POST', path: KV_ROUTE_PATHS.range, handler: range },
    { method: 'POST', path: KV_ROUTE_PATHS.deleteRange, handler: deleteRange },
    { method: 'POST', path: KV_ROUTE_PATHS.txn, handler: txn },
    { method: 'POST', path: KV_ROUTE_PATHS.compaction, handler: compaction },
    { method: 'POST', path: KV_ROUTE_PATHS.watch, handler: watch },
  ];
}

// What the service reported before the watch was set up; replayed after the "created" line.
type Pending =
  | { kind: 'events'; header: ResponseHeader; events: WatchEvent[] }
  | { kind: 'canceled'; header: ResponseHeader; reason: string; compactRevision: number };

/**
 * One `/v3/watch` response: a "created" line, then one line per event batch, until the service
 * cancels the watch, the client goes away, or the client reads too slowly. Lines are JSON objects
 * ended by "\n", as etcd's gateway streams them.
 */
class WatchStream {
  readonly sink: WatchSink;
  #state: 'pending' | 'open' | 'closed' | 'discarded' = 'pending';
  #pending: Pending[] = [];
  #handle: WatchHandle | null = null;
  #lastHeader: ResponseHeader | null = null;
  /** Where a client would have to watch from again to miss nothing. */
  #resumeRevision: number;
  #eventsSinceProgress = false;
  #progressTimer: NodeJS.Timeout | null = null;
  #clientGone = false;
  readonly #res: ServerResponse;
  readonly #watchId: number;
  readonly #progressNotify: boolean;
  readonly #settings: Settings;

  constructor(res: ServerResponse, create: WatchCreate, settings: Settings) {
    this.#res = res;
    this.#watchId = create.watchId;
    this.#progressNotify = create.request.progressNotify;
    this.#resumeRevision = create.request.startRevision;
    this.#settings = settings;
    this.sink = {
      events: (header, events) => this.#onEvents(header, events),
      canceled: (header, reason, compactRevision) => this.#onCanceled(header, reason, compactRevision),
    };
    // 'close' also follows our own end(); only a close while open means the client left.
    res.once('close', () => this.#onClose());
  }

  /** service.watch() threw: forget whatever it reported. */
  discard(): void {
    this.#state = 'discarded';
    this.#pending = [];
  }

  start(handle: WatchHandle): void {
    if (this.#state !== 'pending') return;
    this.#handle = handle;
    if (this.#clientGone || this.#res.destroyed) {
      this.#state = 'closed';
      this.#cancelService();
      return;
    }
    this.#state = 'open';
    this.#lastHeader = handle.header;
    if (this.#resumeRevision === 0) this.#resumeRevision = handle.header.revision + 1;
    this.#res.writeHead(200, { 'content-type': 'application/json' }); // no length: chunked
    this.#writeLine(encodeWatchCreated(handle.header, this.#watchId));
    const pending = this.#pending;
    this.#pending = [];
    for (const p of pending) {
      if (p.kind === 'events') this.#onEvents(p.header, p.events);
      else this.#onCanceled(p.header, p.reason, p.compactRevision);
    }
    if (this.#state === 'open' && this.#progressNotify) {
      this.#progressTimer = setInterval(() => this.#progress(), this.#settings.progressNotifyIntervalMs);
      this.#progressTimer.unref();
    }
  }

  #onEvents(header: ResponseHeader, events: WatchEvent[]): void {
    if (this.#state === 'pending') {
      this.#pending.push({ kind: 'events', header, events });
      return;
    }
    if (this.#state !== 'open') return;
    this.#lastHeader = header;
    const last = events[events.length - 1];
    if (last !== undefined) this.#resumeRevision = last.kv.modRevision + 1;
    this.#eventsSinceProgress = true;
    this.#writeLine(encodeWatchEvents(header, events, this.#watchId));
    if (this.#res.writableLength > this.#settings.watchBufferBytesMax) this.#cancelSlowClient();
  }

  #onCanceled(header: ResponseHeader, reason: string, compactRevision: number): void {
    if (this.#state === 'pending') {
      this.#pending.push({ kind: 'canceled', header, reason, compactRevision });
      return;
    }
    if (this.#state !== 'open') return;
    // The service ended the watch itself: nothing to cancel there.
    this.#handle = null;
    this.#finish(encodeWatchCanceled(header, reason, compactRevision, this.#watchId));
  }

  /** etcd's gateway reads further messages (cancel, progress) from an open watch body; bramble
   *  takes one create_request per request, so more ends the watch, with the reason, rather than
   *  being dropped unseen. Whitespace between messages is fine. */
  followBody(req: IncomingMessage, rest: Buffer): void {
    const check = (chunk: Buffer): void => {
      if (isJsonBlank(chunk)) return;
      req.off('data', check);
      this.#refuseFurtherMessage();
    };
    check(rest);
    if (this.#state !== 'open') return;
    req.on('data', check);
    req.resume();
  }

  #refuseFurtherMessage(): void {
    if (this.#state !== 'open') return;
    const reason =
      'bramble: a /v3/watch request body carries one create_request; a further message arrived and is not supported, ' +
      'so the watch ends here: to cancel a watch close its response, to watch more keys open another /v3/watch';
    this.#finish(encodeWatchCanceled(this.#lastHeader!, reason, 0, this.#watchId));
    this.#cancelService();
  }

  #progress(): void {
    if (this.#state !== 'open' || this.#lastHeader === null) return;
    // Only an idle watch needs to hear that it is still current.
    if (this.#eventsSinceProgress) {
      this.#eventsSinceProgress = false;
      return;
    }
    this.#writeLine(encodeWatchEvents(this.#lastHeader, [], this.#watchId));
  }

  #cancelSlowClient(): void {
    const reason =
      `bramble: watch canceled because the client is not reading: more than ${this.#settings.watchBufferBytesMax} bytes ` +
      `of responses are unsent; read faster, then watch again with start_revision ${this.#resumeRevision}`;
    this.#finish(encodeWatchCanceled(this.#lastHeader!, reason, 0, this.#watchId));
    this.#cancelService();
    // A client that reads nothing at all would hold the buffered bytes forever.
    const timer = setTimeout(() => this.#res.destroy(), this.#settings.watchDrainTimeoutMs);
    timer.unref();
    this.#res.once('close', () => clearTimeout(timer));
  }

  // Closed before the last write, so that nothing the service does in reaction (a cancel that
  // reports back through the sink) can write after the end.
  #finish(lastLine: object): void {
    this.#state = 'closed';
    this.#stopTimer();
    this.#writeLine(lastLine);
    this.#res.end();
  }

  #onClose(): void {
    if (this.#state === 'pending') {
      this.#clientGone = true;
      return;
    }
    if (this.#state !== 'open') return;
    this.#state = 'closed';
    this.#stopTimer();
    this.#cancelService();
  }

  #cancelService(): void {
    const handle = this.#handle;
    this.#handle = null;
    if (handle === null) return;
    try {
      handle.cancel();
    } catch (error) {
      this.#settings.logger?.error('watch cancel failed', { error });
    }
  }

  #stopTimer(): void {
    if (this.#progressTimer !== null) clearInterval(this.#progressTimer);
    this.#progressTimer = null;
  }

  #writeLine(line: object): void {
    if (this.#res.writableEnded || this.#res.destroyed) return; // a write after end() would throw
    this.#res.write(`${JSON.stringify(line)}\n`);
  }
}
