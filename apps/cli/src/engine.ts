/**
 * The experiment engine: `runSeedExperiment`, `defaultSeedConfig` and `resolveSeedConfig` of
 * `@xs/crossstitch`, or the module named by the `XS_ENGINE_MODULE` environment variable (a path to a module
 * exporting the first two), which tests use to run the real program with a fake engine, e.g. to send it a
 * real Ctrl-C.
 */
import { isAbsolute, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { defaultSeedConfig, resolveSeedConfig, runSeedExperiment } from '@xs/crossstitch';
import { NotAvailableError } from './args.js';
import type { Engine } from './contract.js';

export async function loadEngine(env: Readonly<Record<string, string | undefined>> = process.env): Promise<Engine> {
  const override = env.XS_ENGINE_MODULE;
  if (!override) return { runSeedExperiment: (c, o) => runSeedExperiment(c, o), defaultSeedConfig, resolveSeedConfig };
  const mod = (await import(pathToFileURL(isAbsolute(override) ? override : resolve(override)).href)) as Partial<Engine>;
  if (typeof mod.runSeedExperiment !== 'function' || typeof mod.defaultSeedConfig !== 'function') {
    throw new NotAvailableError(`XS_ENGINE_MODULE=${override} does not export runSeedExperiment and defaultSeedConfig`);
  }
  return mod as Engine;
}
