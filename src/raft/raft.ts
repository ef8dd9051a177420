// The Raft protocol as a pure state machine, in the shape of etcd-io/raft: `step()` settles
// the term and hands the message to the role's handler; effects are data (outbox, log tail,
// read states) collected by RawNode into a Ready. No I/O, no clock, no randomness of its own.
//
// One deliberate difference from etcd: a configuration takes effect as soon as its entry is in
// the log (Raft thesis §4.1), not when it is applied. A member that lags behind several
// changes can then never count votes with a configuration older than its own log.
import { applyConfChange, cloneConfState, confChangeRefusal, decodeConfChange, encodeConfChange } from './confchange.ts';
import { RaftLog } from './log.ts';
import type { ProgressState } from './progress.ts';
import { Progress, committedIndex, voteResult } from './progress.ts';
import { ReadOnlyQueue } from './read-only.ts';
import type { LogStorage } from './storage.ts';
import type { ConfChange, ConfState, Entry, HardState, Message, MessageType, NodeId, ReadState, Snapshot, StateType } from './types.ts';
import { None, entriesSize, invariant, message } from './types.ts';

export interface RaftConfig {
  id: NodeId;
  storage: LogStorage;
  /** Followers campaign after a random timeout in [electionTicks, 2 * electionTicks). */
  electionTicks: number;
  heartbeatTicks: number;
  /** The last index the state machine applied before a restart (0: replay from the snapshot). */
  applied?: number;
  /** Bytes of entries in one MsgApp. */
  maxSizePerMsg?: number;
  /** Bytes of committed entries handed out in one Ready. */
  maxCommittedSizePerReady?: number;
  /** MsgApps in flight to one follower before waiting for acknowledgements. */
  maxInflightMsgs?: number;
  /** Bytes of proposed but uncommitted entries the leader accepts (0 = no limit). */
  maxUncommittedEntriesSize?: number;
  /** Read requests waiting for a quorum's heartbeat answer. */
  maxPendingReads?: number;
  preVote?: boolean;
  checkQuorum?: boolean;
  /** An integer in [0, n): the caller's seeded or real random source. */
  random: (n: number) => number;
}

export type ProposeResult = { ok: true; index: number; term: number } | { ok: false; reason: string };

export interface ProgressStatus {
  match: number;
  next: number;
  state: ProgressState;
  isLearner: boolean;
  recentActive: boolean;
}

export interface Status {
  id: NodeId;
  term: number;
  vote: NodeId;
  commit: number;
  applied: number;
  lead: NodeId;
  state: StateType;
  leadTransferee: NodeId;
  lastIndex: number;
  conf: ConfState;
  progress: Record<NodeId, ProgressStatus>;
}

const CAMPAIGN_TRANSFER = 'transfer';
type CampaignType = 'preElection' | 'election' | 'transfer';

interface ConfigAt {
  index: number;
  conf: ConfState;
}

function voteResponseType(t: MessageType): MessageType {
  return t === 'MsgVote' ? 'MsgVoteResp' : 'MsgPreVoteResp';
}

export class Raft {
  readonly id: NodeId;
  term = 0;
  vote: NodeId = None;
  state: StateType = 'follower';
  lead: NodeId = None;
  leadTransferee: NodeId = None;
  readonly raftLog: RaftLog;

  /** Outbox: messages produced since the last Ready. */
  msgs: Message[] = [];
  readStates: ReadState[] = [];

  readonly progress = new Map<NodeId, Progress>();
  voters: ReadonlySet<NodeId> = new Set();
  learners: ReadonlySet<NodeId> = new Set();
  readonly votes = new Map<NodeId, boolean>();
  /** Configurations in the log: [0] is the base (snapshot), later ones are conf entries not
   *  yet known committed, in log order. The last one is in effect. */
  private configs: ConfigAt[];

  readonly electionTicks: number;
  readonly heartbeatTicks: number;
  electionElapsed = 0;
  heartbeatElapsed = 0;
  randomizedElectionTimeout = 0;
  readonly preVote: boolean;
  readonly checkQuorum: boolean;
  private readonly random: (n: number) => number;
  private readonly maxSizePerMsg: number;
  readonly maxCommittedSizePerReady: number;
  private readonly maxInflightMsgs: number;
  private readonly maxUncommittedEntriesSize: number;
  private uncommittedSize = 0;
  private readOnly: ReadOnlyQueue;
  /** Reads that arrived before this leader committed an entry of its own term. */
  private pendingReadRequests: Message[] = [];
  /** Proposals appended since the last Ready, not yet broadcast (one broadcast per batch). */
  private appendPending = false;

  constructor(config: RaftConfig) {
    invariant(config.id !== None, 'raft: the node id must not be empty');
    invariant(Number.isInteger(config.heartbeatTicks) && config.heartbeatTicks >= 1, 'raft: heartbeatTicks must be a positive integer');
    invariant(
      Number.isInteger(config.electionTicks) && config.electionTicks > config.heartbeatTicks,
      'raft: electionTicks must be an integer greater than heartbeatTicks',
    );
    this.id = config.id;
    this.electionTicks = config.electionTicks;
    this.heartbeatTicks = config.heartbeatTicks;
    this.preVote = config.preVote ?? true;
    this.checkQuorum = config.checkQuorum ?? true;
    this.random = config.random;
    this.maxSizePerMsg = config.maxSizePerMsg ?? 1024 * 1024;
    this.maxCommittedSizePerReady = config.maxCommittedSizePerReady ?? 8 * 1024 * 1024;
    this.maxInflightMsgs = config.maxInflightMsgs ?? 256;
    invariant(Number.isInteger(this.maxInflightMsgs) && this.maxInflightMsgs >= 1, 'raft: maxInflightMsgs must be a positive integer');
    this.maxUncommittedEntriesSize = config.maxUncommittedEntriesSize ?? 0;
    this.readOnly = new ReadOnlyQueue(config.maxPendingReads ?? 4096);

    const storage = config.storage;
    const { hardState, confState } = storage.initialState();
    this.raftLog = new RaftLog(storage, 0);
    this.configs = [{ index: storage.firstIndex() - 1, conf: cloneConfState(confState) }];
    this.scanConfigs(storage);
    this.raftLog.onAppend = (ents) => this.onLogAppend(ents);
    this.loadHardState(hardState);
    if (config.applied !== undefined && config.applied > this.raftLog.applied) this.raftLog.appliedTo(config.applied);
    this.applyConfigToTracker();
    this.becomeFollower(this.term, None);
  }

  // ---- configuration ------------------------------------------------------------------

  private scanConfigs(storage: LogStorage): void {
    const last = storage.lastIndex();
    for (let lo = storage.firstIndex(); lo <= last; ) {
      const page = storage.entries(lo, last + 1, 4 * 1024 * 1024);
      invariant(page !== undefined && page.length > 0, () => `raft: cannot read log entries from ${lo}`);
      this.pushConfigs(page);
      lo = page[page.length - 1]!.index + 1;
    }
  }

  private pushConfigs(ents: readonly Entry[]): boolean {
    let changed = false;
    for (const e of ents) {
      if (e.type !== 'conf') continue;
      const cc = decodeConfChange(e.data);
      const current = this.configs[this.configs.length - 1]!.conf;
      this.configs.push({ index: e.index, conf: cc ? applyConfChange(current, cc) : current });
      changed = true;
    }
    return changed;
  }

  /** The log changed from ents[0].index on: drop configurations from a replaced suffix and
   *  take new ones into use. */
  private onLogAppend(ents: readonly Entry[]): void {
    const from = ents[0]!.index;
    let changed = false;
    while (this.configs.length > 1 && this.configs[this.configs.length - 1]!.index >= from) {
      this.configs.pop();
      changed = true;
    }
    if (this.pushConfigs(ents) || changed) this.applyConfigToTracker();
  }

  currentConf(): ConfState {
    return this.configs[this.configs.length - 1]!.conf;
  }

  /** Index of the latest conf entry not yet known committed (0 if there is none). */
  pendingConfIndex(): number {
    return this.configs.length > 1 ? this.configs[this.configs.length - 1]!.index : 0;
  }

  private forgetCommittedConfigs(): void {
    while (this.configs.length > 1 && this.configs[1]!.index <= this.raftLog.committed) this.configs.shift();
  }

  private applyConfigToTracker(): void {
    const conf = this.currentConf();
    this.voters = new Set(conf.voters);
    this.learners = new Set(conf.learners);
    const lastIndex = this.raftLog.lastIndex();
    for (const id of [...conf.voters, ...conf.learners]) {
      const pr = this.progress.get(id);
      if (pr) {
        pr.isLearner = this.learners.has(id);
        continue;
      }
      // A member just added counts as active for its first election timeout.
      const fresh = new Progress(lastIndex + 1, this.maxInflightMsgs, this.learners.has(id), true);
      if (id === this.id) fresh.match = lastIndex;
      this.progress.set(id, fresh);
    }
    for (const id of [...this.progress.keys()]) {
      if (!this.voters.has(id) && !this.learners.has(id)) this.progress.delete(id);
    }
    if (this.leadTransferee !== None && !this.voters.has(this.leadTransferee)) this.abortLeaderTransfer();
  }

  /** May this member campaign? A voter may; so may a member whose removal is in its log but not
   *  yet committed: if the leader that proposed the removal dies, the survivors may still
   *  count on its vote (old configuration) while it alone holds the newer log — it must be
   *  able to win under the new configuration, commit the removal, and then step down. */
  promotable(): boolean {
    if (this.voters.has(this.id)) return true;
    for (const c of this.configs) if (c.conf.voters.includes(this.id)) return true;
    return false;
  }

  // ---- state --------------------------------------------------------------------------

  private loadHardState(hs: HardState): void {
    invariant(
      hs.commit >= this.raftLog.committed && hs.commit <= this.raftLog.lastIndex(),
      () => `raft: persisted commit ${hs.commit} is outside [${this.raftLog.committed}, ${this.raftLog.lastIndex()}]; the log is truncated or corrupt`,
    );
    this.raftLog.committed = hs.commit;
    this.term = hs.term;
    this.vote = hs.vote;
    this.forgetCommittedConfigs();
  }

  hardState(): HardState {
    return { term: this.term, vote: this.vote, commit: this.raftLog.committed };
  }

  private reset(term: number): void {
    if (this.term !== term) {
      this.term = term;
      this.vote = None;
    }
    this.lead = None;
    this.electionElapsed = 0;
    this.heartbeatElapsed = 0;
    this.resetRandomizedElectionTimeout();
    this.abortLeaderTransfer();
    this.votes.clear();
    const lastIndex = this.raftLog.lastIndex();
    for (const [id, old] of this.progress) {
      // A new term starts with no evidence that anyone is alive, except ourselves.
      const pr = new Progress(lastIndex + 1, this.maxInflightMsgs, old.isLearner, id === this.id);
      if (id === this.id) pr.match = lastIndex;
      this.progress.set(id, pr);
    }
    this.uncommittedSize = 0;
    this.readOnly = new ReadOnlyQueue(this.readOnly.limit);
    this.pendingReadRequests = [];
    this.appendPending = false;
  }

  private resetRandomizedElectionTimeout(): void {
    this.randomizedElectionTimeout = this.electionTicks + this.random(this.electionTicks);
  }

  becomeFollower(term: number, lead: NodeId): void {
    this.reset(term);
    this.lead = lead;
    this.state = 'follower';
  }

  private becomePreCandidate(): void {
    invariant(this.state !== 'leader', 'raft: invalid transition leader → preCandidate');
    // Neither the term nor the vote changes: a pre-vote disturbs nobody.
    this.votes.clear();
    this.lead = None;
    this.state = 'preCandidate';
  }

  private becomeCandidate(): void {
    invariant(this.state !== 'leader', 'raft: invalid transition leader → candidate');
    this.reset(this.term + 1);
    this.vote = this.id;
    this.state = 'candidate';
  }

  private becomeLeader(): void {
    invariant(this.state !== 'follower', 'raft: invalid transition follower → leader');
    this.reset(this.term);
    this.lead = this.id;
    this.state = 'leader';
    this.progress.get(this.id)?.becomeReplicate();
    // A no-op entry of our own term: committing it commits everything before it (§5.4.2)
    // and lets reads and configuration changes proceed.
    this.appendEntries([{ term: 0, index: 0, type: 'normal', data: new Uint8Array(0) }]);
  }

  // ---- ticks --------------------------------------------------------------------------

  tick(): void {
    if (this.state === 'leader') this.tickHeartbeat();
    else this.tickElection();
  }

  private tickElection(): void {
    this.electionElapsed++;
    if (this.promotable() && this.electionElapsed >= this.randomizedElectionTimeout) {
      this.electionElapsed = 0;
      this.step(message({ type: 'MsgHup', from: this.id }));
    }
  }

  private tickHeartbeat(): void {
    this.heartbeatElapsed++;
    this.electionElapsed++;
    if (this.electionElapsed >= this.electionTicks) {
      this.electionElapsed = 0;
      if (this.checkQuorum) this.step(message({ type: 'MsgCheckQuorum', from: this.id }));
      // A transfer that did not finish within an election timeout is abandoned.
      if (this.state === 'leader' && this.leadTransferee !== None) this.abortLeaderTransfer();
    }
    if (this.state !== 'leader') return;
    if (this.heartbeatElapsed >= this.heartbeatTicks) {
      this.heartbeatElapsed = 0;
      this.step(message({ type: 'MsgBeat', from: this.id }));
    }
  }

  // ---- proposals ------------------------------------------------------------------------

  propose(data: Uint8Array): ProposeResult {
    return this.proposeEntry('normal', data);
  }

  proposeConfChange(cc: ConfChange): ProposeResult {
    if (this.state === 'leader') {
      if (this.pendingConfIndex() > 0) return { ok: false, reason: 'another membership change is still in progress' };
      // A new leader must commit an entry of its own term before changing the configuration
      // (the fix to the single-server change bug, Ongaro 2015).
      if (!this.committedEntryInCurrentTerm()) return { ok: false, reason: 'the leader has not yet committed an entry in its term; retry shortly' };
      const refusal = confChangeRefusal(this.currentConf(), cc);
      if (refusal !== null) return { ok: false, reason: refusal };
    }
    return this.proposeEntry('conf', encodeConfChange(cc));
  }

  private proposeEntry(type: 'normal' | 'conf', data: Uint8Array): ProposeResult {
    if (this.state !== 'leader') return { ok: false, reason: 'not the leader' };
    if (!this.progress.has(this.id)) return { ok: false, reason: 'this member is being removed from the cluster' };
    if (this.leadTransferee !== None) return { ok: false, reason: 'leadership transfer in progress' };
    const entry: Entry = { term: 0, index: 0, type, data };
    if (!this.appendEntries([entry])) return { ok: false, reason: 'too many uncommitted entries; the cluster is not keeping up' };
    this.appendPending = true;
    return { ok: true, index: entry.index, term: entry.term };
  }

  /** Sends what proposals since the last call appended: one broadcast per batch. */
  flushAppends(): void {
    if (!this.appendPending) return;
    this.appendPending = false;
    if (this.state === 'leader') this.bcastAppend();
  }

  private appendEntries(ents: Entry[]): boolean {
    const size = entriesSize(ents);
    // Always accept at least one entry beyond the limit, so large entries cannot wedge.
    if (this.maxUncommittedEntriesSize > 0 && this.uncommittedSize > 0 && this.uncommittedSize + size > this.maxUncommittedEntriesSize) {
      return false;
    }
    this.uncommittedSize += size;
    let index = this.raftLog.lastIndex();
    for (const e of ents) {
      e.term = this.term;
      e.index = ++index;
    }
    const last = this.raftLog.append(ents);
    this.progress.get(this.id)?.maybeUpdate(last);
    if (this.maybeCommit()) this.afterCommit();
    return true;
  }

  /** Called by the driver with the entries it applied, to release the uncommitted budget. */
  reduceUncommittedSize(ents: readonly Entry[]): void {
    if (this.uncommittedSize === 0) return;
    this.uncommittedSize = Math.max(0, this.uncommittedSize - entriesSize(ents));
  }

  committedEntryInCurrentTerm(): boolean {
    return this.raftLog.term(this.raftLog.committed) === this.term;
  }

  // ---- sending --------------------------------------------------------------------------

  protected send(m: Message): void {
    // Forwarded requests keep their origin; everything else is from us.
    if (m.from === None) m.from = this.id;
    if (m.type === 'MsgVote' || m.type === 'MsgVoteResp' || m.type === 'MsgPreVote' || m.type === 'MsgPreVoteResp') {
      invariant(m.term !== 0, () => `raft: ${m.type} must carry a term`);
    } else {
      invariant(m.term === 0, () => `raft: ${m.type} must not carry a preset term`);
      // Forwarded reads carry no term: they are local requests of the follower.
      if (m.type !== 'MsgReadIndex') m.term = this.term;
    }
    this.msgs.push(m);
  }

  /** Sends the follower what it lacks (or a snapshot). False if nothing was sent. */
  private maybeSendAppend(to: NodeId, sendIfEmpty: boolean): boolean {
    const pr = this.progress.get(to);
    if (!pr || pr.isPaused()) return false;
    const prevTerm = this.raftLog.term(pr.next - 1);
    const ents = this.raftLog.entriesFrom(pr.next, this.maxSizePerMsg);
    if (ents !== undefined && ents.length === 0 && !sendIfEmpty) return false;
    if (prevTerm === undefined || ents === undefined) return this.sendSnapshot(to, pr);
    const m = message({ type: 'MsgApp', to, index: pr.next - 1, logTerm: prevTerm, entries: ents, commit: this.raftLog.committed });
    if (ents.length > 0) {
      if (pr.state === 'replicate') {
        const last = ents[ents.length - 1]!.index;
        pr.optimisticUpdate(last);
        pr.inflights.add(last);
      } else {
        pr.probeSent = true;
      }
    }
    this.send(m);
    return true;
  }

  private sendSnapshot(to: NodeId, pr: Progress): boolean {
    // Only to a follower we heard from lately: a snapshot is expensive to send into the void.
    if (!pr.recentActive) return false;
    const snapshot = this.raftLog.snapshot();
    if (snapshot === undefined) return false; // being made; a later heartbeat retries
    invariant(snapshot.metadata.index > 0, 'raft: need a non-empty snapshot to send');
    pr.becomeSnapshot(snapshot.metadata.index);
    this.send(message({ type: 'MsgSnap', to, snapshot }));
    return true;
  }

  private sendAppendAll(to: NodeId): void {
    if (!this.maybeSendAppend(to, true)) return;
    while (this.maybeSendAppend(to, false)) {
      // pipeline as far as the in-flight window allows
    }
  }

  private bcastAppend(): void {
    for (const id of this.progress.keys()) if (id !== this.id) this.sendAppendAll(id);
  }

  private sendHeartbeat(to: NodeId, context: string): void {
    const pr = this.progress.get(to)!;
    // Never tell a follower to commit beyond what it is known to hold.
    const commit = Math.min(pr.match, this.raftLog.committed);
    this.send(message({ type: 'MsgHeartbeat', to, commit, context }));
  }

  private bcastHeartbeat(context: string): void {
    for (const id of this.progress.keys()) if (id !== this.id) this.sendHeartbeat(id, context);
  }

  private sendTimeoutNow(to: NodeId): void {
    this.send(message({ type: 'MsgTimeoutNow', to }));
  }

  private abortLeaderTransfer(): void {
    this.leadTransferee = None;
  }

  // ---- commit ---------------------------------------------------------------------------

  /** Advances the commit index to what a majority holds — only by counting replicas of an
   *  entry from the current term (§5.4.2); earlier entries commit with it. */
  protected maybeCommit(): boolean {
    const index = committedIndex(this.voters, (id) => this.progress.get(id)?.match ?? 0);
    if (index <= this.raftLog.committed || this.raftLog.term(index) !== this.term) return false;
    this.commitTo(index);
    return true;
  }

  protected commitTo(index: number): void {
    this.raftLog.commitTo(index);
    this.forgetCommittedConfigs();
  }

  /** After committing: serve postponed reads, and step down if we were removed. */
  private afterCommit(): void {
    if (this.pendingReadRequests.length > 0 && this.committedEntryInCurrentTerm()) {
      const postponed = this.pendingReadRequests;
      this.pendingReadRequests = [];
      for (const m of postponed) this.handleReadIndex(m);
    }
    if (this.state === 'leader' && !this.voters.has(this.id) && this.pendingConfIndex() === 0) {
      // Our removal is committed: hand over to the most up-to-date voter and step down.
      let best: NodeId = None;
      let bestMatch = -1;
      for (const id of this.voters) {
        const match = this.progress.get(id)?.match ?? 0;
        if (match > bestMatch) [best, bestMatch] = [id, match];
      }
      if (best !== None && bestMatch === this.raftLog.lastIndex()) this.sendTimeoutNow(best);
      this.becomeFollower(this.term, None);
    }
  }

  // ---- stepping -------------------------------------------------------------------------

  /** Feeds one message (from a peer, or a local request such as MsgHup). Returns false if
   *  the message was dropped (an expected refusal, not an error). */
  step(m: Message): boolean {
    if (m.term === 0) {
      // local message
    } else if (m.term > this.term) {
      if (m.type === 'MsgVote' || m.type === 'MsgPreVote') {
        const force = m.context === CAMPAIGN_TRANSFER;
        const inLease = this.checkQuorum && this.lead !== None && this.electionElapsed < this.electionTicks;
        // Within the minimum election timeout of hearing from a leader, ignore votes: this
        // keeps a partitioned or removed member from disturbing a healthy cluster.
        if (!force && inLease) return false;
      }
      if (m.type === 'MsgPreVote') {
        // never change our term in response to a pre-vote
      } else if (m.type === 'MsgPreVoteResp' && !m.reject) {
        // a granted pre-vote carries the term we would campaign at; we take it when we win
      } else if (m.type === 'MsgApp' || m.type === 'MsgHeartbeat' || m.type === 'MsgSnap') {
        this.becomeFollower(m.term, m.from);
      } else {
        this.becomeFollower(m.term, None);
      }
    } else if (m.term < this.term) {
      if ((this.checkQuorum || this.preVote) && (m.type === 'MsgHeartbeat' || m.type === 'MsgApp')) {
        // A leader of an older term: we may have raised our term while partitioned and now
        // neither win an election nor accept its appends. Answering makes it step down so
        // that a fresh election can free us (with check-quorum our votes are otherwise ignored).
        this.send(message({ type: 'MsgAppResp', to: m.from }));
      } else if (m.type === 'MsgPreVote') {
        // Reject with our term, so a pre-candidate stuck at an older term catches up — without
        // this, pre-vote and check-quorum together can leave the cluster with no leader.
        this.send(message({ type: 'MsgPreVoteResp', to: m.from, term: this.term, reject: true }));
      }
      return false;
    }

    switch (m.type) {
      case 'MsgHup':
        this.hup(this.preVote ? 'preElection' : 'election');
        return true;
      case 'MsgVote':
      case 'MsgPreVote':
        this.handleVoteRequest(m);
        return true;
      default:
        switch (this.state) {
          case 'leader':
            return this.stepLeader(m);
          case 'candidate':
          case 'preCandidate':
            return this.stepCandidate(m);
          case 'follower':
            return this.stepFollower(m);
        }
    }
  }

  protected handleVoteRequest(m: Message): void {
    const canVote =
      this.vote === m.from ||
      (this.vote === None && this.lead === None) ||
      (m.type === 'MsgPreVote' && m.term > this.term);
    // Learners vote too: one may have been promoted without knowing it yet.
    if (canVote && this.raftLog.isUpToDate(m.index, m.logTerm)) {
      this.send(message({ type: voteResponseType(m.type), to: m.from, term: m.term }));
      if (m.type === 'MsgVote') {
        this.electionElapsed = 0;
        this.vote = m.from;
      }
    } else {
      this.send(message({ type: voteResponseType(m.type), to: m.from, term: this.term, reject: true }));
    }
  }

  private hup(type: CampaignType): void {
    if (this.state === 'leader') return;
    if (!this.promotable()) return;
    // A snapshot not yet persisted may hold a newer configuration.
    if (this.raftLog.hasPendingSnapshot()) return;
    this.campaign(type);
  }

  private campaign(type: CampaignType): void {
    let term: number;
    let voteType: MessageType;
    if (type === 'preElection') {
      this.becomePreCandidate();
      voteType = 'MsgPreVote';
      // Pre-votes ask for the next term without taking it.
      term = this.term + 1;
    } else {
      this.becomeCandidate();
      voteType = 'MsgVote';
      term = this.term;
    }
    if (this.poll(this.id, true) === 'won') {
      // A single voter wins at once.
      if (type === 'preElection') this.campaign('election');
      else this.becomeLeader();
      return;
    }
    const index = this.raftLog.lastIndex();
    const logTerm = this.raftLog.lastTerm();
    const context = type === 'transfer' ? CAMPAIGN_TRANSFER : '';
    for (const id of this.voters) {
      if (id === this.id) continue;
      this.send(message({ type: voteType, to: id, term, index, logTerm, context }));
    }
  }

  private poll(id: NodeId, granted: boolean) {
    if (!this.votes.has(id)) this.votes.set(id, granted);
    return voteResult(this.voters, this.votes);
  }

  private stepLeader(m: Message): boolean {
    switch (m.type) {
      case 'MsgBeat':
        this.bcastHeartbeat(this.readOnly.lastContext() ?? '');
        return true;
      case 'MsgCheckQuorum':
        if (!this.quorumActive()) {
          this.becomeFollower(this.term, None);
          return true;
        }
        for (const [id, pr] of this.progress) if (id !== this.id) pr.recentActive = false;
        return true;
      case 'MsgReadIndex':
        return this.handleReadIndex(m);
      case 'MsgTransferLeader':
        return this.handleTransferLeader(m);
      default:
    }

    const pr = this.progress.get(m.from);
    if (!pr) return false; // not (or no longer) a member
    switch (m.type) {
      case 'MsgAppResp':
        pr.recentActive = true;
        if (m.reject) {
          // The follower told us where its log might match: skip whole terms (fast back-off).
          let nextProbe = m.rejectHint;
          if (m.logTerm > 0) nextProbe = this.raftLog.findConflictByTerm(m.rejectHint, m.logTerm).index;
          if (pr.maybeDecrTo(m.index, nextProbe)) {
            if (pr.state === 'replicate') pr.becomeProbe();
            this.sendAppendAll(m.from);
          }
          return true;
        }
        {
          const wasPaused = pr.isPaused();
          if (!pr.maybeUpdate(m.index)) return true;
          if (pr.state === 'probe') pr.becomeReplicate();
          else if (pr.state === 'snapshot' && pr.match >= pr.pendingSnapshot) {
            pr.becomeProbe();
            pr.becomeReplicate();
          } else if (pr.state === 'replicate') pr.inflights.freeLE(m.index);

          if (this.maybeCommit()) {
            this.bcastAppend();
            this.afterCommit();
            if (this.state !== 'leader') return true;
          } else if (wasPaused) {
            // it may have missed the latest commit index while paused
            this.maybeSendAppend(m.from, true);
          }
          while (this.maybeSendAppend(m.from, false)) {
            // refill the window
          }
          if (m.from === this.leadTransferee && pr.match === this.raftLog.lastIndex()) this.sendTimeoutNow(m.from);
        }
        return true;
      case 'MsgHeartbeatResp': {
        pr.recentActive = true;
        pr.probeSent = false;
        // Free one slot of a full window so a lost MsgAppResp cannot stall replication.
        if (pr.state === 'replicate' && pr.inflights.full()) pr.inflights.freeFirstOne();
        if (pr.match < this.raftLog.lastIndex()) this.sendAppendAll(m.from);
        if (m.context === '') return true;
        const acks = this.readOnly.ack(m.from, m.context);
        if (!acks) return true;
        const votes = new Map<NodeId, boolean>();
        for (const id of acks) votes.set(id, true);
        if (voteResult(this.voters, votes) !== 'won') return true;
        for (const read of this.readOnly.advance(m.context)) this.respondToRead(read.request, read.index);
        return true;
      }
      case 'MsgSnapStatus':
        if (pr.state !== 'snapshot') return true;
        if (m.reject) pr.pendingSnapshot = 0;
        pr.becomeProbe();
        // Wait for the follower's answer (success) or a heartbeat (failure) before the next try.
        pr.probeSent = true;
        return true;
      case 'MsgUnreachable':
        // Optimistic appends were probably lost: fall back to probing.
        if (pr.state === 'replicate') pr.becomeProbe();
        return true;
      default:
        return false;
    }
  }

  private quorumActive(): boolean {
    const votes = new Map<NodeId, boolean>();
    for (const id of this.voters) {
      const pr = this.progress.get(id);
      votes.set(id, id === this.id || (pr?.recentActive ?? false));
    }
    return voteResult(this.voters, votes) === 'won';
  }

  protected handleReadIndex(m: Message): boolean {
    if (this.voters.size === 1 && this.voters.has(this.id)) {
      this.respondToRead(m, this.raftLog.committed);
      return true;
    }
    // Until an entry of our term commits, our commit index may be behind the cluster's.
    if (!this.committedEntryInCurrentTerm()) {
      if (this.pendingReadRequests.length >= this.readOnly.limit) return false;
      this.pendingReadRequests.push(m);
      return true;
    }
    if (!this.readOnly.add(this.raftLog.committed, m)) return false;
    this.readOnly.ack(this.id, m.context);
    this.bcastHeartbeat(m.context);
    return true;
  }

  protected respondToRead(request: Message, index: number): void {
    if (request.from === None || request.from === this.id) {
      this.readStates.push({ index, context: request.context });
    } else {
      this.send(message({ type: 'MsgReadIndexResp', to: request.from, index, context: request.context }));
    }
  }

  private handleTransferLeader(m: Message): boolean {
    const transferee = m.from;
    const pr = this.progress.get(transferee);
    if (!pr || pr.isLearner) return false;
    if (this.leadTransferee !== None) {
      if (this.leadTransferee === transferee) return true;
      this.abortLeaderTransfer();
    }
    if (transferee === this.id) return true;
    // The transfer must finish within an election timeout.
    this.electionElapsed = 0;
    this.leadTransferee = transferee;
    if (pr.match === this.raftLog.lastIndex()) this.sendTimeoutNow(transferee);
    else this.sendAppendAll(transferee);
    return true;
  }

  private stepCandidate(m: Message): boolean {
    const myResponse: MessageType = this.state === 'preCandidate' ? 'MsgPreVoteResp' : 'MsgVoteResp';
    switch (m.type) {
      case 'MsgApp':
        this.becomeFollower(m.term, m.from);
        this.handleAppendEntries(m);
        return true;
      case 'MsgHeartbeat':
        this.becomeFollower(m.term, m.from);
        this.handleHeartbeat(m);
        return true;
      case 'MsgSnap':
        this.becomeFollower(m.term, m.from);
        this.handleSnapshot(m);
        return true;
      case myResponse: {
        const result = this.poll(m.from, !m.reject);
        if (result === 'won') {
          if (this.state === 'preCandidate') this.campaign('election');
          else {
            this.becomeLeader();
            this.bcastAppend();
          }
        } else if (result === 'lost') {
          // A pre-vote response carries the future term: keep ours.
          this.becomeFollower(this.term, None);
        }
        return true;
      }
      default:
        return false;
    }
  }

  private stepFollower(m: Message): boolean {
    switch (m.type) {
      case 'MsgApp':
        this.electionElapsed = 0;
        this.lead = m.from;
        this.handleAppendEntries(m);
        return true;
      case 'MsgHeartbeat':
        this.electionElapsed = 0;
        this.lead = m.from;
        this.handleHeartbeat(m);
        return true;
      case 'MsgSnap':
        this.electionElapsed = 0;
        this.lead = m.from;
        this.handleSnapshot(m);
        return true;
      case 'MsgTransferLeader':
        if (this.lead === None) return false;
        // keeps `from`: the leader needs to know the transferee
        this.send(message({ type: 'MsgTransferLeader', to: this.lead, from: m.from }));
        return true;
      case 'MsgTimeoutNow':
        // Leadership transfer never uses pre-vote: the leader asked for this election.
        this.hup('transfer');
        return true;
      case 'MsgReadIndex':
        if (this.lead === None) return false;
        this.send(message({ type: 'MsgReadIndex', to: this.lead, from: m.from, context: m.context }));
        return true;
      case 'MsgReadIndexResp':
        this.readStates.push({ index: m.index, context: m.context });
        return true;
      default:
        return false;
    }
  }

  private handleAppendEntries(m: Message): void {
    if (m.index < this.raftLog.committed) {
      this.send(message({ type: 'MsgAppResp', to: m.from, index: this.raftLog.committed }));
      return;
    }
    const lastNew = this.raftLog.maybeAppend(m.index, m.logTerm, m.commit, m.entries);
    if (lastNew !== undefined) {
      this.forgetCommittedConfigs();
      this.send(message({ type: 'MsgAppResp', to: m.from, index: lastNew }));
      return;
    }
    // Tell the leader the last index that could match, and its term, so it can skip a term.
    const hint = this.raftLog.findConflictByTerm(Math.min(m.index, this.raftLog.lastIndex()), m.logTerm);
    this.send(message({ type: 'MsgAppResp', to: m.from, index: m.index, reject: true, rejectHint: hint.index, logTerm: hint.term }));
  }

  private handleHeartbeat(m: Message): void {
    this.commitTo(m.commit);
    this.send(message({ type: 'MsgHeartbeatResp', to: m.from, context: m.context }));
  }

  private handleSnapshot(m: Message): void {
    const snap = m.snapshot;
    if (snap === null) return;
    if (this.restore(snap)) {
      this.send(message({ type: 'MsgAppResp', to: m.from, index: this.raftLog.lastIndex() }));
    } else {
      this.send(message({ type: 'MsgAppResp', to: m.from, index: this.raftLog.committed }));
    }
  }

  /** Installs a snapshot from the leader; false if we already have what it holds. */
  private restore(s: Snapshot): boolean {
    if (s.metadata.index <= this.raftLog.committed) return false;
    if (this.raftLog.matchTerm(s.metadata.index, s.metadata.term)) {
      // We hold the snapshot's last entry: it is committed, no need to replace the log.
      this.commitTo(s.metadata.index);
      return false;
    }
    this.raftLog.restore(s);
    this.configs = [{ index: s.metadata.index, conf: cloneConfState(s.metadata.confState) }];
    this.applyConfigToTracker();
    return true;
  }

  // ---- driver hooks ---------------------------------------------------------------------

  status(): Status {
    const progress: Record<NodeId, ProgressStatus> = {};
    if (this.state === 'leader') {
      for (const [id, pr] of this.progress) {
        progress[id] = { match: pr.match, next: pr.next, state: pr.state, isLearner: pr.isLearner, recentActive: pr.recentActive };
      }
    }
    return {
      id: this.id,
      term: this.term,
      vote: this.vote,
      commit: this.raftLog.committed,
      applied: this.raftLog.applied,
      lead: this.lead,
      state: this.state,
      leadTransferee: this.leadTransferee,
      lastIndex: this.raftLog.lastIndex(),
      conf: cloneConfState(this.currentConf()),
      progress,
    };
  }
}
