/** The SVG plotting module: ticks, layout, escaping, well-formed output. */
import { describe, expect, it } from 'vitest';
import { alphaHeatmaps, confusionFigure, lossChart, samplesFigure } from '../src/plots.js';
import { blueWhiteRed, blues, textOn } from '../src/svg/colors.js';
import { attrs, decimalsFor, esc, hstack, integerTicks, niceTicks, num, toSvg, vstack } from '../src/svg/core.js';
import { colorBar, heatmap } from '../src/svg/heatmap.js';
import { imageGrid, imageMarkup } from '../src/svg/images.js';
import { lineChart } from '../src/svg/line-chart.js';
import { xmlProblems } from './xml.js';

describe('svg core', () => {
  it('nice ticks cover the range with round steps', () => {
    expect(niceTicks(0, 0.93, 5)).toMatchObject({ ticks: [0, 0.2, 0.4, 0.6, 0.8, 1], step: 0.2 });
    expect(niceTicks(72.3, 87.1, 5).ticks).toEqual([70, 75, 80, 85, 90]);
    expect(niceTicks(74.2, 86, 5).ticks).toEqual([72.5, 75, 77.5, 80, 82.5, 85, 87.5]);
    expect(niceTicks(-0.4, 0.4, 4).ticks).toEqual([-0.4, -0.2, 0, 0.2, 0.4]);
    expect(niceTicks(3, 3).ticks.length).toBeGreaterThan(1);
    expect(integerTicks(1, 40, 10)).toEqual([1, 5, 10, 15, 20, 25, 30, 35, 40]);
    expect(integerTicks(1, 5, 10)).toEqual([1, 2, 3, 4, 5]);
    expect(decimalsFor(0.2)).toBe(1);
    expect(decimalsFor(2.5)).toBe(1);
    expect(decimalsFor(0.025)).toBe(3);
    expect(decimalsFor(10)).toBe(0);
  });

  it('escapes text', () => {
    expect(esc('a<b & "c">')).toBe('a&lt;b &amp; &quot;c&quot;&gt;');
    expect(esc('plain text, 12.5%')).toBe('plain text, 12.5%');
    expect([num(3), num(-0), num(2.5), num(1 / 3), num(1.005, 1), num(NaN), num(1e21)]).toEqual(['3', '0', '2.5', '0.33', '1', '0', '1e+21']);
    // numbers through num, strings escaped, undefined left out, in the object's order
    expect(attrs({ x: 10, y: 2.345, fill: '#fff', title: 'a<b', skip: undefined, 'stroke-width': 0.8 })).toBe(' x="10" y="2.35" fill="#fff" title="a&lt;b" stroke-width="0.8"');
    expect(blueWhiteRed(0)).toBe('#053061');
    expect(blueWhiteRed(0.5)).toBe('#f7f7f7');
    expect(blueWhiteRed(NaN)).toBe('#053061');
  });

  it('stacks panels', () => {
    const a = { width: 10, height: 20, body: '' };
    const b = { width: 30, height: 5, body: '' };
    expect(hstack([a, b], 4)).toMatchObject({ width: 44, height: 20 });
    expect(vstack([a, b], 4)).toMatchObject({ width: 30, height: 29 });
  });

  it('colour maps: white at the middle of the diverging map, readable text', () => {
    expect(blueWhiteRed(0.5)).toBe('#f7f7f7');
    expect(blues(0)).toBe('#f7fbff');
    expect(textOn('#08306b')).toBe('#ffffff');
    expect(textOn('#f7fbff')).toBe('#111111');
  });
});

describe('charts', () => {
  it('a line chart has axes, ticks, axis labels, one line per series and a legend; names are escaped', () => {
    const p = lineChart({ series: [{ name: 'a <b>', points: [[1, 1], [2, 0.5], [3, NaN], [4, 0.2]] }, { name: 'c', points: [[1, 2]] }], xLabel: 'epoch', yLabel: 'loss', xInteger: true, title: 'T' });
    const svg = toSvg(p);
    expect(xmlProblems(svg)).toEqual([]);
    expect(svg).toContain('a &lt;b&gt;');
    expect(svg).toContain('>epoch</text>');
    expect(svg).toContain('>loss</text>');
    expect(svg).toContain('rotate(-90');
    // the NaN splits the first series into one polyline of two points and a lone point; the second series is one point
    expect((svg.match(/<polyline/g) ?? []).length).toBe(1);
    expect((svg.match(/<circle/g) ?? []).length).toBe(3 + 1 + 2);
  });

  it('a heatmap has one cell per entry, annotations and a colour bar with ticks', () => {
    const h = heatmap({ matrix: [[1, 2, 3], [4, 5, 6]], colorMap: blues, vmin: 0, vmax: 6, annotate: String, rowLabels: ['r0', 'r1'], colLabels: ['c0', 'c1', 'c2'], xLabel: 'x', yLabel: 'y' });
    const svg = toSvg(hstack([h, colorBar({ colorMap: blues, vmin: 0, vmax: 6, height: 100, label: 'v' })]));
    expect(xmlProblems(svg)).toEqual([]);
    expect((svg.match(/<rect x="[\d.]+" y="[\d.]+" width="10.05"/g) ?? []).length).toBe(6);
    for (const s of ['>r1</text>', '>c2</text>', '>6</text>', '>v</text>']) expect(svg).toContain(s);
  });

  it('an image grid draws only the lit pixels, grouped by grey level', () => {
    const pixels = new Array(16).fill(0);
    pixels[5] = 1;
    pixels[6] = 1;
    pixels[10] = 0.5;
    const m = imageMarkup({ pixels, rows: 4, cols: 4 }, 0, 0, 2);
    expect(m).toContain('<path fill="#ffffff" d="M1 1h2v1h-2z"/>');
    expect((m.match(/<path/g) ?? []).length).toBe(2);
    const g = imageGrid([{ pixels, rows: 4, cols: 4, caption: [{ text: 'x' }] }, { pixels, rows: 4, cols: 4, caption: [{ text: 'y' }], frame: 'red' }], { columns: 1 });
    expect(g.height).toBeGreaterThan(2 * 12);
    expect(xmlProblems(toSvg(g))).toEqual([]);
  });

  it('the run figures are well-formed', () => {
    const curves = [1, 2, 3].map((e) => ({ phase: 'mnist' as const, epoch: e, trainLoss: 1 / e, valAccuracy: 80 + e, seconds: 1 }));
    const block = Array.from({ length: 20 }, (_, i) => Array.from({ length: 60 }, (_, j) => Math.sin(i + j) / 10));
    const conf = Array.from({ length: 10 }, (_, i) => Array.from({ length: 10 }, (_, j) => (i === j ? 90 : 1)));
    const samples = [{ dataset: 'fashion' as const, pixels: new Array(784).fill(0.5), label: 9, predictedAlone: 9, predictedStitched: 7 }];
    for (const svg of [lossChart(curves), alphaHeatmaps([block, block]), alphaHeatmaps([[[0]], [[0]]]), confusionFigure('fashion', conf, conf, { alone: 90, stitched: 89 }), samplesFigure(samples)]) {
      expect(xmlProblems(svg)).toEqual([]);
      expect(svg).toMatch(/<svg [^>]*width="\d+" height="\d+" viewBox="0 0 \d+ \d+"/);
    }
    expect(samplesFigure(samples)).toContain('stitched: Sneaker ✗');
    expect(confusionFigure('fashion', conf, conf)).toContain('9 Ankle boot');
  });
});
