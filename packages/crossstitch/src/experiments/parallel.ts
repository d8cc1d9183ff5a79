/**
 * The seed experiment's two nets (MNIST, Fashion-MNIST) are independent until the stitch, so on a machine with
 * two or more cores they train at the same time, each in its own worker thread: the same code, keys and batch
 * order as in-process (bit-identical parameters), about half the wall time. The training splits reach the
 * workers through shared memory (see `decodeImages`); progress events come back as messages.
 */
import { availableParallelism } from 'node:os';
import { type Tensor, defaultBackend, fromTypedArray } from '@xs/tensor';
import type { Split } from '../datasets/load.js';
import { spawnWorker } from '../util/worker.js';
import type { MlpParams } from '../models/mlp.js';
import type { PhaseOutcome } from './phase.js';
import type { EpochRecord, ProgressEvent, SeedConfig } from './types.js';

/** The two phases that can run side by side. */
export type NetPhase = 'mnist' | 'fashion';

/** Layers of float32 tensors (a net's params) as a message between threads carries them (copies). */
export type PostedLayers = { shape: number[]; data: Float32Array }[][];
/** Layers in their {@link PostedLayers} form. */
export const postLayers = (layers: readonly (readonly Tensor[])[]): PostedLayers => layers.map((l) => l.map((t) => ({ shape: [...t.shape], data: t.data() as Float32Array })));

/** What a worker trains (its `workerData`). */
export interface NetJob {
  phase: NetPhase;
  cfg: SeedConfig;
  /**
   * Pixels of the first examples of the training split (as many as training and validation read). Loaded
   * datasets live in shared memory, which the worker then reads in place; other arrays are copied to it.
   */
  images: Float32Array;
  /** Labels of the same examples. */
  labels: Int32Array;
  features: number;
  progressEvery: number;
}

/** Messages from a worker. */
export type WorkerMessage =
  | { type: 'progress'; event: ProgressEvent }
  | { type: 'done'; layers: PostedLayers; curves: EpochRecord[]; seconds: number; steps: number }
  | { type: 'error'; message: string; stack: string };

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

/** A net training in a worker: its outcome, and a way to stop it. */
export interface NetWorker {
  readonly outcome: Promise<PhaseOutcome<MlpParams>>;
  stop(): Promise<void>;
}

/**
 * Train one net in a worker thread on the first `examples` of `train`; `onProgress` gets its events.
 * @example const w = startNetWorker('mnist', cfg, data.mnist.train, 50100, 25, console.log); const { params } = await w.outcome;
 */
export function startNetWorker(phase: NetPhase, cfg: SeedConfig, train: Split, examples: number, progressEvery: number, onProgress?: (e: ProgressEvent) => void): NetWorker {
  const f = train.features;
  const job: NetJob = {
    phase,
    cfg,
    images: train.images.subarray(0, examples * f),
    labels: train.labels.subarray(0, examples),
    features: f,
    progressEvery,
  };
  const worker = spawnWorker(import.meta.url, 'seed-worker', job);
  let settled = false;
  const outcome = new Promise<PhaseOutcome<MlpParams>>((resolve, reject) => {
    const fail = (why: string): void => {
      settled = true;
      reject(new Error(`training the ${phase} net in a worker thread failed: ${why}`));
    };
    worker.on('message', (m: WorkerMessage) => {
      if (m.type === 'progress') onProgress?.(m.event);
      else if (m.type === 'error') fail(m.stack || m.message);
      else {
        settled = true;
        const params = m.layers.map((layer) => layer.map((t) => fromTypedArray(t.data, t.shape, 'float32'))) as MlpParams;
        resolve({ params, curves: m.curves, seconds: m.seconds, steps: m.steps });
      }
    });
    worker.on('error', (err) => fail(err.stack ?? err.message));
    worker.on('exit', (code) => {
      if (!settled) fail(`the worker exited (code ${code}) before sending its parameters`);
    });
  });
  return {
    outcome,
    stop: async () => {
      settled = true;
      await worker.terminate();
    },
  };
}
