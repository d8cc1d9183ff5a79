/** Float32 rounding helpers shared by the samplers (float32 arithmetic emulated on float64 numbers). */

const f32 = Math.fround;

// scratch views for bit manipulation (module-level so that the hot paths allocate nothing)
const F32 = new Float32Array(1);
const I32 = new Int32Array(F32.buffer);
const F64 = new Float64Array(1);
const I64 = new BigInt64Array(F64.buffer);

/** The next float of `dtype` after `x` in the direction of `toward` (x may be infinite, not NaN). */
export function nextAfter(x: number, toward: number, dtype: 'float32' | 'float64'): number {
  if (x === toward || Number.isNaN(x) || Number.isNaN(toward)) return x;
  if (dtype === 'float32') {
    F32[0] = x;
    if (x === 0) I32[0] = toward > 0 ? 1 : 0x80000001 | 0;
    else if ((x < toward) === (x > 0)) I32[0]! += 1;
    else I32[0]! -= 1;
    return F32[0]!;
  }
  F64[0] = x;
  if (x === 0) I64[0] = toward > 0 ? 1n : -9223372036854775807n;
  else if ((x < toward) === (x > 0)) I64[0]! += 1n;
  else I64[0]! -= 1n;
  return F64[0]!;
}

/**
 * `a * b + c` rounded once to float32 (a fused multiply-add), for float32 `a`, `b`, `c` whose product is exact in
 * float64 (true for any two float32s: at most 48 significant bits). XLA on CPU contracts such multiply-adds
 * into FMAs, so this is what matches it bit for bit. The float64 sum `s` may itself round, but that only
 * matters when `s` lands exactly halfway between two float32s; then the sign of its rounding error breaks
 * the tie.
 */
export function fmaF32(a: number, b: number, c: number): number {
  const p = a * b; // exact
  const s = p + c;
  const r = f32(s);
  if (r === s) return r;
  // s is a tie between r and its neighbour on s's side only if that neighbour is 2s - r (exact: Sterbenz);
  // otherwise 2s - r falls strictly between two float32s. (No bit twiddling on the common path.)
  const other = 2 * s - r;
  if (f32(other) !== other) return r;
  // Knuth's TwoSum: the exact rounding error of s = p + c
  const bv = s - p;
  const err = p - (s - bv) + (c - bv);
  if (err === 0) return r;
  // s is exactly the midpoint: the true value lies on the side of err
  return err > 0 === other > r ? other : r;
}

const SPLITTER = 134217729; // 2^27 + 1, Veltkamp's splitting constant for float64

/**
 * `a * b + c` in float64 with the product kept exact (Dekker's two-product) and the sum rounded once up to a
 * final double-double step: the fused multiply-add that XLA's CPU code uses, correct except in rare cases of
 * double rounding. Finite inputs with a product far from overflow.
 */
export function fma64(a: number, b: number, c: number): number {
  const p = a * b;
  let t = SPLITTER * a;
  const ah = t - (t - a);
  const al = a - ah;
  t = SPLITTER * b;
  const bh = t - (t - b);
  const bl = b - bh;
  const pErr = ((ah * bh - p) + ah * bl + al * bh) + al * bl; // p + pErr = a * b exactly
  const s = p + c;
  const v = s - p;
  const sErr = (p - (s - v)) + (c - v); // s + sErr = p + c exactly
  return s + (sErr + pErr);
}
