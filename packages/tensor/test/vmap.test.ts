/**
 * vmap properties: for every primitive family, `vmap(f, { inAxes, outAxes })(xs)` equals stacking `f(x_i)`
 * over the batch, with random shapes, values, mapped axis positions (negative ones too), unmapped operands,
 * pytrees in and out, nesting, and random programs; plus the error messages of misuse.
 *
 * The reference is computed eagerly, example by example: each mapped leaf is indexed at i along its axis
 * (slice + reshape), f runs on the examples, and the per-example outputs are joined with np.stack along the
 * output axis.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { type AxisSpec, type DType, type PyTree, type Tensor, array, jit, nn, numpy as np, tree, vmap } from '../src/index.js';
import {
  type Rng,
  buildProgram,
  compareTrees,
  describeProgram,
  generateProgram,
  randomInts,
  randomTensor,
  rngFrom,
  tolFor,
} from './helpers/random-programs.js';

const RUNS = 40;
const seedArb = fc.integer({ min: 0, max: 0x7fffffff });
const shapeArb = (minRank = 0, maxRank = 3, maxDim = 3) => fc.array(fc.integer({ min: 1, max: maxDim }), { minLength: minRank, maxLength: maxRank });

// ---------------------------------------------------------------- reference: example by example

/** x with its axis `axis` fixed at `i` (the axis removed). */
function indexAxis(x: Tensor, axis: number, i: number): Tensor {
  const a = axis < 0 ? axis + x.ndim : axis;
  const start = x.shape.map((_, k) => (k === a ? i : 0));
  const limit = x.shape.map((d, k) => (k === a ? i + 1 : d));
  return np.slice(x, start, limit).reshape(x.shape.filter((_, k) => k !== a));
}

/** Expand a prefix axis spec over a concrete pytree: one axis (or null) per leaf, in flatten order. */
function axesFor(spec: AxisSpec, t: unknown): (number | null)[] {
  if (spec === null || typeof spec === 'number') return tree.leaves(t as PyTree<unknown>).map(() => spec);
  if (Array.isArray(spec)) return (t as unknown[]).flatMap((c, i) => axesFor(spec[i]!, c));
  const keys = Object.keys(t as object).sort();
  return keys.flatMap((k) => axesFor((spec as Record<string, AxisSpec>)[k] ?? null, (t as Record<string, unknown>)[k]));
}

/** The per-example reference: f on each example, stacked along outAxes (null: the shared value). */
function reference(f: (...a: any[]) => any, args: unknown[], inAxes: AxisSpec, outAxes: AxisSpec, size: number): unknown {
  const [leaves, def] = tree.flatten(args as PyTree<unknown>);
  const axes = Array.isArray(inAxes) ? axesFor(inAxes, args) : leaves.map(() => inAxes as number | null);
  const results = Array.from({ length: size }, (_, i) => {
    const ex = leaves.map((l, k) => (axes[k] === null ? l : indexAxis(l as Tensor, axes[k]!, i)));
    return f(...(tree.unflatten(def, ex) as unknown[]));
  });
  const [first, outDef] = tree.flatten(results[0] as PyTree<unknown>);
  const oaxes = axesFor(outAxes, results[0]);
  const perLeaf = results.map((r) => tree.leaves(r as PyTree<unknown>) as Tensor[]);
  const stacked = first.map((_, k) => {
    const ax = oaxes[k]!;
    if (ax === null) return perLeaf[0]![k]!;
    const items = perLeaf.map((r) => r[k]!);
    return np.stack(items, ax < 0 ? ax + items[0]!.ndim + 1 : ax);
  });
  return tree.unflatten(outDef, stacked);
}

/** Assert vmap(f) agrees with the per-example reference (values, shapes, dtypes). */
function checkVmap(
  f: (...a: any[]) => any,
  args: unknown[],
  opts: { inAxes?: AxisSpec; outAxes?: AxisSpec; size: number; tol?: { rtol: number; atol: number } },
  context = '',
): void {
  const inAxes = opts.inAxes ?? 0;
  const outAxes = opts.outAxes ?? 0;
  const actual = vmap(f, { inAxes, outAxes })(...args);
  const expected = reference(f, args, Array.isArray(inAxes) ? inAxes : args.map(() => inAxes), outAxes, opts.size);
  const m = compareTrees(actual, expected, opts.tol ?? { rtol: 1e-12, atol: 1e-12 });
  if (m) throw new Error(`${m}\ninAxes=${JSON.stringify(inAxes)} outAxes=${JSON.stringify(outAxes)} ${context}`);
}

/** A shape with the batch axis of size b inserted at `axis` (negative counts from the end of the batched shape). */
function withBatch(shape: readonly number[], b: number, axis: number): number[] {
  const a = axis < 0 ? axis + shape.length + 1 : axis;
  return [...shape.slice(0, a), b, ...shape.slice(a)];
}

/** A batch-axis position for an example of rank r: any of the r+1 slots, maybe spelled negative. */
const axisArb = (rank: number) =>
  fc.tuple(fc.integer({ min: 0, max: rank }), fc.boolean()).map(([a, neg]) => (neg ? a - (rank + 1) : a));

/** An operand: mapped at `axis` (batch inserted there), or unmapped (axis null). */
function operand(rng: Rng, shape: number[], b: number, axis: number | null, dtype: DType = 'float64', gen?: (rng: Rng, s: number[]) => Tensor): Tensor {
  const s = axis === null ? shape : withBatch(shape, b, axis);
  if (gen) return gen(rng, s);
  if (dtype === 'int32') return randomInts(rng, s, -5, 5);
  if (dtype === 'bool') return randomInts(rng, s, 0, 1).astype('bool');
  return randomTensor(rng, s, dtype);
}

/** Broadcast-compatible shapes (NumPy rules; ranks may differ). */
const broadcastShapesArb = (count: number) =>
  fc
    .record({
      base: shapeArb(0, 3),
      ops: fc.array(fc.record({ drop: fc.integer({ min: 0, max: 3 }), ones: fc.array(fc.boolean(), { minLength: 3, maxLength: 3 }) }), {
        minLength: count,
        maxLength: count,
      }),
    })
    .map(({ base, ops }) => ops.map(({ drop, ones }) => base.slice(Math.min(drop % 2 === 0 ? 0 : drop, base.length)).map((d, i) => (ones[i] && i % 2 === 0 ? 1 : d))));

// ---------------------------------------------------------------- elementwise

const UNARY: [string, (x: Tensor) => Tensor, DType][] = [
  ['sin', np.sin, 'float64'],
  ['cos', np.cos, 'float64'],
  ['exp', np.exp, 'float64'],
  ['expm1', np.expm1, 'float64'],
  ['tanh', np.tanh, 'float64'],
  ['sigmoid', nn.sigmoid, 'float64'],
  ['log1p(|x|)', (x) => np.log1p(np.abs(x)), 'float64'],
  ['sqrt(|x|)', (x) => np.sqrt(np.abs(x)), 'float64'],
  ['log(|x|+1)', (x) => np.log(np.abs(x).add(1)), 'float64'],
  ['neg', np.negative, 'float32'],
  ['floor', np.floor, 'float64'],
  ['ceil', np.ceil, 'float32'],
  ['round', (x) => np.round(x.mul(2)), 'float64'],
  ['sign', np.sign, 'float64'],
  ['abs int', np.abs, 'int32'],
  ['neg int', np.negative, 'int32'],
  ['not int', np.logicalNot, 'int32'],
  ['not bool', np.logicalNot, 'bool'],
  ['square', np.square, 'float32'],
  ['stop_gradient', np.stopGradient, 'float64'],
];

const BINARY: [string, (x: Tensor, y: Tensor) => Tensor, DType][] = [
  ['add', np.add, 'float64'],
  ['subtract', np.subtract, 'float32'],
  ['multiply', np.multiply, 'float64'],
  ['divide', np.divide, 'float64'],
  ['maximum', np.maximum, 'float64'],
  ['minimum', np.minimum, 'float32'],
  ['power', (x, y) => np.power(np.abs(x).add(0.5), y), 'float64'],
  ['arctan2', np.arctan2, 'float64'],
  ['equal', (x, y) => np.equal(np.round(x), np.round(y)), 'float64'],
  ['less', np.less, 'float64'],
  ['greaterEqual', np.greaterEqual, 'float32'],
  ['notEqual', np.notEqual, 'int32'],
  ['add int', np.add, 'int32'],
  ['truncDivide int', (x, y) => np.truncDivide(x, np.where(np.equal(y, 0), 1, y)), 'int32'],
  ['logicalAnd', np.logicalAnd, 'bool'],
  ['logicalOr', np.logicalOr, 'bool'],
];

describe('vmap: elementwise', () => {
  it('unary ops, batch axis anywhere', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: UNARY.length - 1 }),
        shapeArb(0, 3),
        fc.integer({ min: 1, max: 4 }),
        seedArb,
        fc.nat(),
        fc.nat(),
        (k, shape, b, seed, ia, oa) => {
          const [name, f, dtype] = UNARY[k]!;
          const inAxis = (ia % (shape.length + 1)) - (ia % 2 ? shape.length + 1 : 0);
          const outAxis = (oa % (shape.length + 1)) - (oa % 3 === 0 ? shape.length + 1 : 0);
          const x = operand(rngFrom(seed), shape, b, inAxis, dtype);
          checkVmap(f, [x], { inAxes: inAxis, outAxes: outAxis, size: b }, name);
        },
      ),
      { numRuns: 60 },
    );
  });

  it('binary ops with broadcasting, each side mapped or not', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: BINARY.length - 1 }),
        broadcastShapesArb(2),
        fc.integer({ min: 1, max: 3 }),
        fc.constantFrom<[boolean, boolean]>([true, true], [true, false], [false, true]),
        seedArb,
        fc.nat(),
        fc.nat(),
        fc.nat(),
        (k, [sx, sy], b, [mx, my], seed, ax, ay, ao) => {
          const [name, f, dtype] = BINARY[k]!;
          const rng = rngFrom(seed);
          const axX = mx ? (ax % (sx!.length + 1)) - (ax % 2 ? sx!.length + 1 : 0) : null;
          const axY = my ? (ay % (sy!.length + 1)) - (ay % 2 ? sy!.length + 1 : 0) : null;
          const x = operand(rng, sx!, b, axX, dtype);
          const y = operand(rng, sy!, b, axY, dtype);
          const outRank = Math.max(sx!.length, sy!.length);
          checkVmap(f, [x, y], { inAxes: [axX, axY], outAxes: ao % (outRank + 1), size: b }, name);
        },
      ),
      { numRuns: 80 },
    );
  });

  it('select (where) with broadcasting and any subset of operands mapped', () => {
    fc.assert(
      fc.property(broadcastShapesArb(3), fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 7 }), seedArb, fc.nat(), (shapes, b, mask, seed, ax) => {
        const rng = rngFrom(seed);
        const axes = shapes.map((s, i) => ((mask >> i) & 1 ? (ax >> (2 * i)) % (s.length + 1) : null));
        const c = operand(rng, shapes[0]!, b, axes[0]!, 'bool');
        const x = operand(rng, shapes[1]!, b, axes[1]!, 'float64');
        const y = operand(rng, shapes[2]!, b, axes[2]!, 'float64');
        checkVmap((cc: Tensor, xx: Tensor, yy: Tensor) => np.where(cc, xx, yy), [c, x, y], { inAxes: axes, size: b });
      }),
      { numRuns: RUNS },
    );
  });

  it('convert_element_type between every pair of dtypes (float→int truncates, →bool is != 0)', () => {
    const dtypes: DType[] = ['float32', 'float64', 'int32', 'bool'];
    fc.assert(
      fc.property(fc.constantFrom(...dtypes), fc.constantFrom(...dtypes), shapeArb(0, 2), fc.integer({ min: 1, max: 3 }), seedArb, fc.nat(), (from, to, shape, b, seed, ax) => {
        const axis = ax % (shape.length + 1);
        const x = operand(rngFrom(seed), shape, b, axis, from, (rng, s) =>
          from === 'bool' || from === 'int32' ? operand(rng, s, 1, null, from) : randomTensor(rng, s, from, -3, 3).mul(rng() < 0.5 ? 1 : 0),
        );
        checkVmap((t: Tensor) => t.astype(to), [x], { inAxes: axis, size: b });
      }),
      { numRuns: RUNS },
    );
  });
});

// ---------------------------------------------------------------- reductions

describe('vmap: reductions', () => {
  const REDUCTIONS: [string, (x: Tensor, axes: number[] | null, keep: boolean) => Tensor][] = [
    ['sum', (x, a, k) => x.sum(a, k)],
    ['max', (x, a, k) => x.max(a, k)],
    ['min', (x, a, k) => x.min(a, k)],
    ['mean', (x, a, k) => x.mean(a, k)],
    ['logsumexp', (x, a, k) => np.logsumexp(x, a, k)],
  ];
  it('sum/max/min/mean over random axes (negative too), keepdims', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: REDUCTIONS.length - 1 }),
        shapeArb(1, 3),
        fc.integer({ min: 1, max: 3 }),
        fc.integer({ min: -1, max: 7 }),
        fc.boolean(),
        fc.boolean(),
        seedArb,
        fc.nat(),
        (k, shape, b, mask, keep, neg, seed, ax) => {
          const [name, f] = REDUCTIONS[k]!;
          const axes = mask < 0 ? null : shape.map((_, i) => i).filter((i) => (mask >> i) & 1).map((i) => (neg ? i - shape.length : i));
          const axis = (ax % (shape.length + 1)) - (ax % 2 ? shape.length + 1 : 0);
          const x = operand(rngFrom(seed), shape, b, axis, 'float64');
          checkVmap((t: Tensor) => f(t, axes, keep), [x], { inAxes: axis, size: b }, `${name} axes=${JSON.stringify(axes)} keep=${keep}`);
        },
      ),
      { numRuns: 60 },
    );
  });

  it('sum of int32 and bool, argmax/argmin (ties: first index)', () => {
    fc.assert(
      fc.property(shapeArb(1, 3), fc.integer({ min: 1, max: 3 }), seedArb, fc.nat(), fc.nat(), (shape, b, seed, ax, ra) => {
        const axis = ax % (shape.length + 1);
        const redAxis = (ra % shape.length) - (ra % 2 ? shape.length : 0);
        const rng = rngFrom(seed);
        const xi = operand(rng, shape, b, axis, 'int32'); // small ints: many ties
        const xb = operand(rng, shape, b, axis, 'bool');
        checkVmap((t: Tensor) => [t.sum(redAxis), np.argmax(t, redAxis), np.argmin(t, redAxis), np.argmax(t)], [xi], { inAxes: axis, size: b });
        checkVmap((t: Tensor) => [t.sum(), np.argmax(t, redAxis), t.max(redAxis)], [xb], { inAxes: axis, size: b });
      }),
      { numRuns: RUNS },
    );
  });
});

// ---------------------------------------------------------------- dot_general

/** A random dot_general configuration: operand shapes and axis pairings, with the roles in random axis order. */
const dotConfigArb = fc
  .record({
    batch: fc.array(fc.integer({ min: 1, max: 3 }), { maxLength: 2 }),
    contract: fc.array(fc.integer({ min: 1, max: 3 }), { maxLength: 2 }),
    lFree: fc.array(fc.integer({ min: 1, max: 3 }), { maxLength: 2 }),
    rFree: fc.array(fc.integer({ min: 1, max: 3 }), { maxLength: 2 }),
    lPerm: fc.array(fc.nat(), { minLength: 6, maxLength: 6 }),
    rPerm: fc.array(fc.nat(), { minLength: 6, maxLength: 6 }),
  })
  .map(({ batch, contract, lFree, rFree, lPerm, rPerm }) => {
    const layout = (free: number[], keys: number[]) => {
      const roles = [...batch.map((d, i) => ({ r: 'b', i, d })), ...contract.map((d, i) => ({ r: 'c', i, d })), ...free.map((d, i) => ({ r: 'f', i, d }))];
      // Shuffle the roles by the random keys.
      const order = roles.map((_, i) => i).sort((a, b) => keys[a]! - keys[b]! || a - b);
      const placed = order.map((i) => roles[i]!);
      return {
        shape: placed.map((x) => x.d),
        batch: batch.map((_, i) => placed.findIndex((x) => x.r === 'b' && x.i === i)),
        contract: contract.map((_, i) => placed.findIndex((x) => x.r === 'c' && x.i === i)),
      };
    };
    const l = layout(lFree, lPerm);
    const r = layout(rFree, rPerm);
    return { lShape: l.shape, rShape: r.shape, contract: [l.contract, r.contract] as [number[], number[]], batch: [l.batch, r.batch] as [number[], number[]] };
  });

describe('vmap: dot_general and matmul', () => {
  it('dot_general with random batch/contract configurations, either or both sides mapped', () => {
    fc.assert(
      fc.property(
        dotConfigArb,
        fc.integer({ min: 1, max: 3 }),
        fc.constantFrom<[boolean, boolean]>([true, true], [true, false], [false, true]),
        seedArb,
        fc.nat(),
        fc.nat(),
        fc.nat(),
        (cfg, b, [ml, mr], seed, al, ar, ao) => {
          const rng = rngFrom(seed);
          const axL = ml ? (al % (cfg.lShape.length + 1)) - (al % 2 ? cfg.lShape.length + 1 : 0) : null;
          const axR = mr ? (ar % (cfg.rShape.length + 1)) - (ar % 2 ? cfg.rShape.length + 1 : 0) : null;
          const l = operand(rng, cfg.lShape, b, axL);
          const r = operand(rng, cfg.rShape, b, axR);
          const outRank = cfg.batch[0].length + cfg.lShape.length + cfg.rShape.length - 2 * cfg.batch[0].length - 2 * cfg.contract[0].length;
          checkVmap(
            (x: Tensor, y: Tensor) => np.dotGeneral(x, y, cfg.contract, cfg.batch),
            [l, r],
            { inAxes: [axL, axR], outAxes: ao % (outRank + 1), size: b },
            JSON.stringify(cfg),
          );
        },
      ),
      { numRuns: 80 },
    );
  });

  it('matmul / dot / tensordot / outer with 1-D, 2-D and batched operands', () => {
    const cases: [string, number[], number[], (x: Tensor, y: Tensor) => Tensor][] = [
      ['matmul 2x2', [2, 3], [3, 4], np.matmul],
      ['matmul 1x2', [3], [3, 2], np.matmul],
      ['matmul 2x1', [2, 3], [3], np.matmul],
      ['matmul 1x1', [3], [3], np.matmul],
      ['matmul 3x2', [2, 2, 3], [3, 2], np.matmul],
      ['matmul 3x3 broadcast', [2, 1, 2, 3], [3, 3, 2], np.matmul],
      ['dot 2x2', [2, 3], [3, 2], np.dot],
      ['dot 3x3', [2, 2, 3], [2, 3, 2], np.dot],
      ['tensordot 2', [2, 3, 2], [3, 2, 4], (x, y) => np.tensordot(x, y, 2)],
      ['outer', [3], [2], np.outer],
    ];
    fc.assert(
      fc.property(fc.integer({ min: 0, max: cases.length - 1 }), fc.integer({ min: 1, max: 3 }), fc.constantFrom(0, 1, 2), seedArb, fc.nat(), (k, b, which, seed, ax) => {
        const [name, ls, rs, f] = cases[k]!;
        const rng = rngFrom(seed);
        const axL = which === 2 ? null : ax % (ls.length + 1);
        const axR = which === 1 ? null : (ax >> 3) % (rs.length + 1);
        checkVmap(f, [operand(rng, ls, b, axL, 'float32'), operand(rng, rs, b, axR, 'float32')], { inAxes: [axL, axR], size: b, tol: tolFor('float32') }, name);
      }),
      { numRuns: RUNS },
    );
  });
});

// ---------------------------------------------------------------- structural

describe('vmap: structural ops', () => {
  it('reshape (with -1), transpose, moveaxis, squeeze/expandDims', () => {
    fc.assert(
      fc.property(shapeArb(1, 3), fc.integer({ min: 1, max: 3 }), seedArb, fc.nat(), fc.array(fc.nat(), { minLength: 3, maxLength: 3 }), (shape, b, seed, ax, keys) => {
        const axis = (ax % (shape.length + 1)) - (ax % 2 ? shape.length + 1 : 0);
        const x = operand(rngFrom(seed), shape, b, axis);
        const n = shape.reduce((p, d) => p * d, 1);
        const perm = shape.map((_, i) => i).sort((i, j) => keys[i]! - keys[j]! || i - j);
        checkVmap(
          (t: Tensor) => [t.reshape([-1]), t.reshape([n, 1]), t.reshape([1, -1, 1]), t.transpose(perm), t.T, np.moveaxis(t, 0, -1), t.expandDims(-1), np.squeeze(t.expandDims(0), 0)],
          [x],
          { inAxes: axis, outAxes: ax % 2 ? -1 : 0, size: b },
          `perm=${perm}`,
        );
      }),
      { numRuns: RUNS },
    );
  });

  it('broadcast_in_dim / broadcastTo', () => {
    fc.assert(
      fc.property(shapeArb(0, 3), fc.integer({ min: 1, max: 3 }), seedArb, fc.nat(), fc.array(fc.boolean(), { minLength: 3, maxLength: 3 }), (target, b, seed, ax, keepAxis) => {
        // Operand: a subset of the target's axes (in order), some of them size 1.
        const dims = target.map((_, i) => i).filter((i) => keepAxis[i]);
        const opShape = dims.map((d, k) => (k % 2 === 1 ? 1 : target[d]!));
        const axis = ax % (opShape.length + 1);
        const x = operand(rngFrom(seed), opShape, b, axis);
        const suffix = target.slice(target.length - opShape.length);
        const canBroadcastTo = opShape.every((d, i) => d === 1 || d === suffix[i]);
        checkVmap(
          (t: Tensor) => (canBroadcastTo ? [np.broadcastInDim(t, target, dims), np.broadcastTo(t, target)] : [np.broadcastInDim(t, target, dims)]),
          [x],
          { inAxes: axis, outAxes: (ax >> 2) % (target.length + 1), size: b },
          `target=${target} dims=${dims}`,
        );
      }),
      { numRuns: RUNS },
    );
  });

  it('slice with steps, pad', () => {
    fc.assert(
      fc.property(
        shapeArb(1, 3, 5),
        fc.integer({ min: 1, max: 3 }),
        seedArb,
        fc.nat(),
        fc.array(fc.tuple(fc.nat(), fc.nat(), fc.integer({ min: 1, max: 3 }), fc.integer({ min: 0, max: 2 }), fc.integer({ min: 0, max: 2 })), { minLength: 3, maxLength: 3 }),
        (shape, b, seed, ax, per) => {
          const axis = (ax % (shape.length + 1)) - (ax % 2 ? shape.length + 1 : 0);
          const x = operand(rngFrom(seed), shape, b, axis);
          const start = shape.map((d, i) => per[i]![0] % d);
          const limit = shape.map((d, i) => start[i]! + 1 + (per[i]![1] % (d - start[i]!)));
          const step = shape.map((_, i) => per[i]![2]);
          const lo = shape.map((_, i) => per[i]![3]);
          const hi = shape.map((_, i) => per[i]![4]);
          checkVmap(
            (t: Tensor) => [np.slice(t, start, limit, step), np.pad(t, lo, hi, -1.5), np.split(t, [1], 0)[1]!],
            [x],
            { inAxes: axis, size: b },
            `start=${start} limit=${limit} step=${step}`,
          );
        },
      ),
      { numRuns: RUNS },
    );
  });

  it('concatenate / stack with some operands unmapped', () => {
    fc.assert(
      fc.property(
        shapeArb(1, 3),
        fc.integer({ min: 1, max: 3 }),
        fc.integer({ min: 2, max: 4 }),
        fc.integer({ min: 1, max: 15 }),
        seedArb,
        fc.nat(),
        fc.nat(),
        (shape, b, count, mask, seed, ca, ax) => {
          const rng = rngFrom(seed);
          const catAxis = ca % shape.length;
          const m = mask & ((1 << count) - 1) || 1;
          const axes = Array.from({ length: count }, (_, i) => ((m >> i) & 1 ? ((ax >> i) % (shape.length + 1)) : null));
          const xs = axes.map((a, i) => operand(rng, shape.map((d, k) => (k === catAxis ? 1 + ((d + i) % 3) : d)), b, a));
          const sameShape = axes.map((a) => operand(rng, shape, b, a));
          checkVmap((...ts: Tensor[]) => np.concatenate(ts, catAxis - (ca % 2 ? shape.length : 0)), xs, { inAxes: axes, size: b });
          checkVmap((...ts: Tensor[]) => np.stack(ts, -1), sameShape, { inAxes: axes, size: b });
        },
      ),
      { numRuns: RUNS },
    );
  });
});

// ---------------------------------------------------------------- gather / scatter

describe('vmap: take (gather) and scatterAdd', () => {
  it('take with the operand mapped, the indices mapped, or both (negative indices, N-D indices)', () => {
    fc.assert(
      fc.property(
        shapeArb(1, 3),
        shapeArb(0, 2),
        fc.integer({ min: 1, max: 3 }),
        fc.constantFrom<[boolean, boolean]>([true, true], [true, false], [false, true]),
        seedArb,
        fc.nat(),
        fc.nat(),
        fc.nat(),
        (xShape, iShape, b, [mx, mi], seed, ta, ax, ai) => {
          const rng = rngFrom(seed);
          const axis = ta % xShape.length;
          const n = xShape[axis]!;
          const axX = mx ? (ax % (xShape.length + 1)) - (ax % 2 ? xShape.length + 1 : 0) : null;
          const axI = mi ? ai % (iShape.length + 1) : null;
          const x = operand(rng, xShape, b, axX);
          const idx = operand(rng, iShape, b, axI, 'int32', (r, s) => randomInts(r, s, -n, n - 1));
          checkVmap((t: Tensor, i: Tensor) => np.take(t, i, axis - (ta % 2 ? xShape.length : 0)), [x, idx], { inAxes: [axX, axI], size: b }, `axis=${axis}`);
        },
      ),
      { numRuns: 80 },
    );
  });

  it('scatterAdd with any subset of operand / indices / updates mapped (repeated indices accumulate)', () => {
    fc.assert(
      fc.property(
        shapeArb(1, 3),
        shapeArb(0, 2),
        fc.integer({ min: 1, max: 3 }),
        fc.integer({ min: 1, max: 7 }),
        seedArb,
        fc.nat(),
        fc.nat(),
        (xShape, iShape, b, mask, seed, ta, ax) => {
          const rng = rngFrom(seed);
          const axis = ta % xShape.length;
          const n = xShape[axis]!;
          const uShape = [...xShape.slice(0, axis), ...iShape, ...xShape.slice(axis + 1)];
          const axes = [xShape, iShape, uShape].map((s, k) => ((mask >> k) & 1 ? (ax >> (2 * k)) % (s.length + 1) : null));
          const x = operand(rng, xShape, b, axes[0]!);
          const idx = operand(rng, iShape, b, axes[1]!, 'int32', (r, s) => randomInts(r, s, -n, n - 1));
          const upd = operand(rng, uShape, b, axes[2]!);
          checkVmap((t: Tensor, i: Tensor, u: Tensor) => np.scatterAdd(t, i, u, axis), [x, idx, upd], { inAxes: axes, size: b }, `axis=${axis}`);
        },
      ),
      { numRuns: 80 },
    );
  });

  it('nll / crossEntropy with mapped labels (gather with computed, batched indices)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 4 }), fc.integer({ min: 2, max: 4 }), fc.integer({ min: 1, max: 3 }), seedArb, (b, c, rows, seed) => {
        const rng = rngFrom(seed);
        const logits = randomTensor(rng, [b, rows, c]);
        const labels = randomInts(rng, [b, rows], 0, c - 1);
        checkVmap((l: Tensor, t: Tensor) => [nn.crossEntropy(l, t), nn.crossEntropy(l, t, 'none')], [logits, labels], { size: b });
      }),
      { numRuns: RUNS },
    );
  });

  it('take with a batched out-of-range index raises, as it does example by example', () => {
    const x = array([[1, 2], [3, 4]]);
    const idx = array([[2], [0]], 'int32'); // example 0 asks for index 2 of an axis of size 2
    expect(() => np.take(indexAxis(x, 0, 0), indexAxis(idx, 0, 0))).toThrow(/out of range/);
    expect(() => (vmap((t: Tensor, i: Tensor) => np.take(t, i))(x, idx) as Tensor).data()).toThrow(/out of range/);
    const below = array([[-3], [0]], 'int32');
    expect(() => (vmap((t: Tensor, i: Tensor) => np.take(t, i))(x, below) as Tensor).data()).toThrow(/out of range/);
    const upd = array([[1], [1]]);
    expect(() => (vmap((t: Tensor, i: Tensor, u: Tensor) => np.scatterAdd(t, i, u))(x, idx, upd) as Tensor).data()).toThrow(/out of range/);
  });
});

// ---------------------------------------------------------------- axes, pytrees, nesting

describe('vmap: in/out axes over pytrees', () => {
  it('pytrees in and out with a prefix axis spec', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 4 }), seedArb, fc.integer({ min: 0, max: 2 }), fc.integer({ min: -3, max: 1 }), (b, seed, xa, oa) => {
        const rng = rngFrom(seed);
        // params {b: [3] unmapped, w: [3,2] mapped at axis 1}, data [x: batch at xa of [2], y: batch at xa of [2]] (prefix spec for the array).
        const params = { w: randomTensor(rng, withBatch([3, 2], b, 1)), b: randomTensor(rng, [3]) };
        const xAxis = xa % 2;
        const data = [randomTensor(rng, withBatch([2], b, xAxis)), randomTensor(rng, withBatch([2], b, xAxis))];
        const f = (p: { w: Tensor; b: Tensor }, d: Tensor[]) => ({
          out: [np.matmul(p.w, d[0]!).add(p.b), p.b.mul(2)],
          total: np.matmul(p.w, d[1]!).sum(),
        });
        const outAxes = { out: [oa === -3 ? -1 : oa < 0 ? 0 : oa, null], total: 0 };
        checkVmap(f, [params, data], { inAxes: [{ w: 1, b: null }, xAxis], outAxes, size: b });
      }),
      { numRuns: RUNS },
    );
  });

  it('an output that does not depend on the mapped axis is broadcast (outAxes 0) or shared (outAxes null)', () => {
    const x = array([[1, 2], [3, 4], [5, 6]]);
    const c = array([7, 8]);
    const [broadcast, shared] = vmap((_x: Tensor) => [c.mul(2), c.mul(3)], { outAxes: [1, null] })(x) as Tensor[];
    expect(broadcast!.toArray()).toEqual([[14, 14, 14], [16, 16, 16]]);
    expect(shared!.toArray()).toEqual([21, 24]);
    // All inputs unmapped, size from axisSize.
    const out = vmap((t: Tensor) => t.add(1), { inAxes: null, axisSize: 2 })(c) as Tensor;
    expect(out.toArray()).toEqual([[8, 9], [8, 9]]);
    // Identity map returns the input (moved to the output axis).
    expect((vmap((t: Tensor) => t, { inAxes: 1, outAxes: 0 })(x) as Tensor).toArray()).toEqual([[1, 3, 5], [2, 4, 6]]);
    // Object keys missing from an object spec are unmapped.
    const o = vmap((a: { p: Tensor; q: Tensor }) => a.p.add(a.q), { inAxes: [{ p: 0 }] })({ p: x, q: c }) as Tensor;
    expect(o.toArray()).toEqual([[8, 10], [10, 12], [12, 14]]);
  });

  it('nested vmap (vmap of vmap) equals a double loop, with different axes at each level', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 3 }), seedArb, fc.nat(), (b1, b2, seed, ax) => {
        const rng = rngFrom(seed);
        // x: [b1, 3, b2] (outer axis 0, inner axis 1 of the example [3, b2]), w: [b2, 3, 2] (unmapped outside, inner axis 0), v: [b1, 2] (outer axis 0 or 1-> spelled -1, unmapped inside).
        const x = randomTensor(rng, [b1, 3, b2]);
        const w = randomTensor(rng, [b2, 3, 2]);
        const v = randomTensor(rng, ax % 2 ? [2, b1] : [b1, 2]);
        const inner = (xi: Tensor, wi: Tensor, vi: Tensor) => np.tanh(np.matmul(xi, wi)).mul(vi).sum();
        const innerV = vmap(inner, { inAxes: [1, 0, null] });
        const outer = vmap(innerV, { inAxes: [0, null, ax % 2 ? -1 : 0], outAxes: ax % 3 === 0 ? 1 : 0 });
        const got = outer(x, w, v) as Tensor;
        const rows: Tensor[] = [];
        for (let i = 0; i < b1; i++) {
          const xi = indexAxis(x, 0, i);
          const vi = indexAxis(v, ax % 2 ? -1 : 0, i);
          rows.push(np.stack(Array.from({ length: b2 }, (_, j) => inner(indexAxis(xi, 1, j), indexAxis(w, 0, j), vi))));
        }
        const expected = np.stack(rows, ax % 3 === 0 ? 1 : 0);
        const m = compareTrees(got, expected);
        if (m) throw new Error(m);
      }),
      { numRuns: RUNS },
    );
  });

  it('vmap of a jitted function and jit of a vmapped function', () => {
    const x = randomTensor(rngFrom(3), [4, 3]);
    const w = randomTensor(rngFrom(4), [3, 2]);
    const f = (xi: Tensor) => nn.sigmoid(np.matmul(xi, w)).sum();
    const expected = reference(f, [x], [0], 0, 4);
    expect(compareTrees(vmap(jit(f))(x), expected)).toBeNull();
    expect(compareTrees(jit(vmap(f))(x), expected)).toBeNull();
  });
});

describe('vmap: random programs', () => {
  it('vmap(program) equals stacking the program over examples, any in/out axes', () => {
    fc.assert(
      fc.property(seedArb, fc.integer({ min: 1, max: 3 }), fc.nat(), fc.nat(), fc.boolean(), (seed, b, ax, oa, f32) => {
        const p = generateProgram(seed, { dtype: f32 ? 'float32' : 'float64' });
        const f = buildProgram(p);
        const rng = rngFrom(seed ^ 0x5a5a);
        // Some inputs unmapped (when there are several), mapped ones at random positions.
        const axes = p.inputShapes.map((s, i) => (i > 0 && (ax >> (3 * i)) % 3 === 0 ? null : ((ax >> (3 * i)) % (s.length + 1)) - ((ax >> i) % 2 ? s.length + 1 : 0)));
        const xs = p.inputShapes.map((s, i) => operand(rng, s, b, axes[i]!, p.dtype));
        const outs = p.outputs.map((o) => p.shapes[o]!);
        const outAxes = outs.map((s, i) => ((oa >> (2 * i)) % (s.length + 1)));
        checkVmap(f, xs, { inAxes: axes, outAxes: outs.length === 1 ? outAxes[0]! : outAxes, size: b, tol: tolFor(p.dtype) }, describeProgram(p));
      }),
      { numRuns: 150 },
    );
  });
});

// ---------------------------------------------------------------- errors

describe('vmap: errors', () => {
  const x = array([[1, 2], [3, 4], [5, 6]]); // [3,2]
  const y = array([[1, 2], [3, 4]]); // [2,2]

  it('mismatched batch sizes name the sizes', () => {
    expect(() => vmap((a: Tensor, b: Tensor) => a.add(b))(x, y)).toThrow(/different sizes.*size 3.*size 2/);
    expect(() => vmap((a: Tensor, b: Tensor) => a.add(b), { inAxes: [1, 0] })(x, x)).toThrow(/size 2.*size 3/);
    expect(() => vmap((a: Tensor) => a, { axisSize: 5 })(x)).toThrow(/size 3.*axisSize 5/);
    expect(() => vmap((p: { a: Tensor; b: Tensor }) => p.a)({ a: x, b: y })).toThrow(/size 3.*size 2/);
  });

  it('an axis out of range', () => {
    expect(() => vmap((a: Tensor) => a, { inAxes: 2 })(x)).toThrow(/axis 2 is out of range for an array of rank 2/);
    expect(() => vmap((a: Tensor) => a, { inAxes: -3 })(x)).toThrow(/out of range/);
    expect(() => vmap((a: Tensor) => a, { outAxes: 2 })(x)).toThrow(/outAxes.*out of range/);
    expect(() => vmap((a: Tensor) => a.sum())(array(3))).toThrow(/scalar and cannot be mapped/);
  });

  it('inAxes with the wrong number of entries, or the wrong structure', () => {
    expect(() => vmap((a: Tensor, b: Tensor) => a.add(b), { inAxes: [0, 0, 0] })(x, x)).toThrow(/inAxes has 3 entries but the function got 2 arguments/);
    expect(() => vmap((a: Tensor[]) => a[0]!, { inAxes: [[0, 0, 0]] })([x, x])).toThrow(/does not match the structure/);
    expect(() => vmap((a: Tensor) => a, { outAxes: [0, 0] })(x)).toThrow(/outAxes.*does not match the structure/);
  });

  it('all inAxes null without axisSize', () => {
    expect(() => vmap((a: Tensor) => a.add(1), { inAxes: null })(x)).toThrow(/no argument is mapped.*axisSize/);
    expect(() => vmap((a: Tensor, b: Tensor) => a.add(b), { inAxes: [null, null] })(x, x)).toThrow(/axisSize/);
  });

  it('outAxes null for an output that varies over the mapped axis', () => {
    expect(() => vmap((a: Tensor) => a.mul(2), { outAxes: null })(x)).toThrow(/outAxes is null for output leaf 0.*varies/);
    expect(() => vmap((a: Tensor) => [a.sum(), a.mul(2)], { outAxes: [null, null] })(x)).toThrow(/output leaf 0/);
  });

  it('reading a value inside vmap, and a leaked tracer', () => {
    expect(() => vmap((a: Tensor) => a.sum().item())(x)).toThrow(/inside vmap/);
    let leaked: Tensor | null = null;
    vmap((a: Tensor) => {
      leaked = a;
      return a;
    })(x);
    expect(() => leaked!.add(1)).toThrow(/escaped the transformation/);
  });
});
