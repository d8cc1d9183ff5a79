/** `xs train`: run the seed experiment end to end and leave a run folder behind. */
import { existsSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { type EpochsArg, type OptionSpec, UsageError, choice, epochsValue, intValue, positiveNumber, text, tripleValue } from '../args.js';
import { backendChoice, useBackend } from '../backend.js';
import { accuracies, differences, metricsCsv, parseMetricsCsv, resultsTable, timingsLine, writeFinalArtifacts } from '../artifacts.js';
import { type CommandDef, type Context, EXIT, userPath } from '../context.js';
import type { Dataset } from '@xs/crossstitch';
import { type EpochRecord, type ProgressEvent, type SeedConfig, type SeedData, type SeedPhase, type SeedResult, NOTEBOOK_RESULTS, PHASES } from '../contract.js';
import { writeFileAtomic, writeJsonAtomic } from '../fsutil.js';
import { sampleImages } from '../model.js';
import { EpochTracker, PHASE_LABELS, TrainingProgress } from '../progress.js';
import { CHECKPOINT_OF, FILES, type RunConfig, type RunStatus, createRunDir, loadCheckpoints, readRunConfig, readRunStatus, saveCheckpoint, writeRunStatus } from '../run-dir.js';
import { budgetsValue, runPaperTrain } from './train-paper.js';
import { DATA_DIR_OPTION, JSON_OPTION, NO_VERIFY_OPTION, dataFlags, printJson } from './common.js';

/** Test images per dataset in the run folder's samples picture (one row each). */
const PICTURE_SAMPLES = 8;

const OPTIONS: OptionSpec[] = [
  { name: 'variant', value: 'NAME', parse: choice(['seed', 'paper'] as const), help: 'experiment: seed (the notebook); paper (the cross-stitch network of Misra et al. vs single-task nets and hard sharing, over benchmarks, budgets and seeds)', defaultText: 'seed' },
  { name: 'seeds', value: 'N', parse: intValue(1, 1000), help: '--variant paper: independent seeds per cell (mean \u00b1 std over them)', defaultText: '3' },
  { name: 'benchmark', value: 'NAME', parse: choice(['combined', 'multi', 'both'] as const), help: '--variant paper: combined (MNIST + Fashion, one label each), multi (Multi-(Fashion+MNIST), two labels each) or both', defaultText: 'both' },
  { name: 'budgets', value: 'a,b,c', parse: budgetsValue, help: '--variant paper: training-example budgets (positive integers or all)', defaultText: '500,2000' },
  { name: 'optimizer', value: 'NAME', parse: choice(['sgd', 'adam'] as const), help: '--variant paper: optimiser of every net but the notebook stitch', defaultText: 'adam' },
  { name: 'alpha-lr-scale', value: 'X', parse: positiveNumber, help: '--variant paper: alpha\u2019s learning rate is lr times this', defaultText: '10' },
  { name: 'alpha-only', help: '--variant paper: train only the cross-stitch alphas (default: all weights)' },
  { name: 'alpha-per', value: 'NAME', parse: choice(['layer', 'unit'] as const), help: '--variant paper: run only one of the full cross-stitch variants, one alpha per layer or per unit (the diagonal-only ablation cross-stitch-diag runs either way)', defaultText: 'both' },
  { name: 'backend', value: 'NAME', parse: choice(['auto', 'cpu', 'gpu'] as const), help: 'compute backend: cpu; gpu (the gpu.js backend of @xs/tensor: needs a GL context, an error where there is none); auto (gpu when it can run here, else cpu)', defaultText: 'XS_BACKEND, else auto' },
  { name: 'seed', value: 'N', parse: intValue(0, 2 ** 32 - 1), help: 'root PRNG seed (every initialisation and shuffle derives from it)', defaultText: 'the library default' },
  { name: 'samples', value: 'N', parse: intValue(1), help: 'combined MNIST+Fashion training samples the alpha blocks are trained on', defaultText: '2000' },
  { name: 'epochs', value: 'N|a,b,c', parse: epochsValue, help: 'epochs of the MNIST, Fashion and stitch phases (a,b,c), or one N that scales the default 5,5,40 by N/5 (N=1 gives 1,1,8)', defaultText: '5,5,40' },
  { name: 'batches', value: 'a,b,c', parse: tripleValue, help: 'batches per epoch of each phase', defaultText: '500,600,20' },
  { name: 'lr', value: 'X', parse: positiveNumber, help: 'SGD learning rate of every phase', defaultText: '0.01' },
  { name: 'batch-size', value: 'N', parse: intValue(1), help: 'examples per batch', defaultText: '100' },
  { name: 'config', value: 'FILE', parse: text, help: 'JSON file of SeedConfig fields to override (any of them, e.g. trainExamples, validation, hidden); the flags above win over it' },
  DATA_DIR_OPTION,
  { name: 'out', value: 'DIR', parse: text, help: 'where run folders are made (<DIR>/<timestamp>-<variant>/)', defaultText: 'runs/' },
  { name: 'resume', value: 'RUN_DIR', parse: text, help: 'continue an interrupted run (seed or paper: the variant its config.json names) from its checkpoints or finished cells, keeping its saved configuration' },
  JSON_OPTION,
  { name: 'quiet', short: 'q', help: 'no progress bars or notes on stderr (errors still go there)' },
  NO_VERIFY_OPTION,
];

/** Options of --variant paper only. */
const PAPER_ONLY = ['seeds', 'benchmark', 'budgets', 'optimizer', 'alpha-lr-scale', 'alpha-only', 'alpha-per'];

/** Options that change the experiment and so cannot be combined with --resume. */
const CONFIG_OPTIONS = ['seeds', 'benchmark', 'budgets', 'optimizer', 'alpha-lr-scale', 'alpha-only', 'alpha-per', 'variant', 'seed', 'samples', 'epochs', 'batches', 'lr', 'batch-size', 'config', 'out'];

/** Merge a JSON object of SeedConfig overrides into `base` (per-phase records entry by entry). */
export function mergeConfig(base: SeedConfig, overrides: Record<string, unknown>, file: string): SeedConfig {
  const out = JSON.parse(JSON.stringify(base)) as Record<string, unknown>;
  for (const [k, v] of Object.entries(overrides)) {
    if (!(k in out)) throw new UsageError(`${file}: unknown configuration field "${k}"; known: ${Object.keys(out).join(', ')}`, 'train');
    const cur = out[k];
    out[k] = cur && typeof cur === 'object' && !Array.isArray(cur) && v && typeof v === 'object' && !Array.isArray(v) ? { ...(cur as object), ...(v as object) } : v;
  }
  return out as unknown as SeedConfig;
}

function readConfigFile(path: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new UsageError(`--config ${path}: cannot read it (${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (err as Error).message})`, 'train');
  }
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (err) {
    throw new UsageError(`--config ${path}: not valid JSON (${(err as Error).message})`, 'train');
  }
  if (!v || typeof v !== 'object' || Array.isArray(v)) throw new UsageError(`--config ${path}: expected a JSON object of SeedConfig fields`, 'train');
  return v as Record<string, unknown>;
}

/** Check that every slice the configuration asks for exists in the loaded data (before a run folder is made). */
export function checkConfigFitsData(c: SeedConfig, d: { mnist: SeedData; fashion: SeedData }): void {
  const need: [string, number, number, string][] = [
    ['trainExamples.mnist', c.trainExamples?.mnist ?? 0, d.mnist.train.count, 'MNIST training'],
    ['trainExamples.fashion', c.trainExamples?.fashion ?? 0, d.fashion.train.count, 'Fashion-MNIST training'],
    ['validation.mnist', c.validation?.mnist?.[1] ?? 0, d.mnist.train.count, 'MNIST training'],
    ['validation.fashion', c.validation?.fashion?.[1] ?? 0, d.fashion.train.count, 'Fashion-MNIST training'],
    ['validation.stitch', c.validation?.stitch?.[1] ?? 0, d.fashion.train.count, 'Fashion-MNIST training'],
    ['stitchSamples (--samples)', c.stitchSamples, d.mnist.train.count + d.fashion.train.count, 'combined training'],
  ];
  for (const [what, want, have, split] of need) {
    if (want > have) throw new UsageError(`the configuration's ${what} needs ${want} examples, but the data has ${have} ${split} examples (use --config to fit smaller data)`, 'train');
  }
}

/** Apply the command-line overrides to the engine's default configuration. */
export function buildConfig(base: SeedConfig, o: Record<string, unknown>): SeedConfig {
  const c: SeedConfig = JSON.parse(JSON.stringify(base)) as SeedConfig;
  if (o.seed !== undefined) c.seed = o.seed as number;
  if (o.samples !== undefined) c.stitchSamples = o.samples as number;
  if (o.lr !== undefined) c.lr = o.lr as number;
  if (o['batch-size'] !== undefined) c.batchSize = o['batch-size'] as number;
  const e = o.epochs as EpochsArg | undefined;
  if (e && 'each' in e) c.epochs = { mnist: e.each[0], fashion: e.each[1], stitch: e.each[2] };
  else if (e) {
    const factor = e.scale / Math.max(base.epochs.mnist, 1);
    c.epochs = { mnist: Math.max(1, Math.round(base.epochs.mnist * factor)), fashion: Math.max(1, Math.round(base.epochs.fashion * factor)), stitch: Math.max(1, Math.round(base.epochs.stitch * factor)) };
  }
  const b = o.batches as [number, number, number] | undefined;
  if (b) c.batchesPerEpoch = { mnist: b[0], fashion: b[1], stitch: b[2] };
  return c;
}

/** The variant a run folder's config.json names, or undefined when there is none to read (the seed path then says what is wrong). */
function savedVariant(runDir: string): string | undefined {
  const path = join(runDir, FILES.config);
  if (!existsSync(path)) return undefined;
  try {
    const v = (JSON.parse(readFileSync(path, 'utf8')) as { variant?: unknown })?.variant;
    return typeof v === 'string' ? v : undefined;
  } catch {
    return undefined; // not JSON: readRunConfig reports it
  }
}

function isAbort(err: unknown, signal: AbortSignal): boolean {
  return signal.aborted || (err instanceof Error && err.name === 'AbortError');
}

/** The command line that resumes a run, with the path as the user would type it. */
function resumeCommand(ctx: Context, runDir: string): string {
  const rel = relative(ctx.cwd, runDir);
  const shown = rel && !rel.startsWith('..') ? rel : runDir;
  return `pnpm train --resume ${/\s/.test(shown) ? JSON.stringify(shown) : shown}`;
}

async function run(p: { options: Record<string, unknown>; positionals: string[] }, ctx: Context): Promise<number> {
  const o = p.options;
  if (p.positionals.length) throw new UsageError(`train takes no arguments, got "${p.positionals[0]}" (options start with --)`, 'train');
  if (o.resume !== undefined) {
    const bad = CONFIG_OPTIONS.filter((k) => o[k] !== undefined);
    if (bad.length) throw new UsageError(`--${bad[0]} cannot be combined with --resume: a resumed run keeps the configuration saved in its config.json`, 'train');
  }
  // A resumed run keeps its variant: the one its config.json names.
  const resumeDir = o.resume !== undefined ? userPath(ctx, o.resume as string) : undefined;
  const variant = resumeDir !== undefined ? (savedVariant(resumeDir) ?? 'seed') : ((o.variant as string | undefined) ?? 'seed');
  const backendArg = backendChoice(o.backend as string | undefined, ctx.env);
  const backendInfo = useBackend(backendArg);
  const backend = backendInfo.name;
  if (variant === 'paper') return runPaperTrain(o, ctx, backend, resumeDir);
  const paperOnly = PAPER_ONLY.filter((k) => o[k] !== undefined);
  if (paperOnly.length) throw new UsageError(`--${paperOnly[0]} is an option of --variant paper`, 'train');
  const json = o.json === true;
  const quiet = o.quiet === true;
  const progress = new TrainingProgress(ctx.stderr, quiet);

  // ---- configuration (new run or resumed) ----
  const engine = await ctx.loadEngine();
  let runDir: string | undefined;
  let runConfig: RunConfig;
  let resume: Partial<SeedResult['params']> = {};
  let prevStatus: RunStatus | undefined;
  let prevCurves: EpochRecord[] = [];
  if (resumeDir !== undefined) {
    runDir = resumeDir;
    runConfig = { ...readRunConfig(runDir), backend };
    prevStatus = readRunStatus(runDir);
    resume = loadCheckpoints(runDir, runConfig.seedConfig.hidden);
    if (o['data-dir'] !== undefined || o['no-verify'] !== undefined) {
      runConfig = { ...runConfig, data: { dataDir: (dataFlags(o, ctx).dataDir ?? runConfig.data.dataDir) || null, verify: o['no-verify'] ? false : runConfig.data.verify } };
    }
    prevCurves = prevStatus?.curves ?? (existsSync(join(runDir, FILES.metrics)) ? parseMetricsCsv(readFileSync(join(runDir, FILES.metrics), 'utf8')) : []);
  } else {
    let base = engine.defaultSeedConfig();
    if (o.config !== undefined) {
      const file = userPath(ctx, o.config as string);
      base = mergeConfig(base, readConfigFile(file), file);
    }
    let seedConfig = buildConfig(base, o);
    if (engine.resolveSeedConfig) {
      try {
        seedConfig = engine.resolveSeedConfig(seedConfig);
      } catch (err) {
        throw new UsageError((err as Error).message.replace(/^seed config: /, 'bad configuration: '), 'train');
      }
    }
    const df = dataFlags(o, ctx);
    runConfig = { kind: 'xs-run', variant: 'seed', backend, seedConfig, data: { dataDir: df.dataDir ?? null, verify: df.verify }, createdAt: new Date().toISOString(), cli: { version: ctx.version, argv: [...(ctx.argv ?? [])] } };
  }
  const config = runConfig.seedConfig;
  const resumedPhases = PHASES.filter((ph) => resume[CHECKPOINT_OF[ph]] !== undefined);
  if (config.stitchSamples < config.batchSize) throw new UsageError(`--samples (${config.stitchSamples}) must be at least the batch size (${config.batchSize})`, 'train');

  // ---- data, then the run folder ----
  // The engine loads the data (in its training threads, where the nets train side by side) and hands it to
  // onData, which checks it against the configuration and only then makes the run folder.
  progress.note(`loading MNIST and Fashion-MNIST${runConfig.data.dataDir ? ` from ${runConfig.data.dataDir}` : ''}...`);
  const controller = new AbortController();
  const onAbort = (): void => controller.abort();
  ctx.signal?.addEventListener('abort', onAbort, { once: true });
  if (ctx.signal?.aborted) controller.abort();
  let loaded: { mnist: Dataset; fashion: Dataset } | undefined;
  let dataSeconds = 0;
  let made: { dir: string; status: RunStatus } | undefined; // the run folder, once onData has made it
  const onData = (given: { mnist: SeedData; fashion: SeedData }, seconds: number): void => {
    loaded = given as { mnist: Dataset; fashion: Dataset };
    dataSeconds = seconds;
    const from = (d: SeedData): string => ('source' in d ? `${(d as Dataset).source.kind} (${(d as Dataset).source.dir})` : 'the engine');
    progress.note(`data: MNIST from ${from(given.mnist)}, Fashion-MNIST from ${from(given.fashion)} in ${seconds.toFixed(1)}s${runConfig.data.verify ? '' : ' [checksums not verified]'}`);
    checkConfigFitsData(config, given);
    if (controller.signal.aborted) return; // (the engine then stops with an AbortError: nothing written)
    const folder = runDir ?? createRunDir(userPath(ctx, (o.out as string | undefined) ?? 'runs'), variant);
    const startedAt = new Date().toISOString();
    const s: RunStatus = prevStatus
      ? { ...prevStatus, status: 'running', reason: undefined, finishedAt: undefined, phasesDone: [...resumedPhases], attempts: [...prevStatus.attempts, { startedAt, resumedPhases }] }
      : { status: 'running', phasesDone: [], phaseSeconds: {}, curves: [], startedAt, updatedAt: startedAt, attempts: [{ startedAt }] };
    s.resume = resumeCommand(ctx, folder);
    s.curves = prevCurves.filter((c) => resumedPhases.includes(c.phase));
    if (!prevStatus) writeJsonAtomic(join(folder, FILES.config), runConfig);
    writeRunStatus(folder, s);
    made = { dir: folder, status: s };
    progress.note(`run folder: ${folder}${resumedPhases.length ? ` (resuming; done: ${resumedPhases.join(', ')})` : ''}`);
    progress.note(`config: seed ${config.seed}, lr ${config.lr}, batch ${config.batchSize}, epochs ${config.epochs.mnist},${config.epochs.fashion},${config.epochs.stitch}, batches/epoch ${config.batchesPerEpoch.mnist},${config.batchesPerEpoch.fashion},${config.batchesPerEpoch.stitch}, stitch samples ${config.stitchSamples}, backend ${backend} (${backendInfo.reason})`);
    phaseStart = performance.now();
    progress.start();
  };

  // ---- training ----
  const tracker = new EpochTracker();
  const t0 = performance.now();
  let phaseStart = t0;
  // The last event of each phase: its steps / rate is the phase's own time, also when phases run side by side.
  const lastEvent = new Map<SeedPhase, ProgressEvent>();
  const writeCurves = (): void => {
    if (!made) return;
    const { dir, status } = made;
    const shown = [...status.curves, ...tracker.records.filter((r) => !status.curves.some((c) => c.phase === r.phase && c.epoch === r.epoch))];
    // A live view rewritten every epoch (40 times in the stitch phase): atomic but not fsynced, which would cost
    // more than the epoch itself on slow disks; status.json and the checkpoints stay durable.
    writeFileAtomic(join(dir, FILES.metrics), metricsCsv(shown), { durable: false });
  };
  const onProgress = (e: ProgressEvent): void => {
    lastEvent.set(e.phase, e);
    progress.event(e);
    if (tracker.event(e)) writeCurves();
  };
  const onPhaseDone = (phase: SeedPhase, params: Partial<SeedResult['params']>): void => {
    const which = CHECKPOINT_OF[phase];
    if (resumedPhases.includes(phase)) return;
    if (!made) throw new Error(`runSeedExperiment finished phase ${phase} before calling onData`);
    const { dir, status } = made;
    const tensors = params[which];
    if (!tensors || tensors.length === 0) throw new Error(`runSeedExperiment finished phase ${phase} without ${which} parameters`);
    saveCheckpoint(dir, which, tensors, config);
    const last = lastEvent.get(phase);
    status.phaseSeconds[phase] = last && last.stepsPerSecond > 0 ? last.step / last.stepsPerSecond : (performance.now() - phaseStart) / 1000;
    phaseStart = performance.now();
    if (!status.phasesDone.includes(phase)) status.phasesDone.push(phase);
    status.curves = [...status.curves.filter((c) => c.phase !== phase), ...tracker.records.filter((r) => r.phase === phase)];
    writeRunStatus(dir, status);
    writeCurves();
    progress.phaseDone(phase, `checkpoint ${FILES.checkpoints[which]}`);
  };

  let result: SeedResult;
  const dataOptions = { ...(runConfig.data.dataDir ? { dataDir: runConfig.data.dataDir } : {}), verify: runConfig.data.verify, env: ctx.env, progress: quiet ? null : ctx.stderr };
  try {
    result = await engine.runSeedExperiment(config, { onData, onProgress, onPhaseDone, resume, signal: controller.signal, dataOptions });
    if (!made || !loaded) throw new Error('runSeedExperiment finished without calling onData');
  } catch (err) {
    progress.endLine();
    const aborted = isAbort(err, controller.signal);
    if (!made) {
      // nothing was written: a data or configuration problem (reported by the caller), or Ctrl-C
      if (!aborted) throw err;
      ctx.stderr.write('interrupted before training started; nothing was written\n');
      return EXIT.interrupted;
    }
    const { dir, status } = made;
    status.status = aborted ? 'incomplete' : 'failed';
    status.reason = aborted ? 'interrupted (Ctrl-C)' : (err as Error).message;
    status.attempts[status.attempts.length - 1]!.endedAt = new Date().toISOString();
    status.attempts[status.attempts.length - 1]!.outcome = status.status;
    writeRunStatus(dir, status);
    const done = status.phasesDone.length ? status.phasesDone.map((ph) => PHASE_LABELS[ph]).join(', ') : 'none';
    if (aborted) ctx.stderr.write(`interrupted: the run is incomplete; finished phases kept: ${done}\n  resume with: ${status.resume}\n`);
    else ctx.stderr.write(`train failed: ${(err as Error).message}\n  finished phases kept: ${done}; resume with: ${status.resume}\n`);
    if (json) {
      const timings = { ...status.phaseSeconds, data: dataSeconds, total: (performance.now() - t0) / 1000 };
      printJson(ctx, { command: 'train', status: status.status, error: status.reason, variant, backend, runDir: dir, config, phasesDone: status.phasesDone, resumedPhases, timings });
    }
    return aborted ? EXIT.interrupted : EXIT.failure;
  } finally {
    ctx.signal?.removeEventListener('abort', onAbort);
  }
  const { dir, status } = made;
  const data = loaded;
  progress.endLine();

  // ---- finish: merge what earlier attempts did, write everything ----
  for (const which of ['mnist', 'fashion', 'alpha'] as const) {
    if (!existsSync(join(dir, FILES.checkpoints[which])) && result.params?.[which]?.length) saveCheckpoint(dir, which, result.params[which], config);
  }
  const curves = PHASES.flatMap((ph) => {
    const fromEngine = result.curves.filter((c) => c.phase === ph);
    return fromEngine.length ? fromEngine : status.curves.filter((c) => c.phase === ph);
  });
  const timings: Record<string, number> = { ...result.timings };
  let carried = 0;
  for (const ph of resumedPhases) {
    const prev = status.phaseSeconds[ph];
    if (prev !== undefined && !(timings[ph]! > 0)) {
      timings[ph] = prev;
      carried += prev;
    }
  }
  const total = (timings.total ?? (performance.now() - t0) / 1000) + carried;
  delete timings.total;
  const order = ['data', 'mnist', 'fashion', 'netsInParallel', 'shuffle', 'stitch', 'evaluation'];
  const keys = [...order.filter((k) => k in timings), ...Object.keys(timings).filter((k) => !order.includes(k))];
  const ordered: Record<string, number> = Object.fromEntries(keys.map((k) => [k, timings[k]!]));
  ordered.total = total;
  const notebook = result.notebook ?? NOTEBOOK_RESULTS;
  const merged: SeedResult = { ...result, curves, timings: ordered, notebook };
  for (const ph of PHASES) if (!status.phasesDone.includes(ph)) status.phasesDone.push(ph);
  status.status = 'complete';
  status.finishedAt = new Date().toISOString();
  status.reason = undefined;
  status.resume = undefined;
  status.curves = curves;
  status.attempts[status.attempts.length - 1]!.endedAt = status.finishedAt;
  status.attempts[status.attempts.length - 1]!.outcome = 'complete';
  // The picture shows 8 test images per dataset: the engine's own (classified with the test sets), else here.
  let pictureSamples: SeedResult['samples'] | undefined;
  const enough = (['mnist', 'fashion'] as const).every((d) => merged.samples.filter((x) => x.dataset === d).length >= PICTURE_SAMPLES);
  if (!enough) {
    try {
      pictureSamples = sampleImages(merged.params, data, PICTURE_SAMPLES);
    } catch {
      pictureSamples = undefined; // fall back to the result's own samples
    }
  }
  const written = writeFinalArtifacts(dir, merged, { runConfig, status, resumedPhases, version: ctx.version, ...(pictureSamples ? { pictureSamples } : {}) });
  writeRunStatus(dir, status);

  const ours = accuracies(merged.results);
  const peakRssMB = process.resourceUsage().maxRSS / 1024; // maxRSS is in KiB
  if (json) {
    printJson(ctx, {
      command: 'train',
      status: 'complete',
      variant,
      backend,
      runDir: dir,
      config,
      results: ours,
      notebook,
      difference: differences(ours, notebook),
      timings: ordered,
      peakRssMB,
      phasesDone: status.phasesDone,
      resumedPhases,
      files: [FILES.config, FILES.status, ...Object.values(FILES.checkpoints), ...written].sort(),
    });
  } else {
    ctx.stdout.write(`${resultsTable(ours, notebook)}\n\nTimings: ${timingsLine(ordered)}\nPeak memory: ${peakRssMB.toFixed(0)} MB (resident set, this process and its worker threads)\nRun folder: ${dir}\nReport: ${join(dir, FILES.report)}\n`);
  }
  return EXIT.ok;
}

export const trainCommand: CommandDef = {
  name: 'train',
  summary: 'run the seed experiment end to end and write a run folder',
  usage: ['pnpm train [options]                  (from the repository root)', 'pnpm --filter cli train [options]', 'xs train [options]                     (the built bin)'],
  description: [
    'Trains the MNIST net, then the Fashion-MNIST net (784-60-20-10, sigmoid, SGD), then only the cross-stitch alpha blocks on samples of the combined training sets, exactly as the seed notebook does; shows a progress bar per phase on stderr (steps, loss, validation accuracy, throughput, ETA) and prints the test accuracies beside the notebook\u2019s.',
    'Each phase\u2019s checkpoint is written as soon as it finishes. Ctrl-C stops cleanly: finished phases are kept, the run folder is marked incomplete (INCOMPLETE, status.json), and --resume RUN_DIR continues from the checkpoints.',
    '--variant paper saves each finished cell (benchmark x budget x seed: accuracies, alphas, seconds) as cells/<benchmark>-<budget>-seed<k>.json as soon as it finishes; --resume RUN_DIR on a paper run folder restores those cells, trains the rest with the saved configuration, and writes the same table an uninterrupted run would.',
  ],
  options: OPTIONS,
  sections: [
    [
      'A run folder (runs/<timestamp>-seed/) holds',
      [
        '  config.json, status.json            the configuration; status (running/incomplete/failed/complete), attempts',
        '  mnist.safetensors, fashion.safetensors, alpha.safetensors   parameters, written as each phase finishes',
        '  metrics.csv                         per epoch: phase, epoch, train loss, validation accuracy, seconds',
        '  results.json                        test metrics (accuracy, per class, confusion), curves, timings, notebook numbers',
        '  loss.svg, val-accuracy.svg          training curves; alpha.svg: the two 20x60 alpha blocks',
        '  confusion-mnist.svg, confusion-fashion.svg, samples.svg; report.html ties everything together',
        '  INCOMPLETE                          only while the run is unfinished: what is done and how to resume',
      ],
    ],
    [
      'A paper run folder (runs/<timestamp>-paper/) holds',
      [
        '  config.json                         the configuration (--resume keeps it)',
        '  cells/<benchmark>-<budget>-seed<k>.json   each finished cell: accuracies, learned alphas, seconds',
        '  results.json, results.csv, results.md   the table (mean \u00b1 std over seeds), alphas, timings',
        '  accuracy-vs-budget.svg, alphas.svg  accuracy vs training examples per method; the learned alphas per layer',
        '  INCOMPLETE                          only while the run is unfinished: cells done and how to resume',
      ],
    ],
  ],
  examples: [
    'pnpm train                                  # the notebook\u2019s experiment (5, 5, 40 epochs)',
    'pnpm train --epochs 1 --samples 1000        # a quick run: 1, 1, 8 epochs',
    'pnpm train --epochs 5,5,20 --seed 7 --out /tmp/runs',
    'pnpm train --json > result.json             # results on stdout, progress on stderr',
    'pnpm train --resume runs/20250101-120000-seed',
    'pnpm train --resume runs/20250101-130000-paper   # a paper run: restores the finished cells, trains the rest',
    'pnpm train --variant paper                  # cross-stitch vs baselines, budgets 500,2000, 3 seeds (minutes)',
    'pnpm train --variant paper --budgets 500,2000,10000,all --epochs 20   # the full grid (hours on 2 cores)',
  ],
  run,
};
