// The shapes shared by the object model (src/model), the REST layer (src/api/resources) and the
// CLI (src/cli): which resources exist, what an object looks like, and how a refusal names the
// field it is about (Kubernetes' StatusCause).

/** A Kubernetes-shaped object as JSON: apiVersion, kind, metadata, spec, status, and the like. */
export interface KObject {
  apiVersion: string;
  kind: string;
  metadata: ObjectMeta;
  [field: string]: unknown;
}

export interface OwnerReference {
  apiVersion: string;
  kind: string;
  name: string;
  uid: string;
  controller?: boolean;
  blockOwnerDeletion?: boolean;
}

export interface ObjectMeta {
  name?: string;
  generateName?: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  generation?: number;
  creationTimestamp?: string;
  deletionTimestamp?: string;
  deletionGracePeriodSeconds?: number;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  ownerReferences?: OwnerReference[];
  finalizers?: string[];
  [field: string]: unknown;
}

/** One resource of the API, as discovery (/api/v1, /apis/apps/v1) describes it. */
export interface ResourceInfo {
  /** '' for the core group. */
  group: string;
  version: string;
  /** Plural, lower case: 'pods', 'deployments'. */
  resource: string;
  singular: string;
  kind: string;
  /** 'PodList'. */
  listKind: string;
  namespaced: boolean;
  shortNames: string[];
  /** Subresources served: 'status', 'scale', 'log', 'exec'. */
  subresources: string[];
  /** The object has a `spec` whose changes bump metadata.generation. */
  hasSpec: boolean;
}

export type CauseType =
  | 'FieldValueRequired'
  | 'FieldValueInvalid'
  | 'FieldValueNotSupported'
  | 'FieldValueDuplicate'
  | 'FieldValueTooLong'
  | 'FieldValueForbidden'
  | 'FieldValueTypeInvalid'
  | 'FieldValueUnknown'
  /** A reference to something that does not exist, e.g. a volumeMount naming no volume. */
  | 'FieldValueNotFound';

/** Why a field was refused: `field` is a path like `spec.containers[0].ports[1].containerPort`. */
export interface FieldCause {
  reason: CauseType;
  field: string;
  message: string;
}

/** The outcome of validating (and defaulting) one object. */
export type ValidationResult = { ok: true; object: KObject } | { ok: false; causes: FieldCause[] };
