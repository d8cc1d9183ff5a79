/**
 * The `xs` program (after main.ts): wires the CLI to the process (argv, streams, environment, Ctrl-C) and exits with the
 * command's code. The first Ctrl-C asks the running command to stop cleanly (train keeps its finished
 * phases); a second one quits at once.
 */
import { enableRelaxedSimd } from '@xs/tensor';
import { runCli } from './cli.js';
import { EXIT } from './context.js';
import { loadEngine } from './engine.js';
import { cliVersion } from './paths.js';

const controller = new AbortController();
let interrupts = 0;
process.on('SIGINT', () => {
  interrupts += 1;
  if (interrupts === 1) {
    process.stderr.write('\nCtrl-C: stopping at the next step (press Ctrl-C again to quit at once)...\n');
    controller.abort();
  } else process.exit(EXIT.interrupted);
});
// A closed pipe (`xs info | head`) is not an error worth a stack trace.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw err;
});

// WebAssembly's relaxed SIMD (fused multiply-add: float32 matmuls about 1.1-1.2x faster) is behind a V8 flag in
// Node 20; it must be on before the first matmul compiles its kernel. XS_RELAXED_SIMD=0 keeps the plain kernel.
await enableRelaxedSimd();

const argv = process.argv.slice(2);
process.exitCode = await runCli(argv, {
  stdout: process.stdout,
  stderr: process.stderr,
  env: process.env,
  // pnpm runs package scripts inside the package; INIT_CWD is where the user typed the command.
  cwd: process.env.INIT_CWD ?? process.cwd(),
  loadEngine: () => loadEngine(process.env),
  signal: controller.signal,
  version: cliVersion(),
  argv,
});
