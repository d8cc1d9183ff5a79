/**
 * Shape and layout kernels: reshape, transpose, broadcast_in_dim, slice, pad, concatenate,
 * convert_element_type and stop_gradient. All of them are strided copies (see `stridedCopy`, planned when the
 * kernel is prepared), except the identities (reshape, stop_gradient), which return the input buffer itself:
 * CPU buffers are immutable.
 */
import type { DType, TypedArray } from '../../core/dtype.js';
import type { KernelAval, PreparedKernel } from '../backend.js';
import { type CpuPreparer, type StridedCopy, check, outputBuffer, sizeOf, stridesOf, stridedCopy, transposer } from './util.js';

const identity: CpuPreparer = (inputs, _params, out) => {
  const n = sizeOf(inputs[0]!.shape);
  check(n === sizeOf(out.shape), `reshape: size ${n} does not match output shape [${out.shape.join(', ')}]`);
  return (ins) => ins[0]!;
};

/** A kernel that is one strided copy of its operand into a fresh output (every element written). */
function copyKernel(copy: StridedCopy, srcOff: number, out: KernelAval): PreparedKernel<TypedArray> {
  const size = sizeOf(out.shape);
  return (ins, into) => {
    const o = outputBuffer(into, out.dtype, size);
    copy(ins[0]!, srcOff, o, 0);
    return o;
  };
}

const transpose: CpuPreparer = (inputs, params: { perm: readonly number[] }, out) => {
  const x = inputs[0]!;
  const perm = params.perm;
  check(perm.length === x.shape.length, 'transpose: perm length does not match rank');
  const t = transposer(x.shape, perm, out.dtype);
  return (ins, into) => t(ins[0]!, into);
};

const broadcastInDim: CpuPreparer = (inputs, params: { shape: readonly number[]; dims: readonly number[] }, out) => {
  const x = inputs[0]!;
  const dims = params.dims;
  const os = out.shape;
  check(dims.length === x.shape.length, 'broadcast_in_dim: dims length does not match operand rank');
  const inStrides = stridesOf(x.shape);
  const src = new Array<number>(os.length).fill(0);
  for (let i = 0; i < dims.length; i++) {
    const d = dims[i]!;
    const n = x.shape[i]!;
    check(n === os[d] || n === 1, `broadcast_in_dim: operand dim ${i} (${n}) cannot broadcast to ${os[d]}`);
    if (n === os[d]) src[d] = inStrides[i]!;
  }
  return copyKernel(stridedCopy(src, stridesOf(os), os), 0, out);
};

const slice: CpuPreparer = (inputs, params: { start: readonly number[]; limit: readonly number[]; step?: readonly number[] }, out) => {
  const x = inputs[0]!;
  const { start } = params;
  const step = params.step ?? start.map(() => 1);
  const inStrides = stridesOf(x.shape);
  let off = 0;
  const src: number[] = [];
  for (let d = 0; d < x.shape.length; d++) {
    off += start[d]! * inStrides[d]!;
    src.push(inStrides[d]! * step[d]!);
  }
  return copyKernel(stridedCopy(src, stridesOf(out.shape), out.shape), off, out);
};

const pad: CpuPreparer = (inputs, params: { lo: readonly number[]; hi: readonly number[]; value: number | boolean }, out) => {
  const x = inputs[0]!;
  const { lo } = params;
  const value = Number(params.value ?? 0);
  const fill = out.dtype === 'bool' ? (value !== 0 ? 1 : 0) : value;
  const os = stridesOf(out.shape);
  let off = 0;
  for (let d = 0; d < lo.length; d++) {
    check(lo[d]! >= 0, 'pad: negative padding is not supported');
    off += lo[d]! * os[d]!;
  }
  const copy = stridedCopy(stridesOf(x.shape), os, x.shape);
  const size = sizeOf(out.shape);
  return (ins, into) => {
    const o = outputBuffer(into, out.dtype, size).fill(fill); // (the padding: every element not copied over)
    copy(ins[0]!, 0, o, off);
    return o;
  };
};

const concatenate: CpuPreparer = (inputs, params: { axis: number }, out) => {
  const axis = params.axis;
  const os = stridesOf(out.shape);
  const copies: StridedCopy[] = [];
  const offsets: number[] = [];
  let at = 0;
  for (let i = 0; i < inputs.length; i++) {
    const x = inputs[i]!;
    copies.push(stridedCopy(stridesOf(x.shape), os, x.shape));
    offsets.push(at * os[axis]!);
    at += x.shape[axis]!;
  }
  check(at === out.shape[axis], 'concatenate: operand sizes along the axis do not add up to the output');
  const size = sizeOf(out.shape);
  return (ins, into) => {
    const o = outputBuffer(into, out.dtype, size);
    for (let i = 0; i < copies.length; i++) copies[i]!(ins[i]!, 0, o, offsets[i]!);
    return o;
  };
};

/** Convert between dtypes: float→int32 truncates toward zero, →bool is x != 0, bool→number is 0/1. */
export function convertArray(src: TypedArray, from: DType, to: DType, dst: TypedArray): void {
  const n = src.length;
  if (to === 'bool') {
    if (from === 'bool') dst.set(src);
    else for (let i = 0; i < n; i++) dst[i] = src[i] !== 0 ? 1 : 0; // NaN != 0 is true, as in numpy
    return;
  }
  // Int32Array stores ToInt32(x): truncation toward zero (NaN → 0); Float32Array rounds to nearest.
  dst.set(src);
}

const convert: CpuPreparer = (inputs, params: { dtype: DType }, out) => {
  const from = inputs[0]!.dtype;
  const to = params.dtype ?? out.dtype;
  const size = sizeOf(out.shape);
  return (ins, into) => {
    const o = outputBuffer(into, out.dtype, size);
    convertArray(ins[0]!, from, to, o);
    return o;
  };
};

/** The layout primitives' kernels, prepared by jit (cpu/index.ts makes the eager kernels from them). */
export const shapePreparers: ReadonlyMap<string, CpuPreparer> = new Map<string, CpuPreparer>([
  ['reshape', identity],
  ['stop_gradient', identity],
  ['transpose', transpose],
  ['broadcast_in_dim', broadcastInDim],
  ['slice', slice],
  ['pad', pad],
  ['concatenate', concatenate],
  ['convert_element_type', convert],
]);
