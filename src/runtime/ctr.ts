// The one way bramble talks to containerd: the `ctr` CLI, as `ctr --address SOCK -n NS ...`.
// Every call has a timeout, runs under a small concurrency bound, and a failure becomes a
// CtrError that carries the command and ctr's own message for pod status and events.

import { spawn } from 'node:child_process';
import { CtrError } from './errors.ts';
import { Limiter } from './limiter.ts';

export const DEFAULT_NAMESPACE = 'bramble';

export interface CtrOptions {
  /** containerd's socket. */
  address: string;
  /** containerd namespace; `bramble` unless a test isolates itself. */
  namespace?: string;
  /** The binary; `ctr` from PATH by default. */
  ctrPath?: string;
  /** Default per-call timeout. */
  timeoutMs?: number;
  /** ctr processes at once for ordinary calls (default 4). `exec` calls have a lane of their own of the same size. */
  concurrency?: number;
  /** ctr picks the snapshotter client-side (run, import); unset means containerd's default (overlayfs). */
  snapshotter?: string;
  /** Where ctr makes its IO fifos for exec (default: ctr's /run/containerd/fifo). */
  fifoDir?: string;
  /** ctr's own dial timeout: without one, ctr waits out our whole timeout when containerd is down. */
  connectTimeoutMs?: number;
}

export interface CtrCallOptions {
  timeoutMs?: number;
  signal?: AbortSignal;
  /** Exit codes that are not failures (e.g. `task exec` returning the process's code). */
  okExitCode?: (code: number, stderr: string) => boolean;
  /** Called with each complete stdout/stderr line as it arrives (import progress). */
  onLine?: (line: string, stream: 'stdout' | 'stderr') => void;
  /** Output kept per stream; the rest is dropped (a chatty exec must not fill the heap). */
  maxOutputBytes?: number;
  /** `exec` calls may run long (a probe, a user's command) and get their own bounded lane. */
  lane?: 'control' | 'exec';
}

export interface CtrResult {
  stdout: string;
  stderr: string;
  exitCode: number;
}

const DEFAULT_TIMEOUT_MS = 30_000;
const DEFAULT_MAX_OUTPUT = 8 * 1024 * 1024;

/**
 * ctr's stderr as one readable line: its `ctr: ` prefix and logrus framing
 * (`time="..." level=error msg="..."`) removed, blank lines dropped.
 */
export function cleanStderr(text: string): string {
  const lines: string[] = [];
  for (const raw of text.split('\n')) {
    let line = raw.trim();
    if (line.length === 0) continue;
    const logrus = /^time="[^"]*" level=\w+ msg="((?:[^"\\]|\\.)*)"(.*)$/.exec(line);
    if (logrus) line = `${logrus[1]!.replace(/\\"/g, '"')}${logrus[2]!}`.trim();
    if (line.startsWith('ctr: ')) line = line.slice('ctr: '.length);
    lines.push(line);
  }
  return lines.join('; ');
}

export class Ctr {
  readonly address: string;
  readonly namespace: string;
  readonly ctrPath: string;
  readonly timeoutMs: number;
  readonly snapshotter: string | undefined;
  readonly fifoDir: string | undefined;
  readonly connectTimeoutMs: number;
  readonly #control: Limiter;
  readonly #exec: Limiter;

  constructor(options: CtrOptions) {
    this.address = options.address;
    this.namespace = options.namespace ?? DEFAULT_NAMESPACE;
    this.ctrPath = options.ctrPath ?? 'ctr';
    this.timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.snapshotter = options.snapshotter;
    this.fifoDir = options.fifoDir;
    this.connectTimeoutMs = Math.min(options.connectTimeoutMs ?? 3_000, this.timeoutMs);
    this.#control = new Limiter(options.concurrency ?? 4);
    this.#exec = new Limiter(options.concurrency ?? 4);
  }

  /** The same containerd, another namespace (tests, or looking at another tool's containers). */
  withNamespace(namespace: string): Ctr {
    return new Ctr({ ...this.#options(), namespace });
  }

  #options(): CtrOptions {
    return {
      address: this.address,
      namespace: this.namespace,
      ctrPath: this.ctrPath,
      timeoutMs: this.timeoutMs,
      concurrency: this.#control.max,
      connectTimeoutMs: this.connectTimeoutMs,
      ...(this.snapshotter === undefined ? {} : { snapshotter: this.snapshotter }),
      ...(this.fifoDir === undefined ? {} : { fifoDir: this.fifoDir }),
    };
  }

  /** argv for a spawn of ctr outside this wrapper (the long-lived `ctr events`). */
  argv(args: readonly string[]): string[] {
    return ['--address', this.address, '--connect-timeout', `${this.connectTimeoutMs}ms`, '-n', this.namespace, ...args];
  }

  /** Environment for ctr: the snapshotter is a client-side choice in ctr 1.6. */
  env(): NodeJS.ProcessEnv {
    const env: NodeJS.ProcessEnv = { ...process.env };
    // A stray CONTAINERD_NAMESPACE/ADDRESS in the daemon's environment must not redirect calls.
    delete env['CONTAINERD_NAMESPACE'];
    delete env['CONTAINERD_ADDRESS'];
    if (this.snapshotter !== undefined) env['CONTAINERD_SNAPSHOTTER'] = this.snapshotter;
    return env;
  }

  /** Runs `ctr --address SOCK -n NS ...args`; throws CtrError unless it exits 0 (or okExitCode). */
  run(args: readonly string[], options: CtrCallOptions = {}): Promise<CtrResult> {
    const limiter = options.lane === 'exec' ? this.#exec : this.#control;
    return limiter.run(() => this.#spawn(args, options));
  }

  #spawn(args: readonly string[], options: CtrCallOptions): Promise<CtrResult> {
    const timeoutMs = options.timeoutMs ?? this.timeoutMs;
    const maxOutput = options.maxOutputBytes ?? DEFAULT_MAX_OUTPUT;
    return new Promise<CtrResult>((resolve, reject) => {
      if (options.signal?.aborted) {
        reject(new CtrError({ args, stderr: 'aborted before start', exitCode: null, signal: null, timedOut: false }));
        return;
      }
      const child = spawn(this.ctrPath, this.argv(args), { env: this.env(), stdio: ['ignore', 'pipe', 'pipe'] });
      const out = { stdout: [] as Buffer[], stderr: [] as Buffer[], stdoutBytes: 0, stderrBytes: 0 };
      const partial = { stdout: '', stderr: '' };
      let timedOut = false;
      let aborted = false;
      let spawnError: Error | undefined;
      const collect = (stream: 'stdout' | 'stderr') => (chunk: Buffer) => {
        const bytesKey = stream === 'stdout' ? 'stdoutBytes' : 'stderrBytes';
        if (out[bytesKey] < maxOutput) {
          const keep = chunk.subarray(0, maxOutput - out[bytesKey]);
          out[stream].push(keep);
          out[bytesKey] += keep.length;
        }
        if (options.onLine) {
          const text = partial[stream] + chunk.toString('utf8');
          // Progress output uses \r as well as \n between updates.
          const lines = text.split(/\r?\n|\r/);
          partial[stream] = lines.pop() ?? '';
          for (const line of lines) if (line.trim().length > 0) options.onLine(line, stream);
        }
      };
      child.stdout.on('data', collect('stdout'));
      child.stderr.on('data', collect('stderr'));
      const timer = setTimeout(() => {
        timedOut = true;
        child.kill('SIGKILL');
      }, timeoutMs);
      const onAbort = () => {
        aborted = true;
        child.kill('SIGKILL');
      };
      options.signal?.addEventListener('abort', onAbort, { once: true });
      child.on('error', (error) => {
        spawnError = error;
      });
      child.on('close', (code, signal) => {
        clearTimeout(timer);
        options.signal?.removeEventListener('abort', onAbort);
        if (options.onLine) {
          for (const stream of ['stdout', 'stderr'] as const) if (partial[stream].trim().length > 0) options.onLine(partial[stream], stream);
        }
        const stdout = Buffer.concat(out.stdout).toString('utf8');
        const rawStderr = Buffer.concat(out.stderr).toString('utf8');
        if (spawnError !== undefined) {
          const missing = (spawnError as NodeJS.ErrnoException).code === 'ENOENT';
          const why = missing
            ? `${this.ctrPath} not found: install containerd, which brings ctr (sh scripts/setup.sh host)`
            : `cannot start ${this.ctrPath}: ${spawnError.message}`;
          reject(new CtrError({ args, stderr: why, exitCode: null, signal: null, timedOut: false }, { cause: spawnError }));
          return;
        }
        if (code === 0 || (code !== null && !timedOut && !aborted && options.okExitCode?.(code, rawStderr))) {
          resolve({ stdout, stderr: rawStderr, exitCode: code });
          return;
        }
        let stderr = cleanStderr(rawStderr);
        if (timedOut) stderr = `no answer within ${timeoutMs} ms (is containerd at ${this.address} running?)${stderr ? `; ${stderr}` : ''}`;
        else if (aborted) stderr = `aborted${stderr ? `; ${stderr}` : ''}`;
        reject(new CtrError({ args, stderr, exitCode: code, signal, timedOut }));
      });
    });
  }
}
