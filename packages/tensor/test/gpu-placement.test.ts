/**
 * Arrays put on the GPU with `devicePut` while the default backend stays 'cpu': `grad` and `jit(grad)` must
 * run there. The zeros/ones that gradients start from (`zerosLike`/`onesLike`, gather's and select's vjp
 * zeros) follow their operand's backend instead of landing on the default one.
 */
import { describe, expect, it } from 'vitest';
import { type Tensor, defaultBackend, devicePut, grad, jit, nn, numpy as np, onesLike, random, tree, vmap, zerosLike } from '../src/index.js';
import { F32, gpuSkip } from './helpers/gpu.js';

type Params = [Tensor, Tensor][];

function initParams(key: Tensor, sizes: number[]): Params {
  const keys = random.splitKeys(key, sizes.length - 1);
  return sizes.slice(1).map((n, i) => [random.normal(keys[i]!, [n, sizes[i]!]).div(4), np.zeros([n])] as [Tensor, Tensor]);
}
/** relu hidden layer (select's vjp), sigmoid, log-softmax + NLL through take (gather's vjp), an int label. */
function loss(p: Params, x: Tensor, labels: Tensor): Tensor {
  const h1 = nn.relu(np.add(np.matmul(x, p[0]![0].T), p[0]![1]));
  const h2 = nn.sigmoid(np.add(np.matmul(h1, p[1]![0].T), p[1]![1]));
  const logits = np.add(np.matmul(h2, p[2]![0].T), p[2]![1]);
  const one = (l: Tensor, y: Tensor): Tensor => np.negative(np.take(nn.logSoftmax(l), y));
  return np.add(vmap(one)(logits, labels).mean(), np.maximum(np.abs(p[0]![0]), 0.5).mean());
}

function expectClose(gpu: Params, cpu: Params): void {
  const g = tree.leaves(gpu as any) as Tensor[];
  const c = tree.leaves(cpu as any) as Tensor[];
  expect(g.length).toBe(c.length);
  g.forEach((a, i) => {
    expect(a.concrete('test').backend.name).toBe('gpu');
    const av = a.data() as Float32Array;
    const cv = c[i]!.data() as Float32Array;
    for (let j = 0; j < cv.length; j++) expect(Math.abs(av[j]! - cv[j]!)).toBeLessThanOrEqual(F32.atol + F32.rtol * Math.abs(cv[j]!) + 1e-5);
  });
}

describe.skipIf(gpuSkip !== null)('gpu arrays under a cpu default backend', () => {
  const key = random.key(3);
  const [kp, kx, ky] = random.splitKeys(key, 3);
  const p = initParams(kp!, [12, 16, 8, 5]);
  const x = random.uniform(kx!, [6, 12]);
  const y = random.randint(ky!, [6], 0, 5);

  it('zerosLike/onesLike follow their operand, also under grad', () => {
    expect(defaultBackend()).toBe('cpu');
    const g = devicePut(x, 'gpu') as Tensor;
    expect(zerosLike(g).concrete('test').backend.name).toBe('gpu');
    expect(onesLike(g).concrete('test').backend.name).toBe('gpu');
    expect(zerosLike(x).concrete('test').backend.name).toBe('cpu');
    expect(Array.from(onesLike(g).sum().data() as Float32Array)).toEqual([72]);
  });

  it('oneHot and nll build their index arrays on their operands\' backend', () => {
    const gy = devicePut(y, 'gpu') as Tensor;
    const oh = np.oneHot(gy, 5);
    expect(oh.concrete('test').backend.name).toBe('gpu');
    expect(Array.from(oh.data() as Float32Array)).toEqual(Array.from(np.oneHot(y, 5).data() as Float32Array));
    const lp = nn.logSoftmax(random.normal(kx!, [6, 5]));
    const gpuNll = nn.nll(devicePut(lp, 'gpu') as Tensor, gy);
    expect(gpuNll.concrete('test').backend.name).toBe('gpu');
    expect(gpuNll.item() as number).toBeCloseTo(nn.nll(lp, y).item() as number, 4);
  });

  it('grad of an MLP loss on devicePut arrays matches the cpu gradient', () => {
    expect(defaultBackend()).toBe('cpu');
    const cpuGrad = grad(loss)(p, x, y) as Params;
    const gp = devicePut(p, 'gpu') as Params;
    const gpuGrad = grad(loss)(gp, devicePut(x, 'gpu') as Tensor, devicePut(y, 'gpu') as Tensor) as Params;
    expectClose(gpuGrad, cpuGrad);
  }, 120_000);

  it('jit(grad) of the same loss on devicePut arrays matches the cpu gradient', () => {
    expect(defaultBackend()).toBe('cpu');
    const cpuGrad = grad(loss)(p, x, y) as Params;
    const jg = jit(grad(loss));
    const gp = devicePut(p, 'gpu') as Params;
    const gpuGrad = jg(gp, devicePut(x, 'gpu') as Tensor, devicePut(y, 'gpu') as Tensor) as Params;
    expectClose(gpuGrad, cpuGrad);
    expect(defaultBackend()).toBe('cpu');
  }, 120_000);
});
