import { describe, expect, it } from 'vitest';
import { type Tensor, fromTypedArray, grad, nn, numpy as np, random, valueAndGrad, vjp } from '@xs/tensor';
import {
  type AlphaMode,
  type CrossStitchParams,
  type MlpParams,
  type TwoTaskBatch,
  crossStitchLogits,
  crossStitchLoss,
  crossStitchPredict,
  crossStitchUnit,
  crossStitchUnitVjp,
  diagonalAlpha,
  initAlpha,
  initDiagonalAlpha,
  initCrossStitch,
  initMlp,
  optim,
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

describe('diagonal-only alpha (the cross-stitch-diag ablation)', () => {
  const scaledTower = (p: MlpParams, scales: Tensor[], x: Tensor): Tensor => {
    // an independent MLP whose hidden activations are multiplied by a learned scale per layer
    let h = x;
    for (let i = 0; i < p.length - 1; i++) h = np.multiply(nn.sigmoid(np.add(np.matmul(h, p[i]![0].T), p[i]![1])), scales[i]!);
    return np.matmul(h, p[p.length - 1]![0].T);
  };
  const row = (d: Tensor, i: number): Tensor => np.reshape(np.slice(d, [i, 0], [i + 1, d.shape[1]!]), [d.shape[1]!]);

  it('initDiagonalAlpha / diagonalAlpha give [[dA, 0], [0, dB]] with exact zeros off the diagonal', () => {
    const [l, , u] = initDiagonalAlpha([3, 2], 'layer').concat(initDiagonalAlpha([2], 'unit', 0.5, 'float64'));
    expect(values(u!)).toEqual([0.5, 0.5, 0.5, 0.5]);
    expect(l!.shape).toEqual([2, 1]);
    expect(values(l!).map((v) => Number(v.toFixed(6)))).toEqual([0.9, 0.9]);
    expect(u!.shape).toEqual([2, 2]);
    const a = diagonalAlpha(fromTypedArray(Float64Array.from([1.5, 2.5, 3.5, 4.5]), [2, 2], 'float64'));
    expect(a.shape).toEqual([2, 2, 2]);
    expect(values(a)).toEqual([1.5, 2.5, 0, 0, 0, 0, 3.5, 4.5]); // AA, AB, BA, BB
    expect(() => diagonalAlpha(f64(rng(1), [2, 2, 1]))).toThrow(/\[2, k\]/);
  });

  it('equals two independent towers with learned per-layer scales (forward, exactly)', () => {
    const r = rng(21);
    const sizes = [6, 5, 4, 3];
    const a = net64(r, sizes);
    const b = net64(r, sizes);
    const diag = [f64(r, [2, 1], 0.5, 3), f64(r, [2, 1], 0.5, 3)];
    const x = f64(r, [7, 6], 0, 1);
    const [la, lb] = crossStitchLogits({ a, b, alpha: diag.map(diagonalAlpha) }, x);
    expect(values(la)).toEqual(values(scaledTower(a, diag.map((d) => row(d, 0)), x)));
    expect(values(lb)).toEqual(values(scaledTower(b, diag.map((d) => row(d, 1)), x)));
    // ... while a full alpha with the same diagonal and a non-zero off-diagonal does not
    const full = diag.map((d) => np.add(diagonalAlpha(d), fromTypedArray(Float64Array.from([0, 0.1, 0.1, 0]), [2, 2, 1], 'float64')));
    expect(values(crossStitchLogits({ a, b, alpha: full }, x)[0])).not.toEqual(values(la));
  });

  it('its diagonal gradients match central finite differences, and no gradient crosses between the towers', () => {
    const r = rng(22);
    const sizes = [6, 5, 4, 3];
    const a = net64(r, sizes);
    const b = net64(r, sizes);
    const diag = [f64(r, [2, 1], 0.5, 2), f64(r, [2, 1], 0.5, 2)];
    const batch: TwoTaskBatch = { x: f64(r, [5, 6], 0, 1), tA: oneHot64([0, 2, 1, 1, 0], 3), tB: oneHot64([2, 2, 0, 1, 1], 3), mA: vec64([1, 1, 1, 1, 1]), mB: vec64([1, 1, 1, 1, 1]) };
    const loss = (d: Tensor[]): number => crossStitchLoss({ a, b, alpha: d.map(diagonalAlpha) }, batch).item() as number;
    const g = grad((d: Tensor[]) => crossStitchLoss({ a, b, alpha: d.map(diagonalAlpha) }, batch))(diag) as Tensor[];
    for (let l = 0; l < 2; l++) {
      values(g[l]!).forEach((v, i) => {
        const at = (h: number): number => {
          const q = Float64Array.from(diag[l]!.data() as ArrayLike<number>);
          q[i] = q[i]! + h;
          const d = diag.slice();
          d[l] = fromTypedArray(q, [2, 1], 'float64');
          return loss(d);
        };
        const fd = (at(1e-6) - at(-1e-6)) / 2e-6;
        expect(Math.abs(v - fd)).toBeLessThan(1e-7 * Math.max(1, Math.abs(fd)));
        expect(Math.abs(fd)).toBeGreaterThan(1e-6);
      });
    }
    // task A's loss alone (mask B = 0) gives tower B's weights and B's scales exactly zero gradient
    const onlyA = { ...batch, mB: vec64([0, 0, 0, 0, 0]) };
    const gB = grad((tb: MlpParams, d: Tensor[]) => crossStitchLoss({ a, b: tb, alpha: d.map(diagonalAlpha) }, onlyA), { argnums: [0, 1] })(b, diag) as [MlpParams, Tensor[]];
    for (const [w, bias] of gB[0]) expect([...values(w), ...values(bias)].every((v) => v === 0)).toBe(true);
    for (const d of gB[1]) expect(Math.abs(values(d)[1]!)).toBe(0);
  });

  it('trained jointly on L_A + L_B, it follows each tower trained alone on its own loss (Adam, 5 steps)', () => {
    const r = rng(23);
    const sizes = [6, 5, 4, 3];
    const start = { a: net64(r, sizes), b: net64(r, sizes), diag: initDiagonalAlpha([5, 4], 'layer', 0.9, 'float64') };
    const batches: TwoTaskBatch[] = Array.from({ length: 5 }, () => ({ x: f64(r, [4, 6], 0, 1), tA: oneHot64([0, 1, 2, 1], 3), tB: oneHot64([2, 0, 0, 1], 3), mA: vec64([1, 1, 0, 1]), mB: vec64([1, 0, 1, 1]) }));
    // joint: the cross-stitch network with off-diagonals pinned at 0
    const opt = optim.adam(0.05);
    let joint = start;
    let st = opt.init(joint as never);
    for (const bt of batches) {
      const [, gr] = valueAndGrad((p: typeof start) => crossStitchLoss({ a: p.a, b: p.b, alpha: p.diag.map(diagonalAlpha) }, bt))(joint);
      const [up, next] = opt.update(gr as never, st);
      st = next;
      joint = optim.applyUpdates(joint as never, up);
    }
    // alone: tower A with its scales on the mean of mA * NLL_A (the same batch mean as the joint loss), and B likewise
    const alone = (t: 0 | 1): { w: MlpParams; s: Tensor[] } => {
      let p = { w: t === 0 ? start.a : start.b, s: start.diag.map((d) => np.reshape(row(d, t), [1])) };
      let s = opt.init(p as never);
      for (const bt of batches) {
        const lossT = (q: typeof p): Tensor => {
          const logits = scaledTower(q.w, q.s, bt.x);
          const nll = np.negative(np.sum(np.multiply(nn.logSoftmax(logits, -1), t === 0 ? bt.tA : bt.tB), -1));
          return np.mean(np.multiply(nll, t === 0 ? bt.mA : bt.mB));
        };
        const [, gr] = valueAndGrad(lossT)(p);
        const [up, next] = opt.update(gr as never, s);
        s = next;
        p = optim.applyUpdates(p as never, up);
      }
      return p;
    };
    for (const t of [0, 1] as const) {
      const ref = alone(t);
      const tower = t === 0 ? joint.a : joint.b;
      tower.forEach(([w, bias], i) => {
        values(w).forEach((v, j) => expect(v).toBeCloseTo(values(ref.w[i]![0])[j]!, 12));
        values(bias).forEach((v, j) => expect(v).toBeCloseTo(values(ref.w[i]![1])[j]!, 12));
      });
      joint.diag.forEach((d, l) => expect(values(d)[t]).toBeCloseTo(values(ref.s[l]!)[0]!, 12));
      expect(values(joint.diag[0]!)[t]).not.toBeCloseTo(0.9, 3); // the scales did learn
    }
    // the other tower's labels did matter to the joint run only through that tower
    expect(values(joint.a[0]![0])).not.toEqual(values(joint.b[0]![0]));
  });
});
