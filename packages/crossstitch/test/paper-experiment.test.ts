import { describe, expect, it } from 'vitest';
import { PAPER_METHODS, type PaperCell, type PaperConfig, checkPaperCell, deltaM, meanStd, paperCellConfig, resolvePaperConfig, runPaperExperiment } from '../src/index.js';
import { tinySeedData } from './seed-data.js';

describe('delta_m and mean +- std', () => {
  it('delta_m against hand-computed values', () => {
    expect(deltaM([90, 80], [100, 80])).toBeCloseTo(-5, 12); // (-10% + 0%) / 2
    expect(deltaM([96, 88], [95.72, 85.58])).toBeCloseTo((100 * ((96 - 95.72) / 95.72 + (88 - 85.58) / 85.58)) / 2, 12);
    expect(deltaM([93.77, 84.34], [95.72, 85.58])).toBeCloseTo(-1.7431, 4); // the notebook's stitch: (-2.0372% - 1.4489%) / 2
    expect(deltaM([50, 50], [50, 50])).toBe(0);
    expect(() => deltaM([1], [1, 2])).toThrow(RangeError);
  });
  it('mean and sample standard deviation (n - 1)', () => {
    const m = meanStd([1, 2, 3, 4]);
    expect(m.mean).toBe(2.5);
    expect(m.std).toBeCloseTo(Math.sqrt(5 / 3), 12);
    expect(meanStd([7])).toEqual({ mean: 7, std: 0, n: 1 });
  });
  it('checks the configuration', () => {
    expect(() => resolvePaperConfig({ seeds: 0 })).toThrow(/seeds/);
    expect(() => resolvePaperConfig({ budgets: [0] })).toThrow(/budgets/);
    expect(resolvePaperConfig({}).alphaInit).toEqual([0.9, 0.1]);
  });
});

describe('runPaperExperiment (tiny, generated data)', () => {
  it('runs every method on both benchmarks over 2 seeds and budgets, deterministically', async () => {
    const data = tinySeedData(300, 60);
    const cfg = { seeds: 2, budgets: [100, 'all'] as (number | 'all')[], epochs: 1, stitchEpochs: 1, batchSize: 50, hidden: [8, 6] as [number, number] };
    const events: string[] = [];
    const r = await runPaperExperiment(cfg, { data, onProgress: (e) => events.push(`${e.run}/${e.runs}`) });
    expect(r.rows.length).toBe(2 * 2 * PAPER_METHODS.length);
    for (const row of r.rows) {
      expect(row.perSeed.accA.length).toBe(2);
      for (const v of [...row.perSeed.accA, ...row.perSeed.accB]) expect(v).toBeGreaterThanOrEqual(0);
      expect(row.accA.mean).toBeCloseTo((row.perSeed.accA[0]! + row.perSeed.accA[1]!) / 2, 10);
      expect(row.examples).toBe(row.budget === 'all' ? (row.benchmark === 'combined' ? 600 : 300) : 100);
      if (row.method === 'single-task') expect(row.deltaM).toEqual({ mean: 0, std: 0, n: 2 });
    }
    // delta_m is against the same seed's single-task nets
    const st = r.rows.find((x) => x.benchmark === 'multi' && x.budget === 100 && x.method === 'single-task')!;
    const cs = r.rows.find((x) => x.benchmark === 'multi' && x.budget === 100 && x.method === 'cross-stitch-unit')!;
    expect(cs.perSeed.deltaM[1]).toBeCloseTo(deltaM([cs.perSeed.accA[1]!, cs.perSeed.accB[1]!], [st.perSeed.accA[1]!, st.perSeed.accB[1]!]), 10);
    // the seeds are independent: different single-task results
    expect(st.perSeed.accA[0] !== st.perSeed.accA[1] || st.perSeed.accB[0] !== st.perSeed.accB[1]).toBe(true);
    // learned alphas: per layer [2][2][1] and per unit [2][2][h]
    const a = r.alphas.find((x) => x.method === 'cross-stitch-unit')!;
    expect(a.layers.map((l) => [l.length, l[0]!.length, l[0]![0]!.length])).toEqual([[2, 2, 8], [2, 2, 6]]);
    expect(r.alphas.filter((x) => x.method === 'cross-stitch-layer')[0]!.layers[0]![0]![0]!.length).toBe(1);
    // the diagonal-only ablation: off-diagonals exactly 0 after training, the diagonal learned (moved from 0.9)
    const diag = r.alphas.filter((x) => x.method === 'cross-stitch-diag');
    expect(diag.length).toBe(2 * 2 * 2);
    for (const x of diag) {
      expect(x.layers.map((l) => [l.length, l[0]!.length, l[0]![0]!.length])).toEqual([[2, 2, 1], [2, 2, 1]]);
      for (const l of x.layers) {
        expect([l[0]![1]![0], l[1]![0]![0]]).toEqual([0, 0]);
        expect(Math.abs(l[0]![0]![0]! - 0.9) + Math.abs(l[1]![1]![0]! - 0.9)).toBeGreaterThan(1e-4);
      }
    }
    // ... while the full per-layer cross-stitch does mix (its off-diagonals moved from 0.1)
    expect(r.alphas.filter((x) => x.method === 'cross-stitch-layer').some((x) => Math.abs(x.layers[0]![0]![1]![0]! - 0.1) > 1e-4)).toBe(true)
    expect(events.at(-1)).toBe(`${2 * 2 * 2 * 9}/${2 * 2 * 2 * 9}`);
    // the same config gives the same numbers
    const again = await runPaperExperiment({ ...cfg, seeds: 1, budgets: [100], benchmarks: ['multi'] }, { data });
    expect(again.rows.find((x) => x.method === 'cross-stitch-unit')!.perSeed.accA[0]).toBe(cs.perSeed.accA[0]);
  });

  it('resumes: cells finished before an interruption are restored, the rest rerun, and the table equals an uninterrupted run exactly', async () => {
    const data = tinySeedData(200, 40);
    const cfg: Partial<PaperConfig> = { seeds: 2, budgets: [60, 100], epochs: 1, stitchEpochs: 1, batchSize: 20, hidden: [6, 5] };
    const full = await runPaperExperiment(cfg, { data });
    expect(full.restoredCells).toBe(0);
    expect(full.totalCells).toBe(2 * 2 * 2);
    // interrupted after 3 cells (each saved as JSON, as the CLI does)
    const saved: string[] = [];
    const c = new AbortController();
    await expect(
      runPaperExperiment(cfg, {
        data,
        signal: c.signal,
        onCell: (cell) => {
          saved.push(JSON.stringify(cell));
          if (saved.length === 3) c.abort();
        },
      }),
    ).rejects.toMatchObject({ name: 'AbortError' });
    expect(saved.length).toBe(3);
    const events: number[] = [];
    const newCells: PaperCell[] = [];
    const resumed = await runPaperExperiment(cfg, { data, done: saved.map((t) => JSON.parse(t)), onCell: (cell) => void newCells.push(cell), onProgress: (e) => events.push(e.runs) });
    expect(resumed.restoredCells).toBe(3);
    expect(newCells.length).toBe(5); // only the missing cells ran
    expect(new Set(events)).toEqual(new Set([5 * 9]));
    expect(resumed.rows).toEqual(full.rows);
    expect(resumed.alphas).toEqual(full.alphas);
    // a cell from another configuration, or out of the grid, or damaged, is refused with the reason
    const one = JSON.parse(saved[0]!) as PaperCell;
    const resolved = resolvePaperConfig(cfg);
    expect(checkPaperCell(one, resolved)).toEqual(one);
    expect(() => checkPaperCell({ ...one, config: { ...one.config, lr: 0.1 } }, resolved)).toThrow(/different configuration: lr is 0.1 in the cell, 0.003 in this run/);
    expect(() => checkPaperCell({ ...one, budget: 5000 }, resolved)).toThrow(/budget 5000 is not one of this run's/);
    expect(() => checkPaperCell({ ...one, accuracies: { ...one.accuracies, 'cross-stitch-diag': undefined } }, resolved)).toThrow(/cross-stitch-diag accA must be a number/);
    expect(() => checkPaperCell({ ...one, alphas: one.alphas.slice(1) }, resolved)).toThrow(/expected one alphas entry of cross-stitch-layer/);
    expect(() => checkPaperCell({ ...one, format: 'x' }, resolved)).toThrow(/not a cell of the paper experiment/);
    expect(() => checkPaperCell([], resolved)).toThrow(/not a cell/);
    expect(paperCellConfig(resolved)).not.toHaveProperty('seeds');
    await expect(runPaperExperiment(cfg, { data, done: [one, one] })).rejects.toThrow(/given twice/);
    // restored against other data: the budget of 100 comes to 80 examples (40 + 40) there
    const cell100 = saved.map((t) => JSON.parse(t) as PaperCell).find((x) => x.budget === 100)!;
    await expect(runPaperExperiment(cfg, { data: tinySeedData(40, 40), done: [cell100] })).rejects.toThrow(/used 100 training examples, but this data gives 80: not the same data/);
  });

  it('stops on abort with an AbortError', async () => {
    const c = new AbortController();
    c.abort();
    await expect(runPaperExperiment({ seeds: 1 }, { data: tinySeedData(100, 20), signal: c.signal })).rejects.toMatchObject({ name: 'AbortError' });
  });
});
