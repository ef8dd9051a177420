// The replicated store of one member, assembled: its SQLite replica, the Raft core driven by a
// timer, the watch hub and the KV service. The peer transport and the forwarding of writes to
// the leader are given from outside (src/cluster), so this folder never opens a socket.
import { randomInt } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from '../log/index.ts';
import type { NodeId } from '../raft/index.ts';
import { RawNode } from '../raft/index.ts';
import type { Transport } from './driver.ts';
import { RaftDriver } from './driver.ts';
import type { WriteForwarder } from './kv-service.ts';
import { StoreKvService } from './kv-service.ts';
import type { ApplyResult, Member } from './replica.ts';
import { Replica } from './replica.ts';
import { WatchHub } from './watch-hub.ts';

export interface StoreTiming {
  tickMillis: number;
  electionTicks: number;
  heartbeatTicks: number;
  maxInflightMessages: number;
  maxSizePerMessageBytes: number;
  snapshotEntries: number;
}

export interface ReplicaSettings {
  dataDir: string;
  cacheBytes: number;
  walAutocheckpointPages: number;
  snapshotEntries: number;
  logger: Logger;
}

export function openReplica(s: ReplicaSettings): Replica {
  mkdirSync(s.dataDir, { recursive: true, mode: 0o700 });
  return new Replica({
    path: join(s.dataDir, 'bramble.db'),
    snapshotDir: join(s.dataDir, 'snapshots'),
    cacheBytes: s.cacheBytes,
    walAutocheckpointPages: s.walAutocheckpointPages,
    snapshotEntries: s.snapshotEntries,
    keepEntries: Math.min(5000, Math.max(100, Math.floor(s.snapshotEntries / 2))),
    logger: s.logger,
  });
}

export interface StoreOptions {
  replica: Replica;
  timing: StoreTiming;
  transport: Transport;
  forward: WriteForwarder;
  logger: Logger;
  requestTimeoutMillis?: number;
  /** Called on every leader change (name resolution and logging are the caller's). */
  onLeaderChange?: (leader: NodeId, term: number) => void;
  /** The store failed to persist (disk full, I/O error). */
  onFatal?: (err: unknown) => void;
  /** Called when applied membership changes. */
  onMembersChanged?: (members: Member[]) => void;
}

export interface Store {
  readonly replica: Replica;
  readonly driver: RaftDriver<ApplyResult>;
  readonly hub: WatchHub;
  readonly service: StoreKvService;
  readonly memberId: NodeId;
  start(): void;
  stop(): void;
}

export function createStore(o: StoreOptions): Store {
  const identity = o.replica.identity();
  if (!identity) throw new Error('createStore: the replica has no identity yet (bootstrap or join first)');
  const raw = new RawNode({
    id: identity.memberId,
    storage: o.replica.log,
    applied: o.replica.applied,
    electionTicks: o.timing.electionTicks,
    heartbeatTicks: o.timing.heartbeatTicks,
    maxInflightMsgs: o.timing.maxInflightMessages,
    maxSizePerMsg: o.timing.maxSizePerMessageBytes,
    maxUncommittedEntriesSize: 64 * 1024 * 1024,
    preVote: true,
    checkQuorum: true,
    // The core has no randomness of its own: election jitter comes from here.
    random: (n) => randomInt(n),
  });
  let lastLeader = raw.raft.lead;
  const driver = new RaftDriver<ApplyResult>({
    raw,
    store: o.replica,
    transport: o.transport,
    tickMillis: o.timing.tickMillis,
    ...(o.onFatal ? { onFatal: o.onFatal } : {}),
    events: {
      onSoftState: (soft, term) => {
        if (soft.lead !== lastLeader) {
          lastLeader = soft.lead;
          o.onLeaderChange?.(soft.lead, term);
        }
      },
    },
  });
  const header = (revision: number) => ({ clusterId: identity.clusterId, memberId: identity.memberId, revision, raftTerm: raw.raft.term });
  const hub = new WatchHub(() => o.replica.kv, header);
  const service = new StoreKvService({
    driver,
    replica: o.replica,
    hub,
    forward: o.forward,
    header,
    requestTimeoutMillis: o.requestTimeoutMillis ?? 5000,
  });
  o.replica.hooks = {
    onEvents: (events, revision) => hub.notify(events, revision),
    onSnapshotInstalled: (revision) => hub.cancelAll('this member installed a snapshot from the leader; watch again from a current revision', revision),
    onMembersChanged: (members) => o.onMembersChanged?.(members),
    prevKvWanted: () => hub.wantsPrevKv(),
  };
  return {
    replica: o.replica,
    driver,
    hub,
    service,
    memberId: identity.memberId,
    start() {
      driver.start();
      // The only voter need not wait out an election timeout.
      if (raw.raft.voters.size === 1 && raw.raft.voters.has(raw.raft.id)) {
        raw.campaign();
        driver.schedule();
      }
    },
    stop() {
      driver.stop();
    },
  };
}
