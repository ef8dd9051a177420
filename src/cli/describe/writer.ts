// The building blocks of `bramble describe`, shaped after kubectl's describe.go: lines written
// at a nesting level with tab-separated cells, aligned by a tabwriter at the end; the common
// header (name, namespace, labels, annotations, creation time) and the Events section.

import type { KObject } from '../../model/index.ts';
import { LAST_APPLIED } from '../apply-plan.ts';
import { eventTimes } from '../printers/columns.ts';
import { obj, str } from '../printers/fields.ts';
import { tabwrite } from '../printers/tabwriter.ts';
import { rfc1123z } from '../printers/time.ts';

// kubectl truncates long annotations so one big JSON blob does not swamp the page.
const MAX_ANNOTATION_LENGTH = 140;

export class DescribeWriter {
  private readonly blocks: string[] = [];
  private current = '';

  /** One line at `level` (two spaces each); cells are aligned with the lines around them. */
  line(level: number, ...cells: string[]): void {
    this.current += `${'  '.repeat(level)}${cells.join('\t')}\n`;
  }

  /** Ends an alignment block: what follows is aligned on its own (kubectl flushes before Events). */
  flush(): void {
    if (this.current !== '') this.blocks.push(tabwrite(this.current));
    this.current = '';
  }

  /** `Labels:  a=1` then `        b=2`, sorted; `<none>` when empty. */
  multiline(prefix: string, title: string, entries: readonly string[]): void {
    if (entries.length === 0) {
      this.current += `${prefix}${title}:\t<none>\n`;
      return;
    }
    entries.forEach((entry, i) => {
      this.current += i === 0 ? `${prefix}${title}:\t${entry}\n` : `${prefix}\t${entry}\n`;
    });
  }

  labels(prefix: string, title: string, labels: unknown): void {
    const map = obj(labels);
    this.multiline(prefix, title, Object.keys(map).sort().map((k) => `${k}=${str(map[k])}`));
  }

  annotations(prefix: string, title: string, annotations: unknown): void {
    const map = obj(annotations);
    const lines = Object.keys(map)
      .filter((k) => k !== LAST_APPLIED)
      .sort()
      .map((k) => {
        const line = `${k}: ${str(map[k])}`.replace(/\n/g, ' ');
        return line.length > MAX_ANNOTATION_LENGTH ? `${line.slice(0, MAX_ANNOTATION_LENGTH)}...` : line;
      });
    this.multiline(prefix, title, lines);
  }

  toString(): string {
    this.flush();
    return this.blocks.join('');
  }
}

/** Name, Namespace (namespaced kinds), Labels, Annotations, CreationTimestamp. */
export function writeHeader(w: DescribeWriter, object: KObject, namespaced: boolean): void {
  w.line(0, 'Name:', object.metadata.name ?? '');
  if (namespaced) w.line(0, 'Namespace:', object.metadata.namespace ?? '');
  w.labels('', 'Labels', object.metadata.labels);
  w.annotations('', 'Annotations', object.metadata.annotations);
  w.line(0, 'CreationTimestamp:', rfc1123z(object.metadata.creationTimestamp));
}

function eventSortKey(event: KObject): number {
  const at = str(event['lastTimestamp']) || str(event['eventTime']) || str(event['firstTimestamp']) || str(event.metadata?.creationTimestamp);
  const parsed = Date.parse(at);
  return Number.isNaN(parsed) ? 0 : parsed;
}

/** The Events table (oldest first), or `Events:  <none>` aligned with the lines above it. */
export function writeEvents(w: DescribeWriter, events: readonly KObject[] | undefined, now: number): void {
  if (events === undefined) return;
  if (events.length === 0) {
    w.line(0, 'Events:', '<none>');
    return;
  }
  w.flush();
  w.line(0, 'Events:');
  w.line(1, 'Type', 'Reason', 'Age', 'From', 'Message');
  w.line(1, '----', '------', '----', '----', '-------');
  for (const event of [...events].sort((a, b) => eventSortKey(a) - eventSortKey(b))) {
    const times = eventTimes(event, now);
    const interval = times.count > 1 ? `${times.last} (x${times.count} over ${times.first})` : times.first;
    const source = obj(event['source']);
    const from = str(source['component']) || str(event['reportingComponent']) || str(event['reportingController']);
    w.line(1, str(event['type']), str(event['reason']), interval, from, str(event['message']).trim());
  }
}
