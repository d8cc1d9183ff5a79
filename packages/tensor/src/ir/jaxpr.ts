/**
 * The intermediate representation jit stages programs into: a typed, first-order list of primitive
 * applications in SSA form, printed like JAX's jaxprs.
 *
 *   { lambda a:f32[60,784] ; b:f32[100,784]. let
 *       c:f32[100,60] = dot_general[contract=[[1],[1]], batch=[[],[]]] b a
 *       d:f32[100,60] = logistic c
 *     in (d) }
 *
 * Constants (arrays the function closed over) are `constvars`, bound before the inputs (`invars`).
 */
import type { DType } from '../core/dtype.js';
import type { ConcreteTensor } from '../core/tensor.js';
import type { AbstractValue, Primitive } from '../core/trace.js';

/**
 * A value in a jaxpr: defined once (by an input, a constant or an equation), as JAX's `jax.core.Var`.
 * @example makeJaxpr((x) => x.exp())(array([1, 2])).jaxpr.invars[0]!.aval   // { shape: [2], dtype: 'float32' }
 */
export class Var {
  constructor(
    /** A number unique across all jaxprs (printed names are assigned per jaxpr). */
    readonly id: number,
    /** The value's shape and dtype. */
    readonly aval: AbstractValue,
  ) {}
}

/**
 * One primitive application: `outs = prim[params](inputs...)` (one output, except for fused groups), as JAX's
 * `JaxprEqn`.
 * @example makeJaxpr((x) => x.exp())(array([1, 2])).jaxpr.eqns[0]!.prim.name   // 'exp'
 */
export interface Eqn {
  /** The primitive applied. */
  readonly prim: Primitive;
  /** Its static parameters (e.g. `{ axes: [0] }` for `reduce_sum`). */
  readonly params: unknown;
  /** The variables it reads. */
  readonly inputs: readonly Var[];
  /** The variables it defines. */
  readonly outs: readonly Var[];
}

/**
 * A staged program in SSA form (JAX's `Jaxpr`): constants and inputs, a list of equations, and outputs.
 * @example
 * const { jaxpr } = makeJaxpr((x) => x.exp().sum())(array([1, 2]));
 * jaxpr.eqns.map((e) => e.prim.name);   // ['exp', 'reduce_sum']
 */
export interface Jaxpr {
  /** Variables bound to the constants the function closed over (bound before the inputs). */
  readonly constvars: readonly Var[];
  /** The constants' values, in `constvars` order. */
  readonly consts: readonly ConcreteTensor[];
  /** The inputs: the flattened arguments' leaves, then any captured tracers. */
  readonly invars: readonly Var[];
  /** The equations, in evaluation order. */
  readonly eqns: readonly Eqn[];
  /** The outputs: the flattened result's leaves. */
  readonly outvars: readonly Var[];
}

const SHORT: Record<DType, string> = { float32: 'f32', float64: 'f64', int32: 'i32', bool: 'bool' };

/** Short type, e.g. `f32[100,784]`. */
export function avalToString(a: AbstractValue): string {
  return `${SHORT[a.dtype]}[${a.shape.join(',')}]`;
}

/** Spreadsheet-style names: a, b, ..., z, ba, bb, ... */
function nameOf(i: number): string {
  let s = '';
  let n = i;
  do {
    s = String.fromCharCode(97 + (n % 26)) + s;
    n = Math.floor(n / 26);
  } while (n > 0);
  return s;
}

function paramsToString(params: unknown): string {
  if (params === null || typeof params !== 'object') return '';
  const entries = Object.entries(params as Record<string, unknown>);
  if (entries.length === 0) return '';
  const show = (v: unknown): string => (typeof v === 'object' && v !== null && 'eqns' in v ? '{...}' : JSON.stringify(v));
  return `[${entries.map(([k, v]) => `${k}=${show(v)}`).join(', ')}]`;
}

/** Print a jaxpr readably, naming variables in order of definition. */
export function jaxprToString(j: Jaxpr, indent = ''): string {
  const names = new Map<Var, string>();
  const name = (v: Var): string => {
    let s = names.get(v);
    if (!s) {
      s = nameOf(names.size);
      names.set(v, s);
    }
    return s;
  };
  const decl = (v: Var): string => `${name(v)}:${avalToString(v.aval)}`;
  const head = `{ lambda ${j.constvars.map(decl).join(' ')}${j.constvars.length ? ' ' : ''}; ${j.invars.map(decl).join(' ')}. let`;
  const body = j.eqns.map((e) => {
    const inner = e.params && typeof e.params === 'object' && 'jaxpr' in (e.params as object) ? (e.params as { jaxpr: Jaxpr }).jaxpr : null;
    const line = `${indent}    ${e.outs.map(decl).join(' ')} = ${e.prim.name}${paramsToString(e.params)} ${e.inputs.map(name).join(' ')}`;
    return inner ? `${line}\n${jaxprToString(inner, indent + '      ')}` : line;
  });
  const outs = j.outvars.map((v) => (names.has(v) ? name(v) : `?${v.id}`)).join(', ');
  return [`${indent}${head}`, ...body, `${indent}  in (${outs}) }`].join('\n');
}

/** Counter for fresh variable ids (unique across all jaxprs, so passes can mix them freely). */
let nextId = 0;
export function newVar(aval: AbstractValue): Var {
  return new Var(nextId++, { shape: [...aval.shape], dtype: aval.dtype });
}

/** How many times each var is read (by equations, or as an output). */
export function useCounts(j: Jaxpr): Map<Var, number> {
  const uses = new Map<Var, number>();
  const use = (v: Var): void => {
    uses.set(v, (uses.get(v) ?? 0) + 1);
  };
  for (const e of j.eqns) e.inputs.forEach(use);
  j.outvars.forEach(use);
  return uses;
}
