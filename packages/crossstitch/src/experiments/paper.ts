/**
 * The paper's experiment (issue 7): does a cross-stitch network (Misra et al., CVPR 2016) help two tasks,
 * MNIST digits (task A) and Fashion-MNIST items (task B), over single-task nets and hard parameter sharing?
 *
 * For every benchmark, sample budget and seed (independent PRNG keys, `foldIn(key(seed), k)` for seed k):
 *
 * - `single-task`: one 784-60-20-10 sigmoid MLP per task (the notebook's net), trained on the budget's examples
 *   of that task, `epochs` epochs — the baseline of delta_m, measured in the same run;
 * - `single-task-long`: the same nets trained `stitchEpochs` epochs more (fresh optimiser state), the
 *   equal-training control for the stitched nets, which also start from the single-task nets: a stitched
 *   net's gain over `single-task` that `single-task-long` also shows is extra training, not sharing;
 * - `hard-sharing`: shared 784-60-20 hidden layers and one head per task, trained from scratch on the budget's
 *   examples with the sum of the task losses, `epochs + stitchEpochs` epochs (as many as a stitched tower);
 * - `notebook-stitch`: the seed notebook's stitch of the two single-task nets (dense alpha blocks into the next
 *   pre-activation, starting at 0, ONE softmax shared by both tasks), only alpha trained, plain SGD on the SUM
 *   of per-example gradients at the notebook's lr 0.01, `stitchEpochs` epochs;
 * - `cross-stitch-layer` / `cross-stitch-unit`: the paper's network (models/cross-stitch.ts), towers
 *   initialised from the two single-task nets, alpha (0.9, 0.1) per layer or per unit, a head per task, the
 *   (weighted) sum of task losses; all weights trained with alpha's learning rate times `alphaLrScale`
 *   (`train: 'all'`), or alpha only (`train: 'alpha'`), `stitchEpochs` epochs on top of the single-task
 *   training.
 * - `cross-stitch-diag`: the ablation of the mixing: `cross-stitch-layer` exactly (same initial towers, same
 *   optimiser, learning rates and minibatch order), but with the off-diagonal alphas fixed at 0 and only the
 *   diagonal (one scale per tower and layer, starting at `alphaInit[0]`) learned — two independent towers with
 *   learned per-layer scales of their hidden activations. Its gap to `cross-stitch-layer` is what sharing
 *   adds; its gap to `single-task-long` is what the rescaling (and the alphas' larger learning rate) adds.
 *
 * Benchmarks: `combined` — the notebook's setting: MNIST and Fashion-MNIST training sets concatenated and
 * shuffled, each example carrying ONE label (its task known); a budget of n is the first n examples of the
 * shuffle (about n/2 per task); tested on each task's own test set. `multi` — Multi-(Fashion+MNIST)
 * (datasets/multi-mnist.ts), one image with two labels; a budget of n is the first n of a shuffle of the 60000
 * training pairs; tested on the 10000 test pairs. Budgets are nested (the 500 examples are the first 500 of the
 * 2000).
 *
 * delta_m (Maninis et al. 2019): `100 · mean_t (acc_t − acc_single,t) / acc_single,t`, against the single-task
 * nets of the SAME seed, benchmark and budget; every number is reported as mean ± sample standard deviation
 * (n − 1) over the seeds.
 */
import { type Tensor, fromTypedArray, jit, nn, numpy as np, random, valueAndGrad } from '@xs/tensor';
import { type Dataset, type Split, loadDatasets } from '../datasets/load.js';
import { permutationFromKey, takeShuffled, takeSplit } from '../datasets/batching.js';
import { makeMultiFashionMnist } from '../datasets/multi-mnist.js';
import { type MlpParams, initMlp } from '../models/mlp.js';
import { type AlphaParams, composeParameters, zeroAlpha } from '../models/stitch.js';
import { type HardShareParams, type TwoTaskBatch, crossStitchLogits, diagonalAlpha, hardShareLogits, initCrossStitch, initDiagonalAlpha, twoTaskLoss } from '../models/cross-stitch.js';
import { adam, applyUpdates, sgd } from '../optim/optimizers.js';
import type { ExperimentRunOptions, SeedData } from './types.js';

/** A benchmark of the paper's experiment: `combined` (MNIST + Fashion-MNIST, one label per image) or `multi` (Multi-(Fashion+MNIST), two labels per image). */
export type PaperBenchmark = 'combined' | 'multi';
/** A method of the paper's experiment (see the module comment for each). */
export type PaperMethod = 'single-task' | 'single-task-long' | 'hard-sharing' | 'notebook-stitch' | 'cross-stitch-layer' | 'cross-stitch-unit' | 'cross-stitch-diag';
/** Every {@link PaperMethod}, in the order they run and are tabulated. */
export const PAPER_METHODS: readonly PaperMethod[] = ['single-task', 'single-task-long', 'hard-sharing', 'notebook-stitch', 'cross-stitch-layer', 'cross-stitch-unit', 'cross-stitch-diag'];
/** The methods that learn cross-stitch alphas (their alphas are recorded in {@link PaperResult.alphas}). */
export type PaperAlphaMethod = 'cross-stitch-layer' | 'cross-stitch-unit' | 'cross-stitch-diag';
/** Every {@link PaperBenchmark}, in order. */
export const PAPER_BENCHMARKS: readonly PaperBenchmark[] = ['combined', 'multi'];

/** Configuration of {@link runPaperExperiment}. The defaults are a quick grid (a few minutes on 2 cores). */
export interface PaperConfig {
  /** Root PRNG seed; seed k of the run uses the key `foldIn(key(seed), k)`. */
  seed: number;
  /** Independent seeds per cell (default 3). */
  seeds: number;
  /** Benchmarks to run (default both, `['combined', 'multi']`). */
  benchmarks: PaperBenchmark[];
  /** Training examples per budget; 'all' = the whole training pool (120000 combined, 60000 multi). */
  budgets: (number | 'all')[];
  /** Methods to run (default all of {@link PAPER_METHODS}; `single-task` always runs, as the baseline). */
  methods: PaperMethod[];
  /** Hidden widths of every tower (default [60, 20], the notebook's). */
  hidden: [number, number];
  /** Examples per minibatch (default 50). */
  batchSize: number;
  /** Epochs of the single-task nets and of hard sharing. */
  epochs: number;
  /** Epochs of the stitched nets (notebook stitch and cross-stitch), on top of the single-task nets they start from. */
  stitchEpochs: number;
  /** Optimiser of everything but the notebook stitch (which keeps the notebook's SGD). */
  optimizer: 'sgd' | 'adam';
  /** Learning rate (of the mean loss over a batch). */
  lr: number;
  /** Alpha's learning rate is `lr * alphaLrScale` (the paper: x100 to x1000 with SGD). */
  alphaLrScale: number;
  /** Which cross-stitch parameters are trained. */
  train: 'all' | 'alpha';
  /** Initial (same, different) alpha. */
  alphaInit: [number, number];
  /** Weights of the two task losses (A = MNIST, B = Fashion). */
  taskWeights: [number, number];
  /** The notebook stitch's SGD learning rate on the per-example SUM (notebook: 0.01). */
  notebookLr: number;
  /** Test examples per task (default all 10000). */
  testExamples: number;
}

/**
 * The default {@link PaperConfig}: 3 seeds, both benchmarks, budgets 500 and 2000, all methods, hidden [60, 20],
 * batch 50, 10 + 10 epochs, Adam at lr 0.003, alpha lr x10, alpha init (0.9, 0.1), all 10000 test examples.
 * @example
 * const cfg = { ...defaultPaperConfig(), seeds: 5 };
 */
export function defaultPaperConfig(): PaperConfig {
  return {
    seed: 0,
    seeds: 3,
    benchmarks: ['combined', 'multi'],
    budgets: [500, 2000],
    methods: [...PAPER_METHODS],
    hidden: [60, 20],
    batchSize: 50,
    epochs: 10,
    stitchEpochs: 10,
    optimizer: 'adam',
    lr: 0.003,
    alphaLrScale: 10,
    train: 'all',
    alphaInit: [0.9, 0.1],
    taskWeights: [1, 1],
    notebookLr: 0.01,
    testExamples: 10000,
  };
}

/**
 * The defaults with `overrides` applied, checked.
 * @throws RangeError when a value is out of range.
 * @example
 * const cfg = resolvePaperConfig({ seeds: 5, optimizer: 'sgd' });
 */
export function resolvePaperConfig(overrides: Partial<PaperConfig> = {}): PaperConfig {
  const c: PaperConfig = { ...defaultPaperConfig(), ...Object.fromEntries(Object.entries(overrides).filter(([, v]) => v !== undefined)) };
  const bad = (m: string): never => {
    throw new RangeError(`paper config: ${m}`);
  };
  const posInt = (v: unknown): boolean => Number.isInteger(v) && (v as number) > 0;
  if (!Number.isInteger(c.seed)) bad(`seed must be an integer, got ${c.seed}`);
  if (!posInt(c.seeds)) bad(`seeds must be a positive integer, got ${c.seeds}`);
  if (!c.benchmarks.length || c.benchmarks.some((b) => !PAPER_BENCHMARKS.includes(b))) bad(`benchmarks must be some of ${PAPER_BENCHMARKS.join(', ')}, got ${JSON.stringify(c.benchmarks)}`);
  if (!c.methods.length || c.methods.some((m) => !PAPER_METHODS.includes(m))) bad(`methods must be some of ${PAPER_METHODS.join(', ')}, got ${JSON.stringify(c.methods)}`);
  if (!c.budgets.length || c.budgets.some((b) => b !== 'all' && !posInt(b))) bad(`budgets must be positive integers or 'all', got ${JSON.stringify(c.budgets)}`);
  if (!c.hidden.every(posInt) || c.hidden.length !== 2) bad(`hidden must be two positive integers`);
  for (const k of ['batchSize', 'testExamples'] as const) if (!posInt(c[k])) bad(`${k} must be a positive integer, got ${c[k]}`);
  for (const k of ['epochs', 'stitchEpochs'] as const) if (!(Number.isInteger(c[k]) && c[k] >= 0)) bad(`${k} must be a non-negative integer, got ${c[k]}`);
  for (const k of ['lr', 'alphaLrScale', 'notebookLr'] as const) if (!(Number.isFinite(c[k]) && c[k] > 0)) bad(`${k} must be a positive number, got ${c[k]}`);
  if (c.optimizer !== 'sgd' && c.optimizer !== 'adam') bad(`optimizer must be sgd or adam, got ${c.optimizer}`);
  if (c.train !== 'all' && c.train !== 'alpha') bad(`train must be all or alpha, got ${c.train}`);
  return c;
}

/** Mean and sample standard deviation (n − 1; 0 for one value) over seeds. */
export interface MeanStd {
  /** The mean (NaN when there are no values). */
  mean: number;
  /** The sample standard deviation, dividing by n − 1 (0 for one value, NaN for none). */
  std: number;
  /** How many values. */
  n: number;
}

/**
 * Mean and sample standard deviation (n − 1) of `values`.
 * @example
 * meanStd([1, 2, 3]); // { mean: 2, std: 1, n: 3 }
 */
export function meanStd(values: readonly number[]): MeanStd {
  const n = values.length;
  if (n === 0) return { mean: NaN, std: NaN, n };
  const mean = values.reduce((a, b) => a + b, 0) / n;
  const std = n > 1 ? Math.sqrt(values.reduce((a, v) => a + (v - mean) ** 2, 0) / (n - 1)) : 0;
  return { mean, std, n };
}

/**
 * delta_m in percent: `100 · mean_t (acc_t − base_t) / base_t` (every metric an accuracy: higher is better).
 * @example deltaM([90, 80], [100, 80]) // 100 · ((−0.1) + 0) / 2 = −5
 */
export function deltaM(acc: readonly number[], baseline: readonly number[]): number {
  if (acc.length !== baseline.length || acc.length === 0) throw new RangeError(`deltaM: ${acc.length} metrics against ${baseline.length} baselines`);
  return (100 * acc.reduce((s, a, t) => s + (a - baseline[t]!) / baseline[t]!, 0)) / acc.length;
}

/** One cell of the table: a method on a benchmark at a budget, over the seeds. */
export interface PaperRow {
  /** The benchmark. */
  benchmark: PaperBenchmark;
  /** The budget as configured ('all' or n). */
  budget: number | 'all';
  /** Training examples actually used. */
  examples: number;
  /** The method. */
  method: PaperMethod;
  /** Test accuracy (%) on task A (MNIST digit) and task B (Fashion item). */
  accA: MeanStd;
  /** Test accuracy (%) on task B (Fashion-MNIST item). */
  accB: MeanStd;
  /** delta_m (%) against the same seed's single-task nets. */
  deltaM: MeanStd;
  /** The per-seed values. */
  perSeed: {
    /** Task A test accuracy (%) of each seed. */
    accA: number[];
    /** Task B test accuracy (%) of each seed. */
    accB: number[];
    /** delta_m (%) of each seed. */
    deltaM: number[];
  };
}

/** Learned alphas of one cross-stitch run: per layer `[2][2][k]` (k = 1 per layer and for the diagonal-only ablation, the width per unit; the diagonal-only ablation's off-diagonals are 0). */
export interface PaperAlphas {
  /** The benchmark. */
  benchmark: PaperBenchmark;
  /** The budget as configured ('all' or n). */
  budget: number | 'all';
  /** The cross-stitch variant. */
  method: PaperAlphaMethod;
  /** The seed's index, 0-based (not the PRNG seed). */
  seed: number;
  /** Per stitched layer, the alpha matrix `[2][2][k]`. */
  layers: number[][][][];
}

/** The typed result of {@link runPaperExperiment}. */
export interface PaperResult {
  /** The full configuration the run used (defaults filled in). */
  config: PaperConfig;
  /** One row per benchmark x budget x method. */
  rows: PaperRow[];
  /** The learned alphas of every cross-stitch run. */
  alphas: PaperAlphas[];
  /**
   * Seconds: `data` (loading), one entry per benchmark (this call's time on it plus the recorded seconds of
   * its restored cells), `restored` (the recorded seconds of all restored cells) and `total` (this call's wall
   * time plus `restored`, so that a resumed run reports about what an uninterrupted one would).
   */
  timings: Record<string, number>;
  /** How many cells came from {@link PaperRunOptions.done} instead of being trained. */
  restoredCells: number;
  /** How many cells the grid has (benchmarks x budgets x seeds). */
  totalCells: number;
}

/** The test accuracies (%) of one method in one cell. */
export interface PaperAccuracy {
  /** Task A (MNIST digit) test accuracy (%). */
  accA: number;
  /** Task B (Fashion item) test accuracy (%). */
  accB: number;
}

/** The configuration fields that determine a cell's numbers: all of {@link PaperConfig} but the grid's extent (`seeds`, `benchmarks`, `budgets`). */
export type PaperCellConfig = Omit<PaperConfig, 'seeds' | 'benchmarks' | 'budgets'>;

/** The format marker of a {@link PaperCell}. */
export const PAPER_CELL_FORMAT = 'xs-paper-cell/1';

/**
 * One finished cell of the grid: every method of one benchmark x budget x seed. Cells are independent (their
 * PRNG keys derive from the root seed, the seed's index, the benchmark and the budget only), so a run can be
 * stopped after any cell and resumed ({@link PaperRunOptions.done}) with the same final numbers. JSON-safe.
 */
export interface PaperCell {
  /** Always {@link PAPER_CELL_FORMAT}. */
  format: typeof PAPER_CELL_FORMAT;
  /** The benchmark. */
  benchmark: PaperBenchmark;
  /** The budget as configured ('all' or n). */
  budget: number | 'all';
  /** The seed's index, 0-based (not the PRNG seed). */
  seed: number;
  /** Training examples the budget came to. */
  examples: number;
  /** The configuration that made it (checked on resume). */
  config: PaperCellConfig;
  /** Test accuracies of every method of the run. */
  accuracies: Partial<Record<PaperMethod, PaperAccuracy>>;
  /** The learned alphas of the cell's cross-stitch methods. */
  alphas: PaperAlphas[];
  /** Seconds per method (training and evaluation; `single-task` both towers), and `total` for the cell. */
  seconds: Record<string, number>;
}

/** A progress event: one per training run at its start and every `progressEvery` steps and at its end. */
export interface PaperProgressEvent {
  /** The benchmark being trained. */
  benchmark: PaperBenchmark;
  /** The budget as configured ('all' or n). */
  budget: number | 'all';
  /** The seed's index, 0-based. */
  seed: number;
  /** What is training: a method, or 'single-task A' / 'single-task B'. */
  what: string;
  /** Training runs done so far and in all. */
  run: number;
  /** Training runs in all. */
  runs: number;
  /** Steps done in this training run (0 at its start). */
  step: number;
  /** Steps of this training run in all. */
  steps: number;
  /** Mean training loss over the steps since the last event (NaN at the start). */
  loss: number;
}

/** What the runner may pass to {@link runPaperExperiment} besides the config. */
export interface PaperRunOptions extends ExperimentRunOptions {
  /** Called with progress events. */
  onProgress?: (e: PaperProgressEvent) => void;
  /**
   * Cells already finished (e.g. read back from a run folder): checked with {@link checkPaperCell} against the
   * configuration, then used as they are instead of being trained again. Cells of the grid not in `done` run.
   */
  done?: readonly unknown[];
  /** Called with each newly finished cell, in order, before the next one starts (e.g. to save it); awaited. */
  onCell?: (cell: PaperCell) => void | Promise<void>;
}

/**
 * The fields of `config` that determine a cell's numbers (see {@link PaperCellConfig}).
 * @example
 * paperCellConfig(resolvePaperConfig({ seeds: 5 })).lr; // 0.003
 */
export function paperCellConfig(config: PaperConfig): PaperCellConfig {
  const { seeds: _s, benchmarks: _b, budgets: _u, ...rest } = config;
  return JSON.parse(JSON.stringify(rest)) as PaperCellConfig;
}

/** The methods a run with `config` trains: its `methods` in table order, `single-task` always. */
function methodsOf(config: PaperConfig): PaperMethod[] {
  return PAPER_METHODS.filter((m) => config.methods.includes(m) || m === 'single-task');
}

const ALPHA_METHODS: readonly PaperAlphaMethod[] = ['cross-stitch-layer', 'cross-stitch-unit', 'cross-stitch-diag'];

/**
 * Check that `value` (e.g. parsed from a cell file) is a finished cell of a run with `config`: the format, a
 * benchmark, budget and seed of its grid, the same {@link PaperCellConfig}, an accuracy in [0, 100] for every
 * method, alphas of the right shapes for every cross-stitch method, and finite timings.
 * @throws Error saying what is wrong (without a file name: callers add it).
 * @example
 * const cell = checkPaperCell(JSON.parse(readFileSync(file, 'utf8')), config);
 */
export function checkPaperCell(value: unknown, config: PaperConfig): PaperCell {
  const bad = (m: string): never => {
    throw new Error(m);
  };
  if (!value || typeof value !== 'object' || Array.isArray(value)) bad('not a cell: expected a JSON object');
  const c = value as Partial<PaperCell>;
  if (c.format !== PAPER_CELL_FORMAT) bad(`not a cell of the paper experiment: format is ${JSON.stringify(c.format)}, expected "${PAPER_CELL_FORMAT}"`);
  if (!config.benchmarks.includes(c.benchmark as PaperBenchmark)) bad(`benchmark ${JSON.stringify(c.benchmark)} is not one of this run's (${config.benchmarks.join(', ')})`);
  if (!config.budgets.includes(c.budget as number | 'all')) bad(`budget ${JSON.stringify(c.budget)} is not one of this run's (${config.budgets.join(', ')})`);
  if (!(Number.isInteger(c.seed) && c.seed! >= 0 && c.seed! < config.seeds)) bad(`seed ${JSON.stringify(c.seed)} is not one of this run's (0 to ${config.seeds - 1})`);
  if (!(Number.isInteger(c.examples) && c.examples! > 0)) bad(`examples must be a positive integer, got ${JSON.stringify(c.examples)}`);
  const want = paperCellConfig(config) as unknown as Record<string, unknown>;
  if (!c.config || typeof c.config !== 'object') bad('it has no config');
  const have = c.config as unknown as Record<string, unknown>;
  for (const k of new Set([...Object.keys(want), ...Object.keys(have)])) {
    const [w, h] = [JSON.stringify(want[k]), JSON.stringify(have[k])];
    if (w !== h) bad(`it was made with a different configuration: ${k} is ${h ?? 'missing'} in the cell, ${w ?? 'absent'} in this run`);
  }
  const methods = methodsOf(config);
  if (!c.accuracies || typeof c.accuracies !== 'object') bad('it has no accuracies');
  for (const m of methods) {
    const a = c.accuracies![m];
    for (const t of ['accA', 'accB'] as const) {
      const v = a?.[t];
      if (!(typeof v === 'number' && v >= 0 && v <= 100)) bad(`${m} ${t} must be a number in [0, 100], got ${JSON.stringify(v)}`);
    }
  }
  if (!Array.isArray(c.alphas)) bad('it has no alphas');
  const widths = config.hidden;
  for (const m of ALPHA_METHODS.filter((x) => methods.includes(x))) {
    const found = c.alphas!.filter((a) => a?.method === m);
    if (found.length !== 1) bad(`expected one alphas entry of ${m}, found ${found.length}`);
    const a = found[0]!;
    if (a.benchmark !== c.benchmark || a.budget !== c.budget || a.seed !== c.seed) bad(`the alphas of ${m} belong to another cell (${a.benchmark}, ${a.budget}, seed ${a.seed})`);
    const ok =
      Array.isArray(a.layers) &&
      a.layers.length === widths.length &&
      a.layers.every((l, i) => Array.isArray(l) && l.length === 2 && l.every((row) => Array.isArray(row) && row.length === 2 && row.every((v) => Array.isArray(v) && v.length === (m === 'cross-stitch-unit' ? widths[i] : 1) && v.every((x) => typeof x === 'number' && Number.isFinite(x)))));
    if (!ok) bad(`the alphas of ${m} do not have the shape [${widths.length} layers][2][2][${m === 'cross-stitch-unit' ? widths.join(' / ') : 1}] of finite numbers`);
  }
  if (!c.seconds || typeof c.seconds !== 'object' || !Object.values(c.seconds).every((v) => typeof v === 'number' && Number.isFinite(v) && v >= 0)) bad('seconds must be an object of non-negative numbers');
  return c as PaperCell;
}


// ---------------------------------------------------------------- data

const CLASSES = 10;

/** Two-task examples on the host: one image, a label and a 0/1 mask per task. */
interface TaskData {
  x: Float32Array;
  yA: Int32Array;
  yB: Int32Array;
  mA: Float32Array;
  mB: Float32Array;
  count: number;
}

function taskData(images: Float32Array, yA: Int32Array, yB: Int32Array, mA: Float32Array, mB: Float32Array): TaskData {
  return { x: images, yA, yB, mA, mB, count: yA.length };
}

/** `n` examples, all zero (no labels, no task), to be filled in. */
function emptyTaskData(n: number): TaskData {
  return taskData(new Float32Array(n * 784), new Int32Array(n), new Int32Array(n), new Float32Array(n), new Float32Array(n));
}

function subset(d: TaskData, idx: ArrayLike<number>): TaskData {
  const out = emptyTaskData(idx.length);
  for (let i = 0; i < idx.length; i++) {
    const j = idx[i]!;
    out.x.set(d.x.subarray(j * 784, (j + 1) * 784), i * 784);
    out.yA[i] = d.yA[j]!;
    out.yB[i] = d.yB[j]!;
    out.mA[i] = d.mA[j]!;
    out.mB[i] = d.mB[j]!;
  }
  return out;
}

/** The examples carrying a label of task `t`. */
function onlyTask(d: TaskData, t: 'A' | 'B'): TaskData {
  const m = t === 'A' ? d.mA : d.mB;
  const idx: number[] = [];
  for (let i = 0; i < d.count; i++) if (m[i]) idx.push(i);
  return subset(d, idx);
}

function oneHot(labels: Int32Array): Tensor {
  const d = new Float32Array(labels.length * CLASSES);
  labels.forEach((l, i) => (d[i * CLASSES + l] = 1));
  return fromTypedArray(d, [labels.length, CLASSES], 'float32');
}

function toBatch(d: TaskData): TwoTaskBatch {
  return {
    x: fromTypedArray(d.x, [d.count, 784], 'float32'),
    tA: oneHot(d.yA),
    tB: oneHot(d.yB),
    mA: fromTypedArray(d.mA, [d.count], 'float32'),
    mB: fromTypedArray(d.mB, [d.count], 'float32'),
  };
}

/** A benchmark's training pool (shuffled per seed, then cut to a budget) and its two test sets. */
interface Bench {
  poolSize: number;
  /** The first n examples of the pool under `perm`. */
  take: (perm: Int32Array, n: number) => TaskData;
  testA: { x: Tensor; y: Int32Array };
  testB: { x: Tensor; y: Int32Array };
}

function ones(n: number): Float32Array {
  return new Float32Array(n).fill(1);
}

/** Training examples in a benchmark's pool: both training sets (combined), or the pairs that exist (multi). */
function poolSizeOf(kind: PaperBenchmark, data: { mnist: SeedData; fashion: SeedData }): number {
  return kind === 'combined' ? data.mnist.train.count + data.fashion.train.count : Math.min(data.mnist.train.count, data.fashion.train.count);
}

function buildBench(kind: PaperBenchmark, data: { mnist: SeedData; fashion: SeedData }, testExamples: number): Bench {
  const { mnist, fashion } = data;
  if (kind === 'combined') {
    const nM = mnist.train.count;
    const nF = fashion.train.count;
    const take = (perm: Int32Array, n: number): TaskData => {
      // the first n of the shuffled MNIST + Fashion pool; an index below nM is an MNIST example (task A)
      const picked = takeShuffled([mnist.train, fashion.train], perm, n);
      const out = emptyTaskData(n);
      out.x.set(picked.images);
      for (let i = 0; i < n; i++) {
        if (perm[i]! < nM) {
          out.yA[i] = picked.labels[i]!;
          out.mA[i] = 1;
        } else {
          out.yB[i] = picked.labels[i]!;
          out.mB[i] = 1;
        }
      }
      return out;
    };
    const test = (s: Split) => {
      const n = Math.min(testExamples, s.count);
      return { x: fromTypedArray(s.images.subarray(0, n * 784), [n, 784], 'float32'), y: s.labels.slice(0, n) };
    };
    return { poolSize: nM + nF, take, testA: test(mnist.test), testB: test(fashion.test) };
  }
  const poolSize = poolSizeOf('multi', data);
  const take = (perm: Int32Array, n: number): TaskData => {
    const idx = perm.subarray(0, n);
    const m = makeMultiFashionMnist(takeSplit(mnist.train, idx), takeSplit(fashion.train, idx));
    return taskData(m.images, m.labelsA, m.labelsB, ones(n), ones(n));
  };
  const nTest = Math.min(testExamples, mnist.test.count, fashion.test.count);
  const t = makeMultiFashionMnist(mnist.test, fashion.test, nTest);
  const x = fromTypedArray(t.images, [nTest, 784], 'float32');
  return { poolSize, take, testA: { x, y: t.labelsA }, testB: { x, y: t.labelsB } };
}

// ---------------------------------------------------------------- training

/** Logits of both heads from the trainable and frozen parts. */
type HeadsFn = (trainable: any, frozen: any, x: Tensor) => [Tensor, Tensor];

interface Spec {
  what: string;
  trainable: Record<string, unknown>;
  frozen: unknown;
  heads: HeadsFn;
  /** Learning rate per group of `trainable` (its keys). */
  lrs: Record<string, number>;
  optimizer: 'sgd' | 'adam';
  epochs: number;
  /** Loss = batch mean of the weighted task NLLs, times this (the notebook stitch sums over the batch). */
  lossScale?: number;
}

const mlpLogits = (p: MlpParams, x: Tensor): Tensor => {
  let h = x;
  for (let i = 0; i < p.length - 1; i++) h = nn.sigmoid(np.add(np.matmul(h, p[i]![0].T), p[i]![1]));
  return np.matmul(h, p[p.length - 1]![0].T);
};

function abortError(signal: AbortSignal): Error {
  const e = new Error('the paper experiment was aborted', { cause: signal.reason });
  e.name = 'AbortError';
  return e;
}
const yieldToEventLoop = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

function accuracyOf(pred: Tensor, y: Int32Array): number {
  const p = pred.argmax(1).data() as ArrayLike<number>;
  let hits = 0;
  for (let i = 0; i < y.length; i++) if (p[i] === y[i]) hits++;
  return (100 * hits) / y.length;
}

/**
 * Run the paper's experiment: every benchmark x budget x seed x method (see the module comment). Each cell
 * (benchmark x budget x seed) is independent of the others: `options.onCell` receives every finished one, and
 * `options.done` skips cells already finished, so an interrupted run resumes with the same final numbers.
 * @example
 * const r = await runPaperExperiment({ seeds: 3, budgets: [500, 2000] });
 * r.rows.find((x) => x.method === 'cross-stitch-unit' && x.benchmark === 'multi')?.deltaM.mean;
 */
export async function runPaperExperiment(config: Partial<PaperConfig> = {}, options: PaperRunOptions = {}): Promise<PaperResult> {
  const cfg = resolvePaperConfig(config);
  const { signal, onProgress } = options;
  const progressEvery = options.progressEvery ?? 25;
  const check = (): void => {
    if (signal?.aborted) throw abortError(signal);
  };
  check();
  const cellId = (benchmark: PaperBenchmark, budget: number | 'all', seed: number): string => `${benchmark}|${budget}|${seed}`;
  const restored = new Map<string, PaperCell>();
  for (const value of options.done ?? []) {
    const c = checkPaperCell(value, cfg);
    const id = cellId(c.benchmark, c.budget, c.seed);
    if (restored.has(id)) throw new Error(`paper experiment: cell ${c.benchmark}, budget ${c.budget}, seed ${c.seed} was given twice`);
    restored.set(id, c);
  }
  const now = (): number => performance.now() / 1000;
  const t0 = now();
  const timings: Record<string, number> = {};
  let data = options.data;
  if (!data && restored.size < cfg.benchmarks.length * cfg.budgets.length * cfg.seeds) {
    const o = options.dataDir === undefined ? {} : { dataDir: options.dataDir };
    const [mnist, fashion] = (await loadDatasets(['mnist', 'fashion-mnist'], o)) as [Dataset, Dataset];
    data = { mnist, fashion };
  }
  timings.data = now() - t0;
  const sizes = [784, cfg.hidden[0], cfg.hidden[1], CLASSES];
  const methods = methodsOf(cfg);
  const cellConfig = paperCellConfig(cfg);
  const perCell = 2 + methods.filter((m) => m !== 'single-task').length + (methods.includes('single-task-long') ? 1 : 0);
  const totalCells = cfg.benchmarks.length * cfg.budgets.length * cfg.seeds;
  const runs = (totalCells - restored.size) * perCell;
  let run = 0;
  // seed k's key: fold_in(key(seed), k), independent of how many seeds run
  const seedKeys = Array.from({ length: cfg.seeds }, (_, k) => random.foldIn(random.key(cfg.seed), k));
  const cells: PaperCell[] = []; // every cell of the grid, restored or trained, in grid order

  const train = async (spec: Spec, d: TaskData, key: Tensor, ctx: { benchmark: PaperBenchmark; budget: number | 'all'; seed: number }): Promise<Record<string, unknown>> => {
    run++;
    const bs = Math.min(cfg.batchSize, d.count);
    const perEpoch = Math.floor(d.count / bs);
    const steps = perEpoch * spec.epochs;
    const scale = spec.lossScale ?? 1;
    const lossFn = (tr: Record<string, unknown>, fr: unknown, x: Tensor, tA: Tensor, tB: Tensor, mA: Tensor, mB: Tensor): Tensor =>
      np.multiply(twoTaskLoss(spec.heads(tr, fr, x), { x, tA, tB, mA, mB }, cfg.taskWeights), scale);
    const step = jit(valueAndGrad(lossFn));
    const groups = Object.keys(spec.trainable);
    const opts = Object.fromEntries(groups.map((g) => [g, spec.optimizer === 'adam' ? adam(spec.lrs[g]!) : sgd(spec.lrs[g]!)]));
    const states: Record<string, unknown> = Object.fromEntries(groups.map((g) => [g, opts[g]!.init(spec.trainable[g] as never)]));
    let params = { ...spec.trainable };
    const epochKeys = spec.epochs > 0 ? random.splitKeys(key, spec.epochs) : [];
    const event = (s: number, loss: number): void => onProgress?.({ ...ctx, what: spec.what, run, runs, step: s, steps, loss });
    event(0, NaN);
    let s = 0;
    let since = 0;
    let sinceN = 0;
    for (let e = 0; e < spec.epochs; e++) {
      const perm = permutationFromKey(epochKeys[e]!, d.count);
      for (let b = 0; b < perEpoch; b++) {
        await yieldToEventLoop();
        check();
        const batch = toBatch(subset(d, perm.subarray(b * bs, (b + 1) * bs)));
        const [loss, grads] = step(params, spec.frozen, batch.x, batch.tA, batch.tB, batch.mA, batch.mB) as [Tensor, Record<string, unknown>];
        const next: Record<string, unknown> = {};
        for (const g of groups) {
          const [updates, st] = opts[g]!.update(grads[g] as never, states[g] as never);
          states[g] = st;
          next[g] = applyUpdates(params[g] as never, updates);
        }
        params = next;
        since += loss.item() as number;
        sinceN++;
        s++;
        if (s % progressEvery === 0 || s === steps) {
          event(s, since / sinceN);
          since = sinceN = 0;
        }
      }
    }
    return params;
  };

  /** Train and evaluate every method of one cell. */
  const runCell = async (bench: Bench, pool: Int32Array, kBudgetRoot: Tensor, benchmark: PaperBenchmark, budget: number | 'all', si: number, n: number): Promise<PaperCell> => {
    const tCell = now();
    const d = bench.take(pool, n);
    const ctx = { benchmark, budget, seed: si };
    const accuracies: Partial<Record<PaperMethod, PaperAccuracy>> = {};
    const alphas: PaperAlphas[] = [];
    const seconds: Record<string, number> = {};
    let tMethod = now();
    const record = (method: PaperMethod, acc: PaperAccuracy): void => {
      accuracies[method] = acc;
      seconds[method] = now() - tMethod;
      tMethod = now();
    };
    const [kA, kB, kH1, kH2, kTA, kTB, kTH, kTN, kTL, kTU] = random.splitKeys(random.foldIn(kBudgetRoot, n), 10);
    const evalHeads = (heads: HeadsFn, tr: unknown, fr: unknown): PaperAccuracy => {
      const f = jit((t: unknown, q: unknown, x: Tensor) => heads(t, q, x));
      const [la] = f(tr, fr, bench.testA.x) as [Tensor, Tensor];
      const [, lb] = f(tr, fr, bench.testB.x) as [Tensor, Tensor];
      return { accA: accuracyOf(la, bench.testA.y), accB: accuracyOf(lb, bench.testB.y) };
    };
    // single-task nets: tower A on the examples with an A label, tower B on those with a B label
    const single = (t: 'A' | 'B', kInit: Tensor, kTrain: Tensor) =>
      train(
        {
          what: `single-task ${t}`,
          trainable: { w: initMlp(kInit, sizes) },
          frozen: [],
          heads: (tr, _f, x) => {
            const l = mlpLogits(tr.w, x);
            return [l, l];
          },
          lrs: { w: cfg.lr },
          optimizer: cfg.optimizer,
          epochs: cfg.epochs,
        },
        maskTo(onlyTask(d, t), t),
        kTrain,
        ctx,
      );
    const pA = (await single('A', kA!, kTA!)).w as MlpParams;
    const pB = (await single('B', kB!, kTB!)).w as MlpParams;
    const evalSingle = (a: MlpParams, b: MlpParams): PaperAccuracy => ({ accA: evalHeads((t, _f, x) => [mlpLogits(t, x), mlpLogits(t, x)], a, []).accA, accB: evalHeads((t, _f, x) => [mlpLogits(t, x), mlpLogits(t, x)], b, []).accB });
    record('single-task', evalSingle(pA, pB));
    if (methods.includes('single-task-long')) {
      const more = async (t: 'A' | 'B', p: MlpParams, k: Tensor): Promise<MlpParams> =>
        (await train({ what: `single-task-long ${t}`, trainable: { w: p }, frozen: [], heads: (tr, _f, x) => { const l = mlpLogits(tr.w, x); return [l, l]; }, lrs: { w: cfg.lr }, optimizer: cfg.optimizer, epochs: cfg.stitchEpochs }, maskTo(onlyTask(d, t), t), k, ctx)).w as MlpParams;
      const [kLA, kLB] = random.splitKeys(random.foldIn(kTA!, 1), 2);
      record('single-task-long', evalSingle(await more('A', pA, kLA!), await more('B', pB, kLB!)));
    }
    if (methods.includes('hard-sharing')) {
      const h1 = initMlp(kH1!, sizes);
      const h2 = initMlp(kH2!, sizes);
      const init: HardShareParams = { trunk: h1.slice(0, -1), heads: [h1[h1.length - 1]![0], h2[h2.length - 1]![0]] };
      const heads: HeadsFn = (tr, _f, x) => hardShareLogits(tr.w, x);
      const p = await train({ what: 'hard-sharing', trainable: { w: init }, frozen: [], heads, lrs: { w: cfg.lr }, optimizer: cfg.optimizer, epochs: cfg.epochs + cfg.stitchEpochs }, d, kTH!, ctx);
      record('hard-sharing', evalHeads(heads, p, []));
    }
    if (methods.includes('notebook-stitch')) {
      const heads: HeadsFn = (tr, fr, x) => {
        const net = composeParameters(fr[0], fr[1], tr.alpha as AlphaParams);
        const l = mlpLogits(net, x);
        return [l, l];
      };
      const p = await train(
        { what: 'notebook-stitch', trainable: { alpha: zeroAlpha(cfg.hidden) }, frozen: [pA, pB], heads, lrs: { alpha: cfg.notebookLr }, optimizer: 'sgd', epochs: cfg.stitchEpochs, lossScale: Math.min(cfg.batchSize, d.count) },
        d,
        kTN!,
        ctx,
      );
      record('notebook-stitch', evalHeads(heads, p, [pA, pB]));
    }
    // cross-stitch-diag trains on the same minibatch order as cross-stitch-layer (key kTL): a paired ablation
    for (const [method, mode, k] of [['cross-stitch-layer', 'layer', kTL], ['cross-stitch-unit', 'unit', kTU], ['cross-stitch-diag', 'diag', kTL]] as const) {
      if (!methods.includes(method)) continue;
      const diag = mode === 'diag';
      const net = initCrossStitch(pA, pB, diag ? 'layer' : mode, cfg.alphaInit);
      // the diagonal-only ablation learns alpha's diagonal [2, 1] per layer; its alpha is [[dA, 0], [0, dB]]
      const alpha0 = diag ? initDiagonalAlpha(cfg.hidden, 'layer', cfg.alphaInit[0]) : net.alpha;
      const toAlpha = (a: Tensor[]): Tensor[] => (diag ? a.map(diagonalAlpha) : a);
      const all = cfg.train === 'all';
      const heads: HeadsFn = all ? (tr, _f, x) => crossStitchLogits({ a: tr.a, b: tr.b, alpha: toAlpha(tr.alpha) }, x) : (tr, fr, x) => crossStitchLogits({ a: fr.a, b: fr.b, alpha: toAlpha(tr.alpha) }, x);
      const trainable = all ? { a: net.a, b: net.b, alpha: alpha0 } : { alpha: alpha0 };
      const frozen = all ? [] : { a: net.a, b: net.b };
      const lrs = { a: cfg.lr, b: cfg.lr, alpha: cfg.lr * cfg.alphaLrScale };
      const p = await train({ what: method, trainable, frozen, heads, lrs, optimizer: cfg.optimizer, epochs: cfg.stitchEpochs }, d, k!, ctx);
      record(method, evalHeads(heads, p, frozen));
      alphas.push({ benchmark, budget, method, seed: si, layers: toAlpha(p.alpha as Tensor[]).map((a) => a.toArray() as number[][][]) });
    }
    seconds.total = now() - tCell;
    return { format: PAPER_CELL_FORMAT, benchmark, budget, seed: si, examples: n, config: cellConfig, accuracies, alphas, seconds };
  };

  let restoredSeconds = 0;
  for (const benchmark of cfg.benchmarks) {
    const tb = now();
    let restoredHere = 0;
    const poolSize = data ? poolSizeOf(benchmark, data) : undefined;
    let bench: Bench | undefined;
    for (let si = 0; si < cfg.seeds; si++) {
      // Keys depend on the seed, the benchmark's name and the budget, not on what else the run holds, so a cell
      // gives the same numbers in a smaller grid, and a resumed run the same numbers as an uninterrupted one.
      const [kPool, kBudgetRoot] = random.splitKeys(random.foldIn(seedKeys[si]!, PAPER_BENCHMARKS.indexOf(benchmark)), 2);
      let pool: Int32Array | undefined;
      for (const budget of cfg.budgets) {
        check();
        const prev = restored.get(cellId(benchmark, budget, si));
        if (prev) {
          const n = poolSize === undefined ? prev.examples : budget === 'all' ? poolSize : Math.min(budget, poolSize);
          if (prev.examples !== n) throw new Error(`paper experiment: restored cell ${benchmark}, budget ${budget}, seed ${si} used ${prev.examples} training examples, but this data gives ${n}: not the same data`);
          cells.push(prev);
          restoredHere += prev.seconds.total ?? 0;
          continue;
        }
        bench ??= buildBench(benchmark, data!, cfg.testExamples);
        pool ??= permutationFromKey(kPool!, bench.poolSize);
        const n = budget === 'all' ? bench.poolSize : Math.min(budget, bench.poolSize);
        const cell = await runCell(bench, pool, kBudgetRoot!, benchmark, budget, si, n);
        cells.push(cell);
        await options.onCell?.(cell);
      }
    }
    timings[benchmark] = now() - tb + restoredHere;
    restoredSeconds += restoredHere;
  }

  const rows: PaperRow[] = [];
  for (const benchmark of cfg.benchmarks) {
    for (const budget of cfg.budgets) {
      const here = cells.filter((c) => c.benchmark === benchmark && c.budget === budget).sort((a, b) => a.seed - b.seed);
      for (const method of methods) {
        const accs = here.map((c) => c.accuracies[method]!);
        const dm = accs.map((a, s) => deltaM([a.accA, a.accB], [here[s]!.accuracies['single-task']!.accA, here[s]!.accuracies['single-task']!.accB]));
        const accA = accs.map((a) => a.accA);
        const accB = accs.map((a) => a.accB);
        rows.push({ benchmark, budget, examples: here[0]!.examples, method, accA: meanStd(accA), accB: meanStd(accB), deltaM: meanStd(dm), perSeed: { accA, accB, deltaM: dm } });
      }
    }
  }
  timings.restored = restoredSeconds;
  timings.total = now() - t0 + restoredSeconds;
  return { config: cfg, rows, alphas: cells.flatMap((c) => c.alphas), timings, restoredCells: restored.size, totalCells };
}

/** Single-task training data: only task t's labels (the mask of the other task zeroed, its head unused). */
function maskTo(d: TaskData, t: 'A' | 'B'): TaskData {
  // A single-task net's logits feed both heads in the loss; keep only its own task's term. Its labels go to
  // the head of its task (A for MNIST, B for Fashion), so the loss is exactly that net's NLL.
  return { ...d, mA: t === 'A' ? d.mA : new Float32Array(d.count), mB: t === 'B' ? d.mB : new Float32Array(d.count) };
}

