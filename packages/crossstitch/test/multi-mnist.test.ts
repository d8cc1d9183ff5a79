import { describe, expect, it } from 'vitest';
import { areaResizeMatrix, makeMultiFashionMnist, makeSplit, overlayPair } from '../src/index.js';

/** n 28x28 images with recognisable content: image i lights pixel (r, c) with value ((i + r * 3 + c * 7) % 11) / 10. */
function split(n: number, shift: number, labelBase: number) {
  const images = new Float32Array(n * 784);
  for (let i = 0; i < n; i++) for (let p = 0; p < 784; p++) images[i * 784 + p] = ((i + shift + Math.floor(p / 28) * 3 + (p % 28) * 7) % 11) / 10;
  const labels = Int32Array.from({ length: n }, (_, i) => (i + labelBase) % 10);
  return makeSplit(images, labels, 784);
}

describe('Multi-(Fashion+MNIST) overlay', () => {
  it('the area resize matrix: rows sum to 1, 36/28 overlaps', () => {
    const R = areaResizeMatrix();
    expect(R.length).toBe(28 * 36);
    for (let o = 0; o < 28; o++) {
      let s = 0;
      for (let i = 0; i < 36; i++) s += R[o * 36 + i]!;
      expect(s).toBeCloseTo(1, 12);
    }
    // output 0 covers [0, 9/7): pixel 0 fully, pixel 1 for 2/7 -> weights 7/9, 2/9
    expect(R[0]).toBeCloseTo(7 / 9, 12);
    expect(R[1]).toBeCloseTo(2 / 9, 12);
    expect(R[2]).toBe(0);
  });

  it('places MNIST top-left and Fashion bottom-right, max-merged (hand-checked pixels)', () => {
    const digit = new Float32Array(784);
    const item = new Float32Array(784);
    // a single-pixel digit at (0, 0) and item at (27, 27): canvas (0,0) and (35,35) -> output (0,0) and (27,27) with weight (7/9)^2
    digit[0] = 1;
    item[783] = 1;
    const out = overlayPair(digit, item);
    expect(out[0]).toBeCloseTo((7 / 9) ** 2, 6);
    expect(out[783]).toBeCloseTo((7 / 9) ** 2, 6);
    expect(out.reduce((a, b) => a + b, 0)).toBeCloseTo(2 * (36 / 28) ** -2, 5); // area preserved (scaled by (28/36)^2)
    // overlap: both lit everywhere at 0.4 (digit) and 0.6 (item): max-merge gives 0.6 in the overlap, not 1.0
    const flatD = new Float32Array(784).fill(0.4);
    const flatI = new Float32Array(784).fill(0.6);
    const merged = overlayPair(flatD, flatI);
    expect(merged[14 * 28 + 14]).toBeCloseTo(0.6, 6); // centre: canvas rows/cols 18..19, inside the overlap
    expect(merged[0]).toBeCloseTo(0.4, 6); // top-left: digit only
    expect(merged[783]).toBeCloseTo(0.6, 6); // bottom-right: item only
    expect(merged[27]).toBe(0); // top-right corner of the canvas is empty
    expect(Math.max(...merged)).toBeLessThanOrEqual(1);
  });

  it('is deterministic, has the right shapes and labels (digit = A, Fashion = B)', () => {
    const m = split(5, 0, 3);
    const f = split(7, 5, 1);
    const a = makeMultiFashionMnist(m, f);
    const b = makeMultiFashionMnist(m, f);
    expect(a.count).toBe(5);
    expect(a.features).toBe(784);
    expect(a.images.length).toBe(5 * 784);
    expect(Array.from(a.labelsA)).toEqual([3, 4, 5, 6, 7]);
    expect(Array.from(a.labelsB)).toEqual([1, 2, 3, 4, 5]);
    expect(a.images).toEqual(b.images);
    // example 2 is overlayPair of MNIST 2 and Fashion 2
    const want = overlayPair(m.images.subarray(2 * 784, 3 * 784), f.images.subarray(2 * 784, 3 * 784));
    expect(a.images.subarray(2 * 784, 3 * 784)).toEqual(want);
    expect(makeMultiFashionMnist(m, f, 2).count).toBe(2);
    expect(() => makeMultiFashionMnist(m, f, 6)).toThrow(RangeError);
  });
});
