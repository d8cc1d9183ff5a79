/** verifyBytes: each way a stored file can match its known hashes, and the file's own hash when asked for. */
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { ChecksumError, verifyBytes } from '../src/index.js';
import { sha256, syntheticDataset } from './helpers.js';

describe('verifyBytes', () => {
  const { spec, raw, gz } = syntheticDataset('mnist', 7);
  const f = spec.files.trainImages;

  it('raw bytes, the canonical gzip, and a recompressed gzip (checked by its content) all verify, with the file hash on demand', () => {
    const recompressed = new Uint8Array(gzipSync(raw.trainImages, { level: 1 }));
    expect(recompressed.length).not.toBe(f.gzBytes); // (else this would not test the content path)
    for (const [bytes, as] of [[raw.trainImages, 'raw'], [gz.trainImages, 'gzip'], [recompressed, 'gzip-content']] as const) {
      const v = verifyBytes(bytes, f, 'train-images');
      expect(v.verifiedAs).toBe(as);
      expect(Array.from(v.raw)).toEqual(Array.from(raw.trainImages));
      expect(v.fileSha256).toBe(sha256(bytes));
    }
    expect(verifyBytes(recompressed, f, 'x', false)).toMatchObject({ verifiedAs: 'unchecked', fileSha256: sha256(recompressed) });
  });

  it('a wrong file is a ChecksumError with the expected and the actual hash', () => {
    const bad = raw.trainImages.slice();
    bad[bad.length - 1] ^= 1;
    expect(() => verifyBytes(bad, f, 'train-images')).toThrow(ChecksumError);
    expect(() => verifyBytes(bad, f, 'train-images')).toThrow(`expected ${f.rawSha256}, got ${sha256(bad)}`);
    const badGz = new Uint8Array(gzipSync(bad));
    expect(() => verifyBytes(badGz, f, 'train-images.gz')).toThrow(`got ${sha256(bad)} (of the decompressed content`);
  });
});
