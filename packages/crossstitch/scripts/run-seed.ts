/**
 * Run the seed notebook's experiment once on the real MNIST / Fashion-MNIST data and print our test accuracies
 * beside the notebook's, the per-phase timings and the training speed; the full result (without tensors) is
 * written to runs/seed-<seed>.json.
 *
 * Run: npx tsx packages/crossstitch/scripts/run-seed.ts [--seed N] [--data-dir DIR] [--quick]
 *   --quick: 1 + 1 + 5 epochs instead of 5 + 5 + 40, to try the pipeline.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { type SeedConfigInput, runSeedExperiment } from '../src/index.js';

const argv = process.argv.slice(2);
const arg = (name: string): string | undefined => {
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1] : undefined;
};
const config: SeedConfigInput = {};
if (arg('--seed') !== undefined) config.seed = Number(arg('--seed'));
if (argv.includes('--quick')) config.epochs = { mnist: 1, fashion: 1, stitch: 5 };

const controller = new AbortController();
process.once('SIGINT', () => {
  console.error('\ninterrupted: stopping at the next step');
  controller.abort();
});

const result = await runSeedExperiment(config, {
  signal: controller.signal,
  dataDir: arg('--data-dir'),
  onProgress: (e) => {
    if (e.valAccuracy !== undefined) {
      console.log(
        `${e.phase.padEnd(7)} epoch ${String(e.epoch).padStart(2)}/${e.epochs}  step ${String(e.step).padStart(4)}/${e.steps}  ` +
          `loss ${e.loss.toFixed(4)}  val ${e.valAccuracy.toFixed(1)}%  ${e.stepsPerSecond.toFixed(1)} steps/s`,
      );
    }
  },
});

const r = result.results;
const nb = result.notebook;
const row = (name: string, ours: number, theirs: number): string => `  ${name.padEnd(26)} ${ours.toFixed(2).padStart(7)}  ${theirs.toFixed(2).padStart(9)}  ${(ours - theirs >= 0 ? '+' : '') + (ours - theirs).toFixed(2)}`;
console.log(`\nseed ${result.config.seed}; ${os.cpus()[0]?.model ?? 'CPU'} x${os.cpus().length}, node ${process.version}`);
console.log('  test accuracy (%)              ours  notebook  diff');
console.log(row('MNIST net on MNIST', r.mnist.alone.accuracy, nb.mnist.alone));
console.log(row('Fashion net on Fashion', r.fashion.alone.accuracy, nb.fashion.alone));
console.log(row('stitched net on MNIST', r.mnist.stitched.accuracy, nb.mnist.stitched));
console.log(row('stitched net on Fashion', r.fashion.stitched.accuracy, nb.fashion.stitched));
console.log('\ntimings (s):');
for (const [k, v] of Object.entries(result.timings)) console.log(`  ${k.padEnd(11)} ${v.toFixed(2)}`);
console.log('steps/s:');
for (const [k, v] of Object.entries(result.stepsPerSecond ?? {})) console.log(`  ${k.padEnd(11)} ${v.toFixed(1)}`);

const dir = 'runs';
mkdirSync(dir, { recursive: true });
const file = join(dir, `seed-${result.config.seed}.json`);
const { params: _params, ...plain } = result;
writeFileSync(file, JSON.stringify(plain, null, 1));
console.log(`\nresult (without parameters) written to ${file}`);
