/** What every command gets (streams, environment, the engine, Ctrl-C), command definitions and help. */
import { isAbsolute, resolve } from 'node:path';
import type { OptionSpec, Parsed } from './args.js';
import type { Engine } from './contract.js';
import type { TextStream } from './progress.js';

/** Exit codes (documented in `--help`). */
export const EXIT = {
  /** Success. */
  ok: 0,
  /** Failure: training error, data not found or corrupt, unreadable checkpoint, a dataset not OK (`data`). */
  failure: 1,
  /** Usage error: unknown command or option, bad value. */
  usage: 2,
  /** Not available: `--backend gpu` where the GPU cannot run, no runSeedExperiment, no benchmark. */
  notAvailable: 3,
  /** Interrupted (Ctrl-C): a training run keeps its finished phases and can be resumed. */
  interrupted: 130,
} as const;

export const EXIT_CODES_HELP = [
  '  0    success',
  '  1    failure (training error, data not found or corrupt, unreadable checkpoint; `data`: a dataset not OK)',
  '  2    usage error (unknown command or option, bad value)',
  '  3    not available (--backend gpu where the GPU cannot run, no runSeedExperiment, no benchmark)',
  '  130  interrupted (Ctrl-C); `train` keeps the finished phases, resume with --resume RUN_DIR',
];

export interface Context {
  readonly stdout: TextStream;
  readonly stderr: TextStream;
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Folder that relative paths are relative to (where the user ran `pnpm ...`: INIT_CWD, else the cwd). */
  readonly cwd: string;
  /** The experiment engine (tests pass a fake one). */
  readonly loadEngine: () => Promise<Engine>;
  /** Aborted on Ctrl-C. */
  readonly signal?: AbortSignal;
  /** The CLI's version. */
  readonly version: string;
  /** The command line (after the program name), recorded in a run's config.json. */
  readonly argv?: readonly string[];
}

/** A path from the command line, resolved against the user's folder. */
export function userPath(ctx: Context, p: string): string {
  return isAbsolute(p) ? p : resolve(ctx.cwd, p);
}

/** One command. */
export interface CommandDef {
  readonly name: string;
  /** One line for the command list. */
  readonly summary: string;
  /** Usage lines (after `Usage:`). */
  readonly usage: readonly string[];
  /** Paragraphs describing the command. */
  readonly description: readonly string[];
  readonly options: readonly OptionSpec[];
  readonly examples: readonly string[];
  /** Extra sections (title, lines). */
  readonly sections?: readonly [string, readonly string[]][];
  run(p: Parsed, ctx: Context): Promise<number>;
}

export const HELP_OPTION: OptionSpec = { name: 'help', short: 'h', help: 'show this help and exit' };

function wrap(text: string, width: number, indent: string): string[] {
  const out: string[] = [];
  for (const para of text.split('\n')) {
    let line = '';
    for (const word of para.split(/\s+/).filter(Boolean)) {
      if (line && line.length + 1 + word.length > width) {
        out.push(line);
        line = word;
      } else line = line ? `${line} ${word}` : word;
    }
    out.push(line);
  }
  return out.map((l, i) => (i === 0 ? l : indent + l));
}

/** The `--help` text of a command. */
export function commandHelp(c: CommandDef): string {
  const lines: string[] = [`xs ${c.name}: ${c.summary}`, '', 'Usage:', ...c.usage.map((u) => `  ${u}`), ''];
  for (const d of c.description) lines.push(...wrap(d, 100, ''), '');
  const opts = [...c.options, HELP_OPTION].filter((o) => !o.hidden);
  const left = (o: OptionSpec): string => `${o.short ? `-${o.short}, ` : '    '}--${o.name}${o.value ? ` ${o.value}` : ''}`;
  const w = Math.max(...opts.map((o) => left(o).length)) + 2;
  lines.push('Options:');
  for (const o of opts) {
    const help = `${o.help}${o.defaultText ? ` (default: ${o.defaultText})` : ''}`;
    lines.push(`  ${left(o).padEnd(w)}${wrap(help, 96 - w, ' '.repeat(w + 2)).join('\n')}`);
  }
  lines.push('');
  for (const [title, body] of c.sections ?? []) lines.push(`${title}:`, ...body, '');
  lines.push('Examples:', ...c.examples.map((e) => `  ${e}`), '', 'Exit codes:', ...EXIT_CODES_HELP);
  return `${lines.join('\n')}\n`;
}
