/**
 * Net workers started ahead of their job. A net worker's start is mostly importing the library (about 60
 * modules: 0.1-0.2 s), and the main thread of a program that will train the nets side by side spends about as
 * long importing its own modules before it gets to `runSeedExperiment`. Started first thing (the CLI's `train`
 * does, before importing the rest of itself), the workers import theirs meanwhile, on the other core, and
 * then wait for their job (a NetJob message); `startNetWorker` takes them. This module imports nothing of the
 * library, so that starting them costs the caller nothing but the threads.
 */
import type { Worker } from 'node:worker_threads';
import { spawnWorker } from '../util/worker.js';

/** What a started-ahead worker gets as its `workerData`: it then waits for its job as its first message. */
export const PRESTARTED = 'xs-prestarted-net-worker';

const waiting: Worker[] = [];

/**
 * Start `count` (2) net workers now, for a `runSeedExperiment` to come in this process. They keep nothing alive:
 * a process that never uses them exits as usual (and `runSeedExperiment` stops any it does not use).
 * @example
 * import { prestartNetWorkers } from '@xs/crossstitch/prestart';
 * prestartNetWorkers(); // then import the rest and run the experiment
 */
export function prestartNetWorkers(count = 2): void {
  for (let i = 0; i < count; i++) {
    const worker = spawnWorker(import.meta.url, 'seed-worker', PRESTARTED);
    worker.unref();
    const drop = (): void => {
      const at = waiting.indexOf(worker);
      if (at >= 0) waiting.splice(at, 1);
    };
    worker.once('error', drop);
    worker.once('exit', drop);
    waiting.push(worker);
  }
}

/**
 * A started-ahead net worker, if one is waiting (it is then the caller's, referenced again: it keeps the process
 * alive until stopped), else undefined.
 * @internal
 */
export function takePrestartedWorker(): Worker | undefined {
  const worker = waiting.shift();
  if (!worker) return undefined;
  worker.removeAllListeners('error');
  worker.removeAllListeners('exit');
  worker.ref();
  return worker;
}

/**
 * Stop the started-ahead workers nobody took (the experiment ran in-process, or needed fewer).
 * @internal
 */
export function releasePrestartedWorkers(): void {
  for (const worker of waiting.splice(0)) void worker.terminate();
}
