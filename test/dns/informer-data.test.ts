// InformerDnsData over real Informers on a single-member store: a Service written through the API
// is answered by DNS, and a deleted one stops being answered.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Informer } from '../../src/controllers/informer.ts';
import { InformerDnsData } from '../../src/dns/informer-data.ts';
import { findResource } from '../../src/model/index.ts';
import type { TestApi } from '../api/resource-helpers.ts';
import { startTestApi } from '../api/resource-helpers.ts';
import { quietLogger, until } from '../store/store-helpers.ts';
import { ask, handlerFor, rcodeOf } from './helpers.ts';

describe('InformerDnsData', () => {
  let t: TestApi;
  let informers: Informer[] = [];
  before(async () => {
    t = await startTestApi();
  });
  after(async () => {
    for (const i of informers) i.stop();
    await t.close();
  });

  it('answers from the replica and follows its changes', async () => {
    const make = (resource: string): Informer =>
      new Informer({ info: findResource('', 'v1', resource)!, store: t.resources.api.store, cache: t.resources.cache, logger: quietLogger, serializable: true });
    const services = make('services');
    const endpoints = make('endpoints');
    const pods = make('pods');
    informers = [services, endpoints, pods];
    for (const i of informers) i.start();
    await Promise.all(informers.map((i) => i.whenSynced()));
    const data = new InformerDnsData({ services, endpoints, pods });
    const handler = handlerFor(data);
    assert.equal(rcodeOf((await ask(handler, 'dnsweb.default.svc.cluster.local', 'A')).packet), 'NXDOMAIN');

    const created = await t.call('POST', '/api/v1/namespaces/default/services', {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'dnsweb' },
      spec: { clusterIP: '10.43.9.9', ports: [{ name: 'http', port: 80 }] },
    });
    assert.equal(created.status, 201, created.text);
    const ip = created.body.spec.clusterIP as string;
    await until('the Service in DNS', () => services.get('default', 'dnsweb') !== undefined);
    const answer = await ask(handler, 'dnsweb.default.svc.cluster.local', 'A');
    assert.deepEqual(answer.packet.answers!.map((r) => (r as { data: unknown }).data), [ip]);

    assert.equal((await t.call('DELETE', '/api/v1/namespaces/default/services/dnsweb')).status, 200);
    await until('the Service gone', () => services.get('default', 'dnsweb') === undefined);
    assert.equal(rcodeOf((await ask(handler, 'dnsweb.default.svc.cluster.local', 'A')).packet), 'NXDOMAIN');
    data.close();
  });
});
