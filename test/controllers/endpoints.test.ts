// The Endpoints controller over a real store: addresses from ready and not-ready pods, named
// target ports resolved per pod, a readiness change reflected within a second, no write when
// nothing changed, Endpoints removed with their Service, and selectorless Services left alone.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { KObject } from '../../src/model/index.ts';
import type { Bench } from './harness.ts';
import { markReady, R, sleep, startBench, until } from './harness.ts';

type J = Record<string, unknown>;

function pod(name: string, app: string, port?: { name: string; containerPort: number }, extra: J = {}) {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, labels: { app } },
    spec: { nodeName: 'gw1', containers: [{ name: 'c', image: 'busybox', ...(port ? { ports: [port] } : {}) }], ...extra },
  };
}

async function endpoints(b: Bench, name: string): Promise<KObject | undefined> {
  try {
    return await b.api.get(R.endpoints, 'default', name, false);
  } catch {
    return undefined;
  }
}

describe('endpoints controller', () => {
  let b: Bench;
  before(async () => {
    b = await startBench();
  });
  after(async () => {
    await b.close();
  });

  it('lists ready and not-ready pods with named target ports resolved per pod', async () => {
    await b.api.create(
      R.services,
      'default',
      { apiVersion: 'v1', kind: 'Service', metadata: { name: 'web', labels: { tier: 'front' } }, spec: { selector: { app: 'web' }, ports: [{ name: 'http', port: 80, targetPort: 'http' }, { name: 'metrics', port: 9100, targetPort: 9100 }] } },
      { dryRun: false },
    );
    const a = await markReady(b.api, await b.api.create(R.pods, 'default', pod('web-a', 'web', { name: 'http', containerPort: 8080 }), { dryRun: false }), true, '10.42.0.11');
    const c = await markReady(b.api, await b.api.create(R.pods, 'default', pod('web-c', 'web', { name: 'http', containerPort: 9090 }), { dryRun: false }), false, '10.42.0.13');
    const d = await markReady(b.api, await b.api.create(R.pods, 'default', pod('web-d', 'web'), { dryRun: false }), true, '10.42.0.14');
    await b.api.create(R.pods, 'default', pod('web-noip', 'web', { name: 'http', containerPort: 8080 }), { dryRun: false });
    const ref = (p: KObject) => ({ kind: 'Pod', namespace: 'default', name: p.metadata.name, uid: p.metadata.uid });
    const expected = [
      // web-d has no port named http: only the numeric port.
      { addresses: [{ ip: '10.42.0.14', nodeName: 'gw1', targetRef: ref(d) }], ports: [{ name: 'metrics', port: 9100, protocol: 'TCP' }] },
      { addresses: [{ ip: '10.42.0.11', nodeName: 'gw1', targetRef: ref(a) }], ports: [{ name: 'http', port: 8080, protocol: 'TCP' }, { name: 'metrics', port: 9100, protocol: 'TCP' }] },
      { notReadyAddresses: [{ ip: '10.42.0.13', nodeName: 'gw1', targetRef: ref(c) }], ports: [{ name: 'http', port: 9090, protocol: 'TCP' }, { name: 'metrics', port: 9100, protocol: 'TCP' }] },
    ];
    const sortKey = (s: J) => JSON.stringify(s['ports']);
    await until('endpoints content', async () => {
      const e = await endpoints(b, 'web');
      const subsets = ((e?.['subsets'] ?? []) as J[]).map((s) => s).sort((x, y) => sortKey(x).localeCompare(sortKey(y)));
      try {
        assert.deepEqual(subsets, [...expected].sort((x, y) => sortKey(x).localeCompare(sortKey(y))));
        return true;
      } catch {
        return false;
      }
    });
    assert.equal((await endpoints(b, 'web'))!.metadata.labels!['tier'], 'front');
  });

  it('follows a readiness change within a second, and writes nothing when nothing changed', async () => {
    const before = await endpoints(b, 'web');
    await b.controllers.idle();
    await b.api.patch(R.services, 'default', 'web', 'merge', { metadata: { annotations: { note: 'unrelated' } } }, { dryRun: false });
    await sleep(200);
    assert.equal((await endpoints(b, 'web'))!.metadata.resourceVersion, before!.metadata.resourceVersion, 'an unchanged content is not written again');
    const c = await b.api.get(R.pods, 'default', 'web-c', false);
    const started = Date.now();
    await markReady(b.api, c, true);
    await until(
      'web-c ready in the endpoints',
      async () => ((await endpoints(b, 'web'))?.['subsets'] as J[]).some((s) => ((s['addresses'] ?? []) as J[]).some((a) => a['ip'] === '10.42.0.13')),
      1000,
    );
    assert.ok(Date.now() - started < 1000);
    // Relabelled away: it leaves the Endpoints.
    await b.api.patch(R.pods, 'default', 'web-c', 'merge', { metadata: { labels: { app: 'other' } } }, { dryRun: false });
    await until('web-c gone', async () => !JSON.stringify((await endpoints(b, 'web'))?.['subsets']).includes('10.42.0.13'), 1000);
  });

  it('gives a headless Service hostnames of pods in its subdomain', async () => {
    await b.api.create(R.services, 'default', { apiVersion: 'v1', kind: 'Service', metadata: { name: 'db' }, spec: { clusterIP: 'None', selector: { app: 'db' }, ports: [{ port: 5432 }] } }, { dryRun: false });
    await markReady(b.api, await b.api.create(R.pods, 'default', pod('db-0', 'db', undefined, { hostname: 'db-0', subdomain: 'db' }), { dryRun: false }), true, '10.42.0.20');
    await until('hostname', async () => {
      const subsets = ((await endpoints(b, 'db'))?.['subsets'] ?? []) as J[];
      return (subsets[0]?.['addresses'] as J[] | undefined)?.[0]?.['hostname'] === 'db-0';
    });
    assert.equal((await endpoints(b, 'db'))!.metadata.labels!['service.kubernetes.io/headless'], '');
  });

  it('deletes the Endpoints with their Service and leaves selectorless Services alone', async () => {
    await b.deleter.delete(R.services, 'default', 'web', { dryRun: false });
    await until('endpoints gone', async () => (await endpoints(b, 'web')) === undefined);
    await b.api.create(R.services, 'default', { apiVersion: 'v1', kind: 'Service', metadata: { name: 'external' }, spec: { ports: [{ port: 443 }] } }, { dryRun: false });
    const mine = { apiVersion: 'v1', kind: 'Endpoints', metadata: { name: 'external' }, subsets: [{ addresses: [{ ip: '192.168.1.50' }], ports: [{ port: 443 }] }] };
    await b.api.create(R.endpoints, 'default', mine, { dryRun: false });
    await sleep(300);
    const e = await endpoints(b, 'external');
    assert.deepEqual(e!['subsets'], [{ addresses: [{ ip: '192.168.1.50' }], ports: [{ port: 443, protocol: 'TCP' }] }]);
  });

  it('gives an ExternalName Service no Endpoints, selector or not, and removes its own when a Service becomes one', async () => {
    await markReady(b.api, await b.api.create(R.pods, 'default', pod('alias-a', 'alias'), { dryRun: false }), true, '10.42.0.21');
    const svc = { apiVersion: 'v1', kind: 'Service', metadata: { name: 'alias' }, spec: { selector: { app: 'alias' }, ports: [{ port: 80 }] } };
    await b.api.create(R.services, 'default', svc, { dryRun: false });
    await until('endpoints of the ClusterIP Service', async () => (await endpoints(b, 'alias')) !== undefined);
    await b.api.patch(R.services, 'default', 'alias', 'merge', { spec: { type: 'ExternalName', externalName: 'db.example.com', clusterIP: null, clusterIPs: null } }, { dryRun: false });
    await until('its endpoints gone', async () => (await endpoints(b, 'alias')) === undefined);
    await b.api.create(R.services, 'default', { apiVersion: 'v1', kind: 'Service', metadata: { name: 'alias2' }, spec: { type: 'ExternalName', externalName: 'db.example.com', selector: { app: 'alias' } } }, { dryRun: false });
    await sleep(300);
    assert.equal(await endpoints(b, 'alias2'), undefined);
  });
});
