/**
 * The backend interface: what a device must provide. The core never touches buffers itself; it asks the
 * array's backend to run the kernel registered for a primitive (TensorFlow.js style: one kernel registry per
 * backend). A backend only implements primitives; everything else is composed from them.
 */
import type { DType, TypedArray } from '../core/dtype.js';
import type { Jaxpr } from '../ir/jaxpr.js';

/** A concrete operand as a kernel sees it: its storage, shape and dtype. */
export interface KernelInput<H = unknown> {
  /** The operand's buffer on the backend. */
  readonly handle: H;
  /** The operand's shape. */
  readonly shape: readonly number[];
  /** The operand's dtype. */
  readonly dtype: DType;
}

/** The output a kernel must produce (already validated by the primitive's shape rule). */
export interface KernelOutput<H = unknown> {
  /** The output's shape. */
  readonly shape: readonly number[];
  /** The output's dtype. */
  readonly dtype: DType;
  /**
   * A buffer to write the result into instead of allocating one: jit's plan passes the same intermediate
   * buffers on every call. It never aliases an input of the same kernel call.
   */
  readonly buffer?: H;
}

/** A kernel: computes one primitive on concrete operands and returns the output's storage. */
export type Kernel<H = unknown> = (inputs: readonly KernelInput<H>[], params: any, out: KernelOutput<H>) => H;

/** An operand's or output's shape and dtype, known before any data (what jit compiles for). */
export interface KernelAval {
  /** The shape. */
  readonly shape: readonly number[];
  /** The dtype. */
  readonly dtype: DType;
}

/**
 * A kernel specialised to one equation: its operands' shapes and dtypes and its params were fixed when it was
 * prepared, so a call takes only the operands' buffers (in order) and the buffer to write into (undefined:
 * allocate one), and returns the output's buffer. `out`, when given, never aliases an input.
 */
export type PreparedKernel<H = unknown> = (inputs: readonly H[], out: H | undefined) => H;

/**
 * Prepares a kernel for one equation: the shape and layout work (strides, merged loops, blocking, which
 * kernel variant) is done here, once, and the returned function only moves data. jit's plan prepares each
 * equation at compile time (compare XLA compiling an HLO instruction, or a TensorFlow.js kernel's setup).
 */
export type KernelPreparer<H = unknown> = (inputs: readonly KernelAval[], params: any, out: KernelAval) => PreparedKernel<H>;

/**
 * A compiled fused elementwise group: operands in, one buffer per group output out (written into `buffers[i]`
 * when given). On a backend with {@link Backend.reusesDonatedBuffers}, `buffers[i]` may be the handle of an
 * input of the output's shape (jit writing over a donated argument in place): the kernel must read every
 * input at an index before it writes any output at that index.
 */
export type FusedKernel<H = unknown> = (inputs: readonly KernelInput<H>[], buffers?: readonly (H | undefined)[]) => H[];
// (The array a fused kernel returns may be the one it returns at every call: jit reads it at once.)

/**
 * A device backend (roughly JAX's platform/device, or a TensorFlow.js backend): buffers of type `H`, copies
 * to and from the host, and one kernel per primitive. The backends are registered as `'cpu'` and `'gpu'`.
 * @example
 * const cpu = getBackend('cpu');
 * cpu.download(cpu.upload(Float32Array.of(1, 2), 'float32'), 'float32', 2);   // Float32Array [1, 2]
 */
export interface Backend<H = unknown> {
  /** The name the backend is registered under, e.g. `'cpu'`. */
  readonly name: string;
  /**
   * Copy host data into a new device buffer. The typed array's type matches `dtype`.
   * @example const h = getBackend().upload(Float32Array.of(1, 2), 'float32');
   */
  upload(data: TypedArray, dtype: DType): H;
  /**
   * A handle that is `data` itself, without a copy, or `undefined` when the backend cannot hold host memory
   * as is (used by `fromTypedArray(..., { copy: false })`; `data`'s type matches `dtype`). Kernels never
   * write into an input's buffer, so the caller's array is only read.
   * @example getBackend('cpu').borrow?.(Float32Array.of(1, 2), 'float32')   // the same Float32Array
   */
  borrow?(data: TypedArray, dtype: DType): H | undefined;
  /**
   * Whether jit may write a call's outputs into the buffers of donated arguments (`jit(f, { donateArgnums })`).
   * Such a backend's kernels honour {@link KernelOutput.buffer}, and its fused kernels accept an output buffer
   * that is one of their same-shaped inputs (see {@link FusedKernel}). Elsewhere donated arguments are only
   * invalidated and their buffers released.
   */
  readonly reusesDonatedBuffers?: boolean;
  /**
   * Copy a device buffer back to the host: a fresh typed array of `size` elements of `dtype`.
   * @example getBackend().download(h, 'float32', 2)   // Float32Array [1, 2]
   */
  download(handle: H, dtype: DType, size: number): TypedArray;
  /**
   * Whether the JS garbage collector owns this backend's buffers (`dispose` does nothing): jit then skips
   * working out, after each call, which buffers it could release.
   */
  readonly garbageCollected?: boolean;
  /**
   * Release a device buffer (a no-op where the garbage collector owns memory).
   * @example getBackend().dispose(h);
   */
  dispose(handle: H): void;
  /** The kernel for a primitive, by the primitive's name. */
  readonly kernels: ReadonlyMap<string, Kernel<H>>;
  /**
   * Preparers of the primitives whose kernels can be specialised ahead of the data (see {@link KernelPreparer}),
   * by name; jit's plan uses one where there is one, and the eager kernel elsewhere. A backend's eager kernel
   * for such a primitive should be the preparer called on the spot, so that both paths compute the same.
   */
  readonly preparers?: ReadonlyMap<string, KernelPreparer<H>>;
  /**
   * Compile a fused elementwise group (see ir/passes/fuse-elementwise.ts); without it, jit runs the group op by op.
   * @example const kernel = getBackend().compileFused?.(group);   // group: a jaxpr of elementwise equations
   */
  compileFused?(group: Jaxpr): FusedKernel<H>;
}

const backends = new Map<string, Backend<any>>();
let defaultName = 'cpu';

export function registerBackend(backend: Backend<any>): void {
  backends.set(backend.name, backend);
}

/**
 * The backend registered as `name`, by default the default backend (`'cpu'` unless `setDefaultBackend` changed
 * it); throws, listing the registered ones, when there is none of that name (compare `jax.devices(backend)`).
 * @example getBackend().name   // 'cpu'
 */
export function getBackend(name?: string): Backend<any> {
  const key = name ?? defaultName;
  const b = backends.get(key);
  if (!b) throw new Error(`backend '${key}' is not registered; available: ${[...backends.keys()].join(', ') || 'none'}`);
  return b;
}

/**
 * Names of the registered backends.
 * @example backendNames()   // ['cpu', 'gpu']
 */
export function backendNames(): string[] {
  return [...backends.keys()];
}

export function setDefaultBackendName(name: string): void {
  getBackend(name);
  defaultName = name;
}

export function defaultBackendName(): string {
  return defaultName;
}
