/**
 * A real Ctrl-C: the program (src/main.ts under tsx, with the fake engine of XS_ENGINE_MODULE slowed down)
 * gets SIGINT after its second phase; it must stop at the next step, keep the finished phases, mark the run
 * incomplete and exit 130; --resume then completes it.
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { FILES } from '../src/run-dir.js';
import { cleanupTempDirs, cli, runDirOf, tinySetup } from './helpers.js';

afterAll(cleanupTempDirs);

const CLI_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '..');

describe('Ctrl-C', () => {
  it('SIGINT during the stitch phase: exit 130, finished phases kept, then --resume completes the run', async () => {
    const t = tinySetup();
    const args = t.args.map((a) => (a === '3,3,2' ? '3,3,200' : a));
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts', 'train', ...args], {
      cwd: CLI_DIR,
      env: { ...process.env, XS_ENGINE_MODULE: join(CLI_DIR, 'test', 'fixtures', 'fake-engine.ts'), FAKE_STEP_MS: '30', XS_NO_DOWNLOAD: '1', INIT_CWD: t.root },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    let sent = false;
    child.stderr.on('data', (b: Buffer) => {
      stderr += b.toString();
      if (!sent && /^Fashion net done/m.test(stderr)) {
        sent = true;
        child.kill('SIGINT');
      }
    });
    let stdout = '';
    child.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
    const code = await new Promise<number | null>((res) => child.on('close', (c) => res(c)));
    expect(sent).toBe(true);
    expect(code).toBe(130);
    expect(stdout).toBe('');
    expect(stderr).toContain('Ctrl-C: stopping at the next step');
    expect(stderr).toContain('interrupted: the run is incomplete; finished phases kept: MNIST net, Fashion net');
    expect(stderr).toMatch(/resume with: pnpm train --resume runs\/\d{8}-\d{6}-seed/);

    const dir = join(t.out, readdirSync(t.out)[0]!);
    expect(existsSync(join(dir, 'mnist.safetensors'))).toBe(true);
    expect(existsSync(join(dir, 'fashion.safetensors'))).toBe(true);
    expect(existsSync(join(dir, 'alpha.safetensors'))).toBe(false);
    expect(JSON.parse(readFileSync(join(dir, FILES.status), 'utf8')).status).toBe('incomplete');
    expect(readFileSync(join(dir, FILES.incomplete), 'utf8')).toContain('pnpm train --resume');
    expect(readdirSync(dir).filter((f) => f.includes('.tmp-'))).toEqual([]);

    const r = await cli(['train', '--resume', dir, '--quiet']);
    expect(r.code).toBe(0);
    expect(runDirOf(r.stdout)).toBe(dir);
    expect(existsSync(join(dir, FILES.incomplete))).toBe(false);
    expect(existsSync(join(dir, FILES.report))).toBe(true);
  });
});
