/**
 * Multi-(Fashion+MNIST): one input, two labels, the setting cross-stitch networks assume. Built locally and
 * deterministically from MNIST and Fashion-MNIST, after Lin et al. (2019, Pareto Multi-Task Learning):
 *
 * 1. pair example `i` of the MNIST split with example `i` of the Fashion-MNIST split (index-wise, so the
 *    training set is built from the two training splits and the test set from the two test splits; no
 *    randomness at all);
 * 2. a 36x36 canvas of zeros; the MNIST digit's 28x28 pixels go at rows/columns 0..27 (top left), the Fashion
 *    item's at rows/columns 8..35 (bottom right), and where they overlap (rows and columns 8..27) the canvas
 *    takes the MAXIMUM of the two (max-merge);
 * 3. resize 36x36 -> 28x28 by area averaging (as OpenCV's INTER_AREA for a downscale): output pixel `(r, c)`
 *    is the mean of the canvas over the square `[r·36/28, (r+1)·36/28) x [c·36/28, (c+1)·36/28)`, each canvas
 *    pixel weighted by the area it shares with that square. Separable: `out = R · canvas · Rᵀ` with `R` the
 *    28x36 matrix of 1-D overlaps divided by 36/28; every row of `R` sums to 1, so values stay in [0, 1].
 *
 * Label A is the digit (MNIST), label B the clothing class (Fashion-MNIST). Computed in float64 and stored as
 * float32.
 */
import type { Split } from './load.js';

/** A two-label split: `images` `[count, 784]` in [0, 1], a digit label and a Fashion label per image. */
export interface MultiSplit {
  /** The overlaid images, `[count, 784]` row-major, values in [0, 1]. */
  readonly images: Float32Array;
  /** The MNIST digit (task A). */
  readonly labelsA: Int32Array;
  /** The Fashion-MNIST class (task B). */
  readonly labelsB: Int32Array;
  /** Number of images (and of labels per task). */
  readonly count: number;
  /** Values per image: always 784 (28x28). */
  readonly features: number;
}

/** The recipe's numbers. */
export const MULTI_RECIPE = Object.freeze({
  /** Side of the square canvas, in pixels. */
  canvas: 36,
  /** Side of the resized output image, in pixels. */
  size: 28,
  /** Canvas `[row, column]` of the MNIST digit's top-left pixel. */
  mnistAt: [0, 0] as const,
  /** Canvas `[row, column]` of the Fashion-MNIST item's top-left pixel. */
  fashionAt: [8, 8] as const,
  /** How overlapping pixels combine: their maximum. */
  merge: 'max',
  /** How the canvas is downscaled: area averaging. */
  resize: 'area',
  /** How examples are paired: example i of one split with example i of the other. */
  pairing: 'index-wise (i with i)',
});

let areaMatrix: Float64Array | undefined;

/**
 * The 28x36 area-resize matrix `R` (row-major): `R[o][i]` = |[o s, (o+1) s) ∩ [i, i+1)| / s with s = 36/28.
 * @example
 * const R = areaResizeMatrix(); // Float64Array of 28 * 36, every row summing to 1
 */
export function areaResizeMatrix(from = 36, to = 28): Float64Array {
  if (from === 36 && to === 28 && areaMatrix) return areaMatrix;
  const s = from / to;
  const m = new Float64Array(to * from);
  for (let o = 0; o < to; o++) {
    const lo = o * s;
    const hi = (o + 1) * s;
    for (let i = Math.floor(lo); i < Math.min(from, Math.ceil(hi)); i++) {
      const overlap = Math.min(hi, i + 1) - Math.max(lo, i);
      if (overlap > 0) m[o * from + i] = overlap / s;
    }
  }
  if (from === 36 && to === 28) areaMatrix = m;
  return m;
}

/**
 * One overlay: MNIST 28x28 `digit` at the top left, Fashion 28x28 `item` at the bottom right of a 36x36 canvas,
 * max-merged, area-resized to 28x28 (written into `out` at `offset`).
 * @example
 * const img = overlayPair(mnist.train.images.subarray(0, 784), fashion.train.images.subarray(0, 784)); // 784 values in [0, 1]
 */
export function overlayPair(digit: ArrayLike<number>, item: ArrayLike<number>, out: Float32Array = new Float32Array(784), offset = 0): Float32Array {
  const C = 36;
  const S = 28;
  const canvas = new Float64Array(C * C);
  for (let r = 0; r < S; r++) for (let c = 0; c < S; c++) canvas[r * C + c] = digit[r * S + c]!;
  for (let r = 0; r < S; r++) {
    for (let c = 0; c < S; c++) {
      const k = (r + 8) * C + (c + 8);
      canvas[k] = Math.max(canvas[k]!, item[r * S + c]!);
    }
  }
  const R = areaResizeMatrix();
  // tmp = R · canvas (28x36), out = tmp · Rᵀ (28x28)
  const tmp = new Float64Array(S * C);
  for (let o = 0; o < S; o++) {
    for (let i = 0; i < C; i++) {
      const w = R[o * C + i]!;
      if (w === 0) continue;
      for (let c = 0; c < C; c++) tmp[o * C + c] += w * canvas[i * C + c]!;
    }
  }
  for (let o = 0; o < S; o++) {
    for (let p = 0; p < S; p++) {
      let acc = 0;
      for (let c = 0; c < C; c++) acc += tmp[o * C + c]! * R[p * C + c]!;
      out[offset + o * S + p] = acc;
    }
  }
  return out;
}

/**
 * Multi-(Fashion+MNIST) from an MNIST split and a Fashion-MNIST split (train with train, test with test):
 * the first `count` index-wise pairs (default: as many as the smaller split has).
 * @example const multiTrain = makeMultiFashionMnist(mnist.train, fashion.train); // 60000 images, two labels each
 */
export function makeMultiFashionMnist(mnist: Split, fashion: Split, count = Math.min(mnist.count, fashion.count)): MultiSplit {
  if (mnist.features !== 784 || fashion.features !== 784) throw new RangeError(`makeMultiFashionMnist: needs 28x28 images (784 features), got ${mnist.features} and ${fashion.features}`);
  if (!Number.isInteger(count) || count < 0 || count > Math.min(mnist.count, fashion.count)) {
    throw new RangeError(`makeMultiFashionMnist: count ${count} is not within [0, ${Math.min(mnist.count, fashion.count)}]`);
  }
  const images = new Float32Array(count * 784);
  for (let i = 0; i < count; i++) {
    overlayPair(mnist.images.subarray(i * 784, (i + 1) * 784), fashion.images.subarray(i * 784, (i + 1) * 784), images, i * 784);
  }
  return { images, labelsA: mnist.labels.slice(0, count), labelsB: fashion.labels.slice(0, count), count, features: 784 };
}
