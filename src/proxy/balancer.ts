// Which backend a new connection of one Service port goes to: round robin over the ready
// endpoints, skipping those recently found refusing (marked down for a while, as kube-proxy's
// userspace mode retried the next endpoint), and with `sessionAffinity: ClientIP` the client's
// last backend while it is still there, up and used within the timeout. No sockets, no timers:
// time comes from `now`, so the rules are tested without waiting.
import type { Backend } from './service-table.ts';

export interface BalancerOptions {
  /** Milliseconds a backend that refused or timed out is passed over. */
  downMs: number;
  now: () => number;
  /** Most client addresses remembered for affinity; the oldest are forgotten beyond it. */
  affinityEntriesMax?: number;
}

interface Sticky {
  backend: string;
  lastUsedMs: number;
}

export class Balancer {
  readonly #o: BalancerOptions;
  #backends: Backend[] = [];
  #keys = new Set<string>();
  #next = 0;
  #affinityMs: number | null = null;
  readonly #sticky = new Map<string, Sticky>();
  readonly #downUntil = new Map<string, number>();
  readonly #affinityMax: number;

  constructor(options: BalancerOptions) {
    this.#o = options;
    this.#affinityMax = options.affinityEntriesMax ?? 65_536;
  }

  /** Whether picking needs the client's address (only with affinity). */
  get usesClientIp(): boolean {
    return this.#affinityMs !== null;
  }

  get backends(): readonly Backend[] {
    return this.#backends;
  }

  /** New endpoints: the rotation continues where it was; affinity to a vanished backend lapses. */
  update(backends: Backend[], affinityTimeoutMs: number | null): void {
    this.#backends = backends;
    this.#keys = new Set(backends.map((b) => b.key));
    if (this.#next >= backends.length) this.#next = 0;
    if (affinityTimeoutMs === null) this.#sticky.clear();
    this.#affinityMs = affinityTimeoutMs;
    for (const key of this.#downUntil.keys()) if (!this.#keys.has(key)) this.#downUntil.delete(key);
  }

  isDown(key: string): boolean {
    const until = this.#downUntil.get(key);
    if (until === undefined) return false;
    if (until > this.#o.now()) return true;
    this.#downUntil.delete(key);
    return false;
  }

  /** The backend to try next for a connection from `clientIp`, not one of `tried`; undefined
   *  when every backend was tried. Backends marked down come last: when all are down, trying
   *  one beats refusing the client outright. */
  pick(clientIp: string, tried?: ReadonlySet<string>): Backend | undefined {
    const backends = this.#backends;
    if (backends.length === 0) return undefined;
    if (this.#affinityMs !== null) {
      const sticky = this.#sticky.get(clientIp);
      if (sticky && this.#o.now() - sticky.lastUsedMs <= this.#affinityMs && this.#keys.has(sticky.backend) && !tried?.has(sticky.backend) && !this.isDown(sticky.backend)) {
        return backends.find((b) => b.key === sticky.backend);
      }
    }
    let fallback: Backend | undefined;
    for (let i = 0; i < backends.length; i++) {
      const index = (this.#next + i) % backends.length;
      const backend = backends[index]!;
      if (tried?.has(backend.key)) continue;
      if (this.isDown(backend.key)) {
        fallback ??= backend;
        continue;
      }
      this.#next = (index + 1) % backends.length;
      return backend;
    }
    return fallback;
  }

  /** The connection to `backend` worked: with affinity the client stays on it. */
  connected(clientIp: string, backend: Backend): void {
    this.#downUntil.delete(backend.key);
    if (this.#affinityMs === null) return;
    this.#sticky.delete(clientIp); // re-inserted last: the map's order is least recently used first
    this.#sticky.set(clientIp, { backend: backend.key, lastUsedMs: this.#o.now() });
    this.#forgetExpired();
  }

  /** The backend refused or did not answer: pass it over for `downMs`. */
  markDown(backend: Backend): void {
    this.#downUntil.set(backend.key, this.#o.now() + this.#o.downMs);
  }

  get affinityEntries(): number {
    return this.#sticky.size;
  }

  // From the least recently used end: expired entries, and any beyond the cap.
  #forgetExpired(): void {
    const now = this.#o.now();
    for (const [client, sticky] of this.#sticky) {
      if (this.#sticky.size <= this.#affinityMax && now - sticky.lastUsedMs <= (this.#affinityMs ?? 0)) break;
      this.#sticky.delete(client);
    }
  }
}
