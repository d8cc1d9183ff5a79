import { describe, expect, it } from 'vitest';
import { runBench } from '../src/main.js';

// CI runs the benchmark only in its quick mode: every implementation, each in its own child process,
// agrees on the losses of 3 steps, and each form and matmul shape runs a few times.
describe('benchmark smoke (quick mode)', () => {
  it('runs every implementation and they agree', () => {
    const lines: string[] = [];
    const r = runBench(true, (s) => lines.push(s));
    expect(r.agreement.ok).toBe(true);
    expect(r.agreement.maxRelErr).toBeLessThanOrEqual(1e-4);
    expect(r.timings.map((t) => t.impl)).toEqual(['xs', 'tfjs-cpu', 'tfjs-wasm', 'jax-js-wasm']);
    for (const t of r.timings) {
      for (const v of [...Object.values(t.stepsPerSec), ...Object.values(t.gflops)]) expect(v).toBeGreaterThan(0);
    }
    expect(Object.keys(r.timings[0]!.stepsPerSec)).toEqual(['eager grad(batched loss)', 'jit(grad(batched loss))', 'jit(vmap(grad))+sum']);
    expect(lines.join('\n')).toMatch(/machine: .*cores/);
  }, 120_000);
});
