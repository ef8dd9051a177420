// In-process members with real SQLite replicas and a loopback "network" (messages are handed
// over directly; snapshot files are copied as the peer link would stream them).
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger } from '../../src/log/index.ts';
import type { Message } from '../../src/raft/index.ts';
import { bootstrapLog } from '../../src/raft/index.ts';
import { encodeJsonWithBytes, decodeJsonWithBytes } from '../../src/store/kv/op-codec.ts';
import { LeaderUnreachableError } from '../../src/store/kv-service.ts';
import type { Replica } from '../../src/store/replica.ts';
import { snapshotPath } from '../../src/store/replica.ts';
import type { Store } from '../../src/store/store.ts';
import { createStore, openReplica } from '../../src/store/store.ts';

export const quietLogger = createLogger({ level: 'error', sink: { write: () => undefined } });

export interface Cluster {
  dir: string;
  stores: Map<string, Store>;
  cut: Set<string>;
  add(name: string, founder: boolean): Store;
  restart(name: string): Store;
  stop(name: string): void;
  close(): void;
}

const timing = { tickMillis: 10, electionTicks: 10, heartbeatTicks: 1, maxInflightMessages: 64, maxSizePerMessageBytes: 64 * 1024, snapshotEntries: 200 };

export function inProcessCluster(): Cluster {
  const dir = mkdtempSync(join(tmpdir(), 'bramble-store-'));
  const stores = new Map<string, Store>();
  const cut = new Set<string>();
  const clusterId = '7';

  const deliver = (from: string, messages: Message[]) => {
    for (const m of messages) {
      const to = stores.get(m.to);
      if (!to || cut.has(m.to) || cut.has(from)) {
        if (m.type === 'MsgSnap') stores.get(from)?.driver.raw.reportSnapshot(m.to, false);
        continue;
      }
      if (m.type === 'MsgSnap' && m.snapshot) {
        // What the peer link does: stream the file into the receiver's incoming directory.
        const local = join(to.replica.incomingDir(), `recv-${Date.now()}-${Math.random()}.db`);
        copyFileSync(snapshotPath(m.snapshot), local);
        const copy = { ...m, snapshot: { ...m.snapshot, data: new TextEncoder().encode(JSON.stringify({ path: local })) } };
        setImmediate(() => {
          to.driver.step(copy);
          stores.get(from)?.driver.raw.reportSnapshot(m.to, true);
        });
        continue;
      }
      setImmediate(() => stores.get(m.to)?.driver.step(m));
    }
  };

  const open = (name: string): Replica => openReplica({ dataDir: join(dir, name), cacheBytes: 1 << 20, walAutocheckpointPages: 1000, snapshotEntries: timing.snapshotEntries, logger: quietLogger });

  const build = (name: string, replica: Replica): Store => {
    const store = createStore({
      replica,
      timing,
      logger: quietLogger,
      requestTimeoutMillis: 2000,
      transport: { send: (msgs) => deliver(name, msgs) },
      // Forward a write to the leader in-process, through the same JSON encoding as the wire.
      forward: async (leader, op) => {
        const target = stores.get(leader);
        if (!target || cut.has(name) || cut.has(leader)) throw new LeaderUnreachableError('leader unreachable');
        return target.service.write(decodeJsonWithBytes(encodeJsonWithBytes(op)));
      },
    });
    stores.set(name, store);
    store.start();
    return store;
  };

  return {
    dir,
    stores,
    cut,
    add(name, founder) {
      const replica = open(name);
      replica.setIdentity({ clusterId, memberId: name, name });
      if (founder) {
        const boot = bootstrapLog([{ node: name, context: JSON.stringify({ name, peerURL: `mem://${name}`, apiURL: `mem://${name}` }) }]);
        replica.bootstrap(boot.entries, boot.hardState);
      }
      return build(name, replica);
    },
    restart(name) {
      this.stop(name);
      return build(name, open(name));
    },
    stop(name) {
      const s = stores.get(name);
      if (!s) return;
      s.stop();
      s.replica.close();
      stores.delete(name);
    },
    close() {
      for (const name of [...stores.keys()]) this.stop(name);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export async function until(what: string, cond: () => boolean, ms = 5000): Promise<void> {
  const start = Date.now();
  while (!cond()) {
    if (Date.now() - start > ms) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}
