/**
 * Constant folding: an equation whose inputs are all constants is evaluated once, at compile time, and its
 * output becomes a constant. Expanding ops (whose output is larger than their inputs, like broadcasting a
 * scalar) are left alone: materialising them would only cost memory.
 */
import { ConcreteTensor } from '../../core/tensor.js';
import { sizeOf } from '../../core/shape.js';
import { evalPrimitive } from '../../core/trace.js';
import type { Eqn, Jaxpr, Var } from '../jaxpr.js';

export function foldConstants(j: Jaxpr): Jaxpr {
  const values = new Map<Var, ConcreteTensor>();
  j.constvars.forEach((v, i) => values.set(v, j.consts[i]!));
  const constvars = [...j.constvars];
  const consts = [...j.consts];
  const eqns: Eqn[] = [];
  for (const e of j.eqns) {
    const foldable =
      e.outs.length === 1 &&
      e.inputs.length > 0 &&
      e.inputs.every((v) => values.has(v)) &&
      sizeOf(e.outs[0]!.aval.shape) <= e.inputs.reduce((n, v) => n + sizeOf(v.aval.shape), 0);
    if (!foldable) {
      eqns.push(e);
      continue;
    }
    // Evaluated below every transformation: folding may run while an enclosing jit is tracing.
    const value = evalPrimitive(e.prim, e.inputs.map((v) => values.get(v)!), e.params);
    if (!(value instanceof ConcreteTensor)) throw new Error('internal: constant folding produced a traced value');
    values.set(e.outs[0]!, value);
    constvars.push(e.outs[0]!);
    consts.push(value);
  }
  return { ...j, constvars, consts, eqns };
}
