import { type Tensor, enableRelaxedSimd, fromTypedArray, grad, jit, matmulThreads, nn, numpy as np, startMatmulThreads, tree, vmap, wasmMatmulInfo } from '@xs/tensor';
import { BATCH, type Data, type Impl, LR, versionOf, PARAM_SHAPES } from './common.js';

type P = Tensor[];

// The matmul thread pool, started (and its workers ready) before anything is timed; the seed step's products
// are below its threshold, so only the large matmuls use it.
// As the CLI does: relaxed SIMD on (Node 20 keeps it behind a V8 flag), so matmuls use the fused multiply-add kernel.
await enableRelaxedSimd();
const threads = await startMatmulThreads();
const kernel = wasmMatmulInfo();
const defaults = { ...matmulThreads };
/**
 * matmul modes: one thread (the peers' setting) and, where the pool runs, all of its threads with the split
 * forced at every shape (by default products below matmulThreads.minWork, such as [100x784]x[784x60], stay on
 * one thread)
 */
const MODES = threads > 1 ? ['1 thread', `${threads} threads`] : ['1 thread'];

export function xsImpl(data: Data): Impl<P> {
  const version = versionOf('@xs/tensor');
  const x = fromTypedArray(data.x, [BATCH, 784]);
  const t = fromTypedArray(data.t, [BATCH, 10]);
  const predict = (p: P, xb: Tensor): Tensor => {
    const h1 = nn.sigmoid(np.add(np.matmul(xb, p[0]!.T), p[1]!));
    const h2 = nn.sigmoid(np.add(np.matmul(h1, p[2]!.T), p[3]!));
    return nn.softmax(np.matmul(h2, p[4]!.T));
  };
  /** summed NLL over the batch, one-hot targets */
  const lossBatch = (p: P, xb: Tensor, tb: Tensor): Tensor => np.negative(np.sum(np.multiply(tb, np.log(predict(p, xb)))));
  /** the seed's per-example NLL */
  const lossOne = (p: P, xi: Tensor, ti: Tensor): Tensor => np.negative(np.log(np.take(predict(p, xi), np.argmax(ti))));
  const sgd = (p: P, g: P): P => p.map((a, i) => a.sub(g[i]!.mul(LR)));
  const batched = (p: P, xb: Tensor, tb: Tensor): P => sgd(p, grad((q: P) => lossBatch(q, xb, tb))(p) as P);
  const perExample = (p: P, xb: Tensor, tb: Tensor): P =>
    sgd(p, tree.map((g: Tensor) => g.sum(0), vmap(grad(lossOne), { inAxes: [null, 0, 0] })(p, xb, tb) as any) as unknown as P);
  const jitBatched = jit(batched);
  const jitPerExample = jit(perExample);
  return {
    name: 'xs',
    version,
    detail: `cpu backend, matmul kernel ${kernel ? `wasm ${kernel.tile}${kernel.fma ? ' FMA' : ''}` : 'JS'}, ${threads > 1 ? `matmul on ${threads} threads from ${(defaults.minWork / 1e6).toFixed(1)}M multiply-adds (the benchmark's "${threads} threads" splits every shape)` : 'matmul on 1 thread'}`,
    forms: [
      { name: 'eager grad(batched loss)', step: (p) => batched(p, x, t) },
      { name: 'jit(grad(batched loss))', step: (p) => jitBatched(p, x, t) },
      { name: 'jit(vmap(grad))+sum', step: (p) => jitPerExample(p, x, t) },
    ],
    init: (params) => params.map((a, i) => fromTypedArray(Float32Array.from(a), PARAM_SHAPES[i]!)),
    loss: (p) => lossBatch(p, x, t).item() as number,
    sync: (p) => p.forEach((a) => a.data()),
    free: () => {},
    matmul: (a, b, m, k, n, mode = MODES[0]) => {
      const A = fromTypedArray(a, [m, k]);
      const B = fromTypedArray(b, [k, n]);
      // (threads = 1 keeps products on this thread; the running pool serves any value ≥ 2, minWork = 1 splits all)
      const single = mode === '1 thread';
      return {
        run: () => {
          matmulThreads.threads = single ? 1 : defaults.threads;
          matmulThreads.minWork = single ? defaults.minWork : 1;
          void np.matmul(A, B).data();
        },
        close: () => {
          Object.assign(matmulThreads, defaults);
        },
      };
    },
    matmulModes: MODES,
  };
}
