/**
 * Loading gpu.js and finding out whether it has a real GL context.
 *
 * gpu.js is loaded lazily (the first time the GPU backend is used or probed), so CPU-only users never pay for
 * it in Node. What "a real GL context" means depends on the platform, so the loading and probing live in two
 * files with the same exports: `load.node.ts` (headless-gl, the optional native package `gl`, which needs an X
 * display; on a headless machine `xvfb-run -a`, which gives Mesa's llvmpipe) and `load.browser.ts` (the page's
 * WebGL). This module imports the Node one; the package's `browser` field swaps in the browser one for
 * bundlers, so no Node module reaches a browser bundle. Without a GL context gpu.js silently falls back to
 * running kernels as JavaScript ('cpu' mode): this module refuses that and says what is missing.
 */
import { loadGpuJs as loadPlatformGpuJs, probeGl } from './load.node.js';

/**
 * Why the GPU is (un)available, as {@link probeGpu} reports it.
 * @example probeGpu()   // { available: true, mode: 'webgl2', reason: 'WebGL2 in this browser (...)', renderer: '...', software: false }
 */
export interface GpuProbe {
  /** Whether the gpu backend can run here (`setDefaultBackend('gpu')` succeeds). */
  readonly available: boolean;
  /** The gpu.js mode that will run kernels: 'headlessgl' (Node), 'webgl2'/'webgl' (browser), or null. */
  readonly mode: string | null;
  /** One sentence: what was found, or what is missing and how to get it. */
  readonly reason: string;
  /** The GL renderer string when a context exists (e.g. 'ANGLE' over Mesa llvmpipe). */
  readonly renderer?: string;
  /** Node: whether the native `gl` package loaded (it built), whatever happened next. */
  readonly glInstalled?: boolean;
  /** The GL context renders in software (Mesa llvmpipe/softpipe, SwiftShader): it works, but slower than the CPU backend. */
  readonly software?: boolean;
}

let gpujs: any | null = null;
let probe: GpuProbe | null = null;

/** The gpu.js module, loaded once (Node: its CommonJS build; a browser bundle: its browser build). */
export function loadGpuJs(): any {
  if (!gpujs) gpujs = loadPlatformGpuJs();
  return gpujs;
}

/**
 * Find out (once) whether gpu.js can run kernels on a real GL context here: headless-gl in Node, WebGL in a
 * browser. Set XS_GPU_FORCE_MODE (Node) to a gpu.js mode ('cpu' runs the GPU backend's kernels as JavaScript)
 * only to debug kernel generation without GL.
 * @example
 * const p = probeGpu();
 * console.log(p.available ? `gpu.js ${p.mode}: ${p.reason}` : `no gpu: ${p.reason}`);
 */
export function probeGpu(): GpuProbe {
  if (probe) return probe;
  probe = doProbe();
  return probe;
}

function doProbe(): GpuProbe {
  const forced = typeof process !== 'undefined' ? process.env?.XS_GPU_FORCE_MODE : undefined;
  try {
    if (!forced) return probeGl(loadGpuJs);
    loadGpuJs();
  } catch (e) {
    return { available: false, mode: null, reason: `the gpu.js package could not be loaded (${(e as Error).message})` };
  }
  return { available: true, mode: forced, reason: `XS_GPU_FORCE_MODE=${forced} (debugging: gpu.js kernels without a GL check)` };
}

/**
 * The error thrown when the GPU backend is asked for where there is none; its message says what is missing.
 * @example
 * try { setDefaultBackend('gpu'); } catch (e) { if (e instanceof GpuUnavailableError) setDefaultBackend('cpu'); }
 */
export class GpuUnavailableError extends Error {
  /**
   * An error whose message is `gpu backend unavailable: <reason>`.
   * @example new GpuUnavailableError('no GL context').message   // 'gpu backend unavailable: no GL context'
   */
  constructor(reason: string) {
    super(`gpu backend unavailable: ${reason}`);
    this.name = 'GpuUnavailableError';
  }
}
