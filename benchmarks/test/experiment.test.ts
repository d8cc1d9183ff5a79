import { describe, expect, it } from 'vitest';
import { experimentTable, runExperimentBench } from '../src/experiment.js';

// The whole-experiment comparison in a short form (1,1,2 epochs): xs's CLI and the NumPy script both run on
// the real data, report their phases, peak memory and accuracies, and the table prints. NumPy may be absent
// (then it says why); the datasets must be there (CI installs them).
describe('benchmark: the full seed experiment vs NumPy (short)', () => {
  it('runs both, end to end, and tabulates them', () => {
    const log: string[] = [];
    const r = runExperimentBench(1, [1, 1, 2], (s) => log.push(s));
    const [xs, numpy] = r.impls;
    expect(xs!.runs).toHaveLength(1);
    const run = xs!.runs[0]!;
    for (const p of ['data', 'mnist', 'fashion', 'stitch', 'evaluation', 'total']) expect(run.timings[p]).toBeGreaterThan(0);
    expect(run.wall).toBeGreaterThan(run.timings.total!);
    expect(run.peakRssMB).toBeGreaterThan(50);
    expect(run.accuracy.mnist.alone).toBeGreaterThan(80); // one epoch of the notebook's SGD
    if (numpy!.skipped) expect(numpy!.skipped).toMatch(/python3|numpy/);
    else {
      const n = numpy!.runs[0]!;
      expect(n.accuracy.mnist.alone).toBeGreaterThan(80);
      expect(Math.abs(n.accuracy.mnist.alone - run.accuracy.mnist.alone)).toBeLessThan(5); // same procedure
      expect(n.peakRssMB).toBeGreaterThan(50);
    }
    const table = experimentTable(r).join('\n');
    expect(table).toMatch(/total \(s\)/);
    expect(table).toMatch(/peak memory \(MB\)/);
  }, 600_000);
});
