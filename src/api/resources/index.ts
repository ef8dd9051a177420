// The Kubernetes-shaped resource API, assembled from its parts.
import type { Logger } from '../../log/index.ts';
import type { KvService } from '../../store/kv/service.ts';
import { Deleter } from './deletion.ts';
import type { Usage } from '../../host/usage.ts';
import { NodeMetricsRoutes } from './metrics.ts';
import { ObjectStore } from './object-store.ts';
import type { ObjectValidator } from './objects.ts';
import { NamespaceCache, ObjectApi } from './objects.ts';
import type { LocalPodRuntime } from './pod-access.ts';
import { RoutedPodAccess } from './pod-access.ts';
import { ResourceRoutes } from './routes.ts';
import { WatchCache } from './watch-cache.ts';
import { ServiceAllocator } from './services/index.ts';

export { Deleter } from './deletion.ts';
export { ObjectStore, objectKey } from './object-store.ts';
export { ObjectApi, PROTECTED_NAMESPACES } from './objects.ts';
export type { ObjectValidator } from './objects.ts';
export type { ExecResult, LocalPodRuntime, LogOptions } from './pod-access.ts';
export { ResourceRoutes } from './routes.ts';
export type { Access } from './routes.ts';
export { Status, StatusError } from './status.ts';
export { UndecodableChange, WatchCache } from './watch-cache.ts';
export type { ChangeSink, ObjectChange, Subscription } from './watch-cache.ts';

export interface ResourceApiOptions {
  kv: KvService;
  validator: ObjectValidator;
  logger: Logger;
  selfNode: string;
  apiUrlOf: (node: string) => string | undefined;
  adminToken: string;
  runtime: () => LocalPodRuntime | undefined;
  serverAddress: string;
  platform: { platform: string; arch: string; node: string };
  usage: () => Usage;
  members: () => { name: string; apiURL: string }[];
}

export interface ResourceApi {
  routes: ResourceRoutes;
  api: ObjectApi;
  /** Cluster IPs and node ports, given out with the Services (the leader repairs leaks). */
  services: ServiceAllocator;
  deleter: Deleter;
  cache: WatchCache;
  start(): void;
  stop(): Promise<void>;
}

export function createResourceApi(o: ResourceApiOptions): ResourceApi {
  const store = new ObjectStore(o.kv);
  const namespaces = new NamespaceCache();
  const services = new ServiceAllocator({ store, logger: o.logger });
  const api = new ObjectApi({ store, validator: o.validator, namespaces, services });
  const deleter = new Deleter({ api, logger: o.logger });
  const cache = new WatchCache({ kv: o.kv, logger: o.logger });
  const pods = new RoutedPodAccess({ selfNode: o.selfNode, apiUrlOf: o.apiUrlOf, token: o.adminToken, runtime: o.runtime, logger: o.logger });
  const metrics = new NodeMetricsRoutes({ selfNode: o.selfNode, usage: o.usage, members: o.members, token: o.adminToken });
  const routes = new ResourceRoutes({ api, deleter, cache, pods, metrics, logger: o.logger, runtime: o.platform, serverAddress: o.serverAddress });
  let stopped = false;
  return {
    routes,
    api,
    services,
    deleter,
    cache,
    start: () => {
      cache.start();
      // Namespace changes keep the cache current; a watch that ends (the store jumped to a
      // snapshot) forgets everything, and the next create reads again.
      const follow = (): void => {
        if (stopped) return;
        cache.subscribe('/registry/namespaces/', cache.latestRevision, {
          changes: (changes) => {
            for (const c of changes) {
              const name = c.key.slice('/registry/namespaces/'.length);
              if (c.deleted) namespaces.delete(name);
              else {
                try {
                  namespaces.set(c.object);
                } catch {
                  namespaces.delete(name);
                }
              }
            }
          },
          ended: () => {
            namespaces.clear();
            setImmediate(follow);
          },
        });
      };
      follow();
    },
    stop: async () => {
      stopped = true;
      cache.stop();
      await pods.close();
      await metrics.close();
    },
  };
}
