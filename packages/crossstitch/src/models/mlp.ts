/**
 * The seed notebook's network: a fully connected sigmoid MLP with a softmax output and no output bias
 * (`dense_network_list`), its initialisation (`init_parameters_nobias`) and its per-example loss (`NLL_loss`).
 */
import { type Tensor, nn, numpy as np, random } from '@xs/tensor';

/** One dense layer: weights `[out, in]` and bias `[out]`. */
export type Layer = [w: Tensor, b: Tensor];
/** An MLP's parameters, layer by layer: `[[W0, b0], [W1, b1], [W2, b2]]`. */
export type MlpParams = Layer[];

/** The notebook's layer sizes: 784 inputs, hidden layers of 60 and 20, 10 outputs. */
export const SEED_SIZES: readonly number[] = Object.freeze([784, 60, 20, 10]);

/**
 * Initialise an MLP as the notebook's `init_parameters_nobias`: each weight matrix `[out, in]` is drawn
 * from a standard normal (one key per layer, split from `key`) and divided by 10; every bias is zero, and the
 * last layer's bias stays zero because {@link predict} does not use it (the stitched net concatenates the
 * output layers).
 * @example
 * const params = initMlp(random.key(0));            // [[W0 60x784, b0 60], [W1 20x60, b1 20], [W2 10x20, b2 10]]
 * const small = initMlp(random.key(1), [4, 3, 2]);  // [[W0 3x4, b0], [W1 2x3, b1]]
 */
export function initMlp(key: Tensor, sizes: readonly number[] = SEED_SIZES): MlpParams {
  if (sizes.length < 2 || sizes.some((s) => !Number.isInteger(s) || s <= 0)) {
    throw new RangeError(`initMlp: sizes must be at least two positive integers, got [${sizes.join(', ')}]`);
  }
  const layers = sizes.length - 1;
  const keys = random.splitKeys(key, layers);
  return keys.map((k, i): Layer => [random.normal(k, [sizes[i + 1]!, sizes[i]!]).div(10), np.zeros([sizes[i + 1]!])]);
}

/**
 * The notebook's forward pass: `sigmoid(x·W0ᵀ + b0)`, then `sigmoid(·W1ᵀ + b1)` for every further hidden
 * layer, then `softmax(·Wₗᵀ)` (no output bias). `x` is one example `[features]` or a batch `[n, features]`;
 * the result is class probabilities `[classes]` or `[n, classes]`.
 * @example
 * const probs = predict(params, x);          // x [100, 784] -> [100, 10]
 * const classes = probs.argmax(1);
 */
export function predict(params: MlpParams, x: Tensor): Tensor {
  if (params.length === 0) throw new RangeError('predict: params has no layers');
  let h = x;
  for (let i = 0; i < params.length - 1; i++) {
    const [w, b] = params[i]!;
    h = nn.sigmoid(np.add(np.matmul(h, w.T), b));
  }
  return nn.softmax(np.matmul(h, params[params.length - 1]![0].T));
}

/**
 * The notebook's loss for ONE example: `-log(predict(params, x)[argmax(t)])` with `x` `[features]` and a
 * one-hot target `t` `[classes]`. Batch it with `vmap(grad(nllOne), { inAxes: [null, 0, 0] })`, as the
 * notebook does.
 * @example
 * const loss = nllOne(params, x0, t0).item();
 * const perExample = vmap(grad(nllOne), { inAxes: [null, 0, 0] })(params, x, t); // grads with a leading batch axis
 */
export function nllOne(params: MlpParams, x: Tensor, t: Tensor): Tensor {
  return np.negative(np.log(np.take(predict(params, x), np.argmax(t))));
}
