/**
 * Arrays built so that V8 gives them one hidden class whoever builds them. Node 20's V8 makes
 * `Array.prototype.map`'s (and `filter`'s) result a PACKED array in its builtin but a HOLEY one once the
 * calling function is optimised; code already optimised for the first kind then deoptimises ("wrong map") on
 * the second. On a jitted step's per-call path (arguments, pytrees, results, kernel operands) that was a wave
 * of deoptimisations about 130 steps into training, and some 30 steps at two or three times the time.
 */

/** A copy of `xs`, always PACKED (for shapes, whose arrays come from many places). @internal */
export function packedCopy<T>(xs: readonly T[]): T[] {
  return mapPacked(xs, (x) => x);
}

/** `xs.map(f)`, always PACKED (pushed one by one). @internal */
export function mapPacked<T, U>(xs: readonly T[], f: (x: T, i: number) => U): U[] {
  const out: U[] = [];
  for (let i = 0; i < xs.length; i++) out.push(f(xs[i]!, i));
  return out;
}
