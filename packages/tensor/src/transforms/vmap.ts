/**
 * Vectorising map as a transformation. A batch tracer carries a value with one extra axis (its batch axis,
 * or none when the value is the same for every example). Each primitive's `batch` rule computes the batched
 * result in one go (a batched matmul, not a loop), so `vmap(f)` runs f once on whole batches.
 */
import { formatShape, normalizeAxis } from '../core/shape.js';
import { Tensor } from '../core/tensor.js';
import { type MainTrace, type Primitive, Trace, Tracer, bind, withMainTrace } from '../core/trace.js';
import { broadcastInDim, moveAxis } from '../ops/structural.js';
import { type PyTree, type TreeDef, flatten, treeDefToString, unflatten } from '../tree/index.js';

class BatchTracer extends Tracer {
  constructor(
    readonly trace: BatchTrace,
    readonly val: Tensor,
    readonly batchDim: number | null,
  ) {
    super();
  }
  get shape(): readonly number[] {
    const s = this.val.shape;
    return this.batchDim === null ? s : [...s.slice(0, this.batchDim), ...s.slice(this.batchDim + 1)];
  }
  get dtype() {
    return this.val.dtype;
  }
  concrete(where: string): never {
    throw new Error(`${where}: cannot read the value of an array inside vmap: it stands for one example of a batch`);
  }
  override placement() {
    return this.val.placement();
  }
  override fullLower(): Tensor {
    return this.batchDim === null ? this.val : this;
  }
}

class BatchTrace extends Trace {
  pure(value: Tensor): Tensor {
    return new BatchTracer(this, value, null);
  }
  processPrimitive(prim: Primitive, args: Tensor[], params: unknown): Tensor {
    const tracers = args as BatchTracer[];
    const vals = tracers.map((t) => t.val);
    const dims = tracers.map((t) => t.batchDim);
    if (dims.every((d) => d === null)) return new BatchTracer(this, bind(prim, vals, params), null);
    if (!prim.batch) throw new Error(`vmap: primitive '${prim.name}' has no batching rule`);
    const [out, dim] = prim.batch(vals, dims, params);
    return new BatchTracer(this, out, dim);
  }
}

/** An axis spec: a number, null (not mapped), or a pytree prefix of them matching the arguments (as JAX's `in_axes`). */
export type AxisSpec = number | null | readonly AxisSpec[] | { readonly [key: string]: AxisSpec };

/** Options of `vmap`. */
export interface VmapOptions {
  /** Axis of each argument to map over (default 0 for all); null leaves an argument unmapped (JAX's `in_axes`). */
  inAxes?: AxisSpec;
  /** Where the mapped axis goes in each output (default 0); null for outputs that do not depend on it (JAX's `out_axes`). */
  outAxes?: AxisSpec;
  /** The batch size, needed only when no argument is mapped (JAX's `axis_size`). */
  axisSize?: number;
}

/** Expand an axis spec (a prefix of the tree) into one axis per leaf of `def`. */
function axesPerLeaf(spec: AxisSpec, def: TreeDef, what: string): (number | null)[] {
  if (spec === null || typeof spec === 'number') {
    const n = countLeaves(def);
    return new Array<number | null>(n).fill(spec);
  }
  if (def.kind === 'array' && Array.isArray(spec) && spec.length === def.children.length) {
    return def.children.flatMap((c, i) => axesPerLeaf((spec as readonly AxisSpec[])[i]!, c, what));
  }
  if (def.kind === 'object' && !Array.isArray(spec) && typeof spec === 'object') {
    const s = spec as { readonly [key: string]: AxisSpec };
    return def.children.flatMap((c, i) => axesPerLeaf(s[def.keys[i]!] ?? null, c, what));
  }
  throw new TypeError(`vmap: ${what} ${JSON.stringify(spec)} does not match the structure ${treeDefToString(def)}`);
}

function countLeaves(def: TreeDef): number {
  return def.kind === 'leaf' ? 1 : def.kind === 'none' ? 0 : def.children.reduce((n, c) => n + countLeaves(c), 0);
}

/**
 * Vectorise `f` over a batch axis (`jax.vmap`). Arguments are pytrees; `inAxes` / `outAxes` take a number,
 * null, or a prefix tree of them. Composes with `grad`: `vmap(grad(loss), { inAxes: [null, 0, 0] })` gives
 * per-example gradients.
 * @example
 * const perExample = vmap(grad(loss), { inAxes: [null, 0, 0] })(params, xs, ys);
 */
export function vmap(f: (...args: any[]) => any, options: VmapOptions = {}): (...args: any[]) => any {
  const { inAxes = 0, outAxes = 0, axisSize } = options;
  return (...args: any[]) => {
    const [leaves, def] = flatten(args as PyTree<unknown>[]);
    if (Array.isArray(inAxes) && inAxes.length !== args.length) {
      throw new TypeError(`vmap: inAxes has ${inAxes.length} entries but the function got ${args.length} arguments`);
    }
    const axes = axesPerLeaf(inAxes, def, 'inAxes');
    let size: number | undefined = axisSize;
    const sizes: string[] = [];
    const normalized = leaves.map((leaf, i) => {
      const a = axes[i]!;
      if (a === null) return null;
      if (!(leaf instanceof Tensor)) throw new TypeError(`vmap: argument leaf ${i} is mapped (axis ${a}) but is not a Tensor`);
      if (leaf.ndim === 0) throw new RangeError(`vmap: argument leaf ${i} is a scalar and cannot be mapped over axis ${a}`);
      const ax = normalizeAxis(a, leaf.ndim, `vmap (inAxes for argument leaf ${i} of shape ${formatShape(leaf.shape)})`);
      sizes.push(`leaf ${i}: axis ${ax} of ${formatShape(leaf.shape)} has size ${leaf.shape[ax]}`);
      if (size === undefined) size = leaf.shape[ax]!;
      else if (leaf.shape[ax] !== size) throw new RangeError(`vmap: mapped axes have different sizes: ${sizes.join('; ')}${axisSize !== undefined ? `; axisSize ${axisSize}` : ''}`);
      return ax;
    });
    if (size === undefined) throw new TypeError('vmap: no argument is mapped (all inAxes are null); pass axisSize');
    const batchSize = size;
    const outs = withMainTrace(
      (main: MainTrace) => new BatchTrace(main),
      (main) => {
        const trace = new BatchTrace(main);
        const tracers = leaves.map((leaf, i) => (normalized[i] === null ? leaf : new BatchTracer(trace, leaf as Tensor, normalized[i]!)));
        const result = f(...(unflatten(def, tracers) as PyTree[]));
        const [outLeaves, outDef] = flatten(result as PyTree<unknown>);
        const lowered = outLeaves.map((o, i): [Tensor, number | null] => {
          if (o instanceof BatchTracer && o.trace.main === main) return [o.val, o.batchDim];
          if (o instanceof Tensor) return [o, null];
          throw new TypeError(`vmap: output leaf ${i} is ${typeof o}, not a Tensor`);
        });
        return { lowered, outDef };
      },
    );
    const outAxesList = axesPerLeaf(outAxes, outs.outDef, 'outAxes');
    const results = outs.lowered.map(([val, bdim], i) => {
      const target = outAxesList[i]!;
      if (target === null) {
        if (bdim !== null) throw new RangeError(`vmap: outAxes is null for output leaf ${i}, but that output varies over the mapped axis`);
        return val;
      }
      const batched = bdim === null ? broadcastInDim(val, [batchSize, ...val.shape], val.shape.map((_, j) => j + 1)) : moveAxis(val, bdim, 0);
      return moveAxis(batched, 0, normalizeAxis(target, batched.ndim, `vmap (outAxes for output leaf ${i})`));
    });
    return unflatten(outs.outDef, results);
  };
}
