// `bramble version`: this binary's version first (always), then the server's when it answers.
// An unreachable server is an error (exit 1), as with kubectl, but only after the client line,
// so `bramble version` still tells what is installed on a gateway whose daemon is down.

import { ApiError, apiTarget, withClient } from './api-client.ts';
import { CONNECTION_FLAGS } from './api-flags.ts';
import type { CommandSpec } from './flags.ts';
import { formatHelp, parseArgs } from './flags.ts';
import type { CliIo } from './io.ts';

export const VERSION_COMMAND = {
  name: 'version',
  summary: "Print the version of bramble and Node.js, and the server's version.",
  flags: {
    client: { type: 'bool', description: "only this binary's version; do not ask the server" },
    ...CONNECTION_FLAGS,
  },
} as const satisfies CommandSpec;

interface ServerVersion {
  major?: string;
  minor?: string;
  gitVersion?: string;
  platform?: string;
  bramble?: string;
}

export function clientVersionLine(io: Pick<CliIo, 'version' | 'runtime'>): string {
  const { node, platform, arch } = io.runtime;
  return `bramble ${io.version} (node ${node}, ${platform}/${arch})\n`;
}

/** `Server Version: bramble 0.1.0 (v1.30.0, linux/arm64)`, leaving out what the server did not say. */
export function serverVersionLine(v: ServerVersion): string {
  const kube = v.gitVersion ?? (v.major !== undefined ? `v${v.major}.${v.minor ?? '0'}` : undefined);
  const details = [kube, v.platform].filter((d): d is string => typeof d === 'string' && d !== '');
  const name = v.bramble ? `bramble ${v.bramble}` : (kube ?? 'unknown');
  const extra = v.bramble ? details : details.slice(1);
  return `Server Version: ${name}${extra.length > 0 ? ` (${extra.join(', ')})` : ''}\n`;
}

export async function runVersion(argv: readonly string[], io: CliIo): Promise<number> {
  const { flags, help } = parseArgs(VERSION_COMMAND, argv);
  if (help) {
    io.stdout.write(formatHelp(VERSION_COMMAND));
    return 0;
  }
  io.stdout.write(clientVersionLine(io));
  if (flags.client) return 0;
  let version: ServerVersion | undefined;
  try {
    version = await withClient(apiTarget(flags, io.env), (client) => client.get<ServerVersion>('/version'));
  } catch (error) {
    // No server to ask (a fresh machine, a gateway that is down) is not a failure of `version`:
    // the client's own version is what was asked for first.
    if (error instanceof ApiError && error.status === 0) {
      io.stderr.write(`bramble: server version unknown: ${error.message}\n`);
      return 0;
    }
    throw error;
  }
  io.stdout.write(serverVersionLine(version ?? {}));
  return 0;
}
