/**
 * The GPU backend's buffers and its kernel runner on gpu.js.
 *
 * Storage: every array is a 1-D gpu.js pipeline texture of float32 values (one value per texel), row-major
 * like the CPU backend. A `GpuHandle` is one array's reference to a `Store`; reshape and stop_gradient return
 * a new handle on the same store, so a store is freed (its texture deleted) when its last handle is disposed,
 * explicitly or by the FinalizationRegistry safety net when the handle is garbage collected.
 *
 * Kernels: each call names a kernel by its generated JS source (gpu.js translates it to GLSL), compiled once
 * per (source, output size) and cached. Kernels run in gpu.js pipeline + immutable mode, so a result stays
 * on the device as a texture until `download` reads it back. When jit's plan passes an output buffer, the
 * new texture replaces that buffer's old one (the handle object stays the same, so the plan's slot is valid).
 */
import type { DType, TypedArray } from '../../core/dtype.js';
import { allocate } from '../../core/dtype.js';
import { GpuUnavailableError, loadGpuJs, probeGpu } from './runtime.js';

export interface Store {
  /** The texture, a host Float32Array (gpu.js 'cpu' debug mode), or null for an empty array or a freed one. */
  tex: any;
  readonly size: number;
  refs: number;
  /** An exact host copy of an int32 upload (float32 textures hold integers exactly only within ±2^24). */
  host?: TypedArray;
  freed: boolean;
}

export interface GpuHandle {
  readonly store: Store;
  disposed: boolean;
}

let live = 0;
let liveBytes = 0;
let created = 0;

function freeStore(s: Store): void {
  if (s.freed) return;
  s.freed = true;
  if (s.tex && typeof s.tex.delete === 'function') s.tex.delete();
  s.tex = null;
  s.host = undefined;
  live--;
  liveBytes -= s.size * 4;
}

function release(s: Store): void {
  s.refs--;
  if (s.refs <= 0) freeStore(s);
}

const registry = typeof FinalizationRegistry !== 'undefined' ? new FinalizationRegistry<Store>(release) : null;

function newStore(tex: any, size: number): Store {
  live++;
  created++;
  liveBytes += size * 4;
  return { tex, size, refs: 0, freed: false };
}

/** A new handle holding one reference to `store`. */
export function handleOn(store: Store): GpuHandle {
  store.refs++;
  const h: GpuHandle = { store, disposed: false };
  registry?.register(h, store, h);
  return h;
}

export function disposeHandle(h: GpuHandle): void {
  if (h.disposed) return;
  h.disposed = true;
  registry?.unregister(h);
  release(h.store);
}

/** Live device buffers (stores not yet freed), their bytes, and how many were ever created. */
export function gpuMemory(): { buffers: number; bytes: number; created: number } {
  return { buffers: live, bytes: liveBytes, created };
}

export function textureOf(h: GpuHandle, where: string): any {
  if (h.disposed || h.store.freed) throw new Error(`${where}: the array was disposed (its gpu buffer is freed)`);
  return h.store.tex;
}

// ---------------------------------------------------------------------------------------------------------
// gpu.js instance and kernel cache

const HELPERS = [
  // expm1/log1p: a short Taylor series near 0 (GL compilers may fold Kahan's (u - 1)·x / log(u) trick away)
  `function xs_expm1(x) {
    if (Math.abs(x) < 0.01) { return x * (1.0 + x * (0.5 + x * (0.16666666666666666 + x * (0.041666666666666664 + x * 0.008333333333333333)))); }
    return Math.exp(x) - 1.0;
  }`,
  `function xs_log1p(x) {
    if (Math.abs(x) < 0.01) { return x * (1.0 - x * (0.5 - x * (0.3333333333333333 - x * (0.25 - x * 0.2)))); }
    return Math.log(1.0 + x);
  }`,
  `function xs_tanh(x) {
    const a = Math.abs(x);
    if (a > 10.0) { return x > 0.0 ? 1.0 : -1.0; }
    const e = xs_expm1(2.0 * a);
    const t = e / (e + 2.0);
    return x < 0.0 ? -t : t;
  }`,
  `function xs_sigmoid(x) {
    if (x >= 0.0) { return 1.0 / (1.0 + Math.exp(-x)); }
    const e = Math.exp(x);
    return e / (1.0 + e);
  }`,
  `function xs_sign(x) {
    if (x > 0.0) { return 1.0; }
    if (x < 0.0) { return -1.0; }
    return x;
  }`,
  `function xs_trunc(x) {
    if (x < 0.0) { return Math.ceil(x); }
    return Math.floor(x);
  }`,
  `function xs_round(x) {
    const r = Math.floor(x + 0.5);
    if (r - x == 0.5) {
      const h = r * 0.5;
      if (Math.floor(h) != h) { return r - 1.0; }
    }
    return r;
  }`,
  `function xs_pow(a, b) {
    if (b == 0.0) { return 1.0; }
    if (a < 0.0) {
      const p = Math.pow(-a, b);
      const h = b * 0.5;
      if (Math.floor(h) == h) { return p; }
      return -p;
    }
    if (a == 0.0) {
      if (b > 0.0) { return 0.0; }
      return 1.0 / a;
    }
    return Math.pow(a, b);
  }`,
  `function xs_idiv(a, b) {
    if (b == 0.0) { return 0.0; }
    const aa = Math.abs(a);
    const bb = Math.abs(b);
    let q = Math.floor(aa / bb);
    if (aa - q * bb >= bb) { q = q + 1.0; }
    if (aa - q * bb < 0.0) { q = q - 1.0; }
    if (a * b < 0.0) { return -q; }
    return q;
  }`,
  `function xs_bitand(a, b) {
    let r = 0.0;
    let p = 1.0;
    let x = a;
    let y = b;
    for (let k = 0; k < 25; k++) {
      const hx = Math.floor(x * 0.5);
      const hy = Math.floor(y * 0.5);
      if (x - hx * 2.0 == 1.0 && y - hy * 2.0 == 1.0) { r = r + p; }
      x = hx;
      y = hy;
      p = p * 2.0;
    }
    return r;
  }`,
  `function xs_bitor(a, b) {
    let r = 0.0;
    let p = 1.0;
    let x = a;
    let y = b;
    for (let k = 0; k < 25; k++) {
      const hx = Math.floor(x * 0.5);
      const hy = Math.floor(y * 0.5);
      if (x - hx * 2.0 == 1.0 || y - hy * 2.0 == 1.0) { r = r + p; }
      x = hx;
      y = hy;
      p = p * 2.0;
    }
    return r;
  }`,
];

let gpu: any = null;
let gpuMode: string | null = null;
const cache = new Map<string, any>();
let compiles = 0;

/** The gpu.js GPU instance, created on first use; throws GpuUnavailableError when there is no GL context. */
export function gpuInstance(): any {
  if (gpu) return gpu;
  const p = probeGpu();
  if (!p.available || !p.mode) throw new GpuUnavailableError(p.reason);
  const { GPU } = loadGpuJs();
  gpu = new GPU({ mode: p.mode });
  gpuMode = p.mode;
  for (const src of HELPERS) {
    gpu.addFunction(src, { argumentTypes: Object.fromEntries(argNames(src).map((n) => [n, 'Number'])), returnType: 'Number' });
  }
  return gpu;
}

function argNames(src: string): string[] {
  const m = /\(([^)]*)\)/.exec(src)!;
  return m[1]!.split(',').map((s) => s.trim()).filter(Boolean);
}

export function gpuKernelStats(): { compiled: number; cached: number; mode: string | null } {
  return { compiled: compiles, cached: cache.size, mode: gpuMode };
}

/** Largest array the flat float32 index arithmetic addresses exactly (see codegen.ts). */
export const MAX_GPU_SIZE = 1 << 24;

/** gpu.js bakes each argument's texture size into the compiled kernel: the input sizes are part of the key. */
function kernelFor(source: string, size: number, argSizes = ''): any {
  const key = `${size}|${argSizes}|${source}`;
  let k = cache.get(key);
  if (!k) {
    const g = gpuInstance();
    k = g.createKernel(source, {
      output: [size],
      pipeline: true,
      immutable: true,
      precision: 'single',
      tactic: 'precision',
      loopMaxIterations: 1 << 30,
    });
    cache.set(key, k);
    compiles++;
  }
  return k;
}

/** An argument of a generated kernel: an array (read as a texture) or a float uniform. */
export type KernelArg = GpuHandle | number;

/**
 * Run the kernel of `source` (a `function (x0, x1, ...) { ... }` string) over `size` output elements.
 * Returns `into` (its texture replaced) when given, else a new handle.
 */
export function runKernel(where: string, source: string, args: readonly KernelArg[], size: number, into?: GpuHandle): GpuHandle {
  if (size > MAX_GPU_SIZE) throw new RangeError(`${where}: arrays of more than ${MAX_GPU_SIZE} elements are not supported on the gpu backend (got ${size})`);
  if (size === 0) return into ?? handleOn(newStore(null, 0));
  const k = kernelFor(source, size, args.map((a) => (typeof a === 'number' ? 'f' : a.store.size)).join(','));
  const values = args.map((a) => (typeof a === 'number' ? a : textureOf(a, where)));
  const tex = k(...values);
  return place(tex, size, into);
}

function place(tex: any, size: number, into?: GpuHandle): GpuHandle {
  if (into) {
    const s = into.store;
    if (s.freed || into.disposed) throw new Error('internal: jit output buffer was disposed');
    if (s.tex && s.tex !== tex && typeof s.tex.delete === 'function') s.tex.delete();
    s.tex = tex;
    s.host = undefined;
    return into;
  }
  return handleOn(newStore(tex, size));
}

const UPLOAD = 'function (a) { return a[this.thread.x]; }';

/** Host data → a new device buffer (float64 is refused: gpu.js computes in float32). */
export function uploadHost(data: TypedArray, dtype: DType): GpuHandle {
  if (dtype === 'float64') throw float64Error('upload');
  const n = data.length;
  if (n === 0) return handleOn(newStore(null, 0));
  if (n > MAX_GPU_SIZE) throw new RangeError(`gpu upload: arrays of more than ${MAX_GPU_SIZE} elements are not supported on the gpu backend (got ${n})`);
  const f32 = data instanceof Float32Array ? data : Float32Array.from(data as ArrayLike<number>);
  const h = handleOn(newStore(kernelFor(UPLOAD, n)(f32), n));
  if (dtype === 'int32') h.store.host = data.slice() as TypedArray;
  return h;
}

export function downloadHandle(h: GpuHandle, dtype: DType, size: number): TypedArray {
  const s = h.store;
  if (s.size !== size) throw new Error(`gpu backend: download of ${size} elements from a buffer of ${s.size}`);
  const tex = textureOf(h, 'download');
  const out = allocate(dtype, size);
  if (size === 0) return out;
  if (s.host) {
    out.set(s.host);
    return out;
  }
  const flat: ArrayLike<number> = typeof tex.toArray === 'function' ? tex.toArray() : tex;
  if (dtype === 'bool') for (let i = 0; i < size; i++) out[i] = flat[i] !== 0 ? 1 : 0;
  else if (dtype === 'int32') for (let i = 0; i < size; i++) out[i] = Math.round(flat[i]!);
  else for (let i = 0; i < size; i++) out[i] = flat[i]!;
  return out;
}

export function float64Error(where: string): TypeError {
  return new TypeError(
    `${where}: float64 arrays are not supported on the gpu backend (gpu.js computes in float32); ` +
      `use float32 (x.astype('float32')) or keep float64 work on the cpu backend`,
  );
}
