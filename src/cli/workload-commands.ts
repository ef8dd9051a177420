// `bramble scale`, `bramble logs`, `bramble exec`: the commands that act on one running workload
// through its subresources (scale, log, exec).

import { UsageError } from '../errors.ts';
import { qualifiedName, resolveResourceName, type ResourceInfo } from '../model/index.ts';
import { ApiError, type Query } from './api-client.ts';
import { API_FLAGS, refuseAllNamespaces, withApi } from './api-flags.ts';
import type { CommandSpec } from './flags.ts';
import { formatHelp, parseArgs } from './flags.ts';
import type { CommandIo } from './io.ts';
import { objectPath, parseResourceArgs } from './resources.ts';

/** How long `exec` waits for the command's output: the gateway's own limit is 5 minutes. */
const EXEC_ANSWER_MS = 5 * 60_000 + 30_000;

export const SCALE_COMMAND = {
  name: 'scale',
  summary: 'Set the number of replicas of a Deployment or ReplicaSet (its scale subresource).',
  usage: '(TYPE NAME... | TYPE/NAME...) --replicas=N [flags]',
  examples: ['bramble scale deploy/web --replicas=3', 'bramble scale deployment web --replicas 0'],
  flags: {
    replicas: { type: 'int', valueName: 'N', description: 'the new number of replicas (required)' },
    'current-replicas': { type: 'int', valueName: 'N', description: 'only scale if the current number of replicas is N' },
    ...API_FLAGS,
  },
  positionals: { name: 'TYPE NAME', min: 1, max: Number.POSITIVE_INFINITY },
} as const satisfies CommandSpec;

interface Scale {
  apiVersion?: string;
  kind?: string;
  metadata?: { name?: string; namespace?: string; resourceVersion?: string };
  spec?: { replicas?: number };
  status?: { replicas?: number; selector?: string };
}

export async function runScale(argv: readonly string[], io: CommandIo): Promise<number> {
  const { flags, positionals, help } = parseArgs(SCALE_COMMAND, argv);
  if (help) {
    io.stdout.write(formatHelp(SCALE_COMMAND));
    return 0;
  }
  refuseAllNamespaces('scale', flags);
  const replicas = flags.replicas;
  if (replicas === undefined) throw new UsageError(`bramble scale: --replicas=N is required (see 'bramble scale --help')`);
  if (replicas < 0) throw new UsageError(`bramble scale: --replicas must be 0 or more, got ${replicas}`);
  const requests = parseResourceArgs('scale', positionals);
  for (const { info, names } of requests) {
    if (!info.subresources.includes('scale')) throw new UsageError(`bramble scale: ${info.resource} cannot be scaled; deployments and replicasets can`);
    if (names.length === 0) throw new UsageError(`bramble scale: give the name of the ${info.singular} to scale`);
  }
  const errors: string[] = [];
  await withApi(flags, io, async ({ client, namespace }) => {
    for (const { info, names } of requests) {
      for (const name of names) {
        const path = objectPath(info, namespace, name, 'scale');
        try {
          if (flags['current-replicas'] === undefined) {
            await client.patch(path, { spec: { replicas } });
          } else {
            // A precondition: read, compare, and write back with the version read, so a change
            // made in between makes the write fail (409) instead of being overwritten.
            const scale = await client.get<Scale>(path);
            const current = scale?.spec?.replicas ?? 0;
            if (current !== flags['current-replicas']) {
              errors.push(`error: ${qualifiedName(info, name)}: expected ${flags['current-replicas']} current replicas, found ${current}`);
              continue;
            }
            await client.put(path, { ...scale, spec: { ...scale.spec, replicas } });
          }
          io.stdout.write(`${qualifiedName(info, name)} scaled\n`);
        } catch (error) {
          if (error instanceof ApiError && error.status !== 0) errors.push(error.framed(''));
          else throw error;
        }
      }
    }
  });
  for (const error of errors) io.stderr.write(`${error}\n`);
  return errors.length > 0 ? 1 : 0;
}

export const LOGS_COMMAND = {
  name: 'logs',
  summary: "Print the logs of a pod's container.",
  usage: 'POD [-c CONTAINER] [-f] [--tail N] [flags]',
  examples: ['bramble logs web-0', 'bramble logs web-0 -c sidecar -f', 'bramble logs pod/web-0 --tail 20'],
  flags: {
    container: { type: 'string', short: 'c', valueName: 'CONTAINER', description: 'the container (needed when the pod has several)' },
    follow: { type: 'bool', short: 'f', description: 'keep printing new lines until interrupted' },
    tail: { type: 'int', valueName: 'N', description: 'only the last N lines (-1: all)', default: -1 },
    ...API_FLAGS,
  },
  positionals: { name: 'POD', min: 1, max: 2 },
} as const satisfies CommandSpec;

const PODS = (): ResourceInfo => resolveResourceName('pods')!;

/** `POD` or `pod/POD`; other types (deploy/web) would need a pod picked, which bramble leaves to the user. */
function podName(command: string, arg: string): string {
  const slash = arg.indexOf('/');
  if (slash === -1) return arg;
  const info = resolveResourceName(arg.slice(0, slash));
  if (info?.kind !== 'Pod') throw new UsageError(`bramble ${command}: ${JSON.stringify(arg)}: give a pod (POD or pod/POD); find one with 'bramble get pods'`);
  return arg.slice(slash + 1);
}

export async function runLogs(argv: readonly string[], io: CommandIo): Promise<number> {
  const { flags, positionals, help } = parseArgs(LOGS_COMMAND, argv);
  if (help) {
    io.stdout.write(formatHelp(LOGS_COMMAND));
    return 0;
  }
  refuseAllNamespaces('logs', flags);
  // kubectl also takes `logs POD CONTAINER`.
  if (positionals.length === 2 && flags.container !== undefined) throw new UsageError(`bramble logs: give the container either as an argument or with -c, not both`);
  const pod = podName('logs', positionals[0]!);
  const container = flags.container ?? positionals[1];
  const query: Query = {
    ...(container !== undefined ? { container } : {}),
    ...(flags.follow ? { follow: 'true' } : {}),
    ...(flags.tail >= 0 ? { tailLines: flags.tail } : {}),
  };
  await withApi(flags, io, async ({ client, namespace }) => {
    for await (const chunk of client.chunks(objectPath(PODS(), namespace, pod, 'log'), query, io.signal)) io.stdout.write(chunk);
  });
  return 0;
}

export const EXEC_COMMAND = {
  name: 'exec',
  summary: 'Run a command in a container of a running pod and print its output (not interactive).',
  usage: 'POD [-c CONTAINER] -- COMMAND [ARGS...]',
  examples: ['bramble exec web-0 -- cat /etc/resolv.conf', "bramble exec web-0 -c app -- sh -c 'echo $HOSTNAME'"],
  flags: {
    container: { type: 'string', short: 'c', valueName: 'CONTAINER', description: 'the container (default: the first)' },
    ...API_FLAGS,
  },
  positionals: { name: 'POD -- COMMAND', min: 2, max: Number.POSITIVE_INFINITY },
} as const satisfies CommandSpec;

interface ExecResult {
  exitCode?: number;
  stdout?: string;
  stderr?: string;
}

export async function runExec(argv: readonly string[], io: CommandIo): Promise<number> {
  const { flags, positionals, help } = parseArgs(EXEC_COMMAND, argv);
  if (help) {
    io.stdout.write(formatHelp(EXEC_COMMAND));
    return 0;
  }
  refuseAllNamespaces('exec', flags);
  const dashes = argv.indexOf('--');
  // Everything after `--` is the command, even words that look like flags or a second name.
  const before = dashes === -1 ? positionals.length : positionals.length - (argv.length - dashes - 1);
  if (before !== 1) throw new UsageError(`bramble exec: expected POD -- COMMAND [ARGS...] (see 'bramble exec --help')`);
  const pod = podName('exec', positionals[0]!);
  const command = positionals.slice(1);
  if (command.length === 0) throw new UsageError(`bramble exec: missing the COMMAND after --`);
  const result = await withApi(flags, io, ({ client, namespace }) =>
    client.request<ExecResult>('POST', objectPath(PODS(), namespace, pod, 'exec'), { body: { command, ...(flags.container !== undefined ? { container: flags.container } : {}) }, timeoutMs: EXEC_ANSWER_MS }),
  );
  if (result?.stdout) io.stdout.write(result.stdout);
  if (result?.stderr) io.stderr.write(result.stderr);
  // The command's own status, as kubectl exec passes it on.
  return typeof result?.exitCode === 'number' ? result.exitCode : 1;
}
