/**
 * Reductions: reduce_sum, reduce_max over a set of axes, and argmax along one axis.
 *
 * reduce_* accumulate into a Float64Array of the output's size (so float32 sums are accumulated in float64)
 * and convert once at the end. The input is walked in memory order; `mergeDims` over (input strides,
 * accumulator strides with 0 on reduced axes) turns the three common cases into long runs:
 *   - all axes:      one run, reduced to a scalar;
 *   - trailing axes: per output element, a contiguous run folded into one scalar;
 *   - leading axes:  per reduced index, a contiguous run folded elementwise into the accumulator.
 * Any other axis set alternates between those two run kinds.
 */
import type { DType, TypedArray } from '../../core/dtype.js';
import { type CpuPreparer, type Merged, check, forEachRun, mergeDims, outputBuffer, sizeOf, stridesOf } from './util.js';

type Kind = 0 | 1; // 0 = sum, 1 = max
const SUM: Kind = 0;
const MAX: Kind = 1;

function maxInit(dtype: DType): number {
  if (dtype === 'int32') return -2147483648;
  if (dtype === 'bool') return 0;
  return -Infinity;
}

interface Folds {
  /** Fold x[xo .. xo+n) into one value, starting from `init`. Max propagates NaN (numpy semantics). */
  foldRun(kind: Kind, x: TypedArray, xo: number, n: number, init: number): number;
  /** acc[ao + i] ⊕= x[xo + i] for i < n. */
  foldVec(kind: Kind, x: TypedArray, xo: number, acc: Float64Array, ao: number, n: number): void;
  /** acc[r] += Σ_j x[r·L + j] for r < R (each row summed in order, four rows at a time). */
  sumRows(x: TypedArray, acc: Float64Array, R: number, L: number): void;
  /** acc[j] += Σ_r x[r·L + j] for j < L (each column summed in order, four columns at a time). */
  sumCols(x: TypedArray, acc: Float64Array, R: number, L: number): void;
}

const FOLDS_SOURCE = `return {
  foldRun(kind, x, xo, n, init) {
    let acc = init;
    if (kind === ${SUM}) {
      for (let i = 0; i < n; i++) acc += x[xo + i];
    } else {
      for (let i = 0; i < n; i++) {
        const v = x[xo + i];
        if (v > acc || v !== v) acc = v;
        if (acc !== acc) break;
      }
    }
    return acc;
  },
  foldVec(kind, x, xo, acc, ao, n) {
    if (kind === ${SUM}) {
      for (let i = 0; i < n; i++) acc[ao + i] = acc[ao + i] + x[xo + i];
    } else {
      for (let i = 0; i < n; i++) {
        const v = x[xo + i];
        const a = acc[ao + i];
        if (v > a || v !== v) acc[ao + i] = v;
      }
    }
  },
  sumRows(x, acc, R, L) {
    let r = 0;
    for (; r + 4 <= R; r += 4) {
      const b = r * L;
      let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
      for (let j = 0; j < L; j++) {
        s0 += x[b + j];
        s1 += x[b + L + j];
        s2 += x[b + 2 * L + j];
        s3 += x[b + 3 * L + j];
      }
      acc[r] += s0;
      acc[r + 1] += s1;
      acc[r + 2] += s2;
      acc[r + 3] += s3;
    }
    for (; r < R; r++) acc[r] += this.foldRun(${SUM}, x, r * L, L, 0);
  },
  sumCols(x, acc, R, L) {
    let j = 0;
    for (; j + 4 <= L; j += 4) {
      let s0 = acc[j], s1 = acc[j + 1], s2 = acc[j + 2], s3 = acc[j + 3];
      for (let r = 0, b = j; r < R; r++, b += L) {
        s0 += x[b];
        s1 += x[b + 1];
        s2 += x[b + 2];
        s3 += x[b + 3];
      }
      acc[j] = s0;
      acc[j + 1] = s1;
      acc[j + 2] = s2;
      acc[j + 3] = s3;
    }
    for (; j < L; j++) {
      let s = acc[j];
      for (let r = 0, b = j; r < R; r++, b += L) s += x[b];
      acc[j] = s;
    }
  },
};`;

/**
 * The fold loops, compiled once per dtype: one copy read from several kinds of typed array makes V8's element
 * loads polymorphic, several times slower (a jitted training step spent a fifth of its non-matmul time here).
 */
const FOLDS = new Map<DType, Folds>((['float32', 'float64', 'int32', 'bool'] as const).map((d) => [d, new Function(FOLDS_SOURCE)() as Folds]));

/** Accumulator scratch, reused between calls (the kernels are synchronous). */
let scratch = new Float64Array(64);
function accumulator(size: number, init: number): Float64Array {
  if (scratch.length < size) scratch = new Float64Array(Math.max(size, 2 * scratch.length));
  const acc = scratch.subarray(0, size);
  acc.fill(init);
  return acc;
}

function reducePreparer(kind: Kind): CpuPreparer {
  // (indexed loops only, no for-of, spread or destructuring of arrays: V8 compiles those into iteration-protocol
  // code, which TurboFan then has to optimise in each worker as it starts)
  return (inputs, params: { axes: readonly number[] }, out) => {
    const x = inputs[0]!;
    const axes = params.axes;
    const shape = x.shape;
    const rank = shape.length;
    const reduced = new Array<boolean>(rank).fill(false);
    for (let i = 0; i < axes.length; i++) {
      const a = axes[i]!;
      check(Number.isInteger(a) && a >= 0 && a < rank, `reduce: axis ${a} out of range for rank ${rank}`);
      reduced[a] = true;
    }
    const outSize = sizeOf(out.shape);
    const init = kind === SUM ? 0 : maxInit(x.dtype);
    const folds = FOLDS.get(x.dtype)!;
    let fold: (xs: TypedArray, acc: Float64Array) => void = () => {};
    if (outSize > 0 && sizeOf(shape) > 0) {
      // accumulator strides over the input's dims: 0 on reduced axes
      const keptShape: number[] = [];
      for (let d = 0; d < rank; d++) if (!reduced[d]) keptShape.push(shape[d]!);
      const keptStrides = stridesOf(keptShape);
      const accStrides: number[] = [];
      let k = 0;
      for (let d = 0; d < rank; d++) accStrides.push(reduced[d] ? 0 : keptStrides[k++]!);
      const m = mergeDims(shape, [stridesOf(shape), accStrides]);
      const r = m.shape.length - 1;
      const L = m.shape[r]!;
      const xs0 = m.strides[0]!;
      const accS = m.strides[1]!;
      const accInner = accS[r]!;
      // the common 2-D sums (a matrix's rows, or its columns: the batch axis) with independent sums side by side;
      // each output still adds its terms in order, so the results are those of the general loops below
      const matrix = kind === SUM && r === 1 && xs0[0] === L && xs0[1] === 1;
      const R = m.shape[0]!;
      if (matrix && accS[0] === 1 && accInner === 0) fold = (xs, acc) => folds.sumRows(xs, acc, R, L);
      else if (matrix && accS[0] === 0 && accInner === 1) fold = (xs, acc) => folds.sumCols(xs, acc, R, L);
      else fold = (xs, acc) => foldRuns(kind, folds, xs, acc, m, L, accInner === 0);
    }
    return (ins, into) => {
      const acc = accumulator(outSize, init);
      fold(ins[0]!, acc);
      const o = outputBuffer(into, out.dtype, outSize);
      o.set(acc);
      return o;
    };
  };
}

/** The general case of a reduction: every innermost run of `m` folded into its accumulator element(s). */
function foldRuns(kind: Kind, folds: Folds, xs: TypedArray, acc: Float64Array, m: Merged, L: number, toScalar: boolean): void {
  const { foldRun, foldVec } = folds;
  if (!toScalar) forEachRun(m, [0, 0], (of) => foldVec(kind, xs, of[0]!, acc, of[1]!, L));
  else if (kind === SUM) {
    forEachRun(m, [0, 0], (of) => {
      acc[of[1]!] = acc[of[1]!]! + foldRun(SUM, xs, of[0]!, L, 0);
    });
  } else {
    forEachRun(m, [0, 0], (of) => {
      acc[of[1]!] = foldRun(MAX, xs, of[0]!, L, acc[of[1]!]!);
    });
  }
}

/** argmax along `axis`: the first index of the maximum; NaN counts as the maximum (numpy). */
const argmax: CpuPreparer = (inputs, params: { axis: number }, out) => {
  const axis = params.axis;
  const shape = inputs[0]!.shape;
  check(Number.isInteger(axis) && axis >= 0 && axis < shape.length, `argmax: axis ${axis} out of range for rank ${shape.length}`);
  const outer = sizeOf(shape.slice(0, axis));
  const n = shape[axis]!;
  const inner = sizeOf(shape.slice(axis + 1));
  const size = sizeOf(out.shape);
  if (size > 0 && n === 0) throw new RangeError(`argmax: cannot take the argmax of an empty axis ${axis}`);
  const best = inner === 1 ? undefined : new Float64Array(inner); // (the vectorised path's running maxima)
  return (ins, into) => {
    const o = outputBuffer(into, out.dtype, size) as Int32Array;
    if (size === 0) return o;
    const xs = ins[0]!;
    if (inner === 1) {
      for (let p = 0; p < outer; p++) {
        const base = p * n;
        let best = xs[base]!;
        let bi = 0;
        if (best === best) {
          for (let i = 1; i < n; i++) {
            const v = xs[base + i]!;
            if (v > best || v !== v) {
              best = v;
              bi = i;
              if (v !== v) break;
            }
          }
        }
        o[p] = bi;
      }
      return o;
    }
    // vectorised over the inner block: walk the reduced axis in the outer loop so reads stay contiguous
    o.fill(0);
    for (let p = 0; p < outer; p++) {
      const base = p * n * inner;
      const ob = p * inner;
      for (let j = 0; j < inner; j++) best![j] = xs[base + j]!;
      for (let i = 1; i < n; i++) {
        const row = base + i * inner;
        for (let j = 0; j < inner; j++) {
          const v = xs[row + j]!;
          const b = best![j]!;
          if (v > b || (v !== v && b === b)) {
            best![j] = v;
            o[ob + j] = i;
          }
        }
      }
    }
    return o;
  };
};

export const reducePreparers: ReadonlyMap<string, CpuPreparer> = new Map<string, CpuPreparer>([
  ['reduce_sum', reducePreparer(SUM)],
  ['reduce_max', reducePreparer(MAX)],
  ['argmax', argmax],
]);
