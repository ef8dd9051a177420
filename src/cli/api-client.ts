// The CLI's connection to a bramble API server: --server (default $BRAMBLE_SERVER or
// http://127.0.0.1:7080) and --token ($BRAMBLE_TOKEN). A connection failure says which server
// was tried and how to point elsewhere.
import { Pool } from '../host/http-pool.ts';
import { BrambleError } from '../errors.ts';

export const DEFAULT_SERVER = 'http://127.0.0.1:7080';

export class ApiError extends BrambleError {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super('E_API', message);
  }
}

export interface ApiTarget {
  server: string;
  token: string | undefined;
}

export function apiTarget(flags: { server?: string | undefined; token?: string | undefined }, env: Readonly<Record<string, string | undefined>>): ApiTarget {
  return { server: flags.server ?? env['BRAMBLE_SERVER'] ?? DEFAULT_SERVER, token: flags.token ?? env['BRAMBLE_TOKEN'] };
}

export async function apiCall<T>(target: ApiTarget, method: 'GET' | 'POST' | 'DELETE', path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (target.token) headers.authorization = `Bearer ${target.token}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  let res;
  let text: string;
  let url: URL;
  try {
    url = new URL(path, target.server);
  } catch {
    throw new ApiError(0, `--server ${target.server}: not a URL; give one like http://127.0.0.1:7080`);
  }
  const pool = new Pool(url.origin, { connections: 1 });
  try {
    res = await pool.request({ method, path: url.pathname + url.search, headers, ...(body !== undefined ? { body: JSON.stringify(body) } : {}), headersTimeout: 30_000, bodyTimeout: 30_000 });
    text = await res.body.text();
  } catch (err) {
    throw new ApiError(0, `cannot reach the bramble server at ${target.server} (${(err as Error).message}); is it running? Point elsewhere with --server URL or BRAMBLE_SERVER`);
  } finally {
    await pool.close();
  }
  let parsed: unknown = undefined;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    // not JSON
  }
  if (res.statusCode >= 400) {
    const p = parsed as { message?: string; error?: string } | undefined;
    throw new ApiError(res.statusCode, `${target.server}: ${p?.message ?? p?.error ?? text.slice(0, 300)} (HTTP ${res.statusCode})`);
  }
  return parsed as T;
}
