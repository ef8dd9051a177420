// 100 concurrent watchers all see every event of a burst of writes, in order, each once — fanned
// out from the one store watch of the watch cache.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { Agent } from 'undici';
import type { TestApi } from './resource-helpers.ts';
import { configMap, startTestApi, watchEvents } from './resource-helpers.ts';

const WATCHERS = 100;
const WRITES = 200;
const CM = '/api/v1/namespaces/default/configmaps';

describe('many watchers', () => {
  let t: TestApi;
  before(async () => {
    t = await startTestApi();
  });
  after(async () => {
    await t.close();
  });

  it(`${WATCHERS} watchers each see all ${WRITES} events in order`, async () => {
    const rv = (await t.call('GET', CM)).body.metadata.resourceVersion;
    const agent = new Agent({ connections: WATCHERS + 10 });
    const { setGlobalDispatcher, getGlobalDispatcher } = await import('undici');
    const previous = getGlobalDispatcher();
    setGlobalDispatcher(agent);
    let open = 0;
    const before = t.resources.cache.subscriberCount; // the API's own (namespaces)
    try {
      const watchers = Array.from({ length: WATCHERS }, () => watchEvents(`${t.url}${CM}?watch=true&resourceVersion=${rv}`, WRITES, 30_000, () => open++));
      while (open < WATCHERS) await sleep(10);
      assert.equal(t.resources.cache.subscriberCount, before + WATCHERS, 'all watchers share the one cache');
      // the burst: 10 writers at once
      let next = 0;
      await Promise.all(
        Array.from({ length: 10 }, async () => {
          while (next < WRITES) {
            const i = next++;
            const r = await t.call('POST', CM, configMap(`burst-${i}`));
            assert.equal(r.status, 201);
          }
        }),
      );
      const results = await Promise.all(watchers);
      for (const [w, { events }] of results.entries()) {
        assert.equal(events.length, WRITES, `watcher ${w} saw ${events.length} events`);
        const revs = events.map((e) => Number(e.object.metadata.resourceVersion));
        for (let i = 1; i < revs.length; i++) assert.ok(revs[i]! > revs[i - 1]!, `watcher ${w}: events out of order at ${i}`);
        assert.ok(events.every((e) => e.type === 'ADDED'));
        assert.equal(new Set(events.map((e) => e.object.metadata.name)).size, WRITES, `watcher ${w}: each object once`);
      }
    } finally {
      setGlobalDispatcher(previous);
      await agent.close();
    }
  });
});
