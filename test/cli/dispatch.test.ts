// The whole CLI in memory: help, version, exit codes, and `server` up to the point where it
// hands fully resolved options and the profile to the daemon (a fake here).

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { COMMANDS } from '../../src/cli/commands.ts';
import { runCli, type CliIo, type ServerEnv } from '../../src/cli/dispatch.ts';
import type { ServerOptions } from '../../src/config/server-options.ts';

const CONFIG_DIR = fileURLToPath(new URL('../../firmware-configs/', import.meta.url));

function fakeIo(env: Record<string, string> = {}) {
  let out = '';
  let err = '';
  const started: { options: ServerOptions; env: ServerEnv }[] = [];
  const io: CliIo = {
    stdout: { write: (text: string) => (out += text) },
    stderr: { write: (text: string) => (err += text) },
    env: { BRAMBLE_CONFIG_DIR: CONFIG_DIR, ...env },
    cwd: '/srv',
    hostname: 'edge-1',
    version: '9.8.7',
    runtime: { node: '20.0.0', platform: 'linux', arch: 'x64' },
    startServer: async (options, serverEnv) => {
      started.push({ options, env: serverEnv });
      return 0;
    },
    probe: async () => ({ manufacturer: '', model: 'Docker Container', cpuBrand: 'EPYC', deviceTreeModel: '', arch: 'x64' }),
  };
  return { io, out: () => out, err: () => err, started };
}

describe('bramble CLI', () => {
  test('--help and help list every subcommand', async () => {
    for (const argv of [['--help'], ['help'], ['-h']]) {
      const run = fakeIo();
      assert.equal(await runCli(argv, run.io), 0);
      for (const command of COMMANDS) assert.match(run.out(), new RegExp(`\\n  ${command.name} +`), command.name);
      assert.match(run.out(), /\n {2}server +run the bramble daemon on this gateway\n/);
      assert.match(run.out(), /\n {2}get +list resources or show one\n/);
      assert.match(run.out(), /\n {2}rollout status +wait for a Deployment or DaemonSet rollout to finish\n/);
      assert.doesNotMatch(run.out(), /not implemented yet/);
      assert.match(run.out(), /take --server URL .*\n--token TOKEN .* -n\/--namespace NS .* -A\/--all-namespaces/);
    }
    for (const name of ['server', 'version', 'token', 'token create', 'cluster status', 'cluster remove', 'get', 'apply', 'create', 'delete', 'describe', 'scale', 'logs', 'exec', 'top', 'image import', 'image ls', 'image rm', 'drain']) {
      assert.ok(COMMANDS.some((command) => command.name === name), name);
    }
  });

  test('version --client and --version print bramble, node, platform and arch, asking no server', async () => {
    for (const argv of [['version', '--client'], ['--version']]) {
      const run = fakeIo({ BRAMBLE_SERVER: 'http://127.0.0.1:1' });
      assert.equal(await runCli(argv, run.io), 0);
      assert.equal(run.out(), 'bramble 9.8.7 (node 20.0.0, linux/x64)\n');
      assert.equal(run.err(), '');
    }
  });

  test('every API command has help naming its usage and the shared flags', async () => {
    for (const command of ['get', 'apply', 'create', 'delete', 'describe', 'scale', 'logs', 'exec', 'top']) {
      const run = fakeIo();
      assert.equal(await runCli([command, '--help'], run.io), 0, command);
      assert.match(run.out(), new RegExp(`^Usage: bramble ${command} `), command);
      assert.match(run.out(), /--server URL .*\n.*--token TOKEN/, command);
      assert.match(run.out(), /-n, --namespace NS/, command);
    }
    const help = fakeIo();
    assert.equal(await runCli(['help', 'token', 'create'], help.io), 0);
    assert.match(help.out(), /^Usage: bramble token create \[flags\]\n/);
    assert.match(help.out(), /--read-only/);
  });

  test('an unknown command is a usage error (exit 2)', async () => {
    const run = fakeIo();
    assert.equal(await runCli(['frobnicate'], run.io), 2);
    assert.equal(run.err(), `bramble: unknown command "frobnicate" (see 'bramble --help')\n`);
  });

  test('no command prints the help to stderr and exits 2', async () => {
    const run = fakeIo();
    assert.equal(await runCli([], run.io), 2);
    assert.match(run.err(), /Usage: bramble COMMAND/);
  });

  test('a command group without or with a wrong subcommand is a usage error', async () => {
    const bare = fakeIo();
    assert.equal(await runCli(['image'], bare.io), 2);
    assert.match(bare.err(), /bramble image: expected one of: import, ls, rm/);
    const wrong = fakeIo();
    assert.equal(await runCli(['cluster', 'explode'], wrong.io), 2);
    assert.match(wrong.err(), /unknown command "explode"/);
  });

  test('"token" is a command and a group: token create is the subcommand, other words go to token', async () => {
    const run = fakeIo();
    assert.equal(await runCli(['token', '--help'], run.io), 0);
    assert.match(run.out(), /^Usage: bramble token \[flags\]\n\nPrint the cluster's join token/);
    const extra = fakeIo();
    assert.equal(await runCli(['token', 'frobnicate'], extra.io), 2);
    assert.match(extra.err(), /^bramble token: unexpected argument "frobnicate"/);
  });

  test('server --help prints its flags without starting anything', async () => {
    const run = fakeIo();
    assert.equal(await runCli(['server', '--help'], run.io), 0);
    assert.match(run.out(), /--data-dir DIR/);
    assert.match(run.out(), /--eviction-timeout DURATION/);
    assert.equal(run.started.length, 0);
  });

  test('server with an unknown board exits 2 naming the board', async () => {
    const run = fakeIo();
    assert.equal(await runCli(['server', '--data-dir', '/tmp/x', '--name', 'x', '--board', 'no-such-board'], run.io), 2);
    assert.match(run.err(), /^bramble: unknown board "no-such-board": there is no .*no-such-board\.json; available boards: /);
    assert.equal(run.started.length, 0);
  });

  test('server with a bad flag exits 2 before reading any profile', async () => {
    const run = fakeIo({ BRAMBLE_CONFIG_DIR: '/does/not/exist' });
    assert.equal(await runCli(['server', '--api-addr', 'nowhere'], run.io), 2);
    assert.match(run.err(), /^bramble server: --api-addr: expected HOST:PORT/);
  });

  test('server detects the board, logs it, and starts with resolved options', async () => {
    const run = fakeIo();
    assert.equal(await runCli(['server', '--data-dir', 'data', '--log-level', 'debug'], run.io), 0);
    assert.equal(run.started.length, 1);
    const [{ options, env }] = run.started as [{ options: ServerOptions; env: ServerEnv }];
    assert.equal(options.name, 'edge-1');
    assert.equal(options.dataDir, '/srv/data');
    assert.equal(env.profile.name, 'generic-x86_64');
    assert.equal(env.logger.level, 'debug');
    const line = JSON.parse(run.err().split('\n')[0]!) as Record<string, unknown>;
    assert.equal(line['msg'], 'board profile loaded');
    assert.equal(line['component'], 'host');
    assert.equal(line['board'], 'generic-x86_64');
    assert.match(String(line['reason']), /Docker Container/);
  });

  test('server warns when the named board is for another architecture', async () => {
    const run = fakeIo();
    assert.equal(await runCli(['server', '--board', 'raspberry-pi-4'], run.io), 0);
    assert.match(run.err(), /"level":"warn","msg":"board profile is for another CPU architecture".*"profileArch":"arm64","processArch":"x64"/);
  });
});

describe('global flags before the command', () => {
  test('are moved behind the command words, and before an exec command\'s --', async () => {
    const { hoistGlobalFlags } = await import('../../src/cli/dispatch.ts');
    assert.deepEqual(hoistGlobalFlags(['--server', 'http://x', '-n', 'ns', 'get', 'pods']), ['get', 'pods', '--server', 'http://x', '-n', 'ns']);
    assert.deepEqual(hoistGlobalFlags(['--namespace=ns', '-A', 'get', 'pods']), ['get', 'pods', '--namespace=ns', '-A']);
    assert.deepEqual(hoistGlobalFlags(['-n', 'ns', 'exec', 'p', '--', 'sh', '-n', 'x']), ['exec', 'p', '-n', 'ns', '--', 'sh', '-n', 'x']);
    assert.deepEqual(hoistGlobalFlags(['get', 'pods', '-n', 'ns']), ['get', 'pods', '-n', 'ns']);
    assert.deepEqual(hoistGlobalFlags(['--server']), ['--server']);
  });
});
