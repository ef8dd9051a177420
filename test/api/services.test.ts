// Service allocation through the real store: cluster IPs and node ports are unique (also under
// concurrent creates, also across members), requested values are honoured or refused with the
// reason, released on delete, kept across a restart, and the spec is completed like Kubernetes'.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Deleter, ObjectApi, ObjectStore, StatusError } from '../../src/api/resources/index.ts';
import { CLUSTER_IP_PREFIX, NODE_PORT_PREFIX, ServiceAllocator, startAllocationRepair } from '../../src/api/resources/services/index.ts';
import type { KObject } from '../../src/model/index.ts';
import { carryOverAllocated, findResource, validateObject, validateUpdate } from '../../src/model/index.ts';
import { rangeOf } from '../../src/store/kv/types.ts';
import type { KvService } from '../../src/store/kv/service.ts';
import type { TestApi } from './resource-helpers.ts';
import { startTestApi } from './resource-helpers.ts';
import { inProcessCluster, quietLogger, until } from '../store/store-helpers.ts';

const svcInfo = findResource('', 'v1', 'services')!;
const validator = { validate: validateObject, validateUpdate, carryOver: carryOverAllocated };
const live = { dryRun: false };

function service(name: string, spec: Record<string, unknown> = {}, namespace?: string): KObject {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name, ...(namespace ? { namespace } : {}) },
    spec: { selector: { app: name }, ports: [{ port: 80, targetPort: 8080 }], ...spec },
  };
}

const spec = (o: KObject) => o['spec'] as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

async function keys(kv: KvService, prefix: string): Promise<string[]> {
  const key = Buffer.from(prefix);
  const end = Buffer.from(prefix.slice(0, -1) + String.fromCharCode(prefix.charCodeAt(prefix.length - 1) + 1));
  const { response } = await kv.range(rangeOf({ key, rangeEnd: end }));
  return response.kvs.map((kv) => kv.key.toString('utf8').slice(prefix.length));
}

/** Runs `fn` and answers the StatusError it throws. */
async function refusal(fn: () => Promise<unknown>): Promise<StatusError> {
  try {
    await fn();
  } catch (error) {
    if (error instanceof StatusError) return error;
    throw error;
  }
  assert.fail('expected a refusal');
}

function apiOver(store: ObjectStore, allocator: ServiceAllocator) {
  const api = new ObjectApi({ store, validator, services: allocator });
  return { api, deleter: new Deleter({ api, logger: quietLogger }) };
}

describe('service allocation', () => {
  let t: TestApi;
  let api: ObjectApi;
  let deleter: Deleter;
  let allocator: ServiceAllocator;
  let kv: KvService;
  before(async () => {
    t = await startTestApi();
    const store = t.resources.api.store;
    kv = store.kv;
    allocator = new ServiceAllocator({ store, logger: quietLogger });
    ({ api, deleter } = apiOver(store, allocator));
  });
  after(async () => {
    await t.close();
  });

  it('gives a ClusterIP from 10.43.0.0/16 and fills the IPv4 single-stack fields', async () => {
    const created = await api.create(svcInfo, 'default', service('web'), live);
    const s = spec(created);
    assert.match(s.clusterIP, /^10\.43\.\d+\.\d+$/);
    // Picked from the upper part of the range: the lower 256 addresses stay for requests.
    assert.notEqual(s.clusterIP.split('.')[2], '0');
    assert.deepEqual(s.clusterIPs, [s.clusterIP]);
    assert.deepEqual(s.ipFamilies, ['IPv4']);
    assert.equal(s.ipFamilyPolicy, 'SingleStack');
    assert.equal(s.internalTrafficPolicy, 'Cluster');
    assert.equal(s.type, 'ClusterIP');
    assert.deepEqual(s.ports, [{ port: 80, targetPort: 8080, protocol: 'TCP' }]);
    const stored = await api.get(svcInfo, 'default', 'web', false);
    assert.equal(spec(stored).clusterIP, s.clusterIP);
    assert.equal(stored.metadata.resourceVersion, created.metadata.resourceVersion);
    assert.ok((await keys(kv, CLUSTER_IP_PREFIX)).includes(s.clusterIP));
  });

  it('never hands one IP out twice under 200 concurrent creates', async () => {
    const names = Array.from({ length: 200 }, (_, i) => `many-${i}`);
    const created = await Promise.all(names.map((n) => api.create(svcInfo, 'default', service(n), live)));
    const ips = created.map((o) => spec(o).clusterIP as string);
    assert.equal(new Set(ips).size, 200);
    for (const ip of ips) assert.ok(ip !== '10.43.0.1' && ip !== '10.43.0.10');
    const allocated = new Set(await keys(kv, CLUSTER_IP_PREFIX));
    for (const ip of ips) assert.ok(allocated.has(ip), ip);
    const list = await api.list(svcInfo, 'default', { serializable: false });
    const listed = (list['items'] as KObject[]).map((o) => spec(o).clusterIP as string);
    assert.equal(new Set(listed).size, listed.length);
  });

  it('honours a requested free IP and refuses a taken one with the reason', async () => {
    const created = await api.create(svcInfo, 'default', service('asked', { clusterIP: '10.43.0.5' }), live);
    assert.equal(spec(created).clusterIP, '10.43.0.5');
    const error = await refusal(() => api.create(svcInfo, 'default', service('asked-too', { clusterIP: '10.43.0.5' }), live));
    assert.equal(error.code, 422);
    assert.match(error.message, /spec\.clusterIP: Invalid value: "10\.43\.0\.5": provided IP is already allocated/);
    // A dry run says the same and writes nothing.
    const dry = await refusal(() => api.create(svcInfo, 'default', service('asked-dry', { clusterIP: '10.43.0.5' }), { dryRun: true }));
    assert.equal(dry.code, 422);
    // clusterIPs alone is a request too.
    const viaList = await api.create(svcInfo, 'default', service('asked-list', { clusterIPs: ['10.43.0.6'] }), live);
    assert.equal(spec(viaList).clusterIP, '10.43.0.6');
  });

  it('refuses an IP out of range, the range’s own addresses and reserved ones', async () => {
    for (const ip of ['10.44.0.5', '192.168.1.1', '10.43.0.0', '10.43.255.255']) {
      const error = await refusal(() => api.create(svcInfo, 'default', service('out', { clusterIP: ip }), live));
      assert.equal(error.code, 422, ip);
      assert.match(error.message, /provided IP is not in the valid range\. The range of valid IPs is 10\.43\.0\.0\/16/, ip);
    }
    const dns = await refusal(() => api.create(svcInfo, 'default', service('not-dns', { clusterIP: '10.43.0.10' }), live));
    assert.match(dns.message, /spec\.clusterIP: Invalid value: "10\.43\.0\.10": provided IP is reserved for the cluster DNS, which every gateway answers at that address \(only a Service named kube-system\/kube-dns may take it\)/);
    const k = await api.create(svcInfo, 'default', service('kubernetes', { clusterIP: '10.43.0.1', ports: [{ name: 'https', port: 443, targetPort: 6443 }] }), live);
    assert.equal(spec(k).clusterIP, '10.43.0.1');
    const d = await api.create(svcInfo, 'kube-system', service('kube-dns', { clusterIP: '10.43.0.10', ports: [{ name: 'dns', port: 53, protocol: 'UDP' }] }), live);
    assert.equal(spec(d).clusterIP, '10.43.0.10');
  });

  it('releases the IP and node ports on delete, so they can be requested again', async () => {
    await api.create(svcInfo, 'default', service('temp', { type: 'NodePort', clusterIP: '10.43.0.20', ports: [{ port: 80, nodePort: 30060 }] }), live);
    assert.ok((await keys(kv, CLUSTER_IP_PREFIX)).includes('10.43.0.20'));
    assert.ok((await keys(kv, NODE_PORT_PREFIX)).includes('30060'));
    const { gone } = await deleter.delete(svcInfo, 'default', 'temp', live);
    assert.equal(gone, true);
    assert.ok(!(await keys(kv, CLUSTER_IP_PREFIX)).includes('10.43.0.20'));
    assert.ok(!(await keys(kv, NODE_PORT_PREFIX)).includes('30060'));
    const again = await api.create(svcInfo, 'default', service('temp2', { type: 'NodePort', clusterIP: '10.43.0.20', ports: [{ port: 80, nodePort: 30060 }] }), live);
    assert.equal(spec(again).clusterIP, '10.43.0.20');
    assert.equal(spec(again).ports[0].nodePort, 30060);
  });

  it('gives NodePort Services a node port per port and refuses a taken or out-of-range one', async () => {
    const np = await api.create(
      svcInfo,
      'default',
      service('np', {
        type: 'NodePort',
        ports: [
          { name: 'http', port: 80 },
          { name: 'dns-tcp', port: 53, protocol: 'TCP' },
          { name: 'dns-udp', port: 53, protocol: 'UDP' },
        ],
      }),
      live,
    );
    const ports = spec(np).ports as { nodePort: number }[];
    for (const p of ports) assert.ok(p.nodePort >= 30000 && p.nodePort <= 32767, String(p.nodePort));
    assert.notEqual(ports[0]!.nodePort, ports[1]!.nodePort);
    // Kubernetes gives one port number over TCP and UDP the same node port.
    assert.equal(ports[1]!.nodePort, ports[2]!.nodePort);
    assert.equal(spec(np).externalTrafficPolicy, 'Cluster');
    const held = await keys(kv, NODE_PORT_PREFIX);
    assert.ok(held.includes(String(ports[0]!.nodePort)) && held.includes(String(ports[1]!.nodePort)));

    const asked = await api.create(svcInfo, 'default', service('np-asked', { type: 'NodePort', ports: [{ port: 80, nodePort: 30080 }] }), live);
    assert.equal(spec(asked).ports[0].nodePort, 30080);
    const taken = await refusal(() => api.create(svcInfo, 'default', service('np-taken', { type: 'NodePort', ports: [{ port: 8080, nodePort: 30080 }] }), live));
    assert.equal(taken.code, 422);
    assert.match(taken.message, /spec\.ports\[0\]\.nodePort: Invalid value: 30080: provided port is already allocated/);
    const range = await refusal(() => api.create(svcInfo, 'default', service('np-range', { type: 'NodePort', ports: [{ port: 80, nodePort: 29999 }] }), live));
    assert.match(range.message, /provided port is not in the valid range\. The range of valid ports is 30000-32767/);
    const notNodePort = await refusal(() => api.create(svcInfo, 'default', service('cip-np', { ports: [{ port: 80, nodePort: 30081 }] }), live));
    assert.match(notNodePort.message, /nodePort: Forbidden: may not be used when `type` is 'ClusterIP'/);
  });

  it('allocates nothing for headless Services and ExternalName Services', async () => {
    const before = (await keys(kv, CLUSTER_IP_PREFIX)).length;
    const headless = await api.create(svcInfo, 'default', service('db', { clusterIP: 'None', ports: [{ port: 5432 }] }), live);
    assert.equal(spec(headless).clusterIP, 'None');
    assert.deepEqual(spec(headless).clusterIPs, ['None']);
    const external = await api.create(svcInfo, 'default', { apiVersion: 'v1', kind: 'Service', metadata: { name: 'ext' }, spec: { type: 'ExternalName', externalName: 'db.example.com' } }, live);
    assert.equal(spec(external).clusterIP, undefined);
    assert.equal(spec(external).clusterIPs, undefined);
    assert.equal(spec(external).ipFamilies, undefined);
    assert.equal((await keys(kv, CLUSTER_IP_PREFIX)).length, before);
    const refused = await refusal(() => api.create(svcInfo, 'default', { apiVersion: 'v1', kind: 'Service', metadata: { name: 'ext2' }, spec: { type: 'ExternalName', externalName: 'a.example.com', clusterIP: '10.43.0.30' } }, live));
    assert.match(refused.message, /spec\.clusterIP: Forbidden: may not be set for ExternalName services/);
  });

  it('keeps the clusterIP on update, refuses changing it, and allocates on a type change', async () => {
    const created = await api.create(svcInfo, 'default', service('upd', { sessionAffinity: 'ClientIP' }), live);
    const ip = spec(created).clusterIP as string;
    assert.deepEqual(spec(created).sessionAffinityConfig, { clientIP: { timeoutSeconds: 10800 } });
    // A manifest applied again without the clusterIP keeps it.
    const replaced = await api.replace(svcInfo, 'default', 'upd', service('upd', { ports: [{ port: 81 }] }), live);
    assert.equal(spec(replaced).clusterIP, ip);
    assert.equal(spec(replaced).ports[0].port, 81);
    const changed = await refusal(() => api.replace(svcInfo, 'default', 'upd', service('upd', { clusterIP: '10.43.0.40' }), live));
    assert.equal(changed.code, 422);
    assert.match(changed.message, /spec\.clusterIP: Invalid value: "10\.43\.0\.40": field is immutable/);
    // A patch keeps the stored clusterIPs beside the new clusterIP: still only "immutable".
    const patched = await refusal(() => api.patch(svcInfo, 'default', 'upd', 'merge', { spec: { clusterIP: '10.43.0.41' } }, live));
    assert.equal(patched.code, 422);
    assert.match(patched.message, /spec\.clusterIP: Invalid value: "10\.43\.0\.41": field is immutable/);
    assert.doesNotMatch(patched.message, /clusterIPs/);
    const headless = await refusal(() => api.patch(svcInfo, 'default', 'upd', 'merge', { spec: { clusterIP: 'None' } }, live));
    assert.equal(headless.code, 422);
    assert.match(headless.message, /spec\.clusterIPs?(\[0\])?: Invalid value/);
    // ClusterIP → NodePort: node ports are allocated, the IP stays.
    const np = await api.patch(svcInfo, 'default', 'upd', 'merge', { spec: { type: 'NodePort' } }, live);
    assert.equal(spec(np).clusterIP, ip);
    const nodePort = spec(np).ports[0].nodePort as number;
    assert.ok(nodePort >= 30000 && nodePort <= 32767);
    assert.ok((await keys(kv, NODE_PORT_PREFIX)).includes(String(nodePort)));
    // A new port number under the same name keeps the node port (Kubernetes matches by name).
    const renumbered = await api.patch(svcInfo, 'default', 'upd', 'merge', { spec: { ports: [{ port: 82 }] } }, live);
    assert.equal(spec(renumbered).ports[0].port, 82);
    assert.equal(spec(renumbered).ports[0].nodePort, nodePort);
    // Changing the node port releases the old one.
    await api.patch(svcInfo, 'default', 'upd', 'json', [{ op: 'replace', path: '/spec/ports/0/nodePort', value: 30050 }], live);
    const held = await keys(kv, NODE_PORT_PREFIX);
    assert.ok(held.includes('30050'));
    assert.ok(!held.includes(String(nodePort)));
    // Back to ClusterIP (node ports removed): they are freed.
    await api.patch(svcInfo, 'default', 'upd', 'json', [{ op: 'replace', path: '/spec/type', value: 'ClusterIP' }, { op: 'remove', path: '/spec/ports/0/nodePort' }, { op: 'remove', path: '/spec/externalTrafficPolicy' }], live);
    assert.ok(!(await keys(kv, NODE_PORT_PREFIX)).includes('30050'));
    // NodePort → ClusterIP by the type alone (as `kubectl apply` of a changed manifest patches it):
    // the node ports and the external policy the patch carried over go with the type.
    const again = await api.patch(svcInfo, 'default', 'upd', 'merge', { spec: { type: 'NodePort', externalTrafficPolicy: 'Local' } }, live);
    const againPort = spec(again).ports[0].nodePort as number;
    assert.ok((await keys(kv, NODE_PORT_PREFIX)).includes(String(againPort)));
    const back = await api.patch(svcInfo, 'default', 'upd', 'merge', { spec: { type: 'ClusterIP' } }, live);
    assert.equal(spec(back).ports[0].nodePort, undefined);
    assert.equal(spec(back).externalTrafficPolicy, undefined);
    assert.ok(!(await keys(kv, NODE_PORT_PREFIX)).includes(String(againPort)));
    // One the update asks for itself is refused, as is an external policy without a NodePort.
    const asked = await refusal(() => api.patch(svcInfo, 'default', 'upd', 'json', [{ op: 'add', path: '/spec/ports/0/nodePort', value: 30051 }], live));
    assert.match(asked.message, /spec\.ports\[0\]\.nodePort: Forbidden: may not be used when `type` is 'ClusterIP'/);
    const policy = await refusal(() => api.patch(svcInfo, 'default', 'upd', 'merge', { spec: { externalTrafficPolicy: 'Local' } }, live));
    assert.equal(policy.code, 422);
    assert.match(policy.message, /spec\.externalTrafficPolicy: Invalid value: "Local": may only be set for externally-accessible services/);
    // ExternalName → ClusterIP: an IP is allocated.
    await api.create(svcInfo, 'default', { apiVersion: 'v1', kind: 'Service', metadata: { name: 'ext-up' }, spec: { type: 'ExternalName', externalName: 'db.example.com' } }, live);
    const up = await api.patch(svcInfo, 'default', 'ext-up', 'merge', { spec: { type: 'ClusterIP', externalName: null, ports: [{ port: 5432 }] } }, live);
    assert.match(spec(up).clusterIP, /^10\.43\./);
    assert.ok((await keys(kv, CLUSTER_IP_PREFIX)).includes(spec(up).clusterIP));
  });

  it('defaults targetPort to the port and takes a container port name', async () => {
    const created = await api.create(svcInfo, 'default', service('tp', { ports: [{ name: 'http', port: 80, targetPort: 'web' }, { name: 'metrics', port: 9100, protocol: 'UDP' }] }), live);
    assert.deepEqual(spec(created).ports, [
      { name: 'http', port: 80, targetPort: 'web', protocol: 'TCP' },
      { name: 'metrics', port: 9100, targetPort: 9100, protocol: 'UDP' },
    ]);
  });

  it('refuses what bramble does not implement: LoadBalancer, SCTP, several unnamed ports', async () => {
    const lb = await refusal(() => api.create(svcInfo, 'default', service('lb', { type: 'LoadBalancer' }), live));
    assert.equal(lb.code, 422);
    assert.match(lb.message, /LoadBalancer/);
    const sctp = await refusal(() => api.create(svcInfo, 'default', service('sctp', { ports: [{ port: 80, protocol: 'SCTP' }] }), live));
    assert.match(sctp.message, /SCTP/);
    const unnamed = await refusal(() => api.create(svcInfo, 'default', service('two', { ports: [{ port: 80 }, { port: 443 }] }), live));
    assert.match(unnamed.message, /spec\.ports\[0\]\.name: Required value/);
    const affinity = await refusal(() => api.create(svcInfo, 'default', service('aff', { sessionAffinityConfig: { clientIP: { timeoutSeconds: 60 } } }), live));
    assert.match(affinity.message, /spec\.sessionAffinityConfig: .*must not be set when sessionAffinity is None/);
  });

  it('repairs leaked allocations and restores missing ones', async () => {
    // A key whose Service is gone (written around the API).
    await kv.write({ op: 'put', put: { key: Buffer.from(`${CLUSTER_IP_PREFIX}10.43.0.77`), value: Buffer.from('{"namespace":"default","name":"gone","uid":"x"}'), prevKv: false, ignoreValue: false } });
    const held = spec(await api.get(svcInfo, 'default', 'web', false)).clusterIP as string;
    await kv.write({ op: 'deleteRange', deleteRange: { key: Buffer.from(`${CLUSTER_IP_PREFIX}${held}`), rangeEnd: Buffer.alloc(0), prevKv: false } });
    const result = await allocator.repair();
    assert.deepEqual(result.released, [`${CLUSTER_IP_PREFIX}10.43.0.77`]);
    assert.deepEqual(result.restored, [`${CLUSTER_IP_PREFIX}${held}`]);
    assert.deepEqual(result.duplicates, []);
    const again = await allocator.repair();
    assert.deepEqual([again.released, again.restored], [[], []]);
  });

  it('runs the repair on the leader only', async () => {
    await kv.write({ op: 'put', put: { key: Buffer.from(`${CLUSTER_IP_PREFIX}10.43.0.78`), value: Buffer.from('{"namespace":"default","name":"gone","uid":"y"}'), prevKv: false, ignoreValue: false } });
    let leader = false;
    const loop = startAllocationRepair({ allocator, isLeader: () => leader, logger: quietLogger, everyMillis: 60_000 });
    try {
      await loop.runOnce();
      assert.ok((await keys(kv, CLUSTER_IP_PREFIX)).includes('10.43.0.78'));
      leader = true;
      await loop.runOnce();
      assert.ok(!(await keys(kv, CLUSTER_IP_PREFIX)).includes('10.43.0.78'));
    } finally {
      loop.stop();
    }
  });
});

describe('service allocation in a small range', () => {
  let t: TestApi;
  before(async () => {
    t = await startTestApi();
  });
  after(async () => {
    await t.close();
  });

  it('says the range is full, and reuses a freed address', async () => {
    const store = t.resources.api.store;
    const network = { clusterIpCidr: '10.99.0.0/29', reserved: [{ ip: '10.99.0.1', owner: 'default/kubernetes', why: 'the API server Service default/kubernetes' }], nodePorts: { min: 30000, max: 30001 } };
    const { api, deleter } = apiOver(store, new ServiceAllocator({ store, network }));
    const ips = [];
    for (let i = 0; i < 5; i++) ips.push(spec(await api.create(svcInfo, 'default', service(`s${i}`), live)).clusterIP);
    assert.deepEqual([...ips].sort(), ['10.99.0.2', '10.99.0.3', '10.99.0.4', '10.99.0.5', '10.99.0.6']);
    const full = await refusal(() => api.create(svcInfo, 'default', service('s5'), live));
    assert.equal(full.code, 500);
    assert.match(full.message, /range is full \(no free address in 10\.99\.0\.0\/29\)/);
    await deleter.delete(svcInfo, 'default', 's2', live);
    const reused = await api.create(svcInfo, 'default', service('s6'), live);
    assert.equal(spec(reused).clusterIP, ips[2]);
  });
});

describe('service allocation across members and restarts', () => {
  it('never hands one IP out twice from three members at once, and keeps allocations over a restart', async () => {
    const cluster = inProcessCluster();
    try {
      const m1 = cluster.add('m1', true);
      await until('a leader', () => m1.driver.leader === 'm1', 10_000);
      const joined = await joinTwo(cluster);
      const network = { clusterIpCidr: '10.43.0.0/26', reserved: [], nodePorts: { min: 30000, max: 32767 } };
      const apis = [m1, ...joined].map((m) => {
        const store = new ObjectStore(m.service);
        return new ObjectApi({ store, validator, services: new ServiceAllocator({ store, network }) });
      });
      await apis[0]!.create(findResource('', 'v1', 'namespaces')!, undefined, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'default' } }, live);
      // 45 Services for 62 addresses, from three members at once: every pick races.
      const created = await Promise.all(Array.from({ length: 45 }, (_, i) => apis[i % 3]!.create(svcInfo, 'default', service(`r${i}`), live)));
      const ips = created.map((o) => spec(o).clusterIP as string);
      assert.equal(new Set(ips).size, 45);

      // Every member stops and starts again: the allocations are in their replicas.
      for (const name of ['m1', 'm2', 'm3']) cluster.stop(name);
      const again = cluster.restart('m1');
      cluster.restart('m2');
      cluster.restart('m3');
      await until('a leader after the restart', () => [...cluster.stores.values()].some((m) => m.driver.isLeader), 10_000);
      const store = new ObjectStore(again.service);
      const api = new ObjectApi({ store, validator, services: new ServiceAllocator({ store, network }) });
      const error = await refusal(() => api.create(svcInfo, 'default', service('dup', { clusterIP: ips[0] }), live));
      assert.match(error.message, /provided IP is already allocated/);
      const fresh = await api.create(svcInfo, 'default', service('fresh'), live);
      assert.ok(!ips.includes(spec(fresh).clusterIP));
    } finally {
      cluster.close();
    }
  });
});

/** Adds m2 and m3 as voters of m1's cluster. */
async function joinTwo(cluster: ReturnType<typeof inProcessCluster>) {
  const m1 = cluster.stores.get('m1')!;
  const out = [];
  for (const name of ['m2', 'm3']) {
    out.push(cluster.add(name, false));
    await m1.driver.proposeConfChange({ type: 'addLearner', node: name, context: JSON.stringify({ name, peerURL: `mem://${name}`, apiURL: '' }) });
    await until(`${name} caught up`, () => cluster.stores.get(name)!.replica.applied >= m1.replica.applied);
    await m1.driver.proposeConfChange({ type: 'promote', node: name, context: '' });
  }
  await until('3 voters', () => [...cluster.stores.values()].every((s) => s.replica.members().filter((m) => m.role === 'voter').length === 3));
  return out;
}
