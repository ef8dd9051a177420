// core/v1 Events about pods (and, for controllers and the scheduler, other objects), written through the API the way kubelet's recorder does, but
// cheaply: the same event for the same pod within a window is only counted, a token bucket caps
// how many are written (an SD card counts writes), and a write that fails (no quorum) is
// dropped, never retried: events are hints, the pod status is the record.
import { randomBytes } from 'node:crypto';
import { findResource, timestamp } from '../model/index.ts';
import type { KObject } from '../model/index.ts';
import type { Logger } from '../log/index.ts';
import type { AgentApi, Clock } from './ports.ts';

const eventsInfo = findResource('', 'v1', 'events')!;

export interface PodRef {
  namespace: string;
  name: string;
  uid: string;
  /** The involved object's kind and apiVersion when it is not a Pod (controllers' events). */
  kind?: string;
  apiVersion?: string;
}

export interface EventRecorderOptions {
  api: Pick<AgentApi, 'create'>;
  clock: Clock;
  nodeName: string;
  /** The reporting component: kubelet for the agent, or e.g. default-scheduler (default kubelet). */
  component?: string;
  logger: Logger;
  /** The same (pod, reason, message) within this window is counted, not written again. */
  dedupeWindowMs?: number;
  /** Token bucket: at most `burst` at once, refilled at `perSecond`. */
  burst?: number;
  perSecond?: number;
  /** Remembered event keys at most (oldest forgotten first). */
  keysMax?: number;
}

export class EventRecorder {
  readonly #o: Required<EventRecorderOptions>;
  readonly #seen = new Map<string, number>();
  #tokens: number;
  #refilledAt: number;
  /** Writes in flight, so a test (or shutdown) can wait for them. */
  readonly #pending = new Set<Promise<void>>();

  constructor(options: EventRecorderOptions) {
    this.#o = { component: 'kubelet', dedupeWindowMs: 60_000, burst: 25, perSecond: 1, keysMax: 4096, ...options };
    this.#tokens = this.#o.burst;
    this.#refilledAt = options.clock.now();
  }

  /** Records an event about a pod (`fieldPath` like `spec.containers{web}`). Never throws. */
  record(pod: PodRef, type: 'Normal' | 'Warning', reason: string, message: string, fieldPath?: string): void {
    const now = this.#o.clock.now();
    const key = `${pod.uid}\0${reason}\0${fieldPath ?? ''}\0${message}`;
    const last = this.#seen.get(key);
    if (last !== undefined && now - last < this.#o.dedupeWindowMs) return;
    this.#tokens = Math.min(this.#o.burst, this.#tokens + ((now - this.#refilledAt) / 1000) * this.#o.perSecond);
    this.#refilledAt = now;
    if (this.#tokens < 1) {
      this.#o.logger.debug('event dropped: too many events', { pod: `${pod.namespace}/${pod.name}`, reason });
      return;
    }
    this.#tokens -= 1;
    this.#seen.delete(key);
    this.#seen.set(key, now);
    if (this.#seen.size > this.#o.keysMax) this.#seen.delete(this.#seen.keys().next().value!);
    const event: KObject = {
      apiVersion: 'v1',
      kind: 'Event',
      metadata: { name: `${pod.name}.${randomBytes(8).toString('hex')}`, namespace: pod.namespace },
      involvedObject: { kind: pod.kind ?? 'Pod', apiVersion: pod.apiVersion ?? 'v1', namespace: pod.namespace, name: pod.name, uid: pod.uid, ...(fieldPath ? { fieldPath } : {}) },
      reason,
      message,
      source: { component: this.#o.component, host: this.#o.nodeName },
      firstTimestamp: timestamp(now),
      lastTimestamp: timestamp(now),
      count: 1,
      type,
      reportingComponent: this.#o.component === 'kubelet' ? 'bramble-agent' : this.#o.component,
      reportingInstance: this.#o.nodeName,
    };
    const write = this.#o.api
      .create(eventsInfo, pod.namespace, event)
      .then(() => undefined)
      .catch((error: unknown) => this.#o.logger.debug('event not written (dropped)', { reason, error: String(error) }));
    this.#pending.add(write);
    void write.finally(() => this.#pending.delete(write));
  }

  /** Forgets a pod's events (it is gone). */
  forget(uid: string): void {
    for (const key of [...this.#seen.keys()]) if (key.startsWith(`${uid}\0`)) this.#seen.delete(key);
  }

  async flush(): Promise<void> {
    await Promise.all([...this.#pending]);
  }
}
