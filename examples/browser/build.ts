/**
 * Bundle the browser example into a static folder: `pnpm --filter @xs/examples browser:build` writes
 * examples/browser/dist/{index.html, main.js, main.js.map} (after `pnpm build`, since it bundles the
 * libraries' dist/). The bundle is a classic script (IIFE), so dist/index.html also works when opened as a file.
 */
import { copyFileSync, mkdirSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { runIfMain } from '../run.js';

const here = dirname(fileURLToPath(import.meta.url));

/** Where the bundle goes unless told otherwise. */
export const DEFAULT_OUT = join(here, 'dist');

/** What a build produced. */
export interface BrowserBuild {
  outdir: string;
  /** Size of main.js in bytes. */
  bytes: number;
  /** Every file esbuild put into the bundle (paths relative to the examples folder). */
  inputs: string[];
}

const NODE_BUILTINS = new Set(builtinModules.flatMap((m) => [m, `node:${m}`]));

/** Bundle main.ts for browsers into `outdir` and copy index.html beside it. */
export async function buildBrowserExample(outdir = DEFAULT_OUT): Promise<BrowserBuild> {
  mkdirSync(outdir, { recursive: true });
  const r = await build({
    entryPoints: [join(here, 'main.ts')],
    outfile: join(outdir, 'main.js'),
    bundle: true,
    // 'browser' makes esbuild honour the packages' browser fields: @xs/tensor's swaps its Node gpu.js loader
    // (headless-gl) for the WebGL one, gpu.js's picks its browser build
    platform: 'browser',
    format: 'iife',
    target: 'es2022',
    sourcemap: true,
    minify: false,
    metafile: true,
    logLevel: 'warning',
    absWorkingDir: join(here, '..'),
  });
  // esbuild already refuses a node: import under platform 'browser'; also catch bare builtins marked external
  const inputs = Object.keys(r.metafile.inputs);
  const imports = Object.values(r.metafile.inputs).flatMap((i) => i.imports.map((imp) => imp.path));
  const builtins = imports.filter((p) => NODE_BUILTINS.has(p));
  if (builtins.length > 0) throw new Error(`the browser bundle imports Node built-in modules: ${[...new Set(builtins)].join(', ')}`);
  copyFileSync(join(here, 'index.html'), join(outdir, 'index.html'));
  const bytes = r.metafile.outputs[Object.keys(r.metafile.outputs).find((o) => o.endsWith('main.js'))!]!.bytes;
  return { outdir, bytes, inputs };
}

export async function main(): Promise<BrowserBuild> {
  const b = await buildBrowserExample();
  console.log(`wrote ${join(b.outdir, 'index.html')} and main.js (${(b.bytes / 1024).toFixed(0)} KiB, ${b.inputs.length} modules)`);
  console.log(`open it with: pnpm --filter @xs/examples browser:serve   (or open ${join(b.outdir, 'index.html')} as a file)`);
  return b;
}

runIfMain(import.meta.url, main);
