/**
 * The jit profiler (src/ir/profile.ts): off by default; on, every call of a compiled program times each of its
 * equations, and the report names the program and the equations as the optimised jaxpr has them.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { type Tensor, formatJitProfile, jit, jitProfile, jitProfiler, numpy as np, random, resetJitProfile } from '../src/index.js';

const initially = jitProfiler.enabled;
afterEach(() => {
  jitProfiler.enabled = initially;
  resetJitProfile();
});

function layer(w: Tensor, x: Tensor): Tensor {
  return np.tanh(np.matmul(x, w)).sum();
}

/** The profiler switched as asked, its counts cleared, and a fresh jitted `layer` with its arguments. */
function profiled(enabled: boolean): { f: ReturnType<typeof jit>; w: Tensor; x: Tensor } {
  jitProfiler.enabled = enabled;
  resetJitProfile();
  return { f: jit(layer), w: random.normal(random.key(0), [64, 32]), x: random.normal(random.key(1), [16, 64]) };
}

describe('jit profiler', () => {
  it('is off unless asked for: calls leave no rows', () => {
    const { f, w, x } = profiled(false);
    for (let i = 0; i < 3; i++) f(w, x);
    expect(jitProfile()).toEqual([]);
  });

  it('on: one row per equation of the optimised program, each called as often as the program, named after the function', () => {
    const { f, w, x } = profiled(true);
    const eqns = f.lower(w, x).jaxpr.eqns;
    const t0 = performance.now();
    for (let i = 0; i < 5; i++) f(w, x).item();
    const wall = performance.now() - t0;
    const rows = jitProfile();
    expect(rows).toHaveLength(eqns.length);
    for (const r of rows) {
      expect(r.program).toBe('layer #1');
      expect(r.calls).toBe(5);
      expect(r.totalMs).toBeGreaterThanOrEqual(0);
      expect(r.meanUs).toBeCloseTo((1000 * r.totalMs) / 5, 9);
    }
    const names = rows.map((r) => r.equation.split(' ')[0]).sort();
    expect(names).toEqual(eqns.map((e) => e.prim.name).sort());
    expect(rows.some((r) => r.equation.startsWith('dot_general f32[16,32]'))).toBe(true);
    // sorted, the most expensive first; the equations' time is part of the calls' wall time
    for (let i = 1; i < rows.length; i++) expect(rows[i - 1]!.totalMs).toBeGreaterThanOrEqual(rows[i]!.totalMs);
    const sum = rows.reduce((s, r) => s + r.totalMs, 0);
    expect(sum).toBeGreaterThan(0);
    expect(sum).toBeLessThanOrEqual(wall);
    const text = formatJitProfile(rows, 2);
    expect(text.split('\n')).toHaveLength(3);
    expect(text).toContain(`layer #1: ${rows[0]!.equation}`);
  });

  it('resetJitProfile starts the counts again; a second program gets its own rows', () => {
    jitProfiler.enabled = true;
    resetJitProfile();
    const f = jit(layer);
    const g = jit(function scaled(x: Tensor) {
      return x.mul(2).add(1);
    });
    const w = random.normal(random.key(0), [8, 4]);
    const x = random.normal(random.key(1), [2, 8]);
    for (let i = 0; i < 4; i++) f(w, x);
    resetJitProfile();
    expect(jitProfile()).toEqual([]);
    f(w, x);
    g(x);
    g(x);
    const rows = jitProfile();
    expect(new Set(rows.filter((r) => r.program.startsWith('layer')).map((r) => r.calls))).toEqual(new Set([1]));
    expect(new Set(rows.filter((r) => r.program.startsWith('scaled')).map((r) => r.calls))).toEqual(new Set([2]));
    expect(rows.find((r) => r.program.startsWith('scaled'))!.equation).toMatch(/^fused_elementwise f32\[2,8\] \(mul add\)$/);
  });
});
