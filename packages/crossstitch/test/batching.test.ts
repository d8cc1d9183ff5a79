import { describe, expect, it } from 'vitest';
import * as xs from '@xs/tensor';
import { array } from '@xs/tensor';
import { NOTEBOOK, batches, concatSplits, makeSplit, notebookBatchStarts, permutationFromKey, shuffleSplit, sliceSplit, splitToTensors, takeSplit, tensorPermutation } from '../src/index.js';

/** n examples of 3 features; example i has pixels [i, i+0.25, i+0.5]/1000 and label i % 10. */
function toy(n: number, offset = 0) {
  const images = new Float32Array(n * 3);
  for (let i = 0; i < n; i++) for (let j = 0; j < 3; j++) images[i * 3 + j] = (i + offset + j / 4) / 1000;
  return makeSplit(images, Int32Array.from({ length: n }, (_, i) => (i + offset) % 10), 3);
}

describe('slices', () => {
  it('slices like train[a:b] (views) and rejects out-of-range slices', () => {
    const s = toy(10);
    const v = sliceSplit(s, 2, 5);
    expect(v.count).toBe(3);
    expect([...v.labels]).toEqual([2, 3, 4]);
    expect(v.images[0]).toBeCloseTo(0.002, 7);
    expect(v.images.buffer).toBe(s.images.buffer);
    expect(sliceSplit(s, 4, 4).count).toBe(0);
    expect(() => sliceSplit(s, 5, 11)).toThrow(/\[5, 11\) is not a range within the 10 examples/);
    expect(() => sliceSplit(s, -1, 2)).toThrow(RangeError);
    expect(() => sliceSplit(s, 3, 2)).toThrow(RangeError);
  });

  it('makeSplit checks sizes', () => {
    expect(() => makeSplit(new Float32Array(7), new Int32Array(2), 3)).toThrow(/7 pixels for 2 examples of 3 features/);
  });

  it('concatenates and takes', () => {
    const c = concatSplits(toy(2), toy(3, 100));
    expect(c.count).toBe(5);
    expect([...c.labels]).toEqual([0, 1, 0, 1, 2]);
    expect(c.images[2 * 3]).toBeCloseTo(0.1, 7);
    const t = takeSplit(c, [4, 0]);
    expect([...t.labels]).toEqual([2, 0]);
    expect(t.images[0]).toBeCloseTo(0.102, 7);
    expect(() => takeSplit(c, [5])).toThrow(/index 5 \(at 0\) is outside \[0, 5\)/);
    expect(() => concatSplits(toy(1), makeSplit(new Float32Array(2), new Int32Array(1), 2))).toThrow(/split 1 has 2 features/);
  });
});

describe('tensors and batches', () => {
  it('splitToTensors gives float32 [n, f] and int32 [n] or one-hot float32 [n, C]', () => {
    const { x, y } = splitToTensors(toy(4));
    expect(x.shape).toEqual([4, 3]);
    expect(x.dtype).toBe('float32');
    expect(y.dtype).toBe('int32');
    expect(y.toArray()).toEqual([0, 1, 2, 3]);
    const oh = splitToTensors(toy(2, 8), { oneHot: 10 }).y;
    expect(oh.shape).toEqual([2, 10]);
    expect(oh.dtype).toBe('float32');
    expect((oh.toArray() as number[][])[1]![9]).toBe(1);
  });

  it('batches: consecutive ranges, last partial batch kept or dropped', () => {
    const s = toy(250);
    const b = [...batches(s, 100)];
    expect(b.map((x) => [x.start, x.end, x.x.shape[0]])).toEqual([[0, 100, 100], [100, 200, 100], [200, 250, 50]]);
    expect([...batches(s, 100, { dropLast: true })]).toHaveLength(2);
    expect(() => batches(s, 0).next()).toThrow(/positive integer/);
  });

  it("notebookBatchStarts reproduces the notebook's ctr loop", () => {
    const m = notebookBatchStarts(NOTEBOOK.mnist.schedule);
    expect(m).toHaveLength(5);
    expect(m[0]!.slice(0, 3)).toEqual([0, 100, 200]);
    expect(m[0]![499]).toBe(49900);
    expect(m[1]![0]).toBe(0);
    expect(m.flat().every((s) => s + 100 <= 50000)).toBe(true);
    const f = notebookBatchStarts(NOTEBOOK.fashion.schedule);
    expect(f[4]![599]).toBe(59900);
    const st = notebookBatchStarts(NOTEBOOK.stitch.schedule);
    expect(st).toHaveLength(40);
    expect(st[0]).toEqual(Array.from({ length: 20 }, (_, i) => i * 100));
    // a limit that is not a multiple: the counter carries over between epochs
    expect(notebookBatchStarts({ batchSize: 100, batchesPerEpoch: 2, limit: 250, epochs: 2 })).toEqual([[0, 100], [0, 100]]);
    expect(notebookBatchStarts({ batchSize: 100, batchesPerEpoch: 3, limit: 500, epochs: 2 })).toEqual([[0, 100, 200], [300, 400, 0]]);
  });

  it('NOTEBOOK slices are the notebook ones', () => {
    expect(NOTEBOOK.mnist.validation).toEqual([50000, 50100]);
    expect(NOTEBOOK.fashion.validation).toEqual([30000, 30100]);
    expect(NOTEBOOK.stitch.validation).toEqual([30000, 31000]);
  });
});

describe('shuffling from a PRNG key', () => {
  it('applies a permutation to images and labels together (injected generator)', () => {
    const s = toy(5);
    const sh = shuffleSplit(s, 'key', () => [3, 0, 4, 1, 2]);
    expect([...sh.labels]).toEqual([3, 0, 4, 1, 2]);
    expect(sh.images[0]).toBeCloseTo(0.003, 7);
    expect(sh.images[3]).toBeCloseTo(0, 7);
  });

  it('accepts a tensor from the generator and rejects anything that is not a permutation', () => {
    expect([...permutationFromKey(0, 3, () => array([2, 0, 1], 'int32'))]).toEqual([2, 0, 1]);
    expect(() => permutationFromKey(0, 3, () => [0, 0, 1])).toThrow(/not a permutation of 0..2 \(value 0 at 1\)/);
    expect(() => permutationFromKey(0, 3, () => [0, 1])).toThrow(/gave 2 values for n = 3/);
  });

  const random = (xs as unknown as { random?: { key?: (s: number) => unknown } }).random;
  const hasRandom = !!tensorPermutation() && typeof random?.key === 'function';
  it.skipIf(!hasRandom)(`uses @xs/tensor random.permutation: same key, same order${hasRandom ? '' : ' [SKIPPED: @xs/tensor does not export random.permutation yet]'}`, () => {
    const s = toy(50);
    const a = shuffleSplit(s, random!.key!(1500));
    const b = shuffleSplit(s, random!.key!(1500));
    const c = shuffleSplit(s, random!.key!(1501));
    expect([...a.labels]).toEqual([...b.labels]);
    expect(a.images).toEqual(b.images);
    expect([...a.images]).not.toEqual([...c.images]);
    expect([...a.labels].sort()).toEqual([...s.labels].sort());
  });

  it.skipIf(hasRandom)('without random.permutation in @xs/tensor, shuffling is a clear error (no local fallback)', () => {
    expect(() => shuffleSplit(toy(3), 0)).toThrow(/needs random.permutation from @xs\/tensor/);
  });
});
