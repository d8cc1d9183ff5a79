/**
 * CPU backend kernels against naive reference implementations (plain nested index loops over multi-indices),
 * on seeded random shapes and values.
 */
import { describe, expect, it } from 'vitest';
import { cpuBackend } from '../src/backends/cpu/index.js';
import { getBackend } from '../src/backends/backend.js';
import type { DType, TypedArray } from '../src/core/dtype.js';
import { roundHalfEven } from '../src/backends/cpu/elementwise.js';
import { mulberry32 } from './helpers/rng.js';

// ----------------------------------------------------------------------------------------------------------
// helpers

const rng = mulberry32;

const randInt = (r: () => number, lo: number, hi: number): number => lo + Math.floor(r() * (hi - lo + 1));

function size(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

function alloc(dtype: DType, n: number): TypedArray {
  switch (dtype) {
    case 'float32':
      return new Float32Array(n);
    case 'float64':
      return new Float64Array(n);
    case 'int32':
      return new Int32Array(n);
    case 'bool':
      return new Uint8Array(n);
  }
}

function randArray(r: () => number, dtype: DType, shape: readonly number[], opts: { lo?: number; hi?: number } = {}): TypedArray {
  const n = size(shape);
  const a = alloc(dtype, n);
  const lo = opts.lo ?? -3;
  const hi = opts.hi ?? 3;
  for (let i = 0; i < n; i++) {
    if (dtype === 'bool') a[i] = r() < 0.5 ? 1 : 0;
    else if (dtype === 'int32') a[i] = randInt(r, lo * 3, hi * 3);
    else a[i] = lo + (hi - lo) * r();
  }
  return a;
}

function randShape(r: () => number, rank: number, maxDim = 4, minDim = 1): number[] {
  return Array.from({ length: rank }, () => randInt(r, minDim, maxDim));
}

/** All multi-indices of `shape` in row-major order. */
function* indices(shape: readonly number[]): Generator<number[]> {
  const n = size(shape);
  const idx = new Array<number>(shape.length).fill(0);
  for (let c = 0; c < n; c++) {
    yield idx.slice();
    for (let d = shape.length - 1; d >= 0; d--) {
      if (++idx[d]! < shape[d]!) break;
      idx[d] = 0;
    }
  }
}

function ravel(idx: readonly number[], shape: readonly number[]): number {
  let o = 0;
  for (let d = 0; d < shape.length; d++) o = o * shape[d]! + idx[d]!;
  return o;
}

const k = (name: string) => {
  const kernel = cpuBackend.kernels.get(name);
  if (!kernel) throw new Error(`no kernel ${name}`);
  return kernel;
};

interface Arr {
  data: TypedArray;
  shape: number[];
  dtype: DType;
}

function run(name: string, inputs: Arr[], params: unknown, outShape: readonly number[], outDType: DType): TypedArray {
  const copies = inputs.map((a) => a.data.slice());
  const res = k(name)(
    inputs.map((a) => ({ handle: a.data, shape: a.shape, dtype: a.dtype })),
    params,
    { shape: outShape, dtype: outDType },
  ) as TypedArray;
  // inputs are immutable
  inputs.forEach((a, i) => {
    const c = copies[i]!;
    for (let j = 0; j < c.length; j++) {
      if (!Object.is(a.data[j], c[j])) throw new Error(`${name} modified its input ${i} at ${j}`);
    }
  });
  expect(res.length).toBe(size(outShape));
  expect(res.constructor).toBe(alloc(outDType, 0).constructor);
  return res;
}

/** Elementwise closeness with NaN == NaN and sign of infinity checked. */
function expectClose(actual: ArrayLike<number>, expected: ArrayLike<number>, rtol = 0, atol = 0): void {
  expect(actual.length).toBe(expected.length);
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i]!;
    const e = expected[i]!;
    if (Number.isNaN(e)) {
      if (!Number.isNaN(a)) throw new Error(`index ${i}: expected NaN, got ${a}`);
      continue;
    }
    if (a === e) continue;
    if (!(Math.abs(a - e) <= atol + rtol * Math.abs(e))) throw new Error(`index ${i}: expected ${e}, got ${a} (rtol ${rtol}, atol ${atol})`);
  }
}

/** The value a reference double result takes once stored in an array of `dtype`. */
function store(dtype: DType, v: number): number {
  const a = alloc(dtype, 1);
  a[0] = v;
  return a[0]!;
}

// ----------------------------------------------------------------------------------------------------------

describe('cpu backend object', () => {
  it('is registered under the name cpu', () => {
    expect(getBackend('cpu')).toBe(cpuBackend);
    expect(cpuBackend.name).toBe('cpu');
  });

  it('upload / download copy, dispose is a no-op', () => {
    const src = new Float32Array([1, 2, 3]);
    const h = cpuBackend.upload(src, 'float32');
    expect(h).not.toBe(src);
    expect(h).toBeInstanceOf(Float32Array);
    src[0] = 99;
    expect(Array.from(h)).toEqual([1, 2, 3]);
    const d = cpuBackend.download(h, 'float32', 3);
    expect(d).not.toBe(h);
    expect(Array.from(d)).toEqual([1, 2, 3]);
    cpuBackend.dispose(h);
    const b = cpuBackend.upload(new Uint8Array([0, 1]), 'bool');
    expect(b).toBeInstanceOf(Uint8Array);
    const i = cpuBackend.upload(new Int32Array([5]), 'int32');
    expect(i).toBeInstanceOf(Int32Array);
    const f = cpuBackend.upload(new Float64Array([0.5]), 'float64');
    expect(f).toBeInstanceOf(Float64Array);
  });

  it('has every primitive', () => {
    const names = [
      'neg', 'exp', 'log', 'log1p', 'expm1', 'sin', 'cos', 'tanh', 'logistic', 'sqrt', 'abs', 'sign', 'floor', 'ceil', 'round', 'not',
      'add', 'sub', 'mul', 'div', 'pow', 'max', 'min', 'atan2', 'and', 'or', 'eq', 'ne', 'lt', 'le', 'gt', 'ge', 'select',
      'reduce_sum', 'reduce_max', 'argmax', 'dot_general',
      'reshape', 'transpose', 'broadcast_in_dim', 'slice', 'pad', 'concatenate', 'convert_element_type', 'stop_gradient',
      'gather', 'scatter_add',
    ];
    for (const n of names) expect(cpuBackend.kernels.has(n), n).toBe(true);
  });
});

// ----------------------------------------------------------------------------------------------------------

describe('unary elementwise', () => {
  const ref: Record<string, (x: number) => number> = {
    neg: (x) => -x,
    exp: Math.exp,
    log: Math.log,
    log1p: Math.log1p,
    expm1: Math.expm1,
    sin: Math.sin,
    cos: Math.cos,
    tanh: Math.tanh,
    logistic: (x) => 1 / (1 + Math.exp(-x)),
    sqrt: Math.sqrt,
    abs: Math.abs,
    sign: Math.sign,
    floor: Math.floor,
    ceil: Math.ceil,
    round: roundRef,
  };
  function roundRef(x: number): number {
    const r = Math.round(x); // half up
    return r - x === 0.5 && r % 2 !== 0 ? r - 1 : r;
  }
  for (const [name, f] of Object.entries(ref)) {
    for (const dtype of ['float32', 'float64'] as DType[]) {
      it(`${name} ${dtype}`, () => {
        const r = rng(name.length * 7 + dtype.length);
        for (let t = 0; t < 5; t++) {
          const shape = randShape(r, randInt(r, 0, 3));
          const data = randArray(r, dtype, shape, { lo: -4, hi: 4 });
          if (data.length > 0 && (name === 'round' || name === 'floor' || name === 'ceil')) data[0] = 2.5;
          if (data.length > 1 && name === 'round') data[1] = -1.5;
          const out = run(name, [{ data, shape, dtype }], {}, shape, dtype);
          const exp = Array.from(data, (x) => store(dtype, f(x)));
          expectClose(out, exp, name === 'logistic' ? 1e-6 : 0, name === 'logistic' ? 1e-7 : 0);
        }
      });
    }
  }

  it('int32 neg/abs/sign/floor/ceil/round use Int32Array semantics', () => {
    const data = new Int32Array([0, 5, -7, 2147483647, -2147483648]);
    const shape = [5];
    expect(Array.from(run('neg', [{ data, shape, dtype: 'int32' }], {}, shape, 'int32'))).toEqual([0, -5, 7, -2147483647, -2147483648]);
    expect(Array.from(run('abs', [{ data, shape, dtype: 'int32' }], {}, shape, 'int32'))).toEqual([0, 5, 7, 2147483647, -2147483648]);
    expect(Array.from(run('sign', [{ data, shape, dtype: 'int32' }], {}, shape, 'int32'))).toEqual([0, 1, -1, 1, -1]);
    for (const op of ['floor', 'ceil', 'round']) expect(Array.from(run(op, [{ data, shape, dtype: 'int32' }], {}, shape, 'int32'))).toEqual(Array.from(data));
  });

  it('round is half to even, keeps -0 and non-finite values', () => {
    const xs = [0.5, 1.5, 2.5, -0.5, -1.5, -2.5, 0.49999999999999994, 3.7, -3.7, -0.4, 1e300, Infinity, -Infinity, NaN, 4503599627370497];
    const exp = [0, 2, 2, -0, -2, -2, 0, 4, -4, -0, 1e300, Infinity, -Infinity, NaN, 4503599627370497];
    const out = run('round', [{ data: new Float64Array(xs), shape: [xs.length], dtype: 'float64' }], {}, [xs.length], 'float64');
    for (let i = 0; i < xs.length; i++) expect(Object.is(out[i], exp[i]), `round(${xs[i]}) = ${out[i]}`).toBe(true);
    expect(Object.is(roundHalfEven(-0), -0)).toBe(true);
  });

  it('logistic is stable for large |x|', () => {
    const xs = new Float64Array([-1000, -50, 0, 50, 1000]);
    const out = run('logistic', [{ data: xs, shape: [5], dtype: 'float64' }], {}, [5], 'float64');
    expect(out[0]).toBe(0);
    expect(out[1]).toBeCloseTo(Math.exp(-50), 30);
    expect(out[1]!).toBeGreaterThan(0);
    expect(out[2]).toBe(0.5);
    expect(out[3]).toBe(1);
    expect(out[4]).toBe(1);
    expect(Array.from(out).every((v) => Number.isFinite(v))).toBe(true);
  });

  it('not: logical on bool, bitwise on int32', () => {
    expect(Array.from(run('not', [{ data: new Uint8Array([0, 1, 1, 0]), shape: [2, 2], dtype: 'bool' }], {}, [2, 2], 'bool'))).toEqual([1, 0, 0, 1]);
    expect(Array.from(run('not', [{ data: new Int32Array([0, 5, -1]), shape: [3], dtype: 'int32' }], {}, [3], 'int32'))).toEqual([-1, -6, 0]);
  });
});

// ----------------------------------------------------------------------------------------------------------

function broadcastShape(a: readonly number[], b: readonly number[]): number[] {
  return a.map((d, i) => (d === 1 ? b[i]! : d));
}

/** Random equal-rank pair of broadcast-compatible shapes. */
function randBroadcastPair(r: () => number): [number[], number[], number[]] {
  const rank = randInt(r, 0, 4);
  const full = randShape(r, rank, 5);
  const mode = r();
  let a = full.slice();
  let b = full.slice();
  if (mode < 0.15) {
    // same shape
  } else if (mode < 0.3) {
    b = full.map(() => 1); // scalar-like
  } else if (mode < 0.45) {
    a = full.map(() => 1);
  } else if (mode < 0.6) {
    b = full.map((d, i) => (i === 0 ? 1 : d)); // trailing-dims broadcast
  } else {
    a = full.map((d) => (r() < 0.35 ? 1 : d));
    b = full.map((d) => (r() < 0.35 ? 1 : d));
  }
  return [a, b, broadcastShape(a, b)];
}

function refBroadcast(inputs: { data: ArrayLike<number>; shape: readonly number[] }[], outShape: readonly number[], f: (...v: number[]) => number): number[] {
  const res: number[] = [];
  for (const idx of indices(outShape)) {
    const vals = inputs.map((x) => x.data[ravel(idx.map((i, d) => (x.shape[d] === 1 ? 0 : i)), x.shape)]!);
    res.push(f(...vals));
  }
  return res;
}

describe('binary elementwise with broadcasting', () => {
  const arith: Record<string, (a: number, b: number) => number> = {
    add: (a, b) => a + b,
    sub: (a, b) => a - b,
    mul: (a, b) => a * b,
    div: (a, b) => a / b,
    pow: (a, b) => Math.pow(a, b),
    max: (a, b) => (Number.isNaN(a) || Number.isNaN(b) ? NaN : Math.max(a, b)),
    min: (a, b) => (Number.isNaN(a) || Number.isNaN(b) ? NaN : Math.min(a, b)),
    atan2: Math.atan2,
  };
  const cmp: Record<string, (a: number, b: number) => boolean> = {
    eq: (a, b) => a === b,
    ne: (a, b) => a !== b,
    lt: (a, b) => a < b,
    le: (a, b) => a <= b,
    gt: (a, b) => a > b,
    ge: (a, b) => a >= b,
  };

  for (const [name, f] of Object.entries(arith)) {
    for (const dtype of ['float32', 'float64', 'int32'] as DType[]) {
      if (dtype === 'int32' && (name === 'atan2' || name === 'div')) continue;
      it(`${name} ${dtype}: many broadcast patterns`, () => {
        const r = rng(1000 + name.length * 13 + dtype.length);
        for (let t = 0; t < 40; t++) {
          const [sa, sb, so] = randBroadcastPair(r);
          const a = randArray(r, dtype, sa, name === 'pow' ? { lo: 0.1, hi: 2 } : {});
          const b = randArray(r, dtype, sb, name === 'pow' ? { lo: -1, hi: 1 } : {});
          if (dtype === 'int32' && name === 'pow') b.forEach((_, i) => (b[i] = Math.abs(b[i]!) % 4));
          if (isFloatDType(dtype) && (name === 'max' || name === 'min') && a.length > 2) a[1] = NaN;
          const out = run(name, [{ data: a, shape: sa, dtype }, { data: b, shape: sb, dtype }], {}, so, dtype);
          const exp = refBroadcast([{ data: a, shape: sa }, { data: b, shape: sb }], so, f).map((v) => store(dtype, v));
          expectClose(out, exp);
        }
      });
    }
  }

  it('trailing broadcast [100,60] + [1,60] and [100,60] + [100,1]', () => {
    const r = rng(5);
    const a = randArray(r, 'float32', [100, 60]);
    const b = randArray(r, 'float32', [1, 60]);
    const c = randArray(r, 'float32', [100, 1]);
    expectClose(
      run('add', [{ data: a, shape: [100, 60], dtype: 'float32' }, { data: b, shape: [1, 60], dtype: 'float32' }], {}, [100, 60], 'float32'),
      refBroadcast([{ data: a, shape: [100, 60] }, { data: b, shape: [1, 60] }], [100, 60], (x, y) => Math.fround(x + y)),
    );
    expectClose(
      run('mul', [{ data: c, shape: [100, 1], dtype: 'float32' }, { data: a, shape: [100, 60], dtype: 'float32' }], {}, [100, 60], 'float32'),
      refBroadcast([{ data: c, shape: [100, 1] }, { data: a, shape: [100, 60] }], [100, 60], (x, y) => Math.fround(x * y)),
    );
    expectClose(
      run('sub', [{ data: c, shape: [100, 1], dtype: 'float32' }, { data: b, shape: [1, 60], dtype: 'float32' }], {}, [100, 60], 'float32'),
      refBroadcast([{ data: c, shape: [100, 1] }, { data: b, shape: [1, 60] }], [100, 60], (x, y) => Math.fround(x - y)),
    );
  });

  it('int32 div truncates toward zero, division by zero gives 0', () => {
    const a = new Int32Array([7, -7, 7, -7, 5, 0, -2147483648]);
    const b = new Int32Array([2, 2, -2, -2, 0, 0, -1]);
    const out = run('div', [{ data: a, shape: [7], dtype: 'int32' }, { data: b, shape: [7], dtype: 'int32' }], {}, [7], 'int32');
    expect(Array.from(out)).toEqual([3, -3, -3, 3, 0, 0, -2147483648]);
  });

  it('float max/min propagate NaN', () => {
    const a = new Float64Array([NaN, 1, 2, NaN]);
    const b = new Float64Array([1, NaN, 3, NaN]);
    const mx = run('max', [{ data: a, shape: [4], dtype: 'float64' }, { data: b, shape: [4], dtype: 'float64' }], {}, [4], 'float64');
    const mn = run('min', [{ data: a, shape: [4], dtype: 'float64' }, { data: b, shape: [4], dtype: 'float64' }], {}, [4], 'float64');
    expectClose(mx, [NaN, NaN, 3, NaN]);
    expectClose(mn, [NaN, NaN, 2, NaN]);
  });

  for (const [name, f] of Object.entries(cmp)) {
    it(`${name}: bool output over broadcast patterns and dtypes`, () => {
      const r = rng(2000 + name.charCodeAt(0) + name.charCodeAt(1));
      for (const dtype of ['float32', 'float64', 'int32', 'bool'] as DType[]) {
        for (let t = 0; t < 12; t++) {
          const [sa, sb, so] = randBroadcastPair(r);
          const a = randArray(r, dtype, sa, { lo: -1, hi: 1 });
          const b = randArray(r, dtype, sb, { lo: -1, hi: 1 });
          if (dtype === 'float32' || dtype === 'float64') {
            // make some ties and a NaN
            if (a.length > 0 && b.length > 0) a[0] = b[0]!;
            if (a.length > 1) a[1] = NaN;
          }
          const out = run(name, [{ data: a, shape: sa, dtype }, { data: b, shape: sb, dtype }], {}, so, 'bool');
          expect(Array.from(out)).toEqual(refBroadcast([{ data: a, shape: sa }, { data: b, shape: sb }], so, (x, y) => (f(x, y) ? 1 : 0)));
        }
      }
    });
  }

  for (const name of ['and', 'or'] as const) {
    it(`${name}: logical on bool, bitwise on int32`, () => {
      const r = rng(name === 'and' ? 31 : 37);
      const f = name === 'and' ? (x: number, y: number) => x & y : (x: number, y: number) => x | y;
      for (const dtype of ['bool', 'int32'] as DType[]) {
        for (let t = 0; t < 15; t++) {
          const [sa, sb, so] = randBroadcastPair(r);
          const a = randArray(r, dtype, sa);
          const b = randArray(r, dtype, sb);
          const out = run(name, [{ data: a, shape: sa, dtype }, { data: b, shape: sb, dtype }], {}, so, dtype);
          expect(Array.from(out)).toEqual(refBroadcast([{ data: a, shape: sa }, { data: b, shape: sb }], so, f));
        }
      }
    });
  }

  it('select broadcasts all three operands', () => {
    const r = rng(77);
    for (let t = 0; t < 60; t++) {
      const rank = randInt(r, 0, 4);
      const full = randShape(r, rank, 4);
      const pick = () => (r() < 0.2 ? full.map(() => 1) : full.map((d) => (r() < 0.3 ? 1 : d)));
      const sc = pick();
      const st = pick();
      const sf = pick();
      const so = full.map((_, i) => Math.max(sc[i]!, st[i]!, sf[i]!));
      const dtype: DType = r() < 0.5 ? 'float32' : 'int32';
      const c = randArray(r, 'bool', sc);
      const tv = randArray(r, dtype, st);
      const fv = randArray(r, dtype, sf);
      const out = run(
        'select',
        [
          { data: c, shape: sc, dtype: 'bool' },
          { data: tv, shape: st, dtype },
          { data: fv, shape: sf, dtype },
        ],
        {},
        so,
        dtype,
      );
      expectClose(out, refBroadcast([{ data: c, shape: sc }, { data: tv, shape: st }, { data: fv, shape: sf }], so, (x, y, z) => (x ? y! : z!)));
    }
  });

  it('handles empty outputs', () => {
    const out = run('add', [{ data: new Float32Array(0), shape: [0, 3], dtype: 'float32' }, { data: new Float32Array(3), shape: [1, 3], dtype: 'float32' }], {}, [0, 3], 'float32');
    expect(out.length).toBe(0);
  });
});

function isFloatDType(d: DType): boolean {
  return d === 'float32' || d === 'float64';
}

// ----------------------------------------------------------------------------------------------------------

function refReduce(data: ArrayLike<number>, shape: readonly number[], axes: readonly number[], kind: 'sum' | 'max', dtype: DType): number[] {
  const outShape = shape.filter((_, d) => !axes.includes(d));
  const init = kind === 'sum' ? 0 : dtype === 'int32' ? -2147483648 : -Infinity;
  const acc = new Array<number>(size(outShape)).fill(init);
  for (const idx of indices(shape)) {
    const o = ravel(idx.filter((_, d) => !axes.includes(d)), outShape);
    const v = data[ravel(idx, shape)]!;
    if (kind === 'sum') acc[o] = acc[o]! + v;
    else if (Number.isNaN(v) || Number.isNaN(acc[o]!)) acc[o] = NaN;
    else acc[o] = Math.max(acc[o]!, v);
  }
  return acc.map((v) => store(dtype, v));
}

function subsets(n: number): number[][] {
  const res: number[][] = [];
  for (let m = 0; m < 1 << n; m++) {
    const s: number[] = [];
    for (let i = 0; i < n; i++) if (m & (1 << i)) s.push(i);
    res.push(s);
  }
  return res;
}

describe('reductions', () => {
  for (const kind of ['sum', 'max'] as const) {
    for (const dtype of ['float32', 'float64', 'int32'] as DType[]) {
      it(`reduce_${kind} ${dtype}: every axis subset of rank-3 arrays`, () => {
        const r = rng(kind.length * 100 + dtype.length);
        for (let t = 0; t < 6; t++) {
          const shape = randShape(r, 3, 6, t === 0 ? 0 : 1);
          const data = randArray(r, dtype, shape);
          if (kind === 'max' && isFloatDType(dtype) && data.length > 3 && t === 1) data[2] = NaN;
          for (const axes of subsets(3)) {
            const outShape = shape.filter((_, d) => !axes.includes(d));
            const out = run(`reduce_${kind}`, [{ data, shape, dtype }], { axes }, outShape, dtype);
            const exp = refReduce(data, shape, axes, kind, dtype);
            expectClose(out, exp, dtype === 'float32' ? 1e-6 : 1e-12, 1e-6);
          }
        }
      });
    }
  }

  it('reduce over rank 0..5 with random axis sets, incl. large last/leading-axis fast paths', () => {
    const r = rng(4242);
    for (let t = 0; t < 40; t++) {
      const rank = randInt(r, 0, 5);
      const shape = randShape(r, rank, 5);
      const axes = subsets(rank)[randInt(r, 0, (1 << rank) - 1)]!;
      const data = randArray(r, 'float64', shape);
      const outShape = shape.filter((_, d) => !axes.includes(d));
      for (const kind of ['sum', 'max'] as const) {
        expectClose(run(`reduce_${kind}`, [{ data, shape, dtype: 'float64' }], { axes }, outShape, 'float64'), refReduce(data, shape, axes, kind, 'float64'), 1e-12, 1e-12);
      }
    }
    for (const [shape, axes] of [
      [[300, 70], [1]],
      [[300, 70], [0]],
      [[300, 70], [0, 1]],
      [[7, 300, 11], [1]],
    ] as [number[], number[]][]) {
      const data = randArray(r, 'float32', shape);
      const outShape = shape.filter((_, d) => !axes.includes(d));
      expectClose(run('reduce_sum', [{ data, shape, dtype: 'float32' }], { axes }, outShape, 'float32'), refReduce(data, shape, axes, 'sum', 'float32'), 1e-6, 1e-5);
      expectClose(run('reduce_max', [{ data, shape, dtype: 'float32' }], { axes }, outShape, 'float32'), refReduce(data, shape, axes, 'max', 'float32'));
    }
  });

  it("a matrix's row and column sums (four at a time) add each output's terms in order, exactly", () => {
    const r = rng(777);
    for (let t = 0; t < 60; t++) {
      const [R, L] = [randInt(r, 1, 13), randInt(r, 1, 13)];
      const dtype = (['float32', 'float64', 'int32', 'bool'] as DType[])[t % 4]!;
      const data = randArray(r, dtype, [R, L]);
      for (const axis of [0, 1]) {
        const out = run('reduce_sum', [{ data, shape: [R, L], dtype }], { axes: [axis] }, [axis === 0 ? L : R], dtype);
        // the reference: a float64 sum in index order, stored once (as the general loops do)
        const want = alloc(dtype, axis === 0 ? L : R);
        for (let q = 0; q < want.length; q++) {
          let s = 0;
          for (let k = 0; k < (axis === 0 ? R : L); k++) s += data[axis === 0 ? k * L + q : q * L + k]!;
          want[q] = s;
        }
        expect(Array.from(out)).toEqual(Array.from(want));
      }
    }
  });

  it('empty reductions: sum is 0, max is -Infinity (int32: INT_MIN)', () => {
    const shape = [3, 0, 2];
    for (const dtype of ['float32', 'float64', 'int32'] as DType[]) {
      const data = alloc(dtype, 0);
      expect(Array.from(run('reduce_sum', [{ data, shape, dtype }], { axes: [1] }, [3, 2], dtype))).toEqual([0, 0, 0, 0, 0, 0]);
      const mx = Array.from(run('reduce_max', [{ data, shape, dtype }], { axes: [1] }, [3, 2], dtype));
      expect(mx).toEqual(new Array(6).fill(dtype === 'int32' ? -2147483648 : -Infinity));
    }
  });

  it('float32 sums accumulate in float64', () => {
    const n = 1 << 20;
    const data = new Float32Array(n).fill(0.1);
    const out = run('reduce_sum', [{ data, shape: [n], dtype: 'float32' }], { axes: [0] }, [], 'float32');
    expect(Math.abs(out[0]! - n * Math.fround(0.1)) / (n * 0.1)).toBeLessThan(1e-6);
  });

  it('argmax: first index of the max along each axis, NaN wins', () => {
    const r = rng(99);
    for (let t = 0; t < 30; t++) {
      const rank = randInt(r, 1, 4);
      const shape = randShape(r, rank, 5);
      const axis = randInt(r, 0, rank - 1);
      const dtype: DType = (['float32', 'float64', 'int32', 'bool'] as DType[])[t % 4]!;
      const data = randArray(r, dtype, shape, { lo: -1, hi: 1 });
      if (isFloatDType(dtype) && t % 3 === 0 && data.length > 2) data[randInt(r, 0, data.length - 1)] = NaN;
      const outShape = shape.filter((_, d) => d !== axis);
      const out = run('argmax', [{ data, shape, dtype }], { axis }, outShape, 'int32');
      const exp: number[] = [];
      for (const idx of indices(outShape)) {
        let best = -Infinity;
        let bi = -1;
        for (let i = 0; i < shape[axis]!; i++) {
          const full = [...idx.slice(0, axis), i, ...idx.slice(axis)];
          const v = data[ravel(full, shape)]!;
          if (Number.isNaN(v)) {
            bi = i;
            break;
          }
          if (bi < 0 || v > best) {
            best = v;
            bi = i;
          }
        }
        exp.push(bi);
      }
      expect(Array.from(out)).toEqual(exp);
    }
  });
});

// ----------------------------------------------------------------------------------------------------------

interface DotCase {
  ls: number[];
  rs: number[];
  contract: [number[], number[]];
  batch: [number[], number[]];
  outShape: number[];
}

/** A random dot_general configuration: random batch/contract/free dims, randomly permuted on each side. */
function randDot(r: () => number, maxDim: number): DotCase {
  const nb = randInt(r, 0, 2);
  const nc = randInt(r, 0, 2);
  const nlf = randInt(r, 0, 2);
  const nrf = randInt(r, 0, 2);
  const bd = randShape(r, nb, maxDim);
  const cd = randShape(r, nc, maxDim);
  const lfd = randShape(r, nlf, maxDim);
  const rfd = randShape(r, nrf, maxDim);
  const perm = (n: number) => {
    const p = Array.from({ length: n }, (_, i) => i);
    for (let i = n - 1; i > 0; i--) {
      const j = randInt(r, 0, i);
      [p[i], p[j]] = [p[j]!, p[i]!];
    }
    return p;
  };
  // logical lhs axes: [b..., c..., f...] placed at random positions
  const lRank = nb + nc + nlf;
  const rRank = nb + nc + nrf;
  const lp = perm(lRank); // logical axis i lives at position lp[i]
  const rp = perm(rRank);
  const ls = new Array<number>(lRank);
  const rs = new Array<number>(rRank);
  const lLogical = [...bd, ...cd, ...lfd];
  const rLogical = [...bd, ...cd, ...rfd];
  lLogical.forEach((d, i) => (ls[lp[i]!] = d));
  rLogical.forEach((d, i) => (rs[rp[i]!] = d));
  // free dims must appear in increasing position order to match output order; sort free axes by position
  const lb = Array.from({ length: nb }, (_, i) => lp[i]!);
  const rb = Array.from({ length: nb }, (_, i) => rp[i]!);
  const lc = Array.from({ length: nc }, (_, i) => lp[nb + i]!);
  const rc = Array.from({ length: nc }, (_, i) => rp[nb + i]!);
  const lf = Array.from({ length: lRank }, (_, i) => i).filter((a) => !lb.includes(a) && !lc.includes(a));
  const rf = Array.from({ length: rRank }, (_, i) => i).filter((a) => !rb.includes(a) && !rc.includes(a));
  const outShape = [...lb.map((a) => ls[a]!), ...lf.map((a) => ls[a]!), ...rf.map((a) => rs[a]!)];
  return { ls, rs, contract: [lc, rc], batch: [lb, rb], outShape };
}

function stridesFor(shape: readonly number[]): number[] {
  const s = new Array<number>(shape.length);
  let acc = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    s[i] = acc;
    acc *= shape[i]!;
  }
  return s;
}

/** Naive float64 dot_general (a sum over the contracting multi-index per output element); also returns
 * Σ|terms| per output for a relative tolerance. */
function refDot(c: DotCase, a: ArrayLike<number>, b: ArrayLike<number>): { val: number[]; mag: number[] } {
  const [lc, rc] = c.contract;
  const [lb, rb] = c.batch;
  const lf = c.ls.map((_, i) => i).filter((i) => !lc.includes(i) && !lb.includes(i));
  const rf = c.rs.map((_, i) => i).filter((i) => !rc.includes(i) && !rb.includes(i));
  const lst = stridesFor(c.ls);
  const rst = stridesFor(c.rs);
  // element offsets of every contracting multi-index on each side
  const cShape = lc.map((ax) => c.ls[ax]!);
  const lOffs: number[] = [];
  const rOffs: number[] = [];
  for (const ci of indices(cShape)) {
    lOffs.push(ci.reduce((o, v, i) => o + v * lst[lc[i]!]!, 0));
    rOffs.push(ci.reduce((o, v, i) => o + v * rst[rc[i]!]!, 0));
  }
  const val: number[] = [];
  const mag: number[] = [];
  for (const oi of indices(c.outShape)) {
    let lo = 0;
    let ro = 0;
    lb.forEach((ax, i) => (lo += oi[i]! * lst[ax]!));
    rb.forEach((ax, i) => (ro += oi[i]! * rst[ax]!));
    lf.forEach((ax, i) => (lo += oi[lb.length + i]! * lst[ax]!));
    rf.forEach((ax, i) => (ro += oi[lb.length + lf.length + i]! * rst[ax]!));
    let s = 0;
    let m = 0;
    for (let q = 0; q < lOffs.length; q++) {
      const t = a[lo + lOffs[q]!]! * b[ro + rOffs[q]!]!;
      s += t;
      m += Math.abs(t);
    }
    val.push(s);
    mag.push(m);
  }
  return { val, mag };
}

function checkDot(c: DotCase, dtype: DType, r: () => number): void {
  const a = randArray(r, dtype, c.ls, { lo: -1, hi: 1 });
  const b = randArray(r, dtype, c.rs, { lo: -1, hi: 1 });
  const out = run('dot_general', [{ data: a, shape: c.ls, dtype }, { data: b, shape: c.rs, dtype }], { contract: c.contract, batch: c.batch }, c.outShape, dtype);
  const { val, mag } = refDot(c, a, b);
  if (dtype === 'int32') {
    expect(Array.from(out)).toEqual(val.map((v) => v | 0));
    return;
  }
  const tol = dtype === 'float32' ? 2e-6 : 1e-13;
  for (let i = 0; i < val.length; i++) {
    const err = Math.abs(out[i]! - val[i]!);
    if (!(err <= tol * (mag[i]! + 1e-30) + (dtype === 'float32' ? Math.abs(val[i]!) * 6e-8 : 0))) {
      throw new Error(`dot_general ${JSON.stringify(c)} ${dtype}: index ${i} expected ${val[i]} got ${out[i]}`);
    }
  }
}

describe('dot_general', () => {
  it('random configurations (batch, contract, free dims in any axis order)', () => {
    const r = rng(123);
    for (let t = 0; t < 150; t++) {
      const c = randDot(r, t < 100 ? 4 : 9);
      checkDot(c, (['float32', 'float64', 'int32'] as DType[])[t % 3]!, r);
    }
  });

  const mm = (M: number, K: number, N: number, ta: boolean, tb: boolean, batch = 0): DotCase => {
    const bs = batch ? [batch] : [];
    const bax = batch ? [0] : [];
    const o = batch ? 1 : 0;
    return {
      ls: [...bs, ...(ta ? [K, M] : [M, K])],
      rs: [...bs, ...(tb ? [N, K] : [K, N])],
      contract: [[o + (ta ? 0 : 1)], [o + (tb ? 1 : 0)]],
      batch: [bax, bax],
      outShape: [...bs, M, N],
    };
  };

  for (const [ta, tb] of [
    [false, false],
    [true, false],
    [false, true],
    [true, true],
  ] as const) {
    const label = `${ta ? 'Aᵀ' : 'A'}·${tb ? 'Bᵀ' : 'B'}`;
    it(`${label}: odd sizes through the blocked kernel, float32 and float64`, () => {
      const r = rng(ta ? (tb ? 4 : 3) : tb ? 2 : 1);
      const sizes: [number, number, number][] = [
        [1, 1, 1],
        [1, 7, 1],
        [5, 1, 3],
        [4, 4, 4],
        [17, 33, 9],
        [37, 53, 71],
        [64, 300, 5],
        [3, 257, 130],
        [101, 19, 97],
        [13, 520, 21],
      ];
      for (const [M, K, N] of sizes) {
        for (const dtype of ['float32', 'float64'] as DType[]) checkDot(mm(M, K, N, ta, tb), dtype, r);
      }
      checkDot(mm(9, 31, 11, ta, tb, 3), 'float32', r);
      checkDot(mm(20, 40, 30, ta, tb, 2), 'float64', r);
      checkDot(mm(6, 5, 7, ta, tb, 2), 'int32', r);
    });
  }

  it('MLP-sized products and their gradients match the float64 reference to 1e-5 relative', () => {
    const r = rng(8);
    checkDot(mm(100, 784, 60, false, false), 'float32', r);
    checkDot({ ls: [100, 784], rs: [100, 60], contract: [[0], [0]], batch: [[], []], outShape: [784, 60] }, 'float32', r);
    checkDot({ ls: [100, 60], rs: [784, 60], contract: [[1], [1]], batch: [[], []], outShape: [100, 784] }, 'float32', r);
  });

  it('vector·vector gives a scalar, outer products, K = 0 gives zeros', () => {
    const r = rng(9);
    checkDot({ ls: [7], rs: [7], contract: [[0], [0]], batch: [[], []], outShape: [] }, 'float32', r);
    checkDot({ ls: [300], rs: [300], contract: [[0], [0]], batch: [[], []], outShape: [] }, 'float64', r);
    checkDot({ ls: [5], rs: [6], contract: [[], []], batch: [[], []], outShape: [5, 6] }, 'float32', r);
    checkDot({ ls: [40, 50], rs: [60], contract: [[], []], batch: [[], []], outShape: [40, 50, 60] }, 'float64', r);
    checkDot({ ls: [3, 8], rs: [8], contract: [[1], [0]], batch: [[], []], outShape: [3] }, 'float32', r);
    checkDot({ ls: [8], rs: [8, 3], contract: [[0], [0]], batch: [[], []], outShape: [3] }, 'float32', r);
    checkDot({ ls: [], rs: [], contract: [[], []], batch: [[], []], outShape: [] }, 'float64', r);
    for (const dtype of ['float32', 'float64', 'int32'] as DType[]) {
      const out = run(
        'dot_general',
        [
          { data: alloc(dtype, 0), shape: [4, 0], dtype },
          { data: alloc(dtype, 0), shape: [0, 5], dtype },
        ],
        { contract: [[1], [0]], batch: [[], []] },
        [4, 5],
        dtype,
      );
      expect(Array.from(out)).toEqual(new Array(20).fill(0));
    }
  });

  it('matrix–vector shapes (M = 1 or N = 1) in every layout, batched and not', () => {
    const r = rng(12);
    for (const K of [1, 3, 13, 300]) {
      for (const [ta, tb] of [
        [false, false],
        [true, false],
        [false, true],
        [true, true],
      ] as const) {
        for (const dtype of ['float32', 'float64', 'int32'] as DType[]) {
          checkDot(mm(1, K, 37, ta, tb), dtype, r);
          checkDot(mm(41, K, 1, ta, tb), dtype, r);
          checkDot(mm(1, K, 1, ta, tb), dtype, r);
          checkDot(mm(1, K, 6, ta, tb, 3), dtype, r);
          checkDot(mm(5, K, 1, ta, tb, 2), dtype, r);
        }
      }
      // plain vectors: v·M, M·v
      checkDot({ ls: [K], rs: [K, 9], contract: [[0], [0]], batch: [[], []], outShape: [9] }, 'float64', r);
      checkDot({ ls: [K], rs: [9, K], contract: [[0], [1]], batch: [[], []], outShape: [9] }, 'float64', r);
      checkDot({ ls: [9, K], rs: [K], contract: [[1], [0]], batch: [[], []], outShape: [9] }, 'float32', r);
      checkDot({ ls: [K, 9], rs: [K], contract: [[0], [0]], batch: [[], []], outShape: [9] }, 'float32', r);
    }
  });

  it('consecutive calls of different sizes reuse scratch correctly', () => {
    const r = rng(10);
    for (let t = 0; t < 6; t++) {
      checkDot(mm(randInt(r, 20, 90), randInt(r, 10, 400), randInt(r, 20, 90), r() < 0.5, r() < 0.5), 'float32', r);
    }
  });

  it('batch dims in non-leading positions and multiple contracting dims', () => {
    const r = rng(11);
    checkDot({ ls: [5, 3, 6], rs: [6, 4, 3], contract: [[2], [0]], batch: [[1], [2]], outShape: [3, 5, 4] }, 'float64', r);
    checkDot({ ls: [2, 3, 4, 5], rs: [4, 3, 7], contract: [[1, 2], [1, 0]], batch: [[], []], outShape: [2, 5, 7] }, 'float32', r);
    checkDot({ ls: [10, 12, 14], rs: [10, 14, 16], contract: [[2], [1]], batch: [[0], [0]], outShape: [10, 12, 16] }, 'float32', r);
  });
});

// ----------------------------------------------------------------------------------------------------------

describe('shape ops', () => {
  it('reshape and stop_gradient return the (immutable) input buffer', () => {
    const data = new Float32Array([1, 2, 3, 4, 5, 6]);
    expect(k('reshape')([{ handle: data, shape: [2, 3], dtype: 'float32' }], { shape: [3, 2] }, { shape: [3, 2], dtype: 'float32' })).toBe(data);
    expect(k('stop_gradient')([{ handle: data, shape: [2, 3], dtype: 'float32' }], {}, { shape: [2, 3], dtype: 'float32' })).toBe(data);
  });

  it('transpose with random permutations (numpy.transpose semantics)', () => {
    const r = rng(21);
    for (let t = 0; t < 60; t++) {
      const rank = t < 50 ? randInt(r, 0, 5) : randInt(r, 2, 3);
      const shape = randShape(r, rank, t < 50 ? 4 : 40);
      const perm = Array.from({ length: rank }, (_, i) => i).sort(() => r() - 0.5);
      const dtype: DType = (['float32', 'float64', 'int32', 'bool'] as DType[])[t % 4]!;
      const data = randArray(r, dtype, shape);
      const outShape = perm.map((p) => shape[p]!);
      const out = run('transpose', [{ data, shape, dtype }], { perm }, outShape, dtype);
      const exp: number[] = [];
      for (const oi of indices(outShape)) {
        const ii = new Array<number>(rank);
        perm.forEach((p, j) => (ii[p] = oi[j]!));
        exp.push(data[ravel(ii, shape)]!);
      }
      expect(Array.from(out)).toEqual(exp);
    }
    // big 2-D transpose goes through the tiled path
    const data = randArray(r, 'float32', [784, 100]);
    const out = run('transpose', [{ data, shape: [784, 100], dtype: 'float32' }], { perm: [1, 0] }, [100, 784], 'float32');
    for (let i = 0; i < 100; i += 7) for (let j = 0; j < 784; j += 13) expect(out[i * 784 + j]).toBe(data[j * 100 + i]);
  });

  it('broadcast_in_dim (JAX semantics)', () => {
    const r = rng(22);
    for (let t = 0; t < 60; t++) {
      const outRank = randInt(r, 0, 4);
      const outShape = randShape(r, outRank, 4);
      const inRank = randInt(r, 0, outRank);
      const dims = Array.from({ length: outRank }, (_, i) => i)
        .sort(() => r() - 0.5)
        .slice(0, inRank)
        .sort((a, b) => a - b);
      const inShape = dims.map((d) => (r() < 0.3 ? 1 : outShape[d]!));
      const data = randArray(r, 'float64', inShape);
      const out = run('broadcast_in_dim', [{ data, shape: inShape, dtype: 'float64' }], { shape: outShape, dims }, outShape, 'float64');
      const exp: number[] = [];
      for (const oi of indices(outShape)) exp.push(data[ravel(dims.map((d, i) => (inShape[i] === 1 ? 0 : oi[d]!)), inShape)]!);
      expect(Array.from(out)).toEqual(exp);
    }
  });

  it('slice with steps', () => {
    const r = rng(23);
    for (let t = 0; t < 60; t++) {
      const rank = randInt(r, 0, 4);
      const shape = randShape(r, rank, 7);
      const start = shape.map((d) => randInt(r, 0, d));
      const limit = shape.map((d, i) => randInt(r, start[i]!, d));
      const step = shape.map(() => randInt(r, 1, 3));
      const outShape = shape.map((_, i) => Math.ceil((limit[i]! - start[i]!) / step[i]!));
      const data = randArray(r, 'int32', shape);
      const out = run('slice', [{ data, shape, dtype: 'int32' }], { start, limit, step }, outShape, 'int32');
      const exp: number[] = [];
      for (const oi of indices(outShape)) exp.push(data[ravel(oi.map((v, i) => start[i]! + v * step[i]!), shape)]!);
      expect(Array.from(out)).toEqual(exp);
    }
  });

  it('pad with a fill value', () => {
    const r = rng(24);
    for (let t = 0; t < 40; t++) {
      const rank = randInt(r, 0, 4);
      const shape = randShape(r, rank, 4, 0);
      const lo = shape.map(() => randInt(r, 0, 2));
      const hi = shape.map(() => randInt(r, 0, 2));
      const value = t % 2 ? 0 : -1.5;
      const outShape = shape.map((d, i) => d + lo[i]! + hi[i]!);
      const data = randArray(r, 'float32', shape);
      const out = run('pad', [{ data, shape, dtype: 'float32' }], { lo, hi, value }, outShape, 'float32');
      const exp: number[] = [];
      for (const oi of indices(outShape)) {
        const ii = oi.map((v, i) => v - lo[i]!);
        exp.push(ii.every((v, i) => v >= 0 && v < shape[i]!) ? data[ravel(ii, shape)]! : value);
      }
      expect(Array.from(out)).toEqual(exp);
    }
  });

  it('concatenate n inputs along any axis', () => {
    const r = rng(25);
    for (let t = 0; t < 40; t++) {
      const rank = randInt(r, 1, 4);
      const base = randShape(r, rank, 4);
      const axis = randInt(r, 0, rank - 1);
      const n = randInt(r, 1, 4);
      const parts = Array.from({ length: n }, () => {
        const s = base.slice();
        s[axis] = randInt(r, 0, 3);
        return { shape: s, data: randArray(r, 'float64', s), dtype: 'float64' as DType };
      });
      const outShape = base.slice();
      outShape[axis] = parts.reduce((acc, p) => acc + p.shape[axis]!, 0);
      const out = run('concatenate', parts, { axis }, outShape, 'float64');
      const exp: number[] = [];
      for (const oi of indices(outShape)) {
        let j = oi[axis]!;
        let p = 0;
        while (j >= parts[p]!.shape[axis]!) j -= parts[p++]!.shape[axis]!;
        const ii = oi.slice();
        ii[axis] = j;
        exp.push(parts[p]!.data[ravel(ii, parts[p]!.shape)]!);
      }
      expect(Array.from(out)).toEqual(exp);
    }
  });

  it('convert_element_type between every pair of dtypes', () => {
    const vals = [0, 1, -1, 2.7, -2.7, 0.5, -0.5, 3e9, NaN];
    const from: Record<DType, TypedArray> = {
      float32: new Float32Array(vals),
      float64: new Float64Array(vals),
      int32: new Int32Array([0, 1, -1, 2, -2, 7, -7, 2147483647, -2147483648]),
      bool: new Uint8Array([0, 1, 1, 0, 0, 1, 0, 1, 1]),
    };
    const conv = (to: DType, x: number): number => {
      if (to === 'bool') return x !== 0 ? 1 : 0;
      if (to === 'int32') return Number.isNaN(x) ? 0 : Math.trunc(x) | 0;
      if (to === 'float32') return Math.fround(x);
      return x;
    };
    for (const src of Object.keys(from) as DType[]) {
      for (const dst of Object.keys(from) as DType[]) {
        const data = from[src];
        const out = run('convert_element_type', [{ data, shape: [3, 3], dtype: src }], { dtype: dst }, [3, 3], dst);
        expectClose(out, Array.from(data, (x) => conv(dst, x)));
      }
    }
    // float → int truncates toward zero
    expect(Array.from(run('convert_element_type', [{ data: new Float32Array([2.9, -2.9]), shape: [2], dtype: 'float32' }], { dtype: 'int32' }, [2], 'int32'))).toEqual([2, -2]);
  });
});

// ----------------------------------------------------------------------------------------------------------

describe('gather / scatter_add', () => {
  function refGather(x: ArrayLike<number>, shape: readonly number[], idx: ArrayLike<number>, idxShape: readonly number[], axis: number) {
    const outShape = [...shape.slice(0, axis), ...idxShape, ...shape.slice(axis + 1)];
    const out: number[] = [];
    for (const oi of indices(outShape)) {
      const p = ravel(oi.slice(axis, axis + idxShape.length), idxShape);
      let i = idx[p]!;
      if (i < 0) i += shape[axis]!;
      out.push(x[ravel([...oi.slice(0, axis), i, ...oi.slice(axis + idxShape.length)], shape)]!);
    }
    return { out, outShape };
  }

  it('gather = numpy.take with negative and repeated indices', () => {
    const r = rng(31);
    for (let t = 0; t < 60; t++) {
      const rank = randInt(r, 1, 4);
      const shape = randShape(r, rank, 5);
      if (t === 59) shape[shape.length - 1] = 40; // wide inner rows
      const axis = randInt(r, 0, rank - 1);
      const idxShape = randShape(r, randInt(r, 0, 2), 4);
      const n = shape[axis]!;
      const idx = new Int32Array(size(idxShape));
      for (let i = 0; i < idx.length; i++) idx[i] = randInt(r, -n, n - 1);
      const dtype: DType = (['float32', 'float64', 'int32', 'bool'] as DType[])[t % 4]!;
      const data = randArray(r, dtype, shape);
      const { out: exp, outShape } = refGather(data, shape, idx, idxShape, axis);
      const out = run('gather', [{ data, shape, dtype }, { data: idx, shape: idxShape, dtype: 'int32' }], { axis }, outShape, dtype);
      expect(Array.from(out)).toEqual(exp);
    }
  });

  it('gather throws RangeError for out-of-range indices', () => {
    const x = { data: new Float32Array(10), shape: [10], dtype: 'float32' as DType };
    const call = (i: number) => () => k('gather')([{ handle: x.data, shape: x.shape, dtype: x.dtype }, { handle: new Int32Array([0, i]), shape: [2], dtype: 'int32' }], { axis: 0 }, { shape: [2], dtype: 'float32' });
    expect(call(12)).toThrow(RangeError);
    expect(call(12)).toThrow('gather: index 12 out of range for axis 0 of size 10');
    expect(call(10)).toThrow(RangeError);
    expect(call(-11)).toThrow('gather: index -11 out of range for axis 0 of size 10');
    expect(call(-10)).not.toThrow();
  });

  it('scatter_add accumulates repeated and negative indices', () => {
    const r = rng(32);
    for (let t = 0; t < 60; t++) {
      const rank = randInt(r, 1, 4);
      const shape = randShape(r, rank, 5);
      const axis = randInt(r, 0, rank - 1);
      const idxShape = randShape(r, randInt(r, 0, 2), 5);
      const n = shape[axis]!;
      const idx = new Int32Array(size(idxShape));
      for (let i = 0; i < idx.length; i++) idx[i] = randInt(r, -n, n - 1);
      const dtype: DType = (['float32', 'float64', 'int32'] as DType[])[t % 3]!;
      const operand = randArray(r, dtype, shape);
      const updShape = [...shape.slice(0, axis), ...idxShape, ...shape.slice(axis + 1)];
      const upd = randArray(r, dtype, updShape);
      const out = run(
        'scatter_add',
        [
          { data: operand, shape, dtype },
          { data: idx, shape: idxShape, dtype: 'int32' },
          { data: upd, shape: updShape, dtype },
        ],
        { axis },
        shape,
        dtype,
      );
      const exp = Array.from(operand);
      for (const ui of indices(updShape)) {
        const p = ravel(ui.slice(axis, axis + idxShape.length), idxShape);
        let i = idx[p]!;
        if (i < 0) i += n;
        const o = ravel([...ui.slice(0, axis), i, ...ui.slice(axis + idxShape.length)], shape);
        exp[o] = store(dtype, exp[o]! + upd[ravel(ui, updShape)]!);
      }
      expectClose(out, exp, dtype === 'float32' ? 1e-6 : 1e-12, 1e-6);
    }
  });

  it('scatter_add: repeated index sums, out-of-range throws', () => {
    const operand = new Float64Array([1, 2, 3]);
    const out = run(
      'scatter_add',
      [
        { data: operand, shape: [3], dtype: 'float64' },
        { data: new Int32Array([0, 0, -1, 2]), shape: [4], dtype: 'int32' },
        { data: new Float64Array([10, 20, 100, 1000]), shape: [4], dtype: 'float64' },
      ],
      { axis: 0 },
      [3],
      'float64',
    );
    expect(Array.from(out)).toEqual([31, 2, 1103]);
    expect(() =>
      k('scatter_add')(
        [
          { handle: operand, shape: [3], dtype: 'float64' },
          { handle: new Int32Array([3]), shape: [1], dtype: 'int32' },
          { handle: new Float64Array([1]), shape: [1], dtype: 'float64' },
        ],
        { axis: 0 },
        { shape: [3], dtype: 'float64' },
      ),
    ).toThrow('scatter_add: index 3 out of range for axis 0 of size 3');
  });
});
