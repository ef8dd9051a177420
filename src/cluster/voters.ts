// Which members vote, for "two sites, three centres": a store that keeps quorum through the loss
// of any one zone needs its voters spread so that no zone holds half of them or more. The leader
// promotes caught-up learners one at a time up to a voter cap (an odd 5 by default, as etcd
// advises: more voters make every write slower); the learner it promotes is the one whose zone
// has the fewest voters, so voters spread over zones as members join. Pure functions, no I/O.

export const ZONE_LABEL = 'topology.kubernetes.io/zone';
export const MAX_VOTERS_DEFAULT = 5;

export interface MemberPlacement {
  id: string;
  name: string;
  role: 'voter' | 'learner';
  labels?: Record<string, string>;
}

/** A member's zone, or '' when it has none (all zone-less members count as one zone). */
export function zoneOf(m: Pick<MemberPlacement, 'labels'>): string {
  return m.labels?.[ZONE_LABEL] ?? '';
}

/**
 * The learner to promote next, or null: none while `maxVoters` vote already; among the caught-up
 * learners, the one whose zone has the fewest voters (ties: the zone with the fewest members
 * voting or not, then the name, so every leader decides the same).
 */
export function nextVoter(members: readonly MemberPlacement[], caughtUp: ReadonlySet<string>, maxVoters = MAX_VOTERS_DEFAULT): MemberPlacement | null {
  const voters = members.filter((m) => m.role === 'voter');
  if (voters.length >= maxVoters) return null;
  const votersIn = new Map<string, number>();
  for (const v of voters) votersIn.set(zoneOf(v), (votersIn.get(zoneOf(v)) ?? 0) + 1);
  const candidates = members.filter((m) => m.role === 'learner' && caughtUp.has(m.id));
  candidates.sort((a, b) => (votersIn.get(zoneOf(a)) ?? 0) - (votersIn.get(zoneOf(b)) ?? 0) || a.name.localeCompare(b.name));
  return candidates[0] ?? null;
}

/**
 * Warnings about quorum across zones: the zones whose loss would leave fewer than a majority of
 * voters. Empty when no member carries a zone label (nothing to say) or when every zone can go.
 */
export function zoneQuorumWarnings(members: readonly MemberPlacement[]): string[] {
  const voters = members.filter((m) => m.role === 'voter');
  if (!members.some((m) => zoneOf(m) !== '') || voters.length === 0) return [];
  const quorum = Math.floor(voters.length / 2) + 1;
  const byZone = new Map<string, number>();
  for (const v of voters) byZone.set(zoneOf(v), (byZone.get(zoneOf(v)) ?? 0) + 1);
  const out: string[] = [];
  for (const [zone, count] of [...byZone].sort((a, b) => a[0].localeCompare(b[0]))) {
    if (voters.length - count < quorum) {
      out.push(
        `losing zone ${zone === '' ? '(no zone label)' : zone} (${count} of ${voters.length} voters) would lose the store's quorum (${quorum} needed): ` +
          `add a member in another zone, or label members with ${ZONE_LABEL} across at least 3 zones`,
      );
    }
  }
  return out;
}
