// The Deployment controller: owns ReplicaSets named `<deployment>-<pod-template-hash>`, one per
// template it has run, and moves replicas from the old ones to the new one by the strategy:
// RollingUpdate within maxSurge/maxUnavailable (counting a pod only once it has been Ready for
// minReadySeconds), or Recreate (old ones to zero, wait for their pods to be gone, then the new
// one). It follows Kubernetes' deployment controller step for step: proportional scaling when
// replicas change mid-rollout, revisions, revisionHistoryLimit, paused, progressDeadlineSeconds
// and the Available / Progressing conditions.
import type { Deleter, ObjectApi } from '../api/resources/index.ts';
import { StatusError } from '../api/resources/index.ts';
import type { Clock } from '../agent/ports.ts';
import type { Logger } from '../log/index.ts';
import type { KObject } from '../model/index.ts';
import { findResource, jsonEqual, timestamp } from '../model/index.ts';
import { claim } from './claims.ts';
import type { Reconciler, ReconcileResult } from './controller-runner.ts';
import {
  byAge,
  DESIRED_REPLICAS_ANNOTATION,
  deploymentComplete,
  deploymentProgressing,
  isRollingUpdate,
  MAX_REPLICAS_ANNOTATION,
  maxSurge,
  maxUnavailable,
  newReplicaSetReplicas,
  POD_TEMPLATE_HASH_LABEL,
  progressDeadlineInMs,
  replicasOf,
  REVISION_ANNOTATION,
  revisionOf,
  statusCount,
  sumSpecReplicas,
  sumStatus,
} from './deployment-math.ts';
import type { Informer, InformerEvent } from './informer.ts';
import type { Recorder } from './replicaset-controller.ts';
import { replicaSetsInfo } from './replicaset-controller.ts';
import {
  conditionOf,
  controllerRefOf,
  controllerRefTo,
  isJson,
  isTerminating,
  jsonOf,
  keyOf,
  numberOr,
  podPhase,
  selectorOf,
  specOf,
  splitKey,
  statusOf,
  templateHash,
  templateWithoutLabel,
  withCondition,
} from './workload-objects.ts';

export const deploymentsInfo = findResource('apps', 'v1', 'deployments')!;

/** Deployment annotations that are not copied onto its ReplicaSets (Kubernetes' skipCopyAnnotation). */
const NOT_COPIED = new Set([
  'kubectl.kubernetes.io/last-applied-configuration',
  REVISION_ANNOTATION,
  'deployment.kubernetes.io/revision-history',
  DESIRED_REPLICAS_ANNOTATION,
  MAX_REPLICAS_ANNOTATION,
  'deprecated.deployment.rollback.to',
]);

export interface DeploymentControllerOptions {
  api: ObjectApi;
  deleter: Deleter;
  pods: Informer;
  replicasets: Informer;
  deployments: Informer;
  clock: Clock;
  logger: Logger;
  recorder?: Recorder;
}

interface Sets {
  newSet: KObject | undefined;
  oldSets: KObject[];
}

/** One pass's view: what it learned (a created ReplicaSet) on top of what the informers say. */
interface Pass {
  d: KObject;
  key: string;
  /** A condition the pass decided on (new ReplicaSet created / found). */
  progressing?: Record<string, unknown>;
  requeueAfterMs?: number;
}

export class DeploymentController implements Reconciler {
  readonly name = 'deployment';
  readonly watches = ['deployments', 'replicasets', 'pods'] as const;
  readonly #o: DeploymentControllerOptions;

  constructor(options: DeploymentControllerOptions) {
    this.#o = options;
  }

  keysFor(resource: string, object: KObject, event: InformerEvent): string[] {
    const ns = object.metadata.namespace;
    if (resource === 'deployments') return [keyOf(ns, object.metadata.name)];
    if (resource === 'replicasets') {
      const ref = controllerRefOf(object);
      if (ref) return ref.kind === 'Deployment' ? [keyOf(ns, ref.name)] : [];
      if (event === 'deleted') return [];
      return this.#o.deployments
        .list(ns)
        .filter((d) => selectorOf(d)(object.metadata.labels))
        .map((d) => keyOf(ns, d.metadata.name));
    }
    // Pods matter only to Recreate, which waits for the old pods to be gone.
    const phase = podPhase(object);
    if (event !== 'deleted' && phase !== 'Failed' && phase !== 'Succeeded') return [];
    const podRef = controllerRefOf(object);
    if (podRef?.kind !== 'ReplicaSet') return [];
    const rs = this.#o.replicasets.get(ns, podRef.name);
    const rsRef = rs ? controllerRefOf(rs) : undefined;
    return rsRef?.kind === 'Deployment' ? [keyOf(ns, rsRef.name)] : [];
  }

  allKeys(): string[] {
    return this.#o.deployments.list().map((d) => keyOf(d.metadata.namespace, d.metadata.name));
  }

  reset(): void {}

  async reconcile(key: string): Promise<ReconcileResult | void> {
    const { namespace, name } = splitKey(key);
    const d = this.#o.deployments.get(namespace, name);
    if (!d || isTerminating(d)) return;
    const pass: Pass = { d, key };
    const sets = await claim({
      api: this.#o.api,
      ownerInfo: deploymentsInfo,
      owner: d,
      info: replicaSetsInfo,
      selector: selectorOf(d),
      candidates: this.#o.replicasets.list(namespace),
    });
    if (specOf(d)['paused'] === true || this.#isScalingEvent(d, sets)) {
      await this.#syncScale(pass, sets);
    } else if (isRollingUpdate(d)) {
      await this.#rolloutRolling(pass, sets);
    } else {
      await this.#rolloutRecreate(pass, sets);
    }
    return pass.requeueAfterMs !== undefined ? { requeueAfterMs: pass.requeueAfterMs } : undefined;
  }

  // ---- finding the new and old ReplicaSets ---------------------------------------------------

  #split(d: KObject, sets: KObject[]): Sets {
    const wanted = jsonOf(specOf(d)['template']);
    const sorted = [...sets].sort(byAge);
    const newSet = sorted.find((rs) => jsonEqual(templateWithoutLabel(specOf(rs)['template'], POD_TEMPLATE_HASH_LABEL), templateWithoutLabel(wanted, POD_TEMPLATE_HASH_LABEL)));
    return { newSet, oldSets: sorted.filter((rs) => rs !== newSet) };
  }

  /** The new ReplicaSet (made when `create` and missing), its annotations and the Deployment's revision brought up to date. */
  async #newAndOld(pass: Pass, sets: KObject[], create: boolean): Promise<Sets> {
    const { d } = pass;
    const { newSet, oldSets } = this.#split(d, sets);
    const maxOldRevision = oldSets.reduce((m, rs) => Math.max(m, revisionOf(rs)), 0);
    const newRevision = maxOldRevision + 1;
    let current = newSet;
    if (current) {
      current = await this.#refreshNewSet(d, current, newRevision);
      if (!conditionOf(d, 'Progressing') && typeof specOf(d)['progressDeadlineSeconds'] === 'number') {
        pass.progressing = this.#progressing('True', 'FoundNewReplicaSet', `Found new replica set "${current.metadata.name}"`);
      }
    } else if (create) {
      current = await this.#createNewSet(pass, oldSets, newRevision);
    }
    if (current) await this.#setDeploymentRevision(d, String(revisionOf(current)));
    return { newSet: current, oldSets };
  }

  #copiedAnnotations(d: KObject): Record<string, string> {
    return Object.fromEntries(Object.entries(d.metadata.annotations ?? {}).filter(([k]) => !NOT_COPIED.has(k)));
  }

  async #refreshNewSet(d: KObject, rs: KObject, newRevision: number): Promise<KObject> {
    const annotations: Record<string, string> = { ...(rs.metadata.annotations ?? {}), ...this.#copiedAnnotations(d) };
    if (revisionOf(rs) < newRevision) annotations[REVISION_ANNOTATION] = String(newRevision);
    const minReady = numberOr(specOf(d)['minReadySeconds'], 0);
    const minReadyChanged = numberOr(specOf(rs)['minReadySeconds'], 0) !== minReady;
    if (jsonEqual(annotations, rs.metadata.annotations ?? {}) && !minReadyChanged) return rs;
    const patch: Record<string, unknown> = { metadata: { resourceVersion: rs.metadata.resourceVersion, annotations } };
    if (minReadyChanged) patch['spec'] = { minReadySeconds: minReady };
    return this.#o.api.patch(replicaSetsInfo, rs.metadata.namespace, rs.metadata.name!, 'merge', patch, { dryRun: false });
  }

  async #createNewSet(pass: Pass, oldSets: KObject[], revision: number): Promise<KObject> {
    const { d } = pass;
    const spec = specOf(d);
    const collisionCount = numberOr(statusOf(d)['collisionCount'], 0);
    const hash = templateHash(spec['template'], collisionCount);
    const template = jsonOf(spec['template']);
    const templateMeta = isJson(template['metadata']) ? template['metadata'] : (template['metadata'] = {});
    templateMeta['labels'] = { ...(isJson(templateMeta['labels']) ? templateMeta['labels'] : {}), [POD_TEMPLATE_HASH_LABEL]: hash };
    const selector = jsonOf(spec['selector']);
    selector['matchLabels'] = { ...(isJson(selector['matchLabels']) ? selector['matchLabels'] : {}), [POD_TEMPLATE_HASH_LABEL]: hash };
    const replicas = replicasOf(d);
    const rs: KObject = {
      apiVersion: 'apps/v1',
      kind: 'ReplicaSet',
      metadata: {
        name: `${d.metadata.name}-${hash}`,
        namespace: d.metadata.namespace,
        labels: templateMeta['labels'] as Record<string, string>,
        annotations: {
          ...this.#copiedAnnotations(d),
          [REVISION_ANNOTATION]: String(revision),
          [DESIRED_REPLICAS_ANNOTATION]: String(replicas),
          [MAX_REPLICAS_ANNOTATION]: String(replicas + maxSurge(d)),
        },
        ownerReferences: [controllerRefTo(d)],
      },
      spec: { replicas: 0, minReadySeconds: numberOr(spec['minReadySeconds'], 0), selector, template },
    };
    (rs['spec'] as Record<string, unknown>)['replicas'] = newReplicaSetReplicas(d, oldSets, rs);
    try {
      const created = await this.#o.api.create(replicaSetsInfo, d.metadata.namespace, rs, { dryRun: false });
      const count = replicasOf(created);
      this.#record(d, 'Normal', 'ScalingReplicaSet', `Scaled up replica set ${created.metadata.name} from 0 to ${count}`);
      pass.progressing = this.#progressing('True', 'NewReplicaSetCreated', `Created new replica set "${created.metadata.name}"`);
      return created;
    } catch (error) {
      if (!(error instanceof StatusError && error.reason === 'AlreadyExists')) throw error;
      // Ours already (the informer has not shown it yet)? Otherwise a hash collision: count it,
      // and the next pass tries another name.
      const existing = await this.#o.api.get(replicaSetsInfo, d.metadata.namespace, rs.metadata.name!, false);
      const sameTemplate = jsonEqual(specOf(existing)['template'], template);
      if (controllerRefOf(existing)?.uid === d.metadata.uid && sameTemplate) return existing;
      await this.#o.api.update(deploymentsInfo, d.metadata.namespace, d.metadata.name!, (cur) => ({ ...cur, status: { ...statusOf(cur), collisionCount: collisionCount + 1 } }), { dryRun: false });
      throw new StatusError(409, 'Conflict', `replica set name ${rs.metadata.name} is taken by another object; trying another hash`);
    }
  }

  async #setDeploymentRevision(d: KObject, revision: string): Promise<void> {
    if (d.metadata.annotations?.[REVISION_ANNOTATION] === revision) return;
    await this.#o.api.update(
      deploymentsInfo,
      d.metadata.namespace,
      d.metadata.name!,
      (cur) => (cur.metadata.uid !== d.metadata.uid ? cur : { ...cur, metadata: { ...cur.metadata, annotations: { ...(cur.metadata.annotations ?? {}), [REVISION_ANNOTATION]: revision } } }),
      { dryRun: false },
    );
  }

  // ---- scaling ---------------------------------------------------------------------------------

  /** Sets a ReplicaSet's replicas (and the annotations saying for which Deployment size); answers it as stored. */
  async #scale(d: KObject, rs: KObject, replicas: number): Promise<KObject> {
    const desired = String(replicasOf(d));
    const max = String(replicasOf(d) + maxSurge(d));
    const annotations = rs.metadata.annotations ?? {};
    const from = replicasOf(rs);
    if (from === replicas && annotations[DESIRED_REPLICAS_ANNOTATION] === desired && annotations[MAX_REPLICAS_ANNOTATION] === max) return rs;
    const updated = await this.#o.api.patch(
      replicaSetsInfo,
      rs.metadata.namespace,
      rs.metadata.name!,
      'merge',
      { metadata: { resourceVersion: rs.metadata.resourceVersion, annotations: { [DESIRED_REPLICAS_ANNOTATION]: desired, [MAX_REPLICAS_ANNOTATION]: max } }, spec: { replicas } },
      { dryRun: false },
    );
    if (from !== replicas) this.#record(d, 'Normal', 'ScalingReplicaSet', `Scaled ${replicas > from ? 'up' : 'down'} replica set ${rs.metadata.name} from ${from} to ${replicas}`);
    return updated;
  }

  /** Some active ReplicaSet was sized for another Deployment size: `replicas` changed. */
  #isScalingEvent(d: KObject, sets: KObject[]): boolean {
    const desired = replicasOf(d);
    return sets.some((rs) => {
      if (replicasOf(rs) === 0) return false;
      const annotated = Number(rs.metadata.annotations?.[DESIRED_REPLICAS_ANNOTATION]);
      return Number.isInteger(annotated) && annotated !== desired;
    });
  }

  // Kubernetes' sync(): scale without rolling (paused, or a size change mid-rollout).
  async #syncScale(pass: Pass, sets: KObject[]): Promise<void> {
    const { d } = pass;
    const { newSet, oldSets } = await this.#newAndOld(pass, sets, false);
    const scaled = await this.#proportionalScale(d, newSet, oldSets);
    const all = scaled.all;
    if (specOf(d)['paused'] === true) await this.#cleanup(d, scaled.old);
    await this.#writeStatus(pass, all, scaled.newSet, false);
  }

  async #proportionalScale(d: KObject, newSet: KObject | undefined, oldSets: KObject[]): Promise<{ newSet: KObject | undefined; old: KObject[]; all: KObject[] }> {
    const replicas = replicasOf(d);
    const all = newSet ? [newSet, ...oldSets] : [...oldSets];
    const replace = (before: KObject, after: KObject): void => {
      const i = all.indexOf(before);
      if (i >= 0) all[i] = after;
      if (before === newSet) newSet = after;
    };
    const active = all.filter((rs) => replicasOf(rs) > 0);
    // One active (or none: the latest) ReplicaSet takes the whole size.
    let single: KObject | undefined;
    if (active.length === 1) single = active[0];
    else if (active.length === 0) single = newSet ?? oldSets[oldSets.length - 1];
    if (single) {
      replace(single, await this.#scale(d, single, replicas));
    } else if (newSet && replicasOf(newSet) === replicas && statusCount(newSet, 'availableReplicas') === replicas) {
      for (const rs of oldSets) if (replicasOf(rs) > 0) replace(rs, await this.#scale(d, rs, 0));
    } else if (isRollingUpdate(d)) {
      const total = sumSpecReplicas(active);
      const allowed = replicas > 0 ? replicas + maxSurge(d) : 0;
      const toAdd = allowed - total;
      if (toAdd !== 0) {
        // Grow the biggest (then newest) first, shrink the biggest (then oldest) first.
        const order = [...active].sort((a, b) => replicasOf(b) - replicasOf(a) || (toAdd > 0 ? byAge(b, a) : byAge(a, b)));
        const targets = new Map<KObject, number>();
        let added = 0;
        for (const rs of order) {
          let share = total > 0 ? Math.round((replicasOf(rs) * allowed) / total) - replicasOf(rs) : 0;
          share = toAdd > 0 ? Math.min(share, toAdd - added) : Math.max(share, toAdd - added);
          added += share;
          targets.set(rs, replicasOf(rs) + share);
        }
        const first = order[0]!;
        targets.set(first, targets.get(first)! + (toAdd - added));
        for (const rs of order) replace(rs, await this.#scale(d, rs, Math.max(0, targets.get(rs)!)));
      }
    }
    return { newSet, old: all.filter((rs) => rs !== newSet), all };
  }

  // ---- RollingUpdate ---------------------------------------------------------------------------

  async #rolloutRolling(pass: Pass, sets: KObject[]): Promise<void> {
    const { d } = pass;
    const { newSet: found, oldSets } = await this.#newAndOld(pass, sets, true);
    let newSet = found!;
    const replicas = replicasOf(d);
    // Scale the new ReplicaSet up (within the surge) or down (replicas lowered).
    const newReplicas = replicasOf(newSet) > replicas ? replicas : newReplicaSetReplicas(d, [newSet, ...oldSets], newSet);
    if (newReplicas !== replicasOf(newSet)) {
      newSet = await this.#scale(d, newSet, newReplicas);
      return this.#writeStatus(pass, [newSet, ...oldSets], newSet, true);
    }
    const old = await this.#reconcileOld(d, newSet, oldSets);
    if (old.scaled) return this.#writeStatus(pass, [newSet, ...old.sets], newSet, true);
    const all = [newSet, ...old.sets];
    if (deploymentComplete(d, this.#status(d, all, newSet))) await this.#cleanup(d, old.sets);
    await this.#writeStatus(pass, all, newSet, true);
  }

  /** Scales old ReplicaSets down as far as availability allows (reconcileOldReplicaSets). */
  async #reconcileOld(d: KObject, newSet: KObject, oldSets: KObject[]): Promise<{ scaled: boolean; sets: KObject[] }> {
    const sets = [...oldSets].sort(byAge);
    if (sumSpecReplicas(sets) === 0) return { scaled: false, sets };
    const all = [newSet, ...sets];
    const minAvailable = replicasOf(d) - maxUnavailable(d);
    const newUnavailable = replicasOf(newSet) - statusCount(newSet, 'availableReplicas');
    let budget = sumSpecReplicas(all) - minAvailable - newUnavailable;
    if (budget <= 0) return { scaled: false, sets };
    let scaled = false;
    // First the old pods that are not available anyway: removing them costs nothing.
    for (let i = 0; i < sets.length && budget > 0; i++) {
      const rs = sets[i]!;
      const unhealthy = replicasOf(rs) - statusCount(rs, 'availableReplicas');
      if (replicasOf(rs) === 0 || unhealthy <= 0) continue;
      const down = Math.min(budget, unhealthy);
      sets[i] = await this.#scale(d, rs, replicasOf(rs) - down);
      budget -= down;
      scaled = true;
    }
    // Then available old pods, while enough stay available.
    const available = sumStatus([newSet, ...sets], 'availableReplicas');
    let total = Math.min(budget, available - minAvailable);
    for (let i = 0; i < sets.length && total > 0; i++) {
      const rs = sets[i]!;
      if (replicasOf(rs) === 0) continue;
      const down = Math.min(replicasOf(rs), total);
      sets[i] = await this.#scale(d, rs, replicasOf(rs) - down);
      total -= down;
      scaled = true;
    }
    return { scaled, sets };
  }

  // ---- Recreate --------------------------------------------------------------------------------

  async #rolloutRecreate(pass: Pass, sets: KObject[]): Promise<void> {
    const { d } = pass;
    const first = await this.#newAndOld(pass, sets, false);
    let oldSets = first.oldSets;
    let newSet = first.newSet;
    let scaledDown = false;
    oldSets = await Promise.all(
      oldSets.map(async (rs) => {
        if (replicasOf(rs) === 0) return rs;
        scaledDown = true;
        return this.#scale(d, rs, 0);
      }),
    );
    const all = (): KObject[] => (newSet ? [newSet, ...oldSets] : oldSets);
    if (scaledDown || this.#oldPodsRunning(oldSets)) return this.#writeStatus(pass, all(), newSet, true);
    if (!newSet) newSet = (await this.#newAndOld(pass, oldSets, true)).newSet!;
    if (replicasOf(newSet) !== replicasOf(d)) {
      newSet = await this.#scale(d, newSet, replicasOf(d));
      return this.#writeStatus(pass, all(), newSet, true);
    }
    if (deploymentComplete(d, this.#status(d, all(), newSet))) await this.#cleanup(d, oldSets);
    await this.#writeStatus(pass, all(), newSet, true);
  }

  /** Any pod of an old ReplicaSet that has not finished, including those being stopped. */
  #oldPodsRunning(oldSets: KObject[]): boolean {
    if (sumStatus(oldSets, 'replicas') > 0) return true;
    const uids = new Set(oldSets.map((rs) => rs.metadata.uid));
    if (uids.size === 0) return false;
    const ns = oldSets[0]!.metadata.namespace;
    return this.#o.pods.list(ns).some((pod) => {
      const ref = controllerRefOf(pod);
      const phase = podPhase(pod);
      return ref !== undefined && uids.has(ref.uid) && phase !== 'Failed' && phase !== 'Succeeded';
    });
  }

  // ---- history ---------------------------------------------------------------------------------

  /** Deletes the oldest unused ReplicaSets beyond revisionHistoryLimit. */
  async #cleanup(d: KObject, oldSets: KObject[]): Promise<void> {
    const limit = specOf(d)['revisionHistoryLimit'];
    if (typeof limit !== 'number') return;
    const cleanable = oldSets
      .filter((rs) => !isTerminating(rs) && replicasOf(rs) === 0 && statusCount(rs, 'replicas') === 0 && statusCount(rs, 'observedGeneration') >= (rs.metadata.generation ?? 1))
      .sort((a, b) => revisionOf(a) - revisionOf(b) || byAge(a, b));
    for (const rs of cleanable.slice(0, Math.max(0, cleanable.length - limit))) {
      try {
        await this.#o.deleter.delete(replicaSetsInfo, rs.metadata.namespace, rs.metadata.name!, { dryRun: false, preconditions: { uid: rs.metadata.uid! } });
        this.#o.logger.debug('old replica set deleted (revision history limit)', { replicaset: rs.metadata.name, revision: revisionOf(rs) });
      } catch (error) {
        if (!(error instanceof StatusError && error.code === 404)) throw error;
      }
    }
  }

  // ---- status ----------------------------------------------------------------------------------

  #progressing(status: string, reason: string, message: string): Record<string, unknown> {
    const now = timestamp(this.#o.clock.now());
    return { type: 'Progressing', status, reason, message, lastUpdateTime: now, lastTransitionTime: now };
  }

  /** calculateStatus: counts from the ReplicaSets, and the Available condition. */
  #status(d: KObject, all: KObject[], newSet: KObject | undefined): Record<string, unknown> {
    const old = statusOf(d);
    const available = sumStatus(all, 'availableReplicas');
    const status: Record<string, unknown> = {
      observedGeneration: d.metadata.generation ?? 1,
      replicas: sumStatus(all, 'replicas'),
      updatedReplicas: statusCount(newSet, 'replicas'),
      readyReplicas: sumStatus(all, 'readyReplicas'),
      availableReplicas: available,
      unavailableReplicas: Math.max(0, sumSpecReplicas(all) - available),
    };
    if (old['collisionCount'] !== undefined) status['collisionCount'] = old['collisionCount'];
    const now = timestamp(this.#o.clock.now());
    const enough = available >= replicasOf(d) - maxUnavailable(d);
    status['conditions'] = withCondition(
      old['conditions'],
      enough
        ? { type: 'Available', status: 'True', reason: 'MinimumReplicasAvailable', message: 'Deployment has minimum availability.', lastUpdateTime: now, lastTransitionTime: now }
        : { type: 'Available', status: 'False', reason: 'MinimumReplicasUnavailable', message: 'Deployment does not have minimum availability.', lastUpdateTime: now, lastTransitionTime: now },
    );
    // A condition that did not change keeps its times (so an unchanged status writes nothing).
    const before = conditionOf(d, 'Available');
    if (before && before['status'] === (enough ? 'True' : 'False') && before['reason'] === (enough ? 'MinimumReplicasAvailable' : 'MinimumReplicasUnavailable')) {
      status['conditions'] = withCondition(status['conditions'], before);
    }
    return status;
  }

  async #writeStatus(pass: Pass, all: KObject[], newSet: KObject | undefined, rollout: boolean): Promise<void> {
    const { d } = pass;
    const status = this.#status(d, all, newSet);
    const now = this.#o.clock.now();
    const current = conditionOf(d, 'Progressing');
    const setProgressing = (cond: Record<string, unknown>): void => {
      status['conditions'] = withCondition(status['conditions'], cond);
    };
    const paused = specOf(d)['paused'] === true;
    if (paused && current?.['reason'] !== 'DeploymentPaused') {
      setProgressing(this.#progressing('Unknown', 'DeploymentPaused', 'Deployment is paused'));
    } else if (!paused && current?.['reason'] === 'DeploymentPaused') {
      setProgressing(this.#progressing('Unknown', 'DeploymentResumed', 'Deployment is resumed'));
    } else if (pass.progressing) {
      setProgressing(pass.progressing);
    } else if (rollout && typeof specOf(d)['progressDeadlineSeconds'] === 'number' && newSet) {
      const complete = replicasOf(d) === status['updatedReplicas'] && current?.['reason'] === 'NewReplicaSetAvailable';
      if (!complete) {
        const name = newSet.metadata.name;
        if (deploymentComplete(d, status)) {
          setProgressing(this.#progressing('True', 'NewReplicaSetAvailable', `ReplicaSet "${name}" has successfully progressed.`));
        } else if (deploymentProgressing(d, status)) {
          const cond = this.#progressing('True', 'ReplicaSetUpdated', `ReplicaSet "${name}" is progressing.`);
          if (current?.['status'] === 'True' && typeof current['lastTransitionTime'] === 'string') cond['lastTransitionTime'] = current['lastTransitionTime'];
          setProgressing(cond);
        } else {
          const left = progressDeadlineInMs(d, now);
          if (left !== undefined && left <= 0) {
            if (current?.['reason'] !== 'ProgressDeadlineExceeded') {
              setProgressing(this.#progressing('False', 'ProgressDeadlineExceeded', `ReplicaSet "${name}" has timed out progressing.`));
              this.#record(d, 'Warning', 'ProgressDeadlineExceeded', `Deployment "${d.metadata.name}" has timed out progressing.`);
            }
          } else if (left !== undefined) {
            pass.requeueAfterMs = left + 50;
          }
        }
      }
    }
    if (jsonEqual(status, statusOf(d))) return;
    try {
      await this.#o.api.replaceStatus(deploymentsInfo, d.metadata.namespace, d.metadata.name!, { apiVersion: d.apiVersion, kind: d.kind, metadata: { name: d.metadata.name }, status }, { dryRun: false });
    } catch (error) {
      if (!(error instanceof StatusError && error.code === 404)) throw error;
    }
  }

  #record(d: KObject, type: 'Normal' | 'Warning', reason: string, message: string): void {
    this.#o.recorder?.record({ namespace: d.metadata.namespace!, name: d.metadata.name!, uid: d.metadata.uid!, kind: 'Deployment', apiVersion: 'apps/v1' }, type, reason, message);
  }
}

