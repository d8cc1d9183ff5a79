/** Test helpers: temp folders and a tiny synthetic dataset with its own spec and hashes. */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { createHash } from 'node:crypto';
import { type DatasetName, type DatasetSpec, type FileRole, FILE_ROLES, encodeIdx } from '../src/index.js';

const made: string[] = [];

/** A fresh temp folder, removed by `cleanupTempDirs()`. */
export function tempDir(prefix = 'xs-cs-'): string {
  const d = mkdtempSync(join(tmpdir(), prefix));
  made.push(d);
  return d;
}

export function cleanupTempDirs(): void {
  while (made.length) rmSync(made.pop()!, { recursive: true, force: true });
}

export const sha256 = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

/** A tiny dataset: 3 training and 2 test images of 4x4 pixels, labels in [0, 10). */
export interface Synthetic {
  spec: DatasetSpec;
  raw: Record<FileRole, Uint8Array>;
  gz: Record<FileRole, Uint8Array>;
}

export function syntheticDataset(name: DatasetName = 'mnist', seed = 1): Synthetic {
  const rows = 4;
  const cols = 4;
  const nTrain = 3;
  const nTest = 2;
  let s = seed;
  const next = (): number => (s = (s * 1103515245 + 12345) % 2147483648) % 256;
  const images = (n: number): Uint8Array => Uint8Array.from({ length: n * rows * cols }, () => next());
  const labels = (n: number): Uint8Array => Uint8Array.from({ length: n }, () => next() % 10);
  const raw: Record<FileRole, Uint8Array> = {
    trainImages: encodeIdx({ type: 'uint8', dims: [nTrain, rows, cols], data: images(nTrain) }),
    trainLabels: encodeIdx({ type: 'uint8', dims: [nTrain], data: labels(nTrain) }),
    testImages: encodeIdx({ type: 'uint8', dims: [nTest, rows, cols], data: images(nTest) }),
    testLabels: encodeIdx({ type: 'uint8', dims: [nTest], data: labels(nTest) }),
  };
  const gz = Object.fromEntries(FILE_ROLES.map((r) => [r, new Uint8Array(gzipSync(raw[r]))])) as Record<FileRole, Uint8Array>;
  const names: Record<FileRole, string> = {
    trainImages: 'train-images-idx3-ubyte',
    trainLabels: 'train-labels-idx1-ubyte',
    testImages: 't10k-images-idx3-ubyte',
    testLabels: 't10k-labels-idx1-ubyte',
  };
  const counts: Record<FileRole, number> = { trainImages: nTrain, trainLabels: nTrain, testImages: nTest, testLabels: nTest };
  const files = Object.fromEntries(
    FILE_ROLES.map((role) => [
      role,
      {
        role,
        name: names[role],
        altNames: [names[role].replace('-idx', '.idx')],
        count: counts[role],
        rawBytes: raw[role].length,
        rawSha256: sha256(raw[role]),
        gzBytes: gz[role].length,
        gzSha256: sha256(gz[role]),
      },
    ]),
  ) as unknown as DatasetSpec['files'];
  const spec: DatasetSpec = {
    name,
    title: `synthetic ${name}`,
    files,
    mirrors: ['https://mirror-a.invalid/data/', 'https://mirror-b.invalid/data/'],
    classes: ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'],
    imageSize: [rows, cols],
  };
  return { spec, raw, gz };
}

/** Write a synthetic dataset's files into `dir` (raw, gzip, or only some roles). */
export function writeSynthetic(dir: string, syn: Synthetic, form: 'raw' | 'gz' = 'raw', roles: readonly FileRole[] = FILE_ROLES): string {
  mkdirSync(dir, { recursive: true });
  for (const role of roles) {
    const f = syn.spec.files[role];
    writeFileSync(join(dir, form === 'gz' ? `${f.name}.gz` : f.name), form === 'gz' ? syn.gz[role] : syn.raw[role]);
  }
  return dir;
}

/** A fetch double serving `files` (URL -> bytes) from memory in chunks; other URLs are 404. Records calls. */
export function memoryFetch(files: Record<string, Uint8Array>, opts: { chunk?: number; contentLength?: boolean } = {}) {
  const calls: string[] = [];
  const fetch = async (url: string) => {
    calls.push(url);
    const body = files[url];
    if (!body) return { ok: false, status: 404, statusText: 'Not Found', headers: { get: () => null }, body: null };
    const chunk = opts.chunk ?? 7;
    async function* gen() {
      for (let i = 0; i < body!.length; i += chunk) yield body!.subarray(i, i + chunk);
    }
    return {
      ok: true,
      status: 200,
      statusText: 'OK',
      headers: { get: (h: string) => (h.toLowerCase() === 'content-length' && opts.contentLength !== false ? String(body.length) : null) },
      body: gen(),
    };
  };
  return { fetch, calls };
}

/** A stream double capturing what is written. */
export function captureStream(isTTY = false) {
  const chunks: string[] = [];
  return { stream: { isTTY, write: (s: string) => chunks.push(s) }, text: () => chunks.join('') };
}
