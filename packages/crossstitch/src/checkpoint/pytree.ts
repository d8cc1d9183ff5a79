/**
 * Pytrees in checkpoints: a nested structure of arrays and plain objects with tensor leaves is stored as
 * flat names joined with dots — `{ mnist: [[w0, b0], [w1, b1]] }` becomes `mnist.0.0`, `mnist.0.1`,
 * `mnist.1.0`, `mnist.1.1` — and rebuilt on load, from a template or from the names alone.
 */
import { type DType, type PyTree, Tensor } from '@xs/tensor';
import { type LoadOptions, type LoadedCheckpoint, type TensorExpectation, CheckpointError, loadSafetensors, saveSafetensors } from './safetensors.js';

function isPlainObject(x: unknown): x is Record<string, unknown> {
  if (x === null || typeof x !== 'object' || x instanceof Tensor || Array.isArray(x)) return false;
  const proto = Object.getPrototypeOf(x);
  return proto === Object.prototype || proto === null;
}

function checkKey(key: string, path: string): void {
  if (key === '' || key.includes('.')) throw new RangeError(`flattenPytree: key ${JSON.stringify(key)} at ${path || '<root>'} cannot be stored (keys must be non-empty and contain no '.')`);
  if (/^\d+$/.test(key)) throw new RangeError(`flattenPytree: object key ${JSON.stringify(key)} at ${path || '<root>'} looks like an array index; it could not be told apart from one on load`);
}

/** Walk a pytree, calling `leaf(path, value)` for every leaf (arrays by index, objects by sorted key; null/undefined skipped). */
function walk(t: unknown, path: string, leaf: (path: string, value: unknown) => void): void {
  if (t === null || t === undefined) return;
  const join = (k: string): string => (path === '' ? k : `${path}.${k}`);
  if (Array.isArray(t)) {
    t.forEach((c, i) => walk(c, join(String(i)), leaf));
    return;
  }
  if (isPlainObject(t)) {
    for (const k of Object.keys(t).sort()) {
      checkKey(k, path);
      walk(t[k], join(k), leaf);
    }
    return;
  }
  if (path === '') throw new TypeError('flattenPytree: the root must be an array or a plain object, not a single leaf');
  leaf(path, t);
}

/**
 * A pytree's tensors by dotted path: array elements by index, object entries by key.
 * @example flattenPytree({ mnist: [[w, b]] }) // { 'mnist.0.0': w, 'mnist.0.1': b }
 */
export function flattenPytree(tree: PyTree): Record<string, Tensor> {
  const out: Record<string, Tensor> = {};
  walk(tree, '', (path, value) => {
    if (!(value instanceof Tensor)) throw new TypeError(`flattenPytree: leaf at ${path} is ${typeof value}, not a Tensor`);
    out[path] = value;
  });
  return out;
}

/**
 * Rebuild a pytree from dotted names. With a `template`, the result has the template's structure (every
 * template leaf's path must be present). Without one, names are split on dots and levels whose keys are
 * exactly `0..n-1` become arrays.
 * @example unflattenPytree({ 'a.0': x, 'a.1': y, b: z }) // { a: [x, y], b: z }
 */
export function unflattenPytree(named: Readonly<Record<string, Tensor>>, template?: PyTree<unknown>): PyTree {
  if (template !== undefined) {
    const rebuild = (t: unknown, path: string): unknown => {
      if (t === null || t === undefined) return t;
      const join = (k: string): string => (path === '' ? k : `${path}.${k}`);
      if (Array.isArray(t)) return t.map((c, i) => rebuild(c, join(String(i))));
      if (isPlainObject(t)) return Object.fromEntries(Object.keys(t).map((k) => [k, rebuild(t[k], join(k))]));
      const v = named[path];
      if (!v) throw new RangeError(`unflattenPytree: no tensor named ${JSON.stringify(path)}`);
      return v;
    };
    return rebuild(template, '') as PyTree;
  }
  const root: Record<string, unknown> = {};
  for (const name of Object.keys(named).sort()) {
    const parts = name.split('.');
    let node = root;
    parts.forEach((p, i) => {
      if (p === '') throw new RangeError(`unflattenPytree: name ${JSON.stringify(name)} has an empty path segment`);
      if (i === parts.length - 1) {
        if (p in node) throw new RangeError(`unflattenPytree: ${JSON.stringify(name)} is both a tensor and a prefix of other names`);
        node[p] = named[name];
        return;
      }
      const next = node[p];
      if (next instanceof Tensor) throw new RangeError(`unflattenPytree: ${JSON.stringify(parts.slice(0, i + 1).join('.'))} is both a tensor and a prefix of ${JSON.stringify(name)}`);
      if (next === undefined) node[p] = {};
      node = node[p] as Record<string, unknown>;
    });
  }
  const arrays = (x: unknown): unknown => {
    if (x instanceof Tensor || !isPlainObject(x)) return x;
    const keys = Object.keys(x);
    const asArray = keys.length > 0 && keys.every((k) => /^\d+$/.test(k)) && keys.map(Number).sort((a, b) => a - b).every((k, i) => k === i);
    if (asArray) return keys.map(Number).sort((a, b) => a - b).map((k) => arrays(x[String(k)]));
    return Object.fromEntries(keys.sort().map((k) => [k, arrays(x[k])]));
  };
  return arrays(root) as PyTree;
}

/**
 * Save a pytree of tensors as a safetensors file (names from {@link flattenPytree}), atomically.
 * @example savePytree('run/params.safetensors', { mnist: paramsMnist, fashion: paramsFashion }, { epoch: '5' });
 */
export function savePytree(path: string, tree: PyTree, metadata: Readonly<Record<string, string>> = {}): void {
  saveSafetensors(path, flattenPytree(tree), metadata);
}

/**
 * A template leaf standing for a tensor of a given shape and dtype, for {@link loadPytree} without real tensors.
 * @example loadPytree(path, { w: new TensorSpec([60, 784], 'float32') })
 */
export class TensorSpec {
  /**
   * @example
   * const spec = new TensorSpec([60, 784], 'float32');
   */
  constructor(
    /** Expected shape. */
    readonly shape: readonly number[],
    /** Expected dtype. */
    readonly dtype: DType,
  ) {}
}

/** Options of {@link loadPytree}. */
export interface LoadPytreeOptions {
  /** With a template: also accept tensors the template does not name (default false). */
  allowExtra?: boolean;
}

/**
 * Load a pytree saved by {@link savePytree}. With a `template` (a pytree of the same structure whose leaves are
 * tensors or {@link TensorSpec}s), the file must hold exactly the template's names with the same shapes and
 * dtypes, and the result has the template's structure; without one, the structure comes from the names.
 * @example const { tree } = loadPytree('run/params.safetensors', { mnist: paramsMnist });
 */
export function loadPytree(path: string, template?: PyTree<unknown>, opts: LoadPytreeOptions = {}): {
  /** The loaded tensors, in the template's structure (or the one the names give). */
  tree: PyTree;
  /** The file's string metadata (`__metadata__`). */
  metadata: Record<string, string>;
} {
  let loaded: LoadedCheckpoint;
  if (template === undefined) {
    loaded = loadSafetensors(path);
    return { tree: unflattenPytree(loaded.tensors), metadata: loaded.metadata };
  }
  const expect: Record<string, TensorExpectation> = {};
  walk(template, '', (p, v) => {
    if (!(v instanceof Tensor) && !(v instanceof TensorSpec)) throw new TypeError(`loadPytree: template leaf at ${p} must be a Tensor or a TensorSpec`);
    expect[p] = { shape: v.shape, dtype: v.dtype };
  });
  const loadOpts: LoadOptions = { expect, allowExtra: opts.allowExtra ?? false };
  loaded = loadSafetensors(path, loadOpts);
  try {
    return { tree: unflattenPytree(loaded.tensors, template), metadata: loaded.metadata };
  } catch (err) {
    throw new CheckpointError(path, (err as Error).message);
  }
}
