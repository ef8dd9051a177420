// `bramble ARGS...` → exit code. This file only routes: it finds the command, runs it, and turns
// expected errors into one line on stderr and an exit status. Everything the process touches
// comes in through `CliIo` (src/cli/io.ts), so tests run the whole CLI in memory; src/bramble.ts
// passes the real ones.

import { SERVER_COMMAND } from '../config/server-options.ts';
import { BrambleError, ProfileError, UsageError } from '../errors.ts';
import { ApiError } from './api-client.ts';
import { runApply, runCreate } from './apply-command.ts';
import { runClusterRemove, runClusterStatus } from './cluster-commands.ts';
import { commandGroups, findCommand, formatMainHelp, type CommandEntry } from './commands.ts';
import { runDelete } from './delete-command.ts';
import { runDescribe } from './describe-command.ts';
import { formatHelp } from './flags.ts';
import { runGet } from './get-command.ts';
import type { CliIo } from './io.ts';
import { runServerCommand } from './server-command.ts';
import { runImageImport, runImageLs, runImageRm } from './image-commands.ts';
import { runCordon, runDrain, runUncordon } from './node-commands.ts';
import { runRolloutHistory, runRolloutRestart, runRolloutStatus, runRolloutUndo } from './rollout-command.ts';
import { runTokenCommand, runTokenCreate } from './token-commands.ts';
import { runTop } from './top-command.ts';
import { clientVersionLine, runVersion } from './version-command.ts';
import { runExec, runLogs, runScale } from './workload-commands.ts';

export type { ServerEnv } from '../config/server-options.ts';
export type { CliIo, StartServer } from './io.ts';

const EXIT_OK = 0;
const EXIT_FAILURE = 1;
// Like most CLIs: 2 means "you asked for something wrong", 1 means "it went wrong".
const EXIT_USAGE = 2;

function exitCodeFor(error: BrambleError): number {
  return error instanceof UsageError || error instanceof ProfileError ? EXIT_USAGE : EXIT_FAILURE;
}

// UsageError messages already start with "bramble <command>:" and a server's refusal reads as
// kubectl's "Error from server (...)"; the others get the prefix, on every line, so a
// multi-problem profile error stays grep-able line by line.
function formatError(error: BrambleError): string {
  if (error instanceof UsageError && error.message.startsWith('bramble')) return `${error.message}\n`;
  if (error instanceof ApiError && error.message.startsWith('Error from server')) return `${error.message}\n`;
  return `${error.message.split('\n').map((line) => `bramble: ${line}`).join('\n')}\n`;
}

async function helpFor(topic: readonly string[], io: CliIo): Promise<number> {
  if (topic.length === 0) {
    io.stdout.write(formatMainHelp(io.version));
    return EXIT_OK;
  }
  if (topic[0] === 'server') {
    io.stdout.write(formatHelp(SERVER_COMMAND));
    return EXIT_OK;
  }
  return dispatch([...topic, '--help'], io);
}

// Resolves "cluster status" / "token create" style names; the rest of argv goes to the command.
// A word that is both a command and a group ("token") is the command unless a known
// subcommand follows.
function resolveCommand(argv: readonly string[]): { command: CommandEntry; rest: readonly string[] } {
  const [first, second] = argv;
  const pair = first !== undefined && second !== undefined ? findCommand(`${first} ${second}`) : undefined;
  if (pair !== undefined) return { command: pair, rest: argv.slice(2) };
  const single = first === undefined ? undefined : findCommand(first);
  if (single !== undefined) return { command: single, rest: argv.slice(1) };
  const group = first === undefined ? undefined : commandGroups().get(first);
  if (group !== undefined) {
    if (second === undefined || second.startsWith('-')) {
      throw new UsageError(`bramble ${first}: expected one of: ${group.join(', ')} (see 'bramble --help')`);
    }
    throw new UsageError(`bramble ${first}: unknown command ${JSON.stringify(second)}; expected one of: ${group.join(', ')}`);
  }
  throw new UsageError(`bramble: unknown command ${JSON.stringify(first)} (see 'bramble --help')`);
}

// kubectl takes its global flags before the command too (`kubectl -n kube-system get pods`).
const LEADING_VALUE_FLAGS = new Set(['--server', '--token', '-n', '--namespace']);
const LEADING_SWITCHES = new Set(['-A', '--all-namespaces']);

/** Moves global API flags given before the command to after it, where the command parses them. */
export function hoistGlobalFlags(argv: readonly string[]): readonly string[] {
  const leading: string[] = [];
  let i = 0;
  while (i < argv.length) {
    const arg = argv[i]!;
    const name = arg.includes('=') ? arg.slice(0, arg.indexOf('=')) : arg;
    if (LEADING_SWITCHES.has(arg)) {
      leading.push(arg);
      i += 1;
    } else if (LEADING_VALUE_FLAGS.has(name) && name !== arg) {
      leading.push(arg);
      i += 1;
    } else if (LEADING_VALUE_FLAGS.has(arg) && i + 1 < argv.length) {
      leading.push(arg, argv[i + 1]!);
      i += 2;
    } else break;
  }
  if (leading.length === 0 || i >= argv.length) return argv;
  const rest = argv.slice(i);
  // Everything after `--` belongs to the command run by exec; the flags go before it.
  const dashes = rest.indexOf('--');
  return dashes < 0 ? [...rest, ...leading] : [...rest.slice(0, dashes), ...leading, ...rest.slice(dashes)];
}

async function dispatch(rawArgv: readonly string[], io: CliIo): Promise<number> {
  const argv = hoistGlobalFlags(rawArgv);
  const first = argv[0];
  if (first === undefined) {
    io.stderr.write(formatMainHelp(io.version));
    return EXIT_USAGE;
  }
  if (first === '--help' || first === '-h') return helpFor([], io);
  // The flag form only ever describes this binary; `bramble version` also asks the server.
  if (first === '--version') {
    io.stdout.write(clientVersionLine(io));
    return EXIT_OK;
  }
  const { command, rest } = resolveCommand(argv);
  switch (command.name) {
    case 'help':
      return helpFor(rest, io);
    case 'version':
      return runVersion(rest, io);
    case 'server':
      return runServerCommand(rest, io);
    case 'token':
      return runTokenCommand(rest, io);
    case 'token create':
      return runTokenCreate(rest, io);
    case 'image import':
      return runImageImport(rest, io);
    case 'image ls':
      return runImageLs(rest, io);
    case 'image rm':
      return runImageRm(rest, io);
    case 'cluster status':
      return runClusterStatus(rest, io);
    case 'cluster remove':
      return runClusterRemove(rest, io);
    case 'get':
      return runGet(rest, io);
    case 'apply':
      return runApply(rest, io);
    case 'create':
      return runCreate(rest, io);
    case 'delete':
      return runDelete(rest, io);
    case 'describe':
      return runDescribe(rest, io);
    case 'scale':
      return runScale(rest, io);
    case 'rollout status':
      return runRolloutStatus(rest, io);
    case 'rollout history':
      return runRolloutHistory(rest, io);
    case 'rollout undo':
      return runRolloutUndo(rest, io);
    case 'rollout restart':
      return runRolloutRestart(rest, io);
    case 'logs':
      return runLogs(rest, io);
    case 'exec':
      return runExec(rest, io);
    case 'top':
      return runTop(rest, io);
    case 'cordon':
      return runCordon(rest, io);
    case 'uncordon':
      return runUncordon(rest, io);
    case 'drain':
      return runDrain(rest, io);
    default:
      // Every entry of COMMANDS has a case above; a new entry without one is a bug here.
      throw new Error(`bramble: internal error: no handler for the command ${JSON.stringify(command.name)}`);
  }
}

/** Runs one CLI invocation; never throws for expected errors, it prints them and returns 1 or 2. */
export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  try {
    return await dispatch(argv, io);
  } catch (error) {
    if (error instanceof BrambleError) {
      io.stderr.write(formatError(error));
      return exitCodeFor(error);
    }
    throw error;
  }
}
