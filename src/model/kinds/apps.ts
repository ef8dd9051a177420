// Deployment, ReplicaSet and DaemonSet (apps/v1).
import { arr, bool, enumOf, int, intOrString, obj, required, type ObjectSchema } from '../schema.ts';
import { condition, labelSelector, topLevel } from './meta.ts';
import { podTemplateSpec } from './pod.ts';

const PERCENT = /^[0-9]+%$/;

/** maxSurge / maxUnavailable: a non-negative count or a percentage of replicas ("25%"). */
export function checkIntOrPercent(value: number | string): string | null {
  if (typeof value === 'number') return value >= 0 ? null : 'must be greater than or equal to 0';
  if (!PERCENT.test(value)) return "a valid percent string must be a numeric string followed by an ending '%' (e.g. '1%', or '93%')";
  return Number(value.slice(0, -1)) > 100 ? 'must not be greater than 100%' : null;
}

const rollingUpdate = obj({
  maxSurge: intOrString({ check: checkIntOrPercent }),
  maxUnavailable: intOrString({ check: checkIntOrPercent }),
});

const workloadStatus = (fields: Record<string, ReturnType<typeof int>>): ObjectSchema =>
  obj(
    {
      observedGeneration: int({ int64: true }),
      conditions: arr(condition),
      collisionCount: int({ min: 0 }),
      ...fields,
    },
    { open: true },
  );

const count = () => int({ min: 0 });

export const deploymentSchema: ObjectSchema = topLevel({
  spec: obj({
    replicas: int({ min: 0 }),
    selector: required(labelSelector),
    template: required(podTemplateSpec),
    strategy: obj({ type: enumOf(['RollingUpdate', 'Recreate']), rollingUpdate }),
    minReadySeconds: int({ min: 0 }),
    revisionHistoryLimit: int({ min: 0 }),
    progressDeadlineSeconds: int({ min: 0 }),
    paused: bool(),
  }),
  status: workloadStatus({
    replicas: count(),
    updatedReplicas: count(),
    readyReplicas: count(),
    availableReplicas: count(),
    unavailableReplicas: count(),
    terminatingReplicas: count(),
  }),
});

export const replicaSetSchema: ObjectSchema = topLevel({
  spec: obj({
    replicas: int({ min: 0 }),
    selector: required(labelSelector),
    template: required(podTemplateSpec),
    minReadySeconds: int({ min: 0 }),
  }),
  status: workloadStatus({
    replicas: count(),
    fullyLabeledReplicas: count(),
    readyReplicas: count(),
    availableReplicas: count(),
    terminatingReplicas: count(),
  }),
});

export const daemonSetSchema: ObjectSchema = topLevel({
  spec: obj({
    selector: required(labelSelector),
    template: required(podTemplateSpec),
    updateStrategy: obj({ type: enumOf(['RollingUpdate', 'OnDelete']), rollingUpdate }),
    minReadySeconds: int({ min: 0 }),
    revisionHistoryLimit: int({ min: 0 }),
  }),
  status: workloadStatus({
    currentNumberScheduled: count(),
    numberMisscheduled: count(),
    desiredNumberScheduled: count(),
    numberReady: count(),
    updatedNumberScheduled: count(),
    numberAvailable: count(),
    numberUnavailable: count(),
  }),
});
