/**
 * Threefry-2x32 (20 rounds) and the key/bit derivations built on it, on plain uint32 words.
 *
 * Everything here works on JS numbers holding uint32 values (`>>> 0`) and on `Uint32Array`s; nothing touches
 * tensors. The hash follows Salmon et al., "Parallel random numbers: as easy as 1, 2, 3" (SC'11), Threefry-2x32
 * with 20 rounds: rotation constants 13,15,26,6 / 17,29,16,24, key-schedule parity 0x1BD11BDA and a key injection
 * after every 4 rounds (with the injection counter added to the second word).
 *
 * On top of the hash, two derivations of keys and bits exist, matching JAX's two `threefry2x32` modes:
 * - classic (`jax_threefry_partitionable=False`, JAX's default before 0.5.0): a counter array `0..n-1` is cut in
 *   two halves that form the word pairs (see {@link threefryHash});
 * - partitionable (`jax_threefry_partitionable=True`, JAX's default since 0.5.0): element `i` hashes the counter
 *   pair `(hi32(i), lo32(i))` on its own.
 */

const PARITY = 0x1bd11bda;
const ROT_A0 = 13, ROT_A1 = 15, ROT_A2 = 26, ROT_A3 = 6;
const ROT_B0 = 17, ROT_B1 = 29, ROT_B2 = 16, ROT_B3 = 24;

/**
 * Hash the word pair `(a, b)` with the key `(k0, k1)`, writing the result into `y0[i], y1[i]`: the 20 rounds,
 * shared by the loops below (each passes its counters directly: the counter functions these loops once took
 * were a call per element that V8 could not inline, being of several kinds). Every word may come as a signed
 * or unsigned 32-bit integer: each sum is taken modulo 2^32 (`>>> 0`), which is all the hash reads of them.
 */
function hashBlock(k0: number, k1: number, a: number, b: number, y0: Uint32Array, y1: Uint32Array, i: number): void {
  const k2 = (k0 ^ k1 ^ PARITY) >>> 0; // the key schedule's third word
  a = (a + k0) >>> 0;
  b = (b + k1) >>> 0;
  // rounds 1-4
  a = (a + b) >>> 0; b = ((b << ROT_A0) | (b >>> (32 - ROT_A0))) ^ a;
  a = (a + b) >>> 0; b = ((b << ROT_A1) | (b >>> (32 - ROT_A1))) ^ a;
  a = (a + b) >>> 0; b = ((b << ROT_A2) | (b >>> (32 - ROT_A2))) ^ a;
  a = (a + b) >>> 0; b = ((b << ROT_A3) | (b >>> (32 - ROT_A3))) ^ a;
  a = (a + k1) >>> 0; b = (b + k2 + 1) >>> 0;
  // rounds 5-8
  a = (a + b) >>> 0; b = ((b << ROT_B0) | (b >>> (32 - ROT_B0))) ^ a;
  a = (a + b) >>> 0; b = ((b << ROT_B1) | (b >>> (32 - ROT_B1))) ^ a;
  a = (a + b) >>> 0; b = ((b << ROT_B2) | (b >>> (32 - ROT_B2))) ^ a;
  a = (a + b) >>> 0; b = ((b << ROT_B3) | (b >>> (32 - ROT_B3))) ^ a;
  a = (a + k2) >>> 0; b = (b + k0 + 2) >>> 0;
  // rounds 9-12
  a = (a + b) >>> 0; b = ((b << ROT_A0) | (b >>> (32 - ROT_A0))) ^ a;
  a = (a + b) >>> 0; b = ((b << ROT_A1) | (b >>> (32 - ROT_A1))) ^ a;
  a = (a + b) >>> 0; b = ((b << ROT_A2) | (b >>> (32 - ROT_A2))) ^ a;
  a = (a + b) >>> 0; b = ((b << ROT_A3) | (b >>> (32 - ROT_A3))) ^ a;
  a = (a + k0) >>> 0; b = (b + k1 + 3) >>> 0;
  // rounds 13-16
  a = (a + b) >>> 0; b = ((b << ROT_B0) | (b >>> (32 - ROT_B0))) ^ a;
  a = (a + b) >>> 0; b = ((b << ROT_B1) | (b >>> (32 - ROT_B1))) ^ a;
  a = (a + b) >>> 0; b = ((b << ROT_B2) | (b >>> (32 - ROT_B2))) ^ a;
  a = (a + b) >>> 0; b = ((b << ROT_B3) | (b >>> (32 - ROT_B3))) ^ a;
  a = (a + k1) >>> 0; b = (b + k2 + 4) >>> 0;
  // rounds 17-20
  a = (a + b) >>> 0; b = ((b << ROT_A0) | (b >>> (32 - ROT_A0))) ^ a;
  a = (a + b) >>> 0; b = ((b << ROT_A1) | (b >>> (32 - ROT_A1))) ^ a;
  a = (a + b) >>> 0; b = ((b << ROT_A2) | (b >>> (32 - ROT_A2))) ^ a;
  a = (a + b) >>> 0; b = ((b << ROT_A3) | (b >>> (32 - ROT_A3))) ^ a;
  a = (a + k2) >>> 0; b = (b + k0 + 5) >>> 0;
  y0[i] = a;
  y1[i] = b;
}

/** Hash the word pairs `(x0[i] >>> 0, x1[i] >>> 0)` for `i < n` into `y0[i], y1[i]`. */
function hashPairs(k0: number, k1: number, n: number, x0: ArrayLike<number>, x1: ArrayLike<number>, y0: Uint32Array, y1: Uint32Array): void {
  for (let i = 0; i < n; i++) hashBlock(k0, k1, x0[i]! >>> 0, x1[i]! >>> 0, y0, y1, i);
}

/** Hash the counter pairs `(0, i)` for `i < n` (the partitionable derivation) into `y0[i], y1[i]`. */
function hashCounters(k0: number, k1: number, n: number, y0: Uint32Array, y1: Uint32Array): void {
  for (let i = 0; i < n; i++) hashBlock(k0, k1, 0, i, y0, y1, i);
}

/**
 * Threefry-2x32 (20 rounds) applied element-wise to the word pairs `(x0[i], x1[i])` under the key
 * `[key[0], key[1]]`. All inputs are read as uint32 (`>>> 0`); the results are two `Uint32Array`s.
 *
 * @example
 * // Random123 known-answer vector: key (0, 0), counter (0, 0).
 * const [y0, y1] = threefry2x32([0, 0], [0], [0]);
 * // y0[0] === 0x6b200159, y1[0] === 0x99ba4efe
 */
export function threefry2x32(
  key: ArrayLike<number>,
  x0: ArrayLike<number>,
  x1: ArrayLike<number>,
): [Uint32Array, Uint32Array] {
  if (key.length !== 2) throw new RangeError(`threefry2x32: key must have 2 words, got ${key.length}`);
  if (x0.length !== x1.length) {
    throw new RangeError(`threefry2x32: x0 and x1 must have the same length, got ${x0.length} and ${x1.length}`);
  }
  const n = x0.length;
  const y0 = new Uint32Array(n);
  const y1 = new Uint32Array(n);
  hashPairs(key[0]!, key[1]!, n, x0, x1, y0, y1);
  return [y0, y1];
}

/** Hash one word pair; returns `[y0, y1]` as uint32 numbers. */
export function threefryBlock(k0: number, k1: number, x0: number, x1: number): [number, number] {
  const y0 = new Uint32Array(1);
  const y1 = new Uint32Array(1);
  hashBlock(k0, k1, x0 >>> 0, x1 >>> 0, y0, y1, 0);
  return [y0[0]!, y1[0]!];
}

/**
 * JAX's classic `threefry_2x32(key, iota(n))`: the counters `0..n-1` (padded with one 0 when `n` is odd) are cut
 * into a first and a second half, the halves are hashed as word pairs, and the two output halves are
 * concatenated again (dropping the padding).
 */
export function threefryIotaHash(k0: number, k1: number, n: number): Uint32Array {
  const half = (n + 1) >>> 1;
  const y0 = new Uint32Array(half);
  const y1 = new Uint32Array(half);
  // second-half counter j is half + j, except the padding slot (index n when n is odd), which is 0
  for (let i = 0; i < half; i++) hashBlock(k0, k1, i, half + i < n ? half + i : 0, y0, y1, i);
  const out = new Uint32Array(n);
  out.set(y0.subarray(0, Math.min(half, n)), 0);
  out.set(y1.subarray(0, n - half), half);
  return out;
}

/** Largest element count the samplers accept (typed arrays and 32-bit counters both fit). */
export const MAX_ELEMENTS = 2 ** 31 - 1;

/** Which derivation of keys and bits is in force; see {@link setThreefryPartitionable} in `index.ts`. */
export const mode = { partitionable: false };

/** `n` uint32 random words from a key: JAX's `random_bits(key, 32, shape)` for a shape of `n` elements. */
export function bits32(k0: number, k1: number, n: number): Uint32Array {
  if (!mode.partitionable) return threefryIotaHash(k0, k1, n);
  // partitionable: element i hashes the counter pair (hi32(i), lo32(i)) = (0, i); the result is y0 ^ y1
  const y0 = new Uint32Array(n);
  const y1 = new Uint32Array(n);
  hashCounters(k0, k1, n, y0, y1);
  for (let i = 0; i < n; i++) y0[i] = (y0[i]! ^ y1[i]!) >>> 0;
  return y0;
}

/**
 * `n` 64-bit random words from a key, as high and low 32-bit halves: JAX's `random_bits(key, 64, shape)`
 * (what `uniform`/`normal` use for `float64`).
 */
export function bits64(k0: number, k1: number, n: number): { hi: Uint32Array; lo: Uint32Array } {
  if (!mode.partitionable) {
    // classic: 2n words from one iota hash; the first n are the high halves, the last n the low halves
    const all = threefryIotaHash(k0, k1, 2 * n);
    return { hi: all.subarray(0, n), lo: all.subarray(n, 2 * n) };
  }
  const hi = new Uint32Array(n);
  const lo = new Uint32Array(n);
  hashCounters(k0, k1, n, hi, lo);
  return { hi, lo };
}

/** `num` child keys, flattened as `[k0_0, k1_0, k0_1, k1_1, ...]`: JAX's `split(key, num)`. */
export function splitKey(k0: number, k1: number, num: number): Uint32Array {
  if (!mode.partitionable) return threefryIotaHash(k0, k1, 2 * num);
  // partitionable: child i is the hash of the counter pair (0, i), i.e. fold_in(key, i)
  const a = new Uint32Array(num);
  const b = new Uint32Array(num);
  hashCounters(k0, k1, num, a, b);
  const out = new Uint32Array(2 * num);
  for (let i = 0; i < num; i++) {
    out[2 * i] = a[i]!;
    out[2 * i + 1] = b[i]!;
  }
  return out;
}

/** JAX's `fold_in(key, data)`: the hash of the counter pair `(0, data)` (the same in both modes). */
export function foldInKey(k0: number, k1: number, data: number): [number, number] {
  return threefryBlock(k0, k1, 0, data >>> 0);
}
