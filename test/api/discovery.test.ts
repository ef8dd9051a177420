// The discovery documents' shape: every resource with its verbs, and every subresource with the
// kind and verbs Kubernetes' discovery gives it (limited to what bramble serves), so that
// generic clients pick the right request for binding, log, exec, scale and status.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { apiResourceList } from '../../src/api/resources/discovery.ts';
import { groupVersion, RESOURCES } from '../../src/model/index.ts';

interface Entry {
  name: string;
  singularName: string;
  namespaced: boolean;
  kind: string;
  verbs: string[];
  group?: string;
  version?: string;
  shortNames?: string[];
}

function entries(group: string, version: string): Map<string, Entry> {
  const list = apiResourceList(group, version) as { kind: string; groupVersion: string; resources: Entry[] } | null;
  assert.ok(list, `no APIResourceList for ${group}/${version}`);
  assert.equal(list.kind, 'APIResourceList');
  return new Map(list.resources.map((r) => [r.name, r]));
}

const core = () => entries('', 'v1');
const apps = () => entries('apps', 'v1');

describe('discovery: subresources', () => {
  test('pods/binding is a Binding that is only created', () => {
    const binding = core().get('pods/binding');
    assert.deepEqual(binding, { name: 'pods/binding', singularName: '', namespaced: true, kind: 'Binding', verbs: ['create'] });
  });

  test('pods/log is read as the Pod kind; pods/exec is created', () => {
    const c = core();
    assert.deepEqual(c.get('pods/log'), { name: 'pods/log', singularName: '', namespaced: true, kind: 'Pod', verbs: ['get'] });
    assert.deepEqual(c.get('pods/exec'), { name: 'pods/exec', singularName: '', namespaced: true, kind: 'PodExecOptions', verbs: ['create'] });
  });

  test('deployments/scale and replicasets/scale are autoscaling/v1 Scale', () => {
    for (const name of ['deployments/scale', 'replicasets/scale']) {
      assert.deepEqual(apps().get(name), { name, singularName: '', namespaced: true, kind: 'Scale', verbs: ['get', 'patch', 'update'], group: 'autoscaling', version: 'v1' });
    }
  });

  test('every status subresource is the object itself with get, patch and update', () => {
    const withStatus = RESOURCES.filter((r) => r.subresources.includes('status'));
    assert.ok(withStatus.length >= 6, 'pods, nodes, namespaces, services, workloads and ingresses have a status');
    for (const r of withStatus) {
      const status = entries(r.group, r.version).get(`${r.resource}/status`);
      assert.deepEqual(status, { name: `${r.resource}/status`, singularName: '', namespaced: r.namespaced, kind: r.kind, verbs: ['get', 'patch', 'update'] }, groupVersion(r));
    }
  });

  test('every subresource of the resource table is listed once, with a kind and verbs', () => {
    for (const r of RESOURCES) {
      const listed = entries(r.group, r.version);
      for (const sub of r.subresources) {
        const e = listed.get(`${r.resource}/${sub}`);
        assert.ok(e, `${r.resource}/${sub} is missing`);
        assert.ok(e.kind.length > 0 && e.verbs.length > 0, `${r.resource}/${sub}`);
      }
    }
  });
});

describe('discovery: resources', () => {
  test('a resource lists every verb bramble serves on it, deletecollection included', () => {
    const pods = core().get('pods');
    assert.deepEqual(pods, {
      name: 'pods',
      singularName: 'pod',
      namespaced: true,
      kind: 'Pod',
      verbs: ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'],
      shortNames: ['po'],
    });
    const nodes = core().get('nodes');
    assert.equal(nodes?.namespaced, false);
    assert.equal(nodes?.kind, 'Node');
  });

  test('a group version bramble does not serve has no list', () => {
    assert.equal(apiResourceList('batch', 'v1'), null);
    assert.equal(apiResourceList('apps', 'v1beta1'), null);
  });
});
