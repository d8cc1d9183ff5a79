/**
 * The pictures of a run, as standalone SVG documents: training curves, the two alpha blocks, the confusion
 * matrices and a grid of test images with their predictions. Inputs are plain numbers (from a SeedResult or
 * from results.json and the checkpoints).
 */
import type { EpochRecord, SeedPhase, SeedResult } from './contract.js';
import { blueWhiteRed, blues } from './svg/colors.js';
import { colorBar, fmtSigned, heatmap } from './svg/heatmap.js';
import { hstack, titled, toSvg, vstack } from './svg/core.js';
import { imageGrid } from './svg/images.js';
import { lineChart } from './svg/line-chart.js';

export const PHASE_TITLES: Record<SeedPhase, string> = {
  mnist: 'MNIST net (784-60-20-10)',
  fashion: 'Fashion-MNIST net (784-60-20-10)',
  stitch: 'Cross-stitch (alpha only)',
};

export const MNIST_CLASSES = ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'];
export const FASHION_CLASSES = ['T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot'];

function seriesOf(curves: readonly EpochRecord[], key: 'trainLoss' | 'valAccuracy'): { name: string; points: [number, number][] }[] {
  const phases: SeedPhase[] = ['mnist', 'fashion', 'stitch'];
  return phases
    .map((p) => ({ name: PHASE_TITLES[p].replace(/ \(.*\)$/, ''), points: curves.filter((c) => c.phase === p).map((c) => [c.epoch, c[key]] as [number, number]) }))
    .filter((s) => s.points.length > 0);
}

/** Training loss per epoch, one line per phase. */
export function lossChart(curves: readonly EpochRecord[]): string {
  const chart = lineChart({
    title: 'Training loss per epoch',
    series: seriesOf(curves, 'trainLoss'),
    xLabel: 'epoch (of each phase)',
    yLabel: 'mean training loss (NLL)',
    xInteger: true,
    width: 720,
    height: 380,
    note: 'Mean negative log-likelihood over the epoch\u2019s training batches.',
  });
  return toSvg(chart, 'Training loss per epoch');
}

/** Validation accuracy per epoch, one line per phase. */
export function valAccuracyChart(curves: readonly EpochRecord[]): string {
  const chart = lineChart({
    title: 'Validation accuracy per epoch',
    series: seriesOf(curves, 'valAccuracy'),
    xLabel: 'epoch (of each phase)',
    yLabel: 'validation accuracy (%)',
    xInteger: true,
    width: 720,
    height: 380,
    note: 'Notebook slices: MNIST train[50000:50100], Fashion train[30000:30100], stitch Fashion train[30000:31000].',
  });
  return toSvg(chart, 'Validation accuracy per epoch');
}

/**
 * The two alpha blocks (each `hidden[1] x hidden[0]`, 20 x 60) as heatmaps on one symmetric scale.
 * Block 1 feeds Fashion layer-1 units into MNIST layer-2 units; block 2 feeds MNIST layer-1 units into Fashion layer-2 units.
 */
export function alphaHeatmaps(blocks: readonly (readonly (readonly number[])[])[]): string {
  let m = 0;
  for (const b of blocks) for (const row of b) for (const v of row) if (Number.isFinite(v)) m = Math.max(m, Math.abs(v));
  const vmax = m > 0 ? m : 1e-3;
  const cell = 10;
  const titles = ['α₁: Fashion layer-1 units → MNIST layer-2 units', 'α₂: MNIST layer-1 units → Fashion layer-2 units'];
  const ylabels = ['MNIST layer-2 unit', 'Fashion layer-2 unit'];
  const xlabels = ['Fashion layer-1 unit', 'MNIST layer-1 unit'];
  const maps = blocks.map((b, k) =>
    heatmap({
      matrix: b,
      colorMap: blueWhiteRed,
      vmin: -vmax,
      vmax,
      cellWidth: cell,
      cellHeight: cell,
      labelEvery: 5,
      title: titles[k] ?? `block ${k + 1}`,
      xLabel: xlabels[k],
      yLabel: ylabels[k],
      tooltip: (v, i, j) => `row ${i}, column ${j}: ${v.toPrecision(4)}`,
    }),
  );
  const stack = vstack(maps, 18);
  const bar = colorBar({ colorMap: blueWhiteRed, vmin: -vmax, vmax, height: Math.max(stack.height - 60, 80), offsetTop: 24, label: 'alpha value', format: (v) => fmtSigned(v, vmax < 0.01 ? 4 : vmax < 0.1 ? 3 : 2) });
  const fig = titled(hstack([stack, bar], 18), 'Cross-stitch units (alpha)', { subtitle: `Symmetric colour scale, max |alpha| = ${vmax.toPrecision(3)}; white is 0 (no sharing).` });
  return toSvg(fig, 'Cross-stitch alpha blocks');
}

/** Confusion matrices of one task: the net alone and the stitched net, side by side, coloured by share of the true class. */
export function confusionFigure(task: 'mnist' | 'fashion', alone: readonly (readonly number[])[], stitched: readonly (readonly number[])[], accuracies?: { alone: number; stitched: number }): string {
  const classes = task === 'mnist' ? MNIST_CLASSES : FASHION_CLASSES;
  const rowLabels = classes.map((c, i) => (task === 'mnist' ? c : `${i} ${c}`));
  const colLabels = classes.map((_, i) => String(i));
  const one = (m: readonly (readonly number[])[], title: string) => {
    const totals = m.map((r) => r.reduce((a, b) => a + b, 0));
    return heatmap({
      matrix: m,
      colorMap: blues,
      vmin: 0,
      vmax: 1,
      colorValue: (v, i) => (totals[i] ? v / totals[i]! : 0),
      cellWidth: 38,
      cellHeight: 30,
      rowLabels,
      colLabels,
      title,
      xLabel: 'predicted class',
      yLabel: 'true class',
      annotate: (v) => String(v),
      tooltip: (v, i, j) => `true ${classes[i]}, predicted ${classes[j]}: ${v}${totals[i] ? ` (${((100 * v) / totals[i]!).toFixed(1)}% of the class)` : ''}`,
    });
  };
  const acc = (a?: number): string => (a === undefined ? '' : ` (${a.toFixed(2)}%)`);
  const left = one(alone, `alone${acc(accuracies?.alone)}`);
  const right = one(stitched, `stitched${acc(accuracies?.stitched)}`);
  const bar = colorBar({ colorMap: blues, vmin: 0, vmax: 1, height: left.height - 70, offsetTop: 24, label: 'share of the true class', format: (v) => `${Math.round(v * 100)}%` });
  const name = task === 'mnist' ? 'MNIST' : 'Fashion-MNIST';
  const fig = titled(hstack([left, right, bar], 24), `${name} test set: confusion matrices`, { subtitle: 'Rows: true class; columns: predicted class; numbers are counts, colour is the share of the row.' });
  return toSvg(fig, `${name} confusion matrices`);
}

/** A grid of test images with their true label and both nets' predictions (wrong ones in red). */
export function samplesFigure(samples: SeedResult['samples'], columns = 8): string {
  const groups: ('mnist' | 'fashion')[] = ['mnist', 'fashion'];
  const panels = groups
    .map((g) => {
      const tiles = samples
        .filter((s) => s.dataset === g)
        .map((s) => {
          const names = g === 'mnist' ? MNIST_CLASSES : FASHION_CLASSES;
          const side = Math.round(Math.sqrt(s.pixels.length));
          const ok = (p: number): { color: string; mark: string } => (p === s.label ? { color: '#1a7f37', mark: '✓' } : { color: '#c62828', mark: '✗' });
          const a = ok(s.predictedAlone);
          const st = ok(s.predictedStitched);
          return {
            pixels: s.pixels,
            rows: side,
            cols: side,
            frame: s.predictedStitched !== s.label || s.predictedAlone !== s.label ? '#c62828' : undefined,
            caption: [
              { text: `true: ${names[s.label] ?? s.label}`, bold: true },
              { text: `alone: ${names[s.predictedAlone] ?? s.predictedAlone} ${a.mark}`, color: a.color },
              { text: `stitched: ${names[s.predictedStitched] ?? s.predictedStitched} ${st.mark}`, color: st.color },
            ],
          };
        });
      return tiles.length ? titled(imageGrid(tiles, { columns }), g === 'mnist' ? 'MNIST test images' : 'Fashion-MNIST test images', { size: 14, margin: 6 }) : undefined;
    })
    .filter((p): p is NonNullable<typeof p> => p !== undefined);
  const fig = titled(vstack(panels, 10), 'Sample predictions', { subtitle: 'Each image: true label, prediction of its own net alone, and of the stitched net (red frame: a mistake).' });
  return toSvg(fig, 'Sample test images with predictions');
}
