/** Turning op arguments into tensors: JS scalars are weakly typed, dtypes promote, ranks align. */
import { type DType, defaultScalarDType, promoteTypes, weakScalarDType, allocate } from '../core/dtype.js';
import { type ArrayLike, Tensor, fromTypedArray } from '../core/tensor.js';
import type { Backend } from '../backends/backend.js';

/** A concrete scalar array holding `value` as `dtype`, on `backend` (the default backend unless given). */
export function scalar(value: number | boolean, dtype: DType = defaultScalarDType(value), backend?: Backend): Tensor {
  const data = allocate(dtype, 1);
  data[0] = typeof value === 'boolean' ? (value ? 1 : 0) : dtype === 'int32' ? Math.trunc(value) : value;
  return fromTypedArray(data, [], dtype, backend);
}

export function checkArrayLike(x: unknown, where: string): ArrayLike {
  if (x instanceof Tensor || typeof x === 'number' || typeof x === 'boolean') return x;
  throw new TypeError(`${where}: expected a Tensor or a JS number/boolean, got ${Array.isArray(x) ? 'a JS array (wrap it with array())' : typeof x}`);
}

/** The result dtype of combining these arguments (JS scalars are weak). */
export function resultDType(args: readonly ArrayLike[], where: string): DType {
  let dtype: DType | null = null;
  for (const a of args) if (checkArrayLike(a, where) instanceof Tensor) dtype = dtype ? promoteTypes(dtype, (a as Tensor).dtype) : (a as Tensor).dtype;
  if (dtype === null) {
    return args.map((a) => defaultScalarDType(a as number | boolean)).reduce((x, y) => promoteTypes(x, y));
  }
  let out: DType = dtype;
  for (const a of args) if (!(a instanceof Tensor)) out = promoteTypes(out, weakScalarDType(a, dtype));
  return out;
}

/** Convert an argument to a tensor of `dtype` (casting arrays, materialising scalars). */
export function toTensorOf(x: ArrayLike, dtype: DType, cast: (t: Tensor, d: DType) => Tensor): Tensor {
  if (x instanceof Tensor) return x.dtype === dtype ? x : cast(x, dtype);
  return scalar(x, dtype);
}
