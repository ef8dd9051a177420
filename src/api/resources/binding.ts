// The binding subresource of pods (`POST /api/v1/namespaces/NS/pods/NAME/binding`): how a
// scheduler assigns a pending pod to a node. It is the only way `spec.nodeName` changes after
// creation: once, from empty to a node, as one compare-and-swap on the pod, and never for a pod
// being deleted. As in Kubernetes, the node need not exist (a node agent that never comes leaves
// the pod Pending), and the answer is a Status of success with code 201.
import type { FieldCause, KObject, ResourceInfo } from '../../model/index.ts';
import { checkDns1123Subdomain, findResource, withCondition } from '../../model/index.ts';
import { isObject } from '../../model/json.ts';
import { Status, StatusError } from './status.ts';

const podsInfo = findResource('', 'v1', 'pods')!;
const bindingInfo: ResourceInfo = { ...podsInfo, kind: 'Binding' };

/** What a Binding body asks for, checked. */
export interface BindingRequest {
  nodeName: string;
  /** metadata.resourceVersion of the Binding: the pod must still be at it. */
  resourceVersion?: string;
  /** metadata.uid of the Binding: the pod must still be this one. */
  uid?: string;
  /** metadata.annotations of the Binding are copied onto the pod (as Kubernetes does). */
  annotations?: Record<string, string>;
}

const BINDING_FIELDS = new Set(['apiVersion', 'kind', 'metadata', 'target']);
const TARGET_FIELDS = new Set(['apiVersion', 'kind', 'name', 'namespace', 'uid', 'resourceVersion', 'fieldPath']);
const EXAMPLE = '{"apiVersion":"v1","kind":"Binding","metadata":{"name":"POD"},"target":{"apiVersion":"v1","kind":"Node","name":"NODE"}}';

/** Checks a Binding body posted to the binding subresource of pod `name` in `namespace`. */
export function parseBinding(body: unknown, namespace: string, name: string): BindingRequest {
  if (!isObject(body)) throw Status.badRequest(`the request body must be a Binding object like ${EXAMPLE}`);
  if (body['kind'] !== undefined && body['kind'] !== 'Binding') {
    throw Status.badRequest(`the object's kind ${JSON.stringify(body['kind'])} does not match this URL, which takes a Binding (v1): ${EXAMPLE}`);
  }
  if (body['apiVersion'] !== undefined && body['apiVersion'] !== 'v1') {
    throw Status.badRequest(`the object's apiVersion ${JSON.stringify(body['apiVersion'])} does not match this URL, which takes a Binding of apiVersion v1`);
  }
  const meta = body['metadata'] === undefined ? {} : body['metadata'];
  if (!isObject(meta)) throw Status.badRequest('Binding.metadata: expected an object like {"name": "POD"}');
  const given = meta['name'];
  if (given !== undefined && given !== '' && given !== name) {
    throw Status.badRequest(`the name of the Binding (${JSON.stringify(given)}) does not match the name of the pod in the URL (${JSON.stringify(name)})`);
  }
  const givenNs = meta['namespace'];
  if (givenNs !== undefined && givenNs !== '' && givenNs !== namespace) {
    throw Status.badRequest(`the namespace of the Binding (${JSON.stringify(givenNs)}) does not match the namespace of the URL (${JSON.stringify(namespace)})`);
  }
  const causes: FieldCause[] = [];
  for (const key of Object.keys(body)) if (!BINDING_FIELDS.has(key)) causes.push({ reason: 'FieldValueUnknown', field: key, message: 'unknown field' });
  const target = body['target'];
  let nodeName = '';
  if (!isObject(target)) {
    causes.push({ reason: 'FieldValueRequired', field: 'target', message: 'Required value: the node to bind to, like {"kind": "Node", "name": "NODE"}' });
  } else {
    for (const key of Object.keys(target)) if (!TARGET_FIELDS.has(key)) causes.push({ reason: 'FieldValueUnknown', field: `target.${key}`, message: 'unknown field' });
    const kind = target['kind'];
    if (kind !== undefined && kind !== '' && kind !== 'Node') {
      causes.push({ reason: 'FieldValueNotSupported', field: 'target.kind', message: `Unsupported value: ${JSON.stringify(kind)}: supported values: "Node"` });
    }
    const targetName = target['name'];
    if (targetName === undefined || targetName === '') causes.push({ reason: 'FieldValueRequired', field: 'target.name', message: 'Required value: the name of the node' });
    else if (typeof targetName !== 'string') causes.push({ reason: 'FieldValueTypeInvalid', field: 'target.name', message: `expected a string, got ${JSON.stringify(targetName)}` });
    else {
      const problem = checkDns1123Subdomain(targetName);
      if (problem) causes.push({ reason: 'FieldValueInvalid', field: 'target.name', message: `Invalid value: ${JSON.stringify(targetName)}: ${problem}` });
      else nodeName = targetName;
    }
  }
  const rv = meta['resourceVersion'];
  const uid = meta['uid'];
  const annotations = meta['annotations'];
  if (rv !== undefined && typeof rv !== 'string') causes.push({ reason: 'FieldValueTypeInvalid', field: 'metadata.resourceVersion', message: 'expected a string' });
  if (uid !== undefined && typeof uid !== 'string') causes.push({ reason: 'FieldValueTypeInvalid', field: 'metadata.uid', message: 'expected a string' });
  if (annotations !== undefined && (!isObject(annotations) || !Object.values(annotations).every((v) => typeof v === 'string'))) {
    causes.push({ reason: 'FieldValueTypeInvalid', field: 'metadata.annotations', message: 'expected a map of strings' });
  }
  if (causes.length > 0) throw Status.invalid(bindingInfo, name, causes);
  return {
    nodeName,
    ...(typeof rv === 'string' && rv !== '' ? { resourceVersion: rv } : {}),
    ...(typeof uid === 'string' && uid !== '' ? { uid } : {}),
    ...(isObject(annotations) && Object.keys(annotations).length > 0 ? { annotations: annotations as Record<string, string> } : {}),
  };
}

/** A refusal of the binding itself: 409, named like Kubernetes' `pods/binding`. */
export function bindingConflict(name: string, why: string): StatusError {
  return new StatusError(409, 'Conflict', `Operation cannot be fulfilled on pods/binding "${name}": ${why}`, { name, kind: 'pods/binding' });
}

/**
 * The pod bound to `nodeName`: spec.nodeName set, the Binding's annotations added, and the
 * condition PodScheduled=True. Throws a 409 for a pod being deleted or already assigned, or one
 * that is no longer the pod the Binding's uid names.
 */
export function boundPod(current: KObject, request: BindingRequest, now: string): KObject {
  const name = current.metadata.name!;
  if (request.uid !== undefined && request.uid !== current.metadata.uid) {
    throw bindingConflict(name, `Precondition failed: UID in precondition: ${request.uid}, UID in object meta: ${current.metadata.uid}`);
  }
  if (current.metadata.deletionTimestamp) throw bindingConflict(name, `pod ${name} is being deleted, cannot be assigned to a host`);
  const spec = isObject(current['spec']) ? current['spec'] : {};
  const assigned = spec['nodeName'];
  if (typeof assigned === 'string' && assigned !== '') throw bindingConflict(name, `pod ${name} is already assigned to node ${JSON.stringify(assigned)}`);
  const status = isObject(current['status']) ? current['status'] : {};
  const metadata = request.annotations ? { ...current.metadata, annotations: { ...(current.metadata.annotations ?? {}), ...request.annotations } } : current.metadata;
  return {
    ...current,
    metadata,
    spec: { ...spec, nodeName: request.nodeName },
    status: { ...status, conditions: podCondition(status['conditions'], { type: 'PodScheduled', status: 'True' }, now) },
  };
}

/** A pod condition as kubelet writes them: lastProbeTime null, the transition stamped `now`. */
export function podCondition(conditions: unknown, condition: { type: string; status: string; reason?: string; message?: string }, now: string): Record<string, unknown>[] {
  return withCondition(conditions, { ...condition, lastProbeTime: null, lastTransitionTime: now });
}

/** What the binding subresource answers on success (Kubernetes answers a Status, not the pod). */
export const BINDING_CREATED = { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', code: 201 } as const;
