/**
 * The CPU matmul's zero skipping on real images (wasm/kernel.ts in @xs/tensor): the seed MLP's products with
 * batches of 100 MNIST, Fashion-MNIST and mixed (alternating) images, `wasmMatmul.skipZeros` on and off in
 * turns (16 rounds of 100 products each, the first a warm-up; medians), through jitted matmuls as the
 * training step runs them:
 *   x·W₀ᵀ    [100, 784]·[784, 60]ᵀ   (the forward product; 120 columns: the stitched net's)
 *   gᵀ·x     [100, 60]ᵀ·[100, 784]  (the first layer's weight gradient)
 *
 * Run: npx tsx packages/crossstitch/scripts/zero-skip-bench.ts [--data-dir DIR]
 */
import { type Tensor, enableRelaxedSimd, fromTypedArray, jit, numpy as np, random, wasmMatmul, wasmMatmulInfo } from '@xs/tensor';
import { type Dataset, loadDatasets } from '../src/datasets/load.js';

const dirAt = process.argv.indexOf('--data-dir');
await enableRelaxedSimd();
const info = wasmMatmulInfo();
if (!info?.skipsZeros) throw new Error(`this engine's matmul kernel does not skip zeros (${JSON.stringify(info)}): relaxed SIMD is needed`);
const [mnist, fashion] = (await loadDatasets(['mnist', 'fashion-mnist'], dirAt >= 0 ? { dataDir: process.argv[dirAt + 1]! } : {})) as [Dataset, Dataset];
const F = 784;
const mixed = new Float32Array(2000 * F);
for (let i = 0; i < 2000; i++) mixed.set((i % 2 ? fashion : mnist).train.images.subarray(i * F, (i + 1) * F), i * F);
const batches = (images: Float32Array): Tensor[] => Array.from({ length: 20 }, (_, b) => fromTypedArray(images.subarray(b * 100 * F, (b + 1) * 100 * F), [100, F], 'float32', { copy: false }));
const sets: [string, Tensor[]][] = [['MNIST', batches(mnist.train.images)], ['Fashion-MNIST', batches(fashion.train.images)], ['mixed', batches(mixed)]];

const forward = jit((x: Tensor, w: Tensor) => np.matmul(x, w.T));
const gradient = jit((g: Tensor, x: Tensor) => np.matmul(g.T, x));
const w60 = random.normal(random.key(1), [60, F]);
const w120 = random.normal(random.key(2), [120, F]);
const g = random.normal(random.key(3), [100, 60]);
const products: [string, (x: Tensor) => Tensor][] = [
  ['x·W₀ᵀ, 60 columns', (x) => forward(x, w60)],
  ['x·W₀ᵀ, 120 columns', (x) => forward(x, w120)],
  ['gᵀ·x', (x) => gradient(g, x)],
];
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

console.log(`Node ${process.version}; µs per product, medians of 15 rounds, skipping and not in turns`);
for (const [name, xs] of sets) {
  for (const [what, product] of products) {
    const times: Record<'on' | 'off', number[]> = { on: [], off: [] };
    for (let round = 0; round < 16; round++) {
      for (const mode of ['on', 'off'] as const) {
        wasmMatmul.skipZeros = mode === 'on';
        const t0 = performance.now();
        for (let i = 0; i < 100; i++) product(xs[i % xs.length]!).data();
        if (round > 0) times[mode].push(((performance.now() - t0) / 100) * 1000);
      }
    }
    const [on, off] = [median(times.on), median(times.off)];
    console.log(`${name.padEnd(14)} ${what.padEnd(20)} skipping ${on.toFixed(0).padStart(4)}  every product ${off.toFixed(0).padStart(4)}  ${(off / on).toFixed(2)}x`);
  }
}
