/**
 * The worked example of docs/adding-a-primitive.md, kept honest: a `softplus` primitive defined OUTSIDE the
 * library (its one object with abstractEval / vjp / batch, and a CPU kernel), checked against central finite
 * differences and run under grad, vmap and jit and their compositions. If this test changes, update the page.
 */
import { describe, expect, it } from 'vitest';
import { type AbstractValue, type Kernel, type Primitive, type Tensor, array, bind, getBackend, grad, jit, numpy as np, nn, vmap } from '../src/index.js';
import { checkGrad, mulberry32, uniform } from './helpers/finite-diff.js';

// --- docs: primitive ---------------------------------------------------------------------------------------
const softplusPrim: Primitive<Record<string, never>> = {
  name: 'softplus',
  // shape rule: same shape and dtype as the input; floats only
  abstractEval([x]) {
    if (x!.dtype !== 'float32' && x!.dtype !== 'float64') throw new TypeError(`softplus: unsupported dtype ${x!.dtype}`);
    return x as AbstractValue;
  },
  // d/dx log(1 + e^x) = sigmoid(x); written with ops, so it is differentiable again (grad of grad)
  vjp: (ct, [x]) => [ct.mul(nn.sigmoid(x!))],
  // elementwise: the batched input is just a bigger array, the batch axis stays where it was
  batch: ([x], [d]) => [bind(softplusPrim, [x!]), d!],
};

/** log(1 + e^x), computed stably (`jax.nn.softplus`). */
export const softplus = (x: Tensor): Tensor => bind(softplusPrim, [x]);
// --- docs: end primitive -------------------------------------------------------------------------------------

// --- docs: kernel ------------------------------------------------------------------------------------------
type F = Float32Array | Float64Array;
const softplusCpu: Kernel<F> = ([x], _params, out) => {
  const xs = x!.handle;
  const o = out.buffer ?? (out.dtype === 'float64' ? new Float64Array(xs.length) : new Float32Array(xs.length));
  for (let i = 0; i < xs.length; i++) {
    const v = xs[i]!;
    o[i] = Math.max(v, 0) + Math.log1p(Math.exp(-Math.abs(v))); // no overflow for large |v|
  }
  return o;
};
(getBackend('cpu').kernels as Map<string, Kernel>).set('softplus', softplusCpu as Kernel);
// --- docs: end kernel --------------------------------------------------------------------------------------

describe('docs/adding-a-primitive.md: softplus', () => {
  it('evaluates eagerly, stably for large |x|', () => {
    const y = softplus(array([-1000, -1, 0, 1, 1000], 'float64')).data();
    expect(y[0]).toBe(0);
    expect(y[1]).toBeCloseTo(Math.log1p(Math.exp(-1)), 12);
    expect(y[2]).toBeCloseTo(Math.LN2, 12);
    expect(y[3]).toBeCloseTo(Math.log1p(Math.E), 12);
    expect(y[4]).toBe(1000);
  });

  it('matches finite differences (first and second order)', () => {
    const x = uniform(mulberry32(7), [3, 4], -3, 3);
    const first = checkGrad((v: Tensor) => softplus(v), [x]);
    expect(first.ok, first.report).toBe(true);
    const second = checkGrad((v: Tensor) => grad((u: Tensor) => softplus(u).sum())(v), [x]);
    expect(second.ok, second.report).toBe(true);
  });

  it('works under vmap, jit and jit(vmap(grad))', () => {
    const xs = uniform(mulberry32(3), [5, 3], -2, 2);
    const direct = softplus(xs).data();
    expect(Array.from(vmap(softplus)(xs).data())).toEqual(Array.from(direct));
    expect(Array.from((jit(softplus)(xs) as Tensor).data())).toEqual(Array.from(direct));
    const f = (w: Tensor, x: Tensor): Tensor => softplus(np.multiply(w, x)).sum();
    const perExample = jit(vmap(grad(f), { inAxes: [null, 0] }));
    const w = array([0.5, -1, 2], 'float64');
    const g = (perExample(w, xs) as Tensor).data();
    const expected = np.multiply(nn.sigmoid(np.multiply(w, xs)), xs).data();
    for (let i = 0; i < g.length; i++) expect(g[i]).toBeCloseTo(expected[i]!, 12);
  });
});
