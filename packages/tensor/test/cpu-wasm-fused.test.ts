/**
 * Fused float32 elementwise groups as WebAssembly SIMD kernels (src/backends/cpu/wasm/elementwise.ts): random
 * elementwise programs through jit agree bit for bit (NaN with NaN, -0 apart from +0) with the op-by-op
 * kernels and with the JS fused loops, on shapes with every broadcasting pattern, run lengths that leave every
 * scalar tail, and inputs full of NaN, ±0, ±Inf, subnormals and overflowing magnitudes; exp and logistic
 * (computed in wasm as Math.exp computes them) against the op-by-op kernels over a sweep of float32 bit
 * patterns (every one with XS_EXP_SCAN=1); and which groups take the wasm path (float32 groups of simple ops,
 * exp, logistic) and which stay in JS (other dtypes, other transcendentals, small groups, XS_WASM=0).
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import fc from 'fast-check';
import { type Tensor, fromTypedArray, jit, nn, numpy as np } from '../src/index.js';
import { fusedKernelStats, wasmFused } from '../src/backends/cpu/wasm/elementwise.js';
import { type Rng, mulberry32 } from './helpers/rng.js';

const int = (r: Rng, lo: number, hi: number): number => lo + Math.floor(r() * (hi - lo + 1));
const pick = <T>(r: Rng, xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
const sizeOf = (s: readonly number[]): number => s.reduce((a, b) => a * b, 1);

const SPECIAL = [NaN, 0, -0, Infinity, -Infinity, 1e-45, -1e-45, 1.1754942e-38, 3e38, -3e38, 1, -1, 0.5, 2, 2.5, -2.5];

/** float32 data: mostly small values (a few repeated, so that equality compares hit), some special ones. */
function data(r: Rng, shape: readonly number[]): Float32Array {
  const a = new Float32Array(sizeOf(shape));
  for (let i = 0; i < a.length; i++) {
    const u = r();
    a[i] = u < 0.35 ? pick(r, SPECIAL) : u < 0.4 ? int(r, -2, 2) : (r() * 8 - 4) * 10 ** int(r, -3, 3);
  }
  return a;
}

type Fn = (...xs: Tensor[]) => Tensor | Tensor[];
const UNARY: ((x: Tensor) => Tensor)[] = [np.negative, np.abs, np.sqrt, np.floor, np.ceil, np.exp, nn.sigmoid];
const BINARY: ((a: Tensor, b: Tensor) => Tensor)[] = [np.add, np.subtract, np.multiply, np.divide, np.minimum, np.maximum];
const COMPARE: ((a: Tensor, b: Tensor) => Tensor)[] = [np.equal, np.notEqual, np.less, np.lessEqual, np.greater, np.greaterEqual];

interface Program {
  shapes: number[][];
  f: Fn;
  text: string[];
}

/**
 * A random chain of elementwise steps over inputs that broadcast against one output shape (each input drops
 * leading axes or has size-1 axes at random); every step reads earlier values, so that jit fuses them.
 */
function randomProgram(r: Rng): Program {
  const out = Array.from({ length: int(r, 1, 3) }, () => (r() < 0.2 ? 1 : int(r, 1, 11)));
  const shapes = Array.from({ length: int(r, 1, 3) }, () => {
    const s = out.slice(r() < 0.3 ? int(r, 0, out.length - 1) : 0);
    return s.map((d) => (r() < 0.35 ? 1 : d));
  });
  shapes[0] = out.slice(); // one full-size input keeps the output shape
  const nSteps = int(r, 2, 7);
  const plan: { kind: number; op: number; args: number[] }[] = [];
  for (let s = 0; s < nSteps; s++) {
    const avail = shapes.length + s;
    const arg = (): number => (s > 0 && r() < 0.6 ? shapes.length + s - 1 : int(r, 0, avail - 1));
    const kind = int(r, 0, 3);
    plan.push({ kind, op: int(r, 0, UNARY.length - 1), args: [arg(), arg(), arg(), arg()] });
  }
  const text = plan.map((p, s) => `v${shapes.length + s} = ${['unary', 'binary', 'where', 'where-logic'][p.kind]}#${p.op}(${p.args.map((a) => `v${a}`).join(', ')})`);
  const twoOutputs = r() < 0.3;
  const f: Fn = (...xs) => {
    const v: Tensor[] = [...xs];
    for (const { kind, op, args } of plan) {
      const [a, b, c, d] = args.map((i) => v[i]!) as [Tensor, Tensor, Tensor, Tensor];
      if (kind === 0) v.push(UNARY[op]!(a));
      else if (kind === 1) v.push(BINARY[op % 6]!(a, b));
      else if (kind === 2) v.push(np.where(COMPARE[op % 6]!(a, b), c, d));
      else {
        const m = COMPARE[op % 6]!(a, b);
        const n = COMPARE[(op + 1) % 6]!(c, d);
        v.push(np.where(op % 3 === 0 ? np.logicalAnd(m, n) : op % 3 === 1 ? np.logicalOr(m, n) : np.logicalNot(m), a, d));
      }
    }
    const last = v[v.length - 1]!;
    return twoOutputs ? [last, v[v.length - 2]!] : last;
  };
  return { shapes, f, text };
}

/** The first element where two results differ, by Object.is (NaN equals NaN, -0 differs from +0). */
function firstDifference(a: Tensor | Tensor[], b: Tensor | Tensor[]): string | undefined {
  const as = Array.isArray(a) ? a : [a];
  const bs = Array.isArray(b) ? b : [b];
  for (let k = 0; k < as.length; k++) {
    const x = as[k]!.data();
    const y = bs[k]!.data();
    if (x.length !== y.length) return `output ${k}: ${x.length} vs ${y.length} elements`;
    for (let i = 0; i < x.length; i++) if (!Object.is(x[i], y[i])) return `output ${k}[${i}]: ${x[i]} vs ${y[i]}`;
  }
  return undefined;
}

// On even when the suite runs with XS_WASM=0; the tests' groups are small: let every size take the wasm path.
const initially = { ...wasmFused };
beforeEach(() => {
  wasmFused.enabled = true;
  wasmFused.minSize = 0;
});
afterEach(() => {
  Object.assign(wasmFused, initially);
  vi.unstubAllEnvs();
});

describe('wasm fused elementwise: bit for bit', () => {
  it('random float32 programs: jit (wasm) = op by op = jit (JS fused loops)', () => {
    const before = fusedKernelStats();
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 0x7fffffff }), (seed) => {
        const r = mulberry32(seed);
        const p = randomProgram(r);
        const xs = p.shapes.map((s) => fromTypedArray(data(r, s), s, 'float32'));
        const eager = p.f(...xs);
        const s0 = fusedKernelStats();
        const wasm = jit(p.f)(...xs);
        // every group of these programs is float32 and simple: none may fall back to JS
        expect(fusedKernelStats().jsKernels).toBe(s0.jsKernels);
        wasmFused.enabled = false;
        const js = jit(p.f)(...xs);
        wasmFused.enabled = true;
        const m = firstDifference(wasm, eager) ?? firstDifference(js, eager);
        if (m) throw new Error(`${m}\nshapes ${JSON.stringify(p.shapes)}\n${p.text.join('\n')}\n${jit(p.f).lower(...xs).toString()}`);
      }),
      { numRuns: 200 },
    );
    const after = fusedKernelStats();
    expect(after.wasmKernels).toBeGreaterThan(before.wasmKernels + 100);
    expect(after.wasmRuns).toBeGreaterThan(before.wasmRuns + 100);
  });

  it('every run length (vector loop and scalar tail) and broadcast layout, with two outputs', () => {
    const r = mulberry32(7);
    const f = (a: Tensor, b: Tensor, c: Tensor): Tensor[] => {
      const s = np.multiply(np.subtract(a, b), c);
      return [np.maximum(s, b), np.where(np.less(s, a), np.sqrt(np.abs(s)), np.negative(c))];
    };
    for (let n = 1; n <= 13; n++) {
      for (const [sa, sb, sc] of [
        [[n], [n], [n]],
        [[n], [1], [n]],
        [[3, n], [1, n], [3, 1]],
        [[n, 5], [n, 1], [1, 5]],
        [[2, n, 3], [2, 1, 3], [1, n, 1]],
        [[2, 3, n], [1, 3, 1], [2, 1, n]],
      ] as number[][][]) {
        const xs = [sa!, sb!, sc!].map((s) => fromTypedArray(data(r, s), s, 'float32')) as [Tensor, Tensor, Tensor];
        const runs = fusedKernelStats().wasmRuns;
        const got = jit(f)(...xs);
        expect(fusedKernelStats().wasmRuns).toBeGreaterThan(runs);
        const m = firstDifference(got, f(...xs) as Tensor[]);
        if (m) throw new Error(`n=${n} shapes ${JSON.stringify([sa, sb, sc])}: ${m}`);
      }
    }
  });

  it('min/max and compares on NaN, ±0 and ±Inf in every pairing', () => {
    const vals = [NaN, 0, -0, Infinity, -Infinity, 1, -1];
    const a = new Float32Array(vals.length ** 2);
    const b = new Float32Array(vals.length ** 2);
    vals.forEach((x, i) => vals.forEach((y, j) => ((a[i * vals.length + j] = x), (b[i * vals.length + j] = y))));
    const f = (x: Tensor, y: Tensor): Tensor[] => [
      np.multiply(np.minimum(x, y), 1),
      np.multiply(np.maximum(x, y), 1),
      ...COMPARE.map((c) => np.where(c(x, y), x, y)),
    ];
    const xs: [Tensor, Tensor] = [fromTypedArray(a, [a.length], 'float32'), fromTypedArray(b, [b.length], 'float32')];
    const runs = fusedKernelStats().wasmRuns;
    const got = jit(f)(...xs);
    expect(fusedKernelStats().wasmRuns).toBeGreaterThan(runs);
    expect(firstDifference(got, f(...xs))).toBeUndefined();
    // the cases that matter, spelled out: min(-0, +0) = -0, max(+0, -0) = +0, NaN wins
    const min = got[0]!.data();
    expect(Object.is(min[2 * vals.length + 1], -0)).toBe(true);
    expect(Object.is(got[1]!.data()[1 * vals.length + 2], 0)).toBe(true);
    expect(min[0 * vals.length + 3]).toBeNaN();
  });
});

/**
 * exp and logistic of float32 bit patterns u0, u0 + step, ... (all 2^32 with step 1: NaNs, infinities,
 * subnormals included): the wasm kernel against the op-by-op kernels (Math.exp), in chunks.
 */
function scanExpLogistic(step: number): { checked: number; mismatch?: string } {
  const f = (x: Tensor): Tensor[] => [np.multiply(np.exp(x), 1), np.multiply(nn.sigmoid(x), 1)];
  const jf = jit(f);
  const CHUNK = 1 << 20;
  const bits = new Uint32Array(CHUNK);
  const xs = new Float32Array(bits.buffer);
  let checked = 0;
  for (let u = 0; u < 2 ** 32; ) {
    let n = 0;
    for (; n < CHUNK && u < 2 ** 32; n++, u += step) bits[n] = u;
    const x = fromTypedArray(xs.slice(0, n), [n], 'float32');
    const runs = fusedKernelStats().wasmRuns;
    const m = firstDifference(jf(x), f(x));
    if (fusedKernelStats().wasmRuns === runs) return { checked, mismatch: 'the wasm kernel did not run' };
    if (m) return { checked, mismatch: m };
    checked += n;
  }
  return { checked };
}

describe('wasm fused elementwise: exp and logistic equal Math.exp-based kernels', () => {
  it('on every 997th float32 bit pattern', () => {
    const { checked, mismatch } = scanExpLogistic(997);
    expect(mismatch).toBeUndefined();
    expect(checked).toBe(Math.ceil(2 ** 32 / 997));
  });
  // Every float32 (a few minutes): XS_EXP_SCAN=1 npx vitest run test/cpu-wasm-fused.test.ts
  it.runIf(process.env.XS_EXP_SCAN === '1')('on every float32', () => {
    const { checked, mismatch } = scanExpLogistic(1);
    expect(mismatch).toBeUndefined();
    expect(checked).toBe(2 ** 32);
  }, 3_600_000);
});

describe('wasm fused elementwise: which groups take it', () => {
  const x = fromTypedArray(Float32Array.from({ length: 24 }, (_, i) => i - 11.5), [4, 6], 'float32');

  it('a float32 group of simple ops compiles to wasm and runs there', () => {
    const s0 = fusedKernelStats();
    const f = jit((p: Tensor, g: Tensor) => np.subtract(p, np.multiply(g, 0.01)));
    f(x, x);
    f(x, x);
    const s1 = fusedKernelStats();
    expect(s1.wasmKernels - s0.wasmKernels).toBe(1);
    expect(s1.wasmRuns - s0.wasmRuns).toBe(2);
    expect(s1.jsKernels).toBe(s0.jsKernels);
  });

  it('an int32 group, a float64 group and a group with log stay in JS', () => {
    const i = fromTypedArray(Int32Array.from({ length: 24 }, (_, k) => k - 7), [4, 6], 'int32');
    const d = fromTypedArray(Float64Array.from({ length: 24 }, (_, k) => k / 7), [4, 6], 'float64');
    for (const [f, arg] of [
      [(v: Tensor) => np.add(np.multiply(v, v), v), i],
      [(v: Tensor) => np.add(np.multiply(v, v), v), d],
      [(v: Tensor) => np.add(np.log(v), v), x],
    ] as const) {
      const s0 = fusedKernelStats();
      const out = jit(f)(arg);
      const s1 = fusedKernelStats();
      expect(s1.jsKernels - s0.jsKernels).toBe(1);
      expect(s1.wasmKernels).toBe(s0.wasmKernels);
      expect(firstDifference(out, f(arg))).toBeUndefined();
    }
  });

  it('groups below wasmFused.minSize stay in JS', () => {
    wasmFused.minSize = 25; // x has 24 elements
    const s0 = fusedKernelStats();
    jit((p: Tensor, g: Tensor) => np.subtract(p, np.multiply(g, 0.01)))(x, x);
    const s1 = fusedKernelStats();
    expect(s1.jsKernels - s0.jsKernels).toBe(1);
    expect(s1.wasmKernels).toBe(s0.wasmKernels);
  });

  it('XS_WASM=0 when the library loads sets wasmFused.enabled = false', async () => {
    vi.stubEnv('XS_WASM', '0');
    vi.resetModules();
    const fresh = await import('../src/backends/cpu/wasm/elementwise.js');
    expect(fresh.wasmFused.enabled).toBe(false);
    vi.resetModules();
  });

  it('wasmFused.enabled = false (what XS_WASM=0 sets) keeps float32 groups in JS', () => {
    wasmFused.enabled = false;
    const s0 = fusedKernelStats();
    jit((p: Tensor, g: Tensor) => np.subtract(p, np.multiply(g, 0.01)))(x, x);
    const s1 = fusedKernelStats();
    expect(s1.jsKernels - s0.jsKernels).toBe(1);
    expect(s1.wasmKernels).toBe(s0.wasmKernels);
    expect(s1.wasmRuns).toBe(s0.wasmRuns);
  });
});
