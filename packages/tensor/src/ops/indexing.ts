/** Indexing primitives: gather (NumPy's `take` along one axis) and its transpose, scatter_add. */
import { formatShape, normalizeAxis } from '../core/shape.js';
import { Tensor } from '../core/tensor.js';
import { type Primitive, bind } from '../core/trace.js';
import { zerosLike } from './creation.js';
import { broadcastInDim, moveAxis } from './structural.js';

function gatherShape(x: readonly number[], idx: readonly number[], axis: number): number[] {
  return [...x.slice(0, axis), ...idx, ...x.slice(axis + 1)];
}

function checkIndices(where: string, dtype: string): void {
  if (dtype !== 'int32') throw new TypeError(`${where}: indices must be int32, got ${dtype}`);
}

export const gatherPrim: Primitive<{ axis: number }> = {
  name: 'gather',
  abstractEval([x, idx], { axis }) {
    checkIndices('take', idx!.dtype);
    return { shape: gatherShape(x!.shape, idx!.shape, axis), dtype: x!.dtype };
  },
  vjp: (ct, [x, idx], _out, { axis }) => [scatterAdd(zerosLike(x!), idx!, ct, axis), null],
  batch([x, idx], [dx, di], { axis }) {
    if (di === null) {
      // Only the operand is batched: gather along the shifted axis; the batch axis stays in front.
      return [bind(gatherPrim, [moveAxis(x!, dx!, 0), idx!], { axis: axis + 1 }), 0];
    }
    // Batched indices: flatten (batch, index) pairs onto one axis of a batched operand.
    throw new Error('take: vmap over the indices is not supported yet; gather outside vmap or use oneHot');
  },
};

export const scatterAddPrim: Primitive<{ axis: number }> = {
  name: 'scatter_add',
  abstractEval([x, idx, upd], { axis }) {
    checkIndices('scatterAdd', idx!.dtype);
    const expected = gatherShape(x!.shape, idx!.shape, axis);
    if (formatShape(expected) !== formatShape(upd!.shape)) {
      throw new RangeError(`scatterAdd: updates of shape ${formatShape(upd!.shape)} do not match ${formatShape(expected)} (operand ${formatShape(x!.shape)}, indices ${formatShape(idx!.shape)}, axis ${axis})`);
    }
    if (upd!.dtype !== x!.dtype) throw new TypeError(`scatterAdd: updates dtype ${upd!.dtype} differs from operand dtype ${x!.dtype}`);
    return { shape: x!.shape, dtype: x!.dtype };
  },
  vjp: (ct, [, idx], _out, { axis }) => [ct, null, take(ct, idx!, axis)],
  batch([x, idx, upd], [dx, di, du], { axis }) {
    if (di !== null) throw new Error('scatterAdd: vmap over the indices is not supported yet');
    const size = (dx !== null ? x!.shape[dx!] : upd!.shape[du!])!;
    const lead = (t: Tensor, d: number | null): Tensor =>
      d === null ? broadcastInDim(t, [size, ...t.shape], t.shape.map((_, i) => i + 1)) : moveAxis(t, d, 0);
    return [bind(scatterAddPrim, [lead(x!, dx!), idx!, lead(upd!, du!)], { axis: axis + 1 }), 0];
  },
};

/**
 * Take elements along an axis by integer indices (`numpy.take`); negative indices count from the end.
 * @example take(array([10, 20, 30]), array([2, 0], 'int32'))   // [30, 10]
 */
export function take(x: Tensor, indices: Tensor, axis = 0): Tensor {
  const a = normalizeAxis(axis, x.ndim, 'take');
  return bind(gatherPrim, [x, indices], { axis: a });
}

/** Add `updates` into a copy of `x` at `indices` along `axis` (repeated indices accumulate). */
export function scatterAdd(x: Tensor, indices: Tensor, updates: Tensor, axis = 0): Tensor {
  const a = normalizeAxis(axis, x.ndim, 'scatterAdd');
  return bind(scatterAddPrim, [x, indices, updates], { axis: a });
}
