import { fromTypedArray, setDefaultBackend, enableRelaxedSimd } from '@xs/tensor';
import { makeTrainStep } from './src/experiments/seed.js';
import { initMlp } from './src/models/mlp.js';
import { seedKeys } from './src/experiments/phase.js';
setDefaultBackend('cpu');
const p = initMlp(seedKeys(0).fashion, [784, 60, 20, 10]);
const step = makeTrainStep(0.01, { donate: true });
const x = new Float32Array(100 * 784).map((_, i) => (i % 7) / 7), y = new Float32Array(1000); for (let i = 0; i < 100; i++) y[i * 10 + (i % 10)] = 1;
let t = performance.now();
let [q] = step(p, fromTypedArray(x, [100, 784], 'float32'), fromTypedArray(y, [100, 10], 'float32'));
console.log('first call', (performance.now() - t).toFixed(1));
for (let k = 0; k < 5; k++) { t = performance.now(); [q] = step(q, fromTypedArray(x, [100, 784], 'float32'), fromTypedArray(y, [100, 10], 'float32')); console.log('call', (performance.now() - t).toFixed(2)); }
