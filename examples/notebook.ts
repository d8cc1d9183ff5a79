/**
 * The seed notebook ("Cross-Stitch Network using Jax") as a script against the library API, cell by cell:
 * train a 784-60-20-10 sigmoid MLP on MNIST and one on Fashion-MNIST with the notebook's loop (jit of
 * vmap(grad(NLL)) summed, SGD lr 0.01), stitch them with zero alpha blocks, train only alpha on 2,000 shuffled
 * examples of both training sets, and test every net on both test sets. (`runSeedExperiment` and `pnpm train`
 * do the same with progress, checkpoints and resuming.)
 *
 *   pnpm --filter @xs/examples notebook              (real data, the notebook's sizes: about a minute)
 *   pnpm --filter @xs/examples notebook -- --quick   (generated data, a few batches: what CI runs)
 */
import { type Tensor, jit, random } from '@xs/tensor';
import {
  type AlphaParams, type MlpParams, type Split, NOTEBOOK, NOTEBOOK_RESULTS, accuracy, composeParameters, concatSplits,
  initMlp, loadDataset, makeStitchStep, makeTrainStep, notebookBatchStarts, predict, predictedClasses, shuffleSplit,
  sliceSplit, splitToTensors, zeroAlpha,
} from '@xs/crossstitch';
import { syntheticSplit } from './synthetic.js';
import { type Log, runIfMain } from './run.js';

const predictJit = jit(predict); // the notebook's dense_jit

/** Accuracy in percent of `params` on a split (the notebook's `len(jnp.where(pred == target)[0]) / n * 100`). */
const percent = (params: MlpParams, s: Split): number => 100 * accuracy(predictedClasses(predictJit(params, splitToTensors(s).x) as Tensor), s.labels);

export async function main(argv: string[] = [], log: Log = console.log) {
  const quick = argv.includes('--quick');
  // Cells 7-8: the data (pixels / 255, one-hot labels when batched).
  const data = quick
    ? { mnist: { train: syntheticSplit(2000, 'digits', 1), test: syntheticSplit(500, 'digits', 2) },
        fashion: { train: syntheticSplit(2000, 'garments', 3), test: syntheticSplit(500, 'garments', 4) } }
    : { mnist: await loadDataset('mnist'), fashion: await loadDataset('fashion-mnist') };
  // The notebook's loop sizes; --quick shrinks them (and the validation slices, to fit the generated data).
  const plan = quick
    ? { mnist: { limit: 1500, batches: 15, epochs: 5, val: [1500, 1600] }, fashion: { limit: 1500, batches: 15, epochs: 5, val: [1500, 1600] },
        stitch: { limit: 500, batches: 5, epochs: 8, val: [1500, 2000] } }
    : { mnist: { limit: NOTEBOOK.mnist.schedule.limit, batches: 500, epochs: 5, val: NOTEBOOK.mnist.validation },
        fashion: { limit: NOTEBOOK.fashion.schedule.limit, batches: 600, epochs: 5, val: NOTEBOOK.fashion.validation },
        stitch: { limit: NOTEBOOK.stitch.schedule.limit, batches: 20, epochs: 40, val: NOTEBOOK.stitch.validation } };
  const lr = 0.01;
  const [kMnist, kFashion, kShuffle] = random.splitKeys(random.key(0), 3);

  /** Cells 10 and 13: the notebook's training loop (ctr wraps at `limit`), validating after every epoch. */
  function train<P>(name: string, p: P, s: Split, cfg: { limit: number; batches: number; epochs: number; val: readonly number[] }, valSplit: Split,
    step: (p: P, x: Tensor, t: Tensor) => [P, Tensor], validate: (p: P, v: Split) => number): P {
    const starts = notebookBatchStarts({ batchSize: 100, batchesPerEpoch: cfg.batches, limit: cfg.limit, epochs: cfg.epochs });
    const val = sliceSplit(valSplit, cfg.val[0]!, cfg.val[1]!);
    const t0 = performance.now();
    starts.forEach((epoch, e) => {
      let loss = 0;
      for (const start of epoch) {
        const { x, y } = splitToTensors(sliceSplit(s, start, start + 100), { oneHot: 10 });
        const [next, l] = step(p, x, y);
        p = next;
        loss += l.item() as number;
      }
      log(`${name} epoch ${e + 1}: loss ${(loss / epoch.length).toFixed(4)}, validation accuracy ${validate(p, val).toFixed(1)}`);
    });
    log(`${name}: elapsed time ${((performance.now() - t0) / 1000).toFixed(2)} s`);
    return p;
  }

  // Cells 9-11: the MNIST net (init_parameters_nobias: randn / 10, zero biases).
  const trainStep = makeTrainStep(lr) as unknown as (p: MlpParams, x: Tensor, t: Tensor) => [MlpParams, Tensor];
  const mnist = train('mnist', initMlp(kMnist!), data.mnist.train, plan.mnist, data.mnist.train, trainStep, percent);
  const mnistAlone = percent(mnist, data.mnist.test);
  log(`MNIST test accuracy: ${mnistAlone.toFixed(2)}`);
  // Cells 12-14: the Fashion-MNIST net.
  const fashion = train('fashion', initMlp(kFashion!), data.fashion.train, plan.fashion, data.fashion.train, trainStep, percent);
  const fashionAlone = percent(fashion, data.fashion.test);
  log(`Fashion-MNIST test accuracy: ${fashionAlone.toFixed(2)}`);

  // Cells 15-20: compose with alpha = 0, shuffle the combined training sets, train alpha only.
  const combined = shuffleSplit(concatSplits(data.mnist.train, data.fashion.train), kShuffle);
  const stitchStep = makeStitchStep(lr) as unknown as (p1: MlpParams, p2: MlpParams, a: AlphaParams, x: Tensor, t: Tensor) => [AlphaParams, Tensor];
  const alpha = train('stitch', zeroAlpha(), combined, plan.stitch, data.fashion.train,
    (a: AlphaParams, x, t) => stitchStep(mnist, fashion, a, x, t), (a, v) => percent(composeParameters(mnist, fashion, a), v));

  // Cells 21-23: the stitched net on both test sets.
  const superParams = composeParameters(mnist, fashion, alpha);
  const results = {
    mnist: { alone: mnistAlone, stitched: percent(superParams, data.mnist.test) },
    fashion: { alone: fashionAlone, stitched: percent(superParams, data.fashion.test) },
  };
  log('test accuracy (%)   ours   notebook');
  for (const d of ['mnist', 'fashion'] as const) {
    for (const k of ['alone', 'stitched'] as const) log(`${d.padEnd(8)} ${k.padEnd(9)} ${results[d][k].toFixed(2).padStart(6)} ${NOTEBOOK_RESULTS[d][k].toFixed(2).padStart(9)}`);
  }
  if (quick) log('(--quick: generated data and a few batches, so the numbers are not comparable with the notebook\'s)');
  return results;
}

runIfMain(import.meta.url, main);
