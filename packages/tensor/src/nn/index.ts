/**
 * `nn`: activations and losses (`jax.nn` and friends), composed from `np`.
 * @packageDocumentation
 * @example
 * import { nn, array } from '@xs/tensor';
 * nn.crossEntropy(array([[2, 0], [0, 2]]), array([0, 1], 'int32'));   // 0.126928
 */
import { normalizeAxis } from '../core/shape.js';
import { type ArrayLike, Tensor } from '../core/tensor.js';
import { add, exp, greater, logistic, multiply, negative, subtract, tanh as tanhOp, where } from '../ops/elementwise.js';
import { arange } from '../ops/creation.js';
import { mean, sum } from '../ops/reduce.js';
import { take } from '../ops/indexing.js';
import { reshape } from '../ops/structural.js';
import { logsumexp } from '../numpy/index.js';

/** The logistic sigmoid 1 / (1 + e^-x), stable for large |x| (`jax.nn.sigmoid`). @example nn.sigmoid(array([0])) // 0.5 */
export const sigmoid = (x: ArrayLike): Tensor => logistic(x);
/** max(x, 0), with gradient 0 at x = 0 (`jax.nn.relu`; as JAX and PyTorch). @example nn.relu(array([-1, 2])) // [0, 2] */
export const relu = (x: ArrayLike): Tensor => where(greater(x, 0), x, 0);
/** Hyperbolic tangent (`jnp.tanh`, `jax.nn.tanh`). @example nn.tanh(array([0])) */
export const tanh = (x: ArrayLike): Tensor => tanhOp(x);

/** log(softmax(x)) along `axis`, computed stably (`jax.nn.log_softmax`). @example nn.logSoftmax(logits) */
export function logSoftmax(x: Tensor, axis = -1): Tensor {
  const a = normalizeAxis(axis, x.ndim, 'logSoftmax');
  return subtract(x, logsumexp(x, a, true));
}

/** exp(x) / sum(exp(x)) along `axis`, computed stably (`jax.nn.softmax`). @example nn.softmax(array([1, 2, 3])) */
export function softmax(x: Tensor, axis = -1): Tensor {
  normalizeAxis(axis, x.ndim, 'softmax');
  return exp(logSoftmax(x, axis));
}

/** Reduction applied to per-example losses: their mean, their sum, or none (PyTorch's `reduction`). */
export type Reduction = 'mean' | 'sum' | 'none';
function reduce(losses: Tensor, reduction: Reduction): Tensor {
  if (reduction === 'none') return losses;
  if (reduction === 'sum') return sum(losses);
  if (reduction === 'mean') return mean(losses);
  throw new RangeError(`unknown reduction '${String(reduction)}'; use 'mean', 'sum' or 'none'`);
}

/**
 * Negative log-likelihood of log-probabilities `logProbs` [..., C] at integer `labels` [...] (PyTorch's
 * `nll_loss`). @example nn.nll(nn.logSoftmax(logits), labels)
 */
export function nll(logProbs: Tensor, labels: Tensor, reduction: Reduction = 'mean'): Tensor {
  if (labels.dtype !== 'int32') throw new TypeError(`nll: labels must be int32 class indices, got ${labels.dtype}`);
  if (logProbs.ndim !== labels.ndim + 1 || labels.shape.some((d, i) => d !== logProbs.shape[i])) {
    throw new RangeError(`nll: log-probabilities of shape [${logProbs.shape}] need labels of shape [${logProbs.shape.slice(0, -1)}], got [${labels.shape}]`);
  }
  const classes = logProbs.shape[logProbs.ndim - 1]!;
  const rows = reshape(logProbs, [-1, classes]);
  const flatLabels = reshape(labels, [-1]);
  // Pick row i's entry at labels[i]: gather on the flattened array at i*C + label.
  const offsets = multiply(arange(0, rows.shape[0]!, 1, 'int32', labels.placement() ?? logProbs.placement()), classes);
  const picked = take(reshape(rows, [-1]), add(offsets, flatLabels));
  return reduce(negative(reshape(picked, labels.shape)), reduction);
}

/**
 * Softmax cross-entropy between `logits` [..., C] and either integer labels [...] or target probabilities
 * (e.g. one-hot) [..., C] (optax's `softmax_cross_entropy_with_integer_labels` / `softmax_cross_entropy`,
 * reduced; PyTorch's `cross_entropy`). @example nn.crossEntropy(logits, labels)
 */
export function crossEntropy(logits: Tensor, targets: Tensor, reduction: Reduction = 'mean'): Tensor {
  const logp = logSoftmax(logits, -1);
  if (targets.dtype === 'int32') return nll(logp, targets, reduction);
  if (targets.ndim !== logits.ndim || targets.shape.some((d, i) => d !== logits.shape[i])) {
    throw new RangeError(`crossEntropy: target probabilities of shape [${targets.shape}] must match logits [${logits.shape}]`);
  }
  return reduce(negative(sum(multiply(targets, logp), -1)), reduction);
}

