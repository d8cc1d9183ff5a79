/**
 * Reverse-mode autodiff as a transformation. Under `vjp`, every primitive applied to a traced value records a
 * node (primitive, params, inputs, output) on a tape while the primal value is computed one level down.
 * The backward pass walks the tape from the outputs, calling each primitive's `vjp` rule. Those rules are
 * written with ordinary ops, so the backward pass is itself traced by any transformation outside this one:
 * that is all higher-order gradients (`grad(grad(f))`) and `vmap(grad(f))` need.
 */
import { isFloat } from '../core/dtype.js';
import { formatShape, shapesEqual } from '../core/shape.js';
import { Tensor } from '../core/tensor.js';
import { type MainTrace, type Primitive, Trace, Tracer, bind, withMainTrace } from '../core/trace.js';
import { add } from '../ops/elementwise.js';
import { astype } from '../ops/structural.js';
import { onesLike, zerosLike } from '../ops/creation.js';
import { scalar } from '../ops/convert.js';
import { type PyTree, type TreeDef, flatten, map as treeMap, treeDefToString, unflatten } from '../tree/index.js';

/** One recorded primitive application (or, with `prim` null, an input of the differentiated function). */
class TapeNode {
  constructor(
    readonly prim: Primitive | null,
    readonly params: unknown,
    readonly parents: readonly (TapeNode | null)[],
    readonly inputs: readonly Tensor[],
    readonly output: Tensor,
  ) {}
}

class VJPTracer extends Tracer {
  constructor(
    readonly trace: VJPTrace,
    readonly primal: Tensor,
    readonly node: TapeNode | null,
  ) {
    super();
  }
  get shape(): readonly number[] {
    return this.primal.shape;
  }
  get dtype() {
    return this.primal.dtype;
  }
  concrete(where: string) {
    return this.primal.concrete(where);
  }
  override placement() {
    return this.primal.placement();
  }
  override fullLower(): Tensor {
    return this.node === null ? this.primal : this;
  }
}

class VJPTrace extends Trace {
  pure(value: Tensor): Tensor {
    return new VJPTracer(this, value, null);
  }
  processPrimitive(prim: Primitive, args: Tensor[], params: unknown): Tensor {
    const tracers = args as VJPTracer[];
    const primals = tracers.map((t) => t.primal);
    const out = bind(prim, primals, params);
    const tracked = prim.vjp !== undefined && isFloat(out.dtype) && tracers.some((t) => t.node !== null);
    const node = tracked ? new TapeNode(prim, params, tracers.map((t) => t.node), primals, out) : null;
    return new VJPTracer(this, out, node);
  }
}

/** Nodes reachable from `roots`, each after all of its parents (iterative: tapes can be deep). */
function topologicalOrder(roots: readonly TapeNode[]): TapeNode[] {
  const order: TapeNode[] = [];
  const seen = new Set<TapeNode>();
  const stack: [TapeNode, number][] = roots.filter((r) => !seen.has(r) && seen.add(r)).map((r) => [r, 0]);
  while (stack.length > 0) {
    const top = stack[stack.length - 1]!;
    const [node, next] = top;
    if (next < node.parents.length) {
      top[1]++;
      const p = node.parents[next];
      if (p && !seen.has(p)) {
        seen.add(p);
        stack.push([p, 0]);
      }
    } else {
      stack.pop();
      order.push(node);
    }
  }
  return order;
}

/** Run the tape backwards from output cotangents; returns the cotangent of each input node. */
function backward(outNodes: readonly (TapeNode | null)[], outCts: readonly Tensor[], inputNodes: readonly TapeNode[]): (Tensor | null)[] {
  const cts = new Map<TapeNode, Tensor>();
  const accumulate = (node: TapeNode, ct: Tensor): void => {
    const prev = cts.get(node);
    cts.set(node, prev ? add(prev, ct) : ct);
  };
  outNodes.forEach((n, i) => n && accumulate(n, outCts[i]!));
  const order = topologicalOrder(outNodes.filter((n): n is TapeNode => n !== null));
  for (let k = order.length - 1; k >= 0; k--) {
    const node = order[k]!;
    if (node.prim === null) continue;
    const ct = cts.get(node);
    if (!ct) continue;
    cts.delete(node);
    const inCts = node.prim.vjp!(ct, node.inputs, node.output, node.params, node.parents.map((p) => p !== null));
    node.parents.forEach((parent, i) => {
      const c = inCts[i];
      if (!parent || !c) return;
      const input = node.inputs[i]!;
      if (!shapesEqual(c.shape, input.shape)) {
        throw new Error(`internal: vjp rule of ${node.prim!.name} gave a cotangent of shape ${formatShape(c.shape)} for an input of shape ${formatShape(input.shape)}`);
      }
      accumulate(parent, c.dtype === input.dtype ? c : astype(c, input.dtype));
    });
  }
  return inputNodes.map((n) => cts.get(n) ?? null);
}

interface Linearized {
  out: PyTree;
  outLeaves: Tensor[];
  outDef: TreeDef;
  aux: PyTree | undefined;
  inLeaves: Tensor[];
  inDef: TreeDef;
  /** Input cotangents (zeros where no path) from output cotangents, in leaf order. */
  pullback(outCts: readonly Tensor[]): Tensor[];
}

function asLeafTensor(x: unknown, where: string): Tensor {
  if (x instanceof Tensor) return x;
  if (typeof x === 'number') return scalar(x, 'float32');
  throw new TypeError(`${where}: differentiated arguments must be pytrees of Tensors or numbers, found a leaf of type ${typeof x}`);
}

/** Trace `f` at `primals` under reverse mode and return its outputs and a pullback. */
function linearize(f: (...args: any[]) => any, primals: readonly PyTree[], hasAux: boolean, where: string): Linearized {
  const [rawLeaves, inDef] = flatten(primals as PyTree<unknown>[]);
  const inLeaves = rawLeaves.map((x) => asLeafTensor(x, where));
  inLeaves.forEach((x, i) => {
    if (!isFloat(x.dtype)) throw new TypeError(`${where}: input leaf ${i} (of ${treeDefToString(inDef)}) has dtype ${x.dtype}; differentiation needs float inputs`);
  });
  const inputNodes = inLeaves.map((x) => new TapeNode(null, null, [], [], x));
  const traced = withMainTrace(
    (main: MainTrace) => new VJPTrace(main),
    (main) => {
      const trace = new VJPTrace(main);
      const tracers = inLeaves.map((x, i) => new VJPTracer(trace, x, inputNodes[i]!));
      let result = f(...(unflatten(inDef, tracers) as PyTree[]));
      let aux: PyTree | undefined;
      if (hasAux) {
        if (!Array.isArray(result) || result.length !== 2) throw new TypeError(`${where}: with hasAux, f must return a pair [output, aux]`);
        [result, aux] = result as [PyTree, PyTree];
      }
      const [outRaw, outDef] = flatten(result as PyTree<unknown>);
      const lower = (o: unknown): [Tensor, TapeNode | null] => {
        if (o instanceof VJPTracer && o.trace.main === main) return [o.primal, o.node];
        if (o instanceof Tracer && o.trace.main.level > main.level) throw new Error(`${where}: f returned a value traced by a transformation that has ended (a leaked tracer)`);
        return [asLeafTensor(o, where), null];
      };
      const lowered = outRaw.map(lower);
      const auxLowered = aux === undefined ? undefined : treeMap((a: unknown) => (a instanceof Tensor ? lower(a)[0] : a), aux as PyTree<unknown>);
      return { lowered, outDef, aux: auxLowered as PyTree | undefined };
    },
  );
  const outLeaves = traced.lowered.map(([t]) => t);
  const outNodes = traced.lowered.map(([, n]) => n);
  return {
    out: unflatten(traced.outDef, outLeaves),
    outLeaves,
    outDef: traced.outDef,
    aux: traced.aux,
    inLeaves,
    inDef,
    pullback(outCts) {
      if (outCts.length !== outLeaves.length) throw new RangeError(`${where}: expected ${outLeaves.length} output cotangents, got ${outCts.length}`);
      outCts.forEach((c, i) => {
        if (!shapesEqual(c.shape, outLeaves[i]!.shape)) {
          throw new RangeError(`${where}: cotangent ${i} has shape ${formatShape(c.shape)}, the output has shape ${formatShape(outLeaves[i]!.shape)}`);
        }
      });
      const cts = backward(outNodes, outCts, inputNodes);
      return cts.map((c, i) => c ?? zerosLike(inLeaves[i]!));
    },
  };
}

/**
 * The vector-Jacobian product (`jax.vjp`): evaluates `f(...primals)` and returns its output with a function
 * mapping an output cotangent (same structure as the output) to the cotangents of each primal.
 * @example
 * const [y, pullback] = vjp((x) => x.mul(x), array([3]));
 * pullback(array([1]));   // [ array([6]) ]
 * @typeParam F - The type of `f`; the primal output has type `ReturnType<F>`.
 */
export function vjp<F extends (...args: any[]) => any>(f: F, ...primals: PyTree[]): [ReturnType<F>, (cotangent: PyTree) => PyTree[]] {
  const lin = linearize(f, primals, false, 'vjp');
  return [lin.out as ReturnType<F>, (ct: PyTree) => pullbackTree(lin, ct)];
}

/**
 * `vjp` for a function returning `[output, aux]`: returns `[output, pullback, aux]` (`jax.vjp(..., has_aux=True)`).
 * @example const [y, pullback, aux] = vjpWithAux((x) => [x.mul(x), x.sum()], array([3]));
 */
export function vjpWithAux(f: (...args: any[]) => [PyTree, PyTree], ...primals: PyTree[]): [PyTree, (cotangent: PyTree) => PyTree[], PyTree] {
  const lin = linearize(f, primals, true, 'vjp');
  return [lin.out, (ct: PyTree) => pullbackTree(lin, ct), lin.aux as PyTree];
}

function pullbackTree(lin: Linearized, ct: PyTree): PyTree[] {
  const [ctLeaves] = flatten(ct);
  return unflatten(lin.inDef, lin.pullback(ctLeaves.map((c) => asLeafTensor(c, 'vjp')))) as PyTree[];
}

/** Options of `grad` and `valueAndGrad`. */
export interface GradOptions {
  /** Which positional arguments to differentiate: one index (the gradient has that argument's structure) or a list (a list of gradients). Default 0. */
  argnums?: number | readonly number[];
  /** f returns `[loss, aux]`; aux is passed through undifferentiated (JAX's `has_aux`). */
  hasAux?: boolean;
}

/**
 * Returns a function computing `[f(...args), gradient]` (`jax.value_and_grad`). f must return a float scalar.
 * With `hasAux`, it returns `[[value, aux], gradient]`.
 * @example
 * const [loss, g] = valueAndGrad((w, x) => x.matmul(w).sum())(w, x);
 */
export function valueAndGrad(f: (...args: any[]) => any, options: GradOptions = {}): (...args: any[]) => any {
  const { argnums = 0, hasAux = false } = options;
  return (...args: any[]) => {
    const nums = typeof argnums === 'number' ? [argnums] : [...argnums];
    const idx = nums.map((a) => {
      if (!Number.isInteger(a) || a < -args.length || a >= args.length) {
        throw new RangeError(`grad: argnums ${JSON.stringify(argnums)} out of range for ${args.length} positional arguments`);
      }
      return a < 0 ? a + args.length : a;
    });
    const partial = (...diff: any[]) => {
      const full = [...args];
      idx.forEach((a, k) => (full[a] = diff[k]));
      return f(...full);
    };
    const lin = linearize(partial, idx.map((a) => args[a]), hasAux, 'grad');
    if (lin.outLeaves.length !== 1 || lin.outDef.kind !== 'leaf') {
      throw new TypeError(`grad: f must return a single scalar${hasAux ? ' (as the first of [output, aux])' : ''}, got a structure ${treeDefToString(lin.outDef)}`);
    }
    const value = lin.outLeaves[0]!;
    if (value.ndim !== 0) throw new TypeError(`grad: f must return a scalar, got shape ${formatShape(value.shape)} (use vjp, or sum the output)`);
    if (!isFloat(value.dtype)) throw new TypeError(`grad: f must return a float scalar, got dtype ${value.dtype}`);
    const grads = unflatten(lin.inDef, lin.pullback([onesLike(value)])) as PyTree[];
    const g = typeof argnums === 'number' ? grads[0] : grads;
    return hasAux ? [[value, lin.aux], g] : [value, g];
  };
}

/**
 * The gradient of a scalar function (`jax.grad`), with respect to argument `argnums` (default 0), over
 * pytrees. Compose freely: `grad(grad(f))`, `vmap(grad(f))`.
 * @example
 * const df = grad((x) => x.mul(x).sum());
 * df(array([1, 2]));   // [2, 4]
 */
export function grad(f: (...args: any[]) => any, options: GradOptions = {}): (...args: any[]) => any {
  const vg = valueAndGrad(f, options);
  return (...args: any[]) => {
    const [value, g] = vg(...args);
    return options.hasAux ? [g, value[1]] : g;
  };
}

/**
 * The Jacobian-vector product (`jax.jvp`): `[f(...primals), J·tangents]`. Computed by transposing the
 * (linear) pullback, so it costs two reverse passes; fine for checking and for small problems.
 * @example
 * const [y, dy] = jvp((x) => x.mul(x), [array([3])], [array([1])]);   // dy = 6
 */
export function jvp(f: (...args: any[]) => any, primals: readonly PyTree[], tangents: readonly PyTree[]): [PyTree, PyTree] {
  const lin = linearize(f, primals, false, 'jvp');
  const [tangentLeaves, tangentDef] = flatten(tangents as PyTree[]);
  if (treeDefToString(tangentDef) !== treeDefToString(lin.inDef)) {
    throw new TypeError(`jvp: tangents have structure ${treeDefToString(tangentDef)}, primals ${treeDefToString(lin.inDef)}`);
  }
  // Only float outputs have tangents: an int/bool output (an argmax, a mask) gets zeros of its own dtype, and
  // takes no part in the transposition (which may only differentiate with respect to float values).
  const isFloatOut = lin.outLeaves.map((o) => isFloat(o.dtype));
  const zeroCts = lin.outLeaves.filter((_, i) => isFloatOut[i]).map((o) => zerosLike(o));
  const allCts = (u: readonly Tensor[]): Tensor[] => {
    let k = 0;
    return lin.outLeaves.map((o, i) => (isFloatOut[i] ? u[k++]! : zerosLike(o)));
  };
  // u -> pullback(u) is linear; its own pullback applied to the tangents is J·t.
  const transposed = linearize((...u: Tensor[]) => lin.pullback(allCts(u)), zeroCts, false, 'jvp');
  const floatTangents = transposed.pullback(tangentLeaves.map((t, i) => astype(asLeafTensor(t, 'jvp'), lin.inLeaves[i]!.dtype)));
  return [lin.out, unflatten(lin.outDef, allCts(floatTangents))];
}
