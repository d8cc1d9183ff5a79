/**
 * Every example in its small mode, imported and run through its `main()` (the same code `tsx <file>` runs),
 * with checks that its output makes sense.
 */
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { main as linearRegression } from '../linear-regression.js';
import { main as dpSgd } from '../dp-sgd.js';
import { main as mnistMlp } from '../mnist-mlp.js';
import { main as notebook } from '../notebook.js';

const here = dirname(fileURLToPath(import.meta.url));
const quiet = (lines: string[]) => (line: string) => void lines.push(line);

describe('examples (small modes)', () => {
  it('linear-regression --small: the loss falls and the fit recovers the true weights', async () => {
    const lines: string[] = [];
    const r = await linearRegression(['--small'], quiet(lines));
    expect(r.losses.length).toBeGreaterThan(2);
    expect(r.losses[r.losses.length - 1]!).toBeLessThan(r.losses[0]! / 10);
    expect(r.wError).toBeLessThan(0.05);
    expect(Math.abs(r.b - 0.5)).toBeLessThan(0.05);
    expect(lines.at(-1)).toMatch(/fitted b/);
  });

  it('dp-sgd --small: clipped per-example norms stay within C, and the noisy training still learns', async () => {
    const r = await dpSgd(['--small'], quiet([]));
    expect(r.largestClipped).toBeLessThanOrEqual(r.clip * (1 + 1e-5));
    expect(r.largestClipped).toBeGreaterThan(0.5 * r.clip); // early gradients are large: clipping did bite
    expect(r.lastLoss).toBeLessThan(r.firstLoss / 2);
    expect(r.accuracy).toBeGreaterThan(0.5); // chance is 0.1
  });

  it('mnist-mlp --small: the training loss falls and the accuracy is far above chance', async () => {
    const r = await mnistMlp(['--small'], quiet([]));
    expect(r.losses[r.losses.length - 1]!).toBeLessThan(r.losses[0]!);
    expect(r.accuracy).toBeGreaterThan(0.5);
  });

  it('notebook --quick: every net and the stitched one beat chance on both test sets', async () => {
    const lines: string[] = [];
    const r = await notebook(['--quick'], quiet(lines));
    for (const d of ['mnist', 'fashion'] as const) {
      expect(r[d].alone).toBeGreaterThan(50);
      expect(r[d].stitched).toBeGreaterThan(50);
    }
    expect(lines.some((l) => l.startsWith('test accuracy'))).toBe(true);
  });

  it('runs as a program: tsx linear-regression.ts --small prints its steps and exits 0', () => {
    const tsx = join(here, '..', 'node_modules', '.bin', 'tsx');
    const res = spawnSync(tsx, ['linear-regression.ts', '--small'], { cwd: join(here, '..'), encoding: 'utf8', timeout: 30_000 });
    expect(res.status, res.stderr).toBe(0);
    expect(res.stdout).toMatch(/^step {4}0 {2}mse /m);
    expect(res.stdout).toMatch(/fitted b/);
  });
});
