// A tiny deterministic network of real cores for scenario tests (etcd-io/raft's `network`):
// messages are delivered in order until nothing moves; links can be cut per direction.
import type { ConfState, Entry, Message, NodeId, RaftConfig, Ready } from '../../src/raft/index.ts';
import { MemoryStorage, RawNode, applyConfChange, bootstrapLog, decodeConfChange } from '../../src/raft/index.ts';

export interface TestNode {
  id: NodeId;
  raw: RawNode;
  storage: MemoryStorage;
  applied: Entry[];
  conf: ConfState;
  readStates: Array<{ index: number; context: string }>;
}

export interface NetworkOptions {
  electionTicks?: number;
  heartbeatTicks?: number;
  preVote?: boolean;
  checkQuorum?: boolean;
  maxSizePerMsg?: number;
  /** Election timeout jitter per node; the default 0 makes every timeout exactly electionTicks. */
  randomFor?: (id: NodeId) => (n: number) => number;
}

const text = new TextDecoder();
const bytes = new TextEncoder();

export class TestNetwork {
  readonly nodes = new Map<NodeId, TestNode>();
  private readonly cut = new Set<string>();
  /** Every message delivered, for assertions ("who sent what"). */
  readonly delivered: Message[] = [];
  /** When set, messages matching it are dropped. */
  dropIf: ((m: Message) => boolean) | null = null;

  constructor(
    founders: NodeId[],
    readonly options: NetworkOptions = {},
  ) {
    const boot = bootstrapLog(founders.map((node) => ({ node, context: '' })));
    for (const id of founders) {
      const storage = new MemoryStorage();
      storage.append(boot.entries);
      storage.setHardState(boot.hardState);
      this.start(id, storage);
    }
    this.stabilize();
  }

  config(id: NodeId, storage: MemoryStorage): RaftConfig {
    return {
      id,
      storage,
      applied: storage.snapshot().metadata.index,
      electionTicks: this.options.electionTicks ?? 10,
      heartbeatTicks: this.options.heartbeatTicks ?? 1,
      preVote: this.options.preVote ?? false,
      checkQuorum: this.options.checkQuorum ?? false,
      maxSizePerMsg: this.options.maxSizePerMsg ?? 1 << 20,
      random: this.options.randomFor?.(id) ?? (() => 0),
    };
  }

  start(id: NodeId, storage = new MemoryStorage()): TestNode {
    const node: TestNode = {
      id,
      raw: new RawNode(this.config(id, storage)),
      storage,
      applied: [],
      conf: { ...storage.snapshot().metadata.confState },
      readStates: [],
    };
    this.nodes.set(id, node);
    return node;
  }

  /** Restart a node from what it persisted (its volatile state is lost). */
  restart(id: NodeId): TestNode {
    const old = this.node(id);
    return this.start(id, old.storage);
  }

  node(id: NodeId): TestNode {
    const n = this.nodes.get(id);
    if (!n) throw new Error(`no node ${id}`);
    return n;
  }

  isolate(id: NodeId): void {
    for (const other of this.nodes.keys()) {
      if (other === id) continue;
      this.cut.add(`${id}>${other}`);
      this.cut.add(`${other}>${id}`);
    }
  }

  cutOneWay(from: NodeId, to: NodeId): void {
    this.cut.add(`${from}>${to}`);
  }

  heal(): void {
    this.cut.clear();
  }

  tick(id: NodeId, times = 1): void {
    for (let i = 0; i < times; i++) this.node(id).raw.tick();
    this.stabilize();
  }

  tickAll(times = 1): void {
    for (let i = 0; i < times; i++) {
      for (const n of this.nodes.values()) n.raw.tick();
      this.stabilize();
    }
  }

  campaign(id: NodeId): void {
    this.node(id).raw.campaign();
    this.stabilize();
  }

  propose(id: NodeId, data: string) {
    const r = this.node(id).raw.propose(bytes.encode(data));
    this.stabilize();
    return r;
  }

  /** Deliver until no node has anything to do. */
  stabilize(): void {
    for (let round = 0; round < 10_000; round++) {
      const queue: Message[] = [];
      for (const n of this.nodes.values()) {
        while (n.raw.hasReady()) queue.push(...this.handle(n, n.raw.ready()));
      }
      if (queue.length === 0) return;
      for (const m of queue) this.deliver(m);
    }
    throw new Error('network did not stabilize');
  }

  private deliver(m: Message): void {
    if (this.cut.has(`${m.from}>${m.to}`) || this.dropIf?.(m)) return;
    const to = this.nodes.get(m.to);
    if (!to) return;
    this.delivered.push(m);
    to.raw.step(m);
    if (m.type === 'MsgSnap') this.nodes.get(m.from)?.raw.reportSnapshot(m.to, true);
  }

  private handle(n: TestNode, rd: Ready): Message[] {
    if (rd.snapshot) {
      n.storage.applySnapshot(rd.snapshot);
      n.conf = { ...rd.snapshot.metadata.confState };
    }
    n.storage.append(rd.entries);
    if (rd.hardState) n.storage.setHardState(rd.hardState);
    for (const e of rd.committedEntries) {
      n.applied.push(e);
      if (e.type === 'conf') {
        const cc = decodeConfChange(e.data);
        if (cc) n.conf = applyConfChange(n.conf, cc);
      }
    }
    n.readStates.push(...rd.readStates);
    n.raw.advance(rd);
    return rd.messages;
  }

  /** The applied normal entries' payloads (no-ops left out). */
  appliedData(id: NodeId): string[] {
    return this.node(id)
      .applied.filter((e) => e.type === 'normal' && e.data.byteLength > 0)
      .map((e) => text.decode(e.data));
  }

  state(id: NodeId): string {
    return this.node(id).raw.raft.state;
  }

  term(id: NodeId): number {
    return this.node(id).raw.raft.term;
  }

  leader(): NodeId | undefined {
    for (const n of this.nodes.values()) if (n.raw.raft.state === 'leader') return n.id;
    return undefined;
  }

  appliedConf(id: NodeId): ConfState {
    return this.node(id).conf;
  }

  /** The conf entries applied, decoded (for membership assertions). */
  appliedChanges(id: NodeId) {
    return this.node(id)
      .applied.filter((e) => e.type === 'conf')
      .map((e) => decodeConfChange(e.data));
  }
}
