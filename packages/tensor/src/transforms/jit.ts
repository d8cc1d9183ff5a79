/**
 * jit: stage a function into a jaxpr once per input signature, optimise it, and run the compiled plan.
 *
 * Staging is one more trace on the interpreter stack: a jaxpr tracer carries only a shape and dtype, and
 * every primitive applied to it appends an equation. It is a *dynamic* trace, so arrays created inside the
 * function (constants) are captured too. Because the staged program is just primitives, calling a jitted
 * function under grad or vmap replays its jaxpr through those transformations: every composition order works.
 *
 * Like JAX, JS side effects inside a jitted function (console.log, pushing to an outer array, reading a
 * global that later changes) happen only while tracing, i.e. on the first call for each input signature.
 */
import { formatShape, shapesEqual } from '../core/shape.js';
import { mapPacked } from '../core/arrays.js';
import { ConcreteTensor, Tensor, markBufferShared } from '../core/tensor.js';
import { type AbstractValue, type MainTrace, type Primitive, Trace, Tracer, bind, withDynamicMainTrace } from '../core/trace.js';
import { type Eqn, type Jaxpr, Var, jaxprToString, newVar } from '../ir/jaxpr.js';
import { optimize } from '../ir/optimize.js';
import { type Executable, compileJaxpr } from '../ir/execute.js';
import { scalar } from '../ops/convert.js';
import { type PyTree, type TreeDef, flatten, flattenInto, isPlainObject, treeDefToString, unflatten } from '../tree/index.js';

class JaxprBuilder {
  readonly eqns: Eqn[] = [];
  readonly constvars: Var[] = [];
  readonly consts: ConcreteTensor[] = [];
  private readonly constIndex = new Map<ConcreteTensor, Var>();
  /** Tracers of enclosing transformations that the function closes over: extra inputs, after the arguments. */
  readonly capturedVars: Var[] = [];
  readonly captured: Tensor[] = [];
  private readonly capturedIndex = new Map<Tensor, Var>();
  capture(t: Tensor): Var {
    let v = this.capturedIndex.get(t);
    if (!v) {
      v = newVar(t);
      this.capturedIndex.set(t, v);
      this.capturedVars.push(v);
      this.captured.push(t);
    }
    return v;
  }
  constVar(c: ConcreteTensor): Var {
    let v = this.constIndex.get(c);
    if (!v) {
      // the compiled function reads this buffer on every call: donating the array elsewhere must not overwrite it
      markBufferShared(c.handle);
      v = newVar(c);
      this.constIndex.set(c, v);
      this.constvars.push(v);
      this.consts.push(c);
    }
    return v;
  }
}

class JaxprTracer extends Tracer {
  constructor(
    readonly trace: JaxprTrace,
    readonly v: Var,
  ) {
    super();
  }
  get shape(): readonly number[] {
    return this.v.aval.shape;
  }
  get dtype() {
    return this.v.aval.dtype;
  }
  concrete(where: string): never {
    throw new Error(
      `${where}: the value of an array of shape ${formatShape(this.shape)} is not known while jit traces the function; ` +
        'compute it outside jit, or mark the argument static with staticArgnums',
    );
  }
}

class JaxprTrace extends Trace {
  private get builder(): JaxprBuilder {
    return this.main.globalData as JaxprBuilder;
  }
  pure(value: Tensor): Tensor {
    const c = value.concrete('jit (a value the function closes over)');
    return new JaxprTracer(this, this.builder.constVar(c));
  }
  /**
   * A tracer of an enclosing transformation (grad, vmap, an outer jit) that the function closes over: it has no
   * value to bake in, so it becomes an input of the jaxpr, passed when the jaxpr is replayed under that
   * transformation (as JAX does), and its derivative / batch axis flows through.
   */
  override lift(value: Tensor): Tensor {
    return new JaxprTracer(this, this.builder.capture(value));
  }
  processPrimitive(prim: Primitive, args: Tensor[], params: unknown): Tensor {
    const inputs = (args as JaxprTracer[]).map((t) => t.v);
    const out = newVar(prim.abstractEval(inputs.map((v) => v.aval), params));
    this.builder.eqns.push({ prim, params, inputs, outs: [out] });
    return new JaxprTracer(this, out);
  }
}

/**
 * A staged function: its jaxpr and the structure of its outputs (like JAX's `ClosedJaxpr`, whose constants
 * live in `jaxpr.consts` here). {@link makeJaxpr} and {@link JittedFunction.lower} return one.
 * @example makeJaxpr((x) => x.exp())(array([1, 2])).jaxpr.eqns.length   // 1
 */
export interface ClosedJaxpr {
  /** The program: constants, inputs, equations and outputs. */
  jaxpr: Jaxpr;
  /** The pytree structure of the function's outputs (the jaxpr's `outvars` are its leaves). */
  outDef: TreeDef;
  /**
   * Tracers of enclosing transformations the function closed over; the jaxpr's last invars stand for them
   * (empty unless the function was staged inside grad/vmap/jit and read one of their values from a closure).
   */
  captured?: readonly Tensor[];
  /**
   * The jaxpr printed as JAX prints one: `{ lambda ; a:f32[2]. let b:f32[2] = exp a in (b) }`.
   * @example console.log(makeJaxpr((x) => x.exp())(array([1, 2])).toString());
   */
  toString(): string;
}

function leafTensor(x: unknown, where: string): Tensor {
  if (x instanceof Tensor) return x;
  if (typeof x === 'number' || typeof x === 'boolean') return scalar(x);
  throw new TypeError(`${where}: arguments must be pytrees of Tensors and numbers (mark other arguments static with staticArgnums), found ${typeof x}`);
}

/** Stage `f` applied to arguments with the avals of `leaves` (structured by `inDef`). */
function stage(f: (...args: any[]) => any, leaves: readonly AbstractValue[], inDef: TreeDef): ClosedJaxpr {
  const builder = new JaxprBuilder();
  return withDynamicMainTrace(
    (main: MainTrace) => new JaxprTrace(main),
    (main) => {
      const trace = new JaxprTrace(main);
      const invars = leaves.map((a) => newVar(a));
      const result = f(...(unflatten(inDef, invars.map((v) => new JaxprTracer(trace, v))) as PyTree[]));
      const [outLeaves, outDef] = flatten(result as PyTree<unknown>);
      const outvars = outLeaves.map((o) => {
        const t = leafTensor(o, 'jit output');
        if (t instanceof JaxprTracer && t.trace.main === main) return t.v;
        if (t instanceof Tracer) throw new Error('jit: the function returned a value traced by another transformation (a leaked tracer)');
        return builder.constVar(t.concrete('jit output'));
      });
      const jaxpr: Jaxpr = { constvars: builder.constvars, consts: builder.consts, invars: [...invars, ...builder.capturedVars], eqns: builder.eqns, outvars };
      return { jaxpr, outDef, captured: builder.captured, toString: () => jaxprToString(jaxpr) };
    },
    builder,
  );
}

/**
 * Evaluate a jaxpr by binding its primitives: under an outer transformation this replays it through that
 * transformation (`jax.core.eval_jaxpr`). `args` are the values of its `invars`, in order.
 * @example
 * const { jaxpr } = makeJaxpr((x) => x.mul(2))(array([1]));
 * evalJaxpr(jaxpr, [array([3])]);   // [array([6])]
 */
export function evalJaxpr(jaxpr: Jaxpr, args: readonly Tensor[]): Tensor[] {
  const env = new Map<Var, Tensor>();
  jaxpr.constvars.forEach((v, i) => env.set(v, jaxpr.consts[i]!));
  jaxpr.invars.forEach((v, i) => env.set(v, args[i]!));
  const read = (v: Var): Tensor => {
    const t = env.get(v);
    if (!t) throw new Error('internal: jaxpr reads a variable before it is defined');
    return t;
  };
  for (const e of jaxpr.eqns) {
    if (e.outs.length !== 1) throw new Error(`internal: evalJaxpr cannot bind the multi-output ${e.prim.name}`);
    env.set(e.outs[0]!, bind(e.prim, e.inputs.map(read), e.params));
  }
  return jaxpr.outvars.map(read);
}

/** Options of `jit` and `makeJaxpr`. */
export interface JitOptions {
  /**
   * Positional arguments that are compile-time values (part of the cache key, not traced), as JAX's
   * `static_argnums`; negative indices count from the end.
   */
  staticArgnums?: readonly number[];
  /**
   * Positional arguments the call may consume, as JAX's `donate_argnums` (`jit` only; `makeJaxpr` ignores
   * it): negative indices count from the end, and every leaf of a pytree argument is donated. Their buffers
   * are handed to the call, which writes outputs of the same dtype and size into them instead of allocating
   * (on the CPU backend; an output never overwrites an input that is still to be read, except in place in
   * an elementwise update such as `p - lr * g`). Whether or not a buffer was reused, the donated arrays are
   * invalid after the call: using one (`data()`, as an op's operand, passing it again) throws
   * "this tensor was donated to a jitted call...". So donate only what the caller replaces by the result,
   * typically the parameters and optimiser state of a training step.
   *
   * A buffer that something else may read is never overwritten: an array passed at another position of the
   * same call too (JAX refuses that call; here it runs, without reuse), an array that shares its buffer with
   * another (an eager `reshape`), a constant of a jitted function, or host memory borrowed with
   * `fromTypedArray(..., { copy: false })`. Donation applies to a call on concrete arrays; under grad or vmap
   * a jitted function is replayed and its arguments are left alone. The gpu backend only invalidates
   * donated arrays and releases their buffers (a texture cannot be read and written by one draw).
   * @example
   * const step = jit((p, x, y) => tree.map((w, g) => w.sub(g.mul(0.01)), p, grad(loss)(p, x, y)), { donateArgnums: [0] });
   * for (const [x, y] of batches) params = step(params, x, y);   // the new params reuse the old ones' buffers
   */
  donateArgnums?: readonly number[];
}

/** The argument positions in `argnums` (negative from the end), checked against `args`. */
function argPositions(argnums: readonly number[], nArgs: number, what: string, where: string): Set<number> {
  for (const n of argnums) {
    if (!Number.isInteger(n) || n >= nArgs || n < -nArgs) throw new RangeError(`${where}: ${what} ${n} out of range for ${nArgs} arguments`);
  }
  return new Set(argnums.map((n) => (n < 0 ? n + nArgs : n)));
}

function splitArgs(args: readonly unknown[], staticArgnums: readonly number[], where: string) {
  const statics = argPositions(staticArgnums, args.length, 'staticArgnums', where);
  const isStatic = mapPacked(args, (_, i) => statics.has(i));
  const dynamic: unknown[] = [];
  for (let i = 0; i < args.length; i++) if (!isStatic[i]) dynamic.push(args[i]);
  const flat = flatten(dynamic as PyTree<unknown>[]); // (indexed, not destructured: docs/architecture.md, the per-call path)
  const inDef = flat[1];
  const leaves = mapPacked(flat[0], (x) => leafTensor(x, where));
  const rebuild = (dyn: PyTree[]): unknown[] => {
    let k = 0;
    return mapPacked(args, (a, i) => (isStatic[i] ? a : dyn[k++]));
  };
  const staticKey = mapPacked(args, (a, i) => (isStatic[i] ? staticKeyOf(a) : '_')).join('|');
  return { leaves, inDef, rebuild, staticKey, isStatic };
}

/** Identities of static arguments compared by reference (functions, class instances, symbols). */
const staticIdentities = new WeakMap<object, number>();
const symbolIdentities = new Map<symbol, number>();
let nextStaticIdentity = 0;

/**
 * The cache key of a static argument: numbers, strings, booleans, null/undefined, and arrays and plain objects
 * of them by value (NaN, ±Infinity and -0 kept apart, unlike JSON); anything else (a function, a class
 * instance) by identity, as JAX hashes a static callable.
 */
function staticKeyOf(v: unknown): string {
  switch (typeof v) {
    case 'number':
      return Object.is(v, -0) ? 'n-0' : `n${v}`;
    case 'string':
      return `s${JSON.stringify(v)}`;
    case 'boolean':
    case 'undefined':
    case 'bigint':
      return `${typeof v}:${String(v)}`;
    case 'symbol': {
      let id = symbolIdentities.get(v);
      if (id === undefined) symbolIdentities.set(v, (id = nextStaticIdentity++));
      return `#${id}`;
    }
  }
  if (v === null) return 'null';
  if (Array.isArray(v)) return `[${v.map(staticKeyOf).join(',')}]`;
  if (isPlainObject(v)) return `{${Object.keys(v).sort().map((k) => `${JSON.stringify(k)}:${staticKeyOf(v[k])}`).join(',')}}`;
  let id = staticIdentities.get(v as object);
  if (id === undefined) staticIdentities.set(v as object, (id = nextStaticIdentity++));
  return `#${id}`;
}

function signature(leaves: readonly Tensor[], inDef: TreeDef, staticKey: string): string {
  return `${treeDefToString(inDef)}|${mapPacked(leaves, (l) => `${l.dtype}[${l.shape.join(',')}]`).join(';')}|${staticKey}`;
}

/**
 * Print the jaxpr of `f` at these arguments (`jax.make_jaxpr`).
 * @example
 * console.log(makeJaxpr((x) => np.sin(x).mul(2))(array([1, 2])).toString());
 */
export function makeJaxpr(f: (...args: any[]) => any, options: JitOptions = {}): (...args: any[]) => ClosedJaxpr {
  return (...args: any[]) => {
    const { leaves, inDef, rebuild } = splitArgs(args, options.staticArgnums ?? [], 'makeJaxpr');
    return stage((...dyn: PyTree[]) => f(...rebuild(dyn)), leaves, inDef);
  };
}

/**
 * A jitted function, with a look at what it compiled (what `jax.jit` returns).
 * @example
 * const f = jit((x) => x.mul(2).add(1));
 * f(array([1, 2]));   // [3, 5]
 */
export interface JittedFunction {
  /** Run the function: traced and compiled on the first call for each input signature, then from the cache. */
  (...args: any[]): any;
  /**
   * The optimised jaxpr compiled for these arguments (compare JAX's `jitted.lower(...)`).
   * @example jit((x) => x.exp().mul(2)).lower(array([1, 2])).toString()
   */
  lower(...args: any[]): ClosedJaxpr;
  /** How many input signatures have been compiled. */
  readonly cacheSize: number;
}

/**
 * Compile `f` (`jax.jit`): traced once per input signature (tree structure, shapes, dtypes, static
 * values), optimised, and run as a compiled plan. Composes with grad and vmap in any order. See
 * {@link JitOptions} for static and donated arguments.
 * @example
 * const step = jit((params, x, y) => tree.map((p, g) => p.sub(g.mul(0.01)), params, grad(loss)(params, x, y)));
 * @example
 * const update = jit((p, g) => p.sub(g.mul(0.01)), { donateArgnums: [0] });
 * w = update(w, g);   // written over the old w's buffer; the old w can no longer be used
 */
export function jit(f: (...args: any[]) => any, options: JitOptions = {}): JittedFunction {
  const staticArgnums = options.staticArgnums ?? [];
  const donateArgnums = options.donateArgnums ?? [];
  interface Entry {
    staged: ClosedJaxpr;
    /** Optimised on first need (not when the entry is only replayed under another transformation). */
    optimized: ClosedJaxpr | null;
    run: Executable | null;
    /** Per leaf: whether its argument is donated. */
    donated: boolean[];
  }
  const cache = new Map<string, Entry>();
  const donatedLeaves = (args: readonly unknown[], isStatic: readonly boolean[]): boolean[] => {
    if (donateArgnums.length === 0) return [];
    const donate = argPositions(donateArgnums, args.length, 'donateArgnums', 'jit');
    for (const i of donate) if (isStatic[i]) throw new Error(`jit: argument ${i} is both static (staticArgnums) and donated (donateArgnums)`);
    return args.flatMap((a, i) => (isStatic[i] ? [] : flatten(a as PyTree<unknown>)[0].map(() => donate.has(i))));
  };
  // The last call's signature, checked first without building the cache key (a training loop calls with one
  // signature): its entry, which arguments were static and their values, the structure of each dynamic one,
  // and its leaves' shapes and dtypes. Kept only where every static argument is keyed by identity (a value, a
  // function, an instance), so that `Object.is` decides; arrays and plain objects are keyed by their contents,
  // which may have changed since, so calls with them always build the key.
  let last: { entry: Entry; isStatic: readonly boolean[]; statics: readonly unknown[]; dynamicDefs: readonly TreeDef[]; avals: readonly AbstractValue[] } | undefined;
  const sameAsLast = (args: readonly unknown[]): Tensor[] | undefined => {
    if (!last || args.length !== last.isStatic.length) return undefined;
    const leaves: Tensor[] = [];
    let d = 0;
    let st = 0;
    for (let i = 0; i < args.length; i++) {
      if (last.isStatic[i] ? !Object.is(args[i], last.statics[st++]) : !flattenInto(last.dynamicDefs[d++]!, args[i], leaves)) return undefined;
    }
    // (the same structure: as many leaves)
    for (let k = 0; k < leaves.length; k++) {
      const l = leaves[k];
      const a = last.avals[k]!;
      if (!(l instanceof Tensor) || l.dtype !== a.dtype || !shapesEqual(l.shape, a.shape)) return undefined;
    }
    return leaves;
  };
  const entryFor = (args: readonly unknown[]) => {
    const fast = sameAsLast(args);
    if (fast) return { entry: last!.entry, leaves: fast };
    const { leaves, inDef, rebuild, staticKey, isStatic } = splitArgs(args, staticArgnums, 'jit');
    const key = signature(leaves, inDef, staticKey);
    let entry = cache.get(key);
    if (!entry) {
      const donated = donatedLeaves(args, isStatic);
      const staged = stage((...dyn: PyTree[]) => f(...rebuild(dyn)), leaves, inDef);
      entry = { staged, optimized: null, run: null, donated };
      // A program that closed over tracers of an enclosing transformation is only valid during this call.
      if (!staged.captured?.length) cache.set(key, entry);
    }
    const statics = args.filter((_, i) => isStatic[i]);
    if (cache.get(key) === entry && inDef.kind === 'array' && !statics.some((v) => Array.isArray(v) || isPlainObject(v))) {
      last = { entry, isStatic, statics, dynamicDefs: inDef.children, avals: mapPacked(leaves, (l) => ({ shape: l.shape, dtype: l.dtype })) };
    }
    return { entry, leaves };
  };
  const optimizedOf = (entry: Entry): ClosedJaxpr => {
    if (!entry.optimized) {
      const jaxpr = optimize(entry.staged.jaxpr);
      entry.optimized = { jaxpr, outDef: entry.staged.outDef, captured: entry.staged.captured, toString: () => jaxprToString(jaxpr) };
    }
    return entry.optimized;
  };
  const jitted = ((...args: any[]) => {
    const { entry, leaves } = entryFor(args);
    const captured = entry.staged.captured ?? [];
    if (captured.length > 0 || leaves.some((l) => l instanceof Tracer)) {
      // Inside another transformation: replay the staged program through it.
      return unflatten(entry.staged.outDef, evalJaxpr(entry.staged.jaxpr, [...leaves, ...captured]));
    }
    const optimized = optimizedOf(entry);
    entry.run ??= compileJaxpr(optimized.jaxpr, undefined, entry.donated, f.name || 'anonymous');
    return unflatten(optimized.outDef, entry.run(mapPacked(leaves, (l) => l.concrete('jit'))));
  }) as JittedFunction;
  jitted.lower = (...args: any[]) => optimizedOf(entryFor(args).entry);
  Object.defineProperty(jitted, 'cacheSize', { get: () => cache.size });
  return jitted;
}
