// A resource API server for tests: one in-process member with a real SQLite store, the real
// object model and the real HTTP handler on 127.0.0.1, plus a small client.
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { request } from 'undici';
import { Router } from '../../src/api/http/index.ts';
import { createKvRoutes } from '../../src/api/kv/index.ts';
import { createResourceApi } from '../../src/api/resources/index.ts';
import type { LocalPodRuntime, ResourceApi } from '../../src/api/resources/index.ts';
import { createApiHandler } from '../../src/api/server.ts';
import { createTokenRoutes } from '../../src/api/token-routes.ts';
import { TokenRegistry } from '../../src/api/tokens.ts';
import { startHousekeeping } from '../../src/controllers/housekeeping.ts';
import { carryOverAllocated, validateObject, validateUpdate } from '../../src/model/index.ts';
import type { Store } from '../../src/store/store.ts';
import { inProcessCluster, quietLogger, until } from '../store/store-helpers.ts';

export interface Answer {
  status: number;
  body: any; // eslint-disable-line @typescript-eslint/no-explicit-any
  text: string;
  headers: Record<string, string | string[] | undefined>;
}

export interface TestApi {
  url: string;
  store: Store;
  resources: ResourceApi;
  call(method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<Answer>;
  close(): Promise<void>;
}

export interface TestApiOptions {
  selfNode?: string;
  apiUrlOf?: (node: string) => string | undefined;
  runtime?: LocalPodRuntime;
  adminTokens?: string[];
  /** Pretend every client connects from this address (to test the rules for remote callers). */
  remoteAddress?: string;
}

export async function startTestApi(options: TestApiOptions = {}): Promise<TestApi> {
  const cluster = inProcessCluster();
  const store = cluster.add('m1', true);
  await until('a leader', () => store.driver.leader === 'm1', 10_000);
  const resources = createResourceApi({
    kv: store.service,
    validator: { validate: validateObject, validateUpdate, carryOver: carryOverAllocated },
    logger: quietLogger,
    selfNode: options.selfNode ?? 'm1',
    apiUrlOf: options.apiUrlOf ?? (() => undefined),
    adminToken: 'admin-token',
    runtime: () => options.runtime,
    serverAddress: '127.0.0.1:0',
    platform: { platform: 'linux', arch: 'x64', node: '20' },
    usage: () => ({ cpuCores: 0.25, memoryBytes: 512 * 1024 * 1024, windowSeconds: 10, timestamp: new Date('2026-01-01T00:00:00Z') }),
    members: () => [{ name: options.selfNode ?? 'm1', apiURL: 'http://127.0.0.1:1' }],
  });
  resources.start();
  const registry = new TokenRegistry(store.service);
  const router = new Router({ logger: quietLogger });
  router.addRoutes(createKvRoutes(store.service, { logger: quietLogger }));
  router.addRoutes(createTokenRoutes(registry, () => '2026-01-01T00:00:00Z'));
  const housekeeping = startHousekeeping({ api: resources.api, deleter: resources.deleter, isLeader: () => true, logger: quietLogger });
  await housekeeping.runOnce();
  housekeeping.stop();
  const handler = createApiHandler({ rule: { adminTokens: options.adminTokens ?? ['admin-token'], registry }, resources: resources.routes, router, logger: quietLogger });
  const server: Server = createServer((req, res) => {
    if (options.remoteAddress) Object.defineProperty(req.socket, 'remoteAddress', { value: options.remoteAddress, configurable: true });
    handler(req, res);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    store,
    resources,
    async call(method, path, body, headers = {}) {
      const res = await request(`${url}${path}`, {
        method: method as 'GET',
        headers: { ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...headers },
        ...(body !== undefined ? { body: typeof body === 'string' ? body : JSON.stringify(body) } : {}),
      });
      const text = await res.body.text();
      let parsed: unknown;
      try {
        parsed = text ? JSON.parse(text) : undefined;
      } catch {
        parsed = undefined;
      }
      return { status: res.statusCode, body: parsed, text, headers: res.headers };
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
      await resources.stop();
      cluster.close();
    },
  };
}

export function configMap(name: string, data: Record<string, string> = { a: '1' }, extra: Record<string, unknown> = {}) {
  return { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, ...extra }, data };
}

export function deployment(name: string, replicas = 2) {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, labels: { app: name } },
    spec: {
      replicas,
      selector: { matchLabels: { app: name } },
      template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'web', image: 'nginx:1.14.2', ports: [{ containerPort: 80 }] }] } },
    },
  };
}

export function pod(name: string, nodeName?: string) {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, labels: { app: 'p' } },
    spec: { ...(nodeName ? { nodeName } : {}), containers: [{ name: 'c', image: 'busybox' }] },
  };
}

/** Reads a watch stream's lines until `count` events arrived or `ms` passed. */
export async function watchEvents(url: string, count: number, ms = 5000, onOpen?: () => void): Promise<{ status: number; events: any[] }> {
  // eslint-disable-line @typescript-eslint/no-explicit-any
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), ms);
  const res = await request(url, { signal: controller.signal });
  const events: any[] = []; // eslint-disable-line @typescript-eslint/no-explicit-any
  if (res.statusCode !== 200) {
    clearTimeout(timer);
    return { status: res.statusCode, events: [JSON.parse(await res.body.text())] };
  }
  onOpen?.();
  let buffer = '';
  try {
    for await (const chunk of res.body) {
      buffer += chunk.toString();
      let nl;
      while ((nl = buffer.indexOf('\n')) >= 0) {
        events.push(JSON.parse(buffer.slice(0, nl)));
        buffer = buffer.slice(nl + 1);
      }
      if (events.length >= count) break;
    }
  } catch {
    // aborted at the deadline
  } finally {
    clearTimeout(timer);
    controller.abort();
  }
  return { status: 200, events };
}
