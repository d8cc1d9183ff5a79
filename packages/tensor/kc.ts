import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { createSgemm, enableRelaxedSimd, fmaConfig } from './src/backends/cpu/wasm/sgemm.js';
await enableRelaxedSimd();
const raw = gunzipSync(readFileSync('/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz'));
const n = 6000, K = 784;
const X = new Float32Array(n * K); for (let i = 0; i < n * K; i++) X[i] = raw[16 + i]! / 255;
const W = new Float32Array(60 * K); for (let i = 0; i < W.length; i++) W[i] = Math.sin(i * 12.9898) * 0.1;
const G = new Float32Array(100 * 60); for (let i = 0; i < G.length; i++) G[i] = Math.cos(i * 7.1) * 0.01;
const C1 = new Float32Array(100 * 60), C2 = new Float32Array(60 * K);
const cfgs = (process.argv[2] ?? '256,196').split(';').map((s) => { const [KC, MC] = s.split(',').map(Number); return { ...fmaConfig, KC: KC!, MC: MC ?? fmaConfig.MC }; });
const gs = cfgs.map((c) => createSgemm(c)!);
const res = cfgs.map(() => ({ f: [] as number[], b: [] as number[] }));
for (let round = 0; round < 9; round++) {
  gs.forEach((g, ci) => {
    let t = performance.now();
    for (let b = 0; b < 60; b++) g.run(100, 60, K, X, b * 100 * K, K, 1, W, 0, 1, K, C1, 0); // x·Wᵀ
    const tf = (performance.now() - t) / 60;
    t = performance.now();
    for (let b = 0; b < 60; b++) g.run(60, K, 100, G, 0, 1, 60, X, b * 100 * K, K, 1, C2, 0); // gᵀ·x
    const tb = (performance.now() - t) / 60;
    if (round > 0) { res[ci]!.f.push(tf * 1000); res[ci]!.b.push(tb * 1000); }
  });
}
const med = (a: number[]) => a.sort((x, y) => x - y)[a.length >> 1]!;
cfgs.forEach((c, i) => console.log(`KC ${c.KC} MC ${c.MC}: forward ${med(res[i]!.f).toFixed(1)} µs, backward ${med(res[i]!.b).toFixed(1)} µs`));
