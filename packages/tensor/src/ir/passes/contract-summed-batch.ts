/**
 * The rewrite that makes per-example gradients cheap. `vmap(grad(f))` turns each weight gradient into a
 * batched outer product (dot_general with the example axis as a *batch* axis, [B,60,784]), and summing
 * over examples then reduces that axis. Summing over a batch axis of a dot_general is the same as
 * contracting it, so `reduce_sum(dot_general(l, r, batch=b), axes ⊇ {b})` becomes one dot_general that
 * contracts b: a single matmul, with no [B,60,784] intermediate.
 *
 * Sums reach the dot_general through transposes (the VJP of a matmul transposes its result), so a
 * reduce_sum of a single-use transpose is first rewritten as a transpose of a reduce_sum.
 */
import type { Eqn, Jaxpr, Var } from '../jaxpr.js';
import { newVar, useCounts } from '../jaxpr.js';
import { eliminateDeadCode } from './dead-code.js';
import { reduceSumPrim } from '../../ops/reduce.js';
import { transposePrim } from '../../ops/structural.js';
import { type DotGeneralParams, dotGeneralPrim } from '../../ops/dot.js';

function producers(j: Jaxpr): Map<Var, Eqn> {
  const m = new Map<Var, Eqn>();
  for (const e of j.eqns) for (const o of e.outs) m.set(o, e);
  return m;
}

/** reduce_sum(transpose(y, perm), axes) → transpose(reduce_sum(y, perm[axes]), perm'). */
function sinkSumThroughTranspose(j: Jaxpr): Jaxpr {
  const prod = producers(j);
  const uses = useCounts(j);
  const eqns: Eqn[] = [];
  for (const e of j.eqns) {
    const src = e.prim === reduceSumPrim ? prod.get(e.inputs[0]!) : undefined;
    if (!src || src.prim !== transposePrim || uses.get(src.outs[0]!) !== 1) {
      eqns.push(e);
      continue;
    }
    const { perm } = src.params as { perm: number[] };
    const { axes } = e.params as { axes: number[] };
    const summed = axes.map((a) => perm[a]!).sort((a, b) => a - b);
    const y = src.inputs[0]!;
    const remaining = perm.filter((_, i) => !axes.includes(i)); // y-axes in output order
    const kept = [...remaining].sort((a, b) => a - b);
    const newPerm = remaining.map((a) => kept.indexOf(a));
    if (newPerm.every((a, i) => a === i)) {
      eqns.push({ prim: reduceSumPrim, params: { axes: summed }, inputs: [y], outs: e.outs });
      continue;
    }
    const reduced = newVar(reduceSumPrim.abstractEval([y.aval], { axes: summed }));
    eqns.push({ prim: reduceSumPrim, params: { axes: summed }, inputs: [y], outs: [reduced] });
    eqns.push({ prim: transposePrim, params: { perm: newPerm }, inputs: [reduced], outs: e.outs });
  }
  return { ...j, eqns };
}

/** reduce_sum over batch axes of a single-use dot_general → contract those axes instead. */
function contractSummedBatchAxes(j: Jaxpr): Jaxpr {
  const prod = producers(j);
  const uses = useCounts(j);
  const eqns: Eqn[] = [];
  for (const e of j.eqns) {
    const src = e.prim === reduceSumPrim ? prod.get(e.inputs[0]!) : undefined;
    if (!src || src.prim !== dotGeneralPrim || uses.get(src.outs[0]!) !== 1) {
      eqns.push(e);
      continue;
    }
    const p = src.params as DotGeneralParams;
    const { axes } = e.params as { axes: number[] };
    const nb = p.batch[0].length;
    const folded = axes.filter((a) => a < nb);
    if (folded.length === 0) {
      eqns.push(e);
      continue;
    }
    const params: DotGeneralParams = {
      contract: [
        [...p.contract[0], ...folded.map((k) => p.batch[0][k]!)],
        [...p.contract[1], ...folded.map((k) => p.batch[1][k]!)],
      ],
      batch: [p.batch[0].filter((_, i) => !folded.includes(i)), p.batch[1].filter((_, i) => !folded.includes(i))],
    };
    const rest = axes.filter((a) => a >= nb).map((a) => a - folded.length);
    if (rest.length === 0) {
      eqns.push({ prim: dotGeneralPrim, params, inputs: src.inputs, outs: e.outs });
      continue;
    }
    const contracted = newVar(dotGeneralPrim.abstractEval(src.inputs.map((v) => v.aval), params));
    eqns.push({ prim: dotGeneralPrim, params, inputs: src.inputs, outs: [contracted] });
    eqns.push({ prim: reduceSumPrim, params: { axes: rest }, inputs: [contracted], outs: e.outs });
  }
  return { ...j, eqns };
}

export function contractSummedBatch(j: Jaxpr): Jaxpr {
  // The rewritten-away producers must be gone before use counts are taken again.
  return eliminateDeadCode(contractSummedBatchAxes(eliminateDeadCode(sinkSumThroughTranspose(j))));
}
