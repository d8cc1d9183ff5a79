/**
 * jit's fused elementwise groups on the GPU: one gpu.js kernel per group, in which every operand is read once
 * (through its broadcast strides), the whole chain is evaluated in registers, and every output of the group
 * is written in the same pass (a gpu.js kernel map: the first output is the kernel's result, the others leave
 * through WebGL draw buffers). A group with more outputs than one kernel can write (maxKernelOutputs) is
 * split into several kernels. Intermediates are not rounded to their dtype between steps (int32 values are
 * exact floats already; float32 is the GPU's precision).
 */
import type { DType } from '../../core/dtype.js';
import type { Jaxpr, Var } from '../../ir/jaxpr.js';
import type { FusedKernel, KernelInput } from '../backend.js';
import { sizeOf } from '../../core/shape.js';
import { ELEMENTWISE, broadcastStrides, kernelSource, readOperands } from './codegen.js';
import { type GpuHandle, type KernelSpec, float64Error, maxKernelOutputs, runKernels } from './device.js';

/** The kernel computing `targets` (at most maxKernelOutputs() of the group's outputs). */
function fusedSpec(group: Jaxpr, targets: readonly Var[], shape: readonly number[]): KernelSpec {
  // the equations these outputs need, in order
  const needed = new Set<Var>(targets);
  for (let n = group.eqns.length - 1; n >= 0; n--) {
    const e = group.eqns[n]!;
    if (e.outs.some((o) => needed.has(o))) e.inputs.forEach((x) => needed.add(x));
  }
  const used = group.invars.map((v) => needed.has(v));
  const usedIdx = group.invars.map((_, k) => k).filter((k) => used[k]);
  const name = new Map<Var, string>();
  group.invars.forEach((v, k) => name.set(v, `v${k}`));
  const strides = usedIdx.map((k) => broadcastStrides(group.invars[k]!.aval.shape, shape));
  const { body, sizeGeneric } = readOperands(shape, strides, usedIdx.map((k) => `x${k}`));
  // readOperands numbers its reads v0.. over the used operands: rename to the operand's own index
  const renamed = body.map((line) => line.replace(/^const v(\d+) = /, (_, j: string) => `const v${usedIdx[Number(j)]} = `));
  group.eqns.forEach((e, n) => {
    if (!e.outs.some((o) => needed.has(o))) return;
    const expr = ELEMENTWISE[e.prim.name];
    if (!expr) throw new Error(`internal: no fused gpu expression for ${e.prim.name}`);
    const v = `t${n}`;
    name.set(e.outs[0]!, v);
    renamed.push(`const ${v} = ${expr(e.inputs.map((x) => name.get(x)!), e.inputs.map((x) => x.aval.dtype as DType), e.params)};`);
  });
  targets.slice(1).forEach((t, j) => renamed.push(`xs_out${j + 1}(${name.get(t)});`));
  renamed.push(`return ${name.get(targets[0]!)};`);
  return { source: kernelSource(group.invars.length, renamed), extraOutputs: targets.length - 1, sizeGeneric };
}

export function compileFused(group: Jaxpr): FusedKernel<GpuHandle> {
  const shape = group.outvars[0]!.aval.shape;
  const all = [...group.invars, ...group.outvars, ...group.eqns.flatMap((e) => e.outs)];
  if (all.some((v) => v.aval.dtype === 'float64')) throw float64Error('jit (fused group)');
  const per = maxKernelOutputs();
  const specs: KernelSpec[] = [];
  for (let o = 0; o < group.outvars.length; o += per) specs.push(fusedSpec(group, group.outvars.slice(o, o + per), shape));
  const size = sizeOf(shape);
  return (inputs: readonly KernelInput<GpuHandle>[], buffers?: readonly (GpuHandle | undefined)[]) => {
    const handles = inputs.map((x) => x.handle);
    return specs.flatMap((spec, c) => runKernels('jit (fused group)', spec, handles, size, buffers?.slice(c * per) ?? []));
  };
}
