/**
 * Tests of the random module: Threefry known answers, agreement with JAX, determinism, independence of
 * derived keys, distribution sanity, and argument errors.
 *
 * Where the expected values come from:
 * - "Random123": the Threefry-2x32 known-answer vectors of the reference implementation, as JAX's
 *   tests/random_test.py (testThreefry2x32) checks them.
 * - "JAX tests/docs": vectors printed in JAX's own tests (testPRNGValues, testRngRandomBits, the
 *   RandomValuesCase table, whose seeds are zlib.adler32 of name + 'threefry2x32') and docs (the
 *   `split(PRNGKey(0))` walkthrough). These hold for jax_threefry_partitionable=False, x64 disabled.
 * - "JAX 0.10.2": produced with jax/jaxlib 0.10.2 on CPU for this suite, e.g.
 *     jax.config.update('jax_threefry_partitionable', False)   # or True
 *     np.asarray(jax.random.uniform(jax.random.PRNGKey(0), (5,))).view(np.uint32)
 *   (float64 cases with jax.config.update('jax_enable_x64', True)).
 */
import { afterEach, describe, expect, it } from 'vitest';
import '../src/backends/cpu/index.js';
import { Tensor, fromTypedArray } from '../src/core/tensor.js';
import {
  PRNGKey,
  bernoulli,
  bits,
  categorical,
  foldIn,
  fold_in,
  gumbel,
  isThreefryPartitionable,
  key,
  keyData,
  normal,
  permutation,
  randint,
  setThreefryPartitionable,
  split,
  splitKeys,
  threefry2x32,
  truncatedNormal,
  uniform,
} from '../src/random/index.js';
import { erf, erfc, erfinv, erfinvF32 } from '../src/random/special.js';
import { fmaF32 } from '../src/random/float.js';
import fc from 'fast-check';

afterEach(() => {
  setThreefryPartitionable(false);
});

/** The uint32 words of an int32 tensor. */
const words = (t: Tensor): number[] => Array.from(t.data() as Int32Array, (v) => v >>> 0);
/** The float32 bit patterns of a float32 tensor. */
const f32Bits = (t: Tensor): number[] => Array.from(new Uint32Array((t.data() as Float32Array).slice().buffer));
/** The float64 bit patterns of a float64 tensor, as decimal strings. */
const f64Bits = (t: Tensor): string[] => Array.from(new BigUint64Array((t.data() as Float64Array).slice().buffer), String);
const values = (t: Tensor): number[] => Array.from(t.data());

/** zlib's adler32, to derive the seeds of JAX's RandomValuesCase table. */
function adler32(s: string): number {
  let a = 1;
  let b = 0;
  for (const ch of Buffer.from(s, 'utf8')) {
    a = (a + ch) % 65521;
    b = (b + a) % 65521;
  }
  return ((b << 16) | a) >>> 0;
}
const caseSeed = (name: string): number => adler32(`${name}threefry2x32`);

function mean(xs: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < xs.length; i++) s += xs[i]!;
  return s / xs.length;
}
function variance(xs: ArrayLike<number>): number {
  const m = mean(xs);
  let s = 0;
  for (let i = 0; i < xs.length; i++) s += (xs[i]! - m) ** 2;
  return s / xs.length;
}
/** Largest distance in float32 ulps between two float32 bit-pattern lists of equal sign. */
const maxUlp = (a: number[], b: number[]): number => Math.max(...a.map((x, i) => Math.abs(x - b[i]!)));

describe('threefry2x32: Random123 known answers', () => {
  it('key (0, 0), counter (0, 0)', () => {
    const [y0, y1] = threefry2x32([0, 0], [0], [0]);
    expect([y0[0], y1[0]]).toEqual([0x6b200159, 0x99ba4efe]);
  });
  it('key (2^32 - 1, 2^32 - 1), counter (2^32 - 1, 2^32 - 1)', () => {
    const [y0, y1] = threefry2x32([0xffffffff, 0xffffffff], [0xffffffff], [0xffffffff]);
    expect([y0[0], y1[0]]).toEqual([0x1cb996fc, 0xbb002be7]);
  });
  it('key (0x13198a2e, 0x03707344), counter (0x243f6a88, 0x85a308d3) (digits of pi)', () => {
    const [y0, y1] = threefry2x32([0x13198a2e, 0x03707344], [0x243f6a88], [0x85a308d3]);
    expect([y0[0], y1[0]]).toEqual([0xc4923a9c, 0x483df7a0]);
  });
  it('is element-wise over arrays of counters', () => {
    const [y0, y1] = threefry2x32([0x13198a2e, 0x03707344], [0, 0x243f6a88, 0], [0, 0x85a308d3, 0]);
    expect([y0[1], y1[1]]).toEqual([0xc4923a9c, 0x483df7a0]);
    expect(y0[0]).toBe(y0[2]);
    expect(y1[0]).toBe(y1[2]);
  });
  it('rejects mismatched inputs', () => {
    expect(() => threefry2x32([1], [0], [0])).toThrow(/key must have 2 words/);
    expect(() => threefry2x32([1, 2], [0, 1], [0])).toThrow(/same length/);
  });
});

describe('key', () => {
  it('is an int32 [2] array of [hi32, lo32]', () => {
    const k = key(42);
    expect(k.dtype).toBe('int32');
    expect(k.shape).toEqual([2]);
    expect(words(k)).toEqual([0, 42]);
    expect(words(key(0))).toEqual([0, 0]);
    expect(words(key(4294967295))).toEqual([0, 4294967295]);
    expect(words(key(2 ** 31 + 5))).toEqual([0, 2147483653]);
  });
  it('takes negative seeds as JAX does for int32 seeds (JAX tests: test_prng_seeds_and_keys)', () => {
    expect(words(key(-1))).toEqual([0, 4294967295]);
    expect(words(key(-2))).toEqual([0, 4294967294]);
    expect(words(key(-3))).toEqual([0, 4294967293]);
    expect(words(key(-(2 ** 31) - 100))).toEqual([0, 2147483548]);
  });
  it('splits seeds above 2^32 into high and low words as JAX with x64 (JAX 0.10.2)', () => {
    expect(words(key(2 ** 40 + 3))).toEqual([256, 3]);
    expect(words(key(2 ** 53 - 1))).toEqual([2097151, 4294967295]);
  });
  it('PRNGKey is an alias', () => {
    expect(words(PRNGKey(7))).toEqual(words(key(7)));
  });
  it('keyData reads the uint32 words of keys', () => {
    expect(Array.from(keyData(key(-1)))).toEqual([0, 4294967295]);
    expect(Array.from(keyData(split(key(0))))).toEqual([4146024105, 967050713, 2718843009, 1272950319]);
  });
});

describe('agreement with JAX (classic threefry, jax_threefry_partitionable=False)', () => {
  it('split(PRNGKey(0)) (JAX docs)', () => {
    const ks = split(key(0));
    expect(ks.shape).toEqual([2, 2]);
    expect(ks.dtype).toBe('int32');
    expect(words(ks)).toEqual([4146024105, 967050713, 2718843009, 1272950319]);
  });
  it('split(PRNGKey(0), 4) and fold_in(PRNGKey(0), 4) (JAX tests: testPRNGValues)', () => {
    expect(words(split(key(0), 4))).toEqual([
      2285895361, 1501764800, 1518642379, 4090693311, 433833334, 4221794875, 839183663, 3740430601,
    ]);
    expect(words(foldIn(key(0), 4))).toEqual([2285895361, 433833334]);
  });
  it('randint(PRNGKey(0), (3, 3), 0, 8) (JAX tests: testPRNGValues)', () => {
    const r = randint(key(0), [3, 3], 0, 8);
    expect(r.dtype).toBe('int32');
    expect(r.toArray()).toEqual([[2, 1, 3], [6, 1, 5], [6, 3, 4]]);
  });
  it('random_bits(PRNGKey(1701), 32, (3,)) (JAX tests: testRngRandomBits)', () => {
    expect(words(bits(key(1701), [3]))).toEqual([56197195, 4200222568, 961309823]);
  });
  it('normal(subkey) after split(PRNGKey(0)) (JAX docs) and normal(PRNGKey(0), (4,))', () => {
    const [, sub] = splitKeys(key(0));
    expect(normal(sub!, [1]).item()).toBeCloseTo(-1.2515389, 6);
    // JAX 0.10.2: these four are bit-identical
    expect(f32Bits(normal(key(0), [4]))).toEqual([1072199044, 3208724519, 1051592177, 3205032696]);
  });
  it("the RandomValuesCase table of JAX's tests (seeds adler32(name + 'threefry2x32'))", () => {
    expect(caseSeed('uniform')).toBe(1338574713);
    expect(words(bits(key(caseSeed('bits')), [5]))).toEqual([1978747883, 4134381225, 3628107870, 689687174, 2788938207]);
    const u = values(uniform(key(caseSeed('uniform')), [5]));
    [0.298671, 0.073213, 0.873356, 0.260549, 0.412797].forEach((e, i) => expect(u[i]).toBeCloseTo(e, 6));
    const z = values(normal(key(caseSeed('normal')), [5]));
    [-1.173234, -1.511662, 0.070593, -0.099764, 1.052845].forEach((e, i) => expect(z[i]).toBeCloseTo(e, 5));
    expect(bernoulli(key(caseSeed('bernoulli')), 0.5, [5]).toArray()).toEqual([false, true, true, true, false]);
    expect(randint(key(caseSeed('randint')), [5], 0, 10).toArray()).toEqual([0, 5, 7, 7, 5]);
    const g = values(gumbel(key(caseSeed('gumbel')), [5]));
    [2.06701, 0.911726, 0.145736, 0.185427, -0.00711].forEach((e, i) => expect(g[i]).toBeCloseTo(e, 5));
    const t = values(truncatedNormal(key(caseSeed('truncated_normal')), 0, 2, [5]));
    [0.582807, 1.709771, 0.159513, 0.861376, 0.36148].forEach((e, i) => expect(t[i]).toBeCloseTo(e, 5));
  });
  it('bits, split and fold_in for other keys and shapes (JAX 0.10.2)', () => {
    expect(words(split(key(42), 3))).toEqual([3134548294, 3733159049, 3746501087, 894150801, 801545058, 2363201431]);
    const b = bits(key(7), [2, 3]);
    expect(b.shape).toEqual([2, 3]);
    expect(words(b)).toEqual([276534068, 861967409, 1905761346, 1641862660, 2900896126, 1402713516]);
    expect(words(foldIn(key(123), 7))).toEqual([4195957486, 134989543]);
    expect(words(fold_in(key(0), 2 ** 32 - 1))).toEqual([743310391, 3789761811]);
    expect(words(foldIn(key(0), -1))).toEqual(words(foldIn(key(0), 2 ** 32 - 1)));
  });
  it('uniform float32 bit for bit, also with a custom range (JAX 0.10.2)', () => {
    expect(f32Bits(uniform(key(0), [5]))).toEqual([1058214518, 1036789808, 1053379660, 1063577822, 1058584726]);
    expect(f32Bits(uniform(key(0), [4], { minval: -3, maxval: 5 }))).toEqual([1083645774, 3214503920, 1074011264, 3206611600]);
  });
  it('uniform float64 bit for bit (JAX 0.10.2 with x64)', () => {
    const u = uniform(key(0), [3], { dtype: 'float64' });
    expect(u.dtype).toBe('float64');
    expect(f64Bits(u)).toEqual(['4603349860324515098', '4591847560537749648', '4604858254687633674']);
    expect(f64Bits(uniform(key(9), [3], { dtype: 'float64', minval: -1, maxval: 4 }))).toEqual([
      '4608018391554645511', '4598708124477776936', '4612193389417491975',
    ]);
  });
  it('normal float64 to ~1e-13 (JAX 0.10.2 with x64; XLA uses its own erfinv approximation)', () => {
    const z = values(normal(key(0), [4], 'float64'));
    [0.08086788103743275, -0.38624702418001494, -0.375655579778275, 1.6689742332629889].forEach((e, i) =>
      expect(Math.abs(z[i]! - e)).toBeLessThan(1e-13 * Math.max(1, Math.abs(e))),
    );
  });
  it('bernoulli, randint, permutation and categorical exactly (JAX 0.10.2)', () => {
    expect(values(bernoulli(key(3), 0.3, [12]))).toEqual([0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 1, 0]);
    expect(values(randint(key(5), [8], -(2 ** 31), 2 ** 31 - 1))).toEqual([
      -631991348, -240924254, 922630856, -1224179652, 1356799722, 1704645978, -472887596, -2025232948,
    ]);
    expect(values(randint(key(5), [8], 0, 1000))).toEqual([900, 602, 504, 388, 26, 818, 396, 100]);
    expect(values(permutation(key(0), 10))).toEqual([2, 7, 9, 6, 0, 8, 1, 3, 4, 5]);
    const rows = permutation(key(1), fromTypedArray(Int32Array.from([0, 1, 2, 3, 4, 5]), [3, 2], 'int32'));
    expect(rows.toArray()).toEqual([[4, 5], [0, 1], [2, 3]]);
    const logits = fromTypedArray(Float32Array.from([0, 1, 2, -1]), [4], 'float32');
    expect(values(categorical(key(2), logits, { shape: [10] }))).toEqual([2, 0, 2, 3, 0, 2, 2, 0, 0, 0]);
    const logits2 = fromTypedArray(Float32Array.from([0, 1, 2, -1, 0.5, 0.5]), [3, 2], 'float32');
    expect(values(categorical(key(2), logits2, { axis: 0 }))).toEqual([1, 0]);
  });
  it('gumbel and truncatedNormal to float32 rounding (JAX 0.10.2)', () => {
    const g = values(gumbel(key(0), [3]));
    [3.3440380096435547, -0.1451333463191986, 0.7825522422790527].forEach((e, i) => expect(g[i]).toBeCloseTo(e, 5));
    const t = values(truncatedNormal(key(0), -1, 2, [3]));
    [1.6339194774627686, -0.21149131655693054, 0.45890870690345764].forEach((e, i) => expect(t[i]).toBeCloseTo(e, 5));
  });
});

describe('agreement with JAX >= 0.5 (jax_threefry_partitionable=True)', () => {
  it('switches globally and reports the previous setting', () => {
    expect(isThreefryPartitionable()).toBe(false);
    expect(setThreefryPartitionable(true)).toBe(false);
    expect(isThreefryPartitionable()).toBe(true);
    expect(setThreefryPartitionable(false)).toBe(true);
    expect(() => setThreefryPartitionable('yes' as unknown as boolean)).toThrow(TypeError);
  });
  it('split, bits, uniform, normal, randint, permutation (JAX 0.10.2)', () => {
    setThreefryPartitionable(true);
    expect(words(split(key(0), 8))).toEqual([
      1797259609, 2579123966, 928981903, 3453687069, 4146024105, 2718843009, 2467461003, 3840466878, 2285895361,
      433833334, 1524306142, 1887795613, 3792494674, 2909014575, 2716826189, 292468403,
    ]);
    expect(words(split(key(42), 3))).toEqual([1832780943, 270669613, 64467757, 2916123636, 2465931498, 255383827]);
    expect(words(bits(key(1701), [3]))).toEqual([1111271205, 2679469115, 974515252]);
    expect(f32Bits(uniform(key(0), [5]))).toEqual([1064475214, 1064993846, 1051337244, 1055913296, 1058137146]);
    expect(f32Bits(normal(key(0), [4]))).toEqual([1070576317, 1073847792, 3202220055, 3181445666]);
    expect(randint(key(0), [3, 3], 0, 8).toArray()).toEqual([[5, 0, 0], [5, 3, 3], [0, 7, 5]]);
    expect(values(permutation(key(0), 10))).toEqual([0, 1, 8, 5, 6, 4, 3, 2, 7, 9]);
    expect(f64Bits(uniform(key(0), [3], { dtype: 'float64' }))).toEqual([
      '4601209873087491728', '4596960885320641928', '4606870062290452936',
    ]);
  });
  it('fold_in is unchanged and equals the split children (JAX tests: test_threefry_split_fold_in_symmetry)', () => {
    setThreefryPartitionable(true);
    expect(words(foldIn(key(0), 4))).toEqual([2285895361, 433833334]);
    const ks = splitKeys(key(72), 3);
    ks.forEach((k, i) => expect(words(k)).toEqual(words(foldIn(key(72), i))));
  });
});

describe('determinism and independence', () => {
  it('the same key gives the same numbers', () => {
    for (const f of [
      (k: Tensor) => uniform(k, [50]),
      (k: Tensor) => normal(k, [50]),
      (k: Tensor) => bernoulli(k, 0.5, [50]),
      (k: Tensor) => randint(k, [50], -3, 9),
      (k: Tensor) => permutation(k, 50),
      (k: Tensor) => gumbel(k, [50], 'float64'),
      (k: Tensor) => truncatedNormal(k, -1, 1, [50]),
    ]) {
      expect(values(f(key(11)))).toEqual(values(f(key(11))));
      expect(values(f(key(11)))).not.toEqual(values(f(key(12))));
    }
  });
  it('split children differ from each other and from the parent', () => {
    const parent = key(5);
    const children = splitKeys(parent, 8).map(words);
    const all = [words(parent), ...children].map((w) => w.join(','));
    expect(new Set(all).size).toBe(all.length);
    const samples = splitKeys(parent, 8).map((k) => values(uniform(k, [4])).join(','));
    expect(new Set(samples).size).toBe(samples.length);
  });
  it('splitKeys matches split row by row; split(key, 1) and split(key, 0)', () => {
    const flat = words(split(key(9), 5));
    splitKeys(key(9), 5).forEach((k, i) => expect(words(k)).toEqual(flat.slice(2 * i, 2 * i + 2)));
    expect(split(key(9), 1).shape).toEqual([1, 2]);
    expect(split(key(9), 0).shape).toEqual([0, 2]);
  });
  it('foldIn gives distinct keys for distinct data, distinct from split children', () => {
    const folded = Array.from({ length: 100 }, (_, i) => words(foldIn(key(1), i)).join(','));
    expect(new Set(folded).size).toBe(100);
    const children = words(split(key(1), 4));
    const childKeys = [0, 1, 2, 3].map((i) => children.slice(2 * i, 2 * i + 2).join(','));
    expect(childKeys.some((c) => folded.includes(c))).toBe(false);
  });
  it('a prefix of a longer draw is not a shorter draw (counter-based, not a stream), but shape only reshapes', () => {
    expect(values(uniform(key(3), [2, 3]))).toEqual(values(uniform(key(3), [6])));
    expect(values(uniform(key(3), [6])).slice(0, 3)).not.toEqual(values(uniform(key(3), [3])));
  });
  it('empty shapes and scalars', () => {
    expect(uniform(key(0), [0, 3]).shape).toEqual([0, 3]);
    const s = normal(key(0));
    expect(s.shape).toEqual([]);
    expect(Number.isFinite(s.item())).toBe(true);
    expect(permutation(key(0), 0).shape).toEqual([0]);
    expect(values(permutation(key(0), 1))).toEqual([0]);
  });
});

describe('distributions', () => {
  const N = 100_000;
  it('uniform: mean 1/2, variance 1/12, within [0, 1); custom range, float64', () => {
    const u = uniform(key(0), [N]).data();
    expect(Math.abs(mean(u) - 0.5)).toBeLessThan(0.005);
    expect(Math.abs(variance(u) - 1 / 12)).toBeLessThan(0.002);
    expect(Math.min(...u)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...u)).toBeLessThan(1);
    const v = uniform(key(1), [N], { minval: -2, maxval: 6, dtype: 'float64' }).data();
    expect(Math.abs(mean(v) - 2)).toBeLessThan(0.04);
    expect(Math.abs(variance(v) - 64 / 12)).toBeLessThan(0.1);
    expect(Math.min(...v)).toBeGreaterThanOrEqual(-2);
    expect(Math.max(...v)).toBeLessThan(6);
  });
  it('normal: mean 0, variance 1, tails (float32 and float64)', () => {
    for (const dtype of ['float32', 'float64'] as const) {
      const z = normal(key(2), [N], dtype).data();
      expect(Math.abs(mean(z))).toBeLessThan(0.016);
      expect(Math.abs(variance(z) - 1)).toBeLessThan(0.025);
      let tail = 0;
      for (const x of z) if (Math.abs(x) > 1.959964) tail++;
      expect(Math.abs(tail / N - 0.05)).toBeLessThan(0.005);
      expect(z.every(Number.isFinite)).toBe(true);
    }
  });
  it('truncatedNormal stays in the open interval and is centred', () => {
    const t = truncatedNormal(key(3), -0.5, 0.5, [N]).data();
    expect(t.every((x) => x > -0.5 && x < 0.5)).toBe(true);
    expect(Math.abs(mean(t))).toBeLessThan(0.005);
    const one = truncatedNormal(key(3), 1, Infinity, [1000], 'float64').data();
    expect(one.every((x) => x > 1 && Number.isFinite(x))).toBe(true);
    expect(Math.abs(mean(one) - 1.5251)).toBeLessThan(0.05); // E[Z | Z > 1] = φ(1) / (1 - Φ(1))
  });
  it('bernoulli: frequency ≈ p; p = 0 and p = 1 are certain', () => {
    for (const p of [0.1, 0.5, 0.9]) {
      const b = bernoulli(key(4), p, [N]);
      expect(b.dtype).toBe('bool');
      expect(Math.abs(mean(b.data()) - p)).toBeLessThan(0.01);
    }
    expect(mean(bernoulli(key(4), 0, [1000]).data())).toBe(0);
    expect(mean(bernoulli(key(4), 1, [1000]).data())).toBe(1);
  });
  it('randint: every value in range, about equally often; full int32 range', () => {
    const r = randint(key(5), [70_000], -3, 4).data();
    const counts = new Array(7).fill(0);
    for (const v of r) counts[v + 3]++;
    for (const c of counts) expect(Math.abs(c - 10_000)).toBeLessThan(500);
    const full = randint(key(6), [10_000], -(2 ** 31), 2 ** 31).data();
    expect(full.some((v) => v < -(2 ** 30))).toBe(true);
    expect(full.some((v) => v > 2 ** 30)).toBe(true);
  });
  it('permutation: a permutation, uniform over positions', () => {
    const n = 10;
    const trials = 2000;
    const counts = Array.from({ length: n }, () => new Array(n).fill(0));
    for (let t = 0; t < trials; t++) {
      const p = values(permutation(foldIn(key(7), t), n));
      expect([...p].sort((a, b) => a - b)).toEqual([...Array(n).keys()]);
      p.forEach((v, pos) => counts[v]![pos]++);
    }
    for (const row of counts) for (const c of row) expect(Math.abs(c - trials / n)).toBeLessThan(60);
    const big = values(permutation(key(8), 5000)); // two sort rounds (n > 2^(32/3))
    expect([...big].sort((a, b) => a - b)).toEqual([...Array(5000).keys()]);
  });
  it('permutation of an array shuffles its rows and keeps dtype and shape', () => {
    const x = fromTypedArray(Float64Array.from({ length: 12 }, (_, i) => i), [4, 3], 'float64');
    const y = permutation(key(9), x);
    expect(y.shape).toEqual([4, 3]);
    expect(y.dtype).toBe('float64');
    const rows = y.toArray() as number[][];
    for (const r of rows) expect([r[1]! - r[0]!, r[2]! - r[1]!]).toEqual([1, 1]);
    expect(rows.map((r) => r[0]).sort((a, b) => a! - b!)).toEqual([0, 3, 6, 9]);
    const n = fromTypedArray(Int32Array.of(6), [], 'int32');
    expect(values(permutation(key(9), n))).toEqual(values(permutation(key(9), 6)));
  });
  it('categorical: frequencies ≈ softmax(logits), over either axis', () => {
    const p = [0.1, 0.2, 0.3, 0.4];
    const logits = fromTypedArray(Float32Array.from(p, (q) => Math.log(q) - 42), [4], 'float32');
    const c = categorical(key(10), logits, { shape: [N] });
    expect(c.dtype).toBe('int32');
    const counts = new Array(4).fill(0);
    for (const v of c.data()) counts[v]++;
    counts.forEach((k, i) => expect(Math.abs(k / N - p[i]!)).toBeLessThan(0.01));
    // two distributions along axis 0 of a [2, 2] array: columns [0.5, 0.5] and [0.1, 0.9]
    const l2 = fromTypedArray(Float64Array.from([0.5, 0.1, 0.5, 0.9], Math.log), [2, 2], 'float64');
    const d = categorical(key(11), l2, { axis: 0, shape: [20_000, 2] });
    expect(d.shape).toEqual([20_000, 2]);
    const data = d.data();
    let ones0 = 0;
    let ones1 = 0;
    for (let i = 0; i < 20_000; i++) {
      ones0 += data[2 * i]!;
      ones1 += data[2 * i + 1]!;
    }
    expect(Math.abs(ones0 / 20_000 - 0.5)).toBeLessThan(0.02);
    expect(Math.abs(ones1 / 20_000 - 0.9)).toBeLessThan(0.02);
    // default shape: the batch shape
    expect(categorical(key(12), l2).shape).toEqual([2]);
    // -Infinity logits are never drawn
    const masked = fromTypedArray(Float32Array.from([0, -Infinity, 0]), [3], 'float32');
    expect(values(categorical(key(13), masked, { shape: [1000] })).includes(1)).toBe(false);
  });
  it('gumbel: mean is the Euler-Mascheroni constant', () => {
    expect(Math.abs(mean(gumbel(key(14), [N]).data()) - 0.5772156649)).toBeLessThan(0.02);
  });
});

describe('special functions', () => {
  // reference values from mpmath at 40 digits
  it('erf and erfc', () => {
    const cases: [number, number, number][] = [
      [0.5, 0.5204998778130465, 0.4795001221869535],
      [1, 0.8427007929497149, 0.15729920705028513],
      [2, 0.9953222650189527, 0.004677734981047266],
      [3, 0.9999779095030014, 2.209049699858544e-5],
      [5, 0.9999999999984626, 1.5374597944280349e-12],
      [10, 1, 2.088487583762545e-45],
    ];
    for (const [x, e, c] of cases) {
      expect(Math.abs(erf(x) - e)).toBeLessThan(4e-16);
      expect(Math.abs(erf(-x) + e)).toBeLessThan(4e-16);
      expect(Math.abs(erfc(x) - c) / c).toBeLessThan(1e-14);
    }
  });
  it('erfinv inverts erf to float64 precision, including the tails', () => {
    expect(Math.abs(erfinv(0.5) - 0.4769362762044699)).toBeLessThan(1e-15);
    expect(Math.abs(erfinv(-0.999) + 2.326753765513525)).toBeLessThan(1e-14);
    expect(Math.abs(erfinv(1 - 2 ** -53) - 5.863584748755167) / 5.863584748755167).toBeLessThan(1e-14);
    expect(erfinv(1)).toBe(Infinity);
    expect(erfinv(-1)).toBe(-Infinity);
    expect(Number.isNaN(erfinv(1.5))).toBe(true);
    for (let y = -0.99; y < 1; y += 0.0137) expect(Math.abs(erf(erfinv(y)) - y)).toBeLessThan(1e-15);
  });
  it('erfinvF32 has the accuracy of XLA\'s float32 algorithm', () => {
    // within 3 float32 ulps (relative) for |y| <= 0.99; towards ±1 the error grows, because 1 - y² is formed
    // in float32 as XLA does, to under 64 ulps
    for (let y = -0.99999; y < 1; y += 0.000731) {
      const yf = Math.fround(y);
      const exact = erfinv(yf);
      if (exact === 0) continue;
      const rel = Math.abs(erfinvF32(yf) - exact) / Math.abs(exact) / 2 ** -23;
      expect(rel).toBeLessThan(Math.abs(yf) <= 0.99 ? 3 : 64);
    }
    expect(erfinvF32(1)).toBe(Infinity);
    expect(erfinvF32(-1)).toBe(-Infinity);
    expect(erfinvF32(0)).toBe(0);
  });
  it('normal float32 stays within 2 ulps of JAX 0.10.2', () => {
    // bit patterns of jax.random.normal(PRNGKey(1), (6,)), a cross-check of the float32 erfinv path
    const got = f32Bits(normal(key(1), [6]));
    const want = [1064636947, 3212332355, 1065412494, 1052474700, 1043405148, 1049949126];
    expect(maxUlp(got, want)).toBeLessThanOrEqual(2);
  });
});

describe('fmaF32 (the samplers\' float32 fused multiply-add)', () => {
  /** a·b + c rounded once to float32 (ties to even), exactly, in BigInt: every float32 times 2^149 is an integer. */
  const exact = (a: number, b: number, c: number): number => {
    const S = BigInt(a * 2 ** 149) * BigInt(b * 2 ** 149) + BigInt(c * 2 ** 149) * 2n ** 149n; // in units of 2^-298
    if (S === 0n) return a * b + c; // (the sign of a zero as float64 gives it)
    const mag = S < 0n ? -S : S;
    const shift = Math.max(mag.toString(2).length - 24, 149); // 24 significant bits, none below 2^-149
    let q = mag >> BigInt(shift);
    const rem = mag - (q << BigInt(shift));
    const half = 1n << BigInt(shift - 1);
    if (rem > half || (rem === half && (q & 1n) === 1n)) q += 1n;
    const v = Number(q) * 2 ** (shift - 298);
    return Math.fround(S < 0n ? -v : v);
  };
  const f32 = Math.fround;

  it('rounds a·b + c once, as the exact sum rounded to float32: random float32s', () => {
    const float = fc.float({ noNaN: true, noDefaultInfinity: true, min: f32(-1e18), max: f32(1e18) });
    fc.assert(
      fc.property(float, float, float, (a, b, c) => {
        expect(fmaF32(a, b, c)).toBe(exact(a, b, c));
      }),
      { numRuns: 3000 },
    );
  });

  it('and at the ties: short mantissas whose sums land on or next to float32 midpoints', () => {
    // (1 + u·2^-23)·2^e with small u: products and sums that need just over 24 bits, so exact ties and sums one
    // float64 rounding away from a tie are common
    const mantissa = fc.tuple(fc.integer({ min: -8, max: 8 }), fc.boolean()).map(([u, neg]) => (neg ? -1 : 1) * (1 + u * 2 ** -23));
    const exponent = fc.integer({ min: -40, max: 40 });
    let ties = 0;
    fc.assert(
      fc.property(mantissa, exponent, mantissa, exponent, mantissa, fc.integer({ min: -2, max: 30 }), (ma, ea, mb, eb, mc, d) => {
        // c a little above a·b's magnitude (d), so that the sum needs just over 24 bits
        const [a, b, c] = [f32(ma * 2 ** ea), f32(mb * 2 ** eb), f32(mc * 2 ** (ea + eb + d))];
        const want = exact(a, b, c);
        const s = a * b + c;
        if (f32(2 * s - f32(s)) === 2 * s - f32(s) && f32(s) !== s) ties++;
        expect(fmaF32(a, b, c)).toBe(want);
      }),
      { numRuns: 5000 },
    );
    expect(ties).toBeGreaterThan(50); // (the generator does reach the tie branch)
    // by hand: (1 + 2^-23)(1 - 2^-23)·2^6 = 2^6 - 2^-40, plus 2^30: the float64 sum is the midpoint 2^30 + 2^6,
    // the exact one just below it
    expect(fmaF32(f32(1 + 2 ** -23), f32(64 * (1 - 2 ** -23)), 2 ** 30)).toBe(2 ** 30);
    expect(fmaF32(f32(-(1 + 2 ** -23)), f32(64 * (1 - 2 ** -23)), -(2 ** 30))).toBe(-(2 ** 30));
    expect(fmaF32(f32(1 + 2 ** -23), f32(64 * (1 + 2 ** -23)), 2 ** 30)).toBe(2 ** 30 + 2 ** 7);
  });
});

describe('errors', () => {
  it('key: seed must be a safe integer', () => {
    expect(() => key(1.5)).toThrow(TypeError);
    expect(() => key(1.5)).toThrow(/key: seed must be a finite integer/);
    expect(() => key(NaN)).toThrow(TypeError);
    expect(() => key(Infinity)).toThrow(TypeError);
    expect(() => key('1' as unknown as number)).toThrow(TypeError);
    expect(() => key(2 ** 60)).toThrow(RangeError);
  });
  it('a key must be an int32 array of shape [2]', () => {
    const bad = [
      fromTypedArray(Float32Array.of(0, 0), [2], 'float32'),
      fromTypedArray(Int32Array.of(0, 0, 0), [3], 'int32'),
      split(key(0)),
      [0, 0],
    ];
    for (const k of bad) {
      expect(() => uniform(k as Tensor, [2])).toThrow(TypeError);
      expect(() => uniform(k as Tensor, [2])).toThrow(/uniform: key must be an int32 array of shape \[2\]/);
      expect(() => split(k as Tensor)).toThrow(/split: key must be/);
    }
    expect(() => normal(undefined as unknown as Tensor)).toThrow(/normal: key must be/);
  });
  it('shapes must be arrays of non-negative integers', () => {
    expect(() => uniform(key(0), [2, -1])).toThrow(TypeError);
    expect(() => normal(key(0), [1.5])).toThrow(/normal: shape must be an array of non-negative integers/);
    expect(() => bits(key(0), 3 as unknown as number[])).toThrow(/bits: shape must be an array/);
    expect(() => uniform(key(0), [2 ** 20, 2 ** 20])).toThrow(RangeError);
  });
  it('uniform and normal need float dtypes; uniform needs minval < maxval', () => {
    expect(() => uniform(key(0), [2], { dtype: 'int32' as 'float32' })).toThrow(/uniform: dtype must be a float dtype/);
    expect(() => normal(key(0), [2], 'bool' as 'float32')).toThrow(TypeError);
    expect(() => normal(key(0), [2], 'float16' as 'float32')).toThrow(/normal: unknown dtype/);
    expect(() => uniform(key(0), [2], { minval: 1, maxval: 1 })).toThrow(RangeError);
    expect(() => uniform(key(0), [2], { minval: 2, maxval: 1 })).toThrow(/uniform: minval must be less than maxval/);
    expect(() => uniform(key(0), [2], { minval: 0, maxval: Infinity })).toThrow(/maxval must be finite/);
    expect(() => uniform(key(0), [2], { minval: 1, maxval: 1 + 1e-12 })).toThrow(/round to the same float32/);
    expect(() => uniform(key(0), [2], { minval: -3e38, maxval: 3e38 })).toThrow(/overflows float32/);
    expect(() => gumbel(key(0), [2], 'int32' as 'float32')).toThrow(/gumbel: dtype must be a float dtype/);
  });
  it('bernoulli needs p in [0, 1]', () => {
    expect(() => bernoulli(key(0), 1.5)).toThrow(RangeError);
    expect(() => bernoulli(key(0), -0.1)).toThrow(/bernoulli: p must be in \[0, 1\]/);
    expect(() => bernoulli(key(0), NaN)).toThrow(RangeError);
  });
  it('split and splitKeys need a non-negative integer count; foldIn a 32-bit integer', () => {
    expect(() => split(key(0), -1)).toThrow(/split: num must be a non-negative integer/);
    expect(() => splitKeys(key(0), 2.5)).toThrow(TypeError);
    expect(() => foldIn(key(0), 1.5)).toThrow(/foldIn: data must be an integer/);
    expect(() => foldIn(key(0), 2 ** 32)).toThrow(RangeError);
    expect(() => foldIn(key(0), -(2 ** 31) - 1)).toThrow(RangeError);
  });
  it('permutation needs a non-negative integer or an array', () => {
    expect(() => permutation(key(0), -1)).toThrow(/permutation: n must be a non-negative integer/);
    expect(() => permutation(key(0), 2.5)).toThrow(TypeError);
    expect(() => permutation(key(0), fromTypedArray(Float32Array.of(3), [], 'float32'))).toThrow(/permutation: a 0-d array must be an int32 count/);
    expect(() => permutation(key(0), 'abc' as unknown as number)).toThrow(TypeError);
  });
  it('randint needs integer bounds with minval < maxval in int32 range', () => {
    expect(() => randint(key(0), [2], 5, 5)).toThrow(/randint: minval must be less than maxval/);
    expect(() => randint(key(0), [2], 0.5, 5)).toThrow(TypeError);
    expect(() => randint(key(0), [2], 0, 2 ** 31 + 1)).toThrow(RangeError);
    expect(() => randint(key(0), [2], -(2 ** 31) - 1, 0)).toThrow(RangeError);
  });
  it('truncatedNormal needs lower < upper', () => {
    expect(() => truncatedNormal(key(0), 1, 1)).toThrow(/truncatedNormal: lower must be less than upper/);
    expect(() => truncatedNormal(key(0), NaN, 1)).toThrow(TypeError);
  });
  it('categorical needs float logits, a valid axis and a compatible shape', () => {
    const logits = fromTypedArray(Float32Array.of(0, 1, 2, 3, 4, 5), [2, 3], 'float32');
    expect(() => categorical(key(0), fromTypedArray(Int32Array.of(1, 2), [2], 'int32'))).toThrow(/categorical: logits must be a float array/);
    expect(() => categorical(key(0), logits, { axis: 2 })).toThrow(/categorical: axis 2 is out of range/);
    expect(() => categorical(key(0), logits, { shape: [5, 3] })).toThrow(/categorical: shape \[5,3\] must end with the batch shape \[2\]/);
    expect(() => categorical(key(0), fromTypedArray(Float32Array.of(1), [], 'float32'))).toThrow(RangeError);
    expect(categorical(key(0), logits, { shape: [5, 2] }).shape).toEqual([5, 2]);
  });
});
