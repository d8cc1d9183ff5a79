/**
 * Code generation for fused elementwise groups: one specialised JS function per group, a loop nest over
 * the output shape in which each operand is read through its own strides (0 on broadcast axes), every
 * intermediate stays in a local variable, and only the group's outputs are written to memory.
 * Intermediates are rounded to their dtype (Math.fround for float32, |0 for int32) so results match the
 * op-by-op kernels. Float32 groups of simple ops, exp and logistic run as WebAssembly SIMD kernels instead
 * (wasm/elementwise.ts), over the same merged loop structure, with the same results.
 */
import { type DType, type TypedArray, allocate } from '../../core/dtype.js';
import { sizeOf, stridesOf } from '../../core/shape.js';
import { mapPacked } from '../../core/arrays.js';
import { mergeDims } from './util.js';
import { compileWasmFused, countJsFused, wasmFused } from './wasm/elementwise.js';
import type { FusedKernel, KernelInput } from '../backend.js';
import type { Jaxpr, Var } from '../../ir/jaxpr.js';

type Expr = (args: string[], inDTypes: DType[], params: any) => string;

const float = (f: string): Expr => ([a]) => `${f}(${a})`;
const EXPRESSIONS: Record<string, Expr> = {
  neg: ([a]) => `(-${a})`,
  exp: float('Math.exp'),
  log: float('Math.log'),
  log1p: float('Math.log1p'),
  expm1: float('Math.expm1'),
  sin: float('Math.sin'),
  cos: float('Math.cos'),
  tanh: float('Math.tanh'),
  logistic: float('sigmoid'),
  sqrt: float('Math.sqrt'),
  abs: float('Math.abs'),
  sign: float('Math.sign'),
  floor: float('Math.floor'),
  ceil: float('Math.ceil'),
  round: float('roundHalfEven'),
  not: ([a], [d]) => (d === 'bool' ? `(${a} ? 0 : 1)` : `(~${a})`),
  add: ([a, b]) => `(${a} + ${b})`,
  sub: ([a, b]) => `(${a} - ${b})`,
  mul: ([a, b], [d]) => (d === 'int32' ? `Math.imul(${a}, ${b})` : `(${a} * ${b})`),
  div: ([a, b], [d]) => (d === 'int32' ? `(${b} === 0 ? 0 : Math.trunc(${a} / ${b}))` : `(${a} / ${b})`),
  pow: ([a, b]) => `Math.pow(${a}, ${b})`,
  max: ([a, b]) => `Math.max(${a}, ${b})`,
  min: ([a, b]) => `Math.min(${a}, ${b})`,
  atan2: ([a, b]) => `Math.atan2(${a}, ${b})`,
  and: ([a, b]) => `(${a} & ${b})`,
  or: ([a, b]) => `(${a} | ${b})`,
  eq: ([a, b]) => `(${a} === ${b} ? 1 : 0)`,
  ne: ([a, b]) => `(${a} !== ${b} ? 1 : 0)`,
  lt: ([a, b]) => `(${a} < ${b} ? 1 : 0)`,
  le: ([a, b]) => `(${a} <= ${b} ? 1 : 0)`,
  gt: ([a, b]) => `(${a} > ${b} ? 1 : 0)`,
  ge: ([a, b]) => `(${a} >= ${b} ? 1 : 0)`,
  select: ([c, a, b]) => `(${c} ? ${a} : ${b})`,
  convert_element_type: ([a], [from], { dtype }: { dtype: DType }) => {
    if (dtype === 'bool') return `(${a} !== 0 ? 1 : 0)`;
    if (dtype === 'int32' && (from === 'float32' || from === 'float64')) return `(Math.trunc(${a}) | 0)`;
    return a!;
  },
};

/** Round a JS number to what an array of `dtype` would store. */
function roundTo(expr: string, dtype: DType): string {
  if (dtype === 'float32') return `Math.fround(${expr})`;
  if (dtype === 'int32') return `(${expr} | 0)`;
  return expr;
}

function sigmoid(x: number): number {
  if (x >= 0) return 1 / (1 + Math.exp(-x));
  const e = Math.exp(x);
  return e / (1 + e);
}
function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** Compile a fused group into a kernel for the CPU backend. */
export function compileFused(group: Jaxpr): FusedKernel<TypedArray> {
  const shape = group.outvars[0]!.aval.shape;
  const name = new Map<Var, string>();
  group.invars.forEach((v, i) => name.set(v, `x${i}`));

  // Per operand: element strides in the output's index space (0 where it broadcasts). Merging dims where
  // every operand allows it leaves, in the common cases, one flat loop with broadcast operands hoisted.
  const operandStrides = group.invars.map((v) => {
    const s = stridesOf(v.aval.shape);
    return v.aval.shape.map((d, k) => (d === 1 && shape[k] !== 1 ? 0 : s[k]!));
  });
  const size = sizeOf(shape);
  const merged = size === 0 ? { shape: [0], strides: group.invars.map(() => [0]) } : mergeDims(shape, operandStrides);
  const dims = merged.shape;
  if (wasmFused.enabled) {
    const kernel = compileWasmFused(group, dims, merged.strides);
    if (kernel) return kernel;
  }
  countJsFused();
  const inner = dims.length - 1;
  const base = (i: number, k: number): string => (k < 0 ? '0' : `b${i}_${k}`);
  const loops: string[] = [];
  for (let k = 0; k < inner; k++) {
    const offsets = group.invars.map((_, i) => `const ${base(i, k)} = ${base(i, k - 1)} + a${k} * ${merged.strides[i]![k]};`).join(' ');
    loops.push(`for (let a${k} = 0; a${k} < ${dims[k]}; a${k}++) { ${offsets}`);
  }
  // Operands constant along the innermost loop are read once before it.
  const hoisted = group.invars.map((_, i) => merged.strides[i]![inner] === 0);
  const read = (i: number): string => {
    const st = merged.strides[i]![inner]!;
    return `in${i}[${base(i, inner - 1)}${st === 0 ? '' : st === 1 ? ' + j' : ` + j * ${st}`}]`;
  };
  loops.push(...group.invars.map((_, i) => (hoisted[i] ? `const x${i} = ${read(i)};` : '')).filter(Boolean));
  loops.push(`for (let j = 0; j < ${dims[inner]}; j++) {`);
  const rank = dims.length;
  const body: string[] = group.invars.map((_, i) => (hoisted[i] ? '' : `const x${i} = ${read(i)};`)).filter(Boolean);
  group.eqns.forEach((e, n) => {
    const out = e.outs[0]!;
    const v = `t${n}`;
    name.set(out, v);
    const expr = EXPRESSIONS[e.prim.name];
    if (!expr) throw new Error(`internal: no fused expression for ${e.prim.name}`);
    const args = e.inputs.map((x) => name.get(x)!);
    body.push(`const ${v} = ${roundTo(expr(args, e.inputs.map((x) => x.aval.dtype), e.params), out.aval.dtype)};`);
  });
  group.outvars.forEach((v, i) => body.push(`out${i}[p] = ${name.get(v)};`));
  const source = [
    ...group.invars.map((_, i) => `const in${i} = ins[${i}];`),
    ...group.outvars.map((_, i) => `const out${i} = outs[${i}];`),
    'let p = 0;',
    ...loops,
    ...body,
    'p++;',
    '}'.repeat(rank),
  ].join('\n');
  const loop = new Function('ins', 'outs', 'sigmoid', 'roundHalfEven', source) as (
    ins: TypedArray[],
    outs: TypedArray[],
    s: typeof sigmoid,
    r: typeof roundHalfEven,
  ) => void;
  const outDTypes = group.outvars.map((v) => v.aval.dtype);
  // (the operand and output lists are reused from call to call: see FusedKernel)
  const ins = mapPacked(group.invars, () => undefined as unknown as TypedArray);
  const outs = mapPacked(outDTypes, () => undefined as unknown as TypedArray);
  return (inputs: readonly KernelInput<TypedArray>[], buffers?: readonly (TypedArray | undefined)[]) => {
    for (let i = 0; i < ins.length; i++) ins[i] = inputs[i]!.handle;
    for (let i = 0; i < outs.length; i++) outs[i] = buffers?.[i] ?? allocate(outDTypes[i]!, size);
    loop(ins, outs, sigmoid, roundHalfEven);
    ins.fill(undefined as unknown as TypedArray); // (holds no caller's array past the call)
    return outs;
  };
}
