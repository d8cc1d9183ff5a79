/**
 * DP-SGD style training (Abadi et al., 2016): per-example gradients with `vmap(grad)`, each example's gradient
 * clipped to L2 norm at most C, Gaussian noise N(0, (σC)²) added to their sum, then an SGD step on the mean.
 * The model is a softmax regression (784 -> 10) on generated digit-like data; the whole step is one `jit`.
 * (This shows the mechanics only; it does no privacy accounting.)
 *
 *   pnpm --filter @xs/examples dp-sgd             (4,000 examples, 300 steps)
 *   pnpm --filter @xs/examples dp-sgd -- --small  (1,000 examples, 60 steps: what CI runs)
 */
import { type Tensor, jit, nn, numpy as np, random, tree, vmap, grad } from '@xs/tensor';
import { sliceSplit, splitToTensors } from '@xs/crossstitch';
import { syntheticSplit } from './synthetic.js';
import { type Log, runIfMain } from './run.js';

type Params = { w: Tensor; b: Tensor }; // w [784, 10], b [10]

const CLIP = 1.0; // C: the largest L2 norm one example's gradient may have
const NOISE = 1.0; // σ: noise standard deviation, in units of C
const LR = 0.5;

/** The loss of ONE example (x [784], label int32 []): what vmap(grad) turns into per-example gradients. */
const lossOne = (p: Params, x: Tensor, label: Tensor): Tensor => nn.logSoftmax(x.matmul(p.w).add(p.b)).neg().mul(np.oneHot(label, 10)).sum();

/** Per-example gradients: every leaf gets a leading batch axis ([n, 784, 10] and [n, 10]). */
const perExampleGrads = vmap(grad(lossOne), { inAxes: [null, 0, 0] });

/** The L2 norm of each example's whole gradient (all leaves together): [n]. */
function perExampleNorms(g: Params): Tensor {
  const squares = tree.leaves(g as never).map((leaf) => {
    const t = leaf as Tensor;
    return t.square().reshape(t.shape[0]!, -1).sum(1);
  });
  return squares.reduce((a, b) => a.add(b)).sqrt();
}

/**
 * One DP-SGD step, compiled. The noise is drawn outside: @xs/tensor's samplers read their key on the host, so a
 * key cannot be a traced argument of a jitted function (pass the samples in, as here).
 */
const step = jit((p: Params, x: Tensor, labels: Tensor, noise: Params) => {
  const g = perExampleGrads(p, x, labels) as Params;
  const norms = perExampleNorms(g);
  const scale = np.minimum(1, np.divide(CLIP, norms.add(1e-12))); // [n]: 1 for small gradients, C/‖g‖ for big ones
  const n = x.shape[0]!;
  const update = (leaf: Tensor, z: Tensor, param: Tensor): Tensor => {
    const clipped = leaf.mul(scale.reshape(n, ...new Array<number>(leaf.ndim - 1).fill(1)));
    const noisy = clipped.sum(0).add(z.mul(NOISE * CLIP)); // Σ clipped gradients + N(0, (σC)²)
    return param.sub(noisy.div(n).mul(LR));
  };
  const next: Params = { w: update(g.w, noise.w, p.w), b: update(g.b, noise.b, p.b) };
  const clippedMax = np.max(norms.mul(scale)); // ≤ C: checked by the test
  return [next, norms.mean(), clippedMax];
});

export async function main(argv: string[] = [], log: Log = console.log) {
  const small = argv.includes('--small');
  const [count, steps, batch] = small ? [1000, 60, 100] : [4000, 300, 200];
  const train = syntheticSplit(count, 'digits', 1);
  const test = splitToTensors(syntheticSplit(500, 'digits', 2));

  const meanLoss = (p: Params, x: Tensor, y: Tensor): number =>
    nn.crossEntropy(x.matmul(p.w).add(p.b), np.oneHot(y, 10)).item() as number;
  const accuracy = (p: Params): number => test.x.matmul(p.w).add(p.b).argmax(1).equal(test.y).astype('float32').mean().item() as number;

  let params: Params = { w: np.zeros([784, 10]), b: np.zeros([10]) };
  let key = random.key(42);
  const first = meanLoss(params, test.x, test.y);
  log(`step    0  test loss ${first.toFixed(4)}  accuracy ${accuracy(params).toFixed(3)}`);
  let largestClipped = 0;
  let meanNorm = 0;
  for (let i = 1; i <= steps; i++) {
    const start = ((i - 1) * batch) % count;
    const { x, y } = splitToTensors(sliceSplit(train, start, start + batch));
    const [next_, kw, kb] = random.splitKeys(key, 3) as [Tensor, Tensor, Tensor];
    key = next_;
    const noise: Params = { w: random.normal(kw, [784, 10]), b: random.normal(kb, [10]) };
    const [next, norm, clippedMax] = step(params, x, y, noise) as [Params, Tensor, Tensor];
    params = next;
    largestClipped = Math.max(largestClipped, clippedMax.item() as number);
    meanNorm = norm.item() as number;
    if (i % (steps / 5) === 0) {
      log(`step ${String(i).padStart(4)}  test loss ${meanLoss(params, test.x, test.y).toFixed(4)}  accuracy ${accuracy(params).toFixed(3)}  mean per-example grad norm ${meanNorm.toFixed(3)}`);
    }
  }
  const last = meanLoss(params, test.x, test.y);
  const acc = accuracy(params);
  log(`largest clipped per-example norm ${largestClipped.toFixed(4)} (clip C = ${CLIP}); noise σ = ${NOISE}`);
  return { firstLoss: first, lastLoss: last, accuracy: acc, largestClipped, clip: CLIP };
}

runIfMain(import.meta.url, main);
