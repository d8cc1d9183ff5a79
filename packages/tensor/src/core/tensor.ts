/**
 * The array type. `Tensor` is what users hold: immutable, with a shape and a dtype. A concrete tensor owns a
 * buffer on a backend; a tracer (see `trace.ts`) stands for a value inside a transformation. Both share the
 * methods below, which forward to the op functions (installed by `ops/methods.ts` to avoid an import cycle).
 */
import { type DType, type TypedArray, allocate, assertDType, dtypeOfTypedArray } from './dtype.js';
import { type Shape, assertValidShape, formatShape, sizeOf } from './shape.js';
import { type Backend, getBackend } from '../backends/backend.js';

/** Nested JS arrays of numbers or booleans, as `toArray()` returns and `array()` accepts. */
export type NestedArray = number | boolean | NestedArray[];

/** Anything the op functions accept where an array is expected: a tensor or a JS scalar. */
export type ArrayLike = Tensor | number | boolean;

/** Methods of Tensor are implemented by op functions, registered here once at load. */
export const tensorMethods: Record<string, (...args: any[]) => any> = {};
function call(name: string, ...args: unknown[]): any {
  const f = tensorMethods[name];
  if (!f) throw new Error(`internal: tensor method '${name}' is not installed`);
  return f(...args);
}

export abstract class Tensor {
  abstract readonly shape: readonly number[];
  abstract readonly dtype: DType;

  get ndim(): number {
    return this.shape.length;
  }
  get size(): number {
    return sizeOf(this.shape);
  }

  /** The concrete value behind this array, or an error saying why it has none (e.g. inside `jit`). */
  abstract concrete(where: string): ConcreteTensor;

  /** A host copy of the elements, row-major, in the dtype's typed array. */
  data(): TypedArray {
    const c = this.concrete('data()');
    return c.backend.download(c.handle, c.dtype, c.size);
  }
  /** The elements as nested JS arrays (numbers, or booleans for `bool`). */
  toArray(): NestedArray {
    const flat = this.data();
    const asValue = (v: number): number | boolean => (this.dtype === 'bool' ? v !== 0 : v);
    const build = (dim: number, offset: number): NestedArray => {
      if (dim === this.shape.length) return asValue(flat[offset]!);
      const n = this.shape[dim]!;
      const stride = sizeOf(this.shape.slice(dim + 1));
      const out: NestedArray[] = [];
      for (let i = 0; i < n; i++) out.push(build(dim + 1, offset + i * stride));
      return out;
    };
    return build(0, 0);
  }
  /** The single element of a size-1 array as a JS number (or boolean). */
  item(): number | boolean {
    if (this.size !== 1) throw new RangeError(`item(): only a size-1 array has one item, this one has shape ${formatShape(this.shape)}`);
    const v = this.data()[0]!;
    return this.dtype === 'bool' ? v !== 0 : v;
  }
  toString(): string {
    return formatTensor(this);
  }

  // ---- arithmetic (NumPy broadcasting and dtype promotion) ----
  add(other: ArrayLike): Tensor { return call('add', this, other); }
  sub(other: ArrayLike): Tensor { return call('subtract', this, other); }
  mul(other: ArrayLike): Tensor { return call('multiply', this, other); }
  div(other: ArrayLike): Tensor { return call('divide', this, other); }
  pow(other: ArrayLike): Tensor { return call('power', this, other); }
  maximum(other: ArrayLike): Tensor { return call('maximum', this, other); }
  minimum(other: ArrayLike): Tensor { return call('minimum', this, other); }
  neg(): Tensor { return call('negative', this); }
  exp(): Tensor { return call('exp', this); }
  log(): Tensor { return call('log', this); }
  sqrt(): Tensor { return call('sqrt', this); }
  square(): Tensor { return call('square', this); }
  abs(): Tensor { return call('abs', this); }
  sin(): Tensor { return call('sin', this); }
  cos(): Tensor { return call('cos', this); }
  tanh(): Tensor { return call('tanh', this); }
  // ---- comparisons (bool results) ----
  equal(other: ArrayLike): Tensor { return call('equal', this, other); }
  notEqual(other: ArrayLike): Tensor { return call('notEqual', this, other); }
  less(other: ArrayLike): Tensor { return call('less', this, other); }
  lessEqual(other: ArrayLike): Tensor { return call('lessEqual', this, other); }
  greater(other: ArrayLike): Tensor { return call('greater', this, other); }
  greaterEqual(other: ArrayLike): Tensor { return call('greaterEqual', this, other); }
  // ---- linear algebra ----
  matmul(other: Tensor): Tensor { return call('matmul', this, other); }
  dot(other: Tensor): Tensor { return call('dot', this, other); }
  // ---- reductions ----
  sum(axis?: number | number[] | null, keepdims = false): Tensor { return call('sum', this, axis, keepdims); }
  mean(axis?: number | number[] | null, keepdims = false): Tensor { return call('mean', this, axis, keepdims); }
  max(axis?: number | number[] | null, keepdims = false): Tensor { return call('max', this, axis, keepdims); }
  min(axis?: number | number[] | null, keepdims = false): Tensor { return call('min', this, axis, keepdims); }
  argmax(axis?: number): Tensor { return call('argmax', this, axis); }
  // ---- shape ----
  reshape(...shape: number[] | [number[]]): Tensor {
    const s = Array.isArray(shape[0]) ? shape[0] : (shape as number[]);
    return call('reshape', this, s);
  }
  transpose(axes?: number[]): Tensor { return call('transpose', this, axes); }
  /** The transpose (all axes reversed). */
  get T(): Tensor { return call('transpose', this); }
  flatten(): Tensor { return call('reshape', this, [-1]); }
  squeeze(axis?: number | number[]): Tensor { return call('squeeze', this, axis); }
  expandDims(axis: number): Tensor { return call('expandDims', this, axis); }
  astype(dtype: DType): Tensor { return call('astype', this, dtype); }
}

/** A tensor whose value exists: a buffer on a backend. */
export class ConcreteTensor extends Tensor {
  readonly shape: readonly number[];
  constructor(
    shape: Shape,
    readonly dtype: DType,
    readonly backend: Backend,
    readonly handle: unknown,
  ) {
    super();
    this.shape = Object.freeze([...shape]);
    concreteTensorHooks.onCreate?.(this);
  }
  concrete(): ConcreteTensor {
    return this;
  }
  /** Release the buffer now (matters on device backends; a no-op on the CPU). */
  dispose(): void {
    this.backend.dispose(this.handle);
  }
}

/** Called for every concrete tensor created (device.ts's `tidy` scopes use it to find the arrays to free). */
export const concreteTensorHooks: { onCreate: ((t: ConcreteTensor) => void) | null } = { onCreate: null };

/** Wrap (a copy of) host data as a concrete tensor on the default backend. */
export function fromTypedArray(data: TypedArray, shape: Shape, dtype: DType = dtypeOfTypedArray(data)): Tensor {
  assertValidShape(shape as number[], 'fromTypedArray');
  if (data.length !== sizeOf(shape)) {
    throw new RangeError(`fromTypedArray: ${data.length} elements do not fill shape ${formatShape(shape)} (${sizeOf(shape)} elements)`);
  }
  const typed = dtypeOfTypedArray(data) === dtype ? data : convertHost(data, dtype);
  const backend = getBackend();
  return new ConcreteTensor(shape, dtype, backend, backend.upload(typed, dtype));
}

function convertHost(data: TypedArray, dtype: DType): TypedArray {
  const out = allocate(dtype, data.length);
  if (dtype === 'bool') for (let i = 0; i < data.length; i++) out[i] = data[i] ? 1 : 0;
  else if (dtype === 'int32') for (let i = 0; i < data.length; i++) out[i] = Math.trunc(data[i]!);
  else out.set(data);
  return out;
}

/**
 * Create an array from a JS scalar, nested JS arrays, a TypedArray or another tensor.
 * Numbers default to `float32`, booleans to `bool`, typed arrays keep their own dtype.
 * @example
 * const x = array([[1, 2], [3, 4]]);          // float32, shape [2,2]
 * const i = array([0, 2, 1], 'int32');
 */
export function array(value: NestedArray | TypedArray | Tensor, dtype?: DType): Tensor {
  if (dtype !== undefined) assertDType(dtype, 'array');
  if (value instanceof Tensor) return dtype && dtype !== value.dtype ? value.astype(dtype) : value;
  if (ArrayBuffer.isView(value)) return fromTypedArray(value as TypedArray, [value.length], dtype ?? dtypeOfTypedArray(value));
  const shape: number[] = [];
  let probe: NestedArray = value;
  while (Array.isArray(probe)) {
    shape.push(probe.length);
    if (probe.length === 0) break;
    probe = probe[0]!;
  }
  const flat: (number | boolean)[] = [];
  const walk = (v: NestedArray, dim: number, path: number[]): void => {
    if (dim === shape.length) {
      if (Array.isArray(v)) throw new TypeError(`array: ragged nested array: element at [${path.join(',')}] is a list, expected a scalar (shape so far ${formatShape(shape)})`);
      if (typeof v !== 'number' && typeof v !== 'boolean') throw new TypeError(`array: element at [${path.join(',')}] is ${typeof v}, expected a number or boolean`);
      flat.push(v);
      return;
    }
    if (!Array.isArray(v) || v.length !== shape[dim]) {
      throw new TypeError(
        `array: ragged nested array: at [${path.join(',')}] expected a list of length ${shape[dim]}, got ${Array.isArray(v) ? `length ${v.length}` : typeof v}`,
      );
    }
    v.forEach((x, i) => walk(x, dim + 1, [...path, i]));
  };
  walk(value, 0, []);
  // bool only when every element is a boolean: [true, 2] is numeric (as in NumPy), not a lossy cast to bool.
  const inferred: DType = flat.length > 0 && flat.every((v) => typeof v === 'boolean') ? 'bool' : 'float32';
  const dt = dtype ?? inferred;
  const out = allocate(dt, flat.length);
  for (let i = 0; i < flat.length; i++) {
    const v = flat[i]!;
    const n = typeof v === 'boolean' ? (v ? 1 : 0) : v;
    out[i] = dt === 'bool' ? (n ? 1 : 0) : dt === 'int32' ? Math.trunc(n) : n;
  }
  return fromTypedArray(out, shape, dt);
}

function formatTensor(t: Tensor): string {
  let c: ConcreteTensor;
  try {
    c = t.concrete('toString()');
  } catch {
    return `Tensor(shape=${formatShape(t.shape)}, dtype=${t.dtype}, traced)`;
  }
  const flat = c.data();
  const fmt = (v: number): string => {
    if (c.dtype === 'bool') return v ? 'true' : 'false';
    if (c.dtype === 'int32') return String(v);
    if (Number.isInteger(v) && Math.abs(v) < 1e16) return `${v}.`;
    return Number(v.toPrecision(c.dtype === 'float32' ? 6 : 8)).toString();
  };
  const edge = c.size > 1000 ? 3 : Infinity;
  const rec = (dim: number, offset: number, indent: string): string => {
    if (dim === c.shape.length) return fmt(flat[offset]!);
    const n = c.shape[dim]!;
    const stride = sizeOf(c.shape.slice(dim + 1));
    const parts: string[] = [];
    for (let i = 0; i < n; i++) {
      if (n > 2 * edge && i === edge) {
        parts.push('...');
        i = n - edge - 1;
        continue;
      }
      parts.push(rec(dim + 1, offset + i * stride, indent + ' '));
    }
    const sep = dim === c.shape.length - 1 ? ', ' : `,\n${indent} `;
    return `[${parts.join(sep)}]`;
  };
  return `array(${rec(0, 0, '      ')}, dtype=${c.dtype})`;
}
