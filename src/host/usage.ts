// This gateway's CPU, memory, disk and temperature, sampled cheaply: what its heartbeats carry to
// the leader, and what `bramble top nodes` shows (served as metrics.k8s.io NodeMetrics). CPU time
// comes from the kernel's per-CPU counters, so a sample costs a few microseconds and no child
// process; disk (statfs of the data directory) and temperature (a sysfs read, systeminformation
// only when the board has no thermal zone) are refreshed on a slower timer.
import { readdirSync, readFileSync, statfsSync } from 'node:fs';
import { cpus, freemem, totalmem } from 'node:os';

export interface Usage {
  /** CPU cores busy on average over the window (1.5 = one and a half cores). */
  cpuCores: number;
  memoryBytes: number;
  windowSeconds: number;
  timestamp: Date;
  /** The data directory's filesystem (the SD card), when known. */
  diskUsedBytes?: number;
  diskTotalBytes?: number;
  /** The hottest thermal zone, when the board reports one. */
  temperatureCelsius?: number;
}

export interface UsageSamplerOptions {
  /** Whose filesystem to report as the disk (the data directory); none: no disk figures. */
  diskPath?: string;
  /** How often disk and temperature are read again (default 30 s). */
  slowEveryMillis?: number;
  /** Where thermal zones are (default /sys/class/thermal); injected by tests. */
  thermalDir?: string;
  /** A fallback for boards without thermal zones (default: systeminformation's cpuTemperature). */
  temperatureFallback?: () => Promise<number | undefined>;
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

/** Used and total bytes of the filesystem holding `path`, or undefined when it cannot be read. */
export function diskUsage(path: string): { usedBytes: number; totalBytes: number } | undefined {
  try {
    const s = statfsSync(path);
    const totalBytes = s.blocks * s.bsize;
    return { usedBytes: (s.blocks - s.bfree) * s.bsize, totalBytes };
  } catch {
    return undefined;
  }
}

/** The kernel's thermal zones (none on a VM or a board without sensors). */
export function thermalZones(thermalDir = '/sys/class/thermal'): string[] {
  try {
    return readdirSync(thermalDir).filter((z) => z.startsWith('thermal_zone'));
  } catch {
    return [];
  }
}

/** The hottest of the kernel's thermal zones in °C (millidegrees in sysfs), or undefined. */
export function thermalZoneCelsius(thermalDir = '/sys/class/thermal', zones = thermalZones(thermalDir)): number | undefined {
  let hottest: number | undefined;
  for (const zone of zones) {
    try {
      const milli = Number(readFileSync(`${thermalDir}/${zone}/temp`, 'utf8').trim());
      // Some zones report nonsense (0, or -274000 for "no sensor"): keep plausible readings only.
      if (Number.isFinite(milli) && milli > 0 && milli < 150_000) hottest = Math.max(hottest ?? -Infinity, milli / 1000);
    } catch {
      // unreadable zone: skip
    }
  }
  return hottest;
}

// systeminformation spawns shell commands for temperatures: only for boards without sysfs zones.
async function systeminformationTemperature(): Promise<number | undefined> {
  try {
    const { default: cpuModule } = await import('systeminformation/lib/cpu.js');
    const read = (cpuModule as unknown as { cpuTemperature: typeof import('systeminformation').cpuTemperature }).cpuTemperature;
    const t = await read();
    return typeof t.main === 'number' && t.main > 0 ? t.main : undefined;
  } catch {
    return undefined;
  }
}

export class UsageSampler {
  #last = cpuTimes();
  #lastAt = Date.now();
  #usage: Usage;
  #timer: NodeJS.Timeout | null = null;
  #slowTimer: NodeJS.Timeout | null = null;
  readonly #options: UsageSamplerOptions;
  #disk: { usedBytes: number; totalBytes: number } | undefined;
  #temperature: number | undefined;
  #zones: string[] | undefined;
  #noFallback = false;

  constructor(
    private readonly windowMillis = 10_000,
    options: UsageSamplerOptions = {},
  ) {
    this.#options = options;
    this.#usage = { cpuCores: 0, memoryBytes: totalmem() - freemem(), windowSeconds: 0, timestamp: new Date() };
  }

  /** Samples every window (for a reader of `current()`), and refreshes disk and temperature. */
  start(): void {
    this.#timer = setInterval(() => this.sample(), this.windowMillis);
    this.#timer.unref();
    this.startSlow();
  }

  /** Only the slow part (disk, temperature): for a caller that calls `sample()` itself. */
  startSlow(): void {
    if (this.#slowTimer) return;
    void this.refreshSlow();
    this.#slowTimer = setInterval(() => void this.refreshSlow(), this.#options.slowEveryMillis ?? 30_000);
    this.#slowTimer.unref();
  }

  stop(): void {
    if (this.#timer) clearInterval(this.#timer);
    if (this.#slowTimer) clearInterval(this.#slowTimer);
    this.#timer = null;
    this.#slowTimer = null;
  }

  /** Reads disk and temperature again (never throws; an unreadable figure is left out). */
  async refreshSlow(): Promise<void> {
    if (this.#options.diskPath !== undefined) this.#disk = diskUsage(this.#options.diskPath);
    // Zones that exist but read nothing plausible this time keep the last figure; only a board
    // without any zone uses the fallback, and only while it answers (a VM answers nothing, and
    // each try spawns several shells).
    if (this.#zones === undefined) this.#zones = thermalZones(this.#options.thermalDir);
    if (this.#zones.length > 0) {
      this.#temperature = thermalZoneCelsius(this.#options.thermalDir, this.#zones) ?? this.#temperature;
    } else if (!this.#noFallback) {
      this.#temperature = await (this.#options.temperatureFallback ?? systeminformationTemperature)();
      if (this.#temperature === undefined) this.#noFallback = true;
    }
  }

  /** CPU over the time since the previous sample, memory now, and the last slow figures. */
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
      ...(this.#disk ? { diskUsedBytes: this.#disk.usedBytes, diskTotalBytes: this.#disk.totalBytes } : {}),
      ...(this.#temperature !== undefined ? { temperatureCelsius: Math.round(this.#temperature * 10) / 10 } : {}),
    };
    this.#last = now;
    this.#lastAt = at;
    return this.#usage;
  }

  current(): Usage {
    return this.#usage;
  }
}
