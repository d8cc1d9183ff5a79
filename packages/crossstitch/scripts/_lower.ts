import { makeStitchStep, makeTrainStep, initMlp, zeroAlpha } from '@xs/crossstitch';
import { random, numpy as np } from '@xs/tensor';
const p1 = initMlp(random.key(1), [784, 60, 20, 10]);
const p2 = initMlp(random.key(2), [784, 60, 20, 10]);
const x = np.zeros([100, 784]); const t = np.zeros([100, 10]);
console.log(makeStitchStep(0.01).lower(p1, p2, zeroAlpha([60, 20]), x, t).toString());
console.log('----');
console.log(makeTrainStep(0.01).lower(p1, x, t).toString());
