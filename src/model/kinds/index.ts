// The schema of each kind, by kind name. Adding a kind: its entry in resources.ts, its schema here.
import type { ObjectSchema } from '../schema.ts';
import { daemonSetSchema, deploymentSchema, replicaSetSchema } from './apps.ts';
import { eventSchema, namespaceSchema, nodeSchema } from './cluster.ts';
import { configMapSchema, secretSchema } from './config.ts';
import { ingressSchema } from './ingress.ts';
import { podSchema } from './pod.ts';
import { endpointsSchema, serviceSchema } from './service.ts';

export const KIND_SCHEMAS: Readonly<Record<string, ObjectSchema>> = {
  Namespace: namespaceSchema,
  Node: nodeSchema,
  Pod: podSchema,
  Service: serviceSchema,
  Endpoints: endpointsSchema,
  ConfigMap: configMapSchema,
  Secret: secretSchema,
  Event: eventSchema,
  Deployment: deploymentSchema,
  ReplicaSet: replicaSetSchema,
  DaemonSet: daemonSetSchema,
  Ingress: ingressSchema,
};

/** The schema of a kind; a programmer error (not a user's) if the resource table has a kind without one. */
export function schemaForKind(kind: string): ObjectSchema {
  const schema = KIND_SCHEMAS[kind];
  if (schema === undefined) throw new Error(`model: no schema for kind ${kind}`);
  return schema;
}
