/**
 * Indexing kernels: gather (numpy.take along an axis) and scatter_add (its transpose).
 *
 * Both view the operand as [outer, n, inner] around `axis` (worked out when the kernel is prepared) and the
 * indexed side as [outer, p, inner] with p = indices.size. Indices are validated and wrapped once per call,
 * up front (negative indices wrap once; anything still out of range throws a RangeError), so the copy loops
 * run without checks.
 */
import type { TypedArray } from '../../core/dtype.js';
import { type CpuPreparer, check, outputBuffer, sizeOf } from './util.js';

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

/** The operand seen as [outer, n, inner] around the indexed axis (gather and scatter_add walk it the same way). */
function takeLayout(kernel: string, shape: readonly number[], axis: number): { outer: number; n: number; inner: number } {
  check(Number.isInteger(axis) && axis >= 0 && axis < shape.length, `${kernel}: axis ${axis} out of range for rank ${shape.length}`);
  return { outer: sizeOf(shape.slice(0, axis)), n: shape[axis]!, inner: sizeOf(shape.slice(axis + 1)) };
}

const gather: CpuPreparer = (inputs, params: { axis: number }, out) => {
  const axis = params.axis;
  const { outer, n, inner } = takeLayout('gather', inputs[0]!.shape, axis);
  const P = sizeOf(inputs[1]!.shape);
  const size = sizeOf(out.shape);
  check(size === outer * P * inner, 'gather: output size does not match operand and indices');
  return (ins, into) => {
    const xs = ins[0]!;
    const idx = wrapIndices('gather', ins[1]!, n, axis);
    const o = outputBuffer(into, out.dtype, size);
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
};

const scatterAdd: CpuPreparer = (inputs, params: { axis: number }, out) => {
  const axis = params.axis;
  const { outer, n, inner } = takeLayout('scatter_add', inputs[0]!.shape, axis);
  const P = sizeOf(inputs[1]!.shape);
  check(sizeOf(inputs[2]!.shape) === outer * P * inner, 'scatter_add: updates size does not match operand and indices');
  const size = sizeOf(out.shape);
  const isBool = out.dtype === 'bool';
  return (ins, into) => {
    const idx = wrapIndices('scatter_add', ins[1]!, n, axis);
    const o = outputBuffer(into, out.dtype, size);
    o.set(ins[0]!);
    const u = ins[2]!;
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
};

export const indexingPreparers: ReadonlyMap<string, CpuPreparer> = new Map<string, CpuPreparer>([
  ['gather', gather],
  ['scatter_add', scatterAdd],
]);
