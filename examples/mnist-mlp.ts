/** A jitted MLP on MNIST. `pnpm --filter @xs/examples mnist-mlp` (real MNIST) or `-- --small` (generated data). */
import { type Tensor, jit, nn, numpy as np, random, tree, valueAndGrad } from '@xs/tensor';
import { type Split, batches, loadDataset, splitToTensors } from '@xs/crossstitch';
import { syntheticSplit } from './synthetic.js';
import { type Log, runIfMain } from './run.js';

type Params = [Tensor, Tensor][]; // [[W, b], ...], W [in, out]; He-normal weights, zero biases

const init = (key: Tensor, sizes: number[]): Params =>
  random.splitKeys(key, sizes.length - 1).map((k, i) => [random.normal(k, [sizes[i]!, sizes[i + 1]!]).mul(Math.sqrt(2 / sizes[i]!)), np.zeros([sizes[i + 1]!])]);

function logits(params: Params, x: Tensor): Tensor {
  for (const [w, b] of params.slice(0, -1)) x = nn.relu(x.matmul(w).add(b));
  const [w, b] = params[params.length - 1]!;
  return x.matmul(w).add(b);
}

const loss = (p: Params, x: Tensor, y: Tensor): Tensor => nn.crossEntropy(logits(p, x), y); // y one-hot
const step = jit((p: Params, x: Tensor, y: Tensor, lr: number) => {
  const [l, g] = valueAndGrad(loss)(p, x, y) as [Tensor, Params];
  return [tree.map((a: Tensor, b: Tensor) => a.sub(b.mul(lr)), p as never, g as never), l];
}, { staticArgnums: [3] });
const accuracy = (p: Params, { x, y }: { x: Tensor; y: Tensor }): number => logits(p, x).argmax(1).equal(y).astype('float32').mean().item() as number;

export async function main(argv: string[] = [], log: Log = console.log) {
  const small = argv.includes('--small');
  const [train, test]: Split[] = small
    ? [syntheticSplit(2000, 'digits', 1), syntheticSplit(500, 'digits', 2)]
    : await loadDataset('mnist').then((d) => [d.train, d.test]);
  let params = init(random.key(0), [784, 128, 10]);
  const losses: number[] = [];
  for (let epoch = 1; epoch <= (small ? 2 : 3); epoch++) {
    let sum = 0, n = 0;
    for (const { x, y } of batches(train, 100, { oneHot: 10, dropLast: true })) {
      const [next, l] = step(params, x, y, 0.1) as [Params, Tensor];
      params = next; sum += l.item() as number; n++;
    }
    losses.push(sum / n);
    log(`epoch ${epoch}  train loss ${(sum / n).toFixed(4)}  test accuracy ${(100 * accuracy(params, splitToTensors(test))).toFixed(2)}%`);
  }
  return { losses, accuracy: accuracy(params, splitToTensors(test)) };
}

runIfMain(import.meta.url, main);
