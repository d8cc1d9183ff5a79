/**
 * dot_general (JAX lax.dot_general semantics) on a cache-blocked, register-tiled GEMM.
 *
 * Every dot_general is reduced to a batch of B matrix products C[b] (M×N) = A[b] (M×K) · B[b] (K×N), where
 * M / K / N are the products of the lhs free / contracting / rhs free dims. An operand whose axes are already in
 * the order [batch, free, contract] or [batch, contract, free] (ignoring size-1 axes) is used in place: the GEMM
 * takes arbitrary row/column strides, so the four transpose variants of a matmul (A·B, Aᵀ·B, A·Bᵀ, Aᵀ·Bᵀ) need no
 * transposing copy. Any other axis order is first copied into [batch, free, contract] / [batch, contract, free].
 *
 * The float GEMM follows the Goto/BLIS structure:
 *   for jc (NC columns of C):  for pc (KC of K):  pack B[pc.., jc..] into NR-wide panels (Float64Array)
 *     for ic (MC rows of C):  pack A[ic.., pc..] into MR-tall panels (Float64Array)
 *       for each NR panel × MR panel:  MR×NR micro-kernel, accumulators in local variables.
 * Packing converts float32 to float64 once, so the micro-kernel only ever reads Float64Arrays (monomorphic
 * for V8) and **float32 products are accumulated in float64** and rounded to float32 once at the end.
 * Packing buffers are module-level scratch reused across calls. Edges (M, N not multiples of the tile) are
 * zero-padded in the packed panels; the micro-kernel stores only the valid part of its tile.
 * Matrix–vector shapes (M = 1 or N = 1) skip the packing and use dot-product / axpy loops (float64 sums).
 *
 * Float32 matrix–matrix products above a small size (WASM_MIN_WORK) run instead on the WebAssembly SIMD128 kernel
 * in wasm/ (the same Goto/BLIS structure, 7–10× faster), which **sums in float32**; the JS GEMM here serves
 * float64, small products, and every product when XS_WASM=0 is set (or WebAssembly SIMD is unavailable).
 * Large float32 products are split between worker threads sharing the wasm memory (wasm/threads.ts;
 * XS_THREADS=1 keeps one thread), with results identical to the single-threaded kernel's.
 */
import type { DType, TypedArray } from '../../core/dtype.js';
import { type CpuPreparer, check, outputBuffer, sizeOf, transposer } from './util.js';
import { type Sgemm, type SgemmPlan, wasmSgemm } from './wasm/sgemm.js';
import { sgemmPool } from './wasm/threads.js';

// Tile and block sizes (elements). The micro-tile is MR×NR = 4×4: sixteen accumulators plus eight operands
// fit in the 16 XMM registers V8 can allocate on x64 with only light spilling.
const MR = 4;
const NR = 4;
const KC = 256;
const MC = 96; // A block: MC×KC doubles = 192 KiB (L2)
const NC = 2048; // B block: KC×NC doubles = 4 MiB worst case; typical N is far smaller

// One scratch buffer holds both packed blocks (B panel block first, then the A block): the micro-kernel then
// reads a single typed array, which lets V8 keep one base pointer and map check for all eight loads (measured
// ~15% faster than two arrays).
let pack = new Float64Array(KC * (MC + 64));
const edge = new Float64Array(MR * NR);

function ensurePack(n: number): Float64Array {
  if (pack.length < n) pack = new Float64Array(Math.max(n, Math.min(pack.length * 2, KC * (MC + NC))));
  return pack;
}

/** Pack A[i0 .. i0+mc) × [k0 .. k0+kc) into MR-row panels: dst[dOff + ip·kc + k·MR + ii] (ip a multiple of MR). */
function packABlock(A: TypedArray, aOff: number, sAm: number, sAk: number, i0: number, mc: number, k0: number, kc: number, dst: Float64Array, dOff: number): void {
  for (let ip = 0; ip < mc; ip += MR) {
    const mr = Math.min(MR, mc - ip);
    const base = dOff + ip * kc;
    const rowBase = aOff + (i0 + ip) * sAm + k0 * sAk;
    if (mr === MR && sAm === 1) {
      // A stored column-major here (the Aᵀ case): each k reads MR contiguous values
      for (let k = 0; k < kc; k++) {
        const s = rowBase + k * sAk;
        const d = base + k * MR;
        dst[d] = A[s]!;
        dst[d + 1] = A[s + 1]!;
        dst[d + 2] = A[s + 2]!;
        dst[d + 3] = A[s + 3]!;
      }
    } else if (mr === MR) {
      const s0 = rowBase;
      const s1 = rowBase + sAm;
      const s2 = rowBase + 2 * sAm;
      const s3 = rowBase + 3 * sAm;
      for (let k = 0; k < kc; k++) {
        const d = base + k * MR;
        const o = k * sAk;
        dst[d] = A[s0 + o]!;
        dst[d + 1] = A[s1 + o]!;
        dst[d + 2] = A[s2 + o]!;
        dst[d + 3] = A[s3 + o]!;
      }
    } else {
      for (let k = 0; k < kc; k++) {
        const d = base + k * MR;
        for (let ii = 0; ii < MR; ii++) dst[d + ii] = ii < mr ? A[rowBase + ii * sAm + k * sAk]! : 0;
      }
    }
  }
}

/** Pack B[k0 .. k0+kc) × [j0 .. j0+nc) into NR-column panels: dst[jp·kc + k·NR + jj] (jp a multiple of NR). */
function packBBlock(Bm: TypedArray, bOff: number, sBk: number, sBn: number, k0: number, kc: number, j0: number, nc: number, dst: Float64Array): void {
  for (let jp = 0; jp < nc; jp += NR) {
    const nr = Math.min(NR, nc - jp);
    const base = jp * kc;
    const colBase = bOff + k0 * sBk + (j0 + jp) * sBn;
    if (nr === NR && sBn === 1) {
      for (let k = 0; k < kc; k++) {
        const s = colBase + k * sBk;
        const d = base + k * NR;
        dst[d] = Bm[s]!;
        dst[d + 1] = Bm[s + 1]!;
        dst[d + 2] = Bm[s + 2]!;
        dst[d + 3] = Bm[s + 3]!;
      }
    } else if (nr === NR) {
      // B stored as [N, K] (the Bᵀ case): read NR rows of K side by side
      const s0 = colBase;
      const s1 = colBase + sBn;
      const s2 = colBase + 2 * sBn;
      const s3 = colBase + 3 * sBn;
      for (let k = 0; k < kc; k++) {
        const d = base + k * NR;
        const o = k * sBk;
        dst[d] = Bm[s0 + o]!;
        dst[d + 1] = Bm[s1 + o]!;
        dst[d + 2] = Bm[s2 + o]!;
        dst[d + 3] = Bm[s3 + o]!;
      }
    } else {
      for (let k = 0; k < kc; k++) {
        const d = base + k * NR;
        for (let jj = 0; jj < NR; jj++) dst[d + jj] = jj < nr ? Bm[colBase + k * sBk + jj * sBn]! : 0;
      }
    }
  }
}

/**
 * The 4×4 micro-kernel: C[ci + ii·ldc + jj] += Σ_k P[ai + k·4 + ii] · P[bi + k·4 + jj] for ii < mr, jj < nr.
 * (`| 0` on the index arithmetic lets V8 drop its overflow checks.)
 */
function micro4x4(kc: number, P: Float64Array, ai: number, bi: number, C: Float64Array, ci: number, ldc: number, mr: number, nr: number): void {
  let c00 = 0, c01 = 0, c02 = 0, c03 = 0;
  let c10 = 0, c11 = 0, c12 = 0, c13 = 0;
  let c20 = 0, c21 = 0, c22 = 0, c23 = 0;
  let c30 = 0, c31 = 0, c32 = 0, c33 = 0;
  const end = (ai + kc * 4) | 0;
  for (; ai < end; ai = (ai + 4) | 0, bi = (bi + 4) | 0) {
    const a0 = P[ai]!;
    const a1 = P[(ai + 1) | 0]!;
    const a2 = P[(ai + 2) | 0]!;
    const a3 = P[(ai + 3) | 0]!;
    const b0 = P[bi]!;
    const b1 = P[(bi + 1) | 0]!;
    const b2 = P[(bi + 2) | 0]!;
    const b3 = P[(bi + 3) | 0]!;
    c00 += a0 * b0; c01 += a0 * b1; c02 += a0 * b2; c03 += a0 * b3;
    c10 += a1 * b0; c11 += a1 * b1; c12 += a1 * b2; c13 += a1 * b3;
    c20 += a2 * b0; c21 += a2 * b1; c22 += a2 * b2; c23 += a2 * b3;
    c30 += a3 * b0; c31 += a3 * b1; c32 += a3 * b2; c33 += a3 * b3;
  }
  if (mr === MR && nr === NR) {
    let r = ci;
    C[r] += c00; C[r + 1] += c01; C[r + 2] += c02; C[r + 3] += c03;
    r += ldc;
    C[r] += c10; C[r + 1] += c11; C[r + 2] += c12; C[r + 3] += c13;
    r += ldc;
    C[r] += c20; C[r + 1] += c21; C[r + 2] += c22; C[r + 3] += c23;
    r += ldc;
    C[r] += c30; C[r + 1] += c31; C[r + 2] += c32; C[r + 3] += c33;
    return;
  }
  const e = edge;
  e[0] = c00; e[1] = c01; e[2] = c02; e[3] = c03;
  e[4] = c10; e[5] = c11; e[6] = c12; e[7] = c13;
  e[8] = c20; e[9] = c21; e[10] = c22; e[11] = c23;
  e[12] = c30; e[13] = c31; e[14] = c32; e[15] = c33;
  for (let ii = 0; ii < mr; ii++) {
    for (let jj = 0; jj < nr; jj++) C[ci + ii * ldc + jj] += e[ii * NR + jj]!;
  }
}

/**
 * C[cOff + i·ldc + j] += Σ_k A[aOff + i·sAm + k·sAk] · B[bOff + k·sBk + j·sBn]  (float operands, C float64).
 */
export function gemmBlocked(
  M: number, N: number, K: number,
  A: TypedArray, aOff: number, sAm: number, sAk: number,
  Bm: TypedArray, bOff: number, sBk: number, sBn: number,
  C: Float64Array, cOff: number, ldc: number,
): void {
  for (let jc = 0; jc < N; jc += NC) {
    const nc = Math.min(NC, N - jc);
    const ncPad = Math.ceil(nc / NR) * NR;
    for (let pc = 0; pc < K; pc += KC) {
      const kc = Math.min(KC, K - pc);
      const aBase = ncPad * kc; // packed A block starts after the packed B block
      const P = ensurePack(aBase + Math.min(MC, Math.ceil(M / MR) * MR) * kc);
      packBBlock(Bm, bOff, sBk, sBn, pc, kc, jc, nc, P);
      for (let ic = 0; ic < M; ic += MC) {
        const mc = Math.min(MC, M - ic);
        packABlock(A, aOff, sAm, sAk, ic, mc, pc, kc, P, aBase);
        for (let jr = 0; jr < nc; jr += NR) {
          const nr = Math.min(NR, nc - jr);
          const bi = jr * kc;
          const cCol = cOff + jc + jr;
          for (let ir = 0; ir < mc; ir += MR) {
            const mr = Math.min(MR, mc - ir);
            micro4x4(kc, P, aBase + ir * kc, bi, C, cCol + (ic + ir) * ldc, ldc, mr, nr);
          }
        }
      }
    }
  }
}

/** out[oOff + i] = Σ_k X[xOff + i·sxi + k] · v[vOff + k·sv] for i < rows (X contiguous along k); float64 sums. */
function dotRows(rows: number, K: number, X: TypedArray, xOff: number, sxi: number, v: TypedArray, vOff: number, sv: number, out: Float64Array, oOff: number): void {
  const K4 = K - (K % 4);
  for (let i = 0; i < rows; i++) {
    const xr = xOff + i * sxi;
    let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    let k = 0;
    if (sv === 1) {
      for (; k < K4; k += 4) {
        s0 += X[xr + k]! * v[vOff + k]!;
        s1 += X[xr + k + 1]! * v[vOff + k + 1]!;
        s2 += X[xr + k + 2]! * v[vOff + k + 2]!;
        s3 += X[xr + k + 3]! * v[vOff + k + 3]!;
      }
    }
    for (; k < K; k++) s0 += X[xr + k]! * v[vOff + k * sv]!;
    out[oOff + i] = s0 + s1 + (s2 + s3);
  }
}

/** out[oOff + j] = Σ_k v[vOff + k·sv] · X[xOff + k·sxk + j] for j < cols (X contiguous along j); float64 sums. */
function axpyRows(cols: number, K: number, X: TypedArray, xOff: number, sxk: number, v: TypedArray, vOff: number, sv: number, out: Float64Array, oOff: number): void {
  out.fill(0, oOff, oOff + cols);
  let k = 0;
  for (; k + 4 <= K; k += 4) {
    const v0 = v[vOff + k * sv]!;
    const v1 = v[vOff + (k + 1) * sv]!;
    const v2 = v[vOff + (k + 2) * sv]!;
    const v3 = v[vOff + (k + 3) * sv]!;
    const r0 = xOff + k * sxk;
    const r1 = r0 + sxk;
    const r2 = r1 + sxk;
    const r3 = r2 + sxk;
    for (let j = 0; j < cols; j++) out[oOff + j] += v0 * X[r0 + j]! + v1 * X[r1 + j]! + v2 * X[r2 + j]! + v3 * X[r3 + j]!;
  }
  for (; k < K; k++) {
    const a = v[vOff + k * sv]!;
    const r = xOff + k * sxk;
    for (let j = 0; j < cols; j++) out[oOff + j] += a * X[r + j]!;
  }
}

/**
 * Matrix–vector products (M == 1 or N == 1) without packing: C[cOff + i·N + j] = Σ_k A[i, k]·B[k, j].
 * One of each operand's strides is 1 (see dotGeneralKernel), which picks a dot-product or an axpy loop.
 */
export function gemv(
  M: number, N: number, K: number,
  A: TypedArray, aOff: number, sAm: number, sAk: number,
  Bm: TypedArray, bOff: number, sBk: number, sBn: number,
  C: Float64Array, cOff: number,
): void {
  if (M === 1) {
    // row vector a (stride sAk) times B
    if (sBk === 1) dotRows(N, K, Bm, bOff, sBn, A, aOff, sAk, C, cOff);
    else axpyRows(N, K, Bm, bOff, sBk, A, aOff, sAk, C, cOff);
  } else {
    // N == 1: A times column vector b (stride sBk)
    if (sAk === 1 || K === 1) dotRows(M, K, A, aOff, sAm, Bm, bOff, sBk, C, cOff);
    else axpyRows(M, K, A, aOff, sAk, Bm, bOff, sBk, C, cOff);
  }
}

/** Integer (int32, wrapping) or boolean (or-of-and) matmul by direct loops. */
function gemmInt(
  M: number, N: number, K: number,
  A: TypedArray, aOff: number, sAm: number, sAk: number,
  Bm: TypedArray, bOff: number, sBk: number, sBn: number,
  C: TypedArray, cOff: number, isBool: boolean,
): void {
  for (let i = 0; i < M; i++) {
    const ar = aOff + i * sAm;
    for (let j = 0; j < N; j++) {
      const bc = bOff + j * sBn;
      let s = 0;
      for (let k = 0; k < K; k++) s = (s + Math.imul(A[ar + k * sAk]!, Bm[bc + k * sBk]!)) | 0;
      C[cOff + i * N + j] = isBool ? (s !== 0 ? 1 : 0) : s;
    }
  }
}

/**
 * How dot_general reads an operand as [batch, rows, cols] (`rows`·`cols` elements per batch, the axes given):
 * in place, with row and column strides, when its axes are already in that order or with rows and columns
 * swapped (ignoring size-1 axes: the matmul takes any strides, so Aᵀ·B and A·Bᵀ need no copy); else through
 * `copy`, a transposed copy into that order (planned once).
 */
function operandLayout(
  shape: readonly number[], batch: readonly number[], rowAxes: readonly number[], colAxes: readonly number[],
  rows: number, cols: number, dtype: DType,
): { sRow: number; sCol: number; copy?: (x: TypedArray) => TypedArray } {
  const order = batch.concat(rowAxes, colAxes);
  if (isInOrder(shape, order)) return { sRow: cols, sCol: 1 };
  if (isInOrder(shape, batch.concat(colAxes, rowAxes))) return { sRow: 1, sCol: rows };
  return { sRow: cols, sCol: 1, copy: transposer(shape, order, dtype) };
}

/** True when `order` (a permutation of the axes) is increasing once size-1 axes are dropped. */
function isInOrder(shape: readonly number[], order: readonly number[]): boolean {
  let prev = -1;
  for (let i = 0; i < order.length; i++) {
    const ax = order[i]!;
    if (shape[ax] === 1) continue;
    if (ax < prev) return false;
    prev = ax;
  }
  return true;
}

export interface DotGeneralParams {
  contract: readonly [readonly number[], readonly number[]];
  batch: readonly [readonly number[], readonly number[]];
}

let cScratch = new Float64Array(0);

/**
 * M·N·K from which a float32 product goes to wasm: measured break-even near 8×8×8 (both ~2 µs, mostly
 * dot_general's own set-up); wasm is 1.3× faster at 12³, 4× at 32³, 6.5× at 64³.
 */
const WASM_MIN_WORK = 1024;

const dotGeneral: CpuPreparer = (inputs, params: DotGeneralParams, out) => {
  const lhs = inputs[0]!;
  const rhs = inputs[1]!;
  const lc = params.contract[0];
  const rc = params.contract[1];
  const lb = params.batch[0];
  const rb = params.batch[1];
  check(lc.length === rc.length && lb.length === rb.length, 'dot_general: mismatched contracting/batch dimension lists');
  const ls = lhs.shape;
  const rs = rhs.shape;
  const lUsed = new Set(lc.concat(lb));
  const rUsed = new Set(rc.concat(rb));
  const lf: number[] = [];
  const rf: number[] = [];
  for (let d = 0; d < ls.length; d++) if (!lUsed.has(d)) lf.push(d);
  for (let d = 0; d < rs.length; d++) if (!rUsed.has(d)) rf.push(d);
  const prod = (s: readonly number[], ax: readonly number[]): number => {
    let n = 1;
    for (let i = 0; i < ax.length; i++) n *= s[ax[i]!]!;
    return n;
  };
  const Bn = prod(ls, lb);
  const M = prod(ls, lf);
  const K = prod(ls, lc);
  const N = prod(rs, rf);
  for (let i = 0; i < lc.length; i++) check(ls[lc[i]!] === rs[rc[i]!], 'dot_general: contracting dimension sizes differ');
  const size = Bn * M * N;
  check(size === sizeOf(out.shape), 'dot_general: output size does not match operands');

  // lhs as [B, M, K] with strides (aB, sAm, sAk), rhs as [B, K, N] with strides (bB, sBk, sBn)
  const lhsAs = operandLayout(ls, lb, lf, lc, M, K, lhs.dtype);
  const rhsAs = operandLayout(rs, rb, rc, rf, K, N, rhs.dtype);
  const { sRow: sAm, sCol: sAk } = lhsAs;
  const { sRow: sBk, sCol: sBn } = rhsAs;
  // With M == 1 (or K == 1, N == 1) both layouts match and the strides above agree for every index used.
  const aB = M * K;
  const bB = K * N;
  const cB = M * N;
  const integer = out.dtype === 'int32' || out.dtype === 'bool';
  // float32 matrix–matrix products with at least WASM_MIN_WORK multiply-adds per batch run on the WebAssembly
  // SIMD kernel (wasm/sgemm.ts, 7–10× the JS kernel), which sums in float32 rather than float64. The switches
  // (XS_WASM=0: every product on the JS path below) are read at each call, as is the thread pool's readiness.
  const wasmShaped = M > 1 && N > 1 && M * N * K >= WASM_MIN_WORK && out.dtype === 'float32' && lhs.dtype === 'float32' && rhs.dtype === 'float32';
  let planned: { sgemm: Sgemm; plan: SgemmPlan } | undefined; // (the kernel in use changes only with wasmMatmul.fma)

  return (ins, into) => {
    // A planned buffer is zeroed only on the paths that accumulate into it: the wasm kernel writes every element
    // (a [60, 784] weight gradient's memset is a fiftieth of a training step).
    const o = outputBuffer(into, out.dtype, size);
    if (size === 0) return o;
    const A = lhsAs.copy ? lhsAs.copy(ins[0]!) : ins[0]!;
    const Bm = rhsAs.copy ? rhsAs.copy(ins[1]!) : ins[1]!;
    if (integer) {
      for (let b = 0; b < Bn; b++) gemmInt(M, N, K, A, b * aB, sAm, sAk, Bm, b * bB, sBk, sBn, o, b * cB, out.dtype === 'bool');
      return o;
    }
    if (K === 0) return o.fill(0);
    if (wasmShaped) {
      const sgemm = wasmSgemm();
      if (sgemm) {
        if (planned?.sgemm !== sgemm) planned = { sgemm, plan: sgemm.plan(M, N, K, sAm, sAk, sBk, sBn) };
        const plan = planned.plan;
        // Products of at least matmulThreads.minWork (6M multiply-adds: below, handing over costs what a second
        // thread gains) are split between threads (wasm/threads.ts) once the pool is up, with the same sums bit
        // for bit (the pool runs the same kernel config); smaller ones (and all until then, or with XS_THREADS=1)
        // use one. (run returns false, having written nothing, when wasm cannot get the memory: then the JS
        // path runs.)
        const pool = sgemmPool(M * N * K, sgemm.cfg);
        let ok = true;
        for (let b = 0; ok && b < Bn; b++) {
          const f32 = o as Float32Array;
          ok =
            (pool !== undefined && pool.run(M, N, K, A as Float32Array, b * aB, sAm, sAk, Bm as Float32Array, b * bB, sBk, sBn, f32, b * cB)) ||
            sgemm.runPlan(plan, A as Float32Array, b * aB, Bm as Float32Array, b * bB, f32, b * cB);
        }
        if (ok) return o;
      }
    }
    o.fill(0);
    let C: Float64Array;
    if (o instanceof Float64Array) C = o;
    else if (o.length > 1 << 20) C = new Float64Array(o.length); // don't keep huge scratch alive
    else {
      if (cScratch.length < o.length) cScratch = new Float64Array(o.length);
      C = cScratch;
      C.fill(0, 0, o.length);
    }
    const vec = M === 1 || N === 1;
    for (let b = 0; b < Bn; b++) {
      if (vec) gemv(M, N, K, A, b * aB, sAm, sAk, Bm, b * bB, sBk, sBn, C, b * cB);
      else gemmBlocked(M, N, K, A, b * aB, sAm, sAk, Bm, b * bB, sBk, sBn, C, b * cB, N);
    }
    if (C !== o) o.set(C.subarray(0, o.length));
    return o;
  };
};

export const matmulPreparers: ReadonlyMap<string, CpuPreparer> = new Map<string, CpuPreparer>([['dot_general', dotGeneral]]);
