// The ReplicaSet controller: keeps `spec.replicas` pods that match the selector and name the
// ReplicaSet as their controller. It adopts matching orphans, releases pods that stopped
// matching, replaces finished (Failed/Succeeded) pods, creates pods from the template with no
// node (the scheduler binds them) and deletes the extra ones in Kubernetes' victim order,
// gracefully through the Deleter. Expectations keep a lagging watch from causing double work.
import type { Deleter, ObjectApi } from '../api/resources/index.ts';
import { StatusError } from '../api/resources/index.ts';
import type { EventRecorder } from '../agent/events.ts';
import type { Clock } from '../agent/ports.ts';
import type { Logger } from '../log/index.ts';
import type { KObject } from '../model/index.ts';
import { findResource, jsonEqual, timestamp } from '../model/index.ts';
import { claim } from './claims.ts';
import type { Reconciler, ReconcileResult } from './controller-runner.ts';
import { Expectations } from './expectations.ts';
import type { Informer, InformerEvent } from './informer.ts';
import { boundedAll, slowStartBatch } from './slow-start.ts';
import { chooseVictims, isNodeReady } from './victims.ts';
import {
  controllerRefOf,
  isJson,
  isPodActive,
  isPodReady,
  isTerminating,
  keyOf,
  numberOr,
  podAvailability,
  podFromTemplate,
  podPhase,
  selectorOf,
  specOf,
  splitKey,
  statusOf,
  withCondition,
  withoutCondition,
} from './workload-objects.ts';

export const podsInfo = findResource('', 'v1', 'pods')!;
export const replicaSetsInfo = findResource('apps', 'v1', 'replicasets')!;

/** Pods created or deleted for one ReplicaSet in one pass at most (Kubernetes' burstReplicas). */
export const BURST_REPLICAS = 500;
/** Pod writes in flight for one ReplicaSet. */
export const POD_WRITES_IN_FLIGHT_MAX = 16;

export type Recorder = Pick<EventRecorder, 'record'>;

export interface ReplicaSetControllerOptions {
  api: ObjectApi;
  deleter: Deleter;
  pods: Informer;
  nodes: Informer;
  replicasets: Informer;
  clock: Clock;
  logger: Logger;
  recorder?: Recorder;
  expectationsTimeoutMs?: number;
}

export class ReplicaSetController implements Reconciler {
  readonly name = 'replicaset';
  readonly watches = ['replicasets', 'pods'] as const;
  readonly #o: ReplicaSetControllerOptions;
  readonly expectations: Expectations;

  constructor(options: ReplicaSetControllerOptions) {
    this.#o = options;
    this.expectations = new Expectations({ now: () => options.clock.now(), ...(options.expectationsTimeoutMs !== undefined ? { timeoutMs: options.expectationsTimeoutMs } : {}) });
  }

  keysFor(resource: string, object: KObject, event: InformerEvent): string[] {
    const key = keyOf(object.metadata.namespace, object.metadata.name);
    if (resource === 'replicasets') {
      if (event === 'deleted') this.expectations.forget(key);
      return [key];
    }
    const ref = controllerRefOf(object);
    if (ref) {
      if (ref.kind !== 'ReplicaSet') return [];
      const owner = keyOf(object.metadata.namespace, ref.name);
      if (event === 'added') this.expectations.creationObserved(owner);
      if (event === 'deleted' || isTerminating(object)) this.expectations.deletionObserved(owner, object.metadata.uid ?? '');
      return [owner];
    }
    if (event === 'deleted') return [];
    // An orphan: the ReplicaSets that might adopt it.
    return this.#o.replicasets
      .list(object.metadata.namespace)
      .filter((rs) => selectorOf(rs)(object.metadata.labels))
      .map((rs) => keyOf(rs.metadata.namespace, rs.metadata.name));
  }

  allKeys(): string[] {
    return this.#o.replicasets.list().map((rs) => keyOf(rs.metadata.namespace, rs.metadata.name));
  }

  reset(): void {
    this.expectations.clear();
  }

  async reconcile(key: string): Promise<ReconcileResult | void> {
    const { namespace, name } = splitKey(key);
    const rs = this.#o.replicasets.get(namespace, name);
    if (!rs) {
      this.expectations.forget(key);
      return;
    }
    const spec = specOf(rs);
    const selector = selectorOf(rs);
    // Counted only when every write of the last pass has been seen (or given up on).
    const needsSync = this.expectations.satisfied(key) && !isTerminating(rs);
    const candidates = this.#o.pods.list(namespace).filter((p) => !isTerminating(p));
    const owned = await claim({ api: this.#o.api, ownerInfo: replicaSetsInfo, owner: rs, info: podsInfo, selector, candidates });
    const active = owned.filter(isPodActive);
    let failure: { reason: string; message: string } | undefined;
    if (needsSync) {
      failure = await this.#manage(key, rs, active, numberOr(spec['replicas'], 1));
      await this.#replaceFinished(rs, owned.filter((p) => !isPodActive(p)));
    }
    const result = await this.#writeStatus(rs, active, failure);
    // A failed write is retried with the queue's back-off (a quota or a missing namespace may clear).
    if (failure) throw new Error(`replica set ${key}: ${failure.reason}: ${failure.message}`);
    return result;
  }

  async #manage(key: string, rs: KObject, active: KObject[], replicas: number): Promise<{ reason: string; message: string } | undefined> {
    const diff = active.length - replicas;
    if (diff < 0) {
      const count = Math.min(-diff, BURST_REPLICAS);
      this.expectations.expect(key, count);
      const template = specOf(rs)['template'];
      const { successes, errors } = await slowStartBatch(count, POD_WRITES_IN_FLIGHT_MAX, async () => {
        try {
          const pod = await this.#o.api.create(podsInfo, rs.metadata.namespace, podFromTemplate(template, rs), { dryRun: false });
          this.#record(rs, 'Normal', 'SuccessfulCreate', `Created pod: ${pod.metadata.name}`);
        } catch (error) {
          // It will never be seen: do not wait for it.
          this.expectations.creationObserved(key);
          throw error;
        }
      });
      // The calls slow start skipped will not be seen either.
      for (let i = successes + errors.length; i < count; i++) this.expectations.creationObserved(key);
      if (errors.length > 0) {
        const message = String(errors[0] instanceof Error ? errors[0].message : errors[0]);
        this.#record(rs, 'Warning', 'FailedCreate', `Error creating: ${message}`);
        return { reason: 'FailedCreate', message };
      }
      return undefined;
    }
    if (diff > 0) {
      const nodes = this.#o.nodes;
      const victims = chooseVictims(active, Math.min(diff, BURST_REPLICAS), (node) => isNodeReady(nodes.get(undefined, node)));
      this.expectations.expect(key, 0, victims.map((p) => p.metadata.uid ?? ''));
      const errors = await boundedAll(victims, POD_WRITES_IN_FLIGHT_MAX, async (pod) => {
        try {
          await this.#deletePod(pod);
          this.#record(rs, 'Normal', 'SuccessfulDelete', `Deleted pod: ${pod.metadata.name}`);
        } catch (error) {
          this.expectations.deletionObserved(key, pod.metadata.uid ?? '');
          throw error;
        }
      });
      if (errors.length > 0) {
        const message = String(errors[0] instanceof Error ? errors[0].message : errors[0]);
        this.#record(rs, 'Warning', 'FailedDelete', `Error deleting: ${message}`);
        return { reason: 'FailedDelete', message };
      }
    }
    return undefined;
  }

  // A pod that finished (restartPolicy Always makes that rare: evicted, or failed to start) is
  // not counted; it is deleted so that it does not linger next to its replacement.
  async #replaceFinished(rs: KObject, finished: KObject[]): Promise<void> {
    const errors = await boundedAll(finished, POD_WRITES_IN_FLIGHT_MAX, async (pod) => {
      await this.#deletePod(pod);
      this.#record(rs, 'Normal', 'SuccessfulDelete', `Deleted ${podPhase(pod).toLowerCase()} pod: ${pod.metadata.name}`);
    });
    if (errors.length > 0) this.#o.logger.warn('finished pods not deleted', { replicaset: keyOf(rs.metadata.namespace, rs.metadata.name), error: String(errors[0]) });
  }

  async #deletePod(pod: KObject): Promise<void> {
    try {
      await this.#o.deleter.delete(podsInfo, pod.metadata.namespace, pod.metadata.name!, { dryRun: false, preconditions: { uid: pod.metadata.uid! } });
    } catch (error) {
      if (!(error instanceof StatusError && error.code === 404)) throw error;
    }
  }

  async #writeStatus(rs: KObject, active: KObject[], failure: { reason: string; message: string } | undefined): Promise<ReconcileResult | void> {
    const spec = specOf(rs);
    const now = this.#o.clock.now();
    const minReadySeconds = numberOr(spec['minReadySeconds'], 0);
    const templateMeta = isJson(spec['template']) && isJson(spec['template']['metadata']) ? spec['template']['metadata'] : {};
    const templateLabels = isJson(templateMeta['labels']) ? (templateMeta['labels'] as Record<string, string>) : {};
    let ready = 0;
    let available = 0;
    let fullyLabeled = 0;
    let nextCheckMs: number | undefined;
    for (const pod of active) {
      const labels = pod.metadata.labels ?? {};
      if (Object.entries(templateLabels).every(([k, v]) => labels[k] === v)) fullyLabeled++;
      if (isPodReady(pod)) ready++;
      const availability = podAvailability(pod, minReadySeconds, now);
      if (availability.available) available++;
      else if (availability.inMs !== undefined) nextCheckMs = Math.min(nextCheckMs ?? Infinity, availability.inMs);
    }
    const old = statusOf(rs);
    let conditions = old['conditions'];
    if (failure) {
      conditions = withCondition(conditions, { type: 'ReplicaFailure', status: 'True', reason: failure.reason, message: failure.message, lastTransitionTime: timestamp(now) });
    } else if (Array.isArray(conditions) && conditions.some((c) => isJson(c) && c['type'] === 'ReplicaFailure')) {
      conditions = withoutCondition(conditions, 'ReplicaFailure');
    }
    const status: Record<string, unknown> = {
      ...old,
      replicas: active.length,
      fullyLabeledReplicas: fullyLabeled,
      readyReplicas: ready,
      availableReplicas: available,
      observedGeneration: rs.metadata.generation ?? 1,
    };
    if (Array.isArray(conditions) && conditions.length > 0) status['conditions'] = conditions;
    else delete status['conditions'];
    if (!jsonEqual(status, old)) {
      try {
        await this.#o.api.replaceStatus(replicaSetsInfo, rs.metadata.namespace, rs.metadata.name!, { apiVersion: rs.apiVersion, kind: rs.kind, metadata: { name: rs.metadata.name }, status }, { dryRun: false });
      } catch (error) {
        if (!(error instanceof StatusError && error.code === 404)) throw error;
      }
    }
    return nextCheckMs !== undefined ? { requeueAfterMs: nextCheckMs + 10 } : undefined;
  }

  #record(rs: KObject, type: 'Normal' | 'Warning', reason: string, message: string): void {
    this.#o.recorder?.record({ namespace: rs.metadata.namespace!, name: rs.metadata.name!, uid: rs.metadata.uid!, kind: 'ReplicaSet', apiVersion: 'apps/v1' }, type, reason, message);
  }
}
