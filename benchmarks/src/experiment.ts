/**
 * The whole seed experiment, end to end, as a user runs it: `pnpm --filter cli train` (data loading,
 * checksums, the three training phases, evaluation, the run folder's files) against the same procedure
 * written in NumPy (`numpy/seed_experiment.py`), one after the other, alternating over rounds. Each reports
 * its own per-phase seconds and peak resident memory; the wall time is measured around the process.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const repoRoot = path.join(here, '..', '..');
const numpyScript = path.join(here, '..', 'numpy', 'seed_experiment.py');

/** One run of one implementation. */
export interface ExperimentRun {
  /** Seconds from spawning the command to its exit (start-up included). */
  wall: number;
  /** The implementation's own per-phase seconds (data, mnist, fashion, ..., total). */
  timings: Record<string, number>;
  peakRssMB: number;
  accuracy: { mnist: { alone: number; stitched: number }; fashion: { alone: number; stitched: number } };
}

/** All runs of one implementation, or why it did not run. */
export interface ExperimentImpl {
  name: 'xs (pnpm --filter cli train)' | 'NumPy';
  runs: ExperimentRun[];
  skipped?: string;
  version?: string;
}

export interface ExperimentResult {
  epochs: [number, number, number];
  rounds: number;
  impls: ExperimentImpl[];
}

function run(cmd: string, args: string[], env: NodeJS.ProcessEnv = process.env): { stdout: string; seconds: number } {
  const t0 = performance.now();
  const r = spawnSync(cmd, args, { cwd: repoRoot, encoding: 'utf8', env, maxBuffer: 64 << 20, timeout: 20 * 60_000 });
  const seconds = (performance.now() - t0) / 1000;
  if (r.error) throw r.error;
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (exit ${r.status}${r.signal ? `, ${r.signal}` : ''}):\n${r.stderr.slice(-4000)}`);
  return { stdout: r.stdout, seconds };
}

/** `xs data --json` as the NumPy script's manifest: each file's path and SHA-256; undefined (with why) when the data is missing. */
function dataManifest(): { manifest?: unknown; why?: string } {
  const out = spawnSync('pnpm', ['--silent', '--filter', 'cli', 'xs', 'data', '--json'], { cwd: repoRoot, encoding: 'utf8' });
  if (out.error) throw out.error;
  if (!out.stdout.trim()) throw new Error(`\`xs data --json\` printed nothing (exit ${out.status}):\n${out.stderr.slice(-4000)}`);
  const status = JSON.parse(out.stdout) as { ok: boolean; datasets: { name: string; ok: boolean; files: { role: string; path: string; sha256: string }[] }[] };
  if (!status.ok) return { why: 'the datasets are not all present and verified (see `pnpm --filter cli xs data`)' };
  const manifest = Object.fromEntries(
    status.datasets.map((d) => [d.name === 'mnist' ? 'mnist' : 'fashion', Object.fromEntries(d.files.map((f) => [f.role, { path: f.path, sha256: f.sha256 }]))]),
  );
  return { manifest };
}

function numpyVersion(): { version?: string; why?: string } {
  const r = spawnSync('python3', ['-c', 'import numpy; print(numpy.__version__)'], { encoding: 'utf8' });
  if (r.error) return { why: 'python3 is not installed' };
  if (r.status !== 0) return { why: 'python3 has no numpy (pip install numpy)' };
  return { version: r.stdout.trim() };
}

/**
 * Run the experiment `rounds` times per implementation (alternating xs, NumPy, xs, ...), with `epochs`
 * (default the notebook's 5,5,40).
 * @example const r = runExperimentBench(3); // the full procedure, three rounds each
 */
export function runExperimentBench(rounds: number, epochs: [number, number, number] = [5, 5, 40], log: (s: string) => void = console.log): ExperimentResult {
  const xs: ExperimentImpl = { name: 'xs (pnpm --filter cli train)', runs: [] };
  const numpy: ExperimentImpl = { name: 'NumPy', runs: [] };
  const np = numpyVersion();
  const data = dataManifest();
  if (data.why) throw new Error(`the seed experiment needs MNIST and Fashion-MNIST: ${data.why}`);
  if (np.why) numpy.skipped = np.why;
  else numpy.version = np.version!;
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'xs-bench-experiment-'));
  try {
    const manifestPath = path.join(tmp, 'manifest.json');
    writeFileSync(manifestPath, JSON.stringify(data.manifest));
    for (let r = 0; r < rounds; r++) {
      const x = run('pnpm', ['--silent', '--filter', 'cli', 'train', '--json', '--quiet', '--epochs', epochs.join(','), '--out', path.join(tmp, 'runs')]);
      const out = JSON.parse(x.stdout) as { timings: Record<string, number>; peakRssMB: number; results: ExperimentRun['accuracy'] };
      xs.runs.push({ wall: x.seconds, timings: out.timings, peakRssMB: out.peakRssMB, accuracy: out.results });
      log(`  round ${r + 1}/${rounds}: xs ${x.seconds.toFixed(1)} s`);
      if (numpy.skipped) continue;
      const n = run('python3', [numpyScript, manifestPath, '--epochs', epochs.join(',')]);
      const line = n.stdout.split('\n').find((l) => l.startsWith('RESULT '));
      if (!line) throw new Error(`the NumPy script printed no RESULT line:\n${n.stdout}`);
      const res = JSON.parse(line.slice('RESULT '.length)) as { timings: Record<string, number>; peakRssMB: number; accuracy: ExperimentRun['accuracy'] };
      numpy.runs.push({ wall: n.seconds, timings: res.timings, peakRssMB: res.peakRssMB, accuracy: res.accuracy });
      log(`  round ${r + 1}/${rounds}: NumPy ${n.seconds.toFixed(1)} s`);
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  return { epochs, rounds, impls: [xs, numpy] };
}

const median = (v: number[]): number => {
  const s = [...v].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

/** The table: median seconds per phase, wall time, peak memory and accuracies, with NumPy / xs ratios. */
export function experimentTable(r: ExperimentResult): string[] {
  const ran = r.impls.filter((i) => i.runs.length > 0);
  // median() of a phase an implementation lacks (NumPy has no netsInParallel) is NaN, printed as '-'
  const phases = ['data', 'mnist', 'fashion', 'netsInParallel', 'shuffle', 'stitch', 'evaluation', 'total'].filter((p) => ran.some((i) => i.runs.every((x) => p in x.timings)));
  const rows: [string, (x: ExperimentRun) => number, string][] = [
    ...phases.map((p): [string, (x: ExperimentRun) => number, string] => [p === 'netsInParallel' ? 'both nets, side by side (s)' : `${p} (s)`, (x) => x.timings[p] ?? NaN, 's']),
    ['wall, process start to exit (s)', (x) => x.wall, 's'],
    ['peak memory (MB)', (x) => x.peakRssMB, 'MB'],
    ['MNIST alone / stitched (%)', (x) => x.accuracy.mnist.alone, '%'],
    ['Fashion alone / stitched (%)', (x) => x.accuracy.fashion.alone, '%'],
  ];
  const lines = [`full seed experiment (epochs ${r.epochs.join(',')}), median of ${r.rounds} round(s) each, alternating`];
  lines.push(`  ${''.padEnd(32)} ${ran.map((i) => i.name.padStart(30)).join(' ')}${ran.length === 2 ? '   NumPy/xs' : ''}`);
  for (const [label, get, unit] of rows) {
    const vals = ran.map((i) => median(i.runs.map(get)));
    let cells = vals.map((v) => (unit === '%' ? '' : Number.isFinite(v) ? v.toFixed(unit === 'MB' ? 0 : 2) : '-').padStart(30));
    if (unit === '%') {
      const other = label.startsWith('MNIST') ? (x: ExperimentRun) => x.accuracy.mnist.stitched : (x: ExperimentRun) => x.accuracy.fashion.stitched;
      cells = ran.map((i) => `${median(i.runs.map(get)).toFixed(2)} / ${median(i.runs.map(other)).toFixed(2)}`.padStart(30));
    }
    const ratio = ran.length === 2 && unit !== '%' && Number.isFinite(vals[0]!) && Number.isFinite(vals[1]!) ? `   ${(vals[1]! / vals[0]!).toFixed(2)}x` : '';
    lines.push(`  ${label.padEnd(32)} ${cells.join(' ')}${ratio}`);
  }
  for (const i of r.impls) if (i.skipped) lines.push(`  ${i.name} skipped: ${i.skipped}`);
  return lines;
}
