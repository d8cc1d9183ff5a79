/** The CPU backend's dot_general in the matmul forms the matmul tests exercise. */
import { cpuBackend } from '../../src/backends/cpu/index.js';

const dot = cpuBackend.kernels.get('dot_general')!;

/**
 * dot_general of op(A)·op(B) (op = transpose where `ta`/`tb`) with `batch` leading batch dims: the forms matmul,
 * its transposes and vmap produce; `buffer` is jit's planned output buffer, when given.
 */
export function dotMM(A: Float32Array, B: Float32Array, M: number, K: number, N: number, ta: boolean, tb: boolean, batch: number[] = [], buffer?: Float32Array): Float32Array {
  const nb = batch.length;
  const bax = batch.map((_, i) => i);
  return dot(
    [
      { handle: A, shape: [...batch, ...(ta ? [K, M] : [M, K])], dtype: 'float32' },
      { handle: B, shape: [...batch, ...(tb ? [N, K] : [K, N])], dtype: 'float32' },
    ],
    { contract: [[nb + (ta ? 0 : 1)], [nb + (tb ? 1 : 0)]], batch: [bax, bax] },
    { shape: [...batch, M, N], dtype: 'float32', ...(buffer ? { buffer } : {}) },
  ) as Float32Array;
}

/** The four transpose layouts (ta, tb) of a product. */
export const layouts = [
  [false, false],
  [true, false],
  [false, true],
  [true, true],
] as const;

/** A layout's name in test titles: `Aᵀ·B`. */
export const label = (ta: boolean, tb: boolean): string => `${ta ? 'Aᵀ' : 'A'}·${tb ? 'Bᵀ' : 'B'}`;
