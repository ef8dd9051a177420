// `bramble describe TYPE NAME...` (or TYPE/NAME, or a whole TYPE with -l): kubectl-like
// sections per kind, then the object's events.

import { UsageError } from '../errors.ts';
import { resolveResourceName, type KObject, type ResourceInfo } from '../model/index.ts';
import { ApiError } from './api-client.ts';
import { API_FLAGS, withApi, type ApiContext } from './api-flags.ts';
import { describeConfigMap, describeGeneric, describeSecret } from './describe/generic.ts';
import { describeNode } from './describe/node.ts';
import { describePod } from './describe/pod.ts';
import { describeService } from './describe/service.ts';
import { describeDaemonSet, describeDeployment, describeReplicaSet } from './describe/workloads.ts';
import type { CommandSpec } from './flags.ts';
import { formatHelp, parseArgs } from './flags.ts';
import { nowOf, type CommandIo } from './io.ts';
import { listAll } from './listing.ts';
import { withTypeMeta } from './printers/output.ts';
import { collectionPath, objectPath, parseResourceArgs } from './resources.ts';

export const DESCRIBE_COMMAND = {
  name: 'describe',
  summary: 'Show resources in detail, with their events.',
  usage: '(TYPE NAME... | TYPE/NAME... | TYPE [-l SELECTOR]) [flags]',
  examples: ['bramble describe pod web-0', 'bramble describe deploy/web', 'bramble describe nodes'],
  flags: {
    selector: { type: 'string', short: 'l', valueName: 'SELECTOR', description: 'describe the objects matching this label selector' },
    ...API_FLAGS,
  },
  positionals: { name: 'TYPE [NAME...]', min: 0, max: Number.POSITIVE_INFINITY },
} as const satisfies CommandSpec;

interface EventList {
  items?: KObject[];
}

/** Events about the object; undefined (no section) when they cannot be read. */
async function eventsFor(ctx: ApiContext, object: KObject, info: ResourceInfo): Promise<KObject[] | undefined> {
  const events = resolveResourceName('events')!;
  const namespace = info.namespaced ? object.metadata.namespace : undefined;
  try {
    const list = await ctx.client.get<EventList>(collectionPath(events, namespace), {
      fieldSelector: `involvedObject.name=${object.metadata.name ?? ''},involvedObject.kind=${info.kind}`,
    });
    return list?.items ?? [];
  } catch (error) {
    // Events are extra: a server that refuses them should not hide the object itself.
    if (error instanceof ApiError && error.status !== 0) return undefined;
    throw error;
  }
}

async function describeOne(ctx: ApiContext, object: KObject, info: ResourceInfo, now: number): Promise<string> {
  const events = await eventsFor(ctx, object, info);
  switch (info.kind) {
    case 'Pod':
      return describePod(object, events, now);
    case 'Deployment':
      return describeDeployment(object, events, now);
    case 'ReplicaSet':
      return describeReplicaSet(object, events, now);
    case 'DaemonSet':
      return describeDaemonSet(object, events, now);
    case 'Service': {
      let endpoints: KObject | undefined;
      try {
        endpoints = await ctx.client.get<KObject>(objectPath(resolveResourceName('endpoints')!, object.metadata.namespace, object.metadata.name ?? ''));
      } catch (error) {
        if (!(error instanceof ApiError) || error.status === 0) throw error;
      }
      return describeService(object, endpoints, events, now);
    }
    case 'Node':
      return describeNode(object, events, now);
    case 'ConfigMap':
      return describeConfigMap(object, events, now);
    case 'Secret':
      return describeSecret(object, events, now);
    default:
      return describeGeneric(object, info.namespaced, events, now);
  }
}

export async function runDescribe(argv: readonly string[], io: CommandIo): Promise<number> {
  const { flags, positionals, help } = parseArgs(DESCRIBE_COMMAND, argv);
  if (help) {
    io.stdout.write(formatHelp(DESCRIBE_COMMAND));
    return 0;
  }
  const requests = parseResourceArgs('describe', positionals);
  if (flags.selector !== undefined && requests.some((r) => r.names.length > 0)) throw new UsageError(`bramble describe: names cannot be given with -l`);
  const errors: string[] = [];
  await withApi(flags, io, async (ctx) => {
    let first = true;
    for (const request of requests) {
      const { info } = request;
      const namespace = info.namespaced ? ctx.namespace : undefined;
      const objects: KObject[] = [];
      if (request.names.length === 0) {
        const listed = await listAll(ctx.client, info, ctx.allNamespaces ? undefined : namespace, { labelSelector: flags.selector });
        objects.push(...listed.items);
        if (listed.items.length === 0) errors.push(ctx.allNamespaces || !info.namespaced ? `No resources found` : `No resources found in ${ctx.namespace} namespace.`);
      }
      for (const name of request.names) {
        try {
          objects.push(withTypeMeta(await ctx.client.get<KObject>(objectPath(info, namespace, name)), info));
        } catch (error) {
          if (error instanceof ApiError && error.status !== 0) errors.push(error.framed(''));
          else throw error;
        }
      }
      for (const object of objects) {
        const text = await describeOne(ctx, object, info, nowOf(io));
        // Two blank lines between objects, as kubectl.
        io.stdout.write(first ? text : `\n\n${text}`);
        first = false;
      }
    }
  });
  for (const error of errors) io.stderr.write(`${error}\n`);
  return errors.some((e) => !e.startsWith('No resources found')) ? 1 : 0;
}
