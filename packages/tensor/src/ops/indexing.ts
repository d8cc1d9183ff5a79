/** Indexing primitives: gather (NumPy's `take` along one axis) and its transpose, scatter_add. */
import { formatShape, normalizeAxis } from '../core/shape.js';
import { Tensor } from '../core/tensor.js';
import { type Primitive, bind } from '../core/trace.js';
import { arange, zerosLike } from './creation.js';
import { add, greaterEqual, less, logicalAnd, multiply, select, where } from './elementwise.js';
import { broadcastInDim, moveAxis, reshape, transpose } from './structural.js';

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
    if (dx === null) {
      // Only the indices are batched: one gather; the batch axis lands where the index axes start.
      return [bind(gatherPrim, [x!, moveAxis(idx!, di, 0)], { axis }), axis];
    }
    // Both batched: fold the batch into the gathered axis and offset each example's indices.
    const { flat, offsetIdx } = foldBatch(x!, dx, idx!, di, axis);
    const g = bind(gatherPrim, [flat, offsetIdx], { axis: 0 }); // [B, I..., pre..., post...]
    const ni = idx!.ndim - 1;
    const perm = [0, ...range(axis).map((i) => 1 + ni + i), ...range(ni).map((i) => 1 + i), ...range(g.ndim - 1 - ni - axis).map((i) => 1 + ni + axis + i)];
    return [transpose(g, perm), 0];
  },
};

const range = (n: number): number[] => Array.from({ length: n }, (_, i) => i);

/**
 * Batched operand [B, pre..., n, post...] and batched indices [B, I...] → operand [B*n, pre..., post...] and
 * indices + b*n, so that one gather/scatter along axis 0 serves every example.
 */
function foldBatch(x: Tensor, dx: number, idx: Tensor, di: number, axis: number): { flat: Tensor; offsetIdx: Tensor } {
  const xb = moveAxis(moveAxis(x, dx, 0), axis + 1, 1);
  const size = xb.shape[0]!;
  const n = xb.shape[1]!;
  const flat = reshape(xb, [size * n, ...xb.shape.slice(2)]);
  const ib = moveAxis(idx, di, 0);
  // Negative indices wrap per example before the offset is added.
  const wrapped = select(less(ib, 0), add(ib, n), ib);
  const offsets = reshape(multiply(arange(0, size, 1, 'int32', idx.placement() ?? x.placement()), n), [size, ...new Array<number>(ib.ndim - 1).fill(1)]);
  // An index still outside [0, n) must not reach a neighbouring example's rows: send it past the end of the
  // folded axis, where the kernel rejects it as it rejects the index example by example.
  const inRange = logicalAnd(greaterEqual(wrapped, 0), less(wrapped, n));
  return { flat, offsetIdx: where(inRange, add(wrapped, offsets), size * n) };
}

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
    const size = (dx !== null ? x!.shape[dx!] : di !== null ? idx!.shape[di!] : upd!.shape[du!])!;
    const lead = (t: Tensor, d: number | null): Tensor =>
      d === null ? broadcastInDim(t, [size, ...t.shape], t.shape.map((_, i) => i + 1)) : moveAxis(t, d, 0);
    if (di === null) return [bind(scatterAddPrim, [lead(x!, dx!), idx!, lead(upd!, du!)], { axis: axis + 1 }), 0];
    // Batched indices: scatter into the operand with the batch folded into the scattered axis.
    const xb = lead(x!, dx!);
    const { flat, offsetIdx } = foldBatch(xb, 0, idx!, di, axis);
    const ni = idx!.ndim - 1;
    const u = lead(upd!, du!); // [B, pre..., I..., post...] -> [B, I..., pre..., post...]
    const perm = [0, ...range(ni).map((i) => 1 + axis + i), ...range(axis).map((i) => 1 + i), ...range(u.ndim - 1 - ni - axis).map((i) => 1 + axis + ni + i)];
    const scattered = bind(scatterAddPrim, [flat, offsetIdx, transpose(u, perm)], { axis: 0 });
    const n = xb.shape[axis + 1]!;
    const unfolded = reshape(scattered, [size, n, ...scattered.shape.slice(1)]);
    return [moveAxis(unfolded, 1, axis + 1), 0];
  },
};

/**
 * Take elements along an axis by integer indices (`numpy.take`; exported by `lax` as `gather`); negative
 * indices count from the end.
 * @example take(array([10, 20, 30]), array([2, 0], 'int32'))   // [30, 10]
 */
export function take(x: Tensor, indices: Tensor, axis = 0): Tensor {
  const a = normalizeAxis(axis, x.ndim, 'take');
  return bind(gatherPrim, [x, indices], { axis: a });
}

/**
 * Add `updates` into a copy of `x` at `indices` along `axis` (repeated indices accumulate), as JAX's
 * `x.at[indices].add(updates)`; the transpose of {@link take}.
 * @example np.scatterAdd(np.zeros([3]), array([0, 2, 0], 'int32'), array([1, 2, 3]))   // [4, 0, 2]
 */
export function scatterAdd(x: Tensor, indices: Tensor, updates: Tensor, axis = 0): Tensor {
  const a = normalizeAxis(axis, x.ndim, 'scatterAdd');
  return bind(scatterAddPrim, [x, indices, updates], { axis: a });
}
