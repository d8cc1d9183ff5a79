/**
 * `xs train --variant paper`: the paper's cross-stitch experiment (issue 7) over benchmarks, sample budgets and
 * seeds; prints the table (mean ± std over seeds) and writes it into the run folder as JSON, CSV and Markdown,
 * with SVG plots of accuracy vs sample budget per method and of the learned alphas per layer.
 *
 * Every finished cell (benchmark x budget x seed) is saved at once, atomically, as `cells/<benchmark>-<budget>-
 * seed<k>.json`; `xs train --resume RUN_DIR` reads them back (checking each against the saved configuration),
 * trains only the missing cells and writes the same table an uninterrupted run would.
 */
import { existsSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { join, relative } from 'node:path';
import { type PaperBenchmark, type PaperCell, type PaperConfig, type PaperProgressEvent, type PaperResult, type PaperRow, checkPaperCell, resolvePaperConfig, runPaperExperiment } from '@xs/crossstitch';
import { type EpochsArg, UsageError } from '../args.js';
import { type Context, EXIT, userPath } from '../context.js';
import { writeFileAtomic, writeJsonAtomic } from '../fsutil.js';
import { createRunDir, readJson } from '../run-dir.js';
import { hstack, titled, toSvg, vstack } from '../svg/core.js';
import { lineChart } from '../svg/line-chart.js';
import { dataFlags, loadBoth, printJson } from './common.js';

/** Files of a paper run folder. */
export const PAPER_FILES = {
  config: 'config.json',
  results: 'results.json',
  csv: 'results.csv',
  markdown: 'results.md',
  accuracy: 'accuracy-vs-budget.svg',
  alphas: 'alphas.svg',
  /** Folder of the finished cells, one JSON file each (see {@link cellFileName}). */
  cells: 'cells',
} as const;

/** Present only while a paper run is unfinished: what is done and how to resume. */
export const PAPER_INCOMPLETE = 'INCOMPLETE';

/** Options that only the seed variant understands. */
const SEED_ONLY = ['samples', 'batches', 'config'];

/** The file name of a cell in the run folder's `cells/`: `<benchmark>-<budget>-seed<k>.json`. */
export function cellFileName(c: { benchmark: string; budget: number | 'all'; seed: number }): string {
  return `${c.benchmark}-${c.budget}-seed${c.seed}.json`;
}

/** What a paper run's `config.json` holds. */
export interface PaperRunConfig {
  kind: 'xs-run';
  variant: 'paper';
  backend: string;
  paperConfig: PaperConfig;
  data: { dataDir: string | null; verify: boolean };
  createdAt: string;
  cli: { version: string; argv: string[] };
}

/** Read and check a paper run folder's config.json. */
export function readPaperRunConfig(runDir: string): PaperRunConfig {
  const path = join(runDir, PAPER_FILES.config);
  const c = readJson<Partial<PaperRunConfig>>(path, 'run configuration');
  if (c?.kind !== 'xs-run' || c.variant !== 'paper' || !c.paperConfig || typeof c.paperConfig !== 'object') throw new Error(`${path} is not the configuration of a --variant paper run`);
  try {
    c.paperConfig = resolvePaperConfig(c.paperConfig);
  } catch (err) {
    throw new Error(`${path}: ${(err as Error).message}`);
  }
  return c as PaperRunConfig;
}

/**
 * Read the finished cells of a paper run folder (`cells/*.json`; temporary files of an interrupted write are
 * skipped), each checked against `config`: a file that is not JSON, not a cell of this run, made with another
 * configuration, or named for another cell is an error naming the file.
 */
export function readPaperCells(runDir: string, config: PaperConfig): { cells: PaperCell[]; files: string[] } {
  const dir = join(runDir, PAPER_FILES.cells);
  if (!existsSync(dir)) return { cells: [], files: [] };
  const files = readdirSync(dir)
    .filter((f) => f.endsWith('.json') && !f.startsWith('.'))
    .sort();
  const cells = files.map((f) => {
    const path = join(dir, f);
    let value: unknown;
    try {
      value = JSON.parse(readFileSync(path, 'utf8'));
    } catch (err) {
      throw new Error(`cell file ${path} is corrupt: ${(err as Error).message}`);
    }
    let cell: PaperCell;
    try {
      cell = checkPaperCell(value, config);
    } catch (err) {
      throw new Error(`cell file ${path} does not fit this run: ${(err as Error).message}`);
    }
    if (cellFileName(cell) !== f) throw new Error(`cell file ${path} holds the cell ${cellFileName(cell).replace(/\.json$/, '')}, not the one its name says`);
    return cell;
  });
  return { cells, files };
}

/** `--budgets 500,2000,all`. */
export function budgetsValue(raw: string, option: string): (number | 'all')[] {
  const parts = raw.split(',').map((s) => s.trim());
  if (!parts.length || parts.some((p) => p !== 'all' && !(/^\d+$/.test(p) && Number(p) > 0))) throw new UsageError(`${option} must be a comma-separated list of positive integers or "all", got "${raw}"`, 'train');
  return parts.map((p) => (p === 'all' ? 'all' : Number(p)));
}

const pm = (m: { mean: number; std: number }, d = 2): string => `${m.mean.toFixed(d)} ± ${m.std.toFixed(d)}`;
const budgetText = (r: PaperRow): string => (r.budget === 'all' ? `all (${r.examples})` : String(r.budget));
const TASKS = { A: 'MNIST digit', B: 'Fashion item' };

/** The table as aligned text. */
export function paperTable(rows: readonly PaperRow[], seeds: number): string {
  const head = ['benchmark', 'budget', 'method', `acc A ${TASKS.A} (%)`, `acc B ${TASKS.B} (%)`, 'delta_m (%)'];
  const body = rows.map((r) => [r.benchmark, budgetText(r), r.method, pm(r.accA), pm(r.accB), pm(r.deltaM)]);
  const w = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
  const line = (cells: string[]): string => cells.map((c, i) => (i < 3 ? c.padEnd(w[i]!) : c.padStart(w[i]!))).join('  ');
  return [`mean ± std over ${seeds} seed${seeds === 1 ? '' : 's'}; delta_m against the same seed's single-task nets`, line(head), w.map((n) => '-'.repeat(n)).join('  '), ...body.map(line)].join('\n');
}

export function paperMarkdown(rows: readonly PaperRow[], seeds: number): string {
  const out = [`| benchmark | budget | method | acc A: ${TASKS.A} (%) | acc B: ${TASKS.B} (%) | delta_m (%) |`, '|---|---:|---|---:|---:|---:|'];
  for (const r of rows) out.push(`| ${r.benchmark} | ${budgetText(r)} | ${r.method} | ${pm(r.accA)} | ${pm(r.accB)} | ${pm(r.deltaM)} |`);
  return `${out.join('\n')}\n\nMean ± sample standard deviation over ${seeds} seed(s); delta_m = 100 · mean over the two tasks of (acc − single-task acc) / single-task acc, per seed.\n`;
}

export function paperCsv(rows: readonly PaperRow[]): string {
  const head = 'benchmark,budget,examples,method,accA_mean,accA_std,accB_mean,accB_std,deltaM_mean,deltaM_std,seeds';
  const f = (x: number): string => (Number.isFinite(x) ? String(Number(x.toFixed(6))) : '');
  return `${[head, ...rows.map((r) => [r.benchmark, r.budget, r.examples, r.method, f(r.accA.mean), f(r.accA.std), f(r.accB.mean), f(r.accB.std), f(r.deltaM.mean), f(r.deltaM.std), r.accA.n].join(','))].join('\n')}\n`;
}

/** Accuracy vs training examples, one line per method, a panel per benchmark and task (error bars: none; the table has the std). */
export function accuracyVsBudgetSvg(result: PaperResult): string {
  const panels = result.config.benchmarks.map((b) =>
    hstack(
      (['A', 'B'] as const).map((t) => {
        const rows = result.rows.filter((r) => r.benchmark === b);
        const methods = [...new Set(rows.map((r) => r.method))];
        return lineChart({
          title: `${b}: task ${t} (${TASKS[t]})`,
          series: methods.map((m) => ({ name: m, dashed: m.startsWith('single'), points: rows.filter((r) => r.method === m).map((r) => [r.examples, t === 'A' ? r.accA.mean : r.accB.mean] as [number, number]).sort((p, q) => p[0] - q[0]) })),
          xLabel: 'training examples',
          yLabel: 'test accuracy (%)',
          width: 620,
          height: 340,
        });
      }),
      20,
    ),
  );
  return toSvg(titled(vstack(panels, 20), 'Test accuracy vs sample budget', { subtitle: `Mean over ${result.config.seeds} seed(s); the table (results.md) has the standard deviations.` }), 'Accuracy vs sample budget');
}

/** Learned alphas: per benchmark and method, the mean "same" (aAA, aBB) and "different" (aAB, aBA) weight of each layer vs budget. */
export function alphasSvg(result: PaperResult): string {
  const panels = result.config.benchmarks.flatMap((b: PaperBenchmark) =>
    (['cross-stitch-layer', 'cross-stitch-unit', 'cross-stitch-diag'] as const)
      .filter((m) => result.alphas.some((a) => a.benchmark === b && a.method === m))
      .map((m) => {
        const runs = result.alphas.filter((a) => a.benchmark === b && a.method === m);
        const budgets = [...new Set(runs.map((a) => a.budget))];
        const examples = (bu: number | 'all'): number => result.rows.find((r) => r.benchmark === b && r.budget === bu)?.examples ?? 0;
        const layers = runs[0]!.layers.length;
        const mean = (xs: number[]): number => xs.reduce((s, v) => s + v, 0) / xs.length;
        const series = [];
        for (let l = 0; l < layers; l++) {
          for (const [name, cells] of [['same (AA, BB)', [[0, 0], [1, 1]]], ['different (AB, BA)', [[0, 1], [1, 0]]]] as const) {
            series.push({
              name: `layer ${l + 1} ${name}`,
              dashed: name.startsWith('different'),
              points: budgets.map((bu) => [examples(bu), mean(runs.filter((a) => a.budget === bu).flatMap((a) => cells.flatMap(([i, j]) => a.layers[l]![i]![j]!)))] as [number, number]).sort((p, q) => p[0] - q[0]),
            });
          }
        }
        return lineChart({ title: `${b}: ${m}`, series, xLabel: 'training examples', yLabel: 'mean alpha', width: 620, height: 320 });
      }),
  );
  if (!panels.length) return toSvg(titled(vstack([lineChart({ series: [], xLabel: '', yLabel: '' })]), 'No cross-stitch runs'), 'Learned alphas');
  return toSvg(titled(vstack(panels, 20), 'Learned cross-stitch alphas per layer', { subtitle: `Initialised at (${result.config.alphaInit.join(', ')}); averaged over units (per-unit alphas) and seeds.` }), 'Learned alphas');
}

/** Build the paper config from the command-line options. */
export function paperConfigFromOptions(o: Record<string, unknown>): PaperConfig {
  const bad = SEED_ONLY.filter((k) => o[k] !== undefined);
  if (bad.length) throw new UsageError(`--${bad[0]} is an option of --variant seed, not of --variant paper`, 'train');
  const c: Partial<PaperConfig> = {};
  if (o.seed !== undefined) c.seed = o.seed as number;
  if (o.seeds !== undefined) c.seeds = o.seeds as number;
  if (o.benchmark !== undefined) c.benchmarks = o.benchmark === 'both' ? ['combined', 'multi'] : [o.benchmark as PaperBenchmark];
  if (o.budgets !== undefined) c.budgets = o.budgets as (number | 'all')[];
  if (o.lr !== undefined) c.lr = o.lr as number;
  if (o['batch-size'] !== undefined) c.batchSize = o['batch-size'] as number;
  if (o.optimizer !== undefined) c.optimizer = o.optimizer as 'sgd' | 'adam';
  if (o['alpha-lr-scale'] !== undefined) c.alphaLrScale = o['alpha-lr-scale'] as number;
  if (o['alpha-only']) c.train = 'alpha';
  if (o['alpha-per'] !== undefined) c.methods = ['single-task', 'single-task-long', 'hard-sharing', 'notebook-stitch', o['alpha-per'] === 'layer' ? 'cross-stitch-layer' : 'cross-stitch-unit', 'cross-stitch-diag'];
  const e = o.epochs as EpochsArg | undefined;
  if (e && 'each' in e) throw new UsageError('--epochs for --variant paper takes one number N: the epochs of the single-task nets, and again of the stitched nets on top of them', 'train');
  if (e) c.epochs = c.stitchEpochs = e.scale;
  try {
    return resolvePaperConfig(c);
  } catch (err) {
    throw new UsageError((err as Error).message.replace(/^paper config: /, 'bad configuration: '), 'train');
  }
}

/** The command line that resumes a run, with the path as the user would type it. */
function resumeCommand(ctx: Context, runDir: string): string {
  const rel = relative(ctx.cwd, runDir);
  const shown = rel && !rel.startsWith('..') ? rel : runDir;
  return `pnpm train --resume ${/\s/.test(shown) ? JSON.stringify(shown) : shown}`;
}

/** Run `train --variant paper`, or resume the paper run in `resumeDir` (its saved configuration; only the missing cells train). */
export async function runPaperTrain(o: Record<string, unknown>, ctx: Context, backend: string, resumeDir?: string): Promise<number> {
  const json = o.json === true;
  const quiet = o.quiet === true;
  const note = (m: string): void => {
    if (!quiet) ctx.stderr.write(`${m}\n`);
  };
  let config: PaperConfig;
  let df: { dataDir?: string; verify: boolean };
  let done: PaperCell[] = [];
  let runConfig: PaperRunConfig | undefined;
  if (resumeDir !== undefined) {
    runConfig = readPaperRunConfig(resumeDir);
    config = runConfig.paperConfig;
    const flags = dataFlags(o, ctx);
    df = { ...(flags.dataDir ? { dataDir: flags.dataDir } : runConfig.data.dataDir ? { dataDir: runConfig.data.dataDir } : {}), verify: o['no-verify'] ? false : runConfig.data.verify };
    done = readPaperCells(resumeDir, config).cells;
  } else {
    config = paperConfigFromOptions(o);
    df = dataFlags(o, ctx);
  }
  const totalCells = config.benchmarks.length * config.budgets.length * config.seeds;
  note('loading MNIST and Fashion-MNIST...');
  const data = await loadBoth(df, ctx, quiet);
  const dir = resumeDir ?? createRunDir(userPath(ctx, (o.out as string | undefined) ?? 'runs'), 'paper');
  if (!runConfig) writeJsonAtomic(join(dir, PAPER_FILES.config), { kind: 'xs-run', variant: 'paper', backend, paperConfig: config, data: { dataDir: df.dataDir ?? null, verify: df.verify }, createdAt: new Date().toISOString(), cli: { version: ctx.version, argv: [...(ctx.argv ?? [])] } } satisfies PaperRunConfig);
  const resume = resumeCommand(ctx, dir);
  let finished = done.length;
  const marker = (): void => writeFileAtomic(join(dir, PAPER_INCOMPLETE), `This paper run is unfinished: ${finished} of ${totalCells} cells are done (saved in ${PAPER_FILES.cells}/).\nContinue it with:\n  ${resume}\n`);
  marker();
  note(`run folder: ${dir}${resumeDir !== undefined ? ` (resuming: restored ${done.length} of ${totalCells} cells, ${totalCells - done.length} to train)` : ''}`);
  note(`config: ${config.seeds} seeds, benchmarks ${config.benchmarks.join(', ')}, budgets ${config.budgets.join(', ')}, epochs ${config.epochs}+${config.stitchEpochs}, ${config.optimizer} lr ${config.lr}, alpha lr x${config.alphaLrScale}, train ${config.train}, backend ${backend}`);
  const controller = new AbortController();
  const onAbort = (): void => controller.abort();
  ctx.signal?.addEventListener('abort', onAbort, { once: true });
  if (ctx.signal?.aborted) controller.abort();
  const onProgress = (e: PaperProgressEvent): void => {
    if (quiet) return;
    if (e.step === e.steps) ctx.stderr.write(`[${e.run}/${e.runs}] ${e.benchmark} budget ${e.budget} seed ${e.seed} ${e.what}: ${e.steps} steps, loss ${Number.isFinite(e.loss) ? e.loss.toFixed(4) : '-'}\n`);
  };
  const onCell = (cell: PaperCell): void => {
    writeJsonAtomic(join(dir, PAPER_FILES.cells, cellFileName(cell)), cell);
    finished++;
    marker();
    note(`cell ${finished}/${totalCells} saved: ${PAPER_FILES.cells}/${cellFileName(cell)} (${(cell.seconds.total ?? 0).toFixed(1)}s)`);
  };
  let result: PaperResult;
  try {
    result = await runPaperExperiment(config, { onProgress, onCell, done, signal: controller.signal, data: { mnist: data.mnist, fashion: data.fashion } });
  } catch (err) {
    const aborted = controller.signal.aborted || (err instanceof Error && err.name === 'AbortError');
    const kept = `${finished} of ${totalCells} cells are finished and kept in ${join(dir, PAPER_FILES.cells)}`;
    ctx.stderr.write(aborted ? `interrupted: ${kept}\n  resume with: ${resume}\n` : `train failed: ${(err as Error).message}\n  ${kept}; resume with: ${resume}\n`);
    if (json) printJson(ctx, { command: 'train', status: aborted ? 'incomplete' : 'failed', ...(aborted ? {} : { error: (err as Error).message }), variant: 'paper', backend, runDir: dir, config, finishedCells: finished, totalCells, restoredCells: done.length });
    return aborted ? EXIT.interrupted : EXIT.failure;
  } finally {
    ctx.signal?.removeEventListener('abort', onAbort);
  }
  result.timings.data = (result.timings.data ?? 0) + data.seconds;
  result.timings.total = (result.timings.total ?? 0) + data.seconds;
  writeJsonAtomic(join(dir, PAPER_FILES.results), result);
  writeFileAtomic(join(dir, PAPER_FILES.csv), paperCsv(result.rows));
  writeFileAtomic(join(dir, PAPER_FILES.markdown), paperMarkdown(result.rows, config.seeds));
  writeFileAtomic(join(dir, PAPER_FILES.accuracy), accuracyVsBudgetSvg(result));
  writeFileAtomic(join(dir, PAPER_FILES.alphas), alphasSvg(result));
  rmSync(join(dir, PAPER_INCOMPLETE), { force: true });
  const files = Object.values(PAPER_FILES).sort();
  const restoredLine = `Restored ${result.restoredCells} of ${result.totalCells} cells from ${PAPER_FILES.cells}/; trained ${result.totalCells - result.restoredCells}.`;
  if (json) printJson(ctx, { command: 'train', status: 'complete', variant: 'paper', backend, runDir: dir, config, rows: result.rows, timings: result.timings, restoredCells: result.restoredCells, totalCells: result.totalCells, files });
  else ctx.stdout.write(`${paperTable(result.rows, config.seeds)}\n\n${resumeDir !== undefined ? `${restoredLine}\n` : ''}Total ${result.timings.total?.toFixed(1)}s${result.restoredCells ? ` (${result.timings.restored?.toFixed(1)}s of it in restored cells)` : ''}\nRun folder: ${dir}\n`);
  return EXIT.ok;
}
