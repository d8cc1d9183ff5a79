/**
 * Common-subexpression elimination: an equation with the same primitive, params and inputs as an earlier
 * one reuses its output. Equal scalar constants (every `x.add(1)` makes its own) are merged first.
 */
import type { Eqn, Jaxpr, Var } from '../jaxpr.js';

/** A number's key: unlike JSON, NaN, ±Infinity and -0 stay apart (pad with -Infinity is not pad with +Infinity). */
const numberKey = (x: number): string => (Object.is(x, -0) ? '-0' : String(x));
const paramsKey = (params: unknown): string =>
  JSON.stringify(params, (_k, v: unknown) => (typeof v === 'number' && (!Number.isFinite(v) || Object.is(v, -0)) ? `#${numberKey(v)}` : v));

export function eliminateCommonSubexpressions(j: Jaxpr): Jaxpr {
  const subst = new Map<Var, Var>();
  const read = (v: Var): Var => subst.get(v) ?? v;
  const scalarConsts = new Map<string, Var>();
  j.constvars.forEach((v, i) => {
    const c = j.consts[i]!;
    if (c.size !== 1) return;
    const key = `${c.dtype}[${c.shape.join(',')}]=${numberKey(c.data()[0]!)}`;
    const first = scalarConsts.get(key);
    if (first) subst.set(v, first);
    else scalarConsts.set(key, v);
  });
  const seen = new Map<string, Eqn>();
  const eqns: Eqn[] = [];
  for (const e of j.eqns) {
    const inputs = e.inputs.map(read);
    const key = `${e.prim.name}|${paramsKey(e.params)}|${inputs.map((v) => v.id).join(',')}`;
    const prev = seen.get(key);
    if (prev && prev.outs.length === e.outs.length) {
      e.outs.forEach((o, i) => subst.set(o, prev.outs[i]!));
      continue;
    }
    const kept: Eqn = { ...e, inputs };
    seen.set(key, kept);
    eqns.push(kept);
  }
  return { ...j, eqns, outvars: j.outvars.map(read) };
}
