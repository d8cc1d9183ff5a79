/**
 * Kernel compilation of the jitted seed step on the gpu backend: how many gpu.js kernels its first call at
 * batch 100 compiles, how many more a second batch size (50) needs, and the time their first calls took
 * (gpu.js translation, GLSL compile and link, and llvmpipe's LLVM compile at the first draw).
 * Run from the repo root, with Mesa's shader cache off so that every compile is a real one:
 *   MESA_SHADER_CACHE_DISABLE=true xvfb-run -a npx tsx packages/tensor/bench/gpu-compile.ts
 */
import { type Tensor, grad, jit, nn, numpy as np, random, setDefaultBackend, tree, vmap } from '../src/index.js';
import { gpuKernelStats } from '../src/backends/gpu/index.js';

setDefaultBackend('gpu');
type Params = [Tensor, Tensor][];
const sizes = [784, 60, 20, 10];
const keys = random.splitKeys(random.key(0), 3);
const params: Params = [0, 1, 2].map((i) => [random.normal(keys[i]!, [sizes[i + 1]!, sizes[i]!]).div(10), np.zeros([sizes[i + 1]!])] as [Tensor, Tensor]);
function predict(p: Params, x: Tensor): Tensor {
  const h1 = nn.sigmoid(np.add(np.matmul(x, p[0]![0].T), p[0]![1]));
  const h2 = nn.sigmoid(np.add(np.matmul(h1, p[1]![0].T), p[1]![1]));
  return nn.softmax(np.matmul(h2, p[2]![0].T));
}
const lossOne = (p: Params, x: Tensor, t: Tensor): Tensor => np.negative(np.log(np.take(predict(p, x), np.argmax(t))));
const sgd = (p: Params, g: Params): Params => tree.map((a: Tensor, b: Tensor) => a.sub(b.mul(0.01)), p as any, g as any) as any;
const step = jit((p: Params, x: Tensor, t: Tensor): Params => sgd(p, grad((q: Params) => vmap(lossOne, { inAxes: [null, 0, 0] })(q, x, t).sum())(p)));

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
