/**
 * Linear regression with `grad`: fit y = X·w + b to noisy data by gradient descent on the mean squared error.
 *
 *   pnpm --filter @xs/examples linear-regression            (2,000 examples, 8 features, 300 steps)
 *   pnpm --filter @xs/examples linear-regression -- --small (200 examples, 100 steps: what CI runs)
 */
import { type Tensor, grad, jit, numpy as np, random } from '@xs/tensor';
import { type Log, runIfMain } from './run.js';

interface Params {
  w: Tensor; // [features]
  b: Tensor; // []
}

/** Mean squared error of the linear model on (x, y). */
const mse = (p: Params, x: Tensor, y: Tensor): Tensor => x.matmul(p.w).add(p.b).sub(y).square().mean();

export async function main(argv: string[] = [], log: Log = console.log) {
  const small = argv.includes('--small');
  const [n, features, steps, lr] = small ? [200, 4, 100, 0.1] : [2000, 8, 300, 0.1];

  // Data: y = X·wTrue + bTrue + noise, with every random number from one key.
  const [kx, kw, kn] = random.splitKeys(random.key(0), 3);
  const x = random.normal(kx!, [n, features]);
  const wTrue = random.normal(kw!, [features]);
  const bTrue = 0.5;
  const y = x.matmul(wTrue).add(bTrue).add(random.normal(kn!, [n]).mul(0.1));

  // grad differentiates with respect to the first argument, a pytree: the gradient is a { w, b } too.
  const gradient = grad(mse);
  const step = jit((p: Params, x: Tensor, y: Tensor): Params => {
    const g = gradient(p, x, y) as Params;
    return { w: p.w.sub(g.w.mul(lr)), b: p.b.sub(g.b.mul(lr)) };
  });

  let params: Params = { w: np.zeros([features]), b: np.zeros([]) };
  const losses: number[] = [];
  for (let i = 0; i <= steps; i++) {
    if (i % (steps / 5) === 0) {
      const loss = mse(params, x, y).item() as number;
      losses.push(loss);
      log(`step ${String(i).padStart(4)}  mse ${loss.toFixed(5)}`);
    }
    if (i < steps) params = step(params, x, y) as Params;
  }
  const wError = np.max(params.w.sub(wTrue).abs()).item() as number;
  const bFit = params.b.item() as number;
  log(`fitted b ${bFit.toFixed(3)} (true ${bTrue}); largest |w - wTrue| ${wError.toFixed(4)}`);
  return { losses, wError, b: bFit };
}

runIfMain(import.meta.url, main);
