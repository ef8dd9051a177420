// The data the Raft core consumes and produces. Plain objects only: the driver persists and
// sends them; the core never touches disk, sockets, clocks or randomness of its own.

/** A member's identity: a stable string chosen by the store (never reused). */
export type NodeId = string;
/** "No node": no leader known, no vote cast. */
export const None: NodeId = '';

export type EntryType = 'normal' | 'conf';

export interface Entry {
  term: number;
  index: number;
  type: EntryType;
  /** Opaque to the core for 'normal'; an encoded ConfChange for 'conf'. Empty = leader no-op. */
  data: Uint8Array;
}

export interface HardState {
  term: number;
  vote: NodeId;
  commit: number;
}

export interface ConfState {
  voters: NodeId[];
  learners: NodeId[];
}

export type ConfChangeType = 'addVoter' | 'addLearner' | 'promote' | 'remove';

/** One server at a time (Raft thesis §4.1): each change adds, promotes or removes one member. */
export interface ConfChange {
  type: ConfChangeType;
  node: NodeId;
  /** Opaque to the core: the store keeps the member's name and peer URL here. */
  context: string;
}

export interface SnapshotMetadata {
  index: number;
  term: number;
  confState: ConfState;
}

export interface Snapshot {
  metadata: SnapshotMetadata;
  /** Opaque to the core. The store may put a handle here and stream the real bytes itself. */
  data: Uint8Array;
}

export type MessageType =
  // local: never sent over a network
  | 'MsgHup' // time to campaign
  | 'MsgBeat' // time for the leader to send heartbeats
  | 'MsgCheckQuorum' // time for the leader to check it still hears from a quorum
  | 'MsgUnreachable' // the transport could not reach a peer
  | 'MsgSnapStatus' // the transport finished (or failed) sending a snapshot
  | 'MsgTransferLeader' // ask the leader to hand leadership to `from`
  | 'MsgReadIndex' // ask for a linearizable read point (also forwarded follower → leader)
  // between peers
  | 'MsgApp'
  | 'MsgAppResp'
  | 'MsgVote'
  | 'MsgVoteResp'
  | 'MsgPreVote'
  | 'MsgPreVoteResp'
  | 'MsgSnap'
  | 'MsgHeartbeat'
  | 'MsgHeartbeatResp'
  | 'MsgTimeoutNow'
  | 'MsgReadIndexResp';

export interface Message {
  type: MessageType;
  to: NodeId;
  from: NodeId;
  /** 0 for local messages and forwarded read requests. */
  term: number;
  /** MsgApp: term of the entry before `entries`; votes: the candidate's last log term;
   *  rejected MsgAppResp: the term at `rejectHint` in the follower's log (fast back-off). */
  logTerm: number;
  /** MsgApp: index of the entry before `entries`; responses: the index acknowledged. */
  index: number;
  entries: Entry[];
  commit: number;
  snapshot: Snapshot | null;
  reject: boolean;
  rejectHint: number;
  /** Read-index request id, or 'transfer' on a vote forced by leadership transfer. */
  context: string;
}

export type StateType = 'follower' | 'preCandidate' | 'candidate' | 'leader';

export interface SoftState {
  lead: NodeId;
  state: StateType;
}

/** A linearizable read point: once the state machine has applied `index`, a read that was
 *  requested with `context` may be served from local state. */
export interface ReadState {
  index: number;
  context: string;
}

/** Everything the driver must do, in order: persist `hardState`, `entries` and `snapshot`
 *  (one durable write), then send `messages`, then apply `committedEntries`, then `advance()`. */
export interface Ready {
  softState: SoftState | null;
  hardState: HardState | null;
  entries: Entry[];
  snapshot: Snapshot | null;
  committedEntries: Entry[];
  messages: Message[];
  readStates: ReadState[];
  /** False when nothing durable changed (only commit index, or nothing at all). */
  mustSync: boolean;
}

export function emptyMessage(type: MessageType): Message {
  return {
    type,
    to: None,
    from: None,
    term: 0,
    logTerm: 0,
    index: 0,
    entries: [],
    commit: 0,
    snapshot: null,
    reject: false,
    rejectHint: 0,
    context: '',
  };
}

export function message(fields: Partial<Message> & { type: MessageType }): Message {
  return Object.assign(emptyMessage(fields.type), fields);
}

export const emptyHardState: HardState = Object.freeze({ term: 0, vote: None, commit: 0 });

export function isEmptyHardState(hs: HardState): boolean {
  return hs.term === 0 && hs.vote === None && hs.commit === 0;
}

export function hardStateEqual(a: HardState, b: HardState): boolean {
  return a.term === b.term && a.vote === b.vote && a.commit === b.commit;
}

/** Bytes an entry costs in flow control and size limits (payload plus a fixed overhead). */
export function entrySize(e: Entry): number {
  return e.data.byteLength + 24;
}

export function entriesSize(ents: readonly Entry[]): number {
  let total = 0;
  for (const e of ents) total += entrySize(e);
  return total;
}

/** A broken invariant: a bug in the core or its driver, never an operating condition. */
export class RaftInvariantError extends Error {
  readonly code = 'E_RAFT_INVARIANT';
  constructor(message: string) {
    super(message);
    this.name = 'RaftInvariantError';
  }
}

export function invariant(condition: unknown, message: string | (() => string)): asserts condition {
  if (!condition) throw new RaftInvariantError(typeof message === 'string' ? message : message());
}
