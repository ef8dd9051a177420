// The rules of each kind, run after defaulting on the defaulted copy.
import type { JsonObject } from '../json.ts';
import type { FieldCause, ResourceInfo } from '../types.ts';
import { validateDaemonSet, validateDeployment, validateReplicaSet } from './apps.ts';
import { validateEvent, validateNamespace, validateNode } from './cluster.ts';
import { validateConfigMap, validateSecret } from './config.ts';
import { validateIngress } from './ingress.ts';
import { validateObjectMeta } from './meta.ts';
import { validatePodSpec } from './pod.ts';
import { validateEndpoints, validateService } from './service.ts';

type KindRule = (o: JsonObject, causes: FieldCause[]) => void;

const KIND_RULES: Readonly<Record<string, KindRule>> = {
  Pod: (o, causes) => validatePodSpec(o.spec, 'spec', causes),
  Deployment: validateDeployment,
  ReplicaSet: validateReplicaSet,
  DaemonSet: validateDaemonSet,
  Service: validateService,
  Endpoints: validateEndpoints,
  ConfigMap: validateConfigMap,
  Secret: validateSecret,
  Ingress: validateIngress,
  Node: validateNode,
  Namespace: validateNamespace,
  Event: validateEvent,
};

/** Metadata rules and the kind's own rules, for a (defaulted) object of `info.kind`. */
export function validateRules(info: Pick<ResourceInfo, 'kind' | 'namespaced'>, o: JsonObject): FieldCause[] {
  const causes: FieldCause[] = [];
  validateObjectMeta(info, o.metadata, causes);
  KIND_RULES[info.kind]?.(o, causes);
  return causes;
}

export { validateObjectMeta } from './meta.ts';
