// An in-process stand-in for the bramble API (node:http on 127.0.0.1, port 0) that answers like
// the real server's Kubernetes layout: list/get/create/replace/merge-patch/delete with Status
// errors, label and field selectors, the scale subresource. It records every request so tests
// can assert exactly what the CLI sent; tests add routes for logs, exec, watch, metrics.

import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { findResource, groupVersion, resourceForKind, type KObject, type ResourceInfo } from '../../src/model/index.ts';
import { applyMergePatch } from '../../src/model/index.ts';
import { runCli, type CliIo } from '../../src/cli/dispatch.ts';

export interface RecordedRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  contentType: string | undefined;
  authorization: string | undefined;
  body: unknown;
}

export type Route = (request: RecordedRequest, res: ServerResponse) => void | Promise<void>;

interface Parsed {
  info: ResourceInfo;
  namespace: string | undefined;
  name: string | undefined;
  subresource: string | undefined;
}

function parsePath(path: string): Parsed | undefined {
  const parts = path.split('/').filter((p) => p !== '').map(decodeURIComponent);
  let group = '';
  let version: string;
  let rest: string[];
  if (parts[0] === 'api') {
    version = parts[1] ?? '';
    rest = parts.slice(2);
  } else if (parts[0] === 'apis') {
    group = parts[1] ?? '';
    version = parts[2] ?? '';
    rest = parts.slice(3);
  } else {
    return undefined;
  }
  let namespace: string | undefined;
  // /namespaces/{ns}/{resource}... but /namespaces and /namespaces/{name} are the Namespace kind.
  if (rest[0] === 'namespaces' && rest.length >= 3) {
    namespace = rest[1];
    rest = rest.slice(2);
  }
  const info = findResource(group, version, rest[0] ?? '');
  if (info === undefined) return undefined;
  return { info, namespace, name: rest[1], subresource: rest[2] };
}

function status(code: number, reason: string, message: string): Record<string, unknown> {
  return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, code };
}

function fieldValue(object: unknown, path: string): string {
  let current = object;
  for (const key of path.split('.')) current = current !== null && typeof current === 'object' ? (current as Record<string, unknown>)[key] : undefined;
  return current === undefined || current === null ? '' : String(current);
}

/** Equality-based selectors only (`a=b`, `a==b`, `a!=b`): enough to check what the CLI passes. */
function matches(selector: string | undefined, read: (key: string) => string | undefined): boolean {
  if (!selector) return true;
  return selector.split(',').every((term) => {
    const negated = term.includes('!=');
    const [key, value] = negated ? term.split('!=') : term.split(/==?/);
    const actual = read(key!.trim());
    return negated ? actual !== value!.trim() : actual === value!.trim();
  });
}

export class FakeApi {
  readonly requests: RecordedRequest[] = [];
  readonly objects = new Map<string, KObject>();
  private readonly routes: { method: string; path: string; route: Route }[] = [];
  private revision = 100;
  private server!: Server;
  url = '';

  static async start(): Promise<FakeApi> {
    const api = new FakeApi();
    api.server = createServer((req, res) => {
      void api.handle(req, res).catch((error: unknown) => {
        res.statusCode = 500;
        res.end(JSON.stringify(status(500, 'InternalError', String(error))));
      });
    });
    await new Promise<void>((resolve) => api.server.listen(0, '127.0.0.1', resolve));
    api.url = `http://127.0.0.1:${(api.server.address() as AddressInfo).port}`;
    return api;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  /** Answers METHOD PATH (exact path, any query) with `route` instead of the object store. */
  on(method: string, path: string, route: Route): void {
    this.routes.push({ method, path, route });
  }

  /** Stores an object as if created earlier; fills namespace, resourceVersion, uid. */
  seed(...objects: KObject[]): void {
    for (const object of objects) {
      const info = resourceForKind(object.apiVersion, object.kind);
      if (info === undefined) throw new Error(`fake api: no resource for ${object.apiVersion} ${object.kind}`);
      const namespace = info.namespaced ? (object.metadata.namespace ?? 'default') : undefined;
      const stored = structuredClone(object);
      stored.metadata = { ...stored.metadata, ...(namespace ? { namespace } : {}), resourceVersion: String(++this.revision), uid: stored.metadata.uid ?? `uid-${stored.metadata.name}` };
      stored.metadata.creationTimestamp ??= '2024-01-01T00:00:00Z';
      this.objects.set(this.key(info, namespace, object.metadata.name!), stored);
    }
  }

  get(info: ResourceInfo, namespace: string | undefined, name: string): KObject | undefined {
    return this.objects.get(this.key(info, namespace, name));
  }

  /** Requests other than to /version, in order, as `METHOD path?query`. */
  lines(): string[] {
    return this.requests.map((r) => {
      const query = new URLSearchParams(r.query).toString();
      return `${r.method} ${r.path}${query ? `?${query}` : ''}`;
    });
  }

  private key(info: ResourceInfo, namespace: string | undefined, name: string): string {
    return `${info.resource}|${info.namespaced ? (namespace ?? '') : ''}|${name}`;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://x');
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const text = Buffer.concat(chunks).toString('utf8');
    let body: unknown = undefined;
    if (text !== '') {
      try {
        body = JSON.parse(text);
      } catch {
        body = text;
      }
    }
    const request: RecordedRequest = {
      method: req.method ?? 'GET',
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      contentType: req.headers['content-type'],
      authorization: req.headers.authorization,
      body,
    };
    this.requests.push(request);
    const custom = this.routes.find((r) => r.method === request.method && r.path === request.path);
    if (custom !== undefined) {
      await custom.route(request, res);
      return;
    }
    const send = (code: number, value: unknown) => {
      res.writeHead(code, { 'content-type': 'application/json' });
      res.end(JSON.stringify(value));
    };
    const parsed = parsePath(request.path);
    if (parsed === undefined) {
      send(404, status(404, 'NotFound', `the server could not find the requested resource (${request.method} ${request.path})`));
      return;
    }
    const { info, namespace, name, subresource } = parsed;
    const notFound = () => send(404, status(404, 'NotFound', `${info.resource}${info.group ? `.${info.group}` : ''} "${name}" not found`));
    if (name === undefined) {
      if (request.method === 'GET') {
        const items = [...this.objects.values()]
          .filter((o) => resourceForKind(o.apiVersion, o.kind) === info)
          .filter((o) => !info.namespaced || namespace === undefined || o.metadata.namespace === namespace)
          .filter((o) => matches(request.query['labelSelector'], (k) => o.metadata.labels?.[k]))
          .filter((o) => matches(request.query['fieldSelector'], (k) => fieldValue(o, k)));
        send(200, { kind: info.listKind, apiVersion: groupVersion(info), metadata: { resourceVersion: String(this.revision) }, items });
        return;
      }
      if (request.method === 'POST') {
        const object = body as KObject;
        const objectName = object.metadata?.name ?? `${object.metadata?.generateName ?? 'x-'}abcde`;
        const key = this.key(info, namespace, objectName);
        if (this.objects.has(key)) {
          send(409, status(409, 'AlreadyExists', `${info.resource}${info.group ? `.${info.group}` : ''} "${objectName}" already exists`));
          return;
        }
        const stored = structuredClone(object);
        stored.metadata = { ...stored.metadata, name: objectName, ...(info.namespaced ? { namespace } : {}), resourceVersion: String(++this.revision), uid: `uid-${objectName}`, creationTimestamp: '2024-01-01T00:00:00Z' };
        this.objects.set(key, stored);
        send(201, stored);
        return;
      }
    }
    const key = this.key(info, namespace, name!);
    const current = this.objects.get(key);
    if (subresource === 'scale') {
      if (current === undefined) return notFound();
      const spec = (current['spec'] ?? {}) as Record<string, unknown>;
      const scale = () => ({
        apiVersion: 'autoscaling/v1',
        kind: 'Scale',
        metadata: { name, namespace, resourceVersion: current.metadata.resourceVersion },
        spec: { replicas: spec['replicas'] ?? 1 },
        status: { replicas: spec['replicas'] ?? 1, selector: 'app=x' },
      });
      if (request.method === 'GET') return send(200, scale());
      const wanted = request.method === 'PATCH' ? (applyMergePatch(scale(), body) as ReturnType<typeof scale>) : (body as ReturnType<typeof scale>);
      if (request.method === 'PUT' && wanted.metadata.resourceVersion !== current.metadata.resourceVersion) {
        return send(409, status(409, 'Conflict', 'the object has been modified; please apply your changes to the latest version and try again'));
      }
      spec['replicas'] = wanted.spec.replicas;
      current['spec'] = spec;
      current.metadata.resourceVersion = String(++this.revision);
      return send(200, scale());
    }
    switch (request.method) {
      case 'GET':
        return current === undefined ? notFound() : send(200, current);
      case 'PUT': {
        if (current === undefined) return notFound();
        const object = body as KObject;
        if (object.metadata.resourceVersion !== current.metadata.resourceVersion) {
          return send(409, status(409, 'Conflict', 'the object has been modified; please apply your changes to the latest version and try again'));
        }
        object.metadata.resourceVersion = String(++this.revision);
        this.objects.set(key, object);
        return send(200, object);
      }
      case 'PATCH': {
        if (current === undefined) return notFound();
        if (request.contentType !== 'application/merge-patch+json') return send(415, status(415, 'UnsupportedMediaType', `unsupported patch type ${request.contentType}`));
        const patched = applyMergePatch(current, body) as KObject;
        patched.metadata.resourceVersion = String(++this.revision);
        this.objects.set(key, patched);
        return send(200, patched);
      }
      case 'DELETE':
        if (current === undefined) return notFound();
        this.objects.delete(key);
        return send(200, current);
      default:
        return send(405, status(405, 'MethodNotAllowed', `${request.method} is not allowed`));
    }
  }
}

export interface Run {
  code: number;
  out: string;
  err: string;
}

export interface RunOptions {
  stdin?: string;
  signal?: AbortSignal;
  /** Called after every write to stdout, with everything written so far (to abort a watch). */
  onStdout?: (all: string) => void;
  env?: Record<string, string>;
  cwd?: string;
  now?: number;
}

/** The clock every command test runs at, so ages are exact. */
export const NOW = Date.parse('2024-01-01T01:00:00Z');

export async function run(api: FakeApi | undefined, argv: string[], options: RunOptions = {}): Promise<Run> {
  let out = '';
  let err = '';
  const io: CliIo = {
    stdout: {
      write: (text: string) => {
        out += text;
        options.onStdout?.(out);
      },
    },
    stderr: { write: (text: string) => (err += text) },
    env: { ...(api ? { BRAMBLE_SERVER: api.url } : {}), ...options.env },
    cwd: options.cwd ?? '/',
    hostname: 'edge-1',
    version: '9.8.7',
    runtime: { node: '20.0.0', platform: 'linux', arch: 'x64' },
    startServer: async () => 0,
    ...(options.stdin !== undefined ? { stdin: async () => options.stdin! } : {}),
    ...(options.signal ? { signal: options.signal } : {}),
    now: () => options.now ?? NOW,
  };
  const code = await runCli(argv, io);
  return { code, out, err };
}
