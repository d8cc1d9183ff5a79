/**
 * Worker-thread entry: reads, checks and decodes one resolved dataset (`loadInWorker`) and posts it back.
 * Its arrays live in shared memory (see `decodeImages`), so the parent receives them without a copy. Started
 * by `loadDatasets`; not part of the public API.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { type LoadJob, type LoadMessage, loadInWorker } from './load.js';

const port = parentPort;
if (!port) throw new Error('load-worker.ts runs only as a worker thread');
port.postMessage(loadInWorker(workerData as LoadJob) satisfies LoadMessage);
