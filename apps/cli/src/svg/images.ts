/**
 * Grids of small greyscale images (test digits and articles) with a caption under each. Pixels are drawn as
 * vector squares: the image is a black square and each non-black grey level (16 levels) is one path, which
 * keeps a 28x28 image to a few kilobytes.
 */
import { grey } from './colors.js';
import { type Panel, attrs, num, text, textWidth } from './core.js';

/** One image of a grid. */
export interface ImageTile {
  /** Row-major pixel values in [0, 1] (0 black, 1 white). */
  readonly pixels: ArrayLike<number>;
  /** Image width and height in pixels (28 x 28 for MNIST). */
  readonly cols: number;
  readonly rows: number;
  /** Caption lines under the image, each with an optional colour. */
  readonly caption: readonly { text: string; color?: string; bold?: boolean }[];
  /** Frame colour (e.g. red when a prediction is wrong). */
  readonly frame?: string;
}

const LEVELS = 16;

/** One image as SVG at `scale` pixels per image pixel, drawn at (x, y). */
export function imageMarkup(t: Pick<ImageTile, 'pixels' | 'cols' | 'rows'>, x: number, y: number, scale: number): string {
  const paths = new Map<number, string[]>();
  for (let r = 0; r < t.rows; r++) {
    let c = 0;
    while (c < t.cols) {
      const level = Math.round(Math.min(1, Math.max(0, Number(t.pixels[r * t.cols + c]) || 0)) * (LEVELS - 1));
      let run = 1;
      while (c + run < t.cols && Math.round(Math.min(1, Math.max(0, Number(t.pixels[r * t.cols + c + run]) || 0)) * (LEVELS - 1)) === level) run++;
      if (level > 0) {
        const list = paths.get(level) ?? [];
        list.push(`M${c} ${r}h${run}v1h-${run}z`);
        paths.set(level, list);
      }
      c += run;
    }
  }
  const parts = [`<g transform="translate(${num(x)},${num(y)}) scale(${num(scale, 3)})">`, `<rect width="${t.cols}" height="${t.rows}" fill="#000"/>`];
  for (const [level, d] of [...paths.entries()].sort((a, b) => a[0] - b[0])) parts.push(`<path fill="${grey(level / (LEVELS - 1))}" d="${d.join('')}"/>`);
  parts.push('</g>');
  return parts.join('');
}

/** Options of {@link imageGrid}. */
export interface ImageGridOptions {
  /** Images per row (default 8). */
  readonly columns?: number;
  /** Screen pixels per image pixel (default 3). */
  readonly scale?: number;
  /** Caption font size (default 10). */
  readonly captionSize?: number;
}

/**
 * Images in a grid, each with its caption lines below.
 * @example imageGrid([{ pixels, rows: 28, cols: 28, caption: [{ text: 'true 7' }] }])
 */
export function imageGrid(tiles: readonly ImageTile[], o: ImageGridOptions = {}): Panel {
  const columns = Math.max(1, Math.min(o.columns ?? 8, tiles.length || 1));
  const scale = o.scale ?? 3;
  const size = o.captionSize ?? 10;
  const imgW = Math.max(...tiles.map((t) => t.cols * scale), 1);
  const imgH = Math.max(...tiles.map((t) => t.rows * scale), 1);
  const lines = Math.max(0, ...tiles.map((t) => t.caption.length));
  const capW = Math.max(0, ...tiles.flatMap((t) => t.caption.map((c) => textWidth(c.text, size))));
  const cellW = Math.max(imgW, capW) + 14;
  const cellH = imgH + 8 + lines * (size + 3) + 12;
  const out: string[] = [];
  tiles.forEach((t, k) => {
    const cx = (k % columns) * cellW;
    const cy = Math.floor(k / columns) * cellH;
    const x = cx + (cellW - t.cols * scale) / 2;
    out.push(imageMarkup(t, x, cy, scale));
    if (t.frame) out.push(`<rect${attrs({ x: x - 1.5, y: cy - 1.5, width: t.cols * scale + 3, height: t.rows * scale + 3, fill: 'none', stroke: t.frame, 'stroke-width': 2 })}/>`);
    t.caption.forEach((c, i) => {
      out.push(text(cx + cellW / 2, cy + imgH + 8 + (i + 1) * (size + 3) - 3, c.text, { size, anchor: 'middle', fill: c.color ?? '#333', weight: c.bold ? 'bold' : undefined }));
    });
  });
  const rowsN = Math.ceil(tiles.length / columns);
  return { width: columns * cellW, height: rowsN * cellH, body: out.join('\n') };
}
