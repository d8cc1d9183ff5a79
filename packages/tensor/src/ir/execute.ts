/**
 * Running an optimised jaxpr on a backend: the plan (which kernel, which slots) is built once; each call
 * only moves buffers between slots and calls kernels, with no tracing, shape inference or dispatch.
 */
import { ConcreteTensor } from '../core/tensor.js';
import { type Backend, type Kernel, type KernelInput, getBackend } from '../backends/backend.js';
import type { Jaxpr, Var } from './jaxpr.js';
import { fusedElementwisePrim } from './passes/fuse-elementwise.js';
import { evalJaxpr } from '../transforms/jit.js';

export type Executable = (args: readonly ConcreteTensor[]) => ConcreteTensor[];

interface Step {
  inputSlots: number[];
  outSlots: number[];
  /** Reused operand descriptors: only their handles change between calls. */
  operands: { handle: unknown; shape: readonly number[]; dtype: ConcreteTensor['dtype'] }[];
  run: (operands: readonly KernelInput[]) => unknown[];
  /** Slots whose last reader is this step: released after it, so memory can be reclaimed. */
  release: number[];
}

export function compileJaxpr(j: Jaxpr, backend: Backend = j.consts[0]?.backend ?? getBackend()): Executable {
  const slot = new Map<Var, number>();
  const slotOf = (v: Var): number => {
    let s = slot.get(v);
    if (s === undefined) {
      s = slot.size;
      slot.set(v, s);
    }
    return s;
  };
  j.constvars.forEach(slotOf);
  j.invars.forEach(slotOf);
  const steps: Step[] = j.eqns.map((e) => {
    let run: Step['run'];
    if (e.prim === fusedElementwisePrim) {
      const group = (e.params as { jaxpr: Jaxpr }).jaxpr;
      run = backend.compileFused ? backend.compileFused(group) : fallbackGroup(group, backend);
    } else {
      const kernel: Kernel | undefined = backend.kernels.get(e.prim.name);
      if (!kernel) throw new Error(`jit: no kernel for ${e.prim.name} on backend '${backend.name}'`);
      const out = e.outs[0]!.aval;
      const params = e.params;
      run = (operands) => [kernel(operands, params, out)];
    }
    return {
      inputSlots: e.inputs.map(slotOf),
      outSlots: e.outs.map(slotOf),
      operands: e.inputs.map((v) => ({ handle: null, shape: v.aval.shape, dtype: v.aval.dtype })),
      run,
      release: [],
    };
  });
  const outSlots = j.outvars.map(slotOf);
  // Release each intermediate after its last reader (never inputs, constants or outputs).
  const pinned = new Set([...j.constvars, ...j.invars, ...j.outvars].map((v) => slot.get(v)!));
  const lastReader = new Map<number, number>();
  steps.forEach((s, i) => s.inputSlots.forEach((x) => lastReader.set(x, i)));
  for (const [x, i] of lastReader) if (!pinned.has(x)) steps[i]!.release.push(x);
  const nConsts = j.constvars.length;
  const constHandles = j.consts.map((c) => c.handle);
  const outAvals = j.outvars.map((v) => v.aval);

  return (args) => {
    const env = new Array<unknown>(slot.size);
    for (let i = 0; i < nConsts; i++) env[i] = constHandles[i];
    for (let i = 0; i < args.length; i++) {
      if (args[i]!.backend !== backend) throw new Error(`jit: argument ${i} lives on backend '${args[i]!.backend.name}', the compiled function on '${backend.name}'`);
      env[nConsts + i] = args[i]!.handle;
    }
    for (const step of steps) {
      const ops = step.operands;
      for (let k = 0; k < ops.length; k++) ops[k]!.handle = env[step.inputSlots[k]!];
      const outs = step.run(ops);
      for (let k = 0; k < outs.length; k++) env[step.outSlots[k]!] = outs[k];
      for (const r of step.release) env[r] = undefined;
    }
    return outSlots.map((s, i) => new ConcreteTensor(outAvals[i]!.shape, outAvals[i]!.dtype, backend, env[s]));
  };
}

/** Run a fused group op by op, for backends without a fused compiler. */
function fallbackGroup(group: Jaxpr, backend: Backend): Step['run'] {
  return (operands) => {
    const args = operands.map((o) => new ConcreteTensor(o.shape, o.dtype, backend, o.handle));
    return evalJaxpr(group, args).map((t) => t.concrete("jit").handle);
  };
}
