// Rules about changing a stored object: what may not change once written. Both objects are
// compared defaulted, so a client that omits a defaulted field (imagePullPolicy) is not taken to
// have changed it.
import { Cause, child, index } from './causes.ts';
import { arrayAt, copyWithoutNulls, isUnset, jsonEqual, objectAt, stringAt, type JsonObject } from './json.ts';
import { defaultObject } from './defaults.ts';
import type { FieldCause, KObject, ResourceInfo } from './types.ts';

const POD_MUTABLE =
  'pod updates may not change fields other than `spec.containers[*].image`, `spec.initContainers[*].image`, `spec.activeDeadlineSeconds` or `spec.tolerations` (only additions to existing tolerations)';

/** Paths under `path` where `a` and `b` differ, down to members of list items, for the message. */
function differences(a: unknown, b: unknown, path: string, out: string[]): void {
  if (jsonEqual(a, b)) return;
  const oa = objectAt(a);
  const ob = objectAt(b);
  if (oa && ob) {
    for (const k of new Set([...Object.keys(oa), ...Object.keys(ob)])) differences(oa[k], ob[k], child(path, k), out);
    return;
  }
  const la = arrayAt(a);
  const lb = arrayAt(b);
  if (la && lb && la.length === lb.length) {
    la.forEach((item, i) => differences(item, lb[i], index(path, i), out));
    return;
  }
  out.push(path);
}

function validatePodUpdate(oldPod: JsonObject, newPod: JsonObject, causes: FieldCause[]): void {
  const oldSpec = objectAt(oldPod.spec) ?? {};
  const newSpec = objectAt(newPod.spec) ?? {};

  const oldDeadline = oldSpec.activeDeadlineSeconds;
  const newDeadline = newSpec.activeDeadlineSeconds;
  // A deadline may be set or shortened, never lifted or extended: it bounds how long the pod runs.
  if (typeof oldDeadline === 'number') {
    if (newDeadline === undefined) {
      causes.push(Cause.invalid('spec.activeDeadlineSeconds', null, 'must not update from a positive integer to nil value'));
    } else if (typeof newDeadline === 'number' && newDeadline > oldDeadline) {
      causes.push(Cause.invalid('spec.activeDeadlineSeconds', newDeadline, 'must be less than or equal to previous value'));
    }
  }

  const oldTolerations = arrayAt(oldSpec.tolerations) ?? [];
  const newTolerations = arrayAt(newSpec.tolerations) ?? [];
  if (!oldTolerations.every((t) => newTolerations.some((n) => jsonEqual(t, n)))) {
    causes.push(Cause.forbidden('spec.tolerations', 'existing tolerations may not be removed or changed; only additions are allowed'));
  }

  // Mask what may change with the old values; whatever still differs may not change.
  const masked: JsonObject = { ...copyWithoutNulls(newSpec) };
  for (const list of ['containers', 'initContainers'] as const) {
    const oldList = arrayAt(oldSpec[list]);
    const newList = arrayAt(masked[list]);
    if (!oldList || !newList || oldList.length !== newList.length) continue;
    masked[list] = newList.map((c, i) => {
      const o = objectAt(c);
      const old = objectAt(oldList[i]);
      if (!o || !old) return c;
      return { ...o, image: old.image };
    });
  }
  for (const k of ['activeDeadlineSeconds', 'tolerations']) {
    if (oldSpec[k] === undefined) delete masked[k];
    else masked[k] = oldSpec[k];
  }
  if (!jsonEqual(masked, oldSpec)) {
    const changed: string[] = [];
    differences(oldSpec, masked, 'spec', changed);
    causes.push(Cause.forbidden('spec', `${POD_MUTABLE}; changed: ${changed.slice(0, 5).join(', ')}${changed.length > 5 ? ', ...' : ''}`));
  }
}

function validateServiceUpdate(oldSvc: JsonObject, newSvc: JsonObject, causes: FieldCause[]): void {
  const oldIP = stringAt(objectAt(oldSvc.spec)?.clusterIP) ?? '';
  const newIP = stringAt(objectAt(newSvc.spec)?.clusterIP) ?? '';
  // An empty clusterIP on update means "keep it" (see carryOverAllocated); anything else must match.
  if (oldIP !== '' && newIP !== '' && newIP !== oldIP) causes.push(Cause.immutable('spec.clusterIP', newIP));
}

function validateConfigUpdate(kind: string, oldObj: JsonObject, newObj: JsonObject, causes: FieldCause[]): void {
  if (kind === 'Secret') {
    const oldType = stringAt(oldObj.type) ?? 'Opaque';
    const newType = stringAt(newObj.type) ?? 'Opaque';
    if (oldType !== newType) causes.push(Cause.immutable('type', newType));
  }
  if (oldObj.immutable !== true) return;
  const why = 'field is immutable when `immutable` is set';
  if (newObj.immutable !== true) causes.push(Cause.forbidden('immutable', why));
  for (const field of kind === 'Secret' ? ['data'] : ['data', 'binaryData']) {
    if (!jsonEqual(oldObj[field] ?? {}, newObj[field] ?? {})) causes.push(Cause.forbidden(field, why));
  }
}

/**
 * The causes for replacing `oldObject` (as stored) by `newObject` (as validated): identity in
 * metadata, workload selectors, most of a Pod's spec, a Service's cluster IP, immutable
 * ConfigMaps and Secrets. An update goes: carryOverAllocated(old, body), then validateObject on
 * the result, then validateUpdate(old, validated object).
 */
export function validateUpdate(info: ResourceInfo, oldObject: KObject, newObject: KObject): FieldCause[] {
  const causes: FieldCause[] = [];
  const oldObj: JsonObject = defaultObject(info, oldObject);
  const newObj: JsonObject = defaultObject(info, newObject);
  const oldMeta = objectAt(oldObj.metadata) ?? {};
  const newMeta = objectAt(newObj.metadata) ?? {};
  for (const field of ['name', 'namespace']) {
    const before = stringAt(oldMeta[field]) ?? '';
    const after = stringAt(newMeta[field]) ?? '';
    if (before !== after) causes.push(Cause.immutable(child('metadata', field), after));
  }
  switch (info.kind) {
    case 'Deployment':
    case 'ReplicaSet':
    case 'DaemonSet': {
      // Pods selected by the old selector would be orphaned and new ones created beside them.
      const before = objectAt(oldObj.spec)?.selector;
      const after = objectAt(newObj.spec)?.selector;
      if (!jsonEqual(before, after)) causes.push(Cause.immutable('spec.selector', after ?? null));
      break;
    }
    case 'Pod':
      validatePodUpdate(oldObj, newObj, causes);
      break;
    case 'Service':
      validateServiceUpdate(oldObj, newObj, causes);
      break;
    case 'ConfigMap':
    case 'Secret':
      validateConfigUpdate(info.kind, oldObj, newObj, causes);
      break;
    default:
      break;
  }
  return causes;
}

/**
 * What Kubernetes' Service update does before validating: a manifest re-applied without the
 * allocated `clusterIP`/`clusterIPs` and `nodePort`s keeps the stored ones rather than asking
 * for new ones; a type change away from NodePort drops the node ports and the external traffic
 * policy the update only carried over (its dropTypeDependentFields), so `kubectl apply` of a
 * manifest that now says ClusterIP works. Answers a copy of `newObject`; other kinds are
 * returned copied unchanged.
 */
export function carryOverAllocated(info: Pick<ResourceInfo, 'kind'>, oldObject: KObject, newObject: KObject): KObject {
  const copy = copyWithoutNulls(newObject);
  if (info.kind !== 'Service') return copy;
  const oldSpec = objectAt(oldObject.spec);
  const newSpec = objectAt(copy.spec);
  if (!oldSpec || !newSpec) return copy;
  // An ExternalName Service has no cluster IP: changing to it drops the old one.
  if (isUnset(newSpec.clusterIP) && !isUnset(oldSpec.clusterIP) && newSpec.type !== 'ExternalName') {
    newSpec.clusterIP = oldSpec.clusterIP;
    if (oldSpec.clusterIPs !== undefined && isUnset(newSpec.clusterIPs)) newSpec.clusterIPs = copyWithoutNulls(oldSpec.clusterIPs);
  } else if (!isUnset(newSpec.clusterIP) && newSpec.clusterIP !== oldSpec.clusterIP && jsonEqual(newSpec.clusterIPs, oldSpec.clusterIPs)) {
    // A new clusterIP beside the stored clusterIPs a patch carried over: say the IP is immutable
    // (validateUpdate), not that the two fields disagree.
    delete newSpec.clusterIPs;
  }
  const oldPorts = (arrayAt(oldSpec.ports) ?? []).map((p) => objectAt(p) ?? {});
  const leavesNodePort = oldSpec.type === 'NodePort' && newSpec.type !== 'NodePort';
  for (const p of arrayAt(newSpec.ports) ?? []) {
    const port = objectAt(p);
    if (!port) continue;
    // The stored port this one continues: by name as Kubernetes does (so a port whose number
    // changed keeps its node port), else by number and protocol.
    const protocol = port.protocol ?? 'TCP';
    const old = oldPorts.find((o) => (o.name ?? '') === (port.name ?? '')) ?? oldPorts.find((o) => o.port === port.port && (o.protocol ?? 'TCP') === protocol);
    if (leavesNodePort) {
      // The stored node port, carried over by a patch: freed with the type. One the update
      // asks for itself is left for validation to refuse.
      if (old && port.nodePort !== undefined && port.nodePort === old.nodePort) delete port.nodePort;
      continue;
    }
    if (port.nodePort !== undefined && port.nodePort !== 0) continue;
    if (old && typeof old.nodePort === 'number' && old.nodePort !== 0 && newSpec.type === 'NodePort') port.nodePort = old.nodePort;
  }
  if (leavesNodePort && newSpec.externalTrafficPolicy !== undefined && newSpec.externalTrafficPolicy === oldSpec.externalTrafficPolicy) delete newSpec.externalTrafficPolicy;
  return copy;
}
