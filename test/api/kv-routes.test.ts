// The KV routes over a real node:http server on 127.0.0.1, driven by undici (and by raw sockets
// where a misbehaving client is the point), against a fake KvService: answers, error mapping,
// body limits, watch streaming, and a fuzz run showing bad input never reaches the store and
// never earns a 5xx.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import { connect } from 'node:net';
import { PassThrough, Readable } from 'node:stream';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { Agent, request } from 'undici';
import { HttpError, INTERNAL_ERROR_MESSAGE, Router, sendJson } from '../../src/api/http/index.ts';
import { createKvRoutes } from '../../src/api/kv/index.ts';
import type { KvRoutesOptions } from '../../src/api/kv/index.ts';
import { createLogger } from '../../src/log/index.ts';
import type { KvService, ResponseHeader, WatchHandle, WatchSink } from '../../src/store/kv/service.ts';
import { ErrCompacted, KvError } from '../../src/store/kv/types.ts';
import type { KeyValue, RangeRequest, RangeResponse, WatchRequest, WriteOp, WriteResult } from '../../src/store/kv/types.ts';

const CLUSTER = '14841639068965178418';
const MEMBER = '10276657743932975437';
const header = (revision: number): ResponseHeader => ({ clusterId: CLUSTER, memberId: MEMBER, revision, raftTerm: 2 });
const h = (revision: number): string => `{"cluster_id":"${CLUSTER}","member_id":"${MEMBER}","revision":"${revision}","raft_term":"2"}`;
const kv = (key: string, create: number, mod: number, version: number, value: string): KeyValue => ({
  key: Buffer.from(key),
  createRevision: create,
  modRevision: mod,
  version,
  value: Buffer.from(value),
});

interface FakeWatch {
  request: WatchRequest;
  sink: WatchSink;
  cancels: number;
}

/** Records every call; answers are overridable per test. */
class FakeKv implements KvService {
  ranges: RangeRequest[] = [];
  writes: WriteOp[] = [];
  watches: FakeWatch[] = [];
  revision = 3;
  onRange: (req: RangeRequest) => Promise<RangeResponse> = async () => ({ kvs: [], more: false, count: 0 });
  onWrite: (op: WriteOp) => Promise<WriteResult> = async (op) => this.succeed(op);
  /** Runs inside watch(), before the handle is returned (may call the sink or throw). */
  onWatch: (w: FakeWatch) => void = () => {};

  async range(req: RangeRequest): Promise<{ header: ResponseHeader; response: RangeResponse }> {
    this.ranges.push(req);
    return { header: header(this.revision), response: await this.onRange(req) };
  }

  async write(op: WriteOp): Promise<{ header: ResponseHeader; result: WriteResult }> {
    this.writes.push(op);
    const result = await this.onWrite(op);
    return { header: header(result.revision), result };
  }

  watch(request: WatchRequest, sink: WatchSink): WatchHandle {
    const w: FakeWatch = { request, sink, cancels: 0 };
    this.watches.push(w);
    this.onWatch(w);
    return { header: header(5), cancel: () => void w.cancels++ };
  }

  succeed(op: WriteOp): WriteResult {
    const revision = ++this.revision;
    switch (op.op) {
      case 'put':
        return { op: 'put', revision, put: { prevKv: null } };
      case 'deleteRange':
        return { op: 'deleteRange', revision, deleteRange: { deleted: 0, prevKvs: [] } };
      case 'txn':
        return { op: 'txn', revision, txn: { succeeded: true, responses: [] } };
      case 'compact':
        return { op: 'compact', revision };
    }
  }

  reset(): void {
    this.ranges = [];
    this.writes = [];
    this.watches = [];
  }
}

interface Served {
  base: string;
  server: Server;
  logLines: string[];
  close(): Promise<void>;
}

async function serve(service: KvService, options: KvRoutesOptions = {}): Promise<Served> {
  const logLines: string[] = [];
  const logger = createLogger({ level: 'debug', sink: { write: (line: string) => logLines.push(line) } });
  const router = new Router({ logger }).addRoutes(createKvRoutes(service, { logger, ...options }));
  const server = createServer((req, res) => void router.handle(req, res));
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    base: `http://127.0.0.1:${port}`,
    server,
    logLines,
    close: async () => {
      server.closeAllConnections();
      server.close();
      await once(server, 'close');
    },
  };
}

const agent = new Agent({ connections: 16 });
after(() => agent.close());

async function post(base: string, path: string, body: string | Buffer, method = 'POST'): Promise<{ status: number; text: string; headers: Record<string, unknown> }> {
  const res = await request(`${base}${path}`, { method: method as 'POST', body: method === 'GET' ? null : body, dispatcher: agent });
  return { status: res.statusCode, text: await res.body.text(), headers: res.headers };
}

const errorJson = (code: number, message: string, error = message): string => JSON.stringify({ error, message, code });

describe('KV routes', () => {
  const kvs = new FakeKv();
  let served: Served;
  before(async () => {
    served = await serve(kvs);
  });
  after(() => served.close());

  it('put: decodes, writes, answers as etcd', async () => {
    kvs.reset();
    kvs.revision = 1;
    const res = await post(served.base, '/v3/kv/put', '{"key":"Zm9v","value":"YmFy"}');
    assert.equal(res.status, 200);
    assert.equal(res.headers['content-type'], 'application/json');
    assert.equal(res.text, `{"header":${h(2)}}`);
    assert.deepEqual(kvs.writes, [{ op: 'put', put: { key: Buffer.from('foo'), value: Buffer.from('bar'), prevKv: false, ignoreValue: false } }]);
  });

  it('range: found and not found', async () => {
    kvs.reset();
    kvs.revision = 3;
    kvs.onRange = async (req) =>
      req.key.toString() === 'foo' ? { kvs: [kv('foo', 2, 3, 2, 'baz')], more: false, count: 1 } : { kvs: [], more: false, count: 0 };
    const found = await post(served.base, '/v3/kv/range', '{"key":"Zm9v"}');
    assert.equal(found.text, `{"header":${h(3)},"kvs":[{"key":"Zm9v","create_revision":"2","mod_revision":"3","version":"2","value":"YmF6"}],"count":"1"}`);
    const missing = await post(served.base, '/v3/kv/range', '{"key":"bm9wZQ=="}');
    assert.equal(missing.text, `{"header":${h(3)}}`);
    assert.equal(kvs.ranges.length, 2);
  });

  it('txn, deleterange and compaction', async () => {
    kvs.reset();
    kvs.revision = 3;
    kvs.onWrite = async (op) => {
      if (op.op === 'txn') return { op: 'txn', revision: ++kvs.revision, txn: { succeeded: true, responses: [{ put: { prevKv: null } }] } };
      if (op.op === 'deleteRange') {
        return { op: 'deleteRange', revision: ++kvs.revision, deleteRange: { deleted: 1, prevKvs: [kv('foo', 2, 4, 3, 'qux')] } };
      }
      return kvs.succeed(op);
    };
    const txn = await post(
      served.base,
      '/v3/kv/txn',
      JSON.stringify({
        compare: [{ key: 'Zm9v', target: 'VALUE', result: 'EQUAL', value: 'YmF6' }],
        success: [{ request_put: { key: 'Zm9v', value: 'cXV4' } }],
        failure: [{ request_range: { key: 'Zm9v' } }],
      }),
    );
    assert.equal(txn.text, `{"header":${h(4)},"succeeded":true,"responses":[{"response_put":{"header":{"revision":"4"}}}]}`);
    const del = await post(served.base, '/v3/kv/deleterange', '{"key":"Zm9v","prev_kv":true}');
    assert.equal(del.text, `{"header":${h(5)},"deleted":"1","prev_kvs":[{"key":"Zm9v","create_revision":"2","mod_revision":"4","version":"3","value":"cXV4"}]}`);
    const compact = await post(served.base, '/v3/kv/compaction', '{"revision":"3"}');
    assert.equal(compact.text, `{"header":${h(6)}}`);
    assert.deepEqual(kvs.writes[2], { op: 'compact', compact: { revision: 3 } });
    kvs.onWrite = async (op) => kvs.succeed(op);
  });

  it('maps a KvError thrown by the service to the gateway status', async () => {
    const table: Array<[number, number]> = [
      [3, 400],
      [4, 504],
      [5, 404],
      [9, 400],
      [11, 400],
      [12, 501],
      [14, 503],
    ];
    for (const [code, status] of table) {
      kvs.onRange = async () => {
        throw new KvError(code, `refused with ${code}`);
      };
      const res = await post(served.base, '/v3/kv/range', '{"key":"Zm9v"}');
      assert.equal(res.status, status, `gRPC ${code}`);
      assert.equal(res.text, errorJson(code, `refused with ${code}`));
    }
    kvs.onRange = async () => {
      throw ErrCompacted();
    };
    const compacted = await post(served.base, '/v3/kv/range', '{"key":"Zm9v","revision":"2"}');
    assert.equal(compacted.status, 400);
    assert.equal(compacted.text, errorJson(11, 'etcdserver: mvcc: required revision has been compacted'));
  });

  it('maps a WriteResult of op error the same way', async () => {
    kvs.onWrite = async () => ({ op: 'error', revision: 4, error: new KvError(14, 'etcdserver: no leader') });
    const res = await post(served.base, '/v3/kv/put', '{"key":"Zm9v"}');
    assert.equal(res.status, 503);
    assert.equal(res.text, errorJson(14, 'etcdserver: no leader'));
    kvs.onWrite = async (op) => kvs.succeed(op);
  });

  it('answers a fault in the service with a generic 500, logs it, and keeps serving', async () => {
    served.logLines.length = 0;
    kvs.onRange = async () => {
      throw new TypeError('cannot read properties of undefined (secret detail)');
    };
    const res = await post(served.base, '/v3/kv/range', '{"key":"Zm9v"}');
    assert.equal(res.status, 500);
    assert.equal(res.text, errorJson(13, INTERNAL_ERROR_MESSAGE));
    assert.ok(served.logLines.some((l) => l.includes('secret detail')), 'the fault is logged');
    kvs.onWrite = async () => ({ op: 'compact', revision: 9 });
    const wrongOp = await post(served.base, '/v3/kv/put', '{"key":"Zm9v"}');
    assert.equal(wrongOp.status, 500);
    kvs.onWrite = async (op) => kvs.succeed(op);
    kvs.onRange = async () => ({ kvs: [], more: false, count: 0 });
    assert.equal((await post(served.base, '/v3/kv/range', '{"key":"Zm9v"}')).status, 200);
  });

  it('refuses bad input with 400 and etcd-shaped errors, without calling the store', async () => {
    kvs.reset();
    const cases: Array<[string, string, string, string?]> = [
      ['/v3/kv/put', '{bad', "malformed JSON in the put request body at byte 1: invalid character 'b' looking for beginning of object key string", "invalid character 'b' looking for beginning of object key string"],
      ['/v3/kv/put', '{"key":"%%%"}', "put request: key: illegal base64 data at input byte 0 (expected standard base64 with '=' padding)", 'illegal base64 data at input byte 0'],
      ['/v3/kv/put', '{"key":"Zm9v","bogus":1}', 'unknown field "bogus" in put request'],
      ['/v3/kv/range', '{}', 'etcdserver: key is not provided'],
      ['/v3/kv/range', '', 'etcdserver: key is not provided'],
      ['/v3/kv/deleterange', '{"range_end":"AA=="}', 'etcdserver: key is not provided'],
    ];
    for (const [path, body, message, error] of cases) {
      const res = await post(served.base, path, body);
      assert.equal(res.status, 400, `${path} ${body}`);
      assert.equal(res.text, errorJson(3, message, error));
    }
    assert.equal(kvs.writes.length + kvs.ranges.length, 0);
  });

  it('answers 404 for an unknown path and 405 for another method', async () => {
    const missing = await post(served.base, '/v3/kv/bogus', '{}');
    assert.equal(missing.status, 404);
    assert.equal(JSON.parse(missing.text).code, 5);
    const get = await post(served.base, '/v3/kv/put', '', 'GET');
    assert.equal(get.status, 405);
    assert.equal(get.headers['allow'], 'POST');
    assert.deepEqual(JSON.parse(get.text), { error: 'method GET is not allowed on /v3/kv/put; use POST', message: 'method GET is not allowed on /v3/kv/put; use POST', code: 12 });
    const query = await post(served.base, '/v3/kv/range?x=1', '{"key":"Zm9v"}');
    assert.equal(query.status, 200, 'a query string does not change the route');
  });
});

describe('Router', () => {
  it('answers what a handler throws: an HttpError as itself, anything else as a logged 500', async () => {
    const logLines: string[] = [];
    const logger = createLogger({ sink: { write: (line: string) => logLines.push(line) } });
    const router = new Router({ logger })
      .get('/healthz', (_req, res) => sendJson(res, 200, { ok: true }))
      .post('/teapot', () => {
        throw new HttpError('E_BAD_REQUEST', 400, 3, 'no tea here', { headers: { 'x-why': 'tea' } });
      })
      .post('/boom', async () => {
        throw new Error('kaboom with details');
      });
    assert.throws(() => router.get('/healthz', () => {}), /registered twice/);
    const server = createServer((req, res) => void router.handle(req, res));
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      const ok = await post(base, '/healthz', '', 'GET');
      assert.equal(ok.text, '{"ok":true}');
      const teapot = await post(base, '/teapot', '');
      assert.equal(teapot.status, 400);
      assert.equal(teapot.headers['x-why'], 'tea');
      assert.equal(teapot.text, errorJson(3, 'no tea here'));
      const boom = await post(base, '/boom', '');
      assert.equal(boom.status, 500);
      assert.equal(boom.text, errorJson(13, INTERNAL_ERROR_MESSAGE));
      assert.ok(logLines.some((l) => l.includes('kaboom with details') && l.includes('POST /boom')));
    } finally {
      server.closeAllConnections();
      server.close();
    }
  });
});

describe('request body limit', () => {
  const kvs = new FakeKv();
  let served: Served;
  const limit = 1.5 * 1024 * 1024;
  before(async () => {
    served = await serve(kvs);
  });
  after(() => served.close());

  // A put of exactly `bytes` bytes: a valid value, padded with JSON whitespace.
  const putOfSize = (bytes: number): Buffer => {
    const valueChars = Math.floor((bytes - 40) / 4) * 4;
    const json = `{"key":"Zm9v","value":"${'QUFB'.repeat(valueChars / 4)}"}`;
    return Buffer.from(json + ' '.repeat(bytes - json.length));
  };

  it('accepts a body of exactly 1.5 MiB', async () => {
    const res = await post(served.base, '/v3/kv/put', putOfSize(limit));
    assert.equal(res.status, 200, res.text);
  });

  it('answers 413 (gRPC 8) naming the limit for one byte more, with or without Content-Length', async () => {
    kvs.reset();
    const expected = errorJson(
      8,
      `etcdserver: request is too large: the request body is over the ${limit}-byte limit; send a smaller request`,
      'etcdserver: request is too large',
    );
    const sized = await post(served.base, '/v3/kv/put', putOfSize(limit + 1));
    assert.equal(sized.status, 413);
    assert.equal(sized.text, expected);
    const body = putOfSize(limit + 1);
    const chunked = await request(`${served.base}/v3/kv/put`, {
      method: 'POST',
      dispatcher: agent,
      body: Readable.from(
        (function* () {
          for (let i = 0; i < body.length; i += 65536) yield body.subarray(i, i + 65536);
        })(),
      ),
    });
    assert.equal(chunked.statusCode, 413);
    assert.equal(await chunked.body.text(), expected);
    assert.equal(kvs.writes.length, 0);
    assert.equal((await post(served.base, '/v3/kv/put', '{"key":"Zm9v"}')).status, 200, 'the server is still fine');
  });

  it('refuses a huge declared body at once and closes the connection', async () => {
    const socket = connect((served.server.address() as AddressInfo).port, '127.0.0.1');
    socket.write('POST /v3/kv/put HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000000000\r\n\r\n{"key":');
    const chunks: Buffer[] = [];
    socket.on('data', (c: Buffer) => chunks.push(c));
    await once(socket, 'close');
    const text = Buffer.concat(chunks).toString();
    assert.match(text, /^HTTP\/1\.1 413 /);
    assert.match(text, /\r\nconnection: close\r\n/i);
    assert.match(text, /"code":8/);
  });
});

/** Reads a streamed response line by line. */
class Lines {
  #buffer = '';
  #lines: string[] = [];
  #waiters: Array<() => void> = [];
  ended = false;

  constructor(stream: AsyncIterable<Buffer>) {
    void (async () => {
      try {
        for await (const chunk of stream) {
          this.#buffer += chunk.toString();
          let nl: number;
          while ((nl = this.#buffer.indexOf('\n')) >= 0) {
            this.#lines.push(this.#buffer.slice(0, nl));
            this.#buffer = this.#buffer.slice(nl + 1);
          }
          this.#wake();
        }
      } catch {
        // aborted by the test
      }
      this.ended = true;
      this.#wake();
    })();
  }

  #wake(): void {
    for (const w of this.#waiters.splice(0)) w();
  }

  async next(ms = 2000): Promise<string> {
    const deadline = Date.now() + ms;
    while (this.#lines.length === 0) {
      if (this.ended) throw new Error('the stream ended');
      if (Date.now() > deadline) throw new Error(`no line within ${ms} ms`);
      await Promise.race([new Promise<void>((r) => this.#waiters.push(r)), sleep(50)]);
    }
    return this.#lines.shift()!;
  }

  async end(ms = 2000): Promise<void> {
    const deadline = Date.now() + ms;
    while (!this.ended) {
      if (Date.now() > deadline) throw new Error(`the stream did not end within ${ms} ms`);
      await sleep(10);
    }
  }
}

async function waitFor(what: string, check: () => boolean, ms = 2000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

describe('/v3/watch', () => {
  const kvs = new FakeKv();
  let served: Served;
  before(async () => {
    served = await serve(kvs, { progressNotifyIntervalMs: 50 });
  });
  after(() => served.close());

  async function openWatch(body: unknown, signal?: AbortSignal): Promise<{ status: number; lines: Lines; headers: Record<string, unknown> }> {
    const res = await request(`${served.base}/v3/watch`, { method: 'POST', body: JSON.stringify(body), dispatcher: agent, signal: signal ?? null });
    return { status: res.statusCode, lines: new Lines(res.body), headers: res.headers };
  }

  it('streams a created line, one line per event batch, and a canceled line at the end', async () => {
    kvs.reset();
    const watch = await openWatch({ create_request: { key: 'dw==', range_end: 'eA==' } });
    assert.equal(watch.status, 200);
    assert.equal(watch.headers['transfer-encoding'], 'chunked');
    assert.equal(await watch.lines.next(), `{"result":{"header":${h(5)},"created":true}}`);
    const w = kvs.watches[0]!;
    assert.deepEqual(w.request, {
      key: Buffer.from('w'),
      rangeEnd: Buffer.from('x'),
      startRevision: 0,
      prevKv: false,
      noPut: false,
      noDelete: false,
      progressNotify: false,
    });
    w.sink.events(header(6), [{ type: 'PUT', kv: kv('w1', 6, 6, 1, 'v'), prevKv: null }]);
    assert.equal(
      await watch.lines.next(),
      `{"result":{"header":${h(6)},"events":[{"kv":{"key":"dzE=","create_revision":"6","mod_revision":"6","version":"1","value":"dg=="}}]}}`,
    );
    w.sink.events(header(7), [{ type: 'DELETE', kv: kv('w1', 0, 7, 0, ''), prevKv: null }]);
    assert.equal(await watch.lines.next(), `{"result":{"header":${h(7)},"events":[{"type":"DELETE","kv":{"key":"dzE=","mod_revision":"7"}}]}}`);
    w.sink.canceled(header(8), 'etcdserver: mvcc: required revision has been compacted', 7);
    assert.equal(
      await watch.lines.next(),
      `{"result":{"header":${h(8)},"canceled":true,"compact_revision":"7","cancel_reason":"etcdserver: mvcc: required revision has been compacted"}}`,
    );
    await watch.lines.end();
    assert.equal(w.cancels, 0, 'the service ended the watch itself');
  });

  it('answers a compacted start revision with a created line, then a canceled line', async () => {
    kvs.reset();
    kvs.onWatch = (w) => w.sink.canceled(header(9), 'etcdserver: mvcc: required revision has been compacted', 4);
    const watch = await openWatch({ create_request: { key: 'dw==', start_revision: 2, watch_id: 7 } });
    assert.equal(await watch.lines.next(), `{"result":{"header":${h(5)},"watch_id":"7","created":true}}`);
    assert.equal(
      await watch.lines.next(),
      `{"result":{"header":${h(9)},"watch_id":"7","canceled":true,"compact_revision":"4","cancel_reason":"etcdserver: mvcc: required revision has been compacted"}}`,
    );
    await watch.lines.end();
    kvs.onWatch = () => {};
  });

  it('sends events the service reported during watch() after the created line', async () => {
    kvs.reset();
    kvs.onWatch = (w) => w.sink.events(header(6), [{ type: 'PUT', kv: kv('w', 6, 6, 1, ''), prevKv: null }]);
    const ac = new AbortController();
    const watch = await openWatch({ create_request: { key: 'dw==', start_revision: 6 } }, ac.signal);
    assert.match(await watch.lines.next(), /"created":true/);
    assert.match(await watch.lines.next(), /"events":\[\{"kv":\{"key":"dw==","create_revision":"6"/);
    ac.abort();
    kvs.onWatch = () => {};
  });

  it('answers a KvError from watch() as an ordinary error', async () => {
    kvs.reset();
    kvs.onWatch = () => {
      throw new KvError(11, 'etcdserver: mvcc: required revision is a future revision');
    };
    const res = await post(served.base, '/v3/watch', '{"create_request":{"key":"dw==","start_revision":99}}');
    assert.equal(res.status, 400);
    assert.equal(res.text, errorJson(11, 'etcdserver: mvcc: required revision is a future revision'));
    kvs.onWatch = () => {};
  });

  it('cancels the service watch when the client disconnects', async () => {
    kvs.reset();
    const ac = new AbortController();
    const watch = await openWatch({ create_request: { key: 'dw==' } }, ac.signal);
    await watch.lines.next();
    const w = kvs.watches[0]!;
    assert.equal(w.cancels, 0);
    ac.abort();
    await waitFor('handle.cancel()', () => w.cancels === 1);
    w.sink.events(header(6), [{ type: 'PUT', kv: kv('w', 6, 6, 1, ''), prevKv: null }]); // late events are dropped quietly
    await sleep(20);
    assert.equal(w.cancels, 1);
  });

  it('sends progress notifications to an idle watch that asked for them', async () => {
    kvs.reset();
    const ac = new AbortController();
    const watch = await openWatch({ create_request: { key: 'dw==', progress_notify: true } }, ac.signal);
    await watch.lines.next();
    assert.equal(await watch.lines.next(), `{"result":{"header":${h(5)}}}`);
    ac.abort();
  });

  it('starts a watch whose client keeps the request body open, and ends it on a further message', async () => {
    kvs.reset();
    const requestBody = new PassThrough();
    const res = await Promise.race([
      request(`${served.base}/v3/watch`, { method: 'POST', body: requestBody, dispatcher: agent }),
      (async () => {
        requestBody.write('{"create_request": {"key": "dw==", "range_end": "eA=="}}\n');
        await sleep(3000);
        throw new Error('no response while the request body is open');
      })(),
    ]);
    const lines = new Lines(res.body);
    assert.match(await lines.next(), /"created":true/);
    const w = kvs.watches[0]!;
    requestBody.write('\n  \n'); // whitespace between messages is fine
    w.sink.events(header(6), [{ type: 'PUT', kv: kv('w', 6, 6, 1, ''), prevKv: null }]);
    assert.match(await lines.next(), /"events"/);
    requestBody.write('{"cancel_request":{"watch_id":"0"}}\n');
    const last = JSON.parse(await lines.next()) as { result: { canceled: boolean; cancel_reason: string } };
    assert.equal(last.result.canceled, true);
    assert.match(last.result.cancel_reason, /carries one create_request; a further message arrived/);
    await lines.end();
    assert.equal(w.cancels, 1);
    requestBody.end();
  });

  it('refuses bad watch requests with 400 before watching', async () => {
    kvs.reset();
    for (const body of ['{"create_request":{"key":"%"}}', '{"cancel_request":{"watch_id":"1"}}', '{}', '{"create_request":{"fragment":true}}']) {
      const res = await post(served.base, '/v3/watch', body);
      assert.equal(res.status, 400, body);
      assert.equal(JSON.parse(res.text).code, 3);
    }
    assert.equal(kvs.watches.length, 0);
  });
});

describe('/v3/watch with a client that stops reading', () => {
  it('cancels the watch once the unsent output passes the limit, and ends the stream', async () => {
    const kvs = new FakeKv();
    const bufferMax = 256 * 1024;
    const served = await serve(kvs, { watchBufferBytesMax: bufferMax });
    try {
      const socket = connect((served.server.address() as AddressInfo).port, '127.0.0.1');
      const body = '{"create_request":{"key":"dw=="}}';
      socket.write(`POST /v3/watch HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: ${body.length}\r\n\r\n${body}`);
      socket.pause(); // read nothing
      await waitFor('the watch', () => kvs.watches.length === 1);
      const w = kvs.watches[0]!;
      const value = 'x'.repeat(64 * 1024);
      let revision = 6;
      let sentBytes = 0;
      while (w.cancels === 0 && sentBytes < 256 * 1024 * 1024) {
        w.sink.events(header(revision), [{ type: 'PUT', kv: kv('w', revision, revision, 1, value), prevKv: null }]);
        revision++;
        sentBytes += value.length;
        await new Promise((r) => setImmediate(r));
      }
      assert.equal(w.cancels, 1, `canceled after ${sentBytes} bytes`);
      const lastRevision = revision - 1;
      // Now read everything: the events written before the cancel, then the canceled line.
      const chunks: Buffer[] = [];
      socket.on('data', (c: Buffer) => chunks.push(c));
      socket.resume();
      await once(socket, 'close');
      const lines = dechunk(Buffer.concat(chunks)).trim().split('\n');
      const last = JSON.parse(lines[lines.length - 1]!) as { result: { canceled: boolean; cancel_reason: string } };
      assert.equal(last.result.canceled, true);
      assert.match(last.result.cancel_reason, new RegExp(`more than ${bufferMax} bytes .* start_revision ${lastRevision + 1}$`));
      assert.equal(lines.length, 1 + (lastRevision - 5) + 1, 'created, every event written, canceled');
    } finally {
      await served.close();
    }
  });
});

// The body of a raw chunked HTTP/1.1 response.
function dechunk(raw: Buffer): string {
  let at = raw.indexOf('\r\n\r\n') + 4;
  const parts: Buffer[] = [];
  for (;;) {
    const eol = raw.indexOf('\r\n', at);
    const size = parseInt(raw.subarray(at, eol).toString(), 16);
    if (!(size > 0)) break;
    parts.push(raw.subarray(eol + 2, eol + 2 + size));
    at = eol + 2 + size + 2;
  }
  return Buffer.concat(parts).toString();
}

// ---------------------------------------------------------------------------------------------
// Fuzz: mutated and random bodies for every route. Valid ones reach the store once and get 200;
// everything else gets a 4xx JSON error and never reaches the store. Nothing gets a 5xx.

function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const SEEDS: Record<string, unknown[]> = {
  '/v3/kv/put': [{ key: 'Zm9v', value: 'YmFy' }, { key: 'Zm9v', value: 'YmF6', prev_kv: true, ignore_value: false, lease: '0' }],
  '/v3/kv/range': [{ key: 'Zm9v' }, { key: 'Zg==', range_end: 'Zw==', count_only: true, limit: '10', sort_order: 'DESCEND', sort_target: 'MOD', revision: 3 }],
  '/v3/kv/deleterange': [{ key: 'Zm9v', prev_kv: true }, { key: 'AA==', range_end: 'AA==' }],
  '/v3/kv/txn': [
    {
      compare: [{ key: 'Zm9v', target: 'VALUE', result: 'EQUAL', value: 'YmF6' }],
      success: [{ request_put: { key: 'Zm9v', value: 'cXV4' } }],
      failure: [{ request_range: { key: 'Zm9v' } }],
    },
    {
      compare: [{ key: 'YQ==', target: 'MOD', result: 'LESS', mod_revision: '5' }],
      success: [{ request_delete_range: { key: 'YQ==' } }, { request_txn: { success: [{ request_put: { key: 'Yg==' } }] } }],
    },
  ],
  '/v3/kv/compaction': [{ revision: '3' }, { revision: 3, physical: true }],
  '/v3/watch': [{ create_request: { key: 'dw==', range_end: 'eA==' } }, { create_request: { key: 'dw==', start_revision: '6', filters: ['NOPUT'], prev_kv: true } }],
};

const ODD_VALUES: unknown[] = [
  null, true, false, 0, -1, 1.5, 2 ** 60, 1e308, '', '9007199254740993', '-3', 'Zm9v', '%%%', 'Zm9', 'AA==', 'Zm9v\n', [], [1, 'x'], {},
  { key: 'Zm9v' }, 'VALUE', 'LEASE', 'DESCEND', 'NOPUT', 4, 99, 'x'.repeat(300), '\u00e9', { request_put: { key: 'Zm9v' } },
];
const FIELD_NAMES = [
  'key', 'value', 'range_end', 'lease', 'prev_kv', 'ignore_value', 'ignore_lease', 'limit', 'revision', 'sort_order', 'sort_target',
  'compare', 'success', 'failure', 'target', 'result', 'request_put', 'request_txn', 'create_request', 'cancel_request', 'filters',
  'fragment', 'physical', 'watch_id', 'bogus', '__proto__', 'constructor', 'rangeEnd',
];

function mutate(value: unknown, random: () => number, depth = 0): unknown {
  const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)]!;
  if (Array.isArray(value)) {
    const copy = value.map((v) => (random() < 0.5 ? mutate(v, random, depth + 1) : v));
    if (random() < 0.2) copy.push(pick(ODD_VALUES));
    if (random() < 0.1) copy.splice(0, 1);
    if (random() < 0.05) for (let i = 0; i < 130; i++) copy.push(copy[0] ?? {});
    return copy;
  }
  if (value !== null && typeof value === 'object') {
    const copy: Record<string, unknown> = { ...(value as Record<string, unknown>) };
    const keys = Object.keys(copy);
    const action = random();
    if (action < 0.3 && keys.length > 0) copy[pick(keys)] = pick(ODD_VALUES);
    else if (action < 0.45 && keys.length > 0) delete copy[pick(keys)];
    else if (action < 0.6) copy[pick(FIELD_NAMES)] = pick(ODD_VALUES);
    else if (keys.length > 0) {
      const k = pick(keys);
      copy[k] = mutate(copy[k], random, depth + 1);
    }
    return copy;
  }
  return random() < 0.7 ? pick(ODD_VALUES) : value;
}

function mutateText(text: string, random: () => number): string {
  const chars = '{}[]":,0123456789-.eE \\tnu=AZaz+/%\u00e9\n';
  let out = text;
  for (let k = 0, edits = 1 + Math.floor(random() * 3); k < edits; k++) {
    const at = Math.floor(random() * (out.length + 1));
    const c = chars[Math.floor(random() * chars.length)]!;
    const kind = Math.floor(random() * 4);
    if (kind === 0) out = out.slice(0, at) + c + out.slice(at);
    else if (kind === 1) out = out.slice(0, at) + out.slice(at + 1);
    else if (kind === 2) out = out.slice(0, at) + c + out.slice(at + 1);
    else out = out.slice(0, at);
  }
  return out;
}

describe('fuzzed bodies', () => {
  const kvs = new FakeKv();
  kvs.onWatch = (w) => w.sink.canceled(header(5), 'fuzz: done', 0); // end each stream at once
  let served: Served;
  before(async () => {
    served = await serve(kvs);
  });
  after(() => served.close());

  const bodiesPerRoute = 3000;
  for (const path of Object.keys(SEEDS)) {
    it(`${path}: ${bodiesPerRoute} bodies, no 5xx, invalid ones never reach the store`, async () => {
      const seed = 0x5eed0000 + path.length * 7919 + path.charCodeAt(path.length - 1);
      const random = prng(seed);
      const counts = { ok: 0, refused: 0 };
      for (let i = 0; i < bodiesPerRoute; i++) {
        const base = SEEDS[path]![i % SEEDS[path]!.length];
        const r = random();
        let body: string;
        if (r < 0.55) body = JSON.stringify(mutate(base, random));
        else if (r < 0.9) body = mutateText(JSON.stringify(base), random);
        else body = Buffer.from(Array.from({ length: Math.floor(random() * 64) }, () => Math.floor(random() * 256))).toString('latin1');
        const before = kvs.writes.length + kvs.ranges.length + kvs.watches.length;
        const res = await post(served.base, path, body);
        const calls = kvs.writes.length + kvs.ranges.length + kvs.watches.length - before;
        const context = `seed ${seed} body #${i} ${JSON.stringify(body)} -> ${res.status} ${res.text.slice(0, 300)}`;
        assert.ok(res.status < 500, context);
        if (res.status === 200) {
          assert.equal(calls, 1, context);
          counts.ok++;
        } else {
          assert.equal(res.status, 400, context);
          assert.equal(calls, 0, context);
          const error = JSON.parse(res.text) as { error: string; message: string; code: number };
          assert.equal(error.code, 3, context);
          assert.ok(error.message.length > 0 && error.error.length > 0, context);
          counts.refused++;
        }
      }
      assert.ok(counts.ok > 50 && counts.refused > 500, `a useful mix: ${JSON.stringify(counts)}`);
    });
  }
});
