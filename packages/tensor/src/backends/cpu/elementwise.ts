/**
 * Elementwise kernels: unary maps, broadcasting binary ops, comparisons and `select`.
 *
 * Each op's loop is written out once inside a `switch` (rather than calling a per-op callback per element) so
 * V8 compiles a tight monomorphic-in-op loop. Broadcasting is reduced by `mergeDims` to runs along the
 * innermost merged dimension in which every operand has stride 0 (broadcast) or 1 (contiguous); same-shape
 * and scalar operands are a single run.
 */
import type { TypedArray } from '../../core/dtype.js';
import { allocOut, forEachRun, mergeDims, stridesOf, type CpuInput, type CpuKernel } from './util.js';

// ---------------------------------------------------------------------------------------------------------
// Unary

type U = number;
const U_Neg = 0;
const U_Exp = 1;
const U_Log = 2;
const U_Log1p = 3;
const U_Expm1 = 4;
const U_Sin = 5;
const U_Cos = 6;
const U_Tanh = 7;
const U_Logistic = 8;
const U_Sqrt = 9;
const U_Abs = 10;
const U_Sign = 11;
const U_Floor = 12;
const U_Ceil = 13;
const U_Round = 14;
const U_NotBool = 15;
const U_NotInt = 16;

/** Round half to even (numpy.round / JAX round with ROUND_TO_NEAREST_EVEN). */
export function roundHalfEven(x: number): number {
  const f = Math.floor(x);
  const d = x - f;
  let r: number;
  if (d < 0.5) r = f;
  else if (d > 0.5) r = f + 1;
  else r = f % 2 === 0 ? f : f + 1;
  // keep the sign of zero: round(-0.4) is -0
  return r === 0 && (x < 0 || Object.is(x, -0)) ? -0 : r;
}

function unaryLoop(op: U, x: TypedArray, o: TypedArray, n: number): void {
  switch (op) {
    case U_Neg:
      for (let i = 0; i < n; i++) o[i] = -x[i]!;
      return;
    case U_Exp:
      for (let i = 0; i < n; i++) o[i] = Math.exp(x[i]!);
      return;
    case U_Log:
      for (let i = 0; i < n; i++) o[i] = Math.log(x[i]!);
      return;
    case U_Log1p:
      for (let i = 0; i < n; i++) o[i] = Math.log1p(x[i]!);
      return;
    case U_Expm1:
      for (let i = 0; i < n; i++) o[i] = Math.expm1(x[i]!);
      return;
    case U_Sin:
      for (let i = 0; i < n; i++) o[i] = Math.sin(x[i]!);
      return;
    case U_Cos:
      for (let i = 0; i < n; i++) o[i] = Math.cos(x[i]!);
      return;
    case U_Tanh:
      for (let i = 0; i < n; i++) o[i] = Math.tanh(x[i]!);
      return;
    case U_Logistic:
      for (let i = 0; i < n; i++) {
        const v = x[i]!;
        if (v >= 0) {
          o[i] = 1 / (1 + Math.exp(-v));
        } else {
          const e = Math.exp(v);
          o[i] = e / (1 + e);
        }
      }
      return;
    case U_Sqrt:
      for (let i = 0; i < n; i++) o[i] = Math.sqrt(x[i]!);
      return;
    case U_Abs:
      for (let i = 0; i < n; i++) o[i] = Math.abs(x[i]!);
      return;
    case U_Sign:
      for (let i = 0; i < n; i++) o[i] = Math.sign(x[i]!);
      return;
    case U_Floor:
      for (let i = 0; i < n; i++) o[i] = Math.floor(x[i]!);
      return;
    case U_Ceil:
      for (let i = 0; i < n; i++) o[i] = Math.ceil(x[i]!);
      return;
    case U_Round:
      for (let i = 0; i < n; i++) o[i] = roundHalfEven(x[i]!);
      return;
    case U_NotBool:
      for (let i = 0; i < n; i++) o[i] = x[i] === 0 ? 1 : 0;
      return;
    case U_NotInt:
      for (let i = 0; i < n; i++) o[i] = ~x[i]!;
      return;
  }
}

function unary(op: U): CpuKernel {
  return (inputs, _params, out) => {
    const x = inputs[0]!;
    const o = allocOut(out);
    // integer rounding ops are the identity
    if ((op === U_Floor || op === U_Ceil || op === U_Round) && (x.dtype === 'int32' || x.dtype === 'bool')) {
      o.set(x.handle);
      return o;
    }
    unaryLoop(op, x.handle, o, o.length);
    return o;
  };
}

const notKernel: CpuKernel = (inputs, _params, out) => {
  const x = inputs[0]!;
  const o = allocOut(out);
  if (x.dtype === 'bool') unaryLoop(U_NotBool, x.handle, o, o.length);
  else if (x.dtype === 'int32') unaryLoop(U_NotInt, x.handle, o, o.length);
  else throw new TypeError(`not: expected a bool or int32 operand, got ${x.dtype}`);
  return o;
};

// ---------------------------------------------------------------------------------------------------------
// Binary

type B = number;
const B_Add = 0;
const B_Sub = 1;
const B_Mul = 2;
const B_Div = 3;
const B_IntDiv = 4;
const B_Pow = 5;
const B_Max = 6;
const B_Min = 7;
const B_Atan2 = 8;
const B_And = 9;
const B_Or = 10;
const B_Eq = 11;
const B_Ne = 12;
const B_Lt = 13;
const B_Le = 14;
const B_Gt = 15;
const B_Ge = 16;
const B_IntMul = 17;

/**
 * o[oo + i] = op(a[ao + i·as], b[bo + i·bs]) for i < n. The strides are 0 or 1 (only a multiply per access,
 * which V8 strength-reduces well).
 */
function binLoop(op: B, a: TypedArray, ao: number, as: number, b: TypedArray, bo: number, bs: number, o: TypedArray, oo: number, n: number): void {
  switch (op) {
    case B_Add:
      for (let i = 0; i < n; i++) o[oo + i] = a[ao + i * as]! + b[bo + i * bs]!;
      return;
    case B_Sub:
      for (let i = 0; i < n; i++) o[oo + i] = a[ao + i * as]! - b[bo + i * bs]!;
      return;
    case B_Mul:
      for (let i = 0; i < n; i++) o[oo + i] = a[ao + i * as]! * b[bo + i * bs]!;
      return;
    case B_IntMul:
      // Exact 32-bit wrap-around: a plain float product loses low bits past 2^53.
      for (let i = 0; i < n; i++) o[oo + i] = Math.imul(a[ao + i * as]!, b[bo + i * bs]!);
      return;
    case B_Div:
      for (let i = 0; i < n; i++) o[oo + i] = a[ao + i * as]! / b[bo + i * bs]!;
      return;
    case B_IntDiv:
      for (let i = 0; i < n; i++) {
        const y = b[bo + i * bs]!;
        o[oo + i] = y === 0 ? 0 : (a[ao + i * as]! / y) | 0;
      }
      return;
    case B_Pow:
      for (let i = 0; i < n; i++) o[oo + i] = Math.pow(a[ao + i * as]!, b[bo + i * bs]!);
      return;
    case B_Max:
      for (let i = 0; i < n; i++) o[oo + i] = Math.max(a[ao + i * as]!, b[bo + i * bs]!);
      return;
    case B_Min:
      for (let i = 0; i < n; i++) o[oo + i] = Math.min(a[ao + i * as]!, b[bo + i * bs]!);
      return;
    case B_Atan2:
      for (let i = 0; i < n; i++) o[oo + i] = Math.atan2(a[ao + i * as]!, b[bo + i * bs]!);
      return;
    case B_And:
      for (let i = 0; i < n; i++) o[oo + i] = a[ao + i * as]! & b[bo + i * bs]!;
      return;
    case B_Or:
      for (let i = 0; i < n; i++) o[oo + i] = a[ao + i * as]! | b[bo + i * bs]!;
      return;
    case B_Eq:
      for (let i = 0; i < n; i++) o[oo + i] = a[ao + i * as] === b[bo + i * bs] ? 1 : 0;
      return;
    case B_Ne:
      for (let i = 0; i < n; i++) o[oo + i] = a[ao + i * as] !== b[bo + i * bs] ? 1 : 0;
      return;
    case B_Lt:
      for (let i = 0; i < n; i++) o[oo + i] = a[ao + i * as]! < b[bo + i * bs]! ? 1 : 0;
      return;
    case B_Le:
      for (let i = 0; i < n; i++) o[oo + i] = a[ao + i * as]! <= b[bo + i * bs]! ? 1 : 0;
      return;
    case B_Gt:
      for (let i = 0; i < n; i++) o[oo + i] = a[ao + i * as]! > b[bo + i * bs]! ? 1 : 0;
      return;
    case B_Ge:
      for (let i = 0; i < n; i++) o[oo + i] = a[ao + i * as]! >= b[bo + i * bs]! ? 1 : 0;
      return;
  }
}

/** Effective strides of a broadcast operand over `outShape` (0 along broadcast dims). */
function broadcastStrides(shape: readonly number[], outShape: readonly number[]): number[] {
  const s = stridesOf(shape);
  for (let d = 0; d < s.length; d++) if (shape[d] === 1 && outShape[d] !== 1) s[d] = 0;
  return s;
}

function binaryApply(op: B, a: CpuInput, b: CpuInput, o: TypedArray, outShape: readonly number[]): void {
  const n = o.length;
  if (n === 0) return;
  const an = a.handle.length;
  const bn = b.handle.length;
  // same shape, or scalar on either side: a single run
  if ((an === n || an === 1) && (bn === n || bn === 1)) {
    binLoop(op, a.handle, 0, an === 1 ? 0 : 1, b.handle, 0, bn === 1 ? 0 : 1, o, 0, n);
    return;
  }
  const m = mergeDims(outShape, [broadcastStrides(a.shape, outShape), broadcastStrides(b.shape, outShape), stridesOf(outShape)]);
  const r = m.shape.length - 1;
  const L = m.shape[r]!;
  const as = m.strides[0]![r]!;
  const bs = m.strides[1]![r]!;
  const ah = a.handle;
  const bh = b.handle;
  forEachRun(m, [0, 0, 0], (offs) => binLoop(op, ah, offs[0]!, as, bh, offs[1]!, bs, o, offs[2]!, L));
}

function binary(op: B, intOp?: B): CpuKernel {
  return (inputs, _params, out) => {
    const a = inputs[0]!;
    const b = inputs[1]!;
    const o = allocOut(out);
    const useInt = intOp !== undefined && (out.dtype === 'int32' || out.dtype === 'bool');
    binaryApply(useInt ? intOp : op, a, b, o, out.shape);
    return o;
  };
}

// ---------------------------------------------------------------------------------------------------------
// select(cond, onTrue, onFalse)

function selLoop(c: TypedArray, co: number, cs: number, t: TypedArray, to: number, ts: number, f: TypedArray, fo: number, fs: number, o: TypedArray, oo: number, n: number): void {
  for (let i = 0; i < n; i++) o[oo + i] = c[co + i * cs] !== 0 ? t[to + i * ts]! : f[fo + i * fs]!;
}

const selectKernel: CpuKernel = (inputs, _params, out) => {
  const c = inputs[0]!;
  const t = inputs[1]!;
  const f = inputs[2]!;
  const o = allocOut(out);
  const n = o.length;
  if (n === 0) return o;
  const cn = c.handle.length;
  const tn = t.handle.length;
  const fn = f.handle.length;
  if ((cn === n || cn === 1) && (tn === n || tn === 1) && (fn === n || fn === 1)) {
    selLoop(c.handle, 0, cn === 1 ? 0 : 1, t.handle, 0, tn === 1 ? 0 : 1, f.handle, 0, fn === 1 ? 0 : 1, o, 0, n);
    return o;
  }
  const os = out.shape;
  const m = mergeDims(os, [broadcastStrides(c.shape, os), broadcastStrides(t.shape, os), broadcastStrides(f.shape, os), stridesOf(os)]);
  const r = m.shape.length - 1;
  const L = m.shape[r]!;
  const cs = m.strides[0]![r]!;
  const ts = m.strides[1]![r]!;
  const fs = m.strides[2]![r]!;
  forEachRun(m, [0, 0, 0, 0], (of) => selLoop(c.handle, of[0]!, cs, t.handle, of[1]!, ts, f.handle, of[2]!, fs, o, of[3]!, L));
  return o;
};

export const elementwiseKernels: ReadonlyMap<string, CpuKernel> = new Map<string, CpuKernel>([
  ['neg', unary(U_Neg)],
  ['exp', unary(U_Exp)],
  ['log', unary(U_Log)],
  ['log1p', unary(U_Log1p)],
  ['expm1', unary(U_Expm1)],
  ['sin', unary(U_Sin)],
  ['cos', unary(U_Cos)],
  ['tanh', unary(U_Tanh)],
  ['logistic', unary(U_Logistic)],
  ['sqrt', unary(U_Sqrt)],
  ['abs', unary(U_Abs)],
  ['sign', unary(U_Sign)],
  ['floor', unary(U_Floor)],
  ['ceil', unary(U_Ceil)],
  ['round', unary(U_Round)],
  ['not', notKernel],
  ['add', binary(B_Add)],
  ['sub', binary(B_Sub)],
  ['mul', binary(B_Mul, B_IntMul)],
  ['div', binary(B_Div, B_IntDiv)],
  ['pow', binary(B_Pow)],
  ['max', binary(B_Max)],
  ['min', binary(B_Min)],
  ['atan2', binary(B_Atan2)],
  ['and', binary(B_And)],
  ['or', binary(B_Or)],
  ['eq', binary(B_Eq)],
  ['ne', binary(B_Ne)],
  ['lt', binary(B_Lt)],
  ['le', binary(B_Le)],
  ['gt', binary(B_Gt)],
  ['ge', binary(B_Ge)],
  ['select', selectKernel],
]);
