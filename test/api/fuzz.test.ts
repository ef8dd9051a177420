// 10,000 random or mutated bodies thrown at the resource API: none may earn a 5xx or take the
// server down, and a refused request must not change the store (its revision stays put).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Pool } from 'undici';
import { Prng } from '../sim/prng.ts';
import type { TestApi } from './resource-helpers.ts';
import { configMap, deployment, pod, startTestApi } from './resource-helpers.ts';

const SEED = Number(process.env['FUZZ_SEED'] ?? 20261127);
const BODIES = 10_000;

const TARGETS: { path: string; valid: () => unknown }[] = [
  { path: '/api/v1/namespaces/default/pods', valid: () => ({ ...pod('fz'), spec: { containers: [{ name: 'c', image: 'busybox', ports: [{ containerPort: 80 }], env: [{ name: 'A', value: 'b' }], resources: { limits: { cpu: '250m', memory: '64Mi' } } }] } }) },
  { path: '/apis/apps/v1/namespaces/default/deployments', valid: () => deployment('fz') },
  { path: '/api/v1/namespaces/default/configmaps', valid: () => configMap('fz', { a: '1', b: '2' }) },
  {
    path: '/api/v1/namespaces/default/services',
    valid: () => ({ apiVersion: 'v1', kind: 'Service', metadata: { name: 'fz' }, spec: { selector: { app: 'x' }, ports: [{ port: 80, targetPort: 8080 }] } }),
  },
  {
    path: '/apis/networking.k8s.io/v1/namespaces/default/ingresses',
    valid: () => ({ apiVersion: 'networking.k8s.io/v1', kind: 'Ingress', metadata: { name: 'fz' }, spec: { rules: [{ host: 'a.example', http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: 's', port: { number: 80 } } } }] } }] } }),
  },
];

const ODD_VALUES: unknown[] = [null, true, false, 0, -1, 1.5, 2 ** 53, -(2 ** 63), '', 'x', '250m', 'Bad_Name', '../../etc', '\u0000', '\ud800', 'ä'.repeat(300), [], [null], {}, { a: { b: { c: [] } } }, 'x'.repeat(70_000)];

function pick<T>(rng: Prng, items: readonly T[]): T {
  return items[rng.nextUint32() % items.length]!;
}

// Replaces, removes or adds one field somewhere in the object.
function mutate(rng: Prng, value: unknown, depth = 0): unknown {
  // The whole body is replaced rarely, deeper values often, so most bodies get past the parser.
  const replace = depth === 0 ? rng.nextUint32() % 50 === 0 : rng.nextUint32() % 5 === 0;
  if (value === null || typeof value !== 'object' || depth > 6 || replace) return pick(rng, ODD_VALUES);
  if (Array.isArray(value)) {
    const copy = [...value];
    if (copy.length === 0 || rng.nextUint32() % 4 === 0) copy.push(pick(rng, ODD_VALUES));
    else {
      const i = rng.nextUint32() % copy.length;
      copy[i] = mutate(rng, copy[i], depth + 1);
    }
    return copy;
  }
  const copy: Record<string, unknown> = { ...(value as Record<string, unknown>) };
  const keys = Object.keys(copy);
  const roll = rng.nextUint32() % 6;
  if (keys.length === 0 || roll === 0) copy[pick(rng, ['bogus', 'status', 'spec', 'metadata', 'kind', 'apiVersion', 'name', '__proto__', 'constructor'])] = pick(rng, ODD_VALUES);
  else if (roll === 1) delete copy[pick(rng, keys)];
  else {
    const k = pick(rng, keys);
    copy[k] = mutate(rng, copy[k], depth + 1);
  }
  return copy;
}

function randomText(rng: Prng): string {
  const alphabet = '{}[]":,0123456789abcdefnrtul \\\n\t-+.eE\u00ff';
  let s = '';
  const n = rng.nextUint32() % 200;
  for (let i = 0; i < n; i++) s += alphabet[rng.nextUint32() % alphabet.length];
  return s;
}

describe('resource API fuzz', () => {
  let t: TestApi;
  let pool: Pool;
  before(async () => {
    t = await startTestApi();
    pool = new Pool(t.url, { connections: 1 });
  });
  after(async () => {
    await pool.close();
    await t.close();
  });

  it(`survives ${BODIES} random and mutated bodies (seed ${SEED}) without a 5xx or a write on refusal`, async () => {
    const rng = new Prng(SEED);
    const counts = new Map<number, number>();
    let created = 0;
    for (let i = 0; i < BODIES; i++) {
      const target = pick(rng, TARGETS);
      const kind = rng.nextUint32() % 10;
      let body: string;
      if (kind === 0) body = randomText(rng);
      else {
        let object = target.valid() as Record<string, unknown>;
        const rounds = 1 + (rng.nextUint32() % 3);
        for (let r = 0; r < rounds; r++) object = mutate(rng, object) as Record<string, unknown>;
        // Unique names keep successful creates from turning later ones into 409s.
        if (object && typeof object === 'object' && !Array.isArray(object) && object['metadata'] && typeof object['metadata'] === 'object' && !Array.isArray(object['metadata'])) {
          const meta = object['metadata'] as Record<string, unknown>;
          if (meta['name'] === 'fz') meta['name'] = `fz-${i}`;
        }
        body = JSON.stringify(object) ?? 'null';
      }
      const method = pick(rng, ['POST', 'POST', 'POST', 'PUT', 'PATCH']);
      const path = method === 'POST' ? target.path : `${target.path}/fz-${rng.nextUint32() % Math.max(1, i)}`;
      const before = t.store.replica.kv.revision();
      const res = await pool.request({
        method: method as 'POST',
        path,
        headers: { 'content-type': method === 'PATCH' ? 'application/merge-patch+json' : 'application/json' },
        body,
      });
      const text = await res.body.text();
      counts.set(res.statusCode, (counts.get(res.statusCode) ?? 0) + 1);
      assert.ok(res.statusCode < 500, `body ${i} (${method} ${path}) earned ${res.statusCode}: ${text.slice(0, 300)}\nbody: ${body.slice(0, 500)}`);
      if (res.statusCode >= 400) {
        assert.equal(t.store.replica.kv.revision(), before, `refused body ${i} changed the store: ${body.slice(0, 300)}`);
        const status = JSON.parse(text);
        assert.equal(status.kind, 'Status', text.slice(0, 200));
      } else created++;
    }
    console.log(`fuzz outcomes by HTTP status: ${JSON.stringify([...counts].sort())}`);
    const health = await t.call('GET', '/api/v1/namespaces/default/configmaps');
    assert.equal(health.status, 200);
    assert.ok(created > 0 && created < BODIES, `some bodies were accepted (${created}) and most refused: ${JSON.stringify([...counts])}`);
  });
});
