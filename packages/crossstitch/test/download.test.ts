import { afterEach, describe, expect, it } from 'vitest';
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ChecksumError, DownloadError, ProgressBar, downloadVerified, fileUrls, DATASETS, formatBytes } from '../src/index.js';
import { captureStream, cleanupTempDirs, memoryFetch, sha256, tempDir } from './helpers.js';

afterEach(cleanupTempDirs);

const payload = Uint8Array.from({ length: 1000 }, (_, i) => (i * 7) % 251);
const url = 'https://files.invalid/x.gz';

describe('downloadVerified', () => {
  it('streams to the destination, verified, with no temp file left', async () => {
    const dir = tempDir();
    const dest = join(dir, 'sub', 'x.gz');
    const { fetch } = memoryFetch({ [url]: payload }, { chunk: 64 });
    const r = await downloadVerified({ urls: [url], dest, sha256: sha256(payload), fetch, progress: null });
    expect(r).toEqual({ url, bytes: 1000, sha256: sha256(payload) });
    expect(new Uint8Array(readFileSync(dest))).toEqual(payload);
    expect(readdirSync(join(dir, 'sub'))).toEqual(['x.gz']);
  });

  it('works with a real fetch Response (web ReadableStream body)', async () => {
    const dir = tempDir();
    const dest = join(dir, 'y');
    const fetch = async () => new Response(payload, { headers: { 'content-length': String(payload.length) } });
    await downloadVerified({ urls: [url], dest, sha256: sha256(payload), fetch, progress: null });
    expect(new Uint8Array(readFileSync(dest))).toEqual(payload);
  });

  it('checksum mismatch: ChecksumError inside a DownloadError, destination untouched, temp file removed', async () => {
    const dir = tempDir();
    const dest = join(dir, 'x.gz');
    writeFileSync(dest, 'previous good content');
    const { fetch } = memoryFetch({ [url]: payload });
    const wrong = '0'.repeat(64);
    const err = await downloadVerified({ urls: [url], dest, sha256: wrong, size: 999, fetch, progress: null }).catch((e) => e);
    expect(err).toBeInstanceOf(DownloadError);
    const cause = (err as DownloadError).causes[0]!.error as ChecksumError;
    expect(cause).toBeInstanceOf(ChecksumError);
    expect(cause.expected).toBe(wrong);
    expect(cause.actual).toBe(sha256(payload));
    expect(err.message).toContain(`\n  ${url}: SHA-256 mismatch: expected ${wrong}, got ${sha256(payload)} (download for ${dest} discarded; received 1000 bytes, expected 999)`);
    expect(readFileSync(dest, 'utf8')).toBe('previous good content');
    expect(readdirSync(dir)).toEqual(['x.gz']);
  });

  it('falls back to the next URL after an HTTP error or a network failure', async () => {
    const dir = tempDir();
    const dest = join(dir, 'x.gz');
    const calls: string[] = [];
    const fetch = async (u: string) => {
      calls.push(u);
      if (u.includes('down')) throw new Error('ECONNREFUSED');
      return memoryFetch({ [url]: payload }).fetch(u);
    };
    const r = await downloadVerified({ urls: ['https://down.invalid/x.gz', 'https://files.invalid/missing.gz', url], dest, sha256: sha256(payload), fetch, progress: null });
    expect(r.url).toBe(url);
    expect(calls).toHaveLength(3);
  });

  it('every URL failing lists each cause', async () => {
    const dir = tempDir();
    const { fetch } = memoryFetch({});
    const err = await downloadVerified({ urls: ['https://a.invalid/f', 'https://b.invalid/f'], dest: join(dir, 'f'), sha256: 'x', fetch, progress: null }).catch((e) => e);
    expect(err).toBeInstanceOf(DownloadError);
    expect(err.message).toBe(`could not download ${join(dir, 'f')}:\n  https://a.invalid/f: HTTP 404 Not Found\n  https://b.invalid/f: HTTP 404 Not Found`);
    expect(existsSync(join(dir, 'f'))).toBe(false);
  });

  it('a body that breaks midway leaves nothing behind', async () => {
    const dir = tempDir();
    mkdirSync(dir, { recursive: true });
    const fetch = async () => ({
      ok: true,
      status: 200,
      headers: { get: () => '100' },
      body: (async function* () {
        yield new Uint8Array(10);
        throw new Error('connection reset');
      })(),
    });
    const err = await downloadVerified({ urls: [url], dest: join(dir, 'f'), sha256: 'x', fetch, progress: null }).catch((e) => e);
    expect(err.message).toContain('connection reset');
    expect(readdirSync(dir)).toEqual([]);
  });
});

describe('progress bar on stderr', () => {
  it('draws a bar in place on a terminal, ending at 100%', async () => {
    const dir = tempDir();
    const cap = captureStream(true);
    const { fetch } = memoryFetch({ [url]: payload }, { chunk: 100 });
    await downloadVerified({ urls: [url], dest: join(dir, 'x'), sha256: sha256(payload), fetch, progress: cap.stream, label: 'mnist x.gz' });
    const out = cap.text();
    expect(out.startsWith('\rmnist x.gz [')).toBe(true);
    expect(out).toContain('\rmnist x.gz [==============================] 100% 1.0 kB / 1.0 kB');
    expect(out.endsWith('\n')).toBe(true);
  });

  it('writes a few lines when not a terminal (start, quarters, done)', async () => {
    const dir = tempDir();
    const cap = captureStream(false);
    const { fetch } = memoryFetch({ [url]: payload }, { chunk: 100 });
    await downloadVerified({ urls: [url], dest: join(dir, 'x'), sha256: sha256(payload), fetch, progress: cap.stream, label: 'L' });
    expect(cap.text()).toBe(
      'L: downloading 1.0 kB\nL: 25% (300 B / 1.0 kB)\nL: 50% (500 B / 1.0 kB)\nL: 75% (800 B / 1.0 kB)\nL: done, 1.0 kB\n',
    );
  });

  it('reports a failure on the bar', async () => {
    const dir = tempDir();
    const cap = captureStream(false);
    const { fetch } = memoryFetch({ [url]: payload });
    await downloadVerified({ urls: [url], dest: join(dir, 'x'), sha256: 'f'.repeat(64), fetch, progress: cap.stream, label: 'L' }).catch(() => {});
    expect(cap.text()).toMatch(/L: failed: .*SHA-256 mismatch/);
  });

  it('renders without a known total, and partial fills', () => {
    const cap = captureStream(true);
    const bar = new ProgressBar(cap.stream, 'x');
    bar.update(2048);
    expect(bar.render()).toBe('x 2.0 kB');
    const bar2 = new ProgressBar(captureStream(true).stream, 'y', 100, 10);
    bar2.update(45);
    expect(bar2.render()).toBe('y [====>     ]  45% 45 B / 100 B');
    expect(formatBytes(9912422)).toBe('9.9 MB');
  });
});

describe('download table', () => {
  it('lists the canonical mirrors, first the PyTorch S3 mirror for MNIST and Zalando S3 for Fashion-MNIST', () => {
    expect(fileUrls(DATASETS.mnist, 'trainImages')).toEqual([
      'https://ossci-datasets.s3.amazonaws.com/mnist/train-images-idx3-ubyte.gz',
      'https://storage.googleapis.com/cvdf-datasets/mnist/train-images-idx3-ubyte.gz',
      'http://yann.lecun.com/exdb/mnist/train-images-idx3-ubyte.gz',
    ]);
    expect(fileUrls(DATASETS['fashion-mnist'], 'testLabels')[0]).toBe('http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/t10k-labels-idx1-ubyte.gz');
    expect(fileUrls(DATASETS['fashion-mnist'], 'testLabels')[1]).toBe('https://raw.githubusercontent.com/zalandoresearch/fashion-mnist/master/data/fashion/t10k-labels-idx1-ubyte.gz');
  });
});
