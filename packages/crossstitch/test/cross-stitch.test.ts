import { describe, expect, it } from 'vitest';
import { type Tensor, fromTypedArray, grad, numpy as np, random, vjp } from '@xs/tensor';
import {
  type AlphaMode,
  type CrossStitchParams,
  type MlpParams,
  type TwoTaskBatch,
  crossStitchLoss,
  crossStitchPredict,
  crossStitchUnit,
  crossStitchUnitVjp,
  initAlpha,
  initCrossStitch,
  initMlp,
  predict,
} from '../src/index.js';

/** mulberry32: uniform in [0, 1). */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const f64 = (r: () => number, shape: number[], lo = -1, hi = 1): Tensor => {
  const n = shape.reduce((a, b) => a * b, 1);
  const d = new Float64Array(n);
  for (let i = 0; i < n; i++) d[i] = lo + (hi - lo) * r();
  return fromTypedArray(d, shape, 'float64');
};
const net64 = (r: () => number, sizes: number[]): MlpParams => sizes.slice(1).map((o, i) => [f64(r, [o, sizes[i]!]), f64(r, [o], -0.5, 0.5)]);
const oneHot64 = (labels: number[], c: number): Tensor => {
  const d = new Float64Array(labels.length * c);
  labels.forEach((l, i) => (d[i * c + l] = 1));
  return fromTypedArray(d, [labels.length, c], 'float64');
};
const vec64 = (v: number[]): Tensor => fromTypedArray(Float64Array.from(v), [v.length], 'float64');
const values = (t: Tensor): number[] => Array.from(t.data() as ArrayLike<number>);

/** Central finite differences of scalar `f(alpha)` with respect to every element of alpha[layer]. */
function fdAlpha(loss: (p: CrossStitchParams) => Tensor, p: CrossStitchParams, layer: number, h = 1e-6): number[] {
  const base = Float64Array.from(p.alpha[layer]!.data() as ArrayLike<number>);
  const out: number[] = [];
  for (let i = 0; i < base.length; i++) {
    const at = (delta: number): number => {
      const d = base.slice();
      d[i] = base[i]! + delta;
      const alpha = p.alpha.slice();
      alpha[layer] = fromTypedArray(d, p.alpha[layer]!.shape, 'float64');
      return loss({ ...p, alpha }).item() as number;
    };
    out.push((at(h) - at(-h)) / (2 * h));
  }
  return out;
}

describe('cross-stitch unit', () => {
  it('initialises (same, different) = (0.9, 0.1) per layer and per unit', () => {
    const [l] = initAlpha([3], 'layer');
    expect(l!.shape).toEqual([2, 2, 1]);
    expect(values(l!).map((v) => Number(v.toFixed(6)))).toEqual([0.9, 0.1, 0.1, 0.9]);
    const [u] = initAlpha([3], 'unit', [0.7, 0.3], 'float64');
    expect(u!.shape).toEqual([2, 2, 3]);
    expect(values(u!)).toEqual([0.7, 0.7, 0.7, 0.3, 0.3, 0.3, 0.3, 0.3, 0.3, 0.7, 0.7, 0.7]);
  });

  it('mixes activations as [[aAA, aAB], [aBA, aBB]] [hA; hB]', () => {
    const alpha = fromTypedArray(Float64Array.from([1, 2, 3, 4, 5, 6, 7, 8]), [2, 2, 2], 'float64');
    const [a, b] = crossStitchUnit(alpha, vec64([10, 20]), vec64([100, 200]));
    expect(values(a)).toEqual([1 * 10 + 3 * 100, 2 * 20 + 4 * 200]);
    expect(values(b)).toEqual([5 * 10 + 7 * 100, 6 * 20 + 8 * 200]);
  });

  it.each(['layer', 'unit'] as AlphaMode[])('identity alpha (%s) reproduces the two towers exactly', (mode) => {
    const [k1, k2, k3] = random.splitKeys(random.key(5), 3);
    const pA = initMlp(k1!, [784, 60, 20, 10]);
    const pB = initMlp(k2!, [784, 60, 20, 10]);
    const x = random.uniform(k3!, [7, 784]);
    const net = initCrossStitch(pA, pB, mode, [1, 0]);
    const [probA, probB] = crossStitchPredict(net, x);
    expect(values(probA)).toEqual(values(predict(pA, x)));
    expect(values(probB)).toEqual(values(predict(pB, x)));
    // ... and the default (0.9, 0.1) does not
    const [mixedA] = crossStitchPredict(initCrossStitch(pA, pB, mode), x);
    expect(values(mixedA)).not.toEqual(values(predict(pA, x)));
  });

  it('the derived unit gradient (dL/dalpha_ij = g_i h_j, dL/dh = alpha^T g) matches autodiff, per layer and per unit', () => {
    const r = rng(11);
    for (const k of [1, 4]) {
      const alpha = f64(r, [2, 2, k]);
      const hA = f64(r, [3, 4]);
      const hB = f64(r, [3, 4]);
      const gA = f64(r, [3, 4]);
      const gB = f64(r, [3, 4]);
      const [, pullback] = vjp((a: Tensor, x: Tensor, y: Tensor) => crossStitchUnit(a, x, y), alpha, hA, hB);
      const [dA, dX, dY] = pullback([gA, gB]) as Tensor[];
      const mine = crossStitchUnitVjp(alpha, hA, hB, gA, gB);
      for (const [auto, manual] of [[dA!, mine.dAlpha], [dX!, mine.dHA], [dY!, mine.dHB]] as const) {
        expect(auto.shape).toEqual(manual.shape);
        values(auto).forEach((v, i) => expect(v).toBeCloseTo(values(manual)[i]!, 12));
      }
    }
  });

  it.each(['layer', 'unit'] as AlphaMode[])('alpha gradients of the two-tower loss (%s) match central finite differences in float64', (mode) => {
    const r = rng(mode === 'layer' ? 3 : 4);
    const sizes = [6, 5, 4, 3];
    const p: CrossStitchParams = { a: net64(r, sizes), b: net64(r, sizes), alpha: [] };
    // a non-symmetric alpha away from the init, so every entry matters differently
    p.alpha = [5, 4].map((h) => f64(r, [2, 2, mode === 'unit' ? h : 1], 0.05, 1));
    const batch: TwoTaskBatch = { x: f64(r, [5, 6], 0, 1), tA: oneHot64([0, 2, 1, 1, 0], 3), tB: oneHot64([2, 2, 0, 1, 1], 3), mA: vec64([1, 1, 0, 1, 1]), mB: vec64([1, 0, 1, 1, 1]) };
    const weights: [number, number] = [1, 0.7];
    const loss = (q: CrossStitchParams): Tensor => crossStitchLoss(q, batch, weights);
    const g = grad((alpha: Tensor[]) => loss({ ...p, alpha }))(p.alpha) as Tensor[];
    let checked = 0;
    for (let l = 0; l < p.alpha.length; l++) {
      const numeric = fdAlpha(loss, p, l);
      const analytic = values(g[l]!);
      expect(analytic.length).toBe(numeric.length);
      numeric.forEach((n, i) => {
        expect(Math.abs(analytic[i]! - n)).toBeLessThan(1e-7 * Math.max(1, Math.abs(n)));
        checked++;
      });
      expect(numeric.some((n) => Math.abs(n) > 1e-4)).toBe(true);
    }
    expect(checked).toBe(mode === 'unit' ? 4 * (5 + 4) : 8);
  });

  it('tower weight gradients also match finite differences (all-weights training)', () => {
    const r = rng(9);
    const sizes = [4, 3, 3, 2];
    const p: CrossStitchParams = { a: net64(r, sizes), b: net64(r, sizes), alpha: initAlpha([3, 3], 'unit', [0.9, 0.1], 'float64') };
    const batch: TwoTaskBatch = { x: f64(r, [3, 4], 0, 1), tA: oneHot64([0, 1, 1], 2), tB: oneHot64([1, 0, 1], 2), mA: vec64([1, 1, 1]), mB: vec64([1, 1, 1]) };
    const w0 = p.a[0]![0];
    const g = grad((w: Tensor) => crossStitchLoss({ ...p, a: [[w, p.a[0]![1]], ...p.a.slice(1)] }, batch))(w0) as Tensor;
    const base = Float64Array.from(w0.data() as ArrayLike<number>);
    values(g).forEach((v, i) => {
      const at = (d: number): number => {
        const q = base.slice();
        q[i] = base[i]! + d;
        return crossStitchLoss({ ...p, a: [[fromTypedArray(q, w0.shape, 'float64'), p.a[0]![1]], ...p.a.slice(1)] }, batch).item() as number;
      };
      expect(v).toBeCloseTo((at(1e-6) - at(-1e-6)) / 2e-6, 7);
    });
    expect(np.sum(np.abs(g)).item()).toBeGreaterThan(0);
  });
});
