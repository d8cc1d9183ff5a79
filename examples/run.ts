/** Shared by the examples: run `main` when the file is executed directly (not when a test imports it). */
import { pathToFileURL } from 'node:url';

/** Output of an example: printed lines go through `log` so tests can capture them. */
export type Log = (line: string) => void;

/**
 * Call `main(process.argv.slice(2))` if `moduleUrl` is the program being run (`tsx file.ts`), reporting
 * errors with a non-zero exit status.
 */
export function runIfMain(moduleUrl: string, main: (argv: string[]) => Promise<unknown>): void {
  const entry = process.argv[1];
  if (!entry || pathToFileURL(entry).href !== moduleUrl) return;
  main(process.argv.slice(2)).catch((err: unknown) => {
    console.error(err);
    process.exitCode = 1;
  });
}
