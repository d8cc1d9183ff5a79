/**
 * Atomic file writes for everything a run leaves behind: the bytes go to a temporary file in the same
 * folder, are flushed (fsync), and only then renamed over the destination, so a reader (or a Ctrl-C) never
 * sees half a file; at worst a stray `.<name>.tmp-*` is left behind.
 */
import { type AtomicWriteOptions, atomicWriteFile } from '@xs/crossstitch';

/** Write `data` (text as UTF-8) to `path` atomically, creating its folder (the library's writer). */
export function writeFileAtomic(path: string, data: string | Uint8Array, options: AtomicWriteOptions = {}): void {
  atomicWriteFile(path, typeof data === 'string' ? Buffer.from(data, 'utf8') : data, options);
}

/** JSON with two-space indentation and a final newline, written atomically. Non-finite numbers become null. */
export function writeJsonAtomic(path: string, value: unknown): void {
  writeFileAtomic(path, `${JSON.stringify(value, null, 2)}\n`);
}
