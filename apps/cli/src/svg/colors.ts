/** Colours: a categorical palette for series and two colour maps (sequential and diverging) for heatmaps. */

/** Okabe–Ito colours, distinguishable with the common colour-vision deficiencies. */
export const SERIES_COLORS = ['#0072B2', '#D55E00', '#009E73', '#CC79A7', '#E69F00', '#56B4E9', '#F0E442', '#000000'];

type RGB = [number, number, number];

function hexToRgb(h: string): RGB {
  const n = parseInt(h.slice(1), 16);
  return [(n >> 16) & 255, (n >> 8) & 255, n & 255];
}

function rgbToHex([r, g, b]: RGB): string {
  const byte = (v: number): number => Math.round(Math.min(255, Math.max(0, v)));
  // (one number to hex, its leading 1 dropped: a picture formats thousands of these)
  return `#${(0x1000000 + (byte(r) << 16) + (byte(g) << 8) + byte(b)).toString(16).slice(1)}`;
}

function ramp(stops: readonly string[]): (t: number) => string {
  const rgb = stops.map(hexToRgb);
  return (t: number) => {
    const x = Number.isFinite(t) ? Math.min(1, Math.max(0, t)) : 0;
    const pos = x * (rgb.length - 1);
    const i = Math.min(Math.floor(pos), rgb.length - 2);
    const f = pos - i;
    const a = rgb[i]!;
    const b = rgb[i + 1]!;
    return rgbToHex([a[0] + (b[0] - a[0]) * f, a[1] + (b[1] - a[1]) * f, a[2] + (b[2] - a[2]) * f]);
  };
}

/** A colour map: t in [0, 1] to a colour. */
export type ColorMap = (t: number) => string;

/** Sequential white to dark blue (ColorBrewer Blues): counts. */
export const blues: ColorMap = ramp(['#f7fbff', '#deebf7', '#c6dbef', '#9ecae1', '#6baed6', '#4292c6', '#2171b5', '#08519c', '#08306b']);

/** Diverging blue, white, red (ColorBrewer RdBu reversed): signed values, white at 0.5. */
export const blueWhiteRed: ColorMap = ramp(['#053061', '#2166ac', '#4393c3', '#92c5de', '#d1e5f0', '#f7f7f7', '#fddbc7', '#f4a582', '#d6604d', '#b2182b', '#67001f']);

/** Black or white, whichever reads better on `background` (a `#rrggbb` colour). */
export function textOn(background: string): string {
  const [r, g, b] = hexToRgb(background);
  const lum = (0.299 * r + 0.587 * g + 0.114 * b) / 255;
  return lum > 0.55 ? '#111111' : '#ffffff';
}

/** Grey level (0 black .. 1 white) as a colour. */
export function grey(v: number): string {
  const c = Math.round(Math.min(1, Math.max(0, v)) * 255);
  return rgbToHex([c, c, c]);
}
