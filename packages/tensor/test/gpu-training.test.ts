/**
 * The seed MLP (784-60-20-10 sigmoid, softmax + NLL, batch 100, SGD lr 0.01) on the GPU backend:
 * - memory: training steps inside `tidy` keep the number of live device buffers flat (eager and jit);
 * - parity: 100 steps on 'gpu' and on 'cpu' from the same PRNG key agree to 1e-4 relative.
 */
import { describe, expect, it } from 'vitest';
import { type Tensor, grad, jit, memory, nn, numpy as np, random, tidy, tree, vmap } from '../src/index.js';
import { gpuSkip, onBackend } from './helpers/gpu.js';
import { gpuKernelStats } from '../src/backends/gpu/index.js';

type Params = [Tensor, Tensor][];
const SIZES = [784, 60, 20, 10];

function initParams(key: Tensor): Params {
  const keys = random.splitKeys(key, 3);
  return [0, 1, 2].map((i) => [random.normal(keys[i]!, [SIZES[i + 1]!, SIZES[i]!]).div(10), np.zeros([SIZES[i + 1]!])] as [Tensor, Tensor]);
}
function predict(p: Params, x: Tensor): Tensor {
  const h1 = nn.sigmoid(np.add(np.matmul(x, p[0]![0].T), p[0]![1]));
  const h2 = nn.sigmoid(np.add(np.matmul(h1, p[1]![0].T), p[1]![1]));
  return nn.softmax(np.matmul(h2, p[2]![0].T));
}
const lossOne = (p: Params, x: Tensor, t: Tensor): Tensor => np.negative(np.log(np.take(predict(p, x), np.argmax(t))));
const sgd = (p: Params, g: Params, lr: number): Params => tree.map((a: Tensor, b: Tensor) => a.sub(b.mul(lr)), p as any, g as any) as any;
const stepLr = (lr: number) => (p: Params, x: Tensor, t: Tensor): Params => sgd(p, grad((q: Params) => vmap(lossOne, { inAxes: [null, 0, 0] })(q, x, t).sum())(p), lr);
/** The seed step (lr 0.01 on the summed batch loss). */
const step = stepLr(0.01);

function setup(backend: 'cpu' | 'gpu'): { p: Params; x: Tensor; t: Tensor } {
  return onBackend(backend, () => {
    const key = random.key(0);
    const [kx, kt] = random.splitKeys(key, 2);
    return { p: initParams(key), x: random.uniform(kx!, [100, 784]), t: np.oneHot(random.randint(kt!, [100], 0, 10), 10) };
  });
}

describe.skipIf(gpuSkip !== null)('seed MLP on gpu', () => {
  it('1000 eager training steps inside tidy keep the live device buffers flat', () => {
    let { p, x, t } = setup('gpu');
    const counts: number[] = [];
    for (let i = 0; i < 1000; i++) {
      const old = p;
      p = onBackend('gpu', () => tidy(() => step(old, x, t)));
      if (i > 0) tree.leaves(old as any).forEach((l) => (l as any).dispose());
      if (i % 100 === 0 || i === 999) counts.push(memory().gpuBuffers);
    }
    expect(new Set(counts.slice(1)).size, `live buffers over the run: ${counts.join(', ')}`).toBe(1);
    expect(Number.isFinite(tree.leaves(p as any)[0]!.sum().item() as number)).toBe(true);
  }, 600_000);
  it('jitted training steps keep the live device buffers flat', () => {
    let { p, x, t } = setup('gpu');
    const jstep = jit(step);
    const counts: number[] = [];
    for (let i = 0; i < 200; i++) {
      const old = p;
      p = onBackend('gpu', () => jstep(old, x, t));
      if (i > 0) tree.leaves(old as any).forEach((l) => (l as any).dispose());
      if (i % 50 === 0 || i === 199) counts.push(memory().gpuBuffers);
    }
    expect(new Set(counts.slice(1)).size, `live buffers over the run: ${counts.join(', ')}`).toBe(1);
  }, 600_000);
  it('a jitted training step is one pipeline on the device: nothing is read back until a value is asked for', () => {
    let { p, x, t } = setup('gpu');
    const jstep = jit(step);
    p = onBackend('gpu', () => jstep(p, x, t)); // compile (and upload the constants) first
    const before = gpuKernelStats().readBacks;
    for (let i = 0; i < 20; i++) p = onBackend('gpu', () => jstep(p, x, t)); // its gather's indices come from argmax, on the device
    expect(gpuKernelStats().readBacks).toBe(before);
    expect(Number.isFinite(tree.leaves(p as any)[2]!.sum().item() as number)).toBe(true);
    expect(gpuKernelStats().readBacks).toBe(before + 1);
  }, 600_000);
  // With lr 0.01 on the summed loss this fixed batch's training diverges near step 90 on the CPU itself (the
  // loss climbs from 2.7 to 6): there float32 rounding differences grow without bound (gpu and cpu agree to
  // 1e-6 relative up to step 85, then part). Parity is checked over 100 steps at lr 0.001, where training is
  // stable.
  it('100 steps (lr 0.001) on gpu and on cpu from the same key agree to 1e-4 relative', () => {
    const run = (backend: 'cpu' | 'gpu'): Float32Array[] => {
      let { p, x, t } = setup(backend);
      const jstep = jit(stepLr(0.001));
      for (let i = 0; i < 100; i++) p = onBackend(backend, () => jstep(p, x, t));
      return tree.leaves(p as any).map((l) => (l as Tensor).data() as Float32Array);
    };
    const cpu = run('cpu');
    const gpu = run('gpu');
    cpu.forEach((c, k) => {
      let worst = 0;
      const scale = Math.max(...Array.from(c, Math.abs));
      if (scale === 0) return; // the unused output-layer bias
      for (let i = 0; i < c.length; i++) worst = Math.max(worst, Math.abs(gpu[k]![i]! - c[i]!) / scale);
      expect(worst, `leaf ${k}: max |gpu - cpu| / max |cpu|`).toBeLessThan(1e-4);
    });
  }, 600_000);
});
