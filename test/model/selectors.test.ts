// Label selectors in both syntaxes (kubectl text and LabelSelector objects), field selectors,
// and the display forms the CLI prints.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  fieldSelectorMatcher,
  formatLabels,
  formatLabelSelector,
  formatRequirements,
  labelSelectorMatcher,
  matcherForLabelSelector,
  parseFieldSelector,
  parseLabelSelector,
  SelectorError,
} from '../../src/model/index.ts';

describe('label selector text', () => {
  test('parses every operator into requirements', () => {
    assert.deepEqual(parseLabelSelector('app=web,tier!=db,env in (a,b),env notin (c),!legacy,has,x==y'), [
      { key: 'app', operator: 'Equals', values: ['web'] },
      { key: 'tier', operator: 'NotEquals', values: ['db'] },
      { key: 'env', operator: 'In', values: ['a', 'b'] },
      { key: 'env', operator: 'NotIn', values: ['c'] },
      { key: 'legacy', operator: 'DoesNotExist', values: [] },
      { key: 'has', operator: 'Exists', values: [] },
      { key: 'x', operator: 'Equals', values: ['y'] },
    ]);
  });

  test('allows spaces around tokens and a prefixed key', () => {
    assert.deepEqual(parseLabelSelector(' app.kubernetes.io/name = MyApp , env in ( a , b ) '), [
      { key: 'app.kubernetes.io/name', operator: 'Equals', values: ['MyApp'] },
      { key: 'env', operator: 'In', values: ['a', 'b'] },
    ]);
  });

  test('the empty selector has no requirements and matches everything', () => {
    assert.deepEqual(parseLabelSelector(''), []);
    assert.equal(labelSelectorMatcher('')(undefined), true);
    assert.equal(labelSelectorMatcher('  ')({ a: 'b' }), true);
  });

  test('`key=` selects the empty value', () => {
    assert.deepEqual(parseLabelSelector('a='), [{ key: 'a', operator: 'Equals', values: [''] }]);
  });

  const matches: [string, Record<string, string> | undefined, boolean][] = [
    ['app=web', { app: 'web' }, true],
    ['app=web', { app: 'db' }, false],
    ['app=web', undefined, false],
    ['app==web', { app: 'web' }, true],
    ['tier!=db', { tier: 'web' }, true],
    ['tier!=db', {}, true], // != also matches objects without the label
    ['tier!=db', { tier: 'db' }, false],
    ['env in (a,b)', { env: 'b' }, true],
    ['env in (a,b)', { env: 'c' }, false],
    ['env in (a,b)', {}, false],
    ['env notin (c)', {}, true],
    ['env notin (c)', { env: 'c' }, false],
    ['!legacy', { app: 'x' }, true],
    ['!legacy', { legacy: '' }, false],
    ['has', { has: '' }, true],
    ['has', {}, false],
    ['app=web,tier!=db', { app: 'web', tier: 'db' }, false],
    ['app=web,tier!=db', { app: 'web', tier: 'cache' }, true],
  ];
  for (const [selector, labels, expected] of matches) {
    test(`${JSON.stringify(selector)} ${expected ? 'matches' : 'does not match'} ${JSON.stringify(labels)}`, () => {
      assert.equal(labelSelectorMatcher(selector)(labels), expected);
    });
  }

  const bad: [string, RegExp][] = [
    ['app=web,', /a requirement is missing after the last ","/],
    [',app', /expected a label key, found "," at position 1/],
    ['env in a', /expected "\(" after "in"/],
    ['env in ()', /must not be empty/],
    ['env in (a', /expected "," or "\)" in the value list of "env", found end of selector/],
    ['app=web tier=db', /expected "," or the end, found "tier" at position 9/],
    ['app=a b', /expected "," or the end, found "b"/],
    ['-bad=x', /key "-bad": name part must consist/],
    ['app=-x', /value "-x" of key "app"/],
    ['app=(x)', /expected "," or the end/],
    ['!', /expected a label key, found end of selector/],
    ['app foo', /expected "=", "==", "!=", "in", "notin", "," or the end after key "app", found "foo"/],
  ];
  for (const [selector, message] of bad) {
    test(`refuses ${JSON.stringify(selector)}`, () => {
      assert.throws(() => parseLabelSelector(selector), (err: unknown) => {
        assert.ok(err instanceof SelectorError);
        assert.equal(err.code, 'E_SELECTOR');
        assert.match(err.message, new RegExp(`^invalid label selector ${JSON.stringify(selector).replace(/[()[\]]/g, '\\$&')}: `));
        assert.match(err.message, message);
        return true;
      });
    });
  }

  test('formats requirements back to the same syntax', () => {
    const text = 'app=web,tier!=db,env in (a,b),env notin (c),!legacy,has';
    assert.equal(formatRequirements(parseLabelSelector(text)), text);
  });
});

describe('LabelSelector objects', () => {
  test('matchLabels and matchExpressions are all required', () => {
    const matcher = matcherForLabelSelector({
      matchLabels: { app: 'nginx' },
      matchExpressions: [
        { key: 'tier', operator: 'In', values: ['web', 'cache'] },
        { key: 'env', operator: 'NotIn', values: ['dev'] },
        { key: 'track', operator: 'Exists' },
        { key: 'legacy', operator: 'DoesNotExist' },
      ],
    });
    assert.equal(matcher({ app: 'nginx', tier: 'web', track: 'stable' }), true);
    assert.equal(matcher({ app: 'nginx', tier: 'web', track: 'stable', env: 'dev' }), false);
    assert.equal(matcher({ app: 'nginx', tier: 'db', track: 'stable' }), false);
    assert.equal(matcher({ app: 'nginx', tier: 'web' }), false);
    assert.equal(matcher({ app: 'nginx', tier: 'web', track: 's', legacy: 'y' }), false);
    assert.equal(matcher(undefined), false);
  });

  test('{} selects everything; a missing selector selects nothing', () => {
    assert.equal(matcherForLabelSelector({})({ any: 'thing' }), true);
    assert.equal(matcherForLabelSelector(undefined)({ any: 'thing' }), false);
    assert.equal(matcherForLabelSelector(null)({}), false);
  });

  test('refuses an unknown operator and In without values', () => {
    assert.throws(() => matcherForLabelSelector({ matchExpressions: [{ key: 'a', operator: 'Gt', values: ['1'] }] }), SelectorError);
    assert.throws(() => matcherForLabelSelector({ matchExpressions: [{ key: 'a', operator: 'In', values: [] }] }), /values must be non-empty/);
    assert.throws(() => matcherForLabelSelector({ matchExpressions: [{ key: 'a', operator: 'Exists', values: ['x'] }] }), /values must be empty/);
  });

  test('formatLabelSelector prints as kubectl does, sorted by key', () => {
    assert.equal(formatLabelSelector({ matchLabels: { app: 'nginx' } }), 'app=nginx');
    assert.equal(formatLabelSelector({ matchLabels: { tier: 'web', app: 'nginx' } }), 'app=nginx,tier=web');
    assert.equal(
      formatLabelSelector({ matchLabels: { app: 'x' }, matchExpressions: [{ key: 'env', operator: 'In', values: ['b', 'a'] }, { key: 'old', operator: 'DoesNotExist' }] }),
      'app=x,env in (a,b),!old',
    );
    assert.equal(formatLabelSelector({}), '<none>');
    assert.equal(formatLabelSelector(undefined), '<none>');
    assert.equal(formatLabelSelector({ matchExpressions: [{ key: 'a', operator: 'Bad' }] }), '<error>');
  });

  test('formatLabels prints a plain label map', () => {
    assert.equal(formatLabels({ 'app.kubernetes.io/name': 'MyApp' }), 'app.kubernetes.io/name=MyApp');
    assert.equal(formatLabels({ b: '2', a: '1' }), 'a=1,b=2');
    assert.equal(formatLabels({}), '<none>');
    assert.equal(formatLabels(undefined), '<none>');
  });
});

describe('field selectors', () => {
  const pod = { metadata: { name: 'web-1', namespace: 'default' }, spec: { nodeName: 'gw1', replicas: 3, hostNetwork: false }, status: { phase: 'Running' } };

  test('parses =, == and != with escapes', () => {
    assert.deepEqual(parseFieldSelector('metadata.name=x,spec.nodeName!=,status.phase==Running'), [
      { field: 'metadata.name', operator: 'Equals', value: 'x' },
      { field: 'spec.nodeName', operator: 'NotEquals', value: '' },
      { field: 'status.phase', operator: 'Equals', value: 'Running' },
    ]);
    assert.deepEqual(parseFieldSelector('metadata.name=a\\,b\\=c'), [{ field: 'metadata.name', operator: 'Equals', value: 'a,b=c' }]);
    assert.deepEqual(parseFieldSelector(''), []);
  });

  const cases: [string, boolean][] = [
    ['metadata.name=web-1', true],
    ['metadata.name=web-2', false],
    ['metadata.name==web-1', true],
    ['spec.nodeName!=', true], // scheduled pods
    ['spec.nodeName=', false],
    ['status.phase=Running,metadata.namespace=default', true],
    ['status.phase!=Running', false],
    ['spec.missing=', true], // a missing field reads as ''
    ['spec.missing!=', false],
    ['spec.replicas=3', true], // values compared as strings
    ['spec.hostNetwork=false', true],
    ['metadata=', true], // an object is not a scalar: ''
  ];
  for (const [selector, expected] of cases) {
    test(`${JSON.stringify(selector)} ${expected ? 'matches' : 'does not match'}`, () => {
      assert.equal(fieldSelectorMatcher(selector)(pod), expected);
    });
  }

  test('refuses a term without an operator or without a field', () => {
    assert.throws(() => parseFieldSelector('metadata.name'), /has no operator \(expected =, == or !=\)/);
    assert.throws(() => parseFieldSelector('=x'), /is not a field path/);
    assert.throws(() => parseFieldSelector('a..b=x'), SelectorError);
  });
});
