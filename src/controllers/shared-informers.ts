// One informer per resource for everything on this member that reads objects continuously (the
// scheduler and controllers on the leader; the DNS server and the balancer on every gateway):
// each resource is listed and watched once, not once per reader. Copies come from this member's
// replica (serializable), so a gateway cut off from the leader keeps serving what it knows;
// leader-only readers relist linearizably when they start leading.
import type { ObjectStore, WatchCache } from '../api/resources/index.ts';
import type { Logger } from '../log/index.ts';
import { findResource } from '../model/index.ts';
import { Informer } from './informer.ts';

const KINDS = {
  pods: ['', 'v1', 'pods'],
  nodes: ['', 'v1', 'nodes'],
  services: ['', 'v1', 'services'],
  endpoints: ['', 'v1', 'endpoints'],
  replicasets: ['apps', 'v1', 'replicasets'],
  deployments: ['apps', 'v1', 'deployments'],
  daemonsets: ['apps', 'v1', 'daemonsets'],
} as const;

export type InformerName = keyof typeof KINDS;

/** Readers add listeners with `informers.pods.addListener(...)`. */
export interface SharedInformers {
  readonly informers: Record<InformerName, Informer>;
  start(): void;
  whenSynced(): Promise<void>;
  stop(): void;
}

export function createSharedInformers(o: { store: ObjectStore; cache: WatchCache; logger: Logger }): SharedInformers {
  const informers = {} as Record<InformerName, Informer>;
  for (const [name, [group, version, resource]] of Object.entries(KINDS) as [InformerName, readonly [string, string, string]][]) {
    informers[name] = new Informer({ info: findResource(group, version, resource)!, store: o.store, cache: o.cache, logger: o.logger, serializable: true });
  }
  return {
    informers,
    start() {
      for (const i of Object.values(informers)) i.start();
    },
    async whenSynced() {
      await Promise.all(Object.values(informers).map((i) => i.whenSynced()));
    },
    stop() {
      for (const i of Object.values(informers)) i.stop();
    },
  };
}
