/** `--help` of the program and of every command. */
import { describe, expect, it } from 'vitest';
import { COMMANDS } from '../src/cli.js';
import { cli } from './helpers.js';

describe('help', () => {
  it('top-level --help lists every command, examples and exit codes (stdout, exit 0)', async () => {
    for (const flag of ['--help', '-h', 'help']) {
      const r = await cli([flag]);
      expect(r.code).toBe(0);
      expect(r.stderr).toBe('');
      for (const c of ['train', 'eval', 'data', 'info', 'bench']) expect(r.stdout).toMatch(new RegExp(`^  ${c} +\\S`, 'm'));
      expect(r.stdout).toContain('Examples:');
      expect(r.stdout).toContain('Exit codes (of the program and of `pnpm train`; `pnpm --filter cli ...` turns any failure into 1):');
      expect(r.stdout).toMatch(/^ {2}130 {2}interrupted/m);
    }
  });

  it('--version', async () => {
    const r = await cli(['--version']);
    expect(r).toEqual({ code: 0, stdout: '0.0.0-test\n', stderr: '' });
  });

  for (const c of COMMANDS) {
    it(`${c.name} --help shows usage, every visible option, examples and exit codes`, async () => {
      const r = await cli([c.name, '--help']);
      expect(r.code).toBe(0);
      expect(r.stderr).toBe('');
      expect(r.stdout.startsWith(`xs ${c.name}: `)).toBe(true);
      expect(r.stdout).toContain('Usage:');
      expect(r.stdout).toContain('Examples:');
      expect(r.stdout).toContain('Exit codes:');
      expect(r.stdout).toContain('-h, --help');
      for (const o of c.options) {
        if (o.hidden) expect(r.stdout).not.toContain(`--${o.name}`);
        else expect(r.stdout).toContain(`--${o.name}`);
      }
      // `help <command>` and `-h` print the same
      expect((await cli(['help', c.name])).stdout).toBe(r.stdout);
      expect((await cli([c.name, '-h'])).stdout).toBe(r.stdout);
    });
  }

  it('--help wins over other arguments, even bad ones', async () => {
    const r = await cli(['train', '--seed', 'x', '--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('xs train:');
  });

  it('train --help documents every option of the brief and the run folder', async () => {
    const { stdout } = await cli(['train', '--help']);
    for (const o of ['--variant NAME', '--backend NAME', '--seed N', '--samples N', '--epochs N|a,b,c', '--lr X', '--batch-size N', '--data-dir DIR', '--out DIR', '--resume RUN_DIR', '--json', '--quiet']) expect(stdout).toContain(o);
    for (const f of ['config.json', 'results.json', 'metrics.csv', 'mnist.safetensors', 'alpha.svg', 'report.html', 'INCOMPLETE']) expect(stdout).toContain(f);
    expect(stdout).toContain('pnpm train --resume');
  });

  it('lines stay within 130 columns', async () => {
    for (const c of COMMANDS) {
      const { stdout } = await cli([c.name, '--help']);
      for (const line of stdout.split('\n')) expect(line.length).toBeLessThanOrEqual(130);
    }
  });
});
