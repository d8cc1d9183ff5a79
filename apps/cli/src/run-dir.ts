/**
 * The run folder: `runs/<timestamp>-<variant>/` with `config.json`, `status.json`, the checkpoints
 * (`mnist.safetensors`, `fashion.safetensors`, `alpha.safetensors`), `metrics.csv`, `results.json`, the SVG
 * pictures and `report.html`. While a run is unfinished an `INCOMPLETE` file says so and how to resume.
 */
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { loadPytree, savePytree } from '@xs/crossstitch';
import type { PyTree, Tensor } from '@xs/tensor';
import type { EpochRecord, NetParams, SeedConfig, SeedPhase, SeedResult } from './contract.js';
import { writeFileAtomic, writeJsonAtomic } from './fsutil.js';
import { netSizes } from './model.js';

export const FILES = {
  config: 'config.json',
  status: 'status.json',
  results: 'results.json',
  metrics: 'metrics.csv',
  report: 'report.html',
  incomplete: 'INCOMPLETE',
  checkpoints: { mnist: 'mnist.safetensors', fashion: 'fashion.safetensors', alpha: 'alpha.safetensors' },
  pictures: {
    loss: 'loss.svg',
    valAccuracy: 'val-accuracy.svg',
    alpha: 'alpha.svg',
    confusionMnist: 'confusion-mnist.svg',
    confusionFashion: 'confusion-fashion.svg',
    samples: 'samples.svg',
  },
} as const;

/** Which checkpoint a phase produces. */
export const CHECKPOINT_OF: Record<SeedPhase, keyof SeedResult['params']> = { mnist: 'mnist', fashion: 'fashion', stitch: 'alpha' };

/** What `config.json` holds. */
export interface RunConfig {
  /** Format marker. */
  kind: 'xs-run';
  variant: 'seed';
  /** The backend the run used (cpu or gpu). */
  backend: string;
  /** The experiment configuration passed to runSeedExperiment. */
  seedConfig: SeedConfig;
  data: { dataDir: string | null; verify: boolean };
  createdAt: string;
  cli: { version: string; argv: string[] };
}

/** What `status.json` holds. */
export interface RunStatus {
  status: 'running' | 'incomplete' | 'failed' | 'complete';
  /** Phases whose checkpoint is on disk. */
  phasesDone: SeedPhase[];
  /** Seconds each finished phase took (measured by the CLI, kept across resumes). */
  phaseSeconds: Partial<Record<SeedPhase, number>>;
  /** Per-epoch records of the finished phases (kept across resumes). */
  curves: EpochRecord[];
  startedAt: string;
  updatedAt: string;
  finishedAt?: string;
  /** Why the run stopped, when it did not complete. */
  reason?: string;
  /** How to continue an unfinished run. */
  resume?: string;
  attempts: { startedAt: string; endedAt?: string; outcome?: string; resumedPhases?: SeedPhase[] }[];
}

function stamp(d: Date): string {
  const p = (n: number, w = 2): string => String(n).padStart(w, '0');
  return `${d.getFullYear()}${p(d.getMonth() + 1)}${p(d.getDate())}-${p(d.getHours())}${p(d.getMinutes())}${p(d.getSeconds())}`;
}

/** Make a fresh `<out>/<timestamp>-<variant>` folder (a `-2`, `-3`, ... suffix when the name is taken). */
export function createRunDir(out: string, variant: string, now = new Date()): string {
  mkdirSync(out, { recursive: true });
  const base = join(out, `${stamp(now)}-${variant}`);
  for (let k = 1; ; k++) {
    const dir = k === 1 ? base : `${base}-${k}`;
    try {
      mkdirSync(dir);
      return resolve(dir);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
  }
}

export function readJson<T>(path: string, what: string): T {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new Error(`cannot read ${what} ${path}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (err as Error).message}`);
  }
  try {
    return JSON.parse(text) as T;
  } catch (err) {
    throw new Error(`${path} is not valid JSON: ${(err as Error).message}`);
  }
}

/** Read a run folder's config.json, checking it is one. */
export function readRunConfig(runDir: string): RunConfig {
  if (!existsSync(runDir)) throw new Error(`run folder ${runDir} does not exist`);
  const path = join(runDir, FILES.config);
  if (!existsSync(path)) throw new Error(`${runDir} is not a run folder: it has no ${FILES.config}`);
  const c = readJson<RunConfig>(path, 'run configuration');
  if (c?.kind !== 'xs-run' || !c.seedConfig) throw new Error(`${path} is not an xs run configuration`);
  return c;
}

export function readRunStatus(runDir: string): RunStatus | undefined {
  const path = join(runDir, FILES.status);
  return existsSync(path) ? readJson<RunStatus>(path, 'run status') : undefined;
}

export function writeRunStatus(runDir: string, s: RunStatus): void {
  s.updatedAt = new Date().toISOString();
  writeJsonAtomic(join(runDir, FILES.status), s);
  const marker = join(runDir, FILES.incomplete);
  if (s.status === 'complete') rmSync(marker, { force: true });
  else {
    const done = s.phasesDone.length ? s.phasesDone.join(', ') : 'none';
    writeFileAtomic(
      marker,
      `This run is ${s.status === 'running' ? 'still running (or was killed)' : s.status}${s.reason ? `: ${s.reason}` : ''}.\n` +
        `Finished phases (checkpoints kept): ${done}.\n` +
        (s.resume ? `Continue it with:\n  ${s.resume}\n` : ''),
    );
  }
}

/** Save one checkpoint (atomically, via savePytree) with metadata saying what it is. */
export function saveCheckpoint(runDir: string, which: keyof SeedResult['params'], params: NetParams, config: SeedConfig): string {
  const path = join(runDir, FILES.checkpoints[which]);
  savePytree(path, params as unknown as PyTree, {
    format: 'xs-seed',
    part: which,
    dataset: which === 'mnist' ? 'mnist' : which === 'fashion' ? 'fashion-mnist' : '',
    hidden: config.hidden.join(','),
    seed: String(config.seed),
    layout: which === 'alpha' ? '[[alpha1 (hidden2 x hidden1), alpha2 (hidden2 x hidden1)]]' : '[[W0,b0],[W1,b1],[W2,b2]], W as [out, in]',
  });
  return path;
}

/** Load one checkpoint and check its structure; undefined when the file is absent. */
export function loadCheckpoint(path: string, which: keyof SeedResult['params'], hidden?: readonly number[]): { params: NetParams; metadata: Record<string, string> } | undefined {
  if (!existsSync(path)) return undefined;
  const { tree, metadata } = loadPytree(path);
  const params = tree as unknown as NetParams;
  if (which === 'alpha') {
    const ok = Array.isArray(params) && params.length === 1 && Array.isArray(params[0]) && params[0].length === 2 && params[0].every((t: Tensor) => t.ndim === 2);
    if (!ok) throw new Error(`${path}: expected alpha blocks [[alpha1, alpha2]] (two 2-D tensors)`);
    if (hidden) {
      for (const t of params[0]!) {
        if (t.shape[0] !== hidden[1] || t.shape[1] !== hidden[0]) throw new Error(`${path}: alpha block is [${t.shape.join(', ')}], expected [${hidden[1]}, ${hidden[0]}]`);
      }
    }
  } else {
    let sizes: number[];
    try {
      sizes = netSizes(params, path);
    } catch (err) {
      throw new Error(`${path}: not a ${which} network checkpoint (${(err as Error).message})`);
    }
    if (hidden && (sizes[1] !== hidden[0] || sizes[2] !== hidden[1])) throw new Error(`${path}: hidden sizes ${sizes[1]},${sizes[2]} do not match the run's ${hidden.join(',')}`);
  }
  return { params, metadata };
}

/** The checkpoints present in a run folder (for `--resume` and `eval`). */
export function loadCheckpoints(runDir: string, hidden?: readonly number[]): Partial<SeedResult['params']> {
  const out: Partial<SeedResult['params']> = {};
  for (const which of ['mnist', 'fashion', 'alpha'] as const) {
    const c = loadCheckpoint(join(runDir, FILES.checkpoints[which]), which, hidden);
    if (c) out[which] = c.params;
  }
  return out;
}
