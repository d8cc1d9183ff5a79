/**
 * The build's one-file bundles (scripts/bundle.mjs): the compiled CLI runs through them, the bundle shares the
 * started-ahead net workers with the entry (one prestart module, not a copy of it), and the bundled modules
 * find their files from where they were, not from the bundle's folder. CI builds before it tests; a checkout
 * that has not been built has no bundle to test (the suite says so and skips).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { cleanupTempDirs, tinySetup } from './helpers.js';

const dist = fileURLToPath(new URL('../dist/', import.meta.url));
const bundle = join(dist, 'run.bundle.js');
const workerBundle = fileURLToPath(new URL('../../../packages/crossstitch/dist/experiments/seed-worker.bundle.js', import.meta.url));
const built = existsSync(bundle) && existsSync(workerBundle);
if (!built) console.warn('bundle tests skipped: no dist/run.bundle.js (run `pnpm build` first)');

afterAll(cleanupTempDirs);

describe.skipIf(!built)('the bundled CLI', () => {
  it('imports the prestart module it shares with the entry, and rewrites every import.meta.url', () => {
    const code = readFileSync(bundle, 'utf8');
    expect(code).toMatch(/from "@xs\/crossstitch\/prestart"/);
    expect(code).not.toMatch(/function takePrestartedWorker/); // (the one instance is the package's)
    // each import.meta.url of a bundled module is its own module's URL, relative to the bundle
    const uses = (code.match(/import\.meta\.url/g) ?? []).length;
    const rewritten = (code.match(/new URL\("\.{1,2}\/[^"]+\.js", import\.meta\.url\)/g) ?? []).length;
    expect(uses).toBeGreaterThan(3);
    expect(rewritten).toBe(uses);
  });

  it('trains the seed experiment with the started-ahead workers (side by side) and writes the run folder', () => {
    const t = tinySetup();
    // enough steps for the nets to train side by side (200 each), in workers started ahead by the entry
    const args = t.args.map((a, i) => (t.args[i - 1] === '--epochs' ? '20,20,3' : t.args[i - 1] === '--batches' ? '10,10,2' : a));
    const res = spawnSync(process.execPath, [join(dist, 'main.js'), 'train', ...args, '--json', '--quiet'], {
      encoding: 'utf8',
      timeout: 120_000,
      env: { ...process.env, XS_NO_DOWNLOAD: '1', XS_PARALLEL: '1' },
    });
    expect(res.status, res.stderr).toBe(0);
    const out = JSON.parse(res.stdout) as { status: string; timings: Record<string, number>; runDir: string };
    expect(out.status).toBe('complete');
    if (availableParallelism() >= 2) expect(out.timings.netsInParallel).toBeGreaterThan(0); // the nets trained in the two workers
    expect(existsSync(join(out.runDir, 'report.html'))).toBe(true);
  });
});
