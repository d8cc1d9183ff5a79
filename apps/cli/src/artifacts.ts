/**
 * What a finished run writes next to its checkpoints: metrics.csv, results.json, the SVG pictures and
 * report.html; and the results table printed on the terminal.
 */
import { join } from 'node:path';
import type { EpochRecord, SeedPhase, SeedResult } from './contract.js';
import { NOTEBOOK_RESULTS } from './contract.js';
import { writeFileAtomic, writeJsonAtomic } from './fsutil.js';
import { toRows } from './model.js';
import { alphaHeatmaps, confusionFigure, lossChart, samplesFigure, valAccuracyChart } from './plots.js';
import { FILES, type RunConfig, type RunStatus } from './run-dir.js';
import { renderReport } from './report.js';

export type Task = 'mnist' | 'fashion';
export type Accuracies = { mnist: { alone: number; stitched: number }; fashion: { alone: number; stitched: number } };

// ---- metrics.csv ----------------------------------------------------------------------------------------

const CSV_HEADER = 'phase,epoch,train_loss,val_accuracy,seconds';

/** Per-epoch records as CSV (header `phase,epoch,train_loss,val_accuracy,seconds`). */
export function metricsCsv(records: readonly EpochRecord[]): string {
  const f = (v: number, d: number): string => (Number.isFinite(v) ? Number(v.toFixed(d)).toString() : 'NaN');
  return [CSV_HEADER, ...records.map((r) => [r.phase, r.epoch, f(r.trainLoss, 6), f(r.valAccuracy, 4), f(r.seconds, 3)].join(','))].join('\n') + '\n';
}

/** Parse metrics.csv back into records. */
export function parseMetricsCsv(text: string): EpochRecord[] {
  const lines = text.split(/\r?\n/).filter((l) => l.trim() !== '');
  if (lines[0]?.trim() !== CSV_HEADER) throw new Error(`metrics.csv: expected the header "${CSV_HEADER}"`);
  return lines.slice(1).map((l, i) => {
    const [phase, epoch, loss, val, secs] = l.split(',');
    if (!['mnist', 'fashion', 'stitch'].includes(phase ?? '') || secs === undefined) throw new Error(`metrics.csv: line ${i + 2} is malformed: ${l}`);
    return { phase: phase as SeedPhase, epoch: Number(epoch), trainLoss: Number(loss), valAccuracy: Number(val), seconds: Number(secs) };
  });
}

// ---- results ----------------------------------------------------------------------------------------------

/** Test accuracies (percent) of the four evaluations. */
export function accuracies(r: SeedResult['results']): Accuracies {
  return {
    mnist: { alone: r.mnist.alone.accuracy, stitched: r.mnist.stitched.accuracy },
    fashion: { alone: r.fashion.alone.accuracy, stitched: r.fashion.stitched.accuracy },
  };
}

/** ours - notebook, in percentage points. */
export function differences(ours: Accuracies, nb: SeedResult['notebook']): Accuracies {
  const d = (a: number, b: number): number => Number((a - b).toFixed(4));
  return {
    mnist: { alone: d(ours.mnist.alone, nb.mnist.alone), stitched: d(ours.mnist.stitched, nb.mnist.stitched) },
    fashion: { alone: d(ours.fashion.alone, nb.fashion.alone), stitched: d(ours.fashion.stitched, nb.fashion.stitched) },
  };
}

/** The results table, ours beside the notebook's numbers. */
export function resultsTable(ours: Accuracies, nb: SeedResult['notebook'] = NOTEBOOK_RESULTS): string {
  const rows: [string, number, number][] = [
    ['MNIST    alone', ours.mnist.alone, nb.mnist.alone],
    ['MNIST    stitched', ours.mnist.stitched, nb.mnist.stitched],
    ['Fashion  alone', ours.fashion.alone, nb.fashion.alone],
    ['Fashion  stitched', ours.fashion.stitched, nb.fashion.stitched],
  ];
  const out = ['Test accuracy (%)      ours  notebook  difference', '---------------------  ------  --------  ----------'];
  for (const [name, a, b] of rows) {
    const diff = a - b;
    out.push(`${name.padEnd(21)}  ${a.toFixed(2).padStart(6)}  ${b.toFixed(2).padStart(8)}  ${`${diff >= 0 ? '+' : ''}${diff.toFixed(2)}`.padStart(10)}`);
  }
  return out.join('\n');
}

/** How {@link timingsLine} names a timing whose key is not plain English. */
const TIMING_LABELS: Record<string, string> = { netsInParallel: 'both nets side by side' };

/** Timings as one line: `data 1.2s, mnist 10.3s, ..., total 27.4s`. */
export function timingsLine(t: Record<string, number>): string {
  const keys = Object.keys(t).filter((k) => k !== 'total');
  if ('total' in t) keys.push('total');
  return keys.map((k) => `${TIMING_LABELS[k] ?? k} ${Number(t[k]).toFixed(1)}s`).join(', ');
}

/** results.json: the SeedResult without its tensors, plus the notebook's numbers and the differences. */
export function resultsDocument(result: SeedResult, extra: { runDir: string; variant: string; backend: string; resumedPhases: SeedPhase[]; version: string }): Record<string, unknown> {
  const notebook = result.notebook ?? NOTEBOOK_RESULTS;
  const ours = accuracies(result.results);
  return {
    kind: 'xs-results',
    variant: extra.variant,
    backend: extra.backend,
    runDir: extra.runDir,
    cliVersion: extra.version,
    config: result.config,
    accuracy: ours,
    notebook,
    difference: differences(ours, notebook),
    results: result.results,
    curves: result.curves,
    timings: result.timings,
    stepsPerSecond: result.stepsPerSecond ?? {},
    resumedPhases: extra.resumedPhases,
    samples: result.samples.map((x) => ({ ...x, pixels: x.pixels.map((v) => Math.round(v * 1e4) / 1e4) })),
  };
}

// ---- pictures and report ------------------------------------------------------------------------------

/** Write every picture of a finished run; returns the file names written. */
export function writePictures(runDir: string, result: Pick<SeedResult, 'curves' | 'results' | 'samples'> & { params?: Partial<SeedResult['params']> }): string[] {
  const P = FILES.pictures;
  const written: string[] = [];
  const put = (name: string, svg: string): void => {
    writeFileAtomic(join(runDir, name), svg);
    written.push(name);
  };
  put(P.loss, lossChart(result.curves));
  put(P.valAccuracy, valAccuracyChart(result.curves));
  const alpha = result.params?.alpha?.[0];
  if (alpha) put(P.alpha, alphaHeatmaps(alpha.map(toRows)));
  const acc = accuracies(result.results);
  put(P.confusionMnist, confusionFigure('mnist', result.results.mnist.alone.confusion, result.results.mnist.stitched.confusion, acc.mnist));
  put(P.confusionFashion, confusionFigure('fashion', result.results.fashion.alone.confusion, result.results.fashion.stitched.confusion, acc.fashion));
  if (result.samples.length) put(P.samples, samplesFigure(result.samples));
  return written;
}

/** Write report.html. */
export function writeReport(runDir: string, args: { result: SeedResult; runConfig: RunConfig; status: RunStatus; pictures: string[] }): void {
  writeFileAtomic(join(runDir, FILES.report), renderReport(runDir, args));
}

/** Write results.json, metrics.csv, the pictures and report.html of a finished run. */
export function writeFinalArtifacts(
  runDir: string,
  result: SeedResult,
  ctx: { runConfig: RunConfig; status: RunStatus; resumedPhases: SeedPhase[]; version: string; pictureSamples?: SeedResult['samples'] },
): string[] {
  writeFileAtomic(join(runDir, FILES.metrics), metricsCsv(result.curves));
  writeJsonAtomic(join(runDir, FILES.results), resultsDocument(result, { runDir, variant: ctx.runConfig.variant, backend: ctx.runConfig.backend, resumedPhases: ctx.resumedPhases, version: ctx.version }));
  const pictures = writePictures(runDir, { ...result, samples: ctx.pictureSamples ?? result.samples });
  writeReport(runDir, { result, runConfig: ctx.runConfig, status: ctx.status, pictures });
  return [FILES.metrics, FILES.results, ...pictures, FILES.report];
}
