/**
 * Loading gpu.js and finding out whether it has a real GL context.
 *
 * gpu.js is loaded lazily (the first time the GPU backend is used or probed), so CPU-only users never pay for
 * it. In Node, gpu.js's real GPU path is headless-gl: the optional native package `gl`, which needs a display
 * (an X server; on a headless machine `xvfb-run -a`, which gives Mesa's llvmpipe). Without it gpu.js silently
 * falls back to running kernels as JavaScript ('cpu' mode): this module refuses that and says what is missing.
 */
import { createRequire } from 'node:module';
import { readFileSync, readdirSync } from 'node:fs';

const require = createRequire(import.meta.url);

/** Why the GPU is (un)available, as `probeGpu` reports it. */
export interface GpuProbe {
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

/** The gpu.js module (CommonJS), loaded once. */
export function loadGpuJs(): any {
  if (!gpujs) gpujs = require('gpu.js');
  return gpujs;
}

function isBrowser(): boolean {
  return typeof (globalThis as any).document !== 'undefined' && typeof (globalThis as any).window !== 'undefined';
}

/**
 * Find out (once) whether gpu.js can run kernels on a real GL context. Set XS_GPU_FORCE_MODE to a gpu.js mode
 * ('cpu' runs the GPU backend's kernels as JavaScript) only to debug kernel generation without GL.
 */
export function probeGpu(): GpuProbe {
  if (probe) return probe;
  probe = doProbe();
  return probe;
}

function doProbe(): GpuProbe {
  const forced = typeof process !== 'undefined' ? process.env.XS_GPU_FORCE_MODE : undefined;
  let g: any;
  try {
    g = loadGpuJs();
  } catch (e) {
    return { available: false, mode: null, reason: `the gpu.js package could not be loaded (${(e as Error).message})` };
  }
  if (forced) return { available: true, mode: forced, reason: `XS_GPU_FORCE_MODE=${forced} (debugging: gpu.js kernels without a GL check)` };
  if (isBrowser()) {
    if (g.GPU.isWebGL2Supported) return { available: true, mode: 'webgl2', reason: 'WebGL2 is available in this browser' };
    if (g.GPU.isWebGLSupported) return { available: true, mode: 'webgl', reason: 'WebGL is available in this browser' };
    return { available: false, mode: null, reason: 'this browser has no WebGL context' };
  }
  // Node: headless-gl. Resolve `gl` the way gpu.js does (from gpu.js's own location).
  let getContext: any;
  try {
    const fromGpuJs = createRequire(require.resolve('gpu.js'));
    getContext = fromGpuJs('gl');
  } catch (e) {
    const msg = (e as Error).message.split('\n')[0];
    return {
      available: false,
      mode: null,
      reason:
        `the optional native package 'gl' (headless-gl) is not installed or did not build (${msg}); ` +
        `install the apt packages libxi-dev libglu1-mesa-dev libglew-dev pkg-config, export npm_config_nodedir=/usr, then reinstall`,
    };
  }
  let ctx: any = null;
  try {
    ctx = getContext(1, 1, { preserveDrawingBuffer: true });
  } catch {
    ctx = null;
  }
  if (!ctx) {
    const display = typeof process !== 'undefined' ? process.env.DISPLAY : undefined;
    return {
      available: false,
      mode: null,
      glInstalled: true,
      reason: display
        ? `headless-gl is installed but could not create a GL context on DISPLAY=${display}`
        : `headless-gl is installed but there is no display to create a GL context on: run under 'xvfb-run -a' (apt package xvfb)`,
    };
  }
  let renderer: string | undefined;
  try {
    renderer = String(ctx.getParameter(ctx.RENDERER));
    const dbg = ctx.getExtension('WEBGL_debug_renderer_info');
    if (dbg) renderer = String(ctx.getParameter(dbg.UNMASKED_RENDERER_WEBGL));
  } catch {
    // renderer string is informational only
  }
  const floatTextures = Boolean(ctx.getExtension('OES_texture_float'));
  try {
    ctx.getExtension('STACKGL_destroy_context')?.destroy();
  } catch {
    // ignore
  }
  if (!floatTextures) {
    return { available: false, mode: null, reason: `the GL context (${renderer ?? 'unknown renderer'}) has no float textures (OES_texture_float)`, renderer };
  }
  if (!g.GPU.isHeadlessGLSupported) {
    return { available: false, mode: null, reason: `headless-gl created a context (${renderer ?? 'unknown renderer'}) but gpu.js rejected it` };
  }
  const xserver = virtualXServer(process.env.DISPLAY);
  const software = /llvmpipe|softpipe|swiftshader|software/i.test(renderer ?? '') || xserver !== null;
  const where = xserver ? ` on ${xserver} ${process.env.DISPLAY}, which renders in software` : '';
  return { available: true, mode: 'headlessgl', reason: `headless-gl GL context (${renderer ?? 'unknown renderer'})${where}`, renderer, glInstalled: true, software };
}

/**
 * The virtual X server (Xvfb, Xvnc) serving `display`, if that is what it is. headless-gl reports its
 * renderer only as 'ANGLE', but a virtual X server has no GPU: every GL context on it renders in software
 * (Mesa llvmpipe). Linux only (reads /proc); elsewhere null.
 */
function virtualXServer(display: string | undefined): string | null {
  if (!display) return null;
  const screen = display.replace(/^[^:]*/, '').replace(/\.\d+$/, ''); // ':99.0' -> ':99'
  let pids: string[];
  try {
    pids = readdirSync('/proc').filter((d) => /^\d+$/.test(d));
  } catch {
    return null;
  }
  for (const pid of pids) {
    try {
      const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
      const name = argv[0]!.split('/').pop()!;
      if (/^(Xvfb|Xvnc|Xdummy)$/.test(name) && argv.includes(screen)) return name;
    } catch {
      // the process ended, or is not ours to read
    }
  }
  return null;
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
