/**
 * The command dispatcher: `xs <command> [options]`. Parses the command line, prints help, runs the command
 * and maps errors to exit codes (see {@link EXIT}). Streams, environment, engine and Ctrl-C come in a
 * {@link Context}, so tests run the whole CLI in-process.
 */
import { NotAvailableError, UsageError, parseArgs, suggest } from './args.js';
import { benchCommand } from './commands/bench.js';
import { dataCommand } from './commands/data.js';
import { evalCommand } from './commands/eval.js';
import { infoCommand } from './commands/info.js';
import { trainCommand } from './commands/train.js';
import { type CommandDef, type Context, EXIT, EXIT_CODES_HELP, HELP_OPTION, commandHelp } from './context.js';

export const COMMANDS: readonly CommandDef[] = [trainCommand, evalCommand, dataCommand, infoCommand, benchCommand];

/** The top-level `--help`. */
export function topHelp(version: string): string {
  const w = Math.max(...COMMANDS.map((c) => c.name.length)) + 2;
  return [
    `xs ${version}: runs the Cross-Stitch Network experiments of @xs/crossstitch (MNIST + Fashion-MNIST)`,
    '',
    'Usage:',
    '  pnpm train [options]                     train (from the repository root)',
    '  pnpm --filter cli <command> [options]    train, eval, data, bench (info: pnpm --filter cli run info)',
    '  pnpm --filter cli xs <command> [options]',
    '  xs <command> [options]                   the built bin (apps/cli/dist/main.js)',
    '',
    'Commands:',
    ...COMMANDS.map((c) => `  ${c.name.padEnd(w)}${c.summary}`),
    `  ${'help'.padEnd(w)}help on a command (same as <command> --help)`,
    '',
    'Options:',
    '  -h, --help     show help (after a command: that command\u2019s help)',
    '  -V, --version  print the version',
    '',
    'Examples:',
    '  pnpm train                                   # the seed notebook\u2019s experiment, report in runs/<timestamp>-seed/',
    '  pnpm train --epochs 1 --json                 # a quick run, results as JSON on stdout',
    '  pnpm --filter cli eval runs/<run folder>     # test metrics of saved parameters',
    '  pnpm --filter cli data                       # where the datasets are, checksums',
    '',
    'Environment: XS_DATA_DIR (data folder), XS_NO_DOWNLOAD=1 (never download), XDG_CACHE_HOME (download cache), XS_DEBUG=1 (stack traces).',
    '',
    'Exit codes (of the program and of `pnpm train`; `pnpm --filter cli ...` turns any failure into 1):',
    ...EXIT_CODES_HELP,
    '',
  ].join('\n');
}

function findCommand(name: string): CommandDef | undefined {
  return COMMANDS.find((c) => c.name === name);
}

function unknownCommand(name: string): UsageError {
  const close = suggest(name, COMMANDS.map((c) => c.name));
  return new UsageError(`unknown command "${name}"${close ? ` (did you mean ${close}?)` : ''}; commands: ${COMMANDS.map((c) => c.name).join(', ')}`);
}

/** Whether the arguments ask for help (before any `--`). */
function wantsHelp(args: readonly string[]): boolean {
  for (const a of args) {
    if (a === '--') return false;
    if (a === '--help' || a === '-h') return true;
  }
  return false;
}

/**
 * Run the CLI with `argv` (the arguments after the program name); resolves to the exit code.
 * @example process.exitCode = await runCli(process.argv.slice(2), ctx);
 */
export async function runCli(argv: readonly string[], ctx: Context): Promise<number> {
  try {
    const [first, ...rest] = argv;
    if (first === undefined) {
      ctx.stderr.write(topHelp(ctx.version));
      ctx.stderr.write('error: no command given\n');
      return EXIT.usage;
    }
    if (first === '--help' || first === '-h') {
      ctx.stdout.write(topHelp(ctx.version));
      return EXIT.ok;
    }
    if (first === '--version' || first === '-V') {
      ctx.stdout.write(`${ctx.version}\n`);
      return EXIT.ok;
    }
    if (first === 'help') {
      if (rest.length === 0) {
        ctx.stdout.write(topHelp(ctx.version));
        return EXIT.ok;
      }
      const c = findCommand(rest[0]!);
      if (!c) throw unknownCommand(rest[0]!);
      ctx.stdout.write(commandHelp(c));
      return EXIT.ok;
    }
    if (first.startsWith('-')) throw new UsageError(`unknown option ${first}; give a command first (${COMMANDS.map((c) => c.name).join(', ')})`);
    const cmd = findCommand(first);
    if (!cmd) throw unknownCommand(first);
    if (wantsHelp(rest)) {
      ctx.stdout.write(commandHelp(cmd));
      return EXIT.ok;
    }
    const parsed = parseArgs(rest, [...cmd.options, HELP_OPTION], cmd.name);
    return await cmd.run(parsed, ctx);
  } catch (err) {
    if (err instanceof UsageError) {
      ctx.stderr.write(`error: ${err.message}\nSee: pnpm --filter cli ${err.command ?? 'xs'} --help\n`);
      return EXIT.usage;
    }
    if (err instanceof NotAvailableError) {
      ctx.stderr.write(`error: ${err.message}\n`);
      return EXIT.notAvailable;
    }
    const e = err instanceof Error ? err : new Error(String(err));
    ctx.stderr.write(`error: ${e.message}\n`);
    if (ctx.env.XS_DEBUG) ctx.stderr.write(`${e.stack ?? ''}\n`);
    return EXIT.failure;
  }
}
