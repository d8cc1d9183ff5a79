/** The general dot product (`lax.dot_general`) and the NumPy products built on it: matmul, dot, tensordot. */
import { promoteTypes } from '../core/dtype.js';
import { broadcastShapes, formatShape, normalizeAxis } from '../core/shape.js';
import { Tensor } from '../core/tensor.js';
import { type Primitive, bind } from '../core/trace.js';
import { astype, broadcastTo, inversePermutation, moveAxis, reshape, transpose } from './structural.js';

export interface DotGeneralParams {
  /** Contracted axes: lhs axes contract[0][i] pair with rhs axes contract[1][i]. */
  contract: [number[], number[]];
  /** Batch axes, paired the same way; they lead the output. */
  batch: [number[], number[]];
}

const range = (n: number): number[] => Array.from({ length: n }, (_, i) => i);
function freeAxes(rank: number, p: DotGeneralParams, side: 0 | 1): number[] {
  return range(rank).filter((a) => !p.contract[side].includes(a) && !p.batch[side].includes(a));
}

export const dotGeneralPrim: Primitive<DotGeneralParams> = {
  name: 'dot_general',
  abstractEval([l, r], p) {
    if (l!.dtype !== r!.dtype) throw new TypeError(`dot_general: dtypes ${l!.dtype} and ${r!.dtype} differ`);
    if (l!.dtype === 'bool') throw new TypeError('dot_general: bool operands are not supported; cast to int32 or float');
    for (const pairs of [p.contract, p.batch]) {
      if (pairs[0].length !== pairs[1].length) throw new RangeError(`dot_general: unpaired axes ${JSON.stringify(pairs)}`);
      pairs[0].forEach((a, i) => {
        const b = pairs[1][i]!;
        if (l!.shape[a] !== r!.shape[b]) {
          throw new RangeError(`dot_general: shapes ${formatShape(l!.shape)} and ${formatShape(r!.shape)} do not align: ${l!.shape[a]} (axis ${a}) != ${r!.shape[b]} (axis ${b})`);
        }
      });
    }
    const shape = [...p.batch[0].map((a) => l!.shape[a]!), ...freeAxes(l!.shape.length, p, 0).map((a) => l!.shape[a]!), ...freeAxes(r!.shape.length, p, 1).map((a) => r!.shape[a]!)];
    return { shape, dtype: l!.dtype };
  },
  vjp(ct, [l, r], _out, p, wanted) {
    const nb = p.batch[0].length;
    const lFree = freeAxes(l!.ndim, p, 0);
    const rFree = freeAxes(r!.ndim, p, 1);
    const ctBatch = range(nb);
    const ctLhsFree = lFree.map((_, i) => nb + i);
    const ctRhsFree = rFree.map((_, i) => nb + lFree.length + i);
    // d lhs: contract ct's rhs-free axes with rhs's free axes. Result axes: [batch, lhs free, rhs contract (by rhs axis order)].
    const lhsCotangent = (): Tensor => {
      const rContractSorted = [...p.contract[1]].sort((a, b) => a - b);
      const dl = bind(dotGeneralPrim, [ct, r!], { contract: [ctRhsFree, rFree], batch: [ctBatch, p.batch[1]] });
      const lOrder = [...p.batch[0], ...lFree, ...rContractSorted.map((ra) => p.contract[0][p.contract[1].indexOf(ra)]!)];
      return transpose(dl, inversePermutation(lOrder));
    };
    // d rhs: contract lhs's free axes with ct's lhs-free axes. Result axes: [batch, lhs contract (by lhs axis order), rhs free].
    const rhsCotangent = (): Tensor => {
      const lContractSorted = [...p.contract[0]].sort((a, b) => a - b);
      const dr = bind(dotGeneralPrim, [l!, ct], { contract: [lFree, ctLhsFree], batch: [p.batch[0], ctBatch] });
      const rOrder = [...p.batch[1], ...lContractSorted.map((la) => p.contract[1][p.contract[0].indexOf(la)]!), ...rFree];
      return transpose(dr, inversePermutation(rOrder));
    };
    // Each cotangent is a full matmul: skip the one nobody reads (e.g. the input images' gradient).
    return [wanted[0] === false ? null : lhsCotangent(), wanted[1] === false ? null : rhsCotangent()];
  },
  batch([l, r], [dl, dr], p) {
    const shift = (axes: number[]): number[] => axes.map((a) => a + 1);
    const nb = p.batch[0].length;
    if (dl !== null && dr !== null) {
      const params: DotGeneralParams = {
        contract: [shift(p.contract[0]), shift(p.contract[1])],
        batch: [[0, ...shift(p.batch[0])], [0, ...shift(p.batch[1])]],
      };
      return [bind(dotGeneralPrim, [moveAxis(l!, dl, 0), moveAxis(r!, dr, 0)], params), 0];
    }
    if (dl !== null) {
      const params: DotGeneralParams = { contract: [shift(p.contract[0]), p.contract[1]], batch: [shift(p.batch[0]), p.batch[1]] };
      return [bind(dotGeneralPrim, [moveAxis(l!, dl, 0), r!], params), nb];
    }
    const params: DotGeneralParams = { contract: [p.contract[0], shift(p.contract[1])], batch: [p.batch[0], shift(p.batch[1])] };
    const lFreeCount = freeAxes(l!.ndim, p, 0).length;
    return [bind(dotGeneralPrim, [l!, moveAxis(r!, dr!, 0)], params), nb + lFreeCount];
  },
};

/**
 * `lax.dot_general`: contract and batch the given axis pairs. Output: [batch, lhs free, rhs free].
 * @example lax.dotGeneral(np.ones([100, 784]), np.ones([60, 784]), [[1], [1]]).shape   // [100, 60]
 */
export function dotGeneral(lhs: Tensor, rhs: Tensor, contract: [number[], number[]], batch: [number[], number[]] = [[], []]): Tensor {
  const [l, r] = promotePair(lhs, rhs, 'dot_general');
  return bind(dotGeneralPrim, [l, r], { contract, batch });
}

function promotePair(a: Tensor, b: Tensor, where: string): [Tensor, Tensor] {
  if (!(a instanceof Tensor) || !(b instanceof Tensor)) throw new TypeError(`${where}: both operands must be Tensors`);
  let d = promoteTypes(a.dtype, b.dtype);
  if (d === 'bool') d = 'int32';
  return [astype(a, d), astype(b, d)];
}

/**
 * Matrix product with NumPy's rules (`numpy.matmul`): 1-D operands are promoted to matrices, leading axes
 * broadcast as batch axes.
 * @example matmul(x, w.T)   // [100,784] x [784,60] -> [100,60]
 */
export function matmul(a: Tensor, b: Tensor): Tensor {
  const [l, r] = promotePair(a, b, 'matmul');
  if (l.ndim === 0 || r.ndim === 0) throw new RangeError('matmul: operands must be at least 1-D (use multiply for scalars)');
  const lm = l.ndim === 1 ? reshape(l, [1, l.shape[0]!]) : l;
  const rm = r.ndim === 1 ? reshape(r, [r.shape[0]!, 1]) : r;
  const k = lm.shape[lm.ndim - 1]!;
  const kr = rm.shape[rm.ndim - 2]!;
  if (k !== kr) {
    throw new RangeError(`matmul: shapes ${formatShape(a.shape)} and ${formatShape(b.shape)} do not align: ${k} (axis ${a.ndim - 1}) != ${kr} (axis ${Math.max(0, b.ndim - 2)})`);
  }
  let out: Tensor;
  if (rm.ndim === 2) {
    // Fold all leading axes of the lhs into its rows: one plain matrix product, no broadcast copy.
    // (An explicit row count, not -1: reshape cannot infer -1 next to a zero-length axis when k is 0.)
    const rows = reshape(lm, [lm.shape.slice(0, -1).reduce((n, d) => n * d, 1), k]);
    const prod = bind(dotGeneralPrim, [rows, rm], { contract: [[1], [0]], batch: [[], []] });
    out = reshape(prod, [...lm.shape.slice(0, -1), rm.shape[1]!]);
  } else {
    const where = `matmul (batch axes of ${formatShape(a.shape)} and ${formatShape(b.shape)})`;
    const batchShape = broadcastShapes(where, lm.shape.slice(0, -2), rm.shape.slice(0, -2));
    const lb = broadcastTo(lm, [...batchShape, ...lm.shape.slice(-2)]);
    const rb = broadcastTo(rm, [...batchShape, ...rm.shape.slice(-2)]);
    const nb = batchShape.length;
    const batch = range(nb);
    out = bind(dotGeneralPrim, [lb, rb], { contract: [[nb + 1], [nb]], batch: [batch, batch] });
  }
  if (a.ndim === 1) out = reshape(out, [...out.shape.slice(0, -2), out.shape[out.ndim - 1]!]);
  if (b.ndim === 1) out = reshape(out, out.shape.slice(0, -1));
  return out;
}

/**
 * `numpy.dot`: the inner product of vectors, the matrix product of matrices, and for N-D arrays the sum
 * over the last axis of `a` and the second-to-last of `b`.
 * @example dot(array([1, 2]), array([3, 4]))   // 11
 */
export function dot(a: Tensor, b: Tensor): Tensor {
  const [l, r] = promotePair(a, b, 'dot');
  if (l.ndim === 0 || r.ndim === 0) throw new RangeError('dot: use multiply for scalars');
  const la = l.ndim - 1;
  const ra = r.ndim === 1 ? 0 : r.ndim - 2;
  if (l.shape[la] !== r.shape[ra]) {
    throw new RangeError(`dot: shapes ${formatShape(a.shape)} and ${formatShape(b.shape)} do not align: ${l.shape[la]} (axis ${la}) != ${r.shape[ra]} (axis ${ra})`);
  }
  return bind(dotGeneralPrim, [l, r], { contract: [[la], [ra]], batch: [[], []] });
}

/**
 * Sum products over the given axis pairs (`numpy.tensordot`); an integer n means the last n of a with the first n of b.
 * @example np.tensordot(np.ones([2, 3, 4]), np.ones([3, 4, 5]), 2).shape   // [2, 5]
 */
export function tensordot(a: Tensor, b: Tensor, axes: number | [number[], number[]] = 2): Tensor {
  const [l, r] = promotePair(a, b, 'tensordot');
  const [la, ra] =
    typeof axes === 'number'
      ? [range(axes).map((i) => l.ndim - axes + i), range(axes)]
      : [axes[0].map((x) => normalizeAxis(x, l.ndim, 'tensordot')), axes[1].map((x) => normalizeAxis(x, r.ndim, 'tensordot'))];
  return bind(dotGeneralPrim, [l, r], { contract: [la, ra], batch: [[], []] });
}

/**
 * Outer product of two vectors (flattened first, as NumPy does; `jnp.outer`).
 * @example np.outer(array([1, 2]), array([3, 4, 5]))   // [[3, 4, 5], [6, 8, 10]]
 */
export function outer(a: Tensor, b: Tensor): Tensor {
  return dotGeneral(reshape(a, [-1]), reshape(b, [-1]), [[], []]);
}

