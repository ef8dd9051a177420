// The binding subresource over HTTP against a real store: it binds once, as Kubernetes does
// (any node name, 201 with a Status), refuses bad bodies, a second bind, a stale
// resourceVersion and a pod being deleted, and spec.nodeName stays immutable otherwise.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { TestApi } from './resource-helpers.ts';
import { pod, startTestApi } from './resource-helpers.ts';

const binding = (name: string, node: string, extra: Record<string, unknown> = {}) => ({
  apiVersion: 'v1',
  kind: 'Binding',
  metadata: { name, ...extra },
  target: { apiVersion: 'v1', kind: 'Node', name: node },
});

describe('pods/binding', () => {
  let t: TestApi;
  const base = '/api/v1/namespaces/default/pods';
  before(async () => {
    t = await startTestApi();
  });
  after(async () => {
    await t.close();
  });

  it('binds a pending pod to a node (even one that does not exist) and sets PodScheduled', async () => {
    assert.equal((await t.call('POST', base, pod('b1'))).status, 201);
    const r = await t.call('POST', `${base}/b1/binding`, binding('b1', 'gw-nowhere'));
    assert.equal(r.status, 201, r.text);
    assert.deepEqual(r.body, { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', code: 201 });
    const bound = (await t.call('GET', `${base}/b1`)).body;
    assert.equal(bound.spec.nodeName, 'gw-nowhere');
    const condition = bound.status.conditions.find((c: { type: string }) => c.type === 'PodScheduled');
    assert.equal(condition.status, 'True');
    assert.match(condition.lastTransitionTime, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    assert.equal(bound.status.phase, 'Pending');
  });

  it('answers 409 for a pod already assigned, and the first node stays', async () => {
    assert.equal((await t.call('POST', base, pod('b2'))).status, 201);
    assert.equal((await t.call('POST', `${base}/b2/binding`, binding('b2', 'gw1'))).status, 201);
    const again = await t.call('POST', `${base}/b2/binding`, binding('b2', 'gw2'));
    assert.equal(again.status, 409, again.text);
    assert.equal(again.body.reason, 'Conflict');
    assert.equal(again.body.message, 'Operation cannot be fulfilled on pods/binding "b2": pod b2 is already assigned to node "gw1"');
    assert.equal((await t.call('GET', `${base}/b2`)).body.spec.nodeName, 'gw1');
  });

  it('takes metadata.resourceVersion as a precondition', async () => {
    const created = (await t.call('POST', base, pod('b3'))).body;
    const stale = String(Number(created.metadata.resourceVersion) - 1);
    const refused = await t.call('POST', `${base}/b3/binding`, binding('b3', 'gw1', { resourceVersion: stale }));
    assert.equal(refused.status, 409, refused.text);
    assert.equal((await t.call('GET', `${base}/b3`)).body.spec.nodeName, undefined);
    const ok = await t.call('POST', `${base}/b3/binding`, binding('b3', 'gw1', { resourceVersion: created.metadata.resourceVersion, uid: created.metadata.uid }));
    assert.equal(ok.status, 201, ok.text);
  });

  it('refuses a pod being deleted, and a pod that does not exist', async () => {
    const body = { ...pod('b4'), metadata: { name: 'b4', finalizers: ['example.com/hold'] } };
    assert.equal((await t.call('POST', base, body)).status, 201);
    assert.equal((await t.call('DELETE', `${base}/b4`)).status, 202);
    const r = await t.call('POST', `${base}/b4/binding`, binding('b4', 'gw1'));
    assert.equal(r.status, 409, r.text);
    assert.match(r.body.message, /pod b4 is being deleted, cannot be assigned to a host/);
    assert.equal((await t.call('PATCH', `${base}/b4`, { metadata: { finalizers: null } }, { 'content-type': 'application/merge-patch+json' })).status, 200);
    const missing = await t.call('POST', `${base}/nope/binding`, binding('nope', 'gw1'));
    assert.equal(missing.status, 404, missing.text);
  });

  it('refuses bad Binding bodies with what is wrong', async () => {
    assert.equal((await t.call('POST', base, pod('b5'))).status, 201);
    const post = (body: unknown) => t.call('POST', `${base}/b5/binding`, body);
    assert.equal((await post('[1]')).status, 400);
    const wrongKind = await post({ ...binding('b5', 'gw1'), kind: 'Pod' });
    assert.equal(wrongKind.status, 400);
    assert.match(wrongKind.body.message, /takes a Binding/);
    const otherName = await post(binding('other', 'gw1'));
    assert.equal(otherName.status, 400);
    assert.match(otherName.body.message, /does not match the name of the pod in the URL/);
    const noTarget = await post({ apiVersion: 'v1', kind: 'Binding', metadata: { name: 'b5' } });
    assert.equal(noTarget.status, 422);
    assert.equal(noTarget.body.details.causes[0].field, 'target');
    const service = await post({ ...binding('b5', 'gw1'), target: { kind: 'Service', name: 'gw1' } });
    assert.equal(service.status, 422);
    assert.equal(service.body.details.causes[0].field, 'target.kind');
    const badName = await post(binding('b5', 'Not_A_Node'));
    assert.equal(badName.status, 422);
    assert.equal(badName.body.details.causes[0].field, 'target.name');
    const unknown = await post({ ...binding('b5', 'gw1'), extra: 1 });
    assert.equal(unknown.status, 422);
    assert.equal((await t.call('GET', `${base}/b5/binding`)).status, 405);
    // None of these bound the pod; dryRun does not either.
    assert.equal((await t.call('POST', `${base}/b5/binding?dryRun=All`, binding('b5', 'gw1'))).status, 201);
    assert.equal((await t.call('GET', `${base}/b5`)).body.spec.nodeName, undefined);
  });

  it('leaves spec.nodeName immutable for a replace or patch', async () => {
    assert.equal((await t.call('POST', base, pod('b6'))).status, 201);
    const r = await t.call('PATCH', `${base}/b6`, { spec: { nodeName: 'gw1' } }, { 'content-type': 'application/merge-patch+json' });
    assert.equal(r.status, 422, r.text);
  });
});
