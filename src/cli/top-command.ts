// `bramble top nodes`: CPU and memory in use per node, from the metrics API (the nodes'
// heartbeats), against what the node can give pods (status.allocatable), in kubectl top's
// columns and units; plus DISK% (the data directory's filesystem, the SD card) and TEMP when
// the gateways report them.

import { UsageError } from '../errors.ts';
import { resolveResourceName, type KObject } from '../model/index.ts';
import { API_FLAGS, withApi } from './api-flags.ts';
import type { CommandSpec } from './flags.ts';
import { formatHelp, parseArgs } from './flags.ts';
import type { CommandIo } from './io.ts';
import { listAll } from './listing.ts';
import { at, obj } from './printers/fields.ts';
import { formatMebibytes, formatMillicores, quantityValue } from './quantity.ts';
import { formatTable } from './table.ts';

export const TOP_COMMAND = {
  name: 'top',
  summary: 'Show CPU and memory use of nodes.',
  usage: 'nodes [NAME...] [flags]',
  examples: ['bramble top nodes', 'bramble top node gw1'],
  flags: {
    selector: { type: 'string', short: 'l', valueName: 'SELECTOR', description: 'only nodes matching this label selector' },
    ...API_FLAGS,
  },
  positionals: { name: 'nodes [NAME...]', min: 1, max: Number.POSITIVE_INFINITY },
} as const satisfies CommandSpec;

const METRICS_PATH = '/apis/metrics.k8s.io/v1beta1/nodes';

interface NodeMetrics {
  metadata?: { name?: string };
  usage?: { cpu?: string; memory?: string };
  /** bramble's own figures beside Kubernetes' (src/api/resources/metrics.ts). */
  bramble?: { diskUsedBytes?: number; diskTotalBytes?: number; temperatureCelsius?: number };
}

/** Whether any node reports disk or temperature: only then are those columns shown. */
export function hasExtraFigures(metrics: readonly NodeMetrics[]): boolean {
  return metrics.some((m) => m.bramble?.diskTotalBytes !== undefined || m.bramble?.temperatureCelsius !== undefined);
}

function extraColumns(m: NodeMetrics | undefined): string[] {
  const b = m?.bramble;
  const disk = b?.diskUsedBytes !== undefined && b.diskTotalBytes !== undefined ? percent(b.diskUsedBytes, b.diskTotalBytes) : '<unknown>';
  const temperature = b?.temperatureCelsius !== undefined ? `${Math.round(b.temperatureCelsius)}°C` : '<unknown>';
  return [disk, temperature];
}

/** Whole percent, rounded down, as kubectl top prints it. */
function percent(used: number, available: number | undefined): string {
  if (available === undefined || available <= 0) return '<unknown>';
  return `${Math.floor((used * 100) / available)}%`;
}

export function nodeMetricsRows(metrics: readonly NodeMetrics[], nodes: readonly KObject[], extra = hasExtraFigures(metrics)): string[][] {
  const rows: string[][] = [];
  const seen = new Set<string>();
  for (const m of metrics) {
    const name = m.metadata?.name ?? '';
    // A gateway that reports metrics but has no Node object yet is shown, without percentages.
    const node = nodes.find((n) => n.metadata.name === name);
    seen.add(name);
    // Millicores are rounded up, as resource.Quantity's MilliValue does.
    const cpu = Math.ceil((quantityValue(m.usage?.cpu) ?? 0) * 1000 - 1e-9) / 1000;
    const memory = quantityValue(m.usage?.memory) ?? 0;
    const allocatable = node === undefined ? {} : obj(at(node, 'status', 'allocatable'));
    rows.push([name, formatMillicores(cpu), percent(cpu, quantityValue(allocatable['cpu'])), formatMebibytes(memory), percent(memory, quantityValue(allocatable['memory'])), ...(extra ? extraColumns(m) : [])]);
  }
  // Nodes without metrics yet (a gateway that just joined) are listed last, as kubectl does.
  for (const node of nodes) {
    const name = node.metadata.name ?? '';
    if (!seen.has(name)) rows.push([name, '<unknown>', '<unknown>', '<unknown>', '<unknown>', ...(extra ? extraColumns(undefined) : [])]);
  }
  return rows;
}

export async function runTop(argv: readonly string[], io: CommandIo): Promise<number> {
  const { flags, positionals, help } = parseArgs(TOP_COMMAND, argv);
  if (help) {
    io.stdout.write(formatHelp(TOP_COMMAND));
    return 0;
  }
  const [what, ...names] = positionals;
  const info = resolveResourceName(what!);
  if (info?.kind !== 'Node') {
    throw new UsageError(`bramble top: ${JSON.stringify(what)}: only 'bramble top nodes' is available in this version (pod metrics are not served yet)`);
  }
  if (names.length > 0 && flags.selector !== undefined) throw new UsageError('bramble top: names cannot be given with -l');
  return withApi(flags, io, async ({ client }) => {
    let metrics = (await client.get<{ items?: NodeMetrics[] }>(METRICS_PATH, flags.selector ? { labelSelector: flags.selector } : undefined))?.items ?? [];
    let nodes = (await listAll(client, info, undefined, { labelSelector: flags.selector })).items;
    if (names.length > 0) {
      const missing = names.filter((n) => !nodes.some((node) => node.metadata.name === n) && !metrics.some((m) => m.metadata?.name === n));
      for (const name of missing) io.stderr.write(`Error from server (NotFound): nodes ${JSON.stringify(name)} not found\n`);
      if (missing.length > 0) return 1;
      nodes = nodes.filter((node) => names.includes(node.metadata.name ?? ''));
      metrics = metrics.filter((m) => names.includes(m.metadata?.name ?? ''));
    }
    if (nodes.length === 0 && metrics.length === 0) {
      io.stderr.write('No resources found\n');
      return 0;
    }
    const extra = hasExtraFigures(metrics);
    io.stdout.write(formatTable(['NAME', 'CPU(cores)', 'CPU%', 'MEMORY(bytes)', 'MEMORY%', ...(extra ? ['DISK%', 'TEMP'] : [])], nodeMetricsRows(metrics, nodes, extra)));
    return 0;
  });
}
