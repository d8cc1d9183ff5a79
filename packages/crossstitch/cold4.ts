import v8 from 'node:v8'; if (process.env.NOTIER) v8.setFlagsFromString(process.env.NOTIER);
import { fromTypedArray, setDefaultBackend, enableRelaxedSimd } from '@xs/tensor';
import { makeTrainStep } from './src/experiments/seed.js';
import { initMlp } from './src/models/mlp.js';
import { seedKeys } from './src/experiments/phase.js';
await enableRelaxedSimd();
setDefaultBackend('cpu');
const p = initMlp(seedKeys(0).fashion, [784, 60, 20, 10]);
const step = makeTrainStep(0.01, { donate: true });
const N = 3000;
const x = new Float32Array(N * 784).map((_, i) => ((i * 2654435761) >>> 24) / 255 * ((i % 5) ? 1 : 0)), y = new Float32Array(N * 10); for (let i = 0; i < N; i++) y[i * 10 + (i % 10)] = 1;
let q = p; const ts: number[] = [];
for (let k = 0; k < 3000; k++) {
  const b = (k % 30) * 100;
  const t = performance.now();
  const [n, loss] = step(q, fromTypedArray(x.subarray(b * 784, (b + 100) * 784), [100, 784], 'float32', { copy: false }), fromTypedArray(y.subarray(b * 10, (b + 100) * 10), [100, 10], 'float32', { copy: false }));
  (loss as any).item(); q = n; ts.push(performance.now() - t);
}
const steady = [...ts.slice(2000)].sort((a, b) => a - b)[500]!;
const win = (a: number, b: number) => ts.slice(a, b).reduce((s, v) => s + v, 0);
console.log('steady median', steady.toFixed(3), 'ms');
for (const [a, b] of [[0, 1], [1, 10], [10, 50], [50, 100], [100, 200], [200, 300], [300, 500], [500, 1000]]) console.log(`steps ${a}-${b}: ${(win(a, b) / (b - a)).toFixed(3)} ms/step, excess ${(win(a, b) - steady * (b - a)).toFixed(1)} ms`);
console.log('total excess over 1000 steps', (win(0, 1000) - steady * 1000).toFixed(1), 'ms');
