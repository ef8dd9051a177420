// The scheduler's scores and topology rules on the pure core: the default spreading of a
// Deployment over zones even in a burst, scaling up and back, resource scores, topology spread
// constraints, and inter-pod affinity and anti-affinity.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ClusterSnapshot, schedule } from '../../src/scheduler/index.ts';
import type { KObject } from '../../src/model/index.ts';
import { countBy, node, placeAll, pod } from './fixtures.ts';

const threeZones = () => [node('a', { zone: 'z1' }), node('b', { zone: 'z2' }), node('c', { zone: 'z3' })];
const replicas = (owner: string, from: number, count: number, extra: Parameters<typeof pod>[1] = {}) =>
  Array.from({ length: count }, (_, i) => pod(`${owner}-${from + i}`, { owner, labels: { app: owner }, ...extra }));

function bound(pods: KObject[], names: (string | null)[]): KObject[] {
  return pods.map((p, i) => ({ ...p, spec: { ...(p['spec'] as object), nodeName: names[i] } }));
}

describe('scheduler spreading and scores', () => {
  it('spreads a burst of 6 replicas 2/2/2 over 3 nodes in 3 zones, 9 as 3/3/3, and refills after a lopsided scale-down', () => {
    const snapshot = ClusterSnapshot.of(threeZones(), []);
    const first = placeAll(snapshot, replicas('web', 0, 6, { cpu: '1m', memory: '1Mi' }));
    assert.deepEqual(countBy(first), { a: 2, b: 2, c: 2 });
    const more = placeAll(snapshot, replicas('web', 6, 3, { cpu: '1m', memory: '1Mi' }));
    assert.deepEqual(countBy([...first, ...more]), { a: 3, b: 3, c: 3 });
    // Scale back to 6 by removing the three on node a (the worst case), then up to 9 again.
    const all = bound(replicas('web', 0, 9, { cpu: '1m', memory: '1Mi' }), [...first, ...more]);
    const left = all.filter((p) => (p['spec'] as { nodeName: string }).nodeName !== 'a');
    const again = ClusterSnapshot.of(threeZones(), left);
    assert.deepEqual(countBy(placeAll(again, replicas('web', 20, 3))), { a: 3 });
  });

  it('spreads pods without requests and pods over unequal nodes, zone first', () => {
    const snapshot = ClusterSnapshot.of([node('a', { zone: 'z1', cpu: '8', memory: '16Gi' }), node('b', { zone: 'z2', cpu: '2', memory: '2Gi' }), node('c', { zone: 'z3', cpu: '2', memory: '2Gi' })], []);
    assert.deepEqual(countBy(placeAll(snapshot, replicas('api', 0, 6))), { a: 2, b: 2, c: 2 });
    // Two nodes in one zone and one in another: the zones balance first.
    const zones = ClusterSnapshot.of([node('a1', { zone: 'z1' }), node('a2', { zone: 'z1' }), node('b1', { zone: 'z2' })], []);
    const placed = countBy(placeAll(zones, replicas('svc', 0, 4)));
    assert.equal((placed['a1'] ?? 0) + (placed['a2'] ?? 0), 2);
    assert.equal(placed['b1'], 2);
  });

  it('spreads each owner on its own, and pods with the same labels but no owner together', () => {
    const snapshot = ClusterSnapshot.of(threeZones(), [pod('other-1', { nodeName: 'a', owner: 'other', labels: { app: 'other' } }), pod('other-2', { nodeName: 'a', owner: 'other', labels: { app: 'other' } })]);
    assert.deepEqual(countBy(placeAll(snapshot, replicas('mine', 0, 3))), { a: 1, b: 1, c: 1 });
    const loose = Array.from({ length: 3 }, (_, i) => pod(`loose-${i}`, { labels: { role: 'cache' } }));
    assert.deepEqual(countBy(placeAll(ClusterSnapshot.of(threeZones(), []), loose)), { a: 1, b: 1, c: 1 });
  });

  it('prefers the least allocated node', () => {
    const nodes = [node('a'), node('b')];
    assert.equal(schedule(pod('p', { cpu: '100m' }), nodes, [pod('big', { nodeName: 'a', cpu: '3', memory: '6Gi' })]).nodeName, 'b');
  });

  it('keeps DoNotSchedule topology spread constraints within maxSkew and refuses nodes without the key', () => {
    const constraint = (whenUnsatisfiable: string) => ({
      topologySpreadConstraints: [{ maxSkew: 1, topologyKey: 'topology.kubernetes.io/zone', whenUnsatisfiable, labelSelector: { matchLabels: { app: 'db' } } }],
    });
    // b's zone counts (taints do not remove a domain) but b itself is tainted; x has no zone.
    const nodes = [node('a', { zone: 'z1' }), node('b', { zone: 'z2', taints: [{ key: 'k', effect: 'NoSchedule' }] }), node('x')];
    const existing = [pod('db-0', { nodeName: 'a', labels: { app: 'db' } })];
    const db1 = pod('db-1', { labels: { app: 'db' }, spec: constraint('DoNotSchedule') });
    const d = schedule(db1, nodes, existing);
    assert.equal(
      (d as { message: string }).message,
      "0/3 nodes are available: 1 node(s) didn't match pod topology spread constraints, 1 node(s) didn't match pod topology spread constraints (missing required label), 1 node(s) had untolerated taint {k: }.",
    );
    assert.equal(schedule(db1, [node('a', { zone: 'z1' }), node('b', { zone: 'z2' })], existing).nodeName, 'b');
    // Only the domains of nodes the pod may use count: pinned to a, z2 does not exist for it.
    assert.equal(schedule(pod('db-1', { labels: { app: 'db' }, spec: { ...constraint('DoNotSchedule'), nodeSelector: { 'topology.kubernetes.io/zone': 'z1' } } }), nodes, existing).nodeName, 'a');
    // Pods being deleted do not count.
    assert.equal(schedule(db1, nodes, [pod('db-0', { nodeName: 'a', labels: { app: 'db' }, deleting: true })]).nodeName, 'a');
    // ScheduleAnyway only prefers: with b tainted the pod still goes to a; with b open, to b
    // even when b is the busier node.
    assert.equal(schedule(pod('db-1', { labels: { app: 'db' }, spec: constraint('ScheduleAnyway') }), nodes.slice(0, 2), existing).nodeName, 'a');
    assert.equal(schedule(pod('db-1', { labels: { app: 'db' }, spec: constraint('ScheduleAnyway') }), [node('a', { zone: 'z1' }), node('b', { zone: 'z2' })], [...existing, pod('big', { nodeName: 'b', cpu: '2' })]).nodeName, 'b');
  });

  it('spreads a burst with a DoNotSchedule constraint of maxSkew 1 exactly', () => {
    const spec = { topologySpreadConstraints: [{ maxSkew: 1, topologyKey: 'kubernetes.io/hostname', whenUnsatisfiable: 'DoNotSchedule', labelSelector: { matchLabels: { app: 'x' } } }] };
    const pods = Array.from({ length: 7 }, (_, i) => pod(`x-${i}`, { labels: { app: 'x' }, spec }));
    const placed = countBy(placeAll(ClusterSnapshot.of(threeZones(), []), pods));
    assert.deepEqual(Object.values(placed).sort(), [2, 2, 3]);
  });

  it('enforces required pod anti-affinity both ways and required pod affinity', () => {
    const anti = (app: string, key = 'kubernetes.io/hostname') => ({
      affinity: { podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [{ topologyKey: key, labelSelector: { matchLabels: { app } } }] } },
    });
    const pods = Array.from({ length: 4 }, (_, i) => pod(`one-${i}`, { labels: { app: 'one' }, spec: anti('one') }));
    const snapshot = ClusterSnapshot.of(threeZones(), []);
    const placed = placeAll(snapshot, pods);
    assert.deepEqual(countBy(placed.slice(0, 3)), { a: 1, b: 1, c: 1 });
    assert.equal(placed[3], null);
    const d = schedule(pods[3]!, threeZones(), bound(pods.slice(0, 3), placed.slice(0, 3)));
    // Each placed pod's own term also keeps the newcomer away: Kubernetes reports that first.
    assert.equal((d as { message: string }).message, "0/3 nodes are available: 3 node(s) didn't satisfy existing pods anti-affinity rules.");
    const plain = ['a', 'b', 'c'].map((n, i) => pod(`plain-${i}`, { nodeName: n, labels: { app: 'one' } }));
    const own = schedule(pod('one-9', { labels: { app: 'other' }, spec: anti('one') }), threeZones(), plain);
    assert.equal((own as { message: string }).message, "0/3 nodes are available: 3 node(s) didn't match pod anti-affinity rules.");
    const zoneAnti = schedule(pod('one-9', { labels: { app: 'other' }, spec: anti('one', 'topology.kubernetes.io/zone') }), [...threeZones(), node('d', { zone: 'z4' })], plain);
    assert.equal(zoneAnti.nodeName, 'd');
    // A newcomer that an existing pod's anti-affinity names is kept off that pod's node.
    const guard = pod('guard', { nodeName: 'a', labels: { app: 'guard' }, spec: anti('noisy') });
    const noisy = schedule(pod('noisy', { labels: { app: 'noisy' } }), [node('a', { zone: 'z1' })], [guard]);
    assert.equal((noisy as { message: string }).message, "0/1 nodes are available: 1 node(s) didn't satisfy existing pods anti-affinity rules.");
    assert.equal(schedule(pod('quiet', { labels: { app: 'quiet' } }), [node('a', { zone: 'z1' })], [guard]).nodeName, 'a');
    // Anti-affinity in another namespace does not apply.
    assert.equal(schedule(pod('one-x', { namespace: 'other', labels: { app: 'one' }, spec: anti('one') }), [node('a')], [pod('one-0', { nodeName: 'a', labels: { app: 'one' } })]).nodeName, 'a');

    const near = { affinity: { podAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [{ topologyKey: 'topology.kubernetes.io/zone', labelSelector: { matchLabels: { app: 'cache' } } }] } } };
    assert.equal(schedule(pod('web', { labels: { app: 'web' }, spec: near }), threeZones(), [pod('cache-0', { nodeName: 'b', labels: { app: 'cache' } })]).nodeName, 'b');
    const alone = schedule(pod('web', { labels: { app: 'web' }, spec: near }), threeZones(), []);
    assert.equal((alone as { message: string }).message, "0/3 nodes are available: 3 node(s) didn't match pod affinity rules.");
    // The first pod of a group that wants to be with its own kind may go anywhere.
    assert.notEqual(schedule(pod('cache-1', { labels: { app: 'cache' }, spec: near }), threeZones(), []).nodeName, null);
  });

  it('prefers zones without matching pods for preferred anti-affinity and with them for preferred affinity', () => {
    const preferred = (kind: 'podAntiAffinity' | 'podAffinity', key: string) => ({
      affinity: { [kind]: { preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 100, podAffinityTerm: { topologyKey: key, labelSelector: { matchLabels: { app: 'kv' } } } }] } },
    });
    const nodes = [node('a1', { zone: 'z1' }), node('a2', { zone: 'z1' }), node('b1', { zone: 'z2' })];
    const existing = [pod('kv-0', { nodeName: 'a1', labels: { app: 'kv' } })];
    // No owner, unique labels: only the anti-affinity steers it away from zone z1.
    assert.equal(schedule(pod('kv-1', { labels: { app: 'kv', n: '1' }, spec: preferred('podAntiAffinity', 'topology.kubernetes.io/zone') }), nodes, existing).nodeName, 'b1');
    assert.equal(schedule(pod('kv-1', { labels: { app: 'kv', n: '1' }, spec: preferred('podAffinity', 'topology.kubernetes.io/zone') }), nodes.slice(1), existing).nodeName, 'a2');
  });
});
