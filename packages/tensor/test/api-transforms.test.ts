/**
 * Public API: grad / valueAndGrad (argnums, hasAux with JAX's conventions, pytrees), vjp with pytree outputs,
 * higher-order gradients against analytic values, closures over outer traced values, jvp.
 */
import { describe, expect, it } from 'vitest';
import { type PyTree, Tensor, array, grad, jvp, nn, numpy as np, tree, valueAndGrad, vjp, vjpWithAux, zeros } from '../src/index.js';

const f64 = (v: number | number[] | number[][]): Tensor => array(v, 'float64');

function expectClose(t: Tensor, expected: number | number[] | number[][], tol = 1e-12): void {
  const flat = ([expected] as unknown[]).flat(3) as number[];
  const got = Array.from(t.data());
  expect(got.length).toBe(flat.length);
  got.forEach((g, i) => expect(Math.abs(g - flat[i]!), `element ${i}: ${g} vs ${flat[i]}`).toBeLessThanOrEqual(tol * Math.max(1, Math.abs(flat[i]!))));
}

describe('grad and valueAndGrad', () => {
  const f = (x: Tensor, y: Tensor) => x.mul(y).add(x.square()).sum(); // df/dx = y + 2x, df/dy = x
  const x = f64([1, 2]);
  const y = f64([3, 4]);

  it('differentiates argument 0 by default', () => {
    expectClose(grad(f)(x, y), [5, 8]);
    expect(grad(f)(x, y).dtype).toBe('float64');
    expect(grad(f)(x, y).shape).toEqual([2]);
  });

  it('argnums: one index gives that gradient, a list gives a list', () => {
    expectClose(grad(f, { argnums: 1 })(x, y), [1, 2]);
    expectClose(grad(f, { argnums: -1 })(x, y), [1, 2]);
    const both = grad(f, { argnums: [0, 1] })(x, y) as Tensor[];
    expect(Array.isArray(both)).toBe(true);
    expect(both).toHaveLength(2);
    expectClose(both[0]!, [5, 8]);
    expectClose(both[1]!, [1, 2]);
    const one = grad(f, { argnums: [1] })(x, y) as Tensor[];
    expect(one).toHaveLength(1);
    expectClose(one[0]!, [1, 2]);
    const swapped = grad(f, { argnums: [1, 0] })(x, y) as Tensor[];
    expectClose(swapped[0]!, [1, 2]);
    expectClose(swapped[1]!, [5, 8]);
  });

  it('valueAndGrad returns [value, gradient]', () => {
    const [v, g] = valueAndGrad(f)(x, y);
    expect(v.shape).toEqual([]);
    expect(v.item()).toBe(1 * 3 + 2 * 4 + 1 + 4);
    expectClose(g, [5, 8]);
    const [v2, gs] = valueAndGrad(f, { argnums: [0, 1] })(x, y);
    expect(v2.item()).toBe(16);
    expectClose(gs[0], [5, 8]);
    expectClose(gs[1], [1, 2]);
  });

  it('non-differentiated arguments may be anything (ints, strings, objects)', () => {
    const pick = (w: Tensor, idx: Tensor, mode: string) => (mode === 'sum' ? np.take(w, idx).sum() : np.take(w, idx).max());
    const g = grad(pick)(f64([1, 2, 3]), array([0, 0, 2], 'int32'), 'sum');
    expectClose(g, [2, 0, 1]);
  });

  it('hasAux: valueAndGrad gives [[value, aux], grad] (JAX convention)', () => {
    const lossWithAux = (w: Tensor) => {
      const pred = w.mul(2);
      return [pred.sum(), { pred, note: 'hello', count: 3 }];
    };
    const [[value, aux], g] = valueAndGrad(lossWithAux, { hasAux: true })(f64([1, 2]));
    expect(value.item()).toBe(6);
    expect(aux.pred).toBeInstanceOf(Tensor);
    expect(aux.pred.toArray()).toEqual([2, 4]);
    expect(aux.note).toBe('hello');
    expect(aux.count).toBe(3);
    expectClose(g, [2, 2]);
    // The aux tensors are plain values, usable after grad returns.
    expect(aux.pred.add(1).toArray()).toEqual([3, 5]);
  });

  it('hasAux: grad gives [grad, aux]', () => {
    const [g, aux] = grad((w: Tensor) => [w.square().sum(), w.sum()], { hasAux: true })(f64([1, 3]));
    expectClose(g, [2, 6]);
    expect(aux.item()).toBe(4);
    const [gs, aux2] = grad((a: Tensor, b: Tensor) => [a.mul(b).sum(), [a, b]], { hasAux: true, argnums: [0, 1] })(f64([2]), f64([5]));
    expectClose(gs[0], [5]);
    expectClose(gs[1], [2]);
    expect(aux2[1].toArray()).toEqual([5]);
  });

  it('pytrees of tensors as arguments: gradients have the same structure', () => {
    const params = { w: f64([[1, 2], [3, 4]]), b: [f64([1, -1]), f64(0.5)], frozen: null };
    const loss = (p: typeof params, input: Tensor) => {
      const h = input.matmul(p.w).add(p.b[0]!); // [1,2]
      return h.square().sum().mul(p.b[1]!);
    };
    const input = f64([[1, 1]]);
    const g = grad(loss)(params, input) as typeof params;
    expect(Object.keys(g).sort()).toEqual(['b', 'frozen', 'w']);
    expect(g.frozen).toBeNull();
    // h = [1+3+1, 2+4-1] = [5, 5]; loss = 0.5 * (25 + 25)
    // dL/dh = 2 * 0.5 * h = [5, 5]; dL/dw = input^T dL/dh; dL/db0 = [5, 5]; dL/ds = 50
    expectClose(g.w, [[5, 5], [5, 5]]);
    expectClose(g.b[0]!, [5, 5]);
    expectClose(g.b[1]!, 50);
    // Arrays of arrays (the MLP's [[W, b], ...] layout).
    const layers = [[f64([[2]]), f64([1])], [f64([[3]]), f64([0])]];
    const mlp = (ps: Tensor[][], v: Tensor) => ps.reduce((h, [W, b]) => h.matmul(W!).add(b!), v).sum();
    const gl = grad(mlp)(layers, f64([[1]])) as Tensor[][];
    // out = 3 (2 v + 1); d/dW0 = 3 v = 3, d/db0 = 3, d/dW1 = 2v + 1 = 3, d/db1 = 1
    expectClose(gl[0]![0]!, [[3]]);
    expectClose(gl[0]![1]!, [3]);
    expectClose(gl[1]![0]!, [[3]]);
    expectClose(gl[1]![1]!, [1]);
    // tree.map applies an SGD step over the structure.
    const stepped = tree.map((p: Tensor, d: Tensor) => p.sub(d.mul(0.1)), layers, gl) as Tensor[][];
    expectClose(stepped[0]![0]!, [[1.7]]);
  });

  it('JS numbers as differentiated arguments are float32 scalars', () => {
    const g = grad((v: Tensor) => np.multiply(v, v))(3);
    expect(g.dtype).toBe('float32');
    expect(g.item()).toBe(6);
  });

  it('a function that ignores its input has a zero gradient of the right shape and dtype', () => {
    const g = grad((_: Tensor) => array(3))(f64([[1, 2, 3]]));
    expect(g.shape).toEqual([1, 3]);
    expect(g.dtype).toBe('float64');
    expect(g.toArray()).toEqual([[0, 0, 0]]);
    const [v, gs] = valueAndGrad((_a: Tensor, b: Tensor) => b.sum(), { argnums: [0, 1] })(f64([1, 2]), f64([[1]]));
    expect(v.item()).toBe(1);
    expect(gs[0].toArray()).toEqual([0, 0]);
    expect(gs[1].toArray()).toEqual([[1]]);
    // Through an integer path or stopGradient there is no gradient either.
    expect(grad((a: Tensor) => a.astype('int32').astype('float32').sum())(f64([1.5])).toArray()).toEqual([0]);
    expect(grad((a: Tensor) => np.stopGradient(a).mul(a).sum())(f64([3])).toArray()).toEqual([3]);
  });

  it('gradients are accumulated over repeated uses of an input', () => {
    expectClose(grad((a: Tensor) => a.add(a).add(a.mul(a)).sum())(f64([2])), [6]);
    // Broadcast inputs sum their cotangents back.
    expectClose(grad((b: Tensor) => f64([[1, 2], [3, 4]]).mul(b).sum())(f64([10, 20])), [4, 6]);
    expectClose(grad((s: Tensor) => f64([[1, 2], [3, 4]]).mul(s).sum())(f64(1)), 10);
  });

  it('float32 inputs keep float32 gradients; mixed precision keeps each input\'s dtype', () => {
    const [ga, gb] = grad((a: Tensor, b: Tensor) => a.mul(b).sum(), { argnums: [0, 1] })(array([1.5], 'float64'), array([2]));
    expect(ga.dtype).toBe('float64');
    expect(gb.dtype).toBe('float32');
    expect(ga.toArray()).toEqual([2]);
    expect(gb.toArray()).toEqual([1.5]);
  });
});

describe('higher-order gradients against analytic values', () => {
  const cube = (x: Tensor) => x.mul(x).mul(x);

  it('x^3: 3x^2, 6x, 6, 0', () => {
    for (const x0 of [-1.5, 0, 2, 3.25]) {
      const x = f64(x0);
      expect(grad(cube)(x).item()).toBeCloseTo(3 * x0 * x0, 12);
      expect(grad(grad(cube))(x).item()).toBeCloseTo(6 * x0, 12);
      expect(grad(grad(grad(cube)))(x).item()).toBeCloseTo(6, 12);
      expect(grad(grad(grad(grad(cube))))(x).item()).toBe(0);
    }
  });

  it('power, sin, exp/log, sigmoid, tanh', () => {
    const x0 = 0.7;
    const x = f64(x0);
    expect(grad(grad((v: Tensor) => v.pow(3)))(x).item()).toBeCloseTo(6 * x0, 12);
    expect(grad(grad((v: Tensor) => v.sin()))(x).item()).toBeCloseTo(-Math.sin(x0), 12);
    expect(grad(grad(grad((v: Tensor) => v.sin())))(x).item()).toBeCloseTo(-Math.cos(x0), 12);
    expect(grad(grad((v: Tensor) => v.log().mul(v)))(x).item()).toBeCloseTo(1 / x0, 12);
    expect(grad(grad((v: Tensor) => v.exp()))(x).item()).toBeCloseTo(Math.exp(x0), 12);
    const s = 1 / (1 + Math.exp(-x0));
    expect(grad(grad((v: Tensor) => nn.sigmoid(v)))(x).item()).toBeCloseTo(s * (1 - s) * (1 - 2 * s), 12);
    const t = Math.tanh(x0);
    expect(grad(grad((v: Tensor) => v.tanh()))(x).item()).toBeCloseTo(-2 * t * (1 - t * t), 12);
    expect(grad(grad((v: Tensor) => v.sqrt()))(x).item()).toBeCloseTo(-0.25 * Math.pow(x0, -1.5), 12);
  });

  it('vector functions: the Hessian diagonal of sum(x^3) via grad(sum(grad))', () => {
    const g2 = grad((x: Tensor) => grad((y: Tensor) => y.mul(y).mul(y).sum())(x).sum());
    expectClose(g2(f64([1, 2, -3])), [6, 12, -18]);
  });

  it('mixed partials: d/dx d/dy (x^2 y^3) = 6 x y^2', () => {
    const h = (x: Tensor, y: Tensor) => x.square().mul(y.pow(3));
    const dxy = grad((x: Tensor, y: Tensor) => grad(h, { argnums: 1 })(x, y), { argnums: 0 });
    expect(dxy(f64(2), f64(3)).item()).toBeCloseTo(6 * 2 * 9, 10);
  });
});

describe('closures over outer traced values', () => {
  it('grad(x => grad(y => x*y)(y0))(x0) = 1', () => {
    expect(grad((x: Tensor) => grad((y: Tensor) => x.mul(y))(f64(3)))(f64(2)).item()).toBe(1);
  });

  it('grad(x => grad(y => x^2 y^2)(y0))(x0) = 4 x0 y0', () => {
    const g = grad((x: Tensor) => grad((y: Tensor) => x.mul(x).mul(y).mul(y))(f64(3)))(f64(2));
    expect(g.item()).toBe(4 * 2 * 3);
  });

  it('the inner gradient sees the outer value as a constant of the right value', () => {
    // d/dx [ d/dy (sin(x) y^2) at y=5 ] = d/dx [ 10 sin(x) ] = 10 cos(x)
    const g = grad((x: Tensor) => grad((y: Tensor) => x.sin().mul(y.square()))(f64(5)))(f64(0.3));
    expect(g.item()).toBeCloseTo(10 * Math.cos(0.3), 12);
  });

  it('perturbation confusion is avoided (Siskind & Pearlmutter)', () => {
    // d/dx [ x * d/dy (x + y) ] at x = 1 is 1 (a confused AD gives 2).
    const g = grad((x: Tensor) => x.mul(grad((y: Tensor) => x.add(y))(f64(1))))(f64(1));
    expect(g.item()).toBe(1);
  });
});

describe('vjp', () => {
  it('pytree outputs take pytree cotangents', () => {
    const [y, pullback] = vjp((x: Tensor) => ({ a: x.mul(2), b: [x.square()] }), f64([1, 2]));
    const out = y as { a: Tensor; b: Tensor[] };
    expect(out.a.toArray()).toEqual([2, 4]);
    expect(out.b[0]!.toArray()).toEqual([1, 4]);
    const [ct] = pullback({ a: f64([1, 1]), b: [f64([1, 0])] }) as Tensor[];
    // 2 * [1,1] + 2x * [1,0] = [4, 2]
    expectClose(ct!, [4, 2]);
    // The pullback is reusable with other cotangents.
    expectClose((pullback({ a: f64([0, 0]), b: [f64([0, 1])] }) as Tensor[])[0]!, [0, 4]);
  });

  it('several pytree primals', () => {
    const [y, pullback] = vjp((x: Tensor, p: { s: Tensor }) => x.mul(p.s), f64([1, 2]), { s: f64(3) });
    expect((y as Tensor).toArray()).toEqual([3, 6]);
    const [dx, dp] = pullback(f64([1, 1])) as [Tensor, { s: Tensor }];
    expectClose(dx, [3, 3]);
    expectClose(dp.s, 3);
  });

  it('the Jacobian of a linear map, row by row', () => {
    const A = f64([[1, 2, 3], [4, 5, 6]]);
    const [, pullback] = vjp((x: Tensor) => A.matmul(x), f64([1, 1, 1]));
    expectClose((pullback(f64([1, 0])) as Tensor[])[0]!, [1, 2, 3]);
    expectClose((pullback(f64([0, 1])) as Tensor[])[0]!, [4, 5, 6]);
  });

  it('vjpWithAux returns [output, pullback, aux]', () => {
    const [y, pullback, aux] = vjpWithAux((x: Tensor) => [x.mul(2), { total: x.sum() }], f64([1, 2]));
    expect((y as Tensor).toArray()).toEqual([2, 4]);
    expect((aux as { total: Tensor }).total.item()).toBe(3);
    expectClose((pullback(f64([1, 1])) as Tensor[])[0]!, [2, 2]);
  });

  it('grad equals vjp with a unit cotangent', () => {
    const loss = (w: Tensor) => nn.softmax(w).log().mul(f64([1, 2, 3])).sum();
    const w = f64([0.1, -0.2, 0.3]);
    const [, pullback] = vjp(loss, w);
    const a = (pullback(f64(1)) as Tensor[])[0]!;
    const b = grad(loss)(w);
    expect(Array.from(a.data())).toEqual(Array.from(b.data()));
  });
});

describe('jvp', () => {
  it('computes J·t for several primals', () => {
    const [y, dy] = jvp((x: Tensor, y: Tensor) => x.mul(y).sin(), [f64([1, 2]), f64([3, 4])], [f64([1, 0]), f64([0, 1])]);
    expectClose(y as Tensor, [Math.sin(3), Math.sin(8)]);
    // d sin(xy) = cos(xy) (y dx + x dy)
    expectClose(dy as Tensor, [Math.cos(3) * 3, Math.cos(8) * 2]);
  });

  it('pytree primals and outputs', () => {
    const [y, dy] = jvp((p: { a: Tensor; b: Tensor }) => ({ prod: p.a.mul(p.b), a: p.a }), [{ a: f64(2), b: f64(3) }], [{ a: f64(1), b: f64(0.5) }]);
    expect((y as { prod: Tensor }).prod.item()).toBe(6);
    // d(ab) = b da + a db = 3 + 1
    expect((dy as { prod: Tensor; a: Tensor }).prod.item()).toBe(4);
    expect((dy as { prod: Tensor; a: Tensor }).a.item()).toBe(1);
  });

  it('agrees with grad for a scalar function (directional derivative = grad · t)', () => {
    const f = (x: Tensor) => x.square().sum().sqrt();
    const x = f64([3, 4]);
    const t = f64([0.5, -1]);
    const [, dy] = jvp(f, [x], [t]);
    const g = grad(f)(x);
    expect((dy as Tensor).item()).toBeCloseTo((g.mul(t).sum().item() as number), 12);
    expect((dy as Tensor).item()).toBeCloseTo((3 * 0.5 - 4) / 5, 12);
  });

  it('keeps dtypes (float64 stays float64)', () => {
    const [y, dy] = jvp((x: Tensor) => x.square(), [f64([1.5])], [f64([1])]);
    expect((y as Tensor).dtype).toBe('float64');
    expect((dy as Tensor).dtype).toBe('float64');
    expect((dy as Tensor).toArray()).toEqual([3]);
  });

  it('works on a function of a matrix and inside grad', () => {
    const W = f64([[1, 2], [3, 4]]);
    const [, dy] = jvp((w: Tensor) => w.matmul(w), [W], [f64([[1, 0], [0, 0]])]);
    // d(W W) = dW W + W dW with dW = E11
    expectClose(dy as Tensor, [[2, 2], [3, 0]]);
    // grad of a jvp: d/dx [ d/dt (x^3) ] = d/dx 3x^2 = 6x
    const g = grad((x: Tensor) => (jvp((v: Tensor) => v.pow(3), [x], [f64(1)])[1] as Tensor))(f64(2));
    expect(g.item()).toBeCloseTo(12, 12);
  });
});

describe('composition with other ops', () => {
  it('cross-entropy gradient is softmax - onehot', () => {
    const logits = f64([[1, 2, 3], [1, 0, -1]]);
    const labels = array([2, 0], 'int32');
    const g = grad((z: Tensor) => nn.crossEntropy(z, labels, 'sum'))(logits);
    const p = nn.softmax(logits);
    const expected = p.sub(np.oneHot(labels, 3, 'float64'));
    expectClose(g, expected.toArray() as number[][], 1e-12);
  });

  it('gradients flow through where, max, take and concatenate', () => {
    expect(grad((x: Tensor) => np.where(x.greater(0), x, 0).sum())(f64([-1, 2])).toArray()).toEqual([0, 1]);
    expect(grad((x: Tensor) => x.max())(f64([1, 3, 3])).toArray()).toEqual([0, 0.5, 0.5]);
    expect(grad((x: Tensor) => np.take(x, array([2, 2, 0], 'int32')).sum())(f64([1, 2, 3])).toArray()).toEqual([1, 0, 2]);
    expect(grad((x: Tensor) => np.concatenate([x, x.mul(3)]).sum())(f64([1, 2])).toArray()).toEqual([4, 4]);
    expect(grad((x: Tensor) => np.stack([x, x.square()], 1).sum())(f64([1, 2])).toArray()).toEqual([3, 5]);
    expect(grad((x: Tensor) => np.split(x, 2)[1]!.sum())(f64([1, 2, 3, 4])).toArray()).toEqual([0, 0, 1, 1]);
  });

  it('a zero-size input has a zero-size gradient', () => {
    const g = grad((x: Tensor) => x.sum())(zeros([0, 3], 'float64'));
    expect(g.shape).toEqual([0, 3]);
  });

  it('pytree leaves round-trip through grad in tree order', () => {
    const p: PyTree = { z: f64(1), a: [f64(2), f64(3)] };
    const g = grad((q: { z: Tensor; a: Tensor[] }) => q.z.mul(10).add(q.a[0]!.mul(20)).add(q.a[1]!.mul(30)))(p);
    expect(tree.leaves(g as PyTree).map((t) => t.item())).toEqual([20, 30, 10]);
  });
});
