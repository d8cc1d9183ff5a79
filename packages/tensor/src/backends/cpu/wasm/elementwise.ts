/**
 * Fused float32 elementwise groups on WebAssembly SIMD128: fused.ts hands a group whose inputs and outputs
 * are all float32 and whose ops are all in OPS to `compileWasmFused`, which emits one wasm function for it,
 * with the group's shapes baked in as constants. A call copies the inputs into a wasm memory shared by all
 * such kernels, runs the function and copies the outputs out:
 *
 *   memory: input 0 | input 1 | ... | output 0 | output 1 | ...   (each at a 16-byte aligned address)
 *   for a0 < dims[0] ... for a(r-2) < dims[r-2]              the merged outer dims (fused.ts: mergeDims)
 *     hoisted operands (stride 0 along the innermost dim): loaded once, splat to four lanes
 *     for j < n & ~3, step 4:  four lanes at a time (f32x4; bool intermediates as all-ones lane masks)
 *     the last n % 4 elements: one at a time, unrolled, each splat to four lanes through the same code
 *
 * Exactness: every op here is one correctly rounded IEEE float32 operation (+ - * / sqrt) or exact (neg,
 * abs, floor, ceil, min/max, compares, select), so it gives the same float32 as the op-by-op kernels'
 * double-precision op rounded to float32 (elementwise.ts) and the JS fused loop's Math.fround: for + - * /
 * sqrt, float64 has more than 2·24 + 2 bits, so rounding twice equals rounding once. wasm's min/max
 * return NaN when either operand is NaN and order -0 below +0, as Math.min/Math.max do. Only NaN payloads may
 * differ (JS leaves them unspecified as well). Transcendentals (exp, log, logistic, tanh...) have no wasm
 * instruction: groups containing them stay on the JS path.
 *
 * XS_WASM=0 (read when the library loads; also switches off the wasm matmul, sgemm.ts) keeps every group on
 * the JS path, as do groups of fewer than `wasmFused.minSize` elements; tests may change both fields, which
 * apply to groups compiled afterwards.
 */
import type { TypedArray } from '../../../core/dtype.js';
import type { Jaxpr, Var } from '../../../ir/jaxpr.js';
import type { FusedKernel, KernelInput } from '../../backend.js';
import { Body, encodeModule, i32, v128, type SimdOp } from './encoder.js';

/** The parts of the WebAssembly JS API used here (the TS lib config declares no WebAssembly globals). */
interface WasmMemory {
  readonly buffer: ArrayBuffer;
  grow(deltaPages: number): number;
}
interface WasmApi {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { readonly exports: Record<string, unknown> };
  Memory: new (desc: { initial: number }) => WasmMemory;
}

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

/** A copy of the counters since the process started. */
export function fusedKernelStats(): FusedKernelStats {
  return { ...stats };
}
/** fused.ts counts the groups it compiles to JS here, so that one object holds both counts. */
export function countJsFused(): void {
  stats.jsKernels++;
}

type Kind = 'f32' | 'bool';
/** An op: its SIMD instruction, and the kind of value it makes from operands of kind `args`. */
interface OpDef {
  v: SimdOp;
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
};

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
    const api = (globalThis as unknown as { WebAssembly?: WasmApi }).WebAssembly;
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
  return (inputs: readonly KernelInput<TypedArray>[], buffers?: readonly (TypedArray | undefined)[]) => {
    const have = mem.memory.buffer.byteLength / PAGE;
    if (have < pages) mem.memory.grow(pages - have);
    if (mem.heap.buffer !== mem.memory.buffer) {
      mem.heap = new Float32Array(mem.memory.buffer);
      mem.u8 = new Uint8Array(mem.memory.buffer);
    }
    const { heap, u8 } = mem;
    for (let i = 0; i < inputs.length; i++) {
      const h = inputs[i]!.handle;
      if (h instanceof Float32Array) heap.set(h, inOff[i]! >> 2);
      else u8.set(h, inOff[i]!);
    }
    run();
    stats.wasmRuns++;
    const outs: TypedArray[] = [];
    for (let o = 0; o < outOff.length; o++) {
      const at = outOff[o]!;
      if (outBool[o]) {
        const dst = (buffers?.[o] as Uint8Array | undefined) ?? new Uint8Array(size);
        dst.set(u8.subarray(at, at + size));
        outs.push(dst);
      } else {
        const dst = (buffers?.[o] as Float32Array | undefined) ?? new Float32Array(size);
        dst.set(heap.subarray(at >> 2, (at >> 2) + size));
        outs.push(dst);
      }
    }
    return outs;
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
   * The group's ops on the four elements at the pointers (lane = -1) or, for the tail, on the element `lane`
   * past them splat to four lanes (so one instruction sequence serves both; lane 0 is stored).
   */
  const emitElements = (lane: number): void => {
    const vector = lane < 0;
    const local = new Map<Var, number>();
    group.invars.forEach((v, i) => {
      if (!streams[i]) return local.set(v, hoisted[i]!);
      const t = b.local(v128);
      if (inKind[i] === 'f32') {
        b.get(q[i]!);
        if (vector) b.v128Load();
        else b.f32Load(4 * lane).f32x4Splat();
      } else if (vector) b.get(q[i]!).emit(() => boolMask([0, 1, 2, 3]));
      else b.i32(0).i32(0).get(q[i]!).i32Load8U(lane).ne().sub().simdOp('i32x4.splat'); // 0 - (byte != 0)
      b.set(t);
      local.set(v, t);
    });
    for (const e of group.eqns) {
      const op = OPS[e.prim.name]!;
      const args = e.prim.name === 'select' ? [e.inputs[1]!, e.inputs[2]!, e.inputs[0]!] : e.inputs;
      for (const x of args) b.get(local.get(x)!);
      b.simdOp(op.v);
      const t = b.local(v128);
      b.set(t);
      local.set(e.outs[0]!, t);
    }
    group.outvars.forEach((v, o) => {
      const x = local.get(v)!;
      if (kindOf(v) === 'f32') {
        b.get(po).get(x);
        if (vector) b.v128Store(outOff[o]);
        else b.f32x4ExtractLane(0).f32Store(outOff[o]! + 4 * lane);
      } else if (vector) {
        // the first byte of each lane mask, as four bytes of 0 or 1
        b.get(pb).get(x).get(x).shuffle8([0, 4, 8, 12, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]).i32x4ExtractLane(0).i32(0x01010101).and().i32Store(outOff[o]);
      } else {
        b.get(pb).get(x).i32x4ExtractLane(0).i32(1).and().i32Store8(outOff[o]! + lane);
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
    emitElements(-1);
    for (let i = 0; i < group.invars.length; i++) if (streams[i]) b.get(q[i]!).i32(4 * bytesOf(inKind[i]!)).add().set(q[i]!);
    advance(4);
    b.get(j).i32(4).add().tee(j).i32(n4).ltS().brIf(0).end();
  }
  for (let lane = 0; lane < n % 4; lane++) emitElements(lane);
  if (n % 4 !== 0) advance(n % 4);
  for (let k = loopEnds.length - 1; k >= 0; k--) loopEnds[k]!();
  return b;
}
