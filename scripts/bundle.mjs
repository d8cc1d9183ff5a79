#!/usr/bin/env node
// Bundles one compiled entry module (a package's dist/…/x.js) and everything it imports from the workspace into
// one file next to it, x.bundle.js, which the program loads instead when it is there (the CLI's run.js, the
// crossstitch worker threads' entries). Node spends most of an import of our ~70 modules resolving, reading and
// linking them, not running them: crossstitch's index imports in 81-92 ms as modules, 27-33 ms as one file, and
// at a training run's start three threads import at once on two cores.
//
//   node scripts/bundle.mjs <entry.js> [--shared <package specifier>]...
//
// - `import.meta.url` in a bundled module is rewritten to that module's own URL (relative to the bundle, so the
//   folder may move): the modules find their worker files, and resolve their own dependencies, from where they
//   are, as when not bundled.
// - A --shared module (e.g. @xs/crossstitch/prestart, which holds the workers the CLI's entry started before
//   loading the bundle) stays an import of the package, so that the bundle and the unbundled entry share its
//   one instance.
// - Node's built-ins, gpu.js and gl (native, optional) stay external.
import { build } from 'esbuild';
import { existsSync, readFileSync, realpathSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, join, relative, resolve, sep } from 'node:path';

const args = process.argv.slice(2);
const entry = resolve(args[0] ?? '');
if (!args[0] || !entry.endsWith('.js')) {
  process.stderr.write('usage: node scripts/bundle.mjs <entry.js> [--shared <package specifier>]...\n');
  process.exit(2);
}
const outfile = entry.replace(/\.js$/, '.bundle.js');
const outdir = dirname(outfile);
/** Resolved file -> the specifier the bundle imports it by. */
const shared = new Map();
for (let i = 1; i < args.length; i++) {
  if (args[i] !== '--shared' || !args[i + 1]) throw new Error(`bundle: unexpected argument ${args[i]}`);
  const specifier = args[++i];
  shared.set(resolveImport(specifier, dirname(entry)), specifier);
}

/**
 * The file a package specifier (`@scope/name/subpath`) names for `import` from `dir`: the package found up the
 * node_modules folders, its `exports` entry's "import" (or "default") target. (Node 20's import.meta.resolve
 * takes no parent without a flag, and require.resolve does not see "import"-only exports.)
 */
function resolveImport(specifier, dir) {
  const parts = specifier.split('/');
  const name = parts.slice(0, specifier.startsWith('@') ? 2 : 1).join('/');
  const subpath = ['.', ...parts.slice(specifier.startsWith('@') ? 2 : 1)].join('/');
  for (let d = dir; ; d = dirname(d)) {
    const pkgDir = join(d, 'node_modules', name);
    if (existsSync(join(pkgDir, 'package.json'))) {
      const pkg = JSON.parse(readFileSync(join(pkgDir, 'package.json'), 'utf8'));
      const target = pkg.exports?.[subpath];
      const file = typeof target === 'string' ? target : (target?.import ?? target?.default);
      if (typeof file !== 'string') throw new Error(`bundle: ${name} exports no ${subpath} for import`);
      return realpathSync(join(pkgDir, file));
    }
    if (dirname(d) === d) throw new Error(`bundle: ${specifier} not found from ${dir}`);
  }
}

const workspaceDist = /[\\/](packages|apps)[\\/][^\\/]+[\\/]dist[\\/].*\.js$/;
const plugin = {
  name: 'xs-workspace',
  setup(b) {
    if (shared.size > 0) {
      b.onResolve({ filter: /.*/ }, (a) => {
        if (a.kind === 'entry-point' || !a.resolveDir) return undefined;
        let path;
        try {
          path = a.path.startsWith('.') ? realpathSync(resolve(a.resolveDir, a.path)) : resolveImport(a.path, a.resolveDir);
        } catch {
          return undefined; // (not a workspace file or package: esbuild resolves it, or reports it)
        }
        const specifier = shared.get(path);
        return specifier ? { path: specifier, external: true } : undefined;
      });
    }
    b.onLoad({ filter: workspaceDist }, async (a) => {
      const source = await readFile(a.path, 'utf8');
      if (!source.includes('import.meta.url')) return { contents: source, loader: 'js' };
      const own = relative(outdir, a.path).split(sep).join('/');
      const url = `new URL(${JSON.stringify(own.startsWith('.') ? own : `./${own}`)}, import.meta.url).href`;
      return { contents: source.replace(/\bimport\.meta\.url\b/g, url), loader: 'js' };
    });
  },
};

await build({
  entryPoints: [entry],
  outfile,
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  external: ['gpu.js', 'gl'],
  plugins: [plugin],
  logLevel: 'warning',
  legalComments: 'none',
});
