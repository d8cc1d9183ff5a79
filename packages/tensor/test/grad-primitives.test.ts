/**
 * Gradient property tests for every differentiable primitive: reverse-mode gradients (and, for a few, second-order
 * gradients and jvp) against central finite differences in float64, on random shapes (rank 0..3, dims 1..4, with
 * broadcasting between operands of different shapes and ranks) and random values kept inside each function's
 * domain. The checker itself is tested first against deliberately wrong gradients, so that each property can fail.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { type Primitive, Tensor, bind, grad, jvp, numpy as np, tree } from '../src/index.js';
import {
  allExactlyZero,
  awayFromZero,
  axesFromMask,
  boolTensor,
  broadcastShapesArb,
  checkGrad,
  checkJvp,
  distinct,
  expectGrad,
  expectJvp,
  intTensor,
  mulberry32,
  onGrid,
  permutation,
  type Rng,
  seedArb,
  shapeArb,
  sizeOf,
  tensorFrom,
  uniform,
} from './helpers/finite-diff.js';

const RUNS = 40;
const run = <T>(arb: fc.Arbitrary<T>, body: (v: T) => void, numRuns = RUNS): void => {
  fc.assert(fc.property(arb, body), { numRuns });
};

// ---------------------------------------------------------------- the checker can fail

describe('finite-difference checker catches wrong gradients', () => {
  const x = tensorFrom([2, 3], (i) => 0.3 * i - 0.7);

  it('passes a correct gradient', () => {
    const r = checkGrad((t: Tensor) => np.sin(t), [x]);
    expect(r.ok).toBe(true);
    expect(r.checked).toBe(6);
    expect(r.worst).toBeLessThan(1);
  });

  it('reports a gradient that is off by a factor 1 + 1e-4', () => {
    const r = checkGrad((t: Tensor) => np.sin(t), [x], {
      gradient: (loss, argnums) => (...args) => np.multiply(grad(loss, { argnums })(...args), 1 + 1e-4),
    });
    expect(r.ok).toBe(false);
    expect(r.mismatches.length).toBeGreaterThan(0);
    expect(r.report).toMatch(/FAILED/);
  });

  it('reports exactly the one wrong element', () => {
    const r = checkGrad((t: Tensor) => np.exp(t), [x], {
      gradient: (loss, argnums) => (...args) => {
        const g = grad(loss, { argnums })(...args) as Tensor;
        const bump = tensorFrom([2, 3], (i) => (i === 4 ? 1e-3 : 0));
        return np.add(g, bump);
      },
    });
    expect(r.ok).toBe(false);
    expect(r.mismatches.map((m) => m.index)).toEqual([[1, 1]]);
  });

  it('reports a gradient of the wrong shape or dtype', () => {
    const wrongShape = checkGrad((t: Tensor) => np.exp(t), [x], { gradient: () => () => tensorFrom([3, 2], () => 0) });
    expect(wrongShape.ok).toBe(false);
    expect(wrongShape.problems.join()).toMatch(/shape/);
    const wrongDtype = checkGrad((t: Tensor) => np.exp(t), [x], {
      gradient: (loss, argnums) => (...args) => np.astype(grad(loss, { argnums })(...args), 'float32'),
    });
    expect(wrongDtype.ok).toBe(false);
    expect(wrongDtype.problems.join()).toMatch(/dtype/);
  });

  it('reports a primitive with a wrong vjp rule, in grad and in jvp', () => {
    // Evaluates with the real 'sin' kernel, but claims d/dx sin = sin (instead of cos).
    const badSin: Primitive = {
      name: 'sin',
      abstractEval: ([v]) => v!,
      vjp: (ct, [v]) => [np.multiply(ct, np.sin(v!))],
    };
    const f = (t: Tensor): Tensor => bind(badSin, [t]);
    expect(checkGrad(f, [x]).ok).toBe(false);
    expect(checkJvp(f, [x]).ok).toBe(false);
    expect(checkJvp((t: Tensor) => np.sin(t), [x]).ok).toBe(true);
  });

  it('works on pytree arguments with null subtrees and non-differentiated arguments', () => {
    const y = tensorFrom([3], (i) => 1 + i);
    const idx = np.array([2, 0], 'int32');
    const f = (p: { a: Tensor; skip: null; b: [Tensor] }, i: Tensor, scale: number) => np.multiply(np.take(np.multiply(p.a, p.b[0]), i, 1), scale);
    const r = checkGrad(f, [{ a: x, skip: null, b: [y] }, idx, 1.5]);
    expect(r.ok).toBe(true);
    expect(r.checked).toBe(9);
  });

  it('reports a wrong gradient for one argument among several (argnums, pytrees)', () => {
    const y = tensorFrom([3], (i) => 1 + i);
    const f = (p: { a: Tensor; b: Tensor[] }) => np.multiply(p.a, p.b[0]!);
    const args = [{ a: x, b: [y] }];
    expect(checkGrad(f, args).ok).toBe(true);
    const r = checkGrad(f, args, {
      gradient: (loss) => (...a) => {
        const g = grad(loss)(...a) as { a: Tensor; b: Tensor[] };
        return { a: g.a, b: [np.multiply(g.b[0]!, 2)] };
      },
    });
    expect(r.ok).toBe(false);
    expect(new Set(r.mismatches.map((m) => m.leaf))).toEqual(new Set([1]));
  });
});

// ---------------------------------------------------------------- unary elementwise

type Gen = (rng: Rng, shape: readonly number[]) => Tensor;
const unif = (lo: number, hi: number): Gen => (rng, s) => uniform(rng, s, lo, hi);

const UNARY: [string, (x: Tensor) => Tensor, Gen][] = [
  ['neg', (x) => np.negative(x), unif(-3, 3)],
  ['exp', (x) => np.exp(x), unif(-2, 2)],
  ['log', (x) => np.log(x), unif(0.2, 3)],
  ['log1p', (x) => np.log1p(x), unif(-0.6, 3)],
  ['expm1', (x) => np.expm1(x), unif(-2, 2)],
  ['sin', (x) => np.sin(x), unif(-3, 3)],
  ['cos', (x) => np.cos(x), unif(-3, 3)],
  ['tanh', (x) => np.tanh(x), unif(-2, 2)],
  ['logistic', (x) => np.logistic(x), unif(-4, 4)],
  ['sqrt', (x) => np.sqrt(x), unif(0.2, 3)],
  ['abs', (x) => np.abs(x), (rng, s) => awayFromZero(rng, s, 0.05, 3)],
];

describe('unary primitives', () => {
  for (const [name, f, gen] of UNARY) {
    it(name, () => {
      run(fc.record({ shape: shapeArb(), seed: seedArb }), ({ shape, seed }) => {
        expectGrad(f, [gen(mulberry32(seed), shape)], { seed });
      });
    });
  }
});

// ---------------------------------------------------------------- binary elementwise (broadcasting)

const BINARY: [string, (x: Tensor, y: Tensor) => Tensor, Gen, Gen][] = [
  ['add', (x, y) => np.add(x, y), unif(-2, 2), unif(-2, 2)],
  ['sub', (x, y) => np.subtract(x, y), unif(-2, 2), unif(-2, 2)],
  ['mul', (x, y) => np.multiply(x, y), unif(-2, 2), unif(-2, 2)],
  ['div', (x, y) => np.divide(x, y), unif(-2, 2), (rng, s) => awayFromZero(rng, s, 0.5, 2)],
  ['pow', (x, y) => np.power(x, y), unif(0.3, 2.5), unif(-2, 2)],
  ['max (maximum)', (x, y) => np.maximum(x, y), (rng, s) => onGrid(rng, s, 0), (rng, s) => onGrid(rng, s, 1)],
  ['min (minimum)', (x, y) => np.minimum(x, y), (rng, s) => onGrid(rng, s, 1), (rng, s) => onGrid(rng, s, 0)],
  // atan2(y, x): y away from 0 keeps away from the branch cut (x < 0, y = 0) and the origin.
  ['atan2', (y, x) => np.arctan2(y, x), (rng, s) => awayFromZero(rng, s, 0.2, 2), unif(-2, 2)],
];

describe('binary primitives with broadcasting', () => {
  for (const [name, f, genX, genY] of BINARY) {
    it(name, () => {
      run(fc.record({ b: broadcastShapesArb(2), seed: seedArb }), ({ b, seed }) => {
        const rng = mulberry32(seed);
        const [sx, sy] = b.shapes as [number[], number[]];
        const x = genX(rng, sx);
        const y = genY(rng, sy);
        const r = expectGrad(f, [x, y], { argnums: [0, 1], seed });
        expect(r.checked).toBe(sizeOf(sx) + sizeOf(sy));
        expect(f(x, y).shape).toEqual(b.out);
      });
    });
  }

  it('maximum/minimum split the gradient equally at exact ties (JAX convention)', () => {
    const x = tensorFrom([4], (i) => [1, 2, 3, 4][i]!);
    const y = tensorFrom([4], (i) => [1, 5, 3, 0][i]!);
    const [gx, gy] = grad((u: Tensor, v: Tensor) => np.sum(np.maximum(u, v)), { argnums: [0, 1] })(x, y) as Tensor[];
    expect(gx!.toArray()).toEqual([0.5, 0, 0.5, 1]);
    expect(gy!.toArray()).toEqual([0.5, 1, 0.5, 0]);
    const [hx, hy] = grad((u: Tensor, v: Tensor) => np.sum(np.minimum(u, v)), { argnums: [0, 1] })(x, y) as Tensor[];
    expect(hx!.toArray()).toEqual([0.5, 1, 0.5, 0]);
    expect(hy!.toArray()).toEqual([0.5, 0, 0.5, 1]);
  });

  it('tensor methods and weak JS scalars on either side', () => {
    const ops: [string, (x: Tensor) => Tensor][] = [
      ['x + 1.5', (x) => x.add(1.5)],
      ['2.5 - x', (x) => np.subtract(2.5, x)],
      ['x * -0.75', (x) => x.mul(-0.75)],
      ['1.5 / x', (x) => np.divide(1.5, x)],
      ['x / 3', (x) => x.div(3)],
      ['x ** 1.7', (x) => x.pow(1.7)],
      ['2 ** x', (x) => np.power(2, x)],
      ['max(x, 0.3)', (x) => x.maximum(0.3)],
      ['min(0.3, x)', (x) => np.minimum(0.3, x)],
      ['atan2(1, x)', (x) => np.arctan2(1, x)],
    ];
    run(fc.record({ shape: shapeArb(), seed: seedArb, op: fc.integer({ min: 0, max: ops.length - 1 }) }), ({ shape, seed, op }) => {
      // x in [0.5, 2.5]: positive (pow, division) and away from the kink of max/min at 0.3.
      const xs = uniform(mulberry32(seed), shape, 0.5, 2.5);
      const out = ops[op]![1](xs);
      expect(out.dtype).toBe('float64');
      expectGrad(ops[op]![1], [xs], { seed });
    });
  });
});

// ---------------------------------------------------------------- select / where

describe('select (where)', () => {
  it('gradient flows to both branches, with broadcasting of condition and branches', () => {
    run(fc.record({ b: broadcastShapesArb(3), seed: seedArb }), ({ b, seed }) => {
      const rng = mulberry32(seed);
      const [sc, sx, sy] = b.shapes as [number[], number[], number[]];
      const c = boolTensor(rng, sc);
      const x = uniform(rng, sx);
      const y = uniform(rng, sy);
      expectGrad((u: Tensor, v: Tensor) => np.where(c, u, v), [x, y], { argnums: [0, 1], seed });
    });
  });

  it('with a JS scalar branch and a condition computed from the input', () => {
    run(fc.record({ shape: shapeArb(), seed: seedArb }), ({ shape, seed }) => {
      const x = awayFromZero(mulberry32(seed), shape, 0.05, 2);
      expectGrad((u: Tensor) => np.where(u.greater(0), np.multiply(u, u), -0.5), [x], { seed });
      expectGrad((u: Tensor) => np.where(u.less(0), 1.5, np.sin(u)), [x], { seed });
    });
  });
});

// ---------------------------------------------------------------- reductions

const reductionArb = fc.record({
  shape: shapeArb(),
  seed: seedArb,
  mask: fc.integer({ min: -1, max: 7 }),
  negative: fc.boolean(),
  keepdims: fc.boolean(),
  method: fc.boolean(),
});

describe('reductions', () => {
  it('reduce_sum over random axis subsets, keepdims both ways', () => {
    run(reductionArb, ({ shape, seed, mask, negative, keepdims, method }) => {
      const x = uniform(mulberry32(seed), shape);
      const axes = axesFromMask(shape.length, mask, negative);
      const f = method ? (t: Tensor) => t.sum(axes, keepdims) : (t: Tensor) => np.sum(t, axes, keepdims);
      const out = f(x);
      const reduced = axes === null ? shape.map((_, i) => i) : axes.map((a) => (a < 0 ? a + shape.length : a));
      expect(out.shape).toEqual(keepdims ? shape.map((d, i) => (reduced.includes(i) ? 1 : d)) : shape.filter((_, i) => !reduced.includes(i)));
      expectGrad(f, [x], { seed });
    });
  });

  it('reduce_max (np.max) and np.min over random axis subsets, no ties', () => {
    run(reductionArb, ({ shape, seed, mask, negative, keepdims, method }) => {
      const x = distinct(mulberry32(seed), shape);
      const axes = axesFromMask(shape.length, mask, negative);
      expectGrad((t: Tensor) => (method ? t.max(axes, keepdims) : np.max(t, axes, keepdims)), [x], { seed });
      expectGrad((t: Tensor) => (method ? t.min(axes, keepdims) : np.min(t, axes, keepdims)), [x], { seed });
    });
  });

  it('reduce_max splits the gradient equally between exact ties (JAX convention)', () => {
    const x = tensorFrom([2, 3], (i) => [1, 3, 3, 2, 2, 2][i]!);
    const g = grad((t: Tensor) => np.sum(np.max(t, 1)))(x) as Tensor;
    const v = Array.from(g.data());
    [0, 0.5, 0.5, 1 / 3, 1 / 3, 1 / 3].forEach((e, i) => expect(v[i]).toBeCloseTo(e, 15));
  });
});

// ---------------------------------------------------------------- dot_general and the products built on it

/** Naive dot_general on host data: output [batch, lhs free, rhs free]. */
function naiveDotGeneral(l: Tensor, r: Tensor, contract: [number[], number[]], batch: [number[], number[]]): number[] {
  const ld = l.data();
  const rd = r.data();
  const strides = (s: readonly number[]): number[] => s.map((_, i) => sizeOf(s.slice(i + 1)));
  const ls = strides(l.shape);
  const rs = strides(r.shape);
  const lFree = l.shape.map((_, i) => i).filter((i) => !contract[0].includes(i) && !batch[0].includes(i));
  const rFree = r.shape.map((_, i) => i).filter((i) => !contract[1].includes(i) && !batch[1].includes(i));
  const outAxes: [number | null, number | null][] = [
    ...batch[0].map((a, k): [number, number] => [a, batch[1][k]!]),
    ...lFree.map((a): [number, null] => [a, null]),
    ...rFree.map((a): [null, number] => [null, a]),
  ];
  const outShape = outAxes.map(([a, b]) => (a !== null ? l.shape[a]! : r.shape[b!]!));
  const cShape = contract[0].map((a) => l.shape[a]!);
  const out: number[] = [];
  for (let o = 0; o < sizeOf(outShape); o++) {
    let rem = o;
    let lo = 0;
    let ro = 0;
    for (let k = outShape.length - 1; k >= 0; k--) {
      const i = rem % outShape[k]!;
      rem = Math.floor(rem / outShape[k]!);
      const [a, b] = outAxes[k]!;
      if (a !== null) lo += i * ls[a]!;
      if (b !== null) ro += i * rs[b]!;
    }
    let acc = 0;
    for (let c = 0; c < sizeOf(cShape); c++) {
      let rc = c;
      let li = lo;
      let ri = ro;
      for (let k = cShape.length - 1; k >= 0; k--) {
        const i = rc % cShape[k]!;
        rc = Math.floor(rc / cShape[k]!);
        li += i * ls[contract[0][k]!]!;
        ri += i * rs[contract[1][k]!]!;
      }
      acc += ld[li]! * rd[ri]!;
    }
    out.push(acc);
  }
  return out;
}

const dotConfigArb = fc
  .record({
    nb: fc.integer({ min: 0, max: 2 }),
    nc: fc.integer({ min: 0, max: 2 }),
    nlf: fc.integer({ min: 0, max: 2 }),
    nrf: fc.integer({ min: 0, max: 2 }),
    dims: fc.array(fc.integer({ min: 1, max: 4 }), { minLength: 8, maxLength: 8 }),
    seed: seedArb,
  })
  .filter((c) => c.nb + c.nc + c.nlf <= 3 && c.nb + c.nc + c.nrf <= 3);

describe('dot_general', () => {
  it('random batch/contract axis configurations (any axis order, any pairing order)', () => {
    run(dotConfigArb, ({ nb, nc, nlf, nrf, dims, seed }) => {
      const rng = mulberry32(seed);
      // Roles: batch k has size dims[k], contract k dims[2+k], lhs free k dims[4+k], rhs free k dims[6+k].
      const lRoles = [...Array.from({ length: nb }, (_, k) => `b${k}`), ...Array.from({ length: nc }, (_, k) => `c${k}`), ...Array.from({ length: nlf }, (_, k) => `l${k}`)];
      const rRoles = [...Array.from({ length: nb }, (_, k) => `b${k}`), ...Array.from({ length: nc }, (_, k) => `c${k}`), ...Array.from({ length: nrf }, (_, k) => `r${k}`)];
      const size = (role: string): number => dims[{ b: 0, c: 2, l: 4, r: 6 }[role[0] as 'b' | 'c' | 'l' | 'r'] + Number(role.slice(1))]!;
      const lOrder = permutation(rng, lRoles.length).map((i) => lRoles[i]!);
      const rOrder = permutation(rng, rRoles.length).map((i) => rRoles[i]!);
      const cPairs = permutation(rng, nc).map((k) => `c${k}`);
      const bPairs = permutation(rng, nb).map((k) => `b${k}`);
      const contract: [number[], number[]] = [cPairs.map((c) => lOrder.indexOf(c)), cPairs.map((c) => rOrder.indexOf(c))];
      const batch: [number[], number[]] = [bPairs.map((c) => lOrder.indexOf(c)), bPairs.map((c) => rOrder.indexOf(c))];
      const l = uniform(rng, lOrder.map(size));
      const r = uniform(rng, rOrder.map(size));
      const f = (a: Tensor, b: Tensor) => np.dotGeneral(a, b, contract, batch);
      const out = f(l, r);
      const expected = naiveDotGeneral(l, r, contract, batch);
      expect(out.shape).toEqual([...bPairs, ...lOrder.filter((x) => x[0] === 'l'), ...rOrder.filter((x) => x[0] === 'r')].map(size));
      Array.from(out.data()).forEach((v, i) => expect(Math.abs(v - expected[i]!)).toBeLessThan(1e-12 * (1 + Math.abs(expected[i]!))));
      expectGrad(f, [l, r], { argnums: [0, 1], seed });
    });
  });
});

describe('matmul, dot, tensordot, outer', () => {
  const mknArb = fc.record({ m: fc.integer({ min: 1, max: 4 }), k: fc.integer({ min: 1, max: 4 }), n: fc.integer({ min: 1, max: 4 }), seed: seedArb });

  it('matmul with every transpose variant (a@b, a.T@b, a@b.T, a.T@b.T)', () => {
    run(fc.record({ d: mknArb, ta: fc.boolean(), tb: fc.boolean() }), ({ d: { m, k, n, seed }, ta, tb }) => {
      const rng = mulberry32(seed);
      const a = uniform(rng, ta ? [k, m] : [m, k]);
      const b = uniform(rng, tb ? [n, k] : [k, n]);
      const f = (x: Tensor, y: Tensor) => np.matmul(ta ? x.T : x, tb ? y.T : y);
      expect(f(a, b).shape).toEqual([m, n]);
      expectGrad(f, [a, b], { argnums: [0, 1], seed });
      // The method spelling, through the same primitive.
      expectGrad((x: Tensor, y: Tensor) => (ta ? x.T : x).matmul(tb ? y.T : y), [a, b], { argnums: [0, 1], seed });
    });
  });

  it('matmul with 1-D operands', () => {
    run(fc.record({ d: mknArb, c: fc.integer({ min: 0, max: 4 }), B: fc.integer({ min: 1, max: 3 }) }), ({ d: { m, k, n, seed }, c, B }) => {
      const shapes: [number[], number[], number[]][] = [
        [[k], [k, n], [n]],
        [[m, k], [k], [m]],
        [[k], [k], []],
        [[k], [B, k, n], [B, n]],
        [[B, m, k], [k], [B, m]],
      ];
      const [sa, sb, so] = shapes[c]!;
      const rng = mulberry32(seed);
      const a = uniform(rng, sa);
      const b = uniform(rng, sb);
      expect(np.matmul(a, b).shape).toEqual(so);
      expectGrad((x: Tensor, y: Tensor) => np.matmul(x, y), [a, b], { argnums: [0, 1], seed });
    });
  });

  it('batched matmul with broadcast batch dimensions (and a 2-D rhs folded into rows)', () => {
    run(fc.record({ d: mknArb, bb: broadcastShapesArb(2, 2) }), ({ d: { m, k, n, seed }, bb }) => {
      const rng = mulberry32(seed);
      const [ba, bbs] = bb.shapes as [number[], number[]];
      const a = uniform(rng, [...ba, m, k]);
      const b = uniform(rng, [...bbs, k, n]);
      expect(np.matmul(a, b).shape).toEqual(bbs.length === 0 ? [...ba, m, n] : [...bb.out, m, n]);
      expectGrad((x: Tensor, y: Tensor) => np.matmul(x, y), [a, b], { argnums: [0, 1], seed });
    });
  });

  it('dot: vector.vector, matrix.vector, matrix.matrix, N-D.N-D', () => {
    run(fc.record({ d: mknArb, c: fc.integer({ min: 0, max: 4 }), p: fc.integer({ min: 1, max: 3 }) }), ({ d: { m, k, n, seed }, c, p }) => {
      const shapes: [number[], number[], number[]][] = [
        [[k], [k], []],
        [[m, k], [k], [m]],
        [[m, k], [k, n], [m, n]],
        [[p, m, k], [n, k, p], [p, m, n, p]],
        [[k], [p, k, n], [p, n]],
      ];
      const [sa, sb, so] = shapes[c]!;
      const rng = mulberry32(seed);
      const a = uniform(rng, sa);
      const b = uniform(rng, sb);
      expect(np.dot(a, b).shape).toEqual(so);
      expectGrad((x: Tensor, y: Tensor) => np.dot(x, y), [a, b], { argnums: [0, 1], seed });
    });
  });

  it('tensordot with integer and explicit axes', () => {
    run(fc.record({ shape: shapeArb(0, 3), extra: shapeArb(0, 2), nax: fc.integer({ min: 0, max: 3 }), explicit: fc.boolean(), seed: seedArb }), ({ shape, extra, nax, explicit, seed }) => {
      const rng = mulberry32(seed);
      const nAxes = Math.min(nax, shape.length);
      // a = [...free, ...shared], b = [...shared, ...extra]; the explicit form pairs them in a random order.
      const shared = shape.slice(shape.length - nAxes);
      const a = uniform(rng, shape);
      if (!explicit) {
        const b = uniform(rng, [...shared, ...extra]);
        expectGrad((x: Tensor, y: Tensor) => np.tensordot(x, y, nAxes), [a, b], { argnums: [0, 1], seed });
        return;
      }
      const bOrder = permutation(rng, shared.length + extra.length);
      const bRoles = [...shared.map((_, i) => `s${i}`), ...extra.map((_, i) => `e${i}`)];
      const bShapeRoles = bOrder.map((i) => bRoles[i]!);
      const bShape = bShapeRoles.map((r) => (r[0] === 's' ? shared[Number(r.slice(1))]! : extra[Number(r.slice(1))]!));
      const b = uniform(rng, bShape);
      const pairs = permutation(rng, nAxes);
      const axes: [number[], number[]] = [
        pairs.map((i) => shape.length - nAxes + i - (rng() < 0.5 ? shape.length : 0)),
        pairs.map((i) => bShapeRoles.indexOf(`s${i}`)),
      ];
      expectGrad((x: Tensor, y: Tensor) => np.tensordot(x, y, axes), [a, b], { argnums: [0, 1], seed });
    });
  });

  it('outer (operands flattened)', () => {
    run(fc.record({ sa: shapeArb(0, 2), sb: shapeArb(0, 2), seed: seedArb }), ({ sa, sb, seed }) => {
      const rng = mulberry32(seed);
      const a = uniform(rng, sa);
      const b = uniform(rng, sb);
      expect(np.outer(a, b).shape).toEqual([sizeOf(sa), sizeOf(sb)]);
      expectGrad((x: Tensor, y: Tensor) => np.outer(x, y), [a, b], { argnums: [0, 1], seed });
    });
  });
});

// ---------------------------------------------------------------- structural primitives

describe('structural primitives', () => {
  it('reshape to random factorisations, with and without -1', () => {
    run(fc.record({ shape: shapeArb(), seed: seedArb, infer: fc.boolean() }), ({ shape, seed, infer }) => {
      const rng = mulberry32(seed);
      const primes: number[] = [];
      for (const d of shape) if (d === 2 || d === 3) primes.push(d);
      else if (d === 4) primes.push(2, 2);
      const order = permutation(rng, primes.length);
      const target: number[] = [];
      for (const i of order) {
        if (target.length === 0 || rng() < 0.5) target.push(primes[i]!);
        else target[target.length - 1] *= primes[i]!;
      }
      const ones = Math.floor(rng() * 3);
      for (let j = 0; j < ones; j++) target.splice(Math.floor(rng() * (target.length + 1)), 0, 1);
      const spec = [...target];
      if (infer && spec.length > 0) spec[Math.floor(rng() * spec.length)] = -1;
      const x = uniform(rng, shape);
      const f = (t: Tensor) => np.reshape(t, spec);
      expect(f(x).shape).toEqual(target);
      expectGrad(f, [x], { seed });
      expectGrad((t: Tensor) => t.reshape(spec).flatten(), [x], { seed });
    });
  });

  it('transpose with random permutations (and the default reversal, .T)', () => {
    run(fc.record({ shape: shapeArb(), seed: seedArb, dflt: fc.boolean() }), ({ shape, seed, dflt }) => {
      const rng = mulberry32(seed);
      const perm = permutation(rng, shape.length).map((p) => (rng() < 0.3 ? p - shape.length : p));
      const x = uniform(rng, shape);
      const f = dflt ? (t: Tensor) => t.T : (t: Tensor) => np.transpose(t, perm);
      expectGrad(f, [x], { seed });
    });
  });

  it('broadcastTo (NumPy rules, new leading axes and size-1 axes)', () => {
    run(fc.record({ b: broadcastShapesArb(2), seed: seedArb }), ({ b, seed }) => {
      const x = uniform(mulberry32(seed), b.shapes[0]!);
      const f = (t: Tensor) => np.broadcastTo(t, b.out);
      expect(f(x).shape).toEqual(b.out);
      expectGrad(f, [x], { seed });
    });
  });

  it('broadcast_in_dim with explicit dims (operand axes placed anywhere)', () => {
    run(fc.record({ shape: shapeArb(0, 3), newAxes: fc.integer({ min: 0, max: 2 }), seed: seedArb }), ({ shape, newAxes, seed }) => {
      const rng = mulberry32(seed);
      const rank = shape.length + newAxes;
      // Choose which output axes hold the operand's axes (increasing), fill the rest with random sizes.
      const dims = permutation(rng, rank).slice(0, shape.length).sort((a, b) => a - b);
      const out = Array.from({ length: rank }, () => 1 + Math.floor(rng() * 3));
      dims.forEach((d, i) => (out[d] = shape[i] === 1 && rng() < 0.5 ? 1 + Math.floor(rng() * 3) : shape[i]!));
      const x = uniform(rng, shape);
      expectGrad((t: Tensor) => np.broadcastInDim(t, out, dims), [x], { seed });
    });
  });

  it('slice with steps > 1', () => {
    run(fc.record({ shape: shapeArb(1, 3, 5), seed: seedArb }), ({ shape, seed }) => {
      const rng = mulberry32(seed);
      const start = shape.map((n) => Math.floor(rng() * n));
      const limit = shape.map((n, i) => start[i]! + 1 + Math.floor(rng() * (n - start[i]!)));
      const step = shape.map(() => 1 + Math.floor(rng() * 3));
      const x = uniform(rng, shape);
      const f = (t: Tensor) => np.slice(t, start, limit, step);
      expect(f(x).shape).toEqual(shape.map((_, i) => Math.ceil((limit[i]! - start[i]!) / step[i]!)));
      expectGrad(f, [x], { seed });
    });
  });

  it('pad with random widths and values', () => {
    run(fc.record({ shape: shapeArb(), seed: seedArb }), ({ shape, seed }) => {
      const rng = mulberry32(seed);
      const lo = shape.map(() => Math.floor(rng() * 3));
      const hi = shape.map(() => Math.floor(rng() * 3));
      const value = rng() * 4 - 2;
      const x = uniform(rng, shape);
      expectGrad((t: Tensor) => np.pad(t, lo, hi, value), [x], { seed });
    });
  });

  it('concatenate several operands (as separate arguments and as one pytree argument)', () => {
    run(fc.record({ shape: shapeArb(1, 3), sizes: fc.array(fc.integer({ min: 1, max: 3 }), { minLength: 2, maxLength: 4 }), axisSeed: fc.nat(), seed: seedArb }), ({ shape, sizes, axisSeed, seed }) => {
      const rng = mulberry32(seed);
      const axis = (axisSeed % (2 * shape.length)) - shape.length;
      const a = axis < 0 ? axis + shape.length : axis;
      const xs = sizes.map((s) => uniform(rng, shape.map((d, i) => (i === a ? s : d))));
      expectGrad((...ts: Tensor[]) => np.concatenate(ts, axis), xs, { argnums: xs.map((_, i) => i), seed });
      expectGrad((ts: Tensor[]) => np.concatenate(ts, axis), [xs], { seed });
    });
  });

  it('convert_element_type: float32 inputs get float32 gradients; float64 -> float32 -> float64 passes the gradient', () => {
    run(fc.record({ shape: shapeArb(), seed: seedArb }), ({ shape, seed }) => {
      const rng = mulberry32(seed);
      const x32 = uniform(rng, shape, -2, 2, 'float32');
      // The perturbation is stored in float32 (the checker divides by the stored step), the function runs in float64.
      expectGrad((t: Tensor) => np.sin(np.astype(t, 'float64')), [x32], { seed, eps: 1e-3, rtol: 1e-5, atol: 1e-6 });
      const x64 = uniform(rng, shape);
      // Through a float32 round trip, the function is only float32-accurate: a larger step and tolerance.
      expectGrad((t: Tensor) => np.multiply(np.astype(np.astype(t, 'float32'), 'float64'), 1.5), [x64], { seed, eps: 1e-2, rtol: 1e-4, atol: 1e-4 });
      expectGrad((t: Tensor) => np.astype(np.exp(np.astype(t, 'float32')), 'float64'), [x64], { seed, eps: 1e-2, rtol: 1e-3, atol: 1e-3 });
      const g = grad((t: Tensor) => np.sum(np.astype(np.astype(t, 'float32'), 'float64')))(x64) as Tensor;
      expect(g.dtype).toBe('float64');
      expect(Array.from(g.data())).toEqual(new Array(sizeOf(shape)).fill(1));
    });
  });

  it('convert_element_type to int32 and back: no gradient flows (exactly zero)', () => {
    run(fc.record({ shape: shapeArb(), seed: seedArb }), ({ shape, seed }) => {
      const x = uniform(mulberry32(seed), shape, -5, 5);
      const g = grad((t: Tensor) => np.sum(np.multiply(np.astype(np.astype(t, 'int32'), 'float64'), 2.5)))(x);
      expect(allExactlyZero(g)).toBe(true);
    }, 10);
  });

  it('stop_gradient: the gradient through it is exactly zero', () => {
    run(fc.record({ shape: shapeArb(), seed: seedArb }), ({ shape, seed }) => {
      const rng = mulberry32(seed);
      const x = uniform(rng, shape);
      const w = uniform(rng, shape);
      const g = grad((t: Tensor) => np.sum(np.multiply(np.stopGradient(np.exp(t)), w)))(x);
      expect(allExactlyZero(g)).toBe(true);
      // Only the unstopped factor is differentiated: d/dx sum(x * sg(x) * w) = sg(x) * w.
      const g2 = grad((t: Tensor) => np.sum(np.multiply(np.multiply(t, np.stopGradient(t)), w)))(x) as Tensor;
      const xd = x.data();
      const wd = w.data();
      Array.from(g2.data()).forEach((v, i) => expect(v).toBe(xd[i]! * wd[i]!));
    });
  });
});

// ---------------------------------------------------------------- indexing

describe('gather (take) and scatter_add', () => {
  const indexArb = fc.record({ shape: shapeArb(1, 3), idxShape: shapeArb(0, 2), axisSeed: fc.nat(), seed: seedArb });

  it('take with repeated and negative indices', () => {
    run(indexArb, ({ shape, idxShape, axisSeed, seed }) => {
      const rng = mulberry32(seed);
      const axis = (axisSeed % (2 * shape.length)) - shape.length;
      const a = axis < 0 ? axis + shape.length : axis;
      const n = shape[a]!;
      const x = uniform(rng, shape);
      const idx = intTensor(rng, idxShape, -n, n);
      const f = (t: Tensor) => np.take(t, idx, axis);
      expect(f(x).shape).toEqual([...shape.slice(0, a), ...idxShape, ...shape.slice(a + 1)]);
      expectGrad(f, [x], { seed });
    });
  });

  it('take: every index repeated, both spellings (i and i - n)', () => {
    const x = tensorFrom([3, 2], (i) => i + 0.5);
    const rep = np.array([0, -3, 2, -1, 1, 1], 'int32');
    expectGrad((t: Tensor) => np.take(t, rep, 0), [x]);
    const g = grad((t: Tensor) => np.sum(np.take(t, rep, 0)))(x) as Tensor;
    expect(g.toArray()).toEqual([[2, 2], [2, 2], [2, 2]]);
  });

  it('scatter_add: gradient with respect to the operand and the updates', () => {
    run(indexArb, ({ shape, idxShape, axisSeed, seed }) => {
      const rng = mulberry32(seed);
      const axis = (axisSeed % (2 * shape.length)) - shape.length;
      const a = axis < 0 ? axis + shape.length : axis;
      const n = shape[a]!;
      const x = uniform(rng, shape);
      const idx = intTensor(rng, idxShape, -n, n);
      const upd = uniform(rng, [...shape.slice(0, a), ...idxShape, ...shape.slice(a + 1)]);
      // A non-linear consumer so that the gradient depends on where each update lands.
      const f = (t: Tensor, u: Tensor) => np.sin(np.scatterAdd(t, idx, u, axis));
      expectGrad(f, [x, upd], { argnums: [0, 1], seed });
    });
  });
});

// ---------------------------------------------------------------- larger sizes (the kernels' other code paths)

describe('larger operands: blocked GEMM, tiled transposes, wide gathers (sampled elements)', () => {
  const bigDotArb = fc
    .record({
      nb: fc.integer({ min: 0, max: 1 }),
      nc: fc.integer({ min: 1, max: 2 }),
      nlf: fc.integer({ min: 1, max: 2 }),
      nrf: fc.integer({ min: 1, max: 2 }),
      dims: fc.array(fc.integer({ min: 1, max: 13 }), { minLength: 8, maxLength: 8 }),
      seed: seedArb,
    })
    .filter((c) => c.nb + c.nc + c.nlf <= 3 && c.nb + c.nc + c.nrf <= 3);

  it('dot_general with random axis configurations at sizes up to 13 per axis', () => {
    run(bigDotArb, ({ nb, nc, nlf, nrf, dims, seed }) => {
      const rng = mulberry32(seed);
      const roles = (n: number, p: string) => Array.from({ length: n }, (_, k) => `${p}${k}`);
      const lRoles = [...roles(nb, 'b'), ...roles(nc, 'c'), ...roles(nlf, 'l')];
      const rRoles = [...roles(nb, 'b'), ...roles(nc, 'c'), ...roles(nrf, 'r')];
      const size = (role: string): number => dims[{ b: 0, c: 2, l: 4, r: 6 }[role[0] as 'b' | 'c' | 'l' | 'r'] + Number(role.slice(1))]!;
      const lOrder = permutation(rng, lRoles.length).map((i) => lRoles[i]!);
      const rOrder = permutation(rng, rRoles.length).map((i) => rRoles[i]!);
      const cPairs = permutation(rng, nc).map((k) => `c${k}`);
      const bPairs = permutation(rng, nb).map((k) => `b${k}`);
      const contract: [number[], number[]] = [cPairs.map((c) => lOrder.indexOf(c)), cPairs.map((c) => rOrder.indexOf(c))];
      const batch: [number[], number[]] = [bPairs.map((c) => lOrder.indexOf(c)), bPairs.map((c) => rOrder.indexOf(c))];
      const l = uniform(rng, lOrder.map(size));
      const r = uniform(rng, rOrder.map(size));
      const f = (a: Tensor, b: Tensor) => np.dotGeneral(a, b, contract, batch);
      const expected = naiveDotGeneral(l, r, contract, batch);
      Array.from(f(l, r).data()).forEach((v, i) => expect(Math.abs(v - expected[i]!)).toBeLessThan(1e-12 * (10 + Math.abs(expected[i]!))));
      expectGrad(f, [l, r], { argnums: [0, 1], seed, elements: 16 });
    }, 15);
  });

  it('matmul transpose variants across GEMM block edges (K > 256, M > 96)', () => {
    const sizes: [number, number, number][] = [[5, 300, 5], [100, 8, 6], [17, 19, 23], [33, 40, 9], [1, 64, 70], [64, 70, 1]];
    run(fc.record({ c: fc.integer({ min: 0, max: sizes.length - 1 }), ta: fc.boolean(), tb: fc.boolean(), seed: seedArb }), ({ c, ta, tb, seed }) => {
      const [m, k, n] = sizes[c]!;
      const rng = mulberry32(seed);
      const a = uniform(rng, ta ? [k, m] : [m, k]);
      const b = uniform(rng, tb ? [n, k] : [k, n]);
      const f = (x: Tensor, y: Tensor) => np.matmul(ta ? x.T : x, tb ? y.T : y);
      const expected = naiveDotGeneral(ta ? np.transpose(a) : a, tb ? np.transpose(b) : b, [[1], [0]], [[], []]);
      Array.from(f(a, b).data()).forEach((v, i) => expect(Math.abs(v - expected[i]!)).toBeLessThan(1e-11 * (10 + Math.abs(expected[i]!))));
      expectGrad(f, [a, b], { argnums: [0, 1], seed, elements: 12 });
    }, 12);
  });

  it('transpose and take on wide arrays', () => {
    run(fc.record({ rows: fc.integer({ min: 16, max: 40 }), cols: fc.integer({ min: 16, max: 40 }), depth: fc.integer({ min: 1, max: 3 }), seed: seedArb }), ({ rows, cols, depth, seed }) => {
      const rng = mulberry32(seed);
      const x = uniform(rng, [depth, rows, cols]);
      const perm = permutation(rng, 3);
      expectGrad((t: Tensor) => np.sin(np.transpose(t, perm)), [x], { seed, elements: 24 });
      expectGrad((t: Tensor) => np.transpose(t, [0, 2, 1]), [x], { seed, elements: 24 });
      const idx = intTensor(rng, [7], -rows, rows);
      expectGrad((t: Tensor) => np.sin(np.take(t, idx, 1)), [x], { seed, elements: 24 });
    }, 10);
  });

  it('reductions over large arrays', () => {
    run(fc.record({ rows: fc.integer({ min: 16, max: 60 }), cols: fc.integer({ min: 16, max: 60 }), mask: fc.integer({ min: -1, max: 3 }), seed: seedArb }), ({ rows, cols, mask, seed }) => {
      const rng = mulberry32(seed);
      const x = distinct(rng, [rows, cols]);
      const axes = axesFromMask(2, mask, false);
      expectGrad((t: Tensor) => np.sum(np.sin(t), axes), [x], { seed, elements: 24 });
      expectGrad((t: Tensor) => np.max(t, axes, true), [x], { seed, elements: 24 });
    }, 10);
  });
});

// ---------------------------------------------------------------- higher order and forward mode

describe('second-order gradients (grad of grad) against finite differences of grad', () => {
  const second: [string, (x: Tensor) => Tensor, Gen][] = [
    ['sin', (x) => np.sin(x), unif(-3, 3)],
    ['exp', (x) => np.exp(x), unif(-2, 2)],
    ['log', (x) => np.log(x), unif(0.3, 3)],
    ['tanh', (x) => np.tanh(x), unif(-2, 2)],
    ['logistic', (x) => np.logistic(x), unif(-3, 3)],
    ['sqrt', (x) => np.sqrt(x), unif(0.3, 3)],
    ['expm1', (x) => np.expm1(x), unif(-2, 2)],
    ['log1p', (x) => np.log1p(x), unif(-0.5, 3)],
    ['x ** 2.5', (x) => np.power(x, 2.5), unif(0.3, 2.5)],
    ['max over axis', (x) => np.max(np.multiply(x, x), x.ndim > 0 ? -1 : null), (rng, s) => distinct(rng, s).add(100)],
  ];
  for (const [name, f, gen] of second) {
    it(name, () => {
      run(fc.record({ shape: shapeArb(), seed: seedArb }), ({ shape, seed }) => {
        const rng = mulberry32(seed);
        const x = gen(rng, shape);
        const w1 = uniform(rng, f(x).shape, -1, 1);
        const df = (t: Tensor) => grad((u: Tensor) => np.sum(np.multiply(f(u), w1)))(t) as Tensor;
        expectGrad(df, [x], { seed });
      }, 15);
    });
  }

  it('mixed partials of binary primitives (mul, div, pow, atan2, matmul)', () => {
    const fs: [string, (x: Tensor, y: Tensor) => Tensor, Gen, Gen][] = [
      ['mul', (x, y) => np.multiply(np.multiply(x, y), y), unif(-2, 2), unif(-2, 2)],
      ['div', (x, y) => np.divide(x, y), unif(-2, 2), (rng, s) => awayFromZero(rng, s, 0.5, 2)],
      ['pow', (x, y) => np.power(x, y), unif(0.4, 2.5), unif(-2, 2)],
      ['atan2', (y, x) => np.arctan2(y, x), (rng, s) => awayFromZero(rng, s, 0.3, 2), unif(-2, 2)],
    ];
    run(fc.record({ b: broadcastShapesArb(2), seed: seedArb, which: fc.integer({ min: 0, max: fs.length - 1 }), wrt: fc.integer({ min: 0, max: 1 }) }), ({ b, seed, which, wrt }) => {
      const rng = mulberry32(seed);
      const [, f, gx, gy] = fs[which]!;
      const x = gx(rng, b.shapes[0]!);
      const y = gy(rng, b.shapes[1]!);
      const w1 = uniform(rng, b.out, -1, 1);
      const df = (u: Tensor, v: Tensor) => grad((p: Tensor, q: Tensor) => np.sum(np.multiply(f(p, q), w1)), { argnums: wrt })(u, v) as Tensor;
      expectGrad(df, [x, y], { argnums: [0, 1], seed });
    }, 40);
  });

  it('matmul: Hessian-vector structure of sum(tanh(a @ b) * w)', () => {
    run(fc.record({ m: fc.integer({ min: 1, max: 3 }), k: fc.integer({ min: 1, max: 3 }), n: fc.integer({ min: 1, max: 3 }), seed: seedArb }), ({ m, k, n, seed }) => {
      const rng = mulberry32(seed);
      const a = uniform(rng, [m, k], -1, 1);
      const b = uniform(rng, [k, n], -1, 1);
      const w1 = uniform(rng, [m, n], -1, 1);
      const df = (u: Tensor, v: Tensor) => grad((p: Tensor, q: Tensor) => np.sum(np.multiply(np.tanh(np.matmul(p, q)), w1)), { argnums: [0, 1] })(u, v) as Tensor[];
      expectGrad(df, [a, b], { argnums: [0, 1], seed });
    }, 15);
  });

  it('third order: d³/dx³ sin = -cos', () => {
    const x = tensorFrom([5], (i) => i - 2.2);
    const d = (f: (t: Tensor) => Tensor) => (t: Tensor) => grad((u: Tensor) => np.sum(f(u)))(t) as Tensor;
    const d3 = d(d(d((t) => np.sin(t))))(x);
    Array.from(d3.data()).forEach((v, i) => expect(v).toBeCloseTo(-Math.cos(i - 2.2), 14));
    expectGrad(d(d((t) => np.sin(t))), [x]);
  });
});

describe('jvp against finite differences', () => {
  it('elementwise and matmul compositions, pytree outputs', () => {
    run(fc.record({ b: broadcastShapesArb(2), seed: seedArb }), ({ b, seed }) => {
      const rng = mulberry32(seed);
      const x = uniform(rng, b.shapes[0]!);
      const y = awayFromZero(rng, b.shapes[1]!, 0.5, 2);
      expectJvp((u: Tensor, v: Tensor) => [np.multiply(np.sin(u), v), { q: np.divide(u, v), e: np.exp(np.tanh(u)) }], [x, y], { seed });
    }, 20);
  });

  it('matmul, reductions and structural ops', () => {
    run(fc.record({ m: fc.integer({ min: 1, max: 4 }), k: fc.integer({ min: 1, max: 4 }), seed: seedArb }), ({ m, k, seed }) => {
      const rng = mulberry32(seed);
      const a = uniform(rng, [m, k]);
      const b = uniform(rng, [k, m]);
      expectJvp((u: Tensor, v: Tensor) => np.sum(np.tanh(np.matmul(u, v)), 0), [a, b], { seed });
      expectJvp((u: Tensor) => np.concatenate([np.slice(u.T, [0, 0], [k, m], [2, 1]), np.pad(u.T, [1, 0], [0, 0], 0.5)], 0), [a], { seed });
    }, 20);
  });

  it('jvp of a function with an int output leaf: zero tangent there, exact tangents elsewhere', () => {
    run(fc.record({ shape: shapeArb(1, 3), seed: seedArb }), ({ shape, seed }) => {
      const x = distinct(mulberry32(seed), shape);
      const f = (u: Tensor) => ({ y: np.sin(u), i: np.argmax(u, -1), m: u.greater(0) });
      expectJvp(f, [x], { seed });
      const [, t] = jvp(f, [x], [tensorFrom(shape, () => 1)]);
      const tt = t as { y: Tensor; i: Tensor; m: Tensor };
      expect(tt.i.dtype).toBe('int32');
      expect(allExactlyZero(tt.i)).toBe(true);
      expect(tt.m.shape).toEqual(shape);
      // Only non-float outputs: nothing to transpose, all tangents zero.
      const [, ti] = jvp((u: Tensor) => np.argmax(u), [x], [tensorFrom(shape, () => 1)]);
      expect(allExactlyZero(ti)).toBe(true);
    }, 10);
  });

  it('jvp returns the primal output too', () => {
    const x = tensorFrom([3], (i) => i);
    const [y, t] = jvp((u: Tensor) => np.multiply(u, u), [x], [tensorFrom([3], () => 1)]);
    expect((y as Tensor).toArray()).toEqual([0, 1, 4]);
    expect((t as Tensor).toArray()).toEqual([0, 2, 4]);
    expect(tree.leaves(y).length).toBe(1);
  });
});
