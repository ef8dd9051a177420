// Kubernetes' URL layout, parsed: which resource, namespace, object and subresource a path
// names, or which discovery document. Anything else is not ours (the caller answers 404).
import type { ResourceInfo } from '../../model/index.ts';
import { findResource, RESOURCES } from '../../model/index.ts';

export type ApiPath =
  | { type: 'discovery'; doc: 'api' | 'apis' | 'version' }
  | { type: 'group'; group: string }
  | { type: 'groupVersion'; group: string; version: string }
  | {
      type: 'resource';
      info: ResourceInfo;
      /** Undefined for cluster-scoped resources and for lists across every namespace. */
      namespace: string | undefined;
      name: string | undefined;
      subresource: string | undefined;
    }
  | { type: 'unknown'; message: string };

function decodeSegment(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

/** Parses the path part of a request URL (no query). */
export function parseApiPath(path: string): ApiPath | null {
  const parts = path.split('/').filter((p) => p !== '').map(decodeSegment);
  if (parts[0] === 'version' && parts.length === 1) return { type: 'discovery', doc: 'version' };
  let group: string;
  let version: string;
  let rest: string[];
  if (parts[0] === 'api') {
    if (parts.length === 1) return { type: 'discovery', doc: 'api' };
    group = '';
    version = parts[1]!;
    rest = parts.slice(2);
  } else if (parts[0] === 'apis') {
    if (parts.length === 1) return { type: 'discovery', doc: 'apis' };
    if (parts.length === 2) return { type: 'group', group: parts[1]! };
    group = parts[1]!;
    version = parts[2]!;
    rest = parts.slice(3);
  } else {
    return null;
  }
  if (rest.length === 0) return { type: 'groupVersion', group, version };
  let namespace: string | undefined;
  if (rest[0] === 'namespaces' && rest.length >= 3) {
    // /namespaces/{ns}/{resource}/... — but /api/v1/namespaces/{ns}[/status] is the namespace itself
    namespace = rest[1]!;
    const afterNs = rest.slice(2);
    if (group === '' && afterNs.length === 1 && afterNs[0] === 'status') {
      const info = findResource('', version, 'namespaces');
      return info ? { type: 'resource', info, namespace: undefined, name: namespace, subresource: 'status' } : unknownVersion(group, version);
    }
    rest = afterNs;
  }
  const info = findResource(group, version, rest[0]!);
  if (!info) {
    if (!RESOURCES.some((r) => r.group === group && r.version === version)) return unknownVersion(group, version);
    return { type: 'unknown', message: `the server could not find the requested resource: ${group ? `${group}/${version}` : version} has no resource "${rest[0]}"` };
  }
  if (namespace !== undefined && !info.namespaced) {
    return { type: 'unknown', message: `${info.resource} are not namespaced; use /${group ? `apis/${group}` : 'api'}/${version}/${info.resource}` };
  }
  if (rest.length > 3) return { type: 'unknown', message: `the server could not find the requested resource: ${path}` };
  return { type: 'resource', info, namespace, name: rest[1], subresource: rest[2] };
}

function unknownVersion(group: string, version: string): ApiPath {
  return { type: 'unknown', message: `the server could not find the requested resource: bramble does not serve ${group ? `${group}/${version}` : version}` };
}
