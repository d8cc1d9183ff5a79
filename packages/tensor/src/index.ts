/**
 * `@xs/tensor`: a JAX-like array library for TypeScript with its own reverse-mode autodiff.
 *
 * The top level holds the array type ({@link Tensor}, {@link array}), the transformations ({@link grad},
 * {@link vmap}, {@link jit}, ...) and the creation functions; NumPy's names live in `numpy`, JAX's `lax`
 * primitives in `lax`, activations and losses in `nn`, pytree utilities in `tree`, and keyed random numbers
 * in `random`.
 *
 * @packageDocumentation
 * @example
 * import { array, grad, numpy as np, nn, type Tensor } from '@xs/tensor';
 * const loss = (w: Tensor, x: Tensor) => nn.sigmoid(x.matmul(w)).sum();
 * const w = array([0.5, -0.5]);
 * const x = array([[1, 2], [3, 4]]);
 * const g = grad(loss)(w, x);
 */
import './backends/cpu/index.js';
import './ops/methods.js';

export { Tensor, ConcreteTensor, array, fromTypedArray } from './core/tensor.js';
export type { NestedArray, ArrayLike, FromTypedArrayOptions } from './core/tensor.js';
export type { DType, TypedArray } from './core/dtype.js';
export type { Shape } from './core/shape.js';
export { promoteTypes, DTYPES } from './core/dtype.js';
export type { AbstractValue, Primitive } from './core/trace.js';
export { bind } from './core/trace.js';
export { zeros, ones, full, arange, linspace, eye, zerosLike, onesLike } from './ops/creation.js';
export type { BackendArg } from './ops/creation.js';
export { grad, valueAndGrad, vjp, vjpWithAux, jvp } from './transforms/grad.js';
export type { GradOptions } from './transforms/grad.js';
export { vmap } from './transforms/vmap.js';
export type { VmapOptions, AxisSpec } from './transforms/vmap.js';
export { jit, makeJaxpr, evalJaxpr } from './transforms/jit.js';
export type { JitOptions, JittedFunction, ClosedJaxpr } from './transforms/jit.js';
export type { Jaxpr, Eqn, Var } from './ir/jaxpr.js';
export type { PyTree, TreeDef } from './tree/index.js';
export type { Backend, Kernel, KernelInput, KernelOutput, KernelAval, KernelPreparer, PreparedKernel, FusedKernel } from './backends/backend.js';
export { backendNames, getBackend } from './backends/backend.js';
export { devices, defaultBackend, setDefaultBackend, autoBackend, backendInfo, devicePut, tidy, keep, dispose, memory, GpuUnavailableError } from './device.js';
export { matmulThreads, startMatmulThreads, stopMatmulThreads, matmulThreadStats } from './backends/cpu/wasm/threads.js';
export type { MatmulThreadConfig, MatmulThreadStats } from './backends/cpu/wasm/threads.js';
export { enableRelaxedSimd, wasmMatmul, wasmMatmulInfo } from './backends/cpu/wasm/sgemm.js';
export type { WasmMatmulConfig, WasmMatmulInfo } from './backends/cpu/wasm/sgemm.js';
export { fusedKernelStats } from './backends/cpu/wasm/elementwise.js';
export { bytesToFloat32 } from './backends/cpu/wasm/convert.js';
export { jitProfiler, jitProfile, resetJitProfile, formatJitProfile } from './ir/profile.js';
export type { JitProfileRow, JitProfilerConfig } from './ir/profile.js';
export type { FusedKernelStats } from './backends/cpu/wasm/elementwise.js';
export { probeGpu } from './backends/gpu/runtime.js';
export { gpuIndexChecks } from './backends/gpu/kernels.js';
export type { GpuProbe } from './backends/gpu/runtime.js';
export type { BackendChoice, DeviceInfo, BackendInfo } from './device.js';

export * as numpy from './numpy/index.js';
export * as lax from './lax/index.js';
export * as nn from './nn/index.js';
export * as tree from './tree/index.js';
export * as random from './random/index.js';
