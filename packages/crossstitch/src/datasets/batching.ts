/**
 * Slicing, joining, shuffling and batching splits, and turning them into tensors. Slices follow the
 * notebook's (`train[0:50000]`, `train[50000:50100]`, ...) but are strict: an out-of-range slice is an error,
 * not a silently shorter one.
 */
import * as xs from '@xs/tensor';
import { type Tensor, fromTypedArray, numpy as np } from '@xs/tensor';
import { type Split, makeSplit } from './load.js';

/**
 * Examples `[start, end)` of a split (views, no copy).
 * @example const validation = sliceSplit(mnist.train, 50000, 50100);
 */
export function sliceSplit(split: Split, start: number, end: number): Split {
  if (!Number.isInteger(start) || !Number.isInteger(end) || start < 0 || end > split.count || start > end) {
    throw new RangeError(`sliceSplit: [${start}, ${end}) is not a range within the ${split.count} examples`);
  }
  const f = split.features;
  return makeSplit(split.images.subarray(start * f, end * f), split.labels.subarray(start, end), f);
}

/**
 * Join splits end to end (a copy), like the notebook's `jnp.concatenate([mnist, fashion])`.
 * @example const combined = concatSplits(mnist.train, fashion.train); // 120000 examples
 */
export function concatSplits(...splits: Split[]): Split {
  if (splits.length === 0) throw new RangeError('concatSplits: need at least one split');
  const f = splits[0]!.features;
  splits.forEach((s, i) => {
    if (s.features !== f) throw new RangeError(`concatSplits: split ${i} has ${s.features} features, split 0 has ${f}`);
  });
  const n = splits.reduce((a, s) => a + s.count, 0);
  const images = new Float32Array(n * f);
  const labels = new Int32Array(n);
  let at = 0;
  for (const s of splits) {
    images.set(s.images, at * f);
    labels.set(s.labels, at);
    at += s.count;
  }
  return makeSplit(images, labels, f);
}

/**
 * The examples at `indices`, in that order (a copy).
 * @example takeSplit(split, [5, 0, 2]).labels
 */
export function takeSplit(split: Split, indices: ArrayLike<number>): Split {
  const f = split.features;
  const images = new Float32Array(indices.length * f);
  const labels = new Int32Array(indices.length);
  for (let i = 0; i < indices.length; i++) {
    const j = indices[i]!;
    if (!Number.isInteger(j) || j < 0 || j >= split.count) throw new RangeError(`takeSplit: index ${j} (at ${i}) is outside [0, ${split.count})`);
    images.set(split.images.subarray(j * f, (j + 1) * f), i * f);
    labels[i] = split.labels[j]!;
  }
  return makeSplit(images, labels, f);
}

/** A batch as tensors: `x` float32 `[n, features]`, `y` int32 `[n]` (or one-hot float32 `[n, classes]`). */
export interface TensorBatch {
  /** Inputs, float32 `[n, features]`. */
  readonly x: Tensor;
  /** Labels: int32 `[n]`, or float32 one-hot `[n, classes]` when asked. */
  readonly y: Tensor;
}

/** Options of {@link splitToTensors}. */
export interface ToTensorsOptions {
  /** Give one-hot float32 labels with this many classes (the notebook's `to_categorical`) instead of int32. */
  oneHot?: number;
  /**
   * Copy the host arrays (the default), or with `false` let the tensors use them in place (`fromTypedArray`'s
   * `copy: false`): no copy, but the split's arrays must then not change while the tensors are in use.
   */
  copy?: boolean;
}

/**
 * A split as tensors (a copy of the host data unless `copy: false`).
 * @example const { x, y } = splitToTensors(sliceSplit(mnist.test, 0, 100)); // x [100,784], y [100] int32
 * @example const { y } = splitToTensors(split, { oneHot: 10 });             // y [n,10] float32
 */
export function splitToTensors(split: Split, opts: ToTensorsOptions = {}): TensorBatch {
  const copy = { copy: opts.copy ?? true };
  const x = fromTypedArray(split.images, [split.count, split.features], 'float32', copy);
  const labels = fromTypedArray(split.labels, [split.count], 'int32', copy);
  const y = opts.oneHot === undefined ? labels : np.oneHot(labels, opts.oneHot);
  return { x, y };
}

/** A batch from {@link batches}: tensors plus its position in the split. */
export interface Batch extends TensorBatch {
  /** First example (inclusive). */
  readonly start: number;
  /** Last example (exclusive). */
  readonly end: number;
}

/** Options of {@link batches}. */
export interface BatchesOptions extends ToTensorsOptions {
  /** Drop a last batch smaller than `batchSize` (default false). */
  dropLast?: boolean;
}

/**
 * Consecutive batches `[0, b), [b, 2b), ...` of a split as tensors.
 * @example for (const { x, y } of batches(sliceSplit(train, 0, 50000), 100)) step(x, y);
 */
export function* batches(split: Split, batchSize: number, opts: BatchesOptions = {}): Generator<Batch> {
  if (!Number.isInteger(batchSize) || batchSize <= 0) throw new RangeError(`batches: batchSize must be a positive integer, got ${batchSize}`);
  for (let start = 0; start < split.count; start += batchSize) {
    const end = Math.min(start + batchSize, split.count);
    if (end - start < batchSize && opts.dropLast) return;
    yield { ...splitToTensors(sliceSplit(split, start, end), opts), start, end };
  }
}

/** The notebook's batching loop, as numbers. */
export interface NotebookSchedule {
  /** Examples per batch (100 in the notebook). */
  batchSize: number;
  /** Batches per epoch (500 for MNIST, 600 for Fashion-MNIST, 20 for the stitch stage). */
  batchesPerEpoch: number;
  /** The counter wraps to 0 when the next batch would pass this (50000, 60000, 2000). */
  limit: number;
  /** Number of epochs. */
  epochs: number;
}

/**
 * The batch start offsets of the notebook's loop, per epoch: `ctr` starts at 0, each batch is
 * `[ctr, ctr + batchSize)`, then `ctr += batchSize` and `ctr = 0` once `ctr + batchSize > limit`; the
 * counter carries over between epochs.
 * @example notebookBatchStarts({ batchSize: 100, batchesPerEpoch: 500, limit: 50000, epochs: 5 })[0].slice(0, 3) // [0, 100, 200]
 */
export function notebookBatchStarts(s: NotebookSchedule): number[][] {
  if (s.batchSize > s.limit) throw new RangeError(`notebookBatchStarts: batchSize ${s.batchSize} exceeds limit ${s.limit}`);
  const out: number[][] = [];
  let ctr = 0;
  for (let e = 0; e < s.epochs; e++) {
    const starts: number[] = [];
    for (let j = 0; j < s.batchesPerEpoch; j++) {
      starts.push(ctr);
      ctr += s.batchSize;
      if (ctr + s.batchSize > s.limit) ctr = 0;
    }
    out.push(starts);
  }
  return out;
}

/** One stage of the notebook (a net's training, or the stitch): its slices, batch loop, learning rate and seed. */
export interface NotebookStage {
  /** `[start, end)` of the examples trained on (of the training split; for the stitch, of the shuffled MNIST+Fashion-MNIST examples). */
  readonly train: readonly [number, number];
  /** `[start, end)` of the training split validated on after every epoch (Fashion-MNIST's for the stitch). */
  readonly validation: readonly [number, number];
  /** The batch loop. */
  readonly schedule: Readonly<NotebookSchedule>;
  /** SGD learning rate. */
  readonly learningRate: number;
  /** The notebook's numpy seed of this stage (not reproducible here; see `defaultSeedConfig`). */
  readonly seed: number;
}

/**
 * The notebook's slices and loop sizes: MNIST trains on train[0:50000] and validates on train[50000:50100];
 * Fashion-MNIST trains on train[0:60000] and validates on train[30000:30100]; the stitch trains on the first
 * 2000 shuffled MNIST+Fashion-MNIST examples and validates on Fashion-MNIST's train[30000:31000]. Note the
 * Fashion-MNIST validation slices lie inside the examples it trains on; that is what the notebook does.
 * @example sliceSplit(mnist.train, ...NOTEBOOK.mnist.validation)
 */
export const NOTEBOOK: Readonly<Record<'mnist' | 'fashion' | 'stitch', NotebookStage>> = {
  mnist: { train: [0, 50000], validation: [50000, 50100], schedule: { batchSize: 100, batchesPerEpoch: 500, limit: 50000, epochs: 5 }, learningRate: 0.01, seed: 1000 },
  fashion: { train: [0, 60000], validation: [30000, 30100], schedule: { batchSize: 100, batchesPerEpoch: 600, limit: 60000, epochs: 5 }, learningRate: 0.01, seed: 1002 },
  stitch: { train: [0, 2000], validation: [30000, 31000], schedule: { batchSize: 100, batchesPerEpoch: 20, limit: 2000, epochs: 40 }, learningRate: 0.01, seed: 1500 },
};

/** A function giving a permutation of `0..n-1` from a PRNG key. */
export type PermutationFn = (key: unknown, n: number) => Tensor | ArrayLike<number>;

/**
 * `random.permutation` of `@xs/tensor`, or undefined while that module is not exported yet.
 * @example const perm = tensorPermutation(); if (perm) perm(random.key(0), 10);
 */
export function tensorPermutation(): PermutationFn | undefined {
  const random = (xs as unknown as { random?: { permutation?: unknown } }).random;
  return typeof random?.permutation === 'function' ? (random.permutation as PermutationFn) : undefined;
}

/**
 * A permutation of `0..n-1` drawn from a PRNG key with `@xs/tensor`'s `random.permutation` (threefry), checked to
 * be one. Throws a clear error if `@xs/tensor` has no `random.permutation` (there is deliberately no local
 * fallback generator). `permutation` replaces the generator (for tests).
 * @example const order = permutationFromKey(random.key(1500), 120000);
 */
export function permutationFromKey(key: unknown, n: number, permutation: PermutationFn | undefined = tensorPermutation()): Int32Array {
  if (!permutation) throw new Error('shuffling needs random.permutation from @xs/tensor, which this build of @xs/tensor does not export');
  const out = permutation(key, n);
  const values = isTensor(out) ? out.data() : out;
  if (values.length !== n) throw new RangeError(`permutationFromKey: the generator gave ${values.length} values for n = ${n}`);
  const perm = new Int32Array(n);
  const seen = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const v = Number(values[i]);
    if (!Number.isInteger(v) || v < 0 || v >= n || seen[v]) throw new RangeError(`permutationFromKey: the generator's output is not a permutation of 0..${n - 1} (value ${v} at ${i})`);
    seen[v] = 1;
    perm[i] = v;
  }
  return perm;
}

function isTensor(x: unknown): x is Tensor {
  return x instanceof xs.Tensor;
}

/**
 * The split reordered by a permutation drawn from `key` (images and labels together; a copy). The same key
 * always gives the same order.
 * @example const shuffled = shuffleSplit(concatSplits(mnist.train, fashion.train), random.key(1500));
 */
export function shuffleSplit(split: Split, key: unknown, permutation?: PermutationFn): Split {
  return takeSplit(split, permutationFromKey(key, split.count, permutation));
}

/**
 * The first `count` examples of the concatenation of `splits` shuffled by `perm` — the same as
 * `sliceSplit(shuffleSplit(concatSplits(...splits), key), 0, count)` for `perm = permutationFromKey(key, n)`,
 * without copying all of the concatenation.
 * @example
 * const stitchTrain = takeShuffled([mnist.train, fashion.train], permutationFromKey(key, 120000), 2000);
 */
export function takeShuffled(splits: readonly Split[], perm: Int32Array, count: number): Split {
  const f = splits[0]!.features;
  const offsets: number[] = [];
  let n = 0;
  for (const s of splits) {
    if (s.features !== f) throw new RangeError('takeShuffled: splits differ in features');
    offsets.push(n);
    n += s.count;
  }
  if (perm.length !== n) throw new RangeError(`takeShuffled: permutation of ${perm.length} for ${n} examples`);
  if (count > n) throw new RangeError(`takeShuffled: ${count} examples asked of ${n}`);
  const images = new Float32Array(count * f);
  const labels = new Int32Array(count);
  for (let i = 0; i < count; i++) {
    const j = perm[i]!;
    let k = splits.length - 1;
    while (offsets[k]! > j) k--;
    const s = splits[k]!;
    const r = j - offsets[k]!;
    images.set(s.images.subarray(r * f, (r + 1) * f), i * f);
    labels[i] = s.labels[r]!;
  }
  return makeSplit(images, labels, f);
}
