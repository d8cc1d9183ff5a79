/**
 * The GPU backend's kernel for every primitive (the semantics are the CPU backend's; see backends/cpu/).
 * Each kernel generates a gpu.js kernel source specialised to its shapes (codegen.ts) and runs it with
 * `runKernel`; outputs stay on the device. Differences from the CPU backend, all from float32 storage:
 * float64 is refused; int32 is exact within ±2^24 (bitwise and/or only for non-negative values); sums and
 * matmuls accumulate in float32; NaN propagation through max/min follows the GL implementation. gather and
 * scatter_add check indices that came from the host exactly as the CPU backend does; indices computed on the
 * device are not read back by default (that would stall every jitted step on the device): out of range, a
 * gather clamps them and a scatter_add drops their updates, as JAX does on accelerators; with
 * `gpuIndexChecks.readBack` (XS_GPU_CHECK_INDICES=1) they are read back and checked as on the CPU.
 */
import type { DType } from '../../core/dtype.js';
import { allocate } from '../../core/dtype.js';
import type { Kernel, KernelInput, KernelOutput } from '../backend.js';
import { mergeDims, sizeOf, stridesOf } from '../../core/shape.js';
import { ELEMENTWISE, broadcastStrides, decompose, kernelSource, lit, offsetExpr, readOperands } from './codegen.js';
import { type GpuHandle, float64Error, handleOn, hostInt32, read, runKernel, uploadInto } from './device.js';
import { dotGeneralKernel } from './matmul.js';

export type GpuInput = KernelInput<GpuHandle>;
export type GpuKernel = Kernel<GpuHandle>;

function check(cond: boolean, msg: string): asserts cond {
  if (!cond) throw new Error(`gpu backend: ${msg}`);
}

/** Refuse float64 anywhere in a kernel call, with the reason. */
function guarded(name: string, k: GpuKernel): GpuKernel {
  return (inputs, params, out) => {
    if (out.dtype === 'float64' || inputs.some((x) => x.dtype === 'float64')) throw float64Error(name);
    return k(inputs, params, out);
  };
}

function elementwise(name: string): GpuKernel {
  const expr = ELEMENTWISE[name]!;
  return (inputs, params, out) => {
    const { body, sizeGeneric } = readOperands(out.shape, inputs.map((x) => broadcastStrides(x.shape, out.shape)), inputs.map((_, k) => `x${k}`));
    const dtypes = inputs.map((x) => x.dtype);
    body.push(`return ${expr(inputs.map((_, k) => `v${k}`), dtypes, params)};`);
    return runKernel(name, { source: kernelSource(inputs.length, body), sizeGeneric }, inputs.map((x) => x.handle), sizeOf(out.shape), out.buffer);
  };
}

/** out[i] = x[off + Σ c_d · srcStrides_d] over the output's coordinates. */
function stridedCopy(name: string, x: GpuInput, srcStrides: readonly number[], off: number, out: KernelOutput<GpuHandle>): GpuHandle {
  const m = mergeDims(out.shape, [srcStrides, stridesOf(out.shape)]);
  const coords = m.shape.map((_, d) => `c${d}`);
  const body = [...decompose('i', m.shape, 'c'), `return x0[${offsetExpr(coords, m.strides[0]!, off)}];`];
  return runKernel(name, kernelSource(1, body), [x.handle], sizeOf(out.shape), out.buffer);
}

const identity: GpuKernel = (inputs) => handleOn(inputs[0]!.handle.store);

const transposeKernel: GpuKernel = (inputs, params: { perm: readonly number[] }, out) => {
  const x = inputs[0]!;
  const s = stridesOf(x.shape);
  return stridedCopy('transpose', x, params.perm.map((p) => s[p]!), 0, out);
};

const broadcastInDimKernel: GpuKernel = (inputs, params: { dims: readonly number[] }, out) => {
  const x = inputs[0]!;
  const s = stridesOf(x.shape);
  const src = new Array<number>(out.shape.length).fill(0);
  params.dims.forEach((d, i) => {
    if (x.shape[i] === out.shape[d]) src[d] = s[i]!;
  });
  return stridedCopy('broadcast_in_dim', x, src, 0, out);
};

const sliceKernel: GpuKernel = (inputs, params: { start: readonly number[]; step?: readonly number[] }, out) => {
  const x = inputs[0]!;
  const s = stridesOf(x.shape);
  const step = params.step ?? params.start.map(() => 1);
  let off = 0;
  params.start.forEach((a, d) => (off += a * s[d]!));
  return stridedCopy('slice', x, s.map((v, d) => v * step[d]!), off, out);
};

const padKernel: GpuKernel = (inputs, params: { lo: readonly number[]; value: number | boolean }, out) => {
  const x = inputs[0]!;
  const value = Number(params.value ?? 0);
  const pv = out.dtype === 'bool' ? (value !== 0 ? 1 : 0) : value;
  const os = out.shape;
  const xs = stridesOf(x.shape);
  const body = decompose('i', os, 'c');
  const conds: string[] = [];
  const terms: string[] = [];
  os.forEach((_, d) => {
    const lo = params.lo[d]!;
    check(lo >= 0, 'pad: negative padding is not supported');
    body.push(`const p${d} = c${d} - ${lit(lo)};`);
    if (x.shape[d] !== os[d]) conds.push(`p${d} >= 0.0 && p${d} < ${lit(x.shape[d]!)}`);
    terms.push(`p${d} * ${lit(xs[d]!)}`);
  });
  if (sizeOf(x.shape) === 0) body.push('return pv;');
  else {
    const at = terms.length ? terms.join(' + ') : '0.0';
    body.push(conds.length ? `if (${conds.join(' && ')}) { return x0[${at}]; }` : `return x0[${at}];`, 'return pv;');
  }
  return runKernel('pad', kernelSource(1, body, ['pv']), [x.handle, pv], sizeOf(os), out.buffer);
};

const concatenateKernel: GpuKernel = (inputs, params: { axis: number }, out) => {
  const axis = params.axis;
  const os = out.shape;
  const parts = inputs.filter((x) => sizeOf(x.shape) > 0);
  if (parts.length === 1) return stridedCopy('concatenate', parts[0]!, stridesOf(parts[0]!.shape), 0, out);
  const body = decompose('i', os, 'c');
  let at = 0;
  inputs.forEach((x, k) => {
    const n = x.shape[axis]!;
    if (n > 0) {
      const s = stridesOf(x.shape);
      const coords = os.map((_, d) => (d === axis ? `(c${d} - ${lit(at)})` : `c${d}`));
      const read = `x${k}[${offsetExpr(coords, s)}]`;
      body.push(`if (c${axis} < ${lit(at + n)}) { return ${read}; }`);
    }
    at += n;
  });
  body.push('return 0.0;');
  return runKernel('concatenate', kernelSource(inputs.length, body), inputs.map((x) => x.handle), sizeOf(os), out.buffer);
};

/** Reductions: one thread per output element, nested constant-bound loops over the reduced axes. */
function reduceKernel(kind: 'sum' | 'max'): GpuKernel {
  return (inputs, params: { axes: readonly number[] }, out) => {
    const x = inputs[0]!;
    const shape = x.shape;
    const reduced = shape.map((_, d) => params.axes.includes(d));
    const outSize = sizeOf(out.shape);
    if (outSize === 0) return runKernel('reduce', '', [], 0, out.buffer);
    if (sizeOf(shape) === 0) {
      // an empty reduction: the identity of the fold
      const init = kind === 'sum' ? 0 : out.dtype === 'int32' ? -2147483648 : out.dtype === 'bool' ? 0 : -Infinity;
      return uploadInto(allocate(out.dtype, outSize).fill(init), out.dtype, out.buffer);
    }
    const keptStrides = stridesOf(shape.filter((_, d) => !reduced[d]));
    let k = 0;
    const acc = shape.map((_, d) => (reduced[d] ? 0 : keptStrides[k++]!));
    const m = mergeDims(shape, [stridesOf(shape), acc]);
    const kept: number[] = [];
    const red: number[] = [];
    m.shape.forEach((_, d) => (m.strides[1]![d] === 0 && m.shape[d]! > 1 ? red : kept).push(d));
    const keptShape = kept.map((d) => m.shape[d]!);
    const body = decompose('i', keptShape, 'c');
    const base = offsetExpr(kept.map((_, j) => `c${j}`), kept.map((d) => m.strides[0]![d]!));
    body.push(`const base = ${base};`);
    body.push(kind === 'sum' ? 'let acc = 0.0;' : 'let acc = x0[base];');
    const loops = red.map((d, j) => `for (let r${j} = 0; r${j} < ${m.shape[d]}; r${j}++) {`);
    const off = ['base', ...red.map((d, j) => `r${j} * ${lit(m.strides[0]![d]!)}`)].join(' + ');
    body.push(...loops, `const v = x0[${off}];`, kind === 'sum' ? 'acc = acc + v;' : 'if (v > acc || v != v) { acc = v; }', '}'.repeat(loops.length));
    body.push('return acc;');
    return runKernel(`reduce_${kind}`, kernelSource(1, body), [x.handle], outSize, out.buffer);
  };
}

const argmaxKernel: GpuKernel = (inputs, params: { axis: number }, out) => {
  const x = inputs[0]!;
  const axis = params.axis;
  const n = x.shape[axis]!;
  const inner = sizeOf(x.shape.slice(axis + 1));
  const outSize = sizeOf(out.shape);
  if (outSize > 0 && n === 0) throw new RangeError(`argmax: cannot take the argmax of an empty axis ${axis}`);
  const body = [
    `const o0 = Math.floor((i + 0.5) / ${lit(inner)});`,
    `const o = i - o0 * ${lit(inner)} < 0.0 ? o0 - 1.0 : (i - o0 * ${lit(inner)} >= ${lit(inner)} ? o0 + 1.0 : o0);`,
    `const j = i - o * ${lit(inner)};`,
    `const base = o * ${lit(n * inner)} + j;`,
    'let best = x0[base];',
    'let bi = 0.0;',
    `for (let t = 1; t < ${Math.max(n, 1)}; t++) {`,
    `  const v = x0[base + t * ${lit(inner)}];`,
    '  if (v > best || (v != v && best == best)) { best = v; bi = t * 1.0; }',
    '}',
    'return bi;',
  ];
  return runKernel('argmax', kernelSource(1, body), [x.handle], outSize, out.buffer);
};

/**
 * Whether gather and scatter_add on the gpu read indices computed on the device back to check them as the CPU
 * does (a RangeError naming the index), at the cost of waiting for the device at every such op. Off by default
 * (out-of-range computed indices are clamped by gather and dropped by scatter_add, as JAX does on
 * accelerators); on with the environment variable XS_GPU_CHECK_INDICES=1, for debugging. Indices uploaded
 * from the host are always checked (they have an exact host copy).
 * @example
 * import { gpuIndexChecks } from '@xs/tensor';
 * gpuIndexChecks.readBack = true; // errors, not clamping, for out-of-range computed indices
 */
export const gpuIndexChecks: {
  /** Read computed indices back and check them (true), or clamp/drop out-of-range ones on the device (false). */
  readBack: boolean;
} = {
  readBack: typeof process !== 'undefined' && process.env?.XS_GPU_CHECK_INDICES === '1',
};

/** A negative index wraps once; one still outside [0, n) is a RangeError naming it (the CPU backend's rule). */
function checkIndices(kernel: string, idx: GpuInput, n: number, axis: number): void {
  const host = idx.handle.store.host ?? (gpuIndexChecks.readBack ? hostInt32(idx.handle, sizeOf(idx.shape)) : undefined);
  if (!host) return;
  for (let p = 0; p < host.length; p++) {
    const i = host[p]!;
    const j = i < 0 ? i + n : i;
    if (!(j >= 0 && j < n)) throw new RangeError(`${kernel}: index ${i} out of range for axis ${axis} of size ${n}`);
  }
}

const gatherKernel: GpuKernel = (inputs, params: { axis: number }, out) => {
  const [x, idx] = inputs as [GpuInput, GpuInput];
  const axis = params.axis;
  const n = x.shape[axis]!;
  const inner = sizeOf(x.shape.slice(axis + 1));
  const P = sizeOf(idx.shape);
  checkIndices('gather', idx, n, axis);
  // With nothing to clamp to, every index is out of range (no read-back needed to know it).
  if (n === 0 && P > 0 && sizeOf(out.shape) > 0) throw new RangeError(`gather: index out of range for axis ${axis} of size 0`);
  const body = [
    ...decompose('i', [sizeOf(x.shape.slice(0, axis)), P, inner], 'c'),
    'const w = x1[c1];',
    `const wj = Math.min(Math.max(w < 0.0 ? w + ${lit(n)} : w, 0.0), ${lit(n - 1)});`,
    `return x0[(c0 * ${lit(n)} + wj) * ${lit(inner)} + c2];`,
  ];
  return runKernel('gather', kernelSource(2, body), [x.handle, idx.handle], sizeOf(out.shape), out.buffer);
};

const scatterAddKernel: GpuKernel = (inputs, params: { axis: number }, out) => {
  const [operand, idx, updates] = inputs as [GpuInput, GpuInput, GpuInput];
  const axis = params.axis;
  const n = operand.shape[axis]!;
  const inner = sizeOf(operand.shape.slice(axis + 1));
  const P = sizeOf(idx.shape);
  checkIndices('scatter_add', idx, n, axis);
  const body = [...decompose('i', [sizeOf(operand.shape.slice(0, axis)), n, inner], 'c'), `let acc = ${read('x0', 'i')};`];
  if (P > 0) {
    body.push(
      `for (let p = 0; p < ${P}; p++) {`,
      '  const w = x1[p];',
      `  const wj = w < 0.0 ? w + ${lit(n)} : w;`,
      `  if (wj == c1) { const u = x2[(c0 * ${lit(P)} + p) * ${lit(inner)} + c2]; ${out.dtype === 'bool' ? 'acc = Math.max(acc, u);' : 'acc = acc + u;'} }`,
      '}',
    );
  }
  body.push('return acc;');
  return runKernel('scatter_add', kernelSource(3, body), [operand.handle, idx.handle, updates.handle], sizeOf(out.shape), out.buffer);
};

const ELEMENTWISE_PRIMS = [
  'neg', 'exp', 'log', 'log1p', 'expm1', 'sin', 'cos', 'tanh', 'logistic', 'sqrt', 'abs', 'sign', 'floor', 'ceil', 'round', 'not',
  'add', 'sub', 'mul', 'div', 'pow', 'max', 'min', 'atan2', 'and', 'or', 'eq', 'ne', 'lt', 'le', 'gt', 'ge', 'select',
  'convert_element_type',
];

export const gpuKernels: ReadonlyMap<string, GpuKernel> = new Map<string, GpuKernel>([
  ...ELEMENTWISE_PRIMS.map((p) => [p, guarded(p, elementwise(p))] as [string, GpuKernel]),
  ['reshape', guarded('reshape', identity)],
  ['stop_gradient', guarded('stop_gradient', identity)],
  ['transpose', guarded('transpose', transposeKernel)],
  ['broadcast_in_dim', guarded('broadcast_in_dim', broadcastInDimKernel)],
  ['slice', guarded('slice', sliceKernel)],
  ['pad', guarded('pad', padKernel)],
  ['concatenate', guarded('concatenate', concatenateKernel)],
  ['reduce_sum', guarded('reduce_sum', reduceKernel('sum'))],
  ['reduce_max', guarded('reduce_max', reduceKernel('max'))],
  ['argmax', guarded('argmax', argmaxKernel)],
  ['dot_general', guarded('dot_general', dotGeneralKernel)],
  ['gather', guarded('gather', gatherKernel)],
  ['scatter_add', guarded('scatter_add', scatterAddKernel)],
]);

export type { DType };
