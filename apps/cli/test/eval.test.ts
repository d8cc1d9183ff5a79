/** `eval`: reading a run's checkpoints back (folder, one checkpoint, alpha), text and JSON, and its errors. */
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FILES } from '../src/run-dir.js';
import { cleanupTempDirs, cli, runDirOf, tinySetup } from './helpers.js';

afterAll(cleanupTempDirs);

let dir = '';
let results: { results: Record<'mnist' | 'fashion', Record<'alone' | 'stitched', { accuracy: number; perClassAccuracy: (number | null)[]; confusion: number[][] }>> };
let t: ReturnType<typeof tinySetup>;

beforeAll(async () => {
  t = tinySetup();
  const r = await cli(['train', ...t.args, '--quiet']);
  expect(r.code).toBe(0);
  dir = runDirOf(r.stdout);
  results = JSON.parse(readFileSync(join(dir, FILES.results), 'utf8'));
});

describe('eval', () => {
  it('a run folder: both nets alone and stitched, the same numbers as results.json', async () => {
    const r = await cli(['eval', dir, '--json']);
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.command).toBe('eval');
    expect(out.checkpoints).toEqual(['mnist', 'fashion', 'alpha']);
    for (const task of ['mnist', 'fashion'] as const) {
      expect(out.results[task].count).toBe(60);
      for (const kind of ['alone', 'stitched'] as const) {
        expect(out.results[task][kind].accuracy).toBeCloseTo(results.results[task][kind].accuracy, 9);
        expect(out.results[task][kind].confusion).toEqual(results.results[task][kind].confusion);
        expect(out.results[task][kind].perClassAccuracy).toEqual(results.results[task][kind].perClassAccuracy);
      }
    }
    expect(r.stderr).toContain(`evaluating ${dir} (checkpoints: mnist, fashion, alpha)`);
  });

  it('text output: accuracy, per-class accuracy and confusion matrices per task', async () => {
    const r = await cli(['eval', dir, '--quiet']);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    const a = results.results;
    expect(r.stdout).toContain(`MNIST test set (60 images): alone ${a.mnist.alone.accuracy.toFixed(2)}%, stitched ${a.mnist.stitched.accuracy.toFixed(2)}%`);
    expect(r.stdout).toContain(`Fashion-MNIST test set (60 images): alone ${a.fashion.alone.accuracy.toFixed(2)}%`);
    expect(r.stdout).toMatch(/^ {4}class +alone +stitched$/m);
    expect(r.stdout).toMatch(/^ {5}9 Ankle boot +\d+\.\d\d% +\d+\.\d\d%$/m);
    expect(r.stdout).toContain('confusion matrix, alone (rows: true class, columns: predicted class):');
    expect(r.stdout).toContain('confusion matrix, stitched (rows: true class, columns: predicted class):');
    expect(r.stdout).toMatch(/^ {4}true\\pred +0 +1 +2 +3 +4 +5 +6 +7 +8 +9$/m);
  });

  it('one network checkpoint: that net alone on its own test set', async () => {
    const r = await cli(['eval', join(dir, 'fashion.safetensors'), '--json', '--quiet']);
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.checkpoints).toEqual(['fashion']);
    expect(Object.keys(out.results)).toEqual(['fashion']);
    expect(out.results.fashion.alone.accuracy).toBeCloseTo(results.results.fashion.alone.accuracy, 9);
    expect(out.results.fashion.stitched).toBeUndefined();
  });

  it('a checkpoint copied elsewhere is recognised by its metadata (data given with --data-dir)', async () => {
    const other = join(t.root, 'elsewhere');
    mkdirSync(other);
    copyFileSync(join(dir, 'mnist.safetensors'), join(other, 'net.safetensors'));
    const r = await cli(['eval', join(other, 'net.safetensors'), '--data-dir', t.data, '--no-verify', '--json', '--quiet']);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).checkpoints).toEqual(['mnist']);
  });

  it('alpha.safetensors stands for its run folder', async () => {
    const r = await cli(['eval', join(dir, 'alpha.safetensors'), '--json', '--quiet']);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).checkpoints).toEqual(['mnist', 'fashion', 'alpha']);
  });

  it('errors: missing path, folder without checkpoints, unreadable checkpoint (exit 1)', async () => {
    const missing = await cli(['eval', join(t.root, 'nope')]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toBe(`error: ${join(t.root, 'nope')} does not exist (give a run folder or a .safetensors checkpoint)\n`);
    const empty = join(t.root, 'empty');
    mkdirSync(empty);
    const e = await cli(['eval', empty]);
    expect(e.code).toBe(1);
    expect(e.stderr).toBe(`error: ${empty} holds no checkpoint (mnist.safetensors, fashion.safetensors, alpha.safetensors)\n`);
    const bad = join(t.root, 'bad.safetensors');
    writeFileSync(bad, 'not a checkpoint');
    const b = await cli(['eval', bad]);
    expect(b.code).toBe(1);
    expect(b.stderr).toMatch(/^error: .*bad\.safetensors is not a readable checkpoint: /);
  });
});
