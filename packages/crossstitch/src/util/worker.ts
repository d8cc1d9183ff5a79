/**
 * Starting this package's worker threads, from the compiled package and from its TypeScript sources alike.
 */
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { existsSync } from 'node:fs';
import { Worker } from 'node:worker_threads';

/**
 * Start the worker whose entry module is `entry` (a base name such as `'seed-worker'`) next to the module at
 * `here` (its `import.meta.url`). From the compiled package that is `<entry>.bundle.js` where the build made one,
 * else `<entry>.js`; from TypeScript sources
 * (tests, `tsx`) a worker does not inherit the parent's TypeScript loader, so a small bootstrap registers
 * tsx's loader first and then imports `<entry>.ts`.
 */
export function spawnWorker(here: string, entry: string, workerData: unknown): Worker {
  if (!here.endsWith('.ts')) {
    // the build's one-file bundle of the entry (scripts/bundle.mjs) where there is one: it imports in a third of the time
    const bundle = new URL(`./${entry}.bundle.js`, here);
    return new Worker(existsSync(fileURLToPath(bundle)) ? bundle : new URL(`./${entry}.js`, here), { workerData });
  }
  const tsxPackage = createRequire(here).resolve('tsx/package.json');
  const tsxApi = pathToFileURL(tsxPackage.replace(/package\.json$/, 'dist/esm/api/index.mjs')).href;
  const url = new URL(`./${entry}.ts`, here).href;
  const bootstrap = `import(${JSON.stringify(tsxApi)}).then((m) => { m.register(); return import(${JSON.stringify(url)}); })`;
  return new Worker(bootstrap, { eval: true, workerData });
}
