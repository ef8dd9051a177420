// The schema DSL on its own (types, required, nulls, unknown and unimplemented fields, field
// paths), and the notes it yields for the README.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { fieldNotes } from '../../src/model/index.ts';
import {
  any,
  arr,
  bool,
  checkSchema,
  enumOf,
  inert,
  int,
  intOrString,
  map,
  notImplemented,
  obj,
  quantity,
  required,
  schemaNotes,
  str,
} from '../../src/model/schema.ts';

const schema = obj({
  name: required(str({ check: (v) => (v === v.toLowerCase() ? null : 'must be lower case') })),
  count: int({ min: 0, max: 10 }),
  big: int({ int64: true }),
  flag: bool(),
  mode: enumOf(['A', 'B'], { notImplemented: { C: 'C is not built' } }),
  port: intOrString({ check: (v) => (typeof v === 'number' && v > 65535 ? 'too big' : null) }),
  size: quantity({ nonNegative: true }),
  items: arr(obj({ id: required(int()) })),
  tags: map(str(), { keyCheck: (k) => (k.includes(' ') ? 'no spaces' : null) }),
  free: any(),
  status: obj({ phase: str() }, { open: true }),
  legacy: notImplemented('gone', { harmless: ['off'] }),
  ignored: inert(str(), 'stored only'),
});

const check = (value: unknown) => checkSchema(value, schema).map((c) => `${c.reason} ${c.field}: ${c.message}`);

describe('checkSchema', () => {
  test('a valid document has no causes', () => {
    assert.deepEqual(
      check({ name: 'x', count: 3, big: 2 ** 40, flag: true, mode: 'A', port: 'http', size: '1Gi', items: [{ id: 1 }], tags: { a: 'b' }, free: { any: [1, 'x'] }, status: { phase: 'Up', extra: 1 }, legacy: 'off', ignored: 'y' }),
      [],
    );
  });

  test('null and absence are the same for optional fields; required ones report Required', () => {
    assert.deepEqual(check({ name: 'x', count: null, flag: null }), []);
    assert.deepEqual(check({ name: null }), ['FieldValueRequired name: Required value']);
    assert.deepEqual(check({ name: '' }), ['FieldValueRequired name: Required value']);
    assert.deepEqual(check({}), ['FieldValueRequired name: Required value']);
  });

  test('type errors name the expected type and what was given, in document order', () => {
    assert.deepEqual(check({ name: 'x', count: '3', flag: 1, items: {}, tags: [], port: 1.5, size: true }), [
      'FieldValueTypeInvalid count: expected an integer, got string "3"',
      'FieldValueTypeInvalid flag: expected a boolean, got number 1',
      'FieldValueTypeInvalid items: expected an array, got an object',
      'FieldValueTypeInvalid tags: expected an object, got an array',
      'FieldValueTypeInvalid port: expected an integer or a string, got number 1.5',
      'FieldValueTypeInvalid size: expected a quantity (a string such as "250m" or a number), got boolean true',
    ]);
  });

  test('value rules, ranges, enums and unimplemented values', () => {
    assert.deepEqual(check({ name: 'X', count: 11, mode: 'D', port: 70000, size: '-1' }), [
      'FieldValueInvalid name: Invalid value: "X": must be lower case',
      'FieldValueInvalid count: Invalid value: 11: must be between 0 and 10, inclusive',
      'FieldValueNotSupported mode: Unsupported value: "D": supported values: "A", "B"',
      'FieldValueInvalid port: Invalid value: 70000: too big',
      'FieldValueInvalid size: Invalid value: "-1": must be greater than or equal to 0',
    ]);
    assert.deepEqual(check({ name: 'x', mode: 'C' }), ['FieldValueNotSupported mode: Unsupported value: "C": C is not built']);
    assert.deepEqual(check({ name: 'x', big: 2 ** 60 }), ['FieldValueTypeInvalid big: expected a 64-bit integer, got number 1152921504606847000']);
  });

  test('paths name list items and map keys', () => {
    assert.deepEqual(check({ name: 'x', items: [{ id: 1 }, {}, null, { id: 'a' }], tags: { 'a b': 'x', c: 3 } }), [
      'FieldValueRequired items[1].id: Required value',
      'FieldValueTypeInvalid items[2]: expected an object, got null',
      'FieldValueTypeInvalid items[3].id: expected an integer, got string "a"',
      'FieldValueInvalid tags: Invalid value: "a b": no spaces',
      'FieldValueTypeInvalid tags[c]: expected a string, got number 3',
    ]);
  });

  test('unknown fields are refused except in open objects; unimplemented ones unless harmless', () => {
    assert.deepEqual(check({ name: 'x', nmae: 'y', status: { anything: 1 }, legacy: 'on' }), [
      'FieldValueUnknown nmae: unknown field "nmae"',
      'FieldValueNotSupported legacy: bramble does not support "legacy": gone',
    ]);
    assert.deepEqual(check({ name: 'x', legacy: false }), []);
    assert.deepEqual(check({ name: 'x', legacy: {} }), []);
    assert.deepEqual(check({ name: 'x', legacy: [] }), []);
  });

  test('a document that is not an object', () => {
    assert.deepEqual(check('x'), ['FieldValueTypeInvalid : expected an object, got string "x"']);
    assert.deepEqual(check(null), ['FieldValueTypeInvalid : expected an object, got null']);
  });
});

describe('notes for the README', () => {
  test('schemaNotes lists refused and inert fields with paths', () => {
    assert.deepEqual(schemaNotes(schema), [
      { path: 'mode=C', kind: 'notImplemented', detail: 'C is not built' },
      { path: 'legacy', kind: 'notImplemented', detail: 'gone' },
      { path: 'ignored', kind: 'inert', detail: 'stored only' },
    ]);
  });

  test('every kind has notes, and the ones the README names are there', () => {
    const paths = (kind: string, which: 'notImplemented' | 'inert') => fieldNotes(kind).filter((n) => n.kind === which).map((n) => n.path);
    for (const kind of ['Namespace', 'Node', 'Pod', 'Service', 'Endpoints', 'ConfigMap', 'Secret', 'Event', 'Deployment', 'ReplicaSet', 'DaemonSet', 'Ingress']) {
      assert.ok(fieldNotes(kind).length > 0, kind);
    }
    assert.ok(!paths('Pod', 'notImplemented').includes('spec.affinity'), 'affinity is supported');
    assert.ok(paths('Pod', 'notImplemented').includes('spec.affinity.podAffinity.requiredDuringSchedulingIgnoredDuringExecution[].namespaceSelector'));
    assert.ok(paths('Pod', 'notImplemented').includes('spec.topologySpreadConstraints[].nodeTaintsPolicy=Honor'));
    assert.ok(paths('Pod', 'notImplemented').includes('spec.volumes[].persistentVolumeClaim'));
    assert.ok(paths('Pod', 'notImplemented').includes('spec.containers[].lifecycle'));
    assert.ok(paths('Service', 'notImplemented').includes('spec.type=LoadBalancer'));
    assert.ok(paths('Deployment', 'notImplemented').includes('spec.template.spec.affinity.podAntiAffinity.requiredDuringSchedulingIgnoredDuringExecution[].mismatchLabelKeys'));
    assert.ok(paths('Pod', 'inert').includes('spec.serviceAccountName'));
    assert.ok(paths('Service', 'inert').includes('spec.ipFamilyPolicy'));
    assert.ok(!paths('Service', 'inert').includes('spec.externalTrafficPolicy'), 'the balancer acts on the traffic policies');
  });
});
