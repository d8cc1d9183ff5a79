/**
 * Fusion of elementwise chains. A run of consecutive elementwise equations producing arrays of one shape
 * becomes a single `fused_elementwise` equation holding the run as a sub-jaxpr; its outputs are the values
 * read after the run. A backend compiles it to one loop (see backends/cpu/fused.ts), so the chain
 * `sigmoid(x·Wᵀ + b)` reads and writes memory once instead of once per op.
 */
import { shapesEqual } from '../../core/shape.js';
import type { Primitive } from '../../core/trace.js';
import type { Eqn, Jaxpr, Var } from '../jaxpr.js';

/** Elementwise primitives a fused loop can express. */
export const FUSIBLE = new Set([
  'neg', 'exp', 'log', 'log1p', 'expm1', 'sin', 'cos', 'tanh', 'logistic', 'sqrt', 'abs', 'sign', 'floor', 'ceil', 'round', 'not',
  'add', 'sub', 'mul', 'div', 'pow', 'max', 'min', 'atan2', 'and', 'or', 'eq', 'ne', 'lt', 'le', 'gt', 'ge',
  'select', 'convert_element_type',
]);

/** A fused group. Never bound by user code: it only exists in optimised jaxprs. */
export const fusedElementwisePrim: Primitive<{ jaxpr: Jaxpr }> = {
  name: 'fused_elementwise',
  abstractEval() {
    throw new Error('internal: fused_elementwise has several outputs and is not bound directly');
  },
};

export function fuseElementwise(j: Jaxpr, minGroup = 2): Jaxpr {
  // Who reads each var: used to find which values of a group escape it.
  const readers = new Map<Var, Eqn[]>();
  for (const e of j.eqns) for (const v of e.inputs) readers.set(v, [...(readers.get(v) ?? []), e]);
  const outputs = new Set(j.outvars);

  const eqns: Eqn[] = [];
  let group: Eqn[] = [];
  const flush = (): void => {
    if (group.length < minGroup) {
      eqns.push(...group);
    } else {
      const members = new Set(group);
      const defined = new Set(group.flatMap((e) => e.outs));
      const inputs: Var[] = [];
      for (const e of group) for (const v of e.inputs) if (!defined.has(v) && !inputs.includes(v)) inputs.push(v);
      const outs = group
        .flatMap((e) => e.outs)
        .filter((v) => outputs.has(v) || (readers.get(v) ?? []).some((r) => !members.has(r)));
      // Nothing read after the group (dead code, when the pass runs without DCE first): drop it rather than
      // emit a group with no outputs, which no kernel could run.
      if (outs.length === 0) {
        group = [];
        return;
      }
      const sub: Jaxpr = { constvars: [], consts: [], invars: inputs, eqns: group, outvars: outs };
      eqns.push({ prim: fusedElementwisePrim, params: { jaxpr: sub }, inputs, outs });
    }
    group = [];
  };
  for (const e of j.eqns) {
    const fusible = FUSIBLE.has(e.prim.name) && e.outs.length === 1;
    if (fusible && (group.length === 0 || shapesEqual(group[0]!.outs[0]!.aval.shape, e.outs[0]!.aval.shape))) {
      group.push(e);
      continue;
    }
    flush();
    if (fusible) group.push(e);
    else eqns.push(e);
  }
  flush();
  return { ...j, eqns };
}
