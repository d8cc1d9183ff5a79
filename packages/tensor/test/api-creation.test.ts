/**
 * Public API: making arrays (array, zeros/ones/full/arange/linspace/eye), reading them back
 * (toArray/data/item/toString), and immutability.
 */
import { describe, expect, it } from 'vitest';
import { Tensor, arange, array, eye, fromTypedArray, full, grad, linspace, numpy as np, nn, ones, zeros } from '../src/index.js';

/** Shape, dtype and values in one comparison. */
function expectArray(t: Tensor, shape: number[], dtype: string, values: unknown): void {
  expect(t.shape).toEqual(shape);
  expect(t.dtype).toBe(dtype);
  expect(t.toArray()).toEqual(values);
}

describe('array() from JS values', () => {
  it('scalars are 0-d: numbers float32, booleans bool', () => {
    expectArray(array(3), [], 'float32', 3);
    expectArray(array(-2.5), [], 'float32', -2.5);
    expectArray(array(true), [], 'bool', true);
    expectArray(array(7, 'int32'), [], 'int32', 7);
    expect(array(3).ndim).toBe(0);
    expect(array(3).size).toBe(1);
  });

  it('nested arrays give the nested shape', () => {
    expectArray(array([1, 2, 3]), [3], 'float32', [1, 2, 3]);
    expectArray(array([[1, 2, 3], [4, 5, 6]]), [2, 3], 'float32', [[1, 2, 3], [4, 5, 6]]);
    expectArray(array([[[1], [2]], [[3], [4]]]), [2, 2, 1], 'float32', [[[1], [2]], [[3], [4]]]);
    expect(array([[1, 2], [3, 4]]).size).toBe(4);
    expect(array([[1, 2], [3, 4]]).ndim).toBe(2);
  });

  it('empty arrays', () => {
    expectArray(array([]), [0], 'float32', []);
    expectArray(array([[], [], []]), [3, 0], 'float32', [[], [], []]);
    expect(array([]).size).toBe(0);
    expectArray(array([], 'int32'), [0], 'int32', []);
  });

  it('explicit dtypes convert: int32 truncates toward zero, bool is x != 0', () => {
    expectArray(array([1.7, -1.7, 2], 'int32'), [3], 'int32', [1, -1, 2]);
    expectArray(array([0, 0.5, -3], 'bool'), [3], 'bool', [false, true, true]);
    expectArray(array([true, false], 'float32'), [2], 'float32', [1, 0]);
    expectArray(array([1, 2], 'float64'), [2], 'float64', [1, 2]);
  });

  it('float32 rounds, float64 keeps full precision', () => {
    expect(array(0.1).item()).toBe(Math.fround(0.1));
    expect(array(0.1, 'float64').item()).toBe(0.1);
    expect(array([16777217]).item()).toBe(16777216);
  });

  it('booleans', () => {
    expectArray(array([true, false, true]), [3], 'bool', [true, false, true]);
    expectArray(array([[true], [false]]), [2, 1], 'bool', [[true], [false]]);
  });

  it('a mix of numbers and booleans is numeric (booleans read as 0/1)', () => {
    expectArray(array([true, 2]), [2], 'float32', [1, 2]);
    expectArray(array([2, false]), [2], 'float32', [2, 0]);
  });

  it('TypedArrays keep their dtype and are copied', () => {
    expectArray(array(new Float32Array([1, 2])), [2], 'float32', [1, 2]);
    expectArray(array(new Float64Array([0.1])), [1], 'float64', [0.1]);
    expectArray(array(new Int32Array([-1, 5])), [2], 'int32', [-1, 5]);
    expectArray(array(new Uint8Array([0, 1, 2])), [3], 'bool', [false, true, true]);
    expectArray(array(new Int32Array([1, 2]), 'float32'), [2], 'float32', [1, 2]);
    const src = new Float32Array([1, 2, 3]);
    const t = array(src);
    src[0] = 100;
    expect(t.toArray()).toEqual([1, 2, 3]);
  });

  it('fromTypedArray takes a shape and checks the size', () => {
    expectArray(fromTypedArray(new Float32Array([1, 2, 3, 4, 5, 6]), [2, 3]), [2, 3], 'float32', [[1, 2, 3], [4, 5, 6]]);
    expectArray(fromTypedArray(new Float64Array([1, 2]), [2], 'int32'), [2], 'int32', [1, 2]);
    expect(() => fromTypedArray(new Float32Array([1, 2, 3]), [2, 2])).toThrow(/3 elements do not fill shape \[2,2\] \(4 elements\)/);
  });

  it('array(tensor) passes it through, or casts with a dtype', () => {
    const x = array([1.5, 2.5]);
    expect(array(x)).toBe(x);
    expectArray(array(x, 'int32'), [2], 'int32', [1, 2]);
  });

  it('rejects unknown dtypes and non-numeric elements', () => {
    expect(() => array([1], 'int64' as never)).toThrow(/array: unknown dtype "int64"; expected one of bool, int32, float32, float64/);
    expect(() => array(['a'] as never)).toThrow(/array: element at \[0\] is string, expected a number or boolean/);
  });
});

describe('creation functions', () => {
  it('zeros / ones / full', () => {
    expectArray(zeros([2, 3]), [2, 3], 'float32', [[0, 0, 0], [0, 0, 0]]);
    expectArray(zeros(3, 'int32'), [3], 'int32', [0, 0, 0]);
    expectArray(zeros([]), [], 'float32', 0);
    expectArray(zeros([2, 0]), [2, 0], 'float32', [[], []]);
    expectArray(ones([2]), [2], 'float32', [1, 1]);
    expectArray(ones([1, 2], 'bool'), [1, 2], 'bool', [[true, true]]);
    expectArray(full([2, 2], 7), [2, 2], 'float32', [[7, 7], [7, 7]]);
    expectArray(full([2], true), [2], 'bool', [true, true]);
    expectArray(full([3], 2.9, 'int32'), [3], 'int32', [2, 2, 2]);
    expectArray(full([], 1.5, 'float64'), [], 'float64', 1.5);
    expect(() => zeros([2, -1])).toThrow(/full: shape \[2,-1\] must contain non-negative integers/);
    expect(() => zeros([1.5])).toThrow(/must contain non-negative integers/);
  });

  it('arange', () => {
    expectArray(arange(5), [5], 'float32', [0, 1, 2, 3, 4]);
    expectArray(arange(2, 8, 2, 'int32'), [3], 'int32', [2, 4, 6]);
    expectArray(arange(5, 0, -2, 'int32'), [3], 'int32', [5, 3, 1]);
    expectArray(arange(3, 3), [0], 'float32', []);
    expectArray(arange(3, 1), [0], 'float32', []);
    expect(arange(0, 1, 0.1).shape).toEqual([10]);
    expectArray(arange(0, 1, 0.25, 'float64'), [4], 'float64', [0, 0.25, 0.5, 0.75]);
    expect(() => arange(0, 5, 0)).toThrow(/arange: step must be a finite non-zero number, got 0/);
  });

  it('linspace includes both ends', () => {
    expectArray(linspace(0, 1, 5), [5], 'float32', [0, 0.25, 0.5, 0.75, 1]);
    expectArray(linspace(2, 2, 1), [1], 'float32', [2]);
    expectArray(linspace(0, 1, 0), [0], 'float32', []);
    expectArray(linspace(-1, 1, 3, 'float64'), [3], 'float64', [-1, 0, 1]);
    expect(linspace(0, 1).shape).toEqual([50]);
    expect(() => linspace(0, 1, -1)).toThrow(/linspace: num must be a non-negative integer, got -1/);
  });

  it('eye with offsets and non-square shapes', () => {
    expectArray(eye(2), [2, 2], 'float32', [[1, 0], [0, 1]]);
    expectArray(eye(3, 4, 1), [3, 4], 'float32', [[0, 1, 0, 0], [0, 0, 1, 0], [0, 0, 0, 1]]);
    expectArray(eye(3, 2, -1, 'int32'), [3, 2], 'int32', [[0, 0], [1, 0], [0, 1]]);
    expectArray(eye(0), [0, 0], 'float32', []);
  });

  it('zerosLike / onesLike keep shape and dtype', () => {
    const x = array([[1, 2]], 'int32');
    expectArray(np.zerosLike(x), [1, 2], 'int32', [[0, 0]]);
    expectArray(np.onesLike(x), [1, 2], 'int32', [[1, 1]]);
  });
});

describe('reading values back', () => {
  it('item() of size-1 arrays, an error otherwise', () => {
    expect(array(2.5).item()).toBe(2.5);
    expect(array([[4]], 'int32').item()).toBe(4);
    expect(array([true]).item()).toBe(true);
    expect(() => array([1, 2]).item()).toThrow(/item\(\): only a size-1 array has one item, this one has shape \[2\]/);
  });

  it('data() is a flat row-major copy in the dtype\'s typed array', () => {
    const x = array([[1, 2], [3, 4]]);
    const d = x.data();
    expect(d).toBeInstanceOf(Float32Array);
    expect(Array.from(d)).toEqual([1, 2, 3, 4]);
    d[0] = 99;
    expect(x.toArray()).toEqual([[1, 2], [3, 4]]);
    expect(x.data()).not.toBe(x.data());
    expect(array([1], 'float64').data()).toBeInstanceOf(Float64Array);
    expect(array([1], 'int32').data()).toBeInstanceOf(Int32Array);
    expect(array([true]).data()).toBeInstanceOf(Uint8Array);
    expect(Array.from(arange(6).reshape(2, 3).T.data())).toEqual([0, 3, 1, 4, 2, 5]);
  });

  it('toArray() gives numbers, or booleans for bool', () => {
    expect(array([[true, false]]).toArray()).toEqual([[true, false]]);
    expect(array(5, 'int32').toArray()).toBe(5);
  });

  it('toString() is readable', () => {
    expect(array([[1, 2], [3, 4]]).toString()).toBe('array([[1., 2.],\n       [3., 4.]], dtype=float32)');
    expect(array([1.5, -0.25]).toString()).toBe('array([1.5, -0.25], dtype=float32)');
    expect(array(3).toString()).toBe('array(3., dtype=float32)');
    expect(array([1, -2], 'int32').toString()).toBe('array([1, -2], dtype=int32)');
    expect(array([true, false]).toString()).toBe('array([true, false], dtype=bool)');
    expect(array([]).toString()).toBe('array([], dtype=float32)');
    expect(array([0.1], 'float64').toString()).toBe('array([0.1], dtype=float64)');
    expect(array([0.1]).toString()).toBe('array([0.1], dtype=float32)');
    expect(String(array([2], 'int32'))).toBe('array([2], dtype=int32)');
  });

  it('toString() summarises big arrays with ...', () => {
    const big = arange(2000).reshape(40, 50).toString();
    expect(big.split('\n')).toHaveLength(7);
    expect(big.startsWith('array([[0., 1., 2., ..., 47., 48., 49.],')).toBe(true);
    expect(big).toContain('       ...,\n');
    expect(big.endsWith('[1950., 1951., 1952., ..., 1997., 1998., 1999.]], dtype=float32)')).toBe(true);
    expect(arange(1001, undefined, 1, 'int32').toString()).toBe('array([0, 1, 2, ..., 998, 999, 1000], dtype=int32)');
    // 1000 elements or fewer are printed in full.
    expect(arange(1000).toString()).not.toContain('...');
    expect(big.length).toBeLessThan(400);
  });

  it('toString() of a value inside grad still prints', () => {
    let inside = '';
    grad((x: Tensor) => {
      inside = x.toString();
      return x.sum();
    })(array([1, 2]));
    expect(inside).toContain('1.');
  });
});

describe('immutability', () => {
  it('ops never change their inputs', () => {
    const x = array([[1, -2], [3, 4]]);
    const y = array([10, 20]);
    const idx = array([0, 0, 1], 'int32');
    const before = [x.toArray(), y.toArray(), idx.toArray()];
    const results = [
      x.add(y), x.sub(1), x.mul(y), x.div(2), x.neg(), x.exp(), x.abs(), x.square(), x.pow(2), x.maximum(0),
      x.matmul(x), x.dot(y), x.sum(0), x.mean(), x.max(1), x.min(), x.argmax(), x.reshape(4), x.T, x.flatten(),
      x.expandDims(0), x.astype('int32'), np.where(x.greater(0), x, y), np.clip(x, 0, 1), np.stack([x, x]),
      np.concatenate([x, x]), np.take(x, idx), np.scatterAdd(x, idx, array([[1, 1], [1, 1], [1, 1]])),
      np.pad(x, [1, 0], [0, 1]), np.slice(x, [0, 0], [1, 2]), np.broadcastTo(y, [3, 2]), np.logsumexp(x, 1),
      nn.softmax(x), nn.sigmoid(x),
    ];
    expect(results.length).toBeGreaterThan(30);
    expect([x.toArray(), y.toArray(), idx.toArray()]).toEqual(before);
    // Results of reshape-like ops do not alias: their data() is a copy too.
    const r = x.reshape(4);
    r.data()[0] = 123;
    expect(x.toArray()).toEqual([[1, -2], [3, 4]]);
    expect(r.toArray()).toEqual([1, -2, 3, 4]);
  });

  it('grad does not change its inputs', () => {
    const w = array([[1, 2], [3, 4]]);
    const g = grad((w: Tensor) => w.mul(w).sum())(w);
    expect(g.toArray()).toEqual([[2, 4], [6, 8]]);
    expect(w.toArray()).toEqual([[1, 2], [3, 4]]);
  });

  it('shapes are frozen', () => {
    const x = zeros([2, 3]);
    expect(Object.isFrozen(x.shape)).toBe(true);
    expect(() => {
      (x.shape as number[])[0] = 5;
    }).toThrow();
    expect(x.shape).toEqual([2, 3]);
  });
});
