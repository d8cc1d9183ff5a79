/**
 * `@xs/crossstitch`: Cross-Stitch Networks (Misra et al., 2016) on `@xs/tensor`: the seed notebook's model
 * (a 784-60-20-10 sigmoid MLP and the cross-stitch composition of two of them) and its experiment
 * (`runSeedExperiment`), and what surrounds them: the MNIST / Fashion-MNIST data (IDX files, finding,
 * downloading and verifying them, batching), optimisers and learning-rate schedules, classification metrics,
 * and safetensors checkpoints.
 *
 * @example
 * import { loadDataset, sliceSplit, splitToTensors, optim, accuracy, savePytree } from '@xs/crossstitch';
 * const mnist = await loadDataset('mnist');                 // verified against known SHA-256 sums
 * const { x, y } = splitToTensors(sliceSplit(mnist.train, 0, 100), { oneHot: 10 });
 * const opt = optim.sgd(0.01);
 * const result = await runSeedExperiment();                 // the whole notebook: result.results.mnist.alone.accuracy, ...
 * @packageDocumentation
 */
export * from './datasets/index.js';
export * from './metrics.js';
export * from './checkpoint/index.js';
/**
 * Optimisers (optax-like pure functions on pytrees: `sgd`, `momentum`, `adam`, `applyUpdates`) and
 * learning-rate schedules (`constant`, `exponentialDecay`, `cosineDecay`, `stepDecay`, `piecewiseConstant`).
 * @example
 * const opt = optim.adam(optim.cosineDecay({ initValue: 1e-3, decaySteps: 1000 }));
 * let state = opt.init(params);
 * const [updates, next] = opt.update(grads, state);
 * params = optim.applyUpdates(params, updates);
 */
export * as optim from './optim/index.js';
/**
 * The seed notebook's model: `initMlp` (randn/10 weights, zero biases), `predict` (sigmoid hidden layers,
 * softmax output without bias), `nllOne` (its per-example NLL), and the cross-stitch `composeParameters`
 * with `zeroAlpha`.
 * @example
 * const p1 = initMlp(random.key(0));                         // [[W0 60x784, b0], [W1 20x60, b1], [W2 10x20, b2]]
 * const g = vmap(grad(nllOne), { inAxes: [null, 0, 0] })(p1, x, t); // per-example gradients
 * const stitched = composeParameters(p1, p2, zeroAlpha());   // 784-120-40-10
 * predict(stitched, x).argmax(1);
 */
export * from './models/index.js';
/**
 * The seed experiment (`runSeedExperiment`, `defaultSeedConfig`, the jitted steps `makeTrainStep` /
 * `makeStitchStep`) and its contract with runners (`SeedConfig`, `ProgressEvent`, `SeedResult`, `RunOptions`).
 * @example
 * const result = await runSeedExperiment({ seed: 1 }, { onProgress: (e) => console.log(e.phase, e.step, e.loss) });
 * console.log(result.results.mnist.alone.accuracy, result.notebook.mnist.alone);
 */
export * from './experiments/index.js';
/** Atomic file writes (temp file + fsync + rename), as every file the project leaves is written. */
export { type AtomicWriteOptions, atomicWriteFile } from './util/atomic.js';
