/**
 * `@xs/crossstitch`: Cross-Stitch Networks (Misra et al., 2016) on `@xs/tensor`. This first part holds what
 * surrounds the model: the MNIST / Fashion-MNIST data (IDX files, finding, downloading and verifying them,
 * batching), optimisers and learning-rate schedules, classification metrics, and safetensors checkpoints.
 *
 * @example
 * import { loadDataset, sliceSplit, splitToTensors, optim, accuracy, savePytree } from '@xs/crossstitch';
 * const mnist = await loadDataset('mnist');                 // verified against known SHA-256 sums
 * const { x, y } = splitToTensors(sliceSplit(mnist.train, 0, 100), { oneHot: 10 });
 * const opt = optim.sgd(0.01);
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
