/**
 * Checking a dataset file against its known SHA-256, whether it is stored raw or gzip-compressed.
 */
import { readFileSync } from 'node:fs';
import { sha256Hex } from '../util/hash.js';
import type { DatasetFile } from './catalog.js';
import { IDX_IMAGES_MAGIC, IDX_LABELS_MAGIC, isGzip, maybeGunzip, parseIdx } from './idx.js';

/**
 * A file whose bytes do not hash to the expected SHA-256. The message names the file and both hashes.
 * @example catch (e) { if (e instanceof ChecksumError) console.error(`${e.file}: expected ${e.expected}, got ${e.actual}`); }
 */
export class ChecksumError extends Error {
  /**
   * @param detail An optional note appended to the message in parentheses (default none).
   * @example
   * throw new ChecksumError('train-labels-idx1-ubyte', expectedHex, actualHex);
   */
  constructor(
    /** The file (path or URL). */
    readonly file: string,
    /** The expected hex SHA-256. */
    readonly expected: string,
    /** The hex SHA-256 actually found. */
    readonly actual: string,
    detail = '',
  ) {
    super(`${file}: SHA-256 mismatch: expected ${expected}, got ${actual}${detail ? ` (${detail})` : ''}`);
    this.name = 'ChecksumError';
  }
}

/** How a stored file matched its known hash. */
export type VerifiedAs =
  /** an uncompressed IDX file whose bytes hash to `rawSha256` */
  | 'raw'
  /** the canonical `.gz` download, byte for byte (`gzSha256`) */
  | 'gzip'
  /** some other gzip stream whose decompressed bytes hash to `rawSha256` (e.g. Debian's recompressed copies) */
  | 'gzip-content'
  /** not checked (verification turned off) */
  | 'unchecked';

/** A file's bytes after verification. */
export interface VerifiedBytes {
  /** The decompressed IDX bytes. */
  readonly raw: Uint8Array;
  /** Whether the stored file is gzip-compressed. */
  readonly compressed: boolean;
  /** How it matched. */
  readonly verifiedAs: VerifiedAs;
  /** SHA-256 of the file as stored (computed when first read, where verifying did not need it). */
  readonly fileSha256: string;
}

function magicFor(spec: DatasetFile): number {
  return spec.role === 'trainImages' || spec.role === 'testImages' ? IDX_IMAGES_MAGIC : IDX_LABELS_MAGIC;
}

/**
 * Check the bytes of a dataset file against its known SHA-256 and return them decompressed. Raw bytes must
 * hash to `spec.rawSha256`; gzip bytes must either be the canonical download (`spec.gzSha256`) or decompress
 * to bytes that hash to `spec.rawSha256`. Anything else throws a {@link ChecksumError} naming `file`, the
 * expected and the actual hash, and, when the bytes are also not a valid IDX file, why (wrong magic,
 * truncated, ...). A corrupt gzip stream throws an `IdxFormatError`.
 * @example const { raw } = verifyBytes(readFileSync(p), DATASETS.mnist.files.testLabels, p);
 */
export function verifyBytes(bytes: Uint8Array, spec: DatasetFile, file: string, verify = true): VerifiedBytes {
  // The file's own hash is taken only where it decides something (or is asked for): a 47 MB file takes tens of
  // milliseconds to hash, and a dataset's loading is on the way to its first training step.
  let sha: string | undefined;
  const fileSha = (): string => (sha ??= sha256Hex(bytes));
  const compressed = isGzip(bytes);
  const result = (raw: Uint8Array, verifiedAs: VerifiedAs): VerifiedBytes => ({
    raw,
    compressed,
    verifiedAs,
    get fileSha256() {
      return fileSha();
    },
  });
  if (!verify) return result(maybeGunzip(bytes, file), 'unchecked');
  if (!compressed) {
    if (fileSha() === spec.rawSha256) return result(bytes, 'raw');
    throw new ChecksumError(file, spec.rawSha256, fileSha(), formatProblem(bytes, spec, file));
  }
  // the canonical download has exactly gzBytes bytes: a recompressed copy (Debian's) is ruled out without hashing
  if (bytes.length === spec.gzBytes && fileSha() === spec.gzSha256) return result(maybeGunzip(bytes, file), 'gzip');
  const raw = maybeGunzip(bytes, file);
  const rawSha = sha256Hex(raw);
  if (rawSha === spec.rawSha256) return result(raw, 'gzip-content');
  throw new ChecksumError(file, spec.rawSha256, rawSha, `of the decompressed content of this gzip file; ${formatProblem(raw, spec, file)}`);
}

/** Describe what else is wrong with non-matching raw bytes (or say it looks like valid IDX data). */
function formatProblem(raw: Uint8Array, spec: DatasetFile, file: string): string {
  try {
    const idx = parseIdx(raw, { file, expectMagic: magicFor(spec) });
    return `it is a well-formed IDX file of dimensions [${idx.dims.join(', ')}], but not the known ${spec.name} (${spec.count} examples, ${spec.rawBytes} bytes)`;
  } catch (err) {
    return `and it is not a valid IDX file: ${(err as Error).message.replace(`${file}: `, '')}`;
  }
}

/**
 * Read a dataset file from disk and verify it (see {@link verifyBytes}).
 * @example const { verifiedAs } = verifyFile('/usr/share/datasets/fashion-mnist/t10k-labels-idx1-ubyte.gz', DATASETS['fashion-mnist'].files.testLabels);
 */
export function verifyFile(path: string, spec: DatasetFile, verify = true): VerifiedBytes {
  return verifyBytes(readFileSync(path), spec, path, verify);
}
