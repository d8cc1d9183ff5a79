/**
 * Kernel compilation on the GPU backend (see src/backends/gpu/device.ts): kernels whose reads need no index
 * arithmetic (elementwise ops and fused groups over same-shape operands and scalars, uploads, copies) compile
 * once for every size; a new batch size recompiles only the kernels whose code depends on shapes.
 */
import { describe, expect, it } from 'vitest';
import { type Tensor, devicePut, jit, nn, numpy as np, tree } from '../src/index.js';
import { gpuKernelStats } from '../src/backends/gpu/index.js';
import { compareTrees, randomTensor, rngFrom } from './helpers/random-programs.js';
import { F32, gpuSkip, onBackend } from './helpers/gpu.js';

/** Kernels compiled while `fn` runs. */
function compiledBy(fn: () => void): number {
  const before = gpuKernelStats().compiled;
  fn();
  return gpuKernelStats().compiled - before;
}

describe.skipIf(gpuSkip !== null)('gpu kernel cache', () => {
  it('a fused elementwise group over same-shape operands compiles once for every shape', () => {
    // constants of their own, so that no other test compiled this group's kernel
    const f = jit((x: Tensor, y: Tensor): Tensor => nn.sigmoid(x.mul(y).add(0.375)).sub(np.tanh(y).mul(1.625)));
    const shapes = [[3, 4], [5, 4], [2, 3, 7], [1000]];
    const counts = shapes.map((shape, k) => {
      const x = randomTensor(rngFrom(k), shape, 'float32');
      const y = randomTensor(rngFrom(k + 10), shape, 'float32');
      let out: Tensor | undefined;
      const n = compiledBy(() => {
        out = f(devicePut(x, 'gpu'), devicePut(y, 'gpu'));
      });
      expect(compareTrees(out, onBackend('cpu', () => f(x, y)), F32)).toBeNull();
      return n;
    });
    expect(counts[0]).toBeGreaterThan(0);
    expect(counts.slice(1), `kernels compiled per shape: ${counts.join(', ')}`).toEqual([0, 0, 0]);
  });

  it("one update kernel serves every parameter of an SGD step, whatever its size", () => {
    const params = [[60, 784], [60], [20, 60], [20], [10, 20], [10]].map((s, k) => randomTensor(rngFrom(k), s, 'float32'));
    const grads = params.map((p, k) => randomTensor(rngFrom(k + 20), p.shape, 'float32'));
    const sgd = jit((p: Tensor[], g: Tensor[]) => tree.map((a: Tensor, b: Tensor) => a.sub(b.mul(0.0123)), p as any, g as any));
    const onGpu = (xs: Tensor[]): Tensor[] => xs.map((x) => devicePut(x, 'gpu'));
    const gp = onGpu(params);
    const gg = onGpu(grads);
    let out: unknown;
    expect(compiledBy(() => (out = sgd(gp, gg)))).toBe(1);
    expect(compareTrees(out, onBackend('cpu', () => sgd(params, grads)), F32)).toBeNull();
  });

  it('uploads of any size share one kernel', () => {
    onBackend('gpu', () => randomTensor(rngFrom(1), [17], 'float32')).data();
    const n = compiledBy(() => {
      for (const size of [1, 5, 333, 4096, 10001]) onBackend('gpu', () => randomTensor(rngFrom(size), [size], 'float32')).data();
    });
    expect(n).toBe(0);
  });
});
