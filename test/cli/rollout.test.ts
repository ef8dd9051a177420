// `bramble rollout status|history|undo|restart` against the in-process fake API: kubectl's
// wording, the requests made, and the rollback's copy of an old ReplicaSet's template.
process.env.TZ = 'UTC';

import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { rolloutStatusLine } from '../../src/cli/rollout-command.ts';
import { resolveResourceName, type KObject } from '../../src/model/index.ts';
import { FakeApi, run } from './fake-api.ts';

const DEPLOY = resolveResourceName('deployments')!;

const template = (image: string, hash?: string) => ({
  metadata: { labels: { app: 'web', ...(hash ? { 'pod-template-hash': hash } : {}) } },
  spec: { containers: [{ name: 'web', image }] },
});

function deployment(status: Record<string, unknown>, extra: { generation?: number; paused?: boolean; image?: string } = {}): KObject {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'web', namespace: 'default', uid: 'd-uid', generation: extra.generation ?? 2, annotations: { 'deployment.kubernetes.io/revision': '2' } },
    spec: { replicas: 3, selector: { matchLabels: { app: 'web' } }, template: template(extra.image ?? 'nginx:2'), ...(extra.paused ? { paused: true } : {}) },
    status: { observedGeneration: 2, ...status },
  };
}

function replicaSet(name: string, revision: number, image: string, cause?: string): KObject {
  return {
    apiVersion: 'apps/v1',
    kind: 'ReplicaSet',
    metadata: {
      name,
      namespace: 'default',
      annotations: { 'deployment.kubernetes.io/revision': String(revision), ...(cause ? { 'kubernetes.io/change-cause': cause } : {}) },
      ownerReferences: [{ apiVersion: 'apps/v1', kind: 'Deployment', name: 'web', uid: 'd-uid', controller: true }],
    },
    spec: { replicas: 0, selector: { matchLabels: { app: 'web', 'pod-template-hash': name.slice(4) } }, template: template(image, name.slice(4)) },
  };
}

let api: FakeApi;
beforeEach(async () => {
  api = await FakeApi.start();
});
afterEach(async () => {
  await api.close();
});

describe('rollout status', () => {
  test("kubectl's lines for each stage of a Deployment rollout", () => {
    const line = (status: Record<string, unknown>, generation = 2) => rolloutStatusLine(deployment(status, { generation })).line;
    assert.equal(line({}, 3), 'Waiting for deployment spec update to be observed...');
    assert.equal(line({ updatedReplicas: 1, replicas: 4 }), 'Waiting for deployment "web" rollout to finish: 1 out of 3 new replicas have been updated...');
    assert.equal(line({ updatedReplicas: 3, replicas: 4 }), 'Waiting for deployment "web" rollout to finish: 1 old replicas are pending termination...');
    assert.equal(line({ updatedReplicas: 3, replicas: 3, availableReplicas: 1 }), 'Waiting for deployment "web" rollout to finish: 1 of 3 updated replicas are available...');
    assert.deepEqual(rolloutStatusLine(deployment({ updatedReplicas: 3, replicas: 3, availableReplicas: 3 })), { line: 'deployment "web" successfully rolled out', done: true });
  });

  test('waits until the rollout is done, printing each new line once', async () => {
    api.seed(deployment({ updatedReplicas: 3, replicas: 3, availableReplicas: 1 }));
    setTimeout(() => api.seed(deployment({ updatedReplicas: 3, replicas: 3, availableReplicas: 3 })), 700);
    const result = await run(api, ['rollout', 'status', 'deploy/web']);
    assert.equal(result.code, 0, result.err);
    assert.equal(result.out, 'Waiting for deployment "web" rollout to finish: 1 of 3 updated replicas are available...\ndeployment "web" successfully rolled out\n');
    assert.ok(api.lines().every((l) => l === 'GET /apis/apps/v1/namespaces/default/deployments/web'));
  });

  test('--watch=false prints once; --timeout gives up; a passed progress deadline fails', async () => {
    api.seed(deployment({ updatedReplicas: 1, replicas: 3 }));
    const once = await run(api, ['rollout', 'status', 'deployment', 'web', '--watch=false']);
    assert.equal(once.code, 0);
    assert.equal(once.out, 'Waiting for deployment "web" rollout to finish: 1 out of 3 new replicas have been updated...\n');
    const late = await run(api, ['rollout', 'status', 'deploy/web', '--timeout', '1s']);
    assert.equal(late.code, 1);
    assert.match(late.err, /^error: timed out waiting for the condition/);
    api.seed(deployment({ updatedReplicas: 1, conditions: [{ type: 'Progressing', status: 'False', reason: 'ProgressDeadlineExceeded' }] }));
    const stuck = await run(api, ['rollout', 'status', 'deploy/web']);
    assert.equal(stuck.code, 1);
    assert.equal(stuck.err, 'error: deployment "web" exceeded its progress deadline\n');
  });

  test('a DaemonSet rollout', async () => {
    const ds = (status: Record<string, unknown>): KObject => ({
      apiVersion: 'apps/v1',
      kind: 'DaemonSet',
      metadata: { name: 'agent', generation: 1 },
      spec: { selector: { matchLabels: { app: 'a' } }, template: template('x'), updateStrategy: { type: 'RollingUpdate' } },
      status: { observedGeneration: 1, desiredNumberScheduled: 3, ...status },
    });
    assert.equal(rolloutStatusLine(ds({ updatedNumberScheduled: 1 })).line, 'Waiting for daemon set "agent" rollout to finish: 1 out of 3 new pods have been updated...');
    assert.equal(rolloutStatusLine(ds({ updatedNumberScheduled: 3, numberAvailable: 2 })).line, 'Waiting for daemon set "agent" rollout to finish: 2 of 3 updated pods are available...');
    api.seed(ds({ updatedNumberScheduled: 3, numberAvailable: 3 }));
    const result = await run(api, ['rollout', 'status', 'ds/agent']);
    assert.equal(result.out, 'daemon set "agent" successfully rolled out\n');
  });

  test('kinds without rollouts are a usage error', async () => {
    const result = await run(api, ['rollout', 'status', 'pod/x']);
    assert.equal(result.code, 2);
    assert.match(result.err, /pods are not supported; deployments and daemonsets are/);
  });
});

describe('rollout history, undo, restart', () => {
  beforeEach(() => {
    api.seed(deployment({}), replicaSet('web-aaaa', 1, 'nginx:1', 'first'), replicaSet('web-bbbb', 2, 'nginx:2'));
    // Another Deployment's ReplicaSet is not part of this history.
    api.seed({ ...replicaSet('other-cccc', 7, 'x'), metadata: { ...replicaSet('other-cccc', 7, 'x').metadata, ownerReferences: [{ apiVersion: 'apps/v1', kind: 'Deployment', name: 'other', uid: 'o-uid', controller: true }] } });
  });

  test('history lists the revisions with their change causes', async () => {
    const result = await run(api, ['rollout', 'history', 'deploy/web']);
    assert.equal(result.code, 0, result.err);
    assert.equal(result.out, 'deployment.apps/web\nREVISION  CHANGE-CAUSE\n1         first\n2         <none>\n\n');
  });

  test('undo puts the previous revision\'s template back (without the hash label)', async () => {
    const result = await run(api, ['rollout', 'undo', 'deploy/web']);
    assert.equal(result.code, 0, result.err);
    assert.equal(result.out, 'deployment.apps/web rolled back\n');
    const put = api.requests.find((r) => r.method === 'PUT')!;
    assert.equal(put.path, '/apis/apps/v1/namespaces/default/deployments/web');
    assert.deepEqual((api.get(DEPLOY, 'default', 'web')!['spec'] as Record<string, unknown>)['template'], template('nginx:1'));
    // Undoing again to the template that already runs is skipped.
    const again = await run(api, ['rollout', 'undo', 'deploy/web', '--to-revision=1']);
    assert.equal(again.out, 'deployment.apps/web skipped rollback (current template already matches revision 1)\n');
  });

  test('undo --to-revision of an unknown revision, or of a paused Deployment, fails', async () => {
    const missing = await run(api, ['rollout', 'undo', 'deploy/web', '--to-revision=7']);
    assert.equal(missing.code, 1);
    assert.equal(missing.err, 'error: unable to find specified revision 7 in history\n');
    api.seed(deployment({}, { paused: true }));
    const paused = await run(api, ['rollout', 'undo', 'deploy/web']);
    assert.equal(paused.code, 1);
    assert.match(paused.err, /paused/);
    assert.ok(!api.requests.some((r) => r.method === 'PUT'));
  });

  test('restart stamps the pod template with restartedAt', async () => {
    const result = await run(api, ['rollout', 'restart', 'deploy/web']);
    assert.equal(result.code, 0, result.err);
    assert.equal(result.out, 'deployment.apps/web restarted\n');
    const patch = api.requests.find((r) => r.method === 'PATCH')!;
    assert.equal(patch.contentType, 'application/merge-patch+json');
    assert.deepEqual(patch.body, { spec: { template: { metadata: { annotations: { 'kubectl.kubernetes.io/restartedAt': '2024-01-01T01:00:00Z' } } } } });
  });

  test('a DaemonSet has no history to undo', async () => {
    const result = await run(api, ['rollout', 'undo', 'daemonset/agent']);
    assert.equal(result.code, 2);
    assert.match(result.err, /daemon sets keep no revision history/);
  });
});
