import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { MemberPlacement } from '../../src/cluster/voters.ts';
import { nextVoter, zoneQuorumWarnings } from '../../src/cluster/voters.ts';

const m = (name: string, zone: string | undefined, role: 'voter' | 'learner'): MemberPlacement => ({
  id: `id-${name}`,
  name,
  role,
  ...(zone ? { labels: { 'topology.kubernetes.io/zone': zone } } : {}),
});

test('the next voter comes from the zone with the fewest voters', () => {
  const members = [m('a', 'z1', 'voter'), m('b', 'z1', 'voter'), m('c', 'z1', 'learner'), m('d', 'z2', 'learner'), m('e', 'z3', 'learner')];
  const all = new Set(members.map((x) => x.id));
  assert.equal(nextVoter(members, all)?.name, 'd');
  // only caught-up learners are candidates
  assert.equal(nextVoter(members, new Set(['id-c']))?.name, 'c');
  assert.equal(nextVoter(members, new Set()), null);
});

test('no promotion beyond the voter cap: further members stay learners', () => {
  const members = [m('a', 'z1', 'voter'), m('b', 'z2', 'voter'), m('c', 'z3', 'voter'), m('d', 'z1', 'learner')];
  assert.equal(nextVoter(members, new Set(['id-d']), 3), null);
  assert.equal(nextVoter(members, new Set(['id-d']), 5)?.name, 'd');
});

test('five members over 2+2+1 zones: promotion order spreads voters', () => {
  const members = [m('a', 'z1', 'voter'), m('b', 'z1', 'learner'), m('c', 'z2', 'learner'), m('d', 'z2', 'learner'), m('e', 'z3', 'learner')];
  const caught = new Set(members.map((x) => x.id));
  const order: string[] = [];
  for (;;) {
    const next = nextVoter(members, caught);
    if (!next) break;
    order.push(next.name);
    next.role = 'voter';
  }
  assert.deepEqual(order, ['c', 'e', 'b', 'd']);
  assert.deepEqual(zoneQuorumWarnings(members), []);
});

test('3 voters in 2 zones: losing the zone with 2 loses quorum, and the warning says so', () => {
  const warnings = zoneQuorumWarnings([m('a', 'z1', 'voter'), m('b', 'z1', 'voter'), m('c', 'z2', 'voter')]);
  assert.equal(warnings.length, 1);
  assert.match(warnings[0]!, /losing zone z1 \(2 of 3 voters\) would lose the store's quorum \(2 needed\)/);
  // 3 voters in 3 zones: any one zone can go
  assert.deepEqual(zoneQuorumWarnings([m('a', 'z1', 'voter'), m('b', 'z2', 'voter'), m('c', 'z3', 'voter')]), []);
  // learners do not count toward quorum
  assert.equal(zoneQuorumWarnings([m('a', 'z1', 'voter'), m('b', 'z2', 'learner')]).length, 1);
  // no zone labels at all: nothing to say
  assert.deepEqual(zoneQuorumWarnings([m('a', undefined, 'voter'), m('b', undefined, 'voter')]), []);
});
