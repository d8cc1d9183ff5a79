import { grad, init, jit, nn, numpy as np, vmap } from '@jax-js/jax';
import { BATCH, type Data, type Impl, LR, versionOf, PARAM_SHAPES } from './common.js';

type A = np.Array;
type P = A[];

/**
 * jax-js on its wasm device. Its memory model is reference counting with ownership: every function
 * consumes its array arguments, so an array used again later is passed as `a.ref` (+1), and the
 * caller disposes what it keeps no longer.
 */
export async function jaxjsImpl(data: Data): Promise<Impl<P>> {
  const devices = await init('wasm');
  if (!devices.includes('wasm')) throw new Error(`jax-js: wasm device unavailable (got ${devices.join(', ')})`);
  const version = versionOf('@jax-js/jax');
  const x = np.array(Float32Array.from(data.x), { shape: [BATCH, 784] });
  const t = np.array(Float32Array.from(data.t), { shape: [BATCH, 10] });
  // consumes p and xb
  const predict = (p: P, xb: A): A => {
    const [w1, b1, w2, b2, w3] = p as [A, A, A, A, A];
    const h1 = nn.sigmoid(np.matmul(xb, w1.transpose()).add(b1));
    const h2 = nn.sigmoid(np.matmul(h1, w2.transpose()).add(b2));
    return nn.softmax(np.matmul(h2, w3.transpose()));
  };
  // consumes all arguments
  const lossBatch = (p: P, xb: A, tb: A): A => np.negative(np.sum(np.multiply(tb, np.log(predict(p, xb)))));
  const lossOne = (p: P, xi: A, ti: A): A => np.negative(np.sum(np.multiply(ti, np.log(predict(p, xi)))));
  // consumes p and g
  const sgd = (p: P, g: P): P => p.map((a, i) => a.sub(g[i]!.mul(LR)));
  const gradBatch = grad(lossBatch);
  const gradOne = vmap(grad(lossOne), [null, 0, 0]);
  const batched = (p: P, xb: A, tb: A): P => sgd(p, gradBatch(p.map((a) => a.ref), xb, tb) as P);
  const perExample = (p: P, xb: A, tb: A): P => sgd(p, (gradOne(p.map((a) => a.ref), xb, tb) as P).map((g) => g.sum(0)));
  const jitBatched = jit(batched);
  const jitPerExample = jit(perExample);
  return {
    name: 'jax-js-wasm',
    version,
    detail: `device wasm, SharedArrayBuffer ${typeof SharedArrayBuffer !== 'undefined'}`,
    forms: [
      { name: 'eager grad(batched loss)', step: (p) => batched(p, x.ref, t.ref) },
      { name: 'jit(grad(batched loss))', step: (p) => jitBatched(p, x.ref, t.ref) as P },
      { name: 'jit(vmap(grad))+sum', step: (p) => jitPerExample(p, x.ref, t.ref) as P },
    ],
    init: (params) => params.map((a, i) => np.array(Float32Array.from(a), { shape: PARAM_SHAPES[i]! })),
    loss: (p) => lossBatch(p.map((a) => a.ref), x.ref, t.ref).dataSync()[0]!,
    sync: (p) => p.forEach((a) => a.ref.dataSync()),
    free: (p) => p.forEach((a) => a.dispose()),
    matmul: (a, b, m, k, n) => {
      const Am = np.array(Float32Array.from(a), { shape: [m, k] });
      const Bm = np.array(Float32Array.from(b), { shape: [k, n] });
      return {
        run: () => void np.matmul(Am.ref, Bm.ref).dataSync(),
        close: () => {
          Am.dispose();
          Bm.dispose();
        },
      };
    },
  };
}
