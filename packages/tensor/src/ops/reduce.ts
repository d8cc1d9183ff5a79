/** Reductions over axes: reduce_sum, reduce_max and argmax, and their NumPy-style wrappers. */
import { type Shape, formatShape, normalizeAxes, normalizeAxis } from '../core/shape.js';
import { Tensor } from '../core/tensor.js';
import { type Primitive, bind } from '../core/trace.js';
import { astype, broadcastInDim, moveAxis, reshape } from './structural.js';
import { divide, equal, logicalNot, multiply, negative } from './elementwise.js';

function reducedShape(shape: Shape, axes: readonly number[], where: string): number[] {
  for (const a of axes) if (a < 0 || a >= shape.length) throw new RangeError(`${where}: axis ${a} out of range for shape ${formatShape(shape)}`);
  return shape.filter((_, i) => !axes.includes(i));
}

/** Put a reduced value back where its axes were (size 1) and broadcast it to `shape`. */
function expandBack(y: Tensor, shape: Shape, axes: readonly number[]): Tensor {
  const kept = shape.map((_, i) => i).filter((i) => !axes.includes(i));
  return broadcastInDim(y, shape, kept);
}

/** Where the batch axis of an input lands after removing `axes` (the batch axis itself is kept). */
function batchReduce(prim: Primitive<{ axes: number[] }>, x: Tensor, d: number, axes: readonly number[]): [Tensor, number] {
  const moved = moveAxis(x, d, 0);
  return [bind(prim, [moved], { axes: axes.map((a) => a + 1) }), 0];
}

export const reduceSumPrim: Primitive<{ axes: number[] }> = {
  name: 'reduce_sum',
  abstractEval: ([x], { axes }) => ({ shape: reducedShape(x!.shape, axes, 'sum'), dtype: x!.dtype }),
  vjp: (ct, [x], _out, { axes }) => [expandBack(ct, x!.shape, axes)],
  batch: ([x], [d], { axes }) => batchReduce(reduceSumPrim, x!, d!, axes),
};

export const reduceMaxPrim: Primitive<{ axes: number[] }> = {
  name: 'reduce_max',
  abstractEval: ([x], { axes }) => ({ shape: reducedShape(x!.shape, axes, 'max'), dtype: x!.dtype }),
  vjp(ct, [x], out, { axes }) {
    // The gradient goes to the maxima, shared equally between ties (as JAX does).
    const isMax = astype(equal(x!, expandBack(out, x!.shape, axes)), ct.dtype);
    const count = reduceSum(isMax, axes);
    return [multiply(isMax, expandBack(divide(ct, count), x!.shape, axes))];
  },
  batch: ([x], [d], { axes }) => batchReduce(reduceMaxPrim, x!, d!, axes),
};

export const argmaxPrim: Primitive<{ axis: number }> = {
  name: 'argmax',
  abstractEval: ([x], { axis }) => ({ shape: reducedShape(x!.shape, [axis], 'argmax'), dtype: 'int32' }),
  batch: ([x], [d], { axis }) => [bind(argmaxPrim, [moveAxis(x!, d!, 0)], { axis: axis + 1 }), 0],
};

/**
 * `lax.reduce_sum`: sum over already-normalised axes (non-negative, no keepdims, no dtype change).
 * @example lax.reduceSum(array([[1, 2], [3, 4]]), [0])   // [4, 6]
 */
export function reduceSum(x: Tensor, axes: readonly number[]): Tensor {
  if (axes.length === 0) return x;
  return bind(reduceSumPrim, [x], { axes: [...axes].sort((a, b) => a - b) });
}

function keep(y: Tensor, x: Tensor, axes: readonly number[], keepdims: boolean): Tensor {
  return keepdims ? reshape(y, x.shape.map((d, i) => (axes.includes(i) ? 1 : d))) : y;
}

/**
 * Sum over `axis` (all axes by default), as `jnp.sum`. Bools and ints sum as int32.
 * @example sum(x, 1, true)
 */
export function sum(x: Tensor, axis?: number | readonly number[] | null, keepdims = false): Tensor {
  const axes = normalizeAxes(axis, x.ndim, 'sum');
  const xs = x.dtype === 'bool' ? astype(x, 'int32') : x;
  return keep(reduceSum(xs, axes), x, axes, keepdims);
}

/**
 * Maximum over `axis` (all axes by default), as `jnp.max`.
 * @example np.max(array([[1, 5], [3, 4]]), 0)   // [3, 5]
 */
export function max(x: Tensor, axis?: number | readonly number[] | null, keepdims = false): Tensor {
  const axes = normalizeAxes(axis, x.ndim, 'max');
  if (axes.some((a) => x.shape[a] === 0)) throw new RangeError(`max: zero-size reduction over axis of shape ${formatShape(x.shape)} has no identity`);
  const y = axes.length === 0 ? x : bind(reduceMaxPrim, [x], { axes });
  return keep(y, x, axes, keepdims);
}

/**
 * Minimum over `axis` (all axes by default), as `jnp.min`.
 * @example np.min(array([[1, 5], [3, 4]]), 1, true)   // [[1], [3]]
 */
export function min(x: Tensor, axis?: number | readonly number[] | null, keepdims = false): Tensor {
  if (x.dtype === 'bool') return astype(negative(max(negative(astype(x, 'int32')), axis, keepdims)), 'bool');
  // Bitwise not (-x - 1) reverses int32 order without overflow; negation maps -2^31 to itself.
  if (x.dtype === 'int32') return logicalNot(max(logicalNot(x), axis, keepdims));
  return negative(max(negative(x), axis, keepdims));
}

/**
 * Index of the first maximum along `axis` (of the flattened array when omitted), as int32 (`jnp.argmax`).
 * @example np.argmax(array([[1, 5], [3, 4]]))   // 1 (int32, 0-d)
 */
export function argmax(x: Tensor, axis?: number | null): Tensor {
  if (axis === undefined || axis === null) return argmax(reshape(x, [-1]), 0);
  const a = normalizeAxis(axis, x.ndim, 'argmax');
  if (x.shape[a] === 0) throw new RangeError(`argmax: attempt to get argmax of an empty axis (shape ${formatShape(x.shape)})`);
  return bind(argmaxPrim, [x], { axis: a });
}

/**
 * Index of the first minimum along `axis` (of the flattened array when omitted), as int32 (`jnp.argmin`).
 * @example np.argmin(array([[1, 5], [3, 0]]), 1)   // int32 [0, 1]
 */
export function argmin(x: Tensor, axis?: number | null): Tensor {
  if (axis !== undefined && axis !== null) normalizeAxis(axis, x.ndim, 'argmin');
  // Flip the order (bitwise not for int32: negation overflows at -2^31), then take the first maximum.
  const flipped = x.dtype === 'bool' ? negative(astype(x, 'int32')) : x.dtype === 'int32' ? logicalNot(x) : negative(x);
  return argmax(flipped, axis);
}

/**
 * Mean over `axis` (all axes by default), as `jnp.mean`; ints and bools average as float32.
 * @example np.mean(array([[1, 2], [3, 4]]), 0)   // [2, 3]
 */
export function mean(x: Tensor, axis?: number | readonly number[] | null, keepdims = false): Tensor {
  const axes = normalizeAxes(axis, x.ndim, 'mean');
  const xf = x.dtype === 'float64' || x.dtype === 'float32' ? x : astype(x, 'float32');
  const count = axes.reduce((n, a) => n * x.shape[a]!, 1);
  return divide(sum(xf, axes, keepdims), count);
}
