/**
 * Shape and layout kernels: reshape, transpose, broadcast_in_dim, slice, pad, concatenate,
 * convert_element_type and stop_gradient. All of them are strided copies (see `copyStrided`), except the
 * identities (reshape, stop_gradient), which return the input buffer itself: CPU buffers are immutable.
 */
import type { DType, TypedArray } from '../../core/dtype.js';
import { allocOut, check, copyStrided, sizeOf, stridesOf, type CpuKernel } from './util.js';

const identity: CpuKernel = (inputs, _params, out) => {
  const x = inputs[0]!;
  check(x.handle.length === sizeOf(out.shape), `reshape: size ${x.handle.length} does not match output shape [${out.shape.join(', ')}]`);
  return x.handle;
};

const transposeKernel: CpuKernel = (inputs, params: { perm: readonly number[] }, out) => {
  const x = inputs[0]!;
  const perm = params.perm;
  check(perm.length === x.shape.length, 'transpose: perm length does not match rank');
  const o = allocOut(out);
  const inStrides = stridesOf(x.shape);
  copyStrided(
    x.handle,
    0,
    perm.map((p) => inStrides[p]!),
    o,
    0,
    stridesOf(out.shape),
    out.shape,
  );
  return o;
};

const broadcastInDimKernel: CpuKernel = (inputs, params: { shape: readonly number[]; dims: readonly number[] }, out) => {
  const x = inputs[0]!;
  const dims = params.dims;
  const os = out.shape;
  check(dims.length === x.shape.length, 'broadcast_in_dim: dims length does not match operand rank');
  const o = allocOut(out);
  const inStrides = stridesOf(x.shape);
  const src = new Array<number>(os.length).fill(0);
  for (let i = 0; i < dims.length; i++) {
    const d = dims[i]!;
    const n = x.shape[i]!;
    check(n === os[d] || n === 1, `broadcast_in_dim: operand dim ${i} (${n}) cannot broadcast to ${os[d]}`);
    if (n === os[d]) src[d] = inStrides[i]!;
  }
  copyStrided(x.handle, 0, src, o, 0, stridesOf(os), os);
  return o;
};

const sliceKernel: CpuKernel = (inputs, params: { start: readonly number[]; limit: readonly number[]; step?: readonly number[] }, out) => {
  const x = inputs[0]!;
  const { start } = params;
  const step = params.step ?? start.map(() => 1);
  const o = allocOut(out);
  const inStrides = stridesOf(x.shape);
  let off = 0;
  const src: number[] = [];
  for (let d = 0; d < x.shape.length; d++) {
    off += start[d]! * inStrides[d]!;
    src.push(inStrides[d]! * step[d]!);
  }
  copyStrided(x.handle, off, src, o, 0, stridesOf(out.shape), out.shape);
  return o;
};

const padKernel: CpuKernel = (inputs, params: { lo: readonly number[]; hi: readonly number[]; value: number | boolean }, out) => {
  const x = inputs[0]!;
  const { lo } = params;
  const o = allocOut(out);
  const value = Number(params.value ?? 0);
  if (value !== 0) o.fill(out.dtype === 'bool' ? (value !== 0 ? 1 : 0) : value);
  const os = stridesOf(out.shape);
  let off = 0;
  for (let d = 0; d < lo.length; d++) {
    check(lo[d]! >= 0, 'pad: negative padding is not supported');
    off += lo[d]! * os[d]!;
  }
  copyStrided(x.handle, 0, stridesOf(x.shape), o, off, os, x.shape);
  return o;
};

const concatenateKernel: CpuKernel = (inputs, params: { axis: number }, out) => {
  const axis = params.axis;
  const o = allocOut(out);
  const os = stridesOf(out.shape);
  let at = 0;
  for (const x of inputs) {
    copyStrided(x.handle, 0, stridesOf(x.shape), o, at * os[axis]!, os, x.shape);
    at += x.shape[axis]!;
  }
  check(at === out.shape[axis], 'concatenate: operand sizes along the axis do not add up to the output');
  return o;
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

const convertKernel: CpuKernel = (inputs, params: { dtype: DType }, out) => {
  const x = inputs[0]!;
  const o = allocOut(out);
  convertArray(x.handle, x.dtype, params.dtype ?? out.dtype, o);
  return o;
};

export const shapeKernels: ReadonlyMap<string, CpuKernel> = new Map<string, CpuKernel>([
  ['reshape', identity],
  ['stop_gradient', identity],
  ['transpose', transposeKernel],
  ['broadcast_in_dim', broadcastInDimKernel],
  ['slice', sliceKernel],
  ['pad', padKernel],
  ['concatenate', concatenateKernel],
  ['convert_element_type', convertKernel],
]);
