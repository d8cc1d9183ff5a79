/**
 * Running an optimised jaxpr on a backend. The plan is built once per compiled signature: which kernel each
 * equation calls, which slot each value lives in, and which preallocated buffer each intermediate is
 * written to. Intermediates share a pool of buffers by liveness (a buffer is reused once every reader of
 * its previous value has run), so a call allocates only the arrays it returns.
 */
import { ConcreteTensor } from '../core/tensor.js';
import { sizeOf } from '../core/shape.js';
import { type DType, allocate } from '../core/dtype.js';
import { type Backend, type Kernel, type KernelInput, getBackend } from '../backends/backend.js';
import type { Jaxpr, Var } from './jaxpr.js';
import { fusedElementwisePrim } from './passes/fuse-elementwise.js';
import { evalJaxpr } from '../transforms/jit.js';

export type Executable = (args: readonly ConcreteTensor[]) => ConcreteTensor[];

/** Kernels that return their input's buffer itself: their output shares that buffer's lifetime. */
const ALIASING = new Set(['reshape', 'stop_gradient']);

interface Step {
  inputSlots: number[];
  outSlots: number[];
  /** Reused operand descriptors: only their handles change between calls. */
  operands: { handle: unknown; shape: readonly number[]; dtype: DType }[];
  run: (operands: readonly KernelInput[]) => unknown[];
}

/**
 * Assign a buffer to every intermediate: values that alias (reshape) share a group; a group's buffer
 * returns to the pool after its last reader. Groups holding inputs, constants or outputs are not planned.
 */
function planBuffers(j: Jaxpr, backend: Backend): Map<Var, unknown> {
  const group = new Map<Var, Var>(); // var -> the var that owns its buffer
  const owner = (v: Var): Var => group.get(v) ?? v;
  for (const e of j.eqns) if (ALIASING.has(e.prim.name)) group.set(e.outs[0]!, owner(e.inputs[0]!));
  const pinned = new Set<Var>([...j.constvars, ...j.invars, ...j.outvars].map(owner));
  const lastRead = new Map<Var, number>();
  j.eqns.forEach((e, i) => e.inputs.forEach((v) => lastRead.set(owner(v), i)));
  const pool = new Map<string, unknown[]>();
  const keyOf = (v: Var): string => `${v.aval.dtype}:${sizeOf(v.aval.shape)}`;
  const assigned = new Map<Var, unknown>();
  const releaseAt = new Map<number, Var[]>();
  j.eqns.forEach((e, i) => {
    for (const o of e.outs) {
      if (owner(o) !== o || pinned.has(o)) continue;
      const free = pool.get(keyOf(o));
      const buffer = free && free.length > 0 ? free.pop() : backend.upload(allocate(o.aval.dtype, sizeOf(o.aval.shape)), o.aval.dtype);
      assigned.set(o, buffer);
      const last = lastRead.get(o) ?? i;
      releaseAt.set(last, [...(releaseAt.get(last) ?? []), o]);
    }
    for (const v of releaseAt.get(i) ?? []) {
      const k = keyOf(v);
      pool.set(k, [...(pool.get(k) ?? []), assigned.get(v)]);
    }
  });
  return assigned;
}

/**
 * Compile `j` for `backend`; without one, for the backend of each call's arguments (one plan per backend, so
 * one jitted function serves arrays on the cpu and on the gpu; constants are copied to that backend once).
 */
export function compileJaxpr(j: Jaxpr, backend?: Backend): Executable {
  if (backend) return compileFor(j, backend);
  const plans = new Map<Backend, Executable>();
  return (args) => {
    const b = args[0]?.backend ?? j.consts.find((c) => c.shape.length > 0)?.backend ?? j.consts[0]?.backend ?? getBackend();
    let plan = plans.get(b);
    if (!plan) {
      plan = compileFor(j, b);
      plans.set(b, plan);
    }
    return plan(args);
  };
}

function compileFor(j: Jaxpr, backend: Backend): Executable {
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
  const buffers = planBuffers(j, backend);
  const steps: Step[] = j.eqns.map((e) => {
    let run: Step['run'];
    if (e.prim === fusedElementwisePrim) {
      const group = (e.params as { jaxpr: Jaxpr }).jaxpr;
      const into = e.outs.map((o) => buffers.get(o));
      if (backend.compileFused) {
        const kernel = backend.compileFused(group);
        run = (operands) => kernel(operands, into);
      } else {
        run = fallbackGroup(group, backend);
      }
    } else {
      const kernel: Kernel | undefined = backend.kernels.get(e.prim.name);
      if (!kernel) throw new Error(`jit: no kernel for ${e.prim.name} on backend '${backend.name}'`);
      const out = { ...e.outs[0]!.aval, buffer: buffers.get(e.outs[0]!) };
      const params = e.params;
      run = (operands) => [kernel(operands, params, out)];
    }
    return {
      inputSlots: e.inputs.map(slotOf),
      outSlots: e.outs.map(slotOf),
      operands: e.inputs.map((v) => ({ handle: null, shape: v.aval.shape, dtype: v.aval.dtype })),
      run,
    };
  });
  const outSlots = j.outvars.map(slotOf);
  // Values that are neither outputs nor planned buffers (e.g. the source of a reshape that is an output) are
  // released after each call, so a device backend's reference to them does not wait for the GC.
  const outSet = new Set(j.outvars);
  const transientSlots = j.eqns.flatMap((e) => e.outs.filter((o) => !outSet.has(o) && !buffers.has(o)).map(slotOf));
  const nConsts = j.constvars.length;
  const constHandles = j.consts.map((c) => (c.backend === backend ? c.handle : backend.upload(c.backend.download(c.handle, c.dtype, c.size), c.dtype)));
  const outAvals = j.outvars.map((v) => v.aval);
  const env = new Array<unknown>(slot.size);

  return (args) => {
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
    }
    const result = outSlots.map((s, i) => new ConcreteTensor(outAvals[i]!.shape, outAvals[i]!.dtype, backend, env[s]));
    if (transientSlots.length > 0) {
      const held = new Set<unknown>([...constHandles, ...args.map((a) => a.handle), ...result.map((r) => r.handle)]);
      for (const s of transientSlots) if (env[s] !== undefined && !held.has(env[s])) backend.dispose(env[s]);
    }
    env.fill(undefined); // drop references to the caller's arrays
    return result;
  };
}

/** Run a fused group op by op, for backends without a fused compiler. */
function fallbackGroup(group: Jaxpr, backend: Backend): Step['run'] {
  return (operands) => {
    const args = operands.map((o) => new ConcreteTensor(o.shape, o.dtype, backend, o.handle));
    return evalJaxpr(group, args).map((t) => t.concrete('jit').handle);
  };
}
