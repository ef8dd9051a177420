// Reading manifests (-f FILE|DIR|-) and deciding what apply does with each: merge patches
// computed from the last-applied configuration.

import assert from 'node:assert/strict';
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { LAST_APPLIED, lastAppliedJson, planApply, withLastApplied } from '../../src/cli/apply-plan.ts';
import { loadManifests, parseManifests } from '../../src/cli/manifest.ts';
import { applyMergePatch, createMergePatch, jsonEqual as deepEqual } from '../../src/model/index.ts';
import type { KObject } from '../../src/model/index.ts';
import { NGINX_DEPLOYMENT } from '../model/fixtures.ts';

const NGINX = NGINX_DEPLOYMENT.trimStart();

const SERVICE = `apiVersion: v1
kind: Service
metadata:
  name: my-service
spec:
  selector:
    app.kubernetes.io/name: MyApp
  ports:
    - protocol: TCP
      port: 80
      targetPort: 9376
`;

describe('parseManifests', () => {
  test('a YAML stream: several documents, empty ones skipped, YAML 1.1 scalars as Kubernetes reads them', () => {
    const text = `---\n${NGINX}---\n# just a comment\n---\n${SERVICE}---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: cfg}\ndata:\n  mode: 0644\n  date: 2024-01-01\n  time: 1:20\n---\n`;
    const { manifests, errors } = parseManifests({ name: 'app.yaml', text });
    assert.deepEqual(errors, []);
    assert.deepEqual(
      manifests.map((m) => [m.location, m.info.resource, m.object.metadata.name]),
      [
        ['app.yaml: document 1', 'deployments', 'nginx-deployment'],
        ['app.yaml: document 3', 'services', 'my-service'],
        ['app.yaml: document 4', 'configmaps', 'cfg'],
      ],
    );
    const data = manifests[2]!.object['data'] as Record<string, unknown>;
    // 0644 is octal in YAML 1.1 (defaultMode: 0644 means 420); dates and 1:20 stay strings.
    assert.deepEqual(data, { mode: 420, date: '2024-01-01', time: '1:20' });
    assert.equal((manifests[0]!.object['spec'] as { replicas: number }).replicas, 3);
  });

  test('words that only look like floats stay strings, as go-yaml reads them; real floats are numbers', () => {
    const text = `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: e1, labels: {tier: E7}}\ndata:\n  a: .e2\n  b: +e3\n  c: -e1\n  d: .\n  e: 1e3\n  f: .5\n  g: -2.5e-1\n  h: 3.\n  i: .inf\n`;
    const { manifests, errors } = parseManifests({ name: 'words.yaml', text });
    assert.deepEqual(errors, []);
    const object = manifests[0]!.object;
    assert.equal(object.metadata.name, 'e1');
    assert.deepEqual(object.metadata.labels, { tier: 'E7' });
    assert.deepEqual(object['data'], { a: '.e2', b: '+e3', c: '-e1', d: '.', e: 1000, f: 0.5, g: -0.25, h: 3, i: Infinity });
  });

  test('JSON, and a List whose items are the objects', () => {
    const list = {
      apiVersion: 'v1',
      kind: 'List',
      items: [
        { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'a' } },
        { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'b' } },
      ],
    };
    const { manifests, errors } = parseManifests({ name: 'list.json', text: JSON.stringify(list, null, '\t') });
    assert.deepEqual(errors, []);
    assert.deepEqual(
      manifests.map((m) => [m.location, m.object.kind]),
      [
        ['list.json: document 1, item 1', 'ConfigMap'],
        ['list.json: document 1, item 2', 'Secret'],
      ],
    );
  });

  test('bad YAML names the file, the document and the line', () => {
    const text = `${SERVICE}---\napiVersion: v1\nkind: Pod\nmetadata:\n  name: x\n   labels: [\n`;
    const { manifests, errors } = parseManifests({ name: 'bad.yaml', text });
    assert.equal(manifests.length, 1);
    assert.equal(errors.length, 1);
    assert.match(errors[0]!, /^bad\.yaml: document 2: line 16, column \d+: invalid YAML: /);
  });

  test('bad JSON names the file and the line', () => {
    const { errors } = parseManifests({ name: 'x.json', text: '{\n  "apiVersion": "v1",\n  "kind": "Pod",,\n}' });
    assert.equal(errors.length, 1);
    assert.match(errors[0]!, /^x\.json: line 3, column \d+: invalid JSON: /);
  });

  test('a kind bramble does not serve, a missing kind, a non-object: errors naming file, document and kind', () => {
    const text = 'apiVersion: batch/v1\nkind: CronJob\nmetadata: {name: c}\n---\napiVersion: v1\nmetadata: {name: d}\n---\n- a\n- b\n---\napiVersion: apps/v1\nkind: Pod\n';
    const { manifests, errors } = parseManifests({ name: 'mixed.yaml', text });
    assert.equal(manifests.length, 0);
    assert.match(errors[0]!, /^mixed\.yaml: document 1: no matches for kind "CronJob" in version "batch\/v1"; bramble serves .*Deployment \(apps\/v1\)/);
    assert.equal(errors[1], 'mixed.yaml: document 2: "kind" is missing');
    assert.equal(errors[2], 'mixed.yaml: document 3: expected an object with apiVersion, kind and metadata, got a list');
    assert.match(errors[3]!, /^mixed\.yaml: document 4: no matches for kind "Pod" in version "apps\/v1"/);
  });
});

describe('loadManifests', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'bramble-manifests-'));
    await mkdir(join(dir, 'app'));
    await writeFile(join(dir, 'app', 'b-service.yml'), SERVICE);
    await writeFile(join(dir, 'app', 'a-deploy.yaml'), NGINX);
    await writeFile(join(dir, 'app', 'c-config.json'), JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'game-demo' } }));
    await writeFile(join(dir, 'app', 'README.md'), '# not a manifest');
    await writeFile(join(dir, 'single.yaml'), SERVICE);
  });
  after(() => rm(dir, { recursive: true, force: true }));

  test('a directory: its .yaml, .yml and .json files in name order, relative to the cwd', async () => {
    const set = await loadManifests(['app'], { cwd: dir });
    assert.deepEqual(set.errors, []);
    assert.deepEqual(
      set.manifests.map((m) => [m.source, m.object.metadata.name]),
      [
        [join('app', 'a-deploy.yaml'), 'nginx-deployment'],
        [join('app', 'b-service.yml'), 'my-service'],
        [join('app', 'c-config.json'), 'game-demo'],
      ],
    );
  });

  test('several -f in order, and - for standard input (once)', async () => {
    const set = await loadManifests([join(dir, 'single.yaml'), '-'], { cwd: '/', stdin: async () => NGINX });
    assert.deepEqual(
      set.manifests.map((m) => [m.source, m.object.kind]),
      [
        [join(dir, 'single.yaml'), 'Service'],
        ['STDIN', 'Deployment'],
      ],
    );
    await assert.rejects(loadManifests(['-', '-'], { cwd: '/', stdin: async () => NGINX }), /standard input can be read only once/);
  });

  test('a missing path, and a file with no objects', async () => {
    await assert.rejects(loadManifests(['nope.yaml'], { cwd: dir }), /the path "nope.yaml" does not exist \(ENOENT\)/);
    const set = await loadManifests(['-'], { cwd: '/', stdin: async () => '# nothing\n' });
    assert.deepEqual(set.errors, ['no objects passed to apply in -']);
  });
});

describe('JSON merge patch', () => {
  test('removed fields become null, nested objects are merged, arrays replaced whole', () => {
    const original = { a: 1, b: { c: 2, d: 3 }, list: [1, 2], gone: 'x' };
    const modified = { a: 1, b: { c: 5, d: 3 }, list: [1, 2, 3], added: { e: true } };
    const patch = createMergePatch(original, modified);
    assert.deepEqual(patch, { gone: null, b: { c: 5 }, list: [1, 2, 3], added: { e: true } });
    assert.deepEqual(applyMergePatch(original, patch), modified);
    assert.equal(createMergePatch(original, structuredClone(original)), undefined);
  });

  test('applying the computed patch always yields the modified document', () => {
    const cases: [unknown, unknown][] = [
      [{ a: { b: { c: 1 } } }, { a: { b: {} } }],
      [{ a: [{ x: 1 }] }, { a: [{ x: 2 }] }],
      [{ a: 'x' }, { a: { nested: 1 } }],
      [{ a: { nested: 1 } }, { a: 'x' }],
      [{}, { a: 1 }],
    ];
    for (const [original, modified] of cases) {
      assert.ok(deepEqual(applyMergePatch(original, createMergePatch(original, modified) ?? {}), modified), JSON.stringify([original, modified]));
    }
  });
});

describe('planApply', () => {
  const manifest = (replicas: number, extra: Record<string, unknown> = {}): KObject => ({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'web', labels: { app: 'web' } },
    spec: { replicas, template: { spec: { containers: [{ name: 'nginx', image: 'nginx:1.25' }] } }, ...extra },
  });

  /** The live object a server would hold after applying `m`: annotation plus server fields. */
  const live = (m: KObject): KObject => {
    const created = withLastApplied(m);
    created.metadata = { ...created.metadata, namespace: 'default', uid: 'u1', resourceVersion: '7' };
    return { ...created, status: { replicas: 1 } };
  };

  test('absent: create, with the manifest in the last-applied annotation', () => {
    const plan = planApply(manifest(2), undefined);
    assert.equal(plan.action, 'create');
    if (plan.action !== 'create') return;
    assert.equal(plan.body.metadata.annotations?.[LAST_APPLIED], JSON.stringify(manifest(2)));
    assert.equal(plan.body.metadata.name, 'web');
  });

  test('the annotation is compact JSON of the manifest as given, without itself', () => {
    const m = manifest(1);
    m.metadata.annotations = { team: 'edge', [LAST_APPLIED]: '{"old":true}' };
    const json = lastAppliedJson(m);
    assert.equal(json, JSON.stringify({ ...manifest(1), metadata: { ...manifest(1).metadata, annotations: { team: 'edge' } } }));
    assert.ok(!json.includes('\n'));
  });

  test('same manifest as last applied: unchanged, whatever the server added', () => {
    assert.deepEqual(planApply(manifest(2), live(manifest(2))), { action: 'unchanged' });
  });

  test('changed manifest: a patch of the differences plus the new annotation', () => {
    const plan = planApply(manifest(5), live(manifest(2)));
    assert.deepEqual(plan, { action: 'patch', adopted: false, patch: { spec: { replicas: 5 }, metadata: { annotations: { [LAST_APPLIED]: JSON.stringify(manifest(5)) } } } });
  });

  test('a field removed from the manifest is null in the patch; status is left alone', () => {
    const before = manifest(2, { minReadySeconds: 10 });
    before.metadata.labels = { app: 'web', tier: 'fe' };
    const plan = planApply(manifest(2), live(before));
    assert.equal(plan.action, 'patch');
    if (plan.action !== 'patch') return;
    assert.deepEqual(plan.patch['spec'], { minReadySeconds: null });
    assert.deepEqual((plan.patch['metadata'] as { labels: unknown }).labels, { tier: null });
    assert.equal(plan.patch['status'], undefined);
  });

  test('all annotations removed: each is deleted, and last-applied still set', () => {
    const before = manifest(2);
    before.metadata.annotations = { team: 'edge' };
    const plan = planApply(manifest(2), live(before));
    assert.equal(plan.action, 'patch');
    if (plan.action !== 'patch') return;
    assert.deepEqual(plan.patch['metadata'], { annotations: { team: null, [LAST_APPLIED]: JSON.stringify(manifest(2)) } });
  });

  test('an object created without apply: patched with the whole manifest, nothing removed', () => {
    const existing: KObject = { ...manifest(1), metadata: { name: 'web', resourceVersion: '3', labels: { other: 'x' } } };
    const plan = planApply(manifest(2), existing);
    assert.equal(plan.action, 'patch');
    if (plan.action !== 'patch') return;
    assert.equal(plan.adopted, true);
    assert.deepEqual(plan.patch['spec'], manifest(2)['spec']);
    assert.deepEqual((plan.patch['metadata'] as { labels: unknown }).labels, { app: 'web' });
  });
});
