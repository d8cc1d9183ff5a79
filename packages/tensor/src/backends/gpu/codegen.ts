/**
 * Source generation for the GPU backend's gpu.js kernels.
 *
 * A kernel computes one output element per thread: `this.thread.x` is its flat row-major index. Shapes are
 * baked into the source as float literals, so a kernel that needs them compiles once per shape (cached); one
 * that reads only at its own index or at 0 has none and compiles once for all sizes (device.ts). Index
 * arithmetic is done in float32 (GLSL ES 1.0 has no reliable integer division): a coordinate is estimated
 * as `floor((i + 0.5) / d)` and corrected by the exact integer remainder, so it is exact for every flat index
 * below 2^24 (MAX_GPU_SIZE: float32 holds integers exactly up to there) even when the GPU divides as a·(1/b).
 * Every texture read is at an exact integer float offset.
 */
import type { DType } from '../../core/dtype.js';
import { mergeDims, stridesOf } from '../../core/shape.js';
import { read } from './device.js';

/** A float literal for GLSL (gpu.js types `3` as Integer, `3.0` as Number). */
export function lit(n: number): string {
  if (!Number.isFinite(n)) throw new Error(`internal: non-finite literal ${n} in gpu kernel source`);
  let s = String(n);
  if (/e/i.test(s)) s = n.toFixed(20).replace(/0+$/, '');
  if (!/[.]/.test(s)) s += '.0';
  if (s.endsWith('.')) s += '0';
  return s;
}

/**
 * Statements that split the float flat index `idx` over `shape` into coordinate names `${prefix}${d}`.
 * Size-1 dims get coordinate 0.0. Returns the statements; coordinates are declared as consts.
 */
export function decompose(idx: string, shape: readonly number[], prefix: string): string[] {
  const out: string[] = [];
  let rest = idx;
  let first = -1;
  for (let d = 0; d < shape.length; d++) if (shape[d] !== 1) { first = d; break; }
  for (let d = shape.length - 1; d >= 0; d--) {
    const n = shape[d]!;
    const c = `${prefix}${d}`;
    if (n === 1) {
      out.push(`const ${c} = 0.0;`);
    } else if (d === first) {
      out.push(`const ${c} = ${rest};`);
    } else {
      const q = `${prefix}q${d}`;
      // the estimate is off by at most one; the exact integer remainder corrects it
      out.push(`const ${q}e = Math.floor((${rest} + 0.5) / ${lit(n)});`);
      out.push(`const ${q}r = ${rest} - ${q}e * ${lit(n)};`);
      out.push(`const ${q} = ${q}r < 0.0 ? ${q}e - 1.0 : (${q}r >= ${lit(n)} ? ${q}e + 1.0 : ${q}e);`);
      out.push(`const ${c} = ${rest} - ${q} * ${lit(n)};`);
      rest = q;
    }
  }
  return out;
}

/** `base + Σ coord_d · stride_d` as a source expression (terms with stride 0 dropped). */
export function offsetExpr(coords: readonly string[], strides: readonly number[], base = 0): string {
  const terms: string[] = [];
  if (base !== 0) terms.push(lit(base));
  coords.forEach((c, d) => {
    const s = strides[d]!;
    if (s === 0) return;
    terms.push(s === 1 ? c : `${c} * ${lit(s)}`);
  });
  return terms.length === 0 ? '0.0' : terms.join(' + ');
}

/** Assemble a kernel function source. */
export function kernelSource(nArgs: number, body: readonly string[], floatArgs: readonly string[] = []): string {
  const names = [...Array.from({ length: nArgs }, (_, i) => `x${i}`), ...floatArgs];
  return `function (${names.join(', ')}) {\n  const i = this.thread.x * 1.0;\n  ${body.join('\n  ')}\n}`;
}

type Expr = (args: readonly string[], inDTypes: readonly DType[], params: any) => string;
const call = (f: string): Expr => ([a]) => `${f}(${a})`;
const isInt = (d: DType | undefined): boolean => d === 'int32' || d === 'bool';
const cmp = (op: string): Expr => ([a, b]) => `(${a} ${op} ${b} ? 1.0 : 0.0)`;

/**
 * One expression per elementwise primitive, over float values (int32 and bool are stored as exact floats;
 * bool is 0.0/1.0). Used by the op-by-op kernels and by fused groups.
 */
export const ELEMENTWISE: Record<string, Expr> = {
  neg: ([a]) => `(-${a})`,
  exp: call('Math.exp'),
  log: call('Math.log'),
  log1p: call('xs_log1p'),
  expm1: call('xs_expm1'),
  sin: call('Math.sin'),
  cos: call('Math.cos'),
  tanh: call('xs_tanh'),
  logistic: call('xs_sigmoid'),
  sqrt: call('Math.sqrt'),
  abs: call('Math.abs'),
  sign: call('xs_sign'),
  floor: ([a], [d]) => (isInt(d) ? a! : `Math.floor(${a})`),
  ceil: ([a], [d]) => (isInt(d) ? a! : `Math.ceil(${a})`),
  round: ([a], [d]) => (isInt(d) ? a! : `xs_round(${a})`),
  not: ([a], [d]) => (d === 'bool' ? `(1.0 - ${a})` : `(-${a} - 1.0)`),
  add: ([a, b]) => `(${a} + ${b})`,
  sub: ([a, b]) => `(${a} - ${b})`,
  mul: ([a, b]) => `(${a} * ${b})`,
  div: ([a, b], [d]) => (isInt(d) ? `xs_idiv(${a}, ${b})` : `(${a} / ${b})`),
  pow: ([a, b]) => `xs_pow(${a}, ${b})`,
  max: ([a, b]) => `Math.max(${a}, ${b})`,
  min: ([a, b]) => `Math.min(${a}, ${b})`,
  atan2: ([a, b]) => `Math.atan2(${a}, ${b})`,
  and: ([a, b], [d]) => (d === 'bool' ? `Math.min(${a}, ${b})` : `xs_bitand(${a}, ${b})`),
  or: ([a, b], [d]) => (d === 'bool' ? `Math.max(${a}, ${b})` : `xs_bitor(${a}, ${b})`),
  eq: cmp('=='),
  ne: cmp('!='),
  lt: cmp('<'),
  le: cmp('<='),
  gt: cmp('>'),
  ge: cmp('>='),
  select: ([c, a, b]) => `(${c} != 0.0 ? ${a} : ${b})`,
  convert_element_type: ([a], [from], { dtype }: { dtype: DType }) => {
    if (dtype === 'bool') return `(${a} != 0.0 ? 1.0 : 0.0)`;
    if (dtype === 'int32' && !isInt(from)) return `xs_trunc(${a})`;
    return a!;
  },
};

/** Effective strides of an operand of `shape` read over `outShape` (0 on broadcast axes). */
export function broadcastStrides(shape: readonly number[], outShape: readonly number[]): number[] {
  const s = stridesOf(shape);
  for (let d = 0; d < s.length; d++) if (shape[d] === 1 && outShape[d] !== 1) s[d] = 0;
  return s;
}




/**
 * Body statements that read each operand (strided over `outShape`, 0 on broadcast axes) into `v${k}`.
 * Operands whose strides equal the output's read at `i`, scalars at 0; `sizeGeneric` says that every read is
 * one of those two (the kernel then compiles once for all sizes, see device.ts).
 */
export function readOperands(outShape: readonly number[], operandStrides: readonly (readonly number[])[], names: readonly string[]): { body: string[]; sizeGeneric: boolean } {
  const m = mergeDims(outShape, [...operandStrides, stridesOf(outShape)]);
  const outS = m.strides[m.strides.length - 1]!;
  const body: string[] = [];
  const needCoords = operandStrides.some((_, k) => !sameStrides(m.strides[k]!, outS) && m.strides[k]!.some((s) => s !== 0));
  const coords = m.shape.map((_, d) => `c${d}`);
  if (needCoords) body.push(...decompose('i', m.shape, 'c'));
  operandStrides.forEach((_, k) => {
    const s = m.strides[k]!;
    const at = sameStrides(s, outS) ? 'i' : s.every((x) => x === 0) ? '0.0' : offsetExpr(coords, s);
    body.push(`const v${k} = ${read(names[k]!, at)};`);
  });
  return { body, sizeGeneric: !needCoords };
}

function sameStrides(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}
