/**
 * GFLOP/s of the gpu backend's dot_general (gpu.js), in one run, at the shapes the issue names and in the
 * transpose variants the seed step's jit plan produces (x·Wᵀ forward, gᵀ·x for the weight gradient).
 * Each case: one warm-up call (compiles the kernel), then `reps` calls whose results stay alive until one
 * read-back forces them all (GL runs commands in order), median of `rounds` such rounds.
 * Run from the repo root: xvfb-run -a npx tsx --expose-gc packages/tensor/bench/gpu-matmul.ts [--quick]
 */
import os from 'node:os';
import { type Tensor, backendInfo, devicePut, dispose, numpy as np, random, setDefaultBackend } from '../src/index.js';

setDefaultBackend('gpu');
const quick = process.argv.includes('--quick');

interface Case {
  name: string;
  lhs: number[];
  rhs: number[];
  contract: [number[], number[]];
  batch?: [number[], number[]];
  flops: number;
}

const mm = (m: number, k: number, n: number): Case => ({ name: `[${m}x${k}]x[${k}x${n}]`, lhs: [m, k], rhs: [k, n], contract: [[1], [0]], flops: 2 * m * k * n });
const CASES: Case[] = [
  mm(100, 784, 60),
  { name: '[100x784]x[60x784]T (x·Wᵀ)', lhs: [100, 784], rhs: [60, 784], contract: [[1], [1]], flops: 2 * 100 * 784 * 60 },
  { name: '[100x60]Tx[100x784] (gᵀ·x)', lhs: [100, 60], rhs: [100, 784], contract: [[0], [0]], flops: 2 * 100 * 784 * 60 },
  { name: '8x[64x64]x[64x64] (batched)', lhs: [8, 64, 64], rhs: [8, 64, 64], contract: [[2], [1]], batch: [[0], [0]], flops: 2 * 8 * 64 ** 3 },
  mm(256, 256, 256),
  mm(1024, 1024, 1024),
];

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

const key = random.key(0);
console.log(`gpu dot_general, ${os.cpus()[0]?.model ?? 'unknown CPU'}, ${os.cpus().length} cores, node ${process.version}${quick ? ' [quick]' : ''}, ${backendInfo().reason}`);
for (const c of CASES) {
  const [ka, kb] = random.splitKeys(key, 2);
  const a = devicePut(random.uniform(ka!, c.lhs), 'gpu');
  const b = devicePut(random.uniform(kb!, c.rhs), 'gpu');
  const run = (): Tensor => np.dotGeneral(a, b, c.contract, c.batch);
  const warm = performance.now();
  run().data();
  const first = performance.now() - warm;
  // about 0.3 s of work per round, at least 2 calls
  const reps = Math.max(2, Math.round(300 / Math.max(first, 1)));
  const rates: number[] = [];
  for (let r = 0; r < (quick ? 2 : 5); r++) {
    (globalThis as { gc?: () => void }).gc?.();
    const t0 = performance.now();
    const outs = Array.from({ length: reps }, run);
    outs[outs.length - 1]!.data();
    const s = (performance.now() - t0) / 1000;
    dispose(outs);
    rates.push((c.flops * reps) / s / 1e9);
  }
  console.log(`  ${c.name.padEnd(30)} ${median(rates).toFixed(2).padStart(7)} GFLOP/s  (first call ${first.toFixed(0)} ms)`);
  dispose([a, b]);
}
