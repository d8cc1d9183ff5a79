/**
 * The interpreter stack, after Autodidax. Every op ends in `bind(primitive, args, params)`. `bind` finds the
 * innermost transformation (the trace of highest level) among its arguments and lets that trace interpret the
 * primitive; a trace's rule usually calls `bind` again on the values one level down, until the evaluation
 * trace at level 0 runs the backend's kernel. Transformations (grad, vmap, jit) are traces pushed on the stack.
 */
import type { DType } from './dtype.js';
import { ConcreteTensor, Tensor } from './tensor.js';
import { formatShape } from './shape.js';
import { getBackend } from '../backends/backend.js';

/**
 * The shape and dtype of a value: all a tracer knows before evaluation (JAX's `ShapedArray` /
 * `jax.ShapeDtypeStruct`).
 */
export interface AbstractValue {
  /** The size of each axis. */
  readonly shape: readonly number[];
  /** The element type. */
  readonly dtype: DType;
}

/**
 * A primitive: one op with all its rules in one place.
 * - `abstractEval` validates the inputs and gives the output's shape and dtype (errors name the op);
 * - the backend's kernel of the same `name` evaluates it;
 * - `vjp` gives input cotangents from the output cotangent (`null` means zero / not differentiable),
 *   written with ops so that it is itself differentiable (higher-order gradients); `wanted[i]` is false
 *   when nobody needs input i's cotangent, so a costly rule (a matmul) may skip it and return null;
 * - `batch` (vmap) gives the batched output and its batch axis from batched inputs.
 *
 * The counterpart of `jax.core.Primitive` and its rules (differentiation is one VJP rule here, where JAX has
 * JVP and transpose rules). `P` is the type of the static parameters. The primitives themselves are not
 * exported; a jaxpr's equations expose them.
 * @example
 * const prim = makeJaxpr((x) => x.exp())(array([1])).jaxpr.eqns[0]!.prim;
 * prim.name;   // 'exp'
 */
export interface Primitive<P = any> {
  /** The primitive's name, as printed in jaxprs and as its kernels are registered (e.g. `'dot_general'`). */
  readonly name: string;
  /**
   * The output's shape and dtype for inputs of these shapes and dtypes (JAX's abstract evaluation rule);
   * throws an error naming the op when the inputs are invalid.
   * @example prim.abstractEval([{ shape: [3], dtype: 'float32' }], {})   // { shape: [3], dtype: 'float32' }
   */
  abstractEval(inputs: readonly AbstractValue[], params: P): AbstractValue;
  /**
   * The reverse-mode rule: the cotangent of each input from the output's cotangent (`null`: zero or not
   * differentiable; also allowed where `wanted[i]` is false). Absent when the primitive has no derivative.
   * @example prim.vjp!(ones([2]), [x], x.exp(), {}, [true])   // [exp(x)] for the `exp` primitive
   */
  vjp?(cotangent: Tensor, inputs: readonly Tensor[], output: Tensor, params: P, wanted: readonly boolean[]): (Tensor | null)[];
  /**
   * The batching rule (`vmap`): the result for inputs batched along `dims` (`null`: not batched), with the
   * output's batch axis. Absent when the primitive cannot be batched.
   * @example prim.batch!([xs], [0], {})   // [exp(xs), 0] for the `exp` primitive
   */
  batch?(args: readonly Tensor[], dims: readonly (number | null)[], params: P): [Tensor, number | null];
}

/** One transformation in progress: its level on the stack and its trace type. */
export class MainTrace {
  constructor(
    readonly level: number,
    readonly makeTrace: (main: MainTrace) => Trace,
    readonly globalData: unknown = undefined,
  ) {}
}

export abstract class Trace {
  constructor(readonly main: MainTrace) {}
  /** Wrap a value that lives outside every transformation. */
  abstract pure(value: Tensor): Tensor;
  /** Wrap a tracer of a lower level (by default the same as `pure`). */
  lift(value: Tensor): Tensor {
    return this.pure(value);
  }
  abstract processPrimitive(prim: Primitive, args: Tensor[], params: unknown): Tensor;
}

/** A value inside a transformation. Its `trace` says which one. */
export abstract class Tracer extends Tensor {
  abstract readonly trace: Trace;
  /** Lower to a simpler value when this tracer carries nothing (e.g. no gradient path). */
  fullLower(): Tensor {
    return this;
  }
}

/** Level 0: evaluate primitives on the arrays' backend. */
class EvalTrace extends Trace {
  pure(value: Tensor): Tensor {
    return value;
  }
  processPrimitive(prim: Primitive, args: Tensor[], params: unknown): Tensor {
    const concrete = args.map((a) => a.concrete(prim.name));
    const out = prim.abstractEval(concrete, params);
    // JS scalars become size-1 arrays on the default backend: size-1 arrays follow the arrays they meet
    // (like JAX's uncommitted arrays) instead of forcing a devicePut
    const backend = (concrete.find((c) => c.size > 1) ?? concrete.find((c) => c.backend !== getBackend()) ?? concrete[0])?.backend;
    if (!backend) throw new Error(`internal: primitive ${prim.name} evaluated with no inputs`);
    for (let i = 0; i < concrete.length; i++) {
      const c = concrete[i]!;
      if (c.backend !== backend && c.size === 1) {
        concrete[i] = new ConcreteTensor(c.shape, c.dtype, backend, backend.upload(c.backend.download(c.handle, c.dtype, 1), c.dtype));
        continue;
      }
      if (c.backend !== backend) {
        throw new Error(`${prim.name}: arrays live on different backends (${backend.name} and ${c.backend.name}); move them with devicePut first`);
      }
    }
    const kernel = backend.kernels.get(prim.name);
    if (!kernel) throw new Error(`${prim.name}: no kernel registered for backend '${backend.name}'`);
    return new ConcreteTensor(out.shape, out.dtype, backend, kernel(concrete, params, out));
  }
}

const traceStack: MainTrace[] = [new MainTrace(0, (m) => new EvalTrace(m))];
/** The trace that captures even constants (jit's staging trace), when one is active. */
let dynamicTrace: MainTrace | null = null;

/**
 * Run `body` with a new transformation on top of the stack. The main trace is popped however `body` ends, so
 * an exception inside a transformation never leaves the stack corrupt.
 */
export function withMainTrace<T>(makeTrace: (main: MainTrace) => Trace, body: (main: MainTrace) => T, globalData?: unknown): T {
  const main = new MainTrace(traceStack.length, makeTrace, globalData);
  traceStack.push(main);
  try {
    return body(main);
  } finally {
    traceStack.pop();
  }
}

/** Like `withMainTrace`, and the new trace also captures values that involve no tracer (used by jit). */
export function withDynamicMainTrace<T>(makeTrace: (main: MainTrace) => Trace, body: (main: MainTrace) => T, globalData?: unknown): T {
  return withMainTrace(makeTrace, (main) => {
    const previous = dynamicTrace;
    dynamicTrace = main;
    try {
      return body(main);
    } finally {
      dynamicTrace = previous;
    }
  }, globalData);
}

function leakedTracerError(value: Tensor): Error {
  return new Error(
    `a traced value of shape ${formatShape(value.shape)} escaped the transformation that created it ` +
      `(a tracer leaked out of grad/vmap/jit, e.g. stored in an outer variable)`,
  );
}

function findTopTrace(args: readonly Tensor[]): Trace {
  let top: MainTrace = traceStack[0]!;
  for (const a of args) {
    if (!(a instanceof Tracer)) continue;
    // A tracer whose transformation has returned must not be used: its trace would silently run a dead tape.
    if (traceStack[a.trace.main.level] !== a.trace.main) throw leakedTracerError(a);
    if (a.trace.main.level > top.level) top = a.trace.main;
  }
  if (dynamicTrace && dynamicTrace.level > top.level) top = dynamicTrace;
  return top.makeTrace(top);
}

function fullRaise(trace: Trace, value: Tensor): Tensor {
  if (!(value instanceof Tracer)) return trace.pure(value);
  const level = value.trace.main.level;
  if (value.trace.main === trace.main) return value;
  if (traceStack[level] !== value.trace.main) throw leakedTracerError(value);
  if (level < trace.main.level) return trace.lift(value);
  throw new Error(`internal: cannot lift a tracer from level ${level} to level ${trace.main.level}`);
}

/**
 * Apply a primitive to arguments: the single entry point of every op (JAX's `Primitive.bind`). The innermost
 * active transformation among the arguments interprets it; eagerly, the backend's kernel runs.
 * @example
 * const exp = makeJaxpr((x) => x.exp())(array([1])).jaxpr.eqns[0]!.prim;
 * bind(exp, [array([0, 1])]);   // [1, 2.71828]
 */
export function bind(prim: Primitive, args: readonly Tensor[], params: unknown = {}): Tensor {
  const trace = findTopTrace(args);
  const raised = args.map((a) => fullRaise(trace, a));
  const out = trace.processPrimitive(prim, raised, params);
  return out instanceof Tracer ? out.fullLower() : out;
}

/**
 * Evaluate a primitive on concrete arrays now, below every active transformation (compile-time work such as
 * constant folding, which may run while an enclosing jit is tracing).
 */
export function evalPrimitive(prim: Primitive, args: readonly ConcreteTensor[], params: unknown): ConcreteTensor {
  return new EvalTrace(traceStack[0]!).processPrimitive(prim, [...args], params) as ConcreteTensor;
}

/** True while jit is staging a function (arrays made now, e.g. folded constants, belong to the compiled jaxpr). */
export function isStaging(): boolean {
  return dynamicTrace !== null;
}
