/** `xs eval`: test accuracy, per-class accuracy and confusion matrices of saved parameters. */
import { existsSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { type Dataset, accuracy, confusionMatrix, loadDataset, loadPytree, perClassAccuracy } from '@xs/crossstitch';
import { type OptionSpec, UsageError } from '../args.js';
import { type CommandDef, type Context, EXIT, userPath } from '../context.js';
import type { NetParams, SeedResult, TestMetrics } from '../contract.js';
import { composeParameters, predictClasses } from '../model.js';
import { FASHION_CLASSES, MNIST_CLASSES } from '../plots.js';
import { FILES, type RunConfig, loadCheckpoint, loadCheckpoints, readRunConfig } from '../run-dir.js';
import { DATA_DIR_OPTION, JSON_OPTION, NO_VERIFY_OPTION, dataFlags, printJson } from './common.js';

const OPTIONS: OptionSpec[] = [DATA_DIR_OPTION, JSON_OPTION, { name: 'quiet', short: 'q', help: 'no notes on stderr' }, NO_VERIFY_OPTION];

type Task = 'mnist' | 'fashion';

/** Metrics of predicted against true labels, accuracies in percent. */
export function testMetrics(pred: Int32Array, truth: Int32Array, classes = 10): TestMetrics {
  return {
    accuracy: accuracy(pred, truth) * 100,
    perClassAccuracy: perClassAccuracy(pred, truth, classes).map((v) => v * 100),
    confusion: confusionMatrix(pred, truth, classes),
  };
}

function matrixText(m: readonly (readonly number[])[]): string {
  const w = Math.max(4, ...m.flat().map((v) => String(v).length)) + 1;
  const head = `    true\\pred${Array.from({ length: m[0]?.length ?? 0 }, (_, j) => String(j).padStart(w)).join('')}`;
  return [head, ...m.map((row, i) => `    ${String(i).padStart(9)}${row.map((v) => String(v).padStart(w)).join('')}`)].join('\n');
}

/** What to evaluate, from a run folder or a checkpoint file. */
function resolveTarget(path: string): { dir: string; only?: 'mnist' | 'fashion'; runConfig?: RunConfig } {
  if (!existsSync(path)) throw new Error(`${path} does not exist (give a run folder or a .safetensors checkpoint)`);
  const isDir = statSync(path).isDirectory();
  const dir = isDir ? path : dirname(path);
  const runConfig = existsSync(join(dir, FILES.config)) ? readRunConfig(dir) : undefined;
  if (isDir) {
    if (!Object.values(FILES.checkpoints).some((f) => existsSync(join(dir, f)))) throw new Error(`${dir} holds no checkpoint (${Object.values(FILES.checkpoints).join(', ')})`);
    return { dir, ...(runConfig ? { runConfig } : {}) };
  }
  // a file: which part is it?
  const part = checkpointPart(path) ?? (basename(path).startsWith('mnist') ? 'mnist' : basename(path).startsWith('fashion') ? 'fashion' : basename(path).startsWith('alpha') ? 'alpha' : undefined);
  if (part === 'alpha') return { dir, ...(runConfig ? { runConfig } : {}) };
  if (part === 'mnist' || part === 'fashion') return { dir: path, only: part, ...(runConfig ? { runConfig } : {}) };
  throw new Error(`${path}: cannot tell which network this checkpoint holds (no "part" metadata; name it mnist.safetensors, fashion.safetensors or alpha.safetensors)`);
}

/** The `part` a checkpoint's metadata names (mnist, fashion, alpha), if any. */
function checkpointPart(path: string): string | undefined {
  try {
    return loadPytree(path).metadata.part;
  } catch (err) {
    throw new Error(`${path} is not a readable checkpoint: ${(err as Error).message}`);
  }
}

async function run(p: { options: Record<string, unknown>; positionals: string[] }, ctx: Context): Promise<number> {
  const o = p.options;
  if (p.positionals.length === 0) throw new UsageError('eval needs a run folder or a checkpoint file, e.g. xs eval runs/20250101-120000-seed', 'eval');
  if (p.positionals.length > 1) throw new UsageError(`eval takes one run folder or checkpoint, got ${p.positionals.length}: ${p.positionals.join(' ')}`, 'eval');
  const target = resolveTarget(userPath(ctx, p.positionals[0]!));
  const quiet = o.quiet === true;
  const note = (s: string): void => {
    if (!quiet) ctx.stderr.write(`${s}\n`);
  };

  let params: Partial<SeedResult['params']>;
  if (target.only) {
    const c = loadCheckpoint(target.dir, target.only);
    params = { [target.only]: c!.params };
  } else params = loadCheckpoints(target.dir, target.runConfig?.seedConfig.hidden);
  const parts = (['mnist', 'fashion', 'alpha'] as const).filter((k) => params[k]);
  note(`evaluating ${target.dir} (checkpoints: ${parts.join(', ')})`);

  // data: flags win over what the run recorded
  const df = dataFlags(o, ctx);
  const dataDir = df.dataDir ?? target.runConfig?.data.dataDir ?? undefined;
  const verify = o['no-verify'] ? false : target.runConfig ? target.runConfig.data.verify : true;
  const dataOpts = { ...(dataDir ? { dataDir } : {}), verify, env: ctx.env, progress: quiet ? null : ctx.stderr };
  const stitched = params.mnist && params.fashion && params.alpha ? composeParameters(params.mnist, params.fashion, params.alpha) : undefined;
  const results: Partial<Record<Task, { alone?: TestMetrics; stitched?: TestMetrics; count: number }>> = {};
  for (const task of ['mnist', 'fashion'] as const) {
    const own = params[task] as NetParams | undefined;
    if (!own && !stitched) continue;
    const ds: Dataset = await loadDataset(task === 'mnist' ? 'mnist' : 'fashion-mnist', dataOpts);
    const { images, labels, features, count } = ds.test;
    const entry: { alone?: TestMetrics; stitched?: TestMetrics; count: number } = { count };
    if (own) entry.alone = testMetrics(predictClasses(own, images, features), labels);
    if (stitched) entry.stitched = testMetrics(predictClasses(stitched, images, features), labels);
    results[task] = entry;
  }

  if (o.json) {
    printJson(ctx, { command: 'eval', source: target.dir, checkpoints: parts, results });
    return EXIT.ok;
  }
  const out: string[] = [];
  for (const task of ['mnist', 'fashion'] as const) {
    const r = results[task];
    if (!r) continue;
    const classes = task === 'mnist' ? MNIST_CLASSES : FASHION_CLASSES;
    const kinds = (['alone', 'stitched'] as const).filter((k) => r[k]);
    out.push(`${task === 'mnist' ? 'MNIST' : 'Fashion-MNIST'} test set (${r.count} images): ${kinds.map((k) => `${k} ${r[k]!.accuracy.toFixed(2)}%`).join(', ')}`);
    const w = Math.max(...classes.map((c) => c.length), 5);
    out.push(`  per-class accuracy:`, `    ${'class'.padEnd(w + 3)}${kinds.map((k) => k.padStart(10)).join('')}`);
    classes.forEach((c, i) => {
      const cells = kinds.map((k) => {
        const v = r[k]!.perClassAccuracy[i]!;
        return (Number.isFinite(v) ? `${v.toFixed(2)}%` : 'n/a').padStart(10);
      });
      out.push(`    ${String(i).padStart(2)} ${c.padEnd(w)}${cells.join('')}`);
    });
    for (const k of kinds) out.push(`  confusion matrix, ${k} (rows: true class, columns: predicted class):`, matrixText(r[k]!.confusion));
    out.push('');
  }
  ctx.stdout.write(`${out.join('\n')}\n`);
  return EXIT.ok;
}

export const evalCommand: CommandDef = {
  name: 'eval',
  summary: 'test accuracy, per-class accuracy and confusion matrix of saved parameters',
  usage: ['pnpm --filter cli eval <run dir | checkpoint.safetensors> [options]', 'xs eval <run dir | checkpoint.safetensors> [options]'],
  description: [
    'Evaluates the networks saved by train on the 10,000-image test sets: each net alone on its own dataset (mnist.safetensors on MNIST, fashion.safetensors on Fashion-MNIST) and, when the run also has alpha.safetensors, the stitched net on both. A single network checkpoint is evaluated alone; alpha.safetensors stands for its run folder.',
    'Data is looked up as train does; a run folder remembers the --data-dir it was trained with.',
  ],
  options: OPTIONS,
  examples: ['pnpm --filter cli eval runs/20250101-120000-seed', 'pnpm --filter cli eval runs/20250101-120000-seed/mnist.safetensors', 'pnpm --filter cli eval runs/20250101-120000-seed --json > eval.json'],
  run,
};
