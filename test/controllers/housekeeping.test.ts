// Leader housekeeping over a real store: the default namespaces appear, and Events older than
// their time to live are deleted while newer ones stay.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { eventLastSeen, startHousekeeping } from '../../src/controllers/housekeeping.ts';
import type { TestApi } from '../api/resource-helpers.ts';
import { startTestApi } from '../api/resource-helpers.ts';
import { quietLogger } from '../store/store-helpers.ts';

function event(name: string, lastTimestamp: string) {
  return {
    apiVersion: 'v1',
    kind: 'Event',
    metadata: { name },
    involvedObject: { kind: 'Pod', namespace: 'default', name: 'p' },
    reason: 'Started',
    message: 'Started container c',
    type: 'Normal',
    firstTimestamp: lastTimestamp,
    lastTimestamp,
    count: 1,
  };
}

describe('housekeeping', () => {
  let t: TestApi;
  before(async () => {
    t = await startTestApi();
  });
  after(async () => {
    await t.close();
  });

  it('makes the default namespaces', async () => {
    for (const ns of ['default', 'kube-system', 'kube-public']) assert.equal((await t.call('GET', `/api/v1/namespaces/${ns}`)).status, 200, ns);
  });

  it('deletes Events past their time to live and keeps the others', async () => {
    const now = Date.parse('2026-11-27T12:00:00Z');
    for (const [name, at] of [['old', '2026-11-27T10:30:00Z'], ['fresh', '2026-11-27T11:30:00Z']] as const) {
      const r = await t.call('POST', '/api/v1/namespaces/default/events', event(name, at));
      assert.equal(r.status, 201, r.text);
    }
    const housekeeping = startHousekeeping({ api: t.resources.api, deleter: t.resources.deleter, isLeader: () => true, logger: quietLogger, now: () => now });
    try {
      await housekeeping.runOnce();
    } finally {
      housekeeping.stop();
    }
    assert.equal((await t.call('GET', '/api/v1/namespaces/default/events/old')).status, 404);
    assert.equal((await t.call('GET', '/api/v1/namespaces/default/events/fresh')).status, 200);
  });

  it('reads when an Event was last seen from lastTimestamp, eventTime or its creation', () => {
    const meta = { name: 'e', creationTimestamp: '2026-01-01T00:00:03Z' };
    assert.equal(eventLastSeen({ apiVersion: 'v1', kind: 'Event', metadata: meta, lastTimestamp: '2026-01-01T00:00:01Z' }), Date.parse('2026-01-01T00:00:01Z'));
    assert.equal(eventLastSeen({ apiVersion: 'v1', kind: 'Event', metadata: meta, eventTime: '2026-01-01T00:00:02.000000Z' }), Date.parse('2026-01-01T00:00:02Z'));
    assert.equal(eventLastSeen({ apiVersion: 'v1', kind: 'Event', metadata: meta }), Date.parse('2026-01-01T00:00:03Z'));
    assert.ok(Number.isNaN(eventLastSeen({ apiVersion: 'v1', kind: 'Event', metadata: { name: 'x' } })));
  });
});
