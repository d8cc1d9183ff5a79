/**
 * Choosing the compute backend of @xs/tensor: `cpu`, `gpu` (its gpu.js backend, which needs a GL context:
 * the `gl` package and a display, e.g. under `xvfb-run -a`) or `auto` (the GPU when it can run here, else
 * the CPU). The default is the XS_BACKEND environment variable, else auto.
 */
import { GpuUnavailableError, autoBackend, devices, setDefaultBackend } from '@xs/tensor';
import { NotAvailableError } from './args.js';

export type BackendChoice = 'auto' | 'cpu' | 'gpu';

/** What `auto` would pick here, and why (the library decides), without changing anything. */
export function detectBackend(): { selected: string; reason: string; devices: { name: string; available: boolean; description: string }[] } {
  const list = devices().map((d) => ({ name: d.name, available: d.available, description: d.description }));
  const auto = autoBackend();
  return { selected: auto.name, reason: auto.reason, devices: list };
}

/** The backend asked for by `--backend`, else XS_BACKEND, else auto. */
export function backendChoice(flag: string | undefined, env: Readonly<Record<string, string | undefined>>): BackendChoice {
  const v = flag ?? env.XS_BACKEND ?? 'auto';
  return v === 'cpu' || v === 'gpu' ? v : 'auto';
}

/** Make `choice` the default backend of new arrays; a GPU that cannot run here is a NotAvailableError (exit 3). */
export function useBackend(choice: BackendChoice): { name: string; reason: string } {
  try {
    const info = setDefaultBackend(choice);
    return { name: info.name, reason: info.reason };
  } catch (err) {
    if (err instanceof GpuUnavailableError || (err as Error).name === 'GpuUnavailableError') {
      throw new NotAvailableError(`${(err as Error).message}; use --backend cpu or --backend auto`);
    }
    throw err;
  }
}
