/**
 * The seed notebook's model, written with @xs/tensor: a 784-60-20-10 sigmoid MLP with a softmax output and
 * no output bias, and its per-sample negative log-likelihood. Its gradient with respect to every parameter
 * is checked against central finite differences in float64, and the per-sample gradients summed over a
 * batch are checked against the gradient of the summed batch loss.
 */
import { describe, expect, it } from 'vitest';
import { type DType, Tensor, array, fromTypedArray, grad, nn, numpy as np, tree, valueAndGrad, vmap } from '../src/index.js';
import { mulberry32 } from './helpers/rng.js';

type Layer = [Tensor, Tensor];
type Params = Layer[];

const SIZES = [784, 60, 20, 10];

/**
 * The notebook's `dense_network_list(params, input)`:
 * sigmoid(x·W0ᵀ + b0) → sigmoid(·W1ᵀ + b1) → softmax(·W2ᵀ). The last layer's bias b2 is not used.
 */
function denseNetworkList(params: Params, input: Tensor): Tensor {
  const [[W0, b0], [W1, b1], [W2]] = params as [Layer, Layer, Layer];
  const h1 = nn.sigmoid(input.matmul(W0.T).add(b0));
  const h2 = nn.sigmoid(h1.matmul(W1.T).add(b1));
  return nn.softmax(h2.matmul(W2.T));
}

/** The notebook's `NLL_loss(params, x, t) = -log(pred[argmax(t)])` for one sample with one-hot target t. */
function nllLoss(params: Params, x: Tensor, t: Tensor): Tensor {
  const pred = denseNetworkList(params, x);
  return np.take(pred, t.argmax()).log().neg();
}

// ---------------------------------------------------------------- deterministic random numbers
const makeRng = mulberry32;

function uniform(rng: () => number, shape: number[], lo: number, hi: number, dtype: DType = 'float64'): Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  const data = new Float64Array(n);
  for (let i = 0; i < n; i++) data[i] = lo + (hi - lo) * rng();
  return fromTypedArray(data, shape, dtype);
}

/** Parameters like the notebook's initialisation: uniform in ±1/sqrt(fan_in), small random biases. */
function initParams(rng: () => number, dtype: DType = 'float64'): Params {
  const params: Params = [];
  for (let l = 0; l + 1 < SIZES.length; l++) {
    const [fanIn, fanOut] = [SIZES[l]!, SIZES[l + 1]!];
    const s = 1 / Math.sqrt(fanIn);
    params.push([uniform(rng, [fanOut, fanIn], -s, s, dtype), uniform(rng, [fanOut], -0.1, 0.1, dtype)]);
  }
  return params;
}

/** A random "image" in [0, 1) and a random one-hot label. */
function sample(rng: () => number, dtype: DType = 'float64'): { x: Tensor; t: Tensor; label: number } {
  const label = Math.floor(rng() * 10);
  const t = new Float64Array(10);
  t[label] = 1;
  return { x: uniform(rng, [784], 0, 1, dtype), t: fromTypedArray(t, [10], dtype), label };
}

/** A plain-JS forward pass, as an independent check of the model's value. */
function referenceLoss(params: Params, x: Tensor, label: number): number {
  let h = Array.from(x.data());
  params.forEach(([W, b], l) => {
    const [rows, cols] = W.shape as [number, number];
    const w = W.data();
    const bias = b.data();
    const z = Array.from({ length: rows }, (_, i) => {
      let s = l < 2 ? bias[i]! : 0;
      for (let j = 0; j < cols; j++) s += w[i * cols + j]! * h[j]!;
      return s;
    });
    h = l < 2 ? z.map((v) => 1 / (1 + Math.exp(-v))) : z;
  });
  const m = Math.max(...h);
  const logZ = m + Math.log(h.reduce((s, v) => s + Math.exp(v - m), 0));
  return logZ - h[label]!;
}

/** A copy of `t` with one element moved by `delta`. */
function perturb(t: Tensor, index: number, delta: number): Tensor {
  const d = t.data();
  d[index] = d[index]! + delta;
  return fromTypedArray(d, t.shape, t.dtype);
}

/** The coordinates to check: all of a small tensor, a random subset of ~50 of a big one. */
function coordinates(rng: () => number, size: number, budget = 50): number[] {
  if (size <= 250) return Array.from({ length: size }, (_, i) => i);
  const picked = new Set<number>();
  while (picked.size < budget) picked.add(Math.floor(rng() * size));
  return [...picked];
}

describe('seed MLP (784-60-20-10, sigmoid, softmax, NLL)', () => {
  const rng = makeRng(20240601);
  const params = initParams(rng);

  it('has the notebook\'s shapes and a forward pass that matches a plain-JS reference', () => {
    expect(params.map(([W, b]) => [W.shape, b.shape])).toEqual([
      [[60, 784], [60]],
      [[20, 60], [20]],
      [[10, 20], [10]],
    ]);
    for (let k = 0; k < 3; k++) {
      const { x, t, label } = sample(rng);
      const pred = denseNetworkList(params, x);
      expect(pred.shape).toEqual([10]);
      expect(pred.dtype).toBe('float64');
      expect(pred.sum().item()).toBeCloseTo(1, 14);
      const loss = nllLoss(params, x, t);
      expect(loss.shape).toEqual([]);
      expect(loss.item()).toBeCloseTo(referenceLoss(params, x, label), 12);
    }
  });

  it('gradient w.r.t. all parameters matches central finite differences (float64)', () => {
    const eps = 1e-5;
    for (let k = 0; k < 3; k++) {
      const { x, t } = sample(rng);
      const [loss, g] = valueAndGrad(nllLoss)(params, x, t) as [Tensor, Params];
      expect(loss.item()).toBeGreaterThan(0);
      // The gradient has the structure of params.
      expect(g.map(([gW, gb]) => [gW.shape, gb.shape])).toEqual(params.map(([W, b]) => [W.shape, b.shape]));
      expect(g.flat().every((gt) => gt.dtype === 'float64')).toBe(true);

      let checked = 0;
      let worst = 0;
      params.forEach((layer, l) => {
        layer.forEach((p, j) => {
          const analytic = g[l]![j]!.data();
          for (const i of coordinates(rng, p.size)) {
            const at = (delta: number): number => {
              const moved = params.map((ly, ll) => ly.map((q, jj) => (ll === l && jj === j ? perturb(q, i, delta) : q))) as Params;
              return nllLoss(moved, x, t).item() as number;
            };
            const fd = (at(eps) - at(-eps)) / (2 * eps);
            const err = Math.abs(fd - analytic[i]!);
            worst = Math.max(worst, err / (1e-8 + 1e-6 * Math.abs(fd)));
            expect(err, `layer ${l} param ${j === 0 ? 'W' : 'b'} index ${i}: fd ${fd} vs grad ${analytic[i]}`).toBeLessThanOrEqual(1e-8 + 1e-6 * Math.abs(fd));
            checked++;
          }
        });
      });
      // 50 + 60 (layer 0), 50 + 20 (layer 1), 200 + 10 (layer 2)
      expect(checked).toBe(390);
      expect(worst).toBeLessThanOrEqual(1);
    }
  });

  it('the unused output bias b2 gets a zero gradient; the others do not', () => {
    const { x, t } = sample(rng);
    const g = grad(nllLoss)(params, x, t) as Params;
    expect(Array.from(g[2]![1]!.data()).every((v) => v === 0)).toBe(true);
    for (const gt of [g[0]![0]!, g[0]![1]!, g[1]![0]!, g[1]![1]!, g[2]![0]!]) expect(gt.abs().max().item()).toBeGreaterThan(0);
  });

  it('the output-layer gradient has its closed form (p - t) h2ᵀ', () => {
    const { x, t } = sample(rng);
    const [[W0, b0], [W1, b1]] = params as [Layer, Layer];
    const h2 = nn.sigmoid(nn.sigmoid(x.matmul(W0.T).add(b0)).matmul(W1.T).add(b1));
    const p = denseNetworkList(params, x);
    const expected = np.outer(p.sub(t), h2);
    const g = grad(nllLoss)(params, x, t) as Params;
    const diff = g[2]![0]!.sub(expected).abs().max().item() as number;
    expect(diff).toBeLessThan(1e-14);
  });

  it('summed per-sample gradients equal the gradient of the summed batch loss (batch of 5)', () => {
    const batch = Array.from({ length: 5 }, () => sample(rng));
    // The batch loss, with a JS loop over samples (vmap is not there yet).
    const batchLoss = (ps: Params): Tensor => batch.reduce((acc: Tensor, { x, t }) => acc.add(nllLoss(ps, x, t)), array(0, 'float64'));
    const [total, gBatch] = valueAndGrad(batchLoss)(params) as [Tensor, Params];

    let summed: Params | null = null;
    let lossSum = 0;
    for (const { x, t } of batch) {
      const [l, g] = valueAndGrad(nllLoss)(params, x, t) as [Tensor, Params];
      lossSum += l.item() as number;
      summed = summed === null ? g : (tree.map((a: Tensor, b: Tensor) => a.add(b), summed, g) as Params);
    }
    expect(total.item()).toBeCloseTo(lossSum, 12);
    const pairs = tree.leaves(gBatch).map((gb, i) => [gb, tree.leaves(summed!)[i]!] as const);
    expect(pairs).toHaveLength(6);
    for (const [gb, gs] of pairs) {
      expect(gb.shape).toEqual(gs.shape);
      const scale = Math.max(1, gb.abs().max().item() as number);
      expect((gb.sub(gs).abs().max().item() as number) / scale).toBeLessThan(1e-12);
    }
  });

  it('vmap(grad) over the batch, summed, agrees with the JS loop', () => {
    const batch = Array.from({ length: 5 }, () => sample(rng));
    const X = np.stack(batch.map((b) => b.x));
    const T = np.stack(batch.map((b) => b.t));
    const perExample = vmap(grad(nllLoss), { inAxes: [null, 0, 0] })(params, X, T) as Params;
    const loop = batch
      .map(({ x, t }) => grad(nllLoss)(params, x, t) as Params)
      .reduce((a, b) => tree.map((u: Tensor, v: Tensor) => u.add(v), a, b) as Params);
    tree.leaves(perExample).forEach((g, i) => {
      expect(g.shape[0]).toBe(5);
      const want = tree.leaves(loop)[i]!;
      const scale = Math.max(1, want.abs().max().item() as number);
      expect((g.sum(0).sub(want).abs().max().item() as number) / scale).toBeLessThan(1e-12);
    });
  });

  it('float32 gradients agree with float64 ones to float32 accuracy', () => {
    const { x, t } = sample(rng);
    const p32 = params.map((layer) => layer.map((q) => q.astype('float32'))) as Params;
    const g64 = grad(nllLoss)(params, x, t) as Params;
    const g32 = grad(nllLoss)(p32, x.astype('float32'), t.astype('float32')) as Params;
    tree.leaves(g32).forEach((a, i) => {
      expect(a.dtype).toBe('float32');
      const b = tree.leaves(g64)[i]!;
      const scale = Math.max(1e-3, b.abs().max().item() as number);
      expect((a.astype('float64').sub(b).abs().max().item() as number) / scale).toBeLessThan(1e-4);
    });
  });
});
