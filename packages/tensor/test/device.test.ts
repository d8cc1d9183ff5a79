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

  it('lists the backends and switches the default', () => {
    const names = devices().map((d) => d.name);
    expect(names).toContain('cpu');
    expect(names).toContain('gpu');
    expect(setDefaultBackend('cpu')).toEqual({ name: 'cpu', reason: 'requested' });
    expect(defaultBackend()).toBe('cpu');
    expect(() => setDefaultBackend('tpu')).toThrow(/tpu/);
  });
});
