// Errors of the container runtime. A failing `ctr` call keeps the command line and ctr's own
// message (stderr, trimmed) so the agent can put them verbatim into a pod's status and events.
import { BrambleError, type BrambleErrorOptions } from '../errors.ts';

/** Anything the runtime could not do: containerd not starting, a bad image archive, ... */
export class RuntimeError extends BrambleError {
  constructor(message: string, options?: BrambleErrorOptions & { code?: string }) {
    super(options?.code ?? 'E_RUNTIME', message, options);
  }
}

export interface CtrErrorDetails {
  /** argv after `ctr`, without the global flags: `['run', '-d', ...]`. */
  args: readonly string[];
  /** Trimmed stderr (the `ctr: ` prefix removed), or a short reason if there was none. */
  stderr: string;
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  timedOut: boolean;
}

/** One `ctr` call that failed, timed out or could not be started. */
export class CtrError extends RuntimeError {
  readonly args: readonly string[];
  readonly stderr: string;
  readonly exitCode: number | null;
  readonly timedOut: boolean;

  constructor(details: CtrErrorDetails, options?: BrambleErrorOptions) {
    const command = `ctr ${details.args.join(' ')}`;
    // The whole command helps the most, but an env-heavy `run` can be kilobytes long.
    const what = command.length > 200 ? `${command.slice(0, 197)}...` : command;
    const why = details.timedOut
      ? `timed out${details.stderr ? `: ${details.stderr}` : ''}`
      : details.stderr || (details.signal ? `killed by ${details.signal}` : `exit code ${details.exitCode}`);
    super(`${what}: ${why}`, { ...options, code: details.timedOut ? 'E_CTR_TIMEOUT' : 'E_CTR' });
    this.args = details.args;
    this.stderr = details.stderr;
    this.exitCode = details.exitCode;
    this.timedOut = details.timedOut;
  }

  /** True when containerd said the object does not exist (safe to treat as already gone). */
  get notFound(): boolean {
    return /not found|no such/i.test(this.stderr);
  }
}
