// Runs the allocation repair on the leader now and then (Kubernetes' repair controllers for
// service IPs and node ports): leaked keys are freed, missing ones written back.
import type { Logger } from '../../../log/index.ts';
import type { ServiceAllocator } from './allocation.ts';

export interface AllocationRepairOptions {
  allocator: ServiceAllocator;
  isLeader: () => boolean;
  logger: Logger;
  /** Between two repairs (default 3 minutes, Kubernetes' repair interval). */
  everyMillis?: number;
}

export interface AllocationRepair {
  /** One repair now (on the leader only); failures are logged, never thrown. */
  runOnce(): Promise<void>;
  stop(): void;
}

export function startAllocationRepair(o: AllocationRepairOptions): AllocationRepair {
  let running: Promise<void> | undefined;
  const runOnce = (): Promise<void> => {
    if (!o.isLeader()) return Promise.resolve();
    running ??= o.allocator
      .repair()
      .then(() => undefined)
      .catch((error: unknown) => o.logger.warn('Service allocation repair did not finish; the next run retries it', { error: error instanceof Error ? error.message : String(error) }))
      .finally(() => (running = undefined));
    return running;
  };
  const timer = setInterval(() => void runOnce(), o.everyMillis ?? 180_000);
  timer.unref();
  return { runOnce, stop: () => clearInterval(timer) };
}
