/**
 * A small command-line parser: `--name value`, `--name=value`, boolean `--flag`, `-h`, and `--` to end the
 * options. Every option is declared with a parser for its value, so a bad value is rejected with a message
 * naming the option and the value; an unknown option is rejected with a suggestion when one is close.
 */

/** A mistake in the command line: printed with a hint to `--help`, exit code 2. */
export class UsageError extends Error {
  constructor(
    message: string,
    /** The command whose `--help` would help (`undefined` for the top level). */
    readonly command?: string,
  ) {
    super(message);
    this.name = 'UsageError';
  }
}

/** A feature that is reserved but not built yet (exit code 3). */
export class NotAvailableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'NotAvailableError';
  }
}

/** One option of a command. */
export interface OptionSpec<T = unknown> {
  /** Long name without dashes, e.g. `batch-size`. */
  readonly name: string;
  /** Single-letter alias without the dash, e.g. `h`. */
  readonly short?: string;
  /** Placeholder of the value in help (`N`, `DIR`); absent for a boolean flag. */
  readonly value?: string;
  /** Turns the raw text into the value, throwing a {@link UsageError} for a bad one. Absent for a flag. */
  readonly parse?: (raw: string, option: string) => T;
  /** One line of help (more lines after `\n`). */
  readonly help: string;
  /** Default shown in help (the command applies it). */
  readonly defaultText?: string;
  /** Left out of `--help` (testing aids). */
  readonly hidden?: boolean;
}

/** The parsed command line of one command. */
export interface Parsed {
  /** Values by option name (flags are `true`); options not given are absent. */
  readonly options: Record<string, unknown>;
  /** Arguments that are not options, in order. */
  readonly positionals: string[];
}

function editDistance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => [i, ...new Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) d[0]![j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      d[i]![j] = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
  }
  return d[a.length]![b.length]!;
}

/** The closest of `candidates` to `word`, when close enough to be a likely typo. */
export function suggest(word: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestD = Infinity;
  for (const c of candidates) {
    const dist = editDistance(word, c);
    if (dist < bestD) {
      bestD = dist;
      best = c;
    }
  }
  return best !== undefined && bestD <= Math.max(2, Math.floor(word.length / 3)) ? best : undefined;
}

/**
 * Parse `argv` (the arguments after the command name) against `specs`.
 * @example parseArgs(['--seed', '3', '--json'], specs, 'train') // { options: { seed: 3, json: true }, positionals: [] }
 */
export function parseArgs(argv: readonly string[], specs: readonly OptionSpec[], command: string | undefined): Parsed {
  const byName = new Map(specs.map((s) => [s.name, s]));
  const byShort = new Map(specs.filter((s) => s.short).map((s) => [s.short!, s]));
  const options: Record<string, unknown> = {};
  const positionals: string[] = [];
  const where = command ? ` for '${command}'` : '';
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--') {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    let spec: OptionSpec | undefined;
    let inline: string | undefined;
    let shown = arg;
    if (arg.startsWith('--')) {
      const eq = arg.indexOf('=');
      const name = eq >= 0 ? arg.slice(2, eq) : arg.slice(2);
      inline = eq >= 0 ? arg.slice(eq + 1) : undefined;
      shown = `--${name}`;
      spec = byName.get(name);
      if (!spec) {
        const visible = specs.filter((s) => !s.hidden).map((s) => s.name);
        const close = suggest(name, visible);
        throw new UsageError(`unknown option --${name}${where}${close ? ` (did you mean --${close}?)` : ''}`, command);
      }
    } else if (arg.startsWith('-') && arg.length > 1 && !/^-\d/.test(arg)) {
      spec = arg.length === 2 ? byShort.get(arg.slice(1)) : undefined;
      if (!spec) throw new UsageError(`unknown option ${arg}${where}`, command);
    } else {
      positionals.push(arg);
      continue;
    }
    if (spec.name in options) throw new UsageError(`option ${shown} is given more than once`, command);
    if (!spec.parse) {
      if (inline !== undefined) throw new UsageError(`option ${shown} is a flag and takes no value (got "${inline}")`, command);
      options[spec.name] = true;
      continue;
    }
    let raw = inline;
    if (raw === undefined) {
      const next = argv[i + 1];
      if (next === undefined || (next.startsWith('--') && next.length > 2)) {
        throw new UsageError(`option ${shown} needs a value (${spec.value ?? 'VALUE'})`, command);
      }
      raw = next;
      i++;
    }
    options[spec.name] = spec.parse(raw, `--${spec.name}`);
  }
  return { options, positionals };
}

// ---- value parsers -------------------------------------------------------------------------------------

/** A non-negative integer up to `max`. */
export function intValue(min: number, max = Number.MAX_SAFE_INTEGER): (raw: string, option: string) => number {
  return (raw, option) => {
    const what = min === 0 ? 'a non-negative integer' : min === 1 ? 'a positive integer' : `an integer >= ${min}`;
    if (!/^\d+$/.test(raw.trim())) throw new UsageError(`${option} must be ${what}, got "${raw}"`);
    const n = Number(raw);
    if (!Number.isSafeInteger(n) || n < min || n > max) throw new UsageError(`${option} must be ${what}${max < Number.MAX_SAFE_INTEGER ? ` at most ${max}` : ''}, got "${raw}"`);
    return n;
  };
}

/** A finite number > 0. */
export function positiveNumber(raw: string, option: string): number {
  const t = raw.trim();
  const n = t === '' ? NaN : Number(t);
  if (!Number.isFinite(n) || n <= 0) throw new UsageError(`${option} must be a positive number, got "${raw}"`);
  return n;
}

/** One of `choices`. */
export function choice<T extends string>(choices: readonly T[]): (raw: string, option: string) => T {
  return (raw, option) => {
    if ((choices as readonly string[]).includes(raw)) return raw as T;
    throw new UsageError(`${option} must be one of ${choices.join(', ')}; got "${raw}"`);
  };
}

/** Any non-empty text (a path). */
export function text(raw: string, option: string): string {
  if (raw === '') throw new UsageError(`${option} needs a non-empty value`);
  return raw;
}

/** `--epochs`: one positive integer N (scale every phase) or three, `a,b,c` (MNIST, Fashion, stitch). */
export type EpochsArg = { scale: number } | { each: [number, number, number] };

export function epochsValue(raw: string, option: string): EpochsArg {
  const t = raw.trim();
  if (/^\d+$/.test(t)) {
    const n = Number(t);
    if (n < 1) throw new UsageError(`${option} must be a positive integer N or three, a,b,c (MNIST, Fashion, stitch); got "${raw}"`);
    return { scale: n };
  }
  const m = /^(\d+),(\d+),(\d+)$/.exec(t);
  if (!m || [m[1], m[2], m[3]].some((v) => Number(v) < 1)) {
    throw new UsageError(`${option} must be a positive integer N or three, a,b,c (MNIST, Fashion, stitch); got "${raw}"`);
  }
  return { each: [Number(m[1]), Number(m[2]), Number(m[3])] };
}

/** `--batches a,b,c`: batches per epoch of each phase. */
export function tripleValue(raw: string, option: string): [number, number, number] {
  const m = /^(\d+),(\d+),(\d+)$/.exec(raw.trim());
  if (!m || [m[1], m[2], m[3]].some((v) => Number(v) < 1)) throw new UsageError(`${option} must be three positive integers a,b,c (MNIST, Fashion, stitch); got "${raw}"`);
  return [Number(m[1]), Number(m[2]), Number(m[3])];
}
