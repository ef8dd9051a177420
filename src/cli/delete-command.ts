// `bramble delete TYPE NAME...`, `delete TYPE/NAME`, `delete -f FILE`, `delete TYPE -l SEL`,
// `delete TYPE --all`: `deployment.apps "web" deleted` per object, like kubectl. A missing
// object is an error (exit 1) unless --ignore-not-found; the others are still deleted.

import { UsageError } from '../errors.ts';
import type { ResourceInfo } from '../model/index.ts';
import { ApiError, isNotFound, type Query } from './api-client.ts';
import { API_FLAGS, withApi, type ApiContext } from './api-flags.ts';
import type { CommandSpec } from './flags.ts';
import { formatHelp, parseArgs } from './flags.ts';
import type { CommandIo } from './io.ts';
import { listAll } from './listing.ts';
import { loadManifests } from './manifest.ts';
import { manifestNamespace } from './apply-command.ts';
import { objectPath, parseResourceArgs, quotedName } from './resources.ts';

export const DELETE_COMMAND = {
  name: 'delete',
  summary: 'Delete resources by name, by label selector, or as named in manifests.',
  usage: '(TYPE NAME... | TYPE/NAME... | TYPE -l SELECTOR | TYPE --all | -f FILE) [flags]',
  examples: ['bramble delete pod web-0', 'bramble delete deploy/web svc/web', 'bramble delete pods -l app=web', 'bramble delete -f nginx.yaml'],
  flags: {
    filename: { type: 'list', short: 'f', valueName: 'FILE', description: 'delete the objects of these manifests (file, directory or -)' },
    selector: { type: 'string', short: 'l', valueName: 'SELECTOR', description: 'delete the objects matching this label selector (app=web,tier!=db)' },
    all: { type: 'bool', description: 'delete every object of the type in the namespace' },
    'ignore-not-found': { type: 'bool', description: 'a missing object is not an error' },
    'grace-period': { type: 'int', valueName: 'SECONDS', description: 'seconds a pod gets to stop (passed as gracePeriodSeconds)' },
    ...API_FLAGS,
  },
  positionals: { name: 'TYPE [NAME...]', min: 0, max: Number.POSITIVE_INFINITY },
} as const satisfies CommandSpec;

interface Target {
  info: ResourceInfo;
  namespace: string | undefined;
  name: string;
}

export async function runDelete(argv: readonly string[], io: CommandIo): Promise<number> {
  const { flags, positionals, help } = parseArgs(DELETE_COMMAND, argv);
  if (help) {
    io.stdout.write(formatHelp(DELETE_COMMAND));
    return 0;
  }
  const byFile = flags.filename !== undefined && flags.filename.length > 0;
  const bySelection = flags.selector !== undefined || flags.all;
  if (byFile && positionals.length > 0) throw new UsageError(`bramble delete: give either -f FILE or TYPE NAME, not both (see 'bramble delete --help')`);
  if (!byFile && positionals.length === 0) throw new UsageError(`bramble delete: give TYPE NAME..., TYPE -l SELECTOR, TYPE --all or -f FILE (see 'bramble delete --help')`);
  const requests = byFile ? [] : parseResourceArgs('delete', positionals);
  if (bySelection && requests.some((r) => r.names.length > 0)) throw new UsageError(`bramble delete: names cannot be given with -l or --all`);
  if (!byFile && !bySelection && requests.some((r) => r.names.length === 0)) {
    throw new UsageError(`bramble delete: give the names to delete, or -l SELECTOR, or --all to delete every ${requests.find((r) => r.names.length === 0)!.info.resource}`);
  }
  if (flags['all-namespaces'] && !bySelection) throw new UsageError(`bramble delete: -A/--all-namespaces needs -l SELECTOR or --all`);

  const errors: string[] = [];
  const manifests = byFile ? await loadManifests(flags.filename!, io, 'delete') : undefined;
  errors.push(...(manifests?.errors ?? []).map((e) => `error: ${e}`));
  const query: Query = flags['grace-period'] === undefined ? {} : { gracePeriodSeconds: flags['grace-period'] };

  await withApi(flags, io, async (ctx: ApiContext) => {
    const targets: Target[] = [];
    for (const manifest of manifests?.manifests ?? []) {
      const namespace = manifestNamespace(manifest, ctx);
      if (typeof namespace === 'object') {
        if ('error' in namespace) errors.push(namespace.error);
        continue;
      }
      const name = manifest.object.metadata.name;
      if (typeof name !== 'string' || name === '') errors.push(`error: ${manifest.location}: metadata.name is required to delete (kind ${manifest.object.kind})`);
      else targets.push({ info: manifest.info, namespace, name });
    }
    for (const request of requests) {
      const namespace = request.info.namespaced ? ctx.namespace : undefined;
      if (!bySelection) {
        targets.push(...request.names.map((name) => ({ info: request.info, namespace, name })));
        continue;
      }
      const scope = ctx.allNamespaces ? undefined : namespace;
      const { items } = await listAll(ctx.client, request.info, scope, { labelSelector: flags.selector });
      targets.push(...items.map((item) => ({ info: request.info, namespace: request.info.namespaced ? item.metadata.namespace : undefined, name: item.metadata.name ?? '' })));
    }
    if (bySelection && targets.length === 0) {
      io.stderr.write(ctx.allNamespaces || !requests.some((r) => r.info.namespaced) ? 'No resources found\n' : `No resources found in ${ctx.namespace} namespace.\n`);
    }
    for (const target of targets) {
      try {
        await ctx.client.delete(objectPath(target.info, target.namespace, target.name), query);
        io.stdout.write(`${quotedName(target.info, target.name)} deleted\n`);
      } catch (error) {
        if (isNotFound(error) && flags['ignore-not-found']) continue;
        // An unreachable server fails the whole command; a refusal fails only this object.
        if (error instanceof ApiError && error.status !== 0) errors.push(error.framed(''));
        else throw error;
      }
    }
  });
  for (const error of errors) io.stderr.write(`${error}\n`);
  return errors.length > 0 ? 1 : 0;
}
