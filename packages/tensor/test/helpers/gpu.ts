/**
 * Shared set-up of the GPU test files (test/gpu-*.test.ts).
 *
 * `gpuSkip` is the reason to skip them, or null to run them: they skip where the optional `gl` package did
 * not build (say why), and run where gpu.js has a GL context (under `xvfb-run -a` in CI: Mesa llvmpipe
 * really executes the kernels). Where `gl` DID build but no context could be had, they skip only outside CI:
 * with CI set that is a failure (the summary must not hide a broken GPU set-up behind skips).
 */
import { defaultBackend, setDefaultBackend } from '../../src/index.js';
import { probeGpu } from '../../src/backends/gpu/index.js';

const probe = probeGpu();

function skipReason(): string | null {
  if (probe.available) return null;
  if (probe.glInstalled && process.env.CI) {
    throw new Error(`gpu tests: the gl package built but no GL context could be created (${probe.reason})`);
  }
  return probe.reason;
}

export const gpuSkip = skipReason();
if (gpuSkip) console.warn(`gpu tests skipped: ${gpuSkip}`);

/** Run `fn` with `name` as the default backend (arrays it creates from host data live there). */
export function onBackend<T>(name: 'cpu' | 'gpu', fn: () => T): T {
  const prev = defaultBackend();
  setDefaultBackend(name);
  try {
    return fn();
  } finally {
    setDefaultBackend(prev);
  }
}

/** float32 tolerances for GPU vs CPU comparisons. */
export const F32 = { rtol: 2e-4, atol: 2e-5 };
