/**
 * Primitives that move elements without arithmetic: reshape, transpose, broadcast_in_dim, slice, pad,
 * concatenate, and the dtype/gradient plumbing convert_element_type and stop_gradient.
 */
import { type DType, assertDType, isFloat } from '../core/dtype.js';
import { type Shape, assertValidShape, broadcastShapes, formatShape, normalizeAxis, shapesEqual, sizeOf } from '../core/shape.js';
import { Tensor } from '../core/tensor.js';
import { type AbstractValue, type Primitive, bind } from '../core/trace.js';
import { reduceSum } from './reduce.js';
import { zerosLike } from './creation.js';

// ---------------------------------------------------------------- reshape
export const reshapePrim: Primitive<{ shape: number[] }> = {
  name: 'reshape',
  abstractEval([x], { shape }) {
    if (sizeOf(shape) !== sizeOf(x!.shape)) {
      throw new RangeError(`reshape: cannot reshape array of shape ${formatShape(x!.shape)} (${sizeOf(x!.shape)} elements) into shape ${formatShape(shape)}`);
    }
    return { shape, dtype: x!.dtype };
  },
  vjp: (ct, [x]) => [reshape(ct, x!.shape)],
  batch: ([x], [d], { shape }) => [reshape(moveAxis(x!, d!, 0), [x!.shape[d!]!, ...shape]), 0],
};

/**
 * Reshape to `shape`; one entry may be -1 (inferred). `jnp.reshape` (also `lax.reshape`).
 * @example np.reshape(np.arange(6), [2, -1])   // shape [2,3]
 */
export function reshape(x: Tensor, shape: readonly number[]): Tensor {
  const where = 'reshape';
  const infer = shape.indexOf(-1);
  if (shape.some((d, i) => !Number.isInteger(d) || (d < 0 && !(d === -1 && i === infer))) || shape.lastIndexOf(-1) !== infer) {
    throw new TypeError(`${where}: bad target shape ${formatShape(shape)}: use non-negative integers and at most one -1`);
  }
  let target = [...shape];
  if (infer >= 0) {
    const known = sizeOf(shape.filter((_, i) => i !== infer));
    if (known === 0 || x.size % known !== 0) {
      throw new RangeError(`${where}: cannot reshape array of shape ${formatShape(x.shape)} (${x.size} elements) into shape ${formatShape(shape)}`);
    }
    target[infer] = x.size / known;
  }
  if (shapesEqual(target, x.shape)) return x;
  return bind(reshapePrim, [x], { shape: target });
}

// ---------------------------------------------------------------- transpose
export const transposePrim: Primitive<{ perm: number[] }> = {
  name: 'transpose',
  abstractEval([x], { perm }) {
    return { shape: perm.map((p) => x!.shape[p]!), dtype: x!.dtype };
  },
  vjp: (ct, _inputs, _out, { perm }) => [transpose(ct, inversePermutation(perm))],
  batch: ([x], [d], { perm }) => [transpose(moveAxis(x!, d!, 0), [0, ...perm.map((p) => p + 1)]), 0],
};

export function inversePermutation(perm: readonly number[]): number[] {
  const inv = new Array<number>(perm.length);
  perm.forEach((p, i) => (inv[p] = i));
  return inv;
}

/**
 * Permute axes (`numpy.transpose`, `lax.transpose`): output axis i is input axis perm[i]; reverses all axes by
 * default.
 * @example np.transpose(np.zeros([2, 3, 4]), [2, 0, 1]).shape   // [4, 2, 3]
 */
export function transpose(x: Tensor, perm?: readonly number[]): Tensor {
  const n = x.ndim;
  const p = perm ? perm.map((a) => normalizeAxis(a, n, 'transpose')) : Array.from({ length: n }, (_, i) => n - 1 - i);
  if (p.length !== n || new Set(p).size !== n) {
    throw new RangeError(`transpose: axes ${JSON.stringify(perm)} are not a permutation of the ${n} axes of an array of shape ${formatShape(x.shape)}`);
  }
  if (p.every((a, i) => a === i)) return x;
  return bind(transposePrim, [x], { perm: p });
}

/**
 * Move one axis to a new position (`numpy.moveaxis`).
 * @example np.moveAxis(np.zeros([2, 3, 4]), 0, -1).shape   // [3, 4, 2]
 */
export function moveAxis(x: Tensor, source: number, destination: number): Tensor {
  const s = normalizeAxis(source, x.ndim, 'moveaxis');
  const d = normalizeAxis(destination, x.ndim, 'moveaxis');
  if (s === d) return x;
  const order = Array.from({ length: x.ndim }, (_, i) => i).filter((i) => i !== s);
  order.splice(d, 0, s);
  return transpose(x, order);
}

// ---------------------------------------------------------------- broadcast_in_dim
export const broadcastInDimPrim: Primitive<{ shape: number[]; dims: number[] }> = {
  name: 'broadcast_in_dim',
  abstractEval([x], { shape, dims }) {
    if (dims.length !== x!.shape.length) throw new RangeError(`broadcast_in_dim: ${dims.length} dims given for an operand of rank ${x!.shape.length}`);
    dims.forEach((d, i) => {
      const size = x!.shape[i]!;
      if (d < 0 || d >= shape.length || (size !== 1 && size !== shape[d]) || (i > 0 && d <= dims[i - 1]!)) {
        throw new RangeError(`broadcast_in_dim: cannot broadcast operand of shape ${formatShape(x!.shape)} to ${formatShape(shape)} with dims ${JSON.stringify(dims)}`);
      }
    });
    return { shape, dtype: x!.dtype };
  },
  vjp(ct, [x], _out, { shape, dims }) {
    // Sum over the output axes the operand did not have, and over the ones it had with size 1.
    const axes = shape.map((_, i) => i).filter((i) => !dims.includes(i) || (x!.shape[dims.indexOf(i)] === 1 && shape[i] !== 1));
    return [reshape(reduceSum(ct, axes), x!.shape)];
  },
  batch: ([x], [d], { shape, dims }) => [
    broadcastInDim(moveAxis(x!, d!, 0), [x!.shape[d!]!, ...shape], [0, ...dims.map((a) => a + 1)]),
    0,
  ],
};

/**
 * JAX's `lax.broadcast_in_dim`: operand axis i becomes output axis dims[i].
 * @example lax.broadcastInDim(array([1, 2]), [3, 2], [1])   // [[1, 2], [1, 2], [1, 2]]
 */
export function broadcastInDim(x: Tensor, shape: readonly number[], dims: readonly number[]): Tensor {
  if (shapesEqual(x.shape, shape)) return x;
  return bind(broadcastInDimPrim, [x], { shape: [...shape], dims: [...dims] });
}

/**
 * Broadcast to `shape` with NumPy's rules (trailing axes aligned), as `jnp.broadcast_to`.
 * @example np.broadcastTo(array([1, 2]), [3, 2])   // [[1, 2], [1, 2], [1, 2]]
 */
export function broadcastTo(x: Tensor, shape: readonly number[]): Tensor {
  assertValidShape(shape as number[], 'broadcastTo');
  const target = broadcastShapes('broadcastTo', x.shape, shape);
  if (!shapesEqual(target, shape)) {
    throw new RangeError(`broadcastTo: cannot broadcast shape ${formatShape(x.shape)} to ${formatShape(shape)}`);
  }
  const offset = shape.length - x.ndim;
  return broadcastInDim(x, shape, x.shape.map((_, i) => i + offset));
}

/** Sum a cotangent over broadcast axes so that it has `shape` again (same rank assumed). */
export function unbroadcast(ct: Tensor, shape: Shape): Tensor {
  if (shapesEqual(ct.shape, shape)) return ct;
  const axes = shape.map((d, i) => i).filter((i) => shape[i] === 1 && ct.shape[i] !== 1);
  return reshape(reduceSum(ct, axes), shape);
}

// ---------------------------------------------------------------- slice
export interface SliceParams {
  start: number[];
  limit: number[];
  step: number[];
}
export const slicePrim: Primitive<SliceParams> = {
  name: 'slice',
  abstractEval([x], { start, limit, step }) {
    const shape = x!.shape.map((n, i) => {
      const s = start[i]!, l = limit[i]!, st = step[i]!;
      if (!(0 <= s && s <= l && l <= n && st >= 1)) {
        throw new RangeError(`slice: start ${JSON.stringify(start)} limit ${JSON.stringify(limit)} step ${JSON.stringify(step)} do not fit shape ${formatShape(x!.shape)} (axis ${i})`);
      }
      return Math.ceil((l - s) / st);
    });
    return { shape, dtype: x!.dtype };
  },
  vjp(ct, [x], _out, { start, step }) {
    // Spread the cotangent back to its positions: interleave zeros for steps > 1, then pad the ends.
    let spread = ct;
    step.forEach((st, axis) => {
      if (st > 1) spread = interleaveZeros(spread, axis, st);
    });
    const lo = start;
    const hi = x!.shape.map((n, i) => n - lo[i]! - spread.shape[i]!);
    return [pad(spread, lo, hi, 0)];
  },
  batch: ([x], [d], { start, limit, step }) => {
    const b = moveAxis(x!, d!, 0);
    return [slice(b, [0, ...start], [b.shape[0]!, ...limit], [1, ...step]), 0];
  },
};

/** Insert `step - 1` zeros after each element along `axis` (dropping the trailing ones). */
function interleaveZeros(x: Tensor, axis: number, step: number): Tensor {
  const n = x.shape[axis]!;
  if (n === 0) return x;
  const expanded = reshape(x, [...x.shape.slice(0, axis + 1), 1, ...x.shape.slice(axis + 1)]);
  const zeroShape = [...expanded.shape];
  zeroShape[axis + 1] = step - 1;
  const withZeros = concatenate([expanded, zerosLike(expanded, zeroShape)], axis + 1);
  const merged = reshape(withZeros, [...x.shape.slice(0, axis), n * step, ...x.shape.slice(axis + 1)]);
  const limit = [...merged.shape];
  limit[axis] = (n - 1) * step + 1;
  return slice(merged, merged.shape.map(() => 0), limit);
}

/**
 * `lax.slice`: elements start[i] <= j < limit[i] with stride step[i] on each axis (NumPy's `x[start:limit:step]`).
 * @example lax.slice(np.arange(10), [1], [8], [3])   // [1, 4, 7]
 */
export function slice(x: Tensor, start: readonly number[], limit: readonly number[], step?: readonly number[]): Tensor {
  if (start.length !== x.ndim || limit.length !== x.ndim || (step && step.length !== x.ndim)) {
    throw new RangeError(`slice: start/limit/step must have one entry per axis of an array of shape ${formatShape(x.shape)}`);
  }
  const st = step ? [...step] : x.shape.map(() => 1);
  if (start.every((s) => s === 0) && limit.every((l, i) => l === x.shape[i]) && st.every((s) => s === 1)) return x;
  return bind(slicePrim, [x], { start: [...start], limit: [...limit], step: st });
}

// ---------------------------------------------------------------- pad
export interface PadParams {
  lo: number[];
  hi: number[];
  value: number;
}
export const padPrim: Primitive<PadParams> = {
  name: 'pad',
  abstractEval([x], { lo, hi }) {
    if (lo.length !== x!.shape.length || hi.length !== x!.shape.length || lo.some((v) => v < 0) || hi.some((v) => v < 0)) {
      throw new RangeError(`pad: widths lo ${JSON.stringify(lo)} hi ${JSON.stringify(hi)} must be non-negative, one per axis of shape ${formatShape(x!.shape)}`);
    }
    return { shape: x!.shape.map((n, i) => n + lo[i]! + hi[i]!), dtype: x!.dtype };
  },
  vjp: (ct, [x], _out, { lo }) => [slice(ct, lo, lo.map((l, i) => l + x!.shape[i]!))],
  batch: ([x], [d], { lo, hi, value }) => [pad(moveAxis(x!, d!, 0), [0, ...lo], [0, ...hi], value), 0],
};

/**
 * Pad each axis with `lo[i]` elements before and `hi[i]` after, all equal to `value` (`lax.pad` without
 * interior padding; `jnp.pad` with a constant).
 * @example lax.pad(array([1, 2]), [1], [2], 0)   // [0, 1, 2, 0, 0]
 */
export function pad(x: Tensor, lo: readonly number[], hi: readonly number[], value = 0): Tensor {
  if (lo.every((v) => v === 0) && hi.every((v) => v === 0)) return x;
  return bind(padPrim, [x], { lo: [...lo], hi: [...hi], value });
}

// ---------------------------------------------------------------- concatenate
export const concatenatePrim: Primitive<{ axis: number }> = {
  name: 'concatenate',
  abstractEval(xs, { axis }) {
    const first = xs[0]!;
    let total = 0;
    for (const [k, x] of xs.entries()) {
      if (x.dtype !== first.dtype) throw new TypeError(`concatenate: argument ${k} has dtype ${x.dtype}, argument 0 has ${first.dtype}`);
      if (x.shape.length !== first.shape.length || x.shape.some((d, i) => i !== axis && d !== first.shape[i])) {
        throw new RangeError(`concatenate: shapes ${xs.map((v) => formatShape(v.shape)).join(', ')} differ outside axis ${axis}`);
      }
      total += x.shape[axis]!;
    }
    const shape = [...first.shape];
    shape[axis] = total;
    return { shape, dtype: first.dtype };
  },
  vjp(ct, xs, _out, { axis }) {
    let offset = 0;
    return xs.map((x) => {
      const start = ct.shape.map(() => 0);
      const limit = [...ct.shape];
      start[axis] = offset;
      offset += x.shape[axis]!;
      limit[axis] = offset;
      return slice(ct, start, limit);
    });
  },
  batch(xs, dims, { axis }) {
    const size = xs[dims.findIndex((d) => d !== null)]!.shape[dims.find((d) => d !== null)!]!;
    const moved = xs.map((x, i) => (dims[i] === null ? broadcastInDim(x, [size, ...x.shape], x.shape.map((_, j) => j + 1)) : moveAxis(x, dims[i]!, 0)));
    return [bind(concatenatePrim, moved, { axis: axis + 1 }), 0];
  },
};

/**
 * Join arrays along an existing axis (`numpy.concatenate`, `lax.concatenate`). Dtypes must match.
 * @example np.concatenate([array([1, 2]), array([3])])   // [1, 2, 3]
 */
export function concatenate(xs: readonly Tensor[], axis = 0): Tensor {
  if (xs.length === 0) throw new RangeError('concatenate: need at least one array');
  const a = normalizeAxis(axis, xs[0]!.ndim, 'concatenate');
  if (xs.length === 1) return xs[0]!;
  return bind(concatenatePrim, [...xs], { axis: a });
}

// ---------------------------------------------------------------- convert_element_type
export const convertPrim: Primitive<{ dtype: DType }> = {
  name: 'convert_element_type',
  abstractEval: ([x], { dtype }) => ({ shape: x!.shape, dtype }),
  vjp: (ct, [x]) => [isFloat(x!.dtype) && isFloat(ct.dtype) ? astype(ct, x!.dtype) : null],
  batch: ([x], [d], params) => [bind(convertPrim, [x!], params), d!],
};

/**
 * Cast to another dtype (float→int truncates toward zero; anything→bool is `x != 0`): `x.astype(dtype)`,
 * `lax.convert_element_type` (exported as `lax.convertElementType`).
 * @example np.astype(array([1.5, 0]), 'bool')   // [true, false]
 */
export function astype(x: Tensor, dtype: DType): Tensor {
  assertDType(dtype, 'astype');
  return x.dtype === dtype ? x : bind(convertPrim, [x], { dtype });
}

// ---------------------------------------------------------------- stop_gradient
export const stopGradientPrim: Primitive<Record<string, never>> = {
  name: 'stop_gradient',
  abstractEval: ([x]) => x as AbstractValue,
  vjp: () => [null],
  batch: ([x], [d]) => [stopGradient(x!), d!],
};

/**
 * The identity, with a zero gradient: gradients do not flow through (`jax.lax.stop_gradient`).
 * @example grad((x) => np.stopGradient(x).mul(x).sum())(array([3]))   // [3], not [6]
 */
export function stopGradient(x: Tensor): Tensor {
  return bind(stopGradientPrim, [x], {});
}
