// Container probes as kubelet runs them: one worker per container and probe kind, probing every
// periodSeconds after initialDelaySeconds, turning results into a state with successThreshold /
// failureThreshold, and telling the agent only when the state changes. Liveness and readiness
// wait until the startup probe (if any) has succeeded.
import type { Clock, TimerHandle } from './ports.ts';

export type ProbeKind = 'liveness' | 'readiness' | 'startup';
export type ProbeResult = 'success' | 'failure' | 'unknown';

export interface ProbeSpec {
  exec?: { command?: string[] };
  httpGet?: { path?: string; port: number | string; host?: string; scheme?: 'HTTP' | 'HTTPS'; httpHeaders?: { name: string; value?: string }[] };
  tcpSocket?: { port: number | string; host?: string };
  initialDelaySeconds?: number;
  timeoutSeconds?: number;
  periodSeconds?: number;
  successThreshold?: number;
  failureThreshold?: number;
}

export interface ProbeTiming {
  initialDelayMs: number;
  periodMs: number;
  timeoutMs: number;
  successThreshold: number;
  failureThreshold: number;
}

/** Kubernetes' defaults: period 10 s, timeout 1 s, success 1, failure 3 (0 means default). */
export function probeTiming(spec: ProbeSpec, kind: ProbeKind): ProbeTiming {
  const positive = (v: number | undefined, d: number) => (v !== undefined && v > 0 ? v : d);
  return {
    initialDelayMs: (spec.initialDelaySeconds ?? 0) * 1000,
    periodMs: positive(spec.periodSeconds, 10) * 1000,
    timeoutMs: positive(spec.timeoutSeconds, 1) * 1000,
    // Liveness and startup must succeed once to count (Kubernetes enforces 1 there).
    successThreshold: kind === 'readiness' ? positive(spec.successThreshold, 1) : 1,
    failureThreshold: positive(spec.failureThreshold, 3),
  };
}

/** What a probe reports before its first result: live, not ready, not started. */
export function initialResult(kind: ProbeKind): ProbeResult {
  return kind === 'liveness' ? 'success' : kind === 'readiness' ? 'failure' : 'unknown';
}

/** The threshold logic, pure: feed it outcomes, read the state. */
export class ProbeTracker {
  result: ProbeResult;
  #successes = 0;
  #failures = 0;
  readonly #timing: Pick<ProbeTiming, 'successThreshold' | 'failureThreshold'>;

  constructor(kind: ProbeKind, timing: Pick<ProbeTiming, 'successThreshold' | 'failureThreshold'>, initial?: ProbeResult) {
    this.result = initial ?? initialResult(kind);
    this.#timing = timing;
  }

  /** Records one outcome; answers whether the state changed. */
  record(ok: boolean): boolean {
    if (ok) {
      this.#failures = 0;
      this.#successes++;
      if (this.result !== 'success' && this.#successes >= this.#timing.successThreshold) {
        this.result = 'success';
        return true;
      }
    } else {
      this.#successes = 0;
      this.#failures++;
      if (this.result !== 'failure' && this.#failures >= this.#timing.failureThreshold) {
        this.result = 'failure';
        return true;
      }
    }
    return false;
  }
}

export interface ProbeRun {
  ok: boolean;
  message: string;
}

export interface ProbeWorkerOptions {
  kind: ProbeKind;
  timing: ProbeTiming;
  clock: Clock;
  /** When the container started (ms): initialDelay counts from there. */
  startedAtMs: number;
  initial?: ProbeResult;
  run: (timeoutMs: number) => Promise<ProbeRun>;
  /** False while the startup probe has not succeeded: liveness and readiness then wait. */
  gate: () => boolean;
  onChange: (result: ProbeResult, message: string) => void;
  onFailure?: (message: string) => void;
}

export class ProbeWorker {
  readonly tracker: ProbeTracker;
  readonly #o: ProbeWorkerOptions;
  #timer: TimerHandle | undefined;
  #stopped = false;
  /** Whether a probe is running (a slow one must not overlap the next). */
  #busy = false;

  constructor(options: ProbeWorkerOptions) {
    this.#o = options;
    this.tracker = new ProbeTracker(options.kind, options.timing, options.initial);
    const firstAt = options.startedAtMs + options.timing.initialDelayMs;
    this.#schedule(Math.max(0, firstAt - options.clock.now()));
  }

  get result(): ProbeResult {
    return this.tracker.result;
  }

  stop(): void {
    this.#stopped = true;
    this.#timer?.cancel();
  }

  #schedule(ms: number): void {
    if (this.#stopped) return;
    this.#timer = this.#o.clock.setTimer(() => void this.#tick(), ms);
  }

  async #tick(): Promise<void> {
    if (this.#stopped) return;
    if (this.#busy || !this.#o.gate()) {
      this.#schedule(this.#o.timing.periodMs);
      return;
    }
    this.#busy = true;
    let outcome: ProbeRun;
    try {
      outcome = await this.#o.run(this.#o.timing.timeoutMs);
    } catch (error) {
      outcome = { ok: false, message: (error as Error).message };
    } finally {
      this.#busy = false;
    }
    if (this.#stopped) return;
    if (!outcome.ok) this.#o.onFailure?.(outcome.message);
    if (this.tracker.record(outcome.ok)) this.#o.onChange(this.tracker.result, outcome.message);
    // A started startup probe has done its job; kubelet stops it.
    if (this.#o.kind === 'startup' && this.tracker.result === 'success') return;
    this.#schedule(this.#o.timing.periodMs);
  }
}
