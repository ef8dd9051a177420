// Keeps the key-value history bounded: the leader proposes a compaction that keeps the last
// `retainRevisions` revisions once history has grown a tenth past that. Without it a gateway's
// history (disk, and the in-memory key index) would grow for as long as it runs.
// (kube-apiserver compacts etcd in the same spirit, every five minutes.)
import type { Logger } from '../log/index.ts';
import type { Store } from './store.ts';

export interface CompactorOptions {
  store: Store;
  retainRevisions: number;
  checkEveryMillis?: number;
  logger: Logger;
}

export function startCompactor(o: CompactorOptions): { stop(): void } {
  let running = false;
  const timer = setInterval(() => {
    const { driver, replica } = o.store;
    if (running || !driver.isLeader) return;
    const revision = replica.kv.revision();
    const compacted = replica.kv.compactRevision();
    const target = revision - o.retainRevisions;
    if (target <= compacted || revision - compacted < o.retainRevisions * 1.1) return;
    running = true;
    o.store.service
      .write({ op: 'compact', compact: { revision: target } })
      .then(({ result }) => {
        if (result.op === 'error') o.logger.info('history compaction refused', { revision: target, reason: result.error.message });
        else o.logger.debug('history compacted', { revision: target });
      })
      .catch((err: Error) => o.logger.info('history compaction did not go through; will retry', { revision: target, reason: err.message }))
      .finally(() => {
        running = false;
      });
  }, o.checkEveryMillis ?? 10_000);
  timer.unref();
  return { stop: () => clearInterval(timer) };
}
