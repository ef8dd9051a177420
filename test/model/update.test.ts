// What may not change on update (validateUpdate), what a Service update keeps (carryOverAllocated),
// and writes to the status subresource (validateStatus).

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { carryOverAllocated, validateObject, validateStatus, validateUpdate, type KObject } from '../../src/model/index.ts';
import * as F from './fixtures.ts';
import { clone, info, yaml } from './fixtures.ts';

type Manifest = KObject & Record<string, any>;

/** The object as stored: validated and defaulted. */
function stored(kind: string, text: string): Manifest {
  const result = validateObject(info(kind), yaml(text));
  if (!result.ok) assert.fail(JSON.stringify(result.causes));
  return result.object as Manifest;
}

function fields(kind: string, oldObj: KObject, newObj: KObject): string[] {
  return validateUpdate(info(kind), oldObj, newObj).map((c) => `${c.reason} ${c.field}`);
}

describe('validateUpdate', () => {
  test('an identical object, or one differing only by defaults, is a valid update', () => {
    const old = stored('Deployment', F.NGINX_DEPLOYMENT);
    assert.deepEqual(fields('Deployment', old, clone(old)), []);
    assert.deepEqual(fields('Deployment', old, yaml(F.NGINX_DEPLOYMENT)), []);
  });

  test('metadata.name and metadata.namespace are immutable', () => {
    const old = stored('ConfigMap', F.GAME_DEMO_CONFIGMAP);
    const renamed = clone(old);
    renamed.metadata.name = 'other';
    renamed.metadata.namespace = 'prod';
    const causes = validateUpdate(info('ConfigMap'), old, renamed);
    assert.deepEqual(causes.map((c) => c.field), ['metadata.name', 'metadata.namespace']);
    assert.equal(causes[0]!.message, 'Invalid value: "other": field is immutable');
  });

  for (const [kind, text] of [['Deployment', F.NGINX_DEPLOYMENT], ['ReplicaSet', F.FRONTEND_REPLICASET], ['DaemonSet', F.FLUENTD_DAEMONSET]] as const) {
    test(`${kind}: spec.selector is immutable; the template and replicas are not`, () => {
      const old = stored(kind, text);
      const changed = clone(old);
      changed.spec.selector = { matchLabels: { other: 'x' } };
      assert.deepEqual(fields(kind, old, changed), ['FieldValueInvalid spec.selector']);
      const scaled = clone(old);
      if (kind !== 'DaemonSet') scaled.spec.replicas = 5;
      scaled.spec.template.spec.containers[0].image = 'nginx:1.16.1';
      scaled.spec.template.metadata.labels.extra = 'y';
      assert.deepEqual(fields(kind, old, scaled), []);
    });
  }

  test('Pod: images, activeDeadlineSeconds (shortened) and added tolerations may change', () => {
    const old = stored('Pod', F.INIT_CONTAINERS_POD);
    old.spec.activeDeadlineSeconds = 600;
    old.spec.tolerations = [{ key: 'a', operator: 'Exists' }];
    const next = clone(old);
    next.spec.containers[0].image = 'busybox:1.36';
    next.spec.initContainers[1].image = 'busybox:1.36';
    next.spec.activeDeadlineSeconds = 300;
    next.spec.tolerations.push({ key: 'b', operator: 'Exists', effect: 'NoExecute' });
    next.metadata.labels = { changed: 'yes' };
    assert.deepEqual(fields('Pod', old, next), []);
  });

  test('Pod: any other spec change is refused, naming what changed', () => {
    const old = stored('Pod', F.NAMED_PORT_POD);
    const next = clone(old);
    next.spec.containers[0].ports[0].containerPort = 8080;
    next.spec.restartPolicy = 'Never';
    const causes = validateUpdate(info('Pod'), old, next);
    assert.equal(causes.length, 1);
    assert.equal(causes[0]!.field, 'spec');
    assert.equal(causes[0]!.reason, 'FieldValueForbidden');
    assert.match(causes[0]!.message, /^Forbidden: pod updates may not change fields other than `spec.containers\[\*\].image`/);
    assert.match(causes[0]!.message, /changed: spec\.containers\[0\]\.ports\[0\]\.containerPort, spec\.restartPolicy$/);
  });

  test('Pod: nodeName cannot be set by an update (binding is the scheduler\'s path)', () => {
    const old = stored('Pod', F.NAMED_PORT_POD);
    const next = clone(old);
    next.spec.nodeName = 'gw1';
    assert.deepEqual(fields('Pod', old, next), ['FieldValueForbidden spec']);
  });

  test('Pod: activeDeadlineSeconds may not grow or be removed; tolerations may not be removed', () => {
    const old = stored('Pod', F.NAMED_PORT_POD);
    old.spec.activeDeadlineSeconds = 60;
    old.spec.tolerations = [{ key: 'a', operator: 'Exists' }];
    const longer = clone(old);
    longer.spec.activeDeadlineSeconds = 120;
    assert.deepEqual(fields('Pod', old, longer), ['FieldValueInvalid spec.activeDeadlineSeconds']);
    const removed = clone(old);
    delete removed.spec.activeDeadlineSeconds;
    assert.deepEqual(fields('Pod', old, removed), ['FieldValueInvalid spec.activeDeadlineSeconds']);
    const fewer = clone(old);
    fewer.spec.tolerations = [];
    assert.deepEqual(fields('Pod', old, fewer), ['FieldValueForbidden spec.tolerations']);
  });

  test('Service: clusterIP may not change once set; leaving it out is not a change', () => {
    const old = stored('Service', F.MY_SERVICE);
    old.spec.clusterIP = '10.43.0.12';
    const moved = clone(old);
    moved.spec.clusterIP = '10.43.0.13';
    assert.deepEqual(fields('Service', old, moved), ['FieldValueInvalid spec.clusterIP']);
    assert.deepEqual(fields('Service', old, yaml(F.MY_SERVICE)), []);
    const unset = stored('Service', F.MY_SERVICE);
    const first = clone(unset);
    first.spec.clusterIP = '10.43.0.20';
    assert.deepEqual(fields('Service', unset, first), []);
  });

  test('ConfigMap: data may change unless immutable; immutable cannot be unset', () => {
    const old = stored('ConfigMap', F.GAME_DEMO_CONFIGMAP);
    const edited = clone(old);
    edited.data.player_initial_lives = '5';
    assert.deepEqual(fields('ConfigMap', old, edited), []);
    old.immutable = true;
    const editedFrozen = clone(old);
    editedFrozen.data.player_initial_lives = '5';
    const causes = validateUpdate(info('ConfigMap'), old, editedFrozen);
    assert.deepEqual(causes.map((c) => `${c.reason} ${c.field}`), ['FieldValueForbidden data']);
    assert.equal(causes[0]!.message, 'Forbidden: field is immutable when `immutable` is set');
    const thawed = clone(old);
    thawed.immutable = false;
    assert.deepEqual(fields('ConfigMap', old, thawed), ['FieldValueForbidden immutable']);
    const binary = clone(old);
    binary.binaryData = { 'x.bin': 'AAAA' };
    assert.deepEqual(fields('ConfigMap', old, binary), ['FieldValueForbidden binaryData']);
  });

  test('Secret: immutable data, and type never changes', () => {
    const old = stored('Secret', F.DATA_SECRET);
    old.immutable = true;
    const edited = clone(old);
    edited.data.username = 'cm9vdA==';
    assert.deepEqual(fields('Secret', old, edited), ['FieldValueForbidden data']);
    const retyped = stored('Secret', F.DATA_SECRET);
    const other = clone(retyped);
    other.type = 'kubernetes.io/basic-auth';
    assert.deepEqual(fields('Secret', retyped, other), ['FieldValueInvalid type']);
  });
});

describe('carryOverAllocated', () => {
  test('a Service re-applied without clusterIP and nodePort keeps the allocated ones', () => {
    const old = stored('Service', F.NODEPORT_SERVICE);
    old.spec.clusterIP = '10.43.0.12';
    old.spec.clusterIPs = ['10.43.0.12'];
    const manifest = yaml(F.NODEPORT_SERVICE) as Manifest;
    delete manifest.spec.ports[0].nodePort;
    const before = clone(manifest);
    const out = carryOverAllocated(info('Service'), old, manifest) as Manifest;
    assert.deepEqual(manifest, before, 'input unchanged');
    assert.equal(out.spec.clusterIP, '10.43.0.12');
    assert.deepEqual(out.spec.clusterIPs, ['10.43.0.12']);
    assert.equal(out.spec.ports[0].nodePort, 30007);
    assert.deepEqual(validateUpdate(info('Service'), old, out), []);
  });

  test('other kinds come back as a plain copy', () => {
    const old = stored('ConfigMap', F.GAME_DEMO_CONFIGMAP);
    const next = yaml(F.GAME_DEMO_CONFIGMAP);
    assert.deepEqual(carryOverAllocated(info('ConfigMap'), old, next), next);
  });
});

describe('validateStatus', () => {
  test('accepts a Deployment status written by a controller', () => {
    const d = stored('Deployment', F.NGINX_DEPLOYMENT);
    d.status = {
      observedGeneration: 1,
      replicas: 3,
      updatedReplicas: 3,
      readyReplicas: 3,
      availableReplicas: 3,
      conditions: [{ type: 'Available', status: 'True', reason: 'MinimumReplicasAvailable', lastUpdateTime: '2024-05-01T12:00:00Z', lastTransitionTime: '2024-05-01T12:00:00Z' }],
    };
    const result = validateStatus(info('Deployment'), d);
    assert.equal(result.ok, true);
    if (result.ok) assert.deepEqual(result.object.status, d.status);
  });

  test('accepts a free-form Node status and a Pod status', () => {
    const node = yaml(F.NODE);
    assert.equal(validateStatus(info('Node'), node).ok, true);
    const p = stored('Pod', F.NAMED_PORT_POD);
    p.status = { phase: 'Running', podIP: '10.42.1.7', hostIP: '192.168.1.10', startTime: '2024-05-01T12:00:00Z', containerStatuses: [{ name: 'nginx', ready: true }] };
    assert.equal(validateStatus(info('Pod'), p).ok, true);
  });

  test('ignores the spec (the REST layer keeps the stored one)', () => {
    const d = stored('Deployment', F.NGINX_DEPLOYMENT);
    d.spec.replicas = 'many';
    d.status = { replicas: 1 };
    assert.equal(validateStatus(info('Deployment'), d).ok, true);
  });

  const bad: [string, string, string, (o: Manifest) => void, string, string][] = [
    ['no status', 'Deployment', F.NGINX_DEPLOYMENT, (o) => { delete o.status; }, 'status', 'FieldValueRequired'],
    ['a status that is a string', 'Deployment', F.NGINX_DEPLOYMENT, (o) => { o.status = 'ok'; }, 'status', 'FieldValueTypeInvalid'],
    ['a negative replica count', 'Deployment', F.NGINX_DEPLOYMENT, (o) => { o.status = { replicas: -1 }; }, 'status.replicas', 'FieldValueInvalid'],
    ['a bad Pod phase', 'Pod', F.NAMED_PORT_POD, (o) => { o.status = { phase: 'Sleeping' }; }, 'status.phase', 'FieldValueNotSupported'],
    ['a condition without status', 'Pod', F.NAMED_PORT_POD, (o) => { o.status = { conditions: [{ type: 'Ready' }] }; }, 'status.conditions[0].status', 'FieldValueRequired'],
    ['a bad Namespace phase', 'Namespace', F.NAMESPACE, (o) => { o.status = { phase: 'Gone' }; }, 'status.phase', 'FieldValueNotSupported'],
    ['no name', 'Pod', F.NAMED_PORT_POD, (o) => { o.status = {}; delete o.metadata.name; }, 'metadata.name', 'FieldValueRequired'],
    ['a wrong kind', 'Pod', F.NAMED_PORT_POD, (o) => { o.status = {}; o.kind = 'Node'; }, 'kind', 'FieldValueInvalid'],
    ['a kind without status', 'ConfigMap', F.GAME_DEMO_CONFIGMAP, (o) => { o.status = {}; }, 'status', 'FieldValueForbidden'],
  ];
  for (const [name, kind, text, change, field, reason] of bad) {
    test(`refuses ${name} → ${field}`, () => {
      const o = yaml(text) as Manifest;
      change(o);
      const result = validateStatus(info(kind), o);
      assert.equal(result.ok, false);
      if (!result.ok) assert.deepEqual(result.causes.map((c) => `${c.reason} ${c.field}`), [`${reason} ${field}`]);
    });
  }
});
