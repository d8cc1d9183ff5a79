/**
 * Indexing kernels: gather (numpy.take along an axis) and scatter_add (its transpose).
 *
 * Both view the operand as [outer, n, inner] around `axis` and the indexed side as [outer, p, inner] with
 * p = indices.size. Indices are validated and wrapped once up front (negative indices wrap once; anything still
 * out of range throws a RangeError), so the copy loops run without checks.
 */
import type { TypedArray } from '../../core/dtype.js';
import { allocOut, check, sizeOf, type CpuKernel } from './util.js';

function wrapIndices(kernel: string, idx: TypedArray, n: number, axis: number): Int32Array {
  const w = new Int32Array(idx.length);
  for (let p = 0; p < idx.length; p++) {
    const i = idx[p]!;
    const j = i < 0 ? i + n : i;
    if (!(j >= 0 && j < n)) throw new RangeError(`${kernel}: index ${i} out of range for axis ${axis} of size ${n}`);
    w[p] = j;
  }
  return w;
}

/**
 * The operand seen as [outer, n, inner] around the indexed axis (gather and scatter_add walk it the same
 * way), with the indices wrapped and checked.
 */
function takeLayout(kernel: string, shape: readonly number[], axis: number, indices: TypedArray): { outer: number; n: number; inner: number; idx: Int32Array } {
  check(Number.isInteger(axis) && axis >= 0 && axis < shape.length, `${kernel}: axis ${axis} out of range for rank ${shape.length}`);
  const n = shape[axis]!;
  return { outer: sizeOf(shape.slice(0, axis)), n, inner: sizeOf(shape.slice(axis + 1)), idx: wrapIndices(kernel, indices, n, axis) };
}

const gatherKernel: CpuKernel = (inputs, params: { axis: number }, out) => {
  const x = inputs[0]!;
  const indices = inputs[1]!;
  const { outer, n, inner, idx } = takeLayout('gather', x.shape, params.axis, indices.handle);
  const P = idx.length;
  const o = allocOut(out);
  check(o.length === outer * P * inner, 'gather: output size does not match operand and indices');
  const xs = x.handle;
  if (inner === 1) {
    for (let a = 0; a < outer; a++) {
      const xb = a * n;
      const ob = a * P;
      for (let p = 0; p < P; p++) o[ob + p] = xs[xb + idx[p]!]!;
    }
  } else if (inner >= 32) {
    for (let a = 0; a < outer; a++) {
      for (let p = 0; p < P; p++) {
        const s = (a * n + idx[p]!) * inner;
        o.set(xs.subarray(s, s + inner), (a * P + p) * inner);
      }
    }
  } else {
    for (let a = 0; a < outer; a++) {
      for (let p = 0; p < P; p++) {
        const s = (a * n + idx[p]!) * inner;
        const d = (a * P + p) * inner;
        for (let j = 0; j < inner; j++) o[d + j] = xs[s + j]!;
      }
    }
  }
  return o;
};

const scatterAddKernel: CpuKernel = (inputs, params: { axis: number }, out) => {
  const operand = inputs[0]!;
  const indices = inputs[1]!;
  const updates = inputs[2]!;
  const { outer, n, inner, idx } = takeLayout('scatter_add', operand.shape, params.axis, indices.handle);
  const P = idx.length;
  check(updates.handle.length === outer * P * inner, 'scatter_add: updates size does not match operand and indices');
  const o = allocOut(out);
  o.set(operand.handle);
  const u = updates.handle;
  const isBool = out.dtype === 'bool';
  for (let a = 0; a < outer; a++) {
    for (let p = 0; p < P; p++) {
      const d = (a * n + idx[p]!) * inner;
      const s = (a * P + p) * inner;
      if (isBool) for (let j = 0; j < inner; j++) o[d + j] = o[d + j]! | u[s + j]!;
      else for (let j = 0; j < inner; j++) o[d + j] = o[d + j]! + u[s + j]!;
    }
  }
  return o;
};

export const indexingKernels: ReadonlyMap<string, CpuKernel> = new Map<string, CpuKernel>([
  ['gather', gatherKernel],
  ['scatter_add', scatterAddKernel],
]);
