/** `xs bench`: run the seed training-step benchmark of @xs/tensor (packages/tensor/bench/seed-step.ts). */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { NotAvailableError, type OptionSpec, UsageError, text } from '../args.js';
import { type CommandDef, type Context, EXIT, userPath } from '../context.js';
import { repoRoot } from '../paths.js';

export const BENCH_SCRIPT = join('packages', 'tensor', 'bench', 'seed-step.ts');

const OPTIONS: OptionSpec[] = [
  { name: 'quick', help: 'fewer rounds (a few seconds; for a smoke test, not for numbers)' },
  { name: 'script', value: 'FILE', parse: text, help: 'run this benchmark file instead', hidden: true },
];

/** The tsx loader (to run TypeScript), or undefined when tsx is not installed. */
function tsxLoader(): string | undefined {
  try {
    return pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
  } catch {
    return undefined;
  }
}

async function run(p: { options: Record<string, unknown>; positionals: string[] }, ctx: Context): Promise<number> {
  if (p.positionals.length) throw new UsageError(`bench takes no arguments, got "${p.positionals[0]}"`, 'bench');
  const root = repoRoot();
  const script = p.options.script ? userPath(ctx, p.options.script as string) : root ? join(root, BENCH_SCRIPT) : undefined;
  if (!script || !existsSync(script)) {
    throw new NotAvailableError(`the benchmark is not available: ${script ?? BENCH_SCRIPT} is not in this checkout (it ships with the repository's packages/tensor, not with the built CLI)`);
  }
  const loader = tsxLoader();
  if (!loader) throw new NotAvailableError('the benchmark needs tsx to run TypeScript, and it is not installed (pnpm install)');
  ctx.stderr.write(`running ${script}${p.options.quick ? ' --quick' : ''} (this takes ${p.options.quick ? 'a few seconds' : 'about a minute'})\n`);
  const args = ['--import', loader, script, ...(p.options.quick ? ['--quick'] : [])];
  return new Promise<number>((resolve) => {
    const child = spawn(process.execPath, args, { cwd: root ?? ctx.cwd, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...ctx.env } });
    child.stdout.on('data', (b: Buffer) => ctx.stdout.write(b.toString()));
    child.stderr.on('data', (b: Buffer) => ctx.stderr.write(b.toString()));
    const onAbort = (): void => {
      child.kill('SIGINT');
    };
    ctx.signal?.addEventListener('abort', onAbort, { once: true });
    child.on('error', (err) => {
      ctx.stderr.write(`bench: could not start node: ${err.message}\n`);
      resolve(EXIT.failure);
    });
    child.on('close', (code, sig) => {
      ctx.signal?.removeEventListener('abort', onAbort);
      if (sig === 'SIGINT' || ctx.signal?.aborted) resolve(EXIT.interrupted);
      else if (code !== 0) {
        ctx.stderr.write(`bench: the benchmark exited with ${code ?? sig}\n`);
        resolve(EXIT.failure);
      } else resolve(EXIT.ok);
    });
  });
}

export const benchCommand: CommandDef = {
  name: 'bench',
  summary: 'run the seed training-step benchmark (packages/tensor/bench/seed-step.ts)',
  usage: ['pnpm --filter cli bench [--quick]', 'xs bench [--quick]'],
  description: [
    'Times the seed notebook\u2019s training step (784-60-20-10 MLP, batch 100) in four forms (eager and jit, batched and per-example) after checking they agree, and prints steps per second and their ratios. Same as `pnpm bench:xs` at the repository root.',
  ],
  options: OPTIONS,
  examples: ['pnpm --filter cli bench', 'pnpm --filter cli bench --quick'],
  run,
};
