// This gateway's CPU and memory in use, sampled over a window (what `bramble top nodes` shows,
// served as metrics.k8s.io NodeMetrics). CPU time comes from the kernel's per-CPU counters, so a
// sample costs a few microseconds and no child process.
import { cpus, freemem, totalmem } from 'node:os';

export interface Usage {
  /** CPU cores busy on average over the window (1.5 = one and a half cores). */
  cpuCores: number;
  memoryBytes: number;
  windowSeconds: number;
  timestamp: Date;
}

function cpuTimes(): { busy: number; total: number } {
  let busy = 0;
  let total = 0;
  for (const c of cpus()) {
    const t = c.times;
    const all = t.user + t.nice + t.sys + t.idle + t.irq;
    busy += all - t.idle;
    total += all;
  }
  return { busy, total };
}

export class UsageSampler {
  #last = cpuTimes();
  #lastAt = Date.now();
  #usage: Usage;
  #timer: NodeJS.Timeout | null = null;

  constructor(private readonly windowMillis = 10_000) {
    this.#usage = { cpuCores: 0, memoryBytes: totalmem() - freemem(), windowSeconds: 0, timestamp: new Date() };
  }

  start(): void {
    this.#timer = setInterval(() => this.sample(), this.windowMillis);
    this.#timer.unref();
  }

  stop(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
  }

  sample(): Usage {
    const now = cpuTimes();
    const at = Date.now();
    const total = now.total - this.#last.total;
    const cores = cpus().length;
    this.#usage = {
      cpuCores: total > 0 ? ((now.busy - this.#last.busy) / total) * cores : 0,
      memoryBytes: totalmem() - freemem(),
      windowSeconds: Math.max(1, Math.round((at - this.#lastAt) / 1000)),
      timestamp: new Date(at),
    };
    this.#last = now;
    this.#lastAt = at;
    return this.#usage;
  }

  current(): Usage {
    return this.#usage;
  }
}
