// Drives the pure Raft core in a Node.js process: a tick timer, and after every burst of input
// one Ready cycle — persist and apply in one durable write (group commit), then send, then
// wake whoever waits for a proposal or a read. Synchronous storage (better-sqlite3 or memory)
// keeps each cycle a single uninterrupted turn of the event loop.
import type { ConfChange, Entry, Message, NodeId, RawNode, Ready, SoftState } from '../raft/index.ts';

/** Persists a Ready's log state and applies its committed entries, as one transaction.
 *  Returns one result per committed entry (what the proposer is answered with). */
export interface ReadyStore<Result> {
  commitReady(rd: Ready): Result[];
  /** Makes what commitReady wrote durable (fsync), without blocking the event loop. */
  sync(): Promise<void>;
}

/** Messages a leader may send before its own log write is durable (Raft thesis §10.2.1): it
 *  counts itself toward a commit only in a later Ready, after this one's sync. Everything that
 *  promises durability (acknowledgements, votes) waits for the sync. */
function sendableBeforeSync(m: Message): boolean {
  return m.type === 'MsgApp' || m.type === 'MsgSnap';
}

export interface Transport {
  send(messages: Message[]): void;
}

export interface Timers {
  setInterval(fn: () => void, ms: number): unknown;
  clearInterval(handle: unknown): void;
}

export const realTimers: Timers = {
  setInterval: (fn, ms) => setInterval(fn, ms),
  clearInterval: (h) => clearInterval(h as NodeJS.Timeout),
};

/** An expected refusal: the caller may retry (elsewhere, or later). */
export class ProposalError extends Error {
  constructor(
    readonly code: 'E_NOT_LEADER' | 'E_PROPOSAL_DROPPED' | 'E_PROPOSAL_LOST' | 'E_STOPPED' | 'E_TIMEOUT',
    message: string,
  ) {
    super(message);
    this.name = 'ProposalError';
  }
}

interface Waiter<Result> {
  term: number;
  resolve: (r: Result) => void;
  reject: (e: Error) => void;
}

interface ReadWaiter {
  resolve: (index: number) => void;
  reject: (e: Error) => void;
}

/** Reads that share one ReadIndex round (one heartbeat to a quorum serves them all). */
interface ReadBatch {
  waiters: ReadWaiter[];
  /** Known once the read state arrives; the reads complete when applied reaches it. */
  index: number | null;
  issuedAt: number;
}

/** A ReadIndex round that got no answer this long is asked again (its messages were lost). */
const READ_RETRY_MILLIS = 1000;
/** ReadIndex rounds in flight at once: reads that arrive meanwhile share the next round
 *  (coalescing, as etcd does). More rounds in flight measured slower here. */
const READ_ROUNDS_MAX = 1;

export interface DriverEvents {
  /** Leader or role changed. */
  onSoftState?(soft: SoftState, term: number): void;
  onApplied?(entries: Entry[]): void;
}

export interface DriverOptions<Result> {
  raw: RawNode;
  store: ReadyStore<Result>;
  transport: Transport;
  tickMillis: number;
  timers?: Timers;
  events?: DriverEvents;
  /** Waiting reads and proposals at most; beyond, new ones are refused (backpressure). */
  waitersMax?: number;
  /** The store failed to persist (disk full, I/O error): stop this member. */
  onFatal?: (err: unknown) => void;
}

export class RaftDriver<Result> {
  readonly raw: RawNode;
  private readonly store: ReadyStore<Result>;
  private readonly transport: Transport;
  private readonly timers: Timers;
  private readonly tickMillis: number;
  private readonly events: DriverEvents;
  private readonly waitersMax: number;
  private ticker: unknown = null;
  private scheduled = false;
  private cycling = false;
  private stopped = false;
  private readonly onFatal: (err: unknown) => void;
  private readonly proposals = new Map<number, Waiter<Result>>();
  private readonly reads = new Map<string, ReadBatch>();
  /** Reads waiting for a round of their own. */
  private queuedReads: ReadWaiter[] = [];
  private readSequence = 0;
  appliedIndex: number;

  constructor(options: DriverOptions<Result>) {
    this.raw = options.raw;
    this.store = options.store;
    this.transport = options.transport;
    this.timers = options.timers ?? realTimers;
    this.tickMillis = options.tickMillis;
    this.events = options.events ?? {};
    this.waitersMax = options.waitersMax ?? 100_000;
    this.onFatal =
      options.onFatal ??
      ((err) => {
        throw err;
      });
    this.appliedIndex = this.raw.raft.raftLog.applied;
  }

  start(): void {
    this.ticker = this.timers.setInterval(() => {
      this.raw.tick();
      this.retryStaleReads();
      this.processReady();
    }, this.tickMillis);
    this.processReady();
  }

  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    if (this.ticker !== null) this.timers.clearInterval(this.ticker);
    const stopped = new ProposalError('E_STOPPED', 'this member is shutting down');
    for (const w of this.proposals.values()) w.reject(stopped);
    for (const batch of this.reads.values()) for (const r of batch.waiters) r.reject(stopped);
    for (const r of this.queuedReads) r.reject(stopped);
    this.queuedReads = [];
    this.proposals.clear();
    this.reads.clear();
  }

  get isLeader(): boolean {
    return this.raw.raft.state === 'leader';
  }

  get leader(): NodeId {
    return this.raw.raft.lead;
  }

  /** A message from a peer. */
  step(m: Message): void {
    if (this.stopped) return;
    this.raw.step(m);
    this.schedule();
  }

  /** Proposes `data`; resolves with its apply result once committed and applied here. */
  propose(data: Uint8Array): Promise<Result> {
    return this.wait(() => this.raw.propose(data));
  }

  proposeConfChange(cc: ConfChange): Promise<Result> {
    return this.wait(() => this.raw.proposeConfChange(cc));
  }

  private wait(propose: () => ReturnType<RawNode['propose']>): Promise<Result> {
    if (this.stopped) return Promise.reject(new ProposalError('E_STOPPED', 'this member is shutting down'));
    if (this.proposals.size >= this.waitersMax) return Promise.reject(new ProposalError('E_PROPOSAL_DROPPED', 'too many proposals in flight; retry shortly'));
    const r = propose();
    if (!r.ok) {
      const code = r.reason === 'not the leader' ? 'E_NOT_LEADER' : 'E_PROPOSAL_DROPPED';
      return Promise.reject(new ProposalError(code, r.reason));
    }
    this.schedule();
    return new Promise((resolve, reject) => this.proposals.set(r.index, { term: r.term, resolve, reject }));
  }

  /** A linearizable read point: resolves once this member has applied everything committed
   *  before the call (ReadIndex), so local state may then be read. */
  readIndex(): Promise<number> {
    if (this.stopped) return Promise.reject(new ProposalError('E_STOPPED', 'this member is shutting down'));
    if (this.queuedReads.length >= this.waitersMax) return Promise.reject(new ProposalError('E_PROPOSAL_DROPPED', 'too many reads in flight; retry shortly'));
    return new Promise((resolve, reject) => {
      this.queuedReads.push({ resolve, reject });
      this.issueReads();
    });
  }

  /** Starts a ReadIndex round for every queued read, unless enough rounds are unanswered. */
  private issueReads(): void {
    if (this.queuedReads.length === 0) return;
    let unanswered = 0;
    for (const batch of this.reads.values()) if (batch.index === null) unanswered++;
    if (unanswered >= READ_ROUNDS_MAX) return;
    const context = `r${++this.readSequence}`;
    const waiters = this.queuedReads;
    this.queuedReads = [];
    if (!this.raw.readIndex(context)) {
      const err = new ProposalError('E_NOT_LEADER', 'no leader is known; cannot serve a linearizable read');
      for (const w of waiters) w.reject(err);
      return;
    }
    this.reads.set(context, { waiters, index: null, issuedAt: Date.now() });
    this.schedule();
  }

  /** A round whose answer was lost: its reads join a fresh round (their callers' deadlines
   *  still bound the wait). */
  private retryStaleReads(): void {
    const now = Date.now();
    for (const [context, batch] of this.reads) {
      if (batch.index === null && now - batch.issuedAt >= READ_RETRY_MILLIS) {
        this.reads.delete(context);
        this.queuedReads.push(...batch.waiters);
      }
    }
    this.issueReads();
  }

  /** Runs one Ready cycle soon, batching everything that arrives in this turn of the loop. */
  schedule(): void {
    if (this.scheduled || this.stopped) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      this.processReady();
    });
  }

  /** Runs Ready cycles until there is nothing to do; one at a time (a sync may be in flight,
   *  during which new input accumulates into the next, larger batch). */
  processReady(): void {
    if (this.cycling || this.stopped) return;
    this.cycling = true;
    this.cycle().then(
      () => {
        this.cycling = false;
        if (!this.stopped && this.raw.hasReady()) this.schedule();
      },
      (err: unknown) => {
        this.cycling = false;
        // Stopped meanwhile: the store may be closing under a sync still in flight.
        if (this.stopped) return;
        // A write that cannot be made durable: this member must not go on pretending.
        this.onFatal(err);
      },
    );
  }

  private async cycle(): Promise<void> {
    for (let rounds = 0; !this.stopped && rounds < 64 && this.raw.hasReady(); rounds++) {
      const rd = this.raw.ready();
      const results = this.store.commitReady(rd);
      let late = rd.messages;
      let settled = 0;
      if (rd.mustSync) {
        const early = rd.messages.filter(sendableBeforeSync);
        if (early.length > 0) {
          this.transport.send(early);
          late = rd.messages.filter((m) => !sendableBeforeSync(m));
        }
        // Committed entries older than this Ready's new ones were made durable here by an earlier
        // Ready's sync (and, being committed, on a majority): their proposers need not wait for
        // this sync too. Only their applied state is not durable yet, and a crash would replay it
        // from the log. Entries of this Ready that are already committed (a lone voter) wait.
        if (rd.snapshot === null && this.proposals.size > 0) {
          const firstNew = rd.entries.length > 0 ? rd.entries[0]!.index : Infinity;
          while (settled < rd.committedEntries.length && rd.committedEntries[settled]!.index < firstNew) settled++;
          this.settleProposals(rd.committedEntries, results, 0, settled);
        }
        await this.store.sync();
        if (this.stopped) return;
      }
      this.transport.send(late);
      if (rd.softState) this.events.onSoftState?.(rd.softState, this.raw.raft.term);
      this.settleProposals(rd.committedEntries, results, settled, rd.committedEntries.length);
      for (const rs of rd.readStates) {
        const batch = this.reads.get(rs.context);
        if (batch) batch.index = rs.index;
      }
      this.raw.advance(rd);
      if (rd.committedEntries.length > 0) {
        this.appliedIndex = rd.committedEntries[rd.committedEntries.length - 1]!.index;
        this.events.onApplied?.(rd.committedEntries);
      } else if (rd.snapshot) {
        this.appliedIndex = rd.snapshot.metadata.index;
      }
      this.settleReads();
      if (rd.softState && rd.softState.state !== 'leader') this.failProposalsOnLostLeadership();
    }
  }

  /** Answers the proposers of entries[from, to). */
  private settleProposals(entries: Entry[], results: Result[], from: number, to: number): void {
    if (this.proposals.size === 0) return;
    for (let i = from; i < to; i++) {
      const e = entries[i]!;
      const w = this.proposals.get(e.index);
      if (!w) continue;
      this.proposals.delete(e.index);
      if (e.term === w.term) w.resolve(results[i]!);
      else w.reject(new ProposalError('E_PROPOSAL_LOST', `the proposal at index ${e.index} was replaced by a newer leader's entry; retry`));
    }
  }

  private settleReads(): void {
    for (const [context, batch] of this.reads) {
      if (batch.index !== null && batch.index <= this.appliedIndex) {
        this.reads.delete(context);
        for (const w of batch.waiters) w.resolve(batch.index);
      }
    }
    this.issueReads();
  }

  /** A leader that steps down cannot know whether its pending proposals will commit: tell the
   *  callers now rather than letting them hang (their entries may still commit later). */
  private failProposalsOnLostLeadership(): void {
    const lastIndex = this.raw.raft.raftLog.lastIndex();
    for (const [index, w] of this.proposals) {
      if (index > lastIndex) {
        this.proposals.delete(index);
        w.reject(new ProposalError('E_PROPOSAL_LOST', 'leadership changed before the proposal was committed; retry'));
      }
    }
  }
}
