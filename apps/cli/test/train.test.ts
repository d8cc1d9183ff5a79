/** `train`: a short run on tiny generated data writes every artefact; --json; Ctrl-C and --resume; failures. */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadPytree } from '@xs/crossstitch';
import { parseMetricsCsv } from '../src/artifacts.js';
import { detectBackend } from '../src/backend.js';
import type { Engine, RunOptions, SeedConfig } from '../src/contract.js';
import { FILES } from '../src/run-dir.js';
import { TRAIN_JSON_SCHEMA, validateJson } from '../src/schema.js';
import { cleanupTempDirs, cli, runDirOf, tinySetup } from './helpers.js';
import { fakeEngine } from './fixtures/fake-engine.js';
import { xmlProblems } from './xml.js';

afterAll(cleanupTempDirs);

const EVERY_FILE = [
  'INCOMPLETE?',
  FILES.config,
  FILES.status,
  FILES.results,
  FILES.metrics,
  FILES.report,
  ...Object.values(FILES.checkpoints),
  ...Object.values(FILES.pictures),
].filter((f) => !f.endsWith('?'));

/** An engine that aborts `controller` once `phase` has finished (a Ctrl-C between phases, seen at the next step). */
function abortingAfter(inner: Engine, phase: string, controller: AbortController): Engine {
  return {
    defaultSeedConfig: inner.defaultSeedConfig,
    runSeedExperiment: (c: SeedConfig, o: RunOptions) =>
      inner.runSeedExperiment(c, {
        ...o,
        onPhaseDone: async (ph, p) => {
          await o.onPhaseDone?.(ph, p);
          if (ph === phase) controller.abort();
        },
      }),
  };
}

describe('train (fake engine)', () => {
  it('a short run writes every artefact of the run folder', async () => {
    const t = tinySetup();
    const r = await cli(['train', ...t.args, '--quiet']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    // the results table beside the notebook's numbers
    expect(r.stdout).toMatch(/^Test accuracy \(%\) +ours +notebook +difference$/m);
    expect(r.stdout).toMatch(/^MNIST +alone +\d+\.\d\d +95\.72 +[+-]\d+\.\d\d$/m);
    expect(r.stdout).toMatch(/^MNIST +stitched +\d+\.\d\d +93\.77 /m);
    expect(r.stdout).toMatch(/^Fashion +alone +\d+\.\d\d +85\.58 /m);
    expect(r.stdout).toMatch(/^Fashion +stitched +\d+\.\d\d +84\.34 /m);
    expect(r.stdout).toMatch(/^Timings: data [\d.]+s, .*total [\d.]+s$/m);
    expect(r.stdout).toMatch(/^Peak memory: \d+ MB \(resident set/m);
    const dir = runDirOf(r.stdout);
    expect(dir.startsWith(t.out)).toBe(true);
    expect(dir).toMatch(/\/\d{8}-\d{6}-seed$/);

    const files = readdirSync(dir);
    for (const f of EVERY_FILE) expect(files).toContain(f);
    expect(files).not.toContain(FILES.incomplete);
    expect(files.filter((f) => f.includes('.tmp-'))).toEqual([]);

    const config = JSON.parse(readFileSync(join(dir, FILES.config), 'utf8'));
    // no --backend: auto, which picks the GPU where gpu.js has a GL context (CI runs under xvfb-run with headless-gl)
    expect(config).toMatchObject({ kind: 'xs-run', variant: 'seed', backend: detectBackend().selected, data: { dataDir: t.data, verify: false } });
    expect(config.seedConfig).toMatchObject({ epochs: { mnist: 2, fashion: 2, stitch: 3 }, batchesPerEpoch: { mnist: 3, fashion: 3, stitch: 2 }, batchSize: 20, stitchSamples: 40 });
    expect(config.seedConfig.trainExamples).toEqual({ mnist: 200, fashion: 200 });

    const status = JSON.parse(readFileSync(join(dir, FILES.status), 'utf8'));
    expect(status).toMatchObject({ status: 'complete', phasesDone: ['mnist', 'fashion', 'stitch'] });
    expect(status.attempts).toHaveLength(1);

    const results = JSON.parse(readFileSync(join(dir, FILES.results), 'utf8'));
    expect(results.notebook).toEqual({ mnist: { alone: 95.72, stitched: 93.77 }, fashion: { alone: 85.58, stitched: 84.34 } });
    for (const task of ['mnist', 'fashion']) {
      for (const kind of ['alone', 'stitched']) {
        const m = results.results[task][kind];
        expect(m.accuracy).toBe(results.accuracy[task][kind]);
        expect(results.difference[task][kind]).toBeCloseTo(m.accuracy - results.notebook[task][kind], 3);
        expect(m.perClassAccuracy).toHaveLength(10);
        expect(m.confusion.flat().reduce((a: number, b: number) => a + b, 0)).toBe(60);
      }
    }
    expect(results).not.toHaveProperty('params');
    expect(results.curves).toHaveLength(7);
    expect(Object.keys(results.timings)).toEqual(expect.arrayContaining(['data', 'mnist', 'fashion', 'stitch', 'total']));

    const metrics = parseMetricsCsv(readFileSync(join(dir, FILES.metrics), 'utf8'));
    expect(metrics.map((m) => `${m.phase}${m.epoch}`)).toEqual(['mnist1', 'mnist2', 'fashion1', 'fashion2', 'stitch1', 'stitch2', 'stitch3']);
    expect(readFileSync(join(dir, FILES.metrics), 'utf8').split('\n')[0]).toBe('phase,epoch,train_loss,val_accuracy,seconds');

    // checkpoints: the nets as [[W0,b0],[W1,b1],[W2,b2]], alpha as [[a1, a2]], with metadata
    const mnist = loadPytree(join(dir, 'mnist.safetensors'));
    expect(mnist.metadata).toMatchObject({ format: 'xs-seed', part: 'mnist', hidden: '60,20' });
    expect((mnist.tree as any)[0][0].shape).toEqual([60, 784]);
    expect((loadPytree(join(dir, 'alpha.safetensors')).tree as any)[0].map((a: any) => a.shape)).toEqual([[20, 60], [20, 60]]);

    // pictures: well-formed SVG with what each should show
    for (const f of Object.values(FILES.pictures)) {
      const svg = readFileSync(join(dir, f), 'utf8');
      expect(svg.startsWith('<?xml')).toBe(true);
      expect(svg).toContain('<svg xmlns="http://www.w3.org/2000/svg"');
      expect(xmlProblems(svg)).toEqual([]);
    }
    const loss = readFileSync(join(dir, FILES.pictures.loss), 'utf8');
    for (const s of ['Training loss per epoch', 'MNIST net', 'Fashion-MNIST net', 'Cross-stitch', 'epoch (of each phase)', '<polyline']) expect(loss).toContain(s);
    expect(readFileSync(join(dir, FILES.pictures.valAccuracy), 'utf8')).toContain('validation accuracy (%)');
    const alpha = readFileSync(join(dir, FILES.pictures.alpha), 'utf8');
    expect(alpha).toContain('alpha value');
    expect((alpha.match(/<rect [^>]*><title>row /g) ?? []).length).toBe(2 * 20 * 60);
    expect(readFileSync(join(dir, FILES.pictures.confusionMnist), 'utf8')).toContain('predicted class');
    expect(readFileSync(join(dir, FILES.pictures.samples), 'utf8')).toContain('true: ');

    const report = readFileSync(join(dir, FILES.report), 'utf8');
    expect(xmlProblems(report)).toEqual([]);
    for (const s of ['<h2>Results</h2>', '95.72', '<h2>Configuration</h2>', '<h2>Timings</h2>', 'mnist.safetensors', 'status complete']) expect(report).toContain(s);
    expect((report.match(/<svg /g) ?? []).length).toBe(Object.keys(FILES.pictures).length);
  });

  it('--json prints one object on stdout that matches the schema; progress goes to stderr', async () => {
    const t = tinySetup();
    const r = await cli(['train', ...t.args, '--json']);
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(validateJson(TRAIN_JSON_SCHEMA, out)).toEqual([]);
    expect(out.status).toBe('complete');
    expect(typeof out.results.mnist.alone).toBe('number');
    expect(out.runDir.startsWith(t.out)).toBe(true);
    expect(existsSync(join(out.runDir, FILES.report))).toBe(true);
    expect(out.timings.total).toBeGreaterThan(0);
    expect(out.peakRssMB).toBeGreaterThan(10); // a Node process with the engine loaded
    // progress: one line per epoch and phase on a non-terminal stderr
    expect(r.stderr).toMatch(/^MNIST net +3\/6 +epoch 1\/2 +loss \d\.\d{4} +val 60\.0% +1000 step\/s +ETA 0:00$/m);
    expect(r.stderr).toMatch(/^stitch +done in [\d.]+s; checkpoint alpha\.safetensors$/m);
    expect(r.stderr).toContain('run folder: ');
  });

  it('the schema rejects what it should', () => {
    const good = { command: 'train', status: 'complete', variant: 'seed', backend: 'cpu', runDir: '/x', config: { seed: 0, lr: 0.01, batchSize: 100, epochs: { mnist: 5, fashion: 5, stitch: 40 }, batchesPerEpoch: { mnist: 1, fashion: 1, stitch: 1 }, stitchSamples: 2000, hidden: [60, 20] }, results: { mnist: { alone: 95, stitched: 93 }, fashion: { alone: 85, stitched: 84 } }, notebook: { mnist: { alone: 95.72, stitched: 93.77 }, fashion: { alone: 85.58, stitched: 84.34 } }, difference: { mnist: { alone: 0, stitched: 0 }, fashion: { alone: 0, stitched: 0 } }, timings: { mnist: 1, fashion: 1, stitch: 1, total: 3 }, phasesDone: ['mnist'], resumedPhases: [], files: [] };
    expect(validateJson(TRAIN_JSON_SCHEMA, good)).toEqual([]);
    expect(validateJson(TRAIN_JSON_SCHEMA, JSON.parse(JSON.stringify({ ...good, results: undefined })))).toEqual(['$: missing required property "results"']);
    expect(validateJson(TRAIN_JSON_SCHEMA, { ...good, results: { ...good.results, mnist: { alone: 101, stitched: 93 } } })).toEqual(['$.results.mnist.alone: 101 is above the maximum 100']);
    expect(validateJson(TRAIN_JSON_SCHEMA, { ...good, runDir: 3 })).toEqual(['$.runDir: expected string, got integer']);
    expect(validateJson(TRAIN_JSON_SCHEMA, { ...good, extra: 1 })).toEqual(['$: unexpected property "extra"']);
    expect(validateJson(TRAIN_JSON_SCHEMA, { ...good, timings: { total: 3 } })).toEqual(expect.arrayContaining(['$.timings: missing required property "mnist"']));
    const incomplete = { ...good, status: 'incomplete', results: undefined, notebook: undefined, difference: undefined, files: undefined, timings: { total: 1 } };
    expect(validateJson(TRAIN_JSON_SCHEMA, JSON.parse(JSON.stringify(incomplete)))).toEqual([]);
  });

  it('draws a redrawn progress bar on a terminal', async () => {
    const t = tinySetup();
    const r = await cli(['train', ...t.args], { tty: true });
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/\rMNIST net +\[[=> ]+\] +6\/6 +epoch 2\/2 .*ETA 0:00\x1b\[K/);
    expect(r.stderr).toContain('\rstitch      [');
  });

  it('Ctrl-C stops cleanly; the run is incomplete; --resume continues from the checkpoints', async () => {
    const t = tinySetup();
    const controller = new AbortController();
    const first = fakeEngine();
    const r1 = await cli(['train', ...t.args, '--json'], { engine: abortingAfter(first, 'fashion', controller), signal: controller.signal });
    expect(r1.code).toBe(130);
    const j1 = JSON.parse(r1.stdout);
    expect(validateJson(TRAIN_JSON_SCHEMA, j1)).toEqual([]);
    expect(j1).toMatchObject({ status: 'incomplete', error: 'interrupted (Ctrl-C)', phasesDone: ['mnist', 'fashion'] });
    expect(r1.stderr).toContain('interrupted: the run is incomplete; finished phases kept: MNIST net, Fashion net');
    const dir: string = j1.runDir;
    expect(r1.stderr).toContain(`resume with: pnpm train --resume ${dir}`);
    const files = readdirSync(dir);
    expect(files).toEqual(expect.arrayContaining([FILES.config, FILES.status, FILES.metrics, FILES.incomplete, 'mnist.safetensors', 'fashion.safetensors']));
    expect(files).not.toContain('alpha.safetensors');
    expect(files).not.toContain(FILES.results);
    expect(readFileSync(join(dir, FILES.incomplete), 'utf8')).toContain('Finished phases (checkpoints kept): mnist, fashion.');
    expect(JSON.parse(readFileSync(join(dir, FILES.status), 'utf8'))).toMatchObject({ status: 'incomplete', reason: 'interrupted (Ctrl-C)', phasesDone: ['mnist', 'fashion'] });
    expect(parseMetricsCsv(readFileSync(join(dir, FILES.metrics), 'utf8'))).toHaveLength(4);
    const mnistBefore = readFileSync(join(dir, 'mnist.safetensors'));

    // options that would change the experiment are refused with --resume
    expect((await cli(['train', '--resume', dir, '--epochs', '1'])).code).toBe(2);

    const second = fakeEngine();
    const r2 = await cli(['train', '--resume', dir, '--quiet'], { engine: second });
    expect(r2.stderr).toBe('');
    expect(r2.code).toBe(0);
    expect(runDirOf(r2.stdout)).toBe(dir);
    expect(second.calls).toHaveLength(1);
    expect(second.calls[0]!.resumed.sort()).toEqual(['fashion', 'mnist']);
    expect(second.calls[0]!.config).toEqual(JSON.parse(readFileSync(join(dir, FILES.config), 'utf8')).seedConfig);
    expect(existsSync(join(dir, FILES.incomplete))).toBe(false);
    expect(readFileSync(join(dir, 'mnist.safetensors')).equals(mnistBefore)).toBe(true);
    const status = JSON.parse(readFileSync(join(dir, FILES.status), 'utf8'));
    expect(status).toMatchObject({ status: 'complete', phasesDone: ['mnist', 'fashion', 'stitch'] });
    expect(status.attempts.map((a: { outcome: string }) => a.outcome)).toEqual(['incomplete', 'complete']);
    // the curves of the phases done before the interruption are kept
    expect(parseMetricsCsv(readFileSync(join(dir, FILES.metrics), 'utf8')).map((m) => m.phase)).toEqual(['mnist', 'mnist', 'fashion', 'fashion', 'stitch', 'stitch', 'stitch']);
    const results = JSON.parse(readFileSync(join(dir, FILES.results), 'utf8'));
    expect(results.resumedPhases).toEqual(['mnist', 'fashion']);
    expect(results.timings.mnist).toBeGreaterThan(0);
    for (const f of EVERY_FILE) expect(existsSync(join(dir, f))).toBe(true);
  });

  it('a failing run is marked failed and keeps its finished phases (exit 1)', async () => {
    const t = tinySetup();
    const r = await cli(['train', ...t.args, '--quiet'], { engine: fakeEngine({ failIn: 'fashion' }) });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^train failed: fake failure in fashion\n {2}finished phases kept: MNIST net; resume with: pnpm train --resume .+\n$/);
    const dir = readdirSync(t.out).map((d) => join(t.out, d))[0]!;
    expect(JSON.parse(readFileSync(join(dir, FILES.status), 'utf8'))).toMatchObject({ status: 'failed', reason: 'fake failure in fashion', phasesDone: ['mnist'] });
    expect(existsSync(join(dir, 'mnist.safetensors'))).toBe(true);
    expect(existsSync(join(dir, FILES.incomplete))).toBe(true);
  });

  it('--resume of a folder that is not a run fails clearly (exit 1)', async () => {
    const t = tinySetup();
    const r = await cli(['train', '--resume', t.data]);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(`error: ${t.data} is not a run folder: it has no config.json\n`);
    const r2 = await cli(['train', '--resume', join(t.root, 'nope')]);
    expect(r2.stderr).toBe(`error: run folder ${join(t.root, 'nope')} does not exist\n`);
  });

  it('data too small for the configuration is a usage error before any run folder is made', async () => {
    const t = tinySetup();
    const args = t.args.filter((a, i) => a !== '--config' && t.args[i - 1] !== '--config');
    const r = await cli(['train', ...args, '--quiet']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("error: the configuration's trainExamples.mnist needs 50000 examples, but the data has 240 MNIST training examples (use --config to fit smaller data)");
    expect(existsSync(t.out)).toBe(false);
  });

  it('relative --out and --data-dir are relative to the folder the user ran the command in', async () => {
    const t = tinySetup();
    const args = t.args.map((a) => (a === t.out ? 'runs-rel' : a === t.data ? 'data' : a));
    const r = await cli(['train', ...args, '--quiet'], { cwd: t.root });
    expect(r.code).toBe(0);
    expect(runDirOf(r.stdout).startsWith(join(t.root, 'runs-rel'))).toBe(true);
  });
});

describe('train (the real runSeedExperiment of @xs/crossstitch)', () => {
  it('data too small for the default configuration: the same usage error, before the engine trains or a folder is made', async () => {
    // the default configuration trains the nets side by side, so here the workers load the data (onData checks it)
    const { loadEngine } = await import('../src/engine.js');
    const engine = await loadEngine({});
    const t = tinySetup();
    const args = t.args.filter((a, i) => a !== '--config' && t.args[i - 1] !== '--config');
    const r = await cli(['train', ...args, '--quiet'], { engine });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("error: the configuration's trainExamples.mnist needs 50000 examples, but the data has 240 MNIST training examples (use --config to fit smaller data)");
    expect(existsSync(t.out)).toBe(false);
  });

  it('a short run on tiny data, then eval reads the checkpoints back to the same accuracies', async () => {
    const { loadEngine } = await import('../src/engine.js');
    const engine = await loadEngine({});
    const t = tinySetup();
    const r = await cli(['train', ...t.args, '--json', '--lr', '0.05'], { engine });
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(validateJson(TRAIN_JSON_SCHEMA, out)).toEqual([]);
    expect(Object.keys(out.timings)).toEqual(expect.arrayContaining(['data', 'mnist', 'fashion', 'stitch', 'evaluation', 'total']));
    const e = await cli(['eval', out.runDir, '--json'], { engine });
    expect(e.code).toBe(0);
    const ev = JSON.parse(e.stdout);
    const results = JSON.parse(readFileSync(join(out.runDir, FILES.results), 'utf8'));
    for (const task of ['mnist', 'fashion'] as const) {
      for (const kind of ['alone', 'stitched'] as const) {
        expect(ev.results[task][kind].accuracy).toBeCloseTo(out.results[task][kind], 6);
        expect(ev.results[task][kind].confusion).toEqual(results.results[task][kind].confusion);
      }
    }
  });
});
