/**
 * The seed experiment's two nets (MNIST, Fashion-MNIST) are independent until the stitch, so on a machine with
 * two or more cores they train at the same time, each in its own worker thread: the same code, keys and batch
 * order as in-process (bit-identical parameters), about half the wall time. Each worker loads its own dataset
 * and posts it back in shared memory (see `decodeImages`), or reads a given training split there; progress
 * events come back as messages. The workers then stay for the rest: the one that finished first warms the
 * stitch step up while the other finishes, then trains the stitch (its code is already compiled and optimised
 * by the engine, where the main thread's would start cold), and both classify the test sets. A caller may
 * start the workers ahead of their job (prestart.ts), so that they import the library meanwhile.
 */
import { availableParallelism } from 'node:os';
import type { MessagePort } from 'node:worker_threads';
import { type Tensor, defaultBackend, fromTypedArray } from '@xs/tensor';
import { type Dataset, type LoadFailure, type LoadJob, type Split, loadFailureError } from '../datasets/load.js';
import { Requests } from '../util/requests.js';
import { spawnWorker } from '../util/worker.js';
import { takePrestartedWorker } from './prestart.js';
import type { MlpParams } from '../models/mlp.js';
import type { AlphaParams } from '../models/stitch.js';
import type { PhaseOutcome } from './phase.js';
import type { EpochRecord, ProgressEvent, SeedConfig } from './types.js';

/** The two phases that can run side by side. */
export type NetPhase = 'mnist' | 'fashion';
/** Both, in the order the experiment names them. */
export const NET_PHASES: readonly NetPhase[] = ['mnist', 'fashion'];

/** Layers of float32 tensors (a net's params) as a message between threads carries them (copies). */
export type PostedLayers = { shape: number[]; data: Float32Array }[][];
/** Layers in their {@link PostedLayers} form. */
export const postLayers = (layers: readonly (readonly Tensor[])[]): PostedLayers => layers.map((l) => l.map((t) => ({ shape: [...t.shape], data: t.data() as Float32Array })));
/** Tensors from their {@link PostedLayers} form. */
export const unpostLayers = (layers: PostedLayers): Tensor[][] => layers.map((l) => l.map((t) => fromTypedArray(t.data, t.shape, 'float32')));

/** What a worker trains (its `workerData`). */
export interface NetJob {
  phase: NetPhase;
  cfg: SeedConfig;
  /**
   * Its training examples: the first examples of the training split, as many as training and validation read
   * (loaded datasets live in shared memory, which the worker then reads in place; other arrays are copied to
   * it), or a dataset for the worker to load itself (`load`), which it then posts back (NetWorker.dataset).
   */
  data: { images: Float32Array; labels: Int32Array; features: number } | { load: LoadJob };
  progressEvery: number;
}

/** Messages from a worker. */
export type WorkerMessage =
  | { type: 'loaded'; dataset: Dataset }
  | { type: 'load-failed'; failure: LoadFailure }
  | { type: 'progress'; event: ProgressEvent }
  | { type: 'done'; layers: PostedLayers; curves: EpochRecord[]; seconds: number; steps: number }
  | { type: 'error'; message: string; stack: string }
  | { type: 'classified'; id: number; predictions: Int32Array[] }
  | { type: 'classified'; id: number; error: string };

/**
 * The go-ahead to train the net from `init`, its initial parameters: a worker waits for it (after loading its
 * dataset, where it loads one). Without `init` the worker draws the seed experiment's own (`initialNet`): the
 * two workers then draw one net each, at the same time.
 */
export interface TrainJob {
  type: 'train';
  init?: PostedLayers;
}

/** Predicted classes on both test sets, of each net alone and of the stitched net. */
export type Predictions = Record<NetPhase, { alone: Int32Array; stitched: Int32Array }>;

/** Test examples for a worker to classify: with a net ('mnist', 'fashion') or the stitched one. */
export interface ClassifyJob {
  type: 'classify';
  id: number;
  /** The net the worker did not train, if it has not got it yet. */
  other?: { is: NetPhase; layers: PostedLayers };
  /** The stitch's alpha, if the worker did not train it. */
  alpha?: PostedLayers;
  tasks: { net: NetPhase | 'stitched'; test: { images: Float32Array; labels: Int32Array } }[];
}

/** Phases shorter than this many steps run in-process: a worker's start-up (loading and compiling) would not pay. */
const MIN_PARALLEL_STEPS = 200;

/**
 * Whether `runSeedExperiment` trains the two nets in worker threads: `parallel` true/false decides; `'auto'`
 * (the default) says yes when both nets need training, the default backend is the CPU, the machine has at least
 * two cores and each phase is long enough to pay for a worker's start-up. `XS_PARALLEL=0` turns it off.
 */
export function trainNetsInParallel(cfg: SeedConfig, parallel: boolean | 'auto', bothNeeded: boolean): boolean {
  if (!bothNeeded || parallel === false) return false;
  if (parallel === true) return true;
  if (typeof process !== 'undefined' && process.env.XS_PARALLEL === '0') return false;
  const steps = (p: NetPhase): number => cfg.epochs[p] * cfg.batchesPerEpoch[p];
  return defaultBackend() === 'cpu' && availableParallelism() >= 2 && steps('mnist') >= MIN_PARALLEL_STEPS && steps('fashion') >= MIN_PARALLEL_STEPS;
}

/** The stitch phase handed to a warm worker (see {@link NetWorker.stitch}). */
export interface StitchJob {
  type: 'stitch';
  /** The net the worker did not train, and which one it is. */
  other: PostedLayers;
  otherIs: NetPhase;
  /** The stitch's training examples (the shuffled combined samples) and its validation examples. */
  train: { images: Float32Array; labels: Int32Array };
  validation: { images: Float32Array; labels: Int32Array };
  /**
   * Where to send each epoch's alpha for validation instead of validating here: a port to the other worker
   * (see {@link ServeValidationJob}), so that validation overlaps the next epoch's steps on the other core.
   */
  validator?: MessagePort;
}

/** Warm the stitch step up on the stitch's samples (see `warmUpStitchStep`), until the stitch job arrives. */
export interface WarmStitchJob {
  type: 'warm-stitch';
  train: { images: Float32Array; labels: Int32Array };
  steps: number;
}

/** Validate stitched nets for a stitching worker, on a port between the two (the answers come back on it). */
export interface ServeValidationJob {
  type: 'serve-validation';
  /** The net this worker did not train. */
  other: { is: NetPhase; layers: PostedLayers };
  validation: { images: Float32Array; labels: Int32Array };
  port: MessagePort;
}

/** What travels on a validation port: alphas one way, accuracies (or what went wrong) the other. */
export type ValidationRequest = { id: number; alpha: PostedLayers };
export type ValidationAnswer = { id: number; accuracy: number } | { id: number; error: string };

/** A net training in a worker: its outcome, the stitch phase to train next in it, and a way to stop it. */
export interface NetWorker {
  /** The dataset the worker loaded, for a worker started with one to load (else undefined). */
  readonly dataset: Promise<Dataset> | undefined;
  /**
   * Start training the net from `init`, by default the seed experiment's (`initialNet`, drawn in the worker). A
   * worker loading its dataset waits for this; the parent checks the data first.
   */
  train(init?: MlpParams): void;
  /** The trained net; rejects if the worker fails (or is stopped) before, loading included. */
  readonly outcome: Promise<PhaseOutcome<MlpParams>>;
  /**
   * Train the stitch phase in this worker, after its net (whose code paths are then compiled and optimised
   * by the JavaScript engine: the main thread's first few hundred stitch steps would run at half speed).
   */
  stitch(job: Omit<StitchJob, 'type'>): Promise<PhaseOutcome<AlphaParams>>;
  /**
   * Start warming the stitch step up in this worker (once its net is trained, while the other's still trains),
   * so that the stitch, trained here next, starts at full speed. Fire and forget: the stitch job waits for it.
   */
  warmStitch(job: Omit<WarmStitchJob, 'type'>): void;
  /** Predicted classes of test sets, one array per task, computed in this worker (warm, as for the stitch). */
  classify(job: Omit<ClassifyJob, 'type' | 'id'>): Promise<Int32Array[]>;
  /** Serve another worker's stitch validations on a port; the promise only settles (rejects) if this worker fails. */
  serveValidation(job: Omit<ServeValidationJob, 'type'>): Promise<never>;
  stop(): Promise<void>;
}

/**
 * Train one net in a worker thread, once told to (`train(init)`), on `data`: the first `examples` of a training
 * split, or the dataset the worker loads itself (`{ load }`: its `dataset` then resolves to it, in shared
 * memory). `onProgress` gets its events (the stitch's too, when it trains there next). Loading in the worker
 * that trains saves starting a thread only to decode the files (see runSeedExperiment).
 * @example const w = startNetWorker('mnist', cfg, { train: data.mnist.train, examples: 50100 }, 25, console.log); w.train(initMlp(key)); const { params } = await w.outcome;
 */
export function startNetWorker(
  phase: NetPhase,
  cfg: SeedConfig,
  data: { train: Split; examples: number } | { load: LoadJob },
  progressEvery: number,
  onProgress?: (e: ProgressEvent) => void,
): NetWorker {
  let jobData: NetJob['data'];
  if ('load' in data) jobData = { load: data.load };
  else {
    const f = data.train.features;
    jobData = { images: data.train.images.subarray(0, data.examples * f), labels: data.train.labels.subarray(0, data.examples), features: f };
  }
  const job: NetJob = { phase, cfg, data: jobData, progressEvery };
  // (a worker started ahead, see prestart.ts, gets its job as its first message)
  const prestarted = takePrestartedWorker();
  if (prestarted) prestarted.postMessage(job);
  const worker = prestarted ?? spawnWorker(import.meta.url, 'seed-worker', job);
  // the phase being trained: what its 'done' message settles
  let current: { what: string; resolve: (o: PhaseOutcome<Tensor[][]>) => void; reject: (e: Error) => void } | undefined;
  let stopped = false;
  let failure: string | undefined; // the worker is gone (or broken): later phases fail at once
  const failed: ((e: Error) => void)[] = []; // services to tell when it fails
  let loaded: { resolve: (d: Dataset) => void; reject: (e: Error) => void } | undefined;
  const dataset =
    'load' in data
      ? new Promise<Dataset>((resolve, reject) => {
          loaded = { resolve, reject };
        })
      : undefined;
  dataset?.catch(() => {}); // (a failure also reaches `outcome`; the caller awaits whichever it needs)
  const expect = (what: string): Promise<PhaseOutcome<Tensor[][]>> =>
    new Promise((resolve, reject) => {
      current = { what, resolve, reject };
      if (failure !== undefined) fail(failure);
    });
  const fail = (why: string): void => {
    failure ??= why;
    current?.reject(new Error(`training the ${current.what} in a worker thread failed: ${why}`));
    current = undefined;
    classifying.failAll(new Error(`classifying test examples in a worker thread failed: ${why}`));
    for (const f of failed.splice(0)) f(new Error(`validating the stitch in a worker thread failed: ${why}`));
    loaded?.reject(new Error(`loading the ${phase} dataset in a worker thread failed: ${why}`)); // (if not loaded yet)
  };
  const classifying = new Requests<Int32Array[]>();
  worker.on('message', (m: WorkerMessage) => {
    if (m.type === 'loaded') loaded?.resolve(m.dataset);
    else if (m.type === 'load-failed') {
      loaded?.reject(loadFailureError(m.failure));
      fail(m.failure.message);
    } else if (m.type === 'progress') onProgress?.(m.event);
    else if (m.type === 'error') fail(m.stack || m.message);
    else if (m.type === 'classified') {
      if ('error' in m) classifying.answer(m.id, undefined, new Error(`classifying test examples in a worker thread failed: ${m.error}`));
      else classifying.answer(m.id, m.predictions);
    } else {
      current?.resolve({ params: unpostLayers(m.layers), curves: m.curves, seconds: m.seconds, steps: m.steps });
      current = undefined;
    }
  });
  worker.on('error', (err) => fail(err.stack ?? err.message));
  worker.on('exit', (code) => {
    fail(stopped ? 'the worker was stopped' : `the worker exited (code ${code}) before sending its parameters`);
  });
  const outcome = expect(`${phase} net`) as Promise<PhaseOutcome<MlpParams>>;
  outcome.catch(() => {}); // (awaited by the caller once the data is checked; it may fail before)
  return {
    dataset,
    train: (init) => {
      if (failure === undefined) worker.postMessage({ type: 'train', ...(init ? { init: postLayers(init) } : {}) } satisfies TrainJob);
    },
    outcome,
    stitch: (j) => {
      const outcome = expect('stitch') as Promise<PhaseOutcome<AlphaParams>>;
      worker.postMessage({ type: 'stitch', ...j } satisfies StitchJob, j.validator ? [j.validator] : []);
      return outcome;
    },
    warmStitch: (j) => {
      if (failure === undefined) worker.postMessage({ type: 'warm-stitch', ...j } satisfies WarmStitchJob);
    },
    serveValidation: (j) =>
      new Promise<never>((_, reject) => {
        failed.push(reject);
        if (failure !== undefined) fail(failure);
        worker.postMessage({ type: 'serve-validation', ...j } satisfies ServeValidationJob, [j.port]);
      }),
    classify: (j) =>
      failure !== undefined
        ? Promise.reject(new Error(`classifying test examples in a worker thread failed: ${failure}`))
        : classifying.send((id) => worker.postMessage({ type: 'classify', id, ...j } satisfies ClassifyJob)),
    stop: async () => {
      stopped = true;
      await worker.terminate();
    },
  };
}
