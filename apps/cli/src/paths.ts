/** Where the CLI package, the repository and the workspace libraries are on disk. */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The CLI package folder (apps/cli), whether running from src/ or dist/. */
export const CLI_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** The repository root: the nearest folder above the CLI holding pnpm-workspace.yaml. */
export function repoRoot(): string | undefined {
  let d = CLI_DIR;
  for (;;) {
    if (existsSync(join(d, 'pnpm-workspace.yaml'))) return d;
    const up = dirname(d);
    if (up === d) return undefined;
    d = up;
  }
}

/** The version in a package.json, or 'unknown'. */
function versionAt(path: string): string {
  try {
    return (JSON.parse(readFileSync(path, 'utf8')) as { version?: string }).version ?? 'unknown';
  } catch {
    return 'unknown';
  }
}

/** The CLI's version (apps/cli/package.json). */
export function cliVersion(): string {
  return versionAt(join(CLI_DIR, 'package.json'));
}

/** The version of a dependency as installed for the CLI (node_modules/<name>/package.json). */
export function dependencyVersion(name: string): string {
  return versionAt(join(CLI_DIR, 'node_modules', ...name.split('/'), 'package.json'));
}
