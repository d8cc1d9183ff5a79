/**
 * Train the seed notebook's MLP (784-60-20-10, sigmoid hidden layers, softmax output) with plain SGD on
 * synthetic data, using @xs/tensor's `valueAndGrad`. Run from the repository root with `pnpm example`.
 */
import { type Tensor, nn, numpy as np, random, tree, valueAndGrad } from '../src/index.js';

type Params = [Tensor, Tensor][]; // [[W0, b0], [W1, b1], [W2, b2]], W of shape [out, in]

const SIZES = [784, 60, 20, 10];
const NUM_EXAMPLES = 256;
const STEPS = 300;
const LEARNING_RATE = 1;

// Randomness in @xs/tensor is explicit, as in JAX: a key, split into independent keys for each use.
const [kParams, kTemplates, kLabels, kNoise] = random.splitKeys(random.key(0), 4) as [Tensor, Tensor, Tensor, Tensor];

/** Weights uniform in ±1/sqrt(fan_in), zero biases. */
function initParams(key: Tensor): Params {
  const keys = random.splitKeys(key, 3);
  return [0, 1, 2].map((l) => {
    const [fanIn, fanOut] = [SIZES[l]!, SIZES[l + 1]!];
    const bound = 1 / Math.sqrt(fanIn);
    const W = random.uniform(keys[l]!, [fanOut, fanIn], { minval: -bound, maxval: bound });
    return [W, np.zeros([fanOut])] as [Tensor, Tensor];
  });
}

/** The notebook's dense_network_list: x is [batch, 784]; the output layer has no bias. */
function predict(params: Params, x: Tensor): Tensor {
  const [[W0, b0], [W1, b1], [W2]] = params;
  const h1 = nn.sigmoid(x.matmul(W0!.T).add(b0!));
  const h2 = nn.sigmoid(h1.matmul(W1!.T).add(b1!));
  return nn.softmax(h2.matmul(W2!.T)); // [batch, 10] class probabilities
}

/** Mean negative log-likelihood of the true classes (t is one-hot, [batch, 10]). */
function loss(params: Params, x: Tensor, t: Tensor): Tensor {
  const logProbs = predict(params, x).log();
  return logProbs.mul(t).sum(1).mean().neg();
}

function accuracy(params: Params, x: Tensor, labels: Tensor): number {
  const correct = predict(params, x).argmax(1).equal(labels);
  return correct.mean().item() as number;
}

// Synthetic data: random labels; each input is its class's random "template" image plus noise,
// so that there is something to learn.
const templates = random.uniform(kTemplates, [10, 784]); // one image per class, pixels in [0, 1)
const labels = random.randint(kLabels, [NUM_EXAMPLES], 0, 10); // int32 class of each example
const noise = random.normal(kNoise, [NUM_EXAMPLES, 784]).mul(4); // Gaussian noise, standard deviation 4
const x = np.take(templates, labels).add(noise); // [256, 784]: row i is templates[labels[i]] + noise
const t = np.oneHot(labels, 10); // [256, 10] one-hot targets

// valueAndGrad(loss) returns a function computing [loss, d loss / d params]; the gradient has the
// same structure as params (a list of [W, b] pairs), so one tree.map applies the SGD update.
const lossAndGrad = valueAndGrad(loss);
let params = initParams(kParams);
console.log(`step    0  loss ${(loss(params, x, t).item() as number).toFixed(4)}  accuracy ${accuracy(params, x, labels).toFixed(3)}`);
for (let step = 1; step <= STEPS; step++) {
  const [value, grads] = lossAndGrad(params, x, t) as [Tensor, Params];
  params = tree.map((p: Tensor, g: Tensor) => p.sub(g.mul(LEARNING_RATE)), params, grads) as Params;
  if (step % 25 === 0) {
    const acc = accuracy(params, x, labels);
    console.log(`step ${String(step).padStart(4)}  loss ${(value.item() as number).toFixed(4)}  accuracy ${acc.toFixed(3)}`);
  }
}
