// `-o json|yaml|name|wide` and the default table: how `get` (and apply's and watch's output)
// turns API objects into text.

import { stringify } from 'yaml';
import { UsageError } from '../../errors.ts';
import type { KObject, ResourceInfo } from '../../model/index.ts';
import { groupVersion } from '../../model/index.ts';
import { nameOf } from '../resources.ts';
import { columnWidths, formatRow } from '../table.ts';
import { columnsFor, headersFor } from './columns.ts';

export type OutputFormat = 'table' | 'wide' | 'json' | 'yaml' | 'name';

const FORMATS: readonly OutputFormat[] = ['wide', 'json', 'yaml', 'name'];

export function parseOutputFormat(command: string, value: string | undefined): OutputFormat {
  if (value === undefined || value === '') return 'table';
  if ((FORMATS as readonly string[]).includes(value)) return value as OutputFormat;
  throw new UsageError(`bramble ${command}: unable to match a printer for -o ${JSON.stringify(value)}; allowed formats: ${FORMATS.join(', ')} (see 'bramble ${command} --help')`);
}

/** kubectl's -o json: four-space indentation. */
export function toJson(value: unknown): string {
  return `${JSON.stringify(value, null, 4)}\n`;
}

/** kubectl's -o yaml: sequences not indented under their key, long strings never folded. */
export function toYaml(value: unknown): string {
  return stringify(value, { indentSeq: false, lineWidth: 0, aliasDuplicateObjects: false });
}

/** What kubectl prints for several objects: a v1 List. */
export function listOf(items: readonly KObject[]): Record<string, unknown> {
  return { apiVersion: 'v1', items, kind: 'List', metadata: { resourceVersion: '' } };
}

/** List items from the API may omit apiVersion and kind; printers and `-o name` need them. */
export function withTypeMeta(object: KObject, info: ResourceInfo): KObject {
  if (object.apiVersion && object.kind) return object;
  const typeMeta = { apiVersion: object.apiVersion || groupVersion(info), kind: object.kind || info.kind };
  // apiVersion and kind first, as everywhere else.
  return Object.assign({ ...typeMeta }, object, typeMeta, { metadata: object.metadata ?? {} });
}

export interface TableOptions {
  wide: boolean;
  /** -A: a NAMESPACE column first. */
  withNamespace: boolean;
  /** Several types requested: names print as `pod/web` (kubectl does so for `get all`). */
  withKind: boolean;
  showLabels: boolean;
  now: number;
}

export interface Table {
  headers: string[];
  rows: string[][];
}

/** Header and rows for objects of one kind. */
export function tableOf(kind: string, objects: readonly KObject[], info: ResourceInfo | undefined, options: TableOptions): Table {
  const columns = columnsFor(kind);
  const headers = [...(options.withNamespace ? ['NAMESPACE'] : []), ...headersFor(kind, options.wide), ...(options.showLabels ? ['LABELS'] : [])];
  const rows = objects.map((object) => {
    const cells = columns.row(object, options.now, options.wide);
    if (options.withKind && columns.nameColumn >= 0) cells[columns.nameColumn] = nameOf(object, info);
    if (options.withNamespace) cells.unshift(object.metadata?.namespace ?? '');
    if (options.showLabels) {
      const labels = Object.entries(object.metadata?.labels ?? {}).map(([k, v]) => `${k}=${v}`);
      cells.push(labels.length === 0 ? '<none>' : labels.join(','));
    }
    return cells;
  });
  return { headers, rows };
}

/** Formats a table and remembers its widths, so later watch rows line up under it. */
export class TablePrinter {
  private widths: number[] = [];
  private printedHeader = false;

  print(table: Table): string {
    this.widths = columnWidths(table.headers, table.rows, this.widths);
    const lines = table.rows.map((row) => formatRow(row, this.widths));
    if (!this.printedHeader) {
      lines.unshift(formatRow(table.headers, this.widths));
      this.printedHeader = true;
    }
    return lines.join('');
  }
}

/** One object (or a list when `single` is false) in a non-table format. */
export function formatObjects(format: 'json' | 'yaml' | 'name', objects: readonly KObject[], single: boolean, info?: ResourceInfo): string {
  if (format === 'name') return objects.map((o) => `${nameOf(o, info)}\n`).join('');
  const value = single && objects.length === 1 ? objects[0] : listOf(objects);
  return format === 'json' ? toJson(value) : toYaml(value);
}
