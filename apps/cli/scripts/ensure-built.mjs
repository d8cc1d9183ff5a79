#!/usr/bin/env node
// Makes sure the CLI and the workspace libraries it imports (@xs/tensor, @xs/crossstitch) have an up-to-date
// `dist/`: the libraries are consumed through their package exports, which point at compiled JavaScript, and
// the scripts run the CLI's compiled `dist/main.js`. When every built entry is newer than every file under its
// package's `src/`, this does nothing and prints nothing; otherwise it runs `turbo run build --filter=cli...`
// (cached) with all its output on stderr, so that the CLI's stdout (for example `train --json`) stays clean.
// With `--run` first, it then runs the CLI with the remaining arguments in this same process (one Node start
// instead of two: the package scripts use it).
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '..', '..', '..');
// [folder, its built entry]: the two libraries, and the CLI itself (the scripts run its compiled dist/main.js:
// about 0.5 s faster to start than compiling src/ with tsx on every run).
const libs = [
  ['packages/tensor', 'index.js'],
  ['packages/crossstitch', 'index.js'],
  ['apps/cli', 'main.js'],
];
// [folder, its bundle (scripts/bundle.mjs), the packages whose sources it contains]: a bundle holds its
// upstream libraries' code too, so it is stale when any of their sources changed after it was made.
const bundles = [
  ['packages/crossstitch', 'experiments/seed-worker.bundle.js', ['packages/tensor', 'packages/crossstitch']],
  ['apps/cli', 'run.bundle.js', ['packages/tensor', 'packages/crossstitch', 'apps/cli']],
];

function newestMtime(dir) {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestMtime(p));
    else if (entry.isFile()) newest = Math.max(newest, statSync(p).mtimeMs);
  }
  return newest;
}

function stale([lib, entry]) {
  const dist = join(root, lib, 'dist', entry);
  if (!existsSync(dist)) return `${lib}/dist is missing`;
  const src = join(root, lib, 'src');
  if (existsSync(src) && newestMtime(src) > statSync(dist).mtimeMs) return `${lib}/src changed since its last build`;
  return undefined;
}

function staleBundle([lib, bundle, sources]) {
  const dist = join(root, lib, 'dist', bundle);
  if (!existsSync(dist)) return `${lib}/dist/${bundle} is missing`;
  const changed = sources.find((s) => existsSync(join(root, s, 'src')) && newestMtime(join(root, s, 'src')) > statSync(dist).mtimeMs);
  return changed ? `${changed}/src changed since ${lib}'s bundle was made` : undefined;
}

const reasons = [...libs.map(stale), ...bundles.map(staleBundle)].filter(Boolean);
if (reasons.length > 0 && !process.env.XS_SKIP_BUILD) {
  process.stderr.write(`building the CLI and the workspace libraries first (${reasons.join('; ')})...\n`);
  const turbo = join(root, 'node_modules', '.bin', 'turbo');
  const res = spawnSync(turbo, ['run', 'build', '--filter=cli...', '--output-logs=errors-only'], {
    cwd: root,
    stdio: ['ignore', process.stderr, process.stderr],
    env: { ...process.env, TURBO_TELEMETRY_DISABLED: '1', DO_NOT_TRACK: '1' },
  });
  if (res.error || res.status !== 0) {
    process.stderr.write(`build failed${res.error ? `: ${res.error.message}` : ` (exit ${res.status})`}; fix it or run \`pnpm build\`\n`);
    process.exit(1);
  }
}

if (process.argv[2] === '--run') {
  process.argv.splice(2, 1); // the CLI reads its arguments from process.argv.slice(2)
  await import(pathToFileURL(join(root, 'apps', 'cli', 'dist', 'main.js')).href);
}
