// `bramble image import|ls|rm`: images on gateways that have no registry. Each command acts on
// the gateway that answers, or on `--node NAME`, or on every member with `--all-nodes`.
import { createReadStream, statSync } from 'node:fs';
import { Transform } from 'node:stream';
import { BrambleError, UsageError } from '../errors.ts';
import type { ApiClient } from './api-client.ts';
import { apiTarget, withClient } from './api-client.ts';
import { CONNECTION_FLAGS } from './api-flags.ts';
import type { CommandSpec } from './flags.ts';
import { formatHelp, parseArgs } from './flags.ts';
import type { CommandIo } from './io.ts';
import { formatTable } from './table.ts';

const NODE_FLAGS = {
  node: { type: 'string', valueName: 'NAME', description: 'the gateway to act on (default: the one --server reaches)' },
  'all-nodes': { type: 'bool', description: 'every member of the cluster' },
  ...CONNECTION_FLAGS,
} as const;

export const IMAGE_IMPORT_COMMAND = {
  name: 'image import',
  summary: 'Import an image archive (OCI layout or docker save .tar) into a gateway’s containerd.',
  usage: 'FILE.tar [--node NAME | --all-nodes]',
  examples: ['bramble image import nginx.tar --all-nodes', 'bramble image import app.tar --node gw2'],
  flags: NODE_FLAGS,
  positionals: { name: 'FILE', min: 1, max: 1 },
} as const satisfies CommandSpec;

export const IMAGE_LS_COMMAND = {
  name: 'image ls',
  summary: 'List the images on a gateway.',
  usage: '[--node NAME | --all-nodes]',
  flags: NODE_FLAGS,
} as const satisfies CommandSpec;

export const IMAGE_RM_COMMAND = {
  name: 'image rm',
  summary: 'Remove an image from a gateway.',
  usage: 'IMAGE [--node NAME | --all-nodes]',
  examples: ['bramble image rm nginx:1.14.2 --all-nodes'],
  flags: NODE_FLAGS,
  positionals: { name: 'IMAGE', min: 1, max: 1 },
} as const satisfies CommandSpec;

interface NodeFlags {
  node: string | undefined;
  'all-nodes': boolean;
}

/** The gateways to act on: undefined stands for "the one that answers". */
async function targets(client: ApiClient, flags: NodeFlags, command: string): Promise<(string | undefined)[]> {
  if (flags.node !== undefined && flags['all-nodes']) throw new UsageError(`bramble ${command}: give --node or --all-nodes, not both`);
  if (flags.node !== undefined) return [flags.node];
  if (!flags['all-nodes']) return [undefined];
  const status = await client.get<{ members?: { name: string }[] }>('/cluster');
  return (status?.members ?? []).map((m) => m.name);
}

function formatBytes(bytes: number): string {
  if (bytes >= 1024 ** 3) return `${(bytes / 1024 ** 3).toFixed(1)} GiB`;
  if (bytes >= 1024 ** 2) return `${(bytes / 1024 ** 2).toFixed(1)} MiB`;
  if (bytes >= 1024) return `${(bytes / 1024).toFixed(1)} KiB`;
  return `${bytes} B`;
}

export async function runImageImport(argv: readonly string[], io: CommandIo): Promise<number> {
  const { flags, positionals, help } = parseArgs(IMAGE_IMPORT_COMMAND, argv);
  if (help) {
    io.stdout.write(formatHelp(IMAGE_IMPORT_COMMAND));
    return 0;
  }
  const file = positionals[0]!;
  let size: number;
  try {
    size = statSync(file).size;
  } catch (error) {
    throw new BrambleError('E_IMAGE', `bramble image import: cannot read ${file} (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
  }
  return withClient(apiTarget(flags, io.env), async (client) => {
    let failed = 0;
    for (const node of await targets(client, flags, 'image import')) {
      const where = node ?? 'the gateway at --server';
      let sent = 0;
      let reported = 0;
      // Upload progress every 10%, so a slow link to a far gateway shows it is moving.
      const counter = new Transform({
        transform(chunk: Buffer, _encoding, done) {
          sent += chunk.length;
          const tenth = Math.floor((sent * 10) / Math.max(size, 1));
          if (tenth > reported) {
            reported = tenth;
            io.stderr.write(`${where}: sent ${formatBytes(sent)} of ${formatBytes(size)}\n`);
          }
          done(null, chunk);
        },
      });
      const body = createReadStream(file).pipe(counter);
      let imported: string[] | undefined;
      let error: string | undefined;
      for await (const line of client.lines('/bramble/v1/images/import', node ? { node } : undefined, io.signal, 'POST', { body, contentType: 'application/x-tar' })) {
        let event: { progress?: string; imported?: string[]; error?: string; node?: string };
        try {
          event = JSON.parse(line) as typeof event;
        } catch {
          continue;
        }
        if (event.progress) io.stderr.write(`${event.node ?? where}: ${event.progress}\n`);
        if (event.imported) imported = event.imported;
        if (event.error) error = event.error;
      }
      if (imported) for (const name of imported) io.stdout.write(`${name} imported on ${node ?? 'this gateway'}\n`);
      else {
        failed++;
        io.stderr.write(`bramble image import: ${where}: ${error ?? 'the gateway answered without a result'}\n`);
      }
    }
    return failed > 0 ? 1 : 0;
  });
}

export async function runImageLs(argv: readonly string[], io: CommandIo): Promise<number> {
  const { flags, help } = parseArgs(IMAGE_LS_COMMAND, argv);
  if (help) {
    io.stdout.write(formatHelp(IMAGE_LS_COMMAND));
    return 0;
  }
  return withClient(apiTarget(flags, io.env), async (client) => {
    const rows: string[][] = [];
    for (const node of await targets(client, flags, 'image ls')) {
      const answer = await client.get<{ node: string; items: { name: string; digest: string; sizeBytes: number }[] }>('/bramble/v1/images', node ? { node } : undefined);
      for (const image of answer.items) rows.push([answer.node, image.name, image.digest.slice(0, 19), formatBytes(image.sizeBytes)]);
    }
    io.stdout.write(formatTable(['NODE', 'IMAGE', 'DIGEST', 'SIZE'], rows));
    return 0;
  });
}

export async function runImageRm(argv: readonly string[], io: CommandIo): Promise<number> {
  const { flags, positionals, help } = parseArgs(IMAGE_RM_COMMAND, argv);
  if (help) {
    io.stdout.write(formatHelp(IMAGE_RM_COMMAND));
    return 0;
  }
  const name = positionals[0]!;
  return withClient(apiTarget(flags, io.env), async (client) => {
    for (const node of await targets(client, flags, 'image rm')) {
      const answer = await client.delete<{ node: string; removed: string }>('/bramble/v1/images', { name, ...(node ? { node } : {}) });
      io.stdout.write(`${answer.removed} removed from ${answer.node}\n`);
    }
    return 0;
  });
}
