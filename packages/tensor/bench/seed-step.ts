/**
 * Benchmark of the seed notebook's training step (784-60-20-10 sigmoid MLP, softmax + NLL, batch 100,
 * SGD lr 0.01) in four forms, reported as medians and as ratios measured in this one run:
 *   eager batched         grad of the summed batch loss, op by op
 *   jit batched           jit of the same step
 *   eager per-example     vmap(grad(loss)) + sum, op by op (the notebook's form)
 *   jit per-example       jit(vmap(grad(loss)) + sum) (the notebook's form, compiled)
 * Run: pnpm bench:xs   (or: npx tsx --expose-gc packages/tensor/bench/seed-step.ts [--quick] [--backend cpu|gpu])
 */
import os from 'node:os';
import { type Tensor, backendInfo, enableRelaxedSimd, jit, numpy as np, random, setDefaultBackend, tree, vmap, wasmMatmulInfo } from '../src/index.js';
import { type Params, batchedStep, initParams, perExampleStep } from './seed-model.js';

type Step = (p: Params, x: Tensor, t: Tensor) => Params;
const quick = process.argv.includes('--quick');
// as the CLI does: the fused multiply-add matmul kernel where relaxed SIMD can be turned on (XS_RELAXED_SIMD=0: not)
await enableRelaxedSimd();
// --backend cpu|gpu|auto (default cpu): where the arrays live (gpu needs a GL context: run under xvfb-run -a)
const backendArg = process.argv.indexOf('--backend');
if (backendArg >= 0) setDefaultBackend(process.argv[backendArg + 1] ?? 'cpu');
const backendTol = backendInfo().name === 'gpu' ? 1e-4 : 1e-5;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}
/**
 * Steps per second of each form: the forms take turns, one round of `reps` steps each, so that the
 * machine's noise (other processes, frequency changes) hits them alike; the median round counts.
 */
function measure(forms: readonly [string, Step][], p0: Params, x: Tensor, t: Tensor, rounds: number, repsOf: (name: string) => number): Map<string, number> {
  const state = new Map(forms.map(([name, step]) => [name, step(p0, x, t)])); // warm-up (and, for jit, compile)
  const samples = new Map<string, number[]>(forms.map(([name]) => [name, []]));
  for (let r = 0; r < rounds; r++) {
    for (const [name, step] of forms) {
      const reps = repsOf(name);
      let p = state.get(name)!;
      // Collect the previous form's garbage now, so that no form pays for another's allocations.
      (globalThis as { gc?: () => void }).gc?.();
      const t0 = performance.now();
      for (let i = 0; i < reps; i++) p = step(p, x, t);
      tree.leaves(p as any).forEach((l) => (l as Tensor).data()); // force results
      samples.get(name)!.push((reps * 1000) / (performance.now() - t0));
      state.set(name, p);
    }
  }
  return new Map([...samples].map(([name, xs]) => [name, median(xs)]));
}

const key = random.key(0);
const params = initParams(key);
const [kx, kt] = random.splitKeys(key, 2);
const x = random.uniform(kx!, [100, 784]);
const t = np.oneHot(random.randint(kt!, [100], 0, 10), 10);

// The four forms must compute the same step before their speed means anything.
const reference = tree.leaves(batchedStep(params, x, t) as any) as Tensor[];
const forms: [string, Step][] = [
  ['eager batched', batchedStep],
  ['jit batched', jit(batchedStep)],
  ['eager per-example', perExampleStep],
  ['jit per-example', jit(perExampleStep)],
];
for (const [name, f] of forms) {
  const out = tree.leaves(f(params, x, t) as any) as Tensor[];
  const err = Math.max(...out.map((o, i) => np.max(np.abs(o.sub(reference[i]!))).item() as number));
  if (!(err < backendTol)) throw new Error(`${name} disagrees with eager batched: max abs difference ${err}`);
}

const rounds = quick ? 2 : 11;
const rates = measure(forms, params, x, t, rounds, (name) => (quick ? 2 : name.startsWith('eager per') ? 3 : name.startsWith('eager') ? 10 : 25));
const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
console.log(`seed step (784-60-20-10, batch 100), ${cpu}, ${os.cpus().length} cores, node ${process.version}${quick ? ' [quick]' : ''}, backend ${backendInfo().name} (${backendInfo().reason}), matmul kernel ${JSON.stringify(wasmMatmulInfo() ?? 'JS')}`);
for (const [name, r] of rates) console.log(`  ${name.padEnd(20)} ${r.toFixed(1).padStart(8)} steps/s`);
const ratio = (a: string, b: string): string => (rates.get(a)! / rates.get(b)!).toFixed(2);
console.log(`  jit batched / eager batched:            ${ratio('jit batched', 'eager batched')}x  (goal >= 3)`);
console.log(`  jit per-example / jit batched (speed):  ${ratio('jit per-example', 'jit batched')}x  (goal >= 0.67, i.e. within 1.5x)`);
