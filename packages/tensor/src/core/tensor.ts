/**
 * The array type. `Tensor` is what users hold: immutable, with a shape and a dtype. A concrete tensor owns a
 * buffer on a backend; a tracer (see `trace.ts`) stands for a value inside a transformation. Both share the
 * methods below, which forward to the op functions (installed by `ops/methods.ts` to avoid an import cycle).
 */
import { packedCopy } from './arrays.js';
import { type DType, type TypedArray, allocate, assertDType, dtypeOfTypedArray } from './dtype.js';
import { type Shape, assertValidShape, formatShape, sizeOf } from './shape.js';
import { type Backend, getBackend } from '../backends/backend.js';

/** Nested JS arrays of numbers or booleans, as `toArray()` returns and `array()` accepts. */
export type NestedArray = number | boolean | NestedArray[];

/**
 * Anything the op functions accept where an array is expected: a tensor or a JS scalar (JS scalars are weakly
 * typed, as Python scalars in JAX; compare `jax.typing.ArrayLike`).
 */
export type ArrayLike = Tensor | number | boolean;

/** Methods of Tensor are implemented by op functions, registered here once at load. */
export const tensorMethods: Record<string, (...args: any[]) => any> = {};
function call(name: string, ...args: unknown[]): any {
  const f = tensorMethods[name];
  if (!f) throw new Error(`internal: tensor method '${name}' is not installed`);
  return f(...args);
}

/**
 * The array type, this library's `jax.Array` / `numpy.ndarray`: immutable, with a `shape` and a `dtype`. Eager
 * values are {@link ConcreteTensor}s; inside `grad`, `vmap` or `jit` a function sees tracers, which have the
 * same methods. Make one with {@link array}, {@link fromTypedArray} or a creation function such as
 * {@link zeros}; the methods forward to the `numpy` namespace's functions (NumPy broadcasting and promotion).
 * @example
 * const x = array([[1, 2], [3, 4]]);
 * x.add(1).mul(x).sum().item();   // 40
 */
export abstract class Tensor {
  /** The size of each axis, outermost first (`x.shape`); `[]` for a scalar. */
  abstract readonly shape: readonly number[];
  /** The element type (`x.dtype`): `'float32'`, `'float64'`, `'int32'` or `'bool'`. */
  abstract readonly dtype: DType;

  /**
   * The number of axes (`x.ndim`).
   * @example array([[1, 2, 3]]).ndim   // 2
   */
  get ndim(): number {
    return this.shape.length;
  }
  /**
   * The number of elements (`x.size`): the product of the shape.
   * @example array([[1, 2, 3]]).size   // 3
   */
  get size(): number {
    return sizeOf(this.shape);
  }

  /**
   * The concrete value behind this array, or an error saying why it has none (e.g. inside `jit`).
   * `where` names the operation asking, for the error message.
   * @example array([1, 2]).concrete('myOp').backend.name   // 'cpu'
   */
  abstract concrete(where: string): ConcreteTensor;

  /**
   * The backend this array's value lives on, when that is known without running anything: a concrete array's
   * backend, a gradient tracer's primal's; `undefined` inside jit/vmap, where the value does not exist yet.
   * Arrays made "like" another (`zerosLike`, the zeros of vjp rules) go there instead of to the default backend.
   * @example array([1, 2]).placement()?.name   // 'cpu'
   */
  placement(): Backend | undefined {
    return undefined;
  }

  /**
   * A host copy of the elements, row-major, in the dtype's typed array (like `np.asarray(x)` on a JAX array).
   * @example array([1, 2]).data()   // Float32Array [1, 2]
   */
  data(): TypedArray {
    const c = this.concrete('data()');
    return c.backend.download(c.handle, c.dtype, c.size);
  }
  /**
   * The elements as nested JS arrays (numbers, or booleans for `bool`), as NumPy's `x.tolist()`.
   * @example array([[1, 2], [3, 4]], 'int32').toArray()   // [[1, 2], [3, 4]]
   */
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
  /**
   * The single element of a size-1 array as a JS number (or boolean), as NumPy's `x.item()`.
   * @example array([1, 2]).sum().item()   // 3
   */
  item(): number | boolean {
    if (this.size !== 1) throw new RangeError(`item(): only a size-1 array has one item, this one has shape ${formatShape(this.shape)}`);
    const v = this.data()[0]!;
    return this.dtype === 'bool' ? v !== 0 : v;
  }
  /**
   * A NumPy-style printout of the values (`repr(x)`); a traced value prints only its shape and dtype.
   * @example String(array([1, 2]))   // 'array([1., 2.], dtype=float32)'
   */
  toString(): string {
    return formatTensor(this);
  }

  // ---- arithmetic (NumPy broadcasting and dtype promotion) ----
  /**
   * Elementwise `this + other`, with broadcasting and dtype promotion (`jnp.add`, `x + y`).
   * @example array([1, 2]).add(10)   // [11, 12]
   */
  add(other: ArrayLike): Tensor { return call('add', this, other); }
  /**
   * Elementwise `this - other` (`jnp.subtract`, `x - y`).
   * @example array([3, 4]).sub(1)   // [2, 3]
   */
  sub(other: ArrayLike): Tensor { return call('subtract', this, other); }
  /**
   * Elementwise `this * other` (`jnp.multiply`, `x * y`).
   * @example array([1, 2]).mul(array([[1], [2]]))   // [[1, 2], [2, 4]]
   */
  mul(other: ArrayLike): Tensor { return call('multiply', this, other); }
  /**
   * True division `this / other` (`jnp.divide`, `x / y`): int and bool operands give float32.
   * @example array([1, 2], 'int32').div(2)   // float32 [0.5, 1]
   */
  div(other: ArrayLike): Tensor { return call('divide', this, other); }
  /**
   * Elementwise `this ** other`, in floating point (`jnp.power`, `x ** y`).
   * @example array([2, 3]).pow(2)   // [4, 9]
   */
  pow(other: ArrayLike): Tensor { return call('power', this, other); }
  /**
   * Elementwise maximum; NaN propagates (`jnp.maximum`).
   * @example array([1, 5]).maximum(3)   // [3, 5]
   */
  maximum(other: ArrayLike): Tensor { return call('maximum', this, other); }
  /**
   * Elementwise minimum; NaN propagates (`jnp.minimum`).
   * @example array([1, 5]).minimum(3)   // [1, 3]
   */
  minimum(other: ArrayLike): Tensor { return call('minimum', this, other); }
  /**
   * Elementwise negation (`jnp.negative`, `-x`).
   * @example array([1, -2]).neg()   // [-1, 2]
   */
  neg(): Tensor { return call('negative', this); }
  /**
   * Elementwise e^x (`jnp.exp`); int and bool arrays are computed in float32.
   * @example array([0, 1]).exp()   // [1, 2.71828]
   */
  exp(): Tensor { return call('exp', this); }
  /**
   * Elementwise natural logarithm (`jnp.log`).
   * @example array([1, Math.E]).log()   // [0, 1]
   */
  log(): Tensor { return call('log', this); }
  /**
   * Elementwise square root (`jnp.sqrt`).
   * @example array([4, 9]).sqrt()   // [2, 3]
   */
  sqrt(): Tensor { return call('sqrt', this); }
  /**
   * Elementwise `x * x` (`jnp.square`).
   * @example array([3, -2]).square()   // [9, 4]
   */
  square(): Tensor { return call('square', this); }
  /**
   * Elementwise absolute value (`jnp.abs`).
   * @example array([-1, 2]).abs()   // [1, 2]
   */
  abs(): Tensor { return call('abs', this); }
  /**
   * Elementwise sine, in radians (`jnp.sin`).
   * @example array([0, Math.PI / 2]).sin()   // [0, 1]
   */
  sin(): Tensor { return call('sin', this); }
  /**
   * Elementwise cosine, in radians (`jnp.cos`).
   * @example array([0]).cos()   // [1]
   */
  cos(): Tensor { return call('cos', this); }
  /**
   * Elementwise hyperbolic tangent (`jnp.tanh`).
   * @example array([0]).tanh()   // [0]
   */
  tanh(): Tensor { return call('tanh', this); }
  // ---- comparisons (bool results) ----
  /**
   * Elementwise `this == other` as a bool array (`jnp.equal`, `x == y`).
   * @example array([1, 2]).equal(2)   // [false, true]
   */
  equal(other: ArrayLike): Tensor { return call('equal', this, other); }
  /**
   * Elementwise `this != other` as a bool array (`jnp.not_equal`, `x != y`).
   * @example array([1, 2]).notEqual(2)   // [true, false]
   */
  notEqual(other: ArrayLike): Tensor { return call('notEqual', this, other); }
  /**
   * Elementwise `this < other` as a bool array (`jnp.less`, `x < y`).
   * @example array([1, 2]).less(2)   // [true, false]
   */
  less(other: ArrayLike): Tensor { return call('less', this, other); }
  /**
   * Elementwise `this <= other` as a bool array (`jnp.less_equal`, `x <= y`).
   * @example array([1, 2]).lessEqual(1)   // [true, false]
   */
  lessEqual(other: ArrayLike): Tensor { return call('lessEqual', this, other); }
  /**
   * Elementwise `this > other` as a bool array (`jnp.greater`, `x > y`).
   * @example array([1, 2]).greater(1)   // [false, true]
   */
  greater(other: ArrayLike): Tensor { return call('greater', this, other); }
  /**
   * Elementwise `this >= other` as a bool array (`jnp.greater_equal`, `x >= y`).
   * @example array([1, 2]).greaterEqual(2)   // [false, true]
   */
  greaterEqual(other: ArrayLike): Tensor { return call('greaterEqual', this, other); }
  // ---- linear algebra ----
  /**
   * Matrix product with NumPy's rules (`jnp.matmul`, `x @ y`): 1-D operands are promoted to matrices, leading
   * axes broadcast as batch axes.
   * @example array([[1, 2], [3, 4]]).matmul(array([1, 1]))   // [3, 7]
   */
  matmul(other: Tensor): Tensor { return call('matmul', this, other); }
  /**
   * `jnp.dot`: the inner product of vectors, the matrix product of matrices.
   * @example array([1, 2]).dot(array([3, 4]))   // 11
   */
  dot(other: Tensor): Tensor { return call('dot', this, other); }
  // ---- reductions ----
  /**
   * Sum over `axis` (all axes by default; `keepdims` keeps them with size 1), as `jnp.sum`. Bools and ints
   * sum as int32.
   * @example array([[1, 2], [3, 4]]).sum(0)   // [4, 6]
   */
  sum(axis?: number | number[] | null, keepdims = false): Tensor { return call('sum', this, axis, keepdims); }
  /**
   * Mean over `axis` (all axes by default), as `jnp.mean`; ints and bools average as float32.
   * @example array([[1, 2], [3, 4]]).mean(1)   // [1.5, 3.5]
   */
  mean(axis?: number | number[] | null, keepdims = false): Tensor { return call('mean', this, axis, keepdims); }
  /**
   * Maximum over `axis` (all axes by default), as `jnp.max`.
   * @example array([[1, 5], [3, 4]]).max(1)   // [5, 4]
   */
  max(axis?: number | number[] | null, keepdims = false): Tensor { return call('max', this, axis, keepdims); }
  /**
   * Minimum over `axis` (all axes by default), as `jnp.min`.
   * @example array([[1, 5], [3, 4]]).min()   // 1 (a 0-d array)
   */
  min(axis?: number | number[] | null, keepdims = false): Tensor { return call('min', this, axis, keepdims); }
  /**
   * Index of the first maximum along `axis` (of the flattened array when omitted), as int32 (`jnp.argmax`).
   * @example array([[1, 5], [4, 3]]).argmax(1)   // int32 [1, 0]
   */
  argmax(axis?: number): Tensor { return call('argmax', this, axis); }
  // ---- shape ----
  /**
   * The same elements (row-major) in a new shape, given as numbers or as one array; one entry may be -1
   * (inferred), as `x.reshape` in NumPy/JAX.
   * @example
   * arange(6).reshape(2, 3);        // shape [2,3]
   * arange(6).reshape([3, -1]);     // shape [3,2]
   */
  reshape(...shape: number[] | [number[]]): Tensor {
    const s = Array.isArray(shape[0]) ? shape[0] : (shape as number[]);
    return call('reshape', this, s);
  }
  /**
   * Permute the axes: output axis i is input axis `axes[i]`; all axes reversed by default (`jnp.transpose`).
   * @example zeros([2, 3, 4]).transpose([1, 0, 2]).shape   // [3, 2, 4]
   */
  transpose(axes?: number[]): Tensor { return call('transpose', this, axes); }
  /**
   * The transpose (all axes reversed), as `x.T` in NumPy.
   * @example array([[1, 2, 3]]).T.shape   // [3, 1]
   */
  get T(): Tensor { return call('transpose', this); }
  /**
   * The elements as a 1-D array (`x.flatten()`, `jnp.ravel`).
   * @example array([[1, 2], [3, 4]]).flatten()   // [1, 2, 3, 4]
   */
  flatten(): Tensor { return call('reshape', this, [-1]); }
  /**
   * Remove size-1 axes: all of them, or the given ones, which must have size 1 (`jnp.squeeze`).
   * @example zeros([1, 3, 1]).squeeze().shape   // [3]
   */
  squeeze(axis?: number | number[]): Tensor { return call('squeeze', this, axis); }
  /**
   * Insert a size-1 axis at position `axis` (`jnp.expand_dims`).
   * @example zeros([3]).expandDims(0).shape   // [1, 3]
   */
  expandDims(axis: number): Tensor { return call('expandDims', this, axis); }
  /**
   * Cast to another dtype (`x.astype`): float to int truncates toward zero, anything to bool is `x != 0`.
   * @example array([1.7, -1.7]).astype('int32')   // int32 [1, -1]
   */
  astype(dtype: DType): Tensor { return call('astype', this, dtype); }
}

/**
 * A tensor whose value exists: a buffer on a backend. Outside every transformation, `array()` and all ops
 * return these (a materialised `jax.Array`).
 * @example
 * const x = array([1, 2]);
 * x instanceof ConcreteTensor;   // true (outside grad/vmap/jit)
 */
export class ConcreteTensor extends Tensor {
  /** The size of each axis (a frozen copy of the constructor's `shape`). */
  readonly shape: readonly number[];
  // Set when the array is passed at a donated position of a jitted call: its buffer then belongs to the call.
  private donatedFlag = false;
  /**
   * Wrap an existing buffer `handle` of `backend` (no copy); {@link fromTypedArray} is the usual way to make one.
   * @example
   * const cpu = getBackend('cpu');
   * const t = new ConcreteTensor([2], 'float32', cpu, cpu.upload(Float32Array.of(1, 2), 'float32'));
   */
  constructor(
    shape: Shape,
    /** The element type. */
    readonly dtype: DType,
    /** The backend that owns the buffer. */
    readonly backend: Backend,
    /**
     * The backend's buffer (for the CPU backend, a typed array); kernels read it. Read it through
     * `concrete()`: once the array was donated to a jitted call, the buffer may hold that call's result.
     */
    readonly handle: unknown,
  ) {
    super();
    this.shape = Object.freeze(packedCopy(shape)); // (one hidden class whatever array was given: core/arrays.ts)
    concreteTensorHooks.onCreate?.(this);
  }
  /**
   * This array; throws if it was donated to a jitted call (every use of an array's value passes here).
   * @example array([1, 2]).concrete('myOp') instanceof ConcreteTensor   // true
   */
  concrete(where = 'concrete()'): ConcreteTensor {
    if (this.donatedFlag) {
      throw new Error(
        `${where}: this tensor was donated to a jitted call (donateArgnums) and its buffer may have been reused: use the function's result instead`,
      );
    }
    return this;
  }
  override placement(): Backend {
    return this.backend;
  }
  /**
   * Whether this array was passed at a donated position of a jitted call (`jit(f, { donateArgnums })`): it
   * can no longer be used (as `jax.Array.is_deleted()` after donation).
   * @example
   * const x = array([1, 2]) as ConcreteTensor;
   * jit((a) => a.mul(2), { donateArgnums: [0] })(x);
   * x.isDonated();   // true
   */
  isDonated(): boolean {
    return this.donatedFlag;
  }
  /**
   * Release the buffer now (matters on device backends; a no-op on the CPU). The tensor must not be used after.
   * A donated array's buffer belongs to the call it was donated to, so disposing it does nothing.
   * @example (array([1, 2]) as ConcreteTensor).dispose();
   */
  dispose(): void {
    if (!this.donatedFlag) this.backend.dispose(this.handle);
  }
}

/** Mark `t` donated (jit's executor, once it owns `t`'s buffer): every later use of `t` throws. */
export function markDonated(t: ConcreteTensor): void {
  (t as unknown as { donatedFlag: boolean }).donatedFlag = true;
}

// Buffers more than one holder may read: one that several arrays share (the CPU's eager reshape returns its
// input's buffer), a jitted function's constant, host memory borrowed by fromTypedArray({ copy: false }).
// Donation never writes into them. A WeakSet keyed by the buffer, so marking costs nothing per array made.
const sharedBuffers = new WeakSet<object>();

/** Record that `handle` may be read by more than one holder, so that jit's donation never overwrites it. */
export function markBufferShared(handle: unknown): void {
  if (typeof handle === 'object' && handle !== null) sharedBuffers.add(handle);
}

/** Whether `handle` was marked by {@link markBufferShared}. */
export function isBufferShared(handle: unknown): boolean {
  return typeof handle === 'object' && handle !== null && sharedBuffers.has(handle);
}

/** Called for every concrete tensor created (device.ts's `tidy` scopes use it to find the arrays to free). */
export const concreteTensorHooks: { onCreate: ((t: ConcreteTensor) => void) | null } = { onCreate: null };

/** Options of {@link fromTypedArray}. */
export interface FromTypedArrayOptions {
  /**
   * `true` (the default) copies the data, as `np.array(data)`. `false` asks to use the caller's array itself,
   * as `np.asarray(data)`: granted when the array already has the requested dtype and the backend keeps
   * host typed arrays (the CPU); otherwise the data is copied as usual (a request: unlike NumPy 2's
   * `copy=False`, it never throws). A borrowed array (a `subarray` view is fine) must not be modified or
   * detached while the tensor or any array computed from it without a copy (a reshape) is alive, and jit's
   * donation never writes into it.
   */
  copy?: boolean;
  /** The backend, by name or object; the default backend otherwise. */
  backend?: Backend | string;
}

/**
 * Wrap host data as a concrete tensor (a copy, unless `copy: false` borrows it), like `jnp.asarray(data).reshape(shape)`.
 * `data.length` must equal the shape's size; `dtype` defaults to the typed array's (Uint8Array is `bool`), and
 * the data is converted when it differs. The last argument is the backend (the default backend unless given)
 * or {@link FromTypedArrayOptions}: `{ copy: false }` uses `data` itself where it can, without a copy.
 * @example fromTypedArray(Float32Array.of(1, 2, 3, 4, 5, 6), [2, 3])   // float32, shape [2,3]
 * @example
 * // a batch that reads the training set in place (no 313 KB copy per step)
 * const x = fromTypedArray(images.subarray(i * 784, (i + 100) * 784), [100, 784], 'float32', { copy: false });
 */
export function fromTypedArray(
  data: TypedArray,
  shape: Shape,
  dtype: DType = dtypeOfTypedArray(data),
  options: Backend | FromTypedArrayOptions = {},
): Tensor {
  assertValidShape(shape as number[], 'fromTypedArray');
  if (data.length !== sizeOf(shape)) {
    throw new RangeError(`fromTypedArray: ${data.length} elements do not fill shape ${formatShape(shape)} (${sizeOf(shape)} elements)`);
  }
  const opts: FromTypedArrayOptions = isBackend(options) ? { backend: options } : options;
  const backend = typeof opts.backend === 'string' ? getBackend(opts.backend) : (opts.backend ?? getBackend());
  if (opts.copy === false && dtypeOfTypedArray(data) === dtype) {
    const borrowed = backend.borrow?.(data, dtype);
    if (borrowed !== undefined) {
      markBufferShared(borrowed);
      return new ConcreteTensor(shape, dtype, backend, borrowed);
    }
  }
  const typed = dtypeOfTypedArray(data) === dtype ? data : convertHost(data, dtype);
  return new ConcreteTensor(shape, dtype, backend, backend.upload(typed, dtype));
}

function isBackend(x: Backend | FromTypedArrayOptions): x is Backend {
  return typeof (x as Backend).upload === 'function';
}

function convertHost(data: TypedArray, dtype: DType): TypedArray {
  const out = allocate(dtype, data.length);
  if (dtype === 'bool') for (let i = 0; i < data.length; i++) out[i] = data[i] ? 1 : 0;
  else if (dtype === 'int32') for (let i = 0; i < data.length; i++) out[i] = Math.trunc(data[i]!);
  else out.set(data);
  return out;
}

/**
 * Create an array from a JS scalar, nested JS arrays, a TypedArray or another tensor (`jnp.array`).
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
  if (t instanceof ConcreteTensor && t.isDonated()) return `Tensor(shape=${formatShape(t.shape)}, dtype=${t.dtype}, donated)`;
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
