// A pod's Service variables, as Kubernetes names them: the seed's redis-master example, a
// multi-port Service, the Services created after the pod left out (by store revision, exactly),
// enableServiceLinks, the API's own `kubernetes` Service, and the pod's own env winning.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createdBefore, podServiceEnv, resolveEnv, serviceEnvForPod, serviceForEnv, type EnvSources, type ServiceForEnv } from '../../src/agent/env.ts';
import { creationRevisions } from '../../src/api/resources/services/index.ts';
import type { KObject } from '../../src/model/index.ts';
import { findResource } from '../../src/model/index.ts';
import type { TestApi } from '../api/resource-helpers.ts';
import { startTestApi } from '../api/resource-helpers.ts';

const at = (revision: number, timestamp = '2026-03-01T10:00:00Z') => ({ revision, timestamp });

function svc(name: string, clusterIP: string, ports: ServiceForEnv['ports'], revision: number, namespace = 'default'): ServiceForEnv {
  return { namespace, name, clusterIP, ports, created: at(revision) };
}

const pod = (revision: number, extra: { namespace?: string; enableServiceLinks?: boolean } = {}) => ({ namespace: extra.namespace ?? 'default', created: at(revision), ...(extra.enableServiceLinks !== undefined ? { enableServiceLinks: extra.enableServiceLinks } : {}) });

describe('service environment variables', () => {
  it('names the seed’s redis-master exactly as Kubernetes does', () => {
    const env = podServiceEnv(pod(10), [svc('redis-master', '10.0.0.11', [{ port: 6379, protocol: 'TCP' }], 5)]);
    assert.deepEqual(env, {
      REDIS_MASTER_SERVICE_HOST: '10.0.0.11',
      REDIS_MASTER_SERVICE_PORT: '6379',
      REDIS_MASTER_PORT: 'tcp://10.0.0.11:6379',
      REDIS_MASTER_PORT_6379_TCP: 'tcp://10.0.0.11:6379',
      REDIS_MASTER_PORT_6379_TCP_PROTO: 'tcp',
      REDIS_MASTER_PORT_6379_TCP_PORT: '6379',
      REDIS_MASTER_PORT_6379_TCP_ADDR: '10.0.0.11',
    });
  });

  it('gives every port of a multi-port Service, the first as the default, named ports by name', () => {
    const env = podServiceEnv(pod(10), [
      svc('dns-cache', '10.43.7.9', [
        { name: 'dns-udp', port: 53, protocol: 'UDP' },
        { name: 'dns-tcp', port: 53, protocol: 'TCP' },
        { name: 'metrics', port: 9153, protocol: 'TCP' },
      ], 3),
    ]);
    assert.deepEqual(env, {
      DNS_CACHE_SERVICE_HOST: '10.43.7.9',
      DNS_CACHE_SERVICE_PORT: '53',
      DNS_CACHE_SERVICE_PORT_DNS_UDP: '53',
      DNS_CACHE_SERVICE_PORT_DNS_TCP: '53',
      DNS_CACHE_SERVICE_PORT_METRICS: '9153',
      DNS_CACHE_PORT: 'udp://10.43.7.9:53',
      DNS_CACHE_PORT_53_UDP: 'udp://10.43.7.9:53',
      DNS_CACHE_PORT_53_UDP_PROTO: 'udp',
      DNS_CACHE_PORT_53_UDP_PORT: '53',
      DNS_CACHE_PORT_53_UDP_ADDR: '10.43.7.9',
      DNS_CACHE_PORT_53_TCP: 'tcp://10.43.7.9:53',
      DNS_CACHE_PORT_53_TCP_PROTO: 'tcp',
      DNS_CACHE_PORT_53_TCP_PORT: '53',
      DNS_CACHE_PORT_53_TCP_ADDR: '10.43.7.9',
      DNS_CACHE_PORT_9153_TCP: 'tcp://10.43.7.9:9153',
      DNS_CACHE_PORT_9153_TCP_PROTO: 'tcp',
      DNS_CACHE_PORT_9153_TCP_PORT: '9153',
      DNS_CACHE_PORT_9153_TCP_ADDR: '10.43.7.9',
    });
  });

  it('leaves out Services created after the pod, other namespaces, headless and ExternalName', () => {
    const env = podServiceEnv(pod(10), [
      svc('before', '10.43.0.20', [{ port: 80 }], 9),
      svc('after', '10.43.0.21', [{ port: 80 }], 11),
      svc('elsewhere', '10.43.0.22', [{ port: 80 }], 2, 'other'),
      svc('headless', 'None', [{ port: 80 }], 2),
      serviceForEnv({ metadata: { name: 'ext', namespace: 'default' }, spec: { type: 'ExternalName', externalName: 'db.example.com' } }, 2),
    ]);
    assert.deepEqual(Object.keys(env).filter((k) => k.endsWith('_SERVICE_HOST')), ['BEFORE_SERVICE_HOST']);
  });

  it('orders by store revision, and by timestamp (a shared second counting as before) without one', () => {
    // Same second: only the revision tells them apart.
    assert.equal(createdBefore(at(9), at(10)), true);
    assert.equal(createdBefore(at(11), at(10)), false);
    assert.equal(createdBefore({ timestamp: '2026-03-01T10:00:00Z' }, { timestamp: '2026-03-01T10:00:00Z' }), true);
    assert.equal(createdBefore({ timestamp: '2026-03-01T10:00:01Z' }, { timestamp: '2026-03-01T10:00:00Z' }), false);
    assert.equal(createdBefore({ revision: 99, timestamp: '2026-03-01T09:00:00Z' }, { timestamp: '2026-03-01T10:00:00Z' }), true);
  });

  it('with enableServiceLinks false gives only the kubernetes Service, which other namespaces see too', () => {
    const services = [svc('kubernetes', '10.43.0.1', [{ name: 'https', port: 443 }], 1), svc('web', '10.43.0.30', [{ port: 80 }], 2, 'shop')];
    const off = podServiceEnv(pod(10, { namespace: 'shop', enableServiceLinks: false }), services);
    assert.deepEqual(Object.keys(off).sort(), [
      'KUBERNETES_PORT',
      'KUBERNETES_PORT_443_TCP',
      'KUBERNETES_PORT_443_TCP_ADDR',
      'KUBERNETES_PORT_443_TCP_PORT',
      'KUBERNETES_PORT_443_TCP_PROTO',
      'KUBERNETES_SERVICE_HOST',
      'KUBERNETES_SERVICE_PORT',
      'KUBERNETES_SERVICE_PORT_HTTPS',
    ]);
    const on = podServiceEnv(pod(10, { namespace: 'shop' }), services);
    assert.equal(on['WEB_SERVICE_HOST'], '10.43.0.30');
    assert.equal(on['KUBERNETES_SERVICE_HOST'], '10.43.0.1');
    // A `kubernetes` Service of the pod's own namespace is the one it sees.
    const own = podServiceEnv(pod(10, { namespace: 'shop' }), [...services, svc('kubernetes', '10.43.0.31', [{ port: 8443 }], 3, 'shop')]);
    assert.equal(own['KUBERNETES_SERVICE_HOST'], '10.43.0.31');
  });

  it('lets the pod’s own env win and refer to Service variables', () => {
    const serviceEnv = podServiceEnv(pod(10), [svc('redis-master', '10.0.0.11', [{ port: 6379 }], 5)]);
    const sources: EnvSources = {
      configMap: () => undefined,
      secret: () => undefined,
      field: () => undefined,
      container: () => undefined,
      allocatable: { cpu: 1, memory: 1 },
      serviceEnv,
    };
    const { env } = resolveEnv(
      { name: 'c', env: [{ name: 'REDIS_MASTER_SERVICE_HOST', value: 'redis.local' }, { name: 'URL', value: 'redis://$(REDIS_MASTER_SERVICE_HOST):$(REDIS_MASTER_SERVICE_PORT)' }] },
      sources,
    );
    assert.equal(env['REDIS_MASTER_SERVICE_HOST'], 'redis.local');
    assert.equal(env['REDIS_MASTER_PORT_6379_TCP_ADDR'], '10.0.0.11');
    assert.equal(env['URL'], 'redis://redis.local:6379');
  });
});

describe('service environment from the store', () => {
  let t: TestApi;
  before(async () => {
    t = await startTestApi();
  });
  after(async () => {
    await t.close();
  });

  it('names a Service created before the pod and not one created after it in the same second', async () => {
    const services = findResource('', 'v1', 'services')!;
    const pods = findResource('', 'v1', 'pods')!;
    const api = t.resources.api;
    const live = { dryRun: false };
    const spec = (clusterIP: string) => ({ clusterIP, selector: { app: 'redis' }, ports: [{ port: 6379 }] });
    await api.create(services, 'default', { apiVersion: 'v1', kind: 'Service', metadata: { name: 'redis-master' }, spec: spec('10.43.0.11') }, live);
    const created = await api.create(pods, 'default', { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'client' }, spec: { containers: [{ name: 'c', image: 'busybox' }] } }, live);
    await api.create(services, 'default', { apiVersion: 'v1', kind: 'Service', metadata: { name: 'redis-replica' }, spec: spec('10.43.0.12') }, live);
    // The pod is changed afterwards (bound, status): its resourceVersion moves on, its creation does not.
    const later = await api.update(pods, 'default', 'client', (p) => ({ ...p, metadata: { ...p.metadata, labels: { moved: 'on' } } }), live);
    assert.ok(Number(later.metadata.resourceVersion) > Number(created.metadata.resourceVersion));
    const reads = {
      list: async (namespace: string) => ((await api.list(services, namespace, { serializable: true }))['items'] as KObject[]),
      creationRevisions: creationRevisions(api.store.kv),
    };
    const env = await serviceEnvForPod(later, reads);
    assert.equal(env['REDIS_MASTER_SERVICE_HOST'], '10.43.0.11');
    assert.equal(env['REDIS_MASTER_SERVICE_PORT'], '6379');
    assert.equal(env['REDIS_REPLICA_SERVICE_HOST'], undefined);
    // Without revisions only the second is known, and the later Service cannot be told apart.
    const coarse = await serviceEnvForPod(later, { list: reads.list });
    assert.equal(coarse['REDIS_MASTER_SERVICE_HOST'], '10.43.0.11');
  });
});
