// The choice of backend with no sockets: round robin, marked-down backends passed over (and
// used only when nothing else is left), affinity with its timeout, and endpoint updates.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Balancer } from '../../src/proxy/index.ts';
import type { Backend } from '../../src/proxy/index.ts';

const b = (n: number): Backend => ({ ip: `10.42.0.${n}`, port: 80, key: `10.42.0.${n}:80` });
const names = (list: (Backend | undefined)[]) => list.map((x) => x?.ip.split('.')[3] ?? '-').join(' ');

describe('Balancer', () => {
  it('rotates over the backends and keeps its place across updates', () => {
    const balancer = new Balancer({ downMs: 5000, now: () => 0 });
    balancer.update([b(1), b(2), b(3)], null);
    assert.equal(names([1, 2, 3, 4].map(() => balancer.pick('c'))), '1 2 3 1');
    balancer.update([b(1), b(2), b(3), b(4)], null);
    assert.equal(names([1, 2, 3, 4].map(() => balancer.pick('c'))), '2 3 4 1');
    balancer.update([], null);
    assert.equal(balancer.pick('c'), undefined);
  });

  it('passes over a marked-down backend until its time is up, and skips the tried ones', () => {
    let now = 0;
    const balancer = new Balancer({ downMs: 5000, now: () => now });
    balancer.update([b(1), b(2), b(3)], null);
    balancer.markDown(b(2));
    assert.equal(names([1, 2, 3, 4].map(() => balancer.pick('c'))), '1 3 1 3');
    assert.equal(names([balancer.pick('c', new Set([b(1).key, b(3).key]))]), '2', 'all others tried: the down one is still worth a try');
    assert.equal(balancer.pick('c', new Set([b(1).key, b(2).key, b(3).key])), undefined);
    now = 5001;
    assert.equal(balancer.isDown(b(2).key), false);
  });

  it('keeps a client on its backend with affinity, renewing on use, and lets go after the timeout', () => {
    let now = 0;
    const balancer = new Balancer({ downMs: 5000, now: () => now });
    balancer.update([b(1), b(2), b(3)], 60_000);
    const first = balancer.pick('10.0.0.1')!;
    balancer.connected('10.0.0.1', first);
    for (let i = 0; i < 5; i++) {
      now += 50_000;
      const again = balancer.pick('10.0.0.1')!;
      assert.equal(again.key, first.key);
      balancer.connected('10.0.0.1', again);
    }
    now += 60_001;
    assert.notEqual(balancer.pick('10.0.0.1')!.key, first.key, 'expired: round robin again');
  });

  it('moves an affine client when its backend is down or gone, and forgets clients beyond the cap', () => {
    const now = 0;
    const balancer = new Balancer({ downMs: 5000, now: () => now, affinityEntriesMax: 2 });
    balancer.update([b(1), b(2)], 60_000);
    balancer.connected('x', b(1));
    balancer.markDown(b(1));
    assert.equal(balancer.pick('x')!.key, b(2).key);
    balancer.connected('x', b(2));
    balancer.update([b(1)], 60_000);
    assert.equal(balancer.pick('x')!.key, b(1).key, 'its backend left the endpoints');
    balancer.connected('y', b(1));
    balancer.connected('z', b(1));
    assert.equal(balancer.affinityEntries, 2);
    balancer.update([b(1)], null);
    assert.equal(balancer.affinityEntries, 0, 'affinity turned off');
  });
});
