// Schemas shared by every kind: ObjectMeta, LabelSelector, object references and timestamps.
// Name rules depend on the kind (DNS label or subdomain) and on generateName, so they are in
// src/model/rules/meta.ts rather than here.
import { checkDns1123Label, checkLabelValue, checkQualifiedName } from '../names.ts';
import { any, arr, bool, enumOf, int, map, obj, required, str, stringList, type ObjectSchema, type Schema } from '../schema.ts';

const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/;

export function checkTimestamp(value: string): string | null {
  return RFC3339.test(value) && !Number.isNaN(Date.parse(value)) ? null : 'must be an RFC 3339 date-time (e.g. 2024-05-01T12:00:00Z)';
}

export const timestamp = (): Schema => str({ check: checkTimestamp });

/** Label maps: metadata.labels, nodeSelector, matchLabels, a Service's selector. */
export const labelMap = (): Schema => map(str({ check: checkLabelValue }), { keyCheck: checkQualifiedName });

const SERVER_SET = 'set by the server; a value sent by a client is overwritten';

export const objectMeta: ObjectSchema = obj({
  name: str(),
  generateName: str(),
  namespace: str({ check: checkDns1123Label }),
  labels: labelMap(),
  // Kubernetes checks annotation keys lower-cased, so an upper-case prefix is accepted.
  annotations: map(str(), { keyCheck: (k) => checkQualifiedName(k.toLowerCase()) }),
  ownerReferences: arr(
    obj({
      apiVersion: required(str()),
      kind: required(str()),
      name: required(str()),
      uid: required(str()),
      controller: bool(),
      blockOwnerDeletion: bool(),
    }),
  ),
  finalizers: stringList({}, { check: checkQualifiedName }),
  // Server-set fields: clients send back what they got, so they are accepted here and the REST
  // layer overwrites them.
  uid: str({ inert: SERVER_SET }),
  resourceVersion: str({ inert: SERVER_SET }),
  generation: int({ int64: true, inert: SERVER_SET }),
  creationTimestamp: str({ check: checkTimestamp, inert: SERVER_SET }),
  deletionTimestamp: str({ check: checkTimestamp, inert: SERVER_SET }),
  deletionGracePeriodSeconds: int({ int64: true, inert: SERVER_SET }),
  selfLink: str({ inert: SERVER_SET }),
  managedFields: any({ inert: 'bramble does not do server-side apply; kept as sent' }),
});

export const LABEL_SELECTOR_OPERATORS = ['In', 'NotIn', 'Exists', 'DoesNotExist'] as const;

export const labelSelector: ObjectSchema = obj({
  matchLabels: labelMap(),
  matchExpressions: arr(
    obj({
      key: required(str({ check: checkQualifiedName })),
      operator: required(enumOf(LABEL_SELECTOR_OPERATORS)),
      values: stringList({}, { check: checkLabelValue }),
    }),
  ),
});

/** A reference to another object (Endpoints targetRef, Event involvedObject). */
export const objectReference: ObjectSchema = obj({
  kind: str(),
  namespace: str(),
  name: str(),
  uid: str(),
  apiVersion: str(),
  resourceVersion: str(),
  fieldPath: str(),
});

/** `{name}`: imagePullSecrets and the like. */
export const localObjectReference: ObjectSchema = obj({ name: str() });

/** A status condition, as controllers write them. Open so that newer condition fields pass. */
export const condition: ObjectSchema = obj(
  {
    type: required(str()),
    status: required(enumOf(['True', 'False', 'Unknown'])),
    reason: str(),
    message: str(),
    lastTransitionTime: timestamp(),
    lastUpdateTime: timestamp(),
    lastProbeTime: timestamp(),
    lastHeartbeatTime: timestamp(),
    observedGeneration: int({ int64: true }),
  },
  { open: true },
);

/** The members every kind has at the top. */
export function topLevel(fields: Record<string, Schema>): ObjectSchema {
  return obj({ apiVersion: str(), kind: str(), metadata: objectMeta, ...fields });
}
