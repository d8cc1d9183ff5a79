/** The optimisation pipeline jit runs on every staged jaxpr. Each pass is a function Jaxpr → Jaxpr. */
import type { Jaxpr } from './jaxpr.js';
import { eliminateDeadCode } from './passes/dead-code.js';
import { eliminateCommonSubexpressions } from './passes/common-subexpressions.js';
import { foldConstants } from './passes/fold-constants.js';
import { contractSummedBatch } from './passes/contract-summed-batch.js';
import { fuseElementwise } from './passes/fuse-elementwise.js';
import { foldTransposes } from './passes/fold-transposes.js';

export { eliminateDeadCode, eliminateCommonSubexpressions, foldConstants, contractSummedBatch, foldTransposes, fuseElementwise };

export function optimize(j: Jaxpr): Jaxpr {
  let out = eliminateDeadCode(j);
  out = foldConstants(out);
  out = eliminateCommonSubexpressions(out);
  out = eliminateDeadCode(out);
  out = contractSummedBatch(out);
  out = foldTransposes(out);
  out = fuseElementwise(out);
  return eliminateDeadCode(out);
}
