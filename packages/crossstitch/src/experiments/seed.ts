/**
 * The seed notebook's experiment, step by step: train a 784-60-20-10 sigmoid MLP on MNIST and another on
 * Fashion-MNIST (plain SGD on the SUM of per-example gradients), stitch them into one 784-120-40-10 net with
 * two zero `alpha` blocks, train only `alpha` on 2000 shuffled examples of the combined training sets, and
 * test every net on both test sets.
 */
import { MessageChannel } from 'node:worker_threads';
import { type JittedFunction, type Tensor, jit, tree, valueAndGrad, vmap } from '@xs/tensor';
import { type Dataset, type Split, loadDatasets, loadJob } from '../datasets/load.js';
import { type DataOptions, resolveDataset } from '../datasets/resolve.js';
import { permutationFromKey, sliceSplit, takeShuffled } from '../datasets/batching.js';
import { confusionMatrix, perClassAccuracy } from '../metrics.js';
import { type MlpParams, initMlp, nllOne } from '../models/mlp.js';
import { type AlphaParams, composeParameters, zeroAlpha } from '../models/stitch.js';
import { CLASSES, CLASSIFY_BLOCK, type PhaseOutcome, type PhaseSpec, accuracyPercent, borrowedBatch, classify, now, oneHotRows, seedKeys, trainPhase, validator } from './phase.js';
import { NET_PHASES, type NetPhase, type NetWorker, type Predictions, postLayers, startNetWorker, trainNetsInParallel } from './parallel.js';
import { releasePrestartedWorkers } from './prestart.js';
import type { EpochRecord, RunOptions, SeedConfig, SeedData, SeedPhase, SeedResult, TestMetrics } from './types.js';

/** The test accuracies (percent) the seed notebook reports. */
export const NOTEBOOK_RESULTS: SeedResult['notebook'] = Object.freeze({
  mnist: Object.freeze({ alone: 95.72, stitched: 93.77 }),
  fashion: Object.freeze({ alone: 85.58, stitched: 84.34 }),
}) as SeedResult['notebook'];

/**
 * The notebook's configuration, with root seed 0 (the notebook's numpy seeds 1000 / 1002 / 1500 cannot be
 * reproduced with threefry keys; every key here derives from `seed`).
 * @example const cfg = { ...defaultSeedConfig(), seed: 7 };
 */
export function defaultSeedConfig(): SeedConfig {
  return {
    seed: 0,
    lr: 0.01,
    batchSize: 100,
    epochs: { mnist: 5, fashion: 5, stitch: 40 },
    batchesPerEpoch: { mnist: 500, fashion: 600, stitch: 20 },
    stitchSamples: 2000,
    hidden: [60, 20],
    trainExamples: { mnist: 50000, fashion: 60000 },
    validation: { mnist: [50000, 50100], fashion: [30000, 30100], stitch: [30000, 31000] },
  };
}

/** Overrides of {@link SeedConfig}: any field, and any entry of its per-phase records. */
export type SeedConfigInput = {
  [K in keyof SeedConfig]?: SeedConfig[K] extends readonly unknown[] ? SeedConfig[K] : SeedConfig[K] extends object ? Partial<SeedConfig[K]> : SeedConfig[K];
};

/**
 * The full configuration: the defaults with `overrides` applied (per-phase records merged entry by entry),
 * checked for sense.
 * @example resolveSeedConfig({ epochs: { stitch: 10 } }).epochs // { mnist: 5, fashion: 5, stitch: 10 }
 */
export function resolveSeedConfig(overrides: SeedConfigInput = {}): SeedConfig {
  const d = defaultSeedConfig();
  const c: SeedConfig = {
    ...d,
    ...stripUndefined(overrides),
    epochs: { ...d.epochs, ...stripUndefined(overrides.epochs ?? {}) },
    batchesPerEpoch: { ...d.batchesPerEpoch, ...stripUndefined(overrides.batchesPerEpoch ?? {}) },
    trainExamples: { ...d.trainExamples, ...stripUndefined(overrides.trainExamples ?? {}) },
    validation: { ...d.validation, ...stripUndefined(overrides.validation ?? {}) } as SeedConfig['validation'],
    hidden: overrides.hidden ? [overrides.hidden[0], overrides.hidden[1]] : d.hidden,
  };
  const bad = (msg: string): never => {
    throw new RangeError(`seed config: ${msg}`);
  };
  const posInt = (v: unknown): boolean => Number.isInteger(v) && (v as number) > 0;
  const natInt = (v: unknown): boolean => Number.isInteger(v) && (v as number) >= 0;
  if (!Number.isInteger(c.seed)) bad(`seed must be an integer, got ${c.seed}`);
  if (!(Number.isFinite(c.lr) && c.lr > 0)) bad(`lr must be a positive number, got ${c.lr}`);
  if (!posInt(c.batchSize)) bad(`batchSize must be a positive integer, got ${c.batchSize}`);
  for (const p of PHASES) {
    if (!natInt(c.epochs[p])) bad(`epochs.${p} must be a non-negative integer, got ${c.epochs[p]}`);
    if (!natInt(c.batchesPerEpoch[p])) bad(`batchesPerEpoch.${p} must be a non-negative integer, got ${c.batchesPerEpoch[p]}`);
    const v = c.validation[p];
    if (!Array.isArray(v) || v.length !== 2 || !natInt(v[0]) || !natInt(v[1]) || v[0] >= v[1]) bad(`validation.${p} must be [start, end) with 0 <= start < end, got ${JSON.stringify(v)}`);
  }
  if (!c.hidden.every(posInt)) bad(`hidden must be two positive integers, got ${JSON.stringify(c.hidden)}`);
  for (const [name, limit] of [['trainExamples.mnist', c.trainExamples.mnist], ['trainExamples.fashion', c.trainExamples.fashion], ['stitchSamples', c.stitchSamples]] as const) {
    if (!posInt(limit)) bad(`${name} must be a positive integer, got ${limit}`);
    if (limit < c.batchSize) bad(`${name} (${limit}) is smaller than one batch (${c.batchSize})`);
  }
  return c;
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

const PHASES: readonly SeedPhase[] = ['mnist', 'fashion', 'stitch'];

/**
 * The notebook's training step for one net, compiled: per-example gradients of {@link nllOne} with
 * `vmap(valueAndGrad(nllOne), { inAxes: [null, 0, 0] })`, summed over the batch, and the SGD update
 * `p - lr * Σ g`, all inside ONE `jit` (so the summed per-example outer products become matmuls). Returns
 * `[newParams, meanLoss]`, the loss being the batch's mean NLL at the parameters before the update.
 * With `{ donate: true }` the params are donated (jit's `donateArgnums`): the new ones are written into their
 * buffers and the old arrays may not be used after the call, which saves allocating them at every step.
 * @example
 * const step = makeTrainStep(0.01, { donate: true });
 * [params, loss] = step(params, x, t); // x [100, 784], t one-hot [100, 10]
 * console.log(step.lower(params, x, t).toString()); // the optimised program
 */
export function makeTrainStep(lr: number, options: StepOptions = {}): JittedFunction {
  const perExample = vmap(valueAndGrad(nllOne), { inAxes: [null, 0, 0] });
  const step = (params: MlpParams, x: Tensor, t: Tensor): [MlpParams, Tensor] => {
    const [losses, grads] = perExample(params, x, t) as [Tensor, MlpParams];
    const next = tree.map((p: Tensor, g: Tensor) => p.sub(g.sum(0).mul(lr)), params as never, grads as never) as MlpParams;
    return [next, losses.mean()];
  };
  return jit(step, options.donate ? { donateArgnums: [0] } : {});
}

/** Options of {@link makeTrainStep} and {@link makeStitchStep}. */
export interface StepOptions {
  /** Donate the trained parameters to the step (default false): see {@link makeTrainStep}. */
  donate?: boolean;
}

/**
 * The stitched net's loss for one example, as the notebook's `NLL_loss_alpha`.
 * @example
 * const dAlpha = grad(nllStitchOne, { argnums: 2 })(p1, p2, zeroAlpha(), x0, t0);
 */
export function nllStitchOne(p1: MlpParams, p2: MlpParams, alpha: AlphaParams, x: Tensor, t: Tensor): Tensor {
  return nllOne(composeParameters(p1, p2, alpha), x, t);
}

/**
 * The stitch phase's step, compiled: per-example gradients of {@link nllStitchOne} with respect to `alpha`
 * only (`argnums: 2`), summed over the batch, and `alpha - lr * Σ g`, inside one `jit`. The two nets are
 * inputs but stay fixed. Returns `[newAlpha, meanLoss]`. With `{ donate: true }` alpha (only) is donated, as
 * the params are in {@link makeTrainStep}.
 * @example
 * const step = makeStitchStep(0.01, { donate: true });
 * [alpha, loss] = step(mnistParams, fashionParams, alpha, x, t);
 */
export function makeStitchStep(lr: number, options: StepOptions = {}): JittedFunction {
  const perExample = vmap(valueAndGrad(nllStitchOne, { argnums: 2 }), { inAxes: [null, null, null, 0, 0] });
  const step = (p1: MlpParams, p2: MlpParams, alpha: AlphaParams, x: Tensor, t: Tensor): [AlphaParams, Tensor] => {
    const [losses, grads] = perExample(p1, p2, alpha, x, t) as [Tensor, AlphaParams];
    const next = tree.map((a: Tensor, g: Tensor) => a.sub(g.sum(0).mul(lr)), alpha as never, grads as never) as AlphaParams;
    return [next, losses.mean()];
  };
  return jit(step, options.donate ? { donateArgnums: [2] } : {});
}

/**
 * The stitch phase and the evaluation in the two net workers (`first` and `last` to finish their nets): the
 * first one trains the stitch (it has warmed the stitch step up while the other net finished, see
 * NetWorker.warmStitch, and classified its own test set with its net alone: `firstAlone`); the last validates
 * each epoch's alpha for it (on a port between the two, overlapping the next epoch's steps) and classifies its
 * own test set with its net alone; then each classifies one test set with the stitched net. `afterStitch` runs
 * when alpha is known, while the workers classify. Returns the predictions and the seconds spent after the
 * stitch.
 */
async function stitchInWorkers(
  workers: Record<NetPhase, NetWorker>,
  [first, last]: [NetPhase, NetPhase],
  nets: Record<NetPhase, MlpParams>,
  job: { train: Split; validation: Split; tests: Record<NetPhase, Split>; firstAlone: Promise<Int32Array[]> },
  aborted: Promise<never>,
  afterStitch: (o: PhaseOutcome<AlphaParams>) => Promise<void>,
): Promise<Predictions & { seconds: number }> {
  const { train, validation, tests } = job;
  const channel = new MessageChannel();
  const stitching = workers[first].stitch({ other: postLayers(nets[last]), otherIs: last, train, validation, validator: channel.port1 });
  const serving = workers[last].serveValidation({ other: { is: first, layers: postLayers(nets[first]) }, validation, port: channel.port2 });
  serving.catch(() => {}); // (raced below; it rejects when that worker stops)
  // (one test set here: this worker's other work during the stitch slows the stitch about as much as it takes)
  const lastAlone = workers[last].classify({ tasks: [{ net: last, test: tests[last] }] });
  lastAlone.catch(() => {}); // (awaited below, after the stitch)
  const outcome = await Promise.race([stitching, serving, aborted]);
  const t = now();
  const stitched = Promise.all([
    workers[first].classify({ tasks: [{ net: 'stitched', test: tests.mnist }] }),
    workers[last].classify({ alpha: postLayers(outcome.params), tasks: [{ net: 'stitched', test: tests.fashion }] }),
  ]);
  stitched.catch(() => {});
  await afterStitch(outcome);
  const [[firstPredicted], [lastPredicted], [[mnistStitched], [fashionStitched]]] = await Promise.race([Promise.all([job.firstAlone, lastAlone, stitched]), aborted]);
  const alone = { [first]: firstPredicted!, [last]: lastPredicted! } as Record<NetPhase, Int32Array>;
  return { mnist: { alone: alone.mnist, stitched: mnistStitched! }, fashion: { alone: alone.fashion, stitched: fashionStitched! }, seconds: now() - t };
}

/**
 * The stitch phase (phase 3) for {@link trainPhase}: train `alpha` with {@link makeStitchStep} on `train`
 * (the shuffled combined samples), validating the stitched net on `validation`; the nets stay fixed. Used
 * in-process and by a worker thread alike.
 * @internal
 */
export function stitchPhaseSpec(
  cfg: SeedConfig,
  pMnist: MlpParams,
  pFashion: MlpParams,
  train: Split,
  validation: Split,
  stitchStep: JittedFunction = makeStitchStep(cfg.lr, { donate: true }),
): Omit<PhaseSpec<AlphaParams>, 'cfg' | 'onProgress' | 'progressEvery' | 'checkAborted'> {
  const validate = validator(validation, [0, validation.count]);
  return {
    phase: 'stitch',
    train,
    limit: cfg.stitchSamples,
    init: zeroAlpha(cfg.hidden),
    step: (a, x, t) => stitchStep(pMnist, pFashion, a, x, t) as [AlphaParams, Tensor],
    validate: (a) => validate(composeParameters(pMnist, pFashion, a)),
  };
}

/**
 * Run `stitchStep` (a {@link makeStitchStep}) up to `steps` times on the first batches of `train`, with `net`
 * standing in for both nets and a zero alpha, and throw the results away: its program gets compiled and the
 * engine's code paths for it optimised (the first few hundred steps of a new program run up to twice as slow),
 * so the real stitch phase, with the same jitted function, starts at full speed. Then it classifies a block of
 * `train` with the stitched stand-in (compiling that forward pass for the test sets, classified after the
 * stitch). Yields between steps and stops as soon as `stop()` says so. Resolves to the steps run.
 * @internal
 */
export async function warmUpStitchStep(stitchStep: JittedFunction, cfg: SeedConfig, net: MlpParams, train: Split, steps: number, stop: () => boolean): Promise<number> {
  const b = cfg.batchSize;
  const batches = Math.floor(Math.min(train.count, cfg.stitchSamples) / b);
  if (batches === 0) return 0;
  const targets = oneHotRows(train.labels.subarray(0, batches * b), CLASSES);
  let alpha = zeroAlpha(cfg.hidden);
  let done = 0;
  for (; done < steps && !stop(); done++) {
    const [x, t] = borrowedBatch(train, targets, (done % batches) * b, b);
    const [next, loss] = stitchStep(net, net, alpha, x, t) as [AlphaParams, Tensor];
    loss.item();
    alpha = next;
    await new Promise((resolve) => setImmediate(resolve)); // (lets the stitch job through)
  }
  // The stitched net's forward pass too, on a block of the size the test sets are classified in, so that this
  // worker's classification of a test set after the stitch does not wait for its compilation.
  if (!stop()) classify(composeParameters(net, net, alpha), sliceSplit(train, 0, Math.min(train.count, CLASSIFY_BLOCK)));
  return done;
}

/** Predicted classes of each net alone and of their stitch (with `alpha`) on both test sets. */
function predictTests(pMnist: MlpParams, pFashion: MlpParams, alpha: AlphaParams, tests: Record<NetPhase, Split>): Predictions {
  const stitched = composeParameters(pMnist, pFashion, alpha);
  return {
    mnist: { alone: classify(pMnist, tests.mnist), stitched: classify(stitched, tests.mnist) },
    fashion: { alone: classify(pFashion, tests.fashion), stitched: classify(stitched, tests.fashion) },
  };
}

function testMetrics(pred: Int32Array, labels: Int32Array): TestMetrics {
  return {
    accuracy: accuracyPercent(pred, labels),
    perClassAccuracy: perClassAccuracy(pred, labels, CLASSES).map((a) => 100 * a),
    confusion: confusionMatrix(pred, labels, CLASSES),
  };
}

function abortError(signal: AbortSignal): Error {
  const e = new Error('the seed experiment was aborted', { cause: signal.reason });
  e.name = 'AbortError';
  return e;
}

/** Shapes of one net's params, for checking resumed ones. */
function checkNet(params: unknown, sizes: readonly number[], what: string): MlpParams {
  const p = params as MlpParams;
  const ok =
    Array.isArray(p) &&
    p.length === sizes.length - 1 &&
    p.every((l, i) => Array.isArray(l) && l.length === 2 && l[0]?.shape?.join() === `${sizes[i + 1]},${sizes[i]}` && l[1]?.shape?.join() === `${sizes[i + 1]}`);
  if (!ok) throw new RangeError(`resume.${what}: expected [[W0 ${sizes[1]}x${sizes[0]}, b0], ...] for sizes [${sizes.join(', ')}]`);
  return p;
}

function checkAlpha(alpha: unknown, hidden: readonly [number, number]): AlphaParams {
  const a = alpha as AlphaParams;
  const want = `${hidden[1]},${hidden[0]}`;
  if (!(Array.isArray(a) && a.length === 1 && Array.isArray(a[0]) && a[0].length === 2 && a[0].every((t) => t?.shape?.join() === want))) {
    throw new RangeError(`resume.alpha: expected [[a1 ${hidden[1]}x${hidden[0]}, a2 ${hidden[1]}x${hidden[0]}]]`);
  }
  return a;
}

/**
 * Run the seed notebook's experiment. Phases: load data; train the MNIST net; train the Fashion-MNIST net;
 * stitch them and train alpha; evaluate all nets on both test sets. Deterministic: the same config (seed
 * included) gives the same result.
 *
 * - `options.onProgress` gets an event every `progressEvery` (25) steps and at each epoch's end;
 * - `options.onPhaseDone` is awaited after each trained phase with the parameters so far (for checkpoints);
 * - `options.resume` skips the phases whose parameters it gives (`alpha` needs both nets);
 * - `options.signal` stops at the next step: the promise rejects with an Error named `'AbortError'`;
 * - `options.data` supplies the datasets; else they are loaded (see `options.dataOptions`, `options.dataDir`),
 *   by the two net workers themselves when the nets train side by side;
 * - `options.onData` is awaited with the loaded data before it is checked and before any training.
 *
 * @example
 * const result = await runSeedExperiment({}, { onProgress: (e) => console.log(e.phase, e.step, e.loss) });
 * result.results.mnist.alone.accuracy;    // ~96 (notebook 95.72)
 * result.results.fashion.stitched.accuracy; // ~84 (notebook 84.34)
 * @example
 * // a quick run
 * await runSeedExperiment({ epochs: { mnist: 1, fashion: 1, stitch: 5 } });
 */
export async function runSeedExperiment(config: SeedConfigInput = {}, options: RunOptions = {}): Promise<SeedResult> {
  const cfg = resolveSeedConfig(config);
  const { signal, onProgress, onPhaseDone, resume = {} } = options;
  const progressEvery = options.progressEvery ?? 25;
  if (!Number.isInteger(progressEvery) || progressEvery <= 0) throw new RangeError(`progressEvery must be a positive integer, got ${progressEvery}`);
  const sizes = netSizes(cfg);
  const checkAborted = (): void => {
    if (signal?.aborted) throw abortError(signal);
  };
  checkAborted();

  const timings: Record<string, number> = {};
  const t0 = now();

  // Resumed phases (checked before any work).
  const done: Partial<SeedResult['params']> = {};
  if (resume.mnist) done.mnist = checkNet(resume.mnist, sizes, 'mnist');
  if (resume.fashion) done.fashion = checkNet(resume.fashion, sizes, 'fashion');
  if (resume.alpha) {
    if (!done.mnist || !done.fashion) throw new RangeError('resume.alpha needs resume.mnist and resume.fashion too: alpha is only meaningful with the nets it was trained with');
    done.alpha = checkAlpha(resume.alpha, cfg.hidden);
  }
  const resumed: SeedPhase[] = [];
  if (done.mnist) resumed.push('mnist');
  if (done.fashion) resumed.push('fashion');
  if (done.alpha) resumed.push('stitch');

  // Data. When the nets train side by side, each worker loads its own dataset (one thread fewer to start on
  // the way to the first step) and waits for the go-ahead, given once onData is done and the data checked.
  const parallel = trainNetsInParallel(cfg, options.parallel ?? 'auto', !done.mnist && !done.fashion);
  if (!parallel) releasePrestartedWorkers(); // (net workers a caller started ahead, now not needed)
  // Keys: one per random thing, all from the root seed.
  const keys = seedKeys(cfg.seed);
  let workers: [NetPhase, NetWorker][] | undefined;
  const stopWorkers = async (): Promise<void> => {
    releasePrestartedWorkers();
    await Promise.all((workers ?? []).map(([, w]) => w.stop()));
  };
  let data: { mnist: SeedData; fashion: SeedData };
  try {
    if (options.data) data = options.data;
    else {
      const dataOpts: DataOptions = { ...options.dataOptions, ...(options.dataDir === undefined ? {} : { dataDir: options.dataDir }) };
      if (parallel) {
        const where = [await resolveDataset('mnist', dataOpts), await resolveDataset('fashion-mnist', dataOpts)];
        workers = NET_PHASES.map((p, i) => [p, startNetWorker(p, cfg, { load: loadJob(where[i]!, dataOpts) }, progressEvery, onProgress)]);
        const [mnist, fashion] = await Promise.all(workers.map(([, w]) => w.dataset!));
        data = { mnist: mnist!, fashion: fashion! };
      } else {
        const [mnist, fashion] = (await loadDatasets(['mnist', 'fashion-mnist'], dataOpts)) as [Dataset, Dataset];
        data = { mnist, fashion };
      }
    }
    timings.data = now() - t0;
    await options.onData?.(data, timings.data); // (first: a runner may check the data its own way)
    checkData(data, cfg);
    checkAborted();
  } catch (err) {
    await stopWorkers();
    throw err;
  }

  const curves: EpochRecord[] = [];
  const stepsPerSecond: Partial<Record<SeedPhase, number>> = {};
  const record = <P>(phase: SeedPhase, o: PhaseOutcome<P>): P => {
    curves.push(...o.curves);
    timings[phase] = o.seconds;
    if (o.steps > 0) stepsPerSecond[phase] = o.steps / o.seconds;
    return o.params;
  };
  const runPhase = async <P>(spec: Omit<PhaseSpec<P>, 'cfg' | 'onProgress' | 'progressEvery' | 'checkAborted'>): Promise<P> =>
    record(spec.phase, await trainPhase({ ...spec, cfg, onProgress, progressEvery, checkAborted }));
  // The stitch's training examples: the first of the shuffled combined training sets.
  const stitchSamples = (): Split => {
    const tShuffle = now();
    const perm = permutationFromKey(keys.shuffle, data.mnist.train.count + data.fashion.train.count);
    const samples = takeShuffled([data.mnist.train, data.fashion.train], perm, cfg.stitchSamples);
    timings.shuffle = now() - tShuffle;
    return samples;
  };
  const stitchValidation = (): Split => sliceSplit(data.fashion.train, ...cfg.validation.stitch);
  const netSpec = (phase: NetPhase): Omit<PhaseSpec<MlpParams>, 'cfg' | 'onProgress' | 'progressEvery' | 'checkAborted'> => ({
    phase,
    train: data[phase].train,
    limit: cfg.trainExamples[phase],
    init: initialNet(cfg, phase), // (the net workers, side by side, draw their own)
    step: makeTrainStep(cfg.lr, { donate: true }) as PhaseSpec<MlpParams>['step'],
    validate: validator(data[phase].train, cfg.validation[phase]),
  });

  let predicted: Predictions | undefined; // the test sets' predictions, when a worker made them
  if (parallel) {
    // Phases 1 and 2 side by side, one worker thread each; checkpoints in the order they finish.
    const tNets = now();
    const examples = (p: NetPhase): number => Math.max(cfg.trainExamples[p], cfg.validation[p][1]);
    const netWorkers = (workers ??= NET_PHASES.map((p) => [p, startNetWorker(p, cfg, { train: data[p].train, examples: examples(p) }, progressEvery, onProgress)]));
    for (const [, w] of netWorkers) w.train(); // (each draws its net's initial parameters: initialNet)
    const outcomes: Partial<Record<NetPhase, PhaseOutcome<MlpParams>>> = {};
    let onAbort: (() => void) | undefined;
    const aborted = new Promise<never>((_, reject) => {
      onAbort = () => reject(abortError(signal!));
      signal?.addEventListener('abort', onAbort, { once: true });
    });
    aborted.catch(() => {}); // only the race below reads it
    const finished: NetPhase[] = [];
    let stitchTrain: Split | undefined;
    let firstAlone: Promise<Int32Array[]> | undefined; // the first net's test set, classified while the other trains
    // The last net's onPhaseDone (a runner's checkpoint) runs once the stitch has been handed to the workers,
    // off the way to its first step; it is awaited before the stitch's own.
    let lastNetDone: Promise<void> = Promise.resolve();
    try {
      const finish = async ([phase, w]: [NetPhase, NetWorker]): Promise<void> => {
        outcomes[phase] = await w.outcome;
        finished.push(phase);
        done[phase] = outcomes[phase].params;
        // While the other net still trains, on the core this one has freed: the stitch's samples are drawn, and
        // this worker, which will train the stitch, warms its step up on them.
        if (finished.length === 1 && !done.alpha) {
          stitchTrain = stitchSamples();
          w.warmStitch({ train: stitchTrain, steps: STITCH_WARM_UP_STEPS });
          firstAlone = w.classify({ tasks: [{ net: phase, test: data[phase].test }] });
          firstAlone.catch(() => {}); // (awaited after the stitch)
        }
        const params = { ...done };
        if (finished.length === 2 && !done.alpha) {
          lastNetDone = new Promise<void>((resolve) => setImmediate(resolve)).then(() => onPhaseDone?.(phase, params));
          lastNetDone.catch(() => {}); // (awaited below)
        } else await onPhaseDone?.(phase, params);
      };
      await Promise.race([Promise.all(netWorkers.map(finish)), aborted]);
      for (const p of NET_PHASES) record(p, outcomes[p]!);
      timings.netsInParallel = now() - tNets;
      if (!done.alpha) {
        // Phase 3 and the evaluation in the two workers, whose code is warm (same numbers as in-process).
        checkAborted();
        const [first, last] = finished as [NetPhase, NetPhase];
        const worker = (p: NetPhase): NetWorker => netWorkers.find(([q]) => q === p)![1];
        const tests = { mnist: data.mnist.test, fashion: data.fashion.test };
        // (both set when the first net finished, alpha not being resumed)
        const job = { train: stitchTrain!, validation: stitchValidation(), tests, firstAlone: firstAlone! };
        // (a failed checkpoint of the last net stops the stitch as an abort does)
        const stopped = Promise.race([aborted, lastNetDone.then(() => new Promise<never>(() => {}))]);
        stopped.catch(() => {});
        const { seconds, ...predictions } = await stitchInWorkers(
          { [first]: worker(first), [last]: worker(last) } as Record<NetPhase, NetWorker>,
          [first, last],
          done as Record<NetPhase, MlpParams>,
          job,
          stopped,
          async (o) => {
            done.alpha = record('stitch', o);
            await lastNetDone;
            await onPhaseDone?.('stitch', { ...done });
          },
        );
        predicted = predictions;
        timings.evaluation = seconds;
      }
    } finally {
      if (onAbort) signal?.removeEventListener('abort', onAbort);
      await stopWorkers();
    }
  } else {
    // Phase 1: MNIST net.
    if (!done.mnist) {
      done.mnist = await runPhase(netSpec('mnist'));
      await onPhaseDone?.('mnist', { ...done });
    }
    // Phase 2: Fashion-MNIST net.
    if (!done.fashion) {
      checkAborted();
      done.fashion = await runPhase(netSpec('fashion'));
      await onPhaseDone?.('fashion', { ...done });
    }
  }
  const pMnist = done.mnist!;
  const pFashion = done.fashion!;
  // Phase 3: stitch, training only alpha on the first samples of the shuffled combined training sets.
  if (!done.alpha) {
    checkAborted();
    const stitchTrain = stitchSamples();
    done.alpha = await runPhase(stitchPhaseSpec(cfg, pMnist, pFashion, stitchTrain, stitchValidation()));
    await onPhaseDone?.('stitch', { ...done });
  }
  checkAborted();

  // Evaluation on both test sets (here, unless the worker that trained the stitch did it).
  const tEval = now();
  const mTest = data.mnist.test;
  const fTest = data.fashion.test;
  const pred = predicted ?? predictTests(pMnist, pFashion, done.alpha, { mnist: mTest, fashion: fTest });
  const [predMnistAlone, predMnistStitched] = [pred.mnist.alone, pred.mnist.stitched];
  const [predFashionAlone, predFashionStitched] = [pred.fashion.alone, pred.fashion.stitched];
  const results: SeedResult['results'] = {
    mnist: { alone: testMetrics(predMnistAlone, mTest.labels), stitched: testMetrics(predMnistStitched, mTest.labels) },
    fashion: { alone: testMetrics(predFashionAlone, fTest.labels), stitched: testMetrics(predFashionStitched, fTest.labels) },
  };
  const samples: SeedResult['samples'] = [];
  for (const [dataset, split, alone, st] of [
    ['mnist', mTest, predMnistAlone, predMnistStitched],
    ['fashion', fTest, predFashionAlone, predFashionStitched],
  ] as const) {
    for (let i = 0; i < Math.min(SAMPLES_PER_DATASET, split.count); i++) {
      samples.push({
        dataset,
        pixels: Array.from(split.images.subarray(i * split.features, (i + 1) * split.features)),
        label: split.labels[i]!,
        predictedAlone: alone[i]!,
        predictedStitched: st[i]!,
      });
    }
  }
  timings.evaluation = (timings.evaluation ?? 0) + now() - tEval;
  timings.total = now() - t0;

  return {
    config: cfg,
    curves,
    results,
    notebook: { mnist: { ...NOTEBOOK_RESULTS.mnist }, fashion: { ...NOTEBOOK_RESULTS.fashion } },
    timings,
    params: { mnist: pMnist, fashion: pFashion, alpha: done.alpha },
    samples,
    stepsPerSecond,
    resumed,
  };
}

/**
 * A net's initial parameters in the seed experiment: `initMlp` with the phase's key from the root seed and the
 * layer sizes 784, `cfg.hidden`, 10. The same wherever it is drawn (a net worker draws its own).
 * @internal
 */
export function initialNet(cfg: SeedConfig, phase: NetPhase): MlpParams {
  return initMlp(seedKeys(cfg.seed)[phase], netSizes(cfg));
}

/** The nets' layer sizes: 784 inputs, the two hidden layers, 10 outputs. */
function netSizes(cfg: SeedConfig): number[] {
  return [784, cfg.hidden[0], cfg.hidden[1], CLASSES];
}

/**
 * Stitch steps a worker runs to warm the step up while the other net finishes (it stops earlier if the stitch
 * is ready first): the stitch step of a fresh program takes about 300 steps to reach its speed (measured: 1.2,
 * 1.1, 1.0 ms in the first hundreds, then 0.63-0.77 ms).
 */
const STITCH_WARM_UP_STEPS = 300;

/** Test images per dataset kept in `SeedResult.samples` (the first ones of each test set): a row of a picture. */
const SAMPLES_PER_DATASET = 8;


/** Every slice the config asks for must exist in the data, checked before any training. */
function checkData(data: { mnist: SeedData; fashion: SeedData }, cfg: SeedConfig): void {
  const need = (what: string, split: Split, end: number): void => {
    if (end > split.count) throw new RangeError(`seed config: ${what} needs ${end} examples but the split has ${split.count}`);
  };
  for (const [name, d] of [['mnist', data.mnist], ['fashion', data.fashion]] as const) {
    for (const s of [d.train, d.test]) {
      if (s.features !== 784) throw new RangeError(`seed data: ${name} has ${s.features} features per example, the nets take 784`);
    }
  }
  need('trainExamples.mnist', data.mnist.train, cfg.trainExamples.mnist);
  need('trainExamples.fashion', data.fashion.train, cfg.trainExamples.fashion);
  need('validation.mnist', data.mnist.train, cfg.validation.mnist[1]);
  need('validation.fashion', data.fashion.train, cfg.validation.fashion[1]);
  need('validation.stitch (of the Fashion-MNIST training split)', data.fashion.train, cfg.validation.stitch[1]);
  const combined = data.mnist.train.count + data.fashion.train.count;
  if (cfg.stitchSamples > combined) throw new RangeError(`seed config: stitchSamples ${cfg.stitchSamples} exceeds the ${combined} combined training examples`);
}
