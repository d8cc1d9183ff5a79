/**
 * `fromTypedArray(data, shape, dtype, { copy: false })`: on the CPU, an array of the requested dtype is used
 * as the tensor's buffer without a copy (a subarray view too); otherwise the data is copied as by default.
 * Nothing the library runs writes into a borrowed array.
 */
import { describe, expect, it } from 'vitest';
import { type Backend, ConcreteTensor, type Tensor, fromTypedArray, grad, jit, numpy as np } from '../src/index.js';
import { getBackend } from '../src/backends/backend.js';
import { gpuSkip } from './helpers/gpu.js';

const handleOf = (t: Tensor): unknown => (t as ConcreteTensor).handle;

describe('fromTypedArray copy: false', () => {
  it('uses the caller array itself, a subarray view included', () => {
    const images = Float32Array.from({ length: 12 }, (_, i) => i);
    const whole = fromTypedArray(images, [3, 4], 'float32', { copy: false });
    expect(handleOf(whole)).toBe(images);
    const view = images.subarray(4, 12);
    const rows = fromTypedArray(view, [2, 4], undefined, { copy: false });
    expect(handleOf(rows)).toBe(view);
    expect(rows.dtype).toBe('float32');
    expect(rows.toArray()).toEqual([[4, 5, 6, 7], [8, 9, 10, 11]]);
    // borrowed, not copied: the caller's later writes show (which is why the docs say not to make them)
    images[4] = 40;
    expect(rows.toArray()).toEqual([[40, 5, 6, 7], [8, 9, 10, 11]]);
    const ints = Int32Array.of(1, 2);
    expect(handleOf(fromTypedArray(ints, [2], 'int32', { copy: false, backend: 'cpu' }))).toBe(ints);
  });

  it('copies by default, and when the dtype differs', () => {
    const data = Float32Array.of(1, 2, 3);
    const copied = fromTypedArray(data, [3]);
    expect(handleOf(copied)).not.toBe(data);
    data[0] = 9;
    expect(copied.toArray()).toEqual([1, 2, 3]);
    const converted = fromTypedArray(Float64Array.of(1.5, 2.5), [2], 'float32', { copy: false });
    expect(converted.dtype).toBe('float32');
    expect((handleOf(converted) as Float32Array).constructor).toBe(Float32Array);
    expect(converted.toArray()).toEqual([1.5, 2.5]);
    const asInt = Float32Array.of(1.7, -1.7);
    expect(fromTypedArray(asInt, [2], 'int32', { copy: false }).toArray()).toEqual([1, -1]);
  });

  it('copies on a backend that cannot hold host memory', () => {
    const cpu = getBackend('cpu');
    const noBorrow: Backend = { ...cpu, name: 'cpu-no-borrow', borrow: undefined };
    const data = Float32Array.of(1, 2);
    const t = fromTypedArray(data, [2], 'float32', { copy: false, backend: noBorrow }) as ConcreteTensor;
    expect(t.backend).toBe(noBorrow);
    expect(t.handle).not.toBe(data);
    // the positional backend argument still works
    expect((fromTypedArray(data, [2], 'float32', cpu) as ConcreteTensor).backend).toBe(cpu);
  });

  it('nothing the library runs writes into a borrowed array (eager ops, reshape, jit, grad)', () => {
    const host = Float32Array.from({ length: 24 }, (_, i) => (i % 7) - 3);
    const snapshot = Array.from(host);
    const x = fromTypedArray(host, [4, 6], 'float32', { copy: false });
    const w = fromTypedArray(Float32Array.from({ length: 18 }, (_, i) => i / 10), [6, 3], 'float32', { copy: false });
    const step = jit((w: Tensor, x: Tensor) => grad((v: Tensor) => np.sum(np.tanh(np.matmul(x, v)).square()))(w));
    for (let k = 0; k < 3; k++) step(w, x);
    x.reshape([24]).exp();
    x.T.mul(2);
    jit((a: Tensor) => a.reshape([6, 4]).add(1))(x);
    expect(Array.from(host)).toEqual(snapshot);
  });
});

describe.skipIf(gpuSkip !== null)('fromTypedArray copy: false on the gpu', () => {
  it('copies (a texture cannot borrow host memory)', () => {
    const data = Float32Array.of(1, 2, 3);
    const t = fromTypedArray(data, [3], 'float32', { copy: false, backend: 'gpu' }) as ConcreteTensor;
    expect(t.backend.name).toBe('gpu');
    expect(t.handle).not.toBe(data);
    data[0] = 7;
    expect(t.toArray()).toEqual([1, 2, 3]);
  });
});
