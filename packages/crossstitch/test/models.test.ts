import { describe, expect, it } from 'vitest';
import { type Tensor, array, grad, nn, numpy as np, random, vmap } from '@xs/tensor';
import { type AlphaParams, type MlpParams, SEED_SIZES, composeParameters, initMlp, nllOne, nllStitchOne, predict, zeroAlpha } from '../src/index.js';

const rows = (t: Tensor): number[][] => t.toArray() as number[][];
const maxAbsDiff = (a: Tensor, b: Tensor): number => np.max(np.abs(a.sub(b))).item() as number;

/** A matrix whose every entry names its block and position: tag*1e6 + i*1000 + j. */
function tagged(tag: number, r: number, c: number): Tensor {
  return array(Array.from({ length: r }, (_, i) => Array.from({ length: c }, (_, j) => tag * 1e6 + i * 1000 + j)));
}
const taggedVec = (tag: number, n: number): Tensor => array(Array.from({ length: n }, (_, i) => tag * 1e6 + i));

/** Two nets and alpha with recognisable entries (tags 1..12). */
function taggedNets(): { p1: MlpParams; p2: MlpParams; alpha: AlphaParams } {
  const p1: MlpParams = [
    [tagged(1, 60, 784), taggedVec(2, 60)],
    [tagged(3, 20, 60), taggedVec(4, 20)],
    [tagged(5, 10, 20), taggedVec(6, 10)],
  ];
  const p2: MlpParams = [
    [tagged(7, 60, 784), taggedVec(8, 60)],
    [tagged(9, 20, 60), taggedVec(10, 20)],
    [tagged(11, 10, 20), taggedVec(12, 10)],
  ];
  return { p1, p2, alpha: [[tagged(13, 20, 60), tagged(14, 20, 60)]] };
}

describe('initMlp', () => {
  it('makes [[W0,b0],[W1,b1],[W2,b2]] with W as [out,in], randn/10 weights and zero biases', () => {
    const p = initMlp(random.key(0));
    expect(p.map(([w, b]) => [w.shape, b.shape])).toEqual([
      [[60, 784], [60]],
      [[20, 60], [20]],
      [[10, 20], [10]],
    ]);
    for (const [w, b] of p) {
      expect(w.dtype).toBe('float32');
      expect(Array.from(b.data()).every((v) => v === 0)).toBe(true);
      const std = Math.sqrt(np.mean(w.square()).item() as number);
      expect(std).toBeGreaterThan(0.08);
      expect(std).toBeLessThan(0.12);
      expect(Math.abs(np.mean(w).item() as number)).toBeLessThan(0.02);
    }
    expect(SEED_SIZES).toEqual([784, 60, 20, 10]);
  });

  it('is a function of the key, with independent layers', () => {
    const a = initMlp(random.key(5));
    const b = initMlp(random.key(5));
    const c = initMlp(random.key(6));
    expect(a[0]![0].data()).toEqual(b[0]![0].data());
    expect(maxAbsDiff(a[0]![0], c[0]![0])).toBeGreaterThan(0);
    // the first rows of layer 1 and layer 2 come from different keys
    expect(Array.from(a[1]![0].data().subarray(0, 10))).not.toEqual(Array.from(a[2]![0].data().subarray(0, 10)));
  });

  it('takes other sizes and rejects nonsense', () => {
    expect(initMlp(random.key(1), [4, 3, 2]).map(([w]) => w.shape)).toEqual([
      [3, 4],
      [2, 3],
    ]);
    expect(() => initMlp(random.key(1), [4])).toThrow(RangeError);
    expect(() => initMlp(random.key(1), [4, 0])).toThrow(RangeError);
  });
});

describe('predict and nllOne', () => {
  const p = initMlp(random.key(2));
  const x = random.uniform(random.key(3), [5, 784]);
  const t = np.oneHot(array([3, 1, 4, 1, 5], 'int32'), 10);

  it('is the notebook forward pass, for one example or a batch', () => {
    const [[w0, b0], [w1, b1], [w2]] = p as [[Tensor, Tensor], [Tensor, Tensor], [Tensor, Tensor]];
    const h1 = nn.sigmoid(x.matmul(w0.T).add(b0));
    const h2 = nn.sigmoid(h1.matmul(w1.T).add(b1));
    const want = nn.softmax(h2.matmul(w2.T));
    const got = predict(p, x);
    expect(got.shape).toEqual([5, 10]);
    expect(maxAbsDiff(got, want)).toBeLessThan(1e-6);
    const one = predict(p, np.slice(x, [1, 0], [2, 784]).reshape(784));
    expect(one.shape).toEqual([10]);
    expect(maxAbsDiff(one, np.slice(want, [1, 0], [2, 10]).reshape(10))).toBeLessThan(1e-6);
    expect(Math.abs((np.sum(one).item() as number) - 1)).toBeLessThan(1e-5);
  });

  it('ignores the last bias (no output bias)', () => {
    const q: MlpParams = [p[0]!, p[1]!, [p[2]![0], np.full([10], 5)]];
    expect(maxAbsDiff(predict(q, x), predict(p, x))).toBe(0);
  });

  it('nllOne is -log(pred[argmax(t)]) for one example', () => {
    const probs = predict(p, x).toArray() as number[][];
    const labels = [3, 1, 4, 1, 5];
    for (let i = 0; i < 5; i++) {
      const xi = np.slice(x, [i, 0], [i + 1, 784]).reshape(784);
      const ti = np.slice(t, [i, 0], [i + 1, 10]).reshape(10);
      expect(nllOne(p, xi, ti).item()).toBeCloseTo(-Math.log(probs[i]![labels[i]!]!), 5);
    }
    const batched = vmap(nllOne, { inAxes: [null, 0, 0] })(p, x, t) as Tensor;
    expect(batched.shape).toEqual([5]);
  });
});

describe('composeParameters', () => {
  it("lays the blocks out exactly as the notebook's matrix", () => {
    const { p1, p2, alpha } = taggedNets();
    const c = composeParameters(p1, p2, alpha);
    expect(c.map(([w, b]) => [w.shape, b.shape])).toEqual([
      [[120, 784], [120]],
      [[40, 120], [40]],
      [[10, 40], [10]],
    ]);
    // Each entry tells which block and which (row, column) of it the composed entry came from.
    const expectBlocks = (m: number[][], at: (i: number, j: number) => [tag: number, r: number, c: number]): void => {
      for (let i = 0; i < m.length; i++) {
        for (let j = 0; j < m[i]!.length; j++) {
          const [tag, r, cc] = at(i, j);
          const want = tag * 1e6 + r * 1000 + cc;
          if (m[i]![j] !== want) throw new Error(`entry (${i}, ${j}) is ${m[i]![j]}, expected block ${tag} at (${r}, ${cc})`);
        }
      }
    };
    // layer 0: [W0¹; W0²] stacked by rows
    expectBlocks(rows(c[0]![0]), (i, j) => (i < 60 ? [1, i, j] : [7, i - 60, j]));
    // layer 1: [[W1¹, α₁], [α₂, W1²]]
    expectBlocks(rows(c[1]![0]), (i, j) => (i < 20 ? (j < 60 ? [3, i, j] : [13, i, j - 60]) : j < 60 ? [14, i - 20, j] : [9, i - 20, j - 60]));
    // layer 2: [W2¹, W2²] side by side (columns)
    expectBlocks(rows(c[2]![0]), (i, j) => (j < 20 ? [5, i, j] : [11, i, j - 20]));
    // biases: concatenated for the hidden layers, p1's for the output layer
    expect(Array.from(c[0]![1].data())).toEqual([...Array.from({ length: 60 }, (_, i) => 2e6 + i), ...Array.from({ length: 60 }, (_, i) => 8e6 + i)]);
    expect(Array.from(c[1]![1].data())).toEqual([...Array.from({ length: 20 }, (_, i) => 4e6 + i), ...Array.from({ length: 20 }, (_, i) => 10e6 + i)]);
    expect(c[2]![1]).toBe(p1[2]![1]);
  });

  it('checks shapes', () => {
    const { p1, p2 } = taggedNets();
    expect(() => composeParameters(p1, p2, [[np.zeros([60, 20]), np.zeros([20, 60])]])).toThrow(/alpha\[0\]\[0\]/);
    expect(() => composeParameters(p1, p2, [[np.zeros([20, 60]), np.zeros([20, 61])]])).toThrow(/alpha\[0\]\[1\]/);
    expect(() => composeParameters(p1.slice(0, 2), p2, zeroAlpha())).toThrow(/3 layers/);
    expect(zeroAlpha().map((b) => b.map((a) => a.shape))).toEqual([[[20, 60], [20, 60]]]);
  });

  describe('gradients', () => {
    const p1 = initMlp(random.key(10));
    const p2 = initMlp(random.key(11));
    const alpha: AlphaParams = [[random.normal(random.key(12), [20, 60]).div(10), random.normal(random.key(13), [20, 60]).div(10)]];
    const x = random.uniform(random.key(14), [784]);
    const t = np.oneHot(array(7, 'int32'), 10);

    it("flow into alpha only when only alpha is differentiated, equal to the composed layer-1 gradient's off-diagonal blocks", () => {
      const gAlpha = grad(nllStitchOne, { argnums: 2 })(p1, p2, alpha, x, t) as AlphaParams;
      // Only alpha's structure comes back.
      expect(gAlpha.length).toBe(1);
      expect(gAlpha[0]!.map((g) => g.shape)).toEqual([
        [20, 60],
        [20, 60],
      ]);
      const composed = composeParameters(p1, p2, alpha);
      const gComposed = grad(nllOne)(composed, x, t) as MlpParams;
      const g1 = gComposed[1]![0];
      expect(maxAbsDiff(gAlpha[0]![0], np.slice(g1, [0, 60], [20, 120]))).toBeLessThan(1e-7);
      expect(maxAbsDiff(gAlpha[0]![1], np.slice(g1, [20, 0], [40, 60]))).toBeLessThan(1e-7);
      expect(np.max(np.abs(gAlpha[0]![0])).item()).toBeGreaterThan(0);
      expect(np.max(np.abs(gAlpha[0]![1])).item()).toBeGreaterThan(0);
    });

    it('reach the nets through the concatenations when they are differentiated', () => {
      const [g1, g2, ga] = grad(nllStitchOne, { argnums: [0, 1, 2] })(p1, p2, alpha, x, t) as [MlpParams, MlpParams, AlphaParams];
      const composed = composeParameters(p1, p2, alpha);
      const gc = grad(nllOne)(composed, x, t) as MlpParams;
      expect(maxAbsDiff(g1[0]![0], np.slice(gc[0]![0], [0, 0], [60, 784]))).toBeLessThan(1e-7);
      expect(maxAbsDiff(g2[0]![0], np.slice(gc[0]![0], [60, 0], [120, 784]))).toBeLessThan(1e-7);
      expect(maxAbsDiff(g1[1]![0], np.slice(gc[1]![0], [0, 0], [20, 60]))).toBeLessThan(1e-7);
      expect(maxAbsDiff(g2[1]![0], np.slice(gc[1]![0], [20, 60], [40, 120]))).toBeLessThan(1e-7);
      expect(maxAbsDiff(g2[2]![0], np.slice(gc[2]![0], [0, 20], [10, 40]))).toBeLessThan(1e-7);
      // The output bias is unused, so its gradient is zero.
      expect(np.max(np.abs(g1[2]![1])).item()).toBe(0);
      expect(maxAbsDiff(ga[0]![0], grad(nllStitchOne, { argnums: 2 })(p1, p2, alpha, x, t)[0][0])).toBe(0);
    });
  });

  it('with zero alpha keeps the towers apart but sums their logits: softmax(z¹ + z²), not either net', () => {
    const p1 = initMlp(random.key(20));
    const p2 = initMlp(random.key(21));
    const x = random.uniform(random.key(22), [8, 784]);
    const c = composeParameters(p1, p2, zeroAlpha());
    const hidden = (p: MlpParams): Tensor => nn.sigmoid(nn.sigmoid(x.matmul(p[0]![0].T).add(p[0]![1])).matmul(p[1]![0].T).add(p[1]![1]));
    const logits = (p: MlpParams): Tensor => hidden(p).matmul(p[2]![0].T);
    // The composed second hidden layer is exactly [h2¹, h2²].
    const h2c = nn.sigmoid(nn.sigmoid(x.matmul(c[0]![0].T).add(c[0]![1])).matmul(c[1]![0].T).add(c[1]![1]));
    expect(maxAbsDiff(h2c, np.concatenate([hidden(p1), hidden(p2)], 1))).toBeLessThan(1e-6);
    const got = predict(c, x);
    expect(maxAbsDiff(got, nn.softmax(logits(p1).add(logits(p2))))).toBeLessThan(1e-6);
    // ... which is not what either net alone predicts.
    expect(maxAbsDiff(got, predict(p1, x))).toBeGreaterThan(1e-3);
    expect(maxAbsDiff(got, predict(p2, x))).toBeGreaterThan(1e-3);
    // With the second tower's output weights zeroed, the composed net is the first net exactly.
    const p2mute: MlpParams = [p2[0]!, p2[1]!, [np.zerosLike(p2[2]![0]), p2[2]![1]]];
    expect(maxAbsDiff(predict(composeParameters(p1, p2mute, zeroAlpha()), x), predict(p1, x))).toBeLessThan(1e-6);
  });
});
