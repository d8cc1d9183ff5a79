/**
 * Public API: NumPy broadcasting, matmul/dot/tensordot shapes and values, reductions (axis, negative axis,
 * keepdims), argmax/argmin, and the structural helpers (stack, split, squeeze, expandDims, clip, oneHot,
 * logsumexp) against hand-computed values or a plain-JS reference.
 */
import { describe, expect, it } from 'vitest';
import { Tensor, arange, array, numpy as np, ones, zeros } from '../src/index.js';

// ---------------------------------------------------------------- plain-JS references
const sizeOf = (s: readonly number[]): number => s.reduce((a, b) => a * b, 1);
const stridesOf = (s: readonly number[]): number[] => s.map((_, i) => sizeOf(s.slice(i + 1)));
/** The multi-index of flat position k in shape s. */
const unravel = (k: number, s: readonly number[]): number[] => s.map((_, i) => Math.floor(k / stridesOf(s)[i]!) % s[i]!);
const ravel = (idx: readonly number[], s: readonly number[]): number => idx.reduce((acc, v, i) => acc + v * stridesOf(s)[i]!, 0);

/** Distinct values 1..n, as a float64 array of `shape`. */
function iota(shape: number[], offset = 1): Tensor {
  return arange(offset, offset + sizeOf(shape), 1, 'float64').reshape(shape);
}

/** NumPy broadcasting written out: the output shape, or null when the shapes do not broadcast. */
function refBroadcastShape(a: readonly number[], b: readonly number[]): number[] | null {
  const n = Math.max(a.length, b.length);
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const da = a[a.length - n + i] ?? 1;
    const db = b[b.length - n + i] ?? 1;
    if (da !== db && da !== 1 && db !== 1) return null;
    out.push(da === 1 ? db : da);
  }
  return out;
}

/** Elementwise f over broadcast operands, index by index. */
function refBinary(a: Tensor, b: Tensor, f: (x: number, y: number) => number): number[] {
  const out = refBroadcastShape(a.shape, b.shape)!;
  const ad = a.data();
  const bd = b.data();
  const pick = (idx: number[], s: readonly number[]): number => ravel(idx.slice(idx.length - s.length).map((v, i) => (s[i] === 1 ? 0 : v)), s);
  return Array.from({ length: sizeOf(out) }, (_, k) => {
    const idx = unravel(k, out);
    return f(ad[pick(idx, a.shape)]!, bd[pick(idx, b.shape)]!);
  });
}

/** Naive batched matmul over already-broadcast 2-D+ operands. */
function refMatmul(a: Tensor, b: Tensor): { shape: number[]; data: number[] } {
  const a2 = a.ndim === 1 ? a.reshape(1, a.shape[0]!) : a;
  const b2 = b.ndim === 1 ? b.reshape(b.shape[0]!, 1) : b;
  const [m, k] = a2.shape.slice(-2) as [number, number];
  const n = b2.shape[b2.ndim - 1]!;
  const batch = refBroadcastShape(a2.shape.slice(0, -2), b2.shape.slice(0, -2))!;
  const A = np.broadcastTo(a2, [...batch, m, k]).data();
  const B = np.broadcastTo(b2, [...batch, k, n]).data();
  const data: number[] = [];
  for (let t = 0; t < sizeOf(batch); t++) {
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < n; j++) {
        let s = 0;
        for (let q = 0; q < k; q++) s += A[t * m * k + i * k + q]! * B[t * k * n + q * n + j]!;
        data.push(s);
      }
    }
  }
  let shape = [...batch, m, n];
  if (a.ndim === 1) shape = [...shape.slice(0, -2), n];
  if (b.ndim === 1) shape = shape.slice(0, -1);
  return { shape, data };
}

/** Reduce over `axes` with f (initial value init), keepdims optional. */
function refReduce(x: Tensor, axes: number[], f: (acc: number, v: number) => number, init: number, keepdims = false): { shape: number[]; data: number[] } {
  const norm = axes.map((a) => (a < 0 ? a + x.ndim : a));
  const kept = x.shape.map((d, i) => (norm.includes(i) ? 1 : d));
  const out = new Array<number>(sizeOf(kept)).fill(init);
  const d = x.data();
  for (let k = 0; k < d.length; k++) {
    const idx = unravel(k, x.shape).map((v, i) => (norm.includes(i) ? 0 : v));
    const o = ravel(idx, kept);
    out[o] = f(out[o]!, d[k]!);
  }
  return { shape: keepdims ? kept : x.shape.filter((_, i) => !norm.includes(i)), data: out };
}

function expectClose(actual: ArrayLike<number>, expected: readonly number[], tol = 1e-9): void {
  expect(actual.length).toBe(expected.length);
  for (let i = 0; i < expected.length; i++) expect(Math.abs(actual[i]! - expected[i]!), `element ${i}: ${actual[i]} vs ${expected[i]}`).toBeLessThanOrEqual(tol * Math.max(1, Math.abs(expected[i]!)));
}

// ---------------------------------------------------------------- broadcasting
describe('NumPy broadcasting', () => {
  const pairs: [number[], number[], number[]][] = [
    // a, b, expected output shape (hand-written)
    [[], [], []],
    [[], [3], [3]],
    [[3], [], [3]],
    [[3], [3], [3]],
    [[1], [4], [4]],
    [[2, 3], [3], [2, 3]],
    [[2, 3], [1, 3], [2, 3]],
    [[2, 3], [2, 1], [2, 3]],
    [[2, 1], [1, 3], [2, 3]],
    [[3, 1], [4], [3, 4]],
    [[4], [3, 1], [3, 4]],
    [[2, 3, 4], [4], [2, 3, 4]],
    [[2, 3, 4], [3, 1], [2, 3, 4]],
    [[2, 1, 4], [3, 1], [2, 3, 4]],
    [[1, 3, 1], [2, 1, 5], [2, 3, 5]],
    [[5, 1, 1, 2], [3, 1], [5, 1, 3, 2]],
    [[2, 1, 3, 1], [4, 1, 5], [2, 4, 3, 5]],
    [[0], [1], [0]],
    [[2, 0], [2, 1], [2, 0]],
    [[1, 1], [], [1, 1]],
  ];

  it('agrees with the hand-written output shapes', () => {
    for (const [a, b, out] of pairs) expect(refBroadcastShape(a, b), `${a} vs ${b}`).toEqual(out);
  });

  for (const [a, b, out] of pairs) {
    it(`[${a}] with [${b}] -> [${out}]`, () => {
      const x = iota(a);
      const y = iota(b, 100);
      const sum = x.add(y);
      expect(sum.shape).toEqual(out);
      expect(Array.from(sum.data())).toEqual(refBinary(x, y, (p, q) => p + q));
      // Order matters for subtract: check both directions.
      expect(Array.from(y.sub(x).data())).toEqual(refBinary(y, x, (p, q) => p - q));
      expect(np.maximum(x, y.sub(105)).shape).toEqual(out);
      expect(np.where(x.greater(2), x, y).shape).toEqual(out);
      expect(np.broadcastArrays(x, y).map((t) => t.shape)).toEqual([out, out]);
    });
  }

  it('a small case written out by hand', () => {
    const col = array([[1], [2], [3]]);
    const row = array([10, 20]);
    expect(col.add(row).toArray()).toEqual([[11, 21], [12, 22], [13, 23]]);
    expect(col.mul(row).toArray()).toEqual([[10, 20], [20, 40], [30, 60]]);
    expect(np.where(array([[true], [false], [true]]), row, col).toArray()).toEqual([[10, 20], [2, 2], [10, 20]]);
    expect(np.broadcastTo(row, [2, 2]).toArray()).toEqual([[10, 20], [10, 20]]);
  });

  it('incompatible shapes are rejected', () => {
    for (const [a, b] of [[[2], [3]], [[2, 3], [3, 2]], [[4, 1], [3, 5]], [[2, 3, 4], [2, 4]]] as [number[], number[]][]) {
      expect(refBroadcastShape(a, b)).toBeNull();
      expect(() => zeros(a).add(zeros(b)), `${a} vs ${b}`).toThrow(/cannot be broadcast together/);
    }
  });
});

// ---------------------------------------------------------------- products
describe('matmul / dot / tensordot', () => {
  const matmulCases: [number[], number[], number[]][] = [
    [[3], [3], []],
    [[2, 3], [3], [2]],
    [[3], [3, 4], [4]],
    [[2, 3], [3, 4], [2, 4]],
    [[5, 2, 3], [3, 4], [5, 2, 4]],
    [[2, 3], [5, 3, 4], [5, 2, 4]],
    [[5, 2, 3], [5, 3, 4], [5, 2, 4]],
    [[1, 2, 3], [5, 3, 4], [5, 2, 4]],
    [[6, 1, 2, 3], [5, 3, 4], [6, 5, 2, 4]],
    [[4], [2, 4, 6], [2, 6]],
    [[2, 3, 4], [4], [2, 3]],
    [[2, 0], [0, 3], [2, 3]],
    [[3, 2, 0], [3, 0, 4], [3, 2, 4]],
    [[0, 2, 3], [3, 4], [0, 2, 4]],
    [[0], [0], []],
  ];
  for (const [a, b, out] of matmulCases) {
    it(`matmul [${a}] x [${b}] -> [${out}]`, () => {
      const x = iota(a);
      const y = iota(b, 2).mul(0.5);
      const z = x.matmul(y);
      const ref = refMatmul(x, y);
      expect(ref.shape).toEqual(out);
      expect(z.shape).toEqual(out);
      expectClose(z.data(), ref.data);
      expect(np.matmul(x, y).shape).toEqual(out);
    });
  }

  it('hand-computed values', () => {
    expect(array([[1, 2], [3, 4]]).matmul(array([[5, 6], [7, 8]])).toArray()).toEqual([[19, 22], [43, 50]]);
    expect(array([1, 2, 3]).matmul(array([4, 5, 6])).item()).toBe(32);
    expect(array([[1, 2], [3, 4]]).matmul(array([1, 1])).toArray()).toEqual([3, 7]);
    expect(array([1, 1]).matmul(array([[1, 2], [3, 4]])).toArray()).toEqual([4, 6]);
    expect(np.outer(array([1, 2]), array([3, 4, 5])).toArray()).toEqual([[3, 4, 5], [6, 8, 10]]);
  });

  it('dtypes: ints stay int32, bools multiply as int32, mixed promote', () => {
    expect(np.matmul(array([[1, 2]], 'int32'), array([[3], [4]], 'int32')).toArray()).toEqual([[11]]);
    expect(np.matmul(array([[1, 2]], 'int32'), array([[3], [4]], 'int32')).dtype).toBe('int32');
    expect(np.matmul(array([[true, true]]), array([[true], [true]])).dtype).toBe('int32');
    expect(np.matmul(array([[1, 2]], 'int32'), array([[3], [4]], 'float64')).dtype).toBe('float64');
    expect(np.dot(array([1, 2]), array([1, 2], 'float64')).dtype).toBe('float64');
  });

  it('dot: vectors, matrices, and N-D (last axis of a with second-to-last of b)', () => {
    expect(np.dot(array([1, 2, 3]), array([4, 5, 6])).item()).toBe(32);
    expect(np.dot(array([[1, 2], [3, 4]]), array([1, 1])).toArray()).toEqual([3, 7]);
    expect(array([[1, 2], [3, 4]]).dot(array([[1, 0], [0, 2]])).toArray()).toEqual([[1, 4], [3, 8]]);
    const a = iota([2, 3, 4]);
    const b = iota([5, 4, 6]);
    const d = np.dot(a, b);
    expect(d.shape).toEqual([2, 3, 5, 6]);
    // d[i,j,k,m] = sum_q a[i,j,q] b[k,q,m]
    const A = a.data();
    const B = b.data();
    const D = d.data();
    for (const [i, j, k, m] of [[0, 0, 0, 0], [1, 2, 4, 5], [1, 0, 3, 2]] as number[][]) {
      let s = 0;
      for (let q = 0; q < 4; q++) s += A[i! * 12 + j! * 4 + q]! * B[k! * 24 + q * 6 + m!]!;
      expect(D[((i! * 3 + j!) * 5 + k!) * 6 + m!]).toBe(s);
    }
  });

  it('tensordot with an integer and with axis lists', () => {
    const a = iota([2, 3, 4]);
    expect(np.tensordot(a, iota([3, 4, 5])).shape).toEqual([2, 5]);
    expect(np.tensordot(a, iota([4, 5]), 1).shape).toEqual([2, 3, 5]);
    expect(np.tensordot(array([1, 2]), array([3, 4, 5]), 0).toArray()).toEqual([[3, 4, 5], [6, 8, 10]]);
    expect(np.tensordot(a, iota([4, 3, 5]), [[1, 2], [1, 0]]).shape).toEqual([2, 5]);
    expect(np.tensordot(a, iota([4, 3, 5]), [[-2, -1], [1, 0]]).shape).toEqual([2, 5]);
    // Full contraction of a with itself is the sum of squares.
    const n = 24;
    expect(np.tensordot(a, a, 3).item()).toBe((n * (n + 1) * (2 * n + 1)) / 6);
    // [[1,2],[3,4]] . [[5,6],[7,8]] over a's axis 0 and b's axis 0: a^T b.
    expect(np.tensordot(array([[1, 2], [3, 4]]), array([[5, 6], [7, 8]]), [[0], [0]]).toArray()).toEqual([[26, 30], [38, 44]]);
  });
});

// ---------------------------------------------------------------- reductions
describe('reductions', () => {
  const x = iota([2, 3, 4]);
  const axesCases: (number | number[] | undefined)[] = [undefined, 0, 1, 2, -1, -3, [0, 2], [-1, 0], [0, 1, 2]];

  for (const axis of axesCases) {
    for (const keepdims of [false, true]) {
      it(`sum/mean/max/min over axis ${JSON.stringify(axis)} keepdims=${keepdims}`, () => {
        const axes = axis === undefined ? [0, 1, 2] : typeof axis === 'number' ? [axis] : axis;
        const count = axes.reduce((n, a) => n * x.shape[a < 0 ? a + 3 : a]!, 1);
        const s = refReduce(x, axes, (acc, v) => acc + v, 0, keepdims);
        const mx = refReduce(x, axes, Math.max, -Infinity, keepdims);
        const mn = refReduce(x, axes, Math.min, Infinity, keepdims);
        expect(x.sum(axis, keepdims).shape).toEqual(s.shape);
        expect(Array.from(x.sum(axis, keepdims).data())).toEqual(s.data);
        expect(Array.from(x.mean(axis, keepdims).data())).toEqual(s.data.map((v) => v / count));
        expect(Array.from(x.max(axis, keepdims).data())).toEqual(mx.data);
        expect(x.max(axis, keepdims).shape).toEqual(mx.shape);
        expect(Array.from(x.min(axis, keepdims).data())).toEqual(mn.data);
        expect(Array.from(np.sum(x, axis, keepdims).data())).toEqual(s.data);
      });
    }
  }

  it('hand-computed values', () => {
    const m = array([[1, 2, 3], [4, 5, 6]]);
    expect(m.sum().item()).toBe(21);
    expect(m.sum(0).toArray()).toEqual([5, 7, 9]);
    expect(m.sum(-1).toArray()).toEqual([6, 15]);
    expect(m.sum(1, true).toArray()).toEqual([[6], [15]]);
    expect(m.mean(0).toArray()).toEqual([2.5, 3.5, 4.5]);
    expect(m.max(1).toArray()).toEqual([3, 6]);
    expect(m.min(0, true).toArray()).toEqual([[1, 2, 3]]);
    expect(m.sum(null).item()).toBe(21);
    expect(m.sum([]).toArray()).toEqual([[1, 2, 3], [4, 5, 6]]);
    expect(np.variance(array([1, 2, 3, 4])).item()).toBe(1.25);
    expect(np.std(array([1, 2, 3, 4], 'float64'), undefined, false, 1).item()).toBeCloseTo(Math.sqrt(5 / 3), 12);
  });

  it('int and bool reductions', () => {
    const i = array([[3, -1], [2, 7]], 'int32');
    expect(i.sum(0).toArray()).toEqual([5, 6]);
    expect(i.sum().dtype).toBe('int32');
    expect(i.max(1).toArray()).toEqual([3, 7]);
    expect(i.min(0).toArray()).toEqual([2, -1]);
    expect(array([-5, -3], 'int32').max().item()).toBe(-3);
    // The extremes of int32 survive min/max (min must not negate -2^31).
    const ext = array([-2147483648, 0, 2147483647], 'int32');
    expect(ext.min().item()).toBe(-2147483648);
    expect(ext.max().item()).toBe(2147483647);
    expect(array([[true, false], [true, true]]).min(1).toArray()).toEqual([false, true]);
    expect(array([[true, false], [false, false]]).max(1).toArray()).toEqual([true, false]);
    expect(array([true, true, false]).sum().item()).toBe(2);
  });

  it('empty reductions', () => {
    expect(zeros([0, 3]).sum(0).toArray()).toEqual([0, 0, 0]);
    expect(zeros([0]).sum().item()).toBe(0);
    expect(Number.isNaN(zeros([0]).mean().item())).toBe(true);
    expect(() => zeros([0]).max()).toThrow(/max: zero-size reduction/);
  });

  it('max/min propagate NaN and handle infinities', () => {
    expect(Number.isNaN(array([1, NaN, 3]).max().item() as number)).toBe(true);
    expect(array([-Infinity, -Infinity]).max().item()).toBe(-Infinity);
    expect(array([Infinity, 1]).min().item()).toBe(1);
  });
});

describe('argmax / argmin', () => {
  const m = array([[1, 5, 5], [7, 0, 7]]);

  it('along an axis (first index wins ties)', () => {
    expect(m.argmax(1).toArray()).toEqual([1, 0]);
    expect(m.argmax(0).toArray()).toEqual([1, 0, 1]);
    expect(m.argmax(-1).toArray()).toEqual([1, 0]);
    expect(np.argmin(m, 0).toArray()).toEqual([0, 1, 0]);
    expect(np.argmin(m, -1).toArray()).toEqual([0, 1]);
    expect(m.argmax(1).dtype).toBe('int32');
  });

  it('of the flattened array when no axis is given', () => {
    expect(m.argmax().item()).toBe(3);
    expect(m.argmax().shape).toEqual([]);
    expect(np.argmin(m).item()).toBe(4);
    expect(np.argmin(array([[4, 3], [0, 0]])).item()).toBe(2);
  });

  it('ints, bools, extremes and NaN', () => {
    expect(np.argmax(array([-5, -3, -4], 'int32')).item()).toBe(1);
    expect(np.argmin(array([-5, -3, -7], 'int32')).item()).toBe(2);
    expect(np.argmin(array([0, -2147483648], 'int32')).item()).toBe(1);
    expect(np.argmin(array([-2147483648, 0], 'int32')).item()).toBe(0);
    expect(np.argmax(array([2147483647, -2147483648], 'int32')).item()).toBe(0);
    expect(np.argmax(array([false, true, true])).item()).toBe(1);
    expect(np.argmin(array([true, false, false])).item()).toBe(1);
    // NumPy: the first NaN counts as the extreme.
    expect(np.argmax(array([1, NaN, 3])).item()).toBe(1);
    expect(np.argmin(array([1, NaN, 0])).item()).toBe(1);
  });

  it('3-D against a reference', () => {
    const x = array([[[3, 1, 2], [0, 9, 9]], [[5, 5, 1], [2, 8, 3]]]);
    expect(x.argmax(0).toArray()).toEqual([[1, 1, 0], [1, 0, 0]]);
    expect(x.argmax(1).toArray()).toEqual([[0, 1, 1], [0, 1, 1]]);
    expect(x.argmax(2).toArray()).toEqual([[0, 1], [0, 1]]);
    expect(np.argmin(x, 2).toArray()).toEqual([[1, 0], [2, 0]]);
  });
});

// ---------------------------------------------------------------- structural helpers
describe('stack / split / squeeze / expandDims', () => {
  const a = array([1, 2]);
  const b = array([3, 4]);

  it('stack', () => {
    expect(np.stack([a, b]).toArray()).toEqual([[1, 2], [3, 4]]);
    expect(np.stack([a, b], 1).toArray()).toEqual([[1, 3], [2, 4]]);
    expect(np.stack([a, b], -1).toArray()).toEqual([[1, 3], [2, 4]]);
    expect(np.stack([array(1), array(2), array(3)]).toArray()).toEqual([1, 2, 3]);
    const m = iota([2, 3]);
    expect(np.stack([m, m, m, m], 1).shape).toEqual([2, 4, 3]);
    expect(np.stack([m, m.mul(10)], 2).toArray()).toEqual([[[1, 10], [2, 20], [3, 30]], [[4, 40], [5, 50], [6, 60]]]);
    expect(() => np.stack([a, array([1, 2, 3])])).toThrow(/stack: array 1 has shape \[3\], array 0 has \[2\]/);
    expect(() => np.stack([])).toThrow(/stack: need at least one array/);
  });

  it('concatenate', () => {
    expect(np.concatenate([a, b, array([5])]).toArray()).toEqual([1, 2, 3, 4, 5]);
    expect(np.concatenate([array([[1], [2]]), array([[3], [4]])], 1).toArray()).toEqual([[1, 3], [2, 4]]);
    expect(np.concatenate([array([[1], [2]]), array([[3], [4]])], -1).toArray()).toEqual([[1, 3], [2, 4]]);
  });

  it('split into equal sections or at indices', () => {
    expect(np.split(arange(6), 3).map((t) => t.toArray())).toEqual([[0, 1], [2, 3], [4, 5]]);
    const m = arange(6).reshape(2, 3);
    expect(np.split(m, [1], 1).map((t) => t.toArray())).toEqual([[[0], [3]], [[1, 2], [4, 5]]]);
    expect(np.split(m, [1], -1).map((t) => t.shape)).toEqual([[2, 1], [2, 2]]);
    expect(np.split(m, 2, 0).map((t) => t.toArray())).toEqual([[[0, 1, 2]], [[3, 4, 5]]]);
    expect(np.split(arange(5), [2, 2, 4]).map((t) => t.toArray())).toEqual([[0, 1], [], [2, 3], [4]]);
    expect(np.split(arange(5), [10]).map((t) => t.toArray())).toEqual([[0, 1, 2, 3, 4], []]);
    expect(() => np.split(arange(5), 2)).toThrow(/split: axis 0 of size 5 cannot be split into 2 equal sections/);
  });

  it('squeeze', () => {
    const x = zeros([1, 2, 1, 3]);
    expect(x.squeeze().shape).toEqual([2, 3]);
    expect(x.squeeze(0).shape).toEqual([2, 1, 3]);
    expect(x.squeeze(-2).shape).toEqual([1, 2, 3]);
    expect(x.squeeze([0, 2]).shape).toEqual([2, 3]);
    expect(np.squeeze(array([[5]])).toArray()).toBe(5);
    expect(() => x.squeeze(1)).toThrow(/squeeze: axis 1 of shape \[1,2,1,3\] has size 2, not 1/);
  });

  it('expandDims', () => {
    const x = array([[1, 2, 3], [4, 5, 6]]);
    expect(x.expandDims(0).shape).toEqual([1, 2, 3]);
    expect(x.expandDims(1).shape).toEqual([2, 1, 3]);
    expect(x.expandDims(2).shape).toEqual([2, 3, 1]);
    expect(x.expandDims(-1).shape).toEqual([2, 3, 1]);
    expect(x.expandDims(-3).shape).toEqual([1, 2, 3]);
    expect(x.expandDims(1).toArray()).toEqual([[[1, 2, 3]], [[4, 5, 6]]]);
    expect(np.expandDims(array(7), 0).toArray()).toEqual([7]);
  });

  it('reshape with -1, transpose, flatten', () => {
    const x = arange(6);
    expect(x.reshape(2, -1).toArray()).toEqual([[0, 1, 2], [3, 4, 5]]);
    expect(x.reshape([-1, 2]).shape).toEqual([3, 2]);
    expect(x.reshape(2, 3).T.toArray()).toEqual([[0, 3], [1, 4], [2, 5]]);
    expect(arange(24).reshape(2, 3, 4).transpose([2, 0, 1]).shape).toEqual([4, 2, 3]);
    expect(arange(24).reshape(2, 3, 4).transpose([-1, 0, 1]).shape).toEqual([4, 2, 3]);
    expect(x.reshape(2, 3).flatten().toArray()).toEqual([0, 1, 2, 3, 4, 5]);
    expect(zeros([0, 3]).reshape(3, 0).shape).toEqual([3, 0]);
  });
});

describe('clip / oneHot / logsumexp', () => {
  it('clip', () => {
    expect(np.clip(array([-1, 0.5, 2]), 0, 1).toArray()).toEqual([0, 0.5, 1]);
    expect(np.clip(array([-1, 0.5, 2]), null, 1).toArray()).toEqual([-1, 0.5, 1]);
    expect(np.clip(array([-1, 0.5, 2]), 0, null).toArray()).toEqual([0, 0.5, 2]);
    expect(np.clip(array([-1, 5, 2], 'int32'), 0, 3).toArray()).toEqual([0, 3, 2]);
    expect(np.clip(array([-1, 5, 2], 'int32'), 0, 3).dtype).toBe('int32');
    // Array bounds broadcast.
    expect(np.clip(array([[1, 5], [3, 3]]), array([2, 0]), array([[4], [2]])).toArray()).toEqual([[2, 4], [2, 2]]);
  });

  it('oneHot', () => {
    expect(np.oneHot(array([0, 2, 1], 'int32'), 3).toArray()).toEqual([[1, 0, 0], [0, 0, 1], [0, 1, 0]]);
    expect(np.oneHot(array([0, 2], 'int32'), 3).dtype).toBe('float32');
    expect(np.oneHot(array([1], 'int32'), 2, 'int32').dtype).toBe('int32');
    // Out-of-range labels give all-zero rows, as in JAX.
    expect(np.oneHot(array([3, -1], 'int32'), 3).toArray()).toEqual([[0, 0, 0], [0, 0, 0]]);
    expect(np.oneHot(array([[0], [1]], 'int32'), 2).shape).toEqual([2, 1, 2]);
    expect(np.oneHot(array(1, 'int32'), 3).toArray()).toEqual([0, 1, 0]);
    expect(() => np.oneHot(array([0.5]), 3)).toThrow(/oneHot: labels must be int32, got float32/);
    expect(() => np.oneHot(array([0], 'int32'), 0)).toThrow(/oneHot: numClasses must be a positive integer, got 0/);
  });

  it('logsumexp', () => {
    const x = array([[1, 2, 3], [4, 5, 6]], 'float64');
    const ref = (v: number[]): number => Math.log(v.reduce((s, t) => s + Math.exp(t), 0));
    expectClose(np.logsumexp(x).data(), [ref([1, 2, 3, 4, 5, 6])], 1e-14);
    expectClose(np.logsumexp(x, 1).data(), [ref([1, 2, 3]), ref([4, 5, 6])], 1e-14);
    expectClose(np.logsumexp(x, -2).data(), [ref([1, 4]), ref([2, 5]), ref([3, 6])], 1e-14);
    expect(np.logsumexp(x, 0, true).shape).toEqual([1, 3]);
    expect(np.logsumexp(x, 1, true).shape).toEqual([2, 1]);
    expect(np.logsumexp(x).shape).toEqual([]);
    // Stable for large inputs, exact for -inf entries.
    expectClose(np.logsumexp(array([1000, 1000, -Infinity], 'float64')).data(), [1000 + Math.log(2)], 1e-14);
    expect(np.logsumexp(array([-Infinity, -Infinity])).item()).toBe(-Infinity);
    expect(np.logsumexp(array([[0, 0], [-Infinity, 0]]), 1).toArray()).toEqual([Math.fround(Math.log(2)), 0]);
  });
});

describe('take / scatterAdd', () => {
  it('take along axes, negative indices count from the end', () => {
    const m = arange(6).reshape(2, 3);
    expect(np.take(array([10, 20, 30]), array([2, 0, 2], 'int32')).toArray()).toEqual([30, 10, 30]);
    expect(np.take(m, array([2, 0], 'int32'), 1).toArray()).toEqual([[2, 0], [5, 3]]);
    expect(np.take(m, array([1], 'int32'), -2).toArray()).toEqual([[3, 4, 5]]);
    expect(np.take(arange(6), array([[1, 2], [3, 4]], 'int32')).toArray()).toEqual([[1, 2], [3, 4]]);
    expect(np.take(array([10, 20, 30]), array([-1], 'int32')).toArray()).toEqual([30]);
  });

  it('scatterAdd accumulates repeated indices', () => {
    expect(np.scatterAdd(zeros([3]), array([0, 0, 2], 'int32'), array([1, 2, 3])).toArray()).toEqual([3, 0, 3]);
    expect(np.scatterAdd(ones([2, 2]), array([1, 1], 'int32'), array([[1, 2], [3, 4]]), 1).toArray()).toEqual([[1, 4], [1, 8]]);
  });
});
