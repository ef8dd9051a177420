// The balancer's data from the gateway's shared Services and Endpoints informers, over its own
// replica: lists are serializable reads, so a gateway cut off from the leader still has, and
// keeps, the last Services and endpoints it saw.
import type { Informer } from '../controllers/informer.ts';
import type { ProxyData } from './proxy.ts';

export interface InformerProxyData extends ProxyData {
  /** Resolves once both informers have read their first list. */
  whenSynced(): Promise<void>;
  /** Stops telling this adapter's listeners (the informers are the caller's). */
  stop(): void;
}

/** Answers the balancer's questions from the two informers and tells it of their changes. */
export function informerProxyData(informers: { services: Informer; endpoints: Informer }): InformerProxyData {
  const listeners = new Set<() => void>();
  const notify = (): void => {
    for (const listener of listeners) listener();
  };
  const removals = [informers.services.addListener(notify), informers.endpoints.addListener(notify)];
  return {
    services: () => informers.services.list(),
    endpoints: (namespace, name) => informers.endpoints.get(namespace, name),
    onChange(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    whenSynced: async () => {
      await Promise.all([informers.services.whenSynced(), informers.endpoints.whenSynced()]);
    },
    stop() {
      for (const remove of removals) remove();
      listeners.clear();
    },
  };
}
