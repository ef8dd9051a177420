// Deleting objects the Kubernetes way. A Pod running on a node is deleted gracefully: it gets a
// deletionTimestamp and stays until the node agent has stopped its containers and deletes it with
// gracePeriodSeconds=0. An object with finalizers waits for them. A Namespace is emptied first.
// Objects whose ownerReferences name a deleted owner are removed with it (or orphaned on
// request); `sweep()` finishes whatever a crash left half done, so the cascade is level-triggered.
import type { KObject, ResourceInfo } from '../../model/index.ts';
import { findResource, RESOURCES } from '../../model/index.ts';
import type { Logger } from '../../log/index.ts';
import type { DeleteOptions, ObjectApi } from './objects.ts';
import { isObject, PROTECTED_NAMESPACES } from './objects.ts';
import { Status, StatusError } from './status.ts';

const POD_GRACE_SECONDS_DEFAULT = 30;


const namespacesInfo = findResource('', 'v1', 'namespaces')!;
const nodesInfo = findResource('', 'v1', 'nodes')!;

export interface DeleterOptions {
  api: ObjectApi;
  logger: Logger;
}

export class Deleter {
  readonly #api: ObjectApi;
  readonly #log: Logger;
  /** Cascades under way, so a burst of deletes does not start the same work twice. */
  readonly #running = new Set<string>();

  constructor(options: DeleterOptions) {
    this.#api = options.api;
    this.#log = options.logger;
  }

  /** Deletes (or starts deleting) one object; answers the object as it was (`gone`) or now is
   *  (waiting for its node agent, finalizers or contents). */
  async delete(info: ResourceInfo, namespace: string | undefined, name: string, options: DeleteOptions): Promise<{ object: KObject; gone: boolean }> {
    const store = this.#api.store;
    if (info === namespacesInfo && PROTECTED_NAMESPACES.includes(name)) throw Status.forbidden(`namespace "${name}" is protected and cannot be deleted`);
    for (let attempt = 0; ; attempt++) {
      const current = await store.get(info, namespace, name, attempt === 0);
      if (!current) throw Status.notFound(info, name);
      const meta = current.object.metadata;
      const pre = options.preconditions;
      if (pre?.uid !== undefined && pre.uid !== meta.uid) {
        if (attempt === 0) continue;
        throw Status.conflict(info, name, `Precondition failed: UID in precondition: ${pre.uid}, UID in object meta: ${meta.uid}`);
      }
      if (pre?.resourceVersion !== undefined && pre.resourceVersion !== meta.resourceVersion) {
        if (attempt === 0) continue;
        throw Status.conflict(info, name, `Precondition failed: ResourceVersion in precondition: ${pre.resourceVersion}, ResourceVersion in object meta: ${meta.resourceVersion}`);
      }
      try {
        const grace = await this.#graceSeconds(info, current.object, options);
        const waitFor = grace > 0 || (meta.finalizers ?? []).length > 0 || info === namespacesInfo;
        if (waitFor) {
          const marked = await this.#mark(info, current.object, grace, current.modRevision, options);
          if (info === namespacesInfo && !options.dryRun) this.#background(`namespace/${name}`, async () => void (await this.#finishNamespace(name)));
          return { object: marked, gone: false };
        }
        if (!options.dryRun) await this.#api.remove(info, current.object, current.modRevision);
      } catch (error) {
        if (error instanceof StatusError && error.reason === 'Conflict' && attempt < 4) continue;
        throw error;
      }
      if (!options.dryRun && meta.uid) {
        const uid = meta.uid;
        const orphan = options.propagationPolicy === 'Orphan';
        this.#background(`owner/${uid}`, () => this.#cascade(info, current.object, orphan));
      }
      return { object: current.object, gone: true };
    }
  }

  /** Grace for a Pod that a node agent must stop first; 0 for everything else. */
  async #graceSeconds(info: ResourceInfo, object: KObject, options: DeleteOptions): Promise<number> {
    if (info.resource !== 'pods') return 0;
    const spec = isObject(object['spec']) ? object['spec'] : {};
    const status = isObject(object['status']) ? object['status'] : {};
    const nodeName = typeof spec['nodeName'] === 'string' ? spec['nodeName'] : '';
    if (nodeName === '' || status['phase'] === 'Succeeded' || status['phase'] === 'Failed') return 0;
    const requested = options.gracePeriodSeconds ?? (typeof spec['terminationGracePeriodSeconds'] === 'number' ? spec['terminationGracePeriodSeconds'] : POD_GRACE_SECONDS_DEFAULT);
    if (requested <= 0) return 0;
    // A pod bound to a node that does not exist has no agent to stop it.
    const node = await this.#api.store.get(nodesInfo, undefined, nodeName, true);
    return node ? requested : 0;
  }

  async #mark(info: ResourceInfo, object: KObject, grace: number, modRevision: number, options: DeleteOptions): Promise<KObject> {
    if (object.metadata.deletionTimestamp) return object; // already on its way out
    const next: KObject = structuredClone(object);
    next.metadata.deletionTimestamp = this.#api.now();
    next.metadata.deletionGracePeriodSeconds = grace;
    if (info === namespacesInfo) next['status'] = { ...(isObject(next['status']) ? next['status'] : {}), phase: 'Terminating' };
    if (options.dryRun) return next;
    return (await this.#api.store.replace(info, next, modRevision)).object;
  }

  #background(key: string, work: () => Promise<void>): void {
    if (this.#running.has(key)) return;
    this.#running.add(key);
    void work()
      .catch((error: unknown) => this.#log.warn('background deletion did not finish; the next sweep retries it', { key, error: String(error) }))
      .finally(() => this.#running.delete(key));
  }

  /** Every object that names `owner` in its ownerReferences. */
  async #dependents(owner: KObject, ownerNamespaced: boolean): Promise<{ info: ResourceInfo; object: KObject }[]> {
    const uid = owner.metadata.uid;
    const out: { info: ResourceInfo; object: KObject }[] = [];
    for (const info of RESOURCES) {
      if (!info.namespaced) continue;
      const list = await this.#api.store.list(info, ownerNamespaced ? owner.metadata.namespace : undefined, { serializable: true });
      for (const object of list.items) if ((object.metadata.ownerReferences ?? []).some((r) => r.uid === uid)) out.push({ info, object });
    }
    return out;
  }

  async #cascade(ownerInfo: ResourceInfo, owner: KObject, orphan: boolean): Promise<void> {
    for (const { info, object } of await this.#dependents(owner, ownerInfo.namespaced)) {
      const { namespace, name } = object.metadata;
      if (orphan) {
        await this.#api.update(info, namespace, name!, (cur) => ({ ...cur, metadata: { ...cur.metadata, ownerReferences: (cur.metadata.ownerReferences ?? []).filter((r) => r.uid !== owner.metadata.uid) } }), { dryRun: false });
        continue;
      }
      try {
        await this.delete(info, namespace, name!, { dryRun: false, propagationPolicy: 'Background' });
        this.#log.debug('deleted with its owner', { object: `${info.resource}/${namespace}/${name}`, owner: `${owner.kind}/${owner.metadata.name}` });
      } catch (error) {
        if (!(error instanceof StatusError && error.code === 404)) throw error;
      }
    }
  }

  // Deletes everything in the namespace; the namespace itself goes once nothing is left (pods
  // being stopped by their node agents keep it until they are gone).
  async #finishNamespace(namespace: string): Promise<boolean> {
    let left = 0;
    for (const info of RESOURCES) {
      if (!info.namespaced) continue;
      const list = await this.#api.store.list(info, namespace, { serializable: false });
      for (const object of list.items) {
        left++;
        try {
          await this.delete(info, namespace, object.metadata.name!, { dryRun: false });
        } catch (error) {
          if (!(error instanceof StatusError && error.code === 404)) throw error;
        }
      }
    }
    if (left > 0) {
      // Check again: the deletes above may have removed everything already.
      for (const info of RESOURCES) if (info.namespaced && (await this.#api.store.list(info, namespace, { serializable: false, limit: 1 })).items.length > 0) return false;
    }
    const ns = await this.#api.store.get(namespacesInfo, undefined, namespace, false);
    if (ns && ns.object.metadata.deletionTimestamp) {
      await this.#api.store.remove(namespacesInfo, undefined, namespace, ns.modRevision);
      this.#log.info('namespace deleted', { namespace });
    }
    return true;
  }

  /**
   * Finishes what a crash or a slow node agent left: namespaces being deleted, and dependents
   * whose owner is gone. Run it now and then on one member (the leader).
   */
  async sweep(): Promise<void> {
    const namespaces = await this.#api.store.list(namespacesInfo, undefined, { serializable: false });
    for (const ns of namespaces.items) if (ns.metadata.deletionTimestamp) await this.#finishNamespace(ns.metadata.name!);
    const uids = new Set<string>();
    const owned: { info: ResourceInfo; object: KObject }[] = [];
    for (const info of RESOURCES) {
      const list = await this.#api.store.list(info, undefined, { serializable: false });
      for (const object of list.items) {
        if (object.metadata.uid) uids.add(object.metadata.uid);
        if ((object.metadata.ownerReferences ?? []).length > 0) owned.push({ info, object });
      }
    }
    for (const { info, object } of owned) {
      const refs = object.metadata.ownerReferences ?? [];
      // Kubernetes' rule: a dependent goes when none of its owners exists any more.
      if (refs.some((r) => uids.has(r.uid))) continue;
      try {
        await this.delete(info, object.metadata.namespace, object.metadata.name!, { dryRun: false });
        this.#log.info('deleted an object whose owners are gone', { object: `${info.resource}/${object.metadata.namespace ?? ''}/${object.metadata.name}` });
      } catch (error) {
        if (!(error instanceof StatusError && error.code === 404)) throw error;
      }
    }
  }
}
