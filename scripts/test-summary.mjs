#!/usr/bin/env node
// Runs every workspace package's vitest suite in ONE vitest run (root
// vitest.config.ts `projects`), writes a JSON report, and prints exactly one
// plain closing line:  "N passed, N failed, N skipped"
// Exit status: non-zero if any test failed, the runner failed, or no test ran.
//
//   node scripts/test-summary.mjs             run vitest, then summarize
//   node scripts/test-summary.mjs --report F  only summarize an existing report F
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const reportIdx = args.indexOf('--report');
let report = join(root, '.vitest-report.json');
let runnerStatus = 0;

if (reportIdx >= 0) {
  report = resolve(args[reportIdx + 1] ?? report);
} else {
  rmSync(report, { force: true });
  const vitestBin = join(root, 'node_modules', 'vitest', 'vitest.mjs');
  const res = spawnSync(
    process.execPath,
    [vitestBin, 'run', '--reporter=default', '--reporter=json', `--outputFile=${report}`, ...args],
    { cwd: root, stdio: 'inherit', env: process.env },
  );
  runnerStatus = res.status ?? 1;
  if (res.error) {
    console.error(`test-summary: could not start vitest: ${res.error.message}`);
    runnerStatus = 1;
  }
}

let passed = 0;
let failed = 0;
let skipped = 0;
let suiteFailures = 0;
if (existsSync(report)) {
  try {
    const json = JSON.parse(readFileSync(report, 'utf8'));
    // Count per assertion from testResults (jest-compatible JSON reporter).
    for (const file of json.testResults ?? []) {
      const results = file.assertionResults ?? [];
      if (file.status === 'failed' && results.every((r) => r.status !== 'failed')) {
        // A file that failed to load/collect (syntax error, import error...).
        suiteFailures += 1;
      }
      for (const r of results) {
        if (r.status === 'passed') passed += 1;
        else if (r.status === 'failed') failed += 1;
        else skipped += 1; // skipped, pending, todo, disabled
      }
    }
  } catch (err) {
    console.error(`test-summary: cannot read ${report}: ${err.message}`);
    runnerStatus = runnerStatus || 1;
  }
} else {
  console.error(`test-summary: no report at ${report}`);
  runnerStatus = runnerStatus || 1;
}

// Suites that crashed before running count as failures.
failed += suiteFailures;
console.log(`${passed} passed, ${failed} failed, ${skipped} skipped`);

let code = 0;
if (failed > 0) code = 1;
else if (runnerStatus !== 0) code = runnerStatus;
else if (passed === 0) {
  console.error('test-summary: no test passed (ran no test)');
  code = 1;
}
process.exit(code);
