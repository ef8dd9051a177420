// The `get svc` and `get endpoints` contract: kubectl's columns for Services as the API stores
// them (allocated ClusterIP, `80:30080/TCP` for node ports, `None` for headless, `<none>` for no
// external IP) and for Endpoints (`ip:port,...`, `<none>`), through the real CLI.

process.env.TZ = 'UTC';

import assert from 'node:assert/strict';
import { after, afterEach, before, beforeEach, describe, test } from 'node:test';
import { ObjectApi } from '../../src/api/resources/index.ts';
import { ServiceAllocator } from '../../src/api/resources/services/index.ts';
import { tableOf, TablePrinter } from '../../src/cli/printers/output.ts';
import type { KObject } from '../../src/model/index.ts';
import { carryOverAllocated, findResource, resolveResourceName, validateObject, validateUpdate } from '../../src/model/index.ts';
import type { TestApi } from '../api/resource-helpers.ts';
import { startTestApi } from '../api/resource-helpers.ts';
import { FakeApi, NOW, run } from './fake-api.ts';

const fiveMinutesAgo = () => new Date(NOW - 300_000).toISOString().replace(/\.\d+Z$/, 'Z');

function service(name: string, spec: object, namespace = 'default'): KObject {
  return { apiVersion: 'v1', kind: 'Service', metadata: { name, namespace, creationTimestamp: fiveMinutesAgo() }, spec, status: { loadBalancer: {} } };
}

function endpoints(name: string, subsets: object[]): KObject {
  return { apiVersion: 'v1', kind: 'Endpoints', metadata: { name, namespace: 'default', creationTimestamp: fiveMinutesAgo() }, subsets };
}

describe('get svc over Services the API allocated', () => {
  let t: TestApi;
  before(async () => {
    t = await startTestApi();
  });
  after(async () => {
    await t.close();
  });

  test('prints the allocated ClusterIP and node ports', async () => {
    const store = t.resources.api.store;
    const api = new ObjectApi({ store, validator: { validate: validateObject, validateUpdate, carryOver: carryOverAllocated }, services: new ServiceAllocator({ store }) });
    const info = findResource('', 'v1', 'services')!;
    const live = { dryRun: false };
    const web = await api.create(info, 'default', { kind: 'Service', metadata: { name: 'web' }, spec: { selector: { app: 'web' }, ports: [{ port: 80, targetPort: 8080 }] } }, live);
    await api.create(info, 'default', { kind: 'Service', metadata: { name: 'np' }, spec: { type: 'NodePort', selector: { app: 'web' }, ports: [{ port: 80, nodePort: 30080 }] } }, live);
    await api.create(info, 'default', { kind: 'Service', metadata: { name: 'db' }, spec: { clusterIP: 'None', selector: { app: 'db' }, ports: [{ port: 5432 }] } }, live);
    const list = (await api.list(info, 'default', { serializable: false }))['items'] as KObject[];
    const now = Date.parse(web.metadata.creationTimestamp!) + 42_000;
    const text = new TablePrinter().print(tableOf('Service', list, resolveResourceName('svc'), { wide: false, withNamespace: false, withKind: false, showLabels: false, now }));
    const ip = (web['spec'] as { clusterIP: string }).clusterIP;
    const npIp = ((list.find((s) => s.metadata.name === 'np')!)['spec'] as { clusterIP: string }).clusterIP;
    const lines = text.trimEnd().split('\n').map((l) => l.split(/\s{2,}/));
    assert.deepEqual(lines, [
      ['NAME', 'TYPE', 'CLUSTER-IP', 'EXTERNAL-IP', 'PORT(S)', 'AGE'],
      ['db', 'ClusterIP', 'None', '<none>', '5432/TCP', '42s'],
      ['np', 'NodePort', npIp, '<none>', '80:30080/TCP', '42s'],
      ['web', 'ClusterIP', ip, '<none>', '80/TCP', '42s'],
    ]);
  });
});

describe('bramble get svc / get endpoints', () => {
  let api: FakeApi;
  beforeEach(async () => {
    api = await FakeApi.start();
  });
  afterEach(async () => {
    await api.close();
  });

  test('get svc shows kubectl’s columns for every Service type', async () => {
    api.seed(
      // In key order, as the API lists them.
      service('db', { type: 'ClusterIP', clusterIP: 'None', ports: [{ port: 5432, protocol: 'TCP' }] }),
      service('ext', { type: 'ExternalName', externalName: 'db.example.com' }),
      service('kubernetes', { type: 'ClusterIP', clusterIP: '10.43.0.1', ports: [{ name: 'https', port: 443, protocol: 'TCP' }] }),
      service('web', { type: 'NodePort', clusterIP: '10.43.12.7', ports: [{ name: 'http', port: 80, protocol: 'TCP', nodePort: 30080 }, { name: 'dns', port: 53, protocol: 'UDP', nodePort: 30053 }] }),
    );
    const result = await run(api, ['get', 'svc'], { now: NOW });
    assert.equal(result.code, 0, result.err);
    assert.equal(
      result.out,
      [
        'NAME         TYPE           CLUSTER-IP   EXTERNAL-IP      PORT(S)                     AGE',
        'db           ClusterIP      None         <none>           5432/TCP                    5m',
        'ext          ExternalName   <none>       db.example.com   <none>                      5m',
        'kubernetes   ClusterIP      10.43.0.1    <none>           443/TCP                     5m',
        'web          NodePort       10.43.12.7   <none>           80:30080/TCP,53:30053/UDP   5m',
        '',
      ].join('\n'),
    );
  });

  test('get endpoints shows ip:port pairs, ready addresses only, and <none>', async () => {
    api.seed(
      endpoints('empty', []),
      endpoints('starting', [{ notReadyAddresses: [{ ip: '10.42.3.9' }], ports: [{ port: 8080, protocol: 'TCP' }] }]),
      endpoints('web', [{ addresses: [{ ip: '10.42.1.5' }, { ip: '10.42.2.3' }], notReadyAddresses: [{ ip: '10.42.3.9' }], ports: [{ port: 8080, protocol: 'TCP' }] }]),
    );
    const result = await run(api, ['get', 'endpoints'], { now: NOW });
    assert.equal(result.code, 0, result.err);
    assert.equal(
      result.out,
      ['NAME       ENDPOINTS                       AGE', 'empty      <none>                          5m', 'starting   <none>                          5m', 'web        10.42.1.5:8080,10.42.2.3:8080   5m', ''].join('\n'),
    );
  });
});
