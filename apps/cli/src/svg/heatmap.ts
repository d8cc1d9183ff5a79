/** Heatmaps of matrices (one coloured cell per entry, labelled rows and columns) and colour bars. */
import { type ColorMap, textOn } from './colors.js';
import { type Panel, attrs, decimalsFor, esc, niceTicks, text, textWidth } from './core.js';

/** Options of {@link heatmap}. */
export interface HeatmapOptions {
  readonly matrix: readonly (readonly number[])[];
  readonly colorMap: ColorMap;
  /** Value at the bottom and top of the colour map. */
  readonly vmin: number;
  readonly vmax: number;
  /** Value coloured for each cell (default the cell's value), e.g. a row-normalised share. */
  readonly colorValue?: (v: number, row: number, col: number) => number;
  /** Cell size in pixels (default 10 x 10). */
  readonly cellWidth?: number;
  readonly cellHeight?: number;
  /** Labels of rows (left) and columns (bottom); by default indices, every `labelEvery`. */
  readonly rowLabels?: readonly string[];
  readonly colLabels?: readonly string[];
  /** Label only every n-th row/column index (default 1). */
  readonly labelEvery?: number;
  readonly xLabel?: string;
  readonly yLabel?: string;
  readonly title?: string;
  /** Write each cell's value in it with this format. */
  readonly annotate?: (v: number, row: number, col: number) => string;
  /** Tooltip text of a cell. */
  readonly tooltip?: (v: number, row: number, col: number) => string;
}

/**
 * A matrix as a grid of coloured cells (row 0 at the top), with axis labels.
 * @example heatmap({ matrix: [[1, 2], [3, 4]], colorMap: blues, vmin: 0, vmax: 4, annotate: String })
 */
export function heatmap(o: HeatmapOptions): Panel {
  const rows = o.matrix.length;
  const cols = rows ? o.matrix[0]!.length : 0;
  const cw = o.cellWidth ?? 10;
  const ch = o.cellHeight ?? 10;
  const every = o.labelEvery ?? 1;
  const rowLabel = (i: number): string => (o.rowLabels ? o.rowLabels[i] ?? '' : i % every === 0 ? String(i) : '');
  const colLabel = (j: number): string => (o.colLabels ? o.colLabels[j] ?? '' : j % every === 0 ? String(j) : '');
  const labelSize = 11;
  const rowLabelW = Math.max(0, ...Array.from({ length: rows }, (_, i) => textWidth(rowLabel(i), labelSize)));
  const left = (o.yLabel ? 22 : 0) + rowLabelW + 8;
  const top = o.title ? 24 : 2;
  const gw = cols * cw;
  const gh = rows * ch;
  const bottom = 22 + (o.xLabel ? 20 : 0);
  const out: string[] = [];
  if (o.title) out.push(text(left, 16, o.title, { size: 13, weight: 'bold' }));
  const span = o.vmax - o.vmin || 1;
  for (let i = 0; i < rows; i++) {
    for (let j = 0; j < cols; j++) {
      const v = o.matrix[i]![j]!;
      const cv = o.colorValue ? o.colorValue(v, i, j) : v;
      const fill = o.colorMap((cv - o.vmin) / span);
      const tip = o.tooltip ? `<title>${esc(o.tooltip(v, i, j))}</title>` : '';
      out.push(`<rect${attrs({ x: left + j * cw, y: top + i * ch, width: cw + 0.05, height: ch + 0.05, fill })}>${tip}</rect>`);
      if (o.annotate) {
        const s = o.annotate(v, i, j);
        if (s) out.push(text(left + j * cw + cw / 2, top + i * ch + ch / 2 + 4, s, { size: Math.min(11, ch * 0.45, (cw / Math.max(s.length, 1)) * 1.6), anchor: 'middle', fill: textOn(fill) }));
      }
    }
  }
  out.push(`<rect${attrs({ x: left, y: top, width: gw, height: gh, fill: 'none', stroke: '#555', 'stroke-width': 0.8 })}/>`);
  for (let i = 0; i < rows; i++) {
    const s = rowLabel(i);
    if (s) out.push(text(left - 5, top + i * ch + ch / 2 + 4, s, { size: labelSize, anchor: 'end', fill: '#333' }));
  }
  for (let j = 0; j < cols; j++) {
    const s = colLabel(j);
    if (s) out.push(text(left + j * cw + cw / 2, top + gh + 14, s, { size: labelSize, anchor: 'middle', fill: '#333' }));
  }
  if (o.xLabel) out.push(text(left + gw / 2, top + gh + 34, o.xLabel, { size: 12, anchor: 'middle' }));
  if (o.yLabel) out.push(text(12, top + gh / 2, o.yLabel, { size: 12, anchor: 'middle', rotate: -90 }));
  const width = Math.max(left + gw + 4, o.title ? left + textWidth(o.title, 13) : 0);
  return { width, height: top + gh + bottom, body: out.join('\n') };
}

/** Options of {@link colorBar}. */
export interface ColorBarOptions {
  readonly colorMap: ColorMap;
  readonly vmin: number;
  readonly vmax: number;
  /** Height of the bar in pixels. */
  readonly height: number;
  readonly label?: string;
  /** Format of tick labels (default: decimals from the tick step). */
  readonly format?: (v: number) => string;
  /** Space above the bar (to line it up with a heatmap's grid). */
  readonly offsetTop?: number;
}

/**
 * A vertical colour bar with ticks, `vmin` at the bottom.
 * @example colorBar({ colorMap: blueWhiteRed, vmin: -0.2, vmax: 0.2, height: 200, label: 'alpha' })
 */
export function colorBar(o: ColorBarOptions): Panel {
  const barW = 14;
  const top = o.offsetTop ?? 2;
  const steps = 64;
  const out: string[] = [];
  const h = o.height;
  for (let k = 0; k < steps; k++) {
    const t0 = k / steps;
    out.push(`<rect${attrs({ x: 0, y: top + h - (k + 1) * (h / steps), width: barW, height: h / steps + 0.3, fill: o.colorMap(t0 + 0.5 / steps) })}/>`);
  }
  out.push(`<rect${attrs({ x: 0, y: top, width: barW, height: h, fill: 'none', stroke: '#555', 'stroke-width': 0.8 })}/>`);
  const t = niceTicks(o.vmin, o.vmax, Math.max(2, Math.min(6, Math.floor(h / 35))));
  const dec = decimalsFor(t.step);
  const fmt = o.format ?? ((v: number) => v.toFixed(dec));
  const span = o.vmax - o.vmin || 1;
  let labelW = 0;
  for (const v of t.ticks) {
    if (v < o.vmin - 1e-12 || v > o.vmax + 1e-12) continue;
    const y = top + h - ((v - o.vmin) / span) * h;
    out.push(`<line${attrs({ x1: barW, x2: barW + 4, y1: y, y2: y, stroke: '#333' })}/>`);
    const s = fmt(v);
    labelW = Math.max(labelW, textWidth(s, 10));
    out.push(text(barW + 7, y + 3.5, s, { size: 10, fill: '#333' }));
  }
  let width = barW + 8 + labelW;
  if (o.label) {
    const x = width + 12;
    out.push(text(x, top + h / 2, o.label, { size: 11, anchor: 'middle', rotate: 90, fill: '#333' }));
    width = x + 8;
  }
  return { width, height: top + h + 4, body: out.join('\n') };
}

/** Format a value for a tick or annotation with `digits` significant decimals, without "-0". */
export function fmtSigned(v: number, digits: number): string {
  const s = v.toFixed(digits);
  return /^-0\.?0*$/.test(s) ? s.slice(1) : s;
}

