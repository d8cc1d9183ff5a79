/**
 * Generated stand-ins for MNIST / Fashion-MNIST (784 "pixels" in [0, 1], 10 classes) with learnable structure,
 * for the examples' small modes: no download, a few milliseconds to make.
 */
import { type Split, makeSplit } from '@xs/crossstitch';

/** A deterministic LCG in [0, 1). */
function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 4294967296;
  };
}

/**
 * `count` examples: background noise in [0, 0.4) and the pixels of the example's class pattern lit (`digits`: a
 * horizontal band of rows per class, like a crude digit; `garments`: every tenth column offset by the class,
 * like a crude texture).
 */
export function syntheticSplit(count: number, kind: 'digits' | 'garments', seed: number): Split {
  const r = lcg(seed);
  const images = new Float32Array(count * 784);
  const labels = new Int32Array(count);
  for (let i = 0; i < count; i++) {
    const c = Math.floor(r() * 10);
    labels[i] = c;
    for (let p = 0; p < 784; p++) {
      const lit = kind === 'digits' ? Math.floor(p / 78.4) === c : p % 10 === c;
      images[i * 784 + p] = lit ? 0.6 + 0.4 * r() : 0.4 * r();
    }
  }
  return makeSplit(images, labels, 784);
}
