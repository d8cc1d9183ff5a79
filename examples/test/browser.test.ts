/**
 * The browser example in headless Chromium (Debian's `chromium`, driven by playwright-core, which never
 * downloads a browser): the page must train on the gpu backend in gpu.js's WebGL mode, agree with the cpu
 * backend to float32 tolerance, and reduce the loss; with WebGL switched off it must say so instead of
 * quietly computing on the CPU.
 *
 * Without /usr/bin/chromium the tests skip, naming the package; under CI=true they fail instead (.ci/run
 * installs it). XS_CHROMIUM=<path> points at another Chromium build.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Browser, chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type BrowserBuild, buildBrowserExample } from '../browser/build.js';
import type { XsResult } from '../browser/main.js';
import { type StaticServer, serveStatic } from '../browser/serve.js';

const CHROMIUM = process.env.XS_CHROMIUM || '/usr/bin/chromium';
const MISSING = `${CHROMIUM} not found: install Debian's chromium package (apt-get install -y --no-install-recommends chromium)`;
const haveChromium = existsSync(CHROMIUM);

// As root in a container: no sandbox; nothing reaches out to Google's services (this network is closed).
const BASE_ARGS = ['--no-sandbox', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-quic'];
// No GPU here: WebGL runs on SwiftShader (ANGLE's Vulkan rasteriser on the CPU), which Chromium only allows when
// asked (automatic software WebGL is deprecated).
const WEBGL_ARGS = ['--use-angle=swiftshader', '--enable-unsafe-swiftshader'];
const STEPS = 100;

/** Skip without Chromium, but fail in CI, where it must be installed. */
function needChromium(ctx: { skip: (note?: string) => never }): void {
  if (haveChromium) return;
  if (process.env.CI === 'true') throw new Error(`${MISSING}; CI must install it (APT_PACKAGES in .ci/run)`);
  ctx.skip(MISSING);
}

/** Launch Chromium with `args` (playwright-core gives it a fresh temporary --user-data-dir), load the page, return its result. */
async function runPage(url: string, args: string[]): Promise<{ result: XsResult; status: string | undefined; console: string[] }> {
  let browser: Browser | null = null;
  const console: string[] = [];
  try {
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args });
    const page = await browser.newPage();
    page.on('console', (m) => console.push(`${m.type()}: ${m.text()}`));
    page.on('pageerror', (e) => console.push(`pageerror: ${e.message}`));
    await page.goto(url);
    await page.waitForFunction(() => (window as { __xsResult?: unknown }).__xsResult !== undefined, undefined, { timeout: 90_000 });
    const result = (await page.evaluate(() => (window as { __xsResult?: unknown }).__xsResult)) as XsResult;
    const status = await page.evaluate(() => document.body.dataset.status);
    return { result, status, console };
  } finally {
    await browser?.close();
  }
}

describe('browser example (headless Chromium)', () => {
  let out = '';
  let bundle: BrowserBuild;
  let server: StaticServer | null = null;

  beforeAll(async () => {
    // a private output folder: a developer's `browser:build` into browser/dist is left alone
    out = mkdtempSync(join(tmpdir(), 'xs-browser-'));
    bundle = await buildBrowserExample(out);
    if (haveChromium) server = await serveStatic(out);
  }, 60_000);

  afterAll(async () => {
    await server?.close();
    if (out) rmSync(out, { recursive: true, force: true });
  });

  it('the bundle swaps in the WebGL loader and carries no Node-only code', () => {
    const tensorInputs = bundle.inputs.filter((p) => p.includes('backends/gpu/'));
    expect(tensorInputs.some((p) => p.endsWith('load.browser.js'))).toBe(true);
    expect(tensorInputs.some((p) => p.endsWith('load.node.js'))).toBe(false);
    expect(bundle.inputs.some((p) => p.endsWith('gpu.js/dist/gpu-browser.js'))).toBe(true);
  });

  /** Load the page with `args` and check a full run on gpu.js in `mode` against the cpu backend. */
  async function expectAgreeingRun(mode: 'webgl2' | 'webgl', steps: number, args: string[]): Promise<void> {
    const { result: r, status, console } = await runPage(`${server!.url}?steps=${steps}`, [...BASE_ARGS, ...WEBGL_ARGS, ...args]);
    const context = `page result: ${JSON.stringify({ ok: r.ok, error: r.error, probe: r.probe })}\nconsole:\n${console.join('\n')}`;
    expect(r.ok, context).toBe(true);
    expect(status).toBe('done');
    expect(r.probe?.available).toBe(true);
    expect(r.probe?.mode, context).toBe(mode);
    expect(r.cpuFallbacks).toEqual([]);
    // SwiftShader renders in software, so 'auto' keeps the CPU here, as it does with Mesa llvmpipe in Node
    expect(r.probe?.renderer).toMatch(/swiftshader/i);
    expect(r.probe?.software).toBe(true);
    expect(r.auto?.name).toBe('cpu');

    const gpu = r.gpu!;
    const cpu = r.cpu!;
    expect(gpu.backend).toBe('gpu');
    expect(cpu.backend).toBe('cpu');
    expect(gpu.losses).toHaveLength(steps + 1);
    expect(cpu.losses).toHaveLength(steps + 1);
    expect(r.maxRelDiffLoss).toBeLessThan(1e-4);
    expect(r.maxAbsDiffPrediction).toBeLessThan(1e-3);
    expect(gpu.losses.at(-1)!).toBeLessThan(gpu.losses[0]! / 2);
    expect(cpu.losses.at(-1)!).toBeLessThan(cpu.losses[0]! / 2);
  }

  it('trains on gpu.js WebGL2 and on the CPU: same losses to float32 tolerance, and the loss falls', async (ctx) => {
    needChromium(ctx);
    await expectAgreeingRun('webgl2', STEPS, []);
  }, 120_000);

  it('with WebGL2 switched off, gpu.js runs on WebGL1 and agrees as well', async (ctx) => {
    needChromium(ctx);
    await expectAgreeingRun('webgl', 30, ['--disable-webgl2']);
  }, 120_000);

  it('without WebGL the page fails loudly, naming it, instead of computing on the CPU', async (ctx) => {
    needChromium(ctx);
    const { result: r, status } = await runPage(`${server!.url}?steps=2`, [...BASE_ARGS, '--disable-webgl', '--disable-3d-apis']);
    expect(r.ok).toBe(false);
    expect(status).toBe('error');
    expect(r.error).toMatch(/gpu backend cannot run in this browser: .*WebGL/);
    expect(r.gpu).toBeUndefined();
  }, 60_000);
});
