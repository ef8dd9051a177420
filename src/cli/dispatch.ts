// `bramble ARGS...` → exit code. Everything the process touches (streams, environment, the
// hostname, how the daemon starts) comes in through `CliIo`, so tests run the whole CLI in
// memory; src/bramble.ts passes the real ones.

import {
  parseServerFlags,
  resolveServerOptions,
  SERVER_COMMAND,
  type ServerEnv,
  type ServerOptions,
} from '../config/server-options.ts';
import { BrambleError, NotImplementedError, ProfileError, UsageError } from '../errors.ts';
import { loadProfile, resolveConfigDir, type BoardProbe } from '../host/index.ts';
import { createLogger } from '../log/index.ts';
import { commandGroups, findCommand, formatMainHelp, type CommandEntry } from './commands.ts';
import { formatHelp, parseArgs } from './flags.ts';
import { runClusterRemove, runClusterStatus, runTokenCommand } from './cluster-commands.ts';

export type { ServerEnv } from '../config/server-options.ts';

export type StartServer = (options: ServerOptions, env: ServerEnv) => Promise<number>;

export interface CliIo {
  stdout: { write(text: string): unknown };
  stderr: { write(text: string): unknown };
  env: Readonly<Record<string, string | undefined>>;
  cwd: string;
  hostname: string;
  version: string;
  /** node version, platform and arch for `bramble version`. */
  runtime: { node: string; platform: string; arch: string };
  startServer: StartServer;
  /** Board detection for `--board auto`; systeminformation when absent. */
  probe?: BoardProbe;
}

const EXIT_OK = 0;
const EXIT_FAILURE = 1;
// Like most CLIs: 2 means "you asked for something wrong", 1 means "it went wrong".
const EXIT_USAGE = 2;

function exitCodeFor(error: BrambleError): number {
  return error instanceof UsageError || error instanceof ProfileError ? EXIT_USAGE : EXIT_FAILURE;
}

// UsageError messages already start with "bramble <command>:"; the others get the prefix,
// on every line, so a multi-problem profile error stays grep-able line by line.
function formatError(error: BrambleError): string {
  if (error instanceof UsageError && error.message.startsWith('bramble')) return `${error.message}\n`;
  return `${error.message.split('\n').map((line) => `bramble: ${line}`).join('\n')}\n`;
}

async function runServerCommand(argv: readonly string[], io: CliIo): Promise<number> {
  const { flags, help } = parseServerFlags(argv);
  if (help) {
    io.stdout.write(formatHelp(SERVER_COMMAND));
    return EXIT_OK;
  }
  const configDir = resolveConfigDir({ flag: flags['config-dir'], env: io.env['BRAMBLE_CONFIG_DIR'], cwd: io.cwd });
  const loaded = await loadProfile(flags.board, { configDir, cwd: io.cwd, ...(io.probe ? { probe: io.probe } : {}) });
  const options = resolveServerOptions(flags, { hostname: io.hostname, cwd: io.cwd, profile: loaded.profile });
  const logger = createLogger({ level: options.logLevel, sink: io.stderr });
  const hostLog = logger.child({ component: 'host' });
  hostLog.info('board profile loaded', {
    board: loaded.profile.name,
    file: loaded.file,
    requested: flags.board,
    reason: loaded.detectionReason,
  });
  if (loaded.profile.arch !== io.runtime.arch) {
    hostLog.warn('board profile is for another CPU architecture', {
      board: loaded.profile.name,
      profileArch: loaded.profile.arch,
      processArch: io.runtime.arch,
    });
  }
  return io.startServer(options, { logger, profile: loaded.profile });
}

function runVersionCommand(argv: readonly string[], io: CliIo): number {
  const spec = { name: 'version', summary: 'Print the version of bramble and Node.js.', flags: {} } as const;
  if (parseArgs(spec, argv).help) {
    io.stdout.write(formatHelp(spec));
    return EXIT_OK;
  }
  const { node, platform, arch } = io.runtime;
  io.stdout.write(`bramble ${io.version} (node ${node}, ${platform}/${arch})\n`);
  return EXIT_OK;
}

function notImplemented(command: CommandEntry, argv: readonly string[], io: CliIo): number {
  if (argv.includes('--help') || argv.includes('-h')) {
    io.stdout.write(`Usage: bramble ${command.name} [flags]\n\n${command.summary}.\n\nNot implemented yet in this version (${io.version}).\n`);
    return EXIT_OK;
  }
  throw new NotImplementedError(`${command.name}: not implemented yet in this version (${io.version})`);
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

// Resolves "cluster status" / "image ls" style names; the rest of argv goes to the command.
function resolveCommand(argv: readonly string[]): { command: CommandEntry; rest: readonly string[] } {
  const [first, second] = argv;
  const groups = commandGroups();
  const group = first === undefined ? undefined : groups.get(first);
  if (group !== undefined) {
    if (second === undefined || second.startsWith('-')) {
      throw new UsageError(`bramble ${first}: expected one of: ${group.join(', ')} (see 'bramble --help')`);
    }
    const command = findCommand(`${first} ${second}`);
    if (command === undefined) {
      throw new UsageError(`bramble ${first}: unknown command ${JSON.stringify(second)}; expected one of: ${group.join(', ')}`);
    }
    return { command, rest: argv.slice(2) };
  }
  const command = first === undefined ? undefined : findCommand(first);
  if (command === undefined) throw new UsageError(`bramble: unknown command ${JSON.stringify(first)} (see 'bramble --help')`);
  return { command, rest: argv.slice(1) };
}

async function dispatch(argv: readonly string[], io: CliIo): Promise<number> {
  const first = argv[0];
  if (first === undefined) {
    io.stderr.write(formatMainHelp(io.version));
    return EXIT_USAGE;
  }
  if (first === '--help' || first === '-h') return helpFor([], io);
  if (first === '--version') return runVersionCommand([], io);
  const { command, rest } = resolveCommand(argv);
  switch (command.name) {
    case 'help':
      return helpFor(rest, io);
    case 'version':
      return runVersionCommand(rest, io);
    case 'server':
      return runServerCommand(rest, io);
    case 'token':
      return runTokenCommand(rest, io);
    case 'cluster status':
      return runClusterStatus(rest, io);
    case 'cluster remove':
      return runClusterRemove(rest, io);
    default:
      return notImplemented(command, rest, io);
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
