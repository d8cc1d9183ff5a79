/**
 * Bytes to float32 on WebAssembly SIMD128: the decoding step of image datasets (pixel bytes ÷ 255), which
 * otherwise costs a table lookup per pixel in JavaScript. For MNIST's 47M training pixels: about 0.1 s
 * instead of 0.15-0.2 s, most of what remains being the first touch of the 188 MB it writes.
 *
 * The kernel widens 16 bytes at a time to 16 int32 lanes, converts them to float32 (exact: they are below
 * 2^24) and divides by the divisor with f32x4.div. A float32 division is correctly rounded, and so is
 * JavaScript's float64 division rounded to float32 (float64 has more than 2·24 + 2 bits, so the double
 * rounding cannot go wrong), so every result equals `Math.fround(byte / divisor)` bit for bit.
 *
 * It converts in place: the bytes are copied to the last quarter of the memory that will hold the floats and
 * read in increasing order, so a block's 64 bytes of output only ever overwrite bytes already read (output
 * byte 4i + 63 ≤ input byte 3n + i + 15 while i ≤ n - 16). The floats then fill the memory exactly, with no
 * second buffer to copy them out of.
 */
import { type SharedWasmMemory, wasmApi } from './api.js';
import { Body, encodeModule, f32, i32, v128 } from './encoder.js';

/** The module: `convert(out, in, blocks, divisor)` writes 16·blocks floats at `out` from the bytes at `in`. */
function convertModuleBytes(): Uint8Array {
  const b = new Body([i32, i32, i32, f32]);
  const [OUT, IN, BLOCKS, DIVISOR] = [0, 1, 2, 3];
  const d = b.local(v128);
  const x = b.local(v128);
  const h = b.local(v128);
  b.get(DIVISOR).f32x4Splat().set(d);
  b.block().loop().get(BLOCKS).eqz().brIf(1);
  b.get(IN).v128Load().set(x); // (read before this block's stores, which may overwrite these bytes)
  for (const [half, at] of [['i16x8.extend_low_i8x16_u', 0], ['i16x8.extend_high_i8x16_u', 32]] as const) {
    b.get(x).simdOp(half).set(h);
    b.get(OUT).get(h).simdOp('i32x4.extend_low_i16x8_u').simdOp('f32x4.convert_i32x4_u').get(d).simdOp('f32x4.div').v128Store(at);
    b.get(OUT).get(h).simdOp('i32x4.extend_high_i16x8_u').simdOp('f32x4.convert_i32x4_u').get(d).simdOp('f32x4.div').v128Store(at + 16);
  }
  b.get(IN).i32(16).add().set(IN);
  b.get(OUT).i32(64).add().set(OUT);
  b.get(BLOCKS).i32(1).sub().set(BLOCKS);
  b.br(0).end().end();
  return encodeModule([{ name: 'convert', body: b }], { minPages: 1, sharedMaxPages: MAX_PAGES });
}

const PAGE = 65536;
/** Largest memory the kernel takes: 4 GiB (wasm32's limit), i.e. 2^30 bytes converted at once. */
const MAX_PAGES = 65536;
/** Fewer bytes than this convert in JavaScript: a memory and an instance are not worth it. */
const MIN_WASM_BYTES = 1024;

let compiled: object | null | undefined; // the module; null where it cannot be compiled (no SIMD, no shared memory)

function convertModule(): object | null {
  if (compiled !== undefined) return compiled;
  const api = wasmApi();
  compiled = null;
  if (api && typeof SharedArrayBuffer === 'function') {
    try {
      compiled = new api.Module(convertModuleBytes());
    } catch {
      // no SIMD128 or no threads (shared memory): the JavaScript path
    }
  }
  return compiled;
}

/** `Math.fround(i / divisor)` for every byte value. */
function byteTable(divisor: number): Float32Array {
  return Float32Array.from({ length: 256 }, (_, i) => i / divisor);
}

/**
 * `bytes` as float32, each divided by `divisor`: `out[i] = Math.fround(bytes[i] / divisor)`, bit for bit. With
 * `shared`, the result lives in shared memory (a `SharedArrayBuffer`, which worker threads read without a
 * copy; it may be a little longer than the array, which starts at offset 0), where the platform has it. Large
 * shared conversions with a float32 divisor run on WebAssembly SIMD (see convert.ts), about 1.5-2× faster.
 * @example
 * const pixels = bytesToFloat32(idxBytes.subarray(16), 255, { shared: true }); // MNIST pixels in [0, 1]
 */
export function bytesToFloat32(bytes: Uint8Array, divisor = 1, options: { shared?: boolean } = {}): Float32Array {
  if (!(bytes instanceof Uint8Array)) throw new TypeError(`bytesToFloat32: expected a Uint8Array, got ${Object.prototype.toString.call(bytes)}`);
  if (typeof divisor !== 'number' || Number.isNaN(divisor)) throw new TypeError(`bytesToFloat32: the divisor must be a number, got ${String(divisor)}`);
  const n = bytes.length;
  const shared = options.shared === true && typeof SharedArrayBuffer === 'function';
  const module = shared && n >= MIN_WASM_BYTES && n <= MAX_PAGES * (PAGE / 4) && Math.fround(divisor) === divisor && divisor !== 0 && Number.isFinite(divisor) ? convertModule() : null;
  const api = wasmApi();
  if (!module || !api) {
    const out = new Float32Array(shared ? new SharedArrayBuffer(4 * n) : new ArrayBuffer(4 * n));
    const table = byteTable(divisor);
    for (let i = 0; i < n; i++) out[i] = table[bytes[i]!]!;
    return out;
  }
  const pages = Math.ceil((4 * n) / PAGE);
  const memory: SharedWasmMemory = new api.Memory({ initial: pages, maximum: pages, shared: true });
  const { exports } = new api.Instance(module, { env: { memory } });
  new Uint8Array(memory.buffer, 3 * n, n).set(bytes);
  const blocks = Math.floor(n / 16);
  (exports['convert'] as (out: number, from: number, blocks: number, divisor: number) => void)(0, 3 * n, blocks, divisor);
  const out = new Float32Array(memory.buffer, 0, n);
  for (let i = 16 * blocks; i < n; i++) out[i] = Math.fround(bytes[i]! / divisor); // (the < 16 left over)
  return out;
}
