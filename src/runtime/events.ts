// containerd's event stream (`ctr events`), kept running for the daemon's lifetime. It is the
// only way ctr 1.6 reports a task's exit code and time without deleting the task, and it tells
// the agent about exits and OOM kills as they happen instead of at its next poll.
import { spawn, type ChildProcess } from 'node:child_process';
import type { Logger } from '../log/index.ts';
import type { Ctr } from './ctr.ts';

export interface TaskExit {
  containerId: string;
  pid: number;
  exitCode: number;
  exitedAt: string;
}

export type TaskEvent =
  | { type: 'start'; containerId: string; pid: number }
  | ({ type: 'exit' } & TaskExit)
  | { type: 'oom'; containerId: string }
  | { type: 'delete'; containerId: string };

/** One `ctr events` line: `2026-01-02 03:04:05.6 +0000 UTC <namespace> <topic> <json>`. */
export function parseEventLine(line: string, namespace: string): TaskEvent | undefined {
  const match = /^\S+ \S+ \S+ \S+ (\S+) (\/\S+) (\{.*\})\s*$/.exec(line);
  if (!match || match[1] !== namespace) return undefined;
  let body: Record<string, unknown>;
  try {
    body = JSON.parse(match[3]!) as Record<string, unknown>;
  } catch {
    return undefined;
  }
  const containerId = typeof body['container_id'] === 'string' ? body['container_id'] : undefined;
  if (containerId === undefined) return undefined;
  const pid = typeof body['pid'] === 'number' ? body['pid'] : 0;
  switch (match[2]) {
    case '/tasks/start':
      return { type: 'start', containerId, pid };
    case '/tasks/exit':
      // Exec'd processes exit too; only the task's own process (id == container id) counts.
      if (body['id'] !== containerId) return undefined;
      // Protobuf JSON leaves out zero values: no exit_status means 0.
      return {
        type: 'exit',
        containerId,
        pid,
        exitCode: typeof body['exit_status'] === 'number' ? body['exit_status'] : 0,
        exitedAt: typeof body['exited_at'] === 'string' ? body['exited_at'] : new Date().toISOString(),
      };
    case '/tasks/oom':
      return { type: 'oom', containerId };
    case '/tasks/delete':
      return { type: 'delete', containerId };
    default:
      return undefined;
  }
}

export class TaskEvents {
  readonly #ctr: Ctr;
  readonly #logger: Logger;
  readonly #exits = new Map<string, TaskExit>();
  readonly #oom = new Set<string>();
  readonly #listeners = new Set<(event: TaskEvent) => void>();
  #child: ChildProcess | undefined;
  #stopped = true;
  #timer: NodeJS.Timeout | undefined;
  #delayMs = 250;

  constructor(ctr: Ctr, logger: Logger) {
    this.#ctr = ctr;
    this.#logger = logger.child({ component: 'runtime-events' });
  }

  start(): void {
    if (!this.#stopped) return;
    this.#stopped = false;
    this.#spawn();
  }

  stop(): void {
    this.#stopped = true;
    clearTimeout(this.#timer);
    this.#child?.kill('SIGTERM');
    this.#child = undefined;
  }

  /** Called for each event of this namespace; returns the unsubscribe function. */
  subscribe(listener: (event: TaskEvent) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** The last exit of the container's current task, if it was seen. */
  lastExit(containerId: string): TaskExit | undefined {
    return this.#exits.get(containerId);
  }

  /** Whether the kernel's OOM killer hit the container's current task (seen as an event). */
  sawOom(containerId: string): boolean {
    return this.#oom.has(containerId);
  }

  /** Feeds one line (exported for tests of the bookkeeping). */
  handleLine(line: string): void {
    const event = parseEventLine(line, this.#ctr.namespace);
    if (event === undefined) return;
    if (event.type === 'start') {
      this.#exits.delete(event.containerId);
      this.#oom.delete(event.containerId);
    } else if (event.type === 'exit') {
      this.#exits.set(event.containerId, { containerId: event.containerId, pid: event.pid, exitCode: event.exitCode, exitedAt: event.exitedAt });
    } else if (event.type === 'oom') {
      this.#oom.add(event.containerId);
    }
    // 'delete' keeps the record: the agent may ask for the exit code after removing the task.
    for (const listener of this.#listeners) {
      try {
        listener(event);
      } catch (error) {
        this.#logger.error('task event listener failed', { error });
      }
    }
  }

  /** Drops what is remembered about a container (after it is removed for good). */
  forget(containerId: string): void {
    this.#exits.delete(containerId);
    this.#oom.delete(containerId);
  }

  #spawn(): void {
    const child = spawn(this.#ctr.ctrPath, ['--address', this.#ctr.address, 'events'], { env: this.#ctr.env(), stdio: ['ignore', 'pipe', 'pipe'] });
    this.#child = child;
    let buffered = '';
    const startedAt = Date.now();
    child.stdout.on('data', (chunk: Buffer) => {
      buffered += chunk.toString('utf8');
      const lines = buffered.split('\n');
      buffered = lines.pop() ?? '';
      for (const line of lines) this.handleLine(line);
    });
    child.stderr.resume();
    child.on('error', () => {
      // 'close' follows and schedules the retry.
    });
    child.on('close', () => {
      if (this.#stopped || this.#child !== child) return;
      // The stream ends when containerd restarts; reconnect with a bounded back-off.
      this.#delayMs = Date.now() - startedAt > 10_000 ? 250 : Math.min(this.#delayMs * 2, 5_000);
      this.#logger.debug('ctr events ended; reconnecting', { inMs: this.#delayMs });
      this.#timer = setTimeout(() => this.#spawn(), this.#delayMs);
    });
  }
}
