/** `train --variant paper`: a tiny multi-seed run on generated data writes the table (JSON, CSV, Markdown) and the plots. */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { PAPER_FILES } from '../src/commands/train-paper.js';
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
    for (const m of ['single-task', 'single-task-long', 'hard-sharing', 'notebook-stitch', 'cross-stitch-layer', 'cross-stitch-unit']) {
      expect(r.stdout).toMatch(new RegExp(`^combined +40 +${m} +\\d+\\.\\d\\d ± \\d+\\.\\d\\d +\\d+\\.\\d\\d ± \\d+\\.\\d\\d +-?\\d+\\.\\d\\d ± \\d+\\.\\d\\d$`, 'm'));
    }
    expect(r.stdout).toMatch(/^multi +40 +cross-stitch-unit /m);
    const dir = runDirOf(r.stdout);
    expect(dir).toMatch(/-paper$/);
    const files = readdirSync(dir);
    for (const f of Object.values(PAPER_FILES)) expect(files).toContain(f);
    const result = JSON.parse(readFileSync(join(dir, PAPER_FILES.results), 'utf8'));
    expect(result.rows).toHaveLength(2 * 2 * 6);
    expect(result.config).toMatchObject({ seeds: 2, budgets: [20, 40], epochs: 1, stitchEpochs: 1, batchSize: 20 });
    const csv = readFileSync(join(dir, PAPER_FILES.csv), 'utf8').trim().split('\n');
    expect(csv[0]).toBe('benchmark,budget,examples,method,accA_mean,accA_std,accB_mean,accB_std,deltaM_mean,deltaM_std,seeds');
    expect(csv).toHaveLength(1 + 24);
    expect(csv.filter((l) => l.includes(',single-task,')).every((l) => l.endsWith(',0,0,2'))).toBe(true);
    const md = readFileSync(join(dir, PAPER_FILES.markdown), 'utf8');
    expect(md).toContain('| multi | 40 | cross-stitch-layer |');
    for (const svg of [PAPER_FILES.accuracy, PAPER_FILES.alphas]) {
      const text = readFileSync(join(dir, svg), 'utf8');
      expect(xmlProblems(text)).toEqual([]);
      expect(text).toContain('cross-stitch');
    }
  });
});
