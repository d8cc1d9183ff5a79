/**
 * `np`: NumPy's names over xs. The primitives' wrappers are re-exported as they are; everything defined here
 * is composed from them, so it needs no kernel and no derivative rule of its own.
 *
 * The counterpart of `jax.numpy`, with camelCase names (`expand_dims` is `expandDims`, `var` is also
 * `variance`) and NumPy broadcasting and dtype promotion.
 * @packageDocumentation
 * @example
 * import { numpy as np } from '@xs/tensor';
 * const x = np.arange(6).reshape(2, 3);
 * np.mean(np.square(x), 1);   // [1.66667, 16.6667]
 */
import type { DType } from '../core/dtype.js';
import { broadcastShapes, formatShape, normalizeAxes, normalizeAxis } from '../core/shape.js';
import { type ArrayLike, Tensor } from '../core/tensor.js';
import { abs, add, divide, exp, equal, lessEqual, log, maximum, minimum, multiply, sqrt, subtract, where } from '../ops/elementwise.js';
import { max, mean, min, sum } from '../ops/reduce.js';
import { arange } from '../ops/creation.js';
import { astype, broadcastTo, concatenate, reshape, slice, stopGradient } from '../ops/structural.js';
import { checkArrayLike } from '../ops/convert.js';

export {
  negative, exp, log, log1p, expm1, sin, cos, tanh, logistic, sqrt, abs, sign, floor, ceil, round, logicalNot,
  add, subtract, multiply, divide, truncDivide, power, maximum, minimum, arctan2, logicalAnd, logicalOr,
  equal, notEqual, less, lessEqual, greater, greaterEqual, where,
} from '../ops/elementwise.js';
export { sum, max, min, mean, argmax, argmin } from '../ops/reduce.js';
export { zeros, ones, full, zerosLike, onesLike, arange, linspace, eye } from '../ops/creation.js';
export { reshape, transpose, moveAxis, broadcastTo, broadcastInDim, concatenate, slice, pad, astype, stopGradient } from '../ops/structural.js';
export { matmul, dot, dotGeneral, tensordot, outer } from '../ops/dot.js';
export { take, scatterAdd } from '../ops/indexing.js';
export { array } from '../core/tensor.js';

/** x², as `jnp.square`. @example square(array([3])) // 9 */
export const square = (x: ArrayLike): Tensor => multiply(x, x);
/** 1 / x, as `jnp.reciprocal`. @example reciprocal(array([4])) // 0.25 */
export const reciprocal = (x: ArrayLike): Tensor => divide(1, x);
/** Alias of `moveAxis` with NumPy's spelling. */
export { moveAxis as moveaxis } from '../ops/structural.js';

/** Variance over `axis` with `ddof` delta degrees of freedom (`numpy.var`). @example variance(x, 0) */
export function variance(x: Tensor, axis?: number | readonly number[] | null, keepdims = false, ddof = 0): Tensor {
  const axes = normalizeAxes(axis, x.ndim, 'var');
  const centered = subtract(x, mean(x, axes, true));
  const n = axes.reduce((k, a) => k * x.shape[a]!, 1);
  return divide(sum(multiply(centered, centered), axes, keepdims), Math.max(n - ddof, 0));
}
export { variance as var };

/** Standard deviation (`numpy.std`). @example std(x) */
export function std(x: Tensor, axis?: number | readonly number[] | null, keepdims = false, ddof = 0): Tensor {
  return sqrt(variance(x, axis, keepdims, ddof));
}

/**
 * log(sum(exp(x))) over `axis`, computed stably (the max is subtracted first, with no gradient through it), as
 * `jax.scipy.special.logsumexp`.
 * @example np.logsumexp(array([0, 0]))   // log(2) = 0.693147
 */
export function logsumexp(x: Tensor, axis?: number | readonly number[] | null, keepdims = false): Tensor {
  const axes = normalizeAxes(axis, x.ndim, 'logsumexp');
  const m = stopGradient(max(x, axes, true));
  // An all -inf slice would give (-inf) - (-inf) = NaN; shift by 0 there instead.
  const shift = where(equal(m, -Infinity), 0, m);
  const s = log(sum(exp(subtract(x, shift)), axes, true));
  const out = add(s, shift);
  return keepdims ? out : reshape(out, x.shape.filter((_, i) => !axes.includes(i)));
}

/** Insert a size-1 axis at `axis` (`numpy.expand_dims`). @example expandDims(x, 0) */
export function expandDims(x: Tensor, axis: number): Tensor {
  const a = normalizeAxis(axis, x.ndim + 1, 'expandDims');
  return reshape(x, [...x.shape.slice(0, a), 1, ...x.shape.slice(a)]);
}

/** Remove size-1 axes (all of them, or the given ones, which must have size 1), as `numpy.squeeze`. @example squeeze(x) */
export function squeeze(x: Tensor, axis?: number | readonly number[] | null): Tensor {
  const axes = axis === undefined || axis === null ? x.shape.map((d, i) => (d === 1 ? i : -1)).filter((i) => i >= 0) : normalizeAxes(axis, x.ndim, 'squeeze');
  for (const a of axes) if (x.shape[a] !== 1) throw new RangeError(`squeeze: axis ${a} of shape ${formatShape(x.shape)} has size ${x.shape[a]}, not 1`);
  return reshape(x, x.shape.filter((_, i) => !axes.includes(i)));
}

/** Flatten to 1-D (`numpy.ravel`). @example np.ravel(array([[1, 2], [3, 4]]))   // [1, 2, 3, 4] */
export const ravel = (x: Tensor): Tensor => reshape(x, [-1]);

/** Join arrays along a new axis (`numpy.stack`). @example stack([a, b], 0) */
export function stack(xs: readonly Tensor[], axis = 0): Tensor {
  if (xs.length === 0) throw new RangeError('stack: need at least one array');
  const first = xs[0]!;
  xs.forEach((x, i) => {
    if (formatShape(x.shape) !== formatShape(first.shape)) throw new RangeError(`stack: array ${i} has shape ${formatShape(x.shape)}, array 0 has ${formatShape(first.shape)}`);
  });
  const a = normalizeAxis(axis, first.ndim + 1, 'stack');
  return concatenate(xs.map((x) => expandDims(x, a)), a);
}

/**
 * Split along `axis` into `sections` equal parts, or at the given indices (`numpy.split`).
 * @example split(x, 2, 1)        // two halves of the columns
 * @example split(x, [20], 0)     // rows [0,20) and [20,end)
 */
export function split(x: Tensor, sections: number | readonly number[], axis = 0): Tensor[] {
  const a = normalizeAxis(axis, x.ndim, 'split');
  const n = x.shape[a]!;
  let cuts: number[];
  if (typeof sections === 'number') {
    if (!Number.isInteger(sections) || sections <= 0 || n % sections !== 0) {
      throw new RangeError(`split: axis ${a} of size ${n} cannot be split into ${sections} equal sections`);
    }
    cuts = Array.from({ length: sections - 1 }, (_, i) => ((i + 1) * n) / sections);
  } else cuts = [...sections];
  const bounds = [0, ...cuts.map((c) => Math.min(Math.max(c, 0), n)), n];
  const parts: Tensor[] = [];
  for (let i = 0; i + 1 < bounds.length; i++) {
    const start = x.shape.map(() => 0);
    const limit = [...x.shape];
    start[a] = bounds[i]!;
    limit[a] = Math.max(bounds[i]!, bounds[i + 1]!);
    parts.push(slice(x, start, limit));
  }
  return parts;
}

/** Limit values to [lo, hi] (`numpy.clip`); either bound may be null. @example clip(x, 0, 1) */
export function clip(x: Tensor, lo: ArrayLike | null, hi: ArrayLike | null): Tensor {
  let out = x;
  if (lo !== null) out = maximum(out, checkArrayLike(lo, 'clip'));
  if (hi !== null) out = minimum(out, checkArrayLike(hi, 'clip'));
  return out;
}

/**
 * One-hot encoding: `labels` (int) → an array with a new last axis of length `numClasses` (`jax.nn.one_hot`).
 * Labels outside [0, numClasses) give all-zero rows, as in JAX.
 * @example oneHot(array([0, 2], 'int32'), 3)   // [[1,0,0],[0,0,1]]
 */
export function oneHot(labels: Tensor, numClasses: number, dtype: DType = 'float32'): Tensor {
  if (!Number.isInteger(numClasses) || numClasses <= 0) throw new RangeError(`oneHot: numClasses must be a positive integer, got ${numClasses}`);
  if (labels.dtype !== 'int32') throw new TypeError(`oneHot: labels must be int32, got ${labels.dtype}`);
  const classes = arange(0, numClasses, 1, 'int32', labels.placement());
  return astype(equal(reshape(labels, [...labels.shape, 1]), classes), dtype);
}

/**
 * Elementwise |a - b| <= atol + rtol |b| (`numpy.isclose`), as a bool array.
 * @example np.isclose(array([1, 2]), array([1 + 1e-7, 2.1]))   // [true, false]
 */
export function isclose(a: ArrayLike, b: ArrayLike, rtol = 1e-5, atol = 1e-8): Tensor {
  return lessEqual(abs(subtract(a, b)), add(atol, multiply(rtol, abs(b))));
}

/**
 * True when every element is close (`numpy.allclose`), as a JS boolean.
 * @example np.allclose(array([0.1 + 0.2]), 0.3)   // true
 */
export function allclose(a: ArrayLike, b: ArrayLike, rtol = 1e-5, atol = 1e-8): boolean {
  return min(isclose(a, b, rtol, atol)).item() as boolean;
}

/**
 * Broadcast arrays against each other (`numpy.broadcast_arrays`).
 * @example const [a, b] = np.broadcastArrays(np.zeros([3, 1]), np.zeros([4]));   // both shape [3,4]
 */
export function broadcastArrays(...xs: Tensor[]): Tensor[] {
  const shape = broadcastShapes('broadcastArrays', ...xs.map((x) => x.shape));
  return xs.map((x) => broadcastTo(x, shape));
}
