/**
 * The browser's way to load gpu.js and probe for a GL context: WebGL in the page (or a worker's
 * OffscreenCanvas). Bundlers that honour the package's `browser` field (esbuild with platform 'browser',
 * webpack, Vite) use this file instead of `load.node.js`; it imports no Node modules.
 *
 * gpu.js is imported statically: a bundler resolves 'gpu.js' to its browser build (its own `browser` field),
 * and the synchronous backend API needs it loaded before first use.
 */
import gpujsModule from 'gpu.js';
import { probeWebGl } from './probe-webgl.js';
import type { GpuProbe } from './runtime.js';

/** The gpu.js module (its browser build, bundled with the page). */
export function loadGpuJs(): any {
  return gpujsModule;
}

/** Whether gpu.js can run kernels on the page's WebGL (`load` gives the gpu.js module). */
export function probeGl(load: () => any): GpuProbe {
  return probeWebGl(load());
}
