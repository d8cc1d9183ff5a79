/**
 * GFLOP/s of the wasm float32 matmul kernels alone (Sgemm.run, one thread): the mul + add 2×12 kernel
 * (defaultConfig) against the relaxed-SIMD FMA 4×8 one (fmaConfig), at the seed MLP's shapes, 256³ and
 * 1024³. The kernels take turns, one burst of ≥ 0.2 s of process CPU time each per round, so that the
 * machine's noise hits them alike; the median round counts, and the ratio is of the medians.
 * Run: npx tsx packages/tensor/bench/wasm-kernel.ts [--tiles]   (--tiles: also the FMA 2×12 and 2×16 tiles)
 */
import { createSgemm, defaultConfig, enableRelaxedSimd, fmaConfig, type Sgemm, type SgemmConfig } from '../src/backends/cpu/wasm/sgemm.js';

if (!(await enableRelaxedSimd())) throw new Error('no relaxed SIMD here: nothing to compare');

const configs: [string, SgemmConfig][] = [
  ['mul+add 2x12', defaultConfig],
  ['fma 4x8', fmaConfig],
];
if (process.argv.includes('--tiles')) {
  configs.push(['fma 2x12', { ...defaultConfig, fma: true }], ['fma 2x16', { MR: 2, NV: 4, fma: true, MC: 128, KC: 256, NC: 16 * 128 }]);
}
const kernels: [string, Sgemm][] = configs.map(([name, cfg]) => [name, createSgemm(cfg)!]);

// name, M, K, N, A stored transposed, B stored transposed
const shapes: [string, number, number, number, boolean, boolean][] = [
  ['x·W1ᵀ [100x784]·[784x60]ᵀ', 100, 784, 60, false, true],
  ['grad W1 [60x100]ᵀ·[100x784]', 60, 100, 784, true, false],
  ['[100x784]·[784x120]ᵀ', 100, 784, 120, false, true],
  ['256³ A·B', 256, 256, 256, false, false],
  ['1024³ A·B', 1024, 1024, 1024, false, false],
];

const cpuMs = (): number => {
  const c = process.cpuUsage();
  return (c.user + c.system) / 1000;
};
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

console.log(`Node ${process.version}; GFLOP/s, median of 9 interleaved rounds`);
for (const [name, M, K, N, ta, tb] of shapes) {
  const A = Float32Array.from({ length: M * K }, () => Math.random() - 0.5);
  const B = Float32Array.from({ length: K * N }, () => Math.random() - 0.5);
  const C = new Float32Array(M * N);
  const [sAm, sAk] = ta ? [1, M] : [K, 1];
  const [sBk, sBn] = tb ? [1, K] : [N, 1];
  const flops = 2 * M * N * K;
  const reps = Math.max(1, Math.round(0.2e9 * 40 / flops)); // ≈ 0.2 s at 40 GFLOP/s
  const rates = kernels.map((): number[] => []);
  for (let round = 0; round < 10; round++) {
    kernels.forEach(([, k], i) => {
      const t0 = cpuMs();
      for (let r = 0; r < reps; r++) k.run(M, N, K, A, 0, sAm, sAk, B, 0, sBk, sBn, C, 0);
      if (round > 0) rates[i]!.push((flops * reps) / ((cpuMs() - t0) * 1e6)); // (round 0: warm-up)
    });
  }
  const med = rates.map(median);
  const cells = kernels.map(([k], i) => `${k} ${med[i]!.toFixed(1).padStart(5)}`);
  console.log(`${name.padEnd(28)} ${cells.join('  ')}  | fma 4x8 / mul+add ${(med[1]! / med[0]!).toFixed(2)}×`);
}
