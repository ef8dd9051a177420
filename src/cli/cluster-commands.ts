// `bramble cluster status`, `bramble cluster remove NAME`.
import type { ClusterStatus } from '../cluster/membership.ts';
import type { CommandSpec } from './flags.ts';
import { formatHelp, parseArgs } from './flags.ts';
import { apiCall, apiTarget } from './api-client.ts';
import { CONNECTION_FLAGS } from './api-flags.ts';
import type { CommandIo } from './io.ts';
import { formatTable } from './table.ts';

type Io = Pick<CommandIo, 'stdout' | 'env'>;

const STATUS_COMMAND = {
  name: 'cluster status',
  summary: 'Show the Raft members, their roles and the leader.',
  flags: { ...CONNECTION_FLAGS, output: { type: 'string', short: 'o', valueName: 'FORMAT', description: 'table or json', default: 'table' } },
} as const satisfies CommandSpec;

const REMOVE_COMMAND = {
  name: 'cluster remove',
  summary: 'Remove a gateway from the cluster (by member name).',
  flags: CONNECTION_FLAGS,
  positionals: { name: 'NAME', min: 1, max: 1 },
} as const satisfies CommandSpec;

export async function runClusterStatus(argv: readonly string[], io: Io): Promise<number> {
  const { flags, help } = parseArgs(STATUS_COMMAND, argv);
  if (help) {
    io.stdout.write(formatHelp(STATUS_COMMAND));
    return 0;
  }
  const status = await apiCall<ClusterStatus>(apiTarget(flags, io.env), 'GET', '/cluster');
  if (flags.output === 'json') {
    io.stdout.write(`${JSON.stringify(status, null, 2)}\n`);
    return 0;
  }
  io.stdout.write(`cluster ${status.clusterId}: leader ${status.leader ?? '(none)'}, term ${status.term}, commit ${status.commitIndex}, applied ${status.appliedIndex} (as seen by ${status.name})\n`);
  const rows = status.members.map((m) => [m.name, m.id, m.role, m.name === status.leader ? 'yes' : '', m.peerURL, m.labels['topology.kubernetes.io/zone'] ?? '']);
  io.stdout.write(formatTable(['NAME', 'ID', 'ROLE', 'LEADER', 'PEER-URL', 'ZONE'], rows));
  for (const warning of status.warnings ?? []) io.stdout.write(`warning: ${warning}\n`);
  return 0;
}

export async function runClusterRemove(argv: readonly string[], io: Io): Promise<number> {
  const { flags, positionals, help } = parseArgs(REMOVE_COMMAND, argv);
  if (help) {
    io.stdout.write(formatHelp(REMOVE_COMMAND));
    return 0;
  }
  const name = positionals[0]!;
  const r = await apiCall<{ removed: string; id: string }>(apiTarget(flags, io.env), 'POST', '/cluster/remove', { name });
  io.stdout.write(`member ${r.removed} (${r.id}) removed\n`);
  return 0;
}
