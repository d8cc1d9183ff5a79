/**
 * Pytrees: nested JS arrays and plain objects whose leaves are tensors (or other values). Transformations
 * flatten their arguments to a list of leaves, work on the leaves, and rebuild the structure.
 * The counterpart of `jax.tree_util` / `jax.tree`.
 * @packageDocumentation
 * @example
 * import { tree, array } from '@xs/tensor';
 * tree.map((x) => x.mul(2), { w: array([1, 2]), b: [array([3])] });   // { b: [[6]], w: [2, 4] }
 */
import { Tensor } from '../core/tensor.js';
import { mapPacked } from '../core/arrays.js';

/** A nested structure of arrays, plain objects and leaves (JAX's pytree; `null`/`undefined` are JAX's `None`). */
export type PyTree<L = Tensor> = L | null | undefined | readonly PyTree<L>[] | { readonly [key: string]: PyTree<L> };

/** The shape of a pytree without its leaves (JAX's `PyTreeDef`); `unflatten` fills one back in. */
export type TreeDef =
  | {
      /** A leaf. */
      readonly kind: 'leaf';
    }
  | {
      /** An empty subtree (`null` or `undefined`). */
      readonly kind: 'none';
    }
  | {
      /** A JS array. */
      readonly kind: 'array';
      /** The structure of each element. */
      readonly children: readonly TreeDef[];
    }
  | {
      /** A plain object. */
      readonly kind: 'object';
      /** Its keys, sorted. */
      readonly keys: readonly string[];
      /** The structure under each key, in `keys` order. */
      readonly children: readonly TreeDef[];
    };

/** Whether `x` is a plain object (a pytree node, not a leaf): `{...}` or `Object.create(null)`, not a Tensor. @internal */
export function isPlainObject(x: unknown): x is Record<string, unknown> {
  if (x === null || typeof x !== 'object' || x instanceof Tensor) return false;
  const proto = Object.getPrototypeOf(x);
  return proto === Object.prototype || proto === null;
}

/**
 * Flatten a pytree into its leaves (depth first; object keys in sorted order, as JAX sorts dict keys) and
 * its structure (`jax.tree_util.tree_flatten`). `null` and `undefined` are empty subtrees (JAX's `None`), not leaves.
 * @example const [leaves, def] = tree.flatten({ w: w, b: [b1, b2] });
 */
export function flatten<L = Tensor>(t: PyTree<L>): [L[], TreeDef] {
  const leaves: L[] = [];
  const walk = (x: unknown): TreeDef => {
    if (x === null || x === undefined) return { kind: 'none' };
    if (Array.isArray(x)) return { kind: 'array', children: mapPacked(x, walk) };
    if (isPlainObject(x)) {
      const keys = Object.keys(x).sort();
      return { kind: 'object', keys, children: mapPacked(keys, (k) => walk(x[k])) };
    }
    leaves.push(x as L);
    return { kind: 'leaf' };
  };
  const def = walk(t);
  return [leaves, def];
}

/**
 * Push the leaves of `t` onto `out` and return true if `t` has the structure `def` (what `flatten(t)[1]`
 * would equal), else return false (`out` then holds some of them). Allocates nothing but `out`'s growth:
 * jit's per-call check that the arguments have the last call's structure.
 * @internal
 */
export function flattenInto<L = Tensor>(def: TreeDef, t: unknown, out: L[]): boolean {
  switch (def.kind) {
    case 'none':
      return t === null || t === undefined;
    case 'leaf':
      if (t === null || t === undefined || Array.isArray(t) || isPlainObject(t)) return false;
      out.push(t as L);
      return true;
    case 'array': {
      const n = def.children.length;
      if (!Array.isArray(t) || t.length !== n) return false;
      for (let i = 0; i < n; i++) if (!flattenInto(def.children[i]!, t[i], out)) return false;
      return true;
    }
    case 'object': {
      if (!isPlainObject(t)) return false;
      const keys = def.keys;
      let count = 0;
      for (const k in t) if (Object.prototype.hasOwnProperty.call(t, k)) count++;
      if (count !== keys.length) return false;
      for (let i = 0; i < keys.length; i++) {
        const k = keys[i]!;
        if (!Object.prototype.hasOwnProperty.call(t, k) || !flattenInto(def.children[i]!, t[k], out)) return false;
      }
      return true;
    }
  }
}

/**
 * Rebuild a pytree of structure `def` from `leaves` (as many as `flatten` produced), as
 * `jax.tree_util.tree_unflatten`.
 * @example tree.unflatten(def, leaves.map((x) => x.mul(2)))
 */
export function unflatten<L = Tensor>(def: TreeDef, leaves: readonly L[]): PyTree<L> {
  let i = 0;
  const build = (d: TreeDef): unknown => {
    switch (d.kind) {
      case 'leaf':
        if (i >= leaves.length) throw new RangeError(`tree.unflatten: structure needs more than ${leaves.length} leaves`);
        return leaves[i++];
      case 'none':
        return null;
      case 'array':
        return mapPacked(d.children, build);
      case 'object':
        return Object.fromEntries(d.keys.map((k, j) => [k, build(d.children[j]!)]));
    }
  };
  const out = build(def);
  if (i !== leaves.length) throw new RangeError(`tree.unflatten: structure has ${i} leaves but ${leaves.length} were given`);
  return out as PyTree<L>;
}

/** The leaves of a pytree, in `flatten` order (`jax.tree_util.tree_leaves`). @example tree.leaves([a, { b }]) // [a, b] */
export function leaves<L = Tensor>(t: PyTree<L>): L[] {
  return flatten(t)[0];
}

/** The structure of a pytree (`jax.tree_util.tree_structure`). @example tree.structure({ a: x }) */
export function structure<L = Tensor>(t: PyTree<L>): TreeDef {
  return flatten(t)[1];
}

/** Number of leaves a structure holds (`PyTreeDef.num_leaves`). @example tree.numLeaves(tree.structure([a, { b }]))   // 2 */
export function numLeaves(def: TreeDef): number {
  switch (def.kind) {
    case 'leaf':
      return 1;
    case 'none':
      return 0;
    default:
      return def.children.reduce((n, c) => n + numLeaves(c), 0);
  }
}

/** True when two structures are the same (`PyTreeDef` equality). @example tree.treeDefEqual(tree.structure(params), tree.structure(grads)) */
export function treeDefEqual(a: TreeDef, b: TreeDef): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/** A readable form of a structure, e.g. `{b: [*, *], w: *}`. @example tree.treeDefToString(tree.structure({ w: x, b: [y, z] }))   // '{b: [*, *], w: *}' */
export function treeDefToString(def: TreeDef): string {
  switch (def.kind) {
    case 'leaf':
      return '*';
    case 'none':
      return 'null';
    case 'array':
      return `[${mapPacked(def.children, treeDefToString).join(', ')}]`;
    case 'object':
      return `{${mapPacked(def.keys, (k, i) => `${k}: ${treeDefToString(def.children[i]!)}`).join(', ')}}`;
  }
}

/**
 * Apply `f` to every leaf (of several trees of the same structure at once), as `jax.tree.map`.
 * @example tree.map((p, g) => p.sub(g.mul(0.01)), params, grads)
 */
export function map<R, L = Tensor>(f: (...xs: L[]) => R, t: PyTree<L>, ...rest: PyTree<L>[]): PyTree<R> {
  const [ls, def] = flatten(t);
  const others = mapPacked(rest, (r, k) => {
    const [rl, rdef] = flatten(r);
    if (!treeDefEqual(def, rdef)) {
      throw new TypeError(`tree.map: tree ${k + 1} has structure ${treeDefToString(rdef)}, expected ${treeDefToString(def)}`);
    }
    return rl;
  });
  return unflatten<R>(def, mapPacked(ls, (x, i) => f(x, ...mapPacked(others, (o) => o[i]!))));
}
