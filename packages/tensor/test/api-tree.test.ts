/**
 * Public API: pytrees (`tree`): flatten/unflatten round trips, key order, null leaves, map over several
 * trees, and structure mismatch errors.
 */
import { describe, expect, it } from 'vitest';
import { type PyTree, type TreeDef, Tensor, array, tree } from '../src/index.js';
import fc from 'fast-check';
import { flattenInto } from '../src/tree/index.js';

describe('flatten / unflatten', () => {
  it('round-trips nested arrays and objects', () => {
    const t = { z: 1, a: [2, { y: 3, b: 4 }], m: null };
    const [leaves, def] = tree.flatten<number>(t);
    expect(tree.unflatten(def, leaves)).toEqual(t);
    expect(tree.unflatten(def, leaves.map((x) => x * 10))).toEqual({ z: 10, a: [20, { y: 30, b: 40 }], m: null });
  });

  it('leaves come depth first, object keys in sorted order (as JAX sorts dict keys)', () => {
    const [leaves] = tree.flatten<number>({ z: 1, a: [2, { y: 3, b: 4 }] });
    expect(leaves).toEqual([2, 4, 3, 1]);
    expect(tree.leaves<string>({ b: 'b', a: 'a', c: ['c0', 'c1'] })).toEqual(['a', 'b', 'c0', 'c1']);
    // Insertion order does not matter: the same structure either way.
    expect(tree.treeDefEqual(tree.structure<number>({ a: 1, b: 2 }), tree.structure<number>({ b: 2, a: 1 }))).toBe(true);
    // Unflatten rebuilds keys in sorted order too.
    expect(Object.keys(tree.unflatten(tree.structure<number>({ b: 1, a: 2 }), [7, 8]) as object)).toEqual(['a', 'b']);
  });

  it('tensors are leaves, and keep their identity', () => {
    const w = array([[1, 2]]);
    const b = array([0]);
    const [leaves, def] = tree.flatten({ params: [w, b] });
    expect(leaves).toHaveLength(2);
    expect(leaves[0]).toBe(w);
    expect(leaves[1]).toBe(b);
    expect(tree.treeDefToString(def)).toBe('{params: [*, *]}');
    const back = tree.unflatten(def, leaves) as { params: Tensor[] };
    expect(back.params[0]).toBe(w);
  });

  it('null and undefined are empty subtrees, not leaves', () => {
    const [leaves, def] = tree.flatten<number>([1, null, { a: undefined, b: 2 }]);
    expect(leaves).toEqual([1, 2]);
    expect(tree.treeDefToString(def)).toBe('[*, null, {a: null, b: *}]');
    expect(tree.unflatten(def, [5, 6])).toEqual([5, null, { a: null, b: 6 }]);
    expect(tree.numLeaves(def)).toBe(2);
    expect(tree.flatten<number>(null as unknown as PyTree<number>)).toEqual([[], { kind: 'none' }]);
  });

  it('a bare leaf, empty containers', () => {
    expect(tree.flatten<number>(7)).toEqual([[7], { kind: 'leaf' }]);
    expect(tree.flatten<number>([])).toEqual([[], { kind: 'array', children: [] }]);
    expect(tree.flatten<number>({})).toEqual([[], { kind: 'object', keys: [], children: [] }]);
    expect(tree.unflatten(tree.structure<number>([[], {}]), [])).toEqual([[], {}]);
  });

  it('class instances other than plain objects are leaves', () => {
    class Box {
      constructor(readonly v: number) {}
    }
    const box = new Box(1);
    const [leaves] = tree.flatten<unknown>({ box, xs: [new Box(2)] } as PyTree<unknown>);
    expect(leaves).toHaveLength(2);
    expect(leaves[0]).toBe(box);
    // A prototype-less object is a plain container.
    const bare = Object.assign(Object.create(null) as Record<string, number>, { k: 3 });
    expect(tree.leaves<number>(bare)).toEqual([3]);
  });

  it('structure description and counting', () => {
    const def: TreeDef = tree.structure<number>([1, null, { a: [2, 3] }]);
    expect(tree.treeDefToString(def)).toBe('[*, null, {a: [*, *]}]');
    expect(tree.numLeaves(def)).toBe(3);
    expect(tree.treeDefEqual(tree.structure<number>([1, 2]), tree.structure<number>([3, 4]))).toBe(true);
    expect(tree.treeDefEqual(tree.structure<number>([1, 2]), tree.structure<number>([1, [2]]))).toBe(false);
    expect(tree.treeDefEqual(tree.structure<number>([1, null]), tree.structure<number>([1]))).toBe(false);
  });

  it('unflatten checks the number of leaves', () => {
    const def = tree.structure<number>([1, 2, 3]);
    expect(() => tree.unflatten(def, [1, 2])).toThrow('tree.unflatten: structure needs more than 2 leaves');
    expect(() => tree.unflatten(def, [1, 2, 3, 4])).toThrow('tree.unflatten: structure has 3 leaves but 4 were given');
  });
});

describe('tree.map', () => {
  it('over one tree', () => {
    expect(tree.map<number, number>((x) => x + 1, { a: [1, 2], b: 3 })).toEqual({ a: [2, 3], b: 4 });
  });

  it('over several trees of the same structure (key order may differ)', () => {
    expect(tree.map<number, number>((a, b, c) => a + b + c, { x: 1, y: [2, 3] }, { y: [20, 30], x: 10 }, { x: 100, y: [200, 300] })).toEqual({
      x: 111,
      y: [222, 333],
    });
  });

  it('keeps null subtrees', () => {
    expect(tree.map<number, number>((a, b) => a * b, [1, null, 2], [3, null, 4])).toEqual([3, null, 8]);
  });

  it('over tensors: an SGD step', () => {
    const params = { w: array([1, 2]), b: array(0.5) };
    const grads = { w: array([0.5, 0.5]), b: array(1) };
    const next = tree.map((p: Tensor, g: Tensor) => p.sub(g.mul(0.1)), params, grads) as { w: Tensor; b: Tensor };
    expect(Array.from(next.w.data())).toEqual([Math.fround(0.95), Math.fround(1.95)]);
    expect(next.b.item()).toBe(Math.fround(0.4));
  });

  it('mismatched structures are an error naming both', () => {
    expect(() => tree.map<number, number>((a, b) => a + b, { x: 1, y: [2, 3] }, { x: 1, y: [2] })).toThrow(
      'tree.map: tree 1 has structure {x: *, y: [*]}, expected {x: *, y: [*, *]}',
    );
    expect(() => tree.map<number, number>((a, b) => a + b, { x: 1, y: 2 }, { x: 1, z: 2 })).toThrow('tree.map: tree 1 has structure {x: *, z: *}, expected {x: *, y: *}');
    expect(() => tree.map<number, number>((a, b, c) => a + b + c, [1], [2], [[3]])).toThrow('tree.map: tree 2 has structure [[*]], expected [*]');
    expect(() => tree.map<number, number>((a, b) => a + b, [1, 2], [1, null])).toThrow('tree.map: tree 1 has structure [*, null], expected [*, *]');
    expect(() => tree.map<number, number>((a, b) => a + b, [1, 2], { 0: 1, 1: 2 })).toThrow("tree.map: tree 1 has structure {0: *, 1: *}, expected [*, *]");
  });
});

describe('flattenInto (jit\'s check of a call against the last one)', () => {
  // small random pytrees of numbers, nulls, arrays and objects
  const treeArb = fc.letrec((t) => ({
    node: fc.oneof(
      { depthSize: 'small' },
      fc.integer(),
      fc.constant(null),
      fc.array(t('node'), { maxLength: 3 }),
      fc.dictionary(fc.constantFrom('a', 'b', 'c', 'd'), t('node'), { maxKeys: 3 }),
    ),
  })).node as fc.Arbitrary<PyTree<number>>;

  it('accepts exactly the trees of the same structure, and yields flatten\'s leaves', () => {
    fc.assert(
      fc.property(treeArb, treeArb, (x, y) => {
        const [leavesY, defY] = tree.flatten<number>(y);
        const [, defX] = tree.flatten<number>(x);
        const out: number[] = [];
        const same = flattenInto(defX, y, out);
        expect(same).toBe(tree.treeDefEqual(defX, defY));
        if (same) expect(out).toEqual(leavesY);
      }),
      { numRuns: 300 },
    );
  });
});
