/**
 * Public API: dtype promotion (the rules at the top of src/core/dtype.ts: bool < int32 < float32 < float64;
 * JS numbers are weakly typed), for every binary op and `where`; integer division; astype conversions.
 */
import { describe, expect, it } from 'vitest';
import { type ArrayLike, type DType, DTYPES, Tensor, array, numpy as np, promoteTypes } from '../src/index.js';

const CHAIN: DType[] = ['bool', 'int32', 'float32', 'float64'];

/** The promotion table written out by hand (row op column). */
const TABLE: Record<DType, Record<DType, DType>> = {
  bool: { bool: 'bool', int32: 'int32', float32: 'float32', float64: 'float64' },
  int32: { bool: 'int32', int32: 'int32', float32: 'float32', float64: 'float64' },
  float32: { bool: 'float32', int32: 'float32', float32: 'float32', float64: 'float64' },
  float64: { bool: 'float64', int32: 'float64', float32: 'float64', float64: 'float64' },
};

/** A small array of dtype d with values valid for every op (positive, so power/log-free ops are exact). */
function sample(d: DType): Tensor {
  return d === 'bool' ? array([true, false]) : array([1, 2], d);
}

type Binary = (x: ArrayLike, y: ArrayLike) => Tensor;
/** Each binary op with how it maps the promoted dtype to its result dtype. */
const atLeastInt = (d: DType): DType => (d === 'bool' ? 'int32' : d);
const atLeastFloat = (d: DType): DType => (d === 'bool' || d === 'int32' ? 'float32' : d);
const toBool = (): DType => 'bool';
const OPS: [string, Binary, (d: DType) => DType][] = [
  ['add', np.add, atLeastInt],
  ['subtract', np.subtract, atLeastInt],
  ['multiply', np.multiply, atLeastInt],
  ['maximum', np.maximum, atLeastInt],
  ['minimum', np.minimum, atLeastInt],
  ['truncDivide', np.truncDivide, atLeastInt],
  ['divide', np.divide, atLeastFloat],
  ['power', np.power, atLeastFloat],
  ['arctan2', np.arctan2, atLeastFloat],
  ['equal', np.equal, toBool],
  ['notEqual', np.notEqual, toBool],
  ['less', np.less, toBool],
  ['lessEqual', np.lessEqual, toBool],
  ['greater', np.greater, toBool],
  ['greaterEqual', np.greaterEqual, toBool],
  ['logicalAnd', np.logicalAnd, toBool],
  ['logicalOr', np.logicalOr, toBool],
];

describe('promoteTypes', () => {
  it('is the chain bool < int32 < float32 < float64', () => {
    expect(DTYPES).toEqual(CHAIN);
    for (const a of CHAIN) for (const b of CHAIN) expect(promoteTypes(a, b), `${a} + ${b}`).toBe(TABLE[a][b]);
  });
});

describe('array-array promotion for every binary op', () => {
  for (const [name, op, result] of OPS) {
    it(name, () => {
      for (const a of CHAIN) {
        for (const b of CHAIN) {
          const out = op(sample(a), sample(b));
          expect(out.dtype, `${name}(${a}, ${b})`).toBe(result(TABLE[a][b]));
          expect(out.shape).toEqual([2]);
        }
      }
    });
  }

  it('where(cond, x, y) promotes x and y like the binary ops', () => {
    const cond = array([true, false]);
    for (const a of CHAIN) for (const b of CHAIN) expect(np.where(cond, sample(a), sample(b)).dtype, `where(${a}, ${b})`).toBe(TABLE[a][b]);
    expect(np.where(cond, array([1, 2], 'int32'), array([0.5, 0.25], 'float64')).toArray()).toEqual([1, 0.25]);
    // A non-bool condition is read as x != 0.
    expect(np.where(array([0, 3], 'int32'), array([1, 2]), array([5, 6])).toArray()).toEqual([5, 2]);
  });

  it('Tensor methods follow the same rules', () => {
    const i = array([1, 2], 'int32');
    const f64 = array([1, 2], 'float64');
    const b = array([true, false]);
    expect(i.add(f64).dtype).toBe('float64');
    expect(i.mul(i).dtype).toBe('int32');
    expect(i.div(i).dtype).toBe('float32');
    expect(b.sub(b).dtype).toBe('int32');
    expect(i.pow(i).dtype).toBe('float32');
    expect(i.maximum(b).dtype).toBe('int32');
    expect(f64.less(i).dtype).toBe('bool');
  });

  it('the computation happens in the promoted dtype', () => {
    // int32 arithmetic is exact beyond float32's 24-bit mantissa.
    expect(array([16777217], 'int32').add(array([0], 'int32')).item()).toBe(16777217);
    // float64 beats float32.
    expect(array([0.1], 'float64').add(array([0.2], 'float64')).item()).toBe(0.1 + 0.2);
    expect(array([0.1], 'float64').add(array([0.2])).item()).toBe(0.1 + Math.fround(0.2));
    expect(np.equal(array([1, 2], 'int32'), array([1.5, 2])).toArray()).toEqual([false, true]);
  });
});

describe('weak JS scalars', () => {
  it('an integer scalar takes the array\'s dtype (bool becomes int32)', () => {
    expect(array([1, 2], 'int32').add(3).dtype).toBe('int32');
    expect(array([1, 2], 'float32').add(3).dtype).toBe('float32');
    expect(array([1, 2], 'float64').add(3).dtype).toBe('float64');
    expect(array([true]).add(3).dtype).toBe('int32');
    expect(array([true]).add(3).toArray()).toEqual([4]);
  });

  it('a non-integer scalar meeting bool/int32 gives float32, and never demotes a float array', () => {
    expect(array([1, 2], 'int32').mul(2.5).dtype).toBe('float32');
    expect(array([1, 2], 'int32').mul(2.5).toArray()).toEqual([2.5, 5]);
    expect(array([true, false]).add(0.5).dtype).toBe('float32');
    expect(array([1], 'float64').add(0.5).dtype).toBe('float64');
    // The scalar is not rounded to float32 first next to a float64 array...
    expect(array([1], 'float64').add(1e-10).item()).toBe(1 + 1e-10);
    // ...and a float32 array stays float32 (no upcast from a JS double).
    expect(array([1], 'float32').add(1e-10).item()).toBe(1);
  });

  it('a boolean scalar takes the array\'s dtype', () => {
    expect(array([1.5]).add(true).dtype).toBe('float32');
    expect(array([1.5]).add(true).toArray()).toEqual([2.5]);
    expect(array([1], 'int32').add(true).dtype).toBe('int32');
    expect(np.equal(array([true, false]), true).toArray()).toEqual([true, false]);
    expect(np.logicalAnd(array([true, true]), false).toArray()).toEqual([false, false]);
  });

  it('scalars on either side', () => {
    expect(np.subtract(10, array([1, 2], 'int32')).toArray()).toEqual([9, 8]);
    expect(np.subtract(10, array([1, 2], 'int32')).dtype).toBe('int32');
    expect(np.divide(1, array([4], 'int32')).toArray()).toEqual([0.25]);
    expect(np.power(2, array([3], 'float64')).dtype).toBe('float64');
  });

  it('for every op, scalar dtype = op applied to the weak rule', () => {
    const cases: [DType, number | boolean, DType][] = [
      // array dtype, scalar, promoted dtype before the op's own mapping
      ['bool', true, 'bool'],
      ['bool', 2, 'int32'],
      ['bool', 2.5, 'float32'],
      ['int32', true, 'int32'],
      ['int32', 2, 'int32'],
      ['int32', 2.5, 'float32'],
      ['float32', 2, 'float32'],
      ['float32', 2.5, 'float32'],
      ['float64', 2, 'float64'],
      ['float64', 2.5, 'float64'],
    ];
    for (const [name, op, result] of OPS) {
      for (const [d, s, promoted] of cases) {
        expect(op(sample(d), s).dtype, `${name}(${d} array, ${s})`).toBe(result(promoted));
        expect(op(s, sample(d)).dtype, `${name}(${s}, ${d} array)`).toBe(result(promoted));
      }
    }
  });

  it('where with weak scalar branches', () => {
    const c = array([true, false]);
    expect(np.where(c, array([1, 2], 'int32'), 0).dtype).toBe('int32');
    expect(np.where(c, array([1, 2], 'int32'), 2.5).dtype).toBe('float32');
    expect(np.where(c, array([1, 2], 'int32'), 2.5).toArray()).toEqual([1, 2.5]);
    expect(np.where(c, array([1, 2], 'float64'), 0.5).dtype).toBe('float64');
    // Two scalars: numbers default to float32, booleans to bool.
    expect(np.where(c, 1, 0).dtype).toBe('float32');
    expect(np.where(c, 1, 0).toArray()).toEqual([1, 0]);
    expect(np.where(c, true, false).dtype).toBe('bool');
  });

  it('two scalars: numbers are float32, booleans bool', () => {
    expect(np.add(1, 2).dtype).toBe('float32');
    expect(np.add(1, 2).shape).toEqual([]);
    expect(np.add(1, 2).item()).toBe(3);
    expect(np.add(true, true).dtype).toBe('int32');
    expect(np.equal(1, 1).dtype).toBe('bool');
    expect(np.logicalOr(true, false).item()).toBe(true);
  });
});

describe('integer division', () => {
  const a = array([7, -7, 7, -7, 1], 'int32');
  const b = array([2, 2, -2, -2, 3], 'int32');

  it('divide is true division into float32', () => {
    const q = np.divide(a, b);
    expect(q.dtype).toBe('float32');
    expect(q.toArray()).toEqual([3.5, -3.5, -3.5, 3.5, Math.fround(1 / 3)]);
    expect(a.div(b).dtype).toBe('float32');
    expect(array([true]).div(array([true])).dtype).toBe('float32');
  });

  it('truncDivide rounds toward zero and stays int32', () => {
    const q = np.truncDivide(a, b);
    expect(q.dtype).toBe('int32');
    expect(q.toArray()).toEqual([3, -3, -3, 3, 0]);
    expect(np.truncDivide(a, 2).toArray()).toEqual([3, -3, 3, -3, 0]);
    expect(np.truncDivide(a, 2).dtype).toBe('int32');
  });

  it('truncDivide on floats is true division', () => {
    expect(np.truncDivide(array([7, -7]), 2).toArray()).toEqual([3.5, -3.5]);
    expect(np.truncDivide(array([7], 'int32'), 2.5).dtype).toBe('float32');
  });
});

describe('astype', () => {
  it('float -> int32 truncates toward zero', () => {
    expect(array([1.7, -1.7, 2.5, -0.2, 0]).astype('int32').toArray()).toEqual([1, -1, 2, 0, 0]);
    expect(array([1e9, -1e9], 'float64').astype('int32').toArray()).toEqual([1e9, -1e9]);
  });

  it('anything -> bool is x != 0 (NaN is true, as in NumPy)', () => {
    expect(array([0, -0.5, 2, -0]).astype('bool').toArray()).toEqual([false, true, true, false]);
    expect(array([0, 5, -1], 'int32').astype('bool').toArray()).toEqual([false, true, true]);
    expect(array([NaN]).astype('bool').toArray()).toEqual([true]);
  });

  it('bool -> numbers is 0/1', () => {
    const b = array([true, false]);
    expect(b.astype('int32').toArray()).toEqual([1, 0]);
    expect(b.astype('float32').toArray()).toEqual([1, 0]);
    expect(b.astype('float64').toArray()).toEqual([1, 0]);
  });

  it('between floats rounds to float32 and widens exactly', () => {
    expect(array([0.1], 'float64').astype('float32').item()).toBe(Math.fround(0.1));
    expect(array([0.1]).astype('float64').item()).toBe(Math.fround(0.1));
    expect(array([16777217], 'int32').astype('float32').item()).toBe(16777216);
    expect(array([16777217], 'int32').astype('float64').item()).toBe(16777217);
  });

  it('keeps the shape, is a no-op for the same dtype, and rejects unknown dtypes', () => {
    const x = array([[1, 2]]);
    expect(x.astype('int32').shape).toEqual([1, 2]);
    expect(x.astype('float32')).toBe(x);
    expect(() => x.astype('uint8' as DType)).toThrow(/astype: unknown dtype "uint8"; expected one of bool, int32, float32, float64/);
  });

  it('unary float math promotes ints and bools to float32, keeps float64', () => {
    expect(np.exp(array([0], 'int32')).dtype).toBe('float32');
    expect(np.sqrt(array([true])).dtype).toBe('float32');
    expect(np.log(array([1], 'float64')).dtype).toBe('float64');
    expect(np.negative(array([true])).dtype).toBe('int32');
    expect(np.abs(array([-3], 'int32')).dtype).toBe('int32');
    expect(np.mean(array([1, 2], 'int32')).dtype).toBe('float32');
    expect(np.sum(array([true, true, false])).dtype).toBe('int32');
    expect(np.sum(array([true, true, false])).item()).toBe(2);
  });
});
