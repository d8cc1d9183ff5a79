/**
 * What every implementation shares: the seed step's shapes, the initial weights and the batch (drawn
 * once with xs's random and handed to every implementation as Float32Arrays), and the timing helpers.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { numpy as np, random } from '@xs/tensor';

export const SIZES = [784, 60, 20, 10] as const;
export const BATCH = 100;
export const LR = 0.01;
/** Parameter shapes, [out, in] weights as in the seed: W1, b1, W2, b2, W3 (no bias on the output layer). */
export const PARAM_SHAPES: readonly number[][] = [[60, 784], [60], [20, 60], [20], [10, 20]];
export const MATMUL_SHAPES: readonly [number, number, number][] = [
  [100, 784, 60],
  [256, 256, 256],
  [1024, 1024, 1024],
];

export interface Data {
  params: Float32Array[];
  x: Float32Array;
  /** one-hot targets, [100, 10] */
  t: Float32Array;
}

export function makeData(): Data {
  const key = random.key(0);
  const keys = random.splitKeys(key, 3);
  const params = [
    random.normal(keys[0]!, [60, 784]).div(10),
    np.zeros([60]),
    random.normal(keys[1]!, [20, 60]).div(10),
    np.zeros([20]),
    random.normal(keys[2]!, [10, 20]).div(10),
  ].map((a) => Float32Array.from(a.data()));
  const [kx, kt] = random.splitKeys(random.key(1), 2);
  const x = Float32Array.from(random.uniform(kx!, [BATCH, 784]).data());
  const t = Float32Array.from(np.oneHot(random.randint(kt!, [BATCH], 0, 10), 10).data());
  return { params, x, t };
}

/** Deterministic matmul operands in [-1, 1). */
export function matrix(rows: number, cols: number, seed: number): Float32Array {
  const a = new Float32Array(rows * cols);
  let s = seed >>> 0 || 1;
  for (let i = 0; i < a.length; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    a[i] = s / 2 ** 31 - 1;
  }
  return a;
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

/** One training-step form of one implementation; P is that implementation's parameter handle. */
export interface Form<P> {
  name: string;
  step: (p: P) => P;
}

/** What an implementation provides to the worker. */
export interface Impl<P> {
  name: string;
  version: string;
  /** backend details, e.g. whether wasm SIMD/threads are on */
  detail: string;
  forms: Form<P>[];
  init: (params: Float32Array[]) => P;
  /** the summed NLL over the batch at these parameters (does not consume p) */
  loss: (p: P) => number;
  /** wait for p to be computed (does not consume p) */
  sync: (p: P) => void;
  /** free p (no-op for garbage-collected implementations) */
  free: (p: P) => void;
  /** a function that runs one [m,k]x[k,n] matmul to completion, in `mode` (one of matmulModes, if any) */
  matmul: (a: Float32Array, b: Float32Array, m: number, k: number, n: number, mode?: string) => { run: () => void; close: () => void };
  /**
   * matmul configurations timed side by side, round by round (xs: '1 thread' and 'N threads'); the first is
   * the one reported as `gflops` and compared with the other implementations. Absent: one configuration.
   */
  matmulModes?: string[];
}

/** The version of a peer as pinned in this package's package.json (exact versions), or the workspace package's own. */
export function versionOf(pkg: string): string {
  const here = path.dirname(fileURLToPath(import.meta.url));
  const own = JSON.parse(readFileSync(path.join(here, '..', 'package.json'), 'utf8')) as { dependencies: Record<string, string>; devDependencies: Record<string, string> };
  const v = own.devDependencies[pkg] ?? own.dependencies[pkg];
  if (v && !v.startsWith('workspace:')) return v;
  if (pkg === '@xs/tensor') return (JSON.parse(readFileSync(path.join(here, '..', '..', 'packages', 'tensor', 'package.json'), 'utf8')) as { version: string }).version;
  return 'unknown';
}
