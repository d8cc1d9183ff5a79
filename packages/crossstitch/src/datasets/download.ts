/**
 * Downloading a file to disk: streamed to a temporary file next to the destination while its SHA-256 is
 * computed and a progress bar drawn on stderr, then fsynced and renamed into place only when the hash is the
 * expected one. The fetch function is injectable, so tests serve bytes from memory.
 */
import { closeSync, fsyncSync, mkdirSync, openSync, renameSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { createHash } from 'node:crypto';
import { discardTemp, fsyncDir, tempPathFor } from '../util/atomic.js';
import { ChecksumError } from './verify.js';

/** The part of a fetch `Response` that downloads use. */
export interface FetchResponseLike {
  /** True for a 2xx status. */
  readonly ok: boolean;
  /** HTTP status code. */
  readonly status: number;
  /** HTTP status text. */
  readonly statusText?: string;
  /** Response headers (only `content-length` is read). */
  readonly headers: {
    /**
     * The header's value, or null when absent (`name` case-insensitive).
     * @example
     * Number(res.headers.get('content-length') ?? 0);
     */
    get(name: string): string | null;
  };
  /** The body: a web `ReadableStream` or any async iterable of byte chunks. */
  readonly body: unknown;
}

/**
 * A `fetch`-like function: the global `fetch` fits, and so does a test double serving bytes from memory.
 * @example const fetchFromMemory: FetchLike = async () => new Response(bytes);
 */
export type FetchLike = (url: string, init?: { signal?: AbortSignal }) => Promise<FetchResponseLike>;

/** Where progress goes: `process.stderr` by default; a TTY gets a redrawn bar, anything else a few lines. */
export interface ProgressStream {
  /**
   * Write text.
   * @example
   * stream.write('mnist: downloading 9.9 MB\n');
   */
  write(text: string): unknown;
  /** Whether the stream is a terminal (a bar redrawn in place with `\r`). */
  readonly isTTY?: boolean;
}

/** Bytes as a short human-readable size. @example formatBytes(9912422) // '9.9 MB' */
export function formatBytes(n: number): string {
  if (n < 1000) return `${n} B`;
  if (n < 1e6) return `${(n / 1e3).toFixed(1)} kB`;
  if (n < 1e9) return `${(n / 1e6).toFixed(1)} MB`;
  return `${(n / 1e9).toFixed(2)} GB`;
}

/**
 * A download progress bar. On a terminal it redraws one line (`label [=====>    ]  45% 4.5 MB / 9.9 MB`);
 * elsewhere it writes a line at the start, at each quarter and at the end, so logs stay short.
 * @example
 * const bar = new ProgressBar(process.stderr, 'mnist train-images', 9912422);
 * bar.update(4096); bar.finish();
 */
export class ProgressBar {
  private received = 0;
  private lastDraw = 0;
  private lastQuarter = 0;
  private finished = false;

  /**
   * Start a bar, writing its first line (or drawing it on a terminal).
   * @param stream Where it is written.
   * @param label What is downloading, shown before the bar.
   * @param total Expected bytes (from `content-length`); without it, only the bytes received are shown.
   * @param width Width of the bar in characters (default 30).
   * @example
   * const bar = new ProgressBar(process.stderr, 'mnist train-images', 9912422);
   */
  constructor(
    private readonly stream: ProgressStream,
    private readonly label: string,
    private readonly total?: number,
    private readonly width = 30,
  ) {
    if (!stream.isTTY) stream.write(`${label}: downloading${total ? ` ${formatBytes(total)}` : ''}\n`);
    else this.draw();
  }

  /**
   * Count `n` more bytes received.
   * @example
   * bar.update(chunk.byteLength);
   */
  update(n: number): void {
    this.received += n;
    if (this.stream.isTTY) {
      const now = Date.now();
      if (now - this.lastDraw >= 100 || (this.total !== undefined && this.received >= this.total)) this.draw();
    } else if (this.total) {
      const quarter = Math.floor((4 * Math.min(this.received, this.total)) / this.total);
      if (quarter > this.lastQuarter && quarter < 4) {
        this.lastQuarter = quarter;
        this.stream.write(`${this.label}: ${quarter * 25}% (${formatBytes(this.received)} / ${formatBytes(this.total)})\n`);
      }
    }
  }

  /**
   * The text of the bar as it stands (without `\r`).
   * @example
   * bar.render(); // 'mnist train-images [=============>                ]  45% 4.5 MB / 9.9 MB'
   */
  render(): string {
    if (!this.total) return `${this.label} ${formatBytes(this.received)}`;
    const frac = Math.min(this.received / this.total, 1);
    const filled = Math.round(frac * this.width);
    const bar = '='.repeat(Math.max(filled - 1, 0)) + (filled > 0 ? (filled === this.width ? '=' : '>') : '') + ' '.repeat(this.width - filled);
    return `${this.label} [${bar}] ${(frac * 100).toFixed(0).padStart(3)}% ${formatBytes(this.received)} / ${formatBytes(this.total)}`;
  }

  private draw(): void {
    this.lastDraw = Date.now();
    this.stream.write(`\r${this.render()}`);
  }

  /**
   * End the bar: `ok` says whether the download succeeded (a failure note is written otherwise).
   * @example
   * bar.finish(false, 'HTTP 404');
   */
  finish(ok = true, note = ''): void {
    if (this.finished) return;
    this.finished = true;
    if (this.stream.isTTY) {
      this.draw();
      this.stream.write(ok ? `${note ? ` ${note}` : ''}\n` : ` failed${note ? `: ${note}` : ''}\n`);
    } else {
      this.stream.write(ok ? `${this.label}: done, ${formatBytes(this.received)}${note ? ` ${note}` : ''}\n` : `${this.label}: failed${note ? `: ${note}` : ''}\n`);
    }
  }
}

/**
 * A download that failed at every URL; `causes` holds each URL's error.
 * @example catch (e) { if (e instanceof DownloadError) for (const c of e.causes) console.error(c.url, c.error.message); }
 */
export class DownloadError extends Error {
  /**
   * @example
   * throw new DownloadError('/tmp/mnist/t10k-labels-idx1-ubyte.gz', [{ url, error: new Error('HTTP 404') }]);
   */
  constructor(
    /** The destination file. */
    readonly dest: string,
    /** The error at each URL tried, in order. */
    readonly causes: readonly {
      /** The URL tried. */
      url: string;
      /** Why it failed there. */
      error: Error;
    }[],
  ) {
    const line = (c: { url: string; error: Error }): string => {
      const msg = c.error.message.startsWith(`${c.url}: `) ? c.error.message.slice(c.url.length + 2) : c.error.message;
      return `  ${c.url}: ${msg}`;
    };
    super(`could not download ${dest}:\n${causes.map(line).join('\n')}`);
    this.name = 'DownloadError';
  }
}

/** Options of {@link downloadVerified}. */
export interface DownloadOptions {
  /** URLs tried in order until one gives the expected bytes. */
  urls: readonly string[];
  /** Destination path; written atomically, only after the hash matched. */
  dest: string;
  /** Expected hex SHA-256 of the downloaded bytes. */
  sha256: string;
  /** Expected size in bytes (used for the bar when the server sends no length, and in messages). */
  size?: number;
  /** Fetch function (default: the global `fetch`). */
  fetch?: FetchLike;
  /** Where the progress bar goes (default `process.stderr`); `null` for none. */
  progress?: ProgressStream | null;
  /** Label of the progress bar (default: the destination's path). */
  label?: string;
  /** Give up on one URL after this many milliseconds (default 10 minutes). */
  timeoutMs?: number;
}

/** What a successful download got. */
export interface DownloadResult {
  /** The URL that served the file. */
  readonly url: string;
  /** Bytes written. */
  readonly bytes: number;
  /** Their SHA-256 (the expected one). */
  readonly sha256: string;
}

async function* chunksOf(body: unknown): AsyncGenerator<Uint8Array> {
  if (body === null || body === undefined) throw new Error('response has no body');
  if (body instanceof Uint8Array) {
    yield body;
    return;
  }
  const b = body as { [Symbol.asyncIterator]?: () => AsyncIterator<unknown>; getReader?: () => { read(): Promise<{ done: boolean; value?: unknown }>; releaseLock(): void } };
  if (typeof b[Symbol.asyncIterator] === 'function') {
    for await (const c of body as AsyncIterable<unknown>) yield toBytes(c);
    return;
  }
  if (typeof b.getReader === 'function') {
    const reader = b.getReader();
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) return;
        yield toBytes(value);
      }
    } finally {
      reader.releaseLock();
    }
  }
  throw new TypeError('response body is neither an async iterable nor a readable stream');
}

function toBytes(c: unknown): Uint8Array {
  if (c instanceof Uint8Array) return c;
  if (ArrayBuffer.isView(c)) return new Uint8Array(c.buffer, c.byteOffset, c.byteLength);
  if (c instanceof ArrayBuffer) return new Uint8Array(c);
  if (typeof c === 'string') return new TextEncoder().encode(c);
  throw new TypeError(`response body chunk of unexpected type ${typeof c}`);
}

async function downloadOne(url: string, opts: DownloadOptions): Promise<DownloadResult> {
  const fetchFn: FetchLike = opts.fetch ?? (globalThis.fetch as unknown as FetchLike | undefined) ?? missingFetch;
  const signal = AbortSignal.timeout(opts.timeoutMs ?? 600_000);
  const res = await fetchFn(url, { signal });
  if (!res.ok) throw new Error(`HTTP ${res.status}${res.statusText ? ` ${res.statusText}` : ''}`);
  const lenHeader = res.headers.get('content-length');
  const total = lenHeader !== null && /^\d+$/.test(lenHeader) ? Number(lenHeader) : opts.size;
  const label = opts.label ?? opts.dest;
  const bar = opts.progress === null ? null : new ProgressBar(opts.progress ?? process.stderr, label, total);
  mkdirSync(dirname(opts.dest), { recursive: true });
  const tmp = tempPathFor(opts.dest);
  const hash = createHash('sha256');
  let fd: number | undefined = openSync(tmp, 'wx', 0o644);
  let bytes = 0;
  try {
    for await (const chunk of chunksOf(res.body)) {
      let off = 0;
      while (off < chunk.length) off += writeSync(fd, chunk, off, chunk.length - off);
      hash.update(chunk);
      bytes += chunk.length;
      bar?.update(chunk.length);
    }
    fsyncSync(fd);
    closeSync(fd);
    fd = undefined;
    const actual = hash.digest('hex');
    if (actual !== opts.sha256) {
      const sizeNote = opts.size !== undefined && opts.size !== bytes ? `; received ${bytes} bytes, expected ${opts.size}` : `; received ${bytes} bytes`;
      throw new ChecksumError(url, opts.sha256, actual, `download for ${opts.dest} discarded${sizeNote}`);
    }
    renameSync(tmp, opts.dest);
    fsyncDir(dirname(opts.dest));
    bar?.finish(true);
    return { url, bytes, sha256: actual };
  } catch (err) {
    discardTemp(fd, tmp);
    bar?.finish(false, (err as Error).message.split('\n')[0]);
    throw err;
  }
}

const missingFetch: FetchLike = () => Promise.reject(new Error('no global fetch in this runtime; pass a fetch function'));

/**
 * Download `urls[0]` (then the next on failure) to `dest`, checking the SHA-256 before the file is renamed into
 * place. Nothing is left at `dest` or next to it when every URL fails; the thrown {@link DownloadError} lists
 * each URL's problem (HTTP status, network error, or a {@link ChecksumError} with expected and actual hash).
 * @example
 * await downloadVerified({ urls: fileUrls(DATASETS.mnist, 'testLabels'), dest: '/tmp/t10k-labels-idx1-ubyte.gz',
 *   sha256: DATASETS.mnist.files.testLabels.gzSha256 });
 */
export async function downloadVerified(opts: DownloadOptions): Promise<DownloadResult> {
  if (opts.urls.length === 0) throw new DownloadError(opts.dest, []);
  const causes: { url: string; error: Error }[] = [];
  for (const url of opts.urls) {
    try {
      return await downloadOne(url, opts);
    } catch (err) {
      causes.push({ url, error: err instanceof Error ? err : new Error(String(err)) });
    }
  }
  throw new DownloadError(opts.dest, causes);
}
