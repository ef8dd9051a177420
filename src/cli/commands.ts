// The table of `bramble` subcommands: what `bramble --help` lists and what the entry point
// dispatches on.

export interface CommandEntry {
  /** As typed: "server", "cluster status". */
  name: string;
  summary: string;
}

export const COMMANDS: readonly CommandEntry[] = [
  { name: 'server', summary: 'run the bramble daemon on this gateway' },
  { name: 'version', summary: "print the version of bramble and Node.js, and the server's" },
  { name: 'token', summary: "print the cluster's join token" },
  { name: 'token create', summary: 'create an API bearer token (--read-only for a viewer)' },
  { name: 'cluster status', summary: 'show the Raft members, their roles and the leader' },
  { name: 'cluster remove', summary: 'remove a gateway from the cluster' },
  { name: 'get', summary: 'list resources or show one' },
  { name: 'apply', summary: 'create or update resources from a manifest (-f FILE)' },
  { name: 'create', summary: 'create resources from a manifest (-f FILE)' },
  { name: 'delete', summary: 'delete resources by name or manifest' },
  { name: 'describe', summary: 'show a resource in detail, with its events' },
  { name: 'scale', summary: "set a Deployment's number of replicas" },
  { name: 'rollout status', summary: 'wait for a Deployment or DaemonSet rollout to finish' },
  { name: 'rollout history', summary: "list a Deployment's revisions" },
  { name: 'rollout undo', summary: 'roll a Deployment back (--to-revision N)' },
  { name: 'rollout restart', summary: 'replace every pod of a Deployment or DaemonSet' },
  { name: 'logs', summary: "print a container's logs" },
  { name: 'exec', summary: 'run a command in a running container' },
  { name: 'top', summary: 'show CPU and memory use of nodes' },
  { name: 'cordon', summary: 'mark a node unschedulable' },
  { name: 'uncordon', summary: 'mark a node schedulable again' },
  { name: 'drain', summary: 'cordon a node and evict its pods' },
  { name: 'image import', summary: 'import an image archive into gateways (--node NAME, --all-nodes)' },
  { name: 'image ls', summary: 'list the images on gateways' },
  { name: 'image rm', summary: 'remove an image from gateways' },
  { name: 'help', summary: 'show this help, or a command\'s: bramble help COMMAND' },
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
    (command) => `  ${command.name.padEnd(width)}${command.summary}`,
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
