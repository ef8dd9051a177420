// Deterministic simulation of a Raft cluster built from the real core: a simulated network and
// clock driven by one seeded PRNG, with loss, duplication, reordering, delay, partitions
// (symmetric and one-way), crashes with restart from persisted state, membership changes,
// leadership transfers, snapshots and reads. Invariants are checked after every step; a
// liveness phase then heals everything and requires progress within a bound.
import type { ConfState, Entry, HardState, Message, NodeId, Raft, RaftConfig, Ready, Snapshot } from '../../src/raft/index.ts';
import { MemoryStorage, RawNode, applyConfChange, bootstrapLog, cloneConfState, decodeConfChange } from '../../src/raft/index.ts';
import { Prng } from './prng.ts';

export type RaftFactory = (config: RaftConfig) => Raft;

export interface SimParams {
  voters: number;
  electionTicks: number;
  heartbeatTicks: number;
  preVote: boolean;
  checkQuorum: boolean;
  lossRate: number;
  duplicateRate: number;
  delayTicksMax: number;
  crashRate: number;
  /** Crashes at the protocol's delicate moments: just elected, or just committed. */
  criticalCrashRate: number;
  restartRate: number;
  partitionRate: number;
  healRate: number;
  membershipRate: number;
  transferRate: number;
  proposeRate: number;
  readRate: number;
  tickSkipRate: number;
  snapshotEntries: number;
  maxSizePerMsg: number;
  maxInflightMsgs: number;
  safetySteps: number;
  livenessTicksMax: number;
}

export interface SimOptions {
  seed: number;
  /** Build the core for each node: tests substitute a deliberately broken one. */
  raftFactory?: RaftFactory;
  trace?: boolean;
  /** Overrides the drawn number of safety steps. */
  safetySteps?: number;
}

export interface SimStats {
  committedEntries: number;
  leadersElected: number;
  crashes: number;
  partitions: number;
  membershipChanges: number;
  snapshotsSent: number;
  readsServed: number;
  messagesDelivered: number;
  livenessTicks: number;
}

export interface SimResult {
  seed: number;
  params: SimParams;
  violation: string | null;
  stats: SimStats;
  trace: string[];
}

class Violation extends Error {}

const encoder = new TextEncoder();
const decoder = new TextDecoder();
/** Entry payloads are shared by reference between simulated nodes: decode each once. */
const payloadKeys = new WeakMap<Uint8Array, string>();

function payloadKey(e: Entry): string {
  if (e.data.byteLength === 0) return e.type === 'conf' ? 'conf:' : '';
  let key = payloadKeys.get(e.data);
  if (key === undefined) {
    key = (e.type === 'conf' ? 'conf:' : '') + decoder.decode(e.data);
    payloadKeys.set(e.data, key);
  }
  return key;
}

function fnv(hash: number, text: string): number {
  let h = hash >>> 0;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 16777619) >>> 0;
  return h;
}

function drawParams(rng: Prng): SimParams {
  const electionTicks = rng.range(6, 12);
  const calm = rng.chance(0.15); // some runs without faults, to cover the happy path well
  return {
    voters: rng.pick([1, 3, 3, 3, 5, 5]),
    electionTicks,
    heartbeatTicks: rng.range(1, Math.max(1, Math.floor(electionTicks / 3))),
    preVote: rng.chance(0.8),
    checkQuorum: rng.chance(0.8),
    lossRate: calm ? 0 : rng.pick([0, 0.01, 0.05, 0.1, 0.2, 0.3]),
    duplicateRate: calm ? 0 : rng.pick([0, 0.01, 0.05, 0.1]),
    delayTicksMax: rng.pick([0, 1, 2, 4, 8]),
    crashRate: calm ? 0 : rng.pick([0, 0.005, 0.01, 0.03]),
    criticalCrashRate: calm ? 0 : rng.pick([0, 0, 0.02, 0.1, 0.3]),
    restartRate: rng.pick([0.02, 0.1, 0.3]),
    partitionRate: calm ? 0 : rng.pick([0, 0.005, 0.01, 0.03]),
    healRate: rng.pick([0.02, 0.05, 0.2]),
    membershipRate: rng.pick([0, 0.005, 0.02, 0.05]),
    transferRate: rng.pick([0, 0.005, 0.02]),
    proposeRate: rng.pick([0.05, 0.2, 0.5, 1]),
    readRate: rng.pick([0, 0.05, 0.2]),
    tickSkipRate: rng.pick([0, 0.02, 0.1]),
    snapshotEntries: rng.pick([3, 10, 30, 1000]),
    maxSizePerMsg: rng.pick([1, 64, 256, 4096]),
    maxInflightMsgs: rng.pick([1, 2, 8, 64]),
    safetySteps: rng.range(250, 450),
    livenessTicksMax: 0, // set below from electionTicks
  };
}

interface AppState {
  applied: number;
  hash: number;
  conf: ConfState;
}

interface SimNode {
  id: NodeId;
  storage: MemoryStorage;
  raw: RawNode | null; // null while crashed or after removal
  removed: boolean;
  app: AppState;
  /** Highest term and the vote in it ever persisted: they must never go backwards. */
  durableTerm: number;
  durableVote: NodeId;
}

interface Flight {
  deliverAt: number;
  m: Message;
  lost: boolean;
}

interface PendingRead {
  node: NodeId;
  /** Every write acknowledged before the read was issued has an index <= this. */
  minIndex: number;
}

export class Simulation {
  readonly seed: number;
  readonly params: SimParams;
  private readonly rng: Prng;
  private readonly raftFactory: RaftFactory | undefined;
  private readonly tracing: boolean;
  readonly trace: string[] = [];
  readonly stats: SimStats = {
    committedEntries: 0,
    leadersElected: 0,
    crashes: 0,
    partitions: 0,
    membershipChanges: 0,
    snapshotsSent: 0,
    readsServed: 0,
    messagesDelivered: 0,
    livenessTicks: 0,
  };

  private readonly nodes = new Map<NodeId, SimNode>();
  private nextNodeNumber = 1;
  private now = 0;
  private flights: Flight[] = [];
  /** Directed links that drop everything: "a>b". */
  private readonly blocked = new Set<string>();
  private lossRate: number;
  private duplicateRate: number;
  /** Off in the liveness phase. */
  private crashing = true;
  private delayTicksMax: number;

  // what the checks remember
  private readonly leaderOfTerm = new Map<number, NodeId>();
  private readonly committedTerm: number[] = [0];
  private readonly committedKey: string[] = [''];
  private readonly hashAt: number[] = [0];
  private readonly logIdentity = new Map<string, string>();
  private readonly reads = new Map<string, PendingRead>();
  /** Reads already answered: a duplicated response may answer one twice. */
  private readonly answeredReads = new Set<string>();
  private proposalCount = 0;
  private readCount = 0;

  constructor(options: SimOptions) {
    this.seed = options.seed;
    this.rng = new Prng(options.seed);
    this.params = drawParams(this.rng);
    this.params.livenessTicksMax = 60 * this.params.electionTicks;
    if (options.safetySteps !== undefined) this.params.safetySteps = options.safetySteps;
    this.raftFactory = options.raftFactory;
    this.tracing = options.trace ?? false;
    this.lossRate = this.params.lossRate;
    this.duplicateRate = this.params.duplicateRate;
    this.delayTicksMax = this.params.delayTicksMax;

    const voters: NodeId[] = [];
    for (let i = 0; i < this.params.voters; i++) voters.push(this.newNodeId());
    const boot = bootstrapLog(voters.map((node) => ({ node, context: '' })));
    for (const id of voters) this.addNode(id, boot);
  }

  private log(text: string): void {
    if (this.tracing) this.trace.push(`t=${this.now} ${text}`);
  }

  private fail(text: string): never {
    this.log(`VIOLATION ${text}`);
    throw new Violation(text);
  }

  private newNodeId(): NodeId {
    return `n${this.nextNodeNumber++}`;
  }

  /** A founding member gets the bootstrap log; a joining one starts empty. */
  private addNode(id: NodeId, boot?: { entries: Entry[]; hardState: HardState }): SimNode {
    const storage = new MemoryStorage();
    if (boot) {
      storage.append(boot.entries);
      storage.setHardState(boot.hardState);
    }
    const node: SimNode = {
      id,
      storage,
      raw: null,
      removed: false,
      app: { applied: 0, hash: 0, conf: { voters: [], learners: [] } },
      durableTerm: boot?.hardState.term ?? 0,
      durableVote: '',
    };
    this.nodes.set(id, node);
    this.start(node);
    return node;
  }

  /** (Re)starts a node from what it persisted; the state machine restarts from the snapshot. */
  private start(node: SimNode): void {
    const snap = node.storage.snapshot();
    node.app = this.appFromSnapshot(snap);
    const config: RaftConfig = {
      id: node.id,
      storage: node.storage,
      applied: snap.metadata.index,
      electionTicks: this.params.electionTicks,
      heartbeatTicks: this.params.heartbeatTicks,
      preVote: this.params.preVote,
      checkQuorum: this.params.checkQuorum,
      maxSizePerMsg: this.params.maxSizePerMsg,
      maxInflightMsgs: this.params.maxInflightMsgs,
      maxUncommittedEntriesSize: 2048,
      maxCommittedSizePerReady: this.rng.pick([1, 512, 1 << 20]),
      random: (n) => this.rng.int(n),
    };
    node.raw = new RawNode(config, this.raftFactory?.(config));
  }

  private appFromSnapshot(snap: Snapshot): AppState {
    const { index } = snap.metadata;
    let hash = 0;
    if (snap.data.byteLength > 0) {
      const parsed = JSON.parse(decoder.decode(snap.data)) as { hash: number };
      hash = parsed.hash;
    }
    return { applied: index, hash, conf: cloneConfState(snap.metadata.confState) };
  }

  private liveNodes(): SimNode[] {
    const out: SimNode[] = [];
    for (const n of this.nodes.values()) if (n.raw) out.push(n);
    return out;
  }

  private leaders(): SimNode[] {
    return this.liveNodes().filter((n) => n.raw!.raft.state === 'leader');
  }

  /** The leader with the highest term, if any. */
  private currentLeader(): SimNode | undefined {
    let best: SimNode | undefined;
    for (const n of this.leaders()) if (!best || n.raw!.raft.term > best.raw!.raft.term) best = n;
    return best;
  }

  // ---- running ----------------------------------------------------------------------------

  run(): SimResult {
    let violation: string | null = null;
    try {
      this.processAll();
      for (let step = 0; step < this.params.safetySteps; step++) this.safetyStep();
      this.liveness();
    } catch (err) {
      if (err instanceof Violation) violation = err.message;
      else violation = `crash: ${(err as Error).stack ?? String(err)}`;
    }
    return { seed: this.seed, params: this.params, violation, stats: this.stats, trace: this.trace };
  }

  private safetyStep(): void {
    this.now++;
    const p = this.params;
    if (this.rng.chance(p.crashRate)) this.crashSomeone();
    if (this.rng.chance(p.restartRate)) this.restartSomeone();
    if (this.rng.chance(p.partitionRate)) this.partition();
    if (this.blocked.size > 0 && this.rng.chance(p.healRate)) this.heal();
    if (this.rng.chance(p.membershipRate)) this.changeMembership();
    if (this.rng.chance(p.transferRate)) this.transferLeadership();
    if (this.rng.chance(p.proposeRate)) this.proposeSomewhere();
    if (this.rng.chance(p.readRate)) this.readSomewhere();
    this.tickAll(p.tickSkipRate);
    this.deliver();
    this.checkStep();
  }

  private liveness(): void {
    // Heal the world: no partitions or loss, everyone back, removed members stopped for good.
    this.heal();
    this.crashing = false;
    this.lossRate = 0;
    this.duplicateRate = 0;
    this.delayTicksMax = Math.min(this.delayTicksMax, 2);
    for (const n of this.nodes.values()) if (!n.raw && !n.removed) this.restart(n);
    this.processAll();
    const goal = `live-${this.seed}`;
    let proposedAt: { leader: NodeId; term: number; index: number } | null = null;
    for (let t = 0; t < this.params.livenessTicksMax; t++) {
      this.now++;
      this.stats.livenessTicks = t + 1;
      this.stopRemovedMembers();
      const leader = this.currentLeader();
      if (leader && (!proposedAt || proposedAt.term !== leader.raw!.raft.term || proposedAt.leader !== leader.id)) {
        const r = leader.raw!.propose(encoder.encode(`${goal}-${t}`));
        if (r.ok) proposedAt = { leader: leader.id, term: r.term, index: r.index };
        this.process(leader);
      }
      this.tickAll(0);
      this.deliver();
      this.checkStep();
      if (proposedAt && this.livenessReached(proposedAt.index, proposedAt.term)) {
        this.log(`liveness reached after ${t + 1} ticks`);
        return;
      }
    }
    const states = this.liveNodes()
      .map((n) => `${n.id}:${n.raw!.raft.state}@${n.raw!.raft.term} commit=${n.raw!.raft.raftLog.committed} conf=${JSON.stringify(n.raw!.raft.currentConf())}`)
      .join(' ');
    this.fail(`liveness: no leader committed a new entry within ${this.params.livenessTicksMax} ticks after healing (${states})`);
  }

  /** The entry (index, term) is applied by every running voter of its leader's configuration. */
  private livenessReached(index: number, term: number): boolean {
    if (this.committedTerm[index] !== term) return false;
    const leader = this.currentLeader();
    if (!leader) return false;
    for (const id of leader.raw!.raft.currentConf().voters) {
      const n = this.nodes.get(id);
      if (n?.raw && n.app.applied < index) return false;
    }
    return true;
  }

  private stopRemovedMembers(): void {
    // Once the leader has committed a configuration without a member, an operator stops that
    // member (without pre-vote, a removed member that does not know it keeps calling
    // elections at ever higher terms; Raft promises no progress then).
    const leader = this.currentLeader();
    if (!leader || leader.raw!.raft.pendingConfIndex() > 0) return;
    const conf = leader.raw!.raft.currentConf();
    for (const n of this.nodes.values()) {
      if (n.removed || conf.voters.includes(n.id) || conf.learners.includes(n.id)) continue;
      n.removed = true;
      n.raw = null;
      this.log(`${n.id} stopped: removed from the cluster`);
    }
  }

  private tickAll(skipRate: number): void {
    for (const n of this.liveNodes()) {
      if (skipRate > 0 && this.rng.chance(skipRate)) continue;
      n.raw!.tick();
    }
    this.processAll();
  }

  // ---- faults and requests ------------------------------------------------------------------

  private crashSomeone(): void {
    const live = this.liveNodes();
    if (live.length === 0) return;
    // Leaders are where the protocol is most delicate: target them half the time.
    const leader = this.currentLeader();
    const n = leader && this.rng.chance(0.5) ? leader : this.rng.pick(live);
    n.raw = null;
    this.stats.crashes++;
    this.log(`${n.id} crashed`);
  }

  private restartSomeone(): void {
    const down = [...this.nodes.values()].filter((n) => !n.raw && !n.removed);
    if (down.length > 0) this.restart(this.rng.pick(down));
  }

  private restart(n: SimNode): void {
    this.start(n);
    const hs = n.storage.initialState().hardState;
    if (hs.commit > n.storage.lastIndex()) this.fail(`${n.id} restarted with commit ${hs.commit} beyond its last index ${n.storage.lastIndex()}`);
    this.log(`${n.id} restarted (term ${hs.term}, commit ${hs.commit}, last ${n.storage.lastIndex()})`);
    this.process(n);
  }

  private partition(): void {
    const ids = [...this.nodes.keys()];
    const kind = this.rng.int(3);
    this.blocked.clear();
    if (kind === 0) {
      const leader = this.currentLeader();
      const lone = leader && this.rng.chance(0.5) ? leader.id : this.rng.pick(ids);
      for (const other of ids) if (other !== lone) this.blocked.add(`${lone}>${other}`).add(`${other}>${lone}`);
      this.log(`partition: ${lone} isolated`);
    } else if (kind === 1) {
      const side = new Set(ids.filter(() => this.rng.chance(0.5)));
      for (const a of ids) for (const b of ids) if (side.has(a) !== side.has(b)) this.blocked.add(`${a}>${b}`);
      this.log(`partition: {${[...side].join(',')}} | rest`);
    } else {
      const a = this.rng.pick(ids);
      const b = this.rng.pick(ids);
      if (a !== b) this.blocked.add(`${a}>${b}`);
      this.log(`partition: one-way ${a} -> ${b}`);
    }
    this.stats.partitions++;
  }

  private heal(): void {
    if (this.blocked.size > 0) this.log('partitions healed');
    this.blocked.clear();
  }

  private changeMembership(): void {
    const leader = this.currentLeader();
    if (!leader) return;
    const conf = leader.raw!.raft.currentConf();
    const choice = this.rng.int(3);
    if (choice === 0 && this.nodes.size < 9) {
      const id = this.newNodeId();
      const r = leader.raw!.proposeConfChange({ type: 'addLearner', node: id, context: '' });
      this.log(`${leader.id} proposes addLearner ${id}: ${r.ok ? `index ${r.index}` : r.reason}`);
      if (r.ok) {
        this.addNode(id);
        this.stats.membershipChanges++;
      }
      this.process(leader);
    } else if (choice === 1 && conf.learners.length > 0) {
      const id = this.rng.pick(conf.learners);
      const r = leader.raw!.proposeConfChange({ type: 'promote', node: id, context: '' });
      this.log(`${leader.id} proposes promote ${id}: ${r.ok ? `index ${r.index}` : r.reason}`);
      if (r.ok) this.stats.membershipChanges++;
      this.process(leader);
    } else if (choice === 2) {
      const members = [...conf.voters, ...conf.learners];
      // Keep at least three voters' worth of cluster most of the time.
      if (conf.voters.length <= 2 && this.rng.chance(0.8)) return;
      const id = this.rng.pick(members);
      const r = leader.raw!.proposeConfChange({ type: 'remove', node: id, context: '' });
      this.log(`${leader.id} proposes remove ${id}: ${r.ok ? `index ${r.index}` : r.reason}`);
      if (r.ok) this.stats.membershipChanges++;
      this.process(leader);
    }
  }

  private transferLeadership(): void {
    const leader = this.currentLeader();
    if (!leader) return;
    const voters = leader.raw!.raft.currentConf().voters;
    const to = this.rng.pick(voters);
    leader.raw!.transferLeadership(to);
    this.log(`${leader.id} transfers leadership to ${to}`);
    this.process(leader);
  }

  private proposeSomewhere(): void {
    // Mostly at a leader, sometimes at anyone (which must refuse unless it leads).
    const leaders = this.leaders();
    const live = this.liveNodes();
    if (live.length === 0) return;
    const n = leaders.length > 0 && this.rng.chance(0.9) ? this.rng.pick(leaders) : this.rng.pick(live);
    const id = `p${++this.proposalCount}`;
    const r = n.raw!.propose(encoder.encode(id));
    if (this.tracing) this.log(`${n.id} propose ${id}: ${r.ok ? `index ${r.index} term ${r.term}` : r.reason}`);
    this.process(n);
  }

  private readSomewhere(): void {
    const live = this.liveNodes();
    if (live.length === 0) return;
    const n = this.rng.pick(live);
    const context = `r${++this.readCount}`;
    this.reads.set(context, { node: n.id, minIndex: this.committedTerm.length - 1 });
    n.raw!.readIndex(context);
    this.process(n);
  }

  // ---- the network --------------------------------------------------------------------------

  private sendAll(msgs: Message[]): void {
    for (const m of msgs) {
      const lost = this.lossRate > 0 && this.rng.chance(this.lossRate);
      this.flights.push({ deliverAt: this.now + this.rng.int(this.delayTicksMax + 1), m, lost });
      if (!lost && this.duplicateRate > 0 && this.rng.chance(this.duplicateRate)) {
        this.flights.push({ deliverAt: this.now + this.rng.int(this.delayTicksMax + 2), m: { ...m }, lost: false });
      }
    }
  }

  private deliver(): void {
    // Several passes, so replies with no delay still arrive within the same tick.
    for (let pass = 0; pass < 3; pass++) {
      const due: Flight[] = [];
      const later: Flight[] = [];
      for (const f of this.flights) (f.deliverAt <= this.now ? due : later).push(f);
      if (due.length === 0) return;
      this.flights = later;
      this.rng.shuffle(due);
      for (const f of due) this.deliverOne(f);
      this.processAll();
    }
  }

  private deliverOne(f: Flight): void {
    const { m } = f;
    const to = this.nodes.get(m.to);
    const from = this.nodes.get(m.from);
    const dropped = f.lost || !to?.raw || this.blocked.has(`${m.from}>${m.to}`);
    if (dropped) {
      // What a real transport would notice and tell the sender.
      if (from?.raw) {
        if (m.type === 'MsgSnap') from.raw.reportSnapshot(m.to, false);
        else if (this.blocked.has(`${m.from}>${m.to}`) && this.rng.chance(0.3)) from.raw.reportUnreachable(m.to);
      }
      return;
    }
    this.stats.messagesDelivered++;
    to.raw!.step(m);
    if (m.type === 'MsgSnap') {
      this.stats.snapshotsSent++;
      from?.raw?.reportSnapshot(m.to, true);
    }
  }

  // ---- the driver: persist, check, send, apply, advance ---------------------------------------

  private processAll(): void {
    for (let round = 0; round < 4; round++) {
      let any = false;
      for (const n of this.nodes.values()) {
        if (n.raw && n.raw.hasReady()) {
          this.process(n);
          any = true;
        }
      }
      if (!any) return;
    }
  }

  private process(n: SimNode): void {
    for (let i = 0; i < 8 && n.raw && n.raw.hasReady(); i++) this.handleReady(n, n.raw.ready());
  }

  private handleReady(n: SimNode, rd: Ready): void {
    const raw = n.raw!;
    // 1. persist
    if (rd.snapshot) {
      n.storage.applySnapshot(rd.snapshot);
      n.app = this.appFromSnapshot(rd.snapshot);
      this.checkSnapshot(n, rd.snapshot);
      this.log(`${n.id} installed snapshot at ${rd.snapshot.metadata.index}`);
    }
    if (rd.entries.length > 0) {
      n.storage.append(rd.entries);
      this.checkLogMatching(n, rd.entries);
    }
    if (rd.hardState) {
      this.checkDurableState(n, rd.hardState.term, rd.hardState.vote);
      n.storage.setHardState(rd.hardState);
    }
    const elected = rd.softState?.state === 'leader';
    if (elected) this.checkNewLeader(n);
    // 2. send (after a crash at a critical point below, nothing is sent)
    // 3. apply
    for (const e of rd.committedEntries) this.apply(n, e);
    for (const rs of rd.readStates) this.checkRead(n, rs.index, rs.context);
    const critical = elected || (raw.raft.state === 'leader' && rd.committedEntries.length > 0);
    if (critical && this.crashing && this.rng.chance(this.params.criticalCrashRate)) {
      n.raw = null;
      this.stats.crashes++;
      this.log(`${n.id} crashed right after ${elected ? 'winning an election' : `committing up to ${raw.raft.raftLog.committed}`}`);
      return;
    }
    this.sendAll(rd.messages);
    raw.advance(rd);
    this.maybeSnapshot(n);
  }

  private apply(n: SimNode, e: Entry): void {
    if (e.index !== n.app.applied + 1) this.fail(`${n.id} applied index ${e.index} after ${n.app.applied}`);
    const key = payloadKey(e);
    n.app.applied = e.index;
    n.app.hash = fnv(n.app.hash, `${e.index}/${e.term}/${key};`);
    if (e.type === 'conf') {
      const cc = decodeConfChange(e.data);
      if (cc) n.app.conf = applyConfChange(n.app.conf, cc);
    }
    if (e.index < this.committedTerm.length) {
      // state-machine safety: nobody applies something else at this index
      if (this.committedTerm[e.index] !== e.term || this.committedKey[e.index] !== key) {
        this.fail(
          `state machine safety: ${n.id} applied ${e.index}/${e.term} "${key}" but ${e.index}/${this.committedTerm[e.index]} "${this.committedKey[e.index]}" was applied before`,
        );
      }
      if (this.hashAt[e.index] !== n.app.hash) this.fail(`state machine safety: ${n.id}'s state after ${e.index} differs from another member's`);
    } else {
      if (e.index !== this.committedTerm.length) this.fail(`${n.id} applied ${e.index} with a gap in the committed log`);
      this.committedTerm.push(e.term);
      this.committedKey.push(key);
      this.hashAt.push(n.app.hash);
      this.stats.committedEntries++;
      if (this.tracing) this.log(`committed ${e.index}/${e.term} "${key}" (first applied by ${n.id})`);
    }
  }

  private maybeSnapshot(n: SimNode): void {
    const snapIndex = n.storage.snapshot().metadata.index;
    if (n.app.applied - snapIndex < this.params.snapshotEntries) return;
    const data = encoder.encode(JSON.stringify({ hash: n.app.hash }));
    n.storage.createSnapshot(n.app.applied, n.app.conf, data);
    // Keep a few entries behind the snapshot sometimes, so followers can catch up from the log.
    n.storage.compact(Math.max(snapIndex, n.app.applied - this.rng.int(4)));
  }

  // ---- invariants -----------------------------------------------------------------------------

  /** Log matching: an (index, term) names one entry, with one predecessor, in every log. */
  private checkLogMatching(n: SimNode, entries: Entry[]): void {
    for (const e of entries) {
      const prevTerm = n.storage.term(e.index - 1) ?? -1;
      const identity = `${payloadKey(e)}|${prevTerm}`;
      const id = `${e.index}/${e.term}`;
      const known = this.logIdentity.get(id);
      if (known === undefined) this.logIdentity.set(id, identity);
      else if (known !== identity && prevTerm !== -1 && !known.endsWith('|-1')) {
        this.fail(`log matching: entry ${id} on ${n.id} is "${identity}", elsewhere "${known}"`);
      }
    }
  }

  private checkSnapshot(n: SimNode, snap: Snapshot): void {
    const { index, term } = snap.metadata;
    if (index < this.committedTerm.length && this.committedTerm[index] !== term) {
      this.fail(`snapshot at ${index} on ${n.id} has term ${term}; the committed entry has term ${this.committedTerm[index]}`);
    }
    if (index < this.hashAt.length && this.hashAt[index] !== n.app.hash) this.fail(`snapshot at ${index} installed on ${n.id} holds a different state`);
  }

  private checkDurableState(n: SimNode, term: number, vote: NodeId): void {
    if (term < n.durableTerm) this.fail(`${n.id} persisted term ${term} after ${n.durableTerm}`);
    if (term === n.durableTerm && n.durableVote !== '' && vote !== n.durableVote) {
      this.fail(`${n.id} changed its vote in term ${term} from ${n.durableVote} to ${vote}`);
    }
    n.durableTerm = term;
    n.durableVote = vote;
  }

  /** Election safety and leader completeness. */
  private checkNewLeader(n: SimNode): void {
    const raft = n.raw!.raft;
    const term = raft.term;
    const other = this.leaderOfTerm.get(term);
    if (other !== undefined && other !== n.id) this.fail(`election safety: ${other} and ${n.id} both lead term ${term}`);
    if (other === undefined) {
      this.leaderOfTerm.set(term, n.id);
      this.stats.leadersElected++;
      this.log(`${n.id} leads term ${term}`);
    }
    const log = raft.raftLog;
    for (let i = Math.max(1, log.firstIndex()); i < this.committedTerm.length; i++) {
      const t = log.term(i);
      if (t !== this.committedTerm[i]) this.fail(`leader completeness: leader ${n.id} of term ${term} has ${t === undefined ? 'no entry' : `term ${t}`} at committed index ${i} (term ${this.committedTerm[i]})`);
    }
  }

  private checkRead(n: SimNode, index: number, context: string): void {
    if (this.answeredReads.has(context)) return;
    const read = this.reads.get(context);
    if (!read) this.fail(`${n.id} answered read ${context} that nobody asked for`);
    this.reads.delete(context);
    this.answeredReads.add(context);
    if (read.node !== n.id) this.fail(`read ${context} asked at ${read.node} was answered at ${n.id}`);
    if (index < read.minIndex) this.fail(`linearizable read: ${context} got read index ${index}, but ${read.minIndex} was committed before it was asked`);
    this.stats.readsServed++;
  }

  private checkStep(): void {
    for (const n of this.liveNodes()) {
      const raft = n.raw!.raft;
      if (raft.state === 'leader') {
        const holder = this.leaderOfTerm.get(raft.term);
        if (holder !== n.id) this.fail(`election safety: ${n.id} leads term ${raft.term}, recorded leader is ${holder ?? 'none'}`);
      }
      if (raft.raftLog.committed > raft.raftLog.lastIndex()) this.fail(`${n.id} commit ${raft.raftLog.committed} beyond its log`);
    }
  }
}

export function runSeed(options: SimOptions): SimResult {
  return new Simulation(options).run();
}

export function describeParams(p: SimParams): string {
  return Object.entries(p)
    .map(([k, v]) => `${k}=${v}`)
    .join(' ');
}
