// Resource quantities: every suffix of Kubernetes' grammar, JSON numbers, the errors for bad
// input, and the CLI's formatting back to the usual forms.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { checkQuantity, formatBytes, formatCpu, parseQuantity, QuantityError } from '../../src/model/index.ts';

const Ki = 1024;
const Mi = Ki * 1024;
const Gi = Mi * 1024;

describe('parseQuantity', () => {
  const cases: [string | number, number][] = [
    ['250m', 0.25],
    ['100m', 0.1],
    ['0.5', 0.5],
    ['.5', 0.5],
    ['5.', 5],
    ['1', 1],
    ['0', 0],
    ['128Mi', 128 * Mi],
    ['200Mi', 200 * Mi],
    ['1G', 1e9],
    ['1Gi', Gi],
    ['1.5Gi', 1.5 * Gi],
    ['1e3', 1000],
    ['1E3', 1000],
    ['12e-1', 1.2],
    ['100k', 100_000],
    ['2Ki', 2 * Ki],
    ['1M', 1e6],
    ['1T', 1e12],
    ['1Ti', 1024 * Gi],
    ['1P', 1e15],
    ['1Pi', 2 ** 50],
    ['1E', 1e18],
    ['1Ei', 2 ** 60],
    ['5n', 5e-9],
    ['5u', 5e-6],
    ['+1', 1],
    ['-1', -1],
    ['-250m', -0.25],
    [2, 2],
    [0.5, 0.5],
    [0, 0],
  ];
  for (const [input, expected] of cases) {
    test(`${JSON.stringify(input)} is ${expected}`, () => {
      const got = parseQuantity(input);
      assert.ok(Math.abs(got - expected) <= Math.abs(expected) * 1e-12, `got ${got}`);
    });
  }

  const bad: [string | number, RegExp][] = [
    ['12x', /invalid quantity "12x": expected a number with an optional suffix/],
    ['', /invalid quantity ""/],
    [' 1', /invalid quantity/],
    ['1 ', /invalid quantity/],
    ['m', /invalid quantity "m"/],
    ['1.2.3', /invalid quantity/],
    ['1Mb', /did you mean "M"/],
    ['512MB', /did you mean "M"/],
    ['1gi', /did you mean "Gi"/],
    ['1KiB', /did you mean "Ki"/],
    ['1e', /invalid quantity/],
    ['1Gi3', /invalid quantity/],
    [Number.NaN, /invalid quantity NaN/],
    [Number.POSITIVE_INFINITY, /invalid quantity Infinity/],
  ];
  for (const [input, message] of bad) {
    test(`refuses ${JSON.stringify(input)}`, () => {
      assert.throws(() => parseQuantity(input), (err: unknown) => {
        assert.ok(err instanceof QuantityError);
        assert.equal(err.code, 'E_QUANTITY');
        assert.match(err.message, message);
        return true;
      });
    });
  }

  test('checkQuantity answers a message instead of throwing', () => {
    assert.equal(checkQuantity('250m'), null);
    assert.equal(checkQuantity(3), null);
    assert.match(checkQuantity('12x') ?? '', /invalid quantity "12x"/);
    assert.match(checkQuantity(true) ?? '', /expected a quantity/);
  });
});

describe('formatCpu', () => {
  const cases: [number, string][] = [
    [0.25, '250m'],
    [2, '2'],
    [0, '0'],
    [0.1, '100m'],
    [0.3, '300m'],
    [1.5, '1500m'],
    [0.0001, '1m'], // rounded up to the next millicore, as Kubernetes does
    [4, '4'],
  ];
  for (const [cores, text] of cases) test(`${cores} cores is ${text}`, () => assert.equal(formatCpu(cores), text));
});

describe('formatBytes', () => {
  const cases: [number, string][] = [
    [128 * Mi, '128Mi'],
    [200 * Mi, '200Mi'],
    [Gi, '1Gi'],
    [1.5 * Gi, '1536Mi'],
    [2 * Ki, '2Ki'],
    [1e9, '1G'],
    [100_000, '100k'],
    [0, '0'],
    [1000 * Ki * 3, '3000Ki'],
    [123, '123'],
    [123_456_789, '123456789'],
  ];
  for (const [bytes, text] of cases) {
    test(`${bytes} bytes is ${text}, which parses back`, () => {
      assert.equal(formatBytes(bytes), text);
      assert.equal(parseQuantity(text), bytes);
    });
  }
});
