/**
 * The IDX file format (the format MNIST and Fashion-MNIST ship in), raw or gzip-compressed.
 *
 * An IDX file is a 4-byte big-endian magic number `0x00 0x00 TYPE NDIM`, then NDIM big-endian uint32 sizes,
 * then the elements, row-major and big-endian. MNIST images are `0x00000803` (uint8, 3 dims: n×28×28) and
 * labels `0x00000801` (uint8, 1 dim: n). A gzip file is recognised by its first two bytes `0x1f 0x8b`.
 *
 * Every reader here checks the magic number, the dimensions and the total length, and throws an
 * {@link IdxFormatError} naming the file on any mismatch: nothing is ever read silently wrong.
 */
import { readFileSync } from 'node:fs';
import { gunzipSync, gzipSync } from 'node:zlib';
import { atomicWriteFile } from '../util/atomic.js';
import { bytesToFloat32 } from '@xs/tensor';

/** Element types an IDX file can hold, by their type byte. */
export type IdxType = 'uint8' | 'int8' | 'int16' | 'int32' | 'float32' | 'float64';

const TYPE_BY_CODE: Record<number, IdxType> = { 0x08: 'uint8', 0x09: 'int8', 0x0b: 'int16', 0x0c: 'int32', 0x0d: 'float32', 0x0e: 'float64' };
const CODE_BY_TYPE: Record<IdxType, number> = { uint8: 0x08, int8: 0x09, int16: 0x0b, int32: 0x0c, float32: 0x0d, float64: 0x0e };
const SIZE_BY_TYPE: Record<IdxType, number> = { uint8: 1, int8: 1, int16: 2, int32: 4, float32: 4, float64: 8 };

/** Magic number of an MNIST-style image file: uint8, 3 dimensions. @example parseIdx(bytes, { expectMagic: IDX_IMAGES_MAGIC }) */
export const IDX_IMAGES_MAGIC = 0x00000803;
/** Magic number of an MNIST-style label file: uint8, 1 dimension. @example parseIdx(bytes, { expectMagic: IDX_LABELS_MAGIC }) */
export const IDX_LABELS_MAGIC = 0x00000801;

/** The first two bytes of every gzip stream. */
const GZIP_MAGIC0 = 0x1f;
const GZIP_MAGIC1 = 0x8b;

/**
 * A malformed, truncated or unexpected IDX file (or gzip stream); the message names the file.
 * @example try { readIdxLabels(p); } catch (e) { if (e instanceof IdxFormatError) console.error(e.file, e.message); }
 */
export class IdxFormatError extends Error {
  /**
   * @param message What is wrong (the error's message is `<file>: <message>`).
   * @example
   * throw new IdxFormatError('train-labels-idx1-ubyte', 'bad magic number');
   */
  constructor(
    /** The file (or label) the bytes came from. */
    readonly file: string,
    message: string,
  ) {
    super(`${file}: ${message}`);
    this.name = 'IdxFormatError';
  }
}

/**
 * The contents of an IDX file: its element type, dimensions and elements (host order, as numbers).
 * `data` is a `Uint8Array` for uint8, an `Int8Array`, `Int16Array`, `Int32Array`, `Float32Array` or
 * `Float64Array` otherwise.
 */
export interface IdxArray {
  /** Element type. */
  readonly type: IdxType;
  /** Dimension sizes, outermost first. */
  readonly dims: readonly number[];
  /** The elements, row-major. */
  readonly data: Uint8Array | Int8Array | Int16Array | Int32Array | Float32Array | Float64Array;
}

/** True when `bytes` starts with the gzip magic `0x1f 0x8b`. @example isGzip(readFileSync(p)) */
export function isGzip(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === GZIP_MAGIC0 && bytes[1] === GZIP_MAGIC1;
}

/**
 * Decompress `bytes` if they are gzip, otherwise return them as they are. A corrupt or truncated gzip stream
 * is an {@link IdxFormatError} naming `file`.
 * @example const raw = maybeGunzip(readFileSync('train-images-idx3-ubyte.gz'), 'train-images-idx3-ubyte.gz');
 */
export function maybeGunzip(bytes: Uint8Array, file = '<bytes>'): Uint8Array {
  if (!isGzip(bytes)) return bytes;
  try {
    // the trailer's last four bytes are the content's size (mod 2^32): one output chunk of that size spares zlib
    // growing and joining many (a third of the time on a 47 MB file); a wrong size only costs more chunks (and a
    // corrupt one cannot make it allocate more than 64 times the compressed size)
    const size = bytes.length >= 18 ? new DataView(bytes.buffer, bytes.byteOffset + bytes.length - 4, 4).getUint32(0, true) : 0;
    const out = gunzipSync(bytes, { chunkSize: Math.max(Math.min(size + 1, 64 * bytes.length), 64 << 10) });
    return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
  } catch (err) {
    throw new IdxFormatError(file, `corrupt or truncated gzip data (${(err as Error).message})`);
  }
}

function hex32(n: number): string {
  return `0x${(n >>> 0).toString(16).padStart(8, '0')}`;
}

/** Options of {@link parseIdx}. */
export interface ParseIdxOptions {
  /** Name used in error messages (usually the path). */
  file?: string;
  /** The magic number the file must have (e.g. {@link IDX_IMAGES_MAGIC}); any valid one when absent. */
  expectMagic?: number;
  /**
   * uint8 / int8 data as a view of the input's (decompressed) bytes instead of a copy (default true: a copy).
   * The decoders, which only read it, save a copy of the whole file.
   */
  copy?: boolean;
}

/**
 * Parse IDX bytes (raw or gzip). Checks the magic number, the header and that the data is exactly as long as
 * the dimensions say: a short file is "truncated", a long one has "trailing bytes".
 * @example
 * const { dims, data } = parseIdx(readFileSync('t10k-labels-idx1-ubyte'), { expectMagic: IDX_LABELS_MAGIC });
 */
export function parseIdx(input: Uint8Array, options: ParseIdxOptions = {}): IdxArray {
  const file = options.file ?? '<bytes>';
  const bytes = maybeGunzip(input, file);
  if (bytes.length < 4) throw new IdxFormatError(file, `truncated: ${bytes.length} bytes, too short for an IDX magic number (4 bytes)`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const magic = view.getUint32(0, false);
  if (options.expectMagic !== undefined && magic !== options.expectMagic) {
    throw new IdxFormatError(file, `wrong magic number ${hex32(magic)}, expected ${hex32(options.expectMagic)}${describeMagic(options.expectMagic)}`);
  }
  if (bytes[0] !== 0 || bytes[1] !== 0) throw new IdxFormatError(file, `wrong magic number ${hex32(magic)}: not an IDX file (the first two bytes must be 0)`);
  const type = TYPE_BY_CODE[bytes[2]!];
  if (type === undefined) throw new IdxFormatError(file, `wrong magic number ${hex32(magic)}: unknown IDX element type 0x${bytes[2]!.toString(16)}`);
  const ndim = bytes[3]!;
  if (ndim === 0) throw new IdxFormatError(file, `wrong magic number ${hex32(magic)}: zero dimensions`);
  const headerLen = 4 + 4 * ndim;
  if (bytes.length < headerLen) throw new IdxFormatError(file, `truncated: ${bytes.length} bytes, the header of a ${ndim}-dimensional IDX file needs ${headerLen}`);
  const dims: number[] = [];
  for (let i = 0; i < ndim; i++) dims.push(view.getUint32(4 + 4 * i, false));
  const count = dims.reduce((a, b) => a * b, 1);
  const elemSize = SIZE_BY_TYPE[type];
  const expected = headerLen + count * elemSize;
  if (bytes.length < expected) {
    throw new IdxFormatError(file, `truncated: dimensions [${dims.join(', ')}] of ${type} need ${expected} bytes, the file has ${bytes.length}`);
  }
  if (bytes.length > expected) {
    throw new IdxFormatError(file, `${bytes.length - expected} trailing bytes after the data: dimensions [${dims.join(', ')}] of ${type} need exactly ${expected} bytes, the file has ${bytes.length}`);
  }
  return { type, dims, data: decodeElements(view, headerLen, type, count, options.copy ?? true) };
}

function describeMagic(magic: number): string {
  if (magic === IDX_IMAGES_MAGIC) return ' (an image file: uint8, 3 dimensions)';
  if (magic === IDX_LABELS_MAGIC) return ' (a label file: uint8, 1 dimension)';
  return '';
}

function decodeElements(view: DataView, offset: number, type: IdxType, count: number, copy: boolean): IdxArray['data'] {
  switch (type) {
    case 'uint8': {
      const bytes = new Uint8Array(view.buffer, view.byteOffset + offset, count);
      return copy ? bytes.slice() : bytes;
    }
    case 'int8': {
      const bytes = new Int8Array(view.buffer, view.byteOffset + offset, count);
      return copy ? bytes.slice() : bytes;
    }
    case 'int16': {
      const out = new Int16Array(count);
      for (let i = 0; i < count; i++) out[i] = view.getInt16(offset + 2 * i, false);
      return out;
    }
    case 'int32': {
      const out = new Int32Array(count);
      for (let i = 0; i < count; i++) out[i] = view.getInt32(offset + 4 * i, false);
      return out;
    }
    case 'float32': {
      const out = new Float32Array(count);
      for (let i = 0; i < count; i++) out[i] = view.getFloat32(offset + 4 * i, false);
      return out;
    }
    case 'float64': {
      const out = new Float64Array(count);
      for (let i = 0; i < count; i++) out[i] = view.getFloat64(offset + 8 * i, false);
      return out;
    }
  }
}

/** Options of {@link encodeIdx} and {@link writeIdxFile}. */
export interface EncodeIdxOptions {
  /** Compress with gzip (default false). */
  gzip?: boolean;
}

/**
 * Encode an array as IDX bytes (optionally gzip-compressed). The data length must match the dimensions and
 * each element must fit the type (integers in range for the integer types).
 * @example
 * const bytes = encodeIdx({ type: 'uint8', dims: [2], data: new Uint8Array([3, 7]) }, { gzip: true });
 */
export function encodeIdx(arr: IdxArray, options: EncodeIdxOptions = {}): Uint8Array {
  const code = CODE_BY_TYPE[arr.type];
  if (code === undefined) throw new TypeError(`encodeIdx: unknown IDX type ${JSON.stringify(arr.type)}`);
  const ndim = arr.dims.length;
  if (ndim === 0 || ndim > 255) throw new RangeError(`encodeIdx: an IDX file has 1 to 255 dimensions, got ${ndim}`);
  for (const d of arr.dims) {
    if (!Number.isInteger(d) || d < 0 || d > 0xffffffff) throw new RangeError(`encodeIdx: dimension ${d} is not a uint32`);
  }
  const count = arr.dims.reduce((a, b) => a * b, 1);
  if (arr.data.length !== count) throw new RangeError(`encodeIdx: ${arr.data.length} elements do not fill dimensions [${arr.dims.join(', ')}] (${count} elements)`);
  const size = SIZE_BY_TYPE[arr.type];
  const headerLen = 4 + 4 * ndim;
  const out = new Uint8Array(headerLen + count * size);
  const view = new DataView(out.buffer);
  view.setUint32(0, (code << 8) | ndim, false);
  arr.dims.forEach((d, i) => view.setUint32(4 + 4 * i, d, false));
  const range: Partial<Record<IdxType, [number, number]>> = { uint8: [0, 255], int8: [-128, 127], int16: [-32768, 32767], int32: [-(2 ** 31), 2 ** 31 - 1] };
  const lim = range[arr.type];
  for (let i = 0; i < count; i++) {
    const v = Number(arr.data[i]);
    if (lim && (!Number.isInteger(v) || v < lim[0] || v > lim[1])) throw new RangeError(`encodeIdx: element ${i} = ${v} does not fit ${arr.type}`);
    const o = headerLen + i * size;
    switch (arr.type) {
      case 'uint8':
        out[o] = v;
        break;
      case 'int8':
        view.setInt8(o, v);
        break;
      case 'int16':
        view.setInt16(o, v, false);
        break;
      case 'int32':
        view.setInt32(o, v, false);
        break;
      case 'float32':
        view.setFloat32(o, v, false);
        break;
      case 'float64':
        view.setFloat64(o, v, false);
        break;
    }
  }
  if (!options.gzip) return out;
  const gz = gzipSync(out);
  return new Uint8Array(gz.buffer, gz.byteOffset, gz.byteLength);
}

/**
 * Write an IDX file atomically (temp file + fsync + rename), raw or gzip.
 * @example writeIdxFile('/tmp/labels.gz', { type: 'uint8', dims: [3], data: new Uint8Array([1, 2, 3]) }, { gzip: true });
 */
export function writeIdxFile(path: string, arr: IdxArray, options: EncodeIdxOptions = {}): void {
  atomicWriteFile(path, encodeIdx(arr, options));
}

/**
 * Read and parse an IDX file (raw or gzip, detected by content).
 * @example const { dims } = readIdxFile('train-labels-idx1-ubyte', { expectMagic: IDX_LABELS_MAGIC });
 */
export function readIdxFile(path: string, options: Omit<ParseIdxOptions, 'file'> = {}): IdxArray {
  return parseIdx(readFileSync(path), { ...options, file: path });
}

/** Images as float32 in [0, 1] (each byte ÷ 255). */
export interface IdxImages {
  /** Pixels, row-major: image i is `data.subarray(i * rows * cols, (i + 1) * rows * cols)`. */
  readonly data: Float32Array;
  /** Number of images. */
  readonly count: number;
  /** Image height (28 for MNIST). */
  readonly rows: number;
  /** Image width (28 for MNIST). */
  readonly cols: number;
  /** `[count, rows * cols]` or `[count, rows, cols]`, as asked. */
  readonly shape: readonly number[];
}

/** Options of {@link decodeImages}. */
export interface DecodeImagesOptions {
  /** Name for error messages. */
  file?: string;
  /** `'flat'` gives shape `[n, rows*cols]` (the default, as the notebook reshapes to [n, 784]); `'grid'` gives `[n, rows, cols]`. */
  layout?: 'flat' | 'grid';
  /** Image size the file must have, e.g. `[28, 28]`. */
  expectSize?: readonly [number, number];
}

/**
 * Decoded datasets live in shared memory where the platform has it, so worker threads (the seed experiment
 * trains its two nets side by side) read them without a copy; to everything else it is an ordinary array.
 */
function sharedBuffer(bytes: number): ArrayBufferLike {
  return typeof SharedArrayBuffer === 'function' ? new SharedArrayBuffer(bytes) : new ArrayBuffer(bytes);
}

/**
 * Decode an IDX image file's bytes (magic `0x00000803`) into float32 pixels in [0, 1].
 * @example const imgs = decodeImages(readFileSync(p), { file: p, expectSize: [28, 28] }); // imgs.shape = [n, 784]
 */
export function decodeImages(bytes: Uint8Array, options: DecodeImagesOptions = {}): IdxImages {
  const file = options.file ?? '<bytes>';
  const idx = parseIdx(bytes, { file, expectMagic: IDX_IMAGES_MAGIC, copy: false });
  const [count, rows, cols] = idx.dims as [number, number, number];
  if (options.expectSize && (rows !== options.expectSize[0] || cols !== options.expectSize[1])) {
    throw new IdxFormatError(file, `images are ${rows}x${cols}, expected ${options.expectSize[0]}x${options.expectSize[1]}`);
  }
  // (in shared memory where the platform has it; on WebAssembly SIMD: see bytesToFloat32)
  const data = bytesToFloat32(idx.data as Uint8Array, 255, { shared: true });
  const shape = options.layout === 'grid' ? [count, rows, cols] : [count, rows * cols];
  return { data, count, rows, cols, shape };
}

/** Options of {@link decodeLabels}. */
export interface DecodeLabelsOptions {
  /** Name for error messages. */
  file?: string;
  /** When given, every label must be an integer in [0, numClasses). */
  numClasses?: number;
}

/**
 * Decode an IDX label file's bytes (magic `0x00000801`) into int32 labels.
 * @example const labels = decodeLabels(readFileSync(p), { file: p, numClasses: 10 });
 */
export function decodeLabels(bytes: Uint8Array, options: DecodeLabelsOptions = {}): Int32Array {
  const file = options.file ?? '<bytes>';
  const idx = parseIdx(bytes, { file, expectMagic: IDX_LABELS_MAGIC, copy: false });
  const out = new Int32Array(sharedBuffer(idx.data.length * 4));
  out.set(idx.data as Uint8Array);
  if (options.numClasses !== undefined) {
    for (let i = 0; i < out.length; i++) {
      if (out[i]! >= options.numClasses) throw new IdxFormatError(file, `label ${out[i]} at index ${i} is outside [0, ${options.numClasses})`);
    }
  }
  return out;
}

/**
 * Read an IDX image file (raw or gzip) into float32 pixels in [0, 1].
 * @example const { data, shape } = readIdxImages('t10k-images-idx3-ubyte.gz'); // shape [10000, 784]
 */
export function readIdxImages(path: string, options: Omit<DecodeImagesOptions, 'file'> = {}): IdxImages {
  return decodeImages(readFileSync(path), { ...options, file: path });
}

/**
 * Read an IDX label file (raw or gzip) into int32 labels.
 * @example const labels = readIdxLabels('t10k-labels-idx1-ubyte'); // Int32Array(10000)
 */
export function readIdxLabels(path: string, options: Omit<DecodeLabelsOptions, 'file'> = {}): Int32Array {
  return decodeLabels(readFileSync(path), { ...options, file: path });
}

/**
 * Check that an image file and a label file describe the same number of examples; throws naming both files.
 * @example checkImageLabelCounts(imgs, labels, 'train-images-idx3-ubyte', 'train-labels-idx1-ubyte');
 */
export function checkImageLabelCounts(images: IdxImages, labels: Int32Array, imagesFile: string, labelsFile: string): void {
  if (images.count !== labels.length) {
    throw new IdxFormatError(imagesFile, `count mismatch: ${images.count} images but ${labelsFile} has ${labels.length} labels`);
  }
}

/**
 * Read a matching pair of IDX image and label files, checking that the counts agree.
 * @example const { images, labels } = readIdxPair('train-images-idx3-ubyte', 'train-labels-idx1-ubyte');
 */
export function readIdxPair(imagesPath: string, labelsPath: string, options: Omit<DecodeImagesOptions, 'file'> & { numClasses?: number } = {}): {
  /** The decoded images. */
  images: IdxImages;
  /** One label per image. */
  labels: Int32Array;
} {
  const images = readIdxImages(imagesPath, options);
  const labels = readIdxLabels(labelsPath, options.numClasses === undefined ? {} : { numClasses: options.numClasses });
  checkImageLabelCounts(images, labels, imagesPath, labelsPath);
  return { images, labels };
}
