/**
 * Worker-thread entry: trains one of the seed experiment's two nets (MNIST or Fashion-MNIST) exactly as the
 * in-process run does (same key, batch order and compiled step; the CPU backend, single-threaded), posting
 * progress events and finally the parameters; then, if asked (a `StitchJob` message), the stitch phase with
 * the other net, the same way. When its job says so it first loads the dataset itself and posts it (shared
 * memory), then waits for the go-ahead (a `TrainJob`). Started by `parallel.ts`; not part of the public API.
 */
import { type MessagePort, parentPort, workerData } from 'node:worker_threads';
import { type Tensor, matmulThreads, setDefaultBackend } from '@xs/tensor';
import { type Split, loadInWorker, makeSplit } from '../datasets/load.js';
import type { MlpParams } from '../models/mlp.js';
import { type PhaseOutcome, classify, trainPhase, validator } from './phase.js';
import { initialNet, makeStitchStep, makeTrainStep, stitchPhaseSpec, warmUpStitchStep } from './seed.js';
import {
  type ClassifyJob,
  type NetJob,
  type NetPhase,
  type ServeValidationJob,
  type StitchJob,
  type TrainJob,
  type ValidationAnswer,
  type WarmStitchJob,
  type ValidationRequest,
  type WorkerMessage,
  postLayers,
  unpostLayers,
} from './parallel.js';
import { type AlphaParams, composeParameters } from '../models/stitch.js';
import { Requests } from '../util/requests.js';
import { PRESTARTED } from './prestart.js';

if (!parentPort) throw new Error('seed-worker.ts runs only as a worker thread');
const port = parentPort;
const post = (m: WorkerMessage, transfer: ArrayBuffer[] = []): void => port.postMessage(m, transfer);

/** The next message from the parent, which must be the go-ahead to train (with the net's initial parameters). */
const trainAsked = (): Promise<TrainJob> =>
  new Promise((resolve, reject) =>
    port.once('message', (m: TrainJob) => (m.type === 'train' ? resolve(m) : reject(new Error(`expected the go-ahead to train, got a '${m.type}' message`)))),
  );

async function main(job: NetJob): Promise<void> {
  setDefaultBackend('cpu');
  matmulThreads.threads = 1; // the two nets already keep the cores busy: matmul threads would only contend
  const { phase, cfg } = job;
  let train: Split;
  if ('load' in job.data) {
    const loaded = loadInWorker(job.data.load);
    if (loaded.type === 'error') return post({ type: 'load-failed', failure: loaded });
    post({ type: 'loaded', dataset: loaded.dataset });
    train = loaded.dataset.train;
  } else train = makeSplit(job.data.images, job.data.labels, job.data.features);
  const { init } = await trainAsked();
  const features = train.features;
  const outcome = await trainPhase<MlpParams>({
    phase,
    cfg,
    train,
    limit: cfg.trainExamples[phase],
    init: init ? (unpostLayers(init) as MlpParams) : initialNet(cfg, phase),
    step: makeTrainStep(cfg.lr, { donate: true }) as (p: MlpParams, x: Tensor, t: Tensor) => [MlpParams, Tensor],
    validate: validator(train, cfg.validation[phase]),
    onProgress: (event) => post({ type: 'progress', event }),
    progressEvery: job.progressEvery,
    checkAborted: () => {}, // the parent stops a worker by terminating it
  });
  postOutcome(outcome);
  // then the jobs the parent hands to this warm worker: the stitch phase, and classifying test sets
  const nets: Partial<Record<NetPhase, MlpParams>> = { [phase]: outcome.params };
  let alpha: AlphaParams | undefined;
  const split = (s: { images: Float32Array; labels: Int32Array }): Split => makeSplit(s.images, s.labels, features);
  const net = (name: NetPhase): MlpParams => {
    const p = nets[name];
    if (!p) throw new Error(`this worker was not given the ${name} net`);
    return p;
  };
  const stitchedNet = (a: AlphaParams): MlpParams => composeParameters(net('mnist'), net('fashion'), a);
  // the stitch step, warmed up (warm-stitch) before the stitch job, which then uses the same jitted function
  const stitchStep = makeStitchStep(cfg.lr, { donate: true });
  let warming: Promise<unknown> = Promise.resolve();
  let stitchAsked = false;
  port.on('message', (m: StitchJob | ClassifyJob | ServeValidationJob | WarmStitchJob) => {
    const run = async (): Promise<void> => {
      if (m.type === 'warm-stitch') {
        warming = warmUpStitchStep(stitchStep, cfg, outcome.params, split(m.train), m.steps, () => stitchAsked);
        await warming;
      } else if (m.type === 'serve-validation') {
        nets[m.other.is] = unpostLayers(m.other.layers) as MlpParams;
        const validate = validator(split(m.validation), [0, m.validation.labels.length]);
        m.port.on('message', ({ id, alpha: a }: ValidationRequest) => {
          let answer: ValidationAnswer;
          try {
            answer = { id, accuracy: validate(stitchedNet(unpostLayers(a) as AlphaParams)) };
          } catch (err) {
            answer = { id, error: err instanceof Error ? err.message : String(err) };
          }
          m.port.postMessage(answer);
        });
      } else if (m.type === 'stitch') {
        stitchAsked = true;
        await warming;
        nets[m.otherIs] = unpostLayers(m.other) as MlpParams;
        const spec = stitchPhaseSpec(cfg, net('mnist'), net('fashion'), split(m.train), split(m.validation), stitchStep);
        const stitched = await trainPhase({
          ...spec,
          ...(m.validator ? { validate: remoteValidator(m.validator) } : {}),
          cfg,
          onProgress: (event) => post({ type: 'progress', event }),
          progressEvery: job.progressEvery,
          checkAborted: () => {},
        });
        alpha = stitched.params;
        postOutcome(stitched);
      } else {
        if (m.other) nets[m.other.is] = unpostLayers(m.other.layers) as MlpParams;
        if (m.alpha) alpha = unpostLayers(m.alpha) as AlphaParams;
        try {
          const predictions = m.tasks.map(({ net: which, test }) => {
            if (which !== 'stitched') return classify(net(which), split(test));
            if (!alpha) throw new Error('this worker has no alpha to classify with the stitched net');
            return classify(stitchedNet(alpha), split(test));
          });
          post({ type: 'classified', id: m.id, predictions });
        } catch (err) {
          post({ type: 'classified', id: m.id, error: err instanceof Error ? err.message : String(err) }); // (this job only)
        }
      }
    };
    run().catch(postError);
  });
}

/** Validation by the worker at the other end of `port` (see ServeValidationJob): alpha is read at once. */
function remoteValidator(port: MessagePort): (a: AlphaParams) => Promise<number> {
  const validations = new Requests<number>();
  port.on('message', (m: ValidationAnswer) => {
    if ('error' in m) validations.answer(m.id, undefined, new Error(`validating the stitched net in the other worker failed: ${m.error}`));
    else validations.answer(m.id, m.accuracy);
  });
  return (a) => validations.send((id) => port.postMessage({ id, alpha: postLayers(a) } satisfies ValidationRequest));
}

function postOutcome(o: PhaseOutcome<Tensor[][]>): void {
  const layers = postLayers(o.params);
  post({ type: 'done', layers, curves: o.curves, seconds: o.seconds, steps: o.steps }, layers.flatMap((l) => l.map((t) => t.data.buffer as ArrayBuffer)));
}

function postError(err: unknown): void {
  const e = err instanceof Error ? err : new Error(String(err));
  post({ type: 'error', message: e.message, stack: e.stack ?? '' });
}

// A worker started ahead of its job (prestart.ts) gets the job as its first message.
const job: Promise<NetJob> = workerData === PRESTARTED ? new Promise((resolve) => port.once('message', resolve)) : Promise.resolve(workerData as NetJob);
job.then(main).catch(postError);
