/**
 * Random straight-line tensor programs, for the properties that must hold for *every* program:
 * `jit(f)(x) == f(x)`, `vmap(f)(xs) == stack(f(x_i))`, `grad(jit(f)) == grad(f)`, ...
 *
 * `generateProgram(seed, options)` draws input shapes and a list of steps from a vocabulary of ops
 * (elementwise unary and binary with NumPy broadcasting, sum/max reductions, matmul, reshape, transpose,
 * strided slices, concatenation, where, take). Every step reads earlier values (inputs, constants the program
 * closes over, or results of earlier steps); the program returns the last value and, sometimes, a second one
 * (as an array pytree). Shapes are tracked while generating, so every step is valid by construction and
 * values stay small (at most `maxSize` elements).
 *
 * The program is plain data: `describeProgram` prints it (fast-check failures show the seed and this text),
 * and `buildProgram` turns it into a JS function of its inputs made of ordinary `np` calls, which can then be
 * jitted, vmapped or differentiated. Constants are created once per build, so a jitted program captures them
 * as constvars; under vmap they are unmapped operands. Unary ops are chosen to stay in their domain (no log of
 * negatives, exp only of bounded values) so results are finite for inputs in [-2, 2].
 */
import { type DType, type Tensor, fromTypedArray, numpy as np, nn } from '../../src/index.js';
import { type Rng, mulberry32 } from './rng.js';
export type { Rng };

/** A seeded generator (mulberry32), by the name these helpers' callers use. */
export const rngFrom = mulberry32;

export const sizeOf = (shape: readonly number[]): number => shape.reduce((n, d) => n * d, 1);
const int = (rng: Rng, lo: number, hi: number): number => lo + Math.floor(rng() * (hi - lo + 1));
const pick = <T>(rng: Rng, xs: readonly T[]): T => xs[Math.floor(rng() * xs.length)]!;

/** A float tensor of `shape` with values uniform in [lo, hi). */
export function randomTensor(rng: Rng, shape: readonly number[], dtype: 'float32' | 'float64' = 'float64', lo = -2, hi = 2): Tensor {
  const n = sizeOf(shape);
  const data = dtype === 'float64' ? new Float64Array(n) : new Float32Array(n);
  for (let i = 0; i < n; i++) data[i] = lo + (hi - lo) * rng();
  return fromTypedArray(data, shape, dtype);
}

/** Random int32 values in [lo, hi]. */
export function randomInts(rng: Rng, shape: readonly number[], lo: number, hi: number): Tensor {
  const data = new Int32Array(sizeOf(shape));
  for (let i = 0; i < data.length; i++) data[i] = int(rng, lo, hi);
  return fromTypedArray(data, shape, 'int32');
}

export const UNARY = ['sin', 'cos', 'tanh', 'sigmoid', 'neg', 'abs', 'expTanh', 'log1pAbs', 'sqrtSquarePlus1'] as const;
export const BINARY = ['add', 'sub', 'mul', 'maximum', 'minimum', 'divSafe'] as const;
export type UnaryName = (typeof UNARY)[number];
export type BinaryName = (typeof BINARY)[number];

/** A value a step can read: an input, a constant, or an earlier step's result. */
export type Ref = { kind: 'input' | 'const' | 'step'; index: number };

export type Step =
  | { op: 'unary'; fn: UnaryName; a: Ref }
  | { op: 'binary'; fn: BinaryName; a: Ref; b: Ref }
  | { op: 'sum' | 'max'; a: Ref; axes: number[]; keepdims: boolean }
  | { op: 'matmul'; a: Ref; b: Ref }
  | { op: 'reshape'; a: Ref; shape: number[] }
  | { op: 'transpose'; a: Ref; perm: number[] }
  | { op: 'slice'; a: Ref; start: number[]; limit: number[]; step: number[] }
  | { op: 'concat'; a: Ref; b: Ref; axis: number }
  | { op: 'where'; a: Ref; b: Ref; c: Ref }
  | { op: 'take'; a: Ref; indices: number[]; indexShape: number[]; axis: number };

export interface ConstSpec {
  shape: number[];
  data: number[];
}

export interface Program {
  seed: number;
  dtype: 'float32' | 'float64';
  inputShapes: number[][];
  consts: ConstSpec[];
  steps: Step[];
  /** Step indices returned (one: a single array; two: an array pytree [first, second]). */
  outputs: number[];
  /** Shape of every step's result (as tracked while generating). */
  shapes: number[][];
}

export interface ProgramOptions {
  dtype?: 'float32' | 'float64';
  minSteps?: number;
  maxSteps?: number;
  maxInputs?: number;
  maxRank?: number;
  maxDim?: number;
  /** No value grows beyond this many elements. */
  maxSize?: number;
  /** Restrict the vocabulary (default: all ops). */
  ops?: readonly Step['op'][];
  /** Allow two outputs (default true). */
  multiOutput?: boolean;
}

const ALL_OPS: readonly Step['op'][] = ['unary', 'binary', 'sum', 'max', 'matmul', 'reshape', 'transpose', 'slice', 'concat', 'where', 'take'];

/** NumPy broadcasting of two shapes, or null when they do not broadcast. */
export function broadcastPair(a: readonly number[], b: readonly number[]): number[] | null {
  const n = Math.max(a.length, b.length);
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const x = a[a.length - n + i] ?? 1;
    const y = b[b.length - n + i] ?? 1;
    if (x !== y && x !== 1 && y !== 1) return null;
    out.push(x === 1 ? y : x);
  }
  return out;
}

/** Draw a random program. Deterministic in `seed`. */
export function generateProgram(seed: number, options: ProgramOptions = {}): Program {
  const {
    dtype = 'float64',
    minSteps = 2,
    maxSteps = 8,
    maxInputs = 2,
    maxRank = 3,
    maxDim = 4,
    maxSize = 48,
    ops = ALL_OPS,
    multiOutput = true,
  } = options;
  const rng = rngFrom(seed);
  const randomShape = (minRank = 0): number[] => Array.from({ length: int(rng, minRank, maxRank) }, () => int(rng, 1, maxDim));
  const nInputs = int(rng, 1, maxInputs);
  const inputShapes = Array.from({ length: nInputs }, () => randomShape(1));
  const consts: ConstSpec[] = [];
  const steps: Step[] = [];
  const shapes: number[][] = [];
  const pool: { ref: Ref; shape: number[] }[] = inputShapes.map((shape, index) => ({ ref: { kind: 'input', index }, shape }));

  const newConst = (shape: number[]): Ref => {
    consts.push({ shape, data: Array.from({ length: sizeOf(shape) }, () => Math.round((rng() * 4 - 2) * 64) / 64) });
    const ref: Ref = { kind: 'const', index: consts.length - 1 };
    pool.push({ ref, shape });
    return ref;
  };
  /** A shape that broadcasts against `s`: some axes set to 1, maybe fewer leading axes. */
  const broadcastableTo = (s: number[]): number[] => {
    const drop = rng() < 0.3 ? int(rng, 0, s.length) : 0;
    return s.slice(drop).map((d) => (rng() < 0.3 ? 1 : d));
  };
  /** An operand compatible with `s` for a broadcasting op: an existing value when one fits, else a new constant. */
  const partnerFor = (s: number[], exact = false): { ref: Ref; shape: number[] } => {
    const fits = pool.filter((p) => {
      const out = broadcastPair(s, p.shape);
      return out !== null && (exact ? out.length === s.length && out.every((d, i) => d === s[i]) : sizeOf(out) <= maxSize);
    });
    if (fits.length > 0 && rng() < 0.7) return pick(rng, fits);
    const shape = broadcastableTo(s);
    return { ref: newConst(shape), shape };
  };

  const target = int(rng, minSteps, maxSteps);
  let guard = 0;
  while (steps.length < target && guard++ < 200) {
    // Prefer recent values so programs are deep rather than wide.
    const recent = pool.slice(Math.max(0, pool.length - 3));
    const src = rng() < 0.7 ? pick(rng, recent) : pick(rng, pool);
    const s = src.shape;
    const op = pick(rng, ops);
    let step: Step | null = null;
    let shape: number[] = [];
    switch (op) {
      case 'unary':
        step = { op, fn: pick(rng, UNARY), a: src.ref };
        shape = s;
        break;
      case 'binary': {
        const p = partnerFor(s);
        const out = broadcastPair(s, p.shape)!;
        if (sizeOf(out) > maxSize) break;
        const swap = rng() < 0.5;
        step = { op, fn: pick(rng, BINARY), a: swap ? p.ref : src.ref, b: swap ? src.ref : p.ref };
        shape = out;
        break;
      }
      case 'sum':
      case 'max': {
        if (s.length === 0) break;
        const axes = s.map((_, i) => i).filter(() => rng() < 0.5);
        // Negative spellings too.
        const spelled = axes.map((a) => (rng() < 0.3 ? a - s.length : a));
        const keepdims = rng() < 0.4;
        step = { op, a: src.ref, axes: spelled, keepdims };
        shape = keepdims ? s.map((d, i) => (axes.includes(i) ? 1 : d)) : s.filter((_, i) => !axes.includes(i));
        break;
      }
      case 'matmul': {
        if (s.length === 0) break;
        const k = s[s.length - 1]!;
        const candidates = pool.filter((p) => p.shape.length >= 1 && (p.shape.length === 1 ? p.shape[0] === k : p.shape[p.shape.length - 2] === k));
        let other: { ref: Ref; shape: number[] };
        if (candidates.length > 0 && rng() < 0.5) other = pick(rng, candidates);
        else {
          const shape2 = rng() < 0.2 ? [k] : [k, int(rng, 1, maxDim)];
          other = { ref: newConst(shape2), shape: shape2 };
        }
        const out = matmulShape(s, other.shape);
        if (!out || sizeOf(out) > maxSize) break;
        step = { op, a: src.ref, b: other.ref };
        shape = out;
        break;
      }
      case 'reshape': {
        const n = sizeOf(s);
        const divisors = Array.from({ length: n }, (_, i) => i + 1).filter((d) => n % d === 0);
        const r = int(rng, 0, 3);
        let target2: number[];
        if (r === 0) target2 = [n];
        else if (r === 1) {
          const d = pick(rng, divisors);
          target2 = [d, n / d];
        } else if (r === 2) {
          const d = pick(rng, divisors);
          const e = pick(rng, divisors.filter((x) => (n / d) % x === 0));
          target2 = [d, e, n / d / e];
        } else target2 = [...s, 1];
        step = { op, a: src.ref, shape: rng() < 0.3 && target2.length > 0 ? target2.map((d, i) => (i === 0 ? -1 : d)) : target2 };
        shape = target2;
        break;
      }
      case 'transpose': {
        if (s.length < 2) break;
        const perm = s.map((_, i) => i);
        for (let i = perm.length - 1; i > 0; i--) {
          const j = int(rng, 0, i);
          [perm[i], perm[j]] = [perm[j]!, perm[i]!];
        }
        step = { op, a: src.ref, perm };
        shape = perm.map((p) => s[p]!);
        break;
      }
      case 'slice': {
        if (s.length === 0) break;
        const start = s.map((d) => int(rng, 0, d - 1));
        const limit = s.map((d, i) => int(rng, start[i]! + 1, d));
        const stride = s.map(() => (rng() < 0.35 ? int(rng, 2, 3) : 1));
        step = { op, a: src.ref, start, limit, step: stride };
        shape = s.map((_, i) => Math.ceil((limit[i]! - start[i]!) / stride[i]!));
        break;
      }
      case 'concat': {
        if (s.length === 0 || 2 * sizeOf(s) > maxSize) break;
        const axis = int(rng, 0, s.length - 1);
        const same = pool.filter((p) => p.shape.length === s.length && p.shape.every((d, i) => i === axis || d === s[i]));
        const other = same.length > 0 && rng() < 0.7 ? pick(rng, same) : { ref: newConst(s.map((d, i) => (i === axis ? int(rng, 1, 2) : d))), shape: [] };
        const otherShape = other.ref.kind === 'const' ? consts[other.ref.index]!.shape : other.shape;
        if (sizeOf(s) + sizeOf(otherShape) > maxSize) break;
        const spelled = rng() < 0.3 ? axis - s.length : axis;
        step = { op, a: src.ref, b: other.ref, axis: spelled };
        shape = s.map((d, i) => (i === axis ? d + otherShape[axis]! : d));
        break;
      }
      case 'where': {
        // where(a > b, a, c): all three broadcast to a's shape (the condition compares a with a partner).
        const b = partnerFor(s, true);
        const c = partnerFor(s, true);
        step = { op, a: src.ref, b: b.ref, c: c.ref };
        shape = s;
        break;
      }
      case 'take': {
        if (s.length === 0) break;
        const axis = int(rng, 0, s.length - 1);
        const n = s[axis]!;
        const indexShape = rng() < 0.7 ? [int(rng, 1, 4)] : [int(rng, 1, 2), int(rng, 1, 3)];
        const out = [...s.slice(0, axis), ...indexShape, ...s.slice(axis + 1)];
        if (sizeOf(out) > maxSize) break;
        const indices = Array.from({ length: sizeOf(indexShape) }, () => int(rng, -n, n - 1));
        step = { op, a: src.ref, indices, indexShape, axis };
        shape = out;
        break;
      }
    }
    if (!step) continue;
    steps.push(step);
    shapes.push(shape);
    pool.push({ ref: { kind: 'step', index: steps.length - 1 }, shape });
  }
  if (steps.length === 0) {
    steps.push({ op: 'unary', fn: 'sin', a: { kind: 'input', index: 0 } });
    shapes.push(inputShapes[0]!);
  }
  const last = steps.length - 1;
  const outputs = multiOutput && steps.length > 2 && rng() < 0.3 ? [last, int(rng, 0, last - 1)] : [last];
  return { seed, dtype, inputShapes, consts, steps, outputs, shapes };
}

function matmulShape(a: readonly number[], b: readonly number[]): number[] | null {
  if (a.length === 0 || b.length === 0) return null;
  const am = a.length === 1 ? [1, a[0]!] : [...a];
  const bm = b.length === 1 ? [b[0]!, 1] : [...b];
  if (am[am.length - 1] !== bm[bm.length - 2]) return null;
  const batch = broadcastPair(am.slice(0, -2), bm.slice(0, -2));
  if (!batch) return null;
  const out = [...batch, am[am.length - 2]!, bm[bm.length - 1]!];
  if (a.length === 1) out.splice(out.length - 2, 1);
  if (b.length === 1) out.splice(out.length - 1, 1);
  return out;
}

const UNARY_FNS: Record<UnaryName, (x: Tensor) => Tensor> = {
  sin: np.sin,
  cos: np.cos,
  tanh: np.tanh,
  sigmoid: nn.sigmoid,
  neg: np.negative,
  abs: np.abs,
  expTanh: (x) => np.exp(np.tanh(x)),
  log1pAbs: (x) => np.log1p(np.abs(x)),
  sqrtSquarePlus1: (x) => np.sqrt(x.mul(x).add(1)),
};
const BINARY_FNS: Record<BinaryName, (x: Tensor, y: Tensor) => Tensor> = {
  add: (x, y) => x.add(y),
  sub: (x, y) => x.sub(y),
  mul: (x, y) => x.mul(y),
  maximum: (x, y) => np.maximum(x, y),
  minimum: (x, y) => np.minimum(x, y),
  divSafe: (x, y) => x.div(y.mul(y).add(1)),
};

/**
 * The program as a function of its inputs (one positional argument per input). Constants are created here,
 * once, with the program's dtype.
 */
export function buildProgram(p: Program): (...inputs: Tensor[]) => Tensor | Tensor[] {
  const consts = p.consts.map((c) => fromTypedArray(p.dtype === 'float64' ? Float64Array.from(c.data) : Float32Array.from(c.data), c.shape, p.dtype));
  const takeIndices = p.steps.map((s) => (s.op === 'take' ? fromTypedArray(Int32Array.from(s.indices), s.indexShape, 'int32') : null));
  return (...inputs: Tensor[]) => {
    const results: Tensor[] = [];
    const get = (r: Ref): Tensor => (r.kind === 'input' ? inputs[r.index]! : r.kind === 'const' ? consts[r.index]! : results[r.index]!);
    p.steps.forEach((s, k) => {
      let y: Tensor;
      switch (s.op) {
        case 'unary':
          y = UNARY_FNS[s.fn](get(s.a));
          break;
        case 'binary':
          y = BINARY_FNS[s.fn](get(s.a), get(s.b));
          break;
        case 'sum':
          y = get(s.a).sum(s.axes, s.keepdims);
          break;
        case 'max':
          y = get(s.a).max(s.axes, s.keepdims);
          break;
        case 'matmul':
          y = np.matmul(get(s.a), get(s.b));
          break;
        case 'reshape':
          y = get(s.a).reshape(s.shape);
          break;
        case 'transpose':
          y = get(s.a).transpose(s.perm);
          break;
        case 'slice':
          y = np.slice(get(s.a), s.start, s.limit, s.step);
          break;
        case 'concat':
          y = np.concatenate([get(s.a), get(s.b)], s.axis);
          break;
        case 'where': {
          const a = get(s.a);
          y = np.where(a.greater(get(s.b)), a, get(s.c));
          break;
        }
        case 'take':
          y = np.take(get(s.a), takeIndices[k]!, s.axis);
          break;
      }
      results.push(y);
    });
    const outs = p.outputs.map((i) => results[i]!);
    return outs.length === 1 ? outs[0]! : outs;
  };
}

/** Random inputs for a program (values in [-2, 2)). */
export function programInputs(p: Program, rng: Rng, batch?: number): Tensor[] {
  return p.inputShapes.map((s) => randomTensor(rng, batch === undefined ? s : [batch, ...s], p.dtype));
}

/** A readable listing of the program, for failure messages. */
export function describeProgram(p: Program): string {
  const ref = (r: Ref): string => (r.kind === 'input' ? `in${r.index}` : r.kind === 'const' ? `c${r.index}` : `v${r.index}`);
  const lines = [
    `program seed=${p.seed} dtype=${p.dtype}`,
    ...p.inputShapes.map((s, i) => `  in${i}: [${s.join(',')}]`),
    ...p.consts.map((c, i) => `  c${i}: const [${c.shape.join(',')}]`),
  ];
  p.steps.forEach((s, k) => {
    const { op, ...rest } = s as Step & Record<string, unknown>;
    const args = Object.entries(rest)
      .map(([key, v]) => `${key}=${typeof v === 'object' && v !== null && 'kind' in (v as object) ? ref(v as Ref) : JSON.stringify(v)}`)
      .join(' ');
    lines.push(`  v${k}: [${p.shapes[k]!.join(',')}] = ${op} ${args}`);
  });
  lines.push(`  out: (${p.outputs.map((i) => `v${i}`).join(', ')})`);
  return lines.join('\n');
}

// ---------------------------------------------------------------- comparisons

export interface CloseOptions {
  rtol?: number;
  atol?: number;
}

/**
 * Compare two arrays elementwise: same shape and dtype, and |a - b| <= atol + rtol·max(|a|, |b|) (NaNs and
 * infinities must match exactly). Returns null when close, else a message naming the first mismatch.
 */
export function compareTensors(actual: Tensor, expected: Tensor, { rtol = 1e-12, atol = 1e-12 }: CloseOptions = {}, label = ''): string | null {
  const where = label ? `${label}: ` : '';
  if (actual.shape.length !== expected.shape.length || actual.shape.some((d, i) => d !== expected.shape[i])) {
    return `${where}shape [${actual.shape.join(',')}] != expected [${expected.shape.join(',')}]`;
  }
  if (actual.dtype !== expected.dtype) return `${where}dtype ${actual.dtype} != expected ${expected.dtype}`;
  const a = actual.data();
  const b = expected.data();
  for (let i = 0; i < a.length; i++) {
    const x = a[i]!;
    const y = b[i]!;
    if (Number.isNaN(x) || Number.isNaN(y)) {
      if (Number.isNaN(x) !== Number.isNaN(y)) return `${where}element ${i}: ${x} vs expected ${y}`;
      continue;
    }
    if (x === y) continue;
    if (!Number.isFinite(x) || !Number.isFinite(y) || Math.abs(x - y) > atol + rtol * Math.max(Math.abs(x), Math.abs(y))) {
      return `${where}element ${i}: ${x} vs expected ${y} (diff ${Math.abs(x - y)})`;
    }
  }
  return null;
}

/** Tolerances suited to a dtype: float32 ~1e-5 relative, float64 ~1e-12. */
export function tolFor(dtype: DType): Required<CloseOptions> {
  return dtype === 'float32' ? { rtol: 1e-5, atol: 1e-5 } : { rtol: 1e-11, atol: 1e-12 };
}

/** Compare two pytrees of tensors (same structure), returning the first problem or null. */
export function compareTrees(actual: unknown, expected: unknown, options?: CloseOptions, label = 'out'): string | null {
  if (Array.isArray(expected)) {
    if (!Array.isArray(actual) || actual.length !== expected.length) return `${label}: structure differs (expected an array of ${expected.length})`;
    for (let i = 0; i < expected.length; i++) {
      const m = compareTrees(actual[i], expected[i], options, `${label}[${i}]`);
      if (m) return m;
    }
    return null;
  }
  if (expected !== null && typeof expected === 'object' && !('shape' in (expected as object))) {
    const keys = Object.keys(expected as object).sort();
    if (actual === null || typeof actual !== 'object' || Object.keys(actual as object).sort().join() !== keys.join()) return `${label}: structure differs (keys ${keys.join(',')})`;
    for (const k of keys) {
      const m = compareTrees((actual as Record<string, unknown>)[k], (expected as Record<string, unknown>)[k], options, `${label}.${k}`);
      if (m) return m;
    }
    return null;
  }
  return compareTensors(actual as Tensor, expected as Tensor, options, label);
}

/** Throw (with the message) when the trees differ: for use inside fast-check properties. */
export function expectClose(actual: unknown, expected: unknown, options?: CloseOptions, context = ''): void {
  const m = compareTrees(actual, expected, options);
  if (m) throw new Error(`${m}${context ? `\n${context}` : ''}`);
}
