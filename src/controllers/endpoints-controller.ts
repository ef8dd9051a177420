// The Endpoints controller: for each Service with a selector, an Endpoints object of the same
// name listing its pods' addresses (endpoints-content.ts). It reacts to pod changes (a readiness
// change reaches the Endpoints within one reconcile, not a poll), writes only when the content
// changed (an SD card counts writes), deletes the Endpoints of a deleted Service (or one turned
// ExternalName, which gets none), and leaves alone the Endpoints of a Service without a selector
// (those are the user's).
import type { Deleter, ObjectApi } from '../api/resources/index.ts';
import { StatusError } from '../api/resources/index.ts';
import type { Logger } from '../log/index.ts';
import type { KObject } from '../model/index.ts';
import { findResource, jsonEqual } from '../model/index.ts';
import type { Reconciler, ReconcileResult } from './controller-runner.ts';
import { endpointSubsets } from './endpoints-content.ts';
import type { Informer, InformerEvent } from './informer.ts';
import { isJson, keyOf, specOf, splitKey } from './workload-objects.ts';

export const endpointsInfo = findResource('', 'v1', 'endpoints')!;

/** Set on the Endpoints this controller writes (as Kubernetes does); only those are removed when their Service is gone. */
export const TRIGGER_TIME_ANNOTATION = 'endpoints.kubernetes.io/last-change-trigger-time';
const HEADLESS_LABEL = 'service.kubernetes.io/headless';

export interface EndpointsControllerOptions {
  api: ObjectApi;
  deleter: Deleter;
  pods: Informer;
  services: Informer;
  endpoints: Informer;
  logger: Logger;
  now?: () => number;
}

function selectorOfService(service: KObject): Record<string, string> | undefined {
  // An ExternalName Service is a DNS alias: as in Kubernetes, it gets no Endpoints, selector or not.
  if (specOf(service)['type'] === 'ExternalName') return undefined;
  const selector = specOf(service)['selector'];
  if (!isJson(selector) || Object.keys(selector).length === 0) return undefined;
  return selector as Record<string, string>;
}

function matches(selector: Record<string, string>, labels: Record<string, string> | undefined): boolean {
  return Object.entries(selector).every(([k, v]) => labels?.[k] === v);
}

export class EndpointsController implements Reconciler {
  readonly name = 'endpoints';
  readonly watches = ['services', 'pods', 'endpoints'] as const;
  readonly #o: EndpointsControllerOptions;
  /** For each pod, the Services whose Endpoints it was last put in: a pod whose labels changed
   *  must leave them, and the informer only shows its new labels. */
  readonly #servicesOfPod = new Map<string, Set<string>>();
  /** The same, the other way: the pods each Service selected at its last reconcile. */
  readonly #podsOfService = new Map<string, Set<string>>();

  constructor(options: EndpointsControllerOptions) {
    this.#o = options;
  }

  keysFor(resource: string, object: KObject, event: InformerEvent): string[] {
    const ns = object.metadata.namespace;
    if (resource === 'services' || resource === 'endpoints') return [keyOf(ns, object.metadata.name)];
    const podKey = keyOf(ns, object.metadata.name);
    const keys = new Set(this.#servicesOfPod.get(podKey) ?? []);
    if (event === 'deleted') this.#servicesOfPod.delete(podKey);
    else {
      for (const service of this.#o.services.list(ns)) {
        const selector = selectorOfService(service);
        if (selector && matches(selector, object.metadata.labels)) keys.add(keyOf(ns, service.metadata.name));
      }
    }
    return [...keys];
  }

  allKeys(): string[] {
    const keys = new Set(this.#o.services.list().map((s) => keyOf(s.metadata.namespace, s.metadata.name)));
    for (const e of this.#o.endpoints.list()) keys.add(keyOf(e.metadata.namespace, e.metadata.name));
    return [...keys];
  }

  /** A new term re-reconciles every key from what the informers hold: the routing map starts
   *  over (entries of pods deleted while another replica led would otherwise stay for good). */
  reset(): void {
    this.#servicesOfPod.clear();
    this.#podsOfService.clear();
  }

  async reconcile(key: string): Promise<ReconcileResult | void> {
    const { namespace, name } = splitKey(key);
    const service = this.#o.services.get(namespace, name);
    const current = this.#o.endpoints.get(namespace, name);
    const selector = service ? selectorOfService(service) : undefined;
    const pods = selector ? this.#o.pods.list(namespace).filter((p) => matches(selector, p.metadata.labels)) : [];
    this.#route(key, pods);
    if (!service || specOf(service)['type'] === 'ExternalName') {
      // Ours (written with the trigger annotation) go with the Service, or when it became an alias.
      if (current && current.metadata.annotations?.[TRIGGER_TIME_ANNOTATION] !== undefined) await this.#delete(current);
      return;
    }
    if (!selector) return;
    const subsets = endpointSubsets(service, pods);
    const labels: Record<string, string> = { ...(service.metadata.labels ?? {}) };
    if (specOf(service)['clusterIP'] === 'None') labels[HEADLESS_LABEL] = '';
    if (current && jsonEqual(current['subsets'] ?? [], subsets) && jsonEqual(current.metadata.labels ?? {}, labels)) return;
    const now = this.#o.now?.() ?? Date.now();
    const annotations = { ...(current?.metadata.annotations ?? {}), [TRIGGER_TIME_ANNOTATION]: new Date(now).toISOString() };
    const body: KObject = {
      apiVersion: 'v1',
      kind: 'Endpoints',
      metadata: { name, namespace, annotations, ...(Object.keys(labels).length > 0 ? { labels } : {}) },
      subsets,
    };
    try {
      if (current) await this.#o.api.replace(endpointsInfo, namespace, name, { ...body, metadata: { ...body.metadata, resourceVersion: current.metadata.resourceVersion } }, { dryRun: false });
      else await this.#o.api.create(endpointsInfo, namespace, body, { dryRun: false });
    } catch (error) {
      // Someone else wrote meanwhile (409), or the namespace is going away (403/404): the next
      // change event brings this key back.
      if (!(error instanceof StatusError && (error.code === 409 || error.code === 404))) throw error;
      if (error.code === 409) return { requeueAfterMs: 100 };
    }
  }

  /** Records that the Service `key` now selects exactly `pods`: pods that left it (labels
   *  changed, Service deleted or its selector changed) no longer route events to it. */
  #route(key: string, pods: KObject[]): void {
    const selected = new Set(pods.map((pod) => keyOf(pod.metadata.namespace, pod.metadata.name)));
    for (const podKey of this.#podsOfService.get(key) ?? []) {
      if (selected.has(podKey)) continue;
      const set = this.#servicesOfPod.get(podKey);
      if (set?.delete(key) && set.size === 0) this.#servicesOfPod.delete(podKey);
    }
    for (const podKey of selected) {
      let set = this.#servicesOfPod.get(podKey);
      if (!set) this.#servicesOfPod.set(podKey, (set = new Set()));
      set.add(key);
    }
    if (selected.size > 0) this.#podsOfService.set(key, selected);
    else this.#podsOfService.delete(key);
  }

  /** Pods the routing map knows (for tests: it must not grow without bound). */
  get routedPods(): number {
    return this.#servicesOfPod.size;
  }

  async #delete(endpoints: KObject): Promise<void> {
    try {
      await this.#o.deleter.delete(endpointsInfo, endpoints.metadata.namespace, endpoints.metadata.name!, { dryRun: false, preconditions: { uid: endpoints.metadata.uid! } });
    } catch (error) {
      if (!(error instanceof StatusError && error.code === 404)) throw error;
    }
  }
}
