// What the DNS server reads about the cluster: this gateway's replica of Services, Endpoints and
// Pods. The server is written against this small interface only, so its tests use plain arrays;
// informer-data.ts backs it with the Informers the daemon already keeps.
import type { KObject } from '../model/index.ts';

export interface DnsData {
  /** Every Service (all namespaces). The objects are shared: never modify them. */
  services(): Iterable<KObject>;
  /** Every Endpoints object (all namespaces). */
  endpoints(): Iterable<KObject>;
  /** Every Pod (all namespaces). */
  pods(): Iterable<KObject>;
  /** Calls `listener` after any of the three changed; returns the unsubscribe function. The
   *  server rebuilds its zone lazily on the next query, so a burst of changes costs one rebuild. */
  onChange(listener: () => void): () => void;
}

/** A DnsData over fixed arrays, for tests and benchmarks; `set` replaces them and tells listeners. */
export class StaticDnsData implements DnsData {
  #services: KObject[];
  #endpoints: KObject[];
  #pods: KObject[];
  readonly #listeners = new Set<() => void>();

  constructor(objects: { services?: KObject[]; endpoints?: KObject[]; pods?: KObject[] } = {}) {
    this.#services = objects.services ?? [];
    this.#endpoints = objects.endpoints ?? [];
    this.#pods = objects.pods ?? [];
  }

  services(): Iterable<KObject> {
    return this.#services;
  }

  endpoints(): Iterable<KObject> {
    return this.#endpoints;
  }

  pods(): Iterable<KObject> {
    return this.#pods;
  }

  onChange(listener: () => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  set(objects: { services?: KObject[]; endpoints?: KObject[]; pods?: KObject[] }): void {
    if (objects.services) this.#services = objects.services;
    if (objects.endpoints) this.#endpoints = objects.endpoints;
    if (objects.pods) this.#pods = objects.pods;
    for (const listener of this.#listeners) listener();
  }
}
