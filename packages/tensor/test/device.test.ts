import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { GpuUnavailableError, array, autoBackend, backendInfo, defaultBackend, devices, setDefaultBackend } from '../src/index.js';
import { probeGpu } from '../src/backends/gpu/runtime.js';

describe('device selection', () => {
  afterEach(() => setDefaultBackend('cpu'));

  it("'auto' takes a hardware GPU only: no GL context or a software renderer means the CPU, with the reason", () => {
    const p = probeGpu();
    const auto = autoBackend();
    expect(auto.reason).toMatch(/^auto: /);
    if (!p.available) {
      expect(auto).toEqual({ name: 'cpu', reason: `auto: no gpu (${p.reason})` });
    } else if (p.software) {
      expect(auto.name).toBe('cpu');
      expect(auto.reason).toContain('software');
    } else {
      expect(auto.name).toBe('gpu');
    }
    expect(setDefaultBackend('auto')).toEqual(auto);
    expect(backendInfo()).toEqual(auto);
    expect(array([1, 2]).concrete('test').backend.name).toBe(auto.name);
  });

  it("'gpu' where none can run is an error that says what is missing", () => {
    const p = probeGpu();
    if (p.available) {
      expect(setDefaultBackend('gpu').name).toBe('gpu');
      return;
    }
    expect(() => setDefaultBackend('gpu')).toThrow(GpuUnavailableError);
    expect(() => setDefaultBackend('gpu')).toThrow(p.reason);
    expect(p.reason).toMatch(/gl|display|xvfb|gpu\.js/);
  });

  it("'auto' without a display finds out from headless-gl alone: gpu.js (about 0.1 s to load) stays unloaded", () => {
    // A child process without DISPLAY (CI runs the tests under xvfb-run, which sets it here).
    const script = `
      import { createRequire } from 'node:module';
      import { autoBackend } from './src/index.ts';
      const auto = autoBackend();
      const require = createRequire(import.meta.url);
      const loaded = Object.keys(require.cache).some((k) => /[\\/]gpu\.js[\\/]/.test(k));
      console.log(JSON.stringify({ auto, loaded }));`;
    const env: Record<string, string | undefined> = { ...process.env };
    delete env.DISPLAY;
    delete env.WAYLAND_DISPLAY;
    delete env.XS_GPU_FORCE_MODE;
    const res = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      cwd: fileURLToPath(new URL('..', import.meta.url)),
      env,
      encoding: 'utf8',
      timeout: 120_000,
    });
    expect(res.status, res.stderr).toBe(0);
    const out = JSON.parse(res.stdout.trim()) as { auto: { name: string; reason: string }; loaded: boolean };
    expect(out.auto.name).toBe('cpu');
    expect(out.auto.reason).toMatch(/no gpu \((headless-gl is installed but there is no display|the optional native package 'gl')/);
    expect(out.loaded).toBe(false);
  });

  it('lists the backends and switches the default', () => {
    const names = devices().map((d) => d.name);
    expect(names).toContain('cpu');
    expect(names).toContain('gpu');
    expect(setDefaultBackend('cpu')).toEqual({ name: 'cpu', reason: 'requested' });
    expect(defaultBackend()).toBe('cpu');
    expect(() => setDefaultBackend('tpu')).toThrow(/tpu/);
  });
});
