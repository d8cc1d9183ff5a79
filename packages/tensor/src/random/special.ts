/**
 * The error function and its inverse, as the samplers need them.
 *
 * - {@link erf}, {@link erfc}: float64, relative error below ~3e-15 (a positive-term series for erf below 2,
 *   Laplace's continued fraction for erfc above 1, `exp(-x²)` evaluated without the rounding error of `x²`).
 * - {@link erfinv}: float64, M. Giles' single-precision approximation ("Approximating the erfinv function",
 *   GPU Computing Gems, 2011) as a first guess, refined by Halley/Newton steps against {@link erf}/{@link erfc};
 *   relative error within about 6 ulps (1.3e-15) over all of (-1, 1), tails included.
 * - {@link erfinvF32}: the float32 path `jax.random.normal` takes: Giles' approximation evaluated step by step
 *   in float32 (`Math.fround` after every operation, fused multiply-adds where XLA's CPU code has them), as
 *   XLA lowers `erf_inv` for f32.
 */

import { fmaF32 } from './float.js';

const f32 = Math.fround;
const TWO_OVER_SQRT_PI = 1.1283791670955126; // 2/√π
const SQRT_PI = 1.772453850905516;

/** exp(-x²) without the rounding error of forming x² (x² = z² + (x - z)(x + z) with z² exact). */
function expNegSquare(x: number): number {
  const ax = Math.abs(x);
  if (ax > 27) return 0;
  const z = Math.floor(ax * 1048576) / 1048576; // 2^20: z has at most 25 significant bits, so z*z is exact
  return Math.exp(-z * z) * Math.exp(-(ax - z) * (ax + z));
}

/** erfc(x) for x >= 1 by Laplace's continued fraction (modified Lentz). */
function erfcLarge(x: number): number {
  if (x > 27) return 0;
  let fv = x;
  let c = x;
  let d = 0;
  for (let n = 1; n < 1000; n++) {
    const a = n / 2;
    d = 1 / (x + a * d);
    c = x + a / c;
    const delta = c * d;
    fv *= delta;
    if (Math.abs(delta - 1) < 1e-16) break;
  }
  return expNegSquare(x) / (SQRT_PI * fv);
}

/** erf(|x|) for |x| < 2 by the series erf(x) = 2/√π · x · e^{-x²} · Σ (2x²)^n / (2n+1)!!. */
function erfSmall(ax: number): number {
  const x2 = 2 * ax * ax;
  let term = 1;
  let sum = 1;
  for (let n = 1; n < 200; n++) {
    term *= x2 / (2 * n + 1);
    sum += term;
    if (term < 1e-17 * sum) break;
  }
  return TWO_OVER_SQRT_PI * ax * expNegSquare(ax) * sum;
}

/** The error function in float64. */
export function erf(x: number): number {
  if (Number.isNaN(x)) return NaN;
  const ax = Math.abs(x);
  const r = ax < 2 ? erfSmall(ax) : 1 - erfcLarge(ax);
  return x < 0 ? -r : r;
}

/** The complementary error function 1 - erf(x) in float64, accurate in the upper tail. */
export function erfc(x: number): number {
  if (Number.isNaN(x)) return NaN;
  if (x < 0) return 2 - erfc(-x);
  return x < 1 ? 1 - erfSmall(x) : erfcLarge(x);
}

// Giles' single-precision coefficients, highest degree first: for w < 5 in (w - 2.5), else in (sqrt(w) - 3).
const GILES_LOW = [
  2.81022636e-8, 3.43273939e-7, -3.5233877e-6, -4.39150654e-6, 0.00021858087, -0.00125372503, -0.00417768164,
  0.246640727, 1.50140941,
];
const GILES_HIGH = [
  -0.000200214257, 0.000100950558, 0.00134934322, -0.00367342844, 0.00573950773, -0.0076224613, 0.00943887047,
  1.00167406, 2.83297682,
];
const GILES_LOW_F32 = GILES_LOW.map(f32);
const GILES_HIGH_F32 = GILES_HIGH.map(f32);

// Cephes' rational approximation of log1p on |x| < sqrt(2) - 1: log1p(x) = x - x²/2 + x³·P(x)/Q(x)
// (coefficients highest degree first), as XLA evaluates log1p for f32.
const LOG1P_P = [
  4.5270000862445199635215e-5, 4.9854102823193375972212e-1, 6.5787325942061044846969, 2.9911919328553073277375e1,
  6.0949667980987787057556e1, 5.7112963590585538103336e1, 2.0039553499201281259648e1,
].map(f32);
const LOG1P_Q = [
  1, 1.5062909083469192043167e1, 8.3047565967967209469434e1, 2.2176239823732856465394e2,
  3.0909872225312059774938e2, 2.1642788614495947685003e2, 6.0118660497603843919306e1,
].map(f32);
const SQRT2_MINUS_1_F32 = f32(0.41421356237309504880);

/** log1p for a float32 input in float32 arithmetic: Cephes' rational form near 0, log(1 + x) elsewhere. */
function log1pF32(x: number): number {
  if (Math.abs(x) < SQRT2_MINUS_1_F32) {
    const x2 = f32(x * x);
    let num = 0;
    let den = 0;
    for (let i = 0; i < LOG1P_P.length; i++) num = fmaF32(num, x, LOG1P_P[i]!);
    for (let i = 0; i < LOG1P_Q.length; i++) den = fmaF32(den, x, LOG1P_Q[i]!);
    const r = f32(f32(x * x2) * f32(num / den));
    return f32(x + fmaF32(-0.5, x2, r));
  }
  return f32(Math.log(f32(1 + x)));
}

/**
 * Inverse error function for float32 inputs, evaluated in float32 arithmetic the way XLA lowers `erf_inv` for
 * f32 on CPU: Giles' approximation, `w = -log1p(-x²)`, a degree-8 polynomial in `w - 2.5` or `sqrt(w) - 3`
 * (Horner steps as fused multiply-adds), times x. Against the true erfinv its relative error is within 3
 * float32 ulps for |x| <= 0.99 and grows towards ±1 (about 48 ulps at 1 - 2^-12), since `x²` is rounded to
 * float32 before `1 - x²` is taken, as in XLA. Against XLA's results it is at most 1-2 ulps off (from XLA's own
 * float32 `log`), and equal in all but about 0.5% of the inputs `normal` produces. ±1 map to ±Infinity.
 */
export function erfinvF32(x: number): number {
  x = f32(x);
  if (Number.isNaN(x) || x < -1 || x > 1) return NaN;
  if (x === 1 || x === -1) return x * Infinity;
  const w0 = -log1pF32(f32(-f32(x * x)));
  const low = w0 < 5;
  const w = low ? f32(w0 - 2.5) : f32(f32(Math.sqrt(w0)) - 3);
  const c = low ? GILES_LOW_F32 : GILES_HIGH_F32;
  let p = c[0]!;
  for (let i = 1; i < c.length; i++) p = fmaF32(p, w, c[i]!);
  return f32(p * x);
}

/**
 * Inverse error function in float64: Giles' approximation as a first guess, then Halley steps on
 * `erf(x) = y` for |y| <= 0.5, Newton steps on `log erfc(x) = log(1 - y)` above (`1 - y` is exact there).
 * ±1 map to ±Infinity.
 */
export function erfinv(y: number): number {
  if (Number.isNaN(y) || y < -1 || y > 1) return NaN;
  if (y === 1 || y === -1) return y * Infinity;
  if (y === 0) return y;
  const a = Math.abs(y);
  const w0 = -Math.log((1 - a) * (1 + a));
  const low = w0 < 5;
  const w = low ? w0 - 2.5 : Math.sqrt(w0) - 3;
  const c = low ? GILES_LOW : GILES_HIGH;
  let p = c[0]!;
  for (let i = 1; i < c.length; i++) p = c[i]! + p * w;
  let x = p * a;
  if (a <= 0.5) {
    // Halley on erf(x) - a (f''/f' = -2x): cubic convergence, so once a step is below 1e-6 |x| the error
    // left is at rounding level; the guess is within ~1e-7, so this is usually one step
    for (let it = 0; it < 4; it++) {
      const t = (erf(x) - a) / (TWO_OVER_SQRT_PI * expNegSquare(x));
      const step = t / (1 + x * t);
      x -= step;
      if (!(Math.abs(step) > 1e-6 * x)) break;
    }
  } else {
    // Newton on log(erfc(x)) - log(1 - a): well-conditioned in the tail, where Giles' guess (fitted for
    // float32 inputs) is extrapolated; 1 - a is exact for a >= 0.5
    // (quadratic convergence: once a step is below 1e-9 |x|, the error left is at rounding level)
    const logQ = Math.log(1 - a);
    for (let it = 0; it < 12; it++) {
      const e = erfc(x);
      const step = ((Math.log(e) - logQ) * e) / (-TWO_OVER_SQRT_PI * expNegSquare(x));
      x -= step;
      if (!(Math.abs(step) > 1e-9 * x)) break;
    }
  }
  return y < 0 ? -x : x;
}
