// The resources bramble serves, in Kubernetes' URL layout and discovery shape. One table drives
// the REST routes, discovery documents, the CLI's type names (short names included) and the
// storage keys, so adding a kind is one entry here plus its schema.
import type { ResourceInfo } from './types.ts';

function core(resource: string, kind: string, namespaced: boolean, shortNames: string[], subresources: string[] = [], hasSpec = true): ResourceInfo {
  return { group: '', version: 'v1', resource, singular: kind.toLowerCase(), kind, listKind: `${kind}List`, namespaced, shortNames, subresources, hasSpec };
}

function grouped(group: string, resource: string, kind: string, shortNames: string[], subresources: string[] = []): ResourceInfo {
  return { group, version: 'v1', resource, singular: kind.toLowerCase(), kind, listKind: `${kind}List`, namespaced: true, shortNames, subresources, hasSpec: true };
}

export const RESOURCES: readonly ResourceInfo[] = [
  core('namespaces', 'Namespace', false, ['ns'], ['status']),
  core('nodes', 'Node', false, ['no'], ['status']),
  core('pods', 'Pod', true, ['po'], ['status', 'binding', 'log', 'exec']),
  core('services', 'Service', true, ['svc'], ['status']),
  core('endpoints', 'Endpoints', true, ['ep'], [], false),
  core('configmaps', 'ConfigMap', true, ['cm'], [], false),
  core('secrets', 'Secret', true, [], [], false),
  core('events', 'Event', true, ['ev'], [], false),
  grouped('apps', 'deployments', 'Deployment', ['deploy'], ['status', 'scale']),
  grouped('apps', 'replicasets', 'ReplicaSet', ['rs'], ['status', 'scale']),
  grouped('apps', 'daemonsets', 'DaemonSet', ['ds'], ['status']),
  grouped('networking.k8s.io', 'ingresses', 'Ingress', ['ing'], ['status']),
];

/** 'v1' or 'apps/v1'. */
export function groupVersion(info: Pick<ResourceInfo, 'group' | 'version'>): string {
  return info.group === '' ? info.version : `${info.group}/${info.version}`;
}

/** The resource served at /api/v1/{resource} or /apis/{group}/{version}/{resource}. */
export function findResource(group: string, version: string, resource: string): ResourceInfo | undefined {
  return RESOURCES.find((r) => r.group === group && r.version === version && r.resource === resource);
}

/** The resource of a manifest's apiVersion and kind ('apps/v1', 'Deployment'). */
export function resourceForKind(apiVersion: string, kind: string): ResourceInfo | undefined {
  return RESOURCES.find((r) => groupVersion(r) === apiVersion && r.kind === kind);
}

/**
 * The resource a CLI user means: plural, singular, kind or short name, case-insensitive,
 * optionally qualified by group ('deployments.apps', 'deploy', 'Deployment', 'ing').
 */
export function resolveResourceName(name: string): ResourceInfo | undefined {
  const lower = name.toLowerCase();
  const dot = lower.indexOf('.');
  const base = dot < 0 ? lower : lower.slice(0, dot);
  const group = dot < 0 ? undefined : lower.slice(dot + 1);
  return RESOURCES.find(
    (r) =>
      (group === undefined || r.group === group) &&
      (r.resource === base || r.singular === base || r.kind.toLowerCase() === base || r.shortNames.includes(base)),
  );
}

/** kubectl's name for an object in messages: 'deployment.apps/web', 'service/web'. */
export function qualifiedName(info: ResourceInfo, name: string): string {
  return `${info.group === '' ? info.singular : `${info.singular}.${info.group}`}/${name}`;
}
