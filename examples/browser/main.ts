/// <reference lib="dom" />
/**
 * The browser example's page script: train the same MLP on the `gpu` backend (gpu.js on the page's WebGL) and
 * on the `cpu` backend, then show both loss curves, the fits and how far apart the two backends ended up.
 *
 * The outcome is also left for programs: `window.__xsResult` (an {@link XsResult}), the same JSON in
 * `<pre id="xs-result">`, and `document.body.dataset.status` = 'done' or 'error'. Query parameters:
 * `?steps=N` (default 200), `?lr=X` (default 0.05), `?n=N` points (default 256).
 */
import { type GpuProbe, autoBackend, probeGpu, setDefaultBackend } from '@xs/tensor';
import { type Run, makeProblem, maxRelativeDifference, train } from './regression.js';

/** What the page found, for people and for the test (examples/test/browser.test.ts). */
export interface XsResult {
  ok: boolean;
  /** Set when `ok` is false: what went wrong. */
  error?: string;
  probe?: GpuProbe;
  /** What `setDefaultBackend('auto')` would pick in this browser, and why. */
  auto?: { name: string; reason: string };
  steps?: number;
  lr?: number;
  gpu?: Run;
  cpu?: Run;
  /** The largest relative difference between the two backends' losses, step by step. */
  maxRelDiffLoss?: number;
  /** The largest |gpu - cpu| of the fitted functions on the plot's grid (values near 0 make a relative one meaningless). */
  maxAbsDiffPrediction?: number;
  /** gpu.js's warnings that a kernel fell back to running as JavaScript (must be empty). */
  cpuFallbacks: string[];
}

declare global {
  interface Window {
    __xsResult?: XsResult;
  }
}

const GL_MODES = ['webgl2', 'webgl'];

function param(name: string, fallback: number): number {
  const v = new URLSearchParams(location.search).get(name);
  const x = v === null ? fallback : Number(v);
  if (!Number.isFinite(x) || x <= 0) throw new Error(`?${name}=${v}: expected a positive number`);
  return x;
}

/** Record gpu.js's "Falling back to CPU" warnings: it prints one when a kernel fails to build on WebGL. */
function watchFallbacks(into: string[]): void {
  const warn = console.warn.bind(console);
  console.warn = (...args: unknown[]) => {
    const text = args.map(String).join(' ');
    if (/falling back to cpu/i.test(text)) into.push(text);
    warn(...args);
  };
}

function run(result: XsResult): void {
  const steps = Math.round(param('steps', 200));
  const lr = param('lr', 0.05);
  const n = Math.round(param('n', 256));
  Object.assign(result, { steps, lr });

  const probe = probeGpu();
  result.probe = probe;
  result.auto = autoBackend();
  if (!probe.available) throw new Error(`the gpu backend cannot run in this browser: ${probe.reason}`);
  // gpu.js 'cpu' mode would still give the right numbers, just not on the GPU: refuse it outright
  if (!GL_MODES.includes(probe.mode ?? '')) throw new Error(`gpu.js is in '${probe.mode}' mode, not WebGL (${GL_MODES.join(' or ')})`);
  // The data and initial parameters are made once, on the CPU, and copied to each backend; 'gpu' is then named
  // explicitly, since 'auto' keeps the CPU on a software renderer such as SwiftShader.
  setDefaultBackend('cpu');
  const problem = makeProblem(n);
  const grid = Array.from({ length: 64 }, (_, i) => -Math.PI + (2 * Math.PI * i) / 63);
  result.gpu = train(problem, 'gpu', steps, lr, grid);
  if (result.cpuFallbacks.length > 0) throw new Error(`gpu.js ran ${result.cpuFallbacks.length} kernel(s) as JavaScript instead of WebGL: ${result.cpuFallbacks[0]}`);
  result.cpu = train(problem, 'cpu', steps, lr, grid);
  result.maxRelDiffLoss = maxRelativeDifference(result.gpu.losses, result.cpu.losses);
  result.maxAbsDiffPrediction = Math.max(...result.gpu.prediction.map((v, i) => Math.abs(v - result.cpu!.prediction[i]!)));
  if (!result.gpu.losses.every(Number.isFinite)) throw new Error('the gpu losses are not all finite');
  result.ok = true;
  show(result, problem.x.data() as Float32Array, problem.y.data() as Float32Array, grid);
}

const $ = (id: string): HTMLElement => {
  const el = document.getElementById(id);
  if (!el) throw new Error(`the page has no #${id}`);
  return el;
};

function show(r: XsResult, xs: Float32Array, ys: Float32Array, grid: number[]): void {
  const gpu = r.gpu!;
  const cpu = r.cpu!;
  const row = (run: Run, label: string) =>
    `<tr><td>${label}</td><td>${run.losses[0]!.toFixed(5)}</td><td>${run.losses.at(-1)!.toFixed(6)}</td>` +
    `<td>${run.msFirstStep.toFixed(0)}</td><td>${run.msPerStep.toFixed(2)}</td></tr>`;
  $('summary').innerHTML =
    `<p>gpu.js mode <b>${r.probe!.mode}</b> on <code>${escape(r.probe!.renderer ?? 'an unknown renderer')}</code>` +
    `${r.probe!.software ? ' (a software renderer)' : ''}. <code>auto</code> would pick <b>${r.auto!.name}</b>.</p>` +
    `<table><tr><th>backend</th><th>loss at step 0</th><th>loss after ${r.steps} steps</th><th>first step (ms)</th><th>ms/step after</th></tr>` +
    row(gpu, `gpu (gpu.js ${r.probe!.mode})`) + row(cpu, 'cpu') + `</table>` +
    `<p>gpu vs cpu (float32 arithmetic on both): largest relative difference of the losses <b>${r.maxRelDiffLoss!.toExponential(2)}</b>, ` +
    `largest absolute difference of the fitted functions <b>${r.maxAbsDiffPrediction!.toExponential(2)}</b>.</p>`;
  $('plot').innerHTML = plot(xs, ys, grid, gpu.prediction, cpu.prediction) + lossPlot(gpu.losses, cpu.losses);
}

function escape(s: string): string {
  return s.replace(/[&<>"]/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** The data and both fits, as an SVG (x in [-pi, pi], y in [-1.6, 1.6]). */
function plot(xs: Float32Array, ys: Float32Array, grid: number[], gpu: number[], cpu: number[]): string {
  const W = 420, H = 260;
  const sx = (x: number) => ((x + Math.PI) / (2 * Math.PI)) * W;
  const sy = (y: number) => H / 2 - (y / 1.6) * (H / 2);
  const dots = Array.from(xs, (x, i) => `<circle cx="${sx(x).toFixed(1)}" cy="${sy(ys[i]!).toFixed(1)}" r="1.6" fill="#999"/>`).join('');
  const line = (ys2: number[], color: string, dash: string) =>
    `<polyline fill="none" stroke="${color}" stroke-width="2" stroke-dasharray="${dash}" points="${grid.map((x, i) => `${sx(x).toFixed(1)},${sy(ys2[i]!).toFixed(1)}`).join(' ')}"/>`;
  return `<svg width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" role="img" aria-label="data and fits">${dots}${line(gpu, '#c33', '')}${line(cpu, '#36c', '6 4')}` +
    `<text x="8" y="16" font-size="12">grey: data · red: gpu fit · blue dashed: cpu fit</text></svg>`;
}

/** Both loss curves on a log scale. */
function lossPlot(gpu: number[], cpu: number[]): string {
  const W = 420, H = 260;
  const all = [...gpu, ...cpu];
  const lo = Math.log10(Math.min(...all)), hi = Math.log10(Math.max(...all));
  const sx = (i: number) => (i / (gpu.length - 1)) * W;
  const sy = (v: number) => H - 20 - ((Math.log10(v) - lo) / (hi - lo || 1)) * (H - 40);
  const line = (ls: number[], color: string, dash: string) =>
    `<polyline fill="none" stroke="${color}" stroke-width="2" stroke-dasharray="${dash}" points="${ls.map((v, i) => `${sx(i).toFixed(1)},${sy(v).toFixed(1)}`).join(' ')}"/>`;
  return `<svg width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" role="img" aria-label="loss curves">${line(gpu, '#c33', '')}${line(cpu, '#36c', '6 4')}` +
    `<text x="8" y="16" font-size="12">loss per step (log scale) · red: gpu · blue dashed: cpu</text></svg>`;
}

function finish(result: XsResult): void {
  window.__xsResult = result;
  $('xs-result').textContent = JSON.stringify(result, null, 1);
  document.body.dataset.status = result.ok ? 'done' : 'error';
  if (!result.ok) {
    $('summary').innerHTML = `<p class="error">Failed: ${escape(result.error ?? 'unknown error')}</p>`;
    console.error(`xs browser example failed: ${result.error}`);
  }
}

const result: XsResult = { ok: false, cpuFallbacks: [] };
watchFallbacks(result.cpuFallbacks);
// let the page paint "running" before the synchronous training starts
setTimeout(() => {
  try {
    run(result);
  } catch (e) {
    result.ok = false;
    result.error = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
  }
  finish(result);
}, 0);
