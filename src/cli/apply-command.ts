// `bramble apply -f` and `bramble create -f`: one line per object (`deployment.apps/web
// created`), errors collected and printed at the end, exit 1 if any object failed — kubectl's
// way, so one bad document does not stop the rest of a directory.

import { UsageError } from '../errors.ts';
import { qualifiedName, type KObject } from '../model/index.ts';
import { ApiError, isNotFound, type ApiClient } from './api-client.ts';
import { API_FLAGS, refuseAllNamespaces, withApi, type ApiContext } from './api-flags.ts';
import { planApply, withLastApplied } from './apply-plan.ts';
import type { CommandSpec } from './flags.ts';
import { formatHelp, parseArgs } from './flags.ts';
import type { CommandIo } from './io.ts';
import { loadManifests, type Manifest } from './manifest.ts';
import { collectionPath, objectPath } from './resources.ts';

const FILENAME_FLAG = {
  type: 'list',
  short: 'f',
  valueName: 'FILE',
  description: 'a manifest file, a directory (its *.yaml, *.yml, *.json files) or - for standard input; repeatable',
} as const;

export const APPLY_COMMAND = {
  name: 'apply',
  summary: 'Create resources from manifests, or update them to match (kubectl client-side apply).',
  usage: '-f FILE|DIR|- [-f ...] [flags]',
  examples: ['bramble apply -f nginx.yaml', 'bramble apply -f manifests/ -n edge', 'cat app.yaml | bramble apply -f -'],
  flags: { filename: FILENAME_FLAG, ...API_FLAGS },
} as const satisfies CommandSpec;

export const CREATE_COMMAND = {
  name: 'create',
  summary: 'Create resources from manifests; an object that exists already is an error.',
  usage: '-f FILE|DIR|- [-f ...] [flags]',
  examples: ['bramble create -f pod.yaml'],
  flags: {
    filename: FILENAME_FLAG,
    'save-config': { type: 'bool', description: 'store the manifest in the last-applied annotation, so a later apply can update the object' },
    ...API_FLAGS,
  },
} as const satisfies CommandSpec;

type Outcome = { ok: string } | { error: string };

/** The manifest's own namespace, else -n, else default; none for cluster-scoped kinds. */
export function manifestNamespace(manifest: Manifest, ctx: Pick<ApiContext, 'namespace' | 'explicitNamespace'>): string | undefined | Outcome {
  if (!manifest.info.namespaced) return undefined;
  const own = manifest.object.metadata.namespace;
  if (typeof own === 'string' && own !== '') {
    // kubectl refuses rather than guess which of the two the user meant.
    if (ctx.explicitNamespace !== undefined && own !== ctx.explicitNamespace) {
      return {
        error: `error: ${manifest.location}: the namespace from the provided object ${JSON.stringify(own)} does not match the namespace ${JSON.stringify(ctx.explicitNamespace)}; pass --namespace=${own} or remove metadata.namespace from the file`,
      };
    }
    return own;
  }
  return ctx.namespace;
}

// A refusal fails one object; an unreachable server fails the whole command.
function serverError(error: unknown, context: string): Outcome {
  if (error instanceof ApiError && error.status !== 0) return { error: error.framed(context) };
  throw error;
}

async function applyOne(client: ApiClient, manifest: Manifest, namespace: string | undefined, io: CommandIo): Promise<Outcome> {
  const name = manifest.object.metadata.name;
  if (typeof name !== 'string' || name === '') return { error: `error: ${manifest.location}: metadata.name is required for apply (kind ${manifest.object.kind})` };
  const path = objectPath(manifest.info, namespace, name);
  const shown = qualifiedName(manifest.info, name);
  // Twice at most: a create that loses a race with another creator is retried as an update.
  for (let attempt = 0; attempt < 2; attempt++) {
    let live: KObject | undefined;
    try {
      live = await client.get<KObject>(path);
    } catch (error) {
      if (!isNotFound(error)) return serverError(error, `error when retrieving current configuration of ${shown} from ${JSON.stringify(manifest.source)}: `);
    }
    const plan = planApply(manifest.object, live);
    switch (plan.action) {
      case 'unchanged':
        return { ok: `${shown} unchanged` };
      case 'create':
        try {
          await client.post(collectionPath(manifest.info, namespace), plan.body);
          return { ok: `${shown} created` };
        } catch (error) {
          if (attempt === 0 && error instanceof ApiError && error.reason === 'AlreadyExists') continue;
          return serverError(error, `error when creating ${JSON.stringify(manifest.source)}: `);
        }
      case 'patch':
        if (plan.adopted) {
          io.stderr.write(`Warning: ${shown} is missing the kubectl.kubernetes.io/last-applied-configuration annotation, which apply needs to know what to remove; it is being added now\n`);
        }
        try {
          await client.patch(path, plan.patch);
          return { ok: `${shown} configured` };
        } catch (error) {
          return serverError(error, `error when applying patch to ${shown} from ${JSON.stringify(manifest.source)}: `);
        }
    }
  }
  return { error: `error: ${shown}: it was created and deleted again while applying; try again` };
}

async function createOne(client: ApiClient, manifest: Manifest, namespace: string | undefined, saveConfig: boolean): Promise<Outcome> {
  const body = saveConfig ? withLastApplied(manifest.object) : manifest.object;
  try {
    const created = await client.post<KObject>(collectionPath(manifest.info, namespace), body);
    // The server picks the name when the manifest has only generateName.
    const name = created?.metadata?.name ?? manifest.object.metadata.name ?? '';
    return { ok: `${qualifiedName(manifest.info, name)} created` };
  } catch (error) {
    return serverError(error, `error when creating ${JSON.stringify(manifest.source)}: `);
  }
}

type Step = (client: ApiClient, manifest: Manifest, namespace: string | undefined) => Promise<Outcome>;

async function runManifests(verb: string, paths: string[] | undefined, flags: Parameters<typeof withApi>[0], io: CommandIo, step: Step): Promise<number> {
  if (paths === undefined || paths.length === 0) throw new UsageError(`bramble ${verb}: must give -f FILE (a file, a directory or - for standard input) (see 'bramble ${verb} --help')`);
  const set = await loadManifests(paths, io, verb);
  const errors = [...set.errors.map((e) => `error: ${e}`)];
  await withApi(flags, io, async (ctx) => {
    for (const manifest of set.manifests) {
      const namespace = manifestNamespace(manifest, ctx);
      const outcome = typeof namespace === 'object' ? namespace : await step(ctx.client, manifest, namespace);
      if ('ok' in outcome) io.stdout.write(`${outcome.ok}\n`);
      else errors.push(outcome.error);
    }
  });
  for (const error of errors) io.stderr.write(`${error}\n`);
  return errors.length > 0 ? 1 : 0;
}

export async function runApply(argv: readonly string[], io: CommandIo): Promise<number> {
  const { flags, help } = parseArgs(APPLY_COMMAND, argv);
  if (help) {
    io.stdout.write(formatHelp(APPLY_COMMAND));
    return 0;
  }
  refuseAllNamespaces('apply', flags);
  return runManifests('apply', flags.filename, flags, io, (client, manifest, namespace) => applyOne(client, manifest, namespace, io));
}

export async function runCreate(argv: readonly string[], io: CommandIo): Promise<number> {
  const { flags, help } = parseArgs(CREATE_COMMAND, argv);
  if (help) {
    io.stdout.write(formatHelp(CREATE_COMMAND));
    return 0;
  }
  refuseAllNamespaces('create', flags);
  return runManifests('create', flags.filename, flags, io, (client, manifest, namespace) => createOne(client, manifest, namespace, flags['save-config']));
}
