// DnsData over the daemon's shared Informers (src/controllers/shared-informers.ts): the DNS server
// reads this gateway's own replica, so it keeps answering while the gateway is cut off from the
// leader. Any change to the three resources marks the zone for a rebuild on the next query.
import type { Informer } from '../controllers/informer.ts';
import type { KObject } from '../model/index.ts';
import type { DnsData } from './data.ts';

export class InformerDnsData implements DnsData {
  readonly #informers: { services: Informer; endpoints: Informer; pods: Informer };
  readonly #listeners = new Set<() => void>();
  readonly #removals: (() => void)[];

  constructor(informers: { services: Informer; endpoints: Informer; pods: Informer }) {
    this.#informers = informers;
    const changed = (): void => {
      for (const listener of this.#listeners) listener();
    };
    this.#removals = [informers.services, informers.endpoints, informers.pods].map((informer) => informer.addListener(changed));
  }

  services(): Iterable<KObject> {
    return this.#informers.services.list();
  }

  endpoints(): Iterable<KObject> {
    return this.#informers.endpoints.list();
  }

  pods(): Iterable<KObject> {
    return this.#informers.pods.list();
  }

  onChange(listener: () => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Stops listening to the Informers (they keep running: they are shared). */
  close(): void {
    for (const remove of this.#removals) remove();
    this.#listeners.clear();
  }
}
