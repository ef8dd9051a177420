// Runs one reconcile loop: changes seen by the informers become keys in a de-duplicating work
// queue (client-go's pattern: the key names the owner, never the event), and a key is handled
// by reading what is and what should be and taking one step. Nothing runs unless this member
// leads; a write that lost a race (409) is simply tried again a moment later, since the informer
// will show the newer object.
import type { Logger } from '../log/index.ts';
import type { KObject } from '../model/index.ts';
import { StatusError } from '../api/resources/index.ts';
import { WorkQueue } from '../agent/work-queue.ts';
import type { ReconcileResult } from '../agent/work-queue.ts';
import type { Clock } from '../agent/ports.ts';
import type { Informer } from './informer.ts';
import type { InformerEvent } from './informer.ts';

export type { ReconcileResult } from '../agent/work-queue.ts';

/** What one controller tells its runner. */
export interface Reconciler {
  readonly name: string;
  /** The resources whose changes concern it. */
  readonly watches: readonly string[];
  /** The keys to handle after a change of `resource` (and bookkeeping such as expectations). */
  keysFor(resource: string, object: KObject, event: InformerEvent): string[];
  /** Every key it is responsible for (a resync, or becoming leader). */
  allKeys(): string[];
  reconcile(key: string): Promise<ReconcileResult | void>;
  /** Leadership was lost: forget in-memory state such as expectations. */
  reset(): void;
}

export interface ControllerRunnerOptions {
  reconciler: Reconciler;
  /** The informers this reconciler watches, by resource name (its `watches`). */
  informers: Readonly<Record<string, Informer>>;
  leading: () => boolean;
  clock: Clock;
  logger: Logger;
  /** Keys handled at once (Kubernetes runs 5 workers per controller; the boards have 2 cores). */
  concurrency?: number;
}

/** A write that raced with another one: retry shortly, the informer brings the newer object. */
const CONFLICT_RETRY_MS = 100;

export class ControllerRunner {
  readonly #o: ControllerRunnerOptions;
  readonly #queue: WorkQueue;
  readonly #unsubscribe: (() => void)[] = [];

  constructor(options: ControllerRunnerOptions) {
    this.#o = options;
    const { reconciler, logger } = options;
    this.#queue = new WorkQueue({
      clock: options.clock,
      concurrency: options.concurrency ?? 4,
      retryBaseMs: 250,
      retryMaxMs: 30_000,
      handler: async (key) => {
        if (!options.leading()) return;
        try {
          return await reconciler.reconcile(key);
        } catch (error) {
          if (error instanceof StatusError && (error.reason === 'Conflict' || error.code === 409)) {
            logger.debug('write raced with another; trying again', { controller: reconciler.name, key });
            return { requeueAfterMs: CONFLICT_RETRY_MS };
          }
          throw error;
        }
      },
      onError: (key, error, retryInMs) => logger.warn('reconcile failed; retrying', { controller: reconciler.name, key, error: String(error), retryInMs }),
    });
    for (const resource of reconciler.watches) {
      this.#unsubscribe.push(
        options.informers[resource]!.addListener((object, event) => {
          if (!options.leading()) return;
          for (const key of reconciler.keysFor(resource, object, event)) this.#queue.add(key);
        }),
      );
    }
  }

  get name(): string {
    return this.#o.reconciler.name;
  }

  /** Queues every key (resync). */
  resync(): void {
    for (const key of this.#o.reconciler.allKeys()) this.#queue.add(key);
  }

  add(key: string): void {
    this.#queue.add(key);
  }

  reset(): void {
    this.#o.reconciler.reset();
  }

  /** Resolves once nothing is queued or running (tests). */
  idle(): Promise<void> {
    return this.#queue.idle();
  }

  stop(): void {
    for (const u of this.#unsubscribe.splice(0)) u();
    this.#queue.stop();
  }
}
