// kubectl-style plain tables: upper-case headers, columns padded with three spaces (kubectl's
// tabwriter: minimum width 6, padding 3). A watch keeps the widths of the first table so its
// later rows line up under the header, as kubectl's RememberWidths does.

const MIN_WIDTH = 6;
const PADDING = 3;

/** Column widths (padding included) that fit `headers` and `rows`, never narrower than `previous`. */
export function columnWidths(headers: readonly string[], rows: readonly (readonly string[])[], previous: readonly number[] = []): number[] {
  return headers.map((h, i) =>
    Math.max(MIN_WIDTH, previous[i] ?? 0, h.length + PADDING, ...rows.map((r) => (r[i] ?? '').length + PADDING)),
  );
}

/** One line; the last cell is not padded, and trailing spaces are dropped. */
export function formatRow(cells: readonly string[], widths: readonly number[]): string {
  return `${cells
    .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] ?? c.length + PADDING)))
    .join('')
    .trimEnd()}\n`;
}

export function formatTable(headers: string[], rows: string[][]): string {
  const widths = columnWidths(headers, rows);
  return [headers, ...rows].map((cells) => formatRow(cells, widths)).join('');
}
