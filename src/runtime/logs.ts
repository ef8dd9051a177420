// Container log files: DATA/logs/<namespace>_<pod>_<uid>/<container>/current.log, written by
// the containerd shim (ctr --log-uri file://...), read (tail, follow) for `bramble logs`, and
// kept under the board profile's size caps.
//
// Rotation is copy-truncate, on purpose (verified with containerd 1.6.20): the shim opens the
// file once, O_APPEND, and keeps that fd for the container's life. Renaming the file makes the
// shim keep writing into the renamed file (`.1` grows, `current.log` is never recreated);
// truncating it in place works cleanly, because with O_APPEND the next write lands at the new
// end (offset 0), with no sparse hole. The price: lines written between the copy and the
// truncate (microseconds to milliseconds) are lost.
import { closeSync, copyFileSync, existsSync, openSync, readdirSync, readSync, renameSync, rmSync, statSync, truncateSync, type Stats } from 'node:fs';
import { open } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { join } from 'node:path';
import { RuntimeError } from './errors.ts';

export const CURRENT_LOG = 'current.log';

export interface LogLimits {
  /** Rotate once the current file is larger than this. */
  fileBytesMax: number;
  /** Files kept per container, counting current.log: current.log, .1, ..., .(filesMax-1). */
  filesMax: number;
}

export interface LogOwner {
  namespace: string;
  podName: string;
  podUid: string;
  containerName: string;
}

/** The pod's log directory under `logsDir` (DATA/logs). */
export function podLogDir(logsDir: string, owner: Omit<LogOwner, 'containerName'>): string {
  return join(logsDir, `${owner.namespace}_${owner.podName}_${owner.podUid}`);
}

export function containerLogPath(logsDir: string, owner: LogOwner): string {
  return join(podLogDir(logsDir, owner), owner.containerName, CURRENT_LOG);
}

/**
 * Rotates `path` if it is larger than fileBytesMax: `.N-1` → `.N` (the oldest beyond filesMax
 * dropped), then a copy to `.1` and a truncate of the live file. Returns true if it rotated.
 */
export function rotateLog(path: string, limits: LogLimits): boolean {
  let stats: Stats;
  try {
    stats = statSync(path);
  } catch {
    return false;
  }
  if (stats.size <= limits.fileBytesMax) return false;
  const keep = Math.max(0, limits.filesMax - 1);
  if (keep > 0) {
    rmSync(`${path}.${keep}`, { force: true });
    for (let index = keep - 1; index >= 1; index -= 1) {
      if (existsSync(`${path}.${index}`)) renameSync(`${path}.${index}`, `${path}.${index + 1}`);
    }
    copyFileSync(path, `${path}.1`);
  }
  truncateSync(path, 0);
  return true;
}

/** Every current.log under logsDir (two levels: pod dir, container dir). */
export function listLogFiles(logsDir: string): string[] {
  const files: string[] = [];
  let pods: string[];
  try {
    pods = readdirSync(logsDir);
  } catch {
    return files;
  }
  for (const pod of pods) {
    let containers: string[];
    try {
      containers = readdirSync(join(logsDir, pod));
    } catch {
      continue;
    }
    for (const container of containers) {
      const file = join(logsDir, pod, container, CURRENT_LOG);
      if (existsSync(file)) files.push(file);
    }
  }
  return files;
}

/** Checks every container log under logsDir every intervalMs and rotates those over the cap. */
export class LogRotator {
  readonly #logsDir: string;
  readonly #limits: LogLimits;
  readonly #intervalMs: number;
  readonly #onError: (error: unknown, file: string) => void;
  #timer: NodeJS.Timeout | undefined;

  constructor(options: { logsDir: string; limits: LogLimits; intervalMs?: number; onError?: (error: unknown, file: string) => void }) {
    this.#logsDir = options.logsDir;
    this.#limits = options.limits;
    this.#intervalMs = options.intervalMs ?? 10_000;
    this.#onError = options.onError ?? (() => undefined);
  }

  /** One pass; returns the files it rotated. */
  runOnce(): string[] {
    const rotated: string[] = [];
    for (const file of listLogFiles(this.#logsDir)) {
      try {
        if (rotateLog(file, this.#limits)) rotated.push(file);
      } catch (error) {
        this.#onError(error, file);
      }
    }
    return rotated;
  }

  start(): void {
    if (this.#timer !== undefined) return;
    this.#timer = setInterval(() => this.runOnce(), this.#intervalMs);
    this.#timer.unref();
  }

  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }
}

export interface ReadLogOptions {
  /** Only the last N lines (0 = none, then only new output with follow). */
  tailLines?: number;
  /** Keep reading as the file grows, until `signal` aborts. */
  follow?: boolean;
  signal?: AbortSignal;
  /** How often a followed file is checked for growth. */
  pollMs?: number;
}

const CHUNK = 64 * 1024;

// Byte offset where the last `lines` lines start, reading backwards in chunks.
function tailOffset(path: string, size: number, lines: number): number {
  if (lines <= 0) return size;
  const fd = openSync(path, 'r');
  try {
    let end = size;
    // A final newline ends the last line; it does not start an empty one.
    let skipTrailing = true;
    let seen = 0;
    const buffer = Buffer.alloc(CHUNK);
    while (end > 0) {
      const start = Math.max(0, end - CHUNK);
      const length = readSync(fd, buffer, 0, end - start, start);
      for (let index = length - 1; index >= 0; index -= 1) {
        if (buffer[index] !== 0x0a) {
          skipTrailing = false;
          continue;
        }
        if (skipTrailing) {
          skipTrailing = false;
          continue;
        }
        seen += 1;
        if (seen === lines) return start + index + 1;
      }
      end = start;
    }
    return 0;
  } finally {
    closeSync(fd);
  }
}

/**
 * Streams a container's log to `write` (awaited, so a slow client slows the read, not the
 * heap). With follow, keeps reading until `signal` aborts, starting over at 0 when the file
 * shrinks (rotated by copy-truncate) and waiting for it if it does not exist yet.
 */
export async function readLog(
  path: string,
  options: ReadLogOptions,
  write: (chunk: Buffer) => void | Promise<void>,
): Promise<void> {
  const { follow = false, signal, pollMs = 200 } = options;
  let size: number;
  try {
    size = statSync(path).size;
  } catch (error) {
    if (!follow) throw new RuntimeError(`log ${path}: ${(error as Error).message}; the container has not started yet or its logs were removed`, { cause: error, code: 'E_LOG_NOT_FOUND' });
    size = 0;
  }
  let position = options.tailLines === undefined ? 0 : size > 0 ? tailOffset(path, size, options.tailLines) : 0;
  const buffer = Buffer.alloc(CHUNK);
  for (;;) {
    if (signal?.aborted) return;
    let current: number;
    try {
      current = statSync(path).size;
    } catch {
      current = -1;
    }
    if (current >= 0 && current < position) position = 0; // truncated: the rotation started it over
    if (current > position) {
      const handle = await open(path, 'r');
      try {
        while (position < current && !signal?.aborted) {
          const { bytesRead } = await handle.read(buffer, 0, Math.min(CHUNK, current - position), position);
          if (bytesRead === 0) break;
          position += bytesRead;
          await write(Buffer.from(buffer.subarray(0, bytesRead)));
        }
      } finally {
        await handle.close();
      }
    }
    if (!follow) return;
    // An abort ends the wait early; the loop then sees the signal and stops.
    await sleep(pollMs, undefined, signal ? { signal } : {}).catch(() => undefined);
  }
}
