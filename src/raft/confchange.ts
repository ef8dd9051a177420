// Membership changes, one server at a time. Pure functions over ConfState; both the core
// (which takes a configuration into use as soon as its entry is in the log) and the store
// (which keeps the applied configuration for snapshots) use the same rules.
import type { ConfChange, ConfChangeType, ConfState, Entry, HardState, NodeId } from './types.ts';

const textEncoder = new TextEncoder();
const textDecoder = new TextDecoder();
const changeTypes: ReadonlySet<string> = new Set<ConfChangeType>(['addVoter', 'addLearner', 'promote', 'remove']);

export function encodeConfChange(cc: ConfChange): Uint8Array {
  return textEncoder.encode(JSON.stringify({ type: cc.type, node: cc.node, context: cc.context }));
}

/** Decodes a conf-change entry; a malformed one is null (the core then treats it as a no-op,
 *  identically on every member, so a bad entry can never split the cluster's view). */
export function decodeConfChange(data: Uint8Array): ConfChange | null {
  try {
    const value: unknown = JSON.parse(textDecoder.decode(data));
    if (typeof value !== 'object' || value === null) return null;
    const { type, node, context } = value as Record<string, unknown>;
    if (typeof type !== 'string' || !changeTypes.has(type)) return null;
    if (typeof node !== 'string' || node === '') return null;
    return { type: type as ConfChangeType, node, context: typeof context === 'string' ? context : '' };
  } catch {
    return null;
  }
}

/** Why a change cannot apply to a configuration, or null when it can. */
export function confChangeRefusal(cs: ConfState, cc: ConfChange): string | null {
  const isVoter = cs.voters.includes(cc.node);
  const isLearner = cs.learners.includes(cc.node);
  switch (cc.type) {
    case 'addVoter':
      return isVoter ? `${cc.node} is already a voter` : null;
    case 'addLearner':
      if (isVoter) return `${cc.node} is a voter; demotion is not supported`;
      return isLearner ? `${cc.node} is already a learner` : null;
    case 'promote':
      return isLearner ? null : `${cc.node} is not a learner`;
    case 'remove':
      if (!isVoter && !isLearner) return `${cc.node} is not a member`;
      if (isVoter && cs.voters.length === 1) return `${cc.node} is the last voter`;
      return null;
  }
}

/** The configuration after `cc`. A change that does not apply leaves it unchanged. */
export function applyConfChange(cs: ConfState, cc: ConfChange): ConfState {
  if (confChangeRefusal(cs, cc) !== null) return cs;
  const without = (ids: NodeId[]) => ids.filter((id) => id !== cc.node);
  switch (cc.type) {
    case 'addVoter':
    case 'promote':
      return { voters: [...cs.voters, cc.node], learners: without(cs.learners) };
    case 'addLearner':
      return { voters: cs.voters, learners: [...cs.learners, cc.node] };
    case 'remove':
      return { voters: without(cs.voters), learners: without(cs.learners) };
  }
}

export function confStateEqual(a: ConfState, b: ConfState): boolean {
  const same = (x: NodeId[], y: NodeId[]) => x.length === y.length && x.every((id) => y.includes(id));
  return same(a.voters, b.voters) && same(a.learners, b.learners);
}

export function cloneConfState(cs: ConfState): ConfState {
  return { voters: [...cs.voters], learners: [...cs.learners] };
}

/** The log a new cluster starts with (as etcd's Bootstrap): one committed addVoter entry per
 *  founding member at term 1, so that a member joining later learns the whole configuration
 *  history from the log itself. The driver persists these before the core first starts. */
export function bootstrapLog(founders: ReadonlyArray<{ node: NodeId; context: string }>): { entries: Entry[]; hardState: HardState } {
  const entries: Entry[] = founders.map((f, i) => ({
    term: 1,
    index: i + 1,
    type: 'conf',
    data: encodeConfChange({ type: 'addVoter', node: f.node, context: f.context }),
  }));
  return { entries, hardState: { term: 1, vote: '', commit: entries.length } };
}
