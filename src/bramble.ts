// The bundle's entry (dist/bramble.mjs): one file is both the daemon (`bramble server`) and the
// CLI. It only wires the real process into runCli; everything testable lives behind it.

import { hostname } from 'node:os';
import { runCli } from './cli/dispatch.ts';
import { VERSION } from './version.ts';

// `bramble logs -f | head`: the reader going away is the normal end of the output, not a crash.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code === 'EPIPE') process.exit(0);
  throw error;
});

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer));
  return Buffer.concat(chunks).toString('utf8');
}

const exitCode = await runCli(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  env: process.env,
  cwd: process.cwd(),
  hostname: hostname(),
  version: VERSION,
  runtime: { node: process.versions.node, platform: process.platform, arch: process.arch },
  // Read only when a command asks (`-f -`), so nothing else waits on a terminal's input.
  stdin: readStdin,
  // Loaded only for `server`, so CLI commands do not pay for the daemon's modules at start.
  startServer: async (options, env) => {
    const { runServer } = await import('./main.ts');
    return runServer(options, env);
  },
});
// exitCode, not exit(): let stdout drain; the server has closed its handles when it returns.
process.exitCode = exitCode;
