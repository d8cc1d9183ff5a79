/**
 * The WebAssembly SIMD float32 matmul (src/backends/cpu/wasm): the binary encoder, the kernels (mul + add, and
 * relaxed SIMD's fused multiply-add, turned on here with enableRelaxedSimd) against a naive float64 reference
 * (edge sizes, block boundaries, every layout, offsets, memory growth), and the dispatch from dot_general
 * (batch dims, jit's planned output buffer, the size threshold, XS_WASM=0, the choice of kernel and
 * XS_RELAXED_SIMD=0). With
 *
 *   XS_BENCH=1 npx vitest run test/cpu-wasm-matmul.test.ts
 *
 * it also prints GFLOP/s of the JS and wasm paths measured in the same run (best of many short bursts).
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { cpuBackend } from '../src/backends/cpu/index.js';
import { sleb, uleb } from '../src/backends/cpu/wasm/encoder.js';
import { gemmModuleBytes } from '../src/backends/cpu/wasm/kernel.js';
import { createSgemm, defaultConfig, enableRelaxedSimd, fmaConfig, RETAIN_BYTES, relaxedSimdAvailable, wasmMatmul, wasmMatmulInfo, type SgemmConfig } from '../src/backends/cpu/wasm/sgemm.js';
import { mulberry32 } from './helpers/rng.js';
import { dotMM, label, layouts } from './helpers/matmul.js';

const dot = cpuBackend.kernels.get('dot_general')!;
const U32 = 2 ** -24; // float32 unit roundoff

const rng = mulberry32;
const randInt = (r: () => number, lo: number, hi: number): number => lo + Math.floor(r() * (hi - lo + 1));

function rand32(r: () => number, n: number): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = r() * 2 - 1;
  return a;
}

/** Strides of op(A) as [M, K] and op(B) as [K, N] for A stored [M,K] (or [K,M] when ta), B [K,N] (or [N,K]). */
function strides(M: number, K: number, N: number, ta: boolean, tb: boolean) {
  return { sAm: ta ? 1 : K, sAk: ta ? M : 1, sBk: tb ? 1 : N, sBn: tb ? K : 1 };
}

/** float64 Σ_k A(i,k)·B(k,j) and Σ_k |A(i,k)·B(k,j)| (for the error bound), per output. */
function reference(M: number, N: number, K: number, A: ArrayLike<number>, aOff: number, sAm: number, sAk: number, B: ArrayLike<number>, bOff: number, sBk: number, sBn: number) {
  const val = new Float64Array(M * N);
  const mag = new Float64Array(M * N);
  for (let i = 0; i < M; i++) {
    for (let j = 0; j < N; j++) {
      let s = 0;
      let m = 0;
      for (let k = 0; k < K; k++) {
        const t = A[aOff + i * sAm + k * sAk]! * B[bOff + k * sBk + j * sBn]!;
        s += t;
        m += Math.abs(t);
      }
      val[i * N + j] = s;
      mag[i * N + j] = m;
    }
  }
  return { val, mag };
}

/**
 * The float32 error bound of the wasm kernel: each output is a serial float32 sum of ≤ KC products per K
 * block, then ≤ ceil(K / KC) block sums added into C, so |error| ≤ (terms + 2)·u·Σ|a·b| with
 * terms = min(K, KC) + ceil(K / KC) (products rounded once each, one more rounding to store).
 */
function expectWithinF32Bound(out: ArrayLike<number>, val: Float64Array, mag: Float64Array, K: number, KC: number, what: string): number {
  const terms = Math.min(K, KC) + Math.ceil(K / KC);
  let worst = 0;
  for (let i = 0; i < val.length; i++) {
    const err = Math.abs(out[i]! - val[i]!);
    if (!(err <= (terms + 2) * U32 * mag[i]! + 1e-30)) throw new Error(`${what}: index ${i} expected ${val[i]} got ${out[i]}`);
    if (mag[i]! > 0) worst = Math.max(worst, err / mag[i]!);
  }
  return worst;
}

// relaxed SIMD on (Node 20: V8's flag, process-wide) before any kernel is compiled
beforeAll(async () => {
  expect(await enableRelaxedSimd()).toBe(true);
});

/** Occurrences of a SIMD instruction (0xfd, then the opcode as LEB128) in a module's bytes. */
function countSimd(bytes: Uint8Array, opcode: number): number {
  const seq = [0xfd, ...uleb(opcode)];
  let n = 0;
  for (let i = 0; i + seq.length <= bytes.length; i++) if (seq.every((b, j) => bytes[i + j] === b)) n++;
  return n;
}
const RELAXED_MADD = 0x105;
const F32X4_MUL = 0xe6;

describe('wasm encoder', () => {
  it('LEB128', () => {
    expect(uleb(0)).toEqual([0]);
    expect(uleb(127)).toEqual([127]);
    expect(uleb(128)).toEqual([0x80, 1]);
    expect(uleb(624485)).toEqual([0xe5, 0x8e, 0x26]);
    expect(uleb(2 ** 32 - 1)).toEqual([0xff, 0xff, 0xff, 0xff, 0x0f]);
    expect(sleb(0)).toEqual([0]);
    expect(sleb(63)).toEqual([63]);
    expect(sleb(64)).toEqual([0xc0, 0]);
    expect(sleb(-1)).toEqual([0x7f]);
    expect(sleb(-64)).toEqual([0x40]);
    expect(sleb(-65)).toEqual([0xbf, 0x7f]);
    expect(sleb(-123456)).toEqual([0xc0, 0xbb, 0x78]);
    expect(sleb(-(2 ** 31))).toEqual([0x80, 0x80, 0x80, 0x80, 0x78]);
  });

  it('emits a valid module for every supported micro-tile, small enough for synchronous compilation', () => {
    for (const shape of [defaultConfig, { MR: 4, NV: 2 }, { MR: 2, NV: 4 }, { MR: 8, NV: 1 }, fmaConfig, { MR: 2, NV: 4, fma: true }]) {
      const bytes = gemmModuleBytes(shape);
      expect((globalThis as unknown as { WebAssembly: { validate(b: Uint8Array): boolean } }).WebAssembly.validate(bytes)).toBe(true);
      // browsers refuse synchronous `new WebAssembly.Module` on the main thread above 4 KiB
      expect(bytes.length).toBeLessThan(4096);
    }
    expect(() => gemmModuleBytes({ MR: 3, NV: 2 })).toThrow();
    expect(() => createSgemm({ ...defaultConfig, MC: 7 })).toThrow(); // not a multiple of MR
  });

  it('the FMA kernel has one f32x4.relaxed_madd per accumulator and no f32x4.mul; the mul + add kernel none', () => {
    expect(relaxedSimdAvailable()).toBe(true);
    const fma = gemmModuleBytes(fmaConfig);
    expect(countSimd(fma, RELAXED_MADD)).toBe(fmaConfig.MR * fmaConfig.NV);
    expect(countSimd(fma, F32X4_MUL)).toBe(0);
    const plain = gemmModuleBytes(defaultConfig);
    expect(countSimd(plain, RELAXED_MADD)).toBe(0);
    expect(countSimd(plain, F32X4_MUL)).toBe(defaultConfig.MR * defaultConfig.NV);
  });
});

describe('wasm sgemm kernel against a float64 reference', () => {
  // small blocks so that every block boundary is crossed with small operands
  const tiny: SgemmConfig = { ...defaultConfig, MC: 6, KC: 8, NC: 24 };
  const configs: [string, SgemmConfig][] = [
    ['default (2×12)', defaultConfig],
    ['small blocks', tiny],
    ['4×8 tile', { MR: 4, NV: 2, MC: 8, KC: 16, NC: 16 }],
    ['fma (4×8)', fmaConfig],
    ['fma, small blocks', { ...fmaConfig, MC: 8, KC: 8, NC: 24 }],
    ['fma 2×16 tile', { MR: 2, NV: 4, fma: true, MC: 6, KC: 16, NC: 32 }],
  ];
  for (const [name, cfg] of configs) {
    it(`${name}: edge sizes, every layout, offsets`, () => {
      const sg = createSgemm(cfg)!;
      expect(sg).toBeDefined();
      const MR = cfg.MR;
      const NR = 4 * cfg.NV;
      const r = rng(MR * 100 + cfg.KC);
      const dims = [1, 2, 3, MR - 1, MR, MR + 1, NR - 1, NR, NR + 1, 2 * NR + 1, cfg.MC + 1].filter((d) => d > 0);
      const ks = [1, 2, 3, 4, 5, 7, cfg.KC - 1, cfg.KC, cfg.KC + 1, 2 * cfg.KC + 3];
      let t = 0;
      for (const [ta, tb] of layouts) {
        for (let trial = 0; trial < 40; trial++, t++) {
          const M = dims[randInt(r, 0, dims.length - 1)]!;
          const N = trial === 0 ? cfg.NC + 5 : dims[randInt(r, 0, dims.length - 1)]!;
          const K = ks[t % ks.length]!;
          const aOff = randInt(r, 0, 5);
          const bOff = randInt(r, 0, 5);
          const cOff = randInt(r, 0, 5);
          const A = rand32(r, aOff + M * K + 3);
          const B = rand32(r, bOff + K * N + 3);
          const C = new Float32Array(cOff + M * N + 3).fill(NaN);
          const { sAm, sAk, sBk, sBn } = strides(M, K, N, ta, tb);
          sg.run(M, N, K, A, aOff, sAm, sAk, B, bOff, sBk, sBn, C, cOff);
          const { val, mag } = reference(M, N, K, A, aOff, sAm, sAk, B, bOff, sBk, sBn);
          expectWithinF32Bound(C.subarray(cOff, cOff + M * N), val, mag, K, cfg.KC, `${label(ta, tb)} ${M}x${K}x${N}`);
          // nothing outside the output range is written
          for (let i = 0; i < cOff; i++) expect(C[i]).toBeNaN();
          for (let i = cOff + M * N; i < C.length; i++) expect(C[i]).toBeNaN();
        }
      }
    });
  }

  it('the FMA kernel rounds a·b + c once (the mul + add one rounds a·b first)', () => {
    // a² = 1 + 2⁻¹¹ + 2⁻²⁴ rounds to 1 + 2⁻¹¹ in float32 (a tie, to even); C = 1·c + a·a with c = -(1 + 2⁻¹¹)
    // is 2⁻²⁴ when fused, 0 when not (k = 0 puts c in the accumulator, k = 1 adds a·a to it)
    const a = 1 + 2 ** -12;
    const c = -(1 + 2 ** -11);
    const A = Float32Array.of(1, a);
    const B = Float32Array.of(c, a);
    for (const [cfg, want] of [[fmaConfig, 2 ** -24], [defaultConfig, 0]] as const) {
      const C = new Float32Array(1);
      createSgemm(cfg)!.run(1, 1, 2, A, 0, 2, 1, B, 0, 1, 1, C, 0);
      expect(C[0], cfg.fma ? 'fma' : 'mul + add').toBe(want);
    }
  });

  it('strided operands that neither SIMD packing path covers (both strides ≠ 1)', () => {
    const sg = createSgemm(defaultConfig)!;
    const r = rng(77);
    // every other element of a [M, 2K] array, B with row stride 3N and column stride 3
    const M = 7;
    const K = 13;
    const N = 29;
    const A = rand32(r, M * 2 * K);
    const B = rand32(r, K * 3 * N);
    const C = new Float32Array(M * N);
    sg.run(M, N, K, A, 0, 2 * K, 2, B, 0, 3 * N, 3, C, 0);
    const { val, mag } = reference(M, N, K, A, 0, 2 * K, 2, B, 0, 3 * N, 3);
    expectWithinF32Bound(C, val, mag, K, defaultConfig.KC, 'strided');
  });

  it('non-finite values stay in their own rows and columns (zero padding does not leak NaN)', () => {
    const sg = createSgemm(defaultConfig)!;
    const r = rng(5);
    const M = 5;
    const K = 9;
    const N = 13; // partial tiles in both directions
    const A = rand32(r, M * K);
    const B = rand32(r, K * N);
    A[4 * K + 2] = Infinity; // last row
    B[3 * N + 12] = NaN; // last column
    const C = new Float32Array(M * N);
    sg.run(M, N, K, A, 0, K, 1, B, 0, N, 1, C, 0);
    for (let i = 0; i < M; i++) {
      for (let j = 0; j < N; j++) {
        const v = C[i * N + j]!;
        if (j === N - 1) expect(v).toBeNaN();
        else if (i === M - 1) expect(Math.abs(v)).toBe(Infinity);
        else expect(Number.isFinite(v)).toBe(true);
      }
    }
  });

  it('grows its memory for larger products and stays correct for smaller ones after', () => {
    const sg = createSgemm(defaultConfig)!;
    const r = rng(6);
    const before = sg.memoryBytes;
    for (const [M, K, N] of [
      [30, 40, 50],
      [300, 200, 260],
      [20, 30, 40],
    ] as const) {
      const A = rand32(r, M * K);
      const B = rand32(r, K * N);
      const C = new Float32Array(M * N);
      sg.run(M, N, K, A, 0, K, 1, B, 0, N, 1, C, 0);
      const { val, mag } = reference(M, N, K, A, 0, K, 1, B, 0, N, 1);
      expectWithinF32Bound(C, val, mag, K, defaultConfig.KC, `${M}x${K}x${N}`);
    }
    expect(sg.memoryBytes).toBeGreaterThan(before);
  });

  it(`a product needing more than ${RETAIN_BYTES >> 20} MiB runs in a temporary memory`, () => {
    const sg = createSgemm(defaultConfig)!;
    const r = rng(7);
    const M = 4200;
    const K = 3;
    const N = 4100; // C alone is 69 MB
    const A = rand32(r, M * K);
    const B = rand32(r, K * N);
    const C = new Float32Array(M * N);
    sg.run(M, N, K, A, 0, 1, M, B, 0, N, 1, C, 0); // Aᵀ layout
    for (let t = 0; t < 2000; t++) {
      const i = randInt(r, 0, M - 1);
      const j = randInt(r, 0, N - 1);
      let s = 0;
      let m = 0;
      for (let k = 0; k < K; k++) {
        const p = A[k * M + i]! * B[k * N + j]!;
        s += p;
        m += Math.abs(p);
      }
      expect(Math.abs(C[i * N + j]! - s)).toBeLessThanOrEqual(8 * U32 * m);
    }
    expect(sg.memoryBytes).toBeLessThanOrEqual(RETAIN_BYTES);
  });

  it('declines (returns false, writes nothing) a product beyond 2 GiB of wasm memory', () => {
    const sg = createSgemm(defaultConfig)!;
    const C = new Float32Array(4).fill(7);
    // 30000 × 30000 outputs would need 3.6 GB of wasm memory; nothing is read or written
    expect(sg.run(30000, 30000, 1, new Float32Array(1), 0, 1, 1, new Float32Array(1), 0, 1, 1, C, 0)).toBe(false);
    expect(Array.from(C)).toEqual([7, 7, 7, 7]);
  });
});


/** A float32 result of a float64 sum rounded once (the JS path): within an ulp of the reference. */
function expectF64Summed(out: Float32Array, val: Float64Array, mag: Float64Array): void {
  for (let i = 0; i < val.length; i++) expect(Math.abs(out[i]! - val[i]!)).toBeLessThanOrEqual(2 * U32 * Math.abs(val[i]!) + 1e-13 * mag[i]!);
}

describe('dot_general dispatch to wasm', () => {
  // (on even when the suite runs with XS_WASM=0 or XS_RELAXED_SIMD=0)
  const initially = { ...wasmMatmul };
  beforeEach(() => {
    wasmMatmul.enabled = true;
    wasmMatmul.fma = undefined;
  });
  afterEach(() => {
    Object.assign(wasmMatmul, initially);
  });

  it('batched products in every layout, each batch against the reference', () => {
    const r = rng(21);
    for (const [ta, tb] of layouts) {
      for (const [batch, M, K, N] of [
        [[3], 37, 50, 29],
        [[2, 2], 13, 8, 25],
        [[4], 2, 300, 12],
      ] as const) {
        const nb = batch.reduce((a, b) => a * b, 1);
        const A = rand32(r, nb * M * K);
        const B = rand32(r, nb * K * N);
        const out = dotMM(A, B, M, K, N, ta, tb, [...batch]);
        const { sAm, sAk, sBk, sBn } = strides(M, K, N, ta, tb);
        for (let b = 0; b < nb; b++) {
          const { val, mag } = reference(M, N, K, A, b * M * K, sAm, sAk, B, b * K * N, sBk, sBn);
          expectWithinF32Bound(out.subarray(b * M * N, (b + 1) * M * N), val, mag, K, defaultConfig.KC, `batch ${b} ${label(ta, tb)}`);
        }
      }
    }
  });

  it("writes into jit's planned output buffer", () => {
    const r = rng(22);
    const [M, K, N] = [45, 70, 33];
    for (const [ta, tb] of layouts) {
      const A = rand32(r, M * K);
      const B = rand32(r, K * N);
      const planned = new Float32Array(M * N).fill(NaN);
      const out = dotMM(A, B, M, K, N, ta, tb, [], planned);
      expect(out).toBe(planned);
      const { sAm, sAk, sBk, sBn } = strides(M, K, N, ta, tb);
      const { val, mag } = reference(M, N, K, A, 0, sAm, sAk, B, 0, sBk, sBn);
      expectWithinF32Bound(out, val, mag, K, defaultConfig.KC, `planned ${label(ta, tb)}`);
    }
  });

  it('MLP shapes: relative error (to Σ|a·b|) below 1e-5 for K = 784 (float32 sums), in every layout', () => {
    const r = rng(23);
    const cases: [number, number, number][] = [
      [100, 784, 60],
      [784, 100, 60],
      [100, 60, 784],
    ];
    for (const [M, K, N] of cases) {
      for (const [ta, tb] of layouts) {
        const A = rand32(r, M * K);
        const B = rand32(r, K * N);
        const out = dotMM(A, B, M, K, N, ta, tb);
        const { sAm, sAk, sBk, sBn } = strides(M, K, N, ta, tb);
        const { val, mag } = reference(M, N, K, A, 0, sAm, sAk, B, 0, sBk, sBn);
        const worst = expectWithinF32Bound(out, val, mag, K, defaultConfig.KC, `${M}x${K}x${N} ${label(ta, tb)}`);
        expect(worst).toBeLessThan(1e-5);
      }
    }
  });

  it('float32 goes to wasm above the threshold (float32 sums differ from the JS float64 ones); XS_WASM off restores JS', () => {
    const r = rng(24);
    const [M, K, N] = [40, 784, 30];
    const A = rand32(r, M * K);
    const B = rand32(r, K * N);
    const viaWasm = dotMM(A, B, M, K, N, false, true);
    wasmMatmul.enabled = false;
    const viaJs = dotMM(A, B, M, K, N, false, true);
    // the JS path sums in float64 and rounds once: within an ulp of the reference
    const { val, mag } = reference(M, N, K, A, 0, K, 1, B, 0, 1, K);
    expectF64Summed(viaJs, val, mag);
    expect(Array.from(viaWasm)).not.toEqual(Array.from(viaJs));
  });

  it('tiny products, matrix–vector shapes, float64 and int32 stay on the JS path', () => {
    const r = rng(25);
    // 8×8×8 = 512 < threshold
    const checks: [number, number, number][] = [
      [8, 8, 8],
      [1, 500, 40],
      [40, 500, 1],
    ];
    for (const [M, K, N] of checks) {
      const A = rand32(r, M * K);
      const B = rand32(r, K * N);
      const out = dotMM(A, B, M, K, N, false, false);
      const { val, mag } = reference(M, N, K, A, 0, K, 1, B, 0, N, 1);
      expectF64Summed(out, val, mag);
    }
    const A64 = Float64Array.from(rand32(r, 30 * 40));
    const B64 = Float64Array.from(rand32(r, 40 * 20));
    const o64 = dot(
      [
        { handle: A64, shape: [30, 40], dtype: 'float64' },
        { handle: B64, shape: [40, 20], dtype: 'float64' },
      ],
      { contract: [[1], [0]], batch: [[], []] },
      { shape: [30, 20], dtype: 'float64' },
    );
    expect(o64).toBeInstanceOf(Float64Array);
    const { val } = reference(30, 20, 40, A64, 0, 40, 1, B64, 0, 20, 1);
    for (let i = 0; i < val.length; i++) expect(Math.abs(o64[i]! - val[i]!)).toBeLessThan(1e-13);
    const I = Int32Array.from({ length: 30 * 40 }, () => randInt(r, -9, 9));
    const J = Int32Array.from({ length: 40 * 20 }, () => randInt(r, -9, 9));
    const oi = dot(
      [
        { handle: I, shape: [30, 40], dtype: 'int32' },
        { handle: J, shape: [40, 20], dtype: 'int32' },
      ],
      { contract: [[1], [0]], batch: [[], []] },
      { shape: [30, 20], dtype: 'int32' },
    );
    expect(oi).toBeInstanceOf(Int32Array);
    expect(Array.from(oi)).toEqual(Array.from(reference(30, 20, 40, I, 0, 40, 1, J, 0, 20, 1).val));
  });

  it('K = 0 gives zeros', () => {
    const planned = new Float32Array(50 * 40).fill(NaN);
    const out = dotMM(new Float32Array(0), new Float32Array(0), 50, 0, 40, false, false, [], planned);
    expect(out).toBe(planned);
    expect(out.every((v) => v === 0)).toBe(true);
  });

  it('the FMA kernel (4×8) where relaxed SIMD is on; wasmMatmul.fma = false brings back the 2×12 mul + add one', () => {
    const r = rng(26);
    const [M, K, N] = [100, 784, 60];
    const A = rand32(r, M * K);
    const B = rand32(r, K * N);
    const direct = (cfg: SgemmConfig): Float32Array => {
      const C = new Float32Array(M * N);
      createSgemm(cfg)!.run(M, N, K, A, 0, K, 1, B, 0, 1, K, C, 0);
      return C;
    };
    const { val, mag } = reference(M, N, K, A, 0, K, 1, B, 0, 1, K);
    wasmMatmul.fma = process.env.XS_RELAXED_SIMD === '0' ? true : undefined; // (auto, unless the suite runs with it off)
    expect(wasmMatmulInfo()).toEqual({ fma: true, tile: '4x8' });
    const fused = dotMM(A, B, M, K, N, false, true);
    expect(Array.from(fused)).toEqual(Array.from(direct(fmaConfig)));
    expectWithinF32Bound(fused, val, mag, K, fmaConfig.KC, 'fma');
    wasmMatmul.fma = false;
    expect(wasmMatmulInfo()).toEqual({ fma: false, tile: '2x12' });
    const plain = dotMM(A, B, M, K, N, false, true);
    expect(Array.from(plain)).toEqual(Array.from(direct(defaultConfig)));
    expectWithinF32Bound(plain, val, mag, K, defaultConfig.KC, 'mul + add');
    expect(Array.from(plain)).not.toEqual(Array.from(fused)); // the sums differ in the last bits
    wasmMatmul.enabled = false;
    expect(wasmMatmulInfo()).toBeUndefined();
  });

  it('a fresh process: the mul + add kernel where relaxed SIMD is off (Node 20), the FMA one after enableRelaxedSimd', () => {
    const pkg = path.join(path.dirname(fileURLToPath(import.meta.url)), '..');
    const script = `
      import { enableRelaxedSimd, numpy as np, wasmMatmulInfo } from './src/index.ts';
      import { relaxedSimdAvailable } from './src/backends/cpu/wasm/sgemm.ts';
      const before = relaxedSimdAvailable();
      const x = np.ones([64, 64]);
      const s1 = np.matmul(x, x).sum().item();
      const first = wasmMatmulInfo();
      const enabled = await enableRelaxedSimd();
      const s2 = np.matmul(x, x).sum().item();
      console.log(JSON.stringify({ before, first, enabled, after: wasmMatmulInfo(), s1, s2 }));`;
    const res = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      cwd: pkg,
      env: { ...process.env, XS_RELAXED_SIMD: '', XS_WASM: '1' },
      encoding: 'utf8',
      timeout: 120_000,
    });
    expect(res.status, res.stderr).toBe(0);
    const out = JSON.parse(res.stdout.trim()) as { before: boolean; first: unknown; enabled: boolean; after: unknown; s1: number; s2: number };
    expect(out.first).toEqual(out.before ? { fma: true, tile: '4x8' } : { fma: false, tile: '2x12' });
    expect(out.enabled).toBe(true);
    expect(out.after).toEqual({ fma: true, tile: '4x8' });
    expect([out.s1, out.s2]).toEqual([64 ** 3, 64 ** 3]);
  });

  it('XS_RELAXED_SIMD=0 in the environment, read at the first matmul, keeps the mul + add kernel', async () => {
    vi.resetModules();
    try {
      const mod = await import('../src/backends/cpu/wasm/sgemm.js');
      mod.wasmMatmul.enabled = true; // (even when the suite runs with XS_WASM=0)
      vi.stubEnv('XS_RELAXED_SIMD', '0'); // after the library loads, before its first matmul
      expect(mod.wasmMatmulInfo()).toEqual({ fma: false, tile: '2x12' });
      mod.wasmMatmul.fma = true; // the run-time switch overrides it
      expect(mod.wasmMatmulInfo()).toEqual({ fma: true, tile: '4x8' });
    } finally {
      vi.unstubAllEnvs();
      vi.resetModules();
    }
    vi.stubEnv('XS_RELAXED_SIMD', '1');
    try {
      const fresh = await import('../src/backends/cpu/wasm/sgemm.js');
      fresh.wasmMatmul.enabled = true;
      expect(fresh.wasmMatmulInfo()).toEqual({ fma: true, tile: '4x8' });
    } finally {
      vi.unstubAllEnvs();
      vi.resetModules();
    }
  });

  it('XS_WASM=0 in the environment disables it when the library loads', async () => {
    vi.stubEnv('XS_WASM', '0');
    vi.resetModules();
    try {
      const mod = await import('../src/backends/cpu/wasm/sgemm.js');
      expect(mod.wasmMatmul.enabled).toBe(false);
      expect(mod.wasmSgemm()).toBeUndefined();
    } finally {
      vi.unstubAllEnvs();
      vi.resetModules();
    }
    vi.stubEnv('XS_WASM', '1');
    try {
      const fresh = await import('../src/backends/cpu/wasm/sgemm.js');
      expect(fresh.wasmMatmul.enabled).toBe(true);
      expect(fresh.wasmSgemm()).toBeDefined();
    } finally {
      vi.unstubAllEnvs();
      vi.resetModules();
    }
  });
});

describe.runIf(!!process.env.XS_BENCH)('wasm vs JS matmul throughput (XS_BENCH=1)', () => {
  it('prints GFLOP/s', () => {
    const r = rng(1);
    const cases: [string, number, number, number, boolean, boolean][] = [
      ['[100x784]·[784x60]', 100, 784, 60, false, false],
      ['x·W1ᵀ [100x784]·[60x784]ᵀ', 100, 784, 60, false, true],
      ['grad W1 [100x784]ᵀ·[100x60]', 784, 100, 60, true, false],
      ['grad x [100x60]·[784x60]ᵀ', 100, 60, 784, false, true],
      ['256³ A·B', 256, 256, 256, false, false],
      ['256³ Aᵀ·B', 256, 256, 256, true, false],
      ['256³ A·Bᵀ', 256, 256, 256, false, true],
      ['1024³ A·B', 1024, 1024, 1024, false, false],
      ['1024³ Aᵀ·B', 1024, 1024, 1024, true, false],
      ['1024³ A·Bᵀ', 1024, 1024, 1024, false, true],
    ];
    // Process CPU time (so time spent descheduled on a shared machine does not count) of bursts of ≥ 30 ms,
    // JS and wasm interleaved; best and median over the rounds.
    const cpuMs = (): number => {
      const c = process.cpuUsage();
      return (c.user + c.system) / 1000;
    };
    const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
    const lines: string[] = [];
    for (const [name, M, K, N, ta, tb] of cases) {
      const A = rand32(r, M * K);
      const B = rand32(r, K * N);
      const flops = 2 * M * N * K;
      const rates: number[][] = [[], []]; // JS, wasm (GFLOP/s)
      const reps = [1, 1];
      for (const w of [0, 1]) {
        wasmMatmul.enabled = w === 1;
        const t0 = cpuMs();
        dotMM(A, B, M, K, N, ta, tb);
        reps[w] = Math.max(1, Math.ceil(30 / Math.max(cpuMs() - t0, 0.01)));
      }
      const rounds = flops > 1e9 ? 3 : 9;
      for (let round = 0; round < rounds; round++) {
        for (const w of [0, 1]) {
          wasmMatmul.enabled = w === 1;
          const t0 = cpuMs();
          for (let i = 0; i < reps[w]!; i++) dotMM(A, B, M, K, N, ta, tb);
          rates[w]!.push((flops * reps[w]!) / ((cpuMs() - t0) * 1e6));
        }
      }
      wasmMatmul.enabled = true;
      const [js, wa] = rates as [number[], number[]];
      const f = (x: number): string => x.toFixed(1).padStart(5);
      lines.push(`${name.padEnd(30)} JS best ${f(Math.max(...js))} median ${f(median(js))} | wasm best ${f(Math.max(...wa))} median ${f(median(wa))} GFLOP/s | median ratio ${(median(wa) / median(js)).toFixed(1)}×`);
    }
    console.log(lines.join('\n'));
  });
});
