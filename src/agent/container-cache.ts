// One listing of the runtime's containers shared by the reconciles that run close together (30
// pods reconciled after a restart would otherwise each run `ctr containers ls` and `ctr tasks
// ls`). A listing is reused until it is older than maxAgeMs or something changed it: the agent
// invalidates it after each change it makes and on each exit the runtime reports.
import type { Clock, ContainerRuntime, RuntimeContainer } from './ports.ts';

export class ContainerCache {
  readonly #runtime: ContainerRuntime;
  readonly #clock: Clock;
  readonly #maxAgeMs: number;
  #listing: Promise<RuntimeContainer[]> | undefined;
  #listedAt = 0;
  #generation = 0;

  constructor(runtime: ContainerRuntime, clock: Clock, maxAgeMs = 1000) {
    this.#runtime = runtime;
    this.#clock = clock;
    this.#maxAgeMs = maxAgeMs;
  }

  get(): Promise<RuntimeContainer[]> {
    if (this.#listing && this.#clock.now() - this.#listedAt <= this.#maxAgeMs) return this.#listing;
    const generation = ++this.#generation;
    this.#listedAt = this.#clock.now();
    const listing = this.#runtime.list();
    this.#listing = listing;
    // A failed listing is not kept: the next caller tries again.
    listing.catch(() => {
      if (this.#generation === generation) this.#listing = undefined;
    });
    return listing;
  }

  invalidate(): void {
    this.#generation++;
    this.#listing = undefined;
  }
}
