import { afterEach, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import {
  IDX_IMAGES_MAGIC,
  IDX_LABELS_MAGIC,
  IdxFormatError,
  decodeImages,
  decodeLabels,
  encodeIdx,
  isGzip,
  parseIdx,
  readIdxFile,
  readIdxImages,
  readIdxLabels,
  readIdxPair,
  writeIdxFile,
} from '../src/index.js';
import { cleanupTempDirs, tempDir } from './helpers.js';

afterEach(cleanupTempDirs);

const labels = (xs: number[]) => ({ type: 'uint8' as const, dims: [xs.length], data: Uint8Array.from(xs) });
const images = (n: number, r: number, c: number) => ({ type: 'uint8' as const, dims: [n, r, c], data: Uint8Array.from({ length: n * r * c }, (_, i) => (i * 37) % 256) });

describe('IDX encode/parse', () => {
  it('writes the header by hand-checkable bytes', () => {
    const b = encodeIdx(labels([1, 2, 255]));
    expect([...b]).toEqual([0, 0, 8, 1, 0, 0, 0, 3, 1, 2, 255]);
    const img = encodeIdx(images(2, 3, 4));
    expect([...img.subarray(0, 16)]).toEqual([0, 0, 8, 3, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0, 4]);
    expect(img.length).toBe(16 + 24);
  });

  it('round-trips every element type, raw and gzip', () => {
    const cases = [
      { type: 'uint8' as const, dims: [2, 2], data: Uint8Array.from([0, 1, 128, 255]) },
      { type: 'int8' as const, dims: [3], data: Int8Array.from([-128, 0, 127]) },
      { type: 'int16' as const, dims: [2], data: Int16Array.from([-32768, 32767]) },
      { type: 'int32' as const, dims: [1, 2], data: Int32Array.from([-(2 ** 31), 2 ** 31 - 1]) },
      { type: 'float32' as const, dims: [2], data: Float32Array.from([1.5, -0.25]) },
      { type: 'float64' as const, dims: [2], data: Float64Array.from([Math.PI, -1e300]) },
    ];
    for (const c of cases) {
      for (const gzip of [false, true]) {
        const bytes = encodeIdx(c, { gzip });
        expect(isGzip(bytes)).toBe(gzip);
        const back = parseIdx(bytes);
        expect(back.type).toBe(c.type);
        expect(back.dims).toEqual(c.dims);
        expect([...back.data]).toEqual([...c.data]);
      }
    }
  });

  it('round-trips random uint8 arrays (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 255 }), { maxLength: 200 }), fc.boolean(), (xs, gzip) => {
        const back = parseIdx(encodeIdx(labels(xs), { gzip }), { expectMagic: IDX_LABELS_MAGIC });
        expect([...back.data]).toEqual(xs);
      }),
      { numRuns: 50 },
    );
  });

  it('decodes images to float32 in [0,1] with shape [n, 784] or [n, r, c]', () => {
    const bytes = encodeIdx({ type: 'uint8', dims: [2, 28, 28], data: Uint8Array.from({ length: 2 * 784 }, (_, i) => i % 256) });
    const flat = decodeImages(bytes);
    expect(flat.shape).toEqual([2, 784]);
    expect(flat.data).toBeInstanceOf(Float32Array);
    expect(flat.data[0]).toBe(0);
    expect(flat.data[255]).toBe(1);
    expect(flat.data[51]).toBeCloseTo(51 / 255, 7);
    for (let b = 0; b < 256; b++) expect(flat.data[b]).toBe(Math.fround(b / 255)); // the lookup table is exact
    expect(flat.data.buffer).toBeInstanceOf(SharedArrayBuffer); // worker threads read it in place
    expect(decodeImages(bytes, { layout: 'grid' }).shape).toEqual([2, 28, 28]);
    expect(() => decodeImages(bytes, { file: 'x', expectSize: [4, 4] })).toThrow(/x: images are 28x28, expected 4x4/);
  });

  it('decodes labels to int32 and checks the class range when asked', () => {
    const l = decodeLabels(encodeIdx(labels([3, 9, 0])));
    expect(l).toBeInstanceOf(Int32Array);
    expect([...l]).toEqual([3, 9, 0]);
    expect(() => decodeLabels(encodeIdx(labels([3, 12])), { file: 'lab', numClasses: 10 })).toThrow(/lab: label 12 at index 1 is outside \[0, 10\)/);
  });

  it('rejects bad element values on encode', () => {
    expect(() => encodeIdx({ type: 'uint8', dims: [2], data: Float32Array.from([1, 300]) })).toThrow(/does not fit uint8/);
    expect(() => encodeIdx({ type: 'uint8', dims: [3], data: Uint8Array.from([1, 2]) })).toThrow(/do not fill/);
  });
});

describe('IDX corruption is a clear error naming the file', () => {
  const good = encodeIdx(images(2, 3, 3));

  it('wrong magic (labels given where images expected, and garbage)', () => {
    const lab = encodeIdx(labels([1, 2]));
    expect(() => decodeImages(lab, { file: 'train-images' })).toThrow(IdxFormatError);
    expect(() => decodeImages(lab, { file: 'train-images' })).toThrow(/train-images: wrong magic number 0x00000801, expected 0x00000803/);
    expect(() => decodeLabels(good, { file: 'lbl' })).toThrow(/lbl: wrong magic number 0x00000803, expected 0x00000801/);
    const garbage = new TextEncoder().encode('<html>not found</html>');
    expect(() => parseIdx(garbage, { file: 'page.html' })).toThrow(/page.html: wrong magic number 0x3c68746d: not an IDX file/);
    expect(() => parseIdx(Uint8Array.from([0, 0, 0x42, 1, 0, 0, 0, 0]), { file: 'f' })).toThrow(/unknown IDX element type 0x42/);
  });

  it('truncated data, truncated header, too short for a magic', () => {
    expect(() => parseIdx(good.subarray(0, good.length - 1), { file: 'cut', expectMagic: IDX_IMAGES_MAGIC })).toThrow(
      /cut: truncated: dimensions \[2, 3, 3\] of uint8 need 34 bytes, the file has 33/,
    );
    expect(() => parseIdx(good.subarray(0, 10), { file: 'cut' })).toThrow(/cut: truncated: 10 bytes, the header of a 3-dimensional IDX file needs 16/);
    expect(() => parseIdx(good.subarray(0, 3), { file: 'cut' })).toThrow(/too short for an IDX magic number/);
  });

  it('trailing bytes', () => {
    const extra = new Uint8Array(good.length + 5);
    extra.set(good);
    expect(() => parseIdx(extra, { file: 'long' })).toThrow(/long: 5 trailing bytes after the data/);
  });

  it('truncated or corrupt gzip', () => {
    const gz = encodeIdx(images(20, 28, 28), { gzip: true });
    expect(() => parseIdx(gz.subarray(0, gz.length - 20), { file: 'a.gz' })).toThrow(/a.gz: corrupt or truncated gzip data/);
    const bad = gz.slice();
    bad[gz.length >> 1] ^= 0xff;
    expect(() => parseIdx(bad, { file: 'b.gz' })).toThrow(/b.gz: corrupt or truncated gzip data/);
    // a valid gzip stream of a truncated IDX file: the IDX check still fires
    const innerCut = new Uint8Array(gzipSync(good.subarray(0, 20)));
    expect(() => parseIdx(innerCut, { file: 'c.gz' })).toThrow(/c.gz: truncated/);
  });

  it('count mismatch between images and labels names both files', () => {
    const dir = tempDir();
    writeIdxFile(join(dir, 'imgs'), images(3, 2, 2));
    writeIdxFile(join(dir, 'labs.gz'), labels([1, 2]), { gzip: true });
    expect(() => readIdxPair(join(dir, 'imgs'), join(dir, 'labs.gz'))).toThrow(/imgs: count mismatch: 3 images but .*labs.gz has 2 labels/);
  });
});

describe('IDX files on disk', () => {
  it('writes atomically (no temp files left) and reads back raw and gzip', () => {
    const dir = tempDir();
    writeIdxFile(join(dir, 'i'), images(2, 28, 28));
    writeIdxFile(join(dir, 'i.gz'), images(2, 28, 28), { gzip: true });
    writeIdxFile(join(dir, 'l.gz'), labels([4, 2]), { gzip: true });
    expect(readdirSync(dir).sort()).toEqual(['i', 'i.gz', 'l.gz']);
    expect(readFileSync(join(dir, 'i.gz'))[0]).toBe(0x1f);
    expect(readIdxImages(join(dir, 'i')).data).toEqual(readIdxImages(join(dir, 'i.gz')).data);
    expect([...readIdxLabels(join(dir, 'l.gz'))]).toEqual([4, 2]);
    const { images: im, labels: lb } = readIdxPair(join(dir, 'i.gz'), join(dir, 'l.gz'), { layout: 'grid' });
    expect(im.shape).toEqual([2, 28, 28]);
    expect(lb.length).toBe(2);
    expect(readIdxFile(join(dir, 'l.gz'), { expectMagic: IDX_LABELS_MAGIC }).dims).toEqual([2]);
  });

  it('a file error names the path', () => {
    const dir = tempDir();
    const p = join(dir, 'broken-labels');
    writeFileSync(p, Uint8Array.from([0, 0, 8, 1, 0, 0, 0, 9, 1]));
    expect(() => readIdxLabels(p)).toThrow(new RegExp(`${p}: truncated`));
  });
});
