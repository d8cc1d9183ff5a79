/**
 * The GPU probe where gpu.js runs on WebGL: a browser page or worker (and Node with a DOM, such as Electron's
 * renderer). No Node modules here: this file is part of the browser bundle.
 */
import type { GpuProbe } from './runtime.js';

/**
 * Renderer names of GL implementations that run on the CPU. Chromium without a usable GPU (headless, or
 * `--use-angle=swiftshader`) reports e.g. 'ANGLE (Google, Vulkan 1.3.0 (SwiftShader Device (Subzero) ...),
 * SwiftShader driver)'; Firefox on Mesa says 'llvmpipe'; Windows' fallback is 'Microsoft Basic Render Driver'.
 */
export const SOFTWARE_RENDERER = /llvmpipe|softpipe|swiftshader|software|basic render/i;

/** A canvas of the page (or an OffscreenCanvas in a worker), or null where neither exists. */
function newCanvas(): any {
  const g = globalThis as any;
  if (typeof g.document !== 'undefined' && typeof g.document.createElement === 'function') {
    const c = g.document.createElement('canvas');
    c.width = 1;
    c.height = 1;
    return c;
  }
  if (typeof g.OffscreenCanvas !== 'undefined') return new g.OffscreenCanvas(1, 1);
  return null;
}

/** A context of `kind` on a fresh canvas, or null (the browser refused it, or threw). */
function context(kind: 'webgl2' | 'webgl', attributes: Record<string, unknown>): any {
  const canvas = newCanvas();
  if (!canvas) return null;
  try {
    return canvas.getContext(kind, attributes) ?? null;
  } catch {
    return null;
  }
}

/** Give a probe context back at once: browsers keep only a few live WebGL contexts per page (about 16). */
function release(ctx: any): void {
  try {
    ctx?.getExtension('WEBGL_lose_context')?.loseContext();
  } catch {
    // the context is garbage collected anyway
  }
}

/**
 * Whether gpu.js can run on this page's WebGL, in which mode, and whether the context renders in software.
 *
 * gpu.js creates its own canvas in the page for its kernels; this probe opens a 1×1 context of the same kind
 * only to read the renderer, then releases it. The context counts as software when its renderer is a known CPU
 * rasteriser (SwiftShader, llvmpipe) or when the browser refuses it under `failIfMajorPerformanceCaveat`
 * (Chromium's way of saying the context would not be GPU-accelerated). An unknown renderer (a browser that
 * hides it) counts as hardware, as in Node.
 */
export function probeWebGl(gpujs: any): GpuProbe {
  const mode = gpujs.GPU.isWebGL2Supported ? 'webgl2' : gpujs.GPU.isWebGLSupported ? 'webgl' : null;
  if (!mode) {
    return { available: false, mode: null, reason: 'this browser has no WebGL context that gpu.js can use (WebGL disabled, or no float textures)' };
  }
  const ctx = context(mode, {});
  let renderer: string | undefined;
  try {
    renderer = ctx ? String(ctx.getParameter(ctx.RENDERER)) : undefined;
    // the unmasked name says which GPU (or rasteriser) is behind a generic 'WebKit WebGL'
    const dbg = ctx?.getExtension('WEBGL_debug_renderer_info');
    if (dbg) renderer = String(ctx.getParameter(dbg.UNMASKED_RENDERER_WEBGL));
  } catch {
    // the renderer string is informational
  }
  release(ctx);
  const fast = context(mode, { failIfMajorPerformanceCaveat: true });
  release(fast);
  const software = SOFTWARE_RENDERER.test(renderer ?? '') || (ctx !== null && fast === null);
  const name = mode === 'webgl2' ? 'WebGL2' : 'WebGL';
  const how = software ? ', which renders in software' : '';
  return { available: true, mode, reason: `${name} in this browser (${renderer ?? 'unknown renderer'})${how}`, renderer, software };
}

/** Whether this JavaScript realm has a DOM or a worker's OffscreenCanvas, i.e. WebGL is what gpu.js would use. */
export function hasWebGlHost(): boolean {
  const g = globalThis as any;
  const dom = typeof g.document !== 'undefined' && typeof g.window !== 'undefined';
  const worker = typeof g.importScripts === 'function' && typeof g.OffscreenCanvas !== 'undefined';
  return dom || worker;
}
