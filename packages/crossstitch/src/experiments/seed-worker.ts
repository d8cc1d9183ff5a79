/**
 * Worker-thread entry: trains one of the seed experiment's two nets (MNIST or Fashion-MNIST) exactly as the
 * in-process run does (same key, batch order and compiled step; the CPU backend, single-threaded), posting
 * progress events and finally the parameters. Started by `parallel.ts`; not part of the public API.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { type Tensor, matmulThreads, setDefaultBackend } from '@xs/tensor';
import { makeSplit } from '../datasets/load.js';
import { type MlpParams, initMlp } from '../models/mlp.js';
import { CLASSES, seedKeys, trainPhase, validator } from './phase.js';
import { makeTrainStep } from './seed.js';
import { type NetJob, type WorkerMessage, postLayers } from './parallel.js';

const port = parentPort;
if (!port) throw new Error('seed-worker.ts runs only as a worker thread');
const post = (m: WorkerMessage, transfer: ArrayBuffer[] = []): void => port.postMessage(m, transfer);

async function main(job: NetJob): Promise<void> {
  setDefaultBackend('cpu');
  matmulThreads.threads = 1; // the two nets already keep the cores busy: matmul threads would only contend
  const { phase, cfg } = job;
  const train = makeSplit(job.images, job.labels, job.features);
  const sizes = [job.features, cfg.hidden[0], cfg.hidden[1], CLASSES];
  const keys = seedKeys(cfg.seed);
  const outcome = await trainPhase<MlpParams>({
    phase,
    cfg,
    train,
    limit: cfg.trainExamples[phase],
    init: initMlp(phase === 'mnist' ? keys.mnist : keys.fashion, sizes),
    step: makeTrainStep(cfg.lr, { donate: true }) as (p: MlpParams, x: Tensor, t: Tensor) => [MlpParams, Tensor],
    validate: validator(train, cfg.validation[phase]),
    onProgress: (event) => post({ type: 'progress', event }),
    progressEvery: job.progressEvery,
    checkAborted: () => {}, // the parent stops a worker by terminating it
  });
  const layers = postLayers(outcome.params);
  post({ type: 'done', layers, curves: outcome.curves, seconds: outcome.seconds, steps: outcome.steps }, layers.flatMap((l) => l.map((t) => t.data.buffer as ArrayBuffer)));
}

main(workerData as NetJob).catch((err: unknown) => {
  const e = err instanceof Error ? err : new Error(String(err));
  post({ type: 'error', message: e.message, stack: e.stack ?? '' });
});
