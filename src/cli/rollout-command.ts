// `bramble rollout status|history|undo|restart`: kubectl's rollout commands for Deployments (and
// DaemonSets where they make sense). Status reads the object until the controller reports the
// rollout done, with kubectl's wording; history lists the Deployment's ReplicaSets by revision;
// undo copies an old ReplicaSet's template back into the Deployment (client-side, as kubectl
// does); restart stamps the template so every pod is replaced.

import { UsageError } from '../errors.ts';
import { setTimeout as sleep } from 'node:timers/promises';
import { jsonEqual, qualifiedName, type KObject, type ResourceInfo } from '../model/index.ts';
import { num, obj } from './printers/fields.ts';
import { ApiError, type ApiClient } from './api-client.ts';
import { API_FLAGS, refuseAllNamespaces, withApi } from './api-flags.ts';
import type { CommandSpec } from './flags.ts';
import { formatHelp, parseArgs } from './flags.ts';
import { nowOf, type CommandIo } from './io.ts';
import { collectionPath, objectPath, parseResourceArgs, resolveType } from './resources.ts';

const REVISION = 'deployment.kubernetes.io/revision';
const CHANGE_CAUSE = 'kubernetes.io/change-cause';
const RESTARTED_AT = 'kubectl.kubernetes.io/restartedAt';
const HASH_LABEL = 'pod-template-hash';
/** How often `rollout status` reads the object while it waits. */
const STATUS_POLL_MS = 500;

type J = Record<string, unknown>;

const TARGET = { name: 'TYPE/NAME', min: 1, max: 2 } as const;

export const ROLLOUT_STATUS_COMMAND = {
  name: 'rollout status',
  summary: 'Wait for a Deployment or DaemonSet rollout to finish, printing its progress.',
  usage: '(TYPE NAME | TYPE/NAME) [flags]',
  examples: ['bramble rollout status deploy/web', 'bramble rollout status daemonset/agent --timeout 2m', 'bramble rollout status deploy/web --watch=false'],
  flags: {
    watch: { type: 'bool', short: 'w', description: 'wait until the rollout finishes (--watch=false: print the status once)', default: true },
    timeout: { type: 'duration', valueName: 'DURATION', description: 'give up waiting after this long; 0: wait as long as it takes', default: 0 },
    ...API_FLAGS,
  },
  positionals: TARGET,
} as const satisfies CommandSpec;

export const ROLLOUT_HISTORY_COMMAND = {
  name: 'rollout history',
  summary: "List a Deployment's revisions (its ReplicaSets) with their change causes.",
  usage: '(TYPE NAME | TYPE/NAME) [flags]',
  examples: ['bramble rollout history deploy/web'],
  flags: { ...API_FLAGS },
  positionals: TARGET,
} as const satisfies CommandSpec;

export const ROLLOUT_UNDO_COMMAND = {
  name: 'rollout undo',
  summary: 'Roll a Deployment back to the previous revision, or to --to-revision.',
  usage: '(TYPE NAME | TYPE/NAME) [--to-revision=N] [flags]',
  examples: ['bramble rollout undo deploy/web', 'bramble rollout undo deploy/web --to-revision=2'],
  flags: {
    'to-revision': { type: 'int', valueName: 'N', description: 'the revision to go back to (default: the previous one)', default: 0 },
    ...API_FLAGS,
  },
  positionals: TARGET,
} as const satisfies CommandSpec;

export const ROLLOUT_RESTART_COMMAND = {
  name: 'rollout restart',
  summary: 'Replace every pod of a Deployment or DaemonSet (stamps the pod template).',
  usage: '(TYPE NAME | TYPE/NAME) [flags]',
  examples: ['bramble rollout restart deploy/web', 'bramble rollout restart daemonset/agent'],
  flags: { ...API_FLAGS },
  positionals: TARGET,
} as const satisfies CommandSpec;

interface Target {
  info: ResourceInfo;
  name: string;
}

/** One Deployment or DaemonSet named as kubectl takes it; `kinds` lists the resources allowed. */
function targetOf(command: string, positionals: readonly string[], kinds: readonly string[]): Target {
  const requests = parseResourceArgs(command, positionals);
  const [request] = requests;
  if (requests.length !== 1 || request!.names.length !== 1) throw new UsageError(`bramble ${command}: give exactly one object, like deploy/web`);
  if (!kinds.includes(request!.info.resource)) {
    throw new UsageError(`bramble ${command}: ${request!.info.resource} are not supported; ${kinds.join(' and ')} are`);
  }
  return { info: request!.info, name: request!.names[0]! };
}

/** kubectl's DeploymentStatusViewer / DaemonSetStatusViewer: a line, and whether the rollout is done. */
export function rolloutStatusLine(object: KObject): { line: string; done: boolean; failed?: string } {
  const name = object.metadata.name;
  const spec = obj(object['spec']);
  const status = obj(object['status']);
  const observed = num(status['observedGeneration']) >= (object.metadata.generation ?? 0);
  if (object.kind === 'DaemonSet') {
    if (!observed) return { line: 'Waiting for daemon set spec update to be observed...', done: false };
    const desired = num(status['desiredNumberScheduled']);
    const updated = num(status['updatedNumberScheduled']);
    const available = num(status['numberAvailable']);
    if (updated < desired) return { line: `Waiting for daemon set "${name}" rollout to finish: ${updated} out of ${desired} new pods have been updated...`, done: false };
    if (available < desired) return { line: `Waiting for daemon set "${name}" rollout to finish: ${available} of ${desired} updated pods are available...`, done: false };
    return { line: `daemon set "${name}" successfully rolled out`, done: true };
  }
  if (!observed) return { line: 'Waiting for deployment spec update to be observed...', done: false };
  const conditions = Array.isArray(status['conditions']) ? status['conditions'].map(obj) : [];
  if (conditions.some((c) => c['type'] === 'Progressing' && c['reason'] === 'ProgressDeadlineExceeded')) {
    return { line: '', done: false, failed: `deployment "${name}" exceeded its progress deadline` };
  }
  const replicas = typeof spec['replicas'] === 'number' ? spec['replicas'] : 1;
  const updated = num(status['updatedReplicas']);
  const total = num(status['replicas']);
  const available = num(status['availableReplicas']);
  if (updated < replicas) return { line: `Waiting for deployment "${name}" rollout to finish: ${updated} out of ${replicas} new replicas have been updated...`, done: false };
  if (total > updated) return { line: `Waiting for deployment "${name}" rollout to finish: ${total - updated} old replicas are pending termination...`, done: false };
  if (available < updated) return { line: `Waiting for deployment "${name}" rollout to finish: ${available} of ${updated} updated replicas are available...`, done: false };
  return { line: `deployment "${name}" successfully rolled out`, done: true };
}

export async function runRolloutStatus(argv: readonly string[], io: CommandIo): Promise<number> {
  const { flags, positionals, help } = parseArgs(ROLLOUT_STATUS_COMMAND, argv);
  if (help) {
    io.stdout.write(formatHelp(ROLLOUT_STATUS_COMMAND));
    return 0;
  }
  refuseAllNamespaces('rollout status', flags);
  if (flags.timeout < 0) throw new UsageError('bramble rollout status: --timeout must be 0 (no limit) or more');
  const target = targetOf('rollout status', positionals, ['deployments', 'daemonsets']);
  return withApi(flags, io, async ({ client, namespace }) => {
    const path = objectPath(target.info, namespace, target.name);
    // Real time, as the polls sleep in real time (an injected clock would never reach --timeout).
    const started = Date.now();
    let last = '';
    for (;;) {
      const object = await client.get<KObject>(path);
      if (object.kind === 'DaemonSet' && obj(obj(object['spec'])['updateStrategy'])['type'] === 'OnDelete') {
        io.stderr.write('error: rollout status is only available for RollingUpdate strategy type\n');
        return 1;
      }
      const { line, done, failed } = rolloutStatusLine(object);
      if (failed) {
        io.stderr.write(`error: ${failed}\n`);
        return 1;
      }
      if (line !== last) io.stdout.write(`${line}\n`);
      last = line;
      if (done || !flags.watch || io.signal?.aborted) return 0;
      if (flags.timeout > 0 && Date.now() - started >= flags.timeout) {
        io.stderr.write(`error: timed out waiting for the condition (after ${flags.timeout / 1000}s)\n`);
        return 1;
      }
      // an interrupt ends the wait; the loop then sees io.signal aborted and stops
      await sleep(STATUS_POLL_MS, undefined, io.signal ? { signal: io.signal } : {}).catch(() => undefined);
    }
  });
}

/** The Deployment's ReplicaSets (by controller reference), oldest revision first. */
async function replicaSetsOf(client: ApiClient, namespace: string, deployment: KObject): Promise<KObject[]> {
  const rsInfo = resolveType('rollout', 'replicasets');
  const list = await client.get<{ items?: KObject[] }>(collectionPath(rsInfo, namespace));
  const revision = (rs: KObject): number => Number(rs.metadata.annotations?.[REVISION] ?? 0);
  return (list.items ?? [])
    .filter((rs) => (rs.metadata.ownerReferences ?? []).some((r) => r.controller === true && r.uid === deployment.metadata.uid))
    .sort((a, b) => revision(a) - revision(b));
}

function refuseDaemonSetHistory(command: string, target: Target): void {
  if (target.info.resource === 'daemonsets') {
    throw new UsageError(`bramble ${command}: daemon sets keep no revision history in bramble (there are no ControllerRevisions); only deployments have one`);
  }
}

export async function runRolloutHistory(argv: readonly string[], io: CommandIo): Promise<number> {
  const { flags, positionals, help } = parseArgs(ROLLOUT_HISTORY_COMMAND, argv);
  if (help) {
    io.stdout.write(formatHelp(ROLLOUT_HISTORY_COMMAND));
    return 0;
  }
  refuseAllNamespaces('rollout history', flags);
  const target = targetOf('rollout history', positionals, ['deployments', 'daemonsets']);
  refuseDaemonSetHistory('rollout history', target);
  return withApi(flags, io, async ({ client, namespace }) => {
    const deployment = await client.get<KObject>(objectPath(target.info, namespace, target.name));
    const sets = await replicaSetsOf(client, namespace, deployment);
    const rows = sets.filter((rs) => rs.metadata.annotations?.[REVISION] !== undefined).map((rs) => [rs.metadata.annotations![REVISION]!, rs.metadata.annotations?.[CHANGE_CAUSE] ?? '<none>']);
    const width = Math.max('REVISION'.length, ...rows.map(([r]) => r!.length)) + 2;
    io.stdout.write(`${qualifiedName(target.info, target.name)}\n`);
    io.stdout.write(`${'REVISION'.padEnd(width)}CHANGE-CAUSE\n`);
    for (const [revision, cause] of rows) io.stdout.write(`${revision!.padEnd(width)}${cause}\n`);
    io.stdout.write('\n');
    return 0;
  });
}

/** A template without the controller's pod-template-hash label: what the Deployment said. */
function deploymentTemplateOf(rs: KObject): J {
  const template = structuredClone(obj(obj(rs['spec'])['template']));
  const meta = obj(template['metadata']);
  const labels = obj(meta['labels']);
  delete labels[HASH_LABEL];
  return template;
}

export async function runRolloutUndo(argv: readonly string[], io: CommandIo): Promise<number> {
  const { flags, positionals, help } = parseArgs(ROLLOUT_UNDO_COMMAND, argv);
  if (help) {
    io.stdout.write(formatHelp(ROLLOUT_UNDO_COMMAND));
    return 0;
  }
  refuseAllNamespaces('rollout undo', flags);
  const toRevision = flags['to-revision'];
  if (toRevision < 0) throw new UsageError(`bramble rollout undo: --to-revision must be 0 (the previous revision) or more, got ${toRevision}`);
  const target = targetOf('rollout undo', positionals, ['deployments', 'daemonsets']);
  refuseDaemonSetHistory('rollout undo', target);
  return withApi(flags, io, async ({ client, namespace }) => {
    const path = objectPath(target.info, namespace, target.name);
    const deployment = await client.get<KObject>(path);
    const shown = qualifiedName(target.info, target.name);
    if (obj(deployment['spec'])['paused'] === true) {
      io.stderr.write(`error: you cannot roll back a paused deployment; set spec.paused to false on ${shown} and try again\n`);
      return 1;
    }
    const sets = await replicaSetsOf(client, namespace, deployment);
    const revisionOf = (rs: KObject): number => Number(rs.metadata.annotations?.[REVISION] ?? 0);
    let wanted: KObject | undefined;
    if (toRevision > 0) {
      wanted = sets.find((rs) => revisionOf(rs) === toRevision);
      if (!wanted) {
        io.stderr.write(`error: unable to find specified revision ${toRevision} in history\n`);
        return 1;
      }
    } else {
      // The previous revision: the second newest (the newest is what runs now).
      const byRevision = sets.filter((rs) => revisionOf(rs) > 0);
      wanted = byRevision.length >= 2 ? byRevision[byRevision.length - 2] : undefined;
      if (!wanted) {
        io.stderr.write('error: no rollout history found for ' + shown + '\n');
        return 1;
      }
    }
    const template = deploymentTemplateOf(wanted);
    if (jsonEqual(template, obj(deployment['spec'])['template'])) {
      io.stdout.write(`${shown} skipped rollback (current template already matches revision ${revisionOf(wanted)})\n`);
      return 0;
    }
    // A whole replace with the version read: a merge patch would keep fields the old template
    // did not have, and a change made meanwhile makes this fail (409) rather than be lost.
    const next = { ...deployment, spec: { ...obj(deployment['spec']), template } };
    try {
      await client.put(path, next);
    } catch (error) {
      if (error instanceof ApiError && error.status !== 0) {
        io.stderr.write(`${error.framed('')}\n`);
        return 1;
      }
      throw error;
    }
    io.stdout.write(`${shown} rolled back\n`);
    return 0;
  });
}

export async function runRolloutRestart(argv: readonly string[], io: CommandIo): Promise<number> {
  const { flags, positionals, help } = parseArgs(ROLLOUT_RESTART_COMMAND, argv);
  if (help) {
    io.stdout.write(formatHelp(ROLLOUT_RESTART_COMMAND));
    return 0;
  }
  refuseAllNamespaces('rollout restart', flags);
  const target = targetOf('rollout restart', positionals, ['deployments', 'daemonsets']);
  return withApi(flags, io, async ({ client, namespace }) => {
    const path = objectPath(target.info, namespace, target.name);
    const shown = qualifiedName(target.info, target.name);
    if (target.info.resource === 'deployments') {
      const deployment = await client.get<KObject>(path);
      if (obj(deployment['spec'])['paused'] === true) {
        io.stderr.write(`error: can't restart paused deployment ${shown} (set spec.paused to false first)\n`);
        return 1;
      }
    }
    const at = new Date(nowOf(io)).toISOString().replace(/\.\d{3}Z$/, 'Z');
    await client.patch(path, { spec: { template: { metadata: { annotations: { [RESTARTED_AT]: at } } } } });
    io.stdout.write(`${shown} restarted\n`);
    return 0;
  });
}
