/**
 * Data types and the promotion rules between them.
 *
 * The lattice is a chain: `bool < int32 < float32 < float64`. Two arrays promote to the larger of their
 * dtypes. A plain JS number is *weakly typed* (as in JAX): it takes the dtype of the array it meets, except
 * that a non-integer number meeting a `bool`/`int32` array promotes to `float32`, and an integer number meeting
 * a `bool` array gives `int32`.
 *
 * A `DType` names an element type as a string, like NumPy/JAX's `float32`, `float64`, `int32` and `bool`
 * dtypes (there are no unsigned, 16-bit or complex types).
 * @example array([1, 2], 'int32').dtype   // 'int32'
 */
export type DType = 'float32' | 'float64' | 'int32' | 'bool';

/** Every dtype, smallest first in the promotion chain. */
export const DTYPES: readonly DType[] = ['bool', 'int32', 'float32', 'float64'];

/** The typed array that stores each dtype. `bool` is one byte per element (0 or 1). */
export type TypedArray = Float32Array | Float64Array | Int32Array | Uint8Array;

export type TypedArrayFor<D extends DType> = D extends 'float32'
  ? Float32Array
  : D extends 'float64'
    ? Float64Array
    : D extends 'int32'
      ? Int32Array
      : Uint8Array;

const RANK: Record<DType, number> = { bool: 0, int32: 1, float32: 2, float64: 3 };

export function isDType(x: unknown): x is DType {
  return typeof x === 'string' && x in RANK;
}

export function assertDType(x: unknown, where: string): DType {
  if (!isDType(x)) throw new TypeError(`${where}: unknown dtype ${JSON.stringify(x)}; expected one of ${DTYPES.join(', ')}`);
  return x;
}

export function isFloat(d: DType): boolean {
  return d === 'float32' || d === 'float64';
}

/** Allocate a zero-filled typed array of `size` elements for `dtype`. */
export function allocate(dtype: DType, size: number): TypedArray {
  switch (dtype) {
    case 'float32':
      return new Float32Array(size);
    case 'float64':
      return new Float64Array(size);
    case 'int32':
      return new Int32Array(size);
    case 'bool':
      return new Uint8Array(size);
  }
}

/** The dtype a typed array stores (Uint8Array is read as `bool`). */
export function dtypeOfTypedArray(a: ArrayBufferView): DType {
  if (a instanceof Float32Array) return 'float32';
  if (a instanceof Float64Array) return 'float64';
  if (a instanceof Int32Array) return 'int32';
  if (a instanceof Uint8Array) return 'bool';
  throw new TypeError(`unsupported typed array ${a.constructor.name}; use Float32Array, Float64Array, Int32Array or Uint8Array`);
}

/**
 * Promote two array dtypes: the larger in the chain bool < int32 < float32 < float64 (`jnp.promote_types` on
 * these four types).
 * @example promoteTypes('int32', 'float32')   // 'float32'
 */
export function promoteTypes(a: DType, b: DType): DType {
  return RANK[a] >= RANK[b] ? a : b;
}

/** The dtype a weakly typed JS scalar takes next to an array of dtype `d`. */
export function weakScalarDType(value: number | boolean, d: DType): DType {
  if (typeof value === 'boolean') return d;
  if (isFloat(d)) return d;
  if (Number.isInteger(value)) return d === 'bool' ? 'int32' : d;
  return 'float32';
}

/** The dtype of a scalar standing alone (no array to take a dtype from). */
export function defaultScalarDType(value: number | boolean): DType {
  return typeof value === 'boolean' ? 'bool' : 'float32';
}
