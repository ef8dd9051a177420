// From what a user types (`pods`, `deploy/web`, `svc,ep`) to resources and their URLs in
// Kubernetes' layout: /api/v1/namespaces/{ns}/pods/{name}, /apis/apps/v1/..., /api/v1/nodes.

import { UsageError } from '../errors.ts';
import { RESOURCES, qualifiedName, resolveResourceName, resourceForKind, type KObject, type ResourceInfo } from '../model/index.ts';

// kubectl's "all" category, restricted to what bramble serves.
const ALL = ['pods', 'services', 'daemonsets', 'deployments', 'replicasets'];

function apiRoot(info: ResourceInfo): string {
  return info.group === '' ? `/api/${info.version}` : `/apis/${info.group}/${info.version}`;
}

/** The collection: namespaced when `namespace` is given, cluster-wide otherwise. */
export function collectionPath(info: ResourceInfo, namespace: string | undefined): string {
  const scope = info.namespaced && namespace !== undefined ? `/namespaces/${encodeURIComponent(namespace)}` : '';
  return `${apiRoot(info)}${scope}/${info.resource}`;
}

export function objectPath(info: ResourceInfo, namespace: string | undefined, name: string, subresource?: string): string {
  return `${collectionPath(info, namespace)}/${encodeURIComponent(name)}${subresource === undefined ? '' : `/${subresource}`}`;
}

/** 'pods (po), services (svc), ...' for error messages. */
export function knownTypes(): string {
  return RESOURCES.map((r) => (r.shortNames.length === 0 ? r.resource : `${r.resource} (${r.shortNames.join(', ')})`)).join(', ');
}

export function resolveType(command: string, word: string): ResourceInfo {
  const info = resolveResourceName(word);
  if (info === undefined) {
    throw new UsageError(`bramble ${command}: the server doesn't have a resource type ${JSON.stringify(word)}; known types: ${knownTypes()}`);
  }
  return info;
}

/** `pod "web"`, `deployment.apps "web"`: how kubectl names an object in delete messages. */
export function quotedName(info: ResourceInfo, name: string): string {
  return `${info.group === '' ? info.singular : `${info.singular}.${info.group}`} ${JSON.stringify(name)}`;
}

/** The resource of an object from the API (list items may lack apiVersion/kind). */
export function infoOf(object: KObject, fallback?: ResourceInfo): ResourceInfo | undefined {
  return (object.apiVersion && object.kind ? resourceForKind(object.apiVersion, object.kind) : undefined) ?? fallback;
}

/** `deployment.apps/web`: what `-o name` prints. */
export function nameOf(object: KObject, fallback?: ResourceInfo): string {
  const info = infoOf(object, fallback);
  const name = object.metadata?.name ?? '';
  return info === undefined ? `${String(object.kind).toLowerCase()}/${name}` : qualifiedName(info, name);
}

export interface ResourceRequest {
  info: ResourceInfo;
  /** Empty: the whole collection. */
  names: string[];
}

/**
 * kubectl's argument forms: `TYPE [NAME...]`, `TYPE1,TYPE2 [NAME...]`, `TYPE/NAME [TYPE/NAME...]`,
 * and `all` (when `allowAll`). Requests of the same type are merged, in first-seen order.
 */
export function parseResourceArgs(command: string, args: readonly string[], allowAll = false): ResourceRequest[] {
  if (args.length === 0) {
    throw new UsageError(`bramble ${command}: you must specify the type of resource, e.g. 'bramble ${command} pods'; known types: ${knownTypes()}`);
  }
  const requests: ResourceRequest[] = [];
  const add = (info: ResourceInfo, names: string[]) => {
    const existing = requests.find((r) => r.info === info);
    if (existing === undefined) requests.push({ info, names: [...names] });
    else existing.names.push(...names.filter((n) => !existing.names.includes(n)));
  };
  if (args[0]!.includes('/')) {
    for (const arg of args) {
      const slash = arg.indexOf('/');
      if (slash <= 0 || slash === arg.length - 1 || arg.indexOf('/', slash + 1) !== -1) {
        throw new UsageError(`bramble ${command}: ${JSON.stringify(arg)}: expected TYPE/NAME, and then every argument in that form`);
      }
      add(resolveType(command, arg.slice(0, slash)), [arg.slice(slash + 1)]);
    }
    return requests;
  }
  const [types, ...names] = args;
  for (const name of names) {
    if (name.includes('/')) throw new UsageError(`bramble ${command}: there is no need to give a type with ${JSON.stringify(name)}: the type is ${JSON.stringify(types)}`);
  }
  for (const word of types!.split(',').filter((w) => w !== '')) {
    if (allowAll && word === 'all') {
      if (names.length > 0) throw new UsageError(`bramble ${command}: names cannot be given with "all"`);
      for (const resource of ALL) add(resolveResourceName(resource)!, []);
    } else {
      add(resolveType(command, word), names);
    }
  }
  return requests;
}
