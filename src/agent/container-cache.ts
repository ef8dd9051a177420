// One listing of the runtime's containers shared by the reconciles that run close together (30
// pods reconciled after a restart would otherwise each run `ctr containers ls` and `ctr tasks
// ls`). A listing is reused until it is older than maxAgeMs or something changed it: the agent
// invalidates it after each change it makes and on each exit the runtime reports.
import type { Clock, ContainerRuntime, RuntimeContainer } from './ports.ts';
import { LABEL_POD_UID } from './ports.ts';

export class ContainerCache {
  readonly #runtime: ContainerRuntime;
  readonly #clock: Clock;
  readonly #maxAgeMs: number;
  #listing: Promise<RuntimeContainer[]> | undefined;
  #listedAt = 0;
  #generation = 0;
  /** Pod UIDs that may have containers: those seen in a listing, and those handed to forPod. */
  readonly #uids = new Set<string>();
  #listedOnce = false;

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
    listing.then(
      (containers) => {
        for (const c of containers) {
          const uid = c.labels[LABEL_POD_UID];
          if (uid) this.#uids.add(uid);
        }
        this.#listedOnce = true;
      },
      () => undefined,
    );
    // A failed listing is not kept: the next caller tries again.
    listing.catch(() => {
      if (this.#generation === generation) this.#listing = undefined;
    });
    return listing;
  }

  /**
   * The containers of one pod. A pod UID that no listing since this agent started has shown, and
   * that was never asked for before, has none (UIDs are new for every pod and only this agent
   * makes containers for them): a new pod starts without waiting for two `ctr` listings.
   */
  async forPod(uid: string): Promise<RuntimeContainer[]> {
    if (this.#listedOnce && !this.#uids.has(uid)) {
      this.#uids.add(uid);
      return [];
    }
    this.#uids.add(uid);
    return (await this.get()).filter((c) => c.labels[LABEL_POD_UID] === uid);
  }

  /** A pod cleaned up: its UID need not be remembered (the set would grow with every pod). */
  forget(uid: string): void {
    this.#uids.delete(uid);
  }

  invalidate(): void {
    this.#generation++;
    this.#listing = undefined;
  }
}
