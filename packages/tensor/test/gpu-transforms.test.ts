/**
 * Transformations on the GPU backend: the same random-program properties as the CPU suite (jit, vmap, grad
 * and their compositions), with the program built and run on 'gpu' and compared with the CPU backend's plain
 * evaluation at float32 tolerances. Also: a jitted fused elementwise chain is one gpu.js kernel, and so is a
 * fused group with several outputs (up to the outputs one kernel writes).
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { type Tensor, grad, jit, makeJaxpr, nn, numpy as np, tree, vmap } from '../src/index.js';
import { gpuKernelStats, maxKernelOutputs } from '../src/backends/gpu/index.js';
import { buildProgram, compareTrees, describeProgram, generateProgram, randomTensor, rngFrom } from './helpers/random-programs.js';
import { F32, gpuSkip, onBackend } from './helpers/gpu.js';

const seedArb = fc.integer({ min: 0, max: 0x7fffffff });
const RUNS = 12;
const TOL = { rtol: 1e-3, atol: 1e-4 };

/** Build program `seed` on `backend` and apply `transform` to it; inputs are made there too. */
function runOn(backend: 'cpu' | 'gpu', seed: number, transform: (f: (...xs: Tensor[]) => any) => (...xs: Tensor[]) => any, batch?: number): unknown {
  return onBackend(backend, () => {
    const p = generateProgram(seed, { dtype: 'float32' });
    const f = buildProgram(p);
    const rng = rngFrom(seed ^ 0x5bd1e995);
    const inputs = p.inputShapes.map((s) => randomTensor(rng, batch ? [batch, ...s] : s, 'float32'));
    return transform(f)(...inputs);
  });
}

function check(seed: number, transform: (f: (...xs: Tensor[]) => any) => (...xs: Tensor[]) => any, batch?: number): void {
  const cpu = runOn('cpu', seed, transform, batch);
  const gpu = runOn('gpu', seed, transform, batch);
  const m = compareTrees(gpu, cpu, TOL);
  if (m) throw new Error(`${m}\n${describeProgram(generateProgram(seed, { dtype: 'float32' }))}`);
}

const sumAll = (f: (...xs: Tensor[]) => any) => (...xs: Tensor[]) => tree.leaves(f(...xs)).reduce((acc: Tensor, l: Tensor) => acc.add(np.sum(l.mul(l))), np.zeros([]) as Tensor);

describe.skipIf(gpuSkip !== null)('random programs on gpu agree with the cpu', () => {
  it('eager', () => fc.assert(fc.property(seedArb, (s) => check(s, (f) => f)), { numRuns: RUNS }));
  it('jit (fused groups compiled by the gpu backend)', () => fc.assert(fc.property(seedArb, (s) => check(s, (f) => jit(f))), { numRuns: RUNS }));
  it('vmap', () => fc.assert(fc.property(seedArb, (s) => check(s, (f) => vmap(f), 3)), { numRuns: RUNS }));
  it('grad (of the sum of squares of the outputs)', () => fc.assert(fc.property(seedArb, (s) => check(s, (f) => grad(sumAll(f)))), { numRuns: RUNS }));
  it('jit(grad) and jit(vmap)', () => {
    fc.assert(fc.property(seedArb, (s) => check(s, (f) => jit(grad(sumAll(f))))), { numRuns: RUNS / 2 });
    fc.assert(fc.property(seedArb, (s) => check(s, (f) => jit(vmap(f)), 2)), { numRuns: RUNS / 2 });
  });
});

describe.skipIf(gpuSkip !== null)('jit on gpu', () => {
  it('a fused elementwise chain runs as one gpu.js kernel', () => {
    const f = (x: Tensor, y: Tensor): Tensor => nn.sigmoid(x.mul(y).add(1)).sub(np.tanh(x)).mul(2);
    const groups = makeJaxpr(f)(np.zeros([8, 8]), np.zeros([8])).jaxpr.eqns.length;
    expect(groups).toBeGreaterThan(3); // before optimisation: one equation per op
    const x = onBackend('gpu', () => randomTensor(rngFrom(1), [8, 8], 'float32'));
    const y = onBackend('gpu', () => randomTensor(rngFrom(2), [8], 'float32'));
    const jf = jit(f);
    jf(x, y); // compile
    const before = gpuKernelStats().compiled;
    const lowered = jf.lower(x, y).jaxpr;
    expect(lowered.eqns.filter((e) => e.prim.name === 'fused_elementwise').length).toBe(1);
    expect(lowered.eqns.filter((e) => e.prim.name !== 'reshape' && e.prim.name !== 'fused_elementwise')).toEqual([]);
    const out = jf(x, y);
    expect(gpuKernelStats().compiled).toBe(before); // cached: no new kernel per call
    const ref = onBackend('cpu', () => f(randomTensor(rngFrom(1), [8, 8], 'float32'), randomTensor(rngFrom(2), [8], 'float32')));
    expect(compareTrees(out, ref, F32)).toBeNull();
  });
  it('a fused group with several outputs is one gpu.js kernel; more outputs than one kernel writes take two', () => {
    const f = (x: Tensor, y: Tensor): Tensor[] => {
      const z = x.mul(y);
      return [nn.sigmoid(z), np.tanh(z).add(1), z.sub(3), np.exp(z.neg()), z.mul(z), np.sin(z)];
    };
    expect(maxKernelOutputs()).toBe(4); // headless-gl has WEBGL_draw_buffers
    for (const outputs of [3, 6]) {
      const g = (x: Tensor, y: Tensor): Tensor[] => f(x, y).slice(0, outputs);
      const shape = [7, 5 + outputs]; // shapes of their own, so that no earlier test compiled these kernels
      const x = onBackend('gpu', () => randomTensor(rngFrom(4), shape, 'float32'));
      const y = onBackend('gpu', () => randomTensor(rngFrom(5), shape, 'float32'));
      const jg = jit(g);
      const fused = jg.lower(x, y).jaxpr.eqns.filter((e) => e.prim.name === 'fused_elementwise');
      expect(fused.map((e) => e.outs.length)).toEqual([outputs]);
      const before = gpuKernelStats().compiled;
      const out = jg(x, y);
      expect(gpuKernelStats().compiled - before).toBe(Math.ceil(outputs / maxKernelOutputs()));
      const ref = onBackend('cpu', () => g(randomTensor(rngFrom(4), shape, 'float32'), randomTensor(rngFrom(5), shape, 'float32')));
      expect(compareTrees(out, ref, F32)).toBeNull();
    }
  });
  it('one jitted function serves cpu and gpu arguments', () => {
    const f = jit((x: Tensor) => np.exp(x).sum());
    const xc = onBackend('cpu', () => randomTensor(rngFrom(3), [5], 'float32'));
    const xg = onBackend('gpu', () => randomTensor(rngFrom(3), [5], 'float32'));
    const a = f(xc);
    const b = f(xg);
    expect(b.concrete('t').backend.name).toBe('gpu');
    expect(compareTrees(b, a, F32)).toBeNull();
  });
});
