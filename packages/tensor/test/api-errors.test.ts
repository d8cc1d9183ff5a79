/**
 * Public API: error messages. Each check pins the text a user sees, so that a mistake names the op, the
 * shapes or axes involved, and what was expected.
 */
import { describe, expect, it } from 'vitest';
import { Tensor, array, arange, grad, jvp, numpy as np, nn, ones, tree, valueAndGrad, vjp, zeros } from '../src/index.js';

/** The error `f` throws (fails the test when it throws nothing). */
function errorOf(f: () => unknown): Error {
  try {
    f();
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected an error, none was thrown');
}

describe('shape errors', () => {
  it('matmul misalignment names both shapes and the axes', () => {
    const e = errorOf(() => zeros([100, 784]).matmul(zeros([60, 784])));
    expect(e).toBeInstanceOf(RangeError);
    expect(e.message).toBe('matmul: shapes [100,784] and [60,784] do not align: 784 (axis 1) != 60 (axis 0)');
    expect(errorOf(() => np.matmul(zeros([3]), zeros([4]))).message).toBe('matmul: shapes [3] and [4] do not align: 3 (axis 0) != 4 (axis 0)');
    expect(errorOf(() => np.matmul(zeros([2, 3, 4]), zeros([2, 5, 6]))).message).toBe('matmul: shapes [2,3,4] and [2,5,6] do not align: 4 (axis 2) != 5 (axis 1)');
    expect(errorOf(() => np.matmul(zeros([4, 5]), zeros([4]))).message).toBe('matmul: shapes [4,5] and [4] do not align: 5 (axis 1) != 4 (axis 0)');
    expect(errorOf(() => np.matmul(array(1), zeros([1]))).message).toBe('matmul: operands must be at least 1-D (use multiply for scalars)');
  });

  it('matmul with batch axes that do not broadcast names the operands', () => {
    expect(errorOf(() => np.matmul(zeros([2, 3, 4]), zeros([3, 4, 5]))).message).toBe(
      'matmul (batch axes of [2,3,4] and [3,4,5]): shapes [2] and [3] cannot be broadcast together: 2 != 3 (axis -1)',
    );
  });

  it('dot and tensordot misalignment', () => {
    expect(errorOf(() => np.dot(zeros([2, 3]), zeros([4, 5]))).message).toBe('dot: shapes [2,3] and [4,5] do not align: 3 (axis 1) != 4 (axis 0)');
    expect(errorOf(() => np.tensordot(zeros([2, 3, 4]), zeros([3, 5]), [[1], [1]])).message).toBe(
      'dot_general: shapes [2,3,4] and [3,5] do not align: 3 (axis 1) != 5 (axis 1)',
    );
  });

  it('broadcasting failure names the op and both shapes as given', () => {
    const e = errorOf(() => zeros([2, 3]).add(zeros([4])));
    expect(e).toBeInstanceOf(RangeError);
    expect(e.message).toBe('add: shapes [2,3] and [4] cannot be broadcast together: 3 != 4 (axis -1)');
    expect(errorOf(() => np.multiply(zeros([2, 3, 1]), zeros([4, 2]))).message).toBe(
      'multiply: shapes [2,3,1] and [4,2] cannot be broadcast together: 3 != 4 (axis -2)',
    );
    expect(errorOf(() => np.where(array([true, false]), zeros([3]), 0)).message).toMatch(/^where: shapes \[2\] and \[3\] and \[\] cannot be broadcast together/);
    expect(errorOf(() => np.broadcastTo(zeros([3]), [2, 4])).message).toMatch(/^broadcastTo: shapes \[3\] and \[2,4\] cannot be broadcast together/);
    expect(errorOf(() => np.broadcastTo(zeros([2, 1]), [3])).message).toBe('broadcastTo: cannot broadcast shape [2,1] to [3]');
  });

  it('an axis out of range names the op and the rank', () => {
    const x = zeros([2, 3]);
    const cases: [() => unknown, string][] = [
      [() => x.sum(2), 'sum: axis 2 is out of range for an array of rank 2'],
      [() => x.sum(-3), 'sum: axis -3 is out of range for an array of rank 2'],
      [() => x.mean([0, 5]), 'mean: axis 5 is out of range for an array of rank 2'],
      [() => x.max(3), 'max: axis 3 is out of range for an array of rank 2'],
      [() => x.argmax(5), 'argmax: axis 5 is out of range for an array of rank 2'],
      [() => np.argmin(x, -3), 'argmin: axis -3 is out of range for an array of rank 2'],
      [() => x.expandDims(4), 'expandDims: axis 4 is out of range for an array of rank 3'],
      [() => x.squeeze(2), 'squeeze: axis 2 is out of range for an array of rank 2'],
      [() => np.stack([x, x], 3), 'stack: axis 3 is out of range for an array of rank 3'],
      [() => np.split(x, 1, 2), 'split: axis 2 is out of range for an array of rank 2'],
      [() => np.concatenate([x, x], 2), 'concatenate: axis 2 is out of range for an array of rank 2'],
      [() => np.logsumexp(x, 2), 'logsumexp: axis 2 is out of range for an array of rank 2'],
      [() => nn.softmax(x, 2), 'softmax: axis 2 is out of range for an array of rank 2'],
      [() => nn.logSoftmax(x, 2), 'logSoftmax: axis 2 is out of range for an array of rank 2'],
      [() => np.take(x, array([0], 'int32'), 2), 'take: axis 2 is out of range for an array of rank 2'],
      [() => x.transpose([0, 2]), 'transpose: axis 2 is out of range for an array of rank 2'],
      [() => np.sum(array(1), 0), 'sum: axis 0 is out of range for an array of rank 0'],
    ];
    for (const [f, message] of cases) {
      const e = errorOf(f);
      expect(e, message).toBeInstanceOf(RangeError);
      expect(e.message).toBe(message);
    }
    expect(errorOf(() => x.sum(0.5)).message).toBe('sum: axis must be an integer, got 0.5');
    expect(errorOf(() => x.sum([1, -1])).message).toBe('sum: repeated axis in [1,-1]');
    expect(errorOf(() => x.transpose([0, 0])).message).toBe('transpose: axes [0,0] are not a permutation of the 2 axes of an array of shape [2,3]');
  });

  it('reshape to an incompatible size', () => {
    const x = zeros([2, 3]);
    expect(errorOf(() => x.reshape(4, 2)).message).toBe('reshape: cannot reshape array of shape [2,3] (6 elements) into shape [4,2]');
    expect(errorOf(() => x.reshape(4, -1)).message).toBe('reshape: cannot reshape array of shape [2,3] (6 elements) into shape [4,-1]');
    expect(errorOf(() => x.reshape(-1, -1)).message).toBe('reshape: bad target shape [-1,-1]: use non-negative integers and at most one -1');
    expect(errorOf(() => x.reshape(2.5, 2)).message).toBe('reshape: bad target shape [2.5,2]: use non-negative integers and at most one -1');
    expect(errorOf(() => x.reshape(4, 2))).toBeInstanceOf(RangeError);
  });

  it('squeeze / split / stack / concatenate misuse', () => {
    expect(errorOf(() => zeros([1, 2]).squeeze(1)).message).toBe('squeeze: axis 1 of shape [1,2] has size 2, not 1');
    expect(errorOf(() => np.split(arange(5), 2)).message).toBe('split: axis 0 of size 5 cannot be split into 2 equal sections');
    expect(errorOf(() => np.stack([zeros([2]), zeros([3])])).message).toBe('stack: array 1 has shape [3], array 0 has [2]');
    expect(errorOf(() => np.concatenate([zeros([2, 2]), zeros([3, 3])])).message).toBe('concatenate: shapes [2,2], [3,3] differ outside axis 0');
    expect(errorOf(() => np.concatenate([zeros([2]), zeros([2], 'int32')])).message).toBe('concatenate: argument 1 has dtype int32, argument 0 has float32');
  });
});

describe('array() errors', () => {
  it('a ragged nested array says where', () => {
    const e = errorOf(() => array([[1, 2], [3]] as never));
    expect(e).toBeInstanceOf(TypeError);
    expect(e.message).toBe('array: ragged nested array: at [1] expected a list of length 2, got length 1');
    expect(errorOf(() => array([[1, 2], 3] as never)).message).toBe('array: ragged nested array: at [1] expected a list of length 2, got number');
    expect(errorOf(() => array([1, [2]] as never)).message).toBe('array: ragged nested array: element at [1] is a list, expected a scalar (shape so far [2])');
    expect(errorOf(() => array([[[1], [2]], [[3], [4, 5]]] as never)).message).toBe('array: ragged nested array: at [1,1] expected a list of length 1, got length 2');
  });

  it('item() of a bigger array, JS arrays passed to ops', () => {
    expect(errorOf(() => zeros([2, 2]).item()).message).toBe('item(): only a size-1 array has one item, this one has shape [2,2]');
    expect(errorOf(() => np.add([1, 2] as never, 1)).message).toBe('add: expected a Tensor or a JS number/boolean, got a JS array (wrap it with array())');
    expect(errorOf(() => np.clip(zeros([2]), 'a' as never, null)).message).toBe('clip: expected a Tensor or a JS number/boolean, got string');
  });
});

describe('dtype errors', () => {
  it('ops that need particular dtypes say which', () => {
    expect(errorOf(() => np.take(arange(3), array([1]))).message).toBe('take: indices must be int32, got float32');
    expect(errorOf(() => np.logicalNot(array([1.5]))).message).toBe('not: unsupported dtype float32');
    expect(errorOf(() => nn.nll(zeros([2, 3]), array([0, 1]))).message).toBe('nll: labels must be int32 class indices, got float32');
    expect(errorOf(() => np.oneHot(array([1]), 3)).message).toBe('oneHot: labels must be int32, got float32');
  });
});

describe('take with out-of-range indices', () => {
  it('names the index and the axis size', () => {
    const x = array([1, 2, 3]);
    const e = errorOf(() => np.take(x, array([3], 'int32')));
    expect(e).toBeInstanceOf(RangeError);
    expect(e.message).toMatch(/^(take|gather): index 3 out of range for axis 0 of size 3$/);
    expect(errorOf(() => np.take(x, array([0, -4], 'int32'))).message).toMatch(/^(take|gather): index -4 out of range for axis 0 of size 3$/);
    expect(errorOf(() => np.take(zeros([2, 5]), array([5], 'int32'), 1)).message).toMatch(/index 5 out of range for axis 1 of size 5/);
  });
});

describe('transformation errors', () => {
  it('grad of a non-scalar output', () => {
    const e = errorOf(() => grad((x: Tensor) => x.mul(2))(array([1, 2])));
    expect(e).toBeInstanceOf(TypeError);
    expect(e.message).toBe('grad: f must return a scalar, got shape [2] (use vjp, or sum the output)');
    expect(errorOf(() => grad((x: Tensor) => [x.sum()])(array([1, 2]))).message).toBe('grad: f must return a single scalar, got a structure [*]');
    expect(errorOf(() => grad((x: Tensor) => x.sum().astype('int32'))(array([1, 2]))).message).toBe('grad: f must return a float scalar, got dtype int32');
  });

  it('grad with respect to an int32 input', () => {
    const e = errorOf(() => grad((x: Tensor) => x.sum())(array([1, 2], 'int32')));
    expect(e).toBeInstanceOf(TypeError);
    expect(e.message).toBe('grad: input leaf 0 (of [*]) has dtype int32; differentiation needs float inputs');
    // In a pytree, the message shows where the leaf sits in the structure.
    expect(errorOf(() => grad((p: { a: Tensor; b: Tensor }) => p.a.sum())({ a: array([1]), b: array([1], 'int32') })).message).toBe(
      'grad: input leaf 1 (of [{a: *, b: *}]) has dtype int32; differentiation needs float inputs',
    );
    expect(errorOf(() => grad((x: Tensor) => x.sum())(array([true]))).message).toMatch(/has dtype bool; differentiation needs float inputs/);
    expect(errorOf(() => grad((x: unknown) => array(1))('a')).message).toBe(
      'grad: differentiated arguments must be pytrees of Tensors or numbers, found a leaf of type string',
    );
  });

  it('argnums out of range', () => {
    const f = (x: Tensor, y: Tensor) => x.mul(y).sum();
    const e = errorOf(() => grad(f, { argnums: 2 })(array([1]), array([2])));
    expect(e).toBeInstanceOf(RangeError);
    expect(e.message).toBe('grad: argnums 2 out of range for 2 positional arguments');
    expect(errorOf(() => grad(f, { argnums: [0, 5] })(array([1]), array([2]))).message).toBe('grad: argnums [0,5] out of range for 2 positional arguments');
    expect(errorOf(() => grad(f, { argnums: -3 })(array([1]), array([2]))).message).toBe('grad: argnums -3 out of range for 2 positional arguments');
    expect(errorOf(() => valueAndGrad(f, { argnums: 1.5 })(array([1]), array([2]))).message).toBe('grad: argnums 1.5 out of range for 2 positional arguments');
  });

  it('hasAux with a wrong return', () => {
    const msg = 'grad: with hasAux, f must return a pair [output, aux]';
    expect(errorOf(() => grad((x: Tensor) => x.sum(), { hasAux: true })(array([1, 2]))).message).toBe(msg);
    expect(errorOf(() => grad((x: Tensor) => [x.sum()], { hasAux: true })(array([1, 2]))).message).toBe(msg);
    expect(errorOf(() => valueAndGrad((x: Tensor) => [x.sum(), 1, 2], { hasAux: true })(array([1, 2]))).message).toBe(msg);
    expect(errorOf(() => grad((x: Tensor) => ({ loss: x.sum(), aux: 1 }), { hasAux: true })(array([1, 2]))).message).toBe(msg);
    // The output part must still be a scalar.
    expect(errorOf(() => grad((x: Tensor) => [x, 1], { hasAux: true })(array([1, 2]))).message).toBe(
      'grad: f must return a scalar, got shape [2] (use vjp, or sum the output)',
    );
    expect(errorOf(() => grad((x: Tensor) => [[x.sum(), x.sum()], 1], { hasAux: true })(array([1, 2]))).message).toBe(
      'grad: f must return a single scalar (as the first of [output, aux]), got a structure [*, *]',
    );
  });

  it('a leaked tracer used after grad returns', () => {
    let leaked: Tensor | null = null;
    const g = grad((x: Tensor) => {
      leaked = x;
      return x.sum();
    })(array([1, 2]));
    expect(g.toArray()).toEqual([1, 1]);
    const message = 'a traced value of shape [2] escaped the transformation that created it (a tracer leaked out of grad/vmap/jit, e.g. stored in an outer variable)';
    // Eagerly, with a concrete operand, and inside another transformation: all refused.
    expect(errorOf(() => leaked!.mul(2)).message).toBe(message);
    expect(errorOf(() => np.add(leaked!, array([1, 1]))).message).toBe(message);
    expect(errorOf(() => grad((y: Tensor) => y.mul(leaked!).sum())(array([1, 2]))).message).toBe(message);
    // An intermediate value leaks the same way.
    let inner: Tensor | null = null;
    grad((x: Tensor) => {
      inner = x.mul(3);
      return inner.sum();
    })(array([1, 2, 3]));
    expect(errorOf(() => inner!.add(1)).message).toBe(
      'a traced value of shape [3] escaped the transformation that created it (a tracer leaked out of grad/vmap/jit, e.g. stored in an outer variable)',
    );
    // The library still works afterwards.
    expect(grad((x: Tensor) => x.square().sum())(array([3])).toArray()).toEqual([6]);
  });

  it('a leaked tracer returned from an inner grad', () => {
    // Returning an inner transformation's tracer from f is caught where grad lowers the output.
    let inner: Tensor | null = null;
    const f = (x: Tensor) => {
      grad((y: Tensor) => {
        inner = y.mul(x);
        return inner.sum();
      })(array([1, 2]));
      return inner!.sum();
    };
    expect(errorOf(() => grad(f)(array([1, 2]))).message).toMatch(/escaped the transformation that created it|leaked tracer/);
  });

  it('vjp and jvp structure mismatches', () => {
    const [, pullback] = vjp((x: Tensor) => x.mul(2), array([1, 2]));
    expect(errorOf(() => pullback(array([1, 2, 3]))).message).toBe('vjp: cotangent 0 has shape [3], the output has shape [2]');
    expect(errorOf(() => pullback([array([1, 2]), array([1, 2])])).message).toBe('vjp: expected 1 output cotangents, got 2');
    expect(errorOf(() => jvp((x: Tensor) => x, [array([1])], [[array([1])]])).message).toBe('jvp: tangents have structure [[*]], primals [*]');
  });

  it('tree.map with mismatched structures', () => {
    expect(errorOf(() => tree.map((a: Tensor, b: Tensor) => a.add(b), { w: ones([1]) }, { w: ones([1]), b: ones([1]) })).message).toBe(
      'tree.map: tree 1 has structure {b: *, w: *}, expected {w: *}',
    );
  });

  it('errors inside a transformation leave it usable', () => {
    expect(() => grad((x: Tensor) => x.matmul(zeros([3, 3])).sum())(zeros([2, 2]))).toThrow(/matmul: shapes \[2,2\] and \[3,3\] do not align/);
    expect(grad((x: Tensor) => x.mul(x).sum())(array([2])).toArray()).toEqual([4]);
    expect(array([1, 2]).add(1).toArray()).toEqual([2, 3]);
  });
});
