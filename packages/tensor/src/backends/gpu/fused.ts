/**
 * jit's fused elementwise groups on the GPU: one gpu.js kernel per group output, in which every operand is
 * read once (through its broadcast strides) and the whole chain is evaluated in registers; a group with one
 * output (the usual case) is a single kernel. Intermediates are not rounded to their dtype between steps
 * (int32 values are exact floats already; float32 is the GPU's precision).
 */
import type { DType } from '../../core/dtype.js';
import type { Jaxpr, Var } from '../../ir/jaxpr.js';
import type { FusedKernel, KernelInput } from '../backend.js';
import { ELEMENTWISE, broadcastStrides, kernelSource, readOperands, sizeOf } from './codegen.js';
import { type GpuHandle, float64Error, runKernel } from './device.js';

export function compileFused(group: Jaxpr): FusedKernel<GpuHandle> {
  const shape = group.outvars[0]!.aval.shape;
  const all = [...group.invars, ...group.outvars, ...group.eqns.flatMap((e) => e.outs)];
  if (all.some((v) => v.aval.dtype === 'float64')) throw float64Error('jit (fused group)');
  const strides = group.invars.map((v) => broadcastStrides(v.aval.shape, shape));
  const sources = group.outvars.map((target) => {
    // the equations this output needs, in order
    const needed = new Set<Var>([target]);
    for (let n = group.eqns.length - 1; n >= 0; n--) {
      const e = group.eqns[n]!;
      if (e.outs.some((o) => needed.has(o))) e.inputs.forEach((x) => needed.add(x));
    }
    const used = group.invars.map((v) => needed.has(v));
    const name = new Map<Var, string>();
    group.invars.forEach((v, k) => name.set(v, `v${k}`));
    const body = readOperands(shape, strides.filter((_, k) => used[k]), group.invars.map((_, k) => `x${k}`).filter((_, k) => used[k]));
    // readOperands numbers its reads v0.. over the used operands: rename to the operand's own index
    const usedIdx = group.invars.map((_, k) => k).filter((k) => used[k]);
    const renamed = body.map((line) => line.replace(/^const v(\d+) = /, (_, j: string) => `const v${usedIdx[Number(j)]} = `));
    group.eqns.forEach((e, n) => {
      if (!e.outs.some((o) => needed.has(o))) return;
      const expr = ELEMENTWISE[e.prim.name];
      if (!expr) throw new Error(`internal: no fused gpu expression for ${e.prim.name}`);
      const v = `t${n}`;
      name.set(e.outs[0]!, v);
      renamed.push(`const ${v} = ${expr(e.inputs.map((x) => name.get(x)!), e.inputs.map((x) => x.aval.dtype as DType), e.params)};`);
    });
    renamed.push(`return ${name.get(target)};`);
    return kernelSource(group.invars.length, renamed);
  });
  const size = sizeOf(shape);
  return (inputs: readonly KernelInput<GpuHandle>[], buffers?: readonly (GpuHandle | undefined)[]) =>
    sources.map((src, i) => runKernel('jit (fused group)', src, inputs.map((x) => x.handle), size, buffers?.[i]));
}
