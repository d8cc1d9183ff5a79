/**
 * The building blocks of the SVG pictures: escaping, number formatting, "nice" axis ticks, text width
 * estimates, and panels (a width, a height and the markup) that can be laid out side by side or stacked and
 * turned into a standalone SVG document.
 */

/** A rectangle of SVG markup drawn from (0, 0) to (width, height). */
export interface Panel {
  readonly width: number;
  readonly height: number;
  /** SVG elements (no `<svg>` wrapper). */
  readonly body: string;
}

const SPECIAL = /[&<>"]/;

/** Escape text for SVG/HTML content and attribute values. */
export function esc(s: string | number): string {
  const t = String(s);
  // (most text has nothing to escape: a picture escapes thousands of attribute values)
  return SPECIAL.test(t) ? t.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;') : t;
}

/** A number with at most `digits` decimals, trailing zeros dropped (for coordinates and labels). */
export function num(x: number, digits = 2): string {
  if (!Number.isFinite(x)) return '0';
  if (Number.isInteger(x)) return String(x);
  const s = x.toFixed(digits);
  return s.includes('.') ? s.replace(/\.?0+$/, '') : s;
}

/** SVG attributes from an object (undefined values left out; numbers through `num`, which needs no escaping). */
export function attrs(a: Readonly<Record<string, string | number | undefined>>): string {
  let out = '';
  for (const k in a) {
    const v = a[k];
    if (v !== undefined) out += ` ${k}="${typeof v === 'number' ? num(v) : esc(v)}"`;
  }
  return out;
}

/** The font used by every picture. */
export const FONT = 'DejaVu Sans, Helvetica, Arial, sans-serif';

/** Estimated width in pixels of `s` at `size` px (an average glyph is about 0.58 em). */
export function textWidth(s: string, size: number): number {
  let w = 0;
  for (const ch of s) w += /[il.,:;'|!1 ]/.test(ch) ? 0.32 : /[mwMW@%]/.test(ch) ? 0.85 : /[A-Z]/.test(ch) ? 0.68 : 0.56;
  return w * size;
}

/** A text element. */
export function text(x: number, y: number, s: string, opts: { size?: number; anchor?: 'start' | 'middle' | 'end'; weight?: string; fill?: string; rotate?: number; baseline?: string } = {}): string {
  const size = opts.size ?? 12;
  const transform = opts.rotate ? `rotate(${num(opts.rotate)} ${num(x)} ${num(y)})` : undefined;
  return `<text${attrs({
    x,
    y,
    'font-size': size,
    'text-anchor': opts.anchor ?? 'start',
    'font-weight': opts.weight,
    fill: opts.fill ?? '#222',
    transform,
    'dominant-baseline': opts.baseline,
  })}>${esc(s)}</text>`;
}

/**
 * About `count` evenly spaced round numbers (steps of 1, 2 or 5 times a power of ten) covering [lo, hi].
 * @example niceTicks(0, 0.93, 5) // { ticks: [0, 0.2, 0.4, 0.6, 0.8, 1], step: 0.2 }
 */
export function niceTicks(lo: number, hi: number, count = 5): { ticks: number[]; step: number; lo: number; hi: number } {
  if (!Number.isFinite(lo) || !Number.isFinite(hi)) return { ticks: [0, 1], step: 1, lo: 0, hi: 1 };
  if (hi < lo) [lo, hi] = [hi, lo];
  if (hi === lo) {
    const pad = Math.abs(lo) > 0 ? Math.abs(lo) * 0.1 : 1;
    lo -= pad;
    hi += pad;
  }
  const raw = (hi - lo) / Math.max(count, 1);
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => s >= raw * 0.999) ?? 10 * mag;
  const start = Math.floor(lo / step + 1e-9) * step;
  const end = Math.ceil(hi / step - 1e-9) * step;
  const ticks: number[] = [];
  for (let v = start; v <= end + step * 1e-6; v += step) ticks.push(Number(v.toPrecision(12)));
  return { ticks, step, lo: start, hi: end };
}

/** Integer ticks (for epochs): about `count` of them, steps of 1, 2, 5, 10, ... */
export function integerTicks(lo: number, hi: number, count = 8): number[] {
  const span = Math.max(hi - lo, 1);
  const step = [1, 2, 5, 10, 20, 25, 50, 100, 200, 500, 1000].find((s) => span / s <= count) ?? Math.ceil(span / count);
  const out: number[] = [];
  const first = Math.ceil(lo / step) * step;
  if (first > lo) out.push(lo);
  for (let v = first; v <= hi; v += step) out.push(v);
  return out;
}

/** Decimals needed to tell ticks `step` apart. */
export function decimalsFor(step: number): number {
  if (step >= 1) return Number.isInteger(step) ? 0 : 1;
  return Math.min(6, Math.ceil(-Math.log10(step) - 1e-9) + (String(step).includes('25') ? 1 : 0));
}

/** Panels side by side (top-aligned) with `gap` pixels between them. */
export function hstack(panels: readonly Panel[], gap = 16): Panel {
  let x = 0;
  const parts: string[] = [];
  let height = 0;
  for (const p of panels) {
    parts.push(`<g transform="translate(${num(x)},0)">${p.body}</g>`);
    x += p.width + gap;
    height = Math.max(height, p.height);
  }
  return { width: Math.max(x - gap, 0), height, body: parts.join('\n') };
}

/** Panels stacked top to bottom (left-aligned) with `gap` pixels between them. */
export function vstack(panels: readonly Panel[], gap = 16): Panel {
  let y = 0;
  const parts: string[] = [];
  let width = 0;
  for (const p of panels) {
    parts.push(`<g transform="translate(0,${num(y)})">${p.body}</g>`);
    y += p.height + gap;
    width = Math.max(width, p.width);
  }
  return { width, height: Math.max(y - gap, 0), body: parts.join('\n') };
}

/** A panel with a title above it and a margin around it. */
export function titled(p: Panel, title: string, opts: { size?: number; margin?: number; subtitle?: string } = {}): Panel {
  const size = opts.size ?? 16;
  const m = opts.margin ?? 12;
  const sub = opts.subtitle;
  const top = m + size + 8 + (sub ? 18 : 0);
  const width = Math.max(p.width, textWidth(title, size), sub ? textWidth(sub, 12) : 0) + 2 * m;
  const body = [
    text(m, m + size, title, { size, weight: 'bold' }),
    sub ? text(m, m + size + 18, sub, { size: 12, fill: '#555' }) : '',
    `<g transform="translate(${num(m)},${num(top)})">${p.body}</g>`,
  ].join('\n');
  return { width, height: top + p.height + m, body };
}

/** A standalone SVG document of a panel (white background). */
export function toSvg(p: Panel, title?: string): string {
  const w = Math.ceil(p.width);
  const h = Math.ceil(p.height);
  return [
    `<?xml version="1.0" encoding="UTF-8"?>`,
    `<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="${h}" viewBox="0 0 ${w} ${h}" font-family="${FONT}">`,
    title ? `<title>${esc(title)}</title>` : '',
    `<rect width="${w}" height="${h}" fill="#ffffff"/>`,
    p.body,
    `</svg>`,
    '',
  ]
    .filter((l) => l !== '')
    .join('\n');
}
