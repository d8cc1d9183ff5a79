/**
 * Classification metrics from predicted and true integer labels: accuracy, per-class accuracy (recall) and the
 * confusion matrix. Labels may be int32 tensors of shape `[n]`, typed arrays or plain arrays.
 */
import { type Tensor, Tensor as TensorClass } from '@xs/tensor';

/** Integer class labels: an int32 `[n]` tensor, a typed array or a plain array. */
export type Labels = Tensor | ArrayLike<number>;

function toInts(x: Labels, what: string): ArrayLike<number> {
  if (x instanceof TensorClass) {
    if (x.ndim !== 1) throw new RangeError(`${what}: expected a 1-D array of labels, got shape [${x.shape.join(', ')}]${x.ndim === 2 ? ' (use predictedClasses() to turn scores into labels)' : ''}`);
    if (x.dtype === 'float32' || x.dtype === 'float64') throw new TypeError(`${what}: expected integer labels, got a ${x.dtype} tensor`);
    return x.data();
  }
  return x;
}

function pair(pred: Labels, truth: Labels, where: string): [ArrayLike<number>, ArrayLike<number>] {
  const p = toInts(pred, `${where}: predictions`);
  const t = toInts(truth, `${where}: true labels`);
  if (p.length !== t.length) throw new RangeError(`${where}: ${p.length} predictions but ${t.length} true labels`);
  return [p, t];
}

function checkLabel(v: number, i: number, numClasses: number | undefined, where: string, which: string): void {
  if (!Number.isInteger(v) || v < 0 || (numClasses !== undefined && v >= numClasses)) {
    throw new RangeError(`${where}: ${which} label ${v} at index ${i} is not an integer in [0, ${numClasses ?? '∞'})`);
  }
}

/**
 * The class with the highest score in each row of `scores` `[n, classes]` (argmax over the last axis).
 * @example predictedClasses(model(params, x)) // Int32Array of n labels
 */
export function predictedClasses(scores: Tensor): Int32Array {
  if (scores.ndim !== 2) throw new RangeError(`predictedClasses: expected scores of shape [n, classes], got [${scores.shape.join(', ')}]`);
  return Int32Array.from(scores.argmax(1).data());
}

/**
 * The fraction of predictions equal to the true label, in [0, 1] (NaN for no examples).
 * @example accuracy([1, 2, 3, 3], [1, 2, 0, 3]) // 0.75
 */
export function accuracy(pred: Labels, truth: Labels): number {
  const [p, t] = pair(pred, truth, 'accuracy');
  let hits = 0;
  for (let i = 0; i < p.length; i++) if (p[i] === t[i]) hits++;
  return p.length === 0 ? NaN : hits / p.length;
}

/**
 * The confusion matrix: `m[i][j]` counts examples of true class `i` predicted as `j` (rows true, columns
 * predicted, as scikit-learn). `numClasses` defaults to 1 + the largest label seen.
 * @example confusionMatrix([0, 1, 1], [0, 1, 0]) // [[1, 1], [0, 1]]
 */
export function confusionMatrix(pred: Labels, truth: Labels, numClasses?: number): number[][] {
  const [p, t] = pair(pred, truth, 'confusionMatrix');
  if (numClasses !== undefined && (!Number.isInteger(numClasses) || numClasses <= 0)) throw new RangeError(`confusionMatrix: numClasses must be a positive integer, got ${numClasses}`);
  for (let i = 0; i < p.length; i++) {
    checkLabel(p[i]!, i, numClasses, 'confusionMatrix', 'predicted');
    checkLabel(t[i]!, i, numClasses, 'confusionMatrix', 'true');
  }
  let k = numClasses ?? 0;
  if (numClasses === undefined) for (let i = 0; i < p.length; i++) k = Math.max(k, p[i]! + 1, t[i]! + 1);
  const m = Array.from({ length: k }, () => new Array<number>(k).fill(0));
  for (let i = 0; i < p.length; i++) m[t[i]!]![p[i]!]! += 1;
  return m;
}

/**
 * Accuracy within each true class (recall): correct / examples of that class; NaN for a class with no
 * examples.
 * @example perClassAccuracy([0, 1, 1, 1], [0, 1, 0, 1], 3) // [0.5, 1, NaN]
 */
export function perClassAccuracy(pred: Labels, truth: Labels, numClasses?: number): number[] {
  const m = confusionMatrix(pred, truth, numClasses);
  return m.map((row, i) => {
    const total = row.reduce((a, b) => a + b, 0);
    return total === 0 ? NaN : row[i]! / total;
  });
}
