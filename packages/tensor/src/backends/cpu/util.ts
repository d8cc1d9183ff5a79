/**
 * Shared helpers for the CPU kernels: shape arithmetic, allocation, dimension merging and strided copies.
 *
 * Every CPU buffer is a contiguous row-major typed array, so a view on it is fully described by an offset and
 * one stride per dimension. Most kernels reduce to "walk an index space, reading/writing through strides";
 * `mergeDims` collapses that index space to as few dimensions as possible so the innermost loop is long and
 * runs without index arithmetic.
 */
import type { DType, TypedArray } from '../../core/dtype.js';
import { allocate } from '../../core/dtype.js';
import type { Kernel, KernelInput, KernelOutput, KernelPreparer } from '../backend.js';
import { mapPacked } from '../../core/arrays.js';
import { type Merged, mergeDims, sizeOf, stridesOf } from '../../core/shape.js';

export type CpuInput = KernelInput<TypedArray>;
export type CpuKernel = Kernel<TypedArray>;
export type CpuPreparer = KernelPreparer<TypedArray>;

/** The eager kernel of a preparer: the kernel prepared on the spot for one call (one piece of code for both). */
export function eagerKernel(prepare: CpuPreparer): CpuKernel {
  return (inputs, params, out) => prepare(inputs, params, out)(mapPacked(inputs, (x) => x.handle), out.buffer);
}

/**
 * The buffer a prepared kernel writes: `into` (jit's planned one) as it is, for a kernel that writes every
 * element, or a fresh (zeroed) one.
 */
export function outputBuffer(into: TypedArray | undefined, dtype: DType, size: number): TypedArray {
  return into ?? allocate(dtype, size);
}

/** Shape arithmetic is shared with the core (and the gpu backend). */
export { type Merged, mergeDims, sizeOf, stridesOf };

/** A zero-filled output buffer: the planned one when jit passes it, else a fresh one. */
export function allocOut(out: KernelOutput<TypedArray>): TypedArray {
  return out.buffer ? out.buffer.fill(0) : allocate(out.dtype, sizeOf(out.shape));
}

export function allocLike(dtype: DType, size: number): TypedArray {
  return allocate(dtype, size);
}

/** Cheap internal consistency check (the caller validates shapes; this only guards against wiring bugs). */
export function check(cond: boolean, msg: string): asserts cond {
  if (!cond) throw new Error(`cpu backend: ${msg}`);
}


/**
 * Walk all dimensions of a merged space except the innermost, calling `fn(offsets)` once per innermost run.
 * `offsets[k]` is operand k's element offset at the start of the run (the array is reused between calls).
 */
export function forEachRun(m: Merged, base: readonly number[], fn: (offsets: number[]) => void): void {
  const rank = m.shape.length;
  const nOp = m.strides.length;
  const offs = base.slice();
  if (rank === 1) {
    fn(offs);
    return;
  }
  const outerRank = rank - 1;
  const idx = new Array<number>(outerRank).fill(0);
  for (;;) {
    fn(offs);
    // odometer increment over dims [0, outerRank)
    let d = outerRank - 1;
    for (; d >= 0; d--) {
      const i = idx[d]! + 1;
      if (i < m.shape[d]!) {
        idx[d] = i;
        for (let k = 0; k < nOp; k++) offs[k] = offs[k]! + m.strides[k]![d]!;
        break;
      }
      idx[d] = 0;
      for (let k = 0; k < nOp; k++) offs[k] = offs[k]! - m.strides[k]![d]! * (m.shape[d]! - 1);
    }
    if (d < 0) return;
  }
}

/**
 * A strided copy planned for one shape and pair of strides (the dims merged and the loop chosen once):
 * `copy(src, srcOff, dst, dstOff)` sets dst[dstOff + Σ i_d·dstStrides[d]] = src[srcOff + Σ i_d·srcStrides[d]]
 * for every index tuple of `shape`. Both arrays must hold the same element type (values copied as numbers).
 */
export type StridedCopy = (src: TypedArray, srcOff: number, dst: TypedArray, dstOff: number) => void;

/** Plan a strided copy (see {@link StridedCopy}); kernels prepared by jit plan theirs once, at compile time. */
export function stridedCopy(srcStrides: readonly number[], dstStrides: readonly number[], shape: readonly number[]): StridedCopy {
  if (sizeOf(shape) === 0) return () => {};
  const m = mergeDims(shape, [srcStrides, dstStrides]);
  const rank = m.shape.length;
  const ss = m.strides[0]!;
  const ds = m.strides[1]!;
  const L = m.shape[rank - 1]!;
  const sIn = ss[rank - 1]!;
  const dIn = ds[rank - 1]!;
  // A 2-D transpose (one side unit-stride on the last dim, the other on the second last): tile it so that
  // both the reads and the writes stay within a few cache lines.
  if (rank >= 2 && L >= 16 && m.shape[rank - 2]! >= 16 && dIn === 1 && sIn !== 1 && ss[rank - 2] === 1) {
    const R = m.shape[rank - 2]!;
    const dR = ds[rank - 2]!;
    // iterate over the dims before the last two; the last two are handled by the tiled loop
    const outer: Merged = { shape: m.shape.slice(0, rank - 2).concat(1), strides: [ss.slice(0, rank - 2).concat(0), ds.slice(0, rank - 2).concat(0)] };
    const T = 32;
    return (src, srcOff, dst, dstOff) =>
      forEachRun(outer, [srcOff, dstOff], (o) => {
        const so = o[0]!;
        const dO = o[1]!;
        for (let r0 = 0; r0 < R; r0 += T) {
          const r1 = Math.min(R, r0 + T);
          for (let c0 = 0; c0 < L; c0 += T) {
            const c1 = Math.min(L, c0 + T);
            for (let r = r0; r < r1; r++) {
              const sb = so + r; // ss[rank-2] === 1
              const db = dO + r * dR;
              for (let c = c0; c < c1; c++) dst[db + c] = src[sb + c * sIn]!;
            }
          }
        }
      });
  }
  const run = (src: TypedArray, so: number, dst: TypedArray, dO: number): void => {
    if (sIn === 1 && dIn === 1) {
      // Long contiguous runs (e.g. concatenating weight matrices along axis 0) are a memcpy.
      if (L >= 64) dst.set(src.subarray(so, so + L), dO);
      else for (let i = 0; i < L; i++) dst[dO + i] = src[so + i]!;
    } else if (sIn === 0) {
      const v = src[so]!;
      for (let i = 0; i < L; i++) dst[dO + i * dIn] = v;
    } else {
      for (let i = 0; i < L; i++) dst[dO + i * dIn] = src[so + i * sIn]!;
    }
  };
  if (rank === 1) return run;
  if (rank === 2) {
    // (the common case, without forEachRun's per-call arrays and closure)
    const R = m.shape[0]!;
    const sR = ss[0]!;
    const dR = ds[0]!;
    return (src, srcOff, dst, dstOff) => {
      for (let r = 0; r < R; r++) run(src, srcOff + r * sR, dst, dstOff + r * dR);
    };
  }
  return (src, srcOff, dst, dstOff) => forEachRun(m, [srcOff, dstOff], (o) => run(src, o[0]!, dst, o[1]!));
}

/**
 * A copy of arrays of `shape` transposed by `perm` (numpy.transpose semantics), planned once: `(x, into)` writes
 * the contiguous transposed copy of `x` into `into`, or into a fresh array.
 */
export function transposer(shape: readonly number[], perm: readonly number[], dtype: DType): (x: TypedArray, into?: TypedArray) => TypedArray {
  const inStrides = stridesOf(shape);
  const outShape = mapPacked(perm, (p) => shape[p]!);
  const copy = stridedCopy(mapPacked(perm, (p) => inStrides[p]!), stridesOf(outShape), outShape);
  const size = sizeOf(outShape);
  return (x, into) => {
    const o = into ?? allocate(dtype, size);
    copy(x, 0, o, 0);
    return o;
  };
}
