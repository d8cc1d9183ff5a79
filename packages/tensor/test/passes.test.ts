/**
 * The jaxpr passes, each on its own: a small jaxpr (from makeJaxpr, or built by hand) goes through one pass;
 * the test checks the resulting IR (which equations, how many, or the printed text) and that evaluating the
 * transformed jaxpr gives the same outputs as the original (evalJaxpr; compileJaxpr where fused groups are
 * involved, which runs them with the backend's fused kernel or op by op).
 *
 * Fusion is also checked primitive by primitive and dtype by dtype: a fused group computes exactly (bit for
 * bit, NaN and -0 included) what the op-by-op kernels compute, with the integer and conversion edge cases.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { type DType, type PyTree, type Tensor, array, fromTypedArray, grad, jit, makeJaxpr, nn, numpy as np, tree, vmap } from '../src/index.js';
import type { ConcreteTensor } from '../src/core/tensor.js';
import type { Primitive } from '../src/core/trace.js';
import { type Eqn, type Jaxpr, type Var, jaxprToString, newVar } from '../src/ir/jaxpr.js';
import { contractSummedBatch, eliminateCommonSubexpressions, eliminateDeadCode, foldConstants, foldTransposes, fuseElementwise, optimize } from '../src/ir/optimize.js';
import { compileJaxpr } from '../src/ir/execute.js';
import { FUSIBLE, fusedElementwisePrim } from '../src/ir/passes/fuse-elementwise.js';
import { evalJaxpr } from '../src/transforms/jit.js';
import { cpuBackend } from '../src/backends/cpu/index.js';
import { compileFused } from '../src/backends/cpu/fused.js';
import * as ew from '../src/ops/elementwise.js';
import { convertPrim } from '../src/ops/structural.js';
import { type DotGeneralParams, dotGeneralPrim } from '../src/ops/dot.js';
import {
  type Rng,
  buildProgram,
  compareTrees,
  describeProgram,
  generateProgram,
  programInputs,
  randomInts,
  randomTensor,
  rngFrom,
  tolFor,
} from './helpers/random-programs.js';

const seedArb = fc.integer({ min: 0, max: 0x7fffffff });

// ---------------------------------------------------------------- helpers

const names = (j: Jaxpr): string[] => j.eqns.map((e) => e.prim.name);
const count = (j: Jaxpr, name: string): number => names(j).filter((n) => n === name).length;

/** Evaluate a jaxpr: op by op, or with the compiled plan when it holds fused groups. */
function run(j: Jaxpr, args: readonly Tensor[]): Tensor[] {
  if (j.eqns.some((e) => e.prim === fusedElementwisePrim)) return compileJaxpr(j)(args.map((a) => a as ConcreteTensor));
  return evalJaxpr(j, args);
}

/** Bitwise equality of two arrays (NaN equals NaN; -0 differs from 0). */
function sameBits(a: Tensor, b: Tensor): string | null {
  if (a.dtype !== b.dtype || a.shape.join() !== b.shape.join()) return `type ${a.dtype}[${a.shape}] vs ${b.dtype}[${b.shape}]`;
  const x = a.data();
  const y = b.data();
  for (let i = 0; i < x.length; i++) if (!Object.is(x[i], y[i])) return `element ${i}: ${x[i]} vs ${y[i]}`;
  return null;
}

function expectSameOutputs(after: Jaxpr, before: Jaxpr, args: readonly Tensor[], exact = true): void {
  const got = run(after, args);
  const want = run(before, args);
  expect(got.length).toBe(want.length);
  got.forEach((g, i) => {
    const m = exact ? sameBits(g, want[i]!) : compareTrees(g, want[i]!, tolFor(g.dtype));
    if (m) throw new Error(`output ${i}: ${m}\nbefore:\n${jaxprToString(before)}\nafter:\n${jaxprToString(after)}`);
  });
}

const f32 = (shape: number[], seed = 1): Tensor => randomTensor(rngFrom(seed), shape, 'float32');
const f64 = (shape: number[], seed = 1): Tensor => randomTensor(rngFrom(seed), shape, 'float64');

/** Build a jaxpr by hand: `eqn(prim, inputs, params)` appends an equation and returns its output var. */
function builder(invarAvals: { shape: number[]; dtype: DType }[]) {
  const invars = invarAvals.map((a) => newVar(a));
  const eqns: Eqn[] = [];
  const constvars: Var[] = [];
  const consts: ConcreteTensor[] = [];
  return {
    invars,
    eqn(prim: Primitive, inputs: Var[], params: unknown = {}): Var {
      const out = newVar(prim.abstractEval(inputs.map((v) => v.aval), params));
      eqns.push({ prim, params, inputs, outs: [out] });
      return out;
    },
    konst(t: Tensor): Var {
      const v = newVar(t);
      constvars.push(v);
      consts.push(t as ConcreteTensor);
      return v;
    },
    done(outvars: Var[]): Jaxpr {
      return { constvars, consts, invars, eqns, outvars };
    },
  };
}

// ---------------------------------------------------------------- dead code

describe('pass: dead-code elimination', () => {
  it('removes unused equations and drops the constants only they used', () => {
    const c = array([9, 9, 9]);
    const d = array([1, 2, 3]);
    const j = makeJaxpr((x: Tensor) => {
      np.exp(x.add(c)); // dead, and so is its constant c
      const kept = np.sin(x).mul(d);
      np.cos(kept); // dead, reads a live value
      return kept;
    })(f32([3]));
    expect(names(j.jaxpr)).toEqual(['add', 'exp', 'sin', 'mul', 'cos']);
    expect(j.jaxpr.consts).toHaveLength(2);
    const out = eliminateDeadCode(j.jaxpr);
    expect(names(out)).toEqual(['sin', 'mul']);
    expect(out.consts).toEqual([d]);
    expect(out.constvars).toHaveLength(1);
    expectSameOutputs(out, j.jaxpr, [f32([3], 2)]);
  });

  it('keeps everything that reaches an output, including outputs that are inputs or constants', () => {
    const c = array([4]);
    const j = makeJaxpr((x: Tensor, y: Tensor) => [x, c, np.sin(y)])(f32([1]), f32([2]));
    const out = eliminateDeadCode(j.jaxpr);
    expect(names(out)).toEqual(['sin']);
    expect(out.consts).toEqual([c]);
    expectSameOutputs(out, j.jaxpr, [f32([1], 3), f32([2], 4)]);
  });

  it('keeps a multi-output (fused) equation while any of its outputs is live', () => {
    const j = makeJaxpr((x: Tensor) => {
      const a = np.sin(x);
      const b = a.mul(x);
      return [a.sum(), b.sum()];
    })(f32([4]));
    const fused = fuseElementwise(eliminateDeadCode(j.jaxpr));
    const group = fused.eqns.find((e) => e.prim === fusedElementwisePrim)!;
    expect(group.outs).toHaveLength(2);
    // Only the first output stays live.
    const pruned = eliminateDeadCode({ ...fused, outvars: [fused.outvars[0]!] });
    expect(pruned.eqns).toContain(group);
    expect(names(pruned)).toEqual(['fused_elementwise', 'reduce_sum']);
  });
});

// ---------------------------------------------------------------- common subexpressions

describe('pass: common-subexpression elimination', () => {
  it('merges duplicate equations (same primitive, params and inputs)', () => {
    const j = makeJaxpr((x: Tensor) => np.sin(x).add(np.sin(x)).add(x.sum(0).sum()).sub(x.sum(0).sum()))(f32([2, 3])).jaxpr;
    expect(count(j, 'sin')).toBe(2);
    expect(count(j, 'reduce_sum')).toBe(4);
    const out = eliminateCommonSubexpressions(j);
    expect(count(out, 'sin')).toBe(1);
    expect(count(out, 'reduce_sum')).toBe(2);
    expectSameOutputs(out, j, [f32([2, 3], 5)]);
  });

  it('does not merge equations whose params differ', () => {
    const j = makeJaxpr((x: Tensor) => [x.sum(0), x.sum(1), np.pad(x, [1, 0], [0, 0], Infinity), np.pad(x, [1, 0], [0, 0], -Infinity), np.pad(x, [1, 0], [0, 0], NaN)])(f32([2, 2])).jaxpr;
    const out = eliminateCommonSubexpressions(j);
    expect(count(out, 'reduce_sum')).toBe(2);
    expect(count(out, 'pad')).toBe(3);
    expectSameOutputs(out, j, [f32([2, 2], 6)]);
  });

  it('merges equal scalar constants (each x.add(1) makes its own), but not 0 and -0 or different dtypes', () => {
    const j = makeJaxpr((x: Tensor) => x.add(1).mul(x.add(1)))(f64([3])).jaxpr;
    expect(j.consts).toHaveLength(2);
    const out = eliminateCommonSubexpressions(j);
    // The constants merge, then the reshapes of them, then the adds.
    expect(names(out)).toEqual(['reshape', 'add', 'mul']);
    const used = new Set(out.eqns.flatMap((e) => e.inputs));
    expect(out.constvars.filter((v) => used.has(v))).toHaveLength(1);
    expectSameOutputs(out, j, [f64([3], 7)]);

    const signed = makeJaxpr((x: Tensor) => [x.mul(0), x.mul(-0), x.astype('float32').mul(0)])(f64([2])).jaxpr;
    const kept = eliminateCommonSubexpressions(signed);
    expect(count(kept, 'mul')).toBe(3);
    expectSameOutputs(kept, signed, [f64([2], 8)]);
    const [pos, neg] = run(kept, [array([1, 2], 'float64')]);
    expect(Object.is(neg!.data()[0], -0) && Object.is(pos!.data()[0], 0)).toBe(true);
  });
});

// ---------------------------------------------------------------- constant folding

describe('pass: constant folding', () => {
  it('evaluates equations whose inputs are all constants', () => {
    const c = array([1, 2, 3]);
    const j = makeJaxpr((x: Tensor) => x.add(np.exp(c).mul(2).sum().reshape([1])).add(c.T))(f32([3])).jaxpr;
    const out = foldConstants(j);
    // exp, the scalar's reshape, mul, reduce_sum and reshape fold; the two adds read x.
    expect(names(out)).toEqual(['add', 'add']);
    expectSameOutputs(out, j, [f32([3], 9)]);
  });

  it('leaves expanding broadcasts of constants alone (and what depends on them)', () => {
    const j = makeJaxpr((x: Tensor) => x.add(np.ones([2, 3])).add(np.full([2, 3], 2).sum(0)))(f32([2, 3])).jaxpr;
    const out = foldConstants(j);
    expect(count(out, 'broadcast_in_dim')).toBe(2);
    expect(count(out, 'reduce_sum')).toBe(1);
    expectSameOutputs(out, j, [f32([2, 3], 10)]);
  });

  it('folds while an enclosing jit is tracing (folding evaluates below every transformation)', () => {
    const j = makeJaxpr((x: Tensor) => x.mul(np.exp(array([0, 1]))))(f32([2])).jaxpr;
    let folded: Jaxpr | null = null;
    jit((y: Tensor) => {
      folded = foldConstants(j);
      return y;
    })(array([1]));
    expect(names(folded!)).toEqual(['mul']);
    expectSameOutputs(folded!, j, [f32([2], 11)]);
  });
});

// ---------------------------------------------------------------- summed batch → contraction

describe('pass: contract-summed-batch', () => {
  const dg = (contract: [number[], number[]], batch: [number[], number[]]) => (l: Tensor, r: Tensor) => np.dotGeneral(l, r, contract, batch);

  it('reduce_sum over the batch axis of a dot_general becomes one contraction', () => {
    const l = f64([5, 2, 3], 1);
    const r = f64([5, 3, 4], 2);
    const j = makeJaxpr((a: Tensor, b: Tensor) => dg([[2], [1]], [[0], [0]])(a, b).sum(0))(l, r).jaxpr;
    const out = contractSummedBatch(j);
    expect(names(out)).toEqual(['dot_general']);
    expect(out.eqns[0]!.params).toEqual({ contract: [[2, 0], [1, 0]], batch: [[], []] });
    expect(out.eqns[0]!.outs[0]!.aval.shape).toEqual([2, 4]);
    expectSameOutputs(out, j, [l, r], false);
  });

  it('through a transpose (the VJP of a matmul transposes its result)', () => {
    const l = f64([5, 2, 3], 3);
    const r = f64([5, 3, 4], 4);
    // [B,2,4] -> transpose to [4,B,2] -> sum over the B axis (now axis 1).
    const j = makeJaxpr((a: Tensor, b: Tensor) => dg([[2], [1]], [[0], [0]])(a, b).transpose([2, 0, 1]).sum(1))(l, r).jaxpr;
    const out = contractSummedBatch(j);
    expect(count(out, 'reduce_sum')).toBe(0);
    expect(names(out)).toEqual(['dot_general', 'transpose']);
    expect(out.eqns[1]!.outs[0]!.aval.shape).toEqual([4, 2]);
    expectSameOutputs(out, j, [l, r], false);
    // The transpose disappears when the remaining axes keep their order.
    const k = makeJaxpr((a: Tensor, b: Tensor) => dg([[2], [1]], [[0], [0]])(a, b).transpose([1, 0, 2]).sum(1))(l, r).jaxpr;
    const out2 = contractSummedBatch(k);
    expect(names(out2)).toEqual(['dot_general']);
    expectSameOutputs(out2, k, [l, r], false);
  });

  it('partial sums keep the other axes', () => {
    const l = f64([5, 3, 2, 4], 5); // batch axes 0 (B) and 1 (C), contract axis 3, free axis 2
    const r = f64([5, 3, 4, 2], 6); // batch 0, 1; contract 2; free 3
    const f = dg([[3], [2]], [[0, 1], [0, 1]]); // out [B, C, 2, 2]
    // Sum over B only: B contracts, C stays a batch axis.
    const j1 = makeJaxpr((a: Tensor, b: Tensor) => f(a, b).sum(0))(l, r).jaxpr;
    const o1 = contractSummedBatch(j1);
    expect(names(o1)).toEqual(['dot_general']);
    expect(o1.eqns[0]!.params).toEqual({ contract: [[3, 0], [2, 0]], batch: [[1], [1]] });
    expectSameOutputs(o1, j1, [l, r], false);
    // Sum over B and a free axis: B contracts, the free axis is still summed afterwards.
    const j2 = makeJaxpr((a: Tensor, b: Tensor) => f(a, b).sum([0, 2]))(l, r).jaxpr;
    const o2 = contractSummedBatch(j2);
    expect(names(o2)).toEqual(['dot_general', 'reduce_sum']);
    expect(o2.eqns[1]!.params).toEqual({ axes: [1] });
    expectSameOutputs(o2, j2, [l, r], false);
    // Sum over the free axes only: nothing to contract.
    const j3 = makeJaxpr((a: Tensor, b: Tensor) => f(a, b).sum([2, 3]))(l, r).jaxpr;
    expect(names(contractSummedBatch(j3))).toEqual(names(j3));
  });

  it('leaves a dot_general that is read elsewhere too', () => {
    const l = f64([5, 2, 3], 7);
    const r = f64([5, 3, 4], 8);
    const j = makeJaxpr((a: Tensor, b: Tensor) => {
      const p = dg([[2], [1]], [[0], [0]])(a, b);
      return [p.sum(0), p];
    })(l, r).jaxpr;
    expect(names(contractSummedBatch(j))).toEqual(['dot_general', 'reduce_sum']);
  });

  it('random dot_generals summed over random axes, through random transposes, keep their values', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 2 }),
        fc.integer({ min: 0, max: 1 }),
        fc.integer({ min: 0, max: 2 }),
        fc.integer({ min: 0, max: 2 }),
        fc.nat(),
        fc.boolean(),
        seedArb,
        (nb, nc, nl, nr, mask, viaTranspose, seed) => {
          const rng = rngFrom(seed);
          const dims = (n: number) => Array.from({ length: n }, () => 2 + Math.floor(rng() * 2));
          const [bd, cd, ld, rd] = [dims(nb), dims(nc), dims(nl), dims(nr)];
          const l = randomTensor(rng, [...bd, ...ld, ...cd]);
          const r = randomTensor(rng, [...bd, ...cd, ...rd]);
          const range = (a: number, n: number) => Array.from({ length: n }, (_, i) => a + i);
          const contract: [number[], number[]] = [range(nb + nl, nc), range(nb, nc)];
          const batch: [number[], number[]] = [range(0, nb), range(0, nb)];
          const rank = nb + nl + nr;
          const axes = range(0, rank).filter((a) => (mask >> a) & 1);
          const perm = range(0, rank).sort((a, b) => ((mask >> (a + 4)) & 3) - ((mask >> (b + 4)) & 3) || a - b);
          const j = makeJaxpr((a: Tensor, b: Tensor) => {
            const p = np.dotGeneral(a, b, contract, batch);
            return (viaTranspose ? p.transpose(perm) : p).sum(axes);
          })(l, r).jaxpr;
          const out = contractSummedBatch(j);
          if ((viaTranspose ? axes.map((a) => perm[a]!) : axes).some((a) => a < nb)) expect(count(out, 'dot_general')).toBe(1);
          expectSameOutputs(out, j, [l, r], false);
        },
      ),
      { numRuns: 60 },
    );
  });
});

// ---------------------------------------------------------------- transposes folded into dot_general

describe('pass: fold-transposes', () => {
  it('a transposed operand is absorbed (x @ W.T reads W directly)', () => {
    const x = f32([4, 3], 1);
    const w = f32([2, 3], 2);
    const j = makeJaxpr((a: Tensor, b: Tensor) => np.matmul(a, b.T))(x, w).jaxpr;
    expect(names(j)).toEqual(['transpose', 'dot_general']);
    const out = foldTransposes(j);
    expect(names(out)).toEqual(['dot_general']);
    expect(out.eqns[0]!.params).toEqual({ contract: [[1], [1]], batch: [[], []] });
    expectSameOutputs(out, j, [x, w], false);
  });

  it('a 2-D transpose of a dot_general swaps its operands', () => {
    const x = f32([4, 3], 3);
    const w = f32([3, 2], 4);
    const j = makeJaxpr((a: Tensor, b: Tensor) => np.matmul(a, b).T)(x, w).jaxpr;
    const out = foldTransposes(j);
    expect(names(out)).toEqual(['dot_general']);
    expect(out.eqns[0]!.inputs).toEqual([j.invars[1], j.invars[0]]);
    expectSameOutputs(out, j, [x, w], false);
  });

  it('random dot_generals of transposed operands (and transposed results) keep their values', () => {
    const PERMS = [[0, 1, 2], [0, 2, 1], [1, 0, 2], [1, 2, 0], [2, 0, 1], [2, 1, 0]];
    const inv = (p: number[]) => p.map((_, i) => p.indexOf(i));
    fc.assert(
      fc.property(fc.nat(), fc.nat(), fc.boolean(), fc.boolean(), fc.boolean(), seedArb, (kl, kr, batched, tl, tr, seed) => {
        const rng = rngFrom(seed);
        let j: Jaxpr;
        let args: Tensor[];
        if (batched) {
          // l = transpose(lStored, pl): [B=2, M=3, K=4]; r = transpose(rStored, pr): [B=2, K=4, N=5].
          const pl = PERMS[kl % 6]!;
          const pr = PERMS[kr % 6]!;
          const lStored = randomTensor(rng, inv(pl).map((a) => [2, 3, 4][a]!));
          const rStored = randomTensor(rng, inv(pr).map((a) => [2, 4, 5][a]!));
          args = [lStored, rStored];
          j = makeJaxpr((a: Tensor, b: Tensor) => np.dotGeneral(a.transpose(pl), b.transpose(pr), [[2], [1]], [[0], [0]]))(lStored, rStored).jaxpr;
        } else {
          // 2-D products with either operand stored transposed, and the result transposed or not.
          const a2 = randomTensor(rng, tl ? [4, 3] : [3, 4]);
          const b2 = randomTensor(rng, tr ? [5, 4] : [4, 5]);
          args = [a2, b2];
          j = makeJaxpr((a: Tensor, b: Tensor) => {
            const p = np.matmul(tl ? a.T : a, tr ? b.T : b);
            return kl % 2 ? p.T : p;
          })(a2, b2).jaxpr;
        }
        const out = foldTransposes(j);
        expect(count(out, 'transpose')).toBeLessThanOrEqual(count(j, 'transpose'));
        // Transposed operands of a 2-D product are always absorbed. (With the result transposed as well, one
        // operand transpose can survive: the pass swaps the operands of the original equation in the same sweep.)
        if (!batched && kl % 2 === 0) expect(count(out, 'transpose')).toBe(0);
        expectSameOutputs(out, j, args, false);
      }),
      { numRuns: 60 },
    );
  });
});

// ---------------------------------------------------------------- fusion: structure

describe('pass: fuse-elementwise (structure)', () => {
  it('a chain of elementwise ops of one shape becomes one fused equation; values read later escape', () => {
    const x = f32([2, 3], 1);
    const j = eliminateDeadCode(
      makeJaxpr((t: Tensor) => {
        const a = np.sin(t);
        const b = a.mul(t);
        const c = np.exp(b);
        return [c.sum(), b.sum(1)];
      })(x).jaxpr,
    );
    const out = fuseElementwise(j);
    expect(names(out)).toEqual(['fused_elementwise', 'reduce_sum', 'reduce_sum']);
    const group = out.eqns[0]!;
    const sub = (group.params as { jaxpr: Jaxpr }).jaxpr;
    expect(names(sub)).toEqual(['sin', 'mul', 'exp']);
    // b and c escape (read by the reductions); a does not.
    expect(group.outs).toEqual([sub.eqns[1]!.outs[0], sub.eqns[2]!.outs[0]]);
    expect(group.inputs).toEqual([j.invars[0]]);
    expectSameOutputs(out, j, [x]);
  });

  it('outputs of the function escape; different shapes split groups; single ops stay unfused', () => {
    const x = f32([2, 3], 2);
    const v = f32([3], 3);
    const j = eliminateDeadCode(
      makeJaxpr((t: Tensor, u: Tensor) => {
        const a = np.tanh(t).mul(t); // [2,3]
        const b = np.cos(u).mul(u); // [3]: a new shape, a new group
        const c = np.negative(u.sum()); // one op alone
        return [a, b, np.sin(a).sub(t), c];
      })(x, v).jaxpr,
    );
    expect(names(j)).toEqual(['tanh', 'mul', 'cos', 'mul', 'reduce_sum', 'neg', 'sin', 'sub']);
    const out = fuseElementwise(j);
    expect(names(out)).toEqual(['fused_elementwise', 'fused_elementwise', 'reduce_sum', 'neg', 'fused_elementwise']);
    const groups = out.eqns.filter((e) => e.prim === fusedElementwisePrim);
    expect(groups.map((g) => g.outs.map((o) => o.aval.shape.join()))).toEqual([['2,3'], ['3'], ['2,3']]);
    // a is a function output and read by a later group: it escapes its group.
    expect(groups[0]!.outs).toEqual([j.outvars[0]]);
    expect(groups[2]!.inputs).toContain(j.outvars[0]);
    expect(out.outvars).toEqual(j.outvars);
    expectSameOutputs(out, j, [x, v]);
  });

  it('the seed MLP forward pass fuses its activation chains', () => {
    const w = f32([4, 3], 4);
    const b = f32([4], 5);
    const x = f32([5, 3], 6);
    const j = optimize(makeJaxpr((ww: Tensor, bb: Tensor, xx: Tensor) => nn.softmax(nn.sigmoid(np.matmul(xx, ww.T).add(bb))))(w, b, x).jaxpr);
    expect(count(j, 'fused_elementwise')).toBeGreaterThanOrEqual(2);
    expect(count(j, 'logistic')).toBe(0);
  });
});

// ---------------------------------------------------------------- fusion: every primitive and dtype

const PRIMS: Record<string, Primitive> = {
  neg: ew.negPrim, exp: ew.expPrim, log: ew.logPrim, log1p: ew.log1pPrim, expm1: ew.expm1Prim, sin: ew.sinPrim, cos: ew.cosPrim,
  tanh: ew.tanhPrim, logistic: ew.logisticPrim, sqrt: ew.sqrtPrim, abs: ew.absPrim, sign: ew.signPrim, floor: ew.floorPrim,
  ceil: ew.ceilPrim, round: ew.roundPrim, not: ew.notPrim, add: ew.addPrim, sub: ew.subPrim, mul: ew.mulPrim, div: ew.divPrim,
  pow: ew.powPrim, max: ew.maxPrim, min: ew.minPrim, atan2: ew.atan2Prim, and: ew.andPrim, or: ew.orPrim, eq: ew.eqPrim,
  ne: ew.nePrim, lt: ew.ltPrim, le: ew.lePrim, gt: ew.gtPrim, ge: ew.gePrim, select: ew.selectPrim, convert_element_type: convertPrim,
};
const ALL: DType[] = ['float32', 'float64', 'int32', 'bool'];
const FLOATS: DType[] = ['float32', 'float64'];
const NUMERIC: DType[] = ['float32', 'float64', 'int32'];
/** The dtypes each fusible primitive accepts (its operands' dtype; select: its branches'). */
const DTYPES_OF: Record<string, DType[]> = {
  neg: NUMERIC, abs: NUMERIC, sign: NUMERIC, not: ['bool', 'int32'],
  add: NUMERIC, sub: NUMERIC, mul: NUMERIC, div: NUMERIC, max: NUMERIC, min: NUMERIC,
  pow: FLOATS, atan2: FLOATS, and: ['bool', 'int32'], or: ['bool', 'int32'],
  eq: ALL, ne: ALL, lt: ALL, le: ALL, gt: ALL, ge: ALL, select: ALL, convert_element_type: ALL,
};
for (const n of ['exp', 'log', 'log1p', 'expm1', 'sin', 'cos', 'tanh', 'logistic', 'sqrt', 'floor', 'ceil', 'round']) DTYPES_OF[n] = FLOATS;
const arity = (name: string): number => (name === 'select' ? 3 : ['neg', 'exp', 'log', 'log1p', 'expm1', 'sin', 'cos', 'tanh', 'logistic', 'sqrt', 'abs', 'sign', 'floor', 'ceil', 'round', 'not', 'convert_element_type'].includes(name) ? 1 : 2);

const SPECIAL_FLOATS = [0, -0, 0.5, -0.5, 1.5, -1.5, 2.5, -2.5, 1, -1, 3, 1e-7, -1e-7, 1e30, -1e30, Infinity, -Infinity, NaN, 2147483647.5, -2147483649, 3e9, 0.49999997];
/** Small ints plus the int32 edges. */
const SPECIAL_INTS = [0, 1, -1, 2, -2, 3, -3, 7, -7, 2147483647, -2147483648, 65535, -65536];

const SMALL_SPECIAL_FLOATS = SPECIAL_FLOATS.filter((v) => !(Math.abs(v) > 3) || !Number.isFinite(v));

/**
 * Values of a dtype: random ones mixed with special values (NaN, ±Inf, -0, halves; with `big`, int32 edges and
 * floats beyond the int32 range too). Without `big`, ints are in [-3, 3] and finite floats in (-4, 4), so that
 * chains of int32 multiplications stay below 2^53 (see the op-by-op int32 mul note below).
 */
function valuesFor(rng: Rng, dtype: DType, shape: number[], big: boolean): Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  if (dtype === 'bool') return randomInts(rng, shape, 0, 1).astype('bool');
  if (dtype === 'int32') {
    const data = new Int32Array(n);
    for (let i = 0; i < n; i++) data[i] = big && rng() < 0.3 ? SPECIAL_INTS[Math.floor(rng() * SPECIAL_INTS.length)]! : Math.floor(rng() * (big ? 21 : 7)) - (big ? 10 : 3);
    return fromTypedArray(data, shape, 'int32');
  }
  const specials = big ? SPECIAL_FLOATS : SMALL_SPECIAL_FLOATS;
  const data = dtype === 'float32' ? new Float32Array(n) : new Float64Array(n);
  for (let i = 0; i < n; i++) data[i] = rng() < 0.3 ? specials[Math.floor(rng() * specials.length)]! : (rng() - 0.5) * 8;
  return fromTypedArray(data, shape, dtype);
}

/**
 * A random elementwise jaxpr: inputs of random dtypes whose shapes broadcast to `shape` (each axis full or 1),
 * then a chain of `length` fusible equations drawn from `prims`, converting an operand when no value of a
 * needed dtype exists yet. The last two values are the outputs.
 */
function randomElementwise(rng: Rng, shape: number[], length: number, prims: readonly string[], bigInts: boolean): { j: Jaxpr; args: Tensor[] } {
  const nIn = 1 + Math.floor(rng() * 3);
  const inShapes = Array.from({ length: nIn }, (_, i) => (i === 0 ? shape : shape.map((d) => (rng() < 0.3 ? 1 : d))));
  const inDTypes = Array.from({ length: nIn }, () => ALL[Math.floor(rng() * 4)]!);
  const b = builder(inShapes.map((s, i) => ({ shape: s, dtype: inDTypes[i]! })));
  const pool: Var[] = [...b.invars];
  const args = inShapes.map((s, i) => valuesFor(rng, inDTypes[i]!, s, bigInts));
  const ofDType = (d: DType): Var => {
    const have = pool.filter((v) => v.aval.dtype === d);
    if (have.length > 0) return have[Math.floor(rng() * have.length)]!;
    const from = pool[Math.floor(rng() * pool.length)]!;
    const v = b.eqn(convertPrim, [from], { dtype: d });
    pool.push(v);
    return v;
  };
  for (let k = 0; k < length; k++) {
    const name = prims[Math.floor(rng() * prims.length)]!;
    const dts = DTYPES_OF[name]!;
    const d = dts[Math.floor(rng() * dts.length)]!;
    let out: Var;
    if (name === 'convert_element_type') out = b.eqn(convertPrim, [ofDType(d)], { dtype: ALL[Math.floor(rng() * 4)]! });
    else if (name === 'select') out = b.eqn(ew.selectPrim, [ofDType('bool'), ofDType(d), ofDType(d)]);
    else out = b.eqn(PRIMS[name]!, Array.from({ length: arity(name) }, () => ofDType(d)));
    pool.push(out);
  }
  const outs = pool.slice(nIn).slice(-2);
  return { j: b.done(outs.length > 0 ? outs : [pool[0]!]), args };
}

describe('pass: fuse-elementwise (semantics, every primitive and dtype)', () => {
  it('covers every fusible primitive', () => {
    expect([...FUSIBLE].sort()).toEqual(Object.keys(PRIMS).sort());
  });

  for (const name of Object.keys(PRIMS)) {
    for (const dtype of DTYPES_OF[name]!) {
      it(`${name} (${dtype}): fused equals op by op`, () => {
        const rng = rngFrom(name.length * 31 + dtype.length);
        for (let trial = 0; trial < 6; trial++) {
          const shape = [[], [5], [2, 3], [2, 1, 3]][trial % 4]!;
          const bShape = trial % 2 === 0 ? shape : shape.map((d, i) => (i % 2 === 0 ? 1 : d));
          // The primitive on (broadcast) inputs, then an op to make a chain of two.
          const targets = name === 'convert_element_type' ? ALL : [null];
          for (const to of targets) {
            const n = arity(name);
            const inDTypes = name === 'select' ? ['bool', dtype, dtype] : Array.from({ length: n }, () => dtype);
            const b = builder(inDTypes.map((d, i) => ({ shape: i === 1 ? bShape : shape, dtype: d as DType })));
            const params = to ? { dtype: to } : {};
            const y = b.eqn(PRIMS[name]!, b.invars, params);
            // Follow with an identity-like second op of the output's dtype, so the group holds a chain.
            const z = y.aval.dtype === 'bool' ? b.eqn(ew.notPrim, [y]) : b.eqn(ew.negPrim, [y]);
            const j = b.done([y, z]);
            // No huge operands for mul: op by op, int32 products beyond 2^53 lose bits (see the note below).
            const args = inDTypes.map((d, i) => valuesFor(rng, d as DType, i === 1 ? bShape : shape, name !== 'mul'));
            const fused = fuseElementwise(j);
            expect(names(fused)).toEqual(['fused_elementwise']);
            expectSameOutputs(fused, j, args);
          }
        }
      });
    }
  }

  it('random elementwise chains over mixed dtypes: the fused kernel, the op-by-op fallback and the kernels agree bit for bit', () => {
    const prims = Object.keys(PRIMS);
    fc.assert(
      fc.property(seedArb, fc.constantFrom<number[]>([], [4], [2, 3], [3, 1, 2]), fc.integer({ min: 1, max: 6 }), (seed, shape, length) => {
        const rng = rngFrom(seed);
        const { j, args } = randomElementwise(rng, shape, length, prims.filter((p) => p !== 'mul'), true);
        const expected = evalJaxpr(j, args);
        const fused = fuseElementwise(j, 1);
        for (const g of fused.eqns) expect(g.prim).toBe(fusedElementwisePrim);
        const viaPlan = compileJaxpr(fused)(args as ConcreteTensor[]);
        // The backend's fused kernel directly, group by group (a single group here when shapes agree).
        const fallback = withoutFusedCompiler(() => compileJaxpr(fused)(args as ConcreteTensor[]));
        expected.forEach((e, i) => {
          const m = sameBits(viaPlan[i]!, e) ?? sameBits(fallback[i]!, e);
          if (m) throw new Error(`${m}\n${jaxprToString(j)}\nargs: ${args.map((a) => `${a.dtype}[${a.shape}] ${Array.from(a.data())}`).join(' | ')}`);
        });
      }),
      { numRuns: 300 },
    );
  });

  it('chains with int32 multiplication of small values', () => {
    fc.assert(
      fc.property(seedArb, fc.integer({ min: 2, max: 4 }), (seed, length) => {
        const rng = rngFrom(seed);
        const { j, args } = randomElementwise(rng, [2, 3], length, ['mul', 'add', 'sub', 'neg', 'abs', 'div', 'max', 'select', 'convert_element_type'], false);
        const expected = evalJaxpr(j, args);
        const got = compileJaxpr(fuseElementwise(j, 1))(args as ConcreteTensor[]);
        expected.forEach((e, i) => {
          const m = sameBits(got[i]!, e);
          if (m) throw new Error(`${m}\n${jaxprToString(j)}`);
        });
      }),
      { numRuns: 100 },
    );
  });

  it('integer edge cases: division truncates toward zero (x/0 is 0), overflow wraps, float→int truncates, →bool is != 0', () => {
    const b = builder([
      { shape: [8], dtype: 'int32' },
      { shape: [8], dtype: 'int32' },
      { shape: [8], dtype: 'float64' },
    ]);
    const [x, y, f] = b.invars as [Var, Var, Var];
    const q = b.eqn(ew.divPrim, [x, y]);
    const s = b.eqn(ew.addPrim, [x, y]);
    const n = b.eqn(ew.negPrim, [x]);
    const a = b.eqn(ew.absPrim, [x]);
    const t = b.eqn(convertPrim, [f], { dtype: 'int32' });
    const tb = b.eqn(convertPrim, [f], { dtype: 'bool' });
    const xb = b.eqn(convertPrim, [x], { dtype: 'bool' });
    const tf = b.eqn(convertPrim, [x], { dtype: 'float32' });
    const j = b.done([q, s, n, a, t, tb, xb, tf]);
    const xs = array([7, -7, 7, -7, 5, -2147483648, 2147483647, 0], 'int32');
    const ys = array([2, 2, -2, -2, 0, -1, 1, 3], 'int32');
    const fs = array([2.7, -2.7, 0.5, -0.5, NaN, Infinity, -0, 3e9], 'float64');
    const fused = fuseElementwise(j);
    expect(names(fused)).toEqual(['fused_elementwise']);
    const got = run(fused, [xs, ys, fs]);
    expect(Array.from(got[0]!.data())).toEqual([3, -3, -3, 3, 0, -2147483648, 2147483647, 0]);
    expect(Array.from(got[1]!.data())).toEqual([9, -5, 5, -9, 5, 2147483647, -2147483648, 3]);
    expect(Array.from(got[2]!.data())).toEqual([-7, 7, -7, 7, -5, -2147483648, -2147483647, 0]);
    expect(Array.from(got[3]!.data())).toEqual([7, 7, 7, 7, 5, -2147483648, 2147483647, 0]);
    expect(Array.from(got[4]!.data())).toEqual([2, -2, 0, 0, 0, 0, 0, 3e9 | 0]);
    expect(Array.from(got[5]!.data())).toEqual([1, 1, 1, 1, 1, 1, 0, 1]);
    expect(Array.from(got[6]!.data())).toEqual([1, 1, 1, 1, 1, 1, 1, 0]);
    expect(Array.from(got[7]!.data())).toEqual([7, -7, 7, -7, 5, -2147483648, 2147483648, 0]);
    expectSameOutputs(fused, j, [xs, ys, fs]);
  });

  it('int32 multiplication wraps (two’s complement) in the fused kernel', () => {
    // Op by op, the CPU kernel computes x*y in double precision before wrapping, which loses the low bits when
    // |x*y| > 2^53 (e.g. (2^31-1)^2 gives 0 instead of 1): reported to the kernel owners; the fused code uses
    // Math.imul. Both agree below 2^53, which the chains above check.
    const b = builder([{ shape: [3], dtype: 'int32' }]);
    const [x] = b.invars as [Var];
    const sq = b.eqn(ew.mulPrim, [x, x]);
    const j = b.done([sq, b.eqn(ew.addPrim, [sq, x])]);
    const xs = array([2147483647, 46341, -2147483648], 'int32');
    const got = compileJaxpr(fuseElementwise(j))([xs as ConcreteTensor]);
    expect(Array.from(got[0]!.data())).toEqual([Math.imul(2147483647, 2147483647), Math.imul(46341, 46341), 0]);
  });

  it('compileFused directly: broadcast operands, rank 0, empty arrays, several outputs', () => {
    for (const shape of [[], [0, 3], [2, 3, 4]]) {
      const b = builder([
        { shape, dtype: 'float32' },
        { shape: shape.map((d, i) => (i === shape.length - 1 ? d : 1)), dtype: 'float32' },
      ]);
      const [x, y] = b.invars as [Var, Var];
      const s = b.eqn(ew.addPrim, [x, y]);
      const c = b.eqn(ew.gtPrim, [s, x]);
      const r = b.eqn(ew.selectPrim, [c, s, y]);
      const j = b.done([s, c, r]);
      const args = [f32(x.aval.shape as number[], 1), f32(y.aval.shape as number[], 2)];
      const kernel = compileFused(j);
      const outs = kernel(args.map((a) => ({ handle: (a as ConcreteTensor).handle as Float32Array, shape: a.shape, dtype: a.dtype })));
      const expected = evalJaxpr(j, args);
      outs.forEach((h, i) => {
        const t = fromTypedArray(h, expected[i]!.shape, expected[i]!.dtype);
        const m = sameBits(t, expected[i]!);
        if (m) throw new Error(`shape [${shape}] output ${i}: ${m}`);
      });
    }
  });
});

/** Run `body` with the CPU backend's fused compiler unplugged, so compileJaxpr runs groups op by op. */
function withoutFusedCompiler<T>(body: () => T): T {
  const backend = cpuBackend as { compileFused?: unknown };
  const saved = backend.compileFused;
  backend.compileFused = undefined;
  try {
    return body();
  } finally {
    backend.compileFused = saved;
  }
}

// ---------------------------------------------------------------- every pass preserves random programs

describe('passes preserve the meaning of random programs', () => {
  const PASSES: [string, (j: Jaxpr) => Jaxpr][] = [
    ['dead-code', eliminateDeadCode],
    ['common-subexpressions', eliminateCommonSubexpressions],
    ['fold-constants', foldConstants],
    ['contract-summed-batch', contractSummedBatch],
    ['fold-transposes', foldTransposes],
    ['fuse-elementwise', fuseElementwise],
    ['fuse-elementwise (groups of 1)', (j) => fuseElementwise(j, 1)],
    ['optimize', optimize],
  ];
  for (const [name, pass] of PASSES) {
    it(name, () => {
      fc.assert(
        fc.property(seedArb, fc.boolean(), (seed, f32Program) => {
          const p = generateProgram(seed, { dtype: f32Program ? 'float32' : 'float64' });
          const xs = programInputs(p, rngFrom(seed + 9));
          const j = makeJaxpr(buildProgram(p))(...xs).jaxpr;
          const after = pass(j);
          const got = run(after, xs);
          const want = evalJaxpr(j, xs);
          const m = compareTrees(got, want, tolFor(p.dtype));
          if (m) throw new Error(`${m}\n${describeProgram(p)}\nbefore:\n${jaxprToString(j)}\nafter:\n${jaxprToString(after)}`);
        }),
        { numRuns: 60 },
      );
    });
  }

  it('the seed per-example gradient program (summed), pass by pass', () => {
    const sizes = [6, 4, 3];
    const rng = rngFrom(5);
    const p = [0, 1].map((i) => [randomTensor(rng, [sizes[i + 1]!, sizes[i]!]), randomTensor(rng, [sizes[i + 1]!])] as [Tensor, Tensor]);
    const xs = randomTensor(rng, [4, 6]);
    const ts = randomInts(rng, [4], 0, 2);
    const loss = (q: [Tensor, Tensor][], x: Tensor, t: Tensor) => {
      const h = nn.sigmoid(np.matmul(x, q[0]![0].T).add(q[0]![1]));
      return nn.crossEntropy(np.matmul(h, q[1]![0].T).add(q[1]![1]), t);
    };
    const perExampleSummed = (q: [Tensor, Tensor][], x: Tensor, t: Tensor) =>
      tree.map((g: Tensor) => g.sum(0), vmap(grad(loss), { inAxes: [null, 0, 0] })(q, x, t) as PyTree);
    const j = makeJaxpr(perExampleSummed)(p, xs, ts).jaxpr;
    const args = [...p.flat(), xs, ts];
    const want = evalJaxpr(j, args);
    let cur = j;
    for (const [name, pass] of PASSES.slice(0, 6)) {
      cur = pass(cur);
      const m = compareTrees(run(cur, args), want, tolFor('float64'));
      if (m) throw new Error(`after ${name}: ${m}`);
    }
    // The pipeline removed every [B, out, in] outer product.
    expect(jaxprToString(cur)).not.toMatch(/\[4,4,6\]|\[4,3,4\]/);
    expect(jaxprToString(j)).toMatch(/\[4,4,6\]/);
  });
});
