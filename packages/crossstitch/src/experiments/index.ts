/** Experiments: the seed notebook's, and the contract (config, progress events, result) they share with their runners. */
export * from './types.js';
export * from './seed.js';
export * from './paper.js';
export { prestartNetWorkers } from './prestart.js';
