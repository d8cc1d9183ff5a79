/** The seed notebook's model and training step, as the benchmark scripts in this folder time them. */
import { type Tensor, grad, nn, numpy as np, random, tree, vmap } from '../src/index.js';

/** [[W, b], ...] for 784-60-20-10. */
export type Params = [Tensor, Tensor][];

/** randn/10 weights, zero biases (the notebook's initialisation), from `key`. */
export function initParams(key: Tensor): Params {
  const sizes = [784, 60, 20, 10];
  const keys = random.splitKeys(key, 3);
  return [0, 1, 2].map((i) => {
    const w = random.normal(keys[i]!, [sizes[i + 1]!, sizes[i]!]).div(10);
    return [w, np.zeros([sizes[i + 1]!])] as [Tensor, Tensor];
  });
}

/** The notebook's dense_network_list: no bias on the output layer. */
export function predict(p: Params, x: Tensor): Tensor {
  const h1 = nn.sigmoid(np.add(np.matmul(x, p[0]![0].T), p[0]![1]));
  const h2 = nn.sigmoid(np.add(np.matmul(h1, p[1]![0].T), p[1]![1]));
  return nn.softmax(np.matmul(h2, p[2]![0].T));
}

/** The notebook's NLL for one example with a one-hot target. */
export const lossOne = (p: Params, x: Tensor, t: Tensor): Tensor => np.negative(np.log(np.take(predict(p, x), np.argmax(t))));

const sgd = (p: Params, g: Params): Params => tree.map((a: Tensor, b: Tensor) => a.sub(b.mul(0.01)), p as any, g as any) as any;

/** SGD (lr 0.01) on the gradient of the batch's summed loss. */
export const batchedStep = (p: Params, x: Tensor, t: Tensor): Params => sgd(p, grad((q: Params) => vmap(lossOne, { inAxes: [null, 0, 0] })(q, x, t).sum())(p));

/** The notebook's form: per-example gradients (`vmap(grad)`), summed, then SGD. */
export const perExampleStep = (p: Params, x: Tensor, t: Tensor): Params =>
  sgd(p, tree.map((g: Tensor) => g.sum(0), vmap(grad(lossOne), { inAxes: [null, 0, 0] })(p, x, t) as any) as any);
