/** Argument parsing and rejection: every documented error message and exit code. */
import { describe, expect, it } from 'vitest';
import { UsageError, choice, epochsValue, intValue, parseArgs, positiveNumber, suggest, tripleValue } from '../src/args.js';
import { buildConfig, mergeConfig } from '../src/commands/train.js';
import { detectBackend } from '../src/backend.js';
import { cli } from './helpers.js';

const gpuHere = detectBackend().devices.some((d) => d.name === 'gpu' && d.available); // the gpu backend can run (auto may still prefer the cpu)
import { defaultSeedConfig } from './fixtures/fake-engine.js';

const specs = [
  { name: 'seed', value: 'N', parse: intValue(0), help: '' },
  { name: 'lr', value: 'X', parse: positiveNumber, help: '' },
  { name: 'json', help: '' },
  { name: 'quiet', short: 'q', help: '' },
  { name: 'secret', help: '', hidden: true },
];

describe('parseArgs', () => {
  it('reads --name value, --name=value, flags, short flags and positionals', () => {
    const p = parseArgs(['run1', '--seed', '3', '--lr=0.5', '--json', '-q', 'run2'], specs, 'x');
    expect(p.options).toEqual({ seed: 3, lr: 0.5, json: true, quiet: true });
    expect(p.positionals).toEqual(['run1', 'run2']);
  });

  it('treats everything after -- as positionals', () => {
    expect(parseArgs(['--json', '--', '--seed', '-q'], specs, 'x').positionals).toEqual(['--seed', '-q']);
  });

  it('rejects unknown options, suggesting a close one but never a hidden one', () => {
    expect(() => parseArgs(['--sed', '1'], specs, 'train')).toThrow("unknown option --sed for 'train' (did you mean --seed?)");
    expect(() => parseArgs(['--secre'], specs, 'train')).toThrow("unknown option --secre for 'train'");
    expect(() => parseArgs(['--secre'], specs, 'train')).not.toThrow(/did you mean/);
    expect(() => parseArgs(['-z'], specs, 'train')).toThrow("unknown option -z for 'train'");
  });

  it('rejects a missing value, a value for a flag, and a repeated option', () => {
    expect(() => parseArgs(['--seed'], specs, 'x')).toThrow('option --seed needs a value (N)');
    expect(() => parseArgs(['--seed', '--json'], specs, 'x')).toThrow('option --seed needs a value (N)');
    expect(() => parseArgs(['--json=yes'], specs, 'x')).toThrow('option --json is a flag and takes no value (got "yes")');
    expect(() => parseArgs(['--seed', '1', '--seed', '2'], specs, 'x')).toThrow('option --seed is given more than once');
  });

  it('takes a negative number as a value (and rejects it where it is not allowed)', () => {
    expect(() => parseArgs(['--lr', '-1'], specs, 'x')).toThrow('--lr must be a positive number, got "-1"');
  });
});

describe('value parsers', () => {
  it('integers', () => {
    expect(intValue(0)('0', '--seed')).toBe(0);
    expect(() => intValue(0)('1.5', '--seed')).toThrow('--seed must be a non-negative integer, got "1.5"');
    expect(() => intValue(1)('0', '--samples')).toThrow('--samples must be a positive integer, got "0"');
    expect(() => intValue(1)('abc', '--batch-size')).toThrow('--batch-size must be a positive integer, got "abc"');
    expect(() => intValue(0, 10)('11', '--seed')).toThrow('--seed must be a non-negative integer at most 10, got "11"');
  });

  it('positive numbers', () => {
    expect(positiveNumber('1e-3', '--lr')).toBe(0.001);
    for (const bad of ['0', '-0.1', 'abc', '', 'Infinity', 'NaN']) expect(() => positiveNumber(bad, '--lr')).toThrow(`--lr must be a positive number, got "${bad}"`);
  });

  it('choices', () => {
    expect(choice(['a', 'b'])('b', '--x')).toBe('b');
    expect(() => choice(['auto', 'cpu', 'gpu'])('tpu', '--backend')).toThrow('--backend must be one of auto, cpu, gpu; got "tpu"');
  });

  it('--epochs: N or a,b,c', () => {
    expect(epochsValue('3', '--epochs')).toEqual({ scale: 3 });
    expect(epochsValue('5,5,40', '--epochs')).toEqual({ each: [5, 5, 40] });
    for (const bad of ['0', '1,2', '1,2,3,4', 'a,b,c', '1,0,1', '-1', ''])
      expect(() => epochsValue(bad, '--epochs')).toThrow(`--epochs must be a positive integer N or three, a,b,c (MNIST, Fashion, stitch); got "${bad}"`);
  });

  it('--batches: a,b,c', () => {
    expect(tripleValue('1,2,3', '--batches')).toEqual([1, 2, 3]);
    expect(() => tripleValue('1,2', '--batches')).toThrow('--batches must be three positive integers a,b,c (MNIST, Fashion, stitch); got "1,2"');
  });

  it('suggest finds typos only', () => {
    expect(suggest('trian', ['train', 'eval'])).toBe('train');
    expect(suggest('zzzzzz', ['train', 'eval'])).toBeUndefined();
  });
});

describe('configuration from flags', () => {
  it('--epochs N scales the default schedule by N/5', () => {
    expect(buildConfig(defaultSeedConfig(), { epochs: { scale: 1 } }).epochs).toEqual({ mnist: 1, fashion: 1, stitch: 8 });
    expect(buildConfig(defaultSeedConfig(), { epochs: { scale: 10 } }).epochs).toEqual({ mnist: 10, fashion: 10, stitch: 80 });
  });

  it('applies every flag', () => {
    const c = buildConfig(defaultSeedConfig(), { seed: 7, samples: 500, lr: 0.1, 'batch-size': 50, epochs: { each: [1, 2, 3] }, batches: [4, 5, 6] });
    expect(c).toMatchObject({ seed: 7, stitchSamples: 500, lr: 0.1, batchSize: 50, epochs: { mnist: 1, fashion: 2, stitch: 3 }, batchesPerEpoch: { mnist: 4, fashion: 5, stitch: 6 } });
  });

  it('--config merges per-phase records entry by entry and rejects unknown fields', () => {
    const c = mergeConfig(defaultSeedConfig(), { epochs: { stitch: 2 }, seed: 4 }, 'c.json');
    expect(c.epochs).toEqual({ mnist: 5, fashion: 5, stitch: 2 });
    expect(c.seed).toBe(4);
    expect(() => mergeConfig(defaultSeedConfig(), { epoch: 1 }, 'c.json')).toThrow(UsageError);
    expect(() => mergeConfig(defaultSeedConfig(), { epoch: 1 }, 'c.json')).toThrow('c.json: unknown configuration field "epoch"');
  });
});

describe('the CLI rejects bad command lines (exit 2, message on stderr, nothing on stdout)', () => {
  const cases: [string[], string][] = [
    [['trian'], 'error: unknown command "trian" (did you mean train?); commands: train, eval, data, info, bench'],
    [['--seed', '1'], 'error: unknown option --seed; give a command first (train, eval, data, info, bench)'],
    [['train', '--epoch', '1'], "error: unknown option --epoch for 'train' (did you mean --epochs?)"],
    [['train', '--seed', 'x'], 'error: --seed must be a non-negative integer, got "x"'],
    [['train', '--seed', '-3'], 'error: --seed must be a non-negative integer, got "-3"'],
    [['train', '--samples', '0'], 'error: --samples must be a positive integer, got "0"'],
    [['train', '--epochs', '1,2'], 'error: --epochs must be a positive integer N or three, a,b,c (MNIST, Fashion, stitch); got "1,2"'],
    [['train', '--lr', '0'], 'error: --lr must be a positive number, got "0"'],
    [['train', '--batch-size', '2.5'], 'error: --batch-size must be a positive integer, got "2.5"'],
    [['train', '--variant', 'big'], 'error: --variant must be one of seed, paper; got "big"'],
    [['train', '--backend', 'tpu'], 'error: --backend must be one of auto, cpu, gpu; got "tpu"'],
    [['train', '--out'], 'error: option --out needs a value (DIR)'],
    [['train', '--json=1'], 'error: option --json is a flag and takes no value (got "1")'],
    [['train', 'extra'], 'error: train takes no arguments, got "extra" (options start with --)'],
    [['train', '--resume', 'runs/x', '--seed', '2'], 'error: --seed cannot be combined with --resume: a resumed run keeps the configuration saved in its config.json'],
    [['train', '--config', '/nonexistent/c.json'], 'error: --config /nonexistent/c.json: cannot read it (no such file)'],
    [['eval'], 'error: eval needs a run folder or a checkpoint file, e.g. xs eval runs/20250101-120000-seed'],
    [['eval', 'a', 'b'], 'error: eval takes one run folder or checkpoint, got 2: a b'],
    [['data', 'fecth'], 'error: unknown data action "fecth"; use `data` (status) or `data fetch` (did you mean fetch?)'],
    [['data', 'status', 'cifar'], 'error: unknown dataset "cifar"; known: mnist, fashion-mnist'],
    [['info', 'now'], 'error: info takes no arguments, got "now"'],
    [['bench', 'x'], 'error: bench takes no arguments, got "x"'],
    [['help', 'trai'], 'error: unknown command "trai" (did you mean train?)'],
  ];
  for (const [argv, message] of cases) {
    it(`${argv.join(' ')}`, async () => {
      const r = await cli(argv);
      expect(r.code).toBe(2);
      expect(r.stdout).toBe('');
      expect(r.stderr.split('\n')[0]).toContain(message);
      expect(r.stderr).toMatch(/See: pnpm --filter cli \S+ --help/);
    });
  }

  it('no command: usage on stderr, exit 2', async () => {
    const r = await cli([]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('Usage:');
    expect(r.stderr).toContain('error: no command given');
  });
});

describe('--variant paper options (exit 2 when mixed up)', () => {
  it('seed-only options are refused with --variant paper, paper-only ones with --variant seed', async () => {
    const a = await cli(['train', '--variant', 'paper', '--samples', '100']);
    expect(a.code).toBe(2);
    expect(a.stderr).toContain('error: --samples is an option of --variant seed, not of --variant paper');
    const b = await cli(['train', '--seeds', '2']);
    expect(b.code).toBe(2);
    expect(b.stderr).toContain('error: --seeds is an option of --variant paper');
  });

  it('bad --budgets, --benchmark, --seeds values', async () => {
    for (const [args, msg] of [
      [['--budgets', '500,x'], '--budgets must be a comma-separated list of positive integers or "all", got "500,x"'],
      [['--budgets', '0'], '--budgets must be a comma-separated list'],
      [['--benchmark', 'cifar'], '--benchmark must be one of combined, multi, both; got "cifar"'],
      [['--seeds', '0'], '--seeds must be a positive integer'],
      [['--epochs', '1,2,3'], '--epochs for --variant paper takes one number N'],
    ] as const) {
      const r = await cli(['train', '--variant', 'paper', ...args]);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain(msg);
    }
  });
});

describe('features that are not available (exit 3)', () => {

  it.skipIf(gpuHere)('--backend gpu where the GPU backend cannot run', async () => {
    const r = await cli(['train', '--backend', 'gpu']);
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/^error: gpu backend unavailable: .+; use --backend cpu or --backend auto\n$/);
  });

  it('bench without its script', async () => {
    const r = await cli(['bench', '--script', '/nonexistent/bench.ts']);
    expect(r.code).toBe(3);
    expect(r.stderr).toContain('error: the benchmark is not available: /nonexistent/bench.ts is not in this checkout');
  });
});
