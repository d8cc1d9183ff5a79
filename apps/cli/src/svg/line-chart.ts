/** Line charts: axes with ticks and labels, grid lines, one line per series (with markers) and a legend. */
import { SERIES_COLORS } from './colors.js';
import { type Panel, attrs, decimalsFor, esc, integerTicks, niceTicks, num, text, textWidth } from './core.js';

/** One line of a chart. Points with a non-finite y are gaps. */
export interface Series {
  readonly name: string;
  readonly points: readonly (readonly [number, number])[];
  readonly color?: string;
  readonly dashed?: boolean;
}

/** Options of {@link lineChart}. */
export interface LineChartOptions {
  readonly series: readonly Series[];
  readonly xLabel: string;
  readonly yLabel: string;
  /** Title drawn above the plot. */
  readonly title?: string;
  /** Outer size in pixels (default 640 x 360). */
  readonly width?: number;
  readonly height?: number;
  /** Fixed y range (default: the data's, rounded out to ticks). */
  readonly yMin?: number;
  readonly yMax?: number;
  /** The x values are integers (epochs): integer ticks. */
  readonly xInteger?: boolean;
  /** Format of y tick labels (default: as many decimals as the tick step needs). */
  readonly yFormat?: (v: number) => string;
  /** Draw a marker at each point (default: when a series has at most 60 points). */
  readonly markers?: boolean;
  /** A note under the plot (e.g. where the numbers come from). */
  readonly note?: string;
}

/**
 * A line chart as a {@link Panel}.
 * @example toSvg(lineChart({ series: [{ name: 'MNIST', points: [[1, 0.5], [2, 0.3]] }], xLabel: 'epoch', yLabel: 'loss' }))
 */
export function lineChart(o: LineChartOptions): Panel {
  const width = o.width ?? 640;
  const height = o.height ?? 360;
  const all = o.series.flatMap((s) => s.points.filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y)));
  const xs = all.map((p) => p[0]);
  const ys = all.map((p) => p[1]);
  let xLo = xs.length ? Math.min(...xs) : 0;
  let xHi = xs.length ? Math.max(...xs) : 1;
  if (xHi === xLo) {
    xLo -= o.xInteger ? 0 : 0.5;
    xHi += o.xInteger ? 1 : 0.5;
  }
  const yT = niceTicks(o.yMin ?? (ys.length ? Math.min(...ys) : 0), o.yMax ?? (ys.length ? Math.max(...ys) : 1), 5);
  const yLo = o.yMin ?? yT.lo;
  const yHi = o.yMax ?? yT.hi;
  const yTicks = yT.ticks.filter((t) => t >= yLo - 1e-9 && t <= yHi + 1e-9);
  const yDec = decimalsFor(yT.step);
  const yFmt = o.yFormat ?? ((v: number) => v.toFixed(yDec));
  const xTicks = o.xInteger ? integerTicks(xLo, xHi, 10) : niceTicks(xLo, xHi, 6).ticks.filter((t) => t >= xLo && t <= xHi);
  const xDec = o.xInteger ? 0 : decimalsFor(niceTicks(xLo, xHi, 6).step);

  const legendItems = o.series.map((s, i) => ({ name: s.name, color: s.color ?? SERIES_COLORS[i % SERIES_COLORS.length]!, dashed: s.dashed }));
  const legendW = legendItems.length ? Math.max(...legendItems.map((l) => textWidth(l.name, 12))) + 44 : 0;
  const tickLabelW = Math.max(...yTicks.map((t) => textWidth(yFmt(t), 11)), 10);
  const left = 26 + tickLabelW + 10;
  const top = o.title ? 34 : 12;
  const bottom = 48 + (o.note ? 18 : 0);
  const right = 16 + legendW;
  const pw = Math.max(width - left - right, 50);
  const ph = Math.max(height - top - bottom, 50);
  const sx = (x: number): number => left + ((x - xLo) / (xHi - xLo)) * pw;
  const sy = (y: number): number => top + ph - ((y - yLo) / (yHi - yLo)) * ph;

  const out: string[] = [];
  if (o.title) out.push(text(left, 22, o.title, { size: 15, weight: 'bold' }));
  out.push(`<rect${attrs({ x: left, y: top, width: pw, height: ph, fill: '#fbfbfb', stroke: 'none' })}/>`);
  // grid and y ticks
  for (const t of yTicks) {
    const y = sy(t);
    out.push(`<line${attrs({ x1: left, x2: left + pw, y1: y, y2: y, stroke: '#e3e3e3', 'stroke-width': 1 })}/>`);
    out.push(`<line${attrs({ x1: left - 5, x2: left, y1: y, y2: y, stroke: '#333' })}/>`);
    out.push(text(left - 8, y + 4, yFmt(t), { size: 11, anchor: 'end', fill: '#333' }));
  }
  for (const t of xTicks) {
    const x = sx(t);
    out.push(`<line${attrs({ x1: x, x2: x, y1: top, y2: top + ph, stroke: '#efefef', 'stroke-width': 1 })}/>`);
    out.push(`<line${attrs({ x1: x, x2: x, y1: top + ph, y2: top + ph + 5, stroke: '#333' })}/>`);
    out.push(text(x, top + ph + 18, t.toFixed(xDec), { size: 11, anchor: 'middle', fill: '#333' }));
  }
  // axes
  out.push(`<line${attrs({ x1: left, x2: left, y1: top, y2: top + ph, stroke: '#333', 'stroke-width': 1.2 })}/>`);
  out.push(`<line${attrs({ x1: left, x2: left + pw, y1: top + ph, y2: top + ph, stroke: '#333', 'stroke-width': 1.2 })}/>`);
  out.push(text(left + pw / 2, top + ph + 38, o.xLabel, { size: 12, anchor: 'middle' }));
  out.push(text(14, top + ph / 2, o.yLabel, { size: 12, anchor: 'middle', rotate: -90 }));
  if (o.note) out.push(text(left, height - 8, o.note, { size: 10, fill: '#666' }));
  // series
  out.push(`<g>`);
  o.series.forEach((s, i) => {
    const color = legendItems[i]!.color;
    const runs: string[][] = [[]];
    for (const [x, y] of s.points) {
      if (!Number.isFinite(x) || !Number.isFinite(y)) {
        if (runs[runs.length - 1]!.length) runs.push([]);
        continue;
      }
      runs[runs.length - 1]!.push(`${num(sx(x))},${num(sy(y))}`);
    }
    for (const r of runs) {
      if (r.length > 1) out.push(`<polyline${attrs({ points: r.join(' '), fill: 'none', stroke: color, 'stroke-width': 2, 'stroke-linejoin': 'round', 'stroke-dasharray': s.dashed ? '6 4' : undefined })}/>`);
    }
    const showMarkers = o.markers ?? s.points.length <= 60;
    if (showMarkers || s.points.length === 1) {
      for (const [x, y] of s.points) {
        if (Number.isFinite(x) && Number.isFinite(y)) out.push(`<circle${attrs({ cx: sx(x), cy: sy(y), r: 3, fill: color, stroke: '#fff', 'stroke-width': 0.8 })}><title>${esc(`${s.name}: ${num(x, 3)}, ${num(y, 4)}`)}</title></circle>`);
      }
    }
  });
  out.push(`</g>`);
  // legend
  if (legendItems.length) {
    const lx = left + pw + 14;
    const ly = top + 4;
    out.push(`<rect${attrs({ x: lx - 6, y: ly - 4, width: legendW - 8, height: legendItems.length * 20 + 6, fill: '#fff', stroke: '#ccc', rx: 3 })}/>`);
    legendItems.forEach((l, i) => {
      const y = ly + 10 + i * 20;
      out.push(`<line${attrs({ x1: lx, x2: lx + 22, y1: y, y2: y, stroke: l.color, 'stroke-width': 2.5, 'stroke-dasharray': l.dashed ? '6 4' : undefined })}/>`);
      out.push(`<circle${attrs({ cx: lx + 11, cy: y, r: 3, fill: l.color })}/>`);
      out.push(text(lx + 28, y + 4, l.name, { size: 12 }));
    });
  }
  return { width, height, body: out.join('\n') };
}
