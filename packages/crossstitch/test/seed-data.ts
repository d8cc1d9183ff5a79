/** Small generated stand-ins for MNIST and Fashion-MNIST with learnable structure, for seed-experiment tests. */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { encodeIdx, makeSplit, type SeedData, type SeedConfigInput } from '../src/index.js';

/** A deterministic LCG in [0, 1). */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 4294967296;
  };
}

/**
 * `count` 784-pixel examples: background noise in [0, 0.3), and the pixels of the example's class pattern lit
 * (`band`: a horizontal band of rows per class, like a crude digit; `stripes`: every tenth column offset by
 * the class, like a crude texture).
 */
function makeExamples(count: number, kind: 'band' | 'stripes', seed: number) {
  const r = rng(seed);
  const images = new Float32Array(count * 784);
  const labels = new Int32Array(count);
  for (let i = 0; i < count; i++) {
    const c = Math.floor(r() * 10);
    labels[i] = c;
    for (let p = 0; p < 784; p++) {
      const lit = kind === 'band' ? Math.floor(p / 78.4) === c : p % 10 === c;
      images[i * 784 + p] = lit ? 0.7 + 0.3 * r() : 0.3 * r();
    }
  }
  return makeSplit(images, labels, 784);
}

/** Generated data: `train` training and `test` test examples per dataset. */
export function tinySeedData(train = 600, test = 100): { mnist: SeedData; fashion: SeedData } {
  return {
    mnist: { train: makeExamples(train, 'band', 1), test: makeExamples(test, 'band', 2) },
    fashion: { train: makeExamples(train, 'stripes', 3), test: makeExamples(test, 'stripes', 4) },
  };
}

/** A small run's configuration over {@link tinySeedData} (the notebook's slices scaled down). */
export const TINY_CONFIG: SeedConfigInput = {
  seed: 3,
  lr: 0.03,
  batchSize: 50,
  epochs: { mnist: 2, fashion: 2, stitch: 3 },
  batchesPerEpoch: { mnist: 30, fashion: 36, stitch: 4 },
  trainExamples: { mnist: 500, fashion: 600 },
  validation: { mnist: [500, 600], fashion: [300, 400], stitch: [300, 400] },
  stitchSamples: 200,
};

/**
 * {@link tinySeedData} written as IDX files (28×28 uint8, each pixel rounded to a byte) into `<dir>/mnist` and
 * `<dir>/fashion-mnist`, for runs that load their data (with `verify: false`: the hashes are not MNIST's).
 */
export function writeTinySeedFiles(dir: string, train = 600, test = 100): void {
  const data = tinySeedData(train, test);
  for (const [name, d] of [['mnist', data.mnist], ['fashion-mnist', data.fashion]] as const) {
    const folder = join(dir, name);
    mkdirSync(folder, { recursive: true });
    for (const [prefix, split] of [['train', d.train], ['t10k', d.test]] as const) {
      const pixels = Uint8Array.from(split.images, (v) => Math.round(v * 255));
      writeFileSync(join(folder, `${prefix}-images-idx3-ubyte`), encodeIdx({ type: 'uint8', dims: [split.count, 28, 28], data: pixels }));
      writeFileSync(join(folder, `${prefix}-labels-idx1-ubyte`), encodeIdx({ type: 'uint8', dims: [split.count], data: Uint8Array.from(split.labels) }));
    }
  }
}
