// The etcd JSON gateway codec: every request type decoded, every refusal with its code and
// wording, and responses encoded byte for byte as etcd 3.4's gateway prints them (the recorded
// answers in /work/shared/recipes/etcd-json-gateway.md).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { findJsonSyntaxError, HttpError, JsonObjectEnd } from '../../src/api/http/index.ts';
import {
  base64ErrorOffset,
  decodeCompactionRequest,
  decodeDeleteRangeRequest,
  decodePutRequest,
  decodeRangeRequest,
  decodeTxnRequest,
  decodeWatchRequest,
  encodeCompactionResponse,
  encodeDeleteRangeResponse,
  encodePutResponse,
  encodeRangeResponse,
  encodeTxnResponse,
  encodeWatchCanceled,
  encodeWatchCreated,
  encodeWatchEvents,
  TXN_LIMITS_DEFAULT,
} from '../../src/api/kv/index.ts';
import type { ResponseHeader } from '../../src/store/kv/service.ts';
import type { KeyValue, RequestOp } from '../../src/store/kv/types.ts';

const b = (s: string): Buffer => Buffer.from(s);
const b64 = (s: string): string => Buffer.from(s).toString('base64');
const body = (value: unknown): Buffer => Buffer.from(typeof value === 'string' ? value : JSON.stringify(value));

interface Refusal {
  code?: 'E_BAD_REQUEST' | 'E_UNSUPPORTED';
  /** Exact `message`, or a pattern it must match. */
  message: string | RegExp;
  /** Exact `error` text, when it differs from the message (etcd's own words). */
  errorText?: string;
}

function assertRefused(decode: () => unknown, expected: Refusal): void {
  let thrown: unknown;
  try {
    decode();
  } catch (error) {
    thrown = error;
  }
  assert.ok(thrown instanceof HttpError, `expected an HttpError, got ${String(thrown)}`);
  assert.equal(thrown.status, 400);
  assert.equal(thrown.grpcCode, 3);
  assert.equal(thrown.code, expected.code ?? 'E_BAD_REQUEST');
  if (typeof expected.message === 'string') assert.equal(thrown.message, expected.message);
  else assert.match(thrown.message, expected.message);
  if (expected.errorText !== undefined) assert.equal(thrown.errorText, expected.errorText);
}

describe('base64 as strict as Go StdEncoding', () => {
  const cases: Array<[string, number]> = [
    ['', -1],
    ['Zm9v', -1],
    ['Zg==', -1],
    ['Zm8=', -1],
    ['Zm9v\nYmFy', -1],
    ['Zm9v\r\n', -1],
    ['%%%', 0],
    ['Zm9', 0],
    ['Zm9vY', 4],
    ['Zm9v=', 4],
    ['Zg=', 3],
    ['Zg=x', 2],
    ['Zg==x', 4],
    ['Z===', 1],
    ['Zm-v', 2],
    ['Zm_v', 2],
    ['Zm9v YmFy', 4],
    ['Zg', 0],
    ['Zm9vYmFy\u00e9', 8],
    // Go's own TestDecodeCorrupt table (encoding/base64/base64_test.go).
    ['\n', -1],
    ['AAA=\n', -1],
    ['AAAA\n', -1],
    ['!!!!', 0],
    ['====', 0],
    ['x===', 1],
    ['=AAA', 0],
    ['A=AA', 1],
    ['AA=A', 2],
    ['AA==A', 4],
    ['AAA=AAAA', 4],
    ['AAAAA', 4],
    ['AAAAAA', 4],
    ['A=', 1],
    ['A==', 1],
    ['AA=', 3],
    ['AA==', -1],
    ['AAA=', -1],
    ['AAAA', -1],
    ['AAAAAA=', 7],
    ['YWJjZA=====', 8],
    ['A!\n', 1],
    ['A=\n', 1],
  ];
  for (const [text, offset] of cases) {
    it(`${JSON.stringify(text)} -> ${offset < 0 ? 'valid' : `byte ${offset}`}`, () => {
      assert.equal(base64ErrorOffset(text), offset);
      const decode = (): unknown => decodePutRequest(body({ key: text || 'eA==', value: text }));
      if (offset < 0) {
        assert.equal(decodePutRequest(body({ key: 'eA==', value: text })).value.toString('base64'), Buffer.from(text, 'base64').toString('base64'));
      } else {
        assertRefused(decode, {
          message: new RegExp(`^put request: (key|value): illegal base64 data at input byte ${offset} `),
          errorText: `illegal base64 data at input byte ${offset}`,
        });
      }
    });
  }
});

describe('malformed JSON is located and worded as Go does', () => {
  const cases: Array<[string, number, string]> = [
    ['{bad', 1, "invalid character 'b' looking for beginning of object key string"],
    ['{"a":1,}', 7, "invalid character '}' looking for beginning of object key string"],
    ['{"a" 1}', 5, "invalid character '1' after object key"],
    ['{"a":1 "b":2}', 7, `invalid character '"' after object key:value pair`],
    ['[1 2]', 3, "invalid character '2' after array element"],
    ['[1,]', 3, "invalid character ']' looking for beginning of value"],
    ['{"a":tru}', 8, "invalid character '}' in literal true (expecting 'e')"],
    ['{"a":nul', 8, 'unexpected end of JSON input'],
    ['{"a":-}', 6, "invalid character '}' in numeric literal"],
    ['{"a":1.}', 7, "invalid character '}' after decimal point in numeric literal"],
    ['{"a":1e}', 7, "invalid character '}' in exponent of numeric literal"],
    ['{"a":01}', 6, "invalid character '1' after object key:value pair"],
    ['{"a":"\\x"}', 7, "invalid character 'x' in string escape code"],
    ['{"a":"\\u12g4"}', 10, "invalid character 'g' in \\u hexadecimal character escape"],
    ['{"a":"\t"}', 6, "invalid character '\\t' in string literal"],
    ['{} x', 3, "invalid character 'x' after top-level value"],
    ["'", 0, "invalid character '\\'' looking for beginning of value"],
    ['{"key":"Zm9v"', 13, 'unexpected end of JSON input'],
    ['\u00e9', 0, "invalid character 'Ã' looking for beginning of value"],
  ];
  for (const [text, offset, message] of cases) {
    it(JSON.stringify(text), () => {
      assert.deepEqual(findJsonSyntaxError(Buffer.from(text)), { offset, message });
      assertRefused(() => decodePutRequest(Buffer.from(text)), {
        message: `malformed JSON in the put request body at byte ${offset}: ${message}`,
        errorText: message,
      });
    });
  }

  it('finds nothing wrong in valid JSON, however deep', () => {
    for (const text of ['{}', ' [ ] ', '{"a":[1,-2.5e+3,true,false,null,"\\u00e9\\n",{"b":{}}]}', `${'['.repeat(5000)}${']'.repeat(5000)}`]) {
      assert.equal(findJsonSyntaxError(Buffer.from(text)), null, text.slice(0, 40));
    }
  });

  it('walks a million open brackets without overflowing the stack', () => {
    const found = findJsonSyntaxError(Buffer.from('['.repeat(1_000_000)));
    assert.deepEqual(found, { offset: 1_000_000, message: 'unexpected end of JSON input' });
  });

  it('agrees with JSON.parse on thousands of mutated documents', () => {
    const seeds = ['{"key":"Zm9v","value":"YmFy","prev_kv":true}', '{"a":[1,2.5,-3e2,null,{"b":"\\u0041"}]}', '[true,false,"x\\"y"]'];
    const alphabet = '{}[]",:0123456789-+.eE \\tuflnrsa\t\n';
    let state = 12345;
    const random = (n: number): number => {
      state = (state * 1103515245 + 12345) >>> 0;
      return state % n;
    };
    for (let round = 0; round < 5000; round++) {
      let text = seeds[random(seeds.length)]!;
      for (let k = 0, edits = 1 + random(3); k < edits; k++) {
        const at = random(text.length + 1);
        const c = alphabet[random(alphabet.length)]!;
        const kind = random(3);
        text = kind === 0 ? text.slice(0, at) + c + text.slice(at) : kind === 1 ? text.slice(0, at) + text.slice(at + 1) : text.slice(0, at) + c + text.slice(at + 1);
      }
      let parses = true;
      try {
        JSON.parse(text);
      } catch {
        parses = false;
      }
      assert.equal(findJsonSyntaxError(Buffer.from(text)) === null, parses, `disagreement on ${JSON.stringify(text)}`);
    }
  });
});

describe('finding the end of the first JSON object in a streamed body', () => {
  it('counts depth outside strings, across chunks', () => {
    const text = ' {"a":"}\\"{[","b":[{"c":1}]} {"next":1}';
    const end = text.indexOf('} {') + 1;
    for (let split = 0; split <= text.length; split++) {
      const finder = new JsonObjectEnd();
      const first = finder.feed(Buffer.from(text.slice(0, split)));
      const found = first >= 0 ? first : split + finder.feed(Buffer.from(text.slice(split)));
      assert.equal(found, end, `split at ${split}`);
    }
  });
  it('gives up on a body that is not an object, leaving the error to the parser', () => {
    assert.equal(new JsonObjectEnd().feed(Buffer.from('[1] {}')), -1);
    assert.equal(new JsonObjectEnd().feed(Buffer.from('{"a":1')), -1);
  });
});

describe('put requests', () => {
  it('decodes every field, snake_case or lowerCamelCase', () => {
    assert.deepEqual(decodePutRequest(body({ key: 'Zm9v', value: 'YmFy' })), { key: b('foo'), value: b('bar'), prevKv: false, ignoreValue: false });
    assert.deepEqual(decodePutRequest(body({ key: 'Zm9v', prev_kv: true, lease: '0', ignore_lease: false })), {
      key: b('foo'),
      value: b(''),
      prevKv: true,
      ignoreValue: false,
    });
    assert.deepEqual(decodePutRequest(body({ key: 'Zm9v', prevKv: true, ignoreValue: true, value: null })), {
      key: b('foo'),
      value: b(''),
      prevKv: true,
      ignoreValue: true,
    });
  });

  const refusals: Array<[string, unknown, Refusal]> = [
    ['no key', { value: 'YmFy' }, { message: 'etcdserver: key is not provided' }],
    ['an empty object', {}, { message: 'etcdserver: key is not provided' }],
    ['an empty body', '', { message: 'etcdserver: key is not provided' }],
    ['an empty key', { key: '' }, { message: 'etcdserver: key is not provided' }],
    ['a bad base64 key', { key: '%%%' }, { message: /^put request: key: illegal base64/, errorText: 'illegal base64 data at input byte 0' }],
    ['a number for value', { key: 'Zm9v', value: 5 }, { message: 'put request: value must be a base64 string, got number 5' }],
    ['a string for prev_kv', { key: 'Zm9v', prev_kv: 'yes' }, { message: 'put request: prev_kv must be true or false, got string "yes"' }],
    ['an unknown field', { key: 'Zm9v', bogus: 1 }, { message: 'unknown field "bogus" in put request' }],
    ['a lease', { key: 'Zm9v', lease: '7587' }, { code: 'E_UNSUPPORTED', message: /^put request: lease is not supported/ }],
    ['ignore_lease', { key: 'Zm9v', ignore_lease: true }, { code: 'E_UNSUPPORTED', message: /^put request: ignore_lease is not supported/ }],
    ['a value with ignore_value', { key: 'Zm9v', value: 'YmFy', ignore_value: true }, { message: /^etcdserver: value is provided/, errorText: 'etcdserver: value is provided' }],
    ['an array body', [1], { message: 'the put request body must be a JSON object, got an array' }],
    ['a null body', 'null', { message: 'the put request body must be a JSON object, got null' }],
  ];
  for (const [name, input, refusal] of refusals) it(`refuses ${name}`, () => assertRefused(() => decodePutRequest(body(input)), refusal));
});

describe('range requests', () => {
  it('decodes every field, with int64s as strings or numbers and enums as names or numbers', () => {
    const request = decodeRangeRequest(
      body({
        key: 'Zg==',
        range_end: 'Zw==',
        limit: '10',
        revision: 7,
        sort_order: 'DESCEND',
        sort_target: 3,
        serializable: true,
        keys_only: true,
        count_only: false,
        min_mod_revision: '1',
        max_mod_revision: 2,
        minCreateRevision: 3,
        maxCreateRevision: '4',
      }),
    );
    assert.deepEqual(request, {
      key: b('f'),
      rangeEnd: b('g'),
      limit: 10,
      revision: 7,
      sortOrder: 'DESCEND',
      sortTarget: 'MOD',
      serializable: true,
      keysOnly: true,
      countOnly: false,
      minModRevision: 1,
      maxModRevision: 2,
      minCreateRevision: 3,
      maxCreateRevision: 4,
    });
    assert.equal(decodeRangeRequest(body({ key: 'Zg==', revision: '-5' })).revision, -5); // etcd: current
    assert.equal(decodeRangeRequest(body({ key: 'Zg==', sort_order: 2, sort_target: 'VALUE' })).sortTarget, 'VALUE');
  });

  const refusals: Array<[string, unknown, Refusal]> = [
    ['an empty object', {}, { message: 'etcdserver: key is not provided' }],
    ['a negative limit', { key: 'Zg==', limit: -1 }, { message: 'range request: limit must not be negative, got -1' }],
    ['a fractional limit', { key: 'Zg==', limit: 1.5 }, { message: /^range request: limit must be an integer .*got number 1.5$/ }],
    ['a non-decimal string', { key: 'Zg==', limit: '1e3' }, { message: /^range request: limit must be an integer .*got string "1e3"$/ }],
    ['a boolean number', { key: 'Zg==', revision: true }, { message: /^range request: revision must be an integer/ }],
    ['a revision past 2^53', { key: 'Zg==', revision: '9007199254740993' }, { message: /^range request: revision 9007199254740993 is out of range/ }],
    ['a number past 2^53', { key: 'Zg==', revision: 2 ** 60 }, { message: /^range request: revision \d+ is out of range/ }],
    ['an unknown sort order', { key: 'Zg==', sort_order: 'UP' }, { message: 'range request: sort_order must be one of NONE, ASCEND, DESCEND (or 0 to 2), got string "UP"' }],
    ['an out-of-range sort target', { key: 'Zg==', sort_target: 5 }, { message: /^range request: sort_target must be one of KEY, VERSION, CREATE, MOD, VALUE/ }],
    ['a negative min_mod_revision', { key: 'Zg==', min_mod_revision: '-1' }, { message: 'range request: min_mod_revision must not be negative, got -1' }],
    ['an unknown field', { key: 'Zg==', prefix: true }, { message: 'unknown field "prefix" in range request' }],
  ];
  for (const [name, input, refusal] of refusals) it(`refuses ${name}`, () => assertRefused(() => decodeRangeRequest(body(input)), refusal));
});

describe('deleterange requests', () => {
  it('decodes', () => {
    assert.deepEqual(decodeDeleteRangeRequest(body({ key: 'Zm9v', prev_kv: true })), { key: b('foo'), rangeEnd: b(''), prevKv: true });
    assert.deepEqual(decodeDeleteRangeRequest(body({ key: 'AA==', range_end: 'AA==' })), { key: b('\0'), rangeEnd: b('\0'), prevKv: false });
  });
  it('refuses a missing key', () => assertRefused(() => decodeDeleteRangeRequest(body({ prev_kv: true })), { message: 'etcdserver: key is not provided' }));
  it('refuses an unknown field', () =>
    assertRefused(() => decodeDeleteRangeRequest(body({ key: 'Zm9v', lease: 1 })), { message: 'unknown field "lease" in deleterange request' }));
});

describe('txn requests', () => {
  it('decodes the recipe example', () => {
    const txn = decodeTxnRequest(
      body({
        compare: [{ key: 'Zm9v', target: 'VALUE', result: 'EQUAL', value: 'YmF6' }],
        success: [{ request_put: { key: 'Zm9v', value: 'cXV4' } }],
        failure: [{ request_range: { key: 'Zm9v' } }],
      }),
    );
    assert.deepEqual(txn.compare, [
      { key: b('foo'), rangeEnd: b(''), target: 'VALUE', result: 'EQUAL', version: 0, createRevision: 0, modRevision: 0, value: b('baz') },
    ]);
    assert.deepEqual(txn.success, [{ put: { key: b('foo'), value: b('qux'), prevKv: false, ignoreValue: false } }]);
    assert.equal((txn.failure[0] as { range: { key: Buffer } }).range.key.toString(), 'foo');
  });

  it('decodes numeric enums, every operand, delete and nested txn ops', () => {
    const txn = decodeTxnRequest(
      body({
        compare: [
          { key: 'YQ==', target: 2, result: 1, mod_revision: '5' },
          { key: 'YQ==', target: 'CREATE', result: 'LESS', create_revision: 9 },
          { key: 'YQ==', result: 'NOT_EQUAL', version: '-1' },
        ],
        success: [{ request_delete_range: { key: 'YQ==', prev_kv: true } }, { request_txn: { success: [{ requestPut: { key: 'Yg==' } }] } }],
      }),
    );
    assert.deepEqual(
      txn.compare.map((c) => [c.target, c.result, c.modRevision, c.createRevision, c.version]),
      [
        ['MOD', 'GREATER', 5, 0, 0],
        ['CREATE', 'LESS', 0, 9, 0],
        ['VERSION', 'NOT_EQUAL', 0, 0, -1],
      ],
    );
    assert.deepEqual(txn.success[0], { deleteRange: { key: b('a'), rangeEnd: b(''), prevKv: true } });
    const nested = txn.success[1] as { txn: { success: RequestOp[]; compare: unknown[]; failure: unknown[] } };
    assert.deepEqual(nested.txn.compare, []);
    assert.deepEqual(nested.txn.success, [{ put: { key: b('b'), value: b(''), prevKv: false, ignoreValue: false } }]);
  });

  it('lets the two branches of a nested txn, and the outer branches, write the same key', () => {
    decodeTxnRequest(
      body({
        success: [{ request_txn: { success: [{ request_put: { key: 'YQ==' } }], failure: [{ request_put: { key: 'YQ==' } }] } }],
        failure: [{ request_put: { key: 'YQ==' } }],
      }),
    );
    // Two deletes may overlap; only writes that collide are refused.
    decodeTxnRequest(body({ success: [{ request_delete_range: { key: 'YQ==' } }, { request_delete_range: { key: 'YQ==', range_end: 'Yw==' } }] }));
  });

  const many = (n: number): unknown[] => Array.from({ length: n }, (_, i) => ({ request_range: { key: b64(`k${i}`) } }));
  const nest = (depth: number): unknown => (depth === 0 ? { request_put: { key: 'eg==' } } : { request_txn: { success: [nest(depth - 1)] } });

  const refusals: Array<[string, unknown, Refusal]> = [
    [
      'two puts of one key',
      { success: [{ request_put: { key: 'Zm9v' } }, { request_put: { key: 'Zm9v', value: 'eA==' } }] },
      { message: /^etcdserver: duplicate key given in txn request: key Zm9v/, errorText: 'etcdserver: duplicate key given in txn request' },
    ],
    [
      'a put inside a deleted range',
      { failure: [{ request_delete_range: { key: 'YQ==', range_end: 'Yw==' } }, { request_put: { key: 'Yg==' } }] },
      { message: /^etcdserver: duplicate key given/, errorText: 'etcdserver: duplicate key given in txn request' },
    ],
    [
      'a put after a delete of every key >= a smaller one',
      { success: [{ request_delete_range: { key: 'YQ==', range_end: 'AA==' } }, { request_put: { key: 'eno=' } }] },
      { errorText: 'etcdserver: duplicate key given in txn request', message: /duplicate key/ },
    ],
    [
      'a put in a nested txn colliding with an outer put',
      { success: [{ request_put: { key: 'YQ==' } }, { request_txn: { success: [{ request_put: { key: 'YQ==' } }] } }] },
      { errorText: 'etcdserver: duplicate key given in txn request', message: /duplicate key/ },
    ],
    [
      'a put in a nested else-branch colliding with a sibling txn',
      {
        success: [
          { request_txn: { success: [{ request_put: { key: 'Yg==' } }] } },
          { request_txn: { failure: [{ request_put: { key: 'Yg==' } }] } },
        ],
      },
      { errorText: 'etcdserver: duplicate key given in txn request', message: /duplicate key/ },
    ],
    ['compare target LEASE', { compare: [{ key: 'YQ==', target: 'LEASE' }] }, { code: 'E_UNSUPPORTED', message: /^txn request compare\[0\]: target LEASE is not supported/ }],
    ['compare target 4 (LEASE)', { compare: [{ key: 'YQ==', target: 4 }] }, { code: 'E_UNSUPPORTED', message: /target LEASE is not supported/ }],
    ['a compare lease operand', { compare: [{ key: 'YQ==', lease: '5' }] }, { code: 'E_UNSUPPORTED', message: /^txn request compare\[0\]: lease is not supported/ }],
    ['an unknown compare result', { compare: [{ key: 'YQ==', result: 'MORE' }] }, { message: /^txn request compare\[0\]: result must be one of EQUAL, GREATER, LESS, NOT_EQUAL/ }],
    ['an empty op', { success: [{}] }, { message: 'txn request success[0] is empty; give one of request_range, request_put, request_delete_range or request_txn' }],
    [
      'an op with two requests',
      { failure: [{ request_put: { key: 'YQ==' }, request_range: { key: 'YQ==' } }] },
      { message: 'txn request failure[0] has both request_put and request_range; a request op holds exactly one request' },
    ],
    [
      'a nested op without a key',
      { success: [{ request_txn: { failure: [{ request_put: { value: 'eA==' } }] } }] },
      {
        message: 'etcdserver: key is not provided (in txn request success[0].request_txn failure[0].request_put); give a non-empty base64 "key"',
        errorText: 'etcdserver: key is not provided',
      },
    ],
    ['an unknown field in a nested op', { success: [{ request_put: { key: 'YQ==', ttl: 5 } }] }, { message: 'unknown field "ttl" in txn request success[0].request_put' }],
    ['an unknown op kind', { success: [{ request_lease: {} }] }, { message: 'unknown field "request_lease" in txn request success[0]' }],
    ['an unknown top-level field', { compares: [] }, { message: 'unknown field "compares" in txn request' }],
    ['compare as an object', { compare: { key: 'YQ==' } }, { message: 'txn request: compare must be a JSON array, got an object' }],
    ['an op as a string', { success: ['put'] }, { message: 'txn request success[0] must be a JSON object, got string "put"' }],
    [
      'more ops in one list than etcd allows',
      { success: many(129) },
      { message: /^etcdserver: too many operations in txn request: txn request has 0 compares, 129 success and 0 failure ops; at most 128/, errorText: 'etcdserver: too many operations in txn request' },
    ],
    ['txns nested too deep', { success: [nest(8)] }, { message: /request_txn: txns are nested more than 8 deep; flatten the request$/ }],
    ['a bad base64 value in a compare', { compare: [{ key: 'YQ==', target: 'VALUE', value: 'eA=' }] }, { message: /^txn request compare\[0\]: value: illegal base64 data at input byte 3/ }],
  ];
  for (const [name, input, refusal] of refusals) it(`refuses ${name}`, () => assertRefused(() => decodeTxnRequest(body(input)), refusal));

  it('accepts the most etcd allows: 128 entries in each list, 8 levels deep', () => {
    decodeTxnRequest(body({ compare: Array.from({ length: 128 }, () => ({ key: 'YQ==' })), success: many(128), failure: many(128) }));
    decodeTxnRequest(body({ success: [nest(7)] }));
  });

  it('bounds the whole tree, not just each list', () => {
    const limits = { ...TXN_LIMITS_DEFAULT, txnOpsTotalMax: 10 };
    decodeTxnRequest(body({ success: many(5), failure: many(5) }), limits);
    assertRefused(() => decodeTxnRequest(body({ success: [...many(5), { request_txn: { success: many(5) } }] }), limits), {
      message: /^etcdserver: too many operations in txn request: the nested txns hold more than 10 compares and ops in all/,
      errorText: 'etcdserver: too many operations in txn request',
    });
  });
});

describe('compaction requests', () => {
  it('decodes', () => {
    assert.deepEqual(decodeCompactionRequest(body({ revision: '3' })), { revision: 3 });
    assert.deepEqual(decodeCompactionRequest(body({ revision: 3, physical: true })), { revision: 3 });
  });
  it('refuses no revision', () => assertRefused(() => decodeCompactionRequest(body({})), { message: /^compaction request: revision must be given and positive/ }));
  it('refuses a negative revision', () =>
    assertRefused(() => decodeCompactionRequest(body({ revision: '-3' })), { message: 'compaction request: revision must not be negative, got -3' }));
});

describe('watch requests', () => {
  it('decodes a create_request with every field', () => {
    const { request, watchId } = decodeWatchRequest(
      body({
        create_request: { key: 'dw==', range_end: 'eA==', start_revision: '6', progress_notify: true, filters: ['NOPUT', 1], prev_kv: true, watch_id: 7, fragment: false },
      }),
    );
    assert.deepEqual(request, { key: b('w'), rangeEnd: b('x'), startRevision: 6, prevKv: true, noPut: true, noDelete: true, progressNotify: true });
    assert.equal(watchId, 7);
  });

  it('watches from the smallest key when no key is given, as etcd does', () => {
    assert.deepEqual(decodeWatchRequest(body({ create_request: { range_end: 'AA==' } })).request.key, b('\0'));
  });

  const refusals: Array<[string, unknown, Refusal]> = [
    ['no create_request', {}, { message: /^watch request: create_request is missing/ }],
    ['a cancel_request', { cancel_request: { watch_id: 1 } }, { code: 'E_UNSUPPORTED', message: /^watch request: cancel_request is not supported over HTTP/ }],
    ['a progress_request', { progress_request: {} }, { code: 'E_UNSUPPORTED', message: /^watch request: progress_request is not supported/ }],
    ['fragment', { create_request: { key: 'dw==', fragment: true } }, { code: 'E_UNSUPPORTED', message: /^watch request create_request: fragment is not supported/ }],
    ['an unknown filter', { create_request: { key: 'dw==', filters: ['NOPATCH'] } }, { message: /^watch request create_request: filters\[0\] must be one of NOPUT, NODELETE/ }],
    ['a negative start_revision', { create_request: { key: 'dw==', start_revision: -1 } }, { message: 'watch request create_request: start_revision must not be negative, got -1' }],
    ['an unknown field', { create_request: { key: 'dw==', recursive: true } }, { message: 'unknown field "recursive" in watch request create_request' }],
  ];
  for (const [name, input, refusal] of refusals) it(`refuses ${name}`, () => assertRefused(() => decodeWatchRequest(body(input)), refusal));
});

describe('responses, exactly as etcd 3.4 prints them', () => {
  const header = (revision: number): ResponseHeader => ({ clusterId: '14841639068965178418', memberId: '10276657743932975437', revision, raftTerm: 2 });
  const h = (revision: number): string =>
    `{"cluster_id":"14841639068965178418","member_id":"10276657743932975437","revision":"${revision}","raft_term":"2"}`;
  const kv = (key: string, create: number, mod: number, version: number, value: string): KeyValue => ({
    key: b(key),
    createRevision: create,
    modRevision: mod,
    version,
    value: b(value),
  });
  const json = (value: unknown): string => JSON.stringify(value);

  it('put', () => {
    assert.equal(json(encodePutResponse(header(2), { prevKv: null })), `{"header":${h(2)}}`);
    assert.equal(
      json(encodePutResponse(header(3), { prevKv: kv('foo', 2, 2, 1, 'bar') })),
      `{"header":${h(3)},"prev_kv":{"key":"Zm9v","create_revision":"2","mod_revision":"2","version":"1","value":"YmFy"}}`,
    );
  });

  it('range: found, count only, nothing, more', () => {
    assert.equal(
      json(encodeRangeResponse(header(3), { kvs: [kv('foo', 2, 3, 2, 'baz')], more: false, count: 1 })),
      `{"header":${h(3)},"kvs":[{"key":"Zm9v","create_revision":"2","mod_revision":"3","version":"2","value":"YmF6"}],"count":"1"}`,
    );
    assert.equal(json(encodeRangeResponse(header(3), { kvs: [], more: false, count: 1 })), `{"header":${h(3)},"count":"1"}`);
    assert.equal(json(encodeRangeResponse(header(3), { kvs: [], more: false, count: 0 })), `{"header":${h(3)}}`);
    assert.equal(
      json(encodeRangeResponse(header(3), { kvs: [kv('a', 2, 2, 1, '')], more: true, count: 2 })),
      `{"header":${h(3)},"kvs":[{"key":"YQ==","create_revision":"2","mod_revision":"2","version":"1"}],"more":true,"count":"2"}`,
    );
  });

  it('txn: succeeded with a put, failed with a range', () => {
    assert.equal(
      json(encodeTxnResponse(header(4), { succeeded: true, responses: [{ put: { prevKv: null } }] }, 4)),
      `{"header":${h(4)},"succeeded":true,"responses":[{"response_put":{"header":{"revision":"4"}}}]}`,
    );
    assert.equal(
      json(encodeTxnResponse(header(4), { succeeded: false, responses: [{ range: { kvs: [kv('foo', 2, 4, 3, 'qux')], more: false, count: 1 } }] }, 4)),
      `{"header":${h(4)},"responses":[{"response_range":{"header":{"revision":"4"},"kvs":[{"key":"Zm9v","create_revision":"2","mod_revision":"4","version":"3","value":"cXV4"}],"count":"1"}}]}`,
    );
    assert.equal(
      json(
        encodeTxnResponse(
          header(5),
          { succeeded: true, responses: [{ deleteRange: { deleted: 1, prevKvs: [] } }, { txn: { succeeded: false, responses: [] } }] },
          5,
        ),
      ),
      `{"header":${h(5)},"succeeded":true,"responses":[{"response_delete_range":{"header":{"revision":"5"},"deleted":"1"}},{"response_txn":{"header":{"revision":"5"}}}]}`,
    );
    assert.equal(json(encodeTxnResponse(header(4), { succeeded: false, responses: [] }, 4)), `{"header":${h(4)}}`);
  });

  it('deleterange', () => {
    assert.equal(
      json(encodeDeleteRangeResponse(header(5), { deleted: 1, prevKvs: [kv('foo', 2, 4, 3, 'qux')] })),
      `{"header":${h(5)},"deleted":"1","prev_kvs":[{"key":"Zm9v","create_revision":"2","mod_revision":"4","version":"3","value":"cXV4"}]}`,
    );
    assert.equal(json(encodeDeleteRangeResponse(header(5), { deleted: 0, prevKvs: [] })), `{"header":${h(5)}}`);
  });

  it('compaction', () => {
    assert.equal(json(encodeCompactionResponse(header(5))), `{"header":${h(5)}}`);
  });

  it('watch: created, a PUT event, a DELETE event, canceled', () => {
    assert.equal(json(encodeWatchCreated(header(5), 0)), `{"result":{"header":${h(5)},"created":true}}`);
    assert.equal(
      json(encodeWatchEvents(header(6), [{ type: 'PUT', kv: kv('w1', 6, 6, 1, 'v'), prevKv: null }], 0)),
      `{"result":{"header":${h(6)},"events":[{"kv":{"key":"dzE=","create_revision":"6","mod_revision":"6","version":"1","value":"dg=="}}]}}`,
    );
    assert.equal(
      json(encodeWatchEvents(header(7), [{ type: 'DELETE', kv: kv('w1', 0, 7, 0, ''), prevKv: null }], 0)),
      `{"result":{"header":${h(7)},"events":[{"type":"DELETE","kv":{"key":"dzE=","mod_revision":"7"}}]}}`,
    );
    assert.equal(
      json(encodeWatchEvents(header(7), [{ type: 'DELETE', kv: kv('w1', 0, 7, 0, ''), prevKv: kv('w1', 6, 6, 1, 'v') }], 3)),
      `{"result":{"header":${h(7)},"watch_id":"3","events":[{"type":"DELETE","kv":{"key":"dzE=","mod_revision":"7"},"prev_kv":{"key":"dzE=","create_revision":"6","mod_revision":"6","version":"1","value":"dg=="}}]}}`,
    );
    assert.equal(json(encodeWatchEvents(header(7), [], 0)), `{"result":{"header":${h(7)}}}`);
    assert.equal(
      json(encodeWatchCanceled(header(7), 'etcdserver: mvcc: required revision has been compacted', 3, 0)),
      `{"result":{"header":${h(7)},"canceled":true,"compact_revision":"3","cancel_reason":"etcdserver: mvcc: required revision has been compacted"}}`,
    );
  });

  it('leaves out zero header fields', () => {
    assert.equal(json(encodePutResponse({ clusterId: '0', memberId: '', revision: 0, raftTerm: 0 }, { prevKv: null })), '{"header":{}}');
  });
});
