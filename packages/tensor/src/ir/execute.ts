/**
 * Running an optimised jaxpr on a backend. The plan is built once per compiled signature: which kernel each
 * equation calls (prepared for its shapes where the backend has a preparer: `Backend.preparers`), which slot
 * each value lives in, and which preallocated buffer each intermediate is written to. Intermediates share a
 * pool of buffers by liveness (a buffer is reused once every reader of its previous value has run), so a call
 * allocates only the arrays it returns, and not even those where an output can be written into the buffer of
 * a donated argument (`jit(f, { donateArgnums })`, see planDonation).
 */
import { ConcreteTensor, isBufferShared, markBufferShared, markDonated } from '../core/tensor.js';
import { mapPacked, packedCopy } from '../core/arrays.js';
import { shapesEqual, sizeOf } from '../core/shape.js';
import { type DType, allocate } from '../core/dtype.js';
import { type Backend, type Kernel, type KernelAval, type KernelInput, type PreparedKernel, getBackend } from '../backends/backend.js';
import type { Eqn, Jaxpr, Var } from './jaxpr.js';
import { FUSIBLE, fusedElementwisePrim } from './passes/fuse-elementwise.js';
import { evalJaxpr } from '../transforms/jit.js';
import { type ProgramProfile, jitProfiler, registerProgram } from './profile.js';

export type Executable = (args: readonly ConcreteTensor[]) => ConcreteTensor[];

/** Kernels that return their input's buffer itself: their output shares that buffer's lifetime. */
const ALIASING = new Set(['reshape', 'stop_gradient']);

interface Step {
  inputSlots: number[];
  outSlots: number[];
  /** The buffer each output is written into: planned, or undefined (allocated), or for one call a donated one. */
  into: unknown[];
  /**
   * The equation's kernel prepared for its shapes (one output), where the backend has a preparer for it: its
   * operands' buffers go into `handles` (reused) for each call.
   */
  prepared: PreparedKernel | undefined;
  handles: unknown[];
  /** Otherwise, reused operand descriptors (only their handles change between calls) and the kernel's call. */
  operands: { handle: unknown; shape: readonly number[]; dtype: DType }[];
  run: ((operands: readonly KernelInput[]) => unknown[]) | undefined;
}

/** var -> the var that owns its buffer: an aliasing kernel's output shares its input's. */
function aliasOwners(j: Jaxpr): (v: Var) => Var {
  const group = new Map<Var, Var>();
  const owner = (v: Var): Var => group.get(v) ?? v;
  for (const e of j.eqns) if (ALIASING.has(e.prim.name)) group.set(e.outs[0]!, owner(e.inputs[0]!));
  return owner;
}

/**
 * Assign a buffer to every intermediate: values that alias (reshape) share a group; a group's buffer
 * returns to the pool after its last reader. Groups holding inputs, constants or outputs are not planned.
 */
function planBuffers(j: Jaxpr, backend: Backend): Map<Var, unknown> {
  const owner = aliasOwners(j);
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

/** An output that may be written into a donated argument's buffer: equation `step`'s output `out`, argument `input`. */
interface Reuse {
  input: number;
  step: number;
  out: number;
  /** The equation also reads the input (at the index it writes). */
  inPlace: boolean;
}

/**
 * Which outputs may be written into which donated inputs' buffers (decided once per plan; each call then
 * checks that the argument's buffer is its own, see `ownBuffer`). An output takes a donated input's buffer
 * only if their dtype and size match, no other output takes it (an output that returns the input itself, or
 * a reshape of it, keeps it), and the input is never read after the equation computing the output: either
 * every read comes before that equation, or the equation is elementwise (a fused group, or one op that then
 * runs as a fused group of one: the plain kernels zero their output buffer first) and every read of it
 * there has the output's shape, i.e. reads each element at the index it then writes: in place, which the
 * backend's fused kernels allow. Matmuls, reductions, gathers, transposes read other indices, so they never
 * write over their own inputs.
 */
function planDonation(j: Jaxpr, donated: readonly boolean[], backend: Backend): Reuse[] {
  if (!backend.reusesDonatedBuffers) return [];
  const owner = aliasOwners(j);
  const donatedIndex = new Map<Var, number>();
  j.invars.forEach((v, i) => donated[i] && donatedIndex.set(v, i));
  const lastRead = new Map<number, number>();
  j.eqns.forEach((e, n) =>
    e.inputs.forEach((v) => {
      const d = donatedIndex.get(owner(v));
      if (d !== undefined) lastRead.set(d, n);
    }),
  );
  const taken = new Set<number>();
  for (const o of j.outvars) {
    const d = donatedIndex.get(owner(o));
    if (d !== undefined) taken.add(d);
  }
  const producer = new Map<Var, [number, number]>();
  j.eqns.forEach((e, n) => e.outs.forEach((o, k) => producer.set(o, [n, k])));
  const roots = [...new Set(j.outvars.map(owner))].filter((r) => producer.has(r));
  const reuse: Reuse[] = [];
  const assign = (inPlace: boolean): void => {
    for (const r of roots) {
      if (reuse.some((u) => j.eqns[u.step]!.outs[u.out] === r)) continue;
      const [n, k] = producer.get(r)!;
      const e = j.eqns[n]!;
      for (const [v, d] of donatedIndex) {
        if (taken.has(d) || v.aval.dtype !== r.aval.dtype || sizeOf(v.aval.shape) !== sizeOf(r.aval.shape)) continue;
        const last = lastRead.get(d) ?? -1;
        const ok = inPlace
          ? last === n && isElementwise(e) && !!backend.compileFused && e.inputs.every((x) => owner(x) !== v || shapesEqual(x.aval.shape, r.aval.shape))
          : last < n;
        if (!ok) continue;
        taken.add(d);
        reuse.push({ input: d, step: n, out: k, inPlace });
        break;
      }
    }
  };
  // In-place pairs first (an update `p - lr * g` takes its own `p`), then buffers that are free by then.
  assign(true);
  assign(false);
  return reuse;
}

const isElementwise = (e: Eqn): boolean => e.prim === fusedElementwisePrim || (FUSIBLE.has(e.prim.name) && e.outs.length === 1);

/** A lone elementwise equation as a fused group of one. */
function asGroup(e: Eqn): Eqn {
  const inputs = [...new Set(e.inputs)];
  const jaxpr: Jaxpr = { constvars: [], consts: [], invars: inputs, eqns: [e], outvars: e.outs };
  return { prim: fusedElementwisePrim, params: { jaxpr }, inputs, outs: e.outs };
}

/**
 * Compile `j` for `backend`; without one, for the backend of each call's arguments (one plan per backend, so
 * one jitted function serves arrays on the cpu and on the gpu; constants are copied to that backend once).
 * `donated[i]` marks input i as donated: each call invalidates those arguments (see `ConcreteTensor.isDonated`)
 * and, where the backend allows it, writes outputs into their buffers.
 */
export function compileJaxpr(j: Jaxpr, backend?: Backend, donated: readonly boolean[] = [], name = 'anonymous'): Executable {
  if (backend) return compileFor(j, backend, donated, name);
  const plans = new Map<Backend, Executable>();
  return (args) => {
    const b = args[0]?.backend ?? j.consts.find((c) => c.shape.length > 0)?.backend ?? j.consts[0]?.backend ?? getBackend();
    let plan = plans.get(b);
    if (!plan) {
      plan = compileFor(j, b, donated, name);
      plans.set(b, plan);
    }
    return plan(args);
  };
}

function compileFor(j: Jaxpr, backend: Backend, donated: readonly boolean[], name: string): Executable {
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
  const reuse = planDonation(j, donated, backend);
  // A lone elementwise op that writes over a donated input runs as a fused group (see planDonation).
  const inPlace = new Set(reuse.filter((r) => r.inPlace && j.eqns[r.step]!.prim !== fusedElementwisePrim).map((r) => r.step));
  const avalOf = (v: Var): KernelAval => ({ shape: packedCopy(v.aval.shape), dtype: v.aval.dtype });
  const steps: Step[] = j.eqns.map((eqn, n) => {
    const e = inPlace.has(n) ? asGroup(eqn) : eqn;
    let run: Step['run'];
    let prepared: PreparedKernel | undefined;
    const into: unknown[] = mapPacked(e.outs, (o) => buffers.get(o));
    const preparer = e.outs.length === 1 ? backend.preparers?.get(e.prim.name) : undefined;
    if (preparer) prepared = preparer(mapPacked(e.inputs, avalOf), e.params, avalOf(e.outs[0]!));
    else if (e.prim === fusedElementwisePrim) {
      const group = (e.params as { jaxpr: Jaxpr }).jaxpr;
      if (backend.compileFused) {
        const kernel = backend.compileFused(group);
        run = (operands) => kernel(operands, into);
      } else {
        run = fallbackGroup(group, backend);
      }
    } else {
      const kernel: Kernel | undefined = backend.kernels.get(e.prim.name);
      if (!kernel) throw new Error(`jit: no kernel for ${e.prim.name} on backend '${backend.name}'`);
      const out: { shape: readonly number[]; dtype: DType; buffer: unknown } = { shape: packedCopy(e.outs[0]!.aval.shape), dtype: e.outs[0]!.aval.dtype, buffer: undefined };
      const params = e.params;
      run = (operands) => {
        out.buffer = into[0];
        return [kernel(operands, params, out)];
      };
    }
    return {
      inputSlots: mapPacked(e.inputs, slotOf),
      outSlots: mapPacked(e.outs, slotOf),
      prepared,
      handles: mapPacked(e.inputs, () => undefined as unknown),
      // (arrays and shapes of one hidden class, which the kernels' optimised code then always sees: the operand
      // list built by Array.prototype.map was HOLEY or PACKED depending on whether its caller was optimised, and
      // argmax's and allocOut's code deoptimised on the other kind at every new program)
      operands: mapPacked(e.inputs, (v) => ({ handle: null, shape: packedCopy(v.aval.shape), dtype: v.aval.dtype })),
      into,
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
  // A constant's buffer is read by every call: no donated argument that shares it may be overwritten.
  constHandles.forEach(markBufferShared);
  const outAvals = j.outvars.map((v) => ({ shape: packedCopy(v.aval.shape), dtype: v.aval.dtype }));
  const env = new Array<unknown>(slot.size);

  const donatedInputs = j.invars.map((_, i) => i).filter((i) => donated[i]);
  // Outputs whose buffer another holder may read: an undonated input or a constant returned (reshaped or not),
  // or one value returned twice. Marked after each call so that donating one of them never overwrites the other.
  const owner = aliasOwners(j);
  const outOwners = j.outvars.map(owner);
  const sharedOuts = outOwners
    .map((o, i) => ((j.invars.includes(o) && !donated[j.invars.indexOf(o)]) || j.constvars.includes(o) || outOwners.indexOf(o) !== outOwners.lastIndexOf(o) ? i : -1))
    .filter((i) => i >= 0);
  // Outputs that return a donated input (reshaped or not): [output, input] pairs.
  const donatedOuts = outOwners.map((o, i) => [i, j.invars.indexOf(o)] as const).filter(([, d]) => d >= 0 && donated[d]);

  /** Whether argument `i`'s buffer is held by that array alone, as far as this call can tell. */
  const ownBuffer = (args: readonly ConcreteTensor[], i: number): boolean => {
    const h = args[i]!.handle;
    if (isBufferShared(h)) return false;
    for (let k = 0; k < args.length; k++) if (k !== i && args[k]!.handle === h) return false;
    return true;
  };

  const runStep = (step: Step): void => {
    const slots = step.inputSlots;
    if (step.prepared !== undefined) {
      const hs = step.handles;
      for (let k = 0; k < hs.length; k++) hs[k] = env[slots[k]!];
      env[step.outSlots[0]!] = step.prepared(hs, step.into[0]);
      for (let k = 0; k < hs.length; k++) hs[k] = undefined; // (holds no caller's array past the call)
      return;
    }
    const ops = step.operands;
    for (let k = 0; k < ops.length; k++) ops[k]!.handle = env[slots[k]!];
    const outs = step.run!(ops);
    for (let k = 0; k < outs.length; k++) env[step.outSlots[k]!] = outs[k];
  };
  let profile: ProgramProfile | undefined; // (jitProfiler: the times of this plan's equations)

  return (args) => {
    for (let i = 0; i < nConsts; i++) env[i] = constHandles[i];
    for (let i = 0; i < args.length; i++) {
      if (args[i]!.backend !== backend) throw new Error(`jit: argument ${i} lives on backend '${args[i]!.backend.name}', the compiled function on '${backend.name}'`);
      env[nConsts + i] = args[i]!.handle;
    }
    // Donation happens at dispatch (as in JAX): the arguments are invalid from here on, whatever happens next.
    for (let k = 0; k < reuse.length; k++) {
      const r = reuse[k]!;
      if (ownBuffer(args, r.input)) steps[r.step]!.into[r.out] = args[r.input]!.handle;
    }
    for (let k = 0; k < donatedInputs.length; k++) markDonated(args[donatedInputs[k]!]!);
    try {
      if (!jitProfiler.enabled) for (let n = 0; n < steps.length; n++) runStep(steps[n]!);
      else {
        if (!profile || profile.calls < 0) profile = registerProgram(name, j);
        profile.calls++;
        for (let n = 0; n < steps.length; n++) {
          const t0 = performance.now();
          runStep(steps[n]!);
          profile.ms[n] += performance.now() - t0;
        }
      }
    } finally {
      for (let k = 0; k < reuse.length; k++) steps[reuse[k]!.step]!.into[reuse[k]!.out] = undefined;
    }
    const result = mapPacked(outSlots, (s, i) => new ConcreteTensor(outAvals[i]!.shape, outAvals[i]!.dtype, backend, env[s]));
    for (let k = 0; k < sharedOuts.length; k++) markBufferShared(result[sharedOuts[k]!]!.handle);
    // A returned donated input keeps its buffer; shared still if that buffer was also passed elsewhere.
    for (let k = 0; k < donatedOuts.length; k++) {
      const pair = donatedOuts[k]!;
      if (!ownBuffer(args, pair[1])) markBufferShared(result[pair[0]]!.handle);
    }
    if (transientSlots.length > 0 && !backend.garbageCollected) {
      const held = new Set<unknown>(constHandles);
      for (const a of args) held.add(a.handle);
      for (const r of result) held.add(r.handle);
      for (const s of transientSlots) if (env[s] !== undefined && !held.has(env[s])) backend.dispose(env[s]);
    }
    // A donated buffer no output took is released now (on a device backend; the CPU's GC owns its buffers).
    for (let k = 0; !backend.garbageCollected && k < donatedInputs.length; k++) {
      const i = donatedInputs[k]!;
      const h = args[i]!.handle;
      if (ownBuffer(args, i) && !result.some((r) => r.handle === h)) backend.dispose(h);
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
