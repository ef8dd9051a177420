// The shared informer over a real store: it lists, follows changes, tells its consumer, and a
// relist forgets objects deleted meanwhile.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Informer } from '../../src/controllers/informer.ts';
import type { InformerEvent } from '../../src/controllers/informer.ts';
import { findResource } from '../../src/model/index.ts';
import type { TestApi } from '../api/resource-helpers.ts';
import { configMap, startTestApi } from '../api/resource-helpers.ts';
import { quietLogger } from '../store/store-helpers.ts';

const cms = findResource('', 'v1', 'configmaps')!;
const until = async (what: string, check: () => boolean) => {
  for (let i = 0; i < 100; i++) {
    if (check()) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  assert.fail(`${what}: not within 2 s`);
};

describe('informer', () => {
  let t: TestApi;
  before(async () => {
    t = await startTestApi();
  });
  after(async () => {
    await t.close();
  });

  it('lists what exists, then follows creates, updates and deletes', async () => {
    assert.equal((await t.call('POST', '/api/v1/namespaces/default/configmaps', configMap('before'))).status, 201);
    const seen: [string, InformerEvent][] = [];
    const informer = new Informer({ info: cms, store: t.resources.api.store, cache: t.resources.cache, logger: quietLogger, onChange: (o, e) => seen.push([String(o.metadata.name), e]) });
    informer.start();
    try {
      await informer.whenSynced();
      assert.ok(informer.get('default', 'before'));
      assert.deepEqual(seen, [['before', 'resync']]);
      assert.equal((await t.call('POST', '/api/v1/namespaces/default/configmaps', configMap('later', { a: '1' }))).status, 201);
      await until('the created object', () => informer.get('default', 'later') !== undefined);
      assert.equal((await t.call('PUT', '/api/v1/namespaces/default/configmaps/later', configMap('later', { a: '2' }))).status, 200);
      await until('the update', () => (informer.get('default', 'later')?.['data'] as Record<string, string>)?.['a'] === '2');
      assert.equal((await t.call('DELETE', '/api/v1/namespaces/default/configmaps/before')).status, 200);
      await until('the deletion', () => informer.get('default', 'before') === undefined);
      assert.deepEqual(
        seen.slice(1).map(([n, e]) => `${n}:${e}`),
        ['later:added', 'later:modified', 'before:deleted'],
      );
      assert.deepEqual(informer.list('default').map((o) => o.metadata.name), ['later']);
      assert.deepEqual(informer.list('other'), []);
      await informer.relist({ linearizable: true });
      assert.equal(informer.size, 1);
    } finally {
      informer.stop();
    }
  });
});

describe('informer relist racing the watch', () => {
  it('a list older than a deletion the watch already delivered does not bring the object back', async () => {
    const { ObjectChange } = await import('../../src/api/resources/watch-cache.ts');
    const object = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'gone', namespace: 'default', resourceVersion: '5' } };
    let sink: { changes(c: unknown[], r: number): void } | undefined;
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const cache = { latestRevision: 5, subscribe: (_p: string, _a: number, s: typeof sink) => ((sink = s), { cancel() {} }) };
    // the list is answered at revision 5 (it still holds the object), after the watch saw its deletion at 6
    const store = { list: async () => (await gate, { items: [structuredClone(object)], revision: 5, continueKey: null, remaining: 0 }) };
    const informer = new Informer({ info: cms, store: store as never, cache: cache as never, logger: quietLogger });
    informer.start();
    const kv = (rev: number) => ({ key: Buffer.from('/registry/configmaps/default/gone'), value: Buffer.from(JSON.stringify(object)), createRevision: 5, modRevision: rev, version: 1, lease: 0 });
    sink!.changes([new ObjectChange(6, '/registry/configmaps/default/gone', true, false, kv(6) as never, kv(5) as never)], 6);
    release();
    await informer.whenSynced();
    assert.equal(informer.get('default', 'gone'), undefined);
    informer.stop();
  });
});
