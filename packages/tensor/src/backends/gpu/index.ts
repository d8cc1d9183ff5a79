/**
 * The GPU backend on gpu.js: arrays are float32 textures that stay on the device between ops (gpu.js pipeline
 * mode) and are read back only by `download` (data(), toArray(), item()). Importing this module registers the
 * backend under the name 'gpu'; nothing touches GL until the backend is first used, and using it where gpu.js
 * has no real GL context (headless-gl in Node, WebGL in a browser) throws GpuUnavailableError saying what is
 * missing.
 *
 * dtypes: float32 natively; int32 and bool are stored as float32 texels holding exact integers (int32 is exact
 * within ±2^24; an int32 array uploaded from the host keeps an exact host copy, so PRNG keys round-trip);
 * float64 is refused with a clear error (gpu.js computes in float32). See kernels.ts for the other float32
 * differences from the CPU backend.
 */
import type { DType, TypedArray } from '../../core/dtype.js';
import { registerBackend, type Backend } from '../backend.js';
import { type GpuHandle, disposeHandle, downloadHandle, gpuInstance, uploadHost } from './device.js';
import { compileFused } from './fused.js';
import { gpuKernels } from './kernels.js';
export { gpuIndexChecks } from './kernels.js';

export const gpuBackend: Backend<GpuHandle> = {
  name: 'gpu',
  upload(data: TypedArray, dtype: DType): GpuHandle {
    gpuInstance();
    return uploadHost(data, dtype);
  },
  download(handle: GpuHandle, dtype: DType, size: number): TypedArray {
    return downloadHandle(handle, dtype, size);
  },
  dispose(handle: GpuHandle): void {
    disposeHandle(handle);
  },
  kernels: gpuKernels,
  compileFused,
};

registerBackend(gpuBackend);

export { gpuMemory, gpuKernelStats, maxKernelOutputs, MAX_GPU_SIZE } from './device.js';
export { probeGpu, GpuUnavailableError, type GpuProbe } from './runtime.js';
export { matmulStats, setTiledMinWork, TILED_MIN_WORK } from './matmul.js';
