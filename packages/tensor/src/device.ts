/**
 * Devices, JAX style: which backends exist, which one new arrays go to, moving arrays between them, and
 * releasing device memory.
 *
 * - `devices()` lists the backends with whether each can run here and why (not).
 * - `setDefaultBackend('cpu' | 'gpu' | 'auto')` picks where arrays made from host data (`array`, `zeros`,
 *   `random.*`, ...) live; ops then run on their operands' backend. 'auto' takes the GPU when gpu.js has a
 *   real GL context on a hardware GPU (headless-gl in Node, WebGL in a browser; a software renderer such as Mesa llvmpipe is slower than the CPU backend, so 'auto' passes it over) and the CPU otherwise; `backendInfo()` says
 *   which was picked and why. Asking for 'gpu' where there is none throws GpuUnavailableError saying what is
 *   missing (the `gl` package, or a display: run under `xvfb-run -a`).
 * - The environment variable XS_BACKEND (cpu | gpu | auto), read when the library loads, sets the default.
 * - `devicePut(x, 'gpu')` copies arrays (any pytree) to a backend.
 * - Memory: GPU buffers are freed by `x.dispose()`, by `tidy(fn)` (every array created while `fn` runs and
 *   not returned by it is disposed when it returns, as in tf.tidy; `keep(x)` exempts one), and, as a safety
 *   net, when the garbage collector reclaims an array (FinalizationRegistry). `memory()` counts live buffers.
 * The GPU computes in float32: float64 arrays cannot live there (a clear TypeError); int32/bool are stored as
 * float32 texels holding exact integers (int32 exact within ±2^24).
 */
import { type Backend, backendNames, getBackend, registerBackend, setDefaultBackendName } from './backends/backend.js';
import { gpuBackend } from './backends/gpu/index.js';
import { gpuMemory } from './backends/gpu/device.js';
import { GpuUnavailableError, probeGpu } from './backends/gpu/runtime.js';
import { ConcreteTensor, Tensor, concreteTensorHooks } from './core/tensor.js';
import { isStaging } from './core/trace.js';
import * as tree from './tree/index.js';
import type { PyTree } from './tree/index.js';

/**
 * Where new arrays go: `'cpu'`, `'gpu'`, or `'auto'` (the GPU when it can run here, else the CPU).
 * @example setDefaultBackend('auto');
 */
export type BackendChoice = 'cpu' | 'gpu' | 'auto';

/**
 * One backend as {@link devices} lists it (roughly JAX's `jax.Device`).
 * @example devices()[0]   // { name: 'cpu', kind: 'cpu', available: true, description: 'JavaScript typed arrays on the host' }
 */
export interface DeviceInfo {
  /** The backend name, as `setDefaultBackend`/`devicePut` take it. */
  readonly name: string;
  /** The kind of device (JAX's `device.platform`). */
  readonly kind: 'cpu' | 'gpu';
  /** Whether arrays can be placed on it here. */
  readonly available: boolean;
  /** What it runs on, or why it is unavailable. */
  readonly description: string;
}

/**
 * The default backend and why it was chosen, as {@link backendInfo} and {@link setDefaultBackend} return it.
 * @example backendInfo()   // { name: 'cpu', reason: 'the default' }
 */
export interface BackendInfo {
  /** The default backend's name. */
  readonly name: string;
  /** Why it is the default, e.g. `'auto: no gpu (...)'` or `'requested'`. */
  readonly reason: string;
}

registerBackend(gpuBackend);

let current: BackendInfo = { name: 'cpu', reason: 'the default' };

/**
 * Every backend, with whether it can run here (`jax.devices()`, for all platforms).
 * @example devices().filter((d) => d.available).map((d) => d.name)   // ['cpu'] without a GL context
 */
export function devices(): DeviceInfo[] {
  return backendNames().map((name) => {
    if (name === 'gpu') {
      const p = probeGpu();
      return { name, kind: 'gpu', available: p.available, description: p.available ? `gpu.js ${p.mode}: ${p.reason}` : p.reason };
    }
    return { name, kind: 'cpu', available: true, description: name === 'cpu' ? 'JavaScript typed arrays on the host' : name };
  });
}

/**
 * The name of the backend new arrays go to (`jax.default_backend()`).
 * @example defaultBackend()   // 'cpu'
 */
export function defaultBackend(): string {
  return current.name;
}

/**
 * Which backend is the default and why (e.g. what 'auto' found).
 * @example console.log(backendInfo().reason);
 */
export function backendInfo(): BackendInfo {
  return current;
}

/**
 * Set the backend that new arrays go to: 'cpu', 'gpu' (throws GpuUnavailableError saying what is missing
 * when there is no GL context), 'auto' (gpu when available, else cpu), or another registered backend's name.
 * Like JAX's `jax_platform_name` / `jax.default_device`; returns the new {@link BackendInfo}.
 * @example setDefaultBackend('auto').name   // 'gpu' or 'cpu'
 */
export function setDefaultBackend(choice: BackendChoice | string): BackendInfo {
  let info: BackendInfo;
  if (choice === 'auto') {
    info = autoBackend();
  } else if (choice === 'gpu') {
    const p = probeGpu();
    if (!p.available) throw new GpuUnavailableError(p.reason);
    info = { name: 'gpu', reason: `requested: ${p.reason}` };
  } else {
    getBackend(choice);
    info = { name: choice, reason: 'requested' };
  }
  setDefaultBackendName(info.name);
  current = info;
  return info;
}

/**
 * What 'auto' picks here and why, without changing the default: the GPU when gpu.js has a GL context on
 * hardware; the CPU when there is none, or when the context renders in software (Mesa llvmpipe), which is
 * slower than the CPU backend.
 * @example autoBackend()   // { name: 'cpu', reason: 'auto: no gpu (...)' }
 */
export function autoBackend(): BackendInfo {
  const p = probeGpu();
  if (!p.available) return { name: 'cpu', reason: `auto: no gpu (${p.reason})` };
  if (p.software) return { name: 'cpu', reason: `auto: the GL context renders in software (${p.reason}); that is slower than the cpu backend, so ask for 'gpu' to use it anyway` };
  return { name: 'gpu', reason: `auto: ${p.reason}` };
}

function resolveBackend(target: string | Backend): Backend {
  if (typeof target !== 'string') return target;
  if (target === 'gpu') {
    const p = probeGpu();
    if (!p.available) throw new GpuUnavailableError(p.reason);
  }
  return getBackend(target === 'auto' ? autoBackend().name : target);
}

/**
 * Copy every array in `x` (a tensor or a pytree of them) to `backend`; arrays already there are returned as is
 * (`jax.device_put`).
 * @example const onCpu = devicePut({ w: array([1, 2]) }, 'cpu');
 */
export function devicePut<T extends PyTree>(x: T, backend: string | Backend = defaultBackend()): T {
  const b = resolveBackend(backend);
  const put = (t: Tensor): Tensor => {
    const c = t.concrete('devicePut');
    if (c.backend === b) return c;
    const data = c.backend.download(c.handle, c.dtype, c.size);
    return new ConcreteTensor(c.shape, c.dtype, b, b.upload(data, c.dtype));
  };
  if (x instanceof Tensor) return put(x) as unknown as T;
  return tree.map(put, x as PyTree) as unknown as T;
}

// ---------------------------------------------------------------------------------------------------------
// memory

const scopes: Set<ConcreteTensor>[] = [];
const kept = new WeakSet<ConcreteTensor>();

concreteTensorHooks.onCreate = (t) => {
  // arrays made while jit stages a function (folded constants) belong to the compiled function
  if (scopes.length > 0 && !isStaging()) scopes[scopes.length - 1]!.add(t);
};

/**
 * Run `fn` and dispose every array created while it runs, except those it returns (anywhere in a returned
 * pytree) and those passed to `keep`. Nested scopes hand their returned arrays to the enclosing scope.
 * @example const loss = tidy(() => model(x).sub(y).square().mean());   // the intermediates are freed
 */
export function tidy<T>(fn: () => T): T {
  const scope = new Set<ConcreteTensor>();
  scopes.push(scope);
  let result: T;
  try {
    result = fn();
  } finally {
    scopes.pop();
  }
  const returned = new Set<unknown>();
  const returnedTensors: ConcreteTensor[] = [];
  const visit = (v: unknown): void => {
    if (v instanceof ConcreteTensor) {
      returned.add(v.handle);
      returnedTensors.push(v);
    }
  };
  if (result instanceof Tensor) visit(result);
  else if (result !== null && typeof result === 'object') {
    try {
      tree.leaves(result as any).forEach(visit);
    } catch {
      // not a pytree: nothing returned to protect
    }
  }
  for (const t of scope) {
    if (returned.has(t.handle) || kept.has(t)) continue;
    t.dispose();
  }
  const parent = scopes[scopes.length - 1];
  if (parent) for (const t of returnedTensors) if (scope.has(t)) parent.add(t);
  return result;
}

/**
 * Exempt an array from the enclosing `tidy` scopes (it is then freed by `dispose()` or the GC), as `tf.keep`.
 * @example tidy(() => { state.w = keep(state.w.mul(0.9)); });   // state.w outlives the scope
 */
export function keep<T extends Tensor>(x: T): T {
  if (x instanceof ConcreteTensor) {
    kept.add(x);
    for (const s of scopes) s.delete(x);
  }
  return x;
}

/**
 * Dispose every concrete array in `x` (a tensor or a pytree), as `tf.dispose` (JAX: `x.delete()`).
 * @example dispose({ w: array([1, 2]), b: array([0]) });
 */
export function dispose(x: PyTree): void {
  const leaves = x instanceof Tensor ? [x] : tree.leaves(x as any);
  for (const t of leaves) if (t instanceof ConcreteTensor) t.dispose();
}

/**
 * Live device buffers: the GPU backend's textures and their bytes (the CPU's arrays belong to the GC), as
 * `tf.memory()`.
 * @example memory().gpuBuffers   // 0 while everything is on the CPU
 */
export function memory(): {
  /** The number of live GPU textures. */
  gpuBuffers: number;
  /** Their total size in bytes. */
  gpuBytes: number;
} {
  const m = gpuMemory();
  return { gpuBuffers: m.buffers, gpuBytes: m.bytes };
}

// XS_BACKEND picks the default at load.
const fromEnv = typeof process !== 'undefined' ? process.env?.XS_BACKEND : undefined;
if (fromEnv && fromEnv.trim() !== '') {
  const v = fromEnv.trim().toLowerCase();
  if (v !== 'cpu' && v !== 'gpu' && v !== 'auto') throw new Error(`XS_BACKEND=${fromEnv}: expected cpu, gpu or auto`);
  setDefaultBackend(v);
  current = { name: current.name, reason: `XS_BACKEND=${v}: ${current.reason}` };
}

export { GpuUnavailableError };
