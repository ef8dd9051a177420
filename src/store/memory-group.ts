// A single-member Raft group over an in-memory log: the core exercised end to end inside the
// daemon (elect, propose, commit, apply) before the durable SQLite store replaces the log.
import { randomInt } from 'node:crypto';
import type { Logger } from '../log/index.ts';
import type { Entry } from '../raft/index.ts';
import { RawNode, bootstrapLog } from '../raft/index.ts';
import type { Timers } from './driver.ts';
import { RaftDriver } from './driver.ts';
import { MemoryReadyStore } from './memory-store.ts';

export interface RaftTiming {
  tickMillis: number;
  electionTicks: number;
  heartbeatTicks: number;
  maxInflightMessages: number;
  maxSizePerMessageBytes: number;
}

export interface MemoryGroup {
  readonly driver: RaftDriver<Entry>;
  stop(): void;
}

export function startMemoryGroup(options: { id: string; timing: RaftTiming; logger: Logger; timers?: Timers }): MemoryGroup {
  const { id, timing, logger } = options;
  const store = new MemoryReadyStore();
  const boot = bootstrapLog([{ node: id, context: '' }]);
  store.storage.append(boot.entries);
  store.storage.setHardState(boot.hardState);
  const raw = new RawNode({
    id,
    storage: store.storage,
    electionTicks: timing.electionTicks,
    heartbeatTicks: timing.heartbeatTicks,
    maxInflightMsgs: timing.maxInflightMessages,
    maxSizePerMsg: timing.maxSizePerMessageBytes,
    preVote: true,
    checkQuorum: true,
    // The core has no randomness of its own: election jitter comes from here.
    random: (n) => randomInt(n),
  });
  const driver = new RaftDriver<Entry>({
    raw,
    store,
    transport: { send: () => undefined }, // one member: nobody to send to
    tickMillis: timing.tickMillis,
    ...(options.timers ? { timers: options.timers } : {}),
    events: {
      onSoftState: (soft, term) => {
        if (soft.state === 'leader') logger.info('elected leader', { member: id, term });
        else logger.info('raft role changed', { member: id, role: soft.state, term, leader: soft.lead || null });
      },
    },
  });
  driver.start();
  // The only voter need not wait out an election timeout.
  if (raw.raft.voters.size === 1 && raw.raft.promotable()) {
    raw.campaign();
    driver.schedule();
  }
  logger.info('raft group started', { member: id, members: 1, log: 'memory', tickMillis: timing.tickMillis, electionTicks: timing.electionTicks });
  return {
    driver,
    stop: () => driver.stop(),
  };
}
