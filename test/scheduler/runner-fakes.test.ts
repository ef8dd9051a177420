// The scheduler's loop against in-memory informers and a recording API: which pods it leaves
// alone, what a 409 on bind does (no second try with the same resourceVersion), and back-off
// after a failing write.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Status, StatusError } from '../../src/api/resources/index.ts';
import type { KObject } from '../../src/model/index.ts';
import { findResource } from '../../src/model/index.ts';
import { startScheduler } from '../../src/scheduler/index.ts';
import type { SchedulerApi } from '../../src/scheduler/index.ts';
import { quietLogger } from '../store/store-helpers.ts';
import { node, pod } from './fixtures.ts';

const podsInfo = findResource('', 'v1', 'pods')!;

function fakeInformer(objects: KObject[]) {
  return { list: () => objects, relist: async () => {} };
}

interface Call {
  name: string;
  nodeName: string;
  resourceVersion: string | undefined;
}

function fakeApi(onBind: (call: Call) => void) {
  const binds: Call[] = [];
  const updates: string[] = [];
  const api = {
    async bind(_ns: string, name: string, nodeName: string, options: { resourceVersion?: string }) {
      const call = { name, nodeName, resourceVersion: options.resourceVersion };
      binds.push(call);
      onBind(call);
      return pod(name);
    },
    async update(_info: unknown, _ns: string, name: string) {
      updates.push(name);
      return pod(name);
    },
    async create(_info: unknown, _ns: string, object: KObject) {
      return object;
    },
  } as unknown as SchedulerApi;
  return { api, binds, updates };
}

const wait = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('scheduler loop (fakes)', () => {
  it('leaves pods of other schedulers, finished pods and pods being deleted alone', async () => {
    const pods = [
      pod('mine'),
      pod('named', { spec: { schedulerName: 'default-scheduler' } }),
      pod('other', { spec: { schedulerName: 'my-scheduler' } }),
      pod('done', { phase: 'Succeeded' }),
      pod('going', { deleting: true }),
      pod('placed', { nodeName: 'a' }),
    ];
    const { api, binds } = fakeApi(() => {});
    const recorded: string[] = [];
    const s = startScheduler({ api, pods: fakeInformer(pods), nodes: fakeInformer([node('a')]), isLeader: () => true, logger: quietLogger, events: { record: (_r, _t, reason) => recorded.push(reason) }, checkIntervalMillis: 20 });
    try {
      await wait(100);
      await s.idle();
      assert.deepEqual(binds.map((b) => b.name).sort(), ['mine', 'named']);
      assert.deepEqual(recorded, ['Scheduled', 'Scheduled']);
    } finally {
      s.stop();
    }
  });

  it('after a 409 binds again only once the pod has changed, and never twice', async () => {
    const objects = [pod('p')];
    let refuse = true;
    const { api, binds } = fakeApi(() => {
      if (refuse) throw Status.conflict(podsInfo, 'p', 'the object has been modified; please apply your changes to the latest version and try again');
    });
    const s = startScheduler({ api, pods: fakeInformer(objects), nodes: fakeInformer([node('a')]), isLeader: () => true, logger: quietLogger, events: { record: () => {} }, checkIntervalMillis: 20 });
    try {
      await wait(150);
      await s.idle();
      assert.equal(binds.length, 1, 'the same resourceVersion is not tried again');
      assert.equal(s.stats.conflicts, 1);
      refuse = false;
      objects[0] = { ...objects[0]!, metadata: { ...objects[0]!.metadata, resourceVersion: '2' } };
      s.kick();
      await wait(100);
      await s.idle();
      assert.deepEqual(binds.map((b) => b.resourceVersion), ['1', '2']);
      // Bound (assumed until the informer shows it): not bound again while the informer lags.
      await wait(100);
      assert.equal(binds.length, 2);
      objects[0] = { ...objects[0]!, spec: { ...(objects[0]!['spec'] as object), nodeName: 'a' } };
      await wait(60);
      assert.equal(binds.length, 2);
    } finally {
      s.stop();
    }
  });

  it('backs off after a failing bind, and records FailedScheduling once per message', async () => {
    let failures = 2;
    const { api, binds } = fakeApi(() => {
      if (failures-- > 0) throw new StatusError(503, 'ServiceUnavailable', 'no quorum');
    });
    const s = startScheduler({ api, pods: fakeInformer([pod('p')]), nodes: fakeInformer([node('a')]), isLeader: () => true, logger: quietLogger, events: { record: () => {} }, checkIntervalMillis: 10, backoffInitialMillis: 80, backoffMaxMillis: 200 });
    try {
      await wait(40);
      assert.equal(binds.length, 1, 'no retry before the back-off');
      await wait(400);
      await s.idle();
      assert.equal(binds.length, 3);
      assert.equal(s.stats.errors, 2);
    } finally {
      s.stop();
    }
    const { api: api2, updates } = fakeApi(() => {});
    const events: string[] = [];
    const s2 = startScheduler({ api: api2, pods: fakeInformer([pod('big', { memory: '1Ti' })]), nodes: fakeInformer([node('a')]), isLeader: () => true, logger: quietLogger, events: { record: (_r, type, reason, message) => events.push(`${type} ${reason} ${message}`) }, checkIntervalMillis: 10, backoffInitialMillis: 20, backoffMaxMillis: 40 });
    try {
      await wait(200);
      await s2.idle();
      assert.deepEqual(events, ['Warning FailedScheduling 0/1 nodes are available: 1 Insufficient memory.']);
      // The fake store never shows the condition, so each retry may write it; but never two at once.
      assert.ok(updates.length >= 1);
    } finally {
      s2.stop();
    }
  });
});
