// The bundle's entry (dist/bramble.mjs): one file is both the daemon (`bramble server`) and the
// CLI. It only wires the real process into runCli; everything testable lives behind it.

import { hostname } from 'node:os';
import { runCli } from './cli/dispatch.ts';
import { VERSION } from './version.ts';

const exitCode = await runCli(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  env: process.env,
  cwd: process.cwd(),
  hostname: hostname(),
  version: VERSION,
  runtime: { node: process.versions.node, platform: process.platform, arch: process.arch },
  // Loaded only for `server`, so CLI commands do not pay for the daemon's modules at start.
  startServer: async (options, env) => {
    const { runServer } = await import('./main.ts');
    return runServer(options, env);
  },
});
// exitCode, not exit(): let stdout drain; the server has closed its handles when it returns.
process.exitCode = exitCode;
