/** bytesToFloat32: the wasm SIMD conversion (in place, in shared memory) equals Math.fround(byte / divisor) bit for bit. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { bytesToFloat32 } from '../src/index.js';

const reference = (bytes: Uint8Array, divisor: number): Float32Array => Float32Array.from(bytes, (b) => b / divisor);
const bits = (a: Float32Array): number[] => Array.from(new Uint32Array(a.buffer, a.byteOffset, a.length));

describe('bytesToFloat32', () => {
  it('every byte value ÷ 255, shared (wasm) and not (JavaScript), equals the float64 quotient rounded to float32', () => {
    const bytes = Uint8Array.from({ length: 4096 + 7 }, (_, i) => (i * 7919) % 256); // past the wasm threshold, a ragged tail
    const want = bits(reference(bytes, 255));
    const shared = bytesToFloat32(bytes, 255, { shared: true });
    expect(shared.buffer).toBeInstanceOf(SharedArrayBuffer);
    expect(shared.buffer.byteLength % 65536).toBe(0); // a wasm memory's pages: the kernel ran
    expect(shared.length).toBe(bytes.length);
    expect(bits(shared)).toEqual(want);
    const plain = bytesToFloat32(bytes, 255);
    expect(plain.buffer).toBeInstanceOf(ArrayBuffer);
    expect(bits(plain)).toEqual(want);
  });

  it('random bytes, lengths and float32 divisors (fast-check): bit-identical to the reference, the input untouched', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 0, maxLength: 6000 }),
        fc.float({ noNaN: true, noDefaultInfinity: true }).filter((d) => d !== 0),
        fc.boolean(),
        (bytes, divisor, shared) => {
          const copy = bytes.slice();
          const out = bytesToFloat32(bytes, divisor, { shared });
          expect(bits(out)).toEqual(bits(reference(bytes, divisor)));
          expect(Array.from(bytes)).toEqual(Array.from(copy));
        },
      ),
      { numRuns: 200 },
    );
  });

  it('a divisor that is not a float32, zero or infinite takes the exact JavaScript path', () => {
    const bytes = Uint8Array.from({ length: 2048 }, (_, i) => i % 256);
    for (const divisor of [0.1, 0, Infinity, -3]) expect(bits(bytesToFloat32(bytes, divisor, { shared: true }))).toEqual(bits(reference(bytes, divisor)));
  });

  it('says what is wrong with its arguments', () => {
    expect(() => bytesToFloat32([1, 2] as unknown as Uint8Array)).toThrow(/expected a Uint8Array, got \[object Array\]/);
    expect(() => bytesToFloat32(new Uint8Array(2), NaN)).toThrow(/divisor must be a number/);
  });
});
