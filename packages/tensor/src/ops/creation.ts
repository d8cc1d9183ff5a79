/**
 * Arrays made from nothing: zeros, ones, full, arange, linspace, eye. Always concrete, on the default backend
 * unless a backend is given; `zerosLike`/`onesLike` go to their operand's backend (see `Tensor.placement`), so
 * the zeros that gradients start from live with the arrays they are added to.
 */
import { type DType, allocate, assertDType } from '../core/dtype.js';
import { assertValidShape } from '../core/shape.js';
import { Tensor, fromTypedArray } from '../core/tensor.js';
import { broadcastInDim } from './structural.js';
import { scalar } from './convert.js';
import { type Backend, getBackend } from '../backends/backend.js';

/** A backend given by name or object; `undefined` means the default backend. */
export type BackendArg = Backend | string | undefined;

function resolveBackend(b: BackendArg): Backend {
  return typeof b === 'string' ? getBackend(b) : (b ?? getBackend());
}

function shapeArg(shape: number | readonly number[], where: string): number[] {
  return assertValidShape(typeof shape === 'number' ? [shape] : [...shape], where);
}

/**
 * An array of `shape` filled with `value` (`jnp.full`); the dtype defaults to `bool` for a boolean value,
 * `float32` otherwise.
 * `backend` (a name or a Backend) places it; the default backend otherwise.
 * @example full([2, 3], 7)   // 2x3 float32 sevens
 * @example full([2, 3], 7, 'float32', 'gpu')
 */
export function full(shape: number | readonly number[], value: number | boolean, dtype: DType = typeof value === 'boolean' ? 'bool' : 'float32', backend?: BackendArg): Tensor {
  assertDType(dtype, 'full');
  const s = shapeArg(shape, 'full');
  // A broadcast scalar: cheap to build, and under jit it stays one constant.
  return broadcastInDim(scalar(value, dtype, resolveBackend(backend)), s, []);
}

/**
 * An array of zeros of `shape` (`jnp.zeros`), float32 by default.
 * @example zeros([2, 2])
 */
export function zeros(shape: number | readonly number[], dtype: DType = 'float32', backend?: BackendArg): Tensor {
  return full(shape, 0, dtype, backend);
}

/**
 * An array of ones of `shape` (`jnp.ones`), float32 by default.
 * @example ones([3])
 */
export function ones(shape: number | readonly number[], dtype: DType = 'float32', backend?: BackendArg): Tensor {
  return full(shape, 1, dtype, backend);
}

/**
 * Zeros with the dtype of `x` and its shape (or `shape`), on `x`'s backend, as `jnp.zeros_like`. Inside a
 * transformation `x`'s backend is its concrete value's when it has one (grad), or its batch's (vmap), else the default
 * (jit), where the zeros stay a broadcast scalar that follows the arrays it meets.
 * @example zerosLike(array([1, 2], 'int32'))   // int32 [0, 0]
 */
export function zerosLike(x: Tensor, shape: readonly number[] = x.shape): Tensor {
  return full(shape, 0, x.dtype, x.placement());
}

/**
 * Ones with the dtype and shape of `x`, on `x`'s backend (`jnp.ones_like`; see {@link zerosLike}).
 * @example onesLike(array([[1, 2]]))   // float32 [[1, 1]]
 */
export function onesLike(x: Tensor): Tensor {
  return full(x.shape, 1, x.dtype, x.placement());
}

/**
 * Evenly spaced values in [start, stop) (`numpy.arange`); with one argument, [0, stop).
 * @example arange(5)          // [0, 1, 2, 3, 4] float32
 * `backend` places it (the default backend otherwise).
 * @example arange(2, 8, 2, 'int32')
 */
export function arange(start: number, stop?: number, step = 1, dtype: DType = 'float32', backend?: BackendArg): Tensor {
  assertDType(dtype, 'arange');
  const [lo, hi] = stop === undefined ? [0, start] : [start, stop];
  if (step === 0 || !Number.isFinite(step)) throw new RangeError(`arange: step must be a finite non-zero number, got ${step}`);
  const n = Math.max(0, Math.ceil((hi - lo) / step));
  const data = allocate(dtype, n);
  for (let i = 0; i < n; i++) data[i] = lo + i * step;
  return fromTypedArray(data, [n], dtype, resolveBackend(backend));
}

/**
 * `num` evenly spaced values from start to stop inclusive (`numpy.linspace`).
 * @example linspace(0, 1, 5)   // [0, 0.25, 0.5, 0.75, 1]
 */
export function linspace(start: number, stop: number, num = 50, dtype: DType = 'float32'): Tensor {
  if (!Number.isInteger(num) || num < 0) throw new RangeError(`linspace: num must be a non-negative integer, got ${num}`);
  const data = allocate(dtype, num);
  for (let i = 0; i < num; i++) data[i] = num === 1 ? start : start + ((stop - start) * i) / (num - 1);
  return fromTypedArray(data, [num], dtype);
}

/**
 * The identity matrix (`numpy.eye`), `n` x `m`, with ones on diagonal `k`.
 * @example eye(3)
 */
export function eye(n: number, m: number = n, k = 0, dtype: DType = 'float32'): Tensor {
  const s = assertValidShape([n, m], 'eye');
  const data = allocate(dtype, n * m);
  for (let i = 0; i < n; i++) {
    const j = i + k;
    if (j >= 0 && j < m) data[i * m + j] = 1;
  }
  return fromTypedArray(data, s, dtype);
}
