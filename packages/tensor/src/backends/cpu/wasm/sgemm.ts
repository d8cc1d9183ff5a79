/**
 * Float32 matrix product on WebAssembly SIMD128: the fast path of the CPU backend's dot_general (matmul.ts
 * dispatches float32 products to it; XS_WASM=0 turns it off). See kernel.ts for the wasm code.
 *
 * Two kernels: where the engine has relaxed SIMD (Node 22+, current browsers; Node 20 after
 * enableRelaxedSimd()), a 4 × 8 micro-tile with fused multiply-adds (fmaConfig, 1.1–1.2× faster), else a
 * 2 × 12 one with f32x4.mul + f32x4.add (defaultConfig). The choice is made at the first matmul (wasmSgemm);
 * XS_RELAXED_SIMD=0 or wasmMatmul.fma = false keeps the mul + add kernel.
 *
 *   Sgemm.run(M, N, K, A, aOff, sAm, sAk, B, bOff, sBk, sBn, C, cOff)
 *     C[cOff + i·N + j] = Σ_k A[aOff + i·sAm + k·sAk] · B[bOff + k·sBk + j·sBn]
 *
 * The structure is the Goto/BLIS one (as in the JS kernel, matmul.ts), all of it in wasm:
 *   copy A and B as they are into wasm memory (two memcpy's, TypedArray.set)
 *   run (kernel.ts):  for jc (NC columns):  for pc (≤ KC of K):  packB: B[pc.., jc..] into NR-wide panels
 *     for ic (MC rows):  packA: A[ic.., pc..] into MR-tall panels
 *       gemm: every NR panel × MR panel through the micro-kernel, storing (first K block) or adding into C
 *   copy C out (one memcpy)
 * threads.ts runs the same `run` on parts of C from several threads (same sums, bit for bit).
 * Packing reads the operands through their strides, so the four transpose variants (A·B, Aᵀ·B, A·Bᵀ, Aᵀ·Bᵀ)
 * share one micro-kernel; packing is a few percent of the time at the MLP's sizes.
 *
 * **Sums are float32**: the accumulators are f32x4, so a float32 product is summed in float32 (the JS path
 * sums in float64 and rounds once). Each output is a serial float32 sum of ≤ KC products per K block, then
 * the ≤ K/KC block sums are added into C, so |error| ≤ (min(K, KC) + K/KC + 2)·2⁻²⁴·Σ|a·b| in the worst case.
 * Measured at [100×784]·[784×60]: max |error| / Σ|a·b| = 7e-8 for data uniform in [-1, 1], and max
 * relative error 4e-7 for data uniform in [0, 1] (no cancellation). The FMA kernel rounds once per
 * multiply-add instead of twice, so the same bound holds with room to spare; measured errors are the same
 * (6e-8 and 5e-7: the sums' roundings dominate), but the results differ from the mul + add kernel's in the
 * last bits.
 *
 * Memory: one WebAssembly.Memory per kernel, grown as needed (layout: scratch | packed B | packed A | C |
 * A | B). A product needing more than RETAIN_BYTES runs in a temporary memory and instance instead (the
 * compiled code is shared), so one huge product does not pin its memory for the life of the process.
 */
import { SCRATCH_BYTES, gemmModuleBytes, listBytes, skipsZeros, type KernelShape } from './kernel.js';
import { type WasmApi, type WasmMemory, wasmApi } from './api.js';
import { Body, encodeModule, v128 } from './encoder.js';

/** kernel.ts's `run`: the block loops over C[m0..m1, n0..n1) (pointers and strides in bytes). */
export type RunFn = (
  m0: number, m1: number, n0: number, n1: number, K: number, kcMax: number, MC: number, NC: number,
  ra: number, sAm: number, sAk: number, rb: number, sBk: number, sBn: number,
  pc: number, ldc: number, pa: number, pb: number, sp: number, la: number, lb: number,
) => void;
interface Instance {
  readonly memory: WasmMemory;
  /** Views of the whole memory (replaced when the memory grows: growing detaches the old buffer). */
  heap: Float32Array;
  ints: Int32Array;
  readonly run: RunFn;
  /** kernel.ts's allFinite(p, n), where the kernel skips zeros. */
  readonly allFinite?: (p: number, n: number) => number;
}

/**
 * Which operands' zero slices the products of one kernel list (kernel.ts: buildGemm), learned per product
 * signature (sizes and strides, i.e. per matmul of a program): both sides at first; a side whose last K block
 * had fewer than MIN_ZERO_FRACTION zero slices is dropped, and tried again RETRY_AFTER calls later (the data
 * may change). Whether or not a side is listed, the results are the same (exactness: kernel.ts), so this only
 * decides speed.
 */
export class ZeroSkipping {
  private readonly state = new Map<string, SkipState>();
  /** Products run with A's / B's panels listed (for tests). */
  listed = { a: 0, b: 0 };

  constructor(private readonly cfg: SgemmConfig) {}

  /**
   * Whether a product of these sizes may list zero slices (so its layout needs room for the lists): the
   * switches in wasmMatmul allow it, the kernel has it, and the product is big enough.
   */
  considers(M: number, N: number, K: number): boolean {
    return skippingOn(this.cfg) && M * N * K >= wasmMatmul.skipZerosMinWork;
  }

  /** The learned state of the products of one signature (sizes and strides): a planned product keeps it. */
  stateOf(M: number, N: number, K: number, sAm: number, sAk: number, sBk: number, sBn: number): SkipState {
    const key = `${M},${N},${K},${sAm},${sAk},${sBk},${sBn}`;
    let s = this.state.get(key);
    if (!s) {
      if (this.state.size >= 1024) this.state.clear(); // (a program with ever new shapes: start learning again)
      this.state.set(key, (s = { a: true, b: true, retry: RETRY_AFTER }));
    }
    return s;
  }

  /**
   * The list areas to pass to `run` (0: that side not listed): a side only where the other operand is finite
   * (0·∞ and 0·NaN are NaN), as `finite(p, n)` (kernel.ts: allFinite) tells for A's and B's copies.
   */
  choose(s: SkipState, L: SgemmLayout, finite: (p: number, n: number) => number): { la: number; lb: number } {
    if (!(s.a && s.b) && --s.retry <= 0) {
      s.a = s.b = true;
      s.retry = RETRY_AFTER;
    }
    const la = s.a && finite(L.rb, L.bLen) ? L.la : 0;
    const lb = s.b && finite(L.ra, L.aLen) ? L.lb : 0;
    if (la) this.listed.a++;
    if (lb) this.listed.b++;
    return { la, lb };
  }

  /**
   * After a run with lists at la / lb (an area's, in `ints`): drop a side whose lists for the last block of rows
   * (A) or columns (B) and the last K block (what the area holds at the end) had too few zero slices.
   */
  learn(s: SkipState, la: number, lb: number, ints: Int32Array, M: number, N: number, K: number, kcMax: number): void {
    const { cfg } = this;
    const kc = K - Math.floor((K - 1) / kcMax) * kcMax;
    const zeroFraction = (list: number, n: number, W: number): number => {
      const panels = Math.ceil(n / W);
      let kept = 0;
      for (let q = 0; q < panels; q++) kept += ints[(list + q * listBytes(kc)) >> 2]!;
      return 1 - kept / (panels * kc);
    };
    if (la !== 0 && zeroFraction(la, M - Math.floor((M - 1) / cfg.MC) * cfg.MC, cfg.MR) < MIN_ZERO_FRACTION) s.a = false;
    if (lb !== 0 && zeroFraction(lb, N - Math.floor((N - 1) / cfg.NC) * cfg.NC, 4 * cfg.NV) < MIN_ZERO_FRACTION) s.b = false;
  }
}

/** Whether the products of one signature list A's and B's panels now, and when a dropped side is tried again. */
export interface SkipState {
  a: boolean;
  b: boolean;
  retry: number;
}

/**
 * A side is listed again only if at least this fraction of its slices were zero: a list costs a pass over the
 * packed panels and a little more per k than the dense loop. Measured on the seed MLP's products with batches
 * of images (interleaved rounds, Zen 4): 21% zero slices (Fashion-MNIST, x·W₀ᵀ) broke even, 28% (its gradient
 * gᵀ·x) ran 1.07–1.13× faster, 61% (MNIST) 1.25–1.6×; a side with no zeros (the weights) costs a scan for nothing.
 */
const MIN_ZERO_FRACTION = 0.15;
/** Calls after which a side dropped for too few zeros is listed again. */
const RETRY_AFTER = 64;

export const PAGE = 65536;
/** Memory kept between calls at most; a product needing more gets a temporary memory. */
export const RETAIN_BYTES = 64 << 20;
/** The kernel's address arithmetic is signed 32-bit in places: stay below 2 GiB. */
export const MAX_BYTES = 2 ** 31 - PAGE;

/** A micro-kernel shape (with `fma`: relaxed SIMD's fused multiply-add) and its blocking. */
export interface SgemmConfig extends KernelShape {
  /** Rows of A per packed block (a multiple of MR): MC·KC floats stay in L2. */
  MC: number;
  /** K per block: a KC × NR panel of B stays in L1. */
  KC: number;
  /** Columns of B per packed block (a multiple of 4·NV). */
  NC: number;
}

/**
 * A 2 × 12 micro-tile with f32x4.mul + f32x4.add (see kernel.ts for the measurements behind it). KC from 128
 * to 512 and MC from 64 to 256 made no measurable difference at the MLP's sizes, 256³ or 1024³.
 */
export const defaultConfig: SgemmConfig = { MR: 2, NV: 3, MC: 128, KC: 256, NC: 12 * 170 };

/**
 * A 4 × 8 micro-tile with relaxed SIMD's fused multiply-add (kernel.ts), where the engine has it. The same
 * blocking: MC 64–256 and KC 128–512 measured alike with this tile too.
 */
export const fmaConfig: SgemmConfig = { MR: 4, NV: 2, fma: true, MC: 128, KC: 256, NC: 8 * 255 };

/** A compiled kernel with its memory. */
export class Sgemm {
  private readonly wasm: Instance;
  readonly MR: number;
  readonly NR: number;

  /** `module`: the compiled gemmModuleBytes(cfg) (see createSgemm). */
  constructor(
    private readonly api: WasmApi,
    private readonly module: object,
    readonly cfg: SgemmConfig,
  ) {
    this.MR = cfg.MR;
    this.NR = 4 * cfg.NV;
    this.skipping = new ZeroSkipping(cfg);
    this.wasm = this.instantiate(1);
  }

  /** Bytes of the memory kept between calls. */
  get memoryBytes(): number {
    return this.wasm.memory.buffer.byteLength;
  }

  /** An instance of the module on a fresh memory of `pages` pages. */
  private instantiate(pages: number): Instance {
    const memory = new this.api.Memory({ initial: pages });
    const { exports } = new this.api.Instance(this.module, { env: { memory } });
    const allFinite = exports['allFinite'] as Instance['allFinite'];
    return { memory, heap: new Float32Array(memory.buffer), ints: new Int32Array(memory.buffer), run: exports['run'] as RunFn, ...(allFinite ? { allFinite } : {}) };
  }

  /** Which operands' zero slices to list, per product (created with the kernel: see the constructor). */
  readonly skipping: ZeroSkipping;

  /**
   * C[cOff + i·N + j] = Σ_k A[aOff + i·sAm + k·sAk] · B[bOff + k·sBk + j·sBn]  (M, N, K > 0). Returns false,
   * having written nothing, when the product needs more memory than wasm can have (MAX_BYTES) or get.
   */
  run(
    M: number, N: number, K: number,
    A: Float32Array, aOff: number, sAm: number, sAk: number,
    B: Float32Array, bOff: number, sBk: number, sBn: number,
    C: Float32Array, cOff: number,
  ): boolean {
    return this.runPlan(this.plan(M, N, K, sAm, sAk, sBk, sBn), A, aOff, B, bOff, C, cOff);
  }

  /**
   * The plan of a product of these sizes and strides: its memory layouts and its zero-skipping state, worked
   * out once (a matmul that jit prepared keeps one, see cpu/matmul.ts) for any number of `runPlan` calls.
   */
  plan(M: number, N: number, K: number, sAm: number, sAk: number, sBk: number, sBn: number): SgemmPlan {
    return { M, N, K, sAm, sAk, sBk, sBn, dense: undefined, listed: undefined, out: undefined, skip: this.skipping.stateOf(M, N, K, sAm, sAk, sBk, sBn) };
  }

  /** `run` with a plan from `plan` (the switches in wasmMatmul are read at each call, as `run` does). */
  runPlan(p: SgemmPlan, A: Float32Array, aOff: number, B: Float32Array, bOff: number, C: Float32Array, cOff: number): boolean {
    const { M, N, K, sAm, sAk, sBk, sBn } = p;
    const considered = this.skipping.considers(M, N, K);
    const L = considered ? (p.listed ??= sgemmLayout(this.cfg, M, N, K, sAm, sAk, sBk, sBn, 1, true)) : (p.dense ??= sgemmLayout(this.cfg, M, N, K, sAm, sAk, sBk, sBn, 1, false));
    let w = this.wasm;
    if (L.bytes > MAX_BYTES) return false;
    try {
      if (L.bytes > RETAIN_BYTES) w = this.instantiate(Math.ceil(L.bytes / PAGE));
      else if (L.bytes > w.heap.byteLength) {
        w.memory.grow(Math.ceil((L.bytes - w.heap.byteLength) / PAGE));
        w.heap = new Float32Array(w.memory.buffer);
        w.ints = new Int32Array(w.memory.buffer);
      }
    } catch {
      return false; // memory not available (RangeError)
    }
    const { heap } = w;
    // (whole arrays as they are: a subarray is an object per call)
    heap.set(aOff === 0 && A.length === L.aLen ? A : A.subarray(aOff, aOff + L.aLen), L.ra >> 2);
    heap.set(bOff === 0 && B.length === L.bLen ? B : B.subarray(bOff, bOff + L.bLen), L.rb >> 2);
    const { MC, NC } = this.cfg;
    const lists = considered && w.allFinite ? this.skipping.choose(p.skip, L, w.allFinite) : undefined;
    const la = lists === undefined ? 0 : lists.la;
    const lb = lists === undefined ? 0 : lists.lb;
    w.run(0, M, 0, N, K, L.kcMax, MC, NC, L.ra, sAm * 4, sAk * 4, L.rb, sBk * 4, sBn * 4, L.pc, N * 4, L.pa, L.pb, 0, la, lb);
    let out = p.out;
    if (w !== this.wasm) out = heap.subarray(L.pc >> 2, (L.pc >> 2) + M * N); // (a temporary memory: not kept)
    else if (out?.buffer !== heap.buffer || out.byteOffset !== L.pc) out = p.out = new Float32Array(heap.buffer, L.pc, M * N);
    C.set(out, cOff);
    if (lists) this.skipping.learn(p.skip, la, lb, w.ints, M, N, K, L.kcMax);
    return true;
  }
}

/** A product planned by `Sgemm.plan`: sizes and strides, layouts (made on first need), zero-skipping state. */
export interface SgemmPlan {
  readonly M: number;
  readonly N: number;
  readonly K: number;
  readonly sAm: number;
  readonly sAk: number;
  readonly sBk: number;
  readonly sBn: number;
  /** The layouts without and with room for the panels' lists. */
  dense: SgemmLayout | undefined;
  listed: SgemmLayout | undefined;
  /** A view of C in wasm memory, as the last call left it (made again when the memory or the layout changes). */
  out: Float32Array | undefined;
  readonly skip: SkipState;
}

/** Where a product's parts go in wasm memory (byte addresses), for `threads` participants. */
export interface SgemmLayout {
  /** K per block: K split into equal blocks of at most KC (784 → 4 × 196 rather than 3 × 256 + 16). */
  kcMax: number;
  /** Elements of A and B spanned from their offsets (M·K and K·N for the usual layouts). */
  aLen: number;
  bLen: number;
  /**
   * Participant t's area (scratch | packed B | packed A | B panels' lists | A panels' lists) starts at t·area;
   * scratch at +0, packed B at pb, packed A at pa, the lists at lb and la (0 and 0 without `lists`).
   */
  area: number;
  pb: number;
  pa: number;
  lb: number;
  la: number;
  /** C (M × N, row-major), then A, then B as they are. */
  pc: number;
  ra: number;
  rb: number;
  /** Total bytes. */
  bytes: number;
}

/**
 * The memory layout: `threads` areas of scratch | packed B (kcMax × ncMax) | packed A (mcMax × kcMax) (| the
 * panels' lists, with `lists`, for a kernel that skips zeros), then C (M × N), A, B. Packed sizes are for the
 * whole product, an upper bound for any part of it.
 */
export function sgemmLayout(cfg: SgemmConfig, M: number, N: number, K: number, sAm: number, sAk: number, sBk: number, sBn: number, threads: number, lists = false): SgemmLayout {
  const roundUp = (x: number, m: number): number => Math.ceil(x / m) * m;
  const NR = 4 * cfg.NV;
  const kcMax = Math.ceil(K / Math.ceil(K / cfg.KC));
  const ncMax = Math.min(roundUp(N, NR), cfg.NC);
  const mcMax = Math.min(roundUp(M, cfg.MR), cfg.MC);
  const aLen = (M - 1) * sAm + (K - 1) * sAk + 1;
  const bLen = (K - 1) * sBk + (N - 1) * sBn + 1;
  const pb = SCRATCH_BYTES;
  const pa = pb + kcMax * ncMax * 4;
  const lb = lists ? pa + mcMax * kcMax * 4 : 0;
  const la = lists ? lb + (ncMax / NR) * listBytes(kcMax) : 0;
  const end = lists ? la + (mcMax / cfg.MR) * listBytes(kcMax) : pa + mcMax * kcMax * 4;
  const area = roundUp(end, 64); // (a cache line apart)
  const pc = threads * area;
  const ra = pc + M * N * 4;
  const rb = ra + aLen * 4;
  // (+ 12 bytes: allFinite reads B's floats four at a time)
  return { kcMax, aLen, bLen, area, pb, pa, lb, la, pc, ra, rb, bytes: rb + bLen * 4 + (lists ? 12 : 0) };
}

/** A kernel for `cfg`, or undefined where WebAssembly (or its SIMD, or relaxed SIMD for `fma`) is unavailable. */
export function createSgemm(cfg: SgemmConfig = defaultConfig): Sgemm | undefined {
  if (cfg.MC % cfg.MR !== 0 || cfg.NC % (4 * cfg.NV) !== 0) throw new Error('wasm sgemm: MC and NC must be multiples of the tile');
  const bytes = gemmModuleBytes(cfg);
  const api = wasmApi();
  if (!api) return undefined;
  let module: object;
  try {
    module = new api.Module(bytes);
  } catch {
    return undefined; // no SIMD128 (or relaxed SIMD): the module fails to validate
  }
  return new Sgemm(api, module, cfg);
}

/** Switches of the wasm float32 matmul (see {@link wasmMatmul}). */
export interface WasmMatmulConfig {
  /**
   * Whether float32 matmuls may use the wasm kernel. The environment variable XS_WASM=0, read when the
   * library loads, turns it off (every matmul then takes the JS path: for comparison, or as an escape hatch).
   */
  enabled: boolean;
  /**
   * true: the fused multiply-add kernel (fmaConfig) where the engine has relaxed SIMD, else the mul + add one;
   * false: always the mul + add kernel (defaultConfig); undefined (the default): as true, unless the
   * environment variable XS_RELAXED_SIMD is 0 (read at the first matmul). Results differ in the last bits
   * between the two kernels.
   */
  fma: boolean | undefined;
  /**
   * Whether the kernel skips the k whose slice of a packed panel is all zeros (default true; the environment
   * variable XS_SKIP_ZEROS=0, read when the library loads, turns it off). Exact (kernel.ts: buildGemm): the
   * same sums, in the same order, as without; only the FMA kernel (4 × 8) has it.
   */
  skipZeros: boolean;
  /**
   * M·N·K from which a product may skip zeros (default 2^20): below, the decision alone (about a microsecond)
   * is a tenth of the product (the seed MLP's small products, 24K–120K multiply-adds, took 1 µs more each).
   */
  skipZerosMinWork: number;
}

/**
 * Switches of the CPU backend's WebAssembly float32 matmul, read at each product (so tests and benchmarks may
 * flip them at run time); see {@link WasmMatmulConfig}.
 * @example
 * import { wasmMatmul } from '@xs/tensor';
 * wasmMatmul.skipZeros = false; // compute every product, for comparison (the same results)
 */
export const wasmMatmul: WasmMatmulConfig = {
  enabled: (typeof process !== 'undefined' ? process.env.XS_WASM : undefined) !== '0',
  fma: undefined,
  skipZeros: (typeof process !== 'undefined' ? process.env.XS_SKIP_ZEROS : undefined) !== '0',
  skipZerosMinWork: 1 << 20,
};

let envFma: boolean | undefined; // XS_RELAXED_SIMD !== '0', read at the first matmul
// the shared kernels, created on first use (null: not yet; undefined: unavailable here)
let plain: Sgemm | undefined | null = null;
let fused: Sgemm | undefined | null = null;

function fmaWanted(): boolean {
  return wasmMatmul.fma ?? (envFma ??= (typeof process !== 'undefined' ? process.env?.XS_RELAXED_SIMD : undefined) !== '0');
}

/** The kernel float32 matmuls use now (created on first use), enabled or not; undefined without wasm SIMD. */
export function sharedSgemm(): Sgemm | undefined {
  if (fmaWanted()) {
    if (fused === null) fused = createSgemm(fmaConfig); // (undefined without relaxed SIMD)
    if (fused) return fused;
  }
  if (plain === null) plain = createSgemm();
  return plain;
}

/** The shared kernel (created on first use), or undefined when disabled or unavailable. */
export function wasmSgemm(): Sgemm | undefined {
  return wasmMatmul.enabled ? sharedSgemm() : undefined;
}

/** Which wasm float32 matmul kernel runs (see {@link wasmMatmulInfo}). */
export interface WasmMatmulInfo {
  /** Whether it uses relaxed SIMD's fused multiply-add (f32x4.relaxed_madd). */
  fma: boolean;
  /** The micro-tile, rows × columns of C: '4x8' (fma) or '2x12'. */
  tile: string;
  /** Whether it skips all-zero slices of its operands (the FMA kernel, unless XS_SKIP_ZEROS=0; see wasmMatmul). */
  skipsZeros: boolean;
}

/**
 * The wasm kernel that float32 matmuls use (choosing it now if no matmul has yet), or undefined when they
 * take the JS path (XS_WASM=0, or no WebAssembly SIMD here). For logs and benchmarks.
 *
 * @example
 * import { wasmMatmulInfo } from '@xs/tensor';
 * console.log(wasmMatmulInfo()); // { fma: true, tile: '4x8', skipsZeros: true } where relaxed SIMD is on
 */
export function wasmMatmulInfo(): WasmMatmulInfo | undefined {
  const k = wasmSgemm();
  return k && { fma: k.cfg.fma === true, tile: `${k.MR}x${k.NR}`, skipsZeros: skippingOn(k.cfg) };
}

/** Whether products with kernel config `cfg` skip zeros as things stand: the kernel has it, the switch allows it. */
function skippingOn(cfg: SgemmConfig): boolean {
  return wasmMatmul.skipZeros && skipsZeros(cfg);
}

/** Whether the engine validates relaxed SIMD (a module with one f32x4.relaxed_madd). */
export function relaxedSimdAvailable(): boolean {
  const api = wasmApi();
  if (!api) return false;
  const f = new Body([]);
  const x = f.local(v128);
  f.v128Zero().v128Zero().v128Zero().simdOp('f32x4.relaxed_madd').set(x);
  return api.validate(encodeModule([{ name: 'f', body: f }]));
}

// hidden from bundlers, which would otherwise try to resolve (or polyfill) Node's modules for the browser
const NODE_V8 = 'node:v8';

/**
 * Turn on WebAssembly relaxed SIMD where it is off by default (Node 20: V8's --experimental-wasm-relaxed-simd,
 * set at run time), so that float32 matmuls use the fused multiply-add kernel (about 1.15× faster, results
 * different in the last bits). Resolves to whether relaxed SIMD is now available; elsewhere (Node 22+,
 * current browsers: already on; engines without it) it changes nothing. Call it before the first matmul:
 * called later, the matmuls after it switch to the FMA kernel (the matmul threads too, with a new pool), so
 * results before and after differ in the last bits. XS_RELAXED_SIMD=0 still keeps the mul + add kernel.
 *
 * @example
 * import { enableRelaxedSimd, wasmMatmulInfo } from '@xs/tensor';
 * await enableRelaxedSimd(); // first thing, before any tensor op
 * console.log(wasmMatmulInfo()); // { fma: true, tile: '4x8', skipsZeros: true }
 */
export async function enableRelaxedSimd(): Promise<boolean> {
  if (!relaxedSimdAvailable() && typeof process !== 'undefined' && process.versions?.node !== undefined) {
    try {
      const v8 = (await import(/* @vite-ignore */ NODE_V8)) as { setFlagsFromString(flags: string): void };
      v8.setFlagsFromString('--experimental-wasm-relaxed-simd');
    } catch {
      // no node:v8 (another runtime): relaxed SIMD stays as it is
    }
  }
  if (fused === undefined) fused = null; // compile the FMA kernel again at the next matmul
  return relaxedSimdAvailable();
}
