/**
 * Where the seed experiment's jitted steps spend their time, equation by equation (@xs/tensor's jit profiler):
 * the training step on batches of Fashion-MNIST (the experiment's longer net) and the stitch step on mixed
 * batches, each warmed up for 300 steps, then profiled for 2000.
 *
 * Run: npx tsx packages/crossstitch/scripts/profile-steps.ts [--data-dir DIR]
 */
import { type Tensor, enableRelaxedSimd, formatJitProfile, jitProfile, jitProfiler, random, resetJitProfile } from '@xs/tensor';
import { type Dataset, loadDatasets, makeSplit } from '../src/datasets/load.js';
import { borrowedBatch, oneHotRows } from '../src/experiments/phase.js';
import { makeStitchStep, makeTrainStep } from '../src/experiments/seed.js';
import { initMlp } from '../src/models/mlp.js';
import { type AlphaParams, zeroAlpha } from '../src/models/stitch.js';

const dirAt = process.argv.indexOf('--data-dir');
await enableRelaxedSimd();
const [mnist, fashion] = (await loadDatasets(['mnist', 'fashion-mnist'], dirAt >= 0 ? { dataDir: process.argv[dirAt + 1]! } : {})) as [Dataset, Dataset];
const F = 784;
const B = 100;
const batchesOf = (images: Float32Array, labels: Int32Array, n: number): [Tensor, Tensor][] => {
  const split = makeSplit(images, labels, F);
  const t = oneHotRows(labels.subarray(0, n * B), 10);
  return Array.from({ length: n }, (_, b) => borrowedBatch(split, t, b * B, B));
};
const run = (what: string, steps: number, step: (i: number) => void): void => {
  jitProfiler.enabled = false;
  for (let i = 0; i < 300; i++) step(i);
  resetJitProfile();
  jitProfiler.enabled = true;
  const t0 = performance.now();
  for (let i = 0; i < steps; i++) step(i);
  const ms = (performance.now() - t0) / steps;
  jitProfiler.enabled = false;
  console.log(`\n${what}: ${ms.toFixed(3)} ms a step (wall, profiling on)\n${formatJitProfile(jitProfile(), 25)}`);
};

const fashionBatches = batchesOf(fashion.train.images, fashion.train.labels, 600);
let params = initMlp(random.key(0));
const train = makeTrainStep(0.01, { donate: true });
run('training step, Fashion-MNIST batches', 2000, (i) => {
  const [x, t] = fashionBatches[i % fashionBatches.length]!;
  let loss: Tensor;
  [params, loss] = train(params, x, t) as [typeof params, Tensor];
  loss.item();
});

const mixed = new Float32Array(2000 * F);
const mixedLabels = new Int32Array(2000);
for (let i = 0; i < 2000; i++) {
  const d = i % 2 ? fashion : mnist;
  mixed.set(d.train.images.subarray(i * F, (i + 1) * F), i * F);
  mixedLabels[i] = d.train.labels[i]!;
}
const mixedBatches = batchesOf(mixed, mixedLabels, 20);
const other = initMlp(random.key(1));
let alpha: AlphaParams = zeroAlpha();
const stitch = makeStitchStep(0.01, { donate: true });
run('stitch step, mixed batches', 2000, (i) => {
  const [x, t] = mixedBatches[i % mixedBatches.length]!;
  let loss: Tensor;
  [alpha, loss] = stitch(other, params, alpha, x, t) as [AlphaParams, Tensor];
  loss.item();
});
