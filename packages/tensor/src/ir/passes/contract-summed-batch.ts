/**
 * The rewrite that makes per-example gradients cheap. `vmap(grad(f))` turns each weight gradient into a
 * batched outer product (dot_general with the example axis as a *batch* axis, [B,60,784]), and summing
 * over examples then reduces that axis. Summing over a batch axis of a dot_general is the same as
 * contracting it, so `reduce_sum(dot_general(l, r, batch=b), axes ⊇ {b})` becomes one dot_general that
 * contracts b: a single matmul, with no [B,60,784] intermediate.
 *
 * Sums reach the dot_general through transposes (the VJP of a matmul transposes its result), so a
 * reduce_sum of a single-use transpose is first rewritten as a transpose of a reduce_sum. They also reach it
 * through slices (the VJP of concatenate slices its cotangent: the stitched net's alpha blocks are slices
 * of one layer's gradient): when an array is only ever sliced and each slice only summed over the same
 * untouched axes, the sum moves before the slices, where it is computed once for all of them.
 */
import type { Eqn, Jaxpr, Var } from '../jaxpr.js';
import { newVar, useCounts } from '../jaxpr.js';
import { eliminateDeadCode } from './dead-code.js';
import { reduceSumPrim } from '../../ops/reduce.js';
import { slicePrim, transposePrim, type SliceParams } from '../../ops/structural.js';
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

/** True when a slice leaves every axis in `axes` whole. */
function keepsWhole(p: SliceParams, shape: readonly number[], axes: readonly number[]): boolean {
  return axes.every((a) => p.start[a] === 0 && p.limit[a] === shape[a] && p.step[a] === 1);
}

/**
 * reduce_sum(slice(y), axes) → slice(reduce_sum(y, axes)) when every reader of y is such a slice whose
 * readers all sum over the same axes: then the one sum of y replaces all of them and costs no more.
 */
function sinkSumThroughSlices(j: Jaxpr): Jaxpr {
  let current = j;
  for (let round = 0; round < 8; round++) {
    const prod = producers(current);
    const readers = new Map<Var, Eqn[]>();
    for (const e of current.eqns) for (const v of e.inputs) readers.set(v, [...(readers.get(v) ?? []), e]);
    const outputs = new Set(current.outvars);
    const sumAxes = (e: Eqn): string | null => (e.prim === reduceSumPrim ? JSON.stringify((e.params as { axes: number[] }).axes) : null);
    const eligible = (y: Var, axesKey: string): boolean => {
      const axes = JSON.parse(axesKey) as number[];
      return (
        !outputs.has(y) &&
        (readers.get(y) ?? []).every(
          (s) =>
            s.prim === slicePrim &&
            keepsWhole(s.params as SliceParams, y.aval.shape, axes) &&
            !outputs.has(s.outs[0]!) &&
            (readers.get(s.outs[0]!) ?? []).every((r) => sumAxes(r) === axesKey),
        )
      );
    };
    const sums = new Map<Var, Var>(); // y -> its one reduce_sum
    const eqns: Eqn[] = [];
    let changed = false;
    for (const e of current.eqns) {
      const key = sumAxes(e);
      const src = key !== null ? prod.get(e.inputs[0]!) : undefined;
      if (!src || src.prim !== slicePrim || !eligible(src.inputs[0]!, key!)) {
        eqns.push(e);
        continue;
      }
      const y = src.inputs[0]!;
      const { axes } = e.params as { axes: number[] };
      let summed = sums.get(y);
      if (!summed) {
        summed = newVar(reduceSumPrim.abstractEval([y.aval], { axes }));
        eqns.push({ prim: reduceSumPrim, params: { axes }, inputs: [y], outs: [summed] });
        sums.set(y, summed);
      }
      const p = src.params as SliceParams;
      const keep = (_: number, i: number): boolean => !axes.includes(i);
      const params: SliceParams = { start: p.start.filter(keep), limit: p.limit.filter(keep), step: p.step.filter(keep) };
      eqns.push({ prim: slicePrim, params, inputs: [summed], outs: e.outs });
      changed = true;
    }
    current = eliminateDeadCode({ ...current, eqns });
    if (!changed) break;
  }
  return current;
}

export function contractSummedBatch(j: Jaxpr): Jaxpr {
  // The rewritten-away producers must be gone before use counts are taken again.
  return eliminateDeadCode(contractSummedBatchAxes(eliminateDeadCode(sinkSumThroughTranspose(sinkSumThroughSlices(j)))));
}
