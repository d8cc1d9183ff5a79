/** `xs info`: versions, the compute backend and why, the engine, and the data status. */
import os from 'node:os';
import { dataStatus, formatDataStatus } from '@xs/crossstitch';
import { wasmMatmulInfo } from '@xs/tensor';
import type { OptionSpec } from '../args.js';
import { UsageError } from '../args.js';
import { type CommandDef, type Context, EXIT } from '../context.js';
import { detectBackend } from '../backend.js';
import { cliVersion, dependencyVersion } from '../paths.js';
import { DATA_DIR_OPTION, JSON_OPTION, dataFlags, printJson } from './common.js';
import { statusJson } from './data.js';

const OPTIONS: OptionSpec[] = [DATA_DIR_OPTION, { name: 'quick', help: 'skip hashing the dataset files' }, JSON_OPTION];

async function run(p: { options: Record<string, unknown>; positionals: string[] }, ctx: Context): Promise<number> {
  if (p.positionals.length) throw new UsageError(`info takes no arguments, got "${p.positionals[0]}"`, 'info');
  const o = p.options;
  const backend = detectBackend();
  let engine = 'available';
  try {
    await ctx.loadEngine();
  } catch (err) {
    engine = `not available: ${(err as Error).message}`;
  }
  const flags = dataFlags(o, ctx);
  const statuses = dataStatus({ ...(flags.dataDir ? { dataDir: flags.dataDir } : {}), env: ctx.env, verify: !o.quick });
  const versions = { cli: ctx.version ?? cliVersion(), '@xs/crossstitch': dependencyVersion('@xs/crossstitch'), '@xs/tensor': dependencyVersion('@xs/tensor'), node: process.version };
  const mm = wasmMatmulInfo();
  const matmul = mm
    ? `WebAssembly SIMD, ${mm.tile} tile, ${mm.fma ? 'fused multiply-add (relaxed SIMD)' : 'multiply then add'}${mm.skipsZeros ? ', skipping all-zero slices' : ''}`
    : 'JavaScript loops (no WebAssembly SIMD, or XS_WASM=0)';
  const cpus = os.cpus();
  const machine = { platform: `${os.platform()} ${os.arch()}`, cpu: cpus[0]?.model?.trim() ?? 'unknown', cores: cpus.length, memoryGiB: Number((os.totalmem() / 2 ** 30).toFixed(1)) };
  if (o.json) {
    printJson(ctx, { command: 'info', versions, machine, backend, cpuMatmul: mm ?? null, engine, data: statuses.map(statusJson) });
    return EXIT.ok;
  }
  const lines = [
    `xs ${versions.cli} (@xs/crossstitch ${versions['@xs/crossstitch']}, @xs/tensor ${versions['@xs/tensor']}), node ${versions.node}`,
    `machine: ${machine.platform}, ${machine.cpu}, ${machine.cores} cores, ${machine.memoryGiB} GiB`,
    `backend: ${backend.selected}; ${backend.reason}`,
    ...backend.devices.map((d) => `  ${d.name.padEnd(4)} ${d.available ? 'available' : 'unavailable'}: ${d.description}`),
    `cpu matmul: ${matmul}`,
    `seed experiment (runSeedExperiment): ${engine}`,
    '',
    `data${o.quick ? ' (files not hashed: --quick)' : ''}:`,
    formatDataStatus(statuses),
  ];
  ctx.stdout.write(`${lines.join('\n')}\n`);
  return EXIT.ok;
}

export const infoCommand: CommandDef = {
  name: 'info',
  summary: 'version, compute backend (and why), and data status',
  usage: ['pnpm --filter cli run info [options]     (`pnpm info` is a pnpm command, hence `run`)', 'xs info [options]'],
  description: [
    'Shows the versions of the CLI and the libraries, the machine, the backend that --backend auto picks and why (each backend of @xs/tensor and whether it can run here: the gpu one needs a GL context), whether the seed experiment is available, and the data status (as `data`).',
  ],
  options: OPTIONS,
  examples: ['pnpm --filter cli run info', 'pnpm --filter cli run info --quick --json'],
  run,
};
