// The CLI's connection to a bramble API server: --server (default $BRAMBLE_SERVER or
// http://127.0.0.1:7080) and --token ($BRAMBLE_TOKEN). One undici Pool per invocation, so the
// several requests of `apply -f dir/` share keep-alive connections. Kubernetes Status errors
// become kubectl's one-line `Error from server (NotFound): pods "x" not found`; a connection
// failure says which server was tried and how to point elsewhere.
import { Readable } from 'node:stream';
import type { Pool } from '../host/http-pool.ts';
import { newPool } from '../host/lazy-pool.ts';
import { BrambleError, UsageError } from '../errors.ts';

export const DEFAULT_SERVER = 'http://127.0.0.1:7080';
export const MERGE_PATCH = 'application/merge-patch+json';

/** A Kubernetes Status object, as the API answers errors. */
export interface Status {
  kind?: string;
  status?: string;
  message?: string;
  reason?: string;
  code?: number;
  details?: { name?: string; kind?: string; group?: string; causes?: { reason?: string; field?: string; message?: string }[] };
}

export class ApiError extends BrambleError {
  constructor(
    /** HTTP status; 0 when the server could not be reached at all. */
    readonly status: number,
    message: string,
    /** The Status reason ('NotFound', 'AlreadyExists', 'Conflict'...), when the server gave one. */
    readonly reason?: string,
    /** The server's own message, without the "Error from server" framing. */
    readonly serverMessage?: string,
  ) {
    super('E_API', message);
  }

  /** kubectl's framing around the server's message: `Error from server (NotFound): ...`. */
  framed(context: string): string {
    if (this.status === 0 || this.serverMessage === undefined) return this.message;
    return `Error from server${this.reason ? ` (${this.reason})` : ''}: ${context}${this.serverMessage}`;
  }
}

export function isNotFound(error: unknown): error is ApiError {
  return error instanceof ApiError && error.status === 404;
}

export interface ApiTarget {
  server: string;
  token: string | undefined;
}

export function apiTarget(flags: { server?: string | undefined; token?: string | undefined }, env: Readonly<Record<string, string | undefined>>): ApiTarget {
  return { server: flags.server ?? env['BRAMBLE_SERVER'] ?? DEFAULT_SERVER, token: flags.token ?? env['BRAMBLE_TOKEN'] };
}

export type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
export type Query = Readonly<Record<string, string | number | boolean | undefined>>;

export interface RequestOptions {
  query?: Query;
  /** JSON-encoded unless it is a string. */
  body?: unknown;
  /** Defaults to application/json when there is a body. */
  contentType?: string;
  signal?: AbortSignal;
  /** How long the server may take to answer (default 30 s): longer for a command run in a pod. */
  timeoutMs?: number;
}

const TIMEOUT_MS = 30_000;

function withQuery(path: string, query: Query | undefined): string {
  if (query === undefined) return path;
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) if (value !== undefined) params.set(key, String(value));
  const text = params.toString();
  return text === '' ? path : `${path}${path.includes('?') ? '&' : '?'}${text}`;
}

/** Turns an error answer into one line: the Status message when there is one. */
export function errorFromResponse(statusCode: number, text: string): ApiError {
  let parsed: (Status & { error?: string }) | undefined;
  try {
    parsed = text ? (JSON.parse(text) as Status & { error?: string }) : undefined;
  } catch {
    parsed = undefined;
  }
  const isObject = parsed !== null && typeof parsed === 'object';
  const reason = isObject && typeof parsed!.reason === 'string' && parsed!.reason !== '' ? parsed!.reason : undefined;
  const raw = isObject ? (parsed!.message ?? parsed!.error) : undefined;
  // Only the first line: a stack trace or an HTML page must not flood the terminal.
  const serverMessage = (typeof raw === 'string' && raw !== '' ? raw : `${text.trim().split('\n')[0]!.slice(0, 300) || 'no message'} (HTTP ${statusCode})`).split('\n')[0]!;
  return new ApiError(statusCode, `Error from server${reason ? ` (${reason})` : ''}: ${serverMessage}`, reason, serverMessage);
}

function isAbort(error: unknown, signal: AbortSignal | undefined): boolean {
  return signal?.aborted === true || (error as { name?: string } | null)?.name === 'AbortError';
}

export class ApiClient {
  readonly server: string;
  private readonly origin: string;
  private readonly token: string | undefined;
  private pool: Pool | undefined;

  constructor(target: ApiTarget) {
    let url: URL;
    try {
      url = new URL(target.server);
    } catch {
      throw new UsageError(`bramble: --server ${target.server}: not a URL; give one like ${DEFAULT_SERVER}`);
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      throw new UsageError(`bramble: --server ${target.server}: expected an http:// or https:// URL`);
    }
    this.server = target.server;
    this.origin = url.origin;
    this.token = target.token;
  }

  // undici is loaded on the first request, so the daemon (same bundle) never pays for it.
  private async connection(): Promise<Pool> {
    this.pool ??= await newPool(this.origin);
    return this.pool;
  }

  private unreachable(error: unknown): ApiError {
    const cause = error as { message?: string; code?: string; cause?: { message?: string } };
    const detail = cause.cause?.message ?? cause.message ?? cause.code ?? String(error);
    return new ApiError(0, `cannot reach the bramble server at ${this.server} (${detail}); is it running? Point elsewhere with --server URL or BRAMBLE_SERVER`);
  }

  private headers(options: RequestOptions, accept: string): Record<string, string> {
    const headers: Record<string, string> = { accept };
    if (this.token) headers.authorization = `Bearer ${this.token}`;
    if (options.body !== undefined) headers['content-type'] = options.contentType ?? 'application/json';
    return headers;
  }

  private async send(method: Method, path: string, options: RequestOptions, accept: string, streaming: boolean) {
    // A stream (an image archive) goes as it is; anything else but a string is JSON.
    const body = options.body === undefined ? undefined : typeof options.body === 'string' || options.body instanceof Readable ? options.body : JSON.stringify(options.body);
    try {
      return await (await this.connection()).request({
        method,
        path: withQuery(path, options.query),
        headers: this.headers(options, accept),
        ...(body !== undefined ? { body } : {}),
        ...(options.signal ? { signal: options.signal } : {}),
        headersTimeout: options.timeoutMs ?? TIMEOUT_MS,
        // A watch or a followed log may be quiet for hours; that is not a failure.
        bodyTimeout: streaming ? 0 : (options.timeoutMs ?? TIMEOUT_MS),
      });
    } catch (error) {
      if (isAbort(error, options.signal)) throw error;
      throw this.unreachable(error);
    }
  }

  /** One request; the JSON answer, or an ApiError carrying the server's Status. */
  async request<T>(method: Method, path: string, options: RequestOptions = {}): Promise<T> {
    const res = await this.send(method, path, options, 'application/json', false);
    let text: string;
    try {
      text = await res.body.text();
    } catch (error) {
      if (isAbort(error, options.signal)) throw error;
      throw this.unreachable(error);
    }
    if (res.statusCode >= 400) throw errorFromResponse(res.statusCode, text);
    if (text === '') return undefined as T;
    try {
      return JSON.parse(text) as T;
    } catch {
      throw new ApiError(res.statusCode, `${this.server}${path}: the answer is not JSON: ${text.slice(0, 200)}`);
    }
  }

  get<T>(path: string, query?: Query): Promise<T> {
    return this.request<T>('GET', path, query ? { query } : {});
  }

  post<T>(path: string, body: unknown, query?: Query): Promise<T> {
    return this.request<T>('POST', path, { body, ...(query ? { query } : {}) });
  }

  put<T>(path: string, body: unknown): Promise<T> {
    return this.request<T>('PUT', path, { body });
  }

  /** RFC 7386 JSON merge patch unless told otherwise. */
  patch<T>(path: string, body: unknown, contentType: string = MERGE_PATCH): Promise<T> {
    return this.request<T>('PATCH', path, { body, contentType });
  }

  delete<T>(path: string, query?: Query): Promise<T> {
    return this.request<T>('DELETE', path, query ? { query } : {});
  }

  /**
   * A streamed answer (logs), chunk by chunk as text. Ends quietly when `signal` aborts; an
   * error answer throws before the first chunk.
   */
  async *chunks(path: string, query: Query | undefined, signal?: AbortSignal, method: Method = 'GET', upload?: { body: Readable; contentType: string }): AsyncGenerator<string> {
    let res;
    try {
      res = await this.send(method, path, { ...(query ? { query } : {}), ...(signal ? { signal } : {}), ...(upload ? { body: upload.body, contentType: upload.contentType } : {}) }, '*/*', true);
    } catch (error) {
      if (isAbort(error, signal)) return;
      throw error;
    }
    if (res.statusCode >= 400) throw errorFromResponse(res.statusCode, await res.body.text());
    const decoder = new TextDecoder();
    try {
      for await (const chunk of res.body) {
        const text = decoder.decode(chunk as Uint8Array, { stream: true });
        if (text !== '') yield text;
      }
      const rest = decoder.decode();
      if (rest !== '') yield rest;
    } catch (error) {
      if (isAbort(error, signal)) return;
      throw this.unreachable(error);
    } finally {
      // The consumer may stop early (break): release the connection.
      if (!res.body.destroyed) res.body.destroy();
    }
  }

  /** A streamed answer split into lines (a watch: one JSON event per line). */
  async *lines(path: string, query: Query | undefined, signal?: AbortSignal, method: Method = 'GET', upload?: { body: Readable; contentType: string }): AsyncGenerator<string> {
    let pending = '';
    for await (const text of this.chunks(path, query, signal, method, upload)) {
      pending += text;
      let newline: number;
      while ((newline = pending.indexOf('\n')) !== -1) {
        const line = pending.slice(0, newline).replace(/\r$/, '');
        pending = pending.slice(newline + 1);
        if (line !== '') yield line;
      }
    }
    if (pending.trim() !== '') yield pending;
  }

  async close(): Promise<void> {
    const pool = this.pool;
    this.pool = undefined;
    // destroy, not close: an abandoned stream must not keep the process waiting.
    if (pool) await pool.destroy();
  }
}

/** Runs `fn` with a client that is closed afterwards, whatever happens. */
export async function withClient<T>(target: ApiTarget, fn: (client: ApiClient) => Promise<T>): Promise<T> {
  const client = new ApiClient(target);
  try {
    return await fn(client);
  } finally {
    await client.close();
  }
}

/** One request on a client of its own (the cluster commands make one request each). */
export async function apiCall<T>(target: ApiTarget, method: 'GET' | 'POST' | 'DELETE', path: string, body?: unknown): Promise<T> {
  return withClient(target, (client) => client.request<T>(method, path, body === undefined ? {} : { body }));
}
