/**
 * Kernel compilation of the jitted seed step on the gpu backend: how many gpu.js kernels its first call at
 * batch 100 compiles, how many more a second batch size (50) needs, and the time their first calls took
 * (gpu.js translation, GLSL compile and link, and llvmpipe's LLVM compile at the first draw).
 * Run from the repo root, with Mesa's shader cache off so that every compile is a real one:
 *   MESA_SHADER_CACHE_DISABLE=true xvfb-run -a npx tsx packages/tensor/bench/gpu-compile.ts
 */
import { jit, numpy as np, random, setDefaultBackend, tree } from '../src/index.js';
import { batchedStep, initParams } from './seed-model.js';
import { gpuKernelStats } from '../src/backends/gpu/index.js';

setDefaultBackend('gpu');
const params = initParams(random.key(0));
const step = jit(batchedStep);

tree.leaves(params as any).forEach((l: any) => l.data());
for (const batch of [100, 50]) {
  const x = random.uniform(random.key(1), [batch, 784]);
  const t = np.oneHot(random.randint(random.key(2), [batch], 0, 10), 10);
  x.data();
  t.data();
  const s0 = gpuKernelStats();
  const t0 = performance.now();
  tree.leaves(step(params, x, t) as any).forEach((l: any) => l.data());
  const s1 = gpuKernelStats();
  console.log(`jit seed step, batch ${batch}: first call ${(performance.now() - t0).toFixed(0)} ms, ${s1.compiled - s0.compiled} kernels compiled (${(s1.compileMs - s0.compileMs).toFixed(0)} ms in their first calls)`);
}
