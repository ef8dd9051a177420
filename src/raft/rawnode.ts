// The driver's handle on the core, synchronous and single-threaded (etcd-io/raft's RawNode):
// feed it ticks, messages and requests; take a Ready; persist, send, apply; then advance().
import type { ProposeResult, RaftConfig, Status } from './raft.ts';
import { Raft } from './raft.ts';
import type { ConfChange, HardState, Message, MessageType, NodeId, Ready, SoftState } from './types.ts';
import { hardStateEqual, message } from './types.ts';

/** Message types that only the local driver may produce; from the network they are dropped. */
const localOnly: ReadonlySet<MessageType> = new Set<MessageType>([
  'MsgHup',
  'MsgBeat',
  'MsgCheckQuorum',
  'MsgUnreachable',
  'MsgSnapStatus',
]);

export class RawNode {
  readonly raft: Raft;
  private prevSoftState: SoftState;
  private prevHardState: HardState;

  /** `raft` lets tests substitute a deliberately broken core (see test/sim). */
  constructor(config: RaftConfig, raft?: Raft) {
    this.raft = raft ?? new Raft(config);
    this.prevSoftState = this.softState();
    this.prevHardState = this.raft.hardState();
  }

  private softState(): SoftState {
    return { lead: this.raft.lead, state: this.raft.state };
  }

  tick(): void {
    this.raft.tick();
  }

  /** Start an election now (tests and single-node bootstrap). */
  campaign(): void {
    this.raft.step(message({ type: 'MsgHup', from: this.raft.id }));
  }

  propose(data: Uint8Array): ProposeResult {
    return this.raft.propose(data);
  }

  proposeConfChange(cc: ConfChange): ProposeResult {
    return this.raft.proposeConfChange(cc);
  }

  /** A message from a peer. False if it was dropped. */
  step(m: Message): boolean {
    if (localOnly.has(m.type)) return false;
    return this.raft.step(m);
  }

  /** Ask for a linearizable read point; it arrives in a later Ready's readStates. */
  readIndex(context: string): boolean {
    return this.raft.step(message({ type: 'MsgReadIndex', context }));
  }

  transferLeadership(transferee: NodeId): boolean {
    return this.raft.step(message({ type: 'MsgTransferLeader', from: transferee }));
  }

  reportUnreachable(id: NodeId): void {
    this.raft.step(message({ type: 'MsgUnreachable', from: id }));
  }

  reportSnapshot(id: NodeId, ok: boolean): void {
    this.raft.step(message({ type: 'MsgSnapStatus', from: id, reject: !ok }));
  }

  hasReady(): boolean {
    const r = this.raft;
    r.flushAppends();
    if (r.msgs.length > 0 || r.readStates.length > 0) return true;
    if (r.raftLog.unstableEntries().length > 0 || r.raftLog.hasPendingSnapshot()) return true;
    if (r.raftLog.hasNextCommittedEntries()) return true;
    if (r.lead !== this.prevSoftState.lead || r.state !== this.prevSoftState.state) return true;
    return !hardStateEqual(r.hardState(), this.prevHardState);
  }

  ready(): Ready {
    const r = this.raft;
    r.flushAppends();
    const soft = this.softState();
    const hard = r.hardState();
    const entries = r.raftLog.unstableEntries().slice();
    const snapshot = r.raftLog.unstable.snapshot;
    const hardChanged = !hardStateEqual(hard, this.prevHardState);
    const rd: Ready = {
      softState: soft.lead !== this.prevSoftState.lead || soft.state !== this.prevSoftState.state ? soft : null,
      hardState: hardChanged ? hard : null,
      entries,
      snapshot,
      committedEntries: r.raftLog.nextCommittedEntries(r.maxCommittedSizePerReady),
      messages: r.msgs,
      readStates: r.readStates,
      mustSync: entries.length > 0 || snapshot !== null || hard.term !== this.prevHardState.term || hard.vote !== this.prevHardState.vote,
    };
    r.msgs = [];
    r.readStates = [];
    return rd;
  }

  /** The driver persisted, sent and applied everything in `rd`. */
  advance(rd: Ready): void {
    const r = this.raft;
    if (rd.softState) this.prevSoftState = rd.softState;
    if (rd.hardState) this.prevHardState = rd.hardState;
    const lastCommitted = rd.committedEntries[rd.committedEntries.length - 1];
    if (lastCommitted) {
      r.raftLog.appliedTo(lastCommitted.index);
      r.reduceUncommittedSize(rd.committedEntries);
    } else if (rd.snapshot) {
      r.raftLog.appliedTo(rd.snapshot.metadata.index);
    }
    const lastEntry = rd.entries[rd.entries.length - 1];
    if (lastEntry) r.raftLog.stableTo(lastEntry.index, lastEntry.term);
    if (rd.snapshot) r.raftLog.stableSnapTo(rd.snapshot.metadata.index);
  }

  status(): Status {
    return this.raft.status();
  }
}
