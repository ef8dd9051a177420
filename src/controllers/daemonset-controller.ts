// The DaemonSet controller: one pod per node that the template's nodeSelector selects and whose
// taints the pod tolerates (with the tolerations Kubernetes adds to every daemon pod). bramble's
// DaemonSet pods do not go through the scheduler: they are created with spec.nodeName set to
// their node (Kubernetes pins them with node affinity and lets the scheduler bind; with one
// possible node that is the same outcome with one write less). Pods go when their node goes or
// stops matching; updates roll node by node within maxUnavailable (and maxSurge), or wait for
// the user to delete old pods (OnDelete).
import type { Deleter, ObjectApi } from '../api/resources/index.ts';
import { StatusError } from '../api/resources/index.ts';
import type { Clock } from '../agent/ports.ts';
import type { Logger } from '../log/index.ts';
import type { KObject } from '../model/index.ts';
import { findResource, jsonEqual } from '../model/index.ts';
import { claim } from './claims.ts';
import type { Reconciler, ReconcileResult } from './controller-runner.ts';
import { byAge } from './deployment-math.ts';
import { Expectations } from './expectations.ts';
import type { Informer, InformerEvent } from './informer.ts';
import type { Recorder } from './replicaset-controller.ts';
import { podsInfo, POD_WRITES_IN_FLIGHT_MAX } from './replicaset-controller.ts';
import { boundedAll } from './slow-start.ts';
import { daemonPlacement, daemonTolerations } from './taints.ts';
import {
  controllerRefOf,
  isJson,
  isPodReady,
  isTerminating,
  keyOf,
  numberOr,
  podAvailability,
  podFromTemplate,
  podPhase,
  scaledIntOrPercent,
  selectorOf,
  specOf,
  splitKey,
  statusOf,
  templateHash,
  type Json,
} from './workload-objects.ts';

export const daemonSetsInfo = findResource('apps', 'v1', 'daemonsets')!;
/** The label naming the template a daemon pod was made from (Kubernetes' controller-revision-hash). */
export const REVISION_HASH_LABEL = 'controller-revision-hash';

export interface DaemonSetControllerOptions {
  api: ObjectApi;
  deleter: Deleter;
  pods: Informer;
  nodes: Informer;
  daemonsets: Informer;
  clock: Clock;
  logger: Logger;
  recorder?: Recorder;
  expectationsTimeoutMs?: number;
}

interface NodePlan {
  node: KObject;
  shouldRun: boolean;
  shouldContinueRunning: boolean;
  /** This DaemonSet's pods on the node (including those being deleted), oldest first. */
  pods: KObject[];
}

export class DaemonSetController implements Reconciler {
  readonly name = 'daemonset';
  readonly watches = ['daemonsets', 'pods', 'nodes'] as const;
  readonly #o: DaemonSetControllerOptions;
  readonly expectations: Expectations;

  constructor(options: DaemonSetControllerOptions) {
    this.#o = options;
    this.expectations = new Expectations({ now: () => options.clock.now(), ...(options.expectationsTimeoutMs !== undefined ? { timeoutMs: options.expectationsTimeoutMs } : {}) });
  }

  keysFor(resource: string, object: KObject, event: InformerEvent): string[] {
    if (resource === 'nodes') return this.allKeys();
    const ns = object.metadata.namespace;
    const key = keyOf(ns, object.metadata.name);
    if (resource === 'daemonsets') {
      if (event === 'deleted') this.expectations.forget(key);
      return [key];
    }
    const ref = controllerRefOf(object);
    if (ref) {
      if (ref.kind !== 'DaemonSet') return [];
      const owner = keyOf(ns, ref.name);
      if (event === 'added') this.expectations.creationObserved(owner);
      if (event === 'deleted' || isTerminating(object)) this.expectations.deletionObserved(owner, object.metadata.uid ?? '');
      return [owner];
    }
    if (event === 'deleted') return [];
    return this.#o.daemonsets
      .list(ns)
      .filter((ds) => selectorOf(ds)(object.metadata.labels))
      .map((ds) => keyOf(ns, ds.metadata.name));
  }

  allKeys(): string[] {
    return this.#o.daemonsets.list().map((ds) => keyOf(ds.metadata.namespace, ds.metadata.name));
  }

  reset(): void {
    this.expectations.clear();
  }

  async reconcile(key: string): Promise<ReconcileResult | void> {
    const { namespace, name } = splitKey(key);
    const ds = this.#o.daemonsets.get(namespace, name);
    if (!ds) {
      this.expectations.forget(key);
      return;
    }
    const spec = specOf(ds);
    const template = isJson(spec['template']) ? spec['template'] : {};
    const podSpec = isJson(template['spec']) ? template['spec'] : {};
    const hash = templateHash(template);
    const owned = await claim({ api: this.#o.api, ownerInfo: daemonSetsInfo, owner: ds, info: podsInfo, selector: selectorOf(ds), candidates: this.#o.pods.list(namespace) });
    const byNode = new Map<string, KObject[]>();
    for (const pod of owned) {
      const node = String(specOf(pod)['nodeName'] ?? '');
      byNode.set(node, [...(byNode.get(node) ?? []), pod]);
    }
    const plans: NodePlan[] = this.#o.nodes.list().map((node) => {
      const placement = daemonPlacement(podSpec, node);
      const pods = (byNode.get(node.metadata.name!) ?? []).sort(byAge);
      byNode.delete(node.metadata.name!);
      return { node, ...placement, pods };
    });
    if (this.expectations.satisfied(key) && !isTerminating(ds)) {
      // Pods on nodes that no longer exist (or on none) go too.
      const orphaned = [...byNode.values()].flat().filter((p) => !isTerminating(p));
      await this.#manage(key, ds, template, podSpec, hash, plans, orphaned);
    }
    return this.#writeStatus(ds, plans, hash);
  }

  #surge(ds: KObject, desired: number): { maxSurge: number; maxUnavailable: number; rolling: boolean } {
    const strategy = isJson(specOf(ds)['updateStrategy']) ? (specOf(ds)['updateStrategy'] as Json) : {};
    if (strategy['type'] === 'OnDelete') return { maxSurge: 0, maxUnavailable: 0, rolling: false };
    const rolling = isJson(strategy['rollingUpdate']) ? strategy['rollingUpdate'] : {};
    const maxSurge = scaledIntOrPercent(rolling['maxSurge'] ?? 0, desired, true);
    let maxUnavailable = scaledIntOrPercent(rolling['maxUnavailable'] ?? 1, desired, true);
    if (maxSurge === 0 && maxUnavailable === 0) maxUnavailable = 1;
    return { maxSurge, maxUnavailable, rolling: true };
  }

  async #manage(key: string, ds: KObject, template: Json, podSpec: Json, hash: string, plans: NodePlan[], orphaned: KObject[]): Promise<void> {
    const now = this.#o.clock.now();
    const minReady = numberOr(specOf(ds)['minReadySeconds'], 0);
    const desired = plans.filter((p) => p.shouldRun).length;
    const { maxSurge, maxUnavailable, rolling } = this.#surge(ds, desired);
    const create: string[] = [];
    const remove: KObject[] = [...orphaned];
    const isNew = (p: KObject): boolean => p.metadata.labels?.[REVISION_HASH_LABEL] === hash;
    const available = (p: KObject): boolean => podAvailability(p, minReady, now).available;
    for (const plan of plans) {
      const live = plan.pods.filter((p) => !isTerminating(p));
      if (!plan.shouldContinueRunning) {
        remove.push(...live);
        continue;
      }
      if (plan.shouldRun && plan.pods.length === 0) {
        create.push(plan.node.metadata.name!);
        continue;
      }
      const running: KObject[] = [];
      for (const pod of live) {
        if (podPhase(pod) === 'Failed') remove.push(pod);
        else running.push(pod);
      }
      if (running.length > 1) {
        // Keep the oldest pod; during a surge also the oldest pod of the current template.
        const keep = new Set([running[0]]);
        if (maxSurge > 0) {
          const newest = running.find(isNew);
          if (newest) keep.add(newest);
        }
        remove.push(...running.filter((p) => !keep.has(p)));
      }
    }
    if (rolling && create.length === 0) this.#rollingUpdate(plans, { maxSurge, maxUnavailable }, isNew, available, create, remove);
    this.expectations.expect(key, create.length, remove.map((p) => p.metadata.uid ?? ''));
    const tolerations = daemonTolerations(podSpec);
    const labels = { ...((isJson(template['metadata']) && isJson(template['metadata']['labels']) ? template['metadata']['labels'] : {}) as Record<string, string>), [REVISION_HASH_LABEL]: hash };
    const templateWithHash = { ...template, metadata: { ...(isJson(template['metadata']) ? template['metadata'] : {}), labels } };
    const createErrors = await boundedAll(create, POD_WRITES_IN_FLIGHT_MAX, async (nodeName) => {
      try {
        const pod = await this.#o.api.create(podsInfo, ds.metadata.namespace, podFromTemplate(templateWithHash, ds, { nodeName, tolerations }), { dryRun: false });
        this.#record(ds, 'Normal', 'SuccessfulCreate', `Created pod: ${pod.metadata.name}`);
      } catch (error) {
        this.expectations.creationObserved(key);
        throw error;
      }
    });
    const deleteErrors = await boundedAll(remove, POD_WRITES_IN_FLIGHT_MAX, async (pod) => {
      try {
        await this.#o.deleter.delete(podsInfo, pod.metadata.namespace, pod.metadata.name!, { dryRun: false, preconditions: { uid: pod.metadata.uid! } });
        this.#record(ds, 'Normal', 'SuccessfulDelete', `Deleted pod: ${pod.metadata.name}`);
      } catch (error) {
        this.expectations.deletionObserved(key, pod.metadata.uid ?? '');
        if (!(error instanceof StatusError && error.code === 404)) throw error;
      }
    });
    const errors = [...createErrors, ...deleteErrors];
    if (errors.length > 0) {
      const message = String(errors[0] instanceof Error ? errors[0].message : errors[0]);
      this.#record(ds, 'Warning', createErrors.length > 0 ? 'FailedCreate' : 'FailedDelete', message);
      throw new Error(`daemon set ${key}: ${errors.length} pod writes failed: ${message}`);
    }
  }

  // Kubernetes' rollingUpdate: old pods that are unavailable anyway are replaced at once; an
  // available old pod is replaced while fewer than maxUnavailable nodes lack an available pod,
  // or (maxSurge) a new pod is started beside it and the old one goes once the new is available.
  #rollingUpdate(
    plans: NodePlan[],
    budget: { maxSurge: number; maxUnavailable: number },
    isNew: (p: KObject) => boolean,
    available: (p: KObject) => boolean,
    create: string[],
    remove: KObject[],
  ): void {
    let unavailable = 0;
    let surging = 0;
    const candidates: KObject[] = [];
    const surgeCandidates: string[] = [];
    const removing = new Set(remove);
    for (const plan of plans) {
      if (!plan.shouldRun) continue;
      const live = plan.pods.filter((p) => !isTerminating(p) && !removing.has(p) && podPhase(p) !== 'Failed');
      const newPod = live.find(isNew);
      const oldPod = live.find((p) => !isNew(p));
      if (!newPod && !oldPod) {
        unavailable++;
        continue;
      }
      if (newPod && oldPod) {
        surging++;
        if (available(newPod)) remove.push(oldPod);
        else if (!available(oldPod)) unavailable++;
        continue;
      }
      if (newPod) {
        if (!available(newPod)) unavailable++;
        continue;
      }
      if (!available(oldPod!)) {
        unavailable++;
        remove.push(oldPod!);
      } else if (budget.maxSurge > 0) surgeCandidates.push(plan.node.metadata.name!);
      else candidates.push(oldPod!);
    }
    remove.push(...candidates.slice(0, Math.max(0, budget.maxUnavailable - unavailable)));
    create.push(...surgeCandidates.slice(0, Math.max(0, budget.maxSurge - surging)));
  }

  async #writeStatus(ds: KObject, plans: NodePlan[], hash: string): Promise<ReconcileResult | void> {
    const now = this.#o.clock.now();
    const minReady = numberOr(specOf(ds)['minReadySeconds'], 0);
    let desired = 0;
    let current = 0;
    let misscheduled = 0;
    let ready = 0;
    let available = 0;
    let updated = 0;
    let nextCheckMs: number | undefined;
    for (const plan of plans) {
      const scheduled = plan.pods.length > 0;
      if (!plan.shouldRun) {
        if (scheduled) misscheduled++;
        continue;
      }
      desired++;
      if (!scheduled) continue;
      current++;
      const pod = plan.pods[0]!;
      if (isPodReady(pod)) ready++;
      const availability = podAvailability(pod, minReady, now);
      if (availability.available) available++;
      else if (availability.inMs !== undefined) nextCheckMs = Math.min(nextCheckMs ?? Infinity, availability.inMs);
      if (plan.pods.some((p) => p.metadata.labels?.[REVISION_HASH_LABEL] === hash)) updated++;
    }
    const old = statusOf(ds);
    const status: Json = {
      ...old,
      desiredNumberScheduled: desired,
      currentNumberScheduled: current,
      numberMisscheduled: misscheduled,
      numberReady: ready,
      numberAvailable: available,
      updatedNumberScheduled: updated,
      observedGeneration: ds.metadata.generation ?? 1,
    };
    if (desired - available > 0) status['numberUnavailable'] = desired - available;
    else delete status['numberUnavailable'];
    if (!jsonEqual(status, old)) {
      try {
        await this.#o.api.replaceStatus(daemonSetsInfo, ds.metadata.namespace, ds.metadata.name!, { apiVersion: ds.apiVersion, kind: ds.kind, metadata: { name: ds.metadata.name }, status }, { dryRun: false });
      } catch (error) {
        if (!(error instanceof StatusError && error.code === 404)) throw error;
      }
    }
    return nextCheckMs !== undefined ? { requeueAfterMs: nextCheckMs + 10 } : undefined;
  }

  #record(ds: KObject, type: 'Normal' | 'Warning', reason: string, message: string): void {
    this.#o.recorder?.record({ namespace: ds.metadata.namespace!, name: ds.metadata.name!, uid: ds.metadata.uid!, kind: 'DaemonSet', apiVersion: 'apps/v1' }, type, reason, message);
  }
}
