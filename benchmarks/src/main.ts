/**
 * xs against its peers on the seed's training step (MLP 784-60-20-10, sigmoid, softmax, NLL summed over
 * a batch of 100, SGD lr 0.01, float32) and on matmul. Every implementation runs in its own child
 * process (node --expose-gc), one after another, so that they never compete for cores.
 *   1. agreement: every form of every implementation computes the same loss before each of 3 steps
 *      (relative 1e-4 against xs eager), from the same initial weights and batch
 *   2. timing: median steps/s of each form, and median matmul GFLOP/s, with ratios against xs
 * Run: pnpm bench (full; writes benchmarks/results.json) or: tsx src/main.ts --quick [--out FILE]
 */
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { CheckResult, ImplName, TimeResult } from './worker.js';
import { type ExperimentResult, experimentTable, runExperimentBench } from './experiment.js';

const IMPLS: readonly ImplName[] = ['xs', 'tfjs-cpu', 'tfjs-wasm', 'jax-js-wasm'];
const REL_TOL = 1e-4;
const here = path.dirname(fileURLToPath(import.meta.url));
const pkgDir = path.join(here, '..');

export interface Machine {
  cpu: string;
  cores: number;
  simd: string[];
  os: string;
  node: string;
}

export function machine(): Machine {
  let flags: string[] = [];
  try {
    const line = readFileSync('/proc/cpuinfo', 'utf8')
      .split('\n')
      .find((l) => /^(flags|Features)\s*:/.test(l));
    flags = line ? line.split(':')[1]!.trim().split(/\s+/) : [];
  } catch {
    // not Linux: no flags
  }
  const simdNames = /^(sse\d.*|ssse3|avx.*|fma|f16c|amx.*|neon|asimd.*|sve\d*|sme\d*|sme_.*)$/;
  return {
    cpu: os.cpus()[0]?.model.trim() ?? 'unknown CPU',
    cores: os.cpus().length,
    simd: flags.filter((f) => simdNames.test(f)),
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    node: process.version,
  };
}

/** Run one implementation in a child process and return its RESULT. */
function runWorker<T>(impl: ImplName, mode: 'check' | 'time', quick: boolean): T {
  const args = ['--expose-gc', '--import', 'tsx', path.join(here, 'worker.ts'), impl, mode, ...(quick ? ['--quick'] : [])];
  const r = spawnSync(process.execPath, args, { cwd: pkgDir, encoding: 'utf8', maxBuffer: 64 << 20, timeout: 15 * 60_000 });
  const line = r.stdout?.split('\n').find((l) => l.startsWith('RESULT '));
  if (r.status !== 0 || !line) throw new Error(`${impl} ${mode} failed (exit ${r.status}${r.signal ? `, ${r.signal}` : ''}):\n${r.stderr}\n${r.stdout}`);
  return JSON.parse(line.slice('RESULT '.length)) as T;
}

export interface Agreement {
  ok: boolean;
  reference: number[];
  maxRelErr: number;
  rows: { impl: string; form: string; losses: number[]; relErr: number }[];
}

export function checkAgreement(checks: CheckResult[]): Agreement {
  const reference = Object.values(checks[0]!.losses)[0]!;
  const rows = checks.flatMap((c) =>
    Object.entries(c.losses).map(([form, losses]) => ({
      impl: c.impl,
      form,
      losses,
      relErr: Math.max(...losses.map((l, i) => Math.abs(l - reference[i]!) / Math.abs(reference[i]!))),
    })),
  );
  const maxRelErr = Math.max(...rows.map((r) => (Number.isFinite(r.relErr) ? r.relErr : Infinity)));
  return { ok: maxRelErr <= REL_TOL, reference, maxRelErr, rows };
}

export interface BenchResult {
  date: string;
  quick: boolean;
  machine: Machine;
  versions: Record<string, string>;
  agreement: Agreement;
  timings: TimeResult[];
  /** The full seed experiment, xs's CLI vs NumPy (full runs only). */
  experiment?: ExperimentResult;
}

export function runBench(quick: boolean, log: (s: string) => void = console.log): BenchResult {
  const m = machine();
  log(`machine: ${m.cpu}, ${m.cores} cores, SIMD ${m.simd.join(' ') || 'none found'}; ${m.os}; node ${m.node}${quick ? ' [quick]' : ''}`);

  // 1. agreement, before any timing
  const checks = IMPLS.map((impl) => runWorker<CheckResult>(impl, 'check', quick));
  const agreement = checkAgreement(checks);
  log(`\nagreement: loss before steps 1..3 (reference xs eager: ${agreement.reference.map((l) => l.toFixed(4)).join(', ')}), tolerance relative ${REL_TOL}`);
  for (const r of agreement.rows) log(`  ${r.impl.padEnd(12)} ${r.form.padEnd(26)} ${r.losses.map((l) => l.toFixed(4)).join(', ')}   rel err ${r.relErr.toExponential(1)}`);
  if (!agreement.ok) throw new Error(`implementations disagree: max relative loss difference ${agreement.maxRelErr}`);
  const versions = Object.fromEntries(checks.map((c) => [c.impl, `${c.version} (${c.detail})`]));

  // 2. timings, one implementation (one process) after another
  const timings = IMPLS.map((impl) => runWorker<TimeResult>(impl, 'time', quick));
  const xs = timings[0]!;
  const xsJit = xs.stepsPerSec['jit(grad(batched loss))']!;
  log(`\nseed training step (784-60-20-10, batch 100, float32): median over rounds; "vs xs jit" = steps/s / xs jit(grad) steps/s`);
  log(`  ${'implementation'.padEnd(12)} ${'form'.padEnd(26)} ${'steps/s'.padStart(9)} ${'ms/step'.padStart(9)} ${'vs xs jit'.padStart(10)}`);
  for (const t of timings)
    for (const [form, r] of Object.entries(t.stepsPerSec))
      log(`  ${t.impl.padEnd(12)} ${form.padEnd(26)} ${r.toFixed(1).padStart(9)} ${(1000 / r).toFixed(3).padStart(9)} ${(r / xsJit).toFixed(2).padStart(9)}x`);
  const shapes = Object.keys(xs.gflops);
  // xs's matmul appears once per mode (1 thread, N threads: timed interleaved in its process); "vs xs" is
  // against xs on 1 thread, the peers' setting
  const xsFirst = xs.matmulModes?.[0]?.mode;
  log(`\nmatmul GFLOP/s (float32, median); "vs xs" = GFLOP/s / xs${xsFirst ? ` (${xsFirst})` : ''} GFLOP/s`);
  log(`  ${'implementation'.padEnd(20)} ${shapes.map((s) => `${s.padStart(14)} ${'vs xs'.padStart(6)}`).join(' ')}`);
  const rows = timings.flatMap((t) => (t.matmulModes ?? [{ mode: '', gflops: t.gflops }]).map((m) => ({ name: m.mode ? `${t.impl} ${m.mode}` : t.impl, gflops: m.gflops })));
  for (const r of rows) log(`  ${r.name.padEnd(20)} ${shapes.map((s) => `${r.gflops[s]!.toFixed(2).padStart(14)} ${(r.gflops[s]! / xs.gflops[s]!).toFixed(2).padStart(5)}x`).join(' ')}`);
  for (const m of xs.matmulModes?.slice(1) ?? []) {
    log(`  xs ${m.mode} / ${xsFirst}, per round (interleaved): ${shapes.map((s) => `${s} ${m.ratio[s]![0].toFixed(2)}x (${m.ratio[s]![1].toFixed(2)}..${m.ratio[s]![2].toFixed(2)})`).join(', ')}`);
  }
  for (const m of xs.matmulModes ?? []) log(`  xs ${m.mode} GFLOP/s lowest..highest round: ${shapes.map((s) => `${s} ${m.range[s]![0].toFixed(1)}..${m.range[s]![1].toFixed(1)}`).join(', ')}`);
  log(`\nversions: ${Object.entries(versions).map(([k, v]) => `${k} ${v}`).join('; ')}`);
  const result: BenchResult = { date: new Date().toISOString(), quick, machine: m, versions, agreement, timings };
  if (!quick) {
    // 3. the whole experiment, as a user runs it, against NumPy
    log('');
    result.experiment = runExperimentBench(3, [5, 5, 40], log);
    for (const l of experimentTable(result.experiment)) log(l);
  }
  return result;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const quick = process.argv.includes('--quick');
  if (process.argv.includes('--experiment-only')) {
    // only part 3: `pnpm --filter @xs/benchmarks bench:experiment [--rounds N]`
    const roundsArg = process.argv.indexOf('--rounds');
    const r = runExperimentBench(roundsArg >= 0 ? Number(process.argv[roundsArg + 1]) : 3);
    for (const l of experimentTable(r)) console.log(l);
    process.exit(0);
  }
  const outArg = process.argv.indexOf('--out');
  const out = outArg >= 0 ? process.argv[outArg + 1] : quick ? undefined : path.join(pkgDir, 'results.json');
  const result = runBench(quick);
  if (out) {
    writeFileSync(out, JSON.stringify(result, null, 2) + '\n');
    console.log(`wrote ${path.relative(process.cwd(), out) || out}`);
  }
}
