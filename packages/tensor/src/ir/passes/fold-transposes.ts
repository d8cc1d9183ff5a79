/**
 * Transposes around dot_general cost a full copy each; the dot_general can absorb them.
 * - An operand produced by a transpose is replaced by the transpose's input, with the contracted and batch
 *   axes renumbered, when that keeps the order of the free axes (so the output is unchanged). This removes
 *   the `W.T` copies of every dense layer.
 * - A 2-D transpose of a dot_general without batch axes is the dot_general with its operands swapped.
 */
import type { Eqn, Jaxpr, Var } from '../jaxpr.js';
import { useCounts } from '../jaxpr.js';
import { transposePrim } from '../../ops/structural.js';
import { type DotGeneralParams, dotGeneralPrim } from '../../ops/dot.js';
import { eliminateDeadCode } from './dead-code.js';

const isIncreasing = (xs: readonly number[]): boolean => xs.every((x, i) => i === 0 || xs[i - 1]! < x);

function freeAxes(rank: number, contract: readonly number[], batch: readonly number[]): number[] {
  return Array.from({ length: rank }, (_, i) => i).filter((a) => !contract.includes(a) && !batch.includes(a));
}

export function foldTransposes(j: Jaxpr): Jaxpr {
  const producer = new Map<Var, Eqn>();
  for (const e of j.eqns) for (const o of e.outs) producer.set(o, e);
  const uses = useCounts(j);
  const eqns: Eqn[] = j.eqns.map((e) => {
    if (e.prim === dotGeneralPrim) {
      let params = e.params as DotGeneralParams;
      const inputs = [...e.inputs];
      for (const side of [0, 1] as const) {
        const src = producer.get(inputs[side]!);
        if (!src || src.prim !== transposePrim) continue;
        const { perm } = src.params as { perm: number[] };
        const rank = perm.length;
        const free = freeAxes(rank, params.contract[side], params.batch[side]);
        if (!isIncreasing(free.map((a) => perm[a]!))) continue;
        const contract = [...params.contract] as DotGeneralParams['contract'];
        const batch = [...params.batch] as DotGeneralParams['batch'];
        contract[side] = params.contract[side].map((a) => perm[a]!);
        batch[side] = params.batch[side].map((a) => perm[a]!);
        params = { contract, batch };
        inputs[side] = src.inputs[0]!;
      }
      return inputs.every((v, i) => v === e.inputs[i]) ? e : { ...e, inputs, params };
    }
    if (e.prim === transposePrim) {
      const src = producer.get(e.inputs[0]!);
      const { perm } = e.params as { perm: number[] };
      if (!src || src.prim !== dotGeneralPrim || uses.get(src.outs[0]!) !== 1 || perm.length !== 2 || perm[0] !== 1) return e;
      const p = src.params as DotGeneralParams;
      const [l, r] = src.inputs as [Var, Var];
      const lFree = freeAxes(l.aval.shape.length, p.contract[0], p.batch[0]);
      const rFree = freeAxes(r.aval.shape.length, p.contract[1], p.batch[1]);
      if (p.batch[0].length > 0 || lFree.length !== 1 || rFree.length !== 1) return e;
      const params: DotGeneralParams = { contract: [p.contract[1], p.contract[0]], batch: [[], []] };
      return { prim: dotGeneralPrim, params, inputs: [r, l], outs: e.outs };
    }
    return e;
  });
  return eliminateDeadCode({ ...j, eqns });
}
