/** `train --variant paper`: a tiny multi-seed run on generated data writes the table (JSON, CSV, Markdown) and the plots. */
import { cpSync, existsSync, readFileSync, readdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { PAPER_FILES, PAPER_INCOMPLETE } from '../src/commands/train-paper.js';
import { cleanupTempDirs, cli, runDirOf, tempDir, writeTinyData } from './helpers.js';
import { xmlProblems } from './xml.js';

afterAll(cleanupTempDirs);

describe('train --variant paper (tiny generated data)', () => {
  it('2 seeds x 2 budgets x both benchmarks: table on stdout, results.json/csv/md and SVG plots in the run folder', async () => {
    const data = writeTinyData(tempDir());
    const out = tempDir();
    const r = await cli(['train', '--variant', 'paper', '--data-dir', data, '--no-verify', '--out', out, '--quiet', '--backend', 'cpu', '--seeds', '2', '--budgets', '20,40', '--epochs', '1', '--batch-size', '20']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^mean ± std over 2 seeds/m);
    for (const m of ['single-task', 'single-task-long', 'hard-sharing', 'notebook-stitch', 'cross-stitch-layer', 'cross-stitch-unit', 'cross-stitch-diag']) {
      expect(r.stdout).toMatch(new RegExp(`^combined +40 +${m} +\\d+\\.\\d\\d ± \\d+\\.\\d\\d +\\d+\\.\\d\\d ± \\d+\\.\\d\\d +-?\\d+\\.\\d\\d ± \\d+\\.\\d\\d$`, 'm'));
    }
    expect(r.stdout).toMatch(/^multi +40 +cross-stitch-unit /m);
    const dir = runDirOf(r.stdout);
    expect(dir).toMatch(/-paper$/);
    const files = readdirSync(dir);
    for (const f of Object.values(PAPER_FILES)) expect(files).toContain(f);
    const result = JSON.parse(readFileSync(join(dir, PAPER_FILES.results), 'utf8'));
    expect(result.rows).toHaveLength(2 * 2 * 7);
    expect(result).toMatchObject({ restoredCells: 0, totalCells: 8 });
    // every finished cell was saved; the run is complete
    expect(readdirSync(join(dir, PAPER_FILES.cells)).sort()).toEqual(['combined-20-seed0.json', 'combined-20-seed1.json', 'combined-40-seed0.json', 'combined-40-seed1.json', 'multi-20-seed0.json', 'multi-20-seed1.json', 'multi-40-seed0.json', 'multi-40-seed1.json']);
    expect(existsSync(join(dir, PAPER_INCOMPLETE))).toBe(false);
    expect(result.config).toMatchObject({ seeds: 2, budgets: [20, 40], epochs: 1, stitchEpochs: 1, batchSize: 20 });
    const csv = readFileSync(join(dir, PAPER_FILES.csv), 'utf8').trim().split('\n');
    expect(csv[0]).toBe('benchmark,budget,examples,method,accA_mean,accA_std,accB_mean,accB_std,deltaM_mean,deltaM_std,seeds');
    expect(csv).toHaveLength(1 + 28);
    expect(csv.filter((l) => l.includes(',single-task,')).every((l) => l.endsWith(',0,0,2'))).toBe(true);
    const md = readFileSync(join(dir, PAPER_FILES.markdown), 'utf8');
    expect(md).toContain('| multi | 40 | cross-stitch-layer |');
    for (const svg of [PAPER_FILES.accuracy, PAPER_FILES.alphas]) {
      const text = readFileSync(join(dir, svg), 'utf8');
      expect(xmlProblems(text)).toEqual([]);
      expect(text).toContain('cross-stitch');
    }
    expect(readFileSync(join(dir, PAPER_FILES.alphas), 'utf8')).toContain('cross-stitch-diag');
  });
});

describe('train --variant paper: --resume', () => {
  const args = (data: string, out: string): string[] => ['train', '--variant', 'paper', '--data-dir', data, '--no-verify', '--out', out, '--quiet', '--backend', 'cpu', '--seeds', '2', '--budgets', '20,40', '--benchmark', 'multi', '--epochs', '1', '--batch-size', '20', '--json'];

  it('Ctrl-C keeps the finished cells; --resume restores them, trains the rest, and gives exactly the uninterrupted table', async () => {
    const data = writeTinyData(tempDir());
    const whole = await cli(args(data, tempDir()));
    expect(whole.code).toBe(0);
    const uninterrupted = JSON.parse(whole.stdout);

    // interrupt once two cells are on disk
    const out = tempDir();
    const controller = new AbortController();
    const cellsOnDisk = (): number => readdirSync(out).reduce((n, d) => n + (existsSync(join(out, d, PAPER_FILES.cells)) ? readdirSync(join(out, d, PAPER_FILES.cells)).filter((f) => f.endsWith('.json') && !f.startsWith('.')).length : 0), 0);
    const poll = setInterval(() => {
      if (cellsOnDisk() >= 2) controller.abort();
    }, 1);
    const r1 = await cli(args(data, out), { signal: controller.signal });
    clearInterval(poll);
    expect(r1.code).toBe(130);
    const j1 = JSON.parse(r1.stdout);
    expect(j1).toMatchObject({ status: 'incomplete', variant: 'paper', totalCells: 4, restoredCells: 0 });
    const dir: string = j1.runDir;
    const kept = readdirSync(join(dir, PAPER_FILES.cells));
    expect(kept.length).toBe(j1.finishedCells);
    expect(kept.length).toBeGreaterThanOrEqual(2);
    expect(kept.length).toBeLessThan(4);
    expect(r1.stderr).toBe(`interrupted: ${kept.length} of 4 cells are finished and kept in ${join(dir, PAPER_FILES.cells)}\n  resume with: pnpm train --resume ${dir}\n`);
    expect(readFileSync(join(dir, PAPER_INCOMPLETE), 'utf8')).toContain(`${kept.length} of 4 cells are done`);
    expect(existsSync(join(dir, PAPER_FILES.results))).toBe(false);
    const keptBytes = kept.map((f) => readFileSync(join(dir, PAPER_FILES.cells, f), 'utf8'));

    // options that would change the experiment are refused with --resume
    const refused = await cli(['train', '--resume', dir, '--seeds', '3']);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('--seeds cannot be combined with --resume');

    const r2 = await cli(['train', '--resume', dir, '--data-dir', data]);
    expect(r2.code).toBe(0);
    expect(r2.stderr).toContain(`(resuming: restored ${kept.length} of 4 cells, ${4 - kept.length} to train)`);
    expect(r2.stdout).toContain(`Restored ${kept.length} of 4 cells from cells/; trained ${4 - kept.length}.`);
    expect(runDirOf(r2.stdout)).toBe(dir);
    const resumed = JSON.parse(readFileSync(join(dir, PAPER_FILES.results), 'utf8'));
    expect(resumed).toMatchObject({ restoredCells: kept.length, totalCells: 4 });
    expect(resumed.rows).toEqual(uninterrupted.rows);
    expect(resumed.config).toEqual(uninterrupted.config);
    expect(readFileSync(join(dir, PAPER_FILES.markdown), 'utf8')).toBe(readFileSync(join(uninterrupted.runDir, PAPER_FILES.markdown), 'utf8'));
    expect(readdirSync(join(dir, PAPER_FILES.cells)).length).toBe(4);
    // restored cells were not rewritten
    kept.forEach((f, i) => expect(readFileSync(join(dir, PAPER_FILES.cells, f), 'utf8')).toBe(keptBytes[i]));
    expect(existsSync(join(dir, PAPER_INCOMPLETE))).toBe(false);
  });

  it('a corrupt, mismatched or misnamed cell file is an error naming the file (exit 1)', async () => {
    const data = writeTinyData(tempDir());
    const r = await cli(args(data, tempDir()));
    expect(r.code).toBe(0);
    const src: string = JSON.parse(r.stdout).runDir;
    const copy = (): string => {
      const d = join(tempDir(), 'run');
      cpSync(src, d, { recursive: true });
      return d;
    };
    // half a file (not what the atomic writer leaves, but what a damaged disk or hand edit might)
    const a = copy();
    const fa = join(a, PAPER_FILES.cells, 'multi-40-seed1.json');
    writeFileSync(fa, readFileSync(fa, 'utf8').slice(0, 100));
    const ra = await cli(['train', '--resume', a, '--data-dir', data, '--quiet']);
    expect(ra.code).toBe(1);
    expect(ra.stderr).toMatch(new RegExp(`^error: cell file ${fa.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} is corrupt: .+\n$`));
    // made with another configuration
    const b = copy();
    const fb = join(b, PAPER_FILES.cells, 'multi-20-seed0.json');
    const cell = JSON.parse(readFileSync(fb, 'utf8'));
    writeFileSync(fb, JSON.stringify({ ...cell, config: { ...cell.config, epochs: 5 } }));
    const rb = await cli(['train', '--resume', b, '--data-dir', data, '--quiet']);
    expect(rb.code).toBe(1);
    expect(rb.stderr).toBe(`error: cell file ${fb} does not fit this run: it was made with a different configuration: epochs is 5 in the cell, 1 in this run\n`);
    // another cell under this name
    const c = copy();
    const fc = join(c, PAPER_FILES.cells, 'multi-20-seed0.json');
    renameSync(fc, join(c, PAPER_FILES.cells, 'multi-40-seed0.json'));
    const rc = await cli(['train', '--resume', c, '--data-dir', data, '--quiet']);
    expect(rc.code).toBe(1);
    expect(rc.stderr).toBe(`error: cell file ${join(c, PAPER_FILES.cells, 'multi-40-seed0.json')} holds the cell multi-20-seed0, not the one its name says\n`);
    // a temporary file of an interrupted write is ignored; an untouched complete run resumes with every cell restored
    const d = copy();
    writeFileSync(join(d, PAPER_FILES.cells, '.multi-20-seed0.json.tmp-1-abcd'), '{"half');
    const rd = await cli(['train', '--resume', d, '--data-dir', data, '--quiet']);
    expect(rd.code).toBe(0);
    expect(rd.stdout).toContain('Restored 4 of 4 cells from cells/; trained 0.');
  });
});
