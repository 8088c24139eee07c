// Shared bits of the benchmarks: each measured thing is one module exporting a Bench.
export interface Bench {
  /** short id (`npm run bench -- <id>` runs only this one) */
  id: string;
  title: string;
  /** measures and returns the text to print (a table and a line or two of notes) */
  run(): Promise<string>;
}

/** Right-aligns numeric cells, left-aligns the rest; a rule under the header. */
export function table(header: string[], rows: (string | number)[][]): string {
  const all = [header, ...rows.map((r) => r.map(String))];
  const widths = header.map((_, c) => Math.max(...all.map((r) => (r[c] ?? '').length)));
  const numeric = (s: string) => /^[-+]?[\d.,]+ ?%?( [A-Z]+)?$/.test(s);
  const line = (r: string[]) => r.map((cell, c) => (c > 0 && numeric(cell) ? cell.padStart(widths[c]) : cell.padEnd(widths[c]))).join('  ').trimEnd();
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...all.slice(1).map(line)].join('\n');
}

export function fmt(n: number, digits = 0): string {
  return n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}
