/**
 * dot_general on the GPU backend.
 *
 * A fragment shader has no shared memory, so on Mesa llvmpipe (and on GPUs) a matmul is bounded by texture
 * fetches and the address arithmetic around them: the direct kernel (one thread per output element) costs two
 * fetches per multiply-add, each with an integer division to turn a flat index into texel coordinates.
 * The tiled path instead runs four kernels:
 *
 * 1. pack the lhs into texels of 4 consecutive contracting-axis values, rows (lhs free index) padded to a
 *    multiple of 4: texel (b, row, kb) = lhs[b, row, 4kb .. 4kb+3];
 * 2. pack the rhs the same way but k-major, so neighbouring threads (neighbouring output columns) read
 *    neighbouring texels: texel (b, kb, col) = rhs[b, col, 4kb .. 4kb+3];
 * 3. one thread per 4×4 output tile: per step of 4 along K it fetches 4 lhs and 4 rhs texels and does 64
 *    multiply-adds (`vec4 * mat4`), 8 fetches where the direct kernel does 128; texel coordinates advance by
 *    additions (no division in the loop). The 4 rows of the tile leave through 4 outputs (a gpu.js kernel map,
 *    one pass), each a vec4 of 4 columns;
 * 4. unpack the 4 tile textures into the row-major result.
 *
 * Packing also canonicalises every dot_general form (batch axes, contracting axes on either side, several of
 * them) into the one layout, so the tile kernel is the same for all of them. Packing and unpacking are
 * O(inputs + output), so the tiled path is taken only when the product is large enough to repay three extra
 * kernel launches (TILED_MIN_WORK), and only where kernels run as GLSL (it uses native GLSL functions) with
 * 4 outputs per kernel.
 */
import { allocate } from '../../core/dtype.js';
import type { Kernel, KernelInput, KernelOutput } from '../backend.js';
import { mergeDims, sizeOf, stridesOf } from '../../core/shape.js';
import { decompose, kernelSource, lit, offsetExpr } from './codegen.js';
import { type GpuHandle, type KernelSpec, type TempTexture, MAX_GPU_SIZE, glslKernels, maxKernelOutputs, runKernel, runTemp, uploadInto } from './device.js';

type GpuInput = KernelInput<GpuHandle>;

/** dot_general's parameters: contracting and batch axes of each side, paired in order. */
export interface DotGeneralParams {
  contract: readonly [readonly number[], readonly number[]];
  batch: readonly [readonly number[], readonly number[]];
}

/**
 * M·N·K (multiply-adds) from which the tiled path is taken. On Mesa llvmpipe the jitted seed step runs equally
 * fast (within the noise of a shared 2-core machine) with any threshold from 2^14 to 2^18, and 2.3x faster
 * than with the direct kernel everywhere; 2^16 is the middle of that range.
 */
export const TILED_MIN_WORK = 1 << 16;
let tiledMinWork = TILED_MIN_WORK;
const calls = { tiled: 0, direct: 0 };

/** Set the tiled path's threshold (tests use 0 to send small random shapes through it); returns the previous one. */
export function setTiledMinWork(work: number): number {
  const prev = tiledMinWork;
  tiledMinWork = work;
  return prev;
}

/** How many dot_general calls took each path. */
export function matmulStats(): { tiled: number; direct: number } {
  return { ...calls };
}

/** One side of a dot_general, its axes grouped: batch, free (rows of the side's matrix), contracting. */
interface Side {
  strides: number[];
  batch: Group;
  free: Group;
  contract: Group;
}

/** A group of axes: their sizes and strides in the operand; `size` is their product. */
interface Group {
  shape: number[];
  strides: number[];
  size: number;
}

function group(shape: readonly number[], strides: readonly number[], axes: readonly number[]): Group {
  const g = { shape: axes.map((a) => shape[a]!), strides: axes.map((a) => strides[a]!) };
  return { ...g, size: sizeOf(g.shape) };
}

function side(x: GpuInput, batch: readonly number[], contract: readonly number[]): Side {
  const strides = stridesOf(x.shape);
  const free = x.shape.map((_, a) => a).filter((a) => !contract.includes(a) && !batch.includes(a));
  return { strides, batch: group(x.shape, strides, batch), free: group(x.shape, strides, free), contract: group(x.shape, strides, contract) };
}

/**
 * Statements declaring `${name}` = Σ coordinate·stride over a group of axes, given the group's flat
 * coordinate `c` (a source expression); temporaries are prefixed with `name`.
 */
function groupOffset(name: string, c: string, g: Group): string[] {
  const m = mergeDims(g.shape, [g.strides]);
  if (m.shape.length === 1) return [`const ${name} = ${offsetExpr([c], m.strides[0]!)};`];
  const coords = m.shape.map((_, d) => `${name}c${d}`);
  return [`const ${name}f = ${c};`, ...decompose(`${name}f`, m.shape, `${name}c`), `const ${name} = ${offsetExpr(coords, m.strides[0]!)};`];
}

/**
 * The pack kernel of one side: texel (b, row, kb) holds x[b, row, 4kb .. 4kb+3] (0 past the end of K or of
 * the rows), laid out [B, rows, K4] or, k-major, [B, K4, rows].
 */
function packSpec(s: Side, rows: number, K4: number, kMajor: boolean): KernelSpec {
  const R = s.free.size;
  const K = s.contract.size;
  const body = decompose('i', kMajor ? [s.batch.size, K4, rows] : [s.batch.size, rows, K4], 'p');
  const [row, kb] = kMajor ? ['p2', 'p1'] : ['p1', 'p2'];
  body.push(...groupOffset('ob', 'p0', s.batch), ...groupOffset('or', row, s.free), 'const base = ob + or;');
  const values: string[] = [];
  for (let u = 0; u < 4; u++) {
    body.push(`const k${u} = ${kb} * 4.0 + ${lit(u)};`, ...groupOffset(`ok${u}`, `k${u}`, s.contract));
    const conds = [...(rows > R ? [`${row} < ${lit(R)}`] : []), ...(K4 * 4 > K ? [`k${u} < ${lit(K)}`] : [])];
    body.push(`const v${u} = ${conds.length ? `${conds.join(' && ')} ? x0[base + ok${u}] : 0.0` : `x0[base + ok${u}]`};`);
    values.push(`v${u}`);
  }
  body.push(`return [${values.join(', ')}];`);
  return { source: kernelSource(1, body), returnType: 'Array(4)' };
}

/** Texel coordinates of flat texel index f in a texture of size s (exact below 2^24; see codegen.ts). */
const TEXEL = `vec2 xs_texel(float f, vec2 s) {
  float y = floor((f + 0.5) / s.x);
  float x = f - y * s.x;
  if (x < 0.0) { x += s.x; y -= 1.0; }
  if (x >= s.x) { x -= s.x; y += 1.0; }
  return vec2(x, y);
}
vec4 xs_row1; vec4 xs_row2; vec4 xs_row3;`;

/**
 * The 4×4 tile kernel. A's 4 rows start `K4` texels apart and step by 1; B's 4 columns are adjacent texels
 * and step by `NP` (one k-major row). `aw`/`bw` are the packed textures' widths.
 */
function tileSpec(B: number, M4: number, N4: number, K4: number, NP: number, aw: number, bw: number): KernelSpec {
  const bStep = [NP % bw, Math.floor(NP / bw)];
  const rows = [0, 1, 2, 3];
  const glsl = `vec4 xs_tile(sampler2D a, ivec2 aSize, ivec3 aDim, sampler2D b, ivec2 bSize, ivec3 bDim, float ra, float rb) {
  vec2 as = vec2(aSize);
  vec2 bs = vec2(bSize);
  vec2 ai = 1.0 / as;
  vec2 bi = 1.0 / bs;
  ${rows.map((u) => `vec2 a${u} = xs_texel(ra + ${lit(u * K4)}, as);`).join('\n  ')}
  ${rows.map((u) => `vec2 b${u} = xs_texel(rb + ${lit(u)}, bs);`).join('\n  ')}
  vec2 bstep = vec2(${lit(bStep[0]!)}, ${lit(bStep[1]!)});
  ${rows.map((u) => `vec4 c${u} = vec4(0.0);`).join('\n  ')}
  for (int k = 0; k < ${K4}; k++) {
    mat4 bt = mat4(${rows.map((u) => `texture2D(b, (b${u} + 0.5) * bi)`).join(', ')});
    ${rows.map((u) => `c${u} += texture2D(a, (a${u} + 0.5) * ai) * bt;`).join('\n    ')}
    ${rows.map((u) => `a${u}.x += 1.0; if (a${u}.x >= ${lit(aw)}) { a${u}.x = 0.0; a${u}.y += 1.0; }`).join('\n    ')}
    ${rows.map((u) => `b${u} += bstep; if (b${u}.x >= ${lit(bw)}) { b${u}.x -= ${lit(bw)}; b${u}.y += 1.0; }`).join('\n    ')}
  }
  xs_row1 = c1; xs_row2 = c2; xs_row3 = c3;
  return c0;
}`;
  const getters = [1, 2, 3].map((u) => ({ name: `xs_get_row${u}`, source: `vec4 xs_get_row${u}() { return xs_row${u}; }`, returnType: 'Array(4)' as const, argumentTypes: {} }));
  const body = [
    ...decompose('i', [B, M4, N4], 't'),
    `const ra = (t0 * ${lit(M4 * 4)} + t1 * 4.0) * ${lit(K4)};`,
    `const rb = t0 * ${lit(K4 * NP)} + t2 * 4.0;`,
    'const c0 = xs_tile(x0, x1, ra, rb);',
    // the other rows were left in globals by xs_tile; gpu.js routes each xs_outN argument to output N
    ...[1, 2, 3].map((u) => `xs_out${u}(xs_get_row${u}());`),
    'return c0;',
  ];
  return {
    source: kernelSource(2, body),
    returnType: 'Array(4)',
    extraOutputs: 3,
    glsl: TEXEL,
    natives: [{ name: 'xs_tile', source: glsl, returnType: 'Array(4)', argumentTypes: { a: 'ArrayTexture(4)', b: 'ArrayTexture(4)', ra: 'Number', rb: 'Number' } }, ...getters],
  };
}

/** The 4 tile textures (row u of each tile in texture u) → the row-major [B, M, N] result. */
function unpackSpec(B: number, M: number, N: number, M4: number, N4: number): KernelSpec {
  const body = [
    ...decompose('i', [B, M, N], 'u'),
    'const mq = Math.floor(u1 / 4.0);',
    'const mr = u1 - mq * 4.0;',
    'const jq = Math.floor(u2 / 4.0);',
    'const jr = u2 - jq * 4.0;',
    `const at = (u0 * ${lit(M4)} + mq) * ${lit(N4)} + jq;`,
    'let t = x0[at];',
    'if (mr == 1.0) { t = x1[at]; }',
    'if (mr == 2.0) { t = x2[at]; }',
    'if (mr == 3.0) { t = x3[at]; }',
    'if (jr == 0.0) { return t[0]; }',
    'if (jr == 1.0) { return t[1]; }',
    'if (jr == 2.0) { return t[2]; }',
    'return t[3];',
  ];
  return { source: kernelSource(4, body) };
}

function tiled(l: GpuInput, r: GpuInput, ls: Side, rs: Side, out: KernelOutput<GpuHandle>): GpuHandle | null {
  const B = ls.batch.size;
  const M = ls.free.size;
  const N = rs.free.size;
  const K4 = Math.ceil(ls.contract.size / 4);
  const M4 = Math.ceil(M / 4);
  const N4 = Math.ceil(N / 4);
  const NP = N4 * 4;
  if (Math.max(B * M4 * 4 * K4, B * K4 * NP) > MAX_GPU_SIZE) return null;
  const temps: TempTexture[] = [];
  try {
    const [a] = runTemp('dot_general', packSpec(ls, M4 * 4, K4, false), [l.handle], B * M4 * 4 * K4);
    temps.push(a!);
    const [b] = runTemp('dot_general', packSpec(rs, NP, K4, true), [r.handle], B * K4 * NP);
    temps.push(b!);
    const width = (t: TempTexture): number => (t as unknown as { size: number[] }).size[0]!;
    const tiles = runTemp('dot_general', tileSpec(B, M4, N4, K4, NP, width(a!), width(b!)), [a!, b!], B * M4 * N4);
    temps.push(...tiles);
    return runKernel('dot_general', unpackSpec(B, M, N, M4, N4), tiles, B * M * N, out.buffer);
  } finally {
    for (const t of temps) t.delete();
  }
}

/** The contracting loop of the direct kernel is unrolled by this many terms when it is one (merged) axis. */
const UNROLL = 4;

/**
 * `acc` = Σ_k x0[lb + k·ls] · x1[rb + k·rs] for k < K, with the loop unrolled by UNROLL (independent partial
 * sums, combined at the end) and the remainder summed after it.
 */
function unrolledContraction(K: number, lStride: number, rStride: number): string[] {
  const main = Math.floor(K / UNROLL) * UNROLL;
  const at = (base: string, off: number, stride: number): string => {
    const o = off * stride;
    return o === 0 ? base : `${base} + ${lit(o)}`;
  };
  const out = [
    ...Array.from({ length: UNROLL }, (_, u) => `let a${u} = 0.0;`),
    'let lo = lb;',
    'let ro = rb;',
    `for (let k = 0; k < ${main / UNROLL}; k++) {`,
    ...Array.from({ length: UNROLL }, (_, u) => `a${u} = a${u} + x0[${at('lo', u, lStride)}] * x1[${at('ro', u, rStride)}];`),
    `lo = lo + ${lit(UNROLL * lStride)};`,
    `ro = ro + ${lit(UNROLL * rStride)};`,
    '}',
    `let acc = ${Array.from({ length: UNROLL }, (_, u) => `a${u}`).join(' + ')};`,
  ];
  for (let k = main; k < K; k++) out.push(`acc = acc + x0[${at('lb', k, lStride)}] * x1[${at('rb', k, rStride)}];`);
  return out;
}

/**
 * The direct kernel: one thread per output element, a loop over the (merged) contracting axes; one
 * contracting axis of at least 2·UNROLL terms takes the unrolled loop. For small products, where the tiled
 * path's extra launches cost more than they save.
 */
function direct(l: GpuInput, r: GpuInput, ls: Side, rs: Side, out: KernelOutput<GpuHandle>): GpuHandle {
  // output coordinates: [batch..., lhs free..., rhs free...]
  const lOut = [...ls.batch.strides, ...ls.free.strides, ...rs.free.strides.map(() => 0)];
  const rOut = [...rs.batch.strides, ...ls.free.strides.map(() => 0), ...rs.free.strides];
  const mo = mergeDims(out.shape, [lOut, rOut, stridesOf(out.shape)]);
  const coords = mo.shape.map((_, d) => `c${d}`);
  const body = decompose('i', mo.shape, 'c');
  body.push(`const lb = ${offsetExpr(coords, mo.strides[0]!)};`, `const rb = ${offsetExpr(coords, mo.strides[1]!)};`);
  const mk = mergeDims(ls.contract.shape, [ls.contract.strides, rs.contract.strides]);
  if (mk.shape.length === 1 && mk.shape[0]! >= 2 * UNROLL) {
    body.push(...unrolledContraction(mk.shape[0]!, mk.strides[0]![0]!, mk.strides[1]![0]!), 'return acc;');
  } else {
    const loops = mk.shape.map((n, j) => `for (let k${j} = 0; k${j} < ${n}; k${j}++) {`);
    const lo = ['lb', ...mk.shape.map((_, j) => `k${j} * ${lit(mk.strides[0]![j]!)}`)].join(' + ');
    const ro = ['rb', ...mk.shape.map((_, j) => `k${j} * ${lit(mk.strides[1]![j]!)}`)].join(' + ');
    body.push('let acc = 0.0;', ...loops, `acc = acc + x0[${lo}] * x1[${ro}];`, '}'.repeat(loops.length), 'return acc;');
  }
  return runKernel('dot_general', kernelSource(2, body), [l.handle, r.handle], sizeOf(out.shape), out.buffer);
}

/** dot_general: float32 sums (int32 exact within ±2^24); the tiled path for large products, else the direct kernel. */
export const dotGeneralKernel: Kernel<GpuHandle> = (inputs, params: DotGeneralParams, out) => {
  const [l, r] = inputs as [GpuInput, GpuInput];
  const ls = side(l, params.batch[0], params.contract[0]);
  const rs = side(r, params.batch[1], params.contract[1]);
  const outSize = sizeOf(out.shape);
  if (outSize > 0 && ls.contract.size === 0) return uploadInto(allocate(out.dtype, outSize), out.dtype, out.buffer);
  if (outSize > 0 && outSize * ls.contract.size >= tiledMinWork && glslKernels() && maxKernelOutputs() >= 4) {
    const t = tiled(l, r, ls, rs, out);
    if (t) {
      calls.tiled++;
      return t;
    }
  }
  calls.direct++;
  return direct(l, r, ls, rs, out);
};
