// cordon, uncordon, drain and top nodes against the in-process fake API: the requests made and
// what is printed, kubectl's refusals for drain, waiting for graceful deletions, the timeout.
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { runCli, type CliIo } from '../../src/cli/dispatch.ts';
import type { KObject } from '../../src/model/index.ts';
import { FakeApi, run } from './fake-api.ts';

const node = (name: string, spec: Record<string, unknown> = {}): KObject => ({ apiVersion: 'v1', kind: 'Node', metadata: { name }, spec, status: { allocatable: { cpu: '4', memory: '4Gi' } } });

function pod(name: string, nodeName: string, extra: { owner?: string; emptyDir?: boolean; phase?: string; namespace?: string } = {}): KObject {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: extra.namespace ?? 'default', ...(extra.owner ? { ownerReferences: [{ apiVersion: 'apps/v1', kind: extra.owner, name: 'owner', uid: 'owner-uid', controller: true }] } : {}) },
    spec: { nodeName, containers: [{ name: 'c', image: 'busybox' }], ...(extra.emptyDir ? { volumes: [{ name: 'scratch', emptyDir: {} }] } : {}) },
    status: { phase: extra.phase ?? 'Running' },
  };
}

let api: FakeApi;
beforeEach(async () => {
  api = await FakeApi.start();
});
afterEach(async () => {
  await api.close();
});

const unschedulable = (name: string) => (api.objects.get(`nodes||${name}`)?.['spec'] as { unschedulable?: boolean } | undefined)?.unschedulable;

describe('cordon and uncordon', () => {
  test('set and clear spec.unschedulable, like kubectl', async () => {
    api.seed(node('gw2'));
    const cordon = await run(api, ['cordon', 'gw2']);
    assert.equal(cordon.code, 0, cordon.err);
    assert.equal(cordon.out, 'node/gw2 cordoned\n');
    assert.equal(unschedulable('gw2'), true);
    const patch = api.requests.find((r) => r.method === 'PATCH')!;
    assert.equal(patch.path, '/api/v1/nodes/gw2');
    assert.equal(patch.contentType, 'application/merge-patch+json');
    assert.deepEqual(patch.body, { spec: { unschedulable: true } });
    assert.equal((await run(api, ['cordon', 'node/gw2'])).out, 'node/gw2 already cordoned\n');
    const uncordon = await run(api, ['uncordon', 'gw2']);
    assert.equal(uncordon.out, 'node/gw2 uncordoned\n');
    assert.equal(unschedulable('gw2'), undefined);
    assert.equal((await run(api, ['uncordon', 'gw2'])).out, 'node/gw2 already uncordoned\n');
  });

  test('an unknown node is the server’s NotFound, exit 1; a pod is not a node', async () => {
    const missing = await run(api, ['cordon', 'nope']);
    assert.equal(missing.code, 1);
    assert.match(missing.err, /^Error from server \(NotFound\): nodes "nope" not found\n$/);
    assert.equal((await run(api, ['cordon', 'pod/x'])).code, 2);
    assert.equal((await run(api, ['cordon'])).code, 2);
  });
});

describe('drain', () => {
  test('refuses DaemonSet pods, bare pods and emptyDir pods without the flags, deleting nothing (the node stays cordoned)', async () => {
    api.seed(node('gw2'), pod('ds', 'gw2', { owner: 'DaemonSet' }), pod('bare', 'gw2'), pod('scratch', 'gw2', { owner: 'ReplicaSet', emptyDir: true }), pod('web', 'gw2', { owner: 'ReplicaSet' }));
    const result = await run(api, ['drain', 'gw2']);
    assert.equal(result.code, 1);
    assert.equal(result.out, 'node/gw2 cordoned\n');
    assert.match(result.err, /^error: unable to drain node "gw2" due to error: /);
    assert.match(result.err, /cannot delete Pods that declare no controller \(use --force to override\): default\/bare/);
    assert.match(result.err, /cannot delete DaemonSet-managed Pods \(use --ignore-daemonsets to ignore\): default\/ds/);
    assert.match(result.err, /cannot delete Pods with local storage \(use --delete-emptydir-data to override\): default\/scratch/);
    assert.equal(api.requests.filter((r) => r.method === 'DELETE').length, 0);
    assert.equal(unschedulable('gw2'), true);
  });

  test('with the flags: cordons, deletes every pod of the node but DaemonSet ones with the grace period, waits, reports', async () => {
    api.seed(
      node('gw2'),
      node('gw1'),
      pod('ds', 'gw2', { owner: 'DaemonSet' }),
      pod('bare', 'gw2'),
      pod('scratch', 'gw2', { owner: 'ReplicaSet', emptyDir: true }),
      pod('web', 'gw2', { owner: 'ReplicaSet', namespace: 'shop' }),
      pod('done', 'gw1'),
      pod('other', 'gw1', { owner: 'ReplicaSet' }),
    );
    const result = await run(api, ['drain', 'gw2', '--ignore-daemonsets', '--force', '--delete-emptydir-data', '--grace-period', '5']);
    assert.equal(result.code, 0, result.err);
    assert.equal(
      result.out,
      'node/gw2 cordoned\nevicting pod default/bare\nevicting pod default/scratch\nevicting pod shop/web\npod/bare evicted\npod/scratch evicted\npod/web evicted\nnode/gw2 drained\n',
    );
    assert.match(result.err, /Warning: ignoring DaemonSet-managed Pods: default\/ds\n/);
    assert.match(result.err, /Warning: deleting Pods that declare no controller: default\/bare\n/);
    const deletes = api.lines().filter((l) => l.startsWith('DELETE'));
    assert.deepEqual(deletes, ['DELETE /api/v1/namespaces/default/pods/bare?gracePeriodSeconds=5', 'DELETE /api/v1/namespaces/default/pods/scratch?gracePeriodSeconds=5', 'DELETE /api/v1/namespaces/shop/pods/web?gracePeriodSeconds=5']);
    assert.ok(api.lines().includes('GET /api/v1/pods?fieldSelector=spec.nodeName%3Dgw2&limit=500'));
    assert.ok(api.objects.has('pods|default|ds') && api.objects.has('pods|default|other') && api.objects.has('pods|default|done'));
  });

  test('a finished bare pod needs no --force; a pod deleted gracefully is waited for', async () => {
    api.seed(node('gw2'), pod('finished', 'gw2', { phase: 'Succeeded' }), pod('slow', 'gw2', { owner: 'ReplicaSet' }));
    // The server marks the pod for deletion; its gateway removes it a little later.
    api.on('DELETE', '/api/v1/namespaces/default/pods/slow', (_req, res) => {
      setTimeout(() => api.objects.delete('pods|default|slow'), 700);
      res.writeHead(202, { 'content-type': 'application/json' });
      res.end(JSON.stringify(api.objects.get('pods|default|slow')));
    });
    const result = await run(api, ['drain', 'gw2']);
    assert.equal(result.code, 0, result.err);
    assert.match(result.out, /evicting pod default\/finished\nevicting pod default\/slow\npod\/finished evicted\npod\/slow evicted\nnode\/gw2 drained\n$/);
    assert.ok(api.lines().filter((l) => l === 'GET /api/v1/namespaces/default/pods/slow').length >= 2, 'polled until gone');
  });

  test('--timeout gives up on a pod that does not go', async () => {
    api.seed(node('gw2'), pod('stuck', 'gw2', { owner: 'ReplicaSet' }));
    api.on('DELETE', '/api/v1/namespaces/default/pods/stuck', (_req, res) => {
      res.writeHead(202, { 'content-type': 'application/json' });
      res.end(JSON.stringify(api.objects.get('pods|default|stuck')));
    });
    let out = '';
    let err = '';
    const io: CliIo = {
      stdout: { write: (t: string) => (out += t) },
      stderr: { write: (t: string) => (err += t) },
      env: { BRAMBLE_SERVER: api.url },
      cwd: '/',
      hostname: 'h',
      version: '0',
      runtime: { node: '20', platform: 'linux', arch: 'x64' },
      startServer: async () => 0,
      now: () => Date.now(),
    };
    const code = await runCli(['drain', 'gw2', '--timeout', '1s'], io);
    assert.equal(code, 1);
    assert.match(out, /evicting pod default\/stuck\n$/);
    assert.equal(err, 'error: unable to drain node "gw2" due to error: global timeout reached: 1s; still waiting for default/stuck\n');
  });
});

describe('top nodes', () => {
  test('adds DISK% and TEMP when the heartbeats carry them', async () => {
    api.seed(node('gw1'), node('gw2'));
    api.on('GET', '/apis/metrics.k8s.io/v1beta1/nodes', (_req, res) => {
      res.end(
        JSON.stringify({
          kind: 'NodeMetricsList',
          items: [
            { metadata: { name: 'gw1' }, usage: { cpu: '500m', memory: '1Gi' }, bramble: { diskUsedBytes: 4e9, diskTotalBytes: 16e9, temperatureCelsius: 51.6 } },
            { metadata: { name: 'gw2' }, usage: { cpu: '1', memory: '2Gi' } },
          ],
        }),
      );
    });
    const result = await run(api, ['top', 'nodes']);
    assert.equal(result.code, 0, result.err);
    assert.equal(
      result.out,
      'NAME   CPU(cores)   CPU%   MEMORY(bytes)   MEMORY%   DISK%       TEMP\ngw1    500m         12%    1024Mi          25%       25%         52°C\ngw2    1000m        25%    2048Mi          50%       <unknown>   <unknown>\n',
    );
  });
});
