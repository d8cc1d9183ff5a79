/**
 * Gradient property tests for the differentiable np / nn composites (built from primitives, with no derivative
 * rules of their own): gradients against central finite differences in float64 on random shapes, axes and values.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { Tensor, grad, nn, numpy as np } from '../src/index.js';
import {
  awayFromZero,
  axesFromMask,
  broadcastShapesArb,
  expectGrad,
  expectJvp,
  gridValue,
  intTensor,
  mulberry32,
  onGrid,
  seedArb,
  shapeArb,
  sizeOf,
  tensorFrom,
  uniform,
} from './helpers/finite-diff.js';

const RUNS = 40;
const run = <T>(arb: fc.Arbitrary<T>, body: (v: T) => void, numRuns = RUNS): void => {
  fc.assert(fc.property(arb, body), { numRuns });
};

const axesArb = fc.record({
  shape: shapeArb(),
  seed: seedArb,
  mask: fc.integer({ min: -1, max: 7 }),
  negative: fc.boolean(),
  keepdims: fc.boolean(),
});

/** The number of elements reduced over by `axes` (null: all). */
const count = (shape: readonly number[], axes: number[] | null): number =>
  axes === null ? sizeOf(shape) : axes.reduce((n, a) => n * shape[a < 0 ? a + shape.length : a]!, 1);

/** An axis in [-rank, rank) from a natural number. */
const axisOf = (n: number, rank: number): number => (n % (2 * rank)) - rank;

// ---------------------------------------------------------------- reductions built from primitives

describe('statistics', () => {
  it('np.mean (and the method) over random axes, keepdims both ways', () => {
    run(axesArb, ({ shape, seed, mask, negative, keepdims }) => {
      const x = uniform(mulberry32(seed), shape);
      const axes = axesFromMask(shape.length, mask, negative);
      expectGrad((t: Tensor) => np.mean(t, axes, keepdims), [x], { seed });
      expectGrad((t: Tensor) => t.mean(axes, keepdims), [x], { seed });
    });
  });

  it('np.variance / np.var with ddof 0 and 1', () => {
    run(fc.record({ a: axesArb, ddof: fc.integer({ min: 0, max: 1 }) }), ({ a: { shape, seed, mask, negative, keepdims }, ddof }) => {
      const x = uniform(mulberry32(seed), shape);
      const axes = axesFromMask(shape.length, mask, negative);
      if (count(shape, axes) <= ddof) return; // no degrees of freedom left: the variance is inf/NaN
      expectGrad((t: Tensor) => np.variance(t, axes, keepdims, ddof), [x], { seed });
      expectGrad((t: Tensor) => np.var(t, axes, keepdims, ddof), [x], { seed });
    });
  });

  it('np.std (at least two elements per reduction, so the variance is positive)', () => {
    run(fc.record({ a: axesArb, ddof: fc.integer({ min: 0, max: 1 }) }), ({ a: { shape, seed, mask, negative, keepdims }, ddof }) => {
      let s = shape;
      let axes = axesFromMask(s.length, mask, negative);
      if (count(s, axes) < 2) {
        s = [...shape, 3];
        axes = [-1];
      }
      const x = uniform(mulberry32(seed), s);
      expectGrad((t: Tensor) => np.std(t, axes, keepdims, ddof), [x], { seed });
    });
  });

  it('np.logsumexp over random axes (including large values, where the max shift matters)', () => {
    run(fc.record({ a: axesArb, big: fc.boolean() }), ({ a: { shape, seed, mask, negative, keepdims }, big }) => {
      const rng = mulberry32(seed);
      const x = big ? np.add(uniform(rng, shape, -3, 3), 500) : uniform(rng, shape, -3, 3);
      const axes = axesFromMask(shape.length, mask, negative);
      expectGrad((t: Tensor) => np.logsumexp(t, axes, keepdims), [x], { seed });
    });
  });
});

// ---------------------------------------------------------------- shape composites

describe('shape composites', () => {
  it('np.expandDims (and the method) at every axis, negative included', () => {
    run(fc.record({ shape: shapeArb(), seed: seedArb, ax: fc.nat() }), ({ shape, seed, ax }) => {
      const axis = (ax % (2 * shape.length + 2)) - (shape.length + 1);
      const x = uniform(mulberry32(seed), shape);
      expectGrad((t: Tensor) => np.expandDims(t, axis), [x], { seed });
      expectGrad((t: Tensor) => np.sin(t.expandDims(axis)), [x], { seed });
    });
  });

  it('np.squeeze: all size-1 axes, or a chosen subset of them', () => {
    run(fc.record({ shape: shapeArb(0, 3, 3), seed: seedArb, mask: fc.integer({ min: -1, max: 7 }) }), ({ shape, seed, mask }) => {
      const x = uniform(mulberry32(seed), shape);
      const ones = shape.map((d, i) => (d === 1 ? i : -1)).filter((i) => i >= 0);
      const axes = mask < 0 ? undefined : ones.filter((_, k) => (mask >> k) & 1);
      const f = (t: Tensor) => np.squeeze(t, axes);
      expect(f(x).ndim).toBe(shape.length - (axes ?? ones).length);
      expectGrad(f, [x], { seed });
      expectGrad((t: Tensor) => t.squeeze(), [x], { seed });
    });
  });

  it('np.stack of several operands along every axis', () => {
    run(fc.record({ shape: shapeArb(0, 3), n: fc.integer({ min: 1, max: 4 }), ax: fc.nat(), seed: seedArb }), ({ shape, n, ax, seed }) => {
      const rng = mulberry32(seed);
      const axis = (ax % (2 * shape.length + 2)) - (shape.length + 1);
      const xs = Array.from({ length: n }, () => uniform(rng, shape));
      expectGrad((...ts: Tensor[]) => np.stack(ts, axis), xs, { argnums: xs.map((_, i) => i), seed });
    });
  });

  it('np.split into equal sections or at indices (a list output)', () => {
    run(fc.record({ shape: shapeArb(1, 3), ax: fc.nat(), byIndex: fc.boolean(), seed: seedArb }), ({ shape, ax, byIndex, seed }) => {
      const rng = mulberry32(seed);
      const axis = axisOf(ax, shape.length);
      const n = shape[axis < 0 ? axis + shape.length : axis]!;
      let sections: number | number[];
      if (byIndex) {
        const cuts = Array.from({ length: 1 + Math.floor(rng() * 3) }, () => Math.floor(rng() * (n + 1)));
        sections = cuts.sort((p, q) => p - q);
      } else {
        const divisors = Array.from({ length: n }, (_, i) => i + 1).filter((d) => n % d === 0);
        sections = divisors[Math.floor(rng() * divisors.length)]!;
      }
      const x = uniform(rng, shape);
      const f = (t: Tensor) => np.split(t, sections, axis).map((p, i) => np.multiply(np.sin(p), i + 1));
      expectGrad(f, [x], { seed });
    });
  });

  it('np.moveaxis, np.ravel, np.broadcastArrays', () => {
    run(fc.record({ b: broadcastShapesArb(2), src: fc.nat(), dst: fc.nat(), seed: seedArb }), ({ b, src, dst, seed }) => {
      const rng = mulberry32(seed);
      const [sx, sy] = b.shapes as [number[], number[]];
      const x = uniform(rng, sx);
      const y = uniform(rng, sy);
      if (sx.length > 0) expectGrad((t: Tensor) => np.moveaxis(t, axisOf(src, sx.length), axisOf(dst, sx.length)), [x], { seed });
      expectGrad((t: Tensor) => np.ravel(np.exp(t)), [x], { seed });
      expectGrad((u: Tensor, v: Tensor) => np.broadcastArrays(u, v), [x, y], { argnums: [0, 1], seed });
    });
  });
});

// ---------------------------------------------------------------- elementwise composites

describe('elementwise composites', () => {
  it('np.clip with scalar, array (broadcast) and missing bounds, away from the bounds', () => {
    run(fc.record({ b: broadcastShapesArb(3), seed: seedArb, kind: fc.integer({ min: 0, max: 3 }) }), ({ b, seed, kind }) => {
      const rng = mulberry32(seed);
      const [sx, slo, shi] = b.shapes as [number[], number[], number[]];
      // x on grid 0, bounds on grid 1: never closer than 0.15.
      const x = onGrid(rng, sx, 0);
      const lo = gridValue(rng, 1, 2) - 0.5;
      const hi = lo + 1 + 0.5 * Math.floor(rng() * 4);
      const loArr = np.subtract(onGrid(rng, slo, 1, 1), 1);
      const hiArr = np.add(onGrid(rng, shi, 1, 1), 1);
      const f = [
        (t: Tensor) => np.clip(t, lo, hi),
        (t: Tensor) => np.clip(t, null, hi),
        (t: Tensor) => np.clip(t, lo, null),
        (t: Tensor) => np.clip(t, loArr, hiArr),
      ][kind]!;
      expectGrad(f, [x], { seed });
    });
  });

  it('np.clip: gradient with respect to array bounds', () => {
    run(fc.record({ b: broadcastShapesArb(3), seed: seedArb }), ({ b, seed }) => {
      const rng = mulberry32(seed);
      const [sx, slo, shi] = b.shapes as [number[], number[], number[]];
      const x = onGrid(rng, sx, 0);
      const lo = np.subtract(onGrid(rng, slo, 1, 1), 1);
      const hi = np.add(onGrid(rng, shi, 1, 1), 1);
      expectGrad((t: Tensor, l: Tensor, h: Tensor) => np.clip(t, l, h), [x, lo, hi], { argnums: [0, 1, 2], seed });
    });
  });

  it('np.square (and the method), np.reciprocal', () => {
    run(fc.record({ shape: shapeArb(), seed: seedArb }), ({ shape, seed }) => {
      const rng = mulberry32(seed);
      const x = uniform(rng, shape);
      expectGrad((t: Tensor) => np.square(t), [x], { seed });
      expectGrad((t: Tensor) => t.square(), [x], { seed });
      expectGrad((t: Tensor) => np.reciprocal(t), [awayFromZero(rng, shape, 0.3, 2)], { seed });
    });
  });

  it('np.power with scalar exponents and scalar bases', () => {
    const cases: [string, (t: Tensor) => Tensor, boolean][] = [
      ['x^2', (t) => np.power(t, 2), true],
      ['x^3', (t) => np.power(t, 3), true],
      ['x^0', (t) => np.power(t, 0), true],
      ['x^1', (t) => np.power(t, 1), true],
      ['x^0.5', (t) => np.power(t, 0.5), false],
      ['x^-1.5', (t) => np.power(t, -1.5), false],
      ['x^2.5', (t) => t.pow(2.5), false],
      ['x^-2', (t) => np.power(t, -2), false],
      ['2^x', (t) => np.power(2, t), true],
      ['0.5^x', (t) => np.power(0.5, t), true],
      ['e^x', (t) => np.power(Math.E, t), true],
    ];
    run(fc.record({ shape: shapeArb(), seed: seedArb, c: fc.integer({ min: 0, max: cases.length - 1 }) }), ({ shape, seed, c }) => {
      const [, f, anySign] = cases[c]!;
      const rng = mulberry32(seed);
      const x = anySign ? uniform(rng, shape, -2, 2) : uniform(rng, shape, 0.3, 2.5);
      expectGrad(f, [x], { seed });
    });
  });
});

// ---------------------------------------------------------------- nn

describe('nn activations', () => {
  it('nn.sigmoid, nn.tanh', () => {
    run(fc.record({ shape: shapeArb(), seed: seedArb }), ({ shape, seed }) => {
      const x = uniform(mulberry32(seed), shape, -4, 4);
      expectGrad((t: Tensor) => nn.sigmoid(t), [x], { seed });
      expectGrad((t: Tensor) => nn.tanh(t), [x], { seed });
    });
  });

  it('nn.relu away from 0 (gradient exactly 0 or 1)', () => {
    run(fc.record({ shape: shapeArb(), seed: seedArb }), ({ shape, seed }) => {
      const x = awayFromZero(mulberry32(seed), shape, 0.05, 3);
      expectGrad((t: Tensor) => nn.relu(t), [x], { seed });
      const g = grad((t: Tensor) => np.sum(nn.relu(t)))(x) as Tensor;
      const xd = x.data();
      Array.from(g.data()).forEach((v, i) => expect(v).toBe(xd[i]! > 0 ? 1 : 0));
    });
  });

  it('nn.softmax and nn.logSoftmax along a random axis', () => {
    run(fc.record({ shape: shapeArb(1, 3), ax: fc.nat(), seed: seedArb, big: fc.boolean() }), ({ shape, ax, seed, big }) => {
      const axis = axisOf(ax, shape.length);
      const rng = mulberry32(seed);
      const x = np.add(uniform(rng, shape, -3, 3), big ? 300 : 0);
      expectGrad((t: Tensor) => nn.softmax(t, axis), [x], { seed });
      expectGrad((t: Tensor) => nn.logSoftmax(t, axis), [x], { seed });
    });
  });
});

describe('nn losses', () => {
  const reductions = ['mean', 'sum', 'none'] as const;
  const lossArb = fc.record({ batch: shapeArb(0, 2), classes: fc.integer({ min: 1, max: 5 }), seed: seedArb, r: fc.integer({ min: 0, max: 2 }) });

  it('nn.crossEntropy with integer labels', () => {
    run(lossArb, ({ batch, classes, seed, r }) => {
      const rng = mulberry32(seed);
      const logits = uniform(rng, [...batch, classes], -3, 3);
      const labels = intTensor(rng, batch, 0, classes);
      expectGrad((t: Tensor) => nn.crossEntropy(t, labels, reductions[r]), [logits], { seed });
    });
  });

  it('nn.crossEntropy with probability targets (gradient with respect to logits and targets)', () => {
    run(lossArb, ({ batch, classes, seed, r }) => {
      const rng = mulberry32(seed);
      const logits = uniform(rng, [...batch, classes], -3, 3);
      const raw = uniform(rng, [...batch, classes], 0.1, 1);
      const targets = np.divide(raw, np.sum(raw, -1, true));
      expectGrad((t: Tensor, p: Tensor) => nn.crossEntropy(t, p, reductions[r]), [logits, targets], { argnums: [0, 1], seed });
      // One-hot float32 targets, as np.oneHot makes them.
      const oneHot = np.oneHot(intTensor(rng, batch, 0, classes), classes);
      expectGrad((t: Tensor) => nn.crossEntropy(t, oneHot, reductions[r]), [logits], { seed });
    });
  });

  it('nn.nll of log-probabilities at integer labels', () => {
    run(lossArb, ({ batch, classes, seed, r }) => {
      const rng = mulberry32(seed);
      const labels = intTensor(rng, batch, 0, classes);
      const logits = uniform(rng, [...batch, classes], -3, 3);
      expectGrad((t: Tensor) => nn.nll(t, labels, reductions[r]), [logits], { seed });
      expectGrad((t: Tensor) => nn.nll(nn.logSoftmax(t), labels, reductions[r]), [logits], { seed });
    });
  });

  it('crossEntropy with integer labels equals crossEntropy with their one-hot targets, gradient included', () => {
    run(lossArb, ({ batch, classes, seed }) => {
      const rng = mulberry32(seed);
      const logits = uniform(rng, [...batch, classes], -3, 3);
      const labels = intTensor(rng, batch, 0, classes);
      const gInt = grad((t: Tensor) => nn.crossEntropy(t, labels))(logits) as Tensor;
      const gHot = grad((t: Tensor) => nn.crossEntropy(t, np.oneHot(labels, classes, 'float64')))(logits) as Tensor;
      const a = gInt.data();
      Array.from(gHot.data()).forEach((v, i) => expect(v).toBeCloseTo(a[i]!, 14));
    });
  });
});

// ---------------------------------------------------------------- a whole model: pytree parameters, argnums

describe('composite models', () => {
  it('a two-layer MLP loss: gradient with respect to a parameter pytree and the input', () => {
    run(fc.record({ n: fc.integer({ min: 1, max: 4 }), d: fc.integer({ min: 1, max: 4 }), h: fc.integer({ min: 1, max: 4 }), c: fc.integer({ min: 2, max: 4 }), seed: seedArb }), ({ n, d, h, c, seed }) => {
      const rng = mulberry32(seed);
      const params = { w1: uniform(rng, [d, h], -1, 1), b1: uniform(rng, [h], -1, 1), layers: [{ w: uniform(rng, [h, c], -1, 1), b: uniform(rng, [c], -1, 1) }] };
      const x = uniform(rng, [n, d]);
      const labels = intTensor(rng, [n], 0, c);
      type P = typeof params;
      const model = (p: P, input: Tensor) => {
        const hidden = np.tanh(np.add(np.matmul(input, p.w1), p.b1));
        const logits = np.add(np.matmul(hidden, p.layers[0]!.w), p.layers[0]!.b);
        return nn.crossEntropy(logits, labels);
      };
      expectGrad(model, [params, x], { argnums: [0, 1], seed });
      expectGrad(model, [params, x], { argnums: 0, seed });
      // std is not differentiable at zero variance: only with at least two rows and two softmax classes.
      if (n >= 2 && h >= 2) expectGrad((p: P, input: Tensor) => np.std(nn.softmax(np.matmul(input, p.w1)), 0), [params, x], { argnums: [1, 0], seed });
    });
  });

  it('second order through composites: grad of the logsumexp gradient (softmax Jacobian)', () => {
    run(fc.record({ shape: shapeArb(1, 2), seed: seedArb }), ({ shape, seed }) => {
      const rng = mulberry32(seed);
      const x = uniform(rng, shape, -2, 2);
      const df = (t: Tensor) => grad((u: Tensor) => np.logsumexp(u))(t) as Tensor;
      expectGrad(df, [x], { seed });
      const dv = (t: Tensor) => grad((u: Tensor) => np.sum(np.multiply(np.variance(u, -1), tensorFrom(u.shape.slice(0, -1), (i) => i + 1))))(t) as Tensor;
      expectGrad(dv, [x], { seed });
    }, 20);
  });

  it('jvp through composites', () => {
    run(fc.record({ shape: shapeArb(0, 2), seed: seedArb }), ({ shape, seed }) => {
      // At least two elements, so that the standard deviation is positive (differentiable).
      const x = uniform(mulberry32(seed), [...shape, 2]);
      expectJvp((t: Tensor) => [nn.softmax(t), np.std(t, null, true), np.logsumexp(t, 0)], [x], { seed });
    }, 20);
  });
});
