// `bramble server`: resolve flags, board profile and logger, then hand over to the daemon.

import { parseServerFlags, resolveServerOptions, SERVER_COMMAND } from '../config/server-options.ts';
import { loadProfile, resolveConfigDir } from '../host/index.ts';
import { createLogger } from '../log/index.ts';
import { formatHelp } from './flags.ts';
import type { CliIo } from './io.ts';

export async function runServerCommand(argv: readonly string[], io: CliIo): Promise<number> {
  const { flags, help } = parseServerFlags(argv);
  if (help) {
    io.stdout.write(formatHelp(SERVER_COMMAND));
    return 0;
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
