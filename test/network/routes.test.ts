// host-gw routes and the masquerade chain, against a fake `ip`/`iptables` (the real ones run in
// the cluster tests, inside their own namespaces).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { desiredRoutes, ensurePodMasquerade, parseRoutes, PodRoutes, ROUTE_PROTO } from '../../src/network/routes.ts';
import { quietLogger } from '../store/store-helpers.ts';

const node = (name: string, cidr: string | undefined, ip: string | undefined) => ({
  metadata: { name },
  spec: cidr ? { podCIDR: cidr } : {},
  status: ip ? { addresses: [{ type: 'InternalIP', address: ip }, { type: 'Hostname', address: name }] } : {},
});

test('desired routes: every other node with a pod CIDR and an address', () => {
  const routes = desiredRoutes([node('g2', '10.42.2.0/24', '10.77.0.2'), node('g1', '10.42.1.0/24', '10.77.0.1'), node('g3', undefined, '10.77.0.3'), node('g4', '10.42.4.0/24', undefined)], 'g1');
  assert.deepEqual(routes, [{ cidr: '10.42.2.0/24', via: '10.77.0.2' }]);
});

test('parse routes', () => {
  assert.deepEqual(parseRoutes('10.42.2.0/24 via 10.77.0.2 dev eth0 proto 44 \n10.42.3.0/24 via 10.77.0.3 dev eth0 proto 44\n'), [
    { cidr: '10.42.2.0/24', via: '10.77.0.2' },
    { cidr: '10.42.3.0/24', via: '10.77.0.3' },
  ]);
});

test('sync adds missing routes, removes stale ones of ours only, and changes nothing for a set in place', async () => {
  const calls: string[] = [];
  let table = `10.42.3.0/24 via 10.77.0.3 dev eth0 proto ${ROUTE_PROTO}\n10.42.2.0/24 via 10.77.0.9 dev eth0 proto ${ROUTE_PROTO}\n`;
  let refuse = '';
  const run = async (file: string, args: string[]) => {
    calls.push(`${file} ${args.join(' ')}`);
    if (file === 'ip' && args[2] === 'show') return table;
    if (file === 'ip' && args[2] === 'replace' && args[3] === refuse) throw Object.assign(new Error('failed'), { stderr: 'Nexthop has invalid gateway' });
    return '';
  };
  const routes = new PodRoutes({ podCidr: '10.42.1.0/24', logger: quietLogger, run });
  await routes.sync([{ cidr: '10.42.2.0/24', via: '10.77.0.2' }]);
  assert.ok(calls.includes(`ip -4 route del 10.42.3.0/24 proto ${ROUTE_PROTO}`));
  assert.ok(calls.includes(`ip -4 route del 10.42.2.0/24 proto ${ROUTE_PROTO}`), 'a route via a changed address is replaced');
  assert.ok(calls.includes(`ip -4 route replace 10.42.2.0/24 via 10.77.0.2 proto ${ROUTE_PROTO}`));
  assert.ok(!calls.some((c) => c.startsWith('iptables')), 'the masquerade chain is the pod network\'s');
  calls.length = 0;
  table = `10.42.2.0/24 via 10.77.0.2 dev eth0 proto ${ROUTE_PROTO}\n`;
  await routes.sync([{ cidr: '10.42.2.0/24', via: '10.77.0.2' }]);
  assert.deepEqual(calls, [`ip -4 route show proto ${ROUTE_PROTO}`], 'a set in place: one look, no change');
  // a route that cannot be added is tried again at the next sync of the same set
  refuse = '10.42.4.0/24';
  const two = [{ cidr: '10.42.2.0/24', via: '10.77.0.2' }, { cidr: '10.42.4.0/24', via: '192.0.2.9' }];
  await routes.sync(two);
  calls.length = 0;
  await routes.sync(two);
  assert.ok(calls.some((c) => c === `ip -4 route replace 10.42.4.0/24 via 192.0.2.9 proto ${ROUTE_PROTO}`));
});

test('a sync finds a route the kernel dropped (a link down and up) and says a failing route once', async () => {
  const calls: string[] = [];
  const warnings: string[] = [];
  let table = '';
  let refuse = true;
  const run = async (file: string, args: string[]) => {
    calls.push(`${file} ${args.join(' ')}`);
    if (args[2] === 'show') return table;
    if (args[2] === 'replace' && refuse) throw Object.assign(new Error('failed'), { stderr: 'Nexthop has invalid gateway' });
    return '';
  };
  const logger = { ...quietLogger, warn: (msg: string) => void warnings.push(msg), child: () => logger } as typeof quietLogger;
  const routes = new PodRoutes({ podCidr: '10.42.1.0/24', logger, run });
  const want = [{ cidr: '10.42.2.0/24', via: '10.77.0.2' }];
  await routes.sync(want); // link down: refused
  await routes.sync(want);
  await routes.sync(want);
  assert.equal(warnings.length, 1, 'said once while it keeps failing');
  refuse = false;
  await routes.sync(want);
  table = `10.42.2.0/24 via 10.77.0.2 dev eth0 proto ${ROUTE_PROTO}\n`;
  calls.length = 0;
  await routes.sync(want);
  assert.ok(!calls.some((c) => c.includes('replace')), 'in place: left alone');
  table = ''; // the kernel dropped it
  calls.length = 0;
  await routes.sync(want);
  assert.ok(calls.includes(`ip -4 route replace 10.42.2.0/24 via 10.77.0.2 proto ${ROUTE_PROTO}`), 'the next sync put it back');
  refuse = true;
  await routes.sync(want);
  assert.equal(warnings.length, 2, 'failing again after it worked is said again');
});

test('the masquerade chain: cluster traffic returns, the rest is masqueraded, one jump', async () => {
  const calls: string[] = [];
  const run = async (file: string, args: string[]) => {
    calls.push(`${file} ${args.join(' ')}`);
    if (args.includes('-C')) throw new Error('no such rule');
    return '';
  };
  await ensurePodMasquerade({ podCidr: '10.42.1.0/24', clusterCidr: '10.42.0.0/16' }, run);
  assert.ok(calls.includes('iptables -w -t nat -A BRAMBLE-POSTROUTING -d 10.42.0.0/16 -j RETURN'));
  assert.ok(calls.indexOf('iptables -w -t nat -A BRAMBLE-POSTROUTING -j MASQUERADE') > calls.indexOf('iptables -w -t nat -A BRAMBLE-POSTROUTING -d 10.42.0.0/16 -j RETURN'));
  assert.equal(calls.filter((c) => c.startsWith('iptables -w -t nat -A POSTROUTING -s 10.42.1.0/24')).length, 1);
});
