/**
 * Composition of transformations: for random float64 inputs and a few representative functions (the seed
 * MLP loss at 12→6→4→3, smooth and piecewise functions, random programs), every order of jit / vmap / grad
 * agrees with the plain computation (eager grad, and loops over examples for vmap). Also: per-example
 * gradients of the seed loss summed equal the gradient of the summed loss, with the sum outside or inside
 * the jitted function (where the contract-summed-batch rewrite must leave no [B, ...] outer products), and
 * JS side effects inside jit happen only at trace time.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { type PyTree, type Tensor, array, grad, jit, makeJaxpr, nn, numpy as np, tree, valueAndGrad, vmap } from '../src/index.js';
import { buildProgram, compareTrees, describeProgram, generateProgram, randomInts, randomTensor, rngFrom } from './helpers/random-programs.js';

const TOL = { rtol: 1e-10, atol: 1e-12 };
const seedArb = fc.integer({ min: 0, max: 0x7fffffff });

function expectTreeClose(actual: unknown, expected: unknown, context = ''): void {
  const m = compareTrees(actual, expected, TOL);
  if (m) throw new Error(`${m}${context ? `\n${context}` : ''}`);
}

/** Row i of x along axis 0. */
const row = (x: Tensor, i: number): Tensor => np.slice(x, x.shape.map((_, k) => (k === 0 ? i : 0)), x.shape.map((d, k) => (k === 0 ? i + 1 : d))).reshape(x.shape.slice(1));
/** Stack a per-example function over axis 0 of x (pytree results stacked leaf by leaf). */
function loop(f: (x: Tensor) => unknown, x: Tensor): unknown {
  const outs = Array.from({ length: x.shape[0]! }, (_, i) => f(row(x, i)));
  return tree.map((...leaves: Tensor[]) => np.stack(leaves), outs[0] as PyTree, ...(outs.slice(1) as PyTree[]));
}

// ---------------------------------------------------------------- the seed MLP at 12→6→4→3

type Params = [Tensor, Tensor][];
const SIZES = [12, 6, 4, 3];

function initParams(seed: number): Params {
  const rng = rngFrom(seed);
  return [0, 1, 2].map((i) => [randomTensor(rng, [SIZES[i + 1]!, SIZES[i]!], 'float64', -0.6, 0.6), randomTensor(rng, [SIZES[i + 1]!], 'float64', -0.2, 0.2)] as [Tensor, Tensor]);
}
/** The seed notebook's network: two sigmoid layers, softmax output (no bias on the last layer). */
function predict(p: Params, x: Tensor): Tensor {
  const h1 = nn.sigmoid(np.add(np.matmul(x, p[0]![0].T), p[0]![1]));
  const h2 = nn.sigmoid(np.add(np.matmul(h1, p[1]![0].T), p[1]![1]));
  return nn.softmax(np.matmul(h2, p[2]![0].T));
}
/** The seed notebook's NLL for one example with a one-hot target. */
const seedLoss = (p: Params, x: Tensor, t: Tensor): Tensor => np.negative(np.log(np.take(predict(p, x), np.argmax(t))));

function batch(seed: number, b: number): { xs: Tensor; ts: Tensor } {
  const rng = rngFrom(seed);
  return { xs: randomTensor(rng, [b, SIZES[0]!], 'float64', -1, 1), ts: np.oneHot(randomInts(rng, [b], 0, SIZES[3]! - 1), SIZES[3]!, 'float64') };
}

// ---------------------------------------------------------------- representative scalar functions of one array

interface Case {
  name: string;
  shape: number[];
  f: (x: Tensor) => Tensor;
}
const W = randomTensor(rngFrom(99), [2, 4]);
const P0 = initParams(7);
const T0 = np.oneHot(array([1], 'int32'), 3, 'float64').reshape([3]);
const CASES: Case[] = [
  { name: 'smooth', shape: [3, 2], f: (x) => np.sin(x).mul(x).sum().add(np.logsumexp(x)) },
  { name: 'matmul + closure constant', shape: [3, 2], f: (x) => np.square(np.tanh(np.matmul(x, W))).sum() },
  { name: 'piecewise (relu, where, max)', shape: [2, 3], f: (x) => nn.relu(x.sub(0.1)).mul(np.where(x.greater(0), x, x.mul(x))).sum().add(x.max(1).sum()) },
  { name: 'structural (concat, slice, transpose, take)', shape: [2, 3], f: (x) => np.take(np.concatenate([x, x.mul(2)], 0).T, array([0, 2, -1], 'int32'), 1).mul(np.slice(x, [0, 0], [2, 3], [1, 2]).sum()).sum() },
  { name: 'seed MLP loss (input gradient)', shape: [12], f: (x) => seedLoss(P0, x, T0) },
];

describe('compose: every order agrees with the plain computation', () => {
  for (const c of CASES) {
    it(c.name, () => {
      fc.assert(
        fc.property(seedArb, fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 2 }), (seed, b, b2) => {
          const rng = rngFrom(seed);
          const x = randomTensor(rng, c.shape, 'float64', -1.5, 1.5);
          const xs = randomTensor(rng, [b, ...c.shape], 'float64', -1.5, 1.5);
          const xss = randomTensor(rng, [b2, b, ...c.shape], 'float64', -1.5, 1.5);
          const { f } = c;
          const g = grad(f);
          // Plain references: eager values and gradients, loops for the batch axes.
          const value = f(x);
          const gradient = g(x);
          const perExampleGrads = loop(g, xs);
          const perExampleValues = loop(f, xs);
          const hvp = grad((y: Tensor) => g(y).sum())(x);

          expectTreeClose(jit(vmap(grad(f)))(xs), perExampleGrads, 'jit(vmap(grad(f)))');
          expectTreeClose(vmap(grad(f))(xs), perExampleGrads, 'vmap(grad(f))');
          expectTreeClose(grad(jit(f))(x), gradient, 'grad(jit(f))');
          expectTreeClose(vmap(jit(f))(xs), perExampleValues, 'vmap(jit(f))');
          expectTreeClose(jit(grad(jit(f)))(x), gradient, 'jit(grad(jit(f)))');
          expectTreeClose(grad((ys: Tensor) => vmap(f)(ys).sum())(xs), perExampleGrads, 'grad(vmap(f))');
          expectTreeClose(vmap(vmap(f))(xss), loop((r) => loop(f, r), xss), 'vmap(vmap(f))');
          expectTreeClose(jit(jit(f))(x), value, 'jit(jit(f))');
          expectTreeClose(grad((y: Tensor) => grad(jit(f))(y).sum())(x), hvp, 'grad(grad(jit(f)))');
          // A few more orders.
          expectTreeClose(vmap(grad(jit(f)))(xs), perExampleGrads, 'vmap(grad(jit(f)))');
          expectTreeClose(jit(grad((ys: Tensor) => vmap(jit(f))(ys).sum()))(xs), perExampleGrads, 'jit(grad(vmap(jit(f))))');
          expectTreeClose(jit(vmap(jit(grad(f))))(xs), perExampleGrads, 'jit(vmap(jit(grad(f))))');
          expectTreeClose(vmap(vmap(jit(grad(f))))(xss), loop((r) => loop(g, r), xss), 'vmap(vmap(jit(grad(f))))');
          const [v, gv] = jit(valueAndGrad(f))(x) as [Tensor, Tensor];
          expectTreeClose([v, gv], [value, gradient], 'jit(valueAndGrad(f))');
        }),
        { numRuns: 8 },
      );
    });
  }

  it('random programs: jit/vmap/grad orders agree', () => {
    fc.assert(
      fc.property(seedArb, fc.integer({ min: 1, max: 3 }), (seed, b) => {
        const p = generateProgram(seed, { dtype: 'float64', maxInputs: 1, multiOutput: false, maxSteps: 7 });
        const prog = buildProgram(p) as (x: Tensor) => Tensor;
        const f = (x: Tensor) => prog(x).sum();
        const rng = rngFrom(seed + 5);
        const x = randomTensor(rng, p.inputShapes[0]!);
        const xs = randomTensor(rng, [b, ...p.inputShapes[0]!]);
        const context = describeProgram(p);
        const g = grad(f);
        const gradient = g(x);
        const perExample = loop(g, xs);
        expectTreeClose(grad(jit(f))(x), gradient, `grad(jit(f))\n${context}`);
        expectTreeClose(jit(grad(jit(f)))(x), gradient, `jit(grad(jit(f)))\n${context}`);
        expectTreeClose(jit(vmap(grad(f)))(xs), perExample, `jit(vmap(grad(f)))\n${context}`);
        expectTreeClose(grad((ys: Tensor) => vmap(jit(f))(ys).sum())(xs), perExample, `grad(vmap(jit(f)))\n${context}`);
        expectTreeClose(vmap(jit(prog))(xs), loop(prog, xs), `vmap(jit(prog))\n${context}`);
      }),
      { numRuns: 40 },
    );
  });
});

describe('compose: per-example gradients of the seed loss', () => {
  const perExampleSummed = (p: Params, xs: Tensor, ts: Tensor) =>
    tree.map((g: Tensor) => g.sum(0), vmap(grad(seedLoss), { inAxes: [null, 0, 0] })(p, xs, ts) as PyTree);
  const batchGrad = (p: Params, xs: Tensor, ts: Tensor) => grad((q: Params) => vmap(seedLoss, { inAxes: [null, 0, 0] })(q, xs, ts).sum())(p);

  it('summed per-example gradients equal the gradient of the summed loss (sum outside and inside jit)', () => {
    fc.assert(
      fc.property(seedArb, fc.integer({ min: 1, max: 6 }), (seed, b) => {
        const p = initParams(seed);
        const { xs, ts } = batch(seed + 1, b);
        const expected = batchGrad(p, xs, ts);
        // Eager reference for the reference: a loop over examples.
        const looped = Array.from({ length: b }, (_, i) => grad(seedLoss)(p, row(xs, i), row(ts, i)) as PyTree).reduce((acc, g) =>
          tree.map((u: Tensor, v: Tensor) => u.add(v), acc, g),
        );
        expectTreeClose(expected, looped, 'grad of the summed loss vs a loop');
        const outside = tree.map((g: Tensor) => g.sum(0), jit(vmap(grad(seedLoss), { inAxes: [null, 0, 0] }))(p, xs, ts) as PyTree);
        expectTreeClose(outside, expected, 'sum outside jit');
        expectTreeClose(jit(perExampleSummed)(p, xs, ts), expected, 'sum inside jit');
        expectTreeClose(perExampleSummed(p, xs, ts), expected, 'eager per-example');
        expectTreeClose(jit(batchGrad)(p, xs, ts), expected, 'jit of the batch gradient');
      }),
      { numRuns: 10 },
    );
  });

  it('with the sum inside jit, no [B, out, in] outer product remains: weight gradients are one contraction', () => {
    const B = 5; // distinct from every layer width
    const p = initParams(3);
    const { xs, ts } = batch(4, B);
    const jf = jit(perExampleSummed);
    const lowered = jf.lower(p, xs, ts);
    const text = lowered.toString();
    for (let l = 0; l < 3; l++) {
      const outerProduct = `[${B},${SIZES[l + 1]},${SIZES[l]}]`;
      expect(text, `${outerProduct} in\n${text}`).not.toContain(outerProduct);
    }
    // Each weight gradient is produced directly by a dot_general contracting the batch axis too.
    const j = lowered.jaxpr;
    const outs = tree.leaves(tree.unflatten(lowered.outDef, j.outvars as unknown as Tensor[]) as PyTree) as unknown as typeof j.outvars;
    for (let l = 0; l < 3; l++) {
      const wVar = outs[2 * l]!;
      const producer = j.eqns.find((e) => e.outs.includes(wVar));
      expect(producer?.prim.name, text).toBe('dot_general');
      const { contract, batch: bdims } = producer!.params as { contract: number[][]; batch: number[][] };
      expect(bdims[0]).toEqual([]);
      expect(contract[0]!.length).toBeGreaterThanOrEqual(2);
    }
    // Without the sum in the jitted function, the per-example gradients are [B, out, in] (as they must be).
    const perExample = jit(vmap(grad(seedLoss), { inAxes: [null, 0, 0] })).lower(p, xs, ts).toString();
    expect(perExample).toContain(`[${B},${SIZES[1]},${SIZES[0]}]`);
    // And the rewritten program computes the same gradients.
    expectTreeClose(jf(p, xs, ts), batchGrad(p, xs, ts));
  });
});

describe('compose: tracing semantics across transformations', () => {
  it('a JS side effect inside a jitted function runs only at trace time, under any outer transformation', () => {
    let calls = 0;
    const f = jit((x: Tensor) => {
      calls++;
      return np.sin(x).sum();
    });
    const x = array([0.1, 0.2, 0.3], 'float64');
    for (let i = 0; i < 4; i++) f(x.add(i));
    expect(calls).toBe(1);
    // Under grad and vmap the cached trace is replayed: per-example shape [3] was already traced.
    grad(f)(x);
    vmap(f)(array([[1, 2, 3], [4, 5, 6]], 'float64'));
    expect(calls).toBe(1);
    expect(f.cacheSize).toBe(1);
    // A jitted gradient traces the inner function once more only if its signature is new.
    const jg = jit(grad(f));
    for (let i = 0; i < 3; i++) jg(x.mul(i));
    expect(calls).toBe(1);
    f(array([1, 2], 'float64'));
    expect(calls).toBe(2);
    expect(f.cacheSize).toBe(2);
  });

  it('a jitted function closing over a tracer of an enclosing grad / vmap / jit', () => {
    const c = array([1, 2, 3], 'float64');
    const x = array([0.5, -1, 2], 'float64');
    // d/dx sum(c * x²) through a jitted closure = 2 c x (baking x in as a constant would give 0).
    const viaJit = grad((a: Tensor) => (jit((y: Tensor) => y.mul(a).mul(a))(c) as Tensor).sum())(x);
    expectTreeClose(viaJit, c.mul(x).mul(2));
    // vmap: the closed-over value is batched.
    const xs = array([[1, 2], [3, 4]], 'float64');
    expectTreeClose(vmap((a: Tensor) => jit((y: Tensor) => y.mul(a))(array([10, 100], 'float64')))(xs), array([[10, 200], [30, 400]], 'float64'));
    // jit inside jit, closing over the outer jit's traced value.
    const nested = jit((a: Tensor) => jit((y: Tensor) => y.add(a))(c));
    expectTreeClose(nested(x), c.add(x));
    expectTreeClose(nested(x.mul(2)), c.add(x.mul(2)));
    // makeJaxpr of the outer function replays the inner one into the outer jaxpr.
    expect(makeJaxpr((a: Tensor) => jit((y: Tensor) => y.add(a))(c))(x).toString()).toBe(
      ['{ lambda a:f64[3] ; b:f64[3]. let', '    c:f64[3] = add a b', '  in (c) }'].join('\n'),
    );
  });
});
