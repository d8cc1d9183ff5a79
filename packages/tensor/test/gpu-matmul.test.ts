/**
 * The GPU backend's dot_general, both paths (see src/backends/gpu/matmul.ts): random dot_general forms (batch
 * axes, free axes, one or two contracting axes, every axis order on both sides, sizes that are not multiples
 * of the 4×4 tile) agree with the CPU backend through the tiled path (threshold 0) and through the direct
 * kernel (threshold ∞); the seed step's products take the tiled path at the default threshold.
 */
import { afterEach, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { type Tensor, devicePut, numpy as np } from '../src/index.js';
import { TILED_MIN_WORK, matmulStats, setTiledMinWork } from '../src/backends/gpu/index.js';
import { compareTrees, randomInts, randomTensor, rngFrom } from './helpers/random-programs.js';
import { F32, gpuSkip, onBackend } from './helpers/gpu.js';

interface Form {
  lhs: number[];
  rhs: number[];
  contract: [number[], number[]];
  batch: [number[], number[]];
}

/** A random dot_general: each side's axes are its batch, free and contracting axes in a random order. */
const formArb: fc.Arbitrary<Form> = fc
  .record({
    batch: fc.array(fc.integer({ min: 1, max: 3 }), { maxLength: 2 }),
    contract: fc.array(fc.integer({ min: 1, max: 9 }), { minLength: 1, maxLength: 2 }),
    lFree: fc.array(fc.integer({ min: 1, max: 9 }), { maxLength: 2 }),
    rFree: fc.array(fc.integer({ min: 1, max: 9 }), { maxLength: 2 }),
    lPerm: fc.array(fc.nat(), { minLength: 6, maxLength: 6 }),
    rPerm: fc.array(fc.nat(), { minLength: 6, maxLength: 6 }),
  })
  .map(({ batch, contract, lFree, rFree, lPerm, rPerm }) => {
    // place the logical axes (batch, free, contract) at shuffled positions of each operand
    const place = (free: number[], keys: number[]) => {
      const logical = [...batch.map((n, i) => ({ n, tag: `b${i}` })), ...free.map((n) => ({ n, tag: 'f' })), ...contract.map((n, i) => ({ n, tag: `c${i}` }))];
      const order = logical.map((_, i) => i).sort((a, b) => keys[a]! - keys[b]! || a - b);
      const axes = order.map((i) => logical[i]!);
      const pos = (tag: string): number => axes.findIndex((a) => a.tag === tag);
      return { shape: axes.map((a) => a.n), batch: batch.map((_, i) => pos(`b${i}`)), contract: contract.map((_, i) => pos(`c${i}`)) };
    };
    const l = place(lFree, lPerm);
    const r = place(rFree, rPerm);
    return { lhs: l.shape, rhs: r.shape, contract: [l.contract, r.contract], batch: [l.batch, r.batch] };
  });

const seedArb = fc.integer({ min: 0, max: 0x7fffffff });

/** f on the CPU and on GPU copies of the inputs; returns the mismatch message or null. */
function agree(f: (a: Tensor, b: Tensor) => Tensor, a: Tensor, b: Tensor, tol = F32): string | null {
  const cpu = onBackend('cpu', () => f(a, b));
  const gpu = onBackend('gpu', () => f(devicePut(a, 'gpu'), devicePut(b, 'gpu')));
  expect(gpu.concrete('test').backend.name).toBe('gpu');
  return compareTrees(gpu, cpu, tol);
}

function checkForm(form: Form, seed: number): void {
  const a = randomTensor(rngFrom(seed), form.lhs, 'float32');
  const b = randomTensor(rngFrom(seed + 1), form.rhs, 'float32');
  const m = agree((x, y) => np.dotGeneral(x, y, form.contract, form.batch), a, b);
  if (m) throw new Error(`${m}\nform ${JSON.stringify(form)}`);
}

describe.skipIf(gpuSkip !== null)('gpu dot_general', () => {
  afterEach(() => {
    setTiledMinWork(TILED_MIN_WORK);
  });

  it('tiled path: random forms agree with the cpu', () => {
    setTiledMinWork(0);
    const before = matmulStats().tiled;
    let runs = 0;
    fc.assert(
      fc.property(formArb, seedArb, (form, seed) => {
        runs++;
        checkForm(form, seed);
      }),
      { numRuns: 25 },
    );
    expect(matmulStats().tiled - before).toBe(runs);
  });

  it('direct path: random forms agree with the cpu', () => {
    setTiledMinWork(Infinity);
    const before = matmulStats();
    fc.assert(fc.property(formArb, seedArb, (form, seed) => checkForm(form, seed)), { numRuns: 15 });
    expect(matmulStats().tiled).toBe(before.tiled);
    expect(matmulStats().direct).toBeGreaterThan(before.direct);
  });

  it("the seed step's products (every transpose variant) take the tiled path and agree with the cpu", () => {
    const x = randomTensor(rngFrom(1), [100, 784], 'float32', 0, 1);
    const w = randomTensor(rngFrom(2), [60, 784], 'float32', -0.1, 0.1);
    const g = randomTensor(rngFrom(3), [100, 60], 'float32', -1, 1);
    const before = matmulStats().tiled;
    expect(agree((a, b) => np.dotGeneral(a, b, [[1], [1]]), x, w)).toBeNull(); // x·Wᵀ
    expect(agree((a, b) => np.dotGeneral(a, b, [[0], [0]]), g, x)).toBeNull(); // gᵀ·x
    expect(agree((a, b) => np.dotGeneral(a, b, [[1], [0]]), g, w)).toBeNull(); // g·W
    expect(agree((a, b) => np.dotGeneral(a, b, [[0], [1]]), x, randomTensor(rngFrom(4), [60, 100], 'float32'))).toBeNull(); // xᵀ·Bᵀ
    expect(matmulStats().tiled - before).toBe(4);
  });

  it('tiled path: int32 products are exact; K = 0 gives zeros; empty outputs', () => {
    setTiledMinWork(0);
    const exact = { rtol: 0, atol: 0 };
    expect(agree(np.matmul, randomInts(rngFrom(5), [13, 22], -9, 9), randomInts(rngFrom(6), [22, 7], -9, 9), exact)).toBeNull();
    expect(agree(np.matmul, randomTensor(rngFrom(7), [3, 0], 'float32'), randomTensor(rngFrom(8), [0, 5], 'float32'), exact)).toBeNull();
    expect(agree(np.matmul, randomTensor(rngFrom(9), [0, 4], 'float32'), randomTensor(rngFrom(10), [4, 5], 'float32'), exact)).toBeNull();
  });
});
