import { describe, expect, it } from 'vitest';
import { type Tensor, evalJaxpr, lax, makeJaxpr, numpy as np, random } from '../src/index.js';
import { contractSummedBatch } from '../src/ir/optimize.js';

const [ka, kb] = random.splitKeys(random.key(7), 2);
const a = random.normal(ka!, [6, 3]);
const b = random.normal(kb!, [6, 5]);

/** Per-example outer products [B,3,5], sliced in two along the last axis, each summed over the batch. */
const slicedSums = (x: Tensor, y: Tensor): Tensor[] => {
  const outer = lax.dotGeneral(x.reshape([6, 3, 1]), y.reshape([6, 1, 5]), [[2], [1]], [[0], [0]]);
  const left = lax.slice(outer, [0, 0, 0], [6, 3, 2]);
  const right = lax.slice(outer, [0, 0, 2], [6, 3, 5]);
  return [left.sum(0), right.sum(0)];
};

describe('contractSummedBatch through slices', () => {
  it('moves the batch sum before the slices and contracts it into one matmul', () => {
    const staged = makeJaxpr(slicedSums)(a, b);
    const rewritten = contractSummedBatch(staged.jaxpr);
    const names = rewritten.eqns.map((e) => e.prim.name);
    expect(names.filter((n) => n === 'reduce_sum')).toEqual([]);
    const dots = rewritten.eqns.filter((e) => e.prim.name === 'dot_general');
    expect(dots).toHaveLength(1);
    expect(dots[0]!.outs[0]!.aval.shape).toEqual([3, 5]);
    const want = evalJaxpr(staged.jaxpr, [a, b]);
    const got = evalJaxpr(rewritten, [a, b]);
    got.forEach((g, i) => expect(np.allclose(g, want[i]!, 1e-5, 1e-5)).toBe(true));
  });

  it('leaves a slice alone when the sliced array is also read elsewhere', () => {
    const f = (x: Tensor, y: Tensor): Tensor[] => {
      const outer = lax.dotGeneral(x.reshape([6, 3, 1]), y.reshape([6, 1, 5]), [[2], [1]], [[0], [0]]);
      return [lax.slice(outer, [0, 0, 0], [6, 3, 2]).sum(0), outer.max()];
    };
    const staged = makeJaxpr(f)(a, b);
    const rewritten = contractSummedBatch(staged.jaxpr);
    expect(rewritten.eqns.filter((e) => e.prim.name === 'slice')).toHaveLength(1);
    expect(rewritten.eqns.findIndex((e) => e.prim.name === 'slice')).toBeLessThan(rewritten.eqns.findIndex((e) => e.prim.name === 'reduce_sum'));
    const want = evalJaxpr(staged.jaxpr, [a, b]);
    evalJaxpr(rewritten, [a, b]).forEach((g, i) => expect(np.allclose(g, want[i]!, 1e-5, 1e-5)).toBe(true));
  });
});
