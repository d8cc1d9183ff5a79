/**
 * One training phase of the seed experiment (the notebook's loop: epochs of batches in the notebook's order,
 * a step per batch, validation after each epoch), shared by the in-process run and the worker threads that
 * train the two nets side by side.
 */
import { type Tensor, fromTypedArray, jit, random } from '@xs/tensor';
import { type Split } from '../datasets/load.js';
import { notebookBatchStarts, sliceSplit, splitToTensors } from '../datasets/batching.js';
import { predictedClasses } from '../metrics.js';
import { type MlpParams, predict } from '../models/mlp.js';
import type { EpochRecord, ProgressEvent, SeedConfig, SeedPhase } from './types.js';

/** Number of classes of both datasets (their labels 0..9 share the 10 outputs, as in the notebook). */
export const CLASSES = 10;

export const now = (): number => performance.now() / 1000;
const yieldToEventLoop = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));
/**
 * Seconds between yields to the event loop during a phase: often enough for Ctrl-C and a worker's messages to
 * get through at once, rarely enough not to cost (a yield takes a few µs; a step, about a millisecond).
 */
const YIELD_EVERY = 0.004;

/** The keys of the MNIST net, the Fashion-MNIST net and the stitch shuffle: all from the root seed. */
export function seedKeys(seed: number): { mnist: Tensor; fashion: Tensor; shuffle: Tensor } {
  const [mnist, fashion, shuffle] = random.splitKeys(random.key(seed), 3);
  return { mnist: mnist!, fashion: fashion!, shuffle: shuffle! };
}

/**
 * The compiled forward pass {@link classify} runs (its `cacheSize` says for how many shapes it is compiled).
 * @internal
 */
export const predictJit = jit(predict);

/**
 * Examples per forward pass of {@link classify}: a block's activations stay in cache (a 10,000-example pass
 * ran its products at about 70% of the speed of 1,000-example ones), and validation sets of this size reuse
 * the same compiled pass.
 */
export const CLASSIFY_BLOCK = 1000;

/** Predicted classes of `params` on a split (compiled forward passes over blocks of it). */
export function classify(params: MlpParams, split: Split): Int32Array {
  const pred = new Int32Array(split.count);
  for (let start = 0; start < split.count; start += CLASSIFY_BLOCK) {
    const block = sliceSplit(split, start, Math.min(split.count, start + CLASSIFY_BLOCK));
    pred.set(predictedClasses(predictJit(params, splitToTensors(block, { copy: false }).x) as Tensor), start);
  }
  return pred;
}

/** Percentage of `pred` equal to `labels` (NaN when empty). */
export function accuracyPercent(pred: Int32Array, labels: Int32Array): number {
  let hits = 0;
  for (let i = 0; i < pred.length; i++) if (pred[i] === labels[i]) hits++;
  return pred.length === 0 ? NaN : (100 * hits) / pred.length;
}

/** Validation accuracy of a net on examples [range[0], range[1]) of `train`. */
export function validator(train: Split, range: readonly [number, number]): (p: MlpParams) => number {
  const split = sliceSplit(train, range[0], range[1]);
  return (p) => accuracyPercent(classify(p, split), split.labels);
}

export function progressEvent(phase: SeedPhase, e: number, epochs: number, step: number, steps: number, loss: number, seconds: number): ProgressEvent {
  return { phase, epoch: e + 1, epochs, step, steps, loss, stepsPerSecond: seconds > 0 ? step / seconds : 0 };
}

/**
 * One-hot float32 rows of `labels` (all zero for a label outside [0, classes)), the values `np.oneHot` gives,
 * made once per phase so that a step's batch is two slices instead of a handful of eager ops.
 */
export function oneHotRows(labels: Int32Array, classes: number): Float32Array {
  const out = new Float32Array(labels.length * classes);
  for (let i = 0; i < labels.length; i++) {
    const c = labels[i]!;
    if (c >= 0 && c < classes) out[i * classes + c] = 1;
  }
  return out;
}

/**
 * Examples [start, start + b) of `split` and their rows of `targets` (see {@link oneHotRows}) as float32
 * tensors that borrow the arrays' memory (no copy: nothing writes to it).
 */
export function borrowedBatch(split: Split, targets: Float32Array, start: number, b: number): [Tensor, Tensor] {
  const f = split.features;
  return [
    fromTypedArray(split.images.subarray(start * f, (start + b) * f), [b, f], 'float32', { copy: false }),
    fromTypedArray(targets.subarray(start * CLASSES, (start + b) * CLASSES), [b, CLASSES], 'float32', { copy: false }),
  ];
}

/** What {@link trainPhase} runs. */
export interface PhaseSpec<P> {
  phase: SeedPhase;
  cfg: SeedConfig;
  train: Split;
  limit: number;
  init: P;
  step: (p: P, x: Tensor, t: Tensor) => [P, Tensor];
  /**
   * Validation accuracy after an epoch. It may answer later (a promise: validation then overlaps the next
   * epoch's steps, in another thread), but must read `p` before it returns: the next step may donate it.
   */
  validate: (p: P) => number | Promise<number>;
  onProgress?: ((e: ProgressEvent) => void) | undefined;
  progressEvery: number;
  /** Throws (an AbortError) when the run was stopped; called before every step. */
  checkAborted: () => void;
}

/** What a phase produced. */
export interface PhaseOutcome<P> {
  params: P;
  curves: EpochRecord[];
  seconds: number;
  steps: number;
}

/** Train one phase: the notebook's batch order, one step per batch, a validation after each epoch. */
export async function trainPhase<P>(spec: PhaseSpec<P>): Promise<PhaseOutcome<P>> {
  const { phase, cfg, onProgress, progressEvery } = spec;
  const epochs = cfg.epochs[phase];
  const perEpoch = cfg.batchesPerEpoch[phase];
  const steps = epochs * perEpoch;
  const starts = notebookBatchStarts({ batchSize: cfg.batchSize, batchesPerEpoch: perEpoch, limit: spec.limit, epochs });
  const train = sliceSplit(spec.train, 0, spec.limit);
  const targets = oneHotRows(train.labels, CLASSES);
  const b = cfg.batchSize;
  const curves: EpochRecord[] = [];
  let params = spec.init;
  const tPhase = now();
  let step = 0;
  let sinceLoss = 0;
  let sinceCount = 0;
  // An epoch's record and end-of-epoch event wait for its validation. Events keep their order: while an answer
  // is pending, later events queue behind it (`queued` of them) instead of holding up the steps; the phase's end
  // waits for them all. (A stitch step that waited here stalled for as long as the validating worker was busy.)
  let pending: Promise<void> = Promise.resolve();
  let queued = 0;
  let failed: { error: unknown } | undefined; // a validation (or an event's handler) failed: stop at the next step
  const inOrder = (emit: () => void): void => {
    if (queued === 0) return emit();
    queued++;
    pending = pending.then(() => {
      queued--;
      emit();
    });
  };
  const endEpoch = (record: Omit<EpochRecord, 'valAccuracy'>, event: ProgressEvent, valAccuracy: number): void => {
    curves.push({ ...record, valAccuracy });
    if (onProgress) onProgress({ ...event, valAccuracy });
  };
  let lastYield = -Infinity;
  for (let e = 0; e < epochs; e++) {
    const tEpoch = now();
    let epochLoss = 0;
    for (const start of starts[e]!) {
      if (now() - lastYield >= YIELD_EVERY) {
        await yieldToEventLoop(); // lets Ctrl-C (and a worker's messages) through
        lastYield = now();
      }
      spec.checkAborted();
      if (failed) throw failed.error;
      const [x, y] = borrowedBatch(train, targets, start, b);
      const [next, loss] = spec.step(params, x, y);
      params = next;
      const l = loss.item() as number;
      epochLoss += l;
      sinceLoss += l;
      sinceCount++;
      step++;
      const epochEnd = step % perEpoch === 0;
      if (!epochEnd && step % progressEvery === 0 && onProgress) {
        const event = progressEvent(phase, e, epochs, step, steps, sinceLoss / sinceCount, now() - tPhase);
        inOrder(() => onProgress(event));
        sinceLoss = sinceCount = 0;
      }
    }
    const valAccuracy = spec.validate(params);
    const record = { phase, epoch: e + 1, trainLoss: perEpoch ? epochLoss / perEpoch : NaN, seconds: now() - tEpoch };
    const event = progressEvent(phase, e, epochs, step, steps, sinceCount ? sinceLoss / sinceCount : NaN, now() - tPhase);
    if (typeof valAccuracy === 'number') inOrder(() => endEpoch(record, event, valAccuracy));
    else {
      const before = pending;
      queued++;
      pending = valAccuracy.then(async (v) => {
        await before;
        queued--;
        endEpoch(record, event, v);
      });
    }
    pending.catch((error: unknown) => (failed ??= { error })); // (also awaited at the end)
    sinceLoss = sinceCount = 0;
  }
  await pending;
  return { params, curves, seconds: now() - tPhase, steps };
}
