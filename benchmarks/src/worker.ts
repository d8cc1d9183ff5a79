/**
 * One implementation in one process: `worker.ts <impl> check|time [--quick]`. Prints one line
 * `RESULT <json>` on stdout. `check`: the loss before each of 3 steps, for every form. `time`: median
 * steps/s of every form (the forms take turns round by round) and matmul GFLOP/s.
 */
import { type Impl, MATMUL_SHAPES, makeData, matrix, median } from './common.js';

export type ImplName = 'xs' | 'tfjs-cpu' | 'tfjs-wasm' | 'jax-js-wasm';
const IMPLS: readonly ImplName[] = ['xs', 'tfjs-cpu', 'tfjs-wasm', 'jax-js-wasm'];

export interface CheckResult {
  impl: string;
  version: string;
  detail: string;
  /** form name -> loss before steps 1..3 */
  losses: Record<string, number[]>;
}
export interface TimeResult {
  impl: string;
  version: string;
  detail: string;
  /** form name -> median steps/s */
  stepsPerSec: Record<string, number>;
  /** "m x k x n" -> median GFLOP/s (of the first matmul mode, when there are several) */
  gflops: Record<string, number>;
  /** with several matmul modes (xs: 1 thread, N threads), each one's figures, timed interleaved */
  matmulModes?: MatmulModeResult[];
}
export interface MatmulModeResult {
  mode: string;
  /** "m x k x n" -> median GFLOP/s, and the lowest and highest round */
  gflops: Record<string, number>;
  range: Record<string, [number, number]>;
  /** "m x k x n" -> this mode's GFLOP/s over the first mode's in the same round: median, lowest, highest */
  ratio: Record<string, [number, number, number]>;
}

async function load(name: ImplName): Promise<Impl<unknown>> {
  const data = makeData();
  switch (name) {
    case 'xs':
      return (await import('./xs.js')).xsImpl(data) as Impl<unknown>;
    case 'tfjs-cpu':
      return (await (await import('./tfjs.js')).tfjsImpl(data, 'cpu')) as Impl<unknown>;
    case 'tfjs-wasm':
      return (await (await import('./tfjs.js')).tfjsImpl(data, 'wasm')) as Impl<unknown>;
    case 'jax-js-wasm':
      return (await (await import('./jaxjs.js')).jaxjsImpl(data)) as Impl<unknown>;
  }
}

const gc = (): void => (globalThis as { gc?: () => void }).gc?.();

function check(impl: Impl<unknown>): CheckResult {
  const data = makeData();
  const losses: Record<string, number[]> = {};
  for (const form of impl.forms) {
    let p = impl.init(data.params);
    const ls: number[] = [];
    for (let i = 0; i < 3; i++) {
      ls.push(impl.loss(p));
      p = form.step(p);
    }
    impl.free(p);
    losses[form.name] = ls;
  }
  return { impl: impl.name, version: impl.version, detail: impl.detail, losses };
}

function time(impl: Impl<unknown>, quick: boolean): TimeResult {
  const data = makeData();
  const rounds = quick ? 2 : 11;
  const state = impl.forms.map((f) => {
    const p = f.step(f.step(impl.init(data.params))); // warm-up (and, for jit, compile)
    impl.sync(p);
    return p;
  });
  // reps per round: about 0.3 s of each form, from one timed warm step
  const reps = impl.forms.map((f, i) => {
    const t0 = performance.now();
    state[i] = f.step(state[i]);
    impl.sync(state[i]);
    const ms = performance.now() - t0;
    return quick ? 2 : Math.max(2, Math.min(200, Math.round(300 / Math.max(ms, 0.01))));
  });
  const samples = impl.forms.map(() => [] as number[]);
  for (let r = 0; r < rounds; r++) {
    impl.forms.forEach((f, i) => {
      gc();
      let p = state[i];
      const t0 = performance.now();
      for (let j = 0; j < reps[i]!; j++) p = f.step(p);
      impl.sync(p);
      samples[i]!.push((reps[i]! * 1000) / (performance.now() - t0));
      state[i] = p;
    });
  }
  state.forEach((p) => impl.free(p));
  const stepsPerSec = Object.fromEntries(impl.forms.map((f, i) => [f.name, median(samples[i]!)]));

  // matmul: the modes (if several) take turns round by round, the same number of products each
  const modes = impl.matmulModes ?? [undefined];
  const byMode: MatmulModeResult[] = modes.map((mode) => ({ mode: mode ?? '', gflops: {}, range: {}, ratio: {} }));
  for (const [m, k, n] of MATMUL_SHAPES) {
    if (quick && m > 256) continue;
    const shape = `${m}x${k}x${n}`;
    const mms = modes.map((mode) => impl.matmul(matrix(m, k, 1), matrix(k, n, 2), m, k, n, mode));
    mms.forEach((mm) => mm.run()); // warm-up
    const t0 = performance.now();
    mms[0]!.run();
    const once = performance.now() - t0;
    const repsMm = quick ? 1 : Math.max(1, Math.min(500, Math.round(200 / Math.max(once, 0.01))));
    const s: number[][] = modes.map(() => []);
    for (let r = 0; r < (quick ? 2 : 7); r++) {
      mms.forEach((mm, i) => {
        gc();
        const t1 = performance.now();
        for (let j = 0; j < repsMm; j++) mm.run();
        const sec = (performance.now() - t1) / 1000;
        s[i]!.push((2 * m * k * n * repsMm) / sec / 1e9);
      });
    }
    mms.forEach((mm) => mm.close());
    byMode.forEach((b, i) => {
      const ratios = s[i]!.map((x, r) => x / s[0]![r]!);
      b.gflops[shape] = median(s[i]!);
      b.range[shape] = [Math.min(...s[i]!), Math.max(...s[i]!)];
      b.ratio[shape] = [median(ratios), Math.min(...ratios), Math.max(...ratios)];
    });
  }
  const gflops = byMode[0]!.gflops;
  return { impl: impl.name, version: impl.version, detail: impl.detail, stepsPerSec, gflops, ...(modes.length > 1 ? { matmulModes: byMode } : {}) };
}

const [name, mode] = process.argv.slice(2) as [ImplName, 'check' | 'time'];
if (!IMPLS.includes(name) || (mode !== 'check' && mode !== 'time')) {
  console.error('usage: worker.ts <xs|tfjs-cpu|tfjs-wasm|jax-js-wasm> <check|time> [--quick]');
  process.exit(2);
}
const impl = await load(name);
const result = mode === 'check' ? check(impl) : time(impl, process.argv.includes('--quick'));
process.stdout.write(`RESULT ${JSON.stringify(result)}\n`);
// wasm backends may keep worker threads alive
process.exit(0);
