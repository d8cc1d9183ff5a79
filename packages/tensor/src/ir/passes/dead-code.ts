/** Dead-code elimination: drop equations whose outputs nothing reads, and constants nothing uses. */
import type { Eqn, Jaxpr, Var } from '../jaxpr.js';

export function eliminateDeadCode(j: Jaxpr): Jaxpr {
  const live = new Set<Var>(j.outvars);
  const kept: Eqn[] = [];
  for (let i = j.eqns.length - 1; i >= 0; i--) {
    const e = j.eqns[i]!;
    if (!e.outs.some((o) => live.has(o))) continue;
    kept.push(e);
    e.inputs.forEach((v) => live.add(v));
  }
  kept.reverse();
  const usedConsts = j.constvars.map((_, i) => i).filter((i) => live.has(j.constvars[i]!));
  return { ...j, eqns: kept, constvars: usedConsts.map((i) => j.constvars[i]!), consts: usedConsts.map((i) => j.consts[i]!) };
}
