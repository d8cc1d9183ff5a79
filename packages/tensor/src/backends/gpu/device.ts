/**
 * The GPU backend's buffers and its kernel runner on gpu.js.
 *
 * Storage: every array is a 1-D gpu.js pipeline texture of float32 values (one value per texel), row-major
 * like the CPU backend. A `GpuHandle` is one array's reference to a `Store`; reshape and stop_gradient return
 * a new handle on the same store, so a store is freed (its texture deleted) when its last handle is disposed,
 * explicitly or by the FinalizationRegistry safety net when the handle is garbage collected.
 *
 * Kernels: each call names a kernel by its generated JS source (gpu.js translates it to GLSL), compiled and
 * cached. gpu.js bakes the output's and the arguments' texture sizes into a kernel, which lets the GL compiler
 * turn gpu.js's index → texel divisions into multiplications; a kernel whose reads need no such arithmetic
 * (`KernelSpec.sizeGeneric`: it reads its arguments only at its own index or at 0, see `read`) is instead
 * compiled once for every size (gpu.js dynamicOutput/dynamicArguments: the sizes are uniforms). Kernels run in
 * gpu.js pipeline + immutable mode, so a result stays on the device as a texture until `download` reads it
 * back. When jit's plan passes an output buffer, the new texture replaces that buffer's old one (the handle
 * object stays the same, so the plan's slot is valid).
 */
import type { DType, TypedArray } from '../../core/dtype.js';
import { allocate } from '../../core/dtype.js';
import { GpuUnavailableError, loadGpuJs, probeGpu } from './runtime.js';

export interface Store {
  /** The texture, a host Float32Array (gpu.js 'cpu' debug mode), or null for an empty array or a freed one. */
  tex: any;
  readonly size: number;
  refs: number;
  /**
   * An exact host copy of int32 values: of an upload (float32 textures hold integers exactly only within
   * ±2^24), or of indices read back once for checking (hostInt32, with gpuIndexChecks.readBack). Cleared
   * when the texture is replaced.
   */
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

/**
 * A shader helper combining the bits of two non-negative integers held in floats (GLSL ES 1.0 has no integer
 * bit operators): bit by bit over 25 bits, a bit of the result set when `op` ('&&' or '||') holds for the two.
 */
function bitwiseHelper(name: string, op: '&&' | '||'): string {
  return `function ${name}(a, b) {
    let r = 0.0;
    let p = 1.0;
    let x = a;
    let y = b;
    for (let k = 0; k < 25; k++) {
      const hx = Math.floor(x * 0.5);
      const hy = Math.floor(y * 0.5);
      if (x - hx * 2.0 == 1.0 ${op} y - hy * 2.0 == 1.0) { r = r + p; }
      x = hx;
      y = hy;
      p = p * 2.0;
    }
    return r;
  }`;
}

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
  bitwiseHelper('xs_bitand', '&&'),
  bitwiseHelper('xs_bitor', '||'),
];

let gpu: any = null;
let gpuMode: string | null = null;
const cache = new Map<string, any>();
let compiles = 0;
let compileMs = 0;

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

/**
 * Kernels compiled so far (`compiled`), how many the cache holds, the milliseconds their first calls took
 * (gpu.js translates, compiles and links a kernel on its first call: this is the compile time, plus one run),
 * the gpu.js mode, and how many textures were read back to the host (`readBacks`: data(), item(), ...).
 */
export function gpuKernelStats(): { compiled: number; cached: number; compileMs: number; mode: string | null; readBacks: number } {
  return { compiled: compiles, cached: cache.size, compileMs, mode: gpuMode, readBacks };
}

/** Textures read back to the host so far (each one waits for the device to finish what was queued before it). */
let readBacks = 0;

/** Whether kernels run as GLSL (every mode but gpu.js's 'cpu' debugging mode), so native GLSL functions can be used. */
export function glslKernels(): boolean {
  gpuInstance();
  return gpuMode !== 'cpu';
}

/** Largest array the flat float32 index arithmetic addresses exactly (see codegen.ts). */
export const MAX_GPU_SIZE = 1 << 24;

/** A GLSL function that a generated kernel calls (a gpu.js native function). */
export interface NativeFunction {
  readonly name: string;
  /**
   * GLSL ES 1.0 source (texture2D is rewritten for WebGL2). A texture argument arrives as three parameters
   * (sampler2D t, ivec2 tSize, ivec3 tDim), as gpu.js passes it.
   */
  readonly source: string;
  readonly returnType: 'Number' | 'Array(4)';
  /** The gpu.js type of each argument as the kernel's JS passes it (a texture counts once), in order. */
  readonly argumentTypes: Readonly<Record<string, string>>;
}

/** A generated kernel: its gpu.js JS source, plus what it is compiled with. */
export interface KernelSpec {
  /** `function (x0, x1, ...) { ... }` */
  readonly source: string;
  /**
   * Compile once for all output and argument sizes (their sizes become uniforms). For kernels that read
   * textures only through `read(x, 'i')` / `read(x, '0.0')`, where uniform sizes cost nothing; elsewhere a
   * uniform size turns each read's index arithmetic into integer divisions (1.5-2x slower reads on llvmpipe).
   */
  readonly sizeGeneric?: boolean;
  /** 'Array(4)': each thread writes one RGBA texel of 4 floats, an internal layout that only other kernels read. */
  readonly returnType?: 'Number' | 'Array(4)';
  /**
   * Outputs beyond the first: the source passes them to xs_out1(v) .. xs_outN(v) (gpu.js createKernelMap,
   * all written in the same pass through WebGL draw buffers).
   */
  readonly extraOutputs?: number;
  readonly natives?: readonly NativeFunction[];
  /** GLSL declarations the natives share (helpers, globals), injected before them. */
  readonly glsl?: string;
}

/**
 * The most outputs one kernel writes: 4 (every WebGL 2 context, and WebGL 1 with WEBGL_draw_buffers, have at
 * least 4 draw buffers), or 1 where gpu.js has no kernel maps (WebGL 1 without the extension).
 */
export function maxKernelOutputs(): number {
  const f = gpuInstance().Kernel.features as { kernelMap?: boolean; channelCount?: number };
  return f.kernelMap ? Math.min(4, f.channelCount ?? 4) : 1;
}

function glslFor(src: string): string {
  return gpuMode === 'webgl2' ? src.replace(/\btexture2D\(/g, 'texture(') : src;
}

/**
 * Reads that need no index arithmetic: an argument of the output's size at the thread's own index is the
 * texel under the fragment (same element count, so the same texture layout), and index 0 is texel (0, 0).
 */
const READERS: readonly NativeFunction[] = [
  { name: 'xs_here', source: 'float xs_here(sampler2D t, ivec2 tSize, ivec3 tDim) { return texture2D(t, vTexCoord).r; }', returnType: 'Number', argumentTypes: { t: 'ArrayTexture(1)' } },
  { name: 'xs_first', source: 'float xs_first(sampler2D t, ivec2 tSize, ivec3 tDim) { return texture2D(t, vec2(0.5) / vec2(tSize)).r; }', returnType: 'Number', argumentTypes: { t: 'ArrayTexture(1)' } },
];

/**
 * The source expression reading texture argument `name` (an array of the backend) at flat index `at`:
 * at the thread's own index `i` (the argument has the output's size) or at `0.0` through READERS where kernels
 * run as GLSL, elsewhere through gpu.js's indexing.
 */
export function read(name: string, at: string): string {
  if (glslKernels() && at === 'i') return `xs_here(${name})`;
  if (glslKernels() && at === '0.0') return `xs_first(${name})`;
  return `${name}[${at}]`;
}

/** The compiled kernel of `spec` for these sizes. `args` names each argument's kind and size. */
function kernelFor(spec: KernelSpec, size: number, args: readonly string[]): any {
  const extra = spec.extraOutputs ?? 0;
  const natives = [...(glslKernels() ? READERS : []), ...(spec.natives ?? [])];
  const sizes = spec.sizeGeneric ? [] : [size, ...args];
  const kinds = args.map((a) => a.replace(/[\d:x]+$/, ''));
  const key = [...sizes, '/', ...kinds, spec.returnType ?? 'Number', extra, spec.glsl ?? '', ...natives.map((n) => n.source), spec.source].join('|');
  let k = cache.get(key);
  if (!k) {
    const g = gpuInstance();
    if (extra >= maxKernelOutputs()) throw new Error(`internal: a gpu kernel writes at most ${maxKernelOutputs()} outputs here (asked for ${extra + 1})`);
    const settings: Record<string, unknown> = {
      output: [size],
      pipeline: true,
      immutable: true,
      precision: 'single',
      tactic: 'precision',
      loopMaxIterations: 1 << 30,
      returnType: spec.returnType ?? 'Number',
      dynamicOutput: Boolean(spec.sizeGeneric),
      dynamicArguments: Boolean(spec.sizeGeneric),
    };
    if (natives.length) settings.nativeFunctions = natives.map((n) => ({ ...n, source: glslFor(n.source) }));
    if (spec.glsl) settings.injectedNative = glslFor(spec.glsl);
    const outs = Array.from({ length: extra }, (_, j) => `function xs_out${j + 1}(v) { return v; }`);
    k = extra ? g.createKernelMap(outs, spec.source, settings) : g.createKernel(spec.source, settings);
    k.xsFresh = true;
    cache.set(key, k);
    compiles++;
  }
  if (spec.sizeGeneric && k.output[0] !== size) k.setOutput([size]);
  return k;
}

/** A texture of an internal layout (e.g. matmul's packed operands): read by kernels, freed by its user. */
export interface TempTexture {
  delete(): void;
}

/**
 * An argument of a generated kernel: an array (read as a texture), a temporary texture, a float uniform, or
 * host data (uploaded by gpu.js).
 */
export type KernelArg = GpuHandle | TempTexture | number | Float32Array;

function argValue(a: KernelArg, where: string): unknown {
  if (typeof a === 'number' || a instanceof Float32Array) return a;
  return 'store' in a ? textureOf(a as GpuHandle, where) : a;
}

/** An argument's kind (what the compiled kernel's code depends on), then its size (what gpu.js may bake in). */
function argKey(a: KernelArg): string {
  if (typeof a === 'number') return 'f';
  if (a instanceof Float32Array) return `h${a.length}`;
  if ('store' in a) return `t${(a as GpuHandle).store.size}`;
  const t = a as { size?: number[]; type?: string };
  return `${t.type}:${t.size?.[0]}x${t.size?.[1]}`;
}

/** Run `spec` over `size` threads; returns its output textures (1 + extraOutputs). */
function launch(where: string, spec: KernelSpec, args: readonly KernelArg[], size: number): any[] {
  if (size > MAX_GPU_SIZE) throw new RangeError(`${where}: arrays of more than ${MAX_GPU_SIZE} elements are not supported on the gpu backend (got ${size})`);
  const values = args.map((a) => argValue(a, where));
  const k = kernelFor(spec, size, args.map(argKey));
  const t0 = k.xsFresh ? performance.now() : 0;
  const r = k(...values);
  if (k.xsFresh) {
    k.xsFresh = false;
    compileMs += performance.now() - t0;
  }
  if (!spec.extraOutputs) return [r];
  return [r.result, ...Array.from({ length: spec.extraOutputs }, (_, j) => r[j])];
}

/**
 * Run the kernel of `spec` (or of a plain source) over `size` output elements.
 * Returns `into` (its texture replaced) when given, else a new handle.
 */
export function runKernel(where: string, spec: KernelSpec | string, args: readonly KernelArg[], size: number, into?: GpuHandle): GpuHandle {
  return runKernels(where, typeof spec === 'string' ? { source: spec } : spec, args, size, [into])[0]!;
}

/** Run a kernel with several outputs of `size` elements each; output j goes into `into[j]` when given. */
export function runKernels(where: string, spec: KernelSpec, args: readonly KernelArg[], size: number, into: readonly (GpuHandle | undefined)[] = []): GpuHandle[] {
  const n = 1 + (spec.extraOutputs ?? 0);
  if (size === 0) return Array.from({ length: n }, (_, j) => into[j] ?? handleOn(newStore(null, 0)));
  return launch(where, spec, args, size).map((tex, j) => place(tex, size, into[j]));
}

/** Run a kernel whose outputs are temporaries of an internal layout (`size` threads; texels, not elements). */
export function runTemp(where: string, spec: KernelSpec, args: readonly KernelArg[], size: number): TempTexture[] {
  return launch(where, spec, args, size);
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
  const h = handleOn(newStore(launch('gpu upload', { source: UPLOAD, sizeGeneric: true }, [f32], n)[0], n));
  if (dtype === 'int32') h.store.host = data.slice() as TypedArray;
  return h;
}

/** Host data → `into`'s buffer (so that a jit plan's slot keeps its handle), or a new one. */
export function uploadInto(data: TypedArray, dtype: DType, into?: GpuHandle): GpuHandle {
  const h = uploadHost(data, dtype);
  if (!into) return h;
  const r = runKernel('copy', { source: `function (x0) { const i = this.thread.x * 1.0; return ${read('x0', 'i')}; }`, sizeGeneric: true }, [h], data.length, into);
  disposeHandle(h);
  return r;
}

/** The int32 values of `h` on the host: its host copy, else read back and kept as its host copy. */
export function hostInt32(h: GpuHandle, size: number): TypedArray {
  const s = h.store;
  if (!s.host) s.host = downloadHandle(h, 'int32', size);
  return s.host;
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
  readBacks++;
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
