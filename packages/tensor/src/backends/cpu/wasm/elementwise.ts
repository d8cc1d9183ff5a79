/**
 * Fused float32 elementwise groups on WebAssembly SIMD128: fused.ts hands a group whose inputs and outputs
 * are float32 (or bool) and whose ops are all in OPS to `compileWasmFused`, which emits one wasm function for it,
 * with the group's shapes baked in as constants. A call copies the inputs into a wasm memory shared by all
 * such kernels, runs the function and copies the outputs out:
 *
 *   memory: input 0 | input 1 | ... | output 0 | output 1 | ...   (each at a 16-byte aligned address)
 *   for a0 < dims[0] ... for a(r-2) < dims[r-2]              the merged outer dims (fused.ts: mergeDims)
 *     hoisted operands (stride 0 along the innermost dim): loaded once, splat to four lanes
 *     for j < n & ~3, step 4:  four lanes at a time (f32x4; bool intermediates as all-ones lane masks)
 *     the last n % 4 elements: gathered into the lanes of one vector, through the same code
 *
 * Exactness: every op here is one correctly rounded IEEE float32 operation (+ - * / sqrt) or exact (neg,
 * abs, floor, ceil, min/max, compares, select), so it gives the same float32 as the op-by-op kernels'
 * double-precision op rounded to float32 (elementwise.ts) and the JS fused loop's Math.fround: for + - * /
 * sqrt, float64 has more than 2·24 + 2 bits, so rounding twice equals rounding once. wasm's min/max
 * return NaN when either operand is NaN and order -0 below +0, as Math.min/Math.max do. Only NaN payloads may
 * differ (JS leaves them unspecified as well). exp and logistic have no wasm instruction: they run in
 * float64 (f64x2, two lanes at a time), as V8's Math.exp computes (fdlibm's algorithm, step for step), then
 * round to float32, so they too equal the op-by-op kernels bit for bit (checked over every float32 input in
 * test/cpu-wasm-fused.test.ts); groups with other transcendentals (log, tanh, sin...) stay on the JS path.
 *
 * XS_WASM=0 (read when the library loads; also switches off the wasm matmul, sgemm.ts) keeps every group on
 * the JS path, as do groups of fewer than `wasmFused.minSize` elements; tests may change both fields, which
 * apply to groups compiled afterwards.
 */
import type { TypedArray } from '../../../core/dtype.js';
import { mapPacked } from '../../../core/arrays.js';
import type { Jaxpr, Var } from '../../../ir/jaxpr.js';
import type { FusedKernel, KernelInput } from '../../backend.js';
import { Body, encodeModule, i32, v128, type SimdOp } from './encoder.js';
import { type WasmApi, type WasmMemory, wasmApi } from './api.js';


/** Whether fused float32 groups may compile to wasm (see the file comment), and from which size on. */
export const wasmFused = {
  enabled: (typeof process !== 'undefined' ? process.env.XS_WASM : undefined) !== '0',
  /**
   * Groups of fewer elements stay in JS: there the call and the copies cost more than the loop saves (seed
   * step, Zen 5: a [10] SGD update took 0.1 µs in JS and 0.3 µs in wasm; [100] groups about broke even).
   */
  minSize: 128,
};

/** Counters of the fused elementwise kernels of the CPU backend. */
export interface FusedKernelStats {
  /** Groups compiled to a wasm SIMD kernel. */
  wasmKernels: number;
  /** Groups compiled to a JS loop. */
  jsKernels: number;
  /** Calls of wasm kernels. */
  wasmRuns: number;
}
const stats: FusedKernelStats = { wasmKernels: 0, jsKernels: 0, wasmRuns: 0 };

/**
 * A copy of the counters since the process started: how many of jit's fused elementwise groups the CPU backend
 * compiled to WebAssembly SIMD and how many to JS loops (other dtypes, unsupported ops, small groups, XS_WASM=0).
 * @example
 * const before = fusedKernelStats().wasmRuns;
 * jit((x: Tensor) => x.mul(2).add(1))(np.ones([1000]));
 * fusedKernelStats().wasmRuns - before; // 1
 */
export function fusedKernelStats(): FusedKernelStats {
  return { ...stats };
}
/** fused.ts counts the groups it compiles to JS here, so that one object holds both counts. */
export function countJsFused(): void {
  stats.jsKernels++;
}

type Kind = 'f32' | 'bool';
/**
 * An op: its SIMD instruction (operands pushed in order), or code that pushes its result from the locals
 * holding its operands; and the kind of value it makes from operands of kind `args`.
 */
interface OpDef {
  v?: SimdOp;
  emit?: (b: Body, x: number) => void;
  args: Kind[];
  out: Kind;
}
const arith = (name: string, arity: 1 | 2): OpDef => ({ v: `f32x4.${name}` as SimdOp, args: arity === 1 ? ['f32'] : ['f32', 'f32'], out: 'f32' });
const compare = (name: string): OpDef => ({ v: `f32x4.${name}` as SimdOp, args: ['f32', 'f32'], out: 'bool' });
/** The primitives a wasm group may contain, by name. */
const OPS: Record<string, OpDef> = {
  add: arith('add', 2),
  sub: arith('sub', 2),
  mul: arith('mul', 2),
  div: arith('div', 2),
  min: arith('min', 2),
  max: arith('max', 2),
  neg: arith('neg', 1),
  abs: arith('abs', 1),
  sqrt: arith('sqrt', 1),
  floor: arith('floor', 1),
  ceil: arith('ceil', 1),
  eq: compare('eq'),
  ne: compare('ne'),
  lt: compare('lt'),
  le: compare('le'),
  gt: compare('gt'),
  ge: compare('ge'),
  and: { v: 'v128.and', args: ['bool', 'bool'], out: 'bool' },
  or: { v: 'v128.or', args: ['bool', 'bool'], out: 'bool' },
  not: { v: 'v128.not', args: ['bool'], out: 'bool' },
  // select(c, a, b): v128.bitselect pops [a, b, c] and takes a's bits where c's are set
  select: { v: 'v128.bitselect', args: ['bool', 'f32', 'f32'], out: 'f32' },
  exp: { emit: (b, x) => emitPerHalf(b, x, emitExpF64), args: ['f32'], out: 'f32' },
  logistic: { emit: (b, x) => emitPerHalf(b, x, emitLogisticF64), args: ['f32'], out: 'f32' },
};

/**
 * Push f (an f64x2 → f64x2 computation of the local it is given) of the four f32 lanes of local `x`: each
 * half widened to float64, f applied, the results rounded back to float32 (as storing a double into a
 * Float32Array rounds).
 */
function emitPerHalf(b: Body, x: number, f: (b: Body, xd: number) => void): void {
  const [lo, hi, r] = [b.local(v128), b.local(v128), b.local(v128)];
  b.get(x).simdOp('f64x2.promote_low_f32x4').set(lo);
  b.get(x).get(x).shuffle32([2, 3, 0, 1]).simdOp('f64x2.promote_low_f32x4').set(hi);
  f(b, lo);
  b.simdOp('f32x4.demote_f64x2_zero').set(r);
  b.get(r);
  f(b, hi);
  b.simdOp('f32x4.demote_f64x2_zero').shuffle32([0, 1, 4, 5]);
}

// fdlibm's exp (FreeBSD msun e_exp.c), which V8's Math.exp is (src/base/ieee754.cc): its constants.
const LN2HI = 6.93147180369123816490e-1;
const LN2LO = 1.90821492927058770002e-10;
const INVLN2 = 1.44269504088896338700;
const P = [1.66666666666666019037e-1, -2.77777777770155933842e-3, 6.61375632143793436117e-5, -1.65339022054652515390e-6, 4.13813679705723846039e-8];

/**
 * Push Math.exp of the two f64 lanes of local `x0`, bit for bit: fdlibm's algorithm step for step. Its three
 * argument ranges (|x| <= 0.5 ln 2: k = 0 and no reduction; < 1.5 ln 2: k = ±1; else k = (int)(x/ln 2 ± 0.5))
 * need no lane masks on float32 inputs: the general reduction gives each range's own k, hi and lo exactly
 * (k·ln2hi and k·ln2lo are exact for k = ±1, and x - ±0 = x for k = 0; no float32 lies between 0.5 ln 2 and
 * fdlibm's branch point, the double with high word 0x3fd62e43, which is itself a float32 in the k = ±1 range),
 * and for k = 0 the general formula below is fdlibm's k = 0 one, 1 - ((x·c)/(c - 2) - x), exactly
 * (c - 2 = -(2 - c), and ±0 - q = -q). The inputs are clamped to [-104, 89], where exp is 0 or overflows once
 * rounded to float32 (and 1 + exp(-104) = 1 in logistic), so that 2^k stays a normal double and fdlibm's
 * under/overflow branches are never needed. `nonPositive` (logistic's exp(-|x|)): every input is <= 0 or NaN,
 * which drops the upper clamp, the choice of ±0.5 by the sign and the x = 1 case.
 */
function emitExpF64(b: Body, x0: number, nonPositive = false): void {
  const [x, ax, k, hi, lo, xr, t, c, r] = Array.from({ length: 9 }, () => b.local(v128)) as [number, number, number, number, number, number, number, number, number];
  b.get(x0);
  if (!nonPositive) b.f64x2Const(89).simdOp('f64x2.pmin');
  b.f64x2Const(-104).simdOp('f64x2.pmax').set(x); // (NaN stays NaN)
  b.get(x).simdOp('f64x2.abs').set(ax);
  // k = (int)(x/ln 2 ± 0.5), the half taking x's sign bit
  b.f64x2Const(INVLN2).get(x).simdOp('f64x2.mul');
  if (nonPositive) b.f64x2Const(-0.5);
  else b.get(x).f64x2Const(-0).simdOp('v128.and').f64x2Const(0.5).simdOp('v128.or');
  b.simdOp('f64x2.add').simdOp('f64x2.trunc').set(k);
  // hi = x - k·ln2hi, lo = k·ln2lo, x' = hi - lo, t = x'²
  b.get(x).get(k).f64x2Const(LN2HI).simdOp('f64x2.mul').simdOp('f64x2.sub').set(hi);
  b.get(k).f64x2Const(LN2LO).simdOp('f64x2.mul').set(lo);
  b.get(hi).get(lo).simdOp('f64x2.sub').set(xr);
  b.get(xr).get(xr).simdOp('f64x2.mul').set(t);
  // c = x' - t·(P1 + t·(P2 + t·(P3 + t·(P4 + t·P5))))
  b.get(xr).get(t).f64x2Const(P[4]!).simdOp('f64x2.mul');
  for (let i = 3; i >= 0; i--) b.f64x2Const(P[i]!).simdOp('f64x2.add').get(t).simdOp('f64x2.mul');
  b.simdOp('f64x2.sub').set(c);
  // (1 - ((lo - (x'·c)/(2 - c)) - hi))·2^k, 2^k from the bits of k + 2^52 + 1023
  b.f64x2Const(1).get(lo).get(xr).get(c).simdOp('f64x2.mul').f64x2Const(2).get(c).simdOp('f64x2.sub').simdOp('f64x2.div').simdOp('f64x2.sub').get(hi).simdOp('f64x2.sub').simdOp('f64x2.sub');
  b.get(k).f64x2Const(2 ** 52 + 1023).simdOp('f64x2.add').i32(52).simdOp('i64x2.shl').simdOp('f64x2.mul').set(r);
  // fdlibm's own special cases: |x| < 2^-28: 1 + x; x = 1: e
  b.f64x2Const(1).get(x).simdOp('f64x2.add').get(r).get(ax).f64x2Const(2 ** -28).simdOp('f64x2.lt').simdOp('v128.bitselect');
  if (!nonPositive) b.set(r).f64x2Const(Math.E).get(r).get(x).f64x2Const(1).simdOp('f64x2.eq').simdOp('v128.bitselect');
}

/**
 * Push the CPU kernels' logistic of the two f64 lanes of local `x`: x < 0 ? e / (1 + e) : 1 / (1 + e),
 * e = exp(-|x|). The numerator is chosen per lane before the one division (the same IEEE operations on each
 * lane as computing both quotients and choosing after, with half the divisions, the slowest op here).
 */
function emitLogisticF64(b: Body, x: number): void {
  const [t, e] = [b.local(v128), b.local(v128)];
  b.get(x).simdOp('f64x2.abs').simdOp('f64x2.neg').set(t);
  emitExpF64(b, t, true);
  b.set(e);
  b.get(e).f64x2Const(1).get(x).v128Zero().simdOp('f64x2.lt').simdOp('v128.bitselect'); // x < 0 ? e : 1
  b.f64x2Const(1).get(e).simdOp('f64x2.add').simdOp('f64x2.div');
}

const kindOf = (v: Var): Kind | undefined => (v.aval.dtype === 'float32' ? 'f32' : v.aval.dtype === 'bool' ? 'bool' : undefined);

/** Whether the group can run as a wasm kernel: float32 or bool in and out, ops in OPS on the kinds they take. */
function supported(group: Jaxpr): boolean {
  if (group.invars.some((v) => !kindOf(v)) || group.outvars.some((v) => !kindOf(v))) return false;
  return group.eqns.every((e) => {
    const op = OPS[e.prim.name];
    return op !== undefined && e.outs.length === 1 && kindOf(e.outs[0]!) === op.out && e.inputs.every((x, i) => kindOf(x) === op.args[i]);
  });
}
/** Bytes per element in memory (bool: one byte, 0 or 1, as the CPU backend's Uint8Array). */
const bytesOf = (k: Kind): number => (k === 'f32' ? 4 : 1);

/** Groups needing more wasm memory than this run in JS, so that the shared memory stays small. */
const MAX_BYTES = 64 << 20;
const PAGE = 65536;

/** The memory shared by all fused kernels and a view of it (replaced when it grows: growing detaches). */
let shared: { api: WasmApi; memory: WasmMemory; heap: Float32Array; u8: Uint8Array } | undefined | null = null; // null: not tried yet

function sharedMemory(): typeof shared {
  if (shared === null) {
    const api = wasmApi();
    const memory = api ? new api.Memory({ initial: 1 }) : undefined;
    shared = api && memory ? { api, memory, heap: new Float32Array(memory.buffer), u8: new Uint8Array(memory.buffer) } : undefined;
  }
  return shared;
}

/**
 * A wasm kernel for `group`, or undefined when the group is not supported, WebAssembly SIMD is unavailable
 * or the group is too big. `dims` is the merged iteration space of the group's output (row-major) and
 * `strides[i]` input i's element strides in it (0 where it broadcasts), as fused.ts computes them.
 */
export function compileWasmFused(group: Jaxpr, dims: readonly number[], strides: readonly (readonly number[])[]): FusedKernel<TypedArray> | undefined {
  const inner = dims.length - 1;
  const size = dims.reduce((a, b) => a * b, 1);
  if (size < Math.max(1, wasmFused.minSize) || !supported(group) || strides.some((s) => s[inner] !== 0 && s[inner] !== 1)) return undefined;
  const align = (b: number): number => Math.ceil(b / 16) * 16;
  const inOff: number[] = [];
  const outOff: number[] = [];
  let bytes = 0;
  for (const v of group.invars) {
    inOff.push(bytes);
    bytes = align(bytes + bytesOf(kindOf(v)!) * v.aval.shape.reduce((a, b) => a * b, 1));
  }
  for (const v of group.outvars) {
    outOff.push(bytes);
    bytes = align(bytes + bytesOf(kindOf(v)!) * size);
  }
  bytes += 16; // a hoisted bool operand is read as four bytes
  if (bytes > MAX_BYTES) return undefined;
  const mem = sharedMemory();
  if (!mem) return undefined;
  let run: () => void;
  try {
    const module = new mem.api.Module(encodeModule([{ name: 'run', body: emitBody(group, dims, strides, inOff, outOff) }]));
    run = new mem.api.Instance(module, { env: { memory: mem.memory } }).exports['run'] as () => void;
  } catch {
    return undefined; // no SIMD128: the module fails to validate
  }
  stats.wasmKernels++;
  const pages = Math.ceil(bytes / PAGE);
  const outBool = group.outvars.map((v) => kindOf(v) === 'bool');
  // Views of the outputs in wasm memory, made again only when the memory has grown (so a call allocates
  // nothing but the outputs jit did not plan).
  let views: TypedArray[] = [];
  const outs: TypedArray[] = mapPacked(outOff, () => undefined as unknown as TypedArray);
  return (inputs: readonly KernelInput<TypedArray>[], buffers?: readonly (TypedArray | undefined)[]) => {
    const have = mem.memory.buffer.byteLength / PAGE;
    if (have < pages) mem.memory.grow(pages - have);
    if (mem.heap.buffer !== mem.memory.buffer) {
      mem.heap = new Float32Array(mem.memory.buffer);
      mem.u8 = new Uint8Array(mem.memory.buffer);
    }
    const { heap, u8 } = mem;
    if (views[0]?.buffer !== heap.buffer) {
      views = outOff.map((at, o) => (outBool[o] ? new Uint8Array(heap.buffer, at, size) : new Float32Array(heap.buffer, at, size)));
    }
    for (let i = 0; i < inputs.length; i++) {
      const h = inputs[i]!.handle;
      if (h instanceof Float32Array) heap.set(h, inOff[i]! >> 2);
      else u8.set(h, inOff[i]!);
    }
    run();
    stats.wasmRuns++;
    for (let o = 0; o < views.length; o++) {
      const dst = buffers?.[o] ?? (outBool[o] ? new Uint8Array(size) : new Float32Array(size));
      dst.set(views[o]!);
      outs[o] = dst;
    }
    return outs; // (the same list at every call: see FusedKernel)
  };
}

/** The body of `run()`: the loop nest of the file comment, every address a constant or a pointer local. */
function emitBody(group: Jaxpr, dims: readonly number[], strides: readonly (readonly number[])[], inOff: readonly number[], outOff: readonly number[]): Body {
  const b = new Body([]);
  const inner = dims.length - 1;
  const n = dims[inner]!;
  const n4 = n & ~3;
  const inKind = group.invars.map((v) => kindOf(v)!);
  // Byte offsets of the current element in the outputs (float32 outputs at po + outOff, bool ones at pb + outOff).
  const po = b.local(i32);
  const pb = b.local(i32);
  // Each input's address at the start of the current innermost run: a constant at rank 1, else a local per
  // outer level, reset from the level above at each of its iterations and advanced by the level's stride.
  let base: (i: number) => void = (i) => b.i32(inOff[i]!);
  const loopEnds: (() => void)[] = [];
  for (let k = 0; k < inner; k++) {
    const counter = b.local(i32);
    const ptrs = group.invars.map(() => b.local(i32));
    const outer = base;
    ptrs.forEach((p, i) => b.emit(() => outer(i)).set(p));
    b.i32(0).set(counter).loop();
    loopEnds.push(() => {
      ptrs.forEach((p, i) => {
        const st = strides[i]![k]! * bytesOf(inKind[i]!);
        if (st !== 0) b.get(p).i32(st).add().set(p);
      });
      b.get(counter).i32(1).add().tee(counter).i32(dims[k]!).ltS().brIf(0).end();
    });
    base = (i) => b.get(ptrs[i]!);
  }

  // A bool operand's four bytes (or one byte four times) as lane masks: bytes != 0, each spread over its lane.
  const boolMask = (bytePerLane: readonly number[]): void => {
    const t = b.local(v128);
    b.v128Load32Splat().tee(t).get(t).shuffle8(bytePerLane.flatMap((x) => [x, x, x, x])).v128Zero().simdOp('i8x16.ne');
  };

  // The innermost run: hoisted operands once, as vectors, then the streaming ones through pointers q.
  const streams = group.invars.map((_, i) => strides[i]![inner] === 1);
  const q = group.invars.map((_, i) => (streams[i] ? b.local(i32) : -1));
  const hoisted = group.invars.map((_, i) => (streams[i] ? -1 : b.local(v128)));
  for (let i = 0; i < group.invars.length; i++) {
    if (streams[i]) {
      b.emit(() => base(i)).set(q[i]!);
      continue;
    }
    b.emit(() => base(i));
    if (inKind[i] === 'f32') b.v128Load32Splat();
    else boolMask([0, 0, 0, 0]);
    b.set(hoisted[i]!);
  }

  /**
   * The group's ops on the four elements at the pointers (tail = 0) or, for the tail, on the first `tail`
   * elements there gathered into lanes (one instruction sequence serves both).
   */
  const emitElements = (tail: number): void => {
    const local = new Map<Var, number>();
    group.invars.forEach((v, i) => {
      if (!streams[i]) return local.set(v, hoisted[i]!);
      const t = b.local(v128);
      if (tail === 0) {
        b.get(q[i]!);
        if (inKind[i] === 'f32') b.v128Load();
        else boolMask([0, 1, 2, 3]);
      } else {
        b.v128Zero();
        for (let l = 0; l < tail; l++) {
          if (inKind[i] === 'f32') b.get(q[i]!).f32Load(4 * l).f32x4ReplaceLane(l);
          else b.i32(0).i32(0).get(q[i]!).i32Load8U(l).ne().sub().i32x4ReplaceLane(l); // 0 - (byte != 0)
        }
      }
      b.set(t);
      local.set(v, t);
    });
    for (const e of group.eqns) {
      const op = OPS[e.prim.name]!;
      const args = e.prim.name === 'select' ? [e.inputs[1]!, e.inputs[2]!, e.inputs[0]!] : e.inputs;
      if (op.emit) op.emit(b, local.get(e.inputs[0]!)!);
      else {
        for (const x of args) b.get(local.get(x)!);
        b.simdOp(op.v!);
      }
      const t = b.local(v128);
      b.set(t);
      local.set(e.outs[0]!, t);
    }
    group.outvars.forEach((v, o) => {
      const x = local.get(v)!;
      if (tail === 0) {
        if (kindOf(v) === 'f32') b.get(po).get(x).v128Store(outOff[o]);
        // the first byte of each lane mask, as four bytes of 0 or 1
        else b.get(pb).get(x).get(x).shuffle8([0, 4, 8, 12, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]).i32x4ExtractLane(0).i32(0x01010101).and().i32Store(outOff[o]);
        return;
      }
      for (let l = 0; l < tail; l++) {
        if (kindOf(v) === 'f32') b.get(po).get(x).f32x4ExtractLane(l).f32Store(outOff[o]! + 4 * l);
        else b.get(pb).get(x).i32x4ExtractLane(l).i32(1).and().i32Store8(outOff[o]! + l);
      }
    });
  };

  const advance = (elements: number): void => {
    b.get(po).i32(4 * elements).add().set(po);
    b.get(pb).i32(elements).add().set(pb);
  };
  if (n4 > 0) {
    const j = b.local(i32);
    b.i32(0).set(j).loop();
    emitElements(0);
    for (let i = 0; i < group.invars.length; i++) if (streams[i]) b.get(q[i]!).i32(4 * bytesOf(inKind[i]!)).add().set(q[i]!);
    advance(4);
    b.get(j).i32(4).add().tee(j).i32(n4).ltS().brIf(0).end();
  }
  if (n % 4 !== 0) {
    emitElements(n % 4);
    advance(n % 4);
  }
  for (let k = loopEnds.length - 1; k >= 0; k--) loopEnds[k]!();
  return b;
}
