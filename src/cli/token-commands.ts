// `bramble token` prints the cluster's join token from this gateway's data directory (for
// joining gateways); `bramble token create [--read-only]` asks the API for a bearer token (for
// people and scripts), printed alone so that `$(bramble token create)` works.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { BrambleError } from '../errors.ts';
import { apiTarget, withClient } from './api-client.ts';
import { CONNECTION_FLAGS } from './api-flags.ts';
import type { CommandSpec } from './flags.ts';
import { formatHelp, parseArgs } from './flags.ts';
import type { CommandIo } from './io.ts';

export const TOKEN_COMMAND = {
  name: 'token',
  summary: "Print the cluster's join token (from this gateway's data directory).",
  flags: { 'data-dir': { type: 'string', short: 'd', valueName: 'DIR', description: "the gateway's data directory", default: '/var/lib/bramble' } },
} as const satisfies CommandSpec;

export const TOKEN_CREATE_COMMAND = {
  name: 'token create',
  summary: 'Create an API bearer token and print it (use it with --token or BRAMBLE_TOKEN).',
  examples: ['bramble token create --read-only', 'BRAMBLE_TOKEN=$(bramble token create) bramble get pods'],
  flags: {
    'read-only': { type: 'bool', description: 'the token may read but not change anything' },
    ...CONNECTION_FLAGS,
  },
} as const satisfies CommandSpec;

export function runTokenCommand(argv: readonly string[], io: Pick<CommandIo, 'stdout'>): number {
  const { flags, help } = parseArgs(TOKEN_COMMAND, argv);
  if (help) {
    io.stdout.write(formatHelp(TOKEN_COMMAND));
    return 0;
  }
  const path = join(flags['data-dir'], 'token');
  let token: string;
  try {
    token = readFileSync(path, 'utf8').trim();
  } catch (err) {
    throw new BrambleError('E_TOKEN', `cannot read ${path} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}); the token is written when a gateway first starts — give its --data-dir`);
  }
  io.stdout.write(`${token}\n`);
  return 0;
}

export async function runTokenCreate(argv: readonly string[], io: CommandIo): Promise<number> {
  const { flags, help } = parseArgs(TOKEN_CREATE_COMMAND, argv);
  if (help) {
    io.stdout.write(formatHelp(TOKEN_CREATE_COMMAND));
    return 0;
  }
  const answer = await withClient(apiTarget(flags, io.env), (client) => client.post<{ token?: string }>('/bramble/v1/tokens', { readOnly: flags['read-only'] }));
  if (typeof answer?.token !== 'string' || answer.token === '') throw new BrambleError('E_API', 'the server answered without a token');
  io.stdout.write(`${answer.token}\n`);
  return 0;
}
