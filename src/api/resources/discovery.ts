// Discovery documents (/api, /api/v1, /apis, /apis/{group}, /apis/{group}/{version}) and /version,
// made from the resource table, so generic Kubernetes clients find what bramble serves.
import type { ResourceInfo } from '../../model/index.ts';
import { groupVersion, RESOURCES } from '../../model/index.ts';
import { VERSION } from '../../version.ts';

/** The Kubernetes API version whose shapes bramble follows. */
export const KUBERNETES_COMPAT = { major: '1', minor: '29' };

// deletecollection is served for every resource (DELETE on a collection, routes.ts).
const ALL_VERBS = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'];

interface SubresourceShape {
  kind: string;
  verbs: string[];
  group?: string;
  version?: string;
}

/**
 * What Kubernetes' discovery says of a subresource, limited to the verbs bramble serves: binding
 * is a POSTed Binding, log a GET, exec a POST (bramble's JSON exec has no GET/websocket form),
 * scale an autoscaling/v1 Scale, status the object itself.
 */
function subresourceShape(kind: string, sub: string): SubresourceShape {
  switch (sub) {
    case 'binding':
      return { kind: 'Binding', verbs: ['create'] };
    case 'log':
      return { kind: 'Pod', verbs: ['get'] };
    case 'exec':
      return { kind: 'PodExecOptions', verbs: ['create'] };
    case 'scale':
      return { kind: 'Scale', verbs: ['get', 'patch', 'update'], group: 'autoscaling', version: 'v1' };
    case 'status':
      return { kind, verbs: ['get', 'patch', 'update'] };
    default:
      // The resource table gained a subresource without saying what it is: a programmer error.
      throw new Error(`discovery: no shape for subresource "${sub}" of ${kind}; add it to subresourceShape in src/api/resources/discovery.ts`);
  }
}

function groups(): Map<string, ResourceInfo[]> {
  const byGroup = new Map<string, ResourceInfo[]>();
  for (const r of RESOURCES) {
    if (r.group === '') continue;
    const list = byGroup.get(r.group) ?? [];
    list.push(r);
    byGroup.set(r.group, list);
  }
  return byGroup;
}

function groupDocument(group: string, resources: ResourceInfo[]) {
  const version = resources[0]!.version;
  const gv = { groupVersion: `${group}/${version}`, version };
  return { name: group, versions: [gv], preferredVersion: gv };
}

export function apiVersions(serverAddress: string) {
  return { kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress }] };
}

const METRICS_GROUP = { name: 'metrics.k8s.io', versions: [{ groupVersion: 'metrics.k8s.io/v1beta1', version: 'v1beta1' }], preferredVersion: { groupVersion: 'metrics.k8s.io/v1beta1', version: 'v1beta1' } };

export function apiGroupList() {
  return { kind: 'APIGroupList', apiVersion: 'v1', groups: [...[...groups()].map(([g, rs]) => groupDocument(g, rs)), METRICS_GROUP] };
}

export function apiGroup(group: string) {
  const rs = groups().get(group);
  return rs ? { kind: 'APIGroup', apiVersion: 'v1', ...groupDocument(group, rs) } : null;
}

/** The APIResourceList of one group version, or null when bramble serves none of it. */
export function apiResourceList(group: string, version: string) {
  const rs = RESOURCES.filter((r) => r.group === group && r.version === version);
  if (rs.length === 0) return null;
  const resources: Record<string, unknown>[] = [];
  for (const r of rs) {
    resources.push({ name: r.resource, singularName: r.singular, namespaced: r.namespaced, kind: r.kind, verbs: ALL_VERBS, ...(r.shortNames.length ? { shortNames: r.shortNames } : {}) });
    for (const sub of r.subresources) resources.push({ name: `${r.resource}/${sub}`, singularName: '', namespaced: r.namespaced, ...subresourceShape(r.kind, sub) });
  }
  return { kind: 'APIResourceList', apiVersion: 'v1', groupVersion: groupVersion(rs[0]!), resources };
}

export function versionInfo(runtime: { platform: string; arch: string; node: string }) {
  return {
    major: KUBERNETES_COMPAT.major,
    minor: KUBERNETES_COMPAT.minor,
    gitVersion: `v${KUBERNETES_COMPAT.major}.${KUBERNETES_COMPAT.minor}.0-bramble.${VERSION}`,
    gitCommit: '',
    gitTreeState: 'clean',
    buildDate: '',
    goVersion: `node${runtime.node}`,
    compiler: 'esbuild',
    platform: `${runtime.platform}/${runtime.arch}`,
    bramble: VERSION,
  };
}
