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
import fc from 'fast-check';
import { gemmModuleBytes, listBytes } from '../src/backends/cpu/wasm/kernel.js';
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

  it('emits a valid module for every supported micro-tile; the two the library uses small enough for synchronous compilation', () => {
    for (const shape of [defaultConfig, { MR: 4, NV: 2 }, { MR: 2, NV: 4 }, { MR: 8, NV: 1 }, fmaConfig, { MR: 2, NV: 4, fma: true }]) {
      const bytes = gemmModuleBytes(shape);
      expect((globalThis as unknown as { WebAssembly: { validate(b: Uint8Array): boolean } }).WebAssembly.validate(bytes)).toBe(true);
      // browsers refuse synchronous `new WebAssembly.Module` on the main thread above 4 KiB
      if (shape === defaultConfig || shape === fmaConfig) expect(bytes.length).toBeLessThan(4096);
    }
    expect(() => gemmModuleBytes({ MR: 3, NV: 2 })).toThrow();
    expect(() => createSgemm({ ...defaultConfig, MC: 7 })).toThrow(); // not a multiple of MR
  });

  it('the FMA kernel has one f32x4.relaxed_madd per accumulator in each of its two K loops (every k, listed k) and no f32x4.mul; the mul + add kernel none', () => {
    expect(relaxedSimdAvailable()).toBe(true);
    const fma = gemmModuleBytes(fmaConfig);
    expect(countSimd(fma, RELAXED_MADD)).toBe(2 * fmaConfig.MR * fmaConfig.NV);
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

describe('wasm sgemm: skipping zero slices of packed panels', () => {
  const initially = { ...wasmMatmul };
  beforeEach(() => {
    wasmMatmul.skipZerosMinWork = 0; // (small products here)
  });
  afterEach(() => {
    Object.assign(wasmMatmul, initially);
  });
  type WasmExports = Record<string, (...a: number[]) => number>;
  const instantiate = (cfg: SgemmConfig): { ints: Int32Array; floats: Float32Array; ex: WasmExports } => {
    const W = (globalThis as unknown as { WebAssembly: { Memory: new (d: { initial: number }) => { buffer: ArrayBuffer }; Module: new (b: Uint8Array) => object; Instance: new (m: object, i: object) => { exports: WasmExports } } }).WebAssembly;
    const memory = new W.Memory({ initial: 2 });
    const ex = new W.Instance(new W.Module(gemmModuleBytes(cfg)), { env: { memory } }).exports;
    return { ints: new Int32Array(memory.buffer), floats: new Float32Array(memory.buffer), ex };
  };

  it('scan lists, per packed panel, the k whose slice has a nonzero bit (-0 included); allFinite spots NaN and ±∞', () => {
    const { ints, floats, ex } = instantiate(fmaConfig);
    const W = 8;
    const kc = 6;
    const p = 4096; // two panels of 8 × 6
    for (let i = 0; i < 2 * W * kc; i++) floats[p / 4 + i] = 0;
    floats[p / 4 + 1 * W + 3] = 2; // panel 0, k = 1
    floats[p / 4 + 4 * W + 7] = -0; // panel 0, k = 4 (a -0 is kept)
    floats[p / 4 + W * kc + 5 * W] = 2 ** -149; // panel 1, k = 5 (the smallest float32 subnormal)
    const list = 8192;
    ex['scan']!(p, 2, kc, list, W);
    const read = (q: number): number[] => {
      const at = (list + q * listBytes(kc)) / 4;
      return Array.from(ints.subarray(at + 1, at + 1 + ints[at]!));
    };
    expect(read(0)).toEqual([1, 4]);
    expect(read(1)).toEqual([5]);
    floats.fill(1.5, 100, 111);
    expect(ex['allFinite']!(400, 11)).toBe(1);
    for (const bad of [NaN, Infinity, -Infinity]) {
      floats[110] = bad;
      expect(ex['allFinite']!(400, 11)).toBe(0);
      floats[110] = 1.5;
    }
  });

  it('gemm loops over a panel list when given one (a k left off the list is left out of the sums)', () => {
    const { ints, floats, ex } = instantiate(fmaConfig);
    const [MR, NR, kc] = [4, 8, 3];
    const pa = 1024;
    const pb = 2048;
    const pc = 3072;
    const la = 4096;
    for (let k = 0; k < kc; k++) {
      for (let r = 0; r < MR; r++) floats[pa / 4 + k * MR + r] = k + 1; // A[r, k] = k + 1
      for (let c = 0; c < NR; c++) floats[pb / 4 + k * NR + c] = 1; // B[k, c] = 1
    }
    const C = (): number[] => Array.from(floats.subarray(pc / 4, pc / 4 + MR * NR));
    ex['gemm']!(MR, NR, kc, pa, pb, pc, NR * 4, 1, 0, 0, 0); // dense: 1 + 2 + 3
    expect(C()).toEqual(new Array(MR * NR).fill(6));
    ints.set([2, 0, 2], la / 4); // A's panel lists k = 0 and 2 only
    ex['gemm']!(MR, NR, kc, pa, pb, pc, NR * 4, 1, 0, la, 0);
    expect(C()).toEqual(new Array(MR * NR).fill(4));
    ints.set([0], la / 4); // an empty list: every sum is zero
    ex['gemm']!(MR, NR, kc, pa, pb, pc, NR * 4, 1, 0, la, 0);
    expect(C()).toEqual(new Array(MR * NR).fill(0));
  });

  it('a zero slice of A opposite an infinite value of B is not skipped: NaN as in the dense product', () => {
    const sg = createSgemm(fmaConfig)!;
    const [M, N, K] = [8, 16, 40];
    const A = new Float32Array(M * K).fill(0.5);
    for (let i = 0; i < M; i++) for (let k = 0; k < K; k += 2) A[i * K + k] = 0; // half of A's slices are zero
    const B = new Float32Array(K * N).fill(0.25);
    B[2 * N + 3] = Infinity; // row k = 2, where A is zero: 0·∞ = NaN in column 3
    const C = new Float32Array(M * N);
    wasmMatmul.skipZeros = true;
    sg.run(M, N, K, A, 0, K, 1, B, 0, N, 1, C, 0);
    for (let i = 0; i < M; i++) for (let j = 0; j < N; j++) expect(C[i * N + j]).toBe(j === 3 ? NaN : 0.5 * 0.25 * (K / 2));
    expect(sg.skipping.listed.a).toBe(0); // (A has zero slices, but B is not finite)
    B[2 * N + 3] = 0.25;
    sg.run(M, N, K, A, 0, K, 1, B, 0, N, 1, C, 0);
    expect(sg.skipping.listed.a).toBe(1);
    for (let i = 0; i < M * N; i++) expect(C[i]).toBe(0.5 * 0.25 * (K / 2));
  });

  for (const [name, cfg] of [['fma (4×8)', fmaConfig], ['fma, small blocks', { ...fmaConfig, MC: 8, KC: 8, NC: 24 }]] as [string, SgemmConfig][]) {
    it(`${name}: the same results as without skipping, bit for bit (random sizes, layouts, zero slices, NaN and ±∞)`, () => {
      const skipping = createSgemm(cfg)!;
      const dense = createSgemm(cfg)!;
      fc.assert(
        fc.property(
          fc.record({
            M: fc.integer({ min: 1, max: 40 }),
            N: fc.integer({ min: 1, max: 40 }),
            K: fc.integer({ min: 1, max: 300 }),
            layout: fc.integer({ min: 0, max: 3 }),
            zeroSlicesA: fc.double({ min: 0, max: 1, noNaN: true }),
            zeroSlicesB: fc.double({ min: 0, max: 1, noNaN: true }),
            zeros: fc.double({ min: 0, max: 1, noNaN: true }),
            special: fc.constantFrom(0, NaN, Infinity, -Infinity),
            specialIn: fc.constantFrom('A', 'B'),
            seed: fc.integer(),
          }),
          ({ M, N, K, layout, zeroSlicesA, zeroSlicesB, zeros, special, specialIn, seed }) => {
            const r = rng(seed);
            const [ta, tb] = layouts[layout]!;
            const { sAm, sAk, sBk, sBn } = strides(M, K, N, ta, tb);
            const A = rand32(r, M * K);
            const B = rand32(r, K * N);
            for (let k = 0; k < K; k++) {
              const zA = r() < zeroSlicesA;
              const zB = r() < zeroSlicesB;
              for (let i = 0; i < M; i++) if (zA || r() < zeros) A[i * sAm + k * sAk] = 0;
              for (let j = 0; j < N; j++) if (zB || r() < zeros) B[k * sBk + j * sBn] = 0;
            }
            if (special !== 0) {
              const X = specialIn === 'A' ? A : B;
              X[Math.floor(r() * X.length)] = special;
            }
            const C1 = new Float32Array(M * N);
            const C2 = new Float32Array(M * N);
            wasmMatmul.skipZeros = true;
            expect(skipping.run(M, N, K, A, 0, sAm, sAk, B, 0, sBk, sBn, C1, 0)).toBe(true);
            wasmMatmul.skipZeros = false;
            expect(dense.run(M, N, K, A, 0, sAm, sAk, B, 0, sBk, sBn, C2, 0)).toBe(true);
            for (let i = 0; i < M * N; i++) if (!Object.is(C1[i], C2[i])) throw new Error(`index ${i}: ${C1[i]} skipping, ${C2[i]} dense`);
          },
        ),
        { numRuns: 150 },
      );
      // (the property held with lists in use: most runs listed a side)
      expect(skipping.skipping.listed.a + skipping.skipping.listed.b).toBeGreaterThan(100);
      expect(dense.skipping.listed).toEqual({ a: 0, b: 0 });
    });
  }
});

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
    expect(wasmMatmulInfo()).toEqual({ fma: true, tile: '4x8', skipsZeros: wasmMatmul.skipZeros });
    const fused = dotMM(A, B, M, K, N, false, true);
    expect(Array.from(fused)).toEqual(Array.from(direct(fmaConfig)));
    expectWithinF32Bound(fused, val, mag, K, fmaConfig.KC, 'fma');
    wasmMatmul.fma = false;
    expect(wasmMatmulInfo()).toEqual({ fma: false, tile: '2x12', skipsZeros: false });
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
    const skips = process.env.XS_SKIP_ZEROS !== '0'; // (the child inherits it)
    expect(out.first).toEqual(out.before ? { fma: true, tile: '4x8', skipsZeros: skips } : { fma: false, tile: '2x12', skipsZeros: false });
    expect(out.enabled).toBe(true);
    expect(out.after).toEqual({ fma: true, tile: '4x8', skipsZeros: skips });
    expect([out.s1, out.s2]).toEqual([64 ** 3, 64 ** 3]);
  });

  it('XS_RELAXED_SIMD=0 in the environment, read at the first matmul, keeps the mul + add kernel', async () => {
    vi.resetModules();
    try {
      const mod = await import('../src/backends/cpu/wasm/sgemm.js');
      mod.wasmMatmul.enabled = true; // (even when the suite runs with XS_WASM=0)
      vi.stubEnv('XS_RELAXED_SIMD', '0'); // after the library loads, before its first matmul
      expect(mod.wasmMatmulInfo()).toEqual({ fma: false, tile: '2x12', skipsZeros: false });
      mod.wasmMatmul.fma = true; // the run-time switch overrides it
      expect(mod.wasmMatmulInfo()).toEqual({ fma: true, tile: '4x8', skipsZeros: mod.wasmMatmul.skipZeros });
    } finally {
      vi.unstubAllEnvs();
      vi.resetModules();
    }
    vi.stubEnv('XS_RELAXED_SIMD', '1');
    try {
      const fresh = await import('../src/backends/cpu/wasm/sgemm.js');
      fresh.wasmMatmul.enabled = true;
      expect(fresh.wasmMatmulInfo()).toEqual({ fma: true, tile: '4x8', skipsZeros: fresh.wasmMatmul.skipZeros });
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
