// The resource API against a real single-member store, over HTTP: every verb and its error
// paths, server-set metadata, optimistic concurrency, patches, subresources, selectors, paging,
// watches (resume, selectors, 410), deletion (graceful pods, cascades, namespaces) and tokens.
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { TestApi } from './resource-helpers.ts';
import { configMap, deployment, pod, startTestApi, watchEvents } from './resource-helpers.ts';

const CM = '/api/v1/namespaces/default/configmaps';
const DEPLOY = '/apis/apps/v1/namespaces/default/deployments';
const PODS = '/api/v1/namespaces/default/pods';

async function eventually(what: string, check: () => Promise<boolean>, ms = 5000): Promise<void> {
  const start = Date.now();
  while (!(await check())) {
    if (Date.now() - start > ms) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

function assertStatus(body: any, code: number, reason: string): void {
  assert.equal(body?.kind, 'Status', JSON.stringify(body));
  assert.equal(body.apiVersion, 'v1');
  assert.equal(body.status, 'Failure');
  assert.equal(body.code, code, JSON.stringify(body));
  assert.equal(body.reason, reason, JSON.stringify(body));
  assert.equal(typeof body.message, 'string');
}

describe('resource API', () => {
  let t: TestApi;
  before(async () => {
    t = await startTestApi();
  });
  after(async () => {
    await t.close();
  });

  describe('discovery', () => {
    const cases: [string, (b: any) => void][] = [
      ['/api', (b) => assert.deepEqual(b.versions, ['v1'])],
      ['/api/v1', (b) => assert.ok(b.resources.some((r: any) => r.name === 'pods' && r.namespaced && r.shortNames.includes('po')))],
      ['/apis', (b) => assert.deepEqual(b.groups.map((g: any) => g.name).sort(), ['apps', 'metrics.k8s.io', 'networking.k8s.io'])],
      ['/apis/apps', (b) => assert.equal(b.preferredVersion.groupVersion, 'apps/v1')],
      ['/apis/apps/v1', (b) => assert.ok(b.resources.some((r: any) => r.name === 'deployments/scale'))],
      ['/apis/networking.k8s.io/v1', (b) => assert.ok(b.resources.some((r: any) => r.name === 'ingresses'))],
      ['/version', (b) => assert.match(b.gitVersion, /^v1\.\d+\.\d+/)],
    ];
    for (const [path, check] of cases) {
      it(`GET ${path}`, async () => {
        const r = await t.call('GET', path);
        assert.equal(r.status, 200);
        check(r.body);
      });
    }
    for (const path of ['/apis/batch/v1', '/apis/batch', '/api/v2', '/api/v1/widgets', '/api/v1/namespaces/default/widgets']) {
      it(`GET ${path} is a 404 Status`, async () => {
        const r = await t.call('GET', path);
        assert.equal(r.status, 404);
        assertStatus(r.body, 404, 'NotFound');
      });
    }
  });

  describe('create, get, list', () => {
    it('sets uid, creationTimestamp and resourceVersion; 409 AlreadyExists on a second create', async () => {
      const r = await t.call('POST', CM, configMap('one'));
      assert.equal(r.status, 201);
      const m = r.body.metadata;
      assert.match(m.uid, /^[0-9a-f-]{36}$/);
      assert.match(m.creationTimestamp, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
      assert.match(m.resourceVersion, /^[1-9]\d*$/);
      assert.equal(m.namespace, 'default');
      const again = await t.call('POST', CM, configMap('one'));
      assert.equal(again.status, 409);
      assertStatus(again.body, 409, 'AlreadyExists');
      const got = await t.call('GET', `${CM}/one`);
      assert.equal(got.status, 200);
      assert.equal(got.body.metadata.resourceVersion, m.resourceVersion);
      assert.equal(got.body.metadata.uid, m.uid);
    });

    it('ignores server-set fields sent by the client', async () => {
      const r = await t.call('POST', CM, configMap('forged', { a: '1' }, { uid: 'x', resourceVersion: '999', creationTimestamp: '2000-01-01T00:00:00Z' }));
      assert.equal(r.status, 201);
      assert.notEqual(r.body.metadata.uid, 'x');
      assert.notEqual(r.body.metadata.creationTimestamp, '2000-01-01T00:00:00Z');
    });

    it('generateName makes a name', async () => {
      const r = await t.call('POST', CM, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { generateName: 'gen-' }, data: {} });
      assert.equal(r.status, 201);
      assert.match(r.body.metadata.name, /^gen-[a-z0-9]{5}$/);
    });

    it('lists with the Kubernetes List shape, also across namespaces', async () => {
      const list = await t.call('GET', CM);
      assert.equal(list.status, 200);
      assert.equal(list.body.kind, 'ConfigMapList');
      assert.equal(list.body.apiVersion, 'v1');
      assert.match(list.body.metadata.resourceVersion, /^\d+$/);
      assert.ok(list.body.items.some((i: any) => i.metadata.name === 'one'));
      const all = await t.call('GET', '/api/v1/configmaps');
      assert.equal(all.status, 200);
      assert.ok(all.body.items.length >= list.body.items.length);
      const local = await t.call('GET', `${CM}?resourceVersion=0`);
      assert.equal(local.status, 200);
    });

    it('defaults: a Pod gets restartPolicy Always, protocol TCP, phase Pending', async () => {
      const body = pod('defaults');
      (body.spec.containers[0] as any).ports = [{ containerPort: 8080 }];
      const r = await t.call('POST', PODS, body);
      assert.equal(r.status, 201, r.text);
      assert.equal(r.body.spec.restartPolicy, 'Always');
      assert.equal(r.body.spec.containers[0].ports[0].protocol, 'TCP');
      assert.equal(r.body.status.phase, 'Pending');
    });

    const refusals: [string, string, string, unknown, number, string][] = [
      ['a bad name and an unknown field', PODS, 'Bad_Name', { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'Bad_Name' }, spec: { containers: [{ name: 'c', image: 'busybox', bogusField: 1 }] } }, 422, 'Invalid'],
      ['a kind that does not match the URL', CM, 'k', { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'k' } }, 400, 'BadRequest'],
      ['another namespace than the URL', CM, 'ns', configMap('ns', {}, { namespace: 'other' }), 400, 'BadRequest'],
      ['a missing namespace', '/api/v1/namespaces/nope/configmaps', 'x', configMap('x'), 404, 'NotFound'],
      ['malformed JSON', CM, 'x', '{"apiVersion": "v1", ', 400, 'BadRequest'],
      ['a JSON array', CM, 'x', '[]', 400, 'BadRequest'],
      ['a missing image', PODS, 'noimage', { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'noimage' }, spec: { containers: [{ name: 'c' }] } }, 422, 'Invalid'],
    ];
    for (const [what, path, name, body, code, reason] of refusals) {
      it(`refuses ${what} (${code}) and writes nothing`, async () => {
        const r = await t.call('POST', path, body);
        assert.equal(r.status, code, r.text);
        assertStatus(r.body, code, reason);
        const got = await t.call('GET', `${path}/${name}`);
        assert.equal(got.status, 404);
      });
    }

    it('names the fields in a 422', async () => {
      const r = await t.call('POST', PODS, { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'Bad_Name' }, spec: { containers: [{ name: 'c', image: 'busybox', bogusField: 1 }] } });
      const fields = r.body.details.causes.map((c: any) => c.field);
      assert.ok(fields.includes('metadata.name'), fields.join());
      assert.ok(fields.includes('spec.containers[0].bogusField'), fields.join());
      assert.equal(r.body.details.kind, 'Pod');
    });

    it('refuses an unsupported media type with 415', async () => {
      const r = await t.call('POST', CM, 'x', { 'content-type': 'text/plain' });
      assert.equal(r.status, 415);
      assertStatus(r.body, 415, 'UnsupportedMediaType');
    });

    it('accepts YAML bodies', async () => {
      const r = await t.call('POST', CM, 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: from-yaml\ndata:\n  k: v\n', { 'content-type': 'application/yaml' });
      assert.equal(r.status, 201, r.text);
      assert.equal(r.body.data.k, 'v');
    });

    it('refuses oversize bodies with 413', async () => {
      const r = await t.call('POST', CM, configMap('big', { a: 'x'.repeat(2_000_000) }));
      assert.equal(r.status, 413);
      assertStatus(r.body, 413, 'RequestEntityTooLarge');
    });

    it('405 for a verb the path does not take', async () => {
      const r = await t.call('PUT', CM, configMap('x'));
      assert.equal(r.status, 405);
      assertStatus(r.body, 405, 'MethodNotAllowed');
      const post = await t.call('POST', '/api/v1/pods', pod('x'));
      assert.equal(post.status, 405);
    });
  });

  describe('replace and patch', () => {
    it('PUT with the current resourceVersion succeeds, with a stale one is 409 Conflict', async () => {
      const created = (await t.call('POST', CM, configMap('rv'))).body;
      const next = { ...created, data: { a: '2' } };
      const ok = await t.call('PUT', `${CM}/rv`, next);
      assert.equal(ok.status, 200, ok.text);
      assert.ok(Number(ok.body.metadata.resourceVersion) > Number(created.metadata.resourceVersion));
      assert.equal(ok.body.metadata.uid, created.metadata.uid);
      assert.equal(ok.body.metadata.creationTimestamp, created.metadata.creationTimestamp);
      const stale = await t.call('PUT', `${CM}/rv`, { ...created, data: { a: '3' } });
      assert.equal(stale.status, 409);
      assertStatus(stale.body, 409, 'Conflict');
      assert.equal((await t.call('GET', `${CM}/rv`)).body.data.a, '2');
    });

    it('PUT without a resourceVersion is unconditional; an unchanged object keeps its resourceVersion', async () => {
      const created = (await t.call('POST', CM, configMap('uncond'))).body;
      const r = await t.call('PUT', `${CM}/uncond`, configMap('uncond', { a: '9' }));
      assert.equal(r.status, 200);
      const same = await t.call('PUT', `${CM}/uncond`, configMap('uncond', { a: '9' }));
      assert.equal(same.body.metadata.resourceVersion, r.body.metadata.resourceVersion);
      assert.notEqual(r.body.metadata.resourceVersion, created.metadata.resourceVersion);
    });

    it('PUT of a name other than the URL is 400, of a missing object 404', async () => {
      assert.equal((await t.call('PUT', `${CM}/a1`, configMap('a2'))).status, 400);
      const missing = await t.call('PUT', `${CM}/missing`, configMap('missing'));
      assert.equal(missing.status, 404);
      assertStatus(missing.body, 404, 'NotFound');
    });

    it('merge patch adds, changes and removes fields; json patch works; strategic merge is 415', async () => {
      await t.call('POST', CM, configMap('p', { a: '1', b: '2' }));
      const merged = await t.call('PATCH', `${CM}/p`, { data: { a: null, c: '3' }, metadata: { labels: { x: 'y' } } }, { 'content-type': 'application/merge-patch+json' });
      assert.equal(merged.status, 200, merged.text);
      assert.deepEqual(merged.body.data, { b: '2', c: '3' });
      assert.deepEqual(merged.body.metadata.labels, { x: 'y' });
      const json = await t.call('PATCH', `${CM}/p`, [{ op: 'replace', path: '/data/b', value: '20' }, { op: 'remove', path: '/data/c' }], { 'content-type': 'application/json-patch+json' });
      assert.equal(json.status, 200, json.text);
      assert.deepEqual(json.body.data, { b: '20' });
      const smp = await t.call('PATCH', `${CM}/p`, { data: {} }, { 'content-type': 'application/strategic-merge-patch+json' });
      assert.equal(smp.status, 415);
      const stale = await t.call('PATCH', `${CM}/p`, { metadata: { resourceVersion: '1' }, data: { z: '1' } }, { 'content-type': 'application/merge-patch+json' });
      assert.equal(stale.status, 409);
      const invalid = await t.call('PATCH', `${CM}/p`, { metadata: { labels: { 'bad key!': 'v' } } }, { 'content-type': 'application/merge-patch+json' });
      assert.equal(invalid.status, 422);
      assert.equal((await t.call('GET', `${CM}/p`)).body.metadata.labels['bad key!'], undefined);
    });

    it('generation follows spec changes; status is kept apart', async () => {
      const created = await t.call('POST', DEPLOY, deployment('gen'));
      assert.equal(created.status, 201, created.text);
      assert.equal(created.body.metadata.generation, 1);
      const withStatus = await t.call('PUT', `${DEPLOY}/gen/status`, { ...created.body, status: { replicas: 2, readyReplicas: 1 } });
      assert.equal(withStatus.status, 200, withStatus.text);
      assert.equal(withStatus.body.metadata.generation, 1);
      assert.equal(withStatus.body.status.readyReplicas, 1);
      const changed = { ...withStatus.body, spec: { ...withStatus.body.spec, replicas: 4 }, status: { replicas: 99 } };
      const r = await t.call('PUT', `${DEPLOY}/gen`, changed);
      assert.equal(r.status, 200, r.text);
      assert.equal(r.body.metadata.generation, 2);
      assert.equal(r.body.status.replicas, 2, 'a PUT of the object does not change its status');
      const patchedStatus = await t.call('PATCH', `${DEPLOY}/gen/status`, { status: { availableReplicas: 2 }, spec: { replicas: 1 } }, { 'content-type': 'application/merge-patch+json' });
      assert.equal(patchedStatus.status, 200, patchedStatus.text);
      assert.equal(patchedStatus.body.spec.replicas, 4, 'a status patch does not change the spec');
      assert.equal(patchedStatus.body.status.availableReplicas, 2);
    });

    it('a Service replaced without its clusterIP keeps the one it has', async () => {
      const svc = (ip?: string) => ({ apiVersion: 'v1', kind: 'Service', metadata: { name: 'keepip' }, spec: { ...(ip ? { clusterIP: ip } : {}), selector: { app: 'x' }, ports: [{ port: 80 }] } });
      assert.equal((await t.call('POST', '/api/v1/namespaces/default/services', svc('10.43.0.50'))).status, 201);
      const r = await t.call('PUT', '/api/v1/namespaces/default/services/keepip', svc());
      assert.equal(r.status, 200, r.text);
      assert.equal(r.body.spec.clusterIP, '10.43.0.50');
      const changed = await t.call('PUT', '/api/v1/namespaces/default/services/keepip', svc('10.43.0.51'));
      assert.equal(changed.status, 422, 'clusterIP cannot change once set');
    });

    it('refuses a change to an immutable selector', async () => {
      const d = (await t.call('POST', DEPLOY, deployment('immut'))).body;
      const changed = structuredClone(d);
      changed.spec.selector = { matchLabels: { app: 'other' } };
      changed.spec.template.metadata.labels = { app: 'other' };
      const r = await t.call('PUT', `${DEPLOY}/immut`, changed);
      assert.equal(r.status, 422, r.text);
      assert.ok(r.body.details.causes.some((c: any) => c.field === 'spec.selector'));
    });
  });

  describe('scale', () => {
    it('reads and sets replicas through autoscaling/v1 Scale', async () => {
      await t.call('POST', DEPLOY, deployment('sc', 2));
      const s = await t.call('GET', `${DEPLOY}/sc/scale`);
      assert.equal(s.status, 200);
      assert.equal(s.body.kind, 'Scale');
      assert.equal(s.body.apiVersion, 'autoscaling/v1');
      assert.equal(s.body.spec.replicas, 2);
      assert.equal(s.body.status.selector, 'app=sc');
      const put = await t.call('PUT', `${DEPLOY}/sc/scale`, { apiVersion: 'autoscaling/v1', kind: 'Scale', metadata: { name: 'sc', namespace: 'default' }, spec: { replicas: 5 } });
      assert.equal(put.status, 200, put.text);
      assert.equal(put.body.spec.replicas, 5);
      assert.equal((await t.call('GET', `${DEPLOY}/sc`)).body.spec.replicas, 5);
      const patch = await t.call('PATCH', `${DEPLOY}/sc/scale`, { spec: { replicas: 1 } }, { 'content-type': 'application/merge-patch+json' });
      assert.equal(patch.body.spec.replicas, 1);
      const bad = await t.call('PUT', `${DEPLOY}/sc/scale`, { spec: { replicas: -1 } });
      assert.equal(bad.status, 422);
      assert.equal((await t.call('GET', `${PODS}/x/scale`)).status, 404);
    });
  });

  describe('selectors and paging', () => {
    before(async () => {
      for (let i = 0; i < 7; i++) {
        await t.call('POST', '/api/v1/namespaces/default/secrets', { apiVersion: 'v1', kind: 'Secret', metadata: { name: `s${i}`, labels: { tier: i % 2 ? 'odd' : 'even' } }, stringData: { k: `v${i}` } });
      }
    });

    it('labelSelector and fieldSelector filter lists; a bad selector is 400', async () => {
      const odd = await t.call('GET', '/api/v1/namespaces/default/secrets?labelSelector=tier%3Dodd');
      assert.deepEqual(odd.body.items.map((s: any) => s.metadata.name), ['s1', 's3', 's5']);
      const notIn = await t.call('GET', '/api/v1/namespaces/default/secrets?labelSelector=tier+notin+(odd)');
      assert.equal(notIn.body.items.length, 4);
      const byName = await t.call('GET', '/api/v1/namespaces/default/secrets?fieldSelector=metadata.name%3Ds2');
      assert.deepEqual(byName.body.items.map((s: any) => s.metadata.name), ['s2']);
      assert.equal(byName.body.items[0].data.k, Buffer.from('v2').toString('base64'));
      const bad = await t.call('GET', '/api/v1/namespaces/default/secrets?labelSelector=a%20in%20(');
      assert.equal(bad.status, 400);
      assertStatus(bad.body, 400, 'BadRequest');
    });

    it('limit and continue page through a list at one revision', async () => {
      const names: string[] = [];
      let token = '';
      let revision = '';
      for (let pages = 0; pages < 10; pages++) {
        const r = await t.call('GET', `/api/v1/namespaces/default/secrets?limit=3${token ? `&continue=${token}` : ''}`);
        assert.equal(r.status, 200, r.text);
        if (revision === '') revision = r.body.metadata.resourceVersion;
        else assert.equal(r.body.metadata.resourceVersion, revision);
        names.push(...r.body.items.map((s: any) => s.metadata.name));
        token = r.body.metadata.continue ?? '';
        if (!token) break;
        if (pages === 0) await t.call('POST', '/api/v1/namespaces/default/secrets', { apiVersion: 'v1', kind: 'Secret', metadata: { name: 's99' } });
      }
      assert.deepEqual(names, ['s0', 's1', 's2', 's3', 's4', 's5', 's6'], 'a later write does not show up in a continued list');
      const bad = await t.call('GET', '/api/v1/namespaces/default/secrets?limit=2&continue=garbage');
      assert.equal(bad.status, 400);
      const badLimit = await t.call('GET', '/api/v1/namespaces/default/secrets?limit=-1');
      assert.equal(badLimit.status, 400);
    });
  });

  describe('watch', () => {
    it('streams ADDED, MODIFIED, DELETED in order from a resourceVersion, and resumes', async () => {
      const ns = '/api/v1/namespaces/default/endpoints';
      const list = await t.call('GET', ns);
      const rv = list.body.metadata.resourceVersion;
      const watching = watchEvents(`${t.url}${ns}?watch=true&resourceVersion=${rv}`, 3, 5000, () => undefined);
      await sleep(100);
      const ep = { apiVersion: 'v1', kind: 'Endpoints', metadata: { name: 'w1' }, subsets: [] };
      const created = await t.call('POST', ns, ep);
      await t.call('PATCH', `${ns}/w1`, { metadata: { labels: { x: '1' } } }, { 'content-type': 'application/merge-patch+json' });
      await t.call('DELETE', `${ns}/w1`);
      const { events } = await watching;
      assert.deepEqual(events.map((e) => e.type), ['ADDED', 'MODIFIED', 'DELETED']);
      assert.equal(events[0].object.metadata.resourceVersion, created.body.metadata.resourceVersion);
      const revs = events.map((e) => Number(e.object.metadata.resourceVersion));
      assert.deepEqual([...revs].sort((a, b) => a - b), revs);
      // resume after the first event: the two later ones only
      const resumed = await watchEvents(`${t.url}${ns}?watch=true&resourceVersion=${revs[0]}`, 2, 3000);
      assert.deepEqual(resumed.events.map((e) => e.type), ['MODIFIED', 'DELETED']);
    });

    it('without a resourceVersion, starts with the current objects as ADDED', async () => {
      await t.call('POST', CM, configMap('initial-w', { a: '1' }, { labels: { w: 'init' } }));
      const { events } = await watchEvents(`${t.url}${CM}?watch=1&labelSelector=w%3Dinit`, 1, 3000);
      assert.equal(events[0].type, 'ADDED');
      assert.equal(events[0].object.metadata.name, 'initial-w');
    });

    it('with a label selector, an object that stops matching is DELETED for the watcher', async () => {
      const rv = (await t.call('POST', CM, configMap('sel', { a: '1' }, { labels: { team: 'a' } }))).body.metadata.resourceVersion;
      const watching = watchEvents(`${t.url}${CM}?watch=true&resourceVersion=${rv}&labelSelector=team%3Da`, 2, 4000);
      await sleep(100);
      await t.call('PATCH', `${CM}/sel`, { metadata: { labels: { team: 'b' } } }, { 'content-type': 'application/merge-patch+json' });
      await t.call('PATCH', `${CM}/sel`, { metadata: { labels: { team: 'a' } } }, { 'content-type': 'application/merge-patch+json' });
      const { events } = await watching;
      assert.deepEqual(events.map((e) => e.type), ['DELETED', 'ADDED']);
    });

    it('answers 410 Expired for a compacted resourceVersion', async () => {
      const first = (await t.call('POST', CM, configMap('old1'))).body.metadata.resourceVersion;
      for (let i = 0; i < 3; i++) await t.call('PATCH', `${CM}/old1`, { data: { i: String(i) } }, { 'content-type': 'application/merge-patch+json' });
      const latest = Number((await t.call('GET', `${CM}/old1`)).body.metadata.resourceVersion);
      const { result } = await t.store.service.write({ op: 'compact', compact: { revision: latest } });
      assert.equal(result.op, 'compact');
      // The watch cache may still hold these changes; a resourceVersion from before it does not.
      const r = await watchEvents(`${t.url}${CM}?watch=true&resourceVersion=1`, 1, 3000);
      assert.equal(r.status, 410, JSON.stringify(r.events));
      assertStatus(r.events[0], 410, 'Expired');
      void first;
    });

    it('sends BOOKMARKs only when asked, and a bad resourceVersion is 400', async () => {
      const bad = await t.call('GET', `${CM}?watch=true&resourceVersion=abc`);
      assert.equal(bad.status, 400);
    });
  });

  describe('delete', () => {
    it('deletes, answers the object, and then 404', async () => {
      await t.call('POST', CM, configMap('del'));
      const r = await t.call('DELETE', `${CM}/del`);
      assert.equal(r.status, 200);
      assert.equal(r.body.metadata.name, 'del');
      assert.equal((await t.call('GET', `${CM}/del`)).status, 404);
      assert.equal((await t.call('DELETE', `${CM}/del`)).status, 404);
    });

    it('checks DeleteOptions preconditions', async () => {
      await t.call('POST', CM, configMap('pre'));
      const r = await t.call('DELETE', `${CM}/pre`, { preconditions: { uid: 'not-it' } });
      assert.equal(r.status, 409);
      const unknown = await t.call('DELETE', `${CM}/pre`, { bogus: 1 });
      assert.equal(unknown.status, 400);
      assert.equal((await t.call('GET', `${CM}/pre`)).status, 200);
    });

    it('removes dependents with their owner, or orphans them on request', async () => {
      const owner = (await t.call('POST', CM, configMap('owner'))).body;
      const ref = [{ apiVersion: 'v1', kind: 'ConfigMap', name: 'owner', uid: owner.metadata.uid }];
      await t.call('POST', CM, configMap('child', {}, { ownerReferences: ref }));
      await t.call('POST', PODS, { ...pod('child-pod'), metadata: { name: 'child-pod', ownerReferences: ref } });
      assert.equal((await t.call('DELETE', `${CM}/owner`)).status, 200);
      await eventually('dependents deleted', async () => (await t.call('GET', `${CM}/child`)).status === 404 && (await t.call('GET', `${PODS}/child-pod`)).status === 404);

      const owner2 = (await t.call('POST', CM, configMap('owner2'))).body;
      await t.call('POST', CM, configMap('child2', {}, { ownerReferences: [{ apiVersion: 'v1', kind: 'ConfigMap', name: 'owner2', uid: owner2.metadata.uid }] }));
      assert.equal((await t.call('DELETE', `${CM}/owner2?propagationPolicy=Orphan`)).status, 200);
      await eventually('orphaned', async () => ((await t.call('GET', `${CM}/child2`)).body.metadata.ownerReferences ?? []).length === 0);
    });

    it('deletes a Pod on a node gracefully, and at once with gracePeriodSeconds=0', async () => {
      await t.call('POST', '/api/v1/nodes', { apiVersion: 'v1', kind: 'Node', metadata: { name: 'n1' } });
      await t.call('POST', PODS, pod('graceful', 'n1'));
      const r = await t.call('DELETE', `${PODS}/graceful`);
      assert.equal(r.status, 202, r.text);
      assert.ok(r.body.metadata.deletionTimestamp);
      assert.equal(r.body.metadata.deletionGracePeriodSeconds, 30);
      assert.equal((await t.call('GET', `${PODS}/graceful`)).status, 200, 'still there until its node agent has stopped it');
      assert.equal((await t.call('DELETE', `${PODS}/graceful?gracePeriodSeconds=0`)).status, 200);
      assert.equal((await t.call('GET', `${PODS}/graceful`)).status, 404);
      // a pod bound to a node that does not exist has nobody to stop it
      await t.call('POST', PODS, pod('nowhere', 'no-such-node'));
      assert.equal((await t.call('DELETE', `${PODS}/nowhere`)).status, 200);
      assert.equal((await t.call('GET', `${PODS}/nowhere`)).status, 404);
    });

    it('waits for finalizers, and removes the object when the last one goes', async () => {
      await t.call('POST', CM, configMap('fin', {}, { finalizers: ['example.com/keep'] }));
      const r = await t.call('DELETE', `${CM}/fin`);
      assert.equal(r.status, 202);
      assert.ok(r.body.metadata.deletionTimestamp);
      const labelled = await t.call('PATCH', `${CM}/fin`, { metadata: { labels: { still: 'here' } } }, { 'content-type': 'application/merge-patch+json' });
      assert.equal(labelled.status, 200, 'other updates leave it in place');
      assert.equal((await t.call('GET', `${CM}/fin`)).status, 200);
      await t.call('PATCH', `${CM}/fin`, { metadata: { finalizers: null } }, { 'content-type': 'application/merge-patch+json' });
      assert.equal((await t.call('GET', `${CM}/fin`)).status, 404);
    });

    it('empties a namespace before removing it; default is protected', async () => {
      assert.equal((await t.call('POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'scratch' } })).status, 201);
      assert.equal((await t.call('POST', '/api/v1/namespaces/scratch/configmaps', configMap('inside'))).status, 201);
      const r = await t.call('DELETE', '/api/v1/namespaces/scratch');
      assert.equal(r.status, 202);
      assert.equal(r.body.status.phase, 'Terminating');
      const during = await t.call('POST', '/api/v1/namespaces/scratch/configmaps', configMap('late'));
      assert.ok(during.status === 403 || during.status === 404, `a create in a terminating namespace is refused (${during.status})`);
      await eventually('namespace gone', async () => (await t.call('GET', '/api/v1/namespaces/scratch')).status === 404);
      assert.equal((await t.call('POST', '/api/v1/namespaces/scratch/configmaps', configMap('after'))).status, 404, 'a create in a deleted namespace is refused');
      assert.equal((await t.call('GET', '/api/v1/namespaces/scratch/configmaps/inside')).status, 404);
      const d = await t.call('DELETE', '/api/v1/namespaces/default');
      assert.equal(d.status, 403);
      assertStatus(d.body, 403, 'Forbidden');
    });
  });

  describe('logs and exec', () => {
    it('refuse an unscheduled pod, and a gateway without a runtime answers 503', async () => {
      await t.call('POST', PODS, pod('unscheduled'));
      assert.equal((await t.call('GET', `${PODS}/unscheduled/log`)).status, 400);
      await t.call('POST', PODS, pod('here', 'm1'));
      const r = await t.call('GET', `${PODS}/here/log`);
      assert.equal(r.status, 503);
      assertStatus(r.body, 503, 'ServiceUnavailable');
      const bad = await t.call('POST', `${PODS}/here/exec`, { command: 'ls' });
      assert.equal(bad.status, 400);
      const wrongContainer = await t.call('GET', `${PODS}/here/log?container=nope`);
      assert.equal(wrongContainer.status, 400);
      for (const option of ['previous=true', 'timestamps=true', 'sinceSeconds=60', 'limitBytes=10']) {
        const r = await t.call('GET', `${PODS}/here/log?${option}`);
        assert.equal(r.status, 400, option);
        assert.match(r.body.message, /not supported/);
      }
    });
  });

  describe('node metrics', () => {
    it('serves metrics.k8s.io NodeMetrics for this gateway and the list of all', async () => {
      const list = await t.call('GET', '/apis/metrics.k8s.io/v1beta1/nodes');
      assert.equal(list.status, 200);
      assert.equal(list.body.kind, 'NodeMetricsList');
      assert.deepEqual(list.body.items.map((m: any) => [m.metadata.name, m.usage.cpu, m.usage.memory]), [['m1', '250m', '512Mi']]);
      assert.equal((await t.call('GET', '/apis/metrics.k8s.io/v1beta1/nodes/m1')).body.window, '10s');
      assert.equal((await t.call('GET', '/apis/metrics.k8s.io/v1beta1/nodes/zz')).status, 404);
      assert.ok((await t.call('GET', '/apis')).body.groups.some((g: any) => g.name === 'metrics.k8s.io'));
    });
  });

  describe('tokens', () => {
    it('stores a made token by digest and finds it again', async () => {
      const made = await t.call('POST', '/bramble/v1/tokens', { readOnly: true });
      assert.equal(made.status, 201);
      assert.match(made.body.token, /^brr_/);
      const registry = (await import('../../src/api/tokens.ts')).TokenRegistry;
      const found = await new registry(t.store.service).lookup(made.body.token);
      assert.equal(found?.readOnly, true);
      assert.equal(await new registry(t.store.service).lookup('brr_unknown'), null);
    });
  });
});

describe('resource API: callers from other hosts', () => {
  it('need a token; a read-only token may read but not write (403 Status)', async () => {
    const t = await startTestApi({ remoteAddress: '10.0.0.9' });
    try {
      const none = await t.call('GET', CM);
      assert.equal(none.status, 401);
      assertStatus(none.body, 401, 'Unauthorized');
      const kvNone = await t.call('POST', '/v3/kv/range', { key: 'YQ==' });
      assert.equal(kvNone.status, 401);
      const admin = { authorization: 'Bearer admin-token' };
      assert.equal((await t.call('POST', CM, configMap('by-admin'), admin)).status, 201);
      const made = await t.call('POST', '/bramble/v1/tokens', { readOnly: true }, admin);
      assert.equal(made.status, 201);
      const reader = { authorization: `Bearer ${made.body.token}` };
      assert.equal((await t.call('GET', `${CM}/by-admin`, undefined, reader)).status, 200);
      const write = await t.call('POST', CM, configMap('by-reader'), reader);
      assert.equal(write.status, 403);
      assertStatus(write.body, 403, 'Forbidden');
      assert.equal((await t.call('DELETE', `${CM}/by-admin`, undefined, reader)).status, 403);
      assert.equal((await t.call('POST', '/v3/kv/range', { key: 'YQ==' }, reader)).status, 200);
      assert.equal((await t.call('POST', '/v3/kv/put', { key: 'YQ==', value: 'Yg==' }, reader)).status, 403);
      assert.equal((await t.call('POST', '/bramble/v1/tokens', { readOnly: false }, reader)).status, 403, 'a reader cannot mint an admin token');
      const writerToken = (await t.call('POST', '/bramble/v1/tokens', {}, admin)).body.token;
      assert.equal((await t.call('POST', CM, configMap('by-writer'), { authorization: `Bearer ${writerToken}` })).status, 201);
      assert.equal((await t.call('POST', '/bramble/v1/tokens', { readOnly: 'yes' }, admin)).status, 400);
    } finally {
      await t.close();
    }
  });
});

describe('resource API: logs and exec on other gateways', () => {
  it('runs on the local runtime, and forwards to the gateway that runs the pod', async () => {
    const seen: { url?: string; auth?: string; from?: string; body?: string } = {};
    const other = createServer((req, res) => {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        Object.assign(seen, { url: req.url, auth: req.headers.authorization, from: req.headers['x-bramble-forwarded-from'], body });
        res.writeHead(200, { 'content-type': 'text/plain' });
        res.end('remote log line\n');
      });
    });
    await new Promise<void>((r) => other.listen(0, '127.0.0.1', r));
    const otherUrl = `http://127.0.0.1:${(other.address() as AddressInfo).port}`;
    const t = await startTestApi({
      apiUrlOf: (node) => (node === 'm2' ? otherUrl : undefined),
      runtime: {
        async logs(_pod, container, options, out) {
          out.writeHead(200, { 'content-type': 'text/plain' });
          out.end(`local ${container} tail=${options.tailLines}\n`);
        },
        async exec(_pod, container, command) {
          return { exitCode: 3, stdout: `${container}:${command.join(' ')}`, stderr: '' };
        },
      },
    });
    try {
      await t.call('POST', PODS, pod('local', 'm1'));
      await t.call('POST', PODS, pod('remote', 'm2'));
      const local = await t.call('GET', `${PODS}/local/log?tailLines=5`);
      assert.equal(local.status, 200);
      assert.equal(local.text, 'local c tail=5\n');
      const exec = await t.call('POST', `${PODS}/local/exec`, { command: ['echo', 'hi'] });
      assert.deepEqual(exec.body, { exitCode: 3, stdout: 'c:echo hi', stderr: '' });
      const remote = await t.call('GET', `${PODS}/remote/log?follow=true`);
      assert.equal(remote.status, 200);
      assert.equal(remote.text, 'remote log line\n');
      assert.equal(seen.url, `${PODS}/remote/log?follow=true`);
      assert.equal(seen.auth, 'Bearer admin-token');
      assert.equal(seen.from, 'm1');
      const loop = await t.call('GET', `${PODS}/remote/log`, undefined, { 'x-bramble-forwarded-from': 'm2' });
      assert.equal(loop.status, 503);
      await t.call('POST', PODS, pod('lost', 'm9'));
      assert.equal((await t.call('GET', `${PODS}/lost/log`)).status, 503);
    } finally {
      await t.close();
      other.close();
    }
  });
});
