// A ReadyStore over an in-memory log, for a throwaway single-node group (`bramble server
// --in-memory`) and for tests of the layers above: nothing survives a restart.
import type { Entry, Ready } from '../raft/index.ts';
import { MemoryStorage } from '../raft/index.ts';
import type { ReadyStore } from './driver.ts';

export class MemoryReadyStore implements ReadyStore<Entry> {
  readonly storage = new MemoryStorage();
  appliedCount = 0;

  commitReady(rd: Ready): Entry[] {
    if (rd.snapshot) this.storage.applySnapshot(rd.snapshot);
    this.storage.append(rd.entries);
    if (rd.hardState) this.storage.setHardState(rd.hardState);
    this.appliedCount += rd.committedEntries.length;
    return rd.committedEntries;
  }
}
