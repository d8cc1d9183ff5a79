import * as tf from '@tensorflow/tfjs-core';
import { build } from 'esbuild';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import { pathToFileURL } from 'node:url';
import { createRequire } from 'node:module';
import path from 'node:path';
import { BATCH, type Data, type Impl, LR, versionOf, PARAM_SHAPES } from './common.js';

type P = tf.Tensor[];

/**
 * tfjs-core's Node bundle registers no gradients (the `@tensorflow/tfjs` umbrella does, at the cost of
 * layers, converter, data and webgl), and its ESM `register_all_gradients.js` uses extensionless and
 * directory imports that Node's ESM loader refuses. So bundle that file with esbuild and import it:
 * TF.js's own gradient configs, registered in the registry that tfjs-core keeps on globalThis.
 */
async function registerGradients(require: NodeRequire): Promise<void> {
  const entry = path.join(path.dirname(require.resolve('@tensorflow/tfjs-core')), 'register_all_gradients.js');
  const dir = mkdtempSync(path.join(os.tmpdir(), 'xs-bench-tfjs-'));
  const out = path.join(dir, 'register_all_gradients.mjs');
  try {
    await build({ entryPoints: [entry], bundle: true, platform: 'node', format: 'esm', outfile: out, logLevel: 'error' });
    await import(pathToFileURL(out).href);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  if (!tf.getGradient('Neg')) throw new Error('tfjs gradients did not register');
}

/** TensorFlow.js on its `cpu` (plain JS) or `wasm` (XNNPACK) backend; eager only (it has no jit or vmap). */
export async function tfjsImpl(data: Data, backend: 'cpu' | 'wasm'): Promise<Impl<P>> {
  const require = createRequire(import.meta.url);
  if (backend === 'cpu') {
    await import('@tensorflow/tfjs-backend-cpu');
  } else {
    const wasm = await import('@tensorflow/tfjs-backend-wasm');
    // the .wasm files ship in the package's dist folder: load them from disk, never from the network
    const dist = path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm'));
    wasm.setWasmPaths(dist + path.sep);
  }
  await registerGradients(require);
  if (!(await tf.setBackend(backend))) throw new Error(`tfjs backend ${backend} failed to initialise`);
  await tf.ready();
  const version = versionOf('@tensorflow/tfjs-core');
  let detail = `backend ${tf.getBackend()}`;
  if (backend === 'wasm') detail += `, simd ${String(await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT'))}, threads ${String(await tf.env().getAsync('WASM_HAS_MULTITHREAD_SUPPORT'))}`;
  const x = tf.keep(tf.tensor2d(data.x, [BATCH, 784]));
  const t = tf.keep(tf.tensor2d(data.t, [BATCH, 10]));
  const lossOf = (w1: tf.Tensor, b1: tf.Tensor, w2: tf.Tensor, b2: tf.Tensor, w3: tf.Tensor): tf.Scalar => {
    const h1 = tf.sigmoid(tf.add(tf.matMul(x, w1 as tf.Tensor2D, false, true), b1));
    const h2 = tf.sigmoid(tf.add(tf.matMul(h1 as tf.Tensor2D, w2 as tf.Tensor2D, false, true), b2));
    const y = tf.softmax(tf.matMul(h2 as tf.Tensor2D, w3 as tf.Tensor2D, false, true));
    return tf.neg(tf.sum(tf.mul(t, tf.log(y)))) as tf.Scalar;
  };
  const g = tf.grads(lossOf as (...a: tf.Tensor[]) => tf.Tensor);
  const step = (p: P): P => {
    const next = tf.tidy(() => {
      const gs = g(p);
      return p.map((a, i) => tf.sub(a, tf.mul(gs[i]!, LR)));
    });
    p.forEach((a) => a.dispose());
    return next;
  };
  return {
    name: `tfjs-${backend}`,
    version,
    detail,
    forms: [{ name: 'eager grad(batched loss)', step }],
    init: (params) => params.map((a, i) => tf.tensor(Float32Array.from(a), PARAM_SHAPES[i]!)),
    loss: (p) => tf.tidy(() => lossOf(p[0]!, p[1]!, p[2]!, p[3]!, p[4]!)).dataSync()[0]!,
    sync: (p) => p.forEach((a) => a.dataSync()),
    free: (p) => p.forEach((a) => a.dispose()),
    matmul: (a, b, m, k, n) => {
      const A = tf.tensor2d(a, [m, k]);
      const B = tf.tensor2d(b, [k, n]);
      return {
        run: () => {
          const c = tf.matMul(A, B);
          c.dataSync();
          c.dispose();
        },
        close: () => {
          A.dispose();
          B.dispose();
        },
      };
    },
  };
}
