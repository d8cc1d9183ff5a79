/**
 * The seed notebook's networks, for `eval`: checks of a checkpoint's structure, and predictions of a net
 * (`predict` of @xs/crossstitch: sigmoid hidden layers, softmax output without bias) in chunks, for a
 * single-task net or the stitched one (`composeParameters`).
 */
import { composeParameters, predict } from '@xs/crossstitch';
import { type Tensor, fromTypedArray, numpy as np } from '@xs/tensor';
import type { NetParams } from './contract.js';

export { composeParameters };

/** Check a net's structure: three [W, b] layers, W [out, in], b [out]. Returns the layer sizes. */
export function netSizes(p: NetParams, what: string): number[] {
  if (!Array.isArray(p) || p.length !== 3) throw new RangeError(`${what}: expected 3 layers [[W0,b0],[W1,b1],[W2,b2]], got ${Array.isArray(p) ? p.length : typeof p}`);
  const sizes = [p[0]![0].shape[1]!];
  p.forEach(([w, b], i) => {
    if (w.ndim !== 2 || b.ndim !== 1 || b.shape[0] !== w.shape[0]) throw new RangeError(`${what}: layer ${i} has W [${w.shape.join(', ')}] and b [${b.shape.join(', ')}]`);
    if (w.shape[1] !== sizes[i]) throw new RangeError(`${what}: layer ${i} takes ${w.shape[1]} inputs, the previous layer gives ${sizes[i]}`);
    sizes.push(w.shape[0]!);
  });
  return sizes;
}

/** Predicted class of each image (row-major `[n, features]` pixels), in chunks of `chunk`. */
export function predictClasses(p: NetParams, images: Float32Array, features: number, chunk = 2000): Int32Array {
  const n = images.length / features;
  const out = new Int32Array(n);
  for (let s = 0; s < n; s += chunk) {
    const e = Math.min(n, s + chunk);
    const x = fromTypedArray(images.subarray(s * features, e * features), [e - s, features], 'float32');
    const pred = np.argmax(predict(p, x), 1).data();
    for (let i = 0; i < e - s; i++) out[s + i] = Number(pred[i]);
  }
  return out;
}

/** A tensor as nested number rows (2-D) for pictures and JSON. */
export function toRows(t: Tensor): number[][] {
  if (t.ndim !== 2) throw new RangeError(`toRows: expected a 2-D tensor, got [${t.shape.join(', ')}]`);
  const [r, c] = t.shape as [number, number];
  const d = t.data();
  return Array.from({ length: r }, (_, i) => Array.from({ length: c }, (_, j) => Number(d[i * c + j])));
}

/**
 * The first `n` test images of each dataset with the label and both nets' predictions (for samples.svg).
 * @example sampleImages(result.params, data, 8)
 */
export function sampleImages(
  params: { mnist: NetParams; fashion: NetParams; alpha: NetParams },
  data: { mnist: { test: { images: Float32Array; labels: Int32Array; features: number; count: number } }; fashion: { test: { images: Float32Array; labels: Int32Array; features: number; count: number } } },
  n = 8,
): { dataset: 'mnist' | 'fashion'; pixels: number[]; label: number; predictedAlone: number; predictedStitched: number }[] {
  const stitched = composeParameters(params.mnist, params.fashion, params.alpha);
  const out: { dataset: 'mnist' | 'fashion'; pixels: number[]; label: number; predictedAlone: number; predictedStitched: number }[] = [];
  for (const task of ['mnist', 'fashion'] as const) {
    const t = data[task].test;
    const k = Math.min(n, t.count);
    const imgs = t.images.subarray(0, k * t.features);
    const alone = predictClasses(params[task], imgs, t.features);
    const st = predictClasses(stitched, imgs, t.features);
    for (let i = 0; i < k; i++) out.push({ dataset: task, pixels: Array.from(imgs.subarray(i * t.features, (i + 1) * t.features)), label: t.labels[i]!, predictedAlone: alone[i]!, predictedStitched: st[i]! });
  }
  return out;
}
