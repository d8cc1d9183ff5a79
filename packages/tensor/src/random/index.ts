/**
 * Counter-based pseudo-random numbers with explicit keys, after `jax.random`.
 *
 * A key is an `int32` array of shape `[2]` holding two uint32 words (read them with `>>> 0`, or with
 * {@link keyData}); there is no uint32 dtype. Every sampler is a pure function of its key: the same key gives
 * the same numbers on every platform, and fresh randomness comes from deriving new keys with {@link split} or
 * {@link foldIn}, never from hidden state. The generator is Threefry-2x32 with 20 rounds (Salmon et al., SC'11),
 * implemented on uint32 words in plain JS; the derivations of keys and bits from it follow JAX's.
 *
 * ## Agreement with JAX
 *
 * The default mode reproduces JAX's classic Threefry derivation (`jax_threefry_partitionable=False`), which was
 * JAX's default until 0.5.0. JAX 0.5.0 (January 2025) made `jax_threefry_partitionable=True` the default (its
 * changelog: "Enable `jax_threefry_partitionable` by default"), a one-time change of the random values produced
 * from a given key: `split` and the raw bits behind every sampler change, `fold_in` does not.
 * {@link setThreefryPartitionable}`(true)` switches this module to that newer derivation.
 *
 * Checked against JAX itself (jax/jaxlib 0.10.2 on CPU, both settings of `jax_threefry_partitionable`, with
 * and without `jax_enable_x64`) over ~2,200 cases of keys, shapes and parameters; the test suite pins a
 * selection of the vectors:
 * - bit for bit: {@link key} (seeds in [-2^31, 2^32) as JAX by default; larger seeds as JAX with x64),
 *   {@link split}, {@link foldIn}, {@link bits}, {@link uniform} (float32 and float64, any range),
 *   {@link bernoulli}, {@link randint}, {@link permutation} (numbers and arrays, one- and two-round shuffles)
 *   and {@link categorical} (all samples identical in every case compared). Also JAX's own published
 *   vectors: the Threefry-2x32 known answers (Random123) from its tests, `split(PRNGKey(0))` =
 *   `[[4146024105, 967050713], [2718843009, 1272950319]]` from its docs, `split(PRNGKey(0), 4)`,
 *   `fold_in(PRNGKey(0), 4)` = `[2285895361, 433833334]`, `random_bits(PRNGKey(1701), 32, (3,))` =
 *   `[56197195, 4200222568, 961309823]`, `randint(PRNGKey(0), (3, 3), 0, 8)` and the `RandomValuesCase`
 *   table (bits, uniform, bernoulli, randint) of its tests.
 * - to float rounding, not bit for bit: {@link normal}, {@link truncatedNormal} and {@link gumbel} apply
 *   `erfinv`, `erf` and `log` to bit-exact uniforms, and XLA evaluates those with its own approximations.
 *   float32 `normal` reproduces XLA's float32 `erf_inv` algorithm: 99.5% of values are identical and the rest
 *   within 2 ulps; float32 `truncatedNormal` is within 3 ulps; float32 `gumbel` within 5e-7 absolute. In
 *   float64 this module computes erfinv to full precision where XLA uses an approximation: `normal` agrees to
 *   1e-13 relative, `truncatedNormal` and `gumbel` to 3e-14 absolute.
 * Not matched: JAX's 8/16-bit paths and its non-default sampling modes (`mode='high'`), which this module
 * does not offer; negative seeds under `jax_enable_x64`, where JAX sign-extends to 64 bits.
 *
 * Keys are concrete data: the samplers run eagerly and read the key's words (under `grad` that is the primal
 * value), so inside `vmap` or `jit` a key must be a concrete array closed over from outside the transformation
 * (a traced key is an error naming the sampler); the samples then enter the traced function as constants.
 *
 * @packageDocumentation
 * @example
 * import { random } from '@xs/tensor';
 * const key = random.key(0);
 * const [k1, k2] = random.splitKeys(key);
 * const x = random.normal(k1, [3, 4]);             // float32, shape [3,4]
 * const i = random.randint(k2, [5], 0, 10);         // int32 in [0, 10)
 */
import { Tensor, fromTypedArray } from '../core/tensor.js';
import { stridesOf } from '../core/shape.js';
import { type TypedArray, isDType } from '../core/dtype.js';
import {
  MAX_ELEMENTS,
  bits32,
  bits64,
  foldInKey,
  mode,
  splitKey,
  threefry2x32 as threefry2x32Words,
} from './threefry.js';
import { erf, erfinv, erfinvF32 } from './special.js';
import { fma64, fmaF32, nextAfter } from './float.js';

const f32 = Math.fround;
const INT32_MIN = -(2 ** 31);
const INT32_MAX = 2 ** 31 - 1;
const UINT32_LIMIT = 2 ** 32;

/** A float dtype a sampler can produce. */
export type FloatDType = 'float32' | 'float64';

// ---------------------------------------------------------------------------------------------------------
// argument checking

function describe(x: unknown): string {
  if (x instanceof Tensor) return `a ${x.dtype} array of shape [${x.shape.join(',')}]`;
  if (x === null) return 'null';
  if (Array.isArray(x)) return `the JS array ${JSON.stringify(x)}`;
  if (typeof x === 'string') return JSON.stringify(x);
  return `${typeof x} ${String(x)}`;
}

/** The two uint32 words of a key, or a TypeError naming `where`. */
function readKey(key: unknown, where: string): [number, number] {
  if (!(key instanceof Tensor) || key.dtype !== 'int32' || key.shape.length !== 1 || key.shape[0] !== 2) {
    throw new TypeError(
      `${where}: key must be an int32 array of shape [2] (from random.key, split or foldIn), got ${describe(key)}`,
    );
  }
  const words = key.concrete(where).data();
  return [words[0]! >>> 0, words[1]! >>> 0];
}

function makeKey(k0: number, k1: number): Tensor {
  return fromTypedArray(Int32Array.of(k0 | 0, k1 | 0), [2], 'int32');
}

function checkShape(shape: unknown, where: string): { shape: number[]; size: number } {
  if (!Array.isArray(shape)) {
    throw new TypeError(`${where}: shape must be an array of non-negative integers, got ${describe(shape)}`);
  }
  let size = 1;
  for (const d of shape) {
    if (typeof d !== 'number' || !Number.isInteger(d) || d < 0) {
      throw new TypeError(`${where}: shape must be an array of non-negative integers, got ${JSON.stringify(shape)}`);
    }
    size *= d;
  }
  if (size > MAX_ELEMENTS) {
    throw new RangeError(`${where}: shape ${JSON.stringify(shape)} has ${size} elements, more than the ${MAX_ELEMENTS} supported`);
  }
  return { shape: [...shape], size };
}

function checkFloatDType(dtype: unknown, where: string): FloatDType {
  if (!isDType(dtype)) {
    throw new TypeError(`${where}: unknown dtype ${describe(dtype)}; expected 'float32' or 'float64'`);
  }
  if (dtype !== 'float32' && dtype !== 'float64') {
    throw new TypeError(`${where}: dtype must be a float dtype ('float32' or 'float64'), got '${dtype}'`);
  }
  return dtype;
}

function checkFinite(x: unknown, name: string, where: string): number {
  if (typeof x !== 'number') throw new TypeError(`${where}: ${name} must be a number, got ${describe(x)}`);
  if (!Number.isFinite(x)) throw new RangeError(`${where}: ${name} must be finite, got ${x}`);
  return x;
}

function checkCount(n: unknown, name: string, where: string): number {
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 0) {
    throw new TypeError(`${where}: ${name} must be a non-negative integer, got ${describe(n)}`);
  }
  if (n > MAX_ELEMENTS) throw new RangeError(`${where}: ${name} = ${n} is more than the ${MAX_ELEMENTS} supported`);
  return n;
}

// ---------------------------------------------------------------------------------------------------------
// mode

/**
 * Choose how keys and bits are derived from Threefry: `false` (the default) reproduces JAX's classic
 * `jax_threefry_partitionable=False`, JAX's default before 0.5.0; `true` reproduces
 * `jax_threefry_partitionable=True`, JAX's default since 0.5.0. The switch is global; it changes the output of
 * {@link split} and of every sampler (not of {@link key} or {@link foldIn}). Returns the previous setting.
 *
 * @example
 * const before = setThreefryPartitionable(true);   // match JAX >= 0.5 defaults
 * const ks = split(key(0), 2);
 * setThreefryPartitionable(before);
 */
export function setThreefryPartitionable(enabled: boolean): boolean {
  if (typeof enabled !== 'boolean') {
    throw new TypeError(`setThreefryPartitionable: expected a boolean, got ${describe(enabled)}`);
  }
  const previous = mode.partitionable;
  mode.partitionable = enabled;
  return previous;
}

/**
 * Whether the partitionable Threefry derivation (JAX >= 0.5 default) is in force; see
 * {@link setThreefryPartitionable}.
 *
 * @example
 * isThreefryPartitionable(); // false unless switched on
 */
export function isThreefryPartitionable(): boolean {
  return mode.partitionable;
}

// ---------------------------------------------------------------------------------------------------------
// keys

/**
 * A PRNG key from an integer seed, as JAX's legacy `jax.random.PRNGKey(seed)`: the words are the high and low
 * 32 bits of the seed. Seeds in `[0, 2^32)` give `[0, seed]`. A negative seed gives `[0, seed mod 2^32]` (its
 * 32-bit two's complement in the low word), as JAX does for int32 seeds and for Python-int seeds while
 * `jax_enable_x64` is off; seeds from `2^32` up to `Number.MAX_SAFE_INTEGER` give `[floor(seed / 2^32),
 * seed mod 2^32]`, as JAX does for 64-bit seeds. Non-integers are a TypeError, integers beyond the safe range a
 * RangeError.
 *
 * @example
 * key(0);    // int32 [0, 0]
 * key(42);   // int32 [0, 42]
 * key(-1);   // words [0, 4294967295]
 */
export function key(seed: number): Tensor {
  if (typeof seed !== 'number' || !Number.isInteger(seed)) {
    throw new TypeError(`key: seed must be a finite integer, got ${describe(seed)}`);
  }
  if (seed < Number.MIN_SAFE_INTEGER || seed > Number.MAX_SAFE_INTEGER) {
    throw new RangeError(`key: seed ${seed} is outside the safe integer range (|seed| <= 2^53 - 1)`);
  }
  if (seed < 0) return makeKey(0, seed >>> 0); // >>> 0 is the exact value mod 2^32
  return makeKey(Math.floor(seed / UINT32_LIMIT), seed % UINT32_LIMIT);
}

/**
 * Alias of {@link key}, after JAX's `jax.random.PRNGKey`.
 *
 * @example
 * const k = PRNGKey(0);
 */
export const PRNGKey = key;

/**
 * Split a key into `num` new independent keys, as JAX's `jax.random.split`: an int32 array of shape
 * `[num, 2]`. The parent key should not be used again afterwards.
 *
 * @example
 * const keys = split(key(0));     // shape [2,2]; words [[4146024105, 967050713], [2718843009, 1272950319]]
 * const many = split(key(0), 10); // shape [10,2]
 */
export function split(key: Tensor, num = 2): Tensor {
  const [k0, k1] = readKey(key, 'split');
  checkCount(num, 'num', 'split');
  const words = splitKey(k0, k1, num);
  return fromTypedArray(new Int32Array(words.buffer, words.byteOffset, words.length), [num, 2], 'int32');
}

/**
 * Like {@link split}, but returns the `num` keys as separate `[2]` arrays, for destructuring.
 *
 * @example
 * const [k1, k2, k3] = splitKeys(key(0), 3);
 */
export function splitKeys(key: Tensor, num = 2): Tensor[] {
  const [k0, k1] = readKey(key, 'splitKeys');
  checkCount(num, 'num', 'splitKeys');
  const words = splitKey(k0, k1, num);
  const out: Tensor[] = [];
  for (let i = 0; i < num; i++) out.push(makeKey(words[2 * i]!, words[2 * i + 1]!));
  return out;
}

/**
 * Fold an integer into a key, giving a new key, as JAX's `jax.random.fold_in`: a deterministic function of the
 * key and `data`, statistically independent of the keys `split` derives. `data` is an integer in
 * `[-2^31, 2^32)` (negative values are taken as their 32-bit two's complement).
 *
 * @example
 * const stepKey = foldIn(key(0), 4);   // words [2285895361, 433833334]
 */
export function foldIn(key: Tensor, data: number): Tensor {
  const [k0, k1] = readKey(key, 'foldIn');
  if (typeof data !== 'number' || !Number.isInteger(data)) {
    throw new TypeError(`foldIn: data must be an integer, got ${describe(data)}`);
  }
  if (data < INT32_MIN || data >= UINT32_LIMIT) {
    throw new RangeError(`foldIn: data must be a 32-bit integer in [-2^31, 2^32), got ${data}`);
  }
  const [a, b] = foldInKey(k0, k1, data >>> 0);
  return makeKey(a, b);
}

/**
 * Alias of {@link foldIn}, spelled as in JAX.
 *
 * @example
 * const k = fold_in(key(0), 7);
 */
export const fold_in = foldIn;

/**
 * The uint32 words of a key or an array of keys (any int32 array whose last axis has length 2), row-major, as
 * JAX's `jax.random.key_data`.
 *
 * @example
 * Array.from(keyData(split(key(0))));   // [4146024105, 967050713, 2718843009, 1272950319]
 */
export function keyData(keys: Tensor): Uint32Array {
  if (!(keys instanceof Tensor) || keys.dtype !== 'int32' || keys.shape.length === 0 || keys.shape[keys.shape.length - 1] !== 2) {
    throw new TypeError(`keyData: expected an int32 array of keys with a last axis of length 2, got ${describe(keys)}`);
  }
  const d = keys.concrete('keyData').data() as Int32Array;
  return new Uint32Array(d.buffer.slice(d.byteOffset, d.byteOffset + d.byteLength));
}

/**
 * Threefry-2x32 (20 rounds) applied to word pairs `(x0[i], x1[i])` under a two-word key, on plain numbers:
 * the raw hash under every sampler, exposed for tests and for other derivations. Inputs are read as uint32.
 *
 * @example
 * // Random123 known-answer vector
 * const [y0, y1] = threefry2x32([0x13198a2e, 0x03707344], [0x243f6a88], [0x85a308d3]);
 * // y0[0] === 0xc4923a9c, y1[0] === 0x483df7a0
 */
export function threefry2x32(
  key: ArrayLike<number>,
  x0: ArrayLike<number>,
  x1: ArrayLike<number>,
): [Uint32Array, Uint32Array] {
  return threefry2x32Words(key, x0, x1);
}

// ---------------------------------------------------------------------------------------------------------
// samplers

/**
 * Raw random bits: an int32 array of the given shape whose elements hold uniformly distributed uint32 bit
 * patterns (read them with `>>> 0`), as JAX's `jax.random.bits(key, shape, uint32)`.
 *
 * @example
 * const b = bits(key(1701), [3]);   // words [56197195, 4200222568, 961309823]
 */
export function bits(key: Tensor, shape: readonly number[] = []): Tensor {
  const [k0, k1] = readKey(key, 'bits');
  const s = checkShape(shape, 'bits');
  const words = bits32(k0, k1, s.size);
  return fromTypedArray(new Int32Array(words.buffer, words.byteOffset, words.length), s.shape, 'int32');
}

/** Uniform floats in [minval, maxval) from key words, exactly as JAX's `_uniform` computes them. */
function uniformValues(
  k0: number,
  k1: number,
  n: number,
  dtype: FloatDType,
  minval: number,
  maxval: number,
): Float32Array | Float64Array {
  if (dtype === 'float32') {
    const lo = f32(minval);
    const range = f32(f32(maxval) - lo);
    const b = bits32(k0, k1, n);
    const out = new Float32Array(n);
    for (let i = 0; i < n; i++) {
      // mantissa bits under exponent 0 give a float in [1, 2); minus 1 is exact: (bits >>> 9) * 2^-23
      const u = (b[i]! >>> 9) * 1.1920928955078125e-7;
      const v = fmaF32(u, range, lo);
      out[i] = v < lo ? lo : v;
    }
    return out;
  }
  const range = maxval - minval;
  const { hi, lo } = bits64(k0, k1, n);
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    // the top 52 of the 64 bits: (hi << 20) | (lo >>> 12), times 2^-52
    const u = (hi[i]! * 1048576 + (lo[i]! >>> 12)) * 2.220446049250313e-16;
    const v = fma64(u, range, minval);
    out[i] = v < minval ? minval : v;
  }
  return out;
}

/** Options of {@link uniform}. */
export interface UniformOptions {
  /** `'float32'` (default) or `'float64'`. */
  dtype?: FloatDType;
  /** Inclusive lower bound (default 0). */
  minval?: number;
  /** Exclusive upper bound (default 1); must exceed `minval`. */
  maxval?: number;
}

/**
 * Uniform floats in `[minval, maxval)`, as JAX's `jax.random.uniform`: the top 23 (float32) or 52 (float64)
 * random bits fill the mantissa of a float in [1, 2), minus 1, scaled and shifted (in the output dtype's
 * arithmetic), and clamped below at `minval`.
 *
 * @example
 * const u = uniform(key(0), [2, 3]);                              // float32 in [0, 1)
 * const v = uniform(key(1), [5], { minval: -1, maxval: 1, dtype: 'float64' });
 */
export function uniform(key: Tensor, shape: readonly number[] = [], options: UniformOptions = {}): Tensor {
  const [k0, k1] = readKey(key, 'uniform');
  const s = checkShape(shape, 'uniform');
  if (options === null || typeof options !== 'object') {
    throw new TypeError(`uniform: options must be an object like { dtype, minval, maxval }, got ${describe(options)}`);
  }
  const dtype = checkFloatDType(options.dtype ?? 'float32', 'uniform');
  const minval = checkFinite(options.minval ?? 0, 'minval', 'uniform');
  const maxval = checkFinite(options.maxval ?? 1, 'maxval', 'uniform');
  if (!(minval < maxval)) throw new RangeError(`uniform: minval must be less than maxval, got minval=${minval}, maxval=${maxval}`);
  const range = dtype === 'float32' ? f32(f32(maxval) - f32(minval)) : maxval - minval;
  if (!Number.isFinite(range)) {
    throw new RangeError(`uniform: maxval - minval overflows ${dtype} (minval=${minval}, maxval=${maxval})`);
  }
  if (!(range > 0)) {
    throw new RangeError(`uniform: minval=${minval} and maxval=${maxval} round to the same ${dtype} value`);
  }
  return fromTypedArray(uniformValues(k0, k1, s.size, dtype, minval, maxval), s.shape, dtype);
}

/** Standard normal values from key words, as JAX's `_normal_real`. */
function normalValues(k0: number, k1: number, n: number, dtype: FloatDType): Float32Array | Float64Array {
  if (dtype === 'float32') {
    // u in [nextafter(-1, 0), 1) so that erfinv stays finite
    const u = uniformValues(k0, k1, n, 'float32', -0.99999994039535522, 1);
    const sqrt2 = f32(Math.SQRT2);
    for (let i = 0; i < n; i++) u[i] = f32(sqrt2 * erfinvF32(u[i]!));
    return u;
  }
  const u = uniformValues(k0, k1, n, 'float64', -(1 - 2 ** -53), 1);
  for (let i = 0; i < n; i++) u[i] = Math.SQRT2 * erfinv(u[i]!);
  return u;
}

/**
 * Standard normal samples, as JAX's `jax.random.normal`: `sqrt(2) * erfinv(u)` for `u` uniform in
 * `[nextafter(-1, 0), 1)`.
 *
 * @example
 * const z = normal(key(0), [1000]);               // float32
 * const w = normal(key(1), [3, 3], 'float64');
 */
export function normal(key: Tensor, shape: readonly number[] = [], dtype: FloatDType = 'float32'): Tensor {
  const [k0, k1] = readKey(key, 'normal');
  const s = checkShape(shape, 'normal');
  const dt = checkFloatDType(dtype, 'normal');
  return fromTypedArray(normalValues(k0, k1, s.size, dt), s.shape, dt);
}

/**
 * Standard normal samples truncated to the open interval `(lower, upper)`, as JAX's
 * `jax.random.truncated_normal`: inverse-CDF sampling, `sqrt(2) * erfinv(u)` with `u` uniform between
 * `erf(lower / sqrt 2)` and `erf(upper / sqrt 2)`, clamped into the open interval. Bounds may be infinite.
 *
 * @example
 * const t = truncatedNormal(key(0), -2, 2, [100]);   // float32 in (-2, 2)
 */
export function truncatedNormal(
  key: Tensor,
  lower: number,
  upper: number,
  shape: readonly number[] = [],
  dtype: FloatDType = 'float32',
): Tensor {
  const [k0, k1] = readKey(key, 'truncatedNormal');
  const s = checkShape(shape, 'truncatedNormal');
  const dt = checkFloatDType(dtype, 'truncatedNormal');
  for (const [name, v] of [['lower', lower], ['upper', upper]] as const) {
    if (typeof v !== 'number' || Number.isNaN(v)) throw new TypeError(`truncatedNormal: ${name} must be a number, got ${describe(v)}`);
  }
  if (!(lower < upper)) throw new RangeError(`truncatedNormal: lower must be less than upper, got lower=${lower}, upper=${upper}`);
  const n = s.size;
  let out: Float32Array | Float64Array;
  if (dt === 'float32') {
    const sqrt2 = f32(Math.SQRT2);
    const lo = f32(lower);
    const up = f32(upper);
    const a = f32(erf(f32(lo / sqrt2)));
    const b = f32(erf(f32(up / sqrt2)));
    out = uniformValues(k0, k1, n, 'float32', a, b);
    const minB = nextAfter(lo, Infinity, 'float32');
    const maxB = nextAfter(up, -Infinity, 'float32');
    for (let i = 0; i < n; i++) {
      const v = f32(sqrt2 * erfinvF32(out[i]!));
      out[i] = Math.min(Math.max(v, minB), maxB);
    }
  } else {
    const a = erf(lower / Math.SQRT2);
    const b = erf(upper / Math.SQRT2);
    out = uniformValues(k0, k1, n, 'float64', a, b);
    const minB = nextAfter(lower, Infinity, 'float64');
    const maxB = nextAfter(upper, -Infinity, 'float64');
    for (let i = 0; i < n; i++) out[i] = Math.min(Math.max(Math.SQRT2 * erfinv(out[i]!), minB), maxB);
  }
  return fromTypedArray(out, s.shape, dt);
}

/**
 * Bernoulli samples with mean `p`: a bool array, `uniform(key, shape) < p` in float32 as JAX's
 * `jax.random.bernoulli` computes it for a Python-float `p`.
 *
 * @example
 * const coin = bernoulli(key(0), 0.3, [10]);   // bool, about 30% true
 */
export function bernoulli(key: Tensor, p = 0.5, shape: readonly number[] = []): Tensor {
  const [k0, k1] = readKey(key, 'bernoulli');
  if (typeof p !== 'number') throw new TypeError(`bernoulli: p must be a number in [0, 1], got ${describe(p)}`);
  if (!(p >= 0 && p <= 1)) throw new RangeError(`bernoulli: p must be in [0, 1], got ${p}`);
  const s = checkShape(shape, 'bernoulli');
  const u = uniformValues(k0, k1, s.size, 'float32', 0, 1);
  const pf = f32(p);
  const out = new Uint8Array(s.size);
  for (let i = 0; i < s.size; i++) out[i] = u[i]! < pf ? 1 : 0;
  return fromTypedArray(out, s.shape, 'bool');
}

/** Gumbel samples from key words, as JAX's `_gumbel` in its default ("low") mode. */
function gumbelValues(k0: number, k1: number, n: number, dtype: FloatDType): Float32Array | Float64Array {
  if (dtype === 'float32') {
    const u = uniformValues(k0, k1, n, 'float32', 1.1754943508222875e-38, 1); // finfo(float32).tiny
    for (let i = 0; i < n; i++) u[i] = -f32(Math.log(-f32(Math.log(u[i]!))));
    return u;
  }
  const u = uniformValues(k0, k1, n, 'float64', 2.2250738585072014e-308, 1); // finfo(float64).tiny
  for (let i = 0; i < n; i++) u[i] = -Math.log(-Math.log(u[i]!));
  return u;
}

/**
 * Standard Gumbel samples, `-log(-log(u))` with `u` uniform in `[tiny, 1)`, as JAX's `jax.random.gumbel`.
 *
 * @example
 * const g = gumbel(key(0), [5]);
 */
export function gumbel(key: Tensor, shape: readonly number[] = [], dtype: FloatDType = 'float32'): Tensor {
  const [k0, k1] = readKey(key, 'gumbel');
  const s = checkShape(shape, 'gumbel');
  const dt = checkFloatDType(dtype, 'gumbel');
  return fromTypedArray(gumbelValues(k0, k1, s.size, dt), s.shape, dt);
}

/**
 * Uniform integers in `[minval, maxval)` as an int32 array, as JAX's `jax.random.randint` (two words of random
 * bits per element reduced modulo the span, which keeps the bias below 2^-32 for any span).
 * `minval` must be an int32 and `maxval` an integer in `(minval, 2^31]`.
 *
 * @example
 * const dice = randint(key(0), [10], 1, 7);   // int32 in 1..6
 */
export function randint(key: Tensor, shape: readonly number[], minval: number, maxval: number): Tensor {
  const [k0, k1] = readKey(key, 'randint');
  const s = checkShape(shape, 'randint');
  if (typeof minval !== 'number' || !Number.isInteger(minval)) throw new TypeError(`randint: minval must be an integer, got ${describe(minval)}`);
  if (typeof maxval !== 'number' || !Number.isInteger(maxval)) throw new TypeError(`randint: maxval must be an integer, got ${describe(maxval)}`);
  if (minval < INT32_MIN || minval > INT32_MAX) throw new RangeError(`randint: minval must be an int32, got ${minval}`);
  if (maxval > INT32_MAX + 1) throw new RangeError(`randint: maxval must be at most 2^31 (int32 results), got ${maxval}`);
  if (!(minval < maxval)) throw new RangeError(`randint: minval must be less than maxval, got minval=${minval}, maxval=${maxval}`);
  const n = s.size;
  const keys = splitKey(k0, k1, 2);
  const higher = bits32(keys[0]!, keys[1]!, n);
  const lower = bits32(keys[2]!, keys[3]!, n);
  // JAX clips maxval to the dtype's range and widens the span by one when it was clipped; a span of 2^32
  // wraps to 0, and XLA's unsigned x % 0 is x, which makes the reduction below the identity.
  const maxClipped = Math.min(maxval, INT32_MAX);
  let span = (maxClipped - minval) >>> 0;
  if (maxval > INT32_MAX) span = (span + 1) >>> 0;
  const rem = (x: number, m: number): number => (m === 0 ? x : x % m);
  let multiplier = rem(65536, span); // 2^(32/2) mod span
  multiplier = rem(Math.imul(multiplier, multiplier) >>> 0, span);
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const offset = rem(((Math.imul(rem(higher[i]!, span), multiplier) >>> 0) + rem(lower[i]!, span)) >>> 0, span);
    out[i] = (minval + offset) | 0;
  }
  return fromTypedArray(out, s.shape, 'int32');
}

/** A permutation of 0..n-1, as JAX's `_shuffle` of `arange(n)`: rounds of stable sorts by fresh random words. */
/** Indices of `keys` (uint32) sorted by key, ties by index. */
function sortedOrder(keys: ArrayLike<number>): ArrayLike<number> {
  const n = keys.length;
  if (n <= INDEX_RANGE) {
    // key·2^21 + index is exact in a float64: one native numeric sort instead of a comparator (8x faster at 120k)
    const packed = new Float64Array(n);
    for (let i = 0; i < n; i++) packed[i] = keys[i]! * INDEX_RANGE + i;
    packed.sort();
    const order = new Int32Array(n);
    for (let i = 0; i < n; i++) order[i] = packed[i]! % INDEX_RANGE;
    return order;
  }
  const order = Array.from({ length: n }, (_, i) => i);
  return order.sort((i, j) => keys[i]! - keys[j]! || i - j);
}
const INDEX_RANGE = 2 ** 21;

function shuffledIndices(k0: number, k1: number, n: number): Int32Array {
  let perm = new Int32Array(n);
  for (let i = 0; i < n; i++) perm[i] = i;
  // enough rounds that all sort keys are distinct across rounds with high probability (3 ln n / ln(2^32 - 1))
  const rounds = Math.ceil((3 * Math.log(Math.max(1, n))) / Math.log(4294967295));
  let a = k0;
  let b = k1;
  for (let r = 0; r < rounds; r++) {
    const ks = splitKey(a, b, 2);
    a = ks[0]!;
    b = ks[1]!;
    const order = sortedOrder(bits32(ks[2]!, ks[3]!, n));
    const next = new Int32Array(n);
    for (let i = 0; i < n; i++) next[i] = perm[order[i]!]!;
    perm = next;
  }
  return perm;
}

/**
 * A random permutation, as JAX's `jax.random.permutation` (with `axis=0`): for a number `n`, a shuffled
 * `arange(n)` (int32); for an array, its slices along axis 0 in shuffled order (same dtype and shape). A 0-d
 * int32 array counts as `n`.
 *
 * @example
 * const p = permutation(key(0), 5);                  // e.g. int32 [3, 0, 4, 1, 2]
 * const rows = permutation(key(1), array([[1, 2], [3, 4], [5, 6]]));
 */
export function permutation(key: Tensor, x: number | Tensor): Tensor {
  const [k0, k1] = readKey(key, 'permutation');
  if (typeof x === 'number') {
    const n = checkCount(x, 'n', 'permutation');
    return fromTypedArray(shuffledIndices(k0, k1, n), [n], 'int32');
  }
  if (!(x instanceof Tensor)) {
    throw new TypeError(`permutation: expected a non-negative integer n or an array, got ${describe(x)}`);
  }
  if (x.shape.length === 0) {
    if (x.dtype !== 'int32') {
      throw new TypeError(`permutation: a 0-d array must be an int32 count, got ${describe(x)}; pass an array of rank >= 1 to shuffle it`);
    }
    const n = checkCount(x.concrete('permutation').data()[0], 'n', 'permutation');
    return fromTypedArray(shuffledIndices(k0, k1, n), [n], 'int32');
  }
  const n = x.shape[0]!;
  const perm = shuffledIndices(k0, k1, n);
  const src = x.concrete('permutation').data();
  const rowSize = n === 0 ? 0 : src.length / n;
  const dst = new (src.constructor as new (len: number) => TypedArray)(src.length);
  for (let i = 0; i < n; i++) dst.set(src.subarray(perm[i]! * rowSize, (perm[i]! + 1) * rowSize), i * rowSize);
  return fromTypedArray(dst, x.shape, x.dtype);
}

/** Options of {@link categorical}. */
export interface CategoricalOptions {
  /** The axis of `logits` that indexes the categories (default -1). */
  axis?: number;
  /**
   * The output shape (default: `logits.shape` without `axis`). It must end with the batch shape (the logits'
   * shape without `axis`, each of its dimensions equal or 1); leading dimensions draw independent samples.
   */
  shape?: readonly number[];
}

/**
 * Samples from categorical distributions given unnormalized log-probabilities, as JAX's
 * `jax.random.categorical` (Gumbel-max: the argmax over `axis` of `logits + gumbel noise`). Returns int32
 * category indices.
 *
 * @example
 * const logits = array([Math.log(0.2), Math.log(0.8)]);
 * const c = categorical(key(0), logits, { shape: [1000] });   // int32, about 80% ones
 */
export function categorical(key: Tensor, logits: Tensor, options: CategoricalOptions = {}): Tensor {
  const [k0, k1] = readKey(key, 'categorical');
  if (!(logits instanceof Tensor)) throw new TypeError(`categorical: logits must be a float array, got ${describe(logits)}`);
  if (logits.dtype !== 'float32' && logits.dtype !== 'float64') {
    throw new TypeError(`categorical: logits must be a float array, got ${describe(logits)}`);
  }
  if (options === null || typeof options !== 'object') {
    throw new TypeError(`categorical: options must be an object like { axis, shape }, got ${describe(options)}`);
  }
  const ndim = logits.shape.length;
  if (ndim === 0) throw new RangeError('categorical: logits must have at least one axis (the categories)');
  const axisArg = options.axis ?? -1;
  if (typeof axisArg !== 'number' || !Number.isInteger(axisArg)) {
    throw new TypeError(`categorical: axis must be an integer, got ${describe(axisArg)}`);
  }
  if (axisArg < -ndim || axisArg >= ndim) {
    throw new RangeError(`categorical: axis ${axisArg} is out of range for logits of rank ${ndim}`);
  }
  const axis = axisArg < 0 ? axisArg + ndim : axisArg;
  const numCats = logits.shape[axis]!;
  if (numCats === 0) throw new RangeError('categorical: logits have no categories (axis of length 0)');
  const batch = logits.shape.filter((_, i) => i !== axis);
  const out = options.shape === undefined ? { shape: batch, size: batch.reduce((a, b) => a * b, 1) } : checkShape(options.shape, 'categorical');
  const shape = out.shape;
  const prefixLen = shape.length - batch.length;
  const compatible =
    prefixLen >= 0 && batch.every((d, i) => d === shape[prefixLen + i] || d === 1);
  if (!compatible) {
    throw new RangeError(
      `categorical: shape [${shape.join(',')}] must end with the batch shape [${batch.join(',')}] of the logits (logits shape [${logits.shape.join(',')}], axis ${axis})`,
    );
  }
  // noise has the output shape with the category axis inserted at prefixLen + axis
  const noiseShape = [...shape.slice(0, prefixLen + axis), numCats, ...shape.slice(prefixLen + axis)];
  const noiseSize = noiseShape.reduce((a, b) => a * b, 1);
  if (noiseSize > MAX_ELEMENTS) throw new RangeError(`categorical: ${noiseSize} noise values needed, more than the ${MAX_ELEMENTS} supported`);
  const dtype = logits.dtype as FloatDType;
  const g = gumbelValues(k0, k1, noiseSize, dtype);
  const lg = logits.concrete('categorical').data();
  // strides of the noise array, and of the logits broadcast against the noise's trailing dimensions
  const noiseStrides = stridesOf(noiseShape);
  const logitStridesRaw = stridesOf(logits.shape);
  const logitStrides = noiseShape.map((_, j) => {
    const li = j - prefixLen;
    if (li < 0) return 0;
    return logits.shape[li] === 1 && noiseShape[j] !== 1 ? 0 : logitStridesRaw[li]!;
  });
  const catDim = prefixLen + axis;
  const result = new Int32Array(out.size);
  const idx = new Array<number>(noiseShape.length).fill(0);
  const round = dtype === 'float32' ? f32 : (v: number) => v;
  for (let o = 0; o < out.size; o++) {
    // decode o over the output shape into idx (skipping the category dimension)
    let rem = o;
    for (let j = noiseShape.length - 1; j >= 0; j--) {
      if (j === catDim) continue;
      const d = noiseShape[j]!;
      idx[j] = rem % d;
      rem = Math.floor(rem / d);
    }
    let gBase = 0;
    let lBase = 0;
    for (let j = 0; j < noiseShape.length; j++) {
      if (j === catDim) continue;
      gBase += idx[j]! * noiseStrides[j]!;
      lBase += idx[j]! * logitStrides[j]!;
    }
    let best = -Infinity;
    let bestK = 0;
    let found = false;
    for (let k = 0; k < numCats; k++) {
      const v = round(g[gBase + k * noiseStrides[catDim]!]! + lg[lBase + k * logitStrides[catDim]!]!);
      if (Number.isNaN(v)) {
        bestK = k; // argmax picks the first NaN, as jnp.argmax does
        break;
      }
      if (!found || v > best) {
        best = v;
        bestK = k;
        found = true;
      }
    }
    result[o] = bestK;
  }
  return fromTypedArray(result, shape, 'int32');
}

