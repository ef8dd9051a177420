// Go's text/tabwriter, as `kubectl describe` uses it (minwidth 0, padding 2, spaces): cells end
// at tabs, and a column is aligned across each run of consecutive lines that have a cell in it.
// Reproducing the algorithm (rather than padding labels to a fixed width) keeps describe's output
// laid out like kubectl's, nested blocks and tables included.

interface Options {
  minWidth: number;
  padding: number;
}

/** Aligns tab-separated text. Each line's last cell (after its last tab) is not padded. */
export function tabwrite(text: string, options: Options = { minWidth: 0, padding: 2 }): string {
  const endsWithNewline = text.endsWith('\n');
  const lines = (endsWithNewline ? text.slice(0, -1) : text).split('\n').map((line) => line.split('\t'));
  const out: string[] = lines.map(() => '');
  const widths: number[] = [];

  // Appends lines [from, to) using the current column widths.
  const writeLines = (from: number, to: number) => {
    for (let i = from; i < to; i++) {
      const cells = lines[i]!;
      let text = '';
      for (let j = 0; j < cells.length; j++) {
        const cell = cells[j]!;
        // The last cell is never in a column of its own block, so it is never padded.
        text += j < cells.length - 1 && j < widths.length ? cell.padEnd(widths[j]!) : cell;
      }
      out[i] = text;
    }
  };

  // The recursive column-block formatting of Go's tabwriter.format.
  const format = (line0: number, line1: number): void => {
    const column = widths.length;
    let start = line0;
    for (let current = line0; current < line1; current++) {
      if (column >= lines[current]!.length - 1) continue;
      // A cell exists in this column: lines before it are done with the current widths.
      writeLines(start, current);
      start = current;
      let width = options.minWidth;
      for (; current < line1; current++) {
        const cells = lines[current]!;
        if (column >= cells.length - 1) break;
        width = Math.max(width, cells[column]!.length + options.padding);
      }
      widths.push(width);
      format(start, current);
      widths.pop();
      // `current` ended the block and has no cell here: the loop's increment may skip it.
      start = current;
    }
    writeLines(start, line1);
  };

  format(0, lines.length);
  // Trailing spaces are noise (an empty last value such as an unset Medium).
  return out.map((line) => line.trimEnd()).join('\n') + (endsWithNewline ? '\n' : '');
}
