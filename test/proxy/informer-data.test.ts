// The balancer fed by the informer adapter over a real single-member store: a Service and its
// Endpoints created through the API get a working listener; deleting the Service removes it.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createSharedInformers } from '../../src/controllers/shared-informers.ts';
import { informerProxyData, startProxy } from '../../src/proxy/index.ts';
import type { TestApi } from '../api/resource-helpers.ts';
import { startTestApi } from '../api/resource-helpers.ts';
import { freePort } from '../helpers/ports.ts';
import { quietLogger } from '../store/store-helpers.ts';
import { accepts, endpoints, FakeAddresses, service, tcpBackend, testListenAddress, until, whoAnswers } from './helpers.ts';

describe('balancer over informers', () => {
  let t: TestApi;
  before(async () => {
    t = await startTestApi();
  });
  after(async () => {
    await t.close();
  });

  it('follows Services and Endpoints from the store', async () => {
    const backend = await tcpBackend('from-store');
    const port = await freePort();
    const shared = createSharedInformers({ store: t.resources.api.store, cache: t.resources.cache, logger: quietLogger });
    shared.start();
    const data = informerProxyData(shared.informers);
    const proxy = startProxy({ data, nodeAddress: '127.0.0.1', addresses: new FakeAddresses(), logger: quietLogger, clusterListenAddress: testListenAddress });
    try {
      await data.whenSynced();
      let changes = 0;
      const unsubscribe = data.onChange(() => changes++);
      const created = await t.call('POST', '/api/v1/namespaces/default/services', service('store-web', '10.43.3.1', [{ name: 'http', port }]));
      assert.equal(created.status, 201, created.text);
      const clusterIP = created.body.spec.clusterIP as string;
      assert.match(clusterIP, /^10\.43\./);
      const ep = await t.call('POST', '/api/v1/namespaces/default/endpoints', endpoints('store-web', [{ ip: '127.0.0.1', port: backend.port }], 'http'));
      assert.equal(ep.status, 201, ep.text);
      const host = testListenAddress(clusterIP);
      await until('the listener', () => accepts(host, port), 1000);
      assert.ok(changes >= 2, 'the adapter told its listeners');
      unsubscribe();
      assert.equal(await whoAnswers(host, port), 'from-store');
      assert.equal((await t.call('DELETE', '/api/v1/namespaces/default/services/store-web')).status, 200);
      await until('the listener closed', async () => !(await accepts(host, port)), 1000);
    } finally {
      await proxy.stop();
      data.stop();
      shared.stop();
      await backend.close();
    }
  });
});
