/**
 * GPU backend, primitive by primitive: for random shapes (fast-check) and random float32 data, each
 * primitive's kernel on 'gpu' agrees with the CPU backend within float32 tolerances (exactly for the
 * integer, bool and data-movement kernels). Also: float64 is refused with a clear error, int32 PRNG keys
 * round-trip exactly, and results stay on the device (no download) until data() is called.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { type Tensor, devicePut, fromTypedArray, gpuIndexChecks, grad, jit, numpy as np, nn, random, vmap } from '../src/index.js';
import { gpuKernelStats, gpuMemory } from '../src/backends/gpu/index.js';
import { broadcastShapesArb, shapeArb } from './helpers/finite-diff.js';
import { compareTrees, randomInts, randomTensor, rngFrom } from './helpers/random-programs.js';
import { F32, gpuSkip, onBackend } from './helpers/gpu.js';

const RUNS = 6;
const seedArb = fc.integer({ min: 0, max: 0x7fffffff });

/** Run `f` on CPU arrays and on their GPU copies; the results must agree. */
function agree(f: (...xs: Tensor[]) => Tensor | Tensor[], inputs: Tensor[], tol: { rtol: number; atol: number } = F32): void {
  const cpu = onBackend('cpu', () => f(...inputs));
  const gpuIn = inputs.map((x) => devicePut(x, 'gpu'));
  const gpu = onBackend('gpu', () => f(...gpuIn));
  for (const o of [gpu].flat()) expect(o.concrete('test').backend.name).toBe('gpu');
  const m = compareTrees(gpu, cpu, tol);
  if (m) throw new Error(m);
}

const f32 = (seed: number, shape: number[], lo = -2, hi = 2): Tensor => randomTensor(rngFrom(seed), shape, 'float32', lo, hi);

describe.skipIf(gpuSkip !== null)('gpu kernels agree with the cpu backend', () => {
  const UNARY: [string, (x: Tensor) => Tensor, number, number][] = [
    ['neg', np.negative, -2, 2], ['exp', np.exp, -3, 3], ['log', np.log, 0.1, 3], ['log1p', np.log1p, -0.5, 2], ['expm1', np.expm1, -1, 1],
    ['sin', np.sin, -3, 3], ['cos', np.cos, -3, 3], ['tanh', np.tanh, -4, 4], ['logistic', nn.sigmoid, -6, 6], ['sqrt', np.sqrt, 0, 4],
    ['abs', np.abs, -2, 2], ['sign', np.sign, -2, 2], ['floor', np.floor, -3, 3], ['ceil', np.ceil, -3, 3], ['round', np.round, -3, 3],
  ];
  for (const [name, f, lo, hi] of UNARY) {
    it(`${name}`, () => {
      fc.assert(fc.property(shapeArb(0, 3, 5), seedArb, (shape, seed) => agree(f, [f32(seed, shape, lo, hi)])), { numRuns: RUNS });
    });
  }
  it('round: halves go to even; small arguments of expm1/log1p/tanh keep their relative precision', () => {
    agree(np.round, [fromTypedArray(Float32Array.of(-2.5, -1.5, -0.5, 0.5, 1.5, 2.5, 3.5), [7])], { rtol: 0, atol: 0 });
    const tiny = fromTypedArray(Float32Array.of(1e-6, -3e-5, 2e-4, 1e-3), [4]);
    for (const f of [np.expm1, np.log1p, np.tanh]) agree(f, [tiny], { rtol: 1e-5, atol: 0 });
  });

  const BINARY: [string, (a: Tensor, b: Tensor) => Tensor][] = [
    ['add', np.add], ['sub', np.subtract], ['mul', np.multiply], ['div', np.divide], ['max', np.maximum], ['min', np.minimum], ['atan2', np.arctan2],
  ];
  for (const [name, f] of BINARY) {
    it(`${name} with broadcasting`, () => {
      fc.assert(fc.property(broadcastShapesArb(2), seedArb, ({ shapes }, seed) => agree(f, [f32(seed, shapes[0]!), f32(seed + 1, shapes[1]!, 0.5, 2)])), { numRuns: RUNS });
    });
  }
  it('pow (negative bases with integer exponents, zero)', () => {
    agree(np.power, [fromTypedArray(Float32Array.of(-2, -2, 0, 0, 3, 1.5), [6]), fromTypedArray(Float32Array.of(3, 2, 0, 2, 0.5, -1), [6])]);
  });
  it('comparisons, select and the logical ops (exact)', () => {
    fc.assert(
      fc.property(broadcastShapesArb(2), seedArb, ({ shapes }, seed) => {
        const a = randomInts(rngFrom(seed), shapes[0]!, -2, 2).astype('float32');
        const b = randomInts(rngFrom(seed + 1), shapes[1]!, -2, 2).astype('float32');
        for (const f of [np.equal, np.notEqual, np.less, np.lessEqual, np.greater, np.greaterEqual]) agree(f, [a, b], { rtol: 0, atol: 0 });
        agree((x, y) => np.logicalAnd(np.greater(x, 0), np.less(y, 1)), [a, b], { rtol: 0, atol: 0 });
        agree((x, y) => np.logicalOr(np.greater(x, 0), np.less(y, 1)), [a, b], { rtol: 0, atol: 0 });
        agree((x, y) => np.logicalNot(np.greater(x, y)), [a, b], { rtol: 0, atol: 0 });
        agree((x, y) => np.where(np.greater(x, y), x, y.mul(10)), [a, b], { rtol: 0, atol: 0 });
      }),
      { numRuns: RUNS },
    );
  });
  it('int32 arithmetic is exact (add, mul, truncating division, not) and converts like the cpu', () => {
    const a = randomInts(rngFrom(3), [4, 5], -50, 50);
    const b = randomInts(rngFrom(4), [5], -7, 7);
    const exact = { rtol: 0, atol: 0 };
    agree(np.add, [a, b], exact);
    agree(np.multiply, [a, b], exact);
    agree(np.truncDivide, [a, b], exact);
    agree((x) => x.astype('bool').astype('int32'), [a], exact);
    agree((x) => f32(9, [4, 5], -5, 5).mul(1).astype('int32').add(x), [a], exact);
  });
  it('reduce_sum / reduce_max over random axes, argmax', () => {
    fc.assert(
      fc.property(shapeArb(1, 4, 5), fc.integer({ min: 0, max: 15 }), seedArb, (shape, mask, seed) => {
        const axes = shape.map((_, d) => d).filter((d) => mask & (1 << d));
        const x = f32(seed, shape);
        agree((t) => np.sum(t, axes), [x]);
        agree((t) => np.max(t, axes), [x]);
        agree((t) => np.argmax(t, shape.length - 1), [x], { rtol: 0, atol: 0 });
      }),
      { numRuns: RUNS },
    );
  });
  it('dot_general: matmul in all transpose variants, batched, several contracting axes', () => {
    const a = f32(1, [3, 4]);
    const b = f32(2, [4, 5]);
    agree(np.matmul, [a, b]);
    agree((x, y) => np.matmul(x.T.T, y), [a, b]);
    agree((x, y) => np.dotGeneral(x, y, [[0], [1]]), [f32(3, [4, 3]), f32(4, [5, 4])]);
    agree((x, y) => np.matmul(x, y), [f32(5, [2, 3, 4]), f32(6, [2, 4, 6])]);
    agree((x, y) => np.dotGeneral(x, y, [[1, 2], [0, 1]]), [f32(7, [3, 2, 4]), f32(8, [2, 4, 5])]);
    agree((x, y) => np.matmul(x, y), [f32(9, [100, 784], 0, 1), f32(10, [784, 60], -0.1, 0.1)]);
  });
  it('dot_general: the unrolled contraction (K >= 8) with every remainder, strided operands, batched, int32', () => {
    for (const K of [7, 8, 9, 10, 11, 13, 16]) {
      agree(np.matmul, [f32(20 + K, [3, K]), f32(40 + K, [K, 5])]);
      // both operands strided along K (lhs contracts axis 0, rhs axis 1)
      agree((x, y) => np.dotGeneral(x, y, [[0], [1]]), [f32(60 + K, [K, 4]), f32(80 + K, [6, K])]);
    }
    agree((x, y) => np.matmul(x, y), [f32(101, [2, 3, 13]), f32(102, [2, 13, 4])]);
    agree((x, y) => np.dotGeneral(x, y, [[1, 2], [0, 1]]), [f32(103, [3, 3, 5]), f32(104, [3, 5, 2])]);
    const ints = (seed: number, shape: number[]): Tensor => np.floor(f32(seed, shape, -5, 5)).astype('int32');
    agree(np.matmul, [ints(105, [4, 11]), ints(106, [11, 3])], { rtol: 0, atol: 0 });
  });
  it('layout kernels: reshape, transpose, broadcast_in_dim, slice (strided), pad, concatenate, convert', () => {
    const x = f32(11, [2, 3, 4]);
    const exact = { rtol: 0, atol: 0 };
    agree((t) => t.reshape(4, 6), [x], exact);
    agree((t) => np.transpose(t, [2, 0, 1]), [x], exact);
    agree((t) => np.broadcastTo(t.reshape(2, 1, 3, 4), [2, 5, 3, 4]), [x], exact);
    agree((t) => np.slice(t, [0, 1, 0], [2, 3, 4], [1, 1, 2]), [x], exact);
    agree((t) => np.pad(t, [1, 0, 2], [0, 2, 1], -1.5), [x], exact);
    agree((t) => np.concatenate([t, t.mul(2), np.slice(t, [0, 0, 0], [2, 3, 1])], 2), [x], exact);
    agree((t) => np.concatenate([t, t], 0), [x], exact);
    agree((t) => t.astype('int32'), [x], exact);
    agree((t) => t.astype('bool'), [x], exact);
  });
  it('gather (take) and scatter_add, with negative indices', () => {
    const x = f32(12, [5, 3]);
    const idx = fromTypedArray(Int32Array.of(4, -1, 0, 2, 2), [5], 'int32');
    agree((t, i) => np.take(t, i, 0), [x, idx]);
    agree((t, i) => np.take(t, i, 1), [x, fromTypedArray(Int32Array.of(2, 0), [2], 'int32')]);
    agree((t, i) => np.scatterAdd(t, i, f32(13, [5, 3]), 0), [x, idx]);
    agree((t) => np.take(t, np.argmax(t, 1), 1), [x]);
  });
  it('an out-of-range host index throws a RangeError, as on the cpu', () => {
    const x = devicePut(f32(1, [3]), 'gpu');
    const bad = onBackend('gpu', () => fromTypedArray(Int32Array.of(3), [1], 'int32'));
    expect(() => np.take(x, bad)).toThrow(RangeError);
  });
});

/** What `f` does on the cpu and on gpu copies of the same inputs: its values, or the error it throws. */
function outcomes(f: (...xs: Tensor[]) => Tensor, inputs: Tensor[]): { cpu: string | Tensor; gpu: string | Tensor } {
  const run = (backend: 'cpu' | 'gpu'): string | Tensor => {
    try {
      return onBackend(backend, () => f(...inputs.map((x) => devicePut(x, backend))));
    } catch (e) {
      return `${(e as Error).name}: ${(e as Error).message}`;
    }
  };
  return { cpu: run('cpu'), gpu: run('gpu') };
}

/** The cpu and the gpu both throw the same error, or both return values that agree. */
function sameOutcome(f: (...xs: Tensor[]) => Tensor, inputs: Tensor[]): void {
  const { cpu, gpu } = outcomes(f, inputs);
  if (typeof cpu === 'string' || typeof gpu === 'string') {
    expect(gpu).toBe(cpu);
    return;
  }
  const m = compareTrees(gpu, cpu, F32);
  if (m) throw new Error(m);
}

// `i.mul(1)` computes the indices on the device: they have no host copy
const onDevice = (i: Tensor): Tensor => i.mul(1);

describe.skipIf(gpuSkip !== null)('gpu gather and scatter_add by default: no read-back of computed indices', () => {
  it('in range: the cpu\'s values, and the indices never leave the device', () => {
    const x = devicePut(f32(5, [6, 3]), 'gpu');
    const idx = fromTypedArray(Int32Array.of(5, 0, -6, 2), [4], 'int32');
    const i = onBackend('gpu', () => onDevice(devicePut(idx, 'gpu')));
    const h = i.concrete('t').handle as { store: { host?: unknown } };
    const y = np.take(x, i, 0);
    const s = np.scatterAdd(x, i, devicePut(f32(6, [4, 3]), 'gpu'), 0);
    expect(h.store.host).toBeUndefined(); // not read back
    sameOutcome((t, j) => np.take(t, onDevice(j), 0), [x, idx]);
    sameOutcome((t, j, u) => np.scatterAdd(t, onDevice(j), u, 0), [x, idx, f32(6, [4, 3])]);
    expect(y.shape).toEqual([4, 3]);
    expect(s.shape).toEqual([6, 3]);
  });
  it('out of range: gather clamps, scatter_add drops the update (as JAX on accelerators)', () => {
    fc.assert(
      fc.property(shapeArb(1, 3, 5), fc.nat(), fc.integer({ min: 1, max: 6 }), seedArb, (shape, a, p, seed) => {
        const axis = a % shape.length;
        const n = shape[axis]!;
        const idx = randomInts(rngFrom(seed), [p], -2 * n - 1, 2 * n + 1);
        const raw = idx.data() as Int32Array;
        const wrapped = Array.from(raw, (i) => (i < 0 ? i + n : i));
        const inRange = wrapped.map((j) => j >= 0 && j < n);
        const x = f32(seed + 1, shape);
        const updShape = [...shape.slice(0, axis), p, ...shape.slice(axis + 1)];
        const upd = f32(seed + 2, updShape);
        const gpuTake = onBackend('gpu', () => np.take(devicePut(x, 'gpu'), onDevice(devicePut(idx, 'gpu')), axis));
        const clamped = fromTypedArray(Int32Array.from(wrapped, (j) => Math.min(Math.max(j, 0), n - 1)), [p], 'int32');
        const m1 = compareTrees(gpuTake, onBackend('cpu', () => np.take(x, clamped, axis)), F32);
        if (m1) throw new Error(m1);
        const gpuScatter = onBackend('gpu', () => np.scatterAdd(devicePut(x, 'gpu'), onDevice(devicePut(idx, 'gpu')), devicePut(upd, 'gpu'), axis));
        // the cpu with the dropped updates zeroed (their index made valid)
        const keep = fromTypedArray(Float32Array.from(inRange, (k) => (k ? 1 : 0)), [...shape.slice(0, axis).map(() => 1), p, ...shape.slice(axis + 1).map(() => 1)]);
        const safe = fromTypedArray(Int32Array.from(wrapped, (j, k) => (inRange[k] ? j : 0)), [p], 'int32');
        const m2 = compareTrees(gpuScatter, onBackend('cpu', () => np.scatterAdd(x, safe, upd.mul(keep), axis)), F32);
        if (m2) throw new Error(m2);
      }),
      { numRuns: 20 },
    );
  });
  it('indices uploaded from the host are still checked as on the cpu', () => {
    const x = f32(3, [4, 5]);
    const bad = fromTypedArray(Int32Array.of(1, 5), [2], 'int32');
    sameOutcome((t, i) => np.take(t, i, 1), [x, bad]);
    expect(outcomes((t, i) => np.take(t, i, 1), [x, bad]).gpu).toMatch(/^RangeError: gather: index 5 out of range for axis 1 of size 5/);
  });
});

describe.skipIf(gpuSkip !== null)('gpu gather and scatter_add with gpuIndexChecks.readBack: out-of-range indices as on the cpu', () => {
  beforeAll(() => {
    gpuIndexChecks.readBack = true;
  });
  afterAll(() => {
    gpuIndexChecks.readBack = false;
  });
  it('random indices, some out of range (either sign), computed on the device', () => {
    let errors = 0;
    fc.assert(
      fc.property(shapeArb(1, 3, 5), fc.nat(), fc.integer({ min: 1, max: 6 }), seedArb, (shape, a, p, seed) => {
        const axis = a % shape.length;
        const n = shape[axis]!;
        const idx = randomInts(rngFrom(seed), [p], -2 * n - 1, 2 * n + 1);
        const x = f32(seed + 1, shape);
        const updShape = [...shape.slice(0, axis), p, ...shape.slice(axis + 1)];
        const { cpu } = outcomes((t, i) => np.take(t, onDevice(i), axis), [x, idx]);
        if (typeof cpu === 'string') errors++;
        sameOutcome((t, i) => np.take(t, onDevice(i), axis), [x, idx]);
        sameOutcome((t, i, u) => np.scatterAdd(t, onDevice(i), u, axis), [x, idx, f32(seed + 2, updShape)]);
      }),
      { numRuns: 20 },
    );
    expect(errors).toBeGreaterThan(0); // the property saw out-of-range indices
  });
  it('under jit, vmap (one gather over the folded batch) and grad', () => {
    const x = f32(3, [4, 5]);
    const idx = fromTypedArray(Int32Array.of(1, -2, 5, 0), [4], 'int32'); // 5 is out of range for axis 1
    const good = fromTypedArray(Int32Array.of(1, -2, 4, 0), [4], 'int32');
    const take1 = (t: Tensor, i: Tensor): Tensor => np.take(t, i, 0);
    for (const i of [idx, good]) {
      sameOutcome(jit((t: Tensor, j: Tensor) => np.take(t, onDevice(j), 1)), [x, i]);
      sameOutcome(vmap(take1), [x, i.reshape(4, 1)]);
      sameOutcome(jit(vmap(take1)), [x, i.reshape(4, 1)]);
      sameOutcome((t, j) => grad((u: Tensor) => np.take(u, onDevice(j), 1).sum())(t), [x, i]);
    }
    const { cpu } = outcomes(vmap(take1), [x, idx.reshape(4, 1)]);
    expect(cpu).toMatch(/^RangeError: gather: index 20 out of range/); // the folded axis's past-the-end sentinel
  });
  it('in-range computed indices are read back once per buffer', () => {
    const x = devicePut(f32(4, [6, 3]), 'gpu');
    const i = onBackend('gpu', () => onDevice(fromTypedArray(Int32Array.of(5, 0, -6), [3], 'int32')));
    const h = i.concrete('t').handle as { store: { host?: unknown } };
    expect(h.store.host).toBeUndefined();
    const y = np.take(x, i, 0);
    expect(h.store.host).toBeDefined();
    expect(Array.from(y.data())).toEqual(Array.from(onBackend('cpu', () => np.take(devicePut(x, 'cpu'), devicePut(i, 'cpu'), 0)).data()));
  });
});

describe.skipIf(gpuSkip !== null)('gpu dtypes and residency', () => {
  it('float64 arrays are refused with a clear error', () => {
    const x64 = randomTensor(rngFrom(1), [3], 'float64');
    expect(() => devicePut(x64, 'gpu')).toThrow(/float64 arrays are not supported on the gpu backend/);
    const x = devicePut(f32(1, [3]), 'gpu');
    expect(() => x.astype('float64')).toThrow(/float64/);
  });
  it('int32 PRNG keys round-trip exactly and random draws match the cpu', () => {
    const cpu = onBackend('cpu', () => random.normal(random.splitKeys(random.key(42), 2)[1]!, [50]).data());
    const gpu = onBackend('gpu', () => {
      const k = random.splitKeys(random.key(42), 2)[1]!;
      expect(k.concrete('t').backend.name).toBe('gpu');
      return random.normal(k, [50]).data();
    });
    expect(Array.from(gpu)).toEqual(Array.from(cpu));
  });
  it('a chain of ops runs without reading back; data() reads once', () => {
    const x = devicePut(f32(2, [64, 64]), 'gpu');
    const y = np.tanh(np.matmul(x, x).add(1)).sum(0);
    const h = y.concrete('t').handle as { store: { tex: unknown } };
    expect(typeof (h.store.tex as { toArray?: unknown }).toArray).toBe('function'); // a texture, not host data
    expect(y.data().length).toBe(64);
    expect(gpuKernelStats().mode).toBe('headlessgl');
    expect(gpuMemory().buffers).toBeGreaterThan(0);
  });
});
