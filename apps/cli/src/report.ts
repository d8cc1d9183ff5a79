/** report.html: one self-contained page per run (results table, pictures inline, configuration, timings, files). */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { basename, join } from 'node:path';
import type { SeedResult } from './contract.js';
import { NOTEBOOK_RESULTS } from './contract.js';
import { FASHION_CLASSES, MNIST_CLASSES } from './plots.js';
import { FILES, type RunConfig, type RunStatus } from './run-dir.js';

function h(s: unknown): string {
  return String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

function inlineSvg(runDir: string, name: string): string {
  const p = join(runDir, name);
  if (!existsSync(p)) return '';
  const svg = readFileSync(p, 'utf8').replace(/^<\?xml[^>]*>\s*/, '');
  return `<figure><div class="svg">${svg}</div><figcaption><a href="${h(name)}">${h(name)}</a></figcaption></figure>`;
}

function fmtDiff(d: number): string {
  return `${d >= 0 ? '+' : ''}${d.toFixed(2)}`;
}

const CSS = `
body { font-family: DejaVu Sans, Helvetica, Arial, sans-serif; margin: 24px auto; max-width: 1200px; color: #222; padding: 0 16px; }
h1 { font-size: 24px; margin-bottom: 4px; } h2 { font-size: 19px; margin-top: 32px; border-bottom: 1px solid #ddd; padding-bottom: 4px; }
.meta { color: #555; font-size: 14px; }
table { border-collapse: collapse; margin: 8px 0 16px; font-size: 14px; }
th, td { border: 1px solid #ddd; padding: 4px 10px; text-align: right; } th { background: #f4f6f8; } td.l, th.l { text-align: left; }
.pos { color: #1a7f37; } .neg { color: #c62828; }
.status { display: inline-block; padding: 2px 8px; border-radius: 4px; font-weight: bold; }
.complete { background: #dff3e4; color: #1a7f37; } .incomplete, .running, .failed { background: #fde2e1; color: #c62828; }
figure { margin: 12px 0 20px; } .svg svg { max-width: 100%; height: auto; } figcaption { font-size: 12px; color: #666; }
code, pre { background: #f6f8fa; border-radius: 3px; padding: 1px 4px; font-size: 13px; } pre { padding: 8px; overflow-x: auto; }
`;

/** The report page of a run. */
export function renderReport(runDir: string, a: { result: SeedResult; runConfig: RunConfig; status: RunStatus; pictures: string[] }): string {
  const { result, runConfig, status } = a;
  const nb = result.notebook ?? NOTEBOOK_RESULTS;
  const r = result.results;
  const rows: [string, string, number, number][] = [
    ['MNIST', 'alone', r.mnist.alone.accuracy, nb.mnist.alone],
    ['MNIST', 'stitched', r.mnist.stitched.accuracy, nb.mnist.stitched],
    ['Fashion-MNIST', 'alone', r.fashion.alone.accuracy, nb.fashion.alone],
    ['Fashion-MNIST', 'stitched', r.fashion.stitched.accuracy, nb.fashion.stitched],
  ];
  const resultsTable = `<table><tr><th class="l">test set</th><th class="l">network</th><th>ours (%)</th><th>notebook (%)</th><th>difference (points)</th></tr>${rows
    .map(([t, n, o, b]) => `<tr><td class="l">${t}</td><td class="l">${n}</td><td>${o.toFixed(2)}</td><td>${b.toFixed(2)}</td><td class="${o - b >= 0 ? 'pos' : 'neg'}">${fmtDiff(o - b)}</td></tr>`)
    .join('')}</table>`;

  const pc = (v: number[], fractions: boolean): string[] => v.map((x) => (Number.isFinite(x) ? (fractions ? x * 100 : x).toFixed(1) : 'n/a'));
  const perClass = (task: 'mnist' | 'fashion'): string => {
    const classes = task === 'mnist' ? MNIST_CLASSES : FASHION_CLASSES;
    const m = r[task];
    const fr = [...m.alone.perClassAccuracy, ...m.stitched.perClassAccuracy].every((x) => !Number.isFinite(x) || x <= 1);
    const al = pc(m.alone.perClassAccuracy, fr);
    const st = pc(m.stitched.perClassAccuracy, fr);
    return `<table><tr><th class="l">class</th>${classes.map((c, i) => `<th title="${h(c)}">${i}${task === 'fashion' ? `<br><small>${h(c)}</small>` : ''}</th>`).join('')}</tr><tr><td class="l">alone</td>${al.map((x) => `<td>${x}</td>`).join('')}</tr><tr><td class="l">stitched</td>${st.map((x) => `<td>${x}</td>`).join('')}</tr></table>`;
  };

  const cfg = result.config ?? runConfig.seedConfig;
  const cfgRows: [string, string][] = [
    ['variant', runConfig.variant],
    ['backend', runConfig.backend],
    ['seed', String(cfg.seed)],
    ['learning rate', String(cfg.lr)],
    ['batch size', String(cfg.batchSize)],
    ['epochs (MNIST, Fashion, stitch)', `${cfg.epochs.mnist}, ${cfg.epochs.fashion}, ${cfg.epochs.stitch}`],
    ['batches per epoch', `${cfg.batchesPerEpoch.mnist}, ${cfg.batchesPerEpoch.fashion}, ${cfg.batchesPerEpoch.stitch}`],
    ['stitch samples', String(cfg.stitchSamples)],
    ['hidden sizes', cfg.hidden.join(', ')],
    ['data folder', runConfig.data.dataDir ?? '(default search: XS_DATA_DIR, cache, system copies)'],
    ['checksums verified', runConfig.data.verify ? 'yes' : 'no'],
    ['command', `xs ${runConfig.cli.argv.join(' ')}`],
    ['CLI version', runConfig.cli.version],
  ];
  const timings = Object.entries(result.timings ?? {});
  const files = [...new Set([...readdirSync(runDir).filter((f) => !f.startsWith('.')), FILES.report])].sort();
  const P = FILES.pictures;
  const pictures = (names: string[]): string => names.filter((n) => a.pictures.includes(n)).map((n) => inlineSvg(runDir, n)).join('\n');

  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>xs run ${h(basename(runDir))}</title><style>${CSS}</style></head>
<body>
<h1>Cross-stitch networks: seed experiment</h1>
<div class="meta">Run <code>${h(basename(runDir))}</code> · <span class="status ${h(status.status)}">${h(status.status)}</span> · started ${h(status.startedAt)}${status.finishedAt ? ` · finished ${h(status.finishedAt)}` : ''}${
    status.attempts.length > 1 ? ` · ${status.attempts.length} attempts (resumed)` : ''
  }</div>
<p>Two 784-60-20-10 sigmoid MLPs are trained alone on MNIST and on Fashion-MNIST, then joined by cross-stitch units (the two alpha blocks), which alone are trained on ${h(cfg.stitchSamples)} samples of the combined training sets. The notebook's numbers are those reported in the seed notebook.</p>
<h2>Results</h2>
${resultsTable}
<h3>Per-class test accuracy (%): MNIST</h3>
${perClass('mnist')}
<h3>Per-class test accuracy (%): Fashion-MNIST</h3>
${perClass('fashion')}
<h2>Training</h2>
${pictures([P.loss, P.valAccuracy])}
<h2>Cross-stitch units</h2>
${pictures([P.alpha]) || '<p>No alpha checkpoint.</p>'}
<h2>Confusion matrices</h2>
${pictures([P.confusionMnist, P.confusionFashion])}
<h2>Sample predictions</h2>
${pictures([P.samples]) || '<p>No samples.</p>'}
<h2>Configuration</h2>
<table>${cfgRows.map(([k, v]) => `<tr><th class="l">${h(k)}</th><td class="l">${h(v)}</td></tr>`).join('')}</table>
<h2>Timings</h2>
<table><tr><th class="l">part</th><th>seconds</th></tr>${timings.map(([k, v]) => `<tr><td class="l">${h(k)}</td><td>${Number(v).toFixed(2)}</td></tr>`).join('')}</table>
<h2>Files</h2>
<ul>${files.map((f) => `<li><a href="${h(f)}">${h(f)}</a></li>`).join('')}</ul>
</body></html>
`;
}
