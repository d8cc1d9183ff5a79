/**
 * CPU GEMM: block-boundary coverage of the blocked kernel (M > MC, K > KC, N > NC) against a naive float64
 * reference, plus an opt-in throughput benchmark:
 *
 *   XS_BENCH=1 npx vitest run test/cpu-matmul.test.ts
 *
 * prints GFLOP/s (process CPU time, best of 5, so other processes sharing the cores distort it less) for the
 * MLP shapes and 256³ in every transpose variant. It asserts nothing about speed.
 */
import { describe, expect, it } from 'vitest';
import { cpuBackend } from '../src/backends/cpu/index.js';
import type { DType } from '../src/core/dtype.js';
import { mulberry32 } from './helpers/rng.js';

const dot = cpuBackend.kernels.get('dot_general')!;

const rng = mulberry32;

function randFloat(r: () => number, dtype: 'float32' | 'float64', n: number): Float32Array | Float64Array {
  const a = dtype === 'float32' ? new Float32Array(n) : new Float64Array(n);
  for (let i = 0; i < n; i++) a[i] = r() * 2 - 1;
  return a;
}

/** C = op(A)·op(B) with A stored [M,K] (or [K,M] when ta) and B stored [K,N] (or [N,K] when tb). */
function matmul(A: Float32Array | Float64Array, B: Float32Array | Float64Array, M: number, K: number, N: number, ta: boolean, tb: boolean, dtype: DType) {
  return dot(
    [
      { handle: A, shape: ta ? [K, M] : [M, K], dtype },
      { handle: B, shape: tb ? [N, K] : [K, N], dtype },
    ],
    { contract: [[ta ? 0 : 1], [tb ? 1 : 0]], batch: [[], []] },
    { shape: [M, N], dtype },
  );
}

function reference(A: ArrayLike<number>, B: ArrayLike<number>, M: number, K: number, N: number, ta: boolean, tb: boolean) {
  const val = new Float64Array(M * N);
  const mag = new Float64Array(M * N);
  for (let i = 0; i < M; i++) {
    for (let j = 0; j < N; j++) {
      let s = 0;
      let m = 0;
      for (let k = 0; k < K; k++) {
        const t = A[ta ? k * M + i : i * K + k]! * B[tb ? j * K + k : k * N + j]!;
        s += t;
        m += Math.abs(t);
      }
      val[i * N + j] = s;
      mag[i * N + j] = m;
    }
  }
  return { val, mag };
}

const variants = [
  [false, false],
  [true, false],
  [false, true],
  [true, true],
] as const;

describe('blocked GEMM across block boundaries', () => {
  const shapes: [number, number, number][] = [
    [5, 7, 2100], // N > NC: several column blocks
    [200, 3, 9], // M > 2·MC
    [9, 600, 11], // K > 2·KC with a ragged last block
    [97, 257, 65], // one past every tile/block multiple
    [2, 2, 2],
  ];
  for (const [ta, tb] of variants) {
    it(`${ta ? 'Aᵀ' : 'A'}·${tb ? 'Bᵀ' : 'B'}`, () => {
      const r = rng(ta ? (tb ? 44 : 33) : tb ? 22 : 11);
      for (const [M, K, N] of shapes) {
        for (const dtype of ['float32', 'float64'] as const) {
          const A = randFloat(r, dtype, M * K);
          const B = randFloat(r, dtype, K * N);
          const out = matmul(A, B, M, K, N, ta, tb, dtype);
          expect(out).toBeInstanceOf(dtype === 'float32' ? Float32Array : Float64Array);
          const { val, mag } = reference(A, B, M, K, N, ta, tb);
          const tol = dtype === 'float32' ? 1e-6 : 1e-13;
          for (let i = 0; i < val.length; i++) {
            const err = Math.abs(out[i]! - val[i]!);
            // float32: float64 accumulation, one rounding at the end
            const bound = tol * mag[i]! + (dtype === 'float32' ? 6e-8 * Math.abs(val[i]!) : 0);
            if (!(err <= bound)) throw new Error(`[${M}x${K}x${N}] ${dtype} index ${i}: expected ${val[i]} got ${out[i]}`);
          }
        }
      }
    });
  }

  it('repeated calls give identical results (scratch reuse leaves no state behind)', () => {
    const r = rng(5);
    const A = randFloat(r, 'float32', 100 * 784);
    const B = randFloat(r, 'float32', 784 * 60);
    const first = matmul(A, B, 100, 784, 60, false, false, 'float32');
    matmul(randFloat(r, 'float32', 300 * 50), randFloat(r, 'float32', 50 * 3000), 300, 50, 3000, false, false, 'float32');
    const again = matmul(A, B, 100, 784, 60, false, false, 'float32');
    expect(Array.from(again)).toEqual(Array.from(first));
  });
});

describe.runIf(!!process.env.XS_BENCH)('GEMM throughput (XS_BENCH=1)', () => {
  it('prints GFLOP/s', () => {
    const r = rng(1);
    const cases: [string, number, number, number][] = [
      ['[100x784]·[784x60]', 100, 784, 60],
      ['grad W [784x100]·[100x60]', 784, 100, 60],
      ['256³', 256, 256, 256],
    ];
    const lines: string[] = [];
    for (const dtype of ['float32', 'float64'] as const) {
      for (const [name, M, K, N] of cases) {
        for (const [ta, tb] of variants) {
          const A = randFloat(r, dtype, M * K);
          const B = randFloat(r, dtype, K * N);
          const run = () => matmul(A, B, M, K, N, ta, tb, dtype);
          for (let i = 0; i < 5; i++) run();
          const flops = 2 * M * N * K;
          const reps = Math.max(3, Math.ceil(3e8 / flops));
          let best = Infinity;
          for (let t = 0; t < 5; t++) {
            const c0 = process.cpuUsage();
            for (let i = 0; i < reps; i++) run();
            const c = process.cpuUsage(c0);
            best = Math.min(best, (c.user + c.system) / 1000 / reps);
          }
          lines.push(`${dtype} ${name} ${ta ? 'Aᵀ' : 'A'}·${tb ? 'Bᵀ' : 'B'}: ${best.toFixed(2)} ms, ${(flops / best / 1e6).toFixed(2)} GFLOP/s`);
        }
      }
    }
    console.log(lines.join('\n'));
  });
});
