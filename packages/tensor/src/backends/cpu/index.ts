/**
 * The CPU backend: buffers are contiguous row-major typed arrays (Float32Array for float32, Float64Array for
 * float64, Int32Array for int32, Uint8Array of 0/1 for bool). Buffers are immutable once a kernel returns
 * them; every kernel allocates a fresh output (reshape and stop_gradient return their input buffer), or writes
 * into the one jit's plan passes (a planned intermediate, or a donated argument's buffer, see execute.ts).
 * Importing this module registers the backend under the name 'cpu'.
 */
import { allocate, dtypeOfTypedArray, type DType, type TypedArray } from '../../core/dtype.js';
import { registerBackend, type Backend, type Kernel } from '../backend.js';
import { ConcreteTensor, markBufferShared } from '../../core/tensor.js';
import { elementwiseKernels } from './elementwise.js';
import { indexingPreparers } from './indexing.js';
import { matmulPreparers } from './matmul.js';
import { reducePreparers } from './reduce.js';
import { convertArray, shapePreparers } from './shape.js';
import { compileFused } from './fused.js';
import { type CpuPreparer, eagerKernel } from './util.js';

// Kernels with a preparer (the shape work done once, when jit compiles) are registered as preparers; their
// eager kernels are the preparer run on the spot. The elementwise ones need no preparing (jit fuses them).
const preparers = new Map<string, CpuPreparer>();
for (const family of [reducePreparers, matmulPreparers, shapePreparers, indexingPreparers]) {
  for (const [name, p] of family) {
    if (preparers.has(name)) throw new Error(`cpu backend: kernel '${name}' registered twice`);
    preparers.set(name, p);
  }
}
const kernels = new Map<string, Kernel<TypedArray>>(elementwiseKernels);
for (const [name, p] of preparers) {
  if (kernels.has(name)) throw new Error(`cpu backend: kernel '${name}' registered twice`);
  kernels.set(name, eagerKernel(p));
}

// An eager reshape (or stop_gradient) returns its input's buffer, so two arrays then share it and jit's donation
// must not overwrite it. jit's own plan passes plain operand records, not arrays, and tracks its aliases itself.
for (const name of ['reshape', 'stop_gradient']) {
  const identity = kernels.get(name)!;
  kernels.set(name, (inputs, params, out) => {
    if (inputs[0] instanceof ConcreteTensor) markBufferShared(inputs[0].handle);
    return identity(inputs, params, out);
  });
}

export const cpuBackend: Backend<TypedArray> = {
  name: 'cpu',
  upload(data: TypedArray, dtype: DType): TypedArray {
    const from = dtypeOfTypedArray(data);
    if (from === dtype) return data.slice();
    const dst = allocate(dtype, data.length);
    convertArray(data, from, dtype, dst);
    return dst;
  },
  borrow(data: TypedArray, dtype: DType): TypedArray | undefined {
    return dtypeOfTypedArray(data) === dtype ? data : undefined;
  },
  reusesDonatedBuffers: true,
  download(handle: TypedArray, dtype: DType, size: number): TypedArray {
    if (handle.length !== size) throw new Error(`cpu backend: download of ${size} elements from a buffer of ${handle.length}`);
    if (dtypeOfTypedArray(handle) === dtype) return handle.slice();
    const dst = allocate(dtype, size);
    convertArray(handle, dtypeOfTypedArray(handle), dtype, dst);
    return dst;
  },
  garbageCollected: true,
  dispose(_handle: TypedArray): void {
    // the garbage collector owns CPU buffers
  },
  kernels,
  preparers,
  compileFused,
};

registerBackend(cpuBackend);

export { elementwiseKernels, reducePreparers, matmulPreparers, shapePreparers, indexingPreparers };
