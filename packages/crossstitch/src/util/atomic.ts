/**
 * Atomic file writes: the bytes go to a temporary file in the destination's own folder, are flushed to disk
 * (`fsync`), and only then renamed over the destination. A reader sees either the old file or the whole new
 * one, never a half-written file; a crash leaves at most a stray `.tmp-*` file behind.
 */
import { closeSync, fsyncSync, mkdirSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { mkdir, open, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { randomBytes } from 'node:crypto';

/** A fresh temporary path next to `path` (same folder, so the final rename stays on one file system). */
export function tempPathFor(path: string): string {
  return join(dirname(path), `.${basename(path)}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`);
}

/** Flush a folder's entry table to disk (best effort: not every platform can open a folder). */
export function fsyncDir(dir: string): void {
  let fd: number | undefined;
  try {
    fd = openSync(dir, 'r');
    fsyncSync(fd);
  } catch {
    // Opening or syncing a directory is not supported everywhere; the rename is still atomic.
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/** Options of {@link atomicWriteFile}. */
export interface AtomicWriteOptions {
  /**
   * Flush the file and its folder to disk before and after the rename (default true). `false` keeps the
   * write atomic for readers (temp file + rename) but skips the fsyncs, which cost tens of milliseconds each
   * on some disks: for live views such as a training curve rewritten every epoch, which a power loss may
   * leave one write behind but never half-written.
   */
  durable?: boolean;
}

/** After a failed write: close the temporary file if it is open (quietly: the write is failing already) and remove it. */
export function discardTemp(fd: number | undefined, tmp: string): void {
  if (fd !== undefined) {
    try {
      closeSync(fd);
    } catch {
      /* already failing */
    }
  }
  rmSync(tmp, { force: true });
}

/**
 * Write `chunks` to `path` atomically (temp file + fsync + rename), creating the parent folder if needed.
 * @example atomicWriteFile('/tmp/x.bin', [header, body]);
 * @example atomicWriteFile('/tmp/live.csv', bytes, { durable: false }); // atomic, not flushed
 */
export function atomicWriteFile(path: string, chunks: Uint8Array | readonly Uint8Array[], options: AtomicWriteOptions = {}): void {
  const durable = options.durable ?? true;
  const dir = dirname(path);
  mkdirSync(dir, { recursive: true });
  const tmp = tempPathFor(path);
  const parts = chunks instanceof Uint8Array ? [chunks] : chunks;
  let fd: number | undefined;
  try {
    fd = openSync(tmp, 'wx', 0o644);
    for (const part of parts) {
      let off = 0;
      while (off < part.length) off += writeSync(fd, part, off, part.length - off);
    }
    if (durable) fsyncSync(fd);
    closeSync(fd);
    fd = undefined;
    renameSync(tmp, path);
    if (durable) fsyncDir(dir);
  } catch (err) {
    discardTemp(fd, tmp);
    throw err;
  }
}

/**
 * {@link atomicWriteFile} without blocking the thread (durable: temp file, fsync, rename, folder fsync), for
 * large writes off a hot path; the promise rejects as the synchronous version throws.
 * @example await atomicWriteFileAsync('/tmp/x.bin', bytes);
 */
export async function atomicWriteFileAsync(path: string, bytes: Uint8Array): Promise<void> {
  const dir = dirname(path);
  await mkdir(dir, { recursive: true });
  const tmp = tempPathFor(path);
  const file = await open(tmp, 'wx', 0o644);
  try {
    await file.writeFile(bytes);
    await file.sync();
  } catch (err) {
    await file.close().catch(() => {});
    await rm(tmp, { force: true });
    throw err;
  }
  await file.close();
  try {
    await rename(tmp, path);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
  fsyncDir(dir);
}
