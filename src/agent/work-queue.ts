// A de-duplicating work queue in the manner of client-go's workqueue: an item is only a key, a
// key queued twice is handled once, a key is never handled by two workers at once (a key added
// while it is being handled runs again afterwards), failures come back with a per-key
// exponential back-off, and a handler may ask to be called again after a delay.
import type { Clock, TimerHandle } from './ports.ts';

export interface ReconcileResult {
  /** Call the handler for this key again after this long (a back-off ending, a deadline). */
  requeueAfterMs?: number;
}

export interface WorkQueueOptions {
  clock: Clock;
  /** Keys handled at once over all keys (the boards have 2 cores; most time is spent in ctr). */
  concurrency: number;
  handler: (key: string) => Promise<ReconcileResult | void>;
  onError: (key: string, error: unknown, retryInMs: number) => void;
  retryBaseMs?: number;
  retryMaxMs?: number;
}

export class WorkQueue {
  readonly #o: Required<WorkQueueOptions>;
  /** Keys waiting for a worker, in order; `#queued` mirrors it for de-duplication. */
  readonly #order: string[] = [];
  readonly #queued = new Set<string>();
  readonly #processing = new Set<string>();
  /** Keys added again while being handled: they go back in the queue when done. */
  readonly #dirty = new Set<string>();
  readonly #timers = new Map<string, { at: number; handle: TimerHandle }>();
  readonly #failures = new Map<string, number>();
  readonly #idleWaiters: (() => void)[] = [];
  #stopped = false;

  constructor(options: WorkQueueOptions) {
    if (!(options.concurrency >= 1)) throw new Error(`work queue concurrency must be at least 1, got ${options.concurrency}`);
    this.#o = { retryBaseMs: 1000, retryMaxMs: 60_000, ...options };
  }

  get length(): number {
    return this.#order.length;
  }

  add(key: string): void {
    if (this.#stopped) return;
    if (this.#processing.has(key)) {
      this.#dirty.add(key);
      return;
    }
    if (this.#queued.has(key)) return;
    this.#queued.add(key);
    this.#order.push(key);
    this.#pump();
  }

  /** Adds the key after `ms`; only the earliest pending delay per key is kept. */
  addAfter(key: string, ms: number): void {
    if (this.#stopped) return;
    if (ms <= 0) return this.add(key);
    const at = this.#o.clock.now() + ms;
    const existing = this.#timers.get(key);
    if (existing && existing.at <= at) return;
    existing?.handle.cancel();
    const handle = this.#o.clock.setTimer(() => {
      this.#timers.delete(key);
      this.add(key);
    }, ms);
    this.#timers.set(key, { at, handle });
  }

  /** Forgets a key's failures and pending delay (the object is gone). */
  forget(key: string): void {
    this.#failures.delete(key);
    this.#timers.get(key)?.handle.cancel();
    this.#timers.delete(key);
  }

  /** Resolves once nothing is queued or being handled (delayed keys do not count). */
  idle(): Promise<void> {
    if (this.#order.length === 0 && this.#processing.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idleWaiters.push(resolve));
  }

  stop(): void {
    this.#stopped = true;
    for (const { handle } of this.#timers.values()) handle.cancel();
    this.#timers.clear();
    this.#order.length = 0;
    this.#queued.clear();
    this.#dirty.clear();
  }

  /** Resolves once the handlers that are running have returned. */
  async drain(): Promise<void> {
    while (this.#processing.size > 0) await new Promise<void>((resolve) => this.#idleWaiters.push(resolve));
  }

  #pump(): void {
    while (!this.#stopped && this.#processing.size < this.#o.concurrency && this.#order.length > 0) {
      const key = this.#order.shift()!;
      this.#queued.delete(key);
      this.#processing.add(key);
      void this.#run(key);
    }
    this.#maybeIdle();
  }

  async #run(key: string): Promise<void> {
    try {
      const result = await this.#o.handler(key);
      this.#failures.delete(key);
      if (result?.requeueAfterMs !== undefined) this.addAfter(key, result.requeueAfterMs);
    } catch (error) {
      const failures = (this.#failures.get(key) ?? 0) + 1;
      this.#failures.set(key, failures);
      const delay = Math.min(this.#o.retryMaxMs, this.#o.retryBaseMs * 2 ** Math.min(failures - 1, 30));
      this.#o.onError(key, error, delay);
      this.addAfter(key, delay);
    } finally {
      this.#processing.delete(key);
      if (this.#dirty.delete(key)) this.add(key);
      this.#pump();
    }
  }

  #maybeIdle(): void {
    // With no handler running, #pump has started every queued key it could: nothing is left.
    if (this.#processing.size > 0) return;
    const waiters = this.#idleWaiters.splice(0);
    for (const w of waiters) w();
  }
}
