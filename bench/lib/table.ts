// Prints figures as a plain-text table: figure, value, target, baseline, ratio, pass/miss.
import type { Figure } from './figure.js';

function formatNumber(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  if (Math.abs(value) >= 100) return Math.round(value).toLocaleString('en-US');
  if (Math.abs(value) >= 10) return value.toFixed(1);
  return value.toFixed(2);
}

/** Shares keep two decimals: 99.9% and 99.895% are a pass and a miss. */
function formatValue(figure: Figure): string {
  return figure.unit === '%' ? `${figure.value.toFixed(2)} %` : `${formatNumber(figure.value)} ${figure.unit}`;
}

function row(figure: Figure): string[] {
  const baseline = figure.baseline
    ? `${figure.baseline.name}: ${formatNumber(figure.baseline.value)} ${figure.unit}`
    : '';
  return [
    figure.name,
    formatValue(figure),
    figure.target?.text ?? '',
    baseline,
    figure.ratio === undefined ? '' : `${figure.ratio.toFixed(2)}×`,
    figure.target ? (figure.target.pass ? 'pass' : 'MISS') : '',
  ];
}

const header = ['figure', 'value', 'target', 'baseline', 'ratio', 'result'];
const rightAligned = new Set([1, 4]);

/** The table as lines, one section per benchmark. */
export function formatTable(figures: readonly Figure[]): string {
  const rows = figures.map(row);
  const widths = header.map((title, column) =>
    Math.max(title.length, ...rows.map((cells) => (cells[column] ?? '').length)),
  );
  const line = (cells: readonly string[]) =>
    cells
      .map((cell, column) =>
        rightAligned.has(column) ? cell.padStart(widths[column] ?? 0) : cell.padEnd(widths[column] ?? 0),
      )
      .join('  ')
      .trimEnd();
  const rule = widths.map((width) => '-'.repeat(width)).join('  ');
  const lines = [line(header), rule];
  let section: string | undefined;
  figures.forEach((figure, index) => {
    if (figure.benchmark !== section) {
      section = figure.benchmark;
      lines.push(`[${section}]`);
    }
    lines.push(line(rows[index] ?? []));
  });
  return lines.join('\n');
}
