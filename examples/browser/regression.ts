/**
 * What the browser page trains: a 1-32-32-1 tanh MLP fitted to y = sin(x) + noise by full-batch gradient
 * descent, one jitted `valueAndGrad` step per iteration, on a backend named by the caller. No DOM here, so the
 * same code also runs in Node.
 */
import { type Tensor, devicePut, dispose, jit, numpy as np, random, tree, valueAndGrad } from '@xs/tensor';

/** [[W, b], ...] with W [in, out]. */
export type Params = [Tensor, Tensor][];

/** The data and the initial parameters, made once on the CPU and copied to each backend. */
export interface Problem {
  x: Tensor; // [n, 1], in [-pi, pi]
  y: Tensor; // [n, 1]
  params: Params;
}

/** One backend's training run. */
export interface Run {
  backend: string;
  /** The loss before each step (losses[i] is the mean squared error of the parameters after i steps). */
  losses: number[];
  /** The fitted function at `grid` (for the plot). */
  prediction: number[];
  /** Wall time per step after the first (the first includes tracing and, on the GPU, shader compilation). */
  msPerStep: number;
  /** Wall time of the first step. */
  msFirstStep: number;
}

/** Sizes of the network's layers. */
export const SIZES = [1, 32, 32, 1];

/** n points of y = sin(x) + 0.1·noise and a He-scaled initialisation, all from one key. */
export function makeProblem(n: number, seed = 0): Problem {
  const [kx, kn, kp] = random.splitKeys(random.key(seed), 3);
  const x = random.uniform(kx!, [n, 1], { minval: -Math.PI, maxval: Math.PI });
  const y = np.sin(x).add(random.normal(kn!, [n, 1]).mul(0.1));
  const params: Params = random.splitKeys(kp!, SIZES.length - 1).map((k, i) => [
    random.normal(k, [SIZES[i]!, SIZES[i + 1]!]).mul(Math.sqrt(1 / SIZES[i]!)),
    np.zeros([SIZES[i + 1]!]),
  ]);
  return { x, y, params };
}

/** The MLP: tanh hidden layers, a linear output. */
export function mlp(params: Params, x: Tensor): Tensor {
  let h = x;
  params.forEach(([w, b], i) => {
    h = h.matmul(w).add(b);
    if (i < params.length - 1) h = np.tanh(h);
  });
  return h;
}

const mse = (p: Params, x: Tensor, y: Tensor): Tensor => mlp(p, x).sub(y).square().mean();

/** `steps` steps of gradient descent with learning rate `lr` on `backend` ('cpu' or 'gpu'). */
export function train(problem: Problem, backend: string, steps: number, lr: number, grid: number[]): Run {
  // A fresh jit per run: its cache then holds only this backend's compiled plan.
  const step = jit((p: Params, x: Tensor, y: Tensor) => {
    const [loss, g] = valueAndGrad(mse)(p, x, y) as [Tensor, Params];
    return [tree.map((a: Tensor, da: Tensor) => a.sub(da.mul(lr)), p as never, g as never) as Params, loss];
  });
  const first = devicePut(problem.params, backend);
  const x = devicePut(problem.x, backend);
  const y = devicePut(problem.y, backend);
  let p = first;
  const losses: number[] = [];
  let msFirstStep = 0;
  const t0 = performance.now();
  let t1 = t0;
  for (let i = 0; i < steps; i++) {
    const [next, loss] = step(p, x, y) as [Params, Tensor];
    losses.push(loss.item() as number); // reads back every step, as a training loop that logs would
    dispose(loss);
    // devicePut returns CPU arrays as they are: never free the problem's own parameters
    if (p !== first) dispose(p);
    p = next;
    if (i === 0) {
      t1 = performance.now();
      msFirstStep = t1 - t0;
    }
  }
  const msPerStep = steps > 1 ? (performance.now() - t1) / (steps - 1) : msFirstStep;
  losses.push(mse(p, x, y).item() as number);
  const gx = devicePut(np.array(grid).reshape([grid.length, 1]), backend);
  const prediction = Array.from(mlp(p, gx).data() as Float32Array);
  return { backend, losses, prediction, msPerStep, msFirstStep };
}

/** The largest |a - b| / max(|a|, |b|, tiny) over two equally long lists. */
export function maxRelativeDifference(a: readonly number[], b: readonly number[]): number {
  if (a.length !== b.length) throw new Error(`maxRelativeDifference: lengths differ (${a.length} and ${b.length})`);
  let worst = 0;
  for (let i = 0; i < a.length; i++) {
    const scale = Math.max(Math.abs(a[i]!), Math.abs(b[i]!), 1e-30);
    worst = Math.max(worst, Math.abs(a[i]! - b[i]!) / scale);
  }
  return worst;
}
