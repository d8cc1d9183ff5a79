/**
 * Node's way to load gpu.js and probe for a GL context: headless-gl (the optional native package `gl`), which
 * needs an X display. Browser bundles never see this file: the package's `browser` field replaces its built
 * `load.node.js` with `load.browser.js` (see package.json), because this one imports Node modules.
 */
import { createRequire } from 'node:module';
import { readFileSync, readdirSync } from 'node:fs';
import { hasWebGlHost, probeWebGl } from './probe-webgl.js';
import type { GpuProbe } from './runtime.js';

const require = createRequire(import.meta.url);

/** The gpu.js module (its CommonJS build, which reaches headless-gl). */
export function loadGpuJs(): any {
  return require('gpu.js');
}

/**
 * Whether gpu.js can run kernels on a real GL context here. `load` gives the gpu.js module or throws (the
 * caller reports that). It is called only once a GL context exists: loading gpu.js takes about 0.1 s, and
 * most machines have no display, so a CPU-only run does not pay for a module it will not use.
 */
export function probeGl(load: () => any): GpuProbe {
  // Node with a DOM (Electron's renderer, say) has WebGL, which gpu.js prefers to headless-gl.
  if (hasWebGlHost()) return probeWebGl(load());
  // Resolve `gl` the way gpu.js does (from gpu.js's own location); without gpu.js, `load` says why.
  let gpuJsPath: string;
  try {
    gpuJsPath = require.resolve('gpu.js');
  } catch (e) {
    load(); // throws, saying why gpu.js is missing
    throw e;
  }
  let getContext: any;
  try {
    getContext = createRequire(gpuJsPath)('gl');
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
    const display = process.env.DISPLAY;
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
  if (!load().GPU.isHeadlessGLSupported) {
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
