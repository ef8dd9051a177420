// The Raft core: pure, driven by tick() and step(), effects handed out as a Ready.
export { RawNode } from './rawnode.ts';
export { Raft } from './raft.ts';
export { committedIndex, quorumOf, voteResult } from './progress.ts';
export type { RaftConfig, ProposeResult, Status, ProgressStatus } from './raft.ts';
export { LogArray, MemoryStorage, limitSize } from './storage.ts';
export type { LogStorage, InitialState } from './storage.ts';
export { applyConfChange, bootstrapLog, confChangeRefusal, decodeConfChange, encodeConfChange, confStateEqual, cloneConfState } from './confchange.ts';
export * from './types.ts';
