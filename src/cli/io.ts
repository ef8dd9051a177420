// What a CLI command may touch of the process. Everything comes in through here so the whole CLI
// runs in memory in tests; src/bramble.ts passes the real streams, environment and clock.

import type { ServerEnv, ServerOptions } from '../config/server-options.ts';
import type { BoardProbe } from '../host/index.ts';

export type StartServer = (options: ServerOptions, env: ServerEnv) => Promise<number>;

export interface Writer {
  write(text: string): unknown;
}

export interface CliIo {
  stdout: Writer;
  stderr: Writer;
  env: Readonly<Record<string, string | undefined>>;
  cwd: string;
  hostname: string;
  version: string;
  /** node version, platform and arch for `bramble version`. */
  runtime: { node: string; platform: string; arch: string };
  startServer: StartServer;
  /** Board detection for `--board auto`; systeminformation when absent. */
  probe?: BoardProbe;
  /** All of standard input, for `-f -`. Read only when a command asks, so nothing else waits on it. */
  stdin?: () => Promise<string>;
  /** Ends streaming commands (`get -w`, `logs -f`) cleanly; tests use it, a terminal uses Ctrl-C. */
  signal?: AbortSignal;
  /** The clock ages are measured against; fixed in tests so `5m` stays `5m`. */
  now?: () => number;
}

/** The part of CliIo the API commands use. */
export type CommandIo = Pick<CliIo, 'stdout' | 'stderr' | 'env' | 'cwd' | 'stdin' | 'signal' | 'now'>;

export function nowOf(io: Pick<CliIo, 'now'>): number {
  return io.now ? io.now() : Date.now();
}
