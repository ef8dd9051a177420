// Kubernetes' controller "expectations": after asking for N creations (or these deletions) for an
// owner, the controller does not count that owner's pods again until its informer has shown them
// all, or until a timeout says a watch event was lost. Without this a watch that lags behind the
// writes would make the controller create (or delete) the same pods twice.

/** How long an unmet expectation holds before the controller counts again anyway (Kubernetes: 5 min). */
export const EXPECTATIONS_TIMEOUT_MS_DEFAULT = 5 * 60_000;

interface Expectation {
  adds: number;
  /** UIDs of pods asked to go and not yet seen going. */
  deletes: Set<string>;
  setAtMs: number;
}

export class Expectations {
  readonly #byOwner = new Map<string, Expectation>();
  readonly #now: () => number;
  readonly #timeoutMs: number;

  constructor(options: { now: () => number; timeoutMs?: number }) {
    this.#now = options.now;
    this.#timeoutMs = options.timeoutMs ?? EXPECTATIONS_TIMEOUT_MS_DEFAULT;
  }

  /** Whether the owner's pods may be counted now: nothing is outstanding, or it waited too long. */
  satisfied(owner: string): boolean {
    const e = this.#byOwner.get(owner);
    if (!e) return true;
    if (e.adds <= 0 && e.deletes.size === 0) return true;
    return this.#now() - e.setAtMs > this.#timeoutMs;
  }

  /** Records what one pass is about to ask for (replacing whatever was outstanding). */
  expect(owner: string, adds: number, deleteUids: readonly string[] = []): void {
    this.#byOwner.set(owner, { adds, deletes: new Set(deleteUids), setAtMs: this.#now() });
  }

  /** A creation was seen in the informer, or the create failed (it will not be seen). */
  creationObserved(owner: string): void {
    const e = this.#byOwner.get(owner);
    if (e && e.adds > 0) e.adds--;
  }

  /** A deletion was seen (the pod is gone or has a deletionTimestamp), or the delete failed. */
  deletionObserved(owner: string, uid: string): void {
    this.#byOwner.get(owner)?.deletes.delete(uid);
  }

  /** Forgets an owner (deleted, or leadership lost). */
  forget(owner: string): void {
    this.#byOwner.delete(owner);
  }

  clear(): void {
    this.#byOwner.clear();
  }
}
