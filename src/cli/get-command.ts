// `bramble get TYPE [NAME...]`: kubectl's tables (or -o json|yaml|name|wide), label and field
// selectors passed to the server, -A across namespaces, and -w to keep printing changes.

import { setTimeout as sleep } from 'node:timers/promises';
import { UsageError } from '../errors.ts';
import type { KObject } from '../model/index.ts';
import { ApiError, errorFromResponse, type Query, type Status } from './api-client.ts';
import { API_FLAGS, withApi, type ApiContext } from './api-flags.ts';
import type { CommandSpec } from './flags.ts';
import { formatHelp, parseArgs } from './flags.ts';
import { nowOf, type CommandIo } from './io.ts';
import { listAll, selectorQuery, type Selectors } from './listing.ts';
import { formatObjects, parseOutputFormat, tableOf, TablePrinter, toJson, toYaml, withTypeMeta, type OutputFormat } from './printers/output.ts';
import { collectionPath, nameOf, objectPath, parseResourceArgs, type ResourceRequest } from './resources.ts';

export const GET_COMMAND = {
  name: 'get',
  summary: 'List resources, or show the named ones.',
  usage: '(TYPE[,TYPE...] [NAME...] | TYPE/NAME... | all) [flags]',
  examples: [
    'bramble get pods',
    'bramble get deploy web -o yaml',
    'bramble get pods -A -o wide',
    'bramble get svc,ep -l app=web',
    'bramble get events --field-selector involvedObject.kind=Pod',
    'bramble get pods -w',
  ],
  flags: {
    output: { type: 'string', short: 'o', valueName: 'FORMAT', description: 'wide, json, yaml or name (default: a table)' },
    selector: { type: 'string', short: 'l', valueName: 'SELECTOR', description: 'label selector: app=web,tier!=db,env in (a,b)' },
    'field-selector': { type: 'string', valueName: 'SELECTOR', description: 'field selector: status.phase=Running,spec.nodeName=gw1' },
    watch: { type: 'bool', short: 'w', description: 'after the list, keep printing changes until interrupted' },
    'show-labels': { type: 'bool', description: 'add a LABELS column' },
    ...API_FLAGS,
  },
  positionals: { name: 'TYPE [NAME...]', min: 0, max: Number.POSITIVE_INFINITY },
} as const satisfies CommandSpec;

interface Fetched {
  request: ResourceRequest;
  objects: KObject[];
  resourceVersion: string;
}

const RECONNECT_DELAY_MS = 1000;

function scopeOf(request: ResourceRequest, ctx: ApiContext): string | undefined {
  if (!request.info.namespaced) return undefined;
  return ctx.allNamespaces && request.names.length === 0 ? undefined : ctx.namespace;
}

async function fetchRequest(ctx: ApiContext, request: ResourceRequest, selectors: Selectors, errors: string[]): Promise<Fetched> {
  const namespace = scopeOf(request, ctx);
  if (request.names.length === 0) {
    const listed = await listAll(ctx.client, request.info, namespace, selectors);
    return { request, objects: listed.items, resourceVersion: listed.resourceVersion };
  }
  const objects: KObject[] = [];
  for (const name of request.names) {
    try {
      objects.push(withTypeMeta(await ctx.client.get<KObject>(objectPath(request.info, namespace, name)), request.info));
    } catch (error) {
      // kubectl prints what it found and reports the rest; an unreachable server stops everything.
      if (error instanceof ApiError && error.status !== 0) errors.push(error.framed(''));
      else throw error;
    }
  }
  const versions = objects.map((o) => Number(o.metadata.resourceVersion)).filter((v) => Number.isSafeInteger(v));
  return { request, objects, resourceVersion: versions.length === 0 ? '' : String(Math.max(...versions)) };
}

function noResources(ctx: ApiContext, fetched: readonly Fetched[]): string {
  const namespaced = fetched.some((f) => f.request.info.namespaced);
  return ctx.allNamespaces || !namespaced ? 'No resources found\n' : `No resources found in ${ctx.namespace} namespace.\n`;
}

interface PrintOptions {
  format: OutputFormat;
  withNamespace: boolean;
  withKind: boolean;
  showLabels: boolean;
}

function printTables(fetched: readonly Fetched[], options: PrintOptions, io: CommandIo, printers: Map<string, TablePrinter>): void {
  let first = true;
  for (const { request, objects } of fetched) {
    if (objects.length === 0) continue;
    const table = tableOf(request.info.kind, objects, request.info, { wide: options.format === 'wide', withNamespace: options.withNamespace, withKind: options.withKind, showLabels: options.showLabels, now: nowOf(io) });
    const printer = new TablePrinter();
    printers.set(request.info.kind, printer);
    // A blank line between the tables of several types, as kubectl.
    io.stdout.write(`${first ? '' : '\n'}${printer.print(table)}`);
    first = false;
  }
}

interface WatchEvent {
  type?: string;
  object?: KObject & Status;
}

/** Streams changes after `fetched` until the signal aborts; a dropped watch is resumed where it ended. */
async function watch(ctx: ApiContext, fetched: Fetched, selectors: Selectors, options: PrintOptions, printer: TablePrinter, io: CommandIo): Promise<void> {
  const { request } = fetched;
  const path = collectionPath(request.info, scopeOf(request, ctx));
  const fieldSelector = request.names.length === 1 ? `metadata.name=${request.names[0]}` : selectors.fieldSelector;
  let resourceVersion = fetched.resourceVersion;
  const aborted = () => io.signal?.aborted === true;
  while (!aborted()) {
    const query: Query = { ...selectorQuery({ labelSelector: selectors.labelSelector, fieldSelector }), watch: 'true', ...(resourceVersion ? { resourceVersion } : {}) };
    for await (const line of ctx.client.lines(path, query, io.signal)) {
      let event: WatchEvent;
      try {
        event = JSON.parse(line) as WatchEvent;
      } catch {
        throw new ApiError(0, `the server sent a watch event that is not JSON: ${line.slice(0, 200)}`);
      }
      if (event.type === 'ERROR') throw errorFromResponse(event.object?.code ?? 500, JSON.stringify(event.object ?? {}));
      const object = event.object;
      if (object === undefined) continue;
      if (object.metadata?.resourceVersion) resourceVersion = object.metadata.resourceVersion;
      if (event.type === 'BOOKMARK') continue;
      if (request.names.length > 1 && !request.names.includes(object.metadata?.name ?? '')) continue;
      io.stdout.write(formatWatched(withTypeMeta(object, request.info), request, options, printer, io));
    }
    if (!aborted()) await sleep(RECONNECT_DELAY_MS, undefined, io.signal ? { signal: io.signal } : {}).catch(() => undefined);
  }
}

function formatWatched(object: KObject, request: ResourceRequest, options: PrintOptions, printer: TablePrinter, io: CommandIo): string {
  switch (options.format) {
    case 'json':
      return toJson(object);
    case 'yaml':
      return `---\n${toYaml(object)}`;
    case 'name':
      return `${nameOf(object, request.info)}\n`;
    default: {
      const table = tableOf(request.info.kind, [object], request.info, { wide: options.format === 'wide', withNamespace: options.withNamespace, withKind: false, showLabels: options.showLabels, now: nowOf(io) });
      return printer.print(table);
    }
  }
}

export async function runGet(argv: readonly string[], io: CommandIo): Promise<number> {
  const { flags, positionals, help } = parseArgs(GET_COMMAND, argv);
  if (help) {
    io.stdout.write(formatHelp(GET_COMMAND));
    return 0;
  }
  const format = parseOutputFormat('get', flags.output);
  const requests = parseResourceArgs('get', positionals, true);
  const selectors: Selectors = { labelSelector: flags.selector, fieldSelector: flags['field-selector'] };
  const named = requests.some((r) => r.names.length > 0);
  if (named && (flags.selector !== undefined || flags['field-selector'] !== undefined)) {
    throw new UsageError(`bramble get: names cannot be given with -l or --field-selector (see 'bramble get --help')`);
  }
  if (flags.watch && requests.length !== 1) throw new UsageError(`bramble get: -w watches one type at a time`);
  const errors: string[] = [];
  let failures = 0;
  await withApi(flags, io, async (ctx) => {
    const fetched: Fetched[] = [];
    for (const request of requests) fetched.push(await fetchRequest(ctx, request, selectors, errors));
    const objects = fetched.flatMap((f) => f.objects);
    const options: PrintOptions = {
      format,
      withNamespace: ctx.allNamespaces && !named && requests.some((r) => r.info.namespaced),
      withKind: requests.length > 1,
      showLabels: flags['show-labels'],
    };
    const printers = new Map<string, TablePrinter>();
    if (format === 'json' || format === 'yaml' || format === 'name') {
      const single = requests.length === 1 && requests[0]!.names.length === 1;
      // A name that was not found prints nothing, not an empty List.
      if (!(single && objects.length === 0)) io.stdout.write(formatObjects(format, objects, single));
    } else {
      printTables(fetched, options, io, printers);
      if (objects.length === 0 && !named && !flags.watch) io.stderr.write(noResources(ctx, fetched));
    }
    // Reported before a watch starts, which may run for hours.
    failures = errors.length;
    for (const error of errors) io.stderr.write(`${error}\n`);
    if (flags.watch) {
      const only = fetched[0]!;
      await watch(ctx, only, selectors, options, printers.get(only.request.info.kind) ?? new TablePrinter(), io);
    }
  });
  return failures > 0 ? 1 : 0;
}
