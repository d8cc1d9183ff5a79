/** Test helpers: temp folders, tiny generated MNIST/Fashion-MNIST IDX files, captured streams, running the CLI in-process. */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodeIdx } from '@xs/crossstitch';
import { runCli } from '../src/cli.js';
import type { Context } from '../src/context.js';
import type { Engine } from '../src/contract.js';
import type { TextStream } from '../src/progress.js';
import { fakeEngine } from './fixtures/fake-engine.js';

const made: string[] = [];

export function tempDir(prefix = 'xs-cli-'): string {
  const d = mkdtempSync(join(tmpdir(), prefix));
  made.push(d);
  return d;
}

export function cleanupTempDirs(): void {
  while (made.length) rmSync(made.pop()!, { recursive: true, force: true });
}

/**
 * Write tiny MNIST and Fashion-MNIST look-alikes (28x28 uint8, labels 0..9) into `<dir>/mnist` and
 * `<dir>/fashion-mnist`: class c is a bright bar whose position depends on c, plus noise, so a net can learn it.
 */
export function writeTinyData(dir: string, sizes = { train: 240, test: 60 }): string {
  let s = 12345;
  const next = (): number => (s = (s * 1103515245 + 12345) % 2147483648) / 2147483648;
  for (const name of ['mnist', 'fashion-mnist'] as const) {
    const d = join(dir, name);
    mkdirSync(d, { recursive: true });
    const make = (n: number, file: string, labelFile: string): void => {
      const labels = new Uint8Array(n);
      const pixels = new Uint8Array(n * 784);
      for (let i = 0; i < n; i++) {
        const c = i % 10;
        labels[i] = c;
        for (let r = 0; r < 28; r++) {
          for (let col = 0; col < 28; col++) {
            const on = name === 'mnist' ? r >= 2 + 2 * c && r < 4 + 2 * c && col > 4 && col < 24 : col >= 2 + 2 * c && col < 4 + 2 * c && r > 4 && r < 24;
            pixels[i * 784 + r * 28 + col] = on ? 200 + Math.floor(next() * 55) : Math.floor(next() * 30);
          }
        }
      }
      writeFileSync(join(d, file), encodeIdx({ type: 'uint8', dims: [n, 28, 28], data: pixels }));
      writeFileSync(join(d, labelFile), encodeIdx({ type: 'uint8', dims: [n], data: labels }));
    };
    make(sizes.train, 'train-images-idx3-ubyte', 'train-labels-idx1-ubyte');
    make(sizes.test, 't10k-images-idx3-ubyte', 't10k-labels-idx1-ubyte');
  }
  return dir;
}

/** A stream that keeps what is written. */
export class Capture implements TextStream {
  text = '';
  constructor(readonly isTTY = false, readonly columns = 120) {}
  write(t: string): boolean {
    this.text += t;
    return true;
  }
}

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** Run the CLI in-process with captured streams, a fake engine by default, and no downloads. */
export async function cli(argv: string[], opts: { engine?: Engine; loadEngine?: () => Promise<Engine>; cwd?: string; env?: Record<string, string | undefined>; signal?: AbortSignal; tty?: boolean } = {}): Promise<CliRun> {
  const stdout = new Capture();
  const stderr = new Capture(opts.tty ?? false);
  const engine = opts.engine ?? fakeEngine();
  const ctx: Context = {
    stdout,
    stderr,
    env: { XS_NO_DOWNLOAD: '1', XDG_CACHE_HOME: join(tmpdir(), 'xs-cli-test-no-cache'), HOME: tmpdir(), ...opts.env },
    cwd: opts.cwd ?? process.cwd(),
    loadEngine: opts.loadEngine ?? (async () => engine),
    version: '0.0.0-test',
    argv,
    ...(opts.signal ? { signal: opts.signal } : {}),
  };
  const code = await runCli(argv, ctx);
  return { code, stdout: stdout.text, stderr: stderr.text };
}

/** A --config file fitting the notebook's slices to the tiny data (240 training examples per dataset). */
export function writeTinyConfig(dir: string): string {
  const path = join(dir, 'tiny-config.json');
  writeFileSync(
    path,
    JSON.stringify({ trainExamples: { mnist: 200, fashion: 200 }, validation: { mnist: [200, 240], fashion: [200, 240], stitch: [200, 240] } }),
  );
  return path;
}

/** A fresh temp folder with tiny data, a --config for it, and the train arguments of a short run. */
export function tinySetup(): { root: string; data: string; out: string; args: string[] } {
  const root = tempDir();
  const data = writeTinyData(join(root, 'data'));
  const out = join(root, 'runs');
  const args = ['--data-dir', data, '--config', writeTinyConfig(root), '--out', out, '--epochs', '2,2,3', '--batches', '3,3,2', '--batch-size', '20', '--samples', '40', '--no-verify'];
  return { root, data, out, args };
}

/** The run folder a text-mode train printed. */
export function runDirOf(stdout: string): string {
  const m = /^Run folder: (.+)$/m.exec(stdout);
  if (!m) throw new Error(`no "Run folder:" line in:\n${stdout}`);
  return m[1]!;
}
