/** Shape arithmetic shared by the primitives: sizes, strides, broadcasting and axis checks. */

/**
 * A shape: the size of each axis, outermost first (`x.shape` in NumPy/JAX); `[]` is a scalar's.
 * @example const s: Shape = [2, 3];
 */
export type Shape = readonly number[];

export function sizeOf(shape: Shape): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

export function shapesEqual(a: Shape, b: Shape): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

export function formatShape(shape: Shape): string {
  return `[${shape.join(',')}]`;
}

/** Row-major strides in elements. */
export function stridesOf(shape: Shape): number[] {
  const s = new Array<number>(shape.length);
  let acc = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    s[i] = acc;
    acc *= shape[i]!;
  }
  return s;
}

export function assertValidShape(shape: unknown, where: string): number[] {
  if (!Array.isArray(shape)) throw new TypeError(`${where}: shape must be an array of non-negative integers, got ${String(shape)}`);
  for (const d of shape) {
    if (typeof d !== 'number' || !Number.isInteger(d) || d < 0) {
      throw new TypeError(`${where}: shape ${JSON.stringify(shape)} must contain non-negative integers`);
    }
  }
  return shape as number[];
}

/** Normalise a possibly negative axis against `ndim`, with an error naming the op. */
export function normalizeAxis(axis: number, ndim: number, where: string): number {
  if (!Number.isInteger(axis)) throw new TypeError(`${where}: axis must be an integer, got ${axis}`);
  if (axis < -ndim || axis >= ndim) {
    throw new RangeError(`${where}: axis ${axis} is out of range for an array of rank ${ndim}`);
  }
  return axis < 0 ? axis + ndim : axis;
}

/** Normalise a list of axes (or all axes when undefined/null), sorted and without repeats. */
export function normalizeAxes(axes: number | readonly number[] | null | undefined, ndim: number, where: string): number[] {
  if (axes === undefined || axes === null) return Array.from({ length: ndim }, (_, i) => i);
  const list = typeof axes === 'number' ? [axes] : [...axes];
  const out = list.map((a) => normalizeAxis(a, ndim, where));
  if (new Set(out).size !== out.length) throw new RangeError(`${where}: repeated axis in ${JSON.stringify(list)}`);
  return out.sort((a, b) => a - b);
}

/** NumPy broadcasting of two shapes, or an error naming the op and both shapes. */
export function broadcastShapes(where: string, ...shapes: Shape[]): number[] {
  const ndim = Math.max(0, ...shapes.map((s) => s.length));
  const out = new Array<number>(ndim).fill(1);
  for (const s of shapes) {
    for (let i = 0; i < s.length; i++) {
      const j = ndim - s.length + i;
      const d = s[i]!;
      if (out[j] === 1) out[j] = d;
      else if (d !== 1 && d !== out[j]) {
        throw new RangeError(
          `${where}: shapes ${shapes.map(formatShape).join(' and ')} cannot be broadcast together: ${out[j]} != ${d} (axis ${j - ndim})`,
        );
      }
    }
  }
  return out;
}

/** An iteration space after {@link mergeDims}: fewer, longer dimensions with each operand's strides. */
export interface Merged {
  /** Merged iteration shape (at least rank 1; all dims > 1 except a lone [1]). */
  shape: number[];
  /** strides[k][d]: stride of operand k along merged dim d. */
  strides: number[][];
}

/**
 * Collapse an iteration space walked by several strided operands: drop size-1 dimensions and merge adjacent
 * dimensions d, d+1 when every operand's stride satisfies stride[d] == stride[d+1] * shape[d+1].
 * Assumes no dimension is 0 (callers return early on empty outputs). Both backends' kernels use it: the CPU's
 * loops and the gpu's index arithmetic.
 */
export function mergeDims(shape: readonly number[], strides: readonly (readonly number[])[]): Merged {
  const nOp = strides.length;
  const ms: number[] = [];
  const mst: number[][] = [];
  for (let k = 0; k < nOp; k++) mst.push([]);
  for (let d = 0; d < shape.length; d++) {
    const n = shape[d]!;
    if (n === 1) continue;
    const last = ms.length - 1;
    if (last >= 0) {
      let ok = true;
      for (let k = 0; k < nOp; k++) {
        if (mst[k]![last] !== strides[k]![d]! * n) {
          ok = false;
          break;
        }
      }
      if (ok) {
        ms[last] = ms[last]! * n;
        for (let k = 0; k < nOp; k++) mst[k]![last] = strides[k]![d]!;
        continue;
      }
    }
    ms.push(n);
    for (let k = 0; k < nOp; k++) mst[k]!.push(strides[k]![d]!);
  }
  if (ms.length === 0) {
    ms.push(1);
    for (let k = 0; k < nOp; k++) mst[k]!.push(0);
  }
  return { shape: ms, strides: mst };
}
