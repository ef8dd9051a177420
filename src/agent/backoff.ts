// Kubernetes' crash-loop back-off (client-go's flowcontrol.Backoff as kubelet uses it): the first
// restart is immediate; after that a container that exits again waits 10 s from its exit, then
// 20 s, 40 s, ... up to 5 min; an entry untouched for twice the maximum (10 min, i.e. the
// container ran that long) starts over.

export const BACKOFF_INITIAL_MS = 10_000;
export const BACKOFF_MAX_MS = 300_000;

interface Entry {
  delayMs: number;
  /** The exit time the delay was last computed for. */
  lastUpdateMs: number;
}

export class CrashBackoff {
  readonly #entries = new Map<string, Entry>();
  readonly #initialMs: number;
  readonly #maxMs: number;

  constructor(initialMs = BACKOFF_INITIAL_MS, maxMs = BACKOFF_MAX_MS) {
    this.#initialMs = initialMs;
    this.#maxMs = maxMs;
  }

  #expired(entry: Entry, eventMs: number): boolean {
    return eventMs - entry.lastUpdateMs > 2 * this.#maxMs;
  }

  /** How long a container that exited at `exitedMs` must still wait at `nowMs` (0: restart now). */
  remainingMs(key: string, exitedMs: number, nowMs: number): number {
    const entry = this.#entries.get(key);
    if (!entry || this.#expired(entry, exitedMs)) return 0;
    return Math.max(0, exitedMs + entry.delayMs - nowMs);
  }

  /** The current delay for the key (for messages: "back-off 20s restarting ..."). */
  delayMs(key: string): number {
    return this.#entries.get(key)?.delayMs ?? 0;
  }

  /** Records a restart of a container that exited at `exitedMs`: the next exit waits longer. */
  next(key: string, exitedMs: number): void {
    const entry = this.#entries.get(key);
    if (!entry || this.#expired(entry, exitedMs)) {
      this.#entries.set(key, { delayMs: this.#initialMs, lastUpdateMs: exitedMs });
      return;
    }
    entry.delayMs = Math.min(entry.delayMs * 2, this.#maxMs);
    entry.lastUpdateMs = exitedMs;
  }

  /** Drops every entry whose key starts with `prefix` (a pod that is gone). */
  forgetPrefix(prefix: string): void {
    for (const key of [...this.#entries.keys()]) if (key.startsWith(prefix)) this.#entries.delete(key);
  }
}
