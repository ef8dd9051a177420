// `bramble cordon|uncordon|drain NODE`, as kubectl does them: cordon sets spec.unschedulable
// (the scheduler places no new pods there); drain cordons, then deletes the node's pods
// gracefully and waits until they are gone. Like kubectl, drain refuses DaemonSet pods unless
// --ignore-daemonsets (their controller would put them back at once), pods with no controller
// unless --force (nothing would recreate them), and pods with emptyDir volumes unless
// --delete-emptydir-data (their data goes with them); it refuses before deleting anything.

import { setTimeout as sleep } from 'node:timers/promises';
import { UsageError } from '../errors.ts';
import { resolveResourceName, type KObject, type ResourceInfo } from '../model/index.ts';
import { ApiError, isNotFound, type ApiClient } from './api-client.ts';
import { CONNECTION_FLAGS, withApi } from './api-flags.ts';
import type { CommandSpec } from './flags.ts';
import { formatHelp, parseArgs } from './flags.ts';
import type { CommandIo } from './io.ts';
import { nowOf } from './io.ts';
import { listAll } from './listing.ts';
import { objectPath } from './resources.ts';

const NODES = (): ResourceInfo => resolveResourceName('nodes')!;
const PODS = (): ResourceInfo => resolveResourceName('pods')!;
/** How often drain looks whether the deleted pods are gone (kubectl: every second). */
const POLL_MILLIS = 500;

const nodeFlags = { ...CONNECTION_FLAGS } as const;

export const CORDON_COMMAND = {
  name: 'cordon',
  summary: 'Mark a node unschedulable: no new pods are placed on it; its pods keep running.',
  usage: 'NODE [flags]',
  examples: ['bramble cordon gw2'],
  flags: nodeFlags,
  positionals: { name: 'NODE', min: 1, max: 1 },
} as const satisfies CommandSpec;

export const UNCORDON_COMMAND = {
  name: 'uncordon',
  summary: 'Mark a node schedulable again.',
  usage: 'NODE [flags]',
  examples: ['bramble uncordon gw2'],
  flags: nodeFlags,
  positionals: { name: 'NODE', min: 1, max: 1 },
} as const satisfies CommandSpec;

export const DRAIN_COMMAND = {
  name: 'drain',
  summary: "Cordon a node and delete its pods gracefully (their controllers recreate them elsewhere), waiting until they are gone.",
  usage: 'NODE [flags]',
  examples: ['bramble drain gw2 --ignore-daemonsets', 'bramble drain gw2 --ignore-daemonsets --force --delete-emptydir-data --timeout 2m'],
  flags: {
    'ignore-daemonsets': { type: 'bool', description: 'leave DaemonSet-managed pods (without it, drain refuses a node that has them)' },
    force: { type: 'bool', description: 'also delete pods that no controller manages (they are not recreated)' },
    'delete-emptydir-data': { type: 'bool', description: 'also delete pods using emptyDir volumes (their data is lost)' },
    'grace-period': { type: 'int', valueName: 'SECONDS', description: "seconds each pod gets to stop; -1: the pod's own terminationGracePeriodSeconds", default: -1 },
    timeout: { type: 'duration', valueName: 'DURATION', description: 'give up waiting after this long; 0: wait as long as it takes', default: 0 },
    ...nodeFlags,
  },
  positionals: { name: 'NODE', min: 1, max: 1 },
} as const satisfies CommandSpec;

/** `NODE` or `node/NODE`. */
function nodeName(command: string, arg: string): string {
  const slash = arg.indexOf('/');
  if (slash === -1) return arg;
  if (resolveResourceName(arg.slice(0, slash))?.kind !== 'Node') throw new UsageError(`bramble ${command}: ${JSON.stringify(arg)}: give a node (NODE or node/NODE); list them with 'bramble get nodes'`);
  return arg.slice(slash + 1);
}

/** Sets spec.unschedulable; answers whether it changed. */
async function setUnschedulable(client: ApiClient, name: string, unschedulable: boolean): Promise<boolean> {
  const path = objectPath(NODES(), undefined, name);
  const node = await client.get<KObject>(path);
  const current = (node['spec'] as { unschedulable?: boolean } | undefined)?.unschedulable === true;
  if (current === unschedulable) return false;
  // null removes the field, as kubectl leaves it out when false.
  await client.patch(path, { spec: { unschedulable: unschedulable ? true : null } });
  return true;
}

async function runCordonLike(argv: readonly string[], io: CommandIo, spec: typeof CORDON_COMMAND | typeof UNCORDON_COMMAND, unschedulable: boolean): Promise<number> {
  const { flags, positionals, help } = parseArgs(spec, argv);
  if (help) {
    io.stdout.write(formatHelp(spec));
    return 0;
  }
  const name = nodeName(spec.name, positionals[0]!);
  return withApi({ ...flags, namespace: undefined, 'all-namespaces': false }, io, async ({ client }) => {
    try {
      const changed = await setUnschedulable(client, name, unschedulable);
      io.stdout.write(`node/${name} ${changed ? '' : 'already '}${unschedulable ? 'cordoned' : 'uncordoned'}\n`);
      return 0;
    } catch (error) {
      if (error instanceof ApiError && error.status !== 0) {
        io.stderr.write(`${error.framed('')}\n`);
        return 1;
      }
      throw error;
    }
  });
}

export const runCordon = (argv: readonly string[], io: CommandIo): Promise<number> => runCordonLike(argv, io, CORDON_COMMAND, true);
export const runUncordon = (argv: readonly string[], io: CommandIo): Promise<number> => runCordonLike(argv, io, UNCORDON_COMMAND, false);

interface DrainRules {
  ignoreDaemonSets: boolean;
  force: boolean;
  deleteEmptyDirData: boolean;
}

/** What drain does with each pod of the node, and the refusals and warnings, as kubectl words them. */
export function planDrain(pods: readonly KObject[], rules: DrainRules): { remove: KObject[]; errors: string[]; warnings: string[] } {
  const remove: KObject[] = [];
  const refused = { daemonSet: [] as string[], bare: [] as string[], local: [] as string[] };
  const warned = { daemonSet: [] as string[], bare: [] as string[], local: [] as string[] };
  for (const pod of pods) {
    const id = `${pod.metadata.namespace}/${pod.metadata.name}`;
    const phase = (pod['status'] as { phase?: string } | undefined)?.phase;
    // A finished pod holds nothing: removed whatever it is.
    if (phase === 'Succeeded' || phase === 'Failed') {
      remove.push(pod);
      continue;
    }
    const controller = (pod.metadata.ownerReferences ?? []).find((o) => o.controller === true);
    if (controller?.kind === 'DaemonSet') {
      (rules.ignoreDaemonSets ? warned : refused).daemonSet.push(id);
      continue;
    }
    let ok = true;
    if (!controller) {
      (rules.force ? warned : refused).bare.push(id);
      ok &&= rules.force;
    }
    const volumes = (pod['spec'] as { volumes?: { emptyDir?: unknown }[] } | undefined)?.volumes ?? [];
    if (volumes.some((v) => v.emptyDir !== undefined)) {
      (rules.deleteEmptyDirData ? warned : refused).local.push(id);
      ok &&= rules.deleteEmptyDirData;
    }
    if (ok) remove.push(pod);
  }
  const errors: string[] = [];
  if (refused.bare.length) errors.push(`cannot delete Pods that declare no controller (use --force to override): ${refused.bare.join(', ')}`);
  if (refused.daemonSet.length) errors.push(`cannot delete DaemonSet-managed Pods (use --ignore-daemonsets to ignore): ${refused.daemonSet.join(', ')}`);
  if (refused.local.length) errors.push(`cannot delete Pods with local storage (use --delete-emptydir-data to override): ${refused.local.join(', ')}`);
  const warnings: string[] = [];
  if (warned.daemonSet.length) warnings.push(`ignoring DaemonSet-managed Pods: ${warned.daemonSet.join(', ')}`);
  if (warned.bare.length) warnings.push(`deleting Pods that declare no controller: ${warned.bare.join(', ')}`);
  if (warned.local.length) warnings.push(`deleting Pods with local storage: ${warned.local.join(', ')}`);
  return { remove, errors, warnings };
}

/** Whether the pod of that UID is gone (deleted, or replaced by another of the same name). */
async function gone(client: ApiClient, pod: KObject): Promise<boolean> {
  try {
    const now = await client.get<KObject>(objectPath(PODS(), pod.metadata.namespace, pod.metadata.name!));
    return now.metadata.uid !== pod.metadata.uid;
  } catch (error) {
    if (isNotFound(error)) return true;
    throw error;
  }
}

export async function runDrain(argv: readonly string[], io: CommandIo): Promise<number> {
  const { flags, positionals, help } = parseArgs(DRAIN_COMMAND, argv);
  if (help) {
    io.stdout.write(formatHelp(DRAIN_COMMAND));
    return 0;
  }
  const name = nodeName('drain', positionals[0]!);
  if (flags.timeout < 0) throw new UsageError('bramble drain: --timeout must be 0 (no limit) or more');
  const fail = (reason: string): number => {
    io.stderr.write(`error: unable to drain node ${JSON.stringify(name)} due to error: ${reason}\n`);
    return 1;
  };
  return withApi({ ...flags, namespace: undefined, 'all-namespaces': false }, io, async ({ client }) => {
    const started = nowOf(io);
    try {
      const changed = await setUnschedulable(client, name, true);
      io.stdout.write(`node/${name} ${changed ? '' : 'already '}cordoned\n`);
      const pods = (await listAll(client, PODS(), undefined, { fieldSelector: `spec.nodeName=${name}` })).items.filter((p) => (p['spec'] as { nodeName?: string } | undefined)?.nodeName === name);
      const plan = planDrain(pods, { ignoreDaemonSets: flags['ignore-daemonsets'], force: flags.force, deleteEmptyDirData: flags['delete-emptydir-data'] });
      if (plan.errors.length > 0) return fail(`${plan.errors.join(', ')}; the node stays cordoned ('bramble uncordon ${name}' undoes it)`);
      for (const warning of plan.warnings) io.stderr.write(`Warning: ${warning}\n`);
      const query = flags['grace-period'] >= 0 ? { gracePeriodSeconds: flags['grace-period'] } : undefined;
      const waiting: KObject[] = [];
      for (const pod of plan.remove) {
        io.stdout.write(`evicting pod ${pod.metadata.namespace}/${pod.metadata.name}\n`);
        try {
          await client.delete(objectPath(PODS(), pod.metadata.namespace, pod.metadata.name!), query);
        } catch (error) {
          if (!isNotFound(error)) throw error;
        }
        waiting.push(pod);
      }
      while (waiting.length > 0) {
        for (const pod of [...waiting]) {
          if (!(await gone(client, pod))) continue;
          waiting.splice(waiting.indexOf(pod), 1);
          io.stdout.write(`pod/${pod.metadata.name} evicted\n`);
        }
        if (waiting.length === 0) break;
        if (flags.timeout > 0 && nowOf(io) - started >= flags.timeout) {
          return fail(`global timeout reached: ${flags.timeout / 1000}s; still waiting for ${waiting.map((p) => `${p.metadata.namespace}/${p.metadata.name}`).join(', ')}`);
        }
        await sleep(POLL_MILLIS, undefined, io.signal ? { signal: io.signal } : {});
      }
      io.stdout.write(`node/${name} drained\n`);
      return 0;
    } catch (error) {
      if (error instanceof ApiError && error.status !== 0) {
        io.stderr.write(`${error.framed('')}\n`);
        return 1;
      }
      throw error;
    }
  });
}
