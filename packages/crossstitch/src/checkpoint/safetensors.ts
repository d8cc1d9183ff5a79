/**
 * Checkpoints in the safetensors format (https://github.com/huggingface/safetensors):
 *
 * ```
 * [8 bytes: N, little-endian uint64][N bytes: JSON header, space-padded to a multiple of 8][data]
 * header = { "<name>": { "dtype": "F32", "shape": [60, 784], "data_offsets": [begin, end] }, ...,
 *            "__metadata__": { "<key>": "<string value>" } }
 * ```
 *
 * Offsets are relative to the start of the data section; the tensors' byte ranges are contiguous, do not
 * overlap and cover the whole data section; elements are little-endian, row-major. The dtypes supported here
 * are those of `@xs/tensor`: F32, F64, I32 and BOOL (one byte, 0 or 1).
 *
 * Files are written atomically (temp file, fsync, rename) and every load is validated: any corruption,
 * truncation or unexpected content is a {@link CheckpointError} naming the file and the problem.
 */
import { readFileSync } from 'node:fs';
import { endianness } from 'node:os';
import { type DType, type Tensor, type TypedArray, fromTypedArray } from '@xs/tensor';
import { atomicWriteFile } from '../util/atomic.js';

/** The safetensors dtype names used here. */
export type SafetensorsDType = 'F32' | 'F64' | 'I32' | 'BOOL';

const TO_ST: Record<DType, SafetensorsDType> = { float32: 'F32', float64: 'F64', int32: 'I32', bool: 'BOOL' };
const FROM_ST: Record<SafetensorsDType, DType> = { F32: 'float32', F64: 'float64', I32: 'int32', BOOL: 'bool' };
const ITEMSIZE: Record<SafetensorsDType, number> = { F32: 4, F64: 8, I32: 4, BOOL: 1 };
/** Other dtypes of the format, recognised to give a precise error. */
const KNOWN_UNSUPPORTED = new Set(['F16', 'BF16', 'F8_E4M3', 'F8_E5M2', 'I8', 'U8', 'I16', 'U16', 'U32', 'I64', 'U64', 'C64']);
/** The reference implementation refuses headers larger than this. */
const MAX_HEADER_BYTES = 100_000_000;
const LITTLE_ENDIAN = endianness() === 'LE';

/**
 * A bad or unexpected checkpoint; the message names the file and the problem.
 * @example catch (e) { if (e instanceof CheckpointError) console.error(e.file, e.message); }
 */
export class CheckpointError extends Error {
  /**
   * @param message What is wrong with it (the error's message is `<file>: <message>`).
   * @example
   * throw new CheckpointError('run/params.safetensors', 'truncated header');
   */
  constructor(
    /** The file (or `<bytes>`). */
    readonly file: string,
    message: string,
  ) {
    super(`${file}: ${message}`);
    this.name = 'CheckpointError';
  }
}

/** One tensor's entry in a safetensors header. */
export interface TensorEntry {
  /** Its dtype, in `@xs/tensor` terms. */
  readonly dtype: DType;
  /** Its shape. */
  readonly shape: readonly number[];
  /** `[begin, end)` byte range within the data section. */
  readonly dataOffsets: readonly [number, number];
}

/** A parsed and validated safetensors header. */
export interface SafetensorsHeader {
  /** Entries by tensor name. */
  readonly tensors: Readonly<Record<string, TensorEntry>>;
  /** The `__metadata__` strings (empty when absent). */
  readonly metadata: Readonly<Record<string, string>>;
  /** Byte offset of the data section in the file (8 + header length). */
  readonly dataStart: number;
}

/** What a tensor is expected to be on load; omitted fields are not checked. */
export interface TensorExpectation {
  /** Expected shape. */
  readonly shape?: readonly number[];
  /** Expected dtype. */
  readonly dtype?: DType;
}

/** Options of {@link decodeSafetensors} and {@link loadSafetensors}. */
export interface LoadOptions {
  /** Tensors that must be present, with their shapes/dtypes. */
  expect?: Readonly<Record<string, TensorExpectation | Tensor>>;
  /** With `expect`, also accept tensors not listed (default false: an extra tensor is an error). */
  allowExtra?: boolean;
}

/** A loaded checkpoint: tensors by name and the metadata strings. */
export interface LoadedCheckpoint {
  /** Tensors by name. */
  readonly tensors: Record<string, Tensor>;
  /** `__metadata__` strings. */
  readonly metadata: Record<string, string>;
}

function sizeOf(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

function fmtShape(shape: readonly number[]): string {
  return `[${shape.join(', ')}]`;
}

function bytesOf(data: TypedArray, itemsize: number): Uint8Array {
  const view = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  if (LITTLE_ENDIAN || itemsize === 1) return view;
  const out = new Uint8Array(view.length);
  for (let i = 0; i < view.length; i += itemsize) for (let j = 0; j < itemsize; j++) out[i + j] = view[i + itemsize - 1 - j]!;
  return out;
}

/**
 * Encode named tensors as safetensors bytes: `[8-byte length, padded header, data]` chunks (concatenate them
 * for one buffer). Tensors are stored in name order.
 * @example const chunks = encodeSafetensors({ w: array([[1, 2]]) }, { step: '10' });
 */
export function encodeSafetensors(tensors: Readonly<Record<string, Tensor>>, metadata: Readonly<Record<string, string>> = {}): Uint8Array[] {
  const names = Object.keys(tensors).sort();
  const header: Record<string, unknown> = {};
  const meta: Record<string, string> = {};
  for (const [k, v] of Object.entries(metadata)) {
    if (typeof v !== 'string') throw new TypeError(`encodeSafetensors: metadata ${JSON.stringify(k)} must be a string, got ${typeof v}`);
    meta[k] = v;
  }
  if (Object.keys(meta).length > 0) header.__metadata__ = meta;
  const datas: Uint8Array[] = [];
  let offset = 0;
  for (const name of names) {
    if (name === '' || name === '__metadata__') throw new RangeError(`encodeSafetensors: ${JSON.stringify(name)} cannot be a tensor name`);
    const t = tensors[name]!;
    const dtype = TO_ST[t.dtype];
    if (!dtype) throw new TypeError(`encodeSafetensors: tensor ${JSON.stringify(name)} has unsupported dtype ${t.dtype}`);
    const data = bytesOf(t.data(), ITEMSIZE[dtype]);
    if (data.length !== sizeOf(t.shape) * ITEMSIZE[dtype]) throw new Error(`encodeSafetensors: internal: tensor ${name} has ${data.length} bytes for shape ${fmtShape(t.shape)}`);
    header[name] = { dtype, shape: [...t.shape], data_offsets: [offset, offset + data.length] };
    offset += data.length;
    datas.push(data);
  }
  let json = JSON.stringify(header);
  const raw = new TextEncoder().encode(json);
  const padded = Math.ceil(raw.length / 8) * 8;
  json += ' '.repeat(padded - raw.length);
  const headerBytes = new TextEncoder().encode(json);
  const len = new Uint8Array(8);
  new DataView(len.buffer).setBigUint64(0, BigInt(headerBytes.length), true);
  return [len, headerBytes, ...datas];
}

/**
 * Parse and validate the header of safetensors bytes (header JSON, dtypes, shapes, offsets in range,
 * contiguous and not overlapping, sizes matching dtype × shape, no trailing bytes).
 * @example const { tensors } = parseSafetensorsHeader(readFileSync('ckpt.safetensors'), 'ckpt.safetensors');
 */
export function parseSafetensorsHeader(bytes: Uint8Array, file = '<bytes>'): SafetensorsHeader {
  const fail = (msg: string): never => {
    throw new CheckpointError(file, msg);
  };
  if (bytes.length < 8) fail(`truncated: ${bytes.length} bytes, too short for the 8-byte header length`);
  const n64 = new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true);
  if (n64 > BigInt(MAX_HEADER_BYTES)) fail(`header length ${n64} is larger than the ${MAX_HEADER_BYTES}-byte limit (not a safetensors file?)`);
  const n = Number(n64);
  if (n < 2) fail(`header length ${n} is too small for a JSON object`);
  if (8 + n > bytes.length) fail(`truncated: the header needs ${n} bytes after the 8-byte length, the file has ${bytes.length - 8}`);
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, 8 + n));
  } catch {
    return fail('header is not valid UTF-8');
  }
  if (!text.startsWith('{')) fail(`header does not start with '{' (not a safetensors file?)`);
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    return fail(`header is not valid JSON: ${(err as Error).message}`);
  }
  if (json === null || typeof json !== 'object' || Array.isArray(json)) return fail('header JSON is not an object');
  const dataLen = bytes.length - 8 - n;
  const metadata: Record<string, string> = {};
  const tensors: Record<string, TensorEntry> = {};
  for (const [name, value] of Object.entries(json as Record<string, unknown>)) {
    if (name === '__metadata__') {
      if (value === null || typeof value !== 'object' || Array.isArray(value)) fail('__metadata__ must be an object of strings');
      for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
        if (typeof v !== 'string') fail(`__metadata__[${JSON.stringify(k)}] must be a string, got ${JSON.stringify(v)}`);
        metadata[k] = v as string;
      }
      continue;
    }
    const where = `tensor ${JSON.stringify(name)}`;
    if (value === null || typeof value !== 'object' || Array.isArray(value)) fail(`${where}: entry is not an object`);
    const e = value as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    if (typeof e.dtype !== 'string') fail(`${where}: missing or non-string dtype`);
    const st = e.dtype as string;
    if (!(st in FROM_ST)) fail(`${where}: dtype ${st} is ${KNOWN_UNSUPPORTED.has(st) ? 'not supported here' : 'unknown'} (supported: F32, F64, I32, BOOL)`);
    if (!Array.isArray(e.shape) || !e.shape.every((d) => Number.isSafeInteger(d) && d >= 0)) fail(`${where}: shape ${JSON.stringify(e.shape)} is not a list of non-negative integers`);
    const off = e.data_offsets;
    if (!Array.isArray(off) || off.length !== 2 || !off.every((d) => Number.isSafeInteger(d) && d >= 0)) fail(`${where}: data_offsets ${JSON.stringify(off)} is not a pair of non-negative integers`);
    const [begin, end] = off as [number, number];
    if (begin > end) fail(`${where}: data_offsets [${begin}, ${end}] run backwards`);
    if (end > dataLen) fail(`${where}: data_offsets [${begin}, ${end}] are out of range: the data section has ${dataLen} bytes (file truncated?)`);
    const shape = e.shape as number[];
    const need = sizeOf(shape) * ITEMSIZE[st as SafetensorsDType];
    if (end - begin !== need) fail(`${where}: has ${end - begin} bytes but dtype ${st} × shape ${fmtShape(shape)} needs ${need}`);
    tensors[name] = { dtype: FROM_ST[st as SafetensorsDType], shape, dataOffsets: [begin, end] };
  }
  const order = Object.entries(tensors).sort((a, b) => a[1].dataOffsets[0] - b[1].dataOffsets[0] || a[1].dataOffsets[1] - b[1].dataOffsets[1]);
  let at = 0;
  let prev = '';
  for (const [name, e] of order) {
    const [begin, end] = e.dataOffsets;
    if (begin < at) fail(`tensors ${JSON.stringify(prev)} and ${JSON.stringify(name)} overlap (bytes ${begin}..${at})`);
    if (begin > at) fail(`gap of ${begin - at} bytes before tensor ${JSON.stringify(name)} (data must be contiguous)`);
    at = end;
    prev = name;
  }
  if (at !== dataLen) fail(`${dataLen - at} trailing bytes after the last tensor (the data section has ${dataLen} bytes, the tensors cover ${at})`);
  return { tensors, metadata, dataStart: 8 + n };
}

function decodeData(bytes: Uint8Array, dtype: DType, count: number, file: string, name: string): TypedArray {
  // A fresh, aligned copy (note: Buffer#slice would return a view into the file's buffer, not a copy).
  const copy = new Uint8Array(bytes.length);
  copy.set(bytes);
  const itemsize = ITEMSIZE[TO_ST[dtype]];
  if (!LITTLE_ENDIAN && itemsize > 1) {
    for (let i = 0; i < copy.length; i += itemsize) copy.subarray(i, i + itemsize).reverse();
  }
  switch (dtype) {
    case 'float32':
      return new Float32Array(copy.buffer, 0, count);
    case 'float64':
      return new Float64Array(copy.buffer, 0, count);
    case 'int32':
      return new Int32Array(copy.buffer, 0, count);
    case 'bool':
      for (let i = 0; i < copy.length; i++) {
        if (copy[i]! > 1) throw new CheckpointError(file, `tensor ${JSON.stringify(name)}: BOOL element ${i} has byte value ${copy[i]}, not 0 or 1`);
      }
      return copy;
  }
}

function checkExpectations(header: SafetensorsHeader, file: string, opts: LoadOptions): void {
  if (!opts.expect) return;
  const problems: string[] = [];
  for (const [name, exp] of Object.entries(opts.expect) as [string, TensorExpectation][]) {
    const got = header.tensors[name];
    if (!got) {
      problems.push(`missing tensor ${JSON.stringify(name)}`);
      continue;
    }
    if (exp.dtype !== undefined && exp.dtype !== got.dtype) problems.push(`tensor ${JSON.stringify(name)} has dtype ${got.dtype}, expected ${exp.dtype}`);
    if (exp.shape !== undefined && fmtShape(exp.shape) !== fmtShape(got.shape)) problems.push(`tensor ${JSON.stringify(name)} has shape ${fmtShape(got.shape)}, expected ${fmtShape(exp.shape)}`);
  }
  if (!opts.allowExtra) {
    for (const name of Object.keys(header.tensors)) if (!(name in opts.expect)) problems.push(`unexpected tensor ${JSON.stringify(name)}`);
  }
  if (problems.length > 0) throw new CheckpointError(file, `does not match the expected tensors: ${problems.join('; ')}`);
}

/**
 * Decode safetensors bytes into tensors, validating everything (see {@link parseSafetensorsHeader}) and,
 * with `expect`, the names, shapes and dtypes.
 * @example const { tensors, metadata } = decodeSafetensors(bytes, { expect: { w: { shape: [2, 2], dtype: 'float32' } } });
 */
export function decodeSafetensors(bytes: Uint8Array, opts: LoadOptions & { file?: string } = {}): LoadedCheckpoint {
  const file = opts.file ?? '<bytes>';
  const header = parseSafetensorsHeader(bytes, file);
  checkExpectations(header, file, opts);
  const tensors: Record<string, Tensor> = {};
  for (const [name, e] of Object.entries(header.tensors)) {
    const [begin, end] = e.dataOffsets;
    const data = decodeData(bytes.subarray(header.dataStart + begin, header.dataStart + end), e.dtype, sizeOf(e.shape), file, name);
    tensors[name] = fromTypedArray(data, e.shape, e.dtype);
  }
  return { tensors, metadata: { ...header.metadata } };
}

/**
 * Save named tensors to a safetensors file, atomically (temp file + fsync + rename).
 * @example saveSafetensors('run/params.safetensors', { 'mnist.0.0': w, 'mnist.0.1': b }, { epoch: '5' });
 */
export function saveSafetensors(path: string, tensors: Readonly<Record<string, Tensor>>, metadata: Readonly<Record<string, string>> = {}): void {
  atomicWriteFile(path, encodeSafetensors(tensors, metadata));
}

/**
 * Load a safetensors file, validated; errors name the file.
 * @example const { tensors } = loadSafetensors('run/params.safetensors', { expect: { 'mnist.0.0': { shape: [60, 784] } }, allowExtra: true });
 */
export function loadSafetensors(path: string, opts: LoadOptions = {}): LoadedCheckpoint {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch (err) {
    throw new CheckpointError(path, `cannot read: ${(err as Error).message}`);
  }
  return decodeSafetensors(bytes, { ...opts, file: path });
}

/**
 * Read only the header of a safetensors file (validated): names, dtypes, shapes, metadata.
 * @example Object.keys(readSafetensorsHeader('run/params.safetensors').tensors)
 */
export function readSafetensorsHeader(path: string): SafetensorsHeader {
  return parseSafetensorsHeader(readFileSync(path), path);
}
