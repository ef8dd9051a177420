// Which listeners Services and Endpoints call for, without sockets.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { KObject } from '../../src/model/index.ts';
import { backendsFor, planListeners } from '../../src/proxy/index.ts';
import { endpoints, service } from './helpers.ts';

const options = { nodeAddress: '0.0.0.0', clusterListenAddress: (ip: string) => ip };

describe('planListeners', () => {
  it('gives each port of a ClusterIP Service a listener, NodePorts one more, and skips headless and ExternalName', () => {
    const services: KObject[] = [
      service('web', '10.43.0.20', [{ name: 'http', port: 80, nodePort: 30080 }, { name: 'dns', port: 53, protocol: 'UDP' }], { type: 'NodePort' }),
      service('headless', 'None', [{ port: 80 }]),
      { ...service('ext', '', []), spec: { type: 'ExternalName', externalName: 'example.com' } },
      service('unallocated', '', [{ port: 80 }]),
    ];
    const plan = planListeners(services, () => undefined, options);
    assert.deepEqual(plan.listeners.map((l) => `${l.key} ${l.route.key} ${l.clusterIP}`), [
      'TCP 10.43.0.20:80 default/web:http/TCP 10.43.0.20',
      'TCP 0.0.0.0:30080 default/web:http/TCP null',
      'UDP 10.43.0.20:53 default/web:dns/UDP 10.43.0.20',
    ]);
    assert.deepEqual([...plan.clusterIPs], ['10.43.0.20']);
    assert.deepEqual(plan.conflicts, []);
  });

  it('refuses a second Service on a taken NodePort, the same way every time', () => {
    const a = service('a', '10.43.0.1', [{ port: 80, nodePort: 30001 }], { type: 'NodePort' });
    const b = service('b', '10.43.0.2', [{ port: 80, nodePort: 30001 }], { type: 'NodePort' });
    for (const order of [[a, b], [b, a]]) {
      const plan = planListeners(order, () => undefined, options);
      assert.equal(plan.listeners.find((l) => l.port === 30001)!.route.service, 'default/a');
      assert.equal(plan.conflicts.length, 1);
      assert.match(plan.conflicts[0]!, /default\/b .*TCP 0\.0\.0\.0:30001 is already served for default\/a/);
    }
  });

  it('keeps traffic policy Local to this gateway\'s endpoints: ClusterIP traffic by internalTrafficPolicy, NodePort traffic by externalTrafficPolicy', () => {
    const ep: KObject = {
      apiVersion: 'v1',
      kind: 'Endpoints',
      metadata: { name: 'web', namespace: 'default' },
      subsets: [{ addresses: [{ ip: '10.42.0.5', nodeName: 'g1' }, { ip: '10.42.1.5', nodeName: 'g2' }, { ip: '10.42.2.5' }], ports: [{ name: 'http', port: 8080 }] }],
    };
    const web = (policies: Record<string, string>) => service('web', '10.43.0.20', [{ name: 'http', port: 80, nodePort: 30080 }], { type: 'NodePort', ...policies });
    const routesOf = (policies: Record<string, string>, nodeName?: string) => {
      const plan = planListeners([web(policies)], () => ep, { ...options, ...(nodeName ? { nodeName } : {}) });
      return plan.listeners.map((l) => `${l.port} ${l.route.key} ${l.route.backends.map((b) => b.ip).join(',')}`);
    };
    assert.deepEqual(routesOf({}, 'g1'), ['80 default/web:http/TCP 10.42.0.5,10.42.1.5,10.42.2.5', '30080 default/web:http/TCP 10.42.0.5,10.42.1.5,10.42.2.5']);
    assert.deepEqual(routesOf({ externalTrafficPolicy: 'Local' }, 'g1'), ['80 default/web:http/TCP 10.42.0.5,10.42.1.5,10.42.2.5', '30080 default/web:http/TCP local 10.42.0.5']);
    assert.deepEqual(routesOf({ internalTrafficPolicy: 'Local' }, 'g2'), ['80 default/web:http/TCP local 10.42.1.5', '30080 default/web:http/TCP 10.42.0.5,10.42.1.5,10.42.2.5']);
    assert.deepEqual(routesOf({ internalTrafficPolicy: 'Local', externalTrafficPolicy: 'Local' }, 'g1'), ['80 default/web:http/TCP local 10.42.0.5', '30080 default/web:http/TCP local 10.42.0.5'], 'one route serves both');
    assert.equal(planListeners([web({ internalTrafficPolicy: 'Local', externalTrafficPolicy: 'Local' })], () => ep, { ...options, nodeName: 'g1' }).routes.length, 1);
    assert.deepEqual(routesOf({ internalTrafficPolicy: 'Local' }, 'g9'), ['80 default/web:http/TCP local ', '30080 default/web:http/TCP 10.42.0.5,10.42.1.5,10.42.2.5'], 'no local endpoint: nothing to forward to');
    assert.deepEqual(routesOf({ internalTrafficPolicy: 'Local' }), ['80 default/web:http/TCP local ', '30080 default/web:http/TCP 10.42.0.5,10.42.1.5,10.42.2.5'], 'no node name: no endpoint is local');
  });

  it('reads affinity and its timeout (3 hours by default)', () => {
    const plan = planListeners(
      [service('s', '10.43.0.3', [{ port: 1 }], { sessionAffinity: 'ClientIP' }), service('t', '10.43.0.4', [{ port: 1 }], { sessionAffinity: 'ClientIP', sessionAffinityConfig: { clientIP: { timeoutSeconds: 30 } } })],
      () => undefined,
      options,
    );
    assert.deepEqual(plan.routes.map((r) => r.affinityTimeoutMs), [10_800_000, 30_000]);
  });
});

describe('backendsFor', () => {
  it('takes ready addresses of the endpoint port with the same name and protocol', () => {
    const ep: KObject = {
      apiVersion: 'v1',
      kind: 'Endpoints',
      metadata: { name: 'web', namespace: 'default' },
      subsets: [
        { addresses: [{ ip: '10.42.0.5' }, { ip: '10.42.1.5' }], notReadyAddresses: [{ ip: '10.42.2.5' }], ports: [{ name: 'http', port: 8080 }, { name: 'dns', port: 5353, protocol: 'UDP' }] },
        { addresses: [{ ip: '10.42.3.5' }, { ip: 'not-an-ip' }], ports: [{ name: 'http', port: 9090 }] },
      ],
    };
    assert.deepEqual(backendsFor(ep, 'http', 'TCP').map((b) => b.key), ['10.42.0.5:8080', '10.42.1.5:8080', '10.42.3.5:9090']);
    assert.deepEqual(backendsFor(ep, 'dns', 'UDP').map((b) => b.key), ['10.42.0.5:5353', '10.42.1.5:5353']);
    assert.deepEqual(backendsFor(ep, 'dns', 'TCP'), []);
    assert.deepEqual(backendsFor(ep, '', 'TCP'), [], 'an unnamed Service port matches only an unnamed endpoint port');
    assert.deepEqual(backendsFor(endpoints('x', [{ ip: '10.42.0.9', port: 80 }]), '', 'TCP').map((b) => b.key), ['10.42.0.9:80']);
    assert.deepEqual(backendsFor(undefined, '', 'TCP'), []);
  });
});
