/**
 * A minimal WebAssembly binary encoder: just enough to emit the float32 matmul module (kernel.ts) at run time,
 * so the package ships no generated .wasm file and needs no toolchain.
 *
 * Reference: the WebAssembly core spec, "Binary Format" (https://webassembly.github.io/spec/core/binary/),
 * and the SIMD proposal's opcode table (merged into the spec in 2.0). A module is the magic number and version
 * followed by sections; each section is `id, byte length (LEB128), contents`. Integers are LEB128: 7 bits per
 * byte, low bits first, the high bit set on every byte but the last (signed: two's complement, sign-extended).
 *
 * Only what the matmul and the fused elementwise kernels (elementwise.ts) need is here: i32 locals and
 * arithmetic, structured control flow (block / loop / if), f32 scalar loads/stores, a handful of v128
 * (SIMD128) instructions and relaxed SIMD's f32x4.relaxed_madd. Function bodies are written with `Body`, one
 * method per instruction (or per table of similar ones), in the same order as the WebAssembly text format
 * (stack machine: the operands are pushed first, then the instruction pops them).
 */

/** Value types. */
export const i32 = 0x7f;
export const f32 = 0x7d;
export const v128 = 0x7b;
export type ValType = typeof i32 | typeof f32 | typeof v128;

/** Unsigned LEB128. */
export function uleb(n: number): number[] {
  const out: number[] = [];
  do {
    let byte = n & 0x7f;
    n >>>= 7;
    if (n !== 0) byte |= 0x80;
    out.push(byte);
  } while (n !== 0);
  return out;
}

/** Signed LEB128 of a 32-bit integer. */
export function sleb(n: number): number[] {
  const out: number[] = [];
  n |= 0;
  for (;;) {
    const byte = n & 0x7f;
    n >>= 7;
    // done when the remaining bits are all copies of the sign bit of `byte`
    if ((n === 0 && (byte & 0x40) === 0) || (n === -1 && (byte & 0x40) !== 0)) {
      out.push(byte);
      return out;
    }
    out.push(byte | 0x80);
  }
}

// (Arrays are joined with `concat`, not spread into array literals: V8 runs such a spread as a loop in the
// function's own bytecode, which over a module's thousands of bytes got hot enough for TurboFan to compile
// encodeModule in each worker, at about 70 ms of a core each, while the first training steps ran.)

/** A UTF-8 name (section names, export names): length then bytes. ASCII only here. */
function name(s: string): number[] {
  return uleb(s.length).concat(Array.from(s, (c) => c.charCodeAt(0)));
}

/** A length-prefixed vector of already-encoded items. */
function vec(items: number[][]): number[] {
  return uleb(items.length).concat(...items);
}

/** The SIMD instructions used (prefix 0xfd, then the opcode as unsigned LEB128). */
const SIMD = {
  'v128.load': 0x00,
  'v128.load32_splat': 0x09,
  'v128.store': 0x0b,
  'v128.const': 0x0c,
  'i8x16.shuffle': 0x0d,
  'i32x4.splat': 0x11,
  'f32x4.splat': 0x13,
  'i32x4.extract_lane': 0x1b,
  'i32x4.replace_lane': 0x1c,
  'f32x4.extract_lane': 0x1f,
  'f32x4.replace_lane': 0x20,
  'f32x4.add': 0xe4,
  'f32x4.mul': 0xe6,
  // relaxed SIMD (Node 22+ and current browsers; Node 20 behind --experimental-wasm-relaxed-simd): pops
  // [a, b, c] and pushes a·b + c, fused (one rounding) or not as the hardware does it (x64 with FMA: fused)
  'f32x4.relaxed_madd': 0x105,
  // elementwise ops without immediates (fused elementwise groups, elementwise.ts), taken by `simdOp`
  'i8x16.ne': 0x24,
  'i32x4.eq': 0x37,
  'f32x4.eq': 0x41,
  'f32x4.ne': 0x42,
  'f32x4.lt': 0x43,
  'f32x4.gt': 0x44,
  'f32x4.le': 0x45,
  'f32x4.ge': 0x46,
  'v128.not': 0x4d,
  'v128.and': 0x4e,
  'v128.or': 0x50,
  'v128.bitselect': 0x52,
  'v128.any_true': 0x53, // pops a v128, pushes i32: 1 if any bit is set
  'f32x4.ceil': 0x67,
  'f32x4.floor': 0x68,
  'f32x4.abs': 0xe0,
  'f32x4.neg': 0xe1,
  'f32x4.sqrt': 0xe3,
  'f32x4.sub': 0xe5,
  'f32x4.div': 0xe7,
  'f32x4.min': 0xe8,
  'f32x4.max': 0xe9,
  'f64x2.eq': 0x47,
  'f64x2.lt': 0x49,
  'f32x4.demote_f64x2_zero': 0x5e,
  'f64x2.promote_low_f32x4': 0x5f,
  'f64x2.trunc': 0x7a,
  'i64x2.shl': 0xcb, // pops [v128, i32 count]
  'f64x2.abs': 0xec,
  'f64x2.neg': 0xed,
  'f64x2.add': 0xf0,
  'f64x2.sub': 0xf1,
  'f64x2.mul': 0xf2,
  'f64x2.div': 0xf3,
  'f64x2.pmin': 0xf6, // b < a ? b : a (no NaN or -0 fix-ups, so cheaper than min)
  'f64x2.pmax': 0xf7, // a < b ? b : a
  // widening bytes to floats (bytesToFloat32, convert.ts)
  'i16x8.extend_low_i8x16_u': 0x89,
  'i16x8.extend_high_i8x16_u': 0x8a,
  'i32x4.extend_low_i16x8_u': 0xa9,
  'i32x4.extend_high_i16x8_u': 0xaa,
  'f32x4.convert_i32x4_u': 0xfb,
} as const;

/** The SIMD instructions that take no immediate operand (`Body.simdOp`). */
export type SimdOp = Exclude<keyof typeof SIMD, 'v128.load' | 'v128.load32_splat' | 'v128.store' | 'v128.const' | 'i8x16.shuffle' | 'i32x4.extract_lane' | 'f32x4.extract_lane' | 'i32x4.replace_lane' | 'f32x4.replace_lane'>;

/**
 * A function body under construction. Locals are numbered: the parameters first, then those declared with
 * `local()`, in order. Structured control (block / loop / if) nests; `br n` / `br_if n` name the n-th
 * enclosing label (0 = innermost); a loop's label branches back to its start, a block's to its end.
 */
export class Body {
  readonly code: number[] = [];
  private readonly locals: ValType[] = [];
  constructor(readonly params: readonly ValType[]) {}

  /** Declare a local of type `t`; returns its index. */
  local(t: ValType): number {
    this.locals.push(t);
    return this.params.length + this.locals.length - 1;
  }

  private op(...bytes: number[]): this {
    for (const b of bytes) this.code.push(b);
    return this;
  }

  // variables
  get(i: number): this { return this.op(0x20, ...uleb(i)); }
  set(i: number): this { return this.op(0x21, ...uleb(i)); }
  tee(i: number): this { return this.op(0x22, ...uleb(i)); }

  // i32 arithmetic and comparisons (comparisons push 1 or 0)
  i32(n: number): this { return this.op(0x41, ...sleb(n)); }
  add(): this { return this.op(0x6a); }
  sub(): this { return this.op(0x6b); }
  mul(): this { return this.op(0x6c); }
  divU(): this { return this.op(0x6e); }
  remU(): this { return this.op(0x70); }
  eqz(): this { return this.op(0x45); }
  eq(): this { return this.op(0x46); }
  ne(): this { return this.op(0x47); }
  ltS(): this { return this.op(0x48); }
  ltU(): this { return this.op(0x49); }
  gtS(): this { return this.op(0x4a); }
  leS(): this { return this.op(0x4c); }
  geS(): this { return this.op(0x4e); }
  geU(): this { return this.op(0x4f); }
  and(): this { return this.op(0x71); }
  or(): this { return this.op(0x72); }
  /** select: pops [a, b, cond] and pushes cond ? a : b. */
  select(): this { return this.op(0x1b); }

  // control
  block(): this { return this.op(0x02, 0x40); } // 0x40: the empty block type (no results)
  loop(): this { return this.op(0x03, 0x40); }
  if(): this { return this.op(0x04, 0x40); }
  else(): this { return this.op(0x05); }
  end(): this { return this.op(0x0b); }
  br(depth: number): this { return this.op(0x0c, ...uleb(depth)); }
  brIf(depth: number): this { return this.op(0x0d, ...uleb(depth)); }
  /** Call function `index` of the module (its arguments pushed first). */
  call(index: number): this { return this.op(0x10, ...uleb(index)); }

  // memory: the address is the i32 on the stack plus the constant `offset` (bytes). `align` is log2 of the
  // expected alignment, a hint only.
  f32Load(offset = 0): this { return this.op(0x2a, 2, ...uleb(offset)); }
  f32Store(offset = 0): this { return this.op(0x38, 2, ...uleb(offset)); }
  f32Add(): this { return this.op(0x92); }
  /** f32.const 0 (the constant is 4 little-endian IEEE 754 bytes). */
  f32Zero(): this { return this.op(0x43, 0, 0, 0, 0); }
  i32Load(offset = 0): this { return this.op(0x28, 2, ...uleb(offset)); }
  i32Store(offset = 0): this { return this.op(0x36, 2, ...uleb(offset)); }
  /** One byte, zero-extended to i32 / the low byte of an i32. */
  i32Load8U(offset = 0): this { return this.op(0x2d, 0, ...uleb(offset)); }
  i32Store8(offset = 0): this { return this.op(0x3a, 0, ...uleb(offset)); }
  /** 8-byte load/store (used to move two f32 at once). */
  i64Load(offset = 0): this { return this.op(0x29, 3, ...uleb(offset)); }
  i64Store(offset = 0): this { return this.op(0x37, 3, ...uleb(offset)); }

  // SIMD128
  private simd(name: keyof typeof SIMD, ...imm: number[]): this {
    return this.op(0xfd, ...uleb(SIMD[name]), ...imm);
  }
  v128Load(offset = 0): this { return this.simd('v128.load', 2, ...uleb(offset)); }
  v128Store(offset = 0): this { return this.simd('v128.store', 2, ...uleb(offset)); }
  /** Load one f32 and broadcast it to all four lanes. */
  v128Load32Splat(offset = 0): this { return this.simd('v128.load32_splat', 2, ...uleb(offset)); }
  /** The all-zero vector. */
  v128Zero(): this { return this.simd('v128.const', ...new Array<number>(16).fill(0)); }
  f32x4Splat(): this { return this.simd('f32x4.splat'); }
  /**
   * Pops [x, y] and pushes the four f32 lanes picked by `lanes` from the eight lanes of x (0–3) then y (4–7).
   * (Encoded as i8x16.shuffle: each 32-bit lane is four byte lanes.)
   */
  shuffle32(lanes: readonly [number, number, number, number]): this {
    return this.simd('i8x16.shuffle', ...lanes.flatMap((l) => [4 * l, 4 * l + 1, 4 * l + 2, 4 * l + 3]));
  }
  /** Pops [x, y] and pushes the sixteen bytes picked by `lanes` from the bytes of x (0–15) then y (16–31). */
  shuffle8(lanes: readonly number[]): this {
    if (lanes.length !== 16) throw new Error('shuffle8: 16 lanes');
    return this.simd('i8x16.shuffle', ...lanes);
  }
  /** Pops a v128 and pushes its i32 / f32 lane `lane`. */
  i32x4ExtractLane(lane: number): this { return this.simd('i32x4.extract_lane', lane); }
  f32x4ExtractLane(lane: number): this { return this.simd('f32x4.extract_lane', lane); }
  /** Pops [v, x] and pushes v with its i32 / f32 lane `lane` set to x. */
  i32x4ReplaceLane(lane: number): this { return this.simd('i32x4.replace_lane', lane); }
  f32x4ReplaceLane(lane: number): this { return this.simd('f32x4.replace_lane', lane); }
  /** v128.const of two equal f64 lanes. */
  f64x2Const(value: number): this {
    const view = new DataView(new ArrayBuffer(16));
    view.setFloat64(0, value, true); // little-endian, as wasm memory
    view.setFloat64(8, value, true);
    return this.simd('v128.const', ...new Uint8Array(view.buffer));
  }
  f32x4Add(): this { return this.simd('f32x4.add'); }
  f32x4Mul(): this { return this.simd('f32x4.mul'); }
  /** Any SIMD instruction without immediates, by its text-format name. */
  simdOp(name: SimdOp): this { return this.simd(name); }

  /** Emit a fragment of code (a helper that pushes something) in line. */
  emit(fragment: () => unknown): this {
    fragment();
    return this;
  }

  /** The encoded body: local declarations (run-length by type), instructions, `end`. */
  encode(): number[] {
    const groups: number[][] = [];
    for (let i = 0; i < this.locals.length; ) {
      let j = i;
      while (j < this.locals.length && this.locals[j] === this.locals[i]) j++;
      groups.push(uleb(j - i).concat(this.locals[i]!));
      i = j;
    }
    const body = vec(groups).concat(this.code, 0x0b);
    return uleb(body.length).concat(body);
  }
}

export interface FuncDef {
  /** Export name. */
  name: string;
  body: Body;
  results?: ValType[];
}

/** How the module imports its memory. */
export interface MemoryImport {
  /** At least this many 64 KiB pages. */
  minPages?: number;
  /**
   * Import a shared memory (the threads proposal, in Node 20 and cross-origin-isolated browsers) of at most
   * this many pages, so that instances on several threads can work on one memory (a shared memory must
   * declare its maximum). Undefined: an ordinary memory, no maximum.
   */
  sharedMaxPages?: number;
}

/**
 * A module with one imported memory (`env.memory`) and the given exported functions, function i having index
 * i (for `call`). Importing the memory (rather than defining it) lets the caller create, grow and swap it.
 */
export function encodeModule(funcs: readonly FuncDef[], memory: MemoryImport = {}): Uint8Array {
  const minPages = memory.minPages ?? 1;
  const section = (id: number, contents: number[]): number[] => [id].concat(uleb(contents.length), contents);
  // one function type per function (duplicates are allowed)
  const limits = memory.sharedMaxPages === undefined ? [0x00].concat(uleb(minPages)) : [0x03].concat(uleb(minPages), uleb(memory.sharedMaxPages));
  const types = funcs.map((f) => [0x60].concat(vec(f.body.params.map((t) => [t])), vec((f.results ?? []).map((t) => [t]))));
  const bytes = [
    0x00, 0x61, 0x73, 0x6d, // "\0asm"
    0x01, 0x00, 0x00, 0x00, // version 1
  ].concat(
    section(1, vec(types)),
    // import "env" "memory": kind 0x02 (memory), limits 0x00 (min only) or 0x03 (shared, min and max)
    section(2, vec([name('env').concat(name('memory'), 0x02, limits)])),
    section(3, vec(funcs.map((_, i) => uleb(i)))), // function i has type i
    section(7, vec(funcs.map((f, i) => name(f.name).concat(0x00, uleb(i))))), // kind 0x00: function
    section(10, vec(funcs.map((f) => f.body.encode()))),
  );
  return new Uint8Array(bytes);
}
