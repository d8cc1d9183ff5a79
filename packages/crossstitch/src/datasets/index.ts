/**
 * MNIST and Fashion-MNIST: IDX reading/writing, finding and downloading the files, SHA-256 checks, loading,
 * batching and shuffling, and a status report.
 */
export * from './idx.js';
export * from './catalog.js';
export * from './verify.js';
export * from './download.js';
export * from './resolve.js';
export * from './load.js';
export * from './batching.js';
export * from './status.js';
export * from './multi-mnist.js';
