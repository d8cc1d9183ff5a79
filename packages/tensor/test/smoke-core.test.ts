import { describe, it, expect } from 'vitest';
import { array, grad, numpy as np, nn, valueAndGrad, jvp } from '../src/index.js';

describe('smoke', () => {
  it('eager ops', () => {
    const x = array([[1, 2], [3, 4]]);
    expect(x.add(1).toArray()).toEqual([[2, 3], [4, 5]]);
    expect(x.matmul(x).toArray()).toEqual([[7, 10], [15, 22]]);
    expect(x.sum().item()).toBe(10);
    expect(np.mean(x, 0).toArray()).toEqual([2, 3]);
    console.log(x.toString());
  });
  it('grad', () => {
    const f = (x: any) => x.mul(x).sum();
    expect(grad(f)(array([1, 2, 3])).toArray()).toEqual([2, 4, 6]);
    const g2 = grad((x: any) => grad((y: any) => y.mul(y).mul(y).sum())(x).sum());
    expect(g2(array([1, 2])).toArray()).toEqual([6, 12]);
    const [v, g] = valueAndGrad((w: any, x: any) => nn.sigmoid(x.matmul(w)).sum(), { argnums: [0, 1] })(array([[1], [2]]), array([[0.5, 0.1]]));
    console.log(v.item(), g[0].toArray(), g[1].toArray());
    const [y, dy] = jvp((x: any) => x.mul(x), [array([3])], [array([1])]);
    expect((dy as any).toArray()).toEqual([6]);
  });
  it('relu has gradient 0 at 0 and 1 above, like JAX', () => {
    const g = grad((x: any) => nn.relu(x).sum())(array([-1, 0, 2]));
    expect(g.toArray()).toEqual([0, 0, 1]);
  });
});
