import { truncateSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import type { Tensor } from '@xs/tensor';
import { type Dataset, IdxFormatError, type ProgressEvent, type SeedData, type SeedPhase, type SeedResult, loadDatasets, resolveSeedConfig, runSeedExperiment } from '../src/index.js';
import { startNetWorker, trainNetsInParallel } from '../src/experiments/parallel.js';
import { prestartNetWorkers, takePrestartedWorker } from '../src/experiments/prestart.js';
import { classify, seedKeys } from '../src/experiments/phase.js';
import { initMlp } from '../src/models/mlp.js';
import { TINY_CONFIG, tinySeedData, writeTinySeedFiles } from './seed-data.js';
import { cleanupTempDirs, tempDir } from './helpers.js';

const data = tinySeedData();

/** Everything but wall-clock fields, tensors as arrays. */
function comparable(r: SeedResult) {
  const { timings: _t, stepsPerSecond: _s, params, curves, ...rest } = r;
  const plain = (p: [Tensor, Tensor][]) => p.map((l) => l.map((t) => Array.from(t.data())));
  return { ...rest, curves: curves.map(({ seconds: _sec, ...c }) => c), params: { mnist: plain(params.mnist), fashion: plain(params.fashion), alpha: plain(params.alpha) } };
}

describe('training the two nets in worker threads', () => {
  afterAll(cleanupTempDirs);
  const savedEnv = process.env.XS_PARALLEL;
  afterEach(() => {
    if (savedEnv === undefined) delete process.env.XS_PARALLEL;
    else process.env.XS_PARALLEL = savedEnv;
  });

  it('gives bit-identical results to training them one after the other, with progress and checkpoints of both', async () => {
    const events: ProgressEvent[] = [];
    const done: SeedPhase[] = [];
    const parallel = await runSeedExperiment(TINY_CONFIG, {
      data,
      parallel: true,
      progressEvery: 5,
      onProgress: (e) => events.push(e),
      onPhaseDone: (phase, params) => {
        done.push(phase);
        expect(params[phase === 'stitch' ? 'alpha' : phase]).toBeDefined();
      },
    });
    const sequential = await runSeedExperiment(TINY_CONFIG, { data, parallel: false });
    expect(comparable(parallel)).toEqual(comparable(sequential));
    expect(parallel.timings.netsInParallel).toBeGreaterThan(0);
    expect(sequential.timings.netsInParallel).toBeUndefined();
    expect([...done.slice(0, 2)].sort()).toEqual(['fashion', 'mnist']);
    expect(done[2]).toBe('stitch');
    // the stitch ran in the worker that finished last, its progress relayed like the nets'
    for (const phase of ['mnist', 'fashion', 'stitch'] as const) {
      const mine = events.filter((e) => e.phase === phase);
      expect(mine.at(-1)).toMatchObject({ step: mine[0]!.steps, valAccuracy: expect.any(Number) });
      expect(mine.filter((e) => e.valAccuracy !== undefined)).toHaveLength(TINY_CONFIG.epochs![phase]!);
    }
  }, 120_000);

  it('each worker loads its own dataset: onData gets both before any step, and the results equal a run on the same data loaded here', async () => {
    const dataDir = tempDir();
    writeTinySeedFiles(dataDir);
    const dataOptions = { dataDir, verify: false, download: false };
    const order: string[] = [];
    let given: { mnist: SeedData; fashion: SeedData } | undefined;
    const loading = await runSeedExperiment(TINY_CONFIG, {
      parallel: true,
      dataOptions,
      progressEvery: 5,
      onData: async (d, seconds) => {
        expect(seconds).toBeGreaterThan(0);
        await new Promise((r) => setTimeout(r, 50)); // awaited: no step before it settles
        given = d;
        order.push('data');
      },
      onProgress: (e) => order.push(e.phase),
    });
    expect(order[0]).toBe('data');
    expect(order.filter((x) => x === 'data')).toHaveLength(1);
    const [mnist, fashion] = given ? [given.mnist as Dataset, given.fashion as Dataset] : [];
    expect(mnist?.source.dir).toBe(join(dataDir, 'mnist'));
    expect(fashion?.source.verified.trainImages).toBe('unchecked');
    expect([mnist?.train.count, fashion?.test.count]).toEqual([600, 100]);
    expect(mnist?.train.images.buffer).toBeInstanceOf(SharedArrayBuffer); // posted back without a copy
    const [m, f] = await loadDatasets(['mnist', 'fashion-mnist'], { ...dataOptions, threads: false });
    const here = await runSeedExperiment(TINY_CONFIG, { data: { mnist: m!, fashion: f! }, parallel: false });
    expect(comparable(loading)).toEqual(comparable(here));
  }, 120_000);

  it("a worker's load failure rejects the run with the loader's own error, naming the file; so does onData's", async () => {
    const dataDir = tempDir();
    writeTinySeedFiles(dataDir);
    const file = join(dataDir, 'fashion-mnist', 'train-images-idx3-ubyte');
    const dataOptions = { dataDir, verify: false, download: false };
    const refused = runSeedExperiment(TINY_CONFIG, { parallel: true, dataOptions, onData: () => Promise.reject(new Error('no run folder')) });
    await expect(refused).rejects.toThrow('no run folder');
    truncateSync(file, 1000);
    const steps: ProgressEvent[] = [];
    const err = await runSeedExperiment(TINY_CONFIG, { parallel: true, dataOptions, onProgress: (e) => steps.push(e) }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(IdxFormatError);
    expect((err as Error).message).toContain(file);
    expect(steps).toEqual([]);
  }, 120_000);

  it('stops both workers when aborted and rejects with an AbortError', async () => {
    const controller = new AbortController();
    const run = runSeedExperiment(TINY_CONFIG, {
      data,
      parallel: true,
      progressEvery: 1,
      onProgress: () => controller.abort(),
      signal: controller.signal,
    });
    await expect(run).rejects.toMatchObject({ name: 'AbortError' });
  }, 120_000);

  it('stops the workers when aborted during the stitch (which trains in one of them)', async () => {
    const controller = new AbortController();
    const phases: SeedPhase[] = [];
    const run = runSeedExperiment(TINY_CONFIG, {
      data,
      parallel: true,
      progressEvery: 1,
      onProgress: (e) => {
        phases.push(e.phase);
        if (e.phase === 'stitch') controller.abort();
      },
      signal: controller.signal,
    });
    await expect(run).rejects.toMatchObject({ name: 'AbortError' });
    expect(phases).toContain('stitch');
  }, 120_000);

  it("the last net's onPhaseDone (run while the stitch starts) comes before the stitch's; its failure rejects the run", async () => {
    const calls: SeedPhase[] = [];
    const saved = await runSeedExperiment(TINY_CONFIG, { data, parallel: true, onPhaseDone: (phase) => void calls.push(phase) });
    expect(saved.params.alpha).toBeDefined();
    expect(calls.slice(2)).toEqual(['stitch']);
    let failedAt: SeedPhase | undefined;
    const done: SeedPhase[] = [];
    const run = runSeedExperiment(TINY_CONFIG, {
      data,
      parallel: true,
      onPhaseDone: (phase) => {
        done.push(phase);
        if (done.length === 2) {
          failedAt = phase;
          throw new Error('disk full');
        }
      },
    });
    await expect(run).rejects.toThrow('disk full');
    expect(failedAt).toBeDefined();
    expect(done).not.toContain('stitch');
  }, 120_000);

  it('takes net workers started ahead (prestartNetWorkers) for the same results, and stops them when the nets train in-process', async () => {
    prestartNetWorkers();
    const ahead = await runSeedExperiment(TINY_CONFIG, { data, parallel: true });
    expect(takePrestartedWorker()).toBeUndefined(); // both were taken
    const inProcess = await runSeedExperiment(TINY_CONFIG, { data, parallel: false });
    expect(comparable(ahead)).toEqual(comparable(inProcess));
    prestartNetWorkers();
    await runSeedExperiment(TINY_CONFIG, { data, parallel: false });
    expect(takePrestartedWorker()).toBeUndefined(); // stopped, not left waiting
  }, 120_000);

  it('a warm worker classifies test examples with its net, the other one and the stitched net, or says what it lacks', async () => {
    const cfg = resolveSeedConfig(TINY_CONFIG);
    const w = startNetWorker('mnist', cfg, { train: data.mnist.train, examples: 600 }, 5);
    w.train(initMlp(seedKeys(cfg.seed).mnist, [784, ...cfg.hidden, 10]));
    const { params } = await w.outcome;
    const test = data.mnist.test;
    const [mine] = await w.classify({ tasks: [{ net: 'mnist', test }] });
    expect(Array.from(mine!)).toEqual(Array.from(classify(params, test)));
    await expect(w.classify({ tasks: [{ net: 'fashion', test }] })).rejects.toThrow(/was not given the fashion net/);
    await w.stop();
    await expect(w.classify({ tasks: [{ net: 'mnist', test }] })).rejects.toThrow(/worker thread failed: the worker was stopped/);
  }, 120_000);

  it("reports a worker's failure with the net it was training and the cause", async () => {
    const cfg = resolveSeedConfig(TINY_CONFIG);
    // The worker gets 100 examples but is configured to train on 500: its sliceSplit throws.
    const w = startNetWorker('mnist', cfg, { train: data.mnist.train, examples: 100 }, 5);
    w.train(initMlp(seedKeys(cfg.seed).mnist, [784, ...cfg.hidden, 10]));
    await expect(w.outcome).rejects.toThrow(/training the mnist net in a worker thread failed: .*sliceSplit/s);
    await w.stop();
  }, 120_000);

  it("decides 'auto' from the work, the backend, the cores and XS_PARALLEL", () => {
    const big = resolveSeedConfig({});
    const tiny = resolveSeedConfig(TINY_CONFIG);
    expect(trainNetsInParallel(tiny, 'auto', true)).toBe(false); // 60 and 72 steps: a worker would not pay
    expect(trainNetsInParallel(big, 'auto', false)).toBe(false); // one net resumed: nothing to overlap
    expect(trainNetsInParallel(tiny, true, true)).toBe(true);
    expect(trainNetsInParallel(big, false, true)).toBe(false);
    process.env.XS_PARALLEL = '0';
    expect(trainNetsInParallel(big, 'auto', true)).toBe(false);
  });
});
