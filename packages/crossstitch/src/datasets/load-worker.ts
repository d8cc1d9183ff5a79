/**
 * Worker-thread entry: reads, checks and decodes one resolved dataset (`loadResolvedDataset`) and posts it back.
 * Its arrays live in shared memory (see `decodeImages`), so the parent receives them without a copy. Started
 * by `loadDatasets`; not part of the public API.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { type LoadJob, type LoadMessage, loadResolvedDataset } from './load.js';

const port = parentPort;
if (!port) throw new Error('load-worker.ts runs only as a worker thread');
const { where, verify, catalog } = workerData as LoadJob;
let message: LoadMessage;
try {
  message = { type: 'done', dataset: loadResolvedDataset(where, { verify, ...(catalog ? { catalog } : {}) }) };
} catch (err) {
  const e = err instanceof Error ? err : new Error(String(err));
  // own fields (file, expected, actual...) travel with the message so the parent can rebuild the error
  message = { type: 'error', name: e.name, message: e.message, fields: { ...e } };
}
port.postMessage(message);
