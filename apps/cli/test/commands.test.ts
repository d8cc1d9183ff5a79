/** `data`, `data fetch`, `info` and `bench`. */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cleanupTempDirs, cli, tempDir, writeTinyData } from './helpers.js';

afterAll(cleanupTempDirs);

describe('data', () => {
  const data = writeTinyData(tempDir());

  it('status: where each dataset was found, files unchecked with --quick (exit 0)', async () => {
    const r = await cli(['data', '--data-dir', data, '--quick']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`mnist: OK, found in explicit (option dataDir): ${join(data, 'mnist')}`);
    expect(r.stdout).toContain(`fashion-mnist: OK, found in explicit (option dataDir): ${join(data, 'fashion-mnist')}`);
    expect(r.stdout).toMatch(/trainImages unchecked/);
  });

  it('status with checksums: generated data does not match the known SHA-256 sums (exit 1)', async () => {
    const r = await cli(['data', 'mnist', '--data-dir', data]);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('mnist: PROBLEM');
    expect(r.stdout).toContain('SHA-256 mismatch');
    expect(r.stdout).not.toContain('fashion-mnist');
  });

  it('--json', async () => {
    const r = await cli(['data', 'status', 'fashion', '--data-dir', data, '--quick', '--json']);
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out).toMatchObject({ command: 'data', action: 'status', ok: true });
    expect(out.datasets).toHaveLength(1);
    expect(out.datasets[0]).toMatchObject({ name: 'fashion-mnist', ok: true, source: { kind: 'explicit', dir: join(data, 'fashion-mnist') } });
    expect(out.datasets[0].files.map((f: { state: string }) => f.state)).toEqual(['unchecked', 'unchecked', 'unchecked', 'unchecked']);
  });

  it('fetch: a dataset already present is not downloaded', async () => {
    const r = await cli(['data', 'fetch', 'mnist', '--data-dir', data, '--quick']);
    expect(r.code).toBe(0);
    expect(r.stderr).toContain(`mnist: already present in ${join(data, 'mnist')} (option dataDir)`);
  });
});

describe('info', () => {
  it('versions, the backend and why, the engine, the data status', async () => {
    const data = writeTinyData(tempDir());
    const r = await cli(['info', '--data-dir', data, '--quick']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^xs 0\.0\.0-test \(@xs\/crossstitch \d+\.\d+\.\d+, @xs\/tensor \d+\.\d+\.\d+\), node v\d+/);
    expect(r.stdout).toMatch(/^backend: (cpu|gpu); auto: /m);
    expect(r.stdout).toMatch(/^ {2}cpu {2}available: /m);
    expect(r.stdout).toContain('seed experiment (runSeedExperiment): available');
    expect(r.stdout).toContain(`mnist: OK, found in explicit (option dataDir): ${join(data, 'mnist')}`);
    const j = await cli(['info', '--data-dir', data, '--quick', '--json']);
    const out = JSON.parse(j.stdout);
    expect(['cpu', 'gpu']).toContain(out.backend.selected);
    expect(out.backend.devices.map((d: { name: string }) => d.name)).toContain('cpu');
    expect(out.data).toHaveLength(2);
  });

  it('says when the engine is missing', async () => {
    const r = await cli(['info', '--quick'], { loadEngine: () => Promise.reject(new Error('no engine here')) });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('seed experiment (runSeedExperiment): not available: no engine here');
    // and train says so with exit 3 when the engine is reported missing
    const { NotAvailableError } = await import('../src/args.js');
    const t = await cli(['train'], { loadEngine: () => Promise.reject(new NotAvailableError('no runSeedExperiment')) });
    expect(t.code).toBe(3);
    expect(t.stderr).toBe('error: no runSeedExperiment\n');
  });
});

describe('bench', () => {
  it('runs the benchmark script and passes its output through', async () => {
    const dir = tempDir();
    const script = join(dir, 'b.ts');
    writeFileSync(script, "const n: number = 42;\nconsole.log(`steps/s ${n}`, process.argv.includes('--quick') ? 'quick' : 'full');\n");
    const r = await cli(['bench', '--script', script, '--quick']);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('steps/s 42 quick\n');
    expect(r.stderr).toContain(`running ${script} --quick`);
  });

  it('a failing benchmark is a failure (exit 1)', async () => {
    const dir = tempDir();
    const script = join(dir, 'b.ts');
    writeFileSync(script, 'process.exit(4);\n');
    const r = await cli(['bench', '--script', script]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('bench: the benchmark exited with 4');
  });

  it('finds the repository benchmark by default', async () => {
    const r = await cli(['bench', '--help']);
    expect(r.stdout).toContain('packages/tensor/bench/seed-step.ts');
  });
});
