// The scheduler's filters on the pure core: readiness, cordons, resources, host ports, taints,
// node selectors and affinity, and the Unschedulable message Kubernetes prints.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { NO_NODES_MESSAGE, schedule, unschedulableMessage } from '../../src/scheduler/index.ts';
import type { Decision } from '../../src/scheduler/index.ts';
import { podFacts } from '../../src/scheduler/facts.ts';
import { portsConflict, termMatches, tolerates } from '../../src/scheduler/node-rules.ts';
import { nodeFacts } from '../../src/scheduler/facts.ts';
import { node, pod } from './fixtures.ts';

function refused(decision: Decision): string {
  assert.equal(decision.nodeName, null, `expected no node, got ${decision.nodeName}`);
  return (decision as { message: string }).message;
}

describe('scheduler filters', () => {
  it('binds to a ready node and refuses nodes that are not ready or are cordoned', () => {
    assert.equal(schedule(pod('p'), [node('a', { ready: false }), node('b')], []).nodeName, 'b');
    const message = refused(schedule(pod('p'), [node('a', { ready: false }), node('b', { unschedulable: true })], []));
    assert.equal(message, '0/2 nodes are available: 1 node(s) were not ready, 1 node(s) were unschedulable.');
    const tolerant = pod('p', { spec: { tolerations: [{ key: 'node.kubernetes.io/unschedulable', operator: 'Exists', effect: 'NoSchedule' }] } });
    assert.equal(schedule(tolerant, [node('b', { unschedulable: true })], []).nodeName, 'b');
    const noCondition = node('c');
    (noCondition['status'] as Record<string, unknown>)['conditions'] = [];
    assert.match(refused(schedule(pod('p'), [noCondition], [])), /1 node\(s\) were not ready/);
  });

  it('fits requests into allocatable minus the non-terminal pods already there', () => {
    const nodes = [node('a', { cpu: '1', memory: '1Gi' })];
    assert.equal(schedule(pod('p', { cpu: '500m', memory: '512Mi' }), nodes, [pod('q', { nodeName: 'a', cpu: '500m', memory: '512Mi' })]).nodeName, 'a');
    assert.equal(
      refused(schedule(pod('p', { cpu: '600m', memory: '600Mi' }), nodes, [pod('q', { nodeName: 'a', cpu: '500m', memory: '512Mi' })])),
      '0/1 nodes are available: 1 Insufficient cpu, 1 Insufficient memory.',
    );
    // A finished pod takes nothing; one being deleted still does.
    assert.equal(schedule(pod('p', { cpu: '1' }), nodes, [pod('q', { nodeName: 'a', cpu: '1', phase: 'Succeeded' })]).nodeName, 'a');
    assert.equal(refused(schedule(pod('p', { cpu: '1' }), nodes, [pod('q', { nodeName: 'a', cpu: '1', deleting: true })])), '0/1 nodes are available: 1 Insufficient cpu.');
    // The pod count counts against allocatable pods.
    assert.equal(refused(schedule(pod('p'), [node('a', { pods: '1' })], [pod('q', { nodeName: 'a' })])), '0/1 nodes are available: 1 Too many pods.');
  });

  it('sums requests as Kubernetes does: limits stand for missing requests, init containers by their maximum', () => {
    const facts = podFacts(
      pod('p', {
        spec: {
          containers: [
            { name: 'a', image: 'x', resources: { requests: { cpu: '100m' } } },
            { name: 'b', image: 'x', resources: { limits: { cpu: '200m', memory: '64Mi' } } },
          ],
          initContainers: [{ name: 'i', image: 'x', resources: { requests: { cpu: '1', memory: '1Mi' } } }],
        },
      }),
    );
    assert.deepEqual(facts.requests, { cpu: 1000, memory: 64 * 1024 * 1024 });
  });

  it('prints the Unschedulable message with counts per reason, sorted, and says when there are no nodes', () => {
    const ssd = { disk: 'ssd' };
    const nodes = [node('a', { ready: false }), node('b', { memory: '1Gi', labels: ssd }), node('c', { memory: '1Gi', labels: ssd }), node('d', { taints: [{ key: 'dedicated', value: 'gpu', effect: 'NoSchedule' }] })];
    assert.equal(
      refused(schedule(pod('p', { memory: '2Gi', spec: { nodeSelector: { disk: 'ssd' } } }), [...nodes, node('e')], [])),
      "0/5 nodes are available: 1 node(s) didn't match Pod's node affinity/selector, 1 node(s) had untolerated taint {dedicated: gpu}, 1 node(s) were not ready, 2 Insufficient memory.",
    );
    assert.equal(refused(schedule(pod('p'), [], [])), NO_NODES_MESSAGE);
    assert.equal(unschedulableMessage(3, new Map([['a', ['Insufficient memory']], ['b', ['Insufficient memory']], ['c', ['node(s) were not ready']]])), '0/3 nodes are available: 1 node(s) were not ready, 2 Insufficient memory.');
  });

  it('refuses a node whose host port (same port, protocol and address) is taken', () => {
    const nodes = [node('a'), node('b')];
    const bound = [pod('web-1', { nodeName: 'a', hostPort: 8080 })];
    assert.equal(schedule(pod('web-2', { hostPort: 8080 }), nodes, bound).nodeName, 'b');
    assert.equal(schedule(pod('dns', { hostPort: 8080, protocol: 'UDP' }), [node('a')], bound).nodeName, 'a');
    assert.equal(
      refused(schedule(pod('web-3', { hostPort: 8080 }), nodes, [...bound, pod('web-x', { nodeName: 'b', hostPort: 8080 })])),
      "0/2 nodes are available: 2 node(s) didn't have free ports for the requested pod ports.",
    );
    // A terminal pod's port is free again.
    assert.equal(schedule(pod('web-4', { hostPort: 8080 }), [node('a')], [pod('old', { nodeName: 'a', hostPort: 8080, phase: 'Failed' })]).nodeName, 'a');
    const p = (port: number, ip: string, protocol = 'TCP') => ({ port, ip, protocol });
    assert.equal(portsConflict([p(80, '127.0.0.1')], [p(80, '10.0.0.1')]), false);
    assert.equal(portsConflict([p(80, '127.0.0.1')], [p(80, '0.0.0.0')]), true);
    assert.equal(portsConflict([p(80, '0.0.0.0')], [p(80, '10.0.0.1')]), true);
    assert.equal(portsConflict([p(80, '0.0.0.0')], [p(81, '0.0.0.0')]), false);
    // On the host's network a container port is a host port.
    assert.deepEqual(podFacts(pod('h', { spec: { hostNetwork: true, containers: [{ name: 'c', image: 'x', ports: [{ containerPort: 53, protocol: 'UDP' }] }] } })).ports, [p(53, '0.0.0.0', 'UDP')]);
  });

  it('keeps pods off tainted nodes unless they tolerate the taint', () => {
    const taint = { key: 'dedicated', value: 'gpu', effect: 'NoSchedule' };
    const nodes = [node('a', { taints: [taint] })];
    assert.equal(refused(schedule(pod('p'), nodes, [])), '0/1 nodes are available: 1 node(s) had untolerated taint {dedicated: gpu}.');
    const withTolerations = (tolerations: unknown[]) => pod('p', { spec: { tolerations } });
    assert.equal(schedule(withTolerations([{ key: 'dedicated', operator: 'Equal', value: 'gpu', effect: 'NoSchedule' }]), nodes, []).nodeName, 'a');
    assert.equal(schedule(withTolerations([{ key: 'dedicated', operator: 'Exists' }]), nodes, []).nodeName, 'a');
    assert.equal(schedule(withTolerations([{ operator: 'Exists' }]), nodes, []).nodeName, 'a');
    assert.equal(schedule(withTolerations([{ key: 'dedicated', value: 'cpu', effect: 'NoSchedule' }]), nodes, []).nodeName, null);
    assert.equal(schedule(withTolerations([{ key: 'dedicated', operator: 'Exists', effect: 'NoExecute' }]), nodes, []).nodeName, null);
    const noExecute = [node('b', { taints: [{ key: 'k', effect: 'NoExecute' }] })];
    assert.match(refused(schedule(pod('p'), noExecute, [])), /untolerated taint \{k: \}/);
    // PreferNoSchedule does not filter; it only makes the node less attractive.
    const soft = [node('a', { taints: [{ key: 'x', effect: 'PreferNoSchedule' }] }), node('b')];
    assert.equal(schedule(pod('p'), soft, []).nodeName, 'b');
    assert.equal(schedule(pod('p'), [soft[0]!], []).nodeName, 'a');
    assert.equal(tolerates({ key: '', operator: 'Exists', value: '', effect: '' }, { key: 'any', value: 'v', effect: 'NoExecute' }), true);
    assert.equal(tolerates({ key: 'a', operator: 'Equal', value: '', effect: '' }, { key: 'a', value: 'v', effect: 'NoSchedule' }), false);
  });

  it('matches nodeSelector and required node affinity (In, NotIn, Exists, DoesNotExist, Gt, Lt, matchFields)', () => {
    const nodes = [node('a', { labels: { disk: 'ssd', cores: '8' } }), node('b', { labels: { disk: 'hdd', cores: '2' } }), node('c', { labels: {} })];
    assert.equal(schedule(pod('p', { spec: { nodeSelector: { disk: 'hdd' } } }), nodes, []).nodeName, 'b');
    const affinity = (...terms: unknown[]) => pod('p', { spec: { affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: terms } } } } });
    const expr = (key: string, operator: string, values?: string[]) => ({ matchExpressions: [{ key, operator, ...(values ? { values } : {}) }] });
    const placedOn = (p: ReturnType<typeof pod>) => {
      const d = schedule(p, nodes, []);
      return d.nodeName;
    };
    assert.equal(placedOn(affinity(expr('disk', 'In', ['ssd', 'nvme']))), 'a');
    assert.equal(placedOn(affinity(expr('disk', 'Exists'))), 'a'); // a and b fit; a sorts first
    assert.equal(placedOn(affinity(expr('disk', 'DoesNotExist'))), 'c');
    assert.equal(placedOn(affinity(expr('cores', 'Gt', ['4']))), 'a');
    assert.equal(placedOn(affinity(expr('cores', 'Lt', ['4']))), 'b');
    assert.equal(placedOn(affinity({ matchFields: [{ key: 'metadata.name', operator: 'In', values: ['c'] }] })), 'c');
    assert.equal(placedOn(affinity(expr('disk', 'In', ['nvme']), expr('cores', 'Lt', ['3']))), 'b', 'terms are ORed');
    assert.equal(
      refused(schedule(affinity(expr('disk', 'In', ['nvme'])), nodes, [])),
      "0/3 nodes are available: 3 node(s) didn't match Pod's node affinity/selector.",
    );
    const a = nodeFacts(nodes[0]!);
    const c = nodeFacts(nodes[2]!);
    assert.equal(termMatches({ matchExpressions: [{ key: 'disk', operator: 'NotIn', values: ['ssd'] }], matchFields: [] }, a), false);
    assert.equal(termMatches({ matchExpressions: [{ key: 'disk', operator: 'NotIn', values: ['ssd'] }], matchFields: [] }, c), true, 'NotIn matches a node without the label');
    assert.equal(termMatches({ matchExpressions: [{ key: 'cores', operator: 'Gt', values: ['x'] }], matchFields: [] }, a), false);
    assert.equal(termMatches({ matchExpressions: [], matchFields: [] }, a), false, 'an empty term matches nothing');
    // nodeSelector and affinity must both hold.
    const both = pod('p', { spec: { nodeSelector: { disk: 'hdd' }, affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [expr('disk', 'In', ['ssd'])] } } } } });
    assert.equal(schedule(both, nodes, []).nodeName, null);
  });

  it('prefers nodes by preferred node affinity weights', () => {
    const nodes = [node('a', { labels: { tier: 'edge' } }), node('b', { labels: { tier: 'core' } })];
    const p = pod('p', {
      spec: {
        affinity: {
          nodeAffinity: {
            preferredDuringSchedulingIgnoredDuringExecution: [
              { weight: 10, preference: { matchExpressions: [{ key: 'tier', operator: 'In', values: ['edge'] }] } },
              { weight: 80, preference: { matchExpressions: [{ key: 'tier', operator: 'In', values: ['core'] }] } },
            ],
          },
        },
      },
    });
    assert.equal(schedule(p, nodes, []).nodeName, 'b');
  });
});
