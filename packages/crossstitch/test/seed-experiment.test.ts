import { beforeAll, describe, expect, it } from 'vitest';
import type { Tensor } from '@xs/tensor';
import { type ProgressEvent, type SeedPhase, type SeedResult, NOTEBOOK_RESULTS, defaultSeedConfig, resolveSeedConfig, runSeedExperiment } from '../src/index.js';
import { TINY_CONFIG, tinySeedData } from './seed-data.js';

const data = tinySeedData();

/** The result with tensors as plain arrays and without the wall-clock fields, for comparing runs. */
function comparable(r: SeedResult) {
  const { timings: _t, stepsPerSecond: _s, resumed: _r, params, curves, ...rest } = r;
  const plain = (p: [Tensor, Tensor][]) => p.map((l) => l.map((t) => Array.from(t.data())));
  return {
    ...rest,
    curves: curves.map(({ seconds: _sec, ...c }) => c),
    params: { mnist: plain(params.mnist), fashion: plain(params.fashion), alpha: plain(params.alpha) },
  };
}

describe('defaultSeedConfig / resolveSeedConfig', () => {
  it("reproduce the notebook's schedule", () => {
    const c = defaultSeedConfig();
    expect(c).toMatchObject({
      lr: 0.01,
      batchSize: 100,
      epochs: { mnist: 5, fashion: 5, stitch: 40 },
      batchesPerEpoch: { mnist: 500, fashion: 600, stitch: 20 },
      stitchSamples: 2000,
      hidden: [60, 20],
      trainExamples: { mnist: 50000, fashion: 60000 },
      validation: { mnist: [50000, 50100], fashion: [30000, 30100], stitch: [30000, 31000] },
    });
    expect(Number.isInteger(c.seed)).toBe(true);
  });

  it('merge per-phase overrides entry by entry and reject nonsense', () => {
    const c = resolveSeedConfig({ epochs: { stitch: 2 }, seed: 9 });
    expect(c.epochs).toEqual({ mnist: 5, fashion: 5, stitch: 2 });
    expect(c.seed).toBe(9);
    expect(() => resolveSeedConfig({ lr: -1 })).toThrow(RangeError);
    expect(() => resolveSeedConfig({ batchSize: 0 })).toThrow(RangeError);
    expect(() => resolveSeedConfig({ stitchSamples: 50 })).toThrow(/smaller than one batch/);
    expect(() => resolveSeedConfig({ validation: { mnist: [5, 5] } })).toThrow(/validation\.mnist/);
  });

  it('a slice past the data is an error before any training', async () => {
    await expect(runSeedExperiment({}, { data })).rejects.toThrow(/trainExamples\.mnist needs 50000 examples/);
  });
});

describe('runSeedExperiment on small generated data', () => {
  let result: SeedResult;
  const events: ProgressEvent[] = [];
  const phasesDone: [SeedPhase, string[]][] = [];

  beforeAll(async () => {
    result = await runSeedExperiment(TINY_CONFIG, {
      data,
      progressEvery: 5,
      onProgress: (e) => events.push(e),
      onPhaseDone: (phase, params) => {
        phasesDone.push([phase, Object.keys(params).sort()]);
      },
    });
  });

  it('returns the whole result object', () => {
    expect(result.config).toEqual(resolveSeedConfig(TINY_CONFIG));
    expect(result.notebook).toEqual({ mnist: { alone: 95.72, stitched: 93.77 }, fashion: { alone: 85.58, stitched: 84.34 } });
    expect(result.notebook).toEqual(NOTEBOOK_RESULTS);
    expect(result.curves.map((c) => `${c.phase}${c.epoch}`)).toEqual(['mnist1', 'mnist2', 'fashion1', 'fashion2', 'stitch1', 'stitch2', 'stitch3']);
    for (const c of result.curves) {
      expect(Number.isFinite(c.trainLoss) && c.trainLoss > 0).toBe(true);
      expect(c.valAccuracy).toBeGreaterThanOrEqual(0);
      expect(c.valAccuracy).toBeLessThanOrEqual(100);
      expect(c.seconds).toBeGreaterThanOrEqual(0);
    }
    for (const ds of ['mnist', 'fashion'] as const) {
      for (const which of ['alone', 'stitched'] as const) {
        const m = result.results[ds][which];
        expect(m.confusion.length).toBe(10);
        expect(m.confusion.every((r) => r.length === 10)).toBe(true);
        const total = m.confusion.flat().reduce((a, b) => a + b, 0);
        expect(total).toBe(100);
        const diag = m.confusion.reduce((a, r, i) => a + r[i]!, 0);
        expect(m.accuracy).toBeCloseTo(diag, 10); // 100 test examples: percent = count
        expect(m.perClassAccuracy.length).toBe(10);
      }
    }
    expect(Object.keys(result.timings).sort()).toEqual(['data', 'evaluation', 'fashion', 'mnist', 'shuffle', 'stitch', 'total']);
    expect(result.timings.total).toBeGreaterThanOrEqual(result.timings.mnist! + result.timings.fashion! + result.timings.stitch!);
    expect(Object.keys(result.stepsPerSecond!).sort()).toEqual(['fashion', 'mnist', 'stitch']);
    expect(result.resumed).toEqual([]);
    expect(result.params.mnist.map(([w, b]) => [w.shape, b.shape])).toEqual([
      [[60, 784], [60]],
      [[20, 60], [20]],
      [[10, 20], [10]],
    ]);
    expect(result.params.alpha.map((b) => b.map((a) => a.shape))).toEqual([[[20, 60], [20, 60]]]);
    expect(result.samples.length).toBe(16);
    for (const s of result.samples) {
      expect(s.pixels.length).toBe(784);
      expect([s.label, s.predictedAlone, s.predictedStitched].every((v) => Number.isInteger(v) && v >= 0 && v < 10)).toBe(true);
    }
    expect(result.samples[0]!.label).toBe(data.mnist.test.labels[0]);
    expect(result.samples[8]!.dataset).toBe('fashion');
    // JSON-serialisable apart from the tensors
    expect(() => JSON.stringify({ ...result, params: undefined })).not.toThrow();
  });

  it('learns: every net beats chance (10%) by far', () => {
    expect(result.results.mnist.alone.accuracy).toBeGreaterThan(50);
    expect(result.results.fashion.alone.accuracy).toBeGreaterThan(50);
    expect(result.results.mnist.stitched.accuracy).toBeGreaterThan(30);
    expect(result.results.fashion.stitched.accuracy).toBeGreaterThan(30);
    const mnistLoss = result.curves.filter((c) => c.phase === 'mnist').map((c) => c.trainLoss);
    expect(mnistLoss[1]!).toBeLessThan(mnistLoss[0]!);
  });

  it('emits progress events every few steps and at each epoch end, and calls onPhaseDone per phase', () => {
    const mnist = events.filter((e) => e.phase === 'mnist');
    // 2 epochs x 30 steps, every 5 steps: steps 5, 10, ..., 30 (epoch end, with validation), 35, ..., 60 (end)
    expect(mnist.map((e) => [e.step, e.epoch, e.valAccuracy !== undefined])).toEqual(
      Array.from({ length: 12 }, (_, i) => [5 * (i + 1), i < 6 ? 1 : 2, i === 5 || i === 11]),
    );
    for (const e of events) {
      expect(e.steps).toBe(e.phase === 'mnist' ? 60 : e.phase === 'fashion' ? 72 : 12);
      expect(e.epochs).toBe(e.phase === 'stitch' ? 3 : 2);
      expect(Number.isFinite(e.loss)).toBe(true);
      expect(e.stepsPerSecond).toBeGreaterThan(0);
    }
    const ends = events.filter((e) => e.valAccuracy !== undefined);
    expect(ends.map((e) => e.valAccuracy)).toEqual(result.curves.map((c) => c.valAccuracy));
    expect(phasesDone).toEqual([
      ['mnist', ['mnist']],
      ['fashion', ['fashion', 'mnist']],
      ['stitch', ['alpha', 'fashion', 'mnist']],
    ]);
  });

  it('is deterministic: the same seed gives identical results, another seed different ones', async () => {
    const again = await runSeedExperiment(TINY_CONFIG, { data });
    expect(comparable(again)).toEqual(comparable(result));
    const other = await runSeedExperiment({ ...TINY_CONFIG, seed: 4 }, { data });
    expect(comparable(other).params.mnist).not.toEqual(comparable(result).params.mnist);
  });

  it('stops at the next step when aborted, after onPhaseDone of finished phases, and resumes to the same result', async () => {
    const controller = new AbortController();
    const saved: Partial<SeedResult['params']>[] = [];
    let stepsAfterAbort = 0;
    let abortedAt = -1;
    const run = runSeedExperiment(TINY_CONFIG, {
      data,
      progressEvery: 1,
      signal: controller.signal,
      onProgress: (e) => {
        if (abortedAt >= 0) stepsAfterAbort++;
        if (e.phase === 'fashion' && e.step === 7) {
          abortedAt = e.step;
          controller.abort();
        }
      },
      onPhaseDone: (_phase, params) => {
        saved.push(params);
      },
    });
    const err = await run.then(
      () => null,
      (e: unknown) => e as Error,
    );
    expect(err).toBeInstanceOf(Error);
    expect(err!.name).toBe('AbortError');
    expect(stepsAfterAbort).toBe(0);
    expect(saved.length).toBe(1);
    expect(Object.keys(saved[0]!)).toEqual(['mnist']);

    const resumedEvents: ProgressEvent[] = [];
    const resumed = await runSeedExperiment(TINY_CONFIG, { data, resume: saved[0], onProgress: (e) => resumedEvents.push(e) });
    expect(resumed.resumed).toEqual(['mnist']);
    expect(resumedEvents.some((e) => e.phase === 'mnist')).toBe(false);
    expect(resumed.curves.map((c) => c.phase)).not.toContain('mnist');
    expect(resumed.timings.mnist).toBeUndefined();
    const full = comparable(result);
    const got = comparable(resumed);
    expect(got.curves).toEqual(full.curves.filter((c) => c.phase !== 'mnist'));
    expect({ ...got, curves: [] }).toEqual({ ...full, curves: [] });
  });

  it('skips every phase when all parameters are resumed, and only evaluates', async () => {
    const r = await runSeedExperiment(TINY_CONFIG, { data, resume: result.params });
    expect(r.resumed).toEqual(['mnist', 'fashion', 'stitch']);
    expect(r.curves).toEqual([]);
    expect(r.results).toEqual(result.results);
    expect(r.samples).toEqual(result.samples);
  });

  it('rejects resumed parameters of the wrong shape, and alpha without both nets', async () => {
    await expect(runSeedExperiment(TINY_CONFIG, { data, resume: { mnist: result.params.mnist.slice(0, 2) } })).rejects.toThrow(/resume\.mnist/);
    await expect(runSeedExperiment(TINY_CONFIG, { data, resume: { mnist: result.params.mnist, alpha: result.params.alpha } })).rejects.toThrow(/resume\.alpha needs/);
  });

  it('yields to the event loop between steps, so an abort from a timer (like Ctrl-C) stops the run', async () => {
    const c = new AbortController();
    let steps = 0;
    const timer = setTimeout(() => c.abort(), 100);
    const err = await runSeedExperiment(TINY_CONFIG, { data, signal: c.signal, progressEvery: 1, onProgress: () => void steps++ }).then(
      () => null,
      (e: unknown) => e as Error,
    );
    clearTimeout(timer);
    expect(err?.name).toBe('AbortError');
    expect(steps).toBeLessThan(60 + 72 + 12);
  });

  it('rejects at once with an AbortError when the signal is already aborted', async () => {
    const c = new AbortController();
    c.abort();
    let phaseDone = false;
    await expect(runSeedExperiment(TINY_CONFIG, { data, signal: c.signal, onPhaseDone: () => void (phaseDone = true) })).rejects.toMatchObject({ name: 'AbortError' });
    expect(phaseDone).toBe(false);
  });
});
