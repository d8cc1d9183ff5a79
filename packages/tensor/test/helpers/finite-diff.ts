/**
 * Gradient checking against central finite differences, shared by the gradient property tests.
 *
 * `checkGrad(f, args, options)` builds the scalar loss L(args) = Σ_leaves Σ f(args)_leaf · W_leaf with a fixed
 * random float64 weight W_leaf of each output leaf's shape (every output element matters, with a weight of
 * magnitude in [0.5, 1.5] and random sign), takes `grad(L, { argnums })`, and compares every element of every
 * differentiated leaf with the central difference
 *
 *     (L(x + h eᵢ) − L(x − h eᵢ)) / ((x + h eᵢ)ᵢ − (x − h eᵢ)ᵢ)
 *
 * where the denominator is the difference of the *stored* perturbed values (exactly 2h in float64; the true step
 * after rounding in float32). The numerator is accumulated as Σ W·(f₊ − f₋) element by element, which is the same
 * number as L₊ − L₋ but without the cancellation of two large sums.
 *
 * Arguments are pytrees (the `tree` module flattens and rebuilds them); `argnums` follows `grad`'s convention.
 * `checkJvp` does the same for forward mode: `jvp(f, primals, tangents)` against (f(x + h t) − f(x − h t)) / 2h.
 *
 * Also here: a seeded PRNG, value generators that stay inside a function's domain (positive, away from kinks,
 * tie-free), and fast-check arbitraries for shapes, broadcast-compatible shape tuples and axis subsets.
 */
import fc from 'fast-check';
import { type PyTree, Tensor, fromTypedArray, grad, jvp, numpy as np, tree } from '../../src/index.js';
import { type Rng, mulberry32 } from './rng.js';
export { type Rng, mulberry32 };

// ---------------------------------------------------------------- random numbers



export const sizeOf = (shape: readonly number[]): number => shape.reduce((n, d) => n * d, 1);

/** A float64 (or float32) tensor of `shape` whose elements are `gen(i)`. */
export function tensorFrom(shape: readonly number[], gen: (i: number) => number, dtype: 'float64' | 'float32' = 'float64'): Tensor {
  const n = sizeOf(shape);
  const data = dtype === 'float64' ? new Float64Array(n) : new Float32Array(n);
  for (let i = 0; i < n; i++) data[i] = gen(i);
  return fromTypedArray(data, shape, dtype);
}

/** Uniform values in [lo, hi). */
export function uniform(rng: Rng, shape: readonly number[], lo = -2, hi = 2, dtype: 'float64' | 'float32' = 'float64'): Tensor {
  return tensorFrom(shape, () => lo + (hi - lo) * rng(), dtype);
}

/** Values with |x| in [lo, hi) and a random sign: away from a kink at 0. */
export function awayFromZero(rng: Rng, shape: readonly number[], lo = 0.1, hi = 2): Tensor {
  return tensorFrom(shape, () => (rng() < 0.5 ? -1 : 1) * (lo + (hi - lo) * rng()));
}

/** Pairwise distinct values, at least ~0.2 apart (no ties for max/argmax, whatever the axes). */
export function distinct(rng: Rng, shape: readonly number[]): Tensor {
  const n = sizeOf(shape);
  const perm = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(rng() * (i + 1));
    [perm[i], perm[j]] = [perm[j]!, perm[i]!];
  }
  return tensorFrom(shape, (i) => (perm[i]! - n / 2) * 0.3 + 0.1 * rng());
}

/**
 * Values on one of two interleaved grids: grid 0 is {0.5k} and grid 1 is {0.5k + 0.25}, each with jitter of at most
 * ±0.05. Two arrays drawn from different grids are never closer than 0.15, whatever broadcasting pairs them with:
 * tie-free operands for maximum/minimum, and values kept away from clip bounds placed on the other grid.
 */
export function onGrid(rng: Rng, shape: readonly number[], grid: 0 | 1, range = 4): Tensor {
  return tensorFrom(shape, () => gridValue(rng, grid, range));
}
export function gridValue(rng: Rng, grid: 0 | 1, range = 4): number {
  const k = Math.floor(rng() * (2 * range + 1)) - range;
  return 0.5 * k + 0.25 * grid + 0.1 * (rng() - 0.5);
}

/** Random int32 indices in [lo, hi). */
export function intTensor(rng: Rng, shape: readonly number[], lo: number, hi: number): Tensor {
  const n = sizeOf(shape);
  const data = new Int32Array(n);
  for (let i = 0; i < n; i++) data[i] = lo + Math.floor(rng() * (hi - lo));
  return fromTypedArray(data, shape, 'int32');
}

/** Random booleans. */
export function boolTensor(rng: Rng, shape: readonly number[]): Tensor {
  const n = sizeOf(shape);
  const data = new Uint8Array(n);
  for (let i = 0; i < n; i++) data[i] = rng() < 0.5 ? 1 : 0;
  return fromTypedArray(data, shape, 'bool');
}

/** A random permutation of 0..n-1. */
export function permutation(rng: Rng, n: number): number[] {
  const p = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(rng() * (i + 1));
    [p[i], p[j]] = [p[j]!, p[i]!];
  }
  return p;
}

// ---------------------------------------------------------------- fast-check arbitraries

/** A shape of rank minRank..maxRank with dims 1..maxDim. */
export function shapeArb(minRank = 0, maxRank = 3, maxDim = 4): fc.Arbitrary<number[]> {
  return fc.array(fc.integer({ min: 1, max: maxDim }), { minLength: minRank, maxLength: maxRank });
}

/** A 32-bit seed for `mulberry32`. */
export const seedArb = fc.integer({ min: 0, max: 0x7fffffff });

/**
 * `count` shapes that broadcast together (NumPy rules): each is a suffix of a common base shape (so ranks differ)
 * with some axes set to 1. Returns the operand shapes and their broadcast shape.
 */
export function broadcastShapesArb(count: number, maxRank = 3): fc.Arbitrary<{ shapes: number[][]; out: number[] }> {
  // Mostly full rank (dropping leading axes less often), each axis set to 1 with probability 1/4.
  const drop = fc.constantFrom(...[0, 0, 0, 1, 1, 2, 3].filter((d) => d <= maxRank));
  const ones = fc.array(fc.integer({ min: 0, max: 3 }), { minLength: maxRank, maxLength: maxRank });
  return fc
    .record({
      base: shapeArb(0, maxRank),
      ops: fc.array(fc.record({ drop, ones }), { minLength: count, maxLength: count }),
    })
    .map(({ base, ops }) => {
      const shapes = ops.map(({ drop: k, ones: o }) => {
        const s = base.slice(Math.min(k, base.length));
        return s.map((d, i) => (o[i] === 0 ? 1 : d));
      });
      const rank = Math.max(0, ...shapes.map((s) => s.length));
      const out = Array.from({ length: rank }, (_, j) =>
        Math.max(1, ...shapes.map((s) => (j - (rank - s.length) >= 0 ? s[j - (rank - s.length)]! : 1))),
      );
      return { shapes, out };
    });
}

/** The axes selected by a bit mask (negative spelling when `negative`), or null for "all axes" when `mask` < 0. */
export function axesFromMask(rank: number, mask: number, negative: boolean): number[] | null {
  if (mask < 0) return null;
  const axes: number[] = [];
  for (let i = 0; i < rank; i++) if ((mask >> i) & 1) axes.push(negative ? i - rank : i);
  return axes;
}

// ---------------------------------------------------------------- the gradient checker

export interface GradCheckOptions {
  /** Which positional arguments to differentiate, as in `grad` (default 0). */
  argnums?: number | readonly number[];
  /** Finite-difference step, scaled by max(1, |x|) (default 1e-6). */
  eps?: number;
  /** Relative tolerance against |numeric| (default 1e-6). */
  rtol?: number;
  /** Absolute tolerance, times max(1, largest |numeric| of the check) (default 1e-6). */
  atol?: number;
  /** Seed of the random output weights W (default 1). */
  seed?: number;
  /**
   * Compare at most this many elements per input leaf (a seeded random subset that always includes the first and
   * last element); for large inputs, where one finite difference per element would be slow. Default: all.
   */
  elements?: number;
  /**
   * The analytic gradient under test, built from the scalar loss (default: `grad(loss, { argnums })`). The
   * checker's self-tests pass a deliberately wrong one here.
   */
  gradient?: (loss: (...args: any[]) => Tensor, argnums: number | readonly number[]) => (...args: any[]) => any;
}

export interface GradMismatch {
  argnum: number;
  leaf: number;
  index: number[];
  analytic: number;
  numeric: number;
}

export interface GradCheckResult {
  ok: boolean;
  /** Number of elements compared. */
  checked: number;
  /** Largest |analytic − numeric| / (atol·scale + rtol·|numeric|): below 1 passes. */
  worst: number;
  mismatches: GradMismatch[];
  /** Structural problems (gradient shape/dtype/structure differs from the input's). */
  problems: string[];
  report: string;
}

type Leaves = { leaves: Tensor[]; def: ReturnType<typeof tree.structure> };

function floatLeaves(t: PyTree, what: string): Leaves {
  const [leaves, def] = tree.flatten(t as PyTree<unknown>);
  leaves.forEach((l, i) => {
    if (!(l instanceof Tensor)) throw new TypeError(`checkGrad: ${what} leaf ${i} is not a Tensor`);
  });
  return { leaves: leaves as Tensor[], def };
}

function outputData(f: (...args: any[]) => any, args: readonly unknown[]): Float64Array[] {
  const { leaves } = floatLeaves(f(...args), 'output');
  return leaves.map((l) => Float64Array.from(l.data() as ArrayLike<number>));
}

function unravel(index: number, shape: readonly number[]): number[] {
  const out = new Array<number>(shape.length);
  for (let i = shape.length - 1; i >= 0; i--) {
    out[i] = index % shape[i]!;
    index = Math.floor(index / shape[i]!);
  }
  return out;
}

function weightsFor(outs: readonly Tensor[], seed: number): Tensor[] {
  const rng = mulberry32(seed * 7919 + 17);
  return outs.map((o) => tensorFrom(o.shape, () => (rng() < 0.5 ? -1 : 1) * (0.5 + rng())));
}

const describeArg = (a: unknown): string =>
  a instanceof Tensor ? `${a.dtype}[${a.shape.join(',')}]` : Array.isArray(a) || (a && typeof a === 'object') ? JSON.stringify(tree.map((l: unknown) => (l instanceof Tensor ? `${l.dtype}[${l.shape.join(',')}]` : l), a as PyTree<unknown>)) : String(a);

function elementSubset(n: number, max: number | undefined, seed: number): number[] {
  const all = Array.from({ length: n }, (_, i) => i);
  if (max === undefined || n <= max) return all;
  const rng = mulberry32(seed);
  const rest = permutation(rng, n - 2).map((i) => i + 1).slice(0, Math.max(0, max - 2));
  return [0, ...rest.sort((p, q) => p - q), n - 1];
}

/** The scalar loss Σ f(args)·W (traceable), with W fixed from f's output at `args`. */
export function weightedLoss(f: (...args: any[]) => PyTree, args: readonly unknown[], seed = 1): { loss: (...args: any[]) => Tensor; weights: Tensor[] } {
  const outs = floatLeaves(f(...args), 'output').leaves;
  outs.forEach((o, i) => {
    if (o.dtype !== 'float64' && o.dtype !== 'float32') throw new TypeError(`checkGrad: output leaf ${i} has dtype ${o.dtype}; gradients need float outputs`);
  });
  const weights = weightsFor(outs, seed);
  const loss = (...a: any[]): Tensor => {
    const { leaves } = floatLeaves(f(...a), 'output');
    if (leaves.length !== weights.length) throw new Error(`checkGrad: f returned ${leaves.length} leaves, expected ${weights.length}`);
    let total: Tensor | null = null;
    leaves.forEach((o, k) => {
      const term = np.sum(np.multiply(o, weights[k]!));
      total = total === null ? term : np.add(total, term);
    });
    return total ?? tensorFrom([], () => 0);
  };
  return { loss, weights };
}

/**
 * Compare the gradient of L = Σ f(args)·W with central finite differences, element by element.
 * @example checkGrad((x, y) => np.multiply(x, y), [x, y], { argnums: [0, 1] })
 */
export function checkGrad(f: (...args: any[]) => PyTree, args: readonly unknown[], options: GradCheckOptions = {}): GradCheckResult {
  const { argnums = 0, eps = 1e-6, rtol = 1e-6, atol = 1e-6, seed = 1 } = options;
  const nums = (typeof argnums === 'number' ? [argnums] : [...argnums]).map((a) => (a < 0 ? a + args.length : a));
  const { loss, weights } = weightedLoss(f, args, seed);
  const w = weights.map((t) => Float64Array.from(t.data() as ArrayLike<number>));
  const makeGrad = options.gradient ?? ((l, a) => grad(l, { argnums: a }));
  const g = makeGrad(loss, argnums)(...args);
  const grads: unknown[] = typeof argnums === 'number' ? [g] : (g as unknown[]);
  const problems: string[] = [];
  if (!Array.isArray(grads) || grads.length !== nums.length) problems.push(`expected ${nums.length} gradients, got ${Array.isArray(grads) ? grads.length : typeof grads}`);

  type Cmp = { argnum: number; leaf: number; index: number[]; analytic: number; numeric: number };
  const cmps: Cmp[] = [];
  nums.forEach((a, k) => {
    const { leaves: inLeaves, def } = floatLeaves(args[a] as PyTree, `argument ${a}`);
    const gt = grads[k] as PyTree | undefined;
    let gLeaves: Tensor[] = [];
    if (gt === undefined) problems.push(`no gradient for argument ${a}`);
    else {
      const fl = floatLeaves(gt, `gradient ${a}`);
      if (!tree.treeDefEqual(fl.def, def)) problems.push(`gradient of argument ${a} has structure ${tree.treeDefToString(fl.def)}, the argument ${tree.treeDefToString(def)}`);
      gLeaves = fl.leaves;
    }
    inLeaves.forEach((x, j) => {
      const gl = gLeaves[j];
      if (!gl) return;
      if (gl.shape.join(',') !== x.shape.join(',')) problems.push(`gradient of argument ${a} leaf ${j} has shape [${gl.shape}], the input [${x.shape}]`);
      if (gl.dtype !== x.dtype) problems.push(`gradient of argument ${a} leaf ${j} has dtype ${gl.dtype}, the input ${x.dtype}`);
      if (gl.shape.join(',') !== x.shape.join(',')) return;
      const gd = gl.data();
      const base = x.data();
      for (const i of elementSubset(base.length, options.elements, seed + 31 * j + 977 * a)) {
        const h = eps * Math.max(1, Math.abs(base[i]!));
        const plus = base.slice();
        const minus = base.slice();
        plus[i] = base[i]! + h;
        minus[i] = base[i]! - h;
        const step = plus[i]! - minus[i]!;
        const perturbed = (d: typeof base): unknown[] => {
          const ls = inLeaves.slice();
          ls[j] = fromTypedArray(d, x.shape, x.dtype);
          const out = args.slice();
          out[a] = tree.unflatten(def, ls);
          return out;
        };
        const fp = outputData(f, perturbed(plus));
        const fm = outputData(f, perturbed(minus));
        let diff = 0;
        fp.forEach((p, o) => {
          const m = fm[o]!;
          const wo = w[o]!;
          for (let e = 0; e < p.length; e++) diff += wo[e]! * (p[e]! - m[e]!);
        });
        cmps.push({ argnum: a, leaf: j, index: unravel(i, x.shape), analytic: gd[i]!, numeric: diff / step });
      }
    });
  });

  const scale = Math.max(1, ...cmps.map((c) => (Number.isFinite(c.numeric) ? Math.abs(c.numeric) : 0)));
  let worst = 0;
  const mismatches: GradMismatch[] = [];
  for (const c of cmps) {
    const allowed = atol * scale + rtol * Math.abs(c.numeric);
    const err = Math.abs(c.analytic - c.numeric);
    const ratio = Number.isFinite(c.analytic) && Number.isFinite(c.numeric) ? err / allowed : Infinity;
    worst = Math.max(worst, ratio);
    if (!(ratio <= 1)) mismatches.push(c);
  }
  const ok = problems.length === 0 && mismatches.length === 0 && cmps.length > 0;
  const lines = [
    `gradient check ${ok ? 'passed' : 'FAILED'}: ${cmps.length} elements, worst error ${worst.toPrecision(3)}x tolerance (rtol ${rtol}, atol ${atol}·${scale.toPrecision(3)})`,
    `arguments: ${args.map(describeArg).join(', ')}; argnums ${JSON.stringify(argnums)}`,
    ...problems,
    ...(cmps.length === 0 ? ['no elements were compared'] : []),
    ...mismatches.slice(0, 12).map((m) => `  arg ${m.argnum} leaf ${m.leaf} at [${m.index}]: analytic ${m.analytic}, numeric ${m.numeric}`),
    ...(mismatches.length > 12 ? [`  ... and ${mismatches.length - 12} more`] : []),
  ];
  return { ok, checked: cmps.length, worst, mismatches, problems, report: lines.join('\n') };
}

/** `checkGrad`, throwing its report when the check fails (for use inside fast-check properties). */
export function expectGrad(f: (...args: any[]) => PyTree, args: readonly unknown[], options: GradCheckOptions = {}): GradCheckResult {
  const r = checkGrad(f, args, options);
  if (!r.ok) throw new Error(r.report);
  return r;
}

// ---------------------------------------------------------------- forward mode

export interface JvpCheckOptions {
  eps?: number;
  rtol?: number;
  atol?: number;
  /** Seed of the random tangents (default 2). */
  seed?: number;
}

/**
 * Compare `jvp(f, primals, tangents)` with (f(x + h t) − f(x − h t)) / 2h for random float64 tangents t (one per
 * primal leaf), on every output element.
 */
export function checkJvp(f: (...args: any[]) => PyTree, primals: readonly PyTree[], options: JvpCheckOptions = {}): GradCheckResult {
  const { eps = 1e-6, rtol = 1e-6, atol = 1e-6, seed = 2 } = options;
  const rng = mulberry32(seed * 104729 + 3);
  const { leaves, def } = floatLeaves(primals as PyTree, 'primal');
  const tangentLeaves = leaves.map((l) => uniform(rng, l.shape, -1, 1));
  const tangents = tree.unflatten(def, tangentLeaves) as PyTree[];
  const [, tOut] = jvp(f, primals, tangents);
  const analytic = floatLeaves(tOut, 'jvp output').leaves.map((t) => t.data());
  const shift = (sgn: number): PyTree[] =>
    tree.unflatten(
      def,
      leaves.map((l, k) => {
        const d = Float64Array.from(l.data() as ArrayLike<number>);
        const t = tangentLeaves[k]!.data();
        for (let i = 0; i < d.length; i++) d[i] = d[i]! + sgn * eps * t[i]!;
        return fromTypedArray(d, l.shape, 'float64');
      }),
    ) as PyTree[];
  const fp = outputData(f, shift(1));
  const fm = outputData(f, shift(-1));
  const cmps: GradMismatch[] = [];
  const problems: string[] = [];
  if (fp.length !== analytic.length) problems.push(`jvp returned ${analytic.length} output tangents, f has ${fp.length} outputs`);
  fp.forEach((p, o) => {
    const a = analytic[o];
    if (!a || a.length !== p.length) return void problems.push(`output tangent ${o} has ${a?.length} elements, the output ${p.length}`);
    for (let e = 0; e < p.length; e++) cmps.push({ argnum: 0, leaf: o, index: [e], analytic: a[e]!, numeric: (p[e]! - fm[o]![e]!) / (2 * eps) });
  });
  const scale = Math.max(1, ...cmps.map((c) => Math.abs(c.numeric)));
  let worst = 0;
  const mismatches = cmps.filter((c) => {
    const ratio = Math.abs(c.analytic - c.numeric) / (atol * scale + rtol * Math.abs(c.numeric));
    worst = Math.max(worst, Number.isFinite(ratio) ? ratio : Infinity);
    return !(ratio <= 1);
  });
  const ok = problems.length === 0 && mismatches.length === 0 && cmps.length > 0;
  const report = [
    `jvp check ${ok ? 'passed' : 'FAILED'}: ${cmps.length} elements, worst error ${worst.toPrecision(3)}x tolerance`,
    ...problems,
    ...mismatches.slice(0, 12).map((m) => `  output ${m.leaf} element ${m.index[0]}: jvp ${m.analytic}, numeric ${m.numeric}`),
  ].join('\n');
  return { ok, checked: cmps.length, worst, mismatches, problems, report };
}

export function expectJvp(f: (...args: any[]) => PyTree, primals: readonly PyTree[], options: JvpCheckOptions = {}): GradCheckResult {
  const r = checkJvp(f, primals, options);
  if (!r.ok) throw new Error(r.report);
  return r;
}

/** Every element of every leaf is exactly zero (±0). */
export function allExactlyZero(t: PyTree): boolean {
  return floatLeaves(t, 'value').leaves.every((l) => Array.from(l.data() as ArrayLike<number>).every((v) => v === 0));
}
