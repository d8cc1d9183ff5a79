import { describe, it, expect } from 'vitest';
import { array, grad, numpy as np, nn, vmap, Tensor } from '../src/index.js';

describe('vmap smoke', () => {
  it('per-example grads of the seed loss sum to the batch grad', () => {
    const W = array([[0.1, -0.2, 0.3], [0.4, 0.5, -0.6]], 'float64');
    const xs = array([[1, 2, 3], [0.5, -1, 2], [3, 1, -1], [0, 1, 0]], 'float64');
    const ts = array([0, 1, 1, 0], 'int32');
    const loss = (w: Tensor, x: Tensor, t: Tensor) => np.negative(np.log(np.take(nn.softmax(np.matmul(x, w.T)), t)));
    const per = vmap(grad(loss), { inAxes: [null, 0, 0] })(W, xs, ts) as Tensor;
    expect(per.shape).toEqual([4, 2, 3]);
    const batch = grad((w: Tensor) => vmap(loss, { inAxes: [null, 0, 0] })(w, xs, ts).sum())(W) as Tensor;
    const s = per.sum(0).data(); const b = batch.data();
    for (let i = 0; i < s.length; i++) expect(s[i]).toBeCloseTo(b[i]!, 12);
  });
});
