/**
 * A jitted function whose elementwise ops fuse into one group with four outputs, on the gpu backend: the time
 * per call (the group is one gpu.js kernel writing four textures; it was four kernels).
 * Run from the repo root: xvfb-run -a npx tsx packages/tensor/bench/gpu-fused.ts
 */
import { type Tensor, dispose, jit, nn, numpy as np, random, setDefaultBackend } from '../src/index.js';

setDefaultBackend('gpu');
const f = jit((x: Tensor, y: Tensor): Tensor[] => {
  const z = x.mul(y).add(1);
  return [nn.sigmoid(z), np.tanh(z), z.mul(z), np.exp(z.neg())];
});
for (const n of [100, 1000]) {
  const x = random.uniform(random.key(1), [n, 784]);
  const y = random.uniform(random.key(2), [n, 784]);
  (f(x, y) as Tensor[]).forEach((o) => o.data());
  const ms: number[] = [];
  for (let r = 0; r < 7; r++) {
    const t0 = performance.now();
    let outs: Tensor[] = [];
    for (let i = 0; i < 20; i++) {
      dispose(outs);
      outs = f(x, y);
    }
    outs.forEach((o) => o.data());
    ms.push((performance.now() - t0) / 20);
  }
  console.log(`[${n},784], a fused group with 4 outputs: ${ms.sort((a, b) => a - b)[3]!.toFixed(2)} ms per call`);
}
