// The composition root of `bramble server`: build each part from explicit options, start them
// in order, wait for SIGINT/SIGTERM, stop them in reverse. Nothing else lives here.
import type { ServerEnv, ServerOptions } from './config/server-options.ts';
import { UsageError } from './errors.ts';
import { openDataDir } from './host/index.ts';
import { startMemoryGroup } from './store/memory-group.ts';
import { VERSION } from './version.ts';

function waitForShutdownSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const onSignal = (signal: NodeJS.Signals) => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      resolve(signal);
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  });
}

export async function runServer(options: ServerOptions, env: ServerEnv): Promise<number> {
  const log = env.logger.child({ component: 'server' });
  if (options.join !== undefined) {
    throw new UsageError('--join: joining a cluster needs the replicated store, which this version does not have yet; start without --join for a single-member gateway');
  }
  const dataDir = openDataDir(options.dataDir);
  log.info('bramble server starting', { version: VERSION, name: options.name, dataDir: dataDir.path, board: env.profile.name, pid: process.pid });
  log.warn('this version serves no HTTP API or peer link yet; --api-addr and --peer-addr are not listened on', { apiAddr: options.apiAddr, peerAddr: options.peerAddr });
  const raft = startMemoryGroup({ id: options.name, timing: env.profile.raft, logger: env.logger.child({ component: 'raft' }) });

  const signal = await waitForShutdownSignal();
  log.info('shutting down', { signal });
  raft.stop();
  dataDir.release();
  log.info('stopped');
  return 0;
}
