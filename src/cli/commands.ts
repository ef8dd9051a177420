// The table of `bramble` subcommands: what `bramble --help` lists and what the entry point
// dispatches on. Commands of later issues are listed already, marked, so the CLI's shape is
// visible from the start and a user gets a clear "not yet" rather than "unknown command".

export interface CommandEntry {
  /** As typed: "server", "cluster status". */
  name: string;
  summary: string;
  implemented: boolean;
}

export const COMMANDS: readonly CommandEntry[] = [
  { name: 'server', summary: 'run the bramble daemon on this gateway', implemented: true },
  { name: 'version', summary: "print the version of bramble and Node.js, and the server's", implemented: true },
  { name: 'token', summary: "print the cluster's join token", implemented: true },
  { name: 'token create', summary: 'create an API bearer token (--read-only for a viewer)', implemented: true },
  { name: 'cluster status', summary: 'show the Raft members, their roles and the leader', implemented: true },
  { name: 'cluster remove', summary: 'remove a gateway from the cluster', implemented: true },
  { name: 'get', summary: 'list resources or show one', implemented: true },
  { name: 'apply', summary: 'create or update resources from a manifest (-f FILE)', implemented: true },
  { name: 'create', summary: 'create resources from a manifest (-f FILE)', implemented: true },
  { name: 'delete', summary: 'delete resources by name or manifest', implemented: true },
  { name: 'describe', summary: 'show a resource in detail, with its events', implemented: true },
  { name: 'scale', summary: "set a Deployment's number of replicas", implemented: true },
  { name: 'rollout status', summary: 'wait for a Deployment or DaemonSet rollout to finish', implemented: true },
  { name: 'rollout history', summary: "list a Deployment's revisions", implemented: true },
  { name: 'rollout undo', summary: 'roll a Deployment back (--to-revision N)', implemented: true },
  { name: 'rollout restart', summary: 'replace every pod of a Deployment or DaemonSet', implemented: true },
  { name: 'logs', summary: "print a container's logs", implemented: true },
  { name: 'exec', summary: 'run a command in a running container', implemented: true },
  { name: 'top', summary: 'show CPU and memory use of nodes', implemented: true },
  { name: 'cordon', summary: 'mark a node unschedulable', implemented: true },
  { name: 'uncordon', summary: 'mark a node schedulable again', implemented: true },
  { name: 'drain', summary: 'cordon a node and evict its pods', implemented: true },
  { name: 'image import', summary: 'import an image archive into gateways (--node NAME, --all-nodes)', implemented: true },
  { name: 'image ls', summary: 'list the images on gateways', implemented: true },
  { name: 'image rm', summary: 'remove an image from gateways', implemented: true },
  { name: 'help', summary: 'show this help, or a command\'s: bramble help COMMAND', implemented: true },
];

/** Top-level words that group subcommands: "cluster", "image", "token" (also a command itself). */
export function commandGroups(): Map<string, string[]> {
  const groups = new Map<string, string[]>();
  for (const command of COMMANDS) {
    const space = command.name.indexOf(' ');
    if (space === -1) continue;
    const group = command.name.slice(0, space);
    groups.set(group, [...(groups.get(group) ?? []), command.name.slice(space + 1)]);
  }
  return groups;
}

export function findCommand(name: string): CommandEntry | undefined {
  return COMMANDS.find((command) => command.name === name);
}

export function formatMainHelp(version: string): string {
  const width = Math.max(...COMMANDS.map((command) => command.name.length)) + 2;
  const rows = COMMANDS.map(
    (command) => `  ${command.name.padEnd(width)}${command.summary}${command.implemented ? '' : ' (not implemented yet)'}`,
  );
  return [
    `bramble ${version}: a small Kubernetes-shaped container cluster for edge gateways`,
    '',
    'Usage: bramble COMMAND [flags]',
    '',
    'Commands:',
    ...rows,
    '',
    'Commands that talk to the API take --server URL ($BRAMBLE_SERVER, default http://127.0.0.1:7080),',
    '--token TOKEN ($BRAMBLE_TOKEN), -n/--namespace NS (default "default") and -A/--all-namespaces.',
    '',
    "Run 'bramble COMMAND --help' for a command's flags.",
    '',
  ].join('\n');
}
