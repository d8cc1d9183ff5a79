/**
 * Buffer donation, `jit(f, { donateArgnums })`: results equal the undonated function's bit for bit, outputs
 * are written into donated buffers on the CPU (checked by buffer identity, so a broken reuse fails here),
 * donated arrays are unusable afterwards, and no buffer that something else still reads is ever overwritten.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  type Backend,
  ConcreteTensor,
  type Tensor,
  arange,
  array,
  fromTypedArray,
  grad,
  jit,
  nn,
  numpy as np,
  random,
  tree,
  vmap,
} from '../src/index.js';
import { getBackend } from '../src/backends/backend.js';
import { mulberry32 } from './helpers/rng.js';
import { gpuSkip } from './helpers/gpu.js';

const handleOf = (t: Tensor): unknown => (t as ConcreteTensor).handle;
const bits = (t: Tensor): number[] => Array.from(new Uint32Array((t.data() as Float32Array).slice().buffer));
const DONATED = /this tensor was donated to a jitted call \(donateArgnums\) and its buffer may have been reused: use the function's result instead/;

function randomTensor(seed: number, shape: number[]): Tensor {
  const rng = mulberry32(seed);
  const data = new Float32Array(shape.reduce((a, b) => a * b, 1));
  for (let i = 0; i < data.length; i++) data[i] = rng() * 4 - 2;
  return fromTypedArray(data, shape);
}
/** A fresh array with `t`'s values (a donated argument is consumed, so each call gets its own). */
const copyOf = (t: Tensor): Tensor => fromTypedArray(t.data(), [...t.shape], t.dtype);

describe('jit donateArgnums: results', () => {
  // Functions of (x, y), x donated, and whether their first output is written into x's buffer on the CPU.
  const programs: Record<string, [(x: Tensor, y: Tensor) => Tensor | Tensor[], boolean]> = {
    sgd: [(x, y) => x.sub(y.mul(0.1)), true],
    single: [(x, y) => x.sub(y), true],
    singleExp: [(x) => x.exp(), true],
    chain: [(x, y) => x.exp().mul(y).add(x), true],
    broadcastRead: [(x) => x.add(np.sum(x, -1, true)), true],
    reshaped: [(x, y) => [x.reshape([-1]).mul(3), y.reshape([-1])], true],
    gram: [(x) => np.matmul(x.reshape([x.size, 1]), x.reshape([1, x.size])).sum(0), true],
    identity: [(x, y) => [x, x.mul(y)], true],
    // x is read after the first output is computed (the last output, y + x, takes it), or read at other indices
    twoOutputs: [(x, y) => [x.mul(2), np.sum(x), y.add(x)], false],
    reversed: [(x) => np.take(x.reshape([-1]), arange(x.size - 1, -1, -1, 'int32')), false],
  };

  it('equal the undonated jit bit for bit (random shapes and values)', () => {
    // up to 8 x 8 x 8: groups of 128 elements or more run as wasm kernels
    const shapeArb = fc.array(fc.integer({ min: 1, max: 8 }), { minLength: 1, maxLength: 3 });
    fc.assert(
      fc.property(fc.constantFrom(...Object.keys(programs)), shapeArb, fc.integer({ min: 0, max: 2 ** 31 - 1 }), (name, shape, seed) => {
        const [f, reuses] = programs[name]!;
        const x = randomTensor(seed, shape);
        const y = randomTensor(seed + 1, shape);
        const want = tree.leaves(jit(f)(x, y)) as Tensor[];
        const donating = jit(f, { donateArgnums: [0] });
        for (let call = 0; call < 2; call++) {
          const xc = copyOf(x);
          const got = tree.leaves(donating(xc, y)) as Tensor[];
          got.forEach((g, i) => expect(bits(g)).toEqual(bits(want[i]!)));
          expect(handleOf(got[0]!) === handleOf(xc)).toBe(reuses);
        }
        expect(Array.from(y.data())).toEqual(Array.from(randomTensor(seed + 1, shape).data()));
      }),
      { numRuns: 80 },
    );
  });

  it('an update written in place reuses the donated buffer, call after call', () => {
    const update = jit((p: Tensor, g: Tensor) => p.sub(g.mul(0.5)), { donateArgnums: [0] });
    const g = array([1, 2, 3, 4]);
    let p = array([10, 20, 30, 40]);
    const buffer = handleOf(p);
    for (let k = 1; k <= 3; k++) {
      p = update(p, g) as Tensor;
      expect(handleOf(p)).toBe(buffer);
      expect(p.toArray()).toEqual([10, 20, 30, 40].map((v, i) => v - 0.5 * k * (i + 1)));
    }
  });

  it('an output computed after the last read of a donated input may take its buffer (transpose, then add)', () => {
    const f = jit((x: Tensor) => x.T.add(1), { donateArgnums: [0] });
    const x = array([[1, 2, 3], [4, 5, 6]]);
    const buffer = handleOf(x);
    const out = f(x) as Tensor;
    expect(out.toArray()).toEqual([[2, 5], [3, 6], [4, 7]]);
    expect(handleOf(out)).toBe(buffer);
  });

  it('outputs that read other elements of the donated input (matmul, transpose, gather) are never written over it', () => {
    const x0 = randomTensor(7, [6, 6]);
    const cases: [string, (x: Tensor) => Tensor][] = [
      ['x @ x.T', (x) => np.matmul(x, x.T)],
      ['x.T', (x) => x.T],
      ['reverse', (x) => np.take(x.reshape([-1]), arange(35, -1, -1, 'int32')).reshape([6, 6])],
      ['sum(x) * x', (x) => np.sum(x, 0, true).mul(x.T)],
    ];
    for (const [, f] of cases) {
      const want = (jit(f)(x0) as Tensor).toArray();
      const x = copyOf(x0);
      const out = jit(f, { donateArgnums: [0] })(x) as Tensor;
      expect(out.toArray()).toEqual(want);
    }
  });

  it('a returned donated input is a new array on the same buffer', () => {
    const f = jit((x: Tensor) => [x, x.mul(2), x.reshape([4])], { donateArgnums: [0] });
    const x = array([[1, 2], [3, 4]]);
    const buffer = handleOf(x);
    const [same, twice, flat] = f(x) as Tensor[];
    expect(same).not.toBe(x);
    expect(handleOf(same!)).toBe(buffer);
    expect(same!.toArray()).toEqual([[1, 2], [3, 4]]);
    expect(twice!.toArray()).toEqual([[2, 4], [6, 8]]);
    expect(flat!.toArray()).toEqual([1, 2, 3, 4]);
    expect(() => x.data()).toThrow(DONATED);
  });

  it('a seed-MLP SGD step over several steps gives bit-identical params and reuses every param buffer', () => {
    type Params = [Tensor, Tensor][];
    const predict = (p: Params, x: Tensor): Tensor => {
      const h1 = nn.sigmoid(np.add(np.matmul(x, p[0]![0].T), p[0]![1]));
      const h2 = nn.sigmoid(np.add(np.matmul(h1, p[1]![0].T), p[1]![1]));
      return nn.softmax(np.matmul(h2, p[2]![0].T));
    };
    const lossOne = (p: Params, x: Tensor, t: Tensor): Tensor => np.negative(np.log(np.take(predict(p, x), np.argmax(t))));
    const step = (p: Params, x: Tensor, t: Tensor): Params => {
      const g = vmap(grad(lossOne), { inAxes: [null, 0, 0] })(p, x, t) as Params;
      return tree.map((a: Tensor, b: Tensor) => a.sub(b.sum(0).mul(0.01)), p as any, g as any) as any;
    };
    const keys = random.splitKeys(random.key(5), 5);
    const sizes = [784, 60, 20, 10];
    const init = (): Params => [0, 1, 2].map((i) => [random.normal(keys[i]!, [sizes[i + 1]!, sizes[i]!]).div(10), np.zeros([sizes[i + 1]!])] as [Tensor, Tensor]);
    const images = new Float32Array(4 * 16 * 784).map((_, i) => ((i * 2654435761) % 1000) / 1000);
    const targets = [0, 1, 2, 3].map((k) => np.oneHot(random.randint(random.foldIn(keys[3]!, k), [16], 0, 10), 10));
    const batch = (k: number): [Tensor, Tensor] => [fromTypedArray(images.subarray(k * 16 * 784, (k + 1) * 16 * 784), [16, 784], 'float32', { copy: false }), targets[k]!];
    const plain = jit(step);
    const donating = jit(step, { donateArgnums: [0] });
    let a = init();
    let b = init();
    const buffers = tree.leaves(b as any).map(handleOf);
    for (let k = 0; k < 4; k++) {
      const [x, t] = batch(k);
      a = plain(a, x, t) as Params;
      const before = tree.leaves(b as any) as Tensor[];
      b = donating(b, x, t) as Params;
      before.forEach((l) => expect((l as ConcreteTensor).isDonated()).toBe(true));
      (tree.leaves(a as any) as Tensor[]).forEach((l, i) => expect(bits((tree.leaves(b as any) as Tensor[])[i]!)).toEqual(bits(l)));
      // every new param was written into the buffer of the param it replaces
      tree.leaves(b as any).forEach((l, i) => expect(handleOf(l as Tensor)).toBe(buffers[i]));
    }
  });
});

describe('jit donateArgnums: invalidation', () => {
  const f = jit((x: Tensor) => x.mul(2), { donateArgnums: [0] });

  it('any later use of a donated array throws a clear error', () => {
    const x = array([1, 2]);
    f(x);
    expect((x as ConcreteTensor).isDonated()).toBe(true);
    expect(() => x.data()).toThrow(DONATED);
    const one = array([1]);
    f(one);
    expect(() => one.item()).toThrow(DONATED);
    expect(() => x.toArray()).toThrow(DONATED);
    expect(() => x.add(1)).toThrow(/^add: this tensor was donated/);
    expect(() => f(x)).toThrow(/^jit: this tensor was donated/);
    expect(() => jit((a: Tensor) => a.add(1))(x)).toThrow(DONATED);
    expect(String(x)).toBe('Tensor(shape=[2], dtype=float32, donated)');
    expect(x.shape).toEqual([2]); // shape and dtype stay readable, as in JAX
    (x as ConcreteTensor).dispose(); // its buffer is the call's: disposing is a no-op
    expect(() => jit((a: Tensor) => a.add(x))(array([1, 2]))).toThrow(DONATED);
  });

  it('every leaf of a donated pytree argument is donated, and only those', () => {
    const g = jit((p: { w: Tensor; b: Tensor }, s: Tensor) => ({ w: p.w.add(s), b: p.b.add(s) }), { donateArgnums: [-2] });
    const p = { w: array([1, 2]), b: array([3]) };
    const s = array([1]);
    const out = g(p, s) as { w: Tensor; b: Tensor };
    expect(out.w.toArray()).toEqual([2, 3]);
    expect(out.b.toArray()).toEqual([4]);
    expect([p.w, p.b].map((t) => (t as ConcreteTensor).isDonated())).toEqual([true, true]);
    expect((s as ConcreteTensor).isDonated()).toBe(false);
    expect(s.toArray()).toEqual([1]);
  });

  it('invalidates even when no buffer can be reused (no output of that dtype and size)', () => {
    const x = array([1, 2, 3]);
    expect((jit((a: Tensor) => np.sum(a), { donateArgnums: [0] })(x) as Tensor).item()).toBe(6);
    expect(() => x.data()).toThrow(DONATED);
  });

  it('donation only applies to a direct call: under grad or vmap the arguments are left alone', () => {
    const h = jit((x: Tensor) => x.mul(x), { donateArgnums: [0] });
    const x = array([1, 2, 3]);
    expect(grad((a: Tensor) => np.sum(h(a) as Tensor))(x).toArray()).toEqual([2, 4, 6]);
    expect((vmap(h)(x) as Tensor).toArray()).toEqual([1, 4, 9]);
    expect(x.toArray()).toEqual([1, 2, 3]);
  });

  it('rejects out-of-range and static donated positions', () => {
    expect(() => jit((x: Tensor) => x, { donateArgnums: [1] })(array([1]))).toThrow(/donateArgnums 1 out of range/);
    expect(() => jit((x: Tensor, _n: number) => x, { donateArgnums: [1], staticArgnums: [1] })(array([1]), 2)).toThrow(/both static .* and donated/);
  });
});

describe('jit donateArgnums: buffers something else still reads are never overwritten', () => {
  const update = jit((p: Tensor, g: Tensor) => p.sub(g), { donateArgnums: [0] });

  it('the same array passed donated and undonated: correct result, no reuse (JAX would refuse the call)', () => {
    const a = array([5, 7]);
    const buffer = handleOf(a);
    const out = update(a, a) as Tensor;
    expect(out.toArray()).toEqual([0, 0]);
    expect(handleOf(out)).not.toBe(buffer);
    expect((a as ConcreteTensor).isDonated()).toBe(true);
    // one array twice inside a donated pytree
    const both = jit((p: Tensor[]) => p[0]!.add(p[1]!), { donateArgnums: [0] });
    const b = array([1, 2]);
    const r = both([b, b]) as Tensor;
    expect(r.toArray()).toEqual([2, 4]);
    expect(handleOf(r)).not.toBe(handleOf(b));
  });

  it('an array that shares its buffer with another (an eager reshape) is not overwritten', () => {
    const x = array([1, 2, 3, 4]);
    const y = x.reshape([2, 2]);
    expect(handleOf(y)).toBe(handleOf(x));
    const out = update(y, array([[1, 1], [1, 1]])) as Tensor;
    expect(out.toArray()).toEqual([[0, 1], [2, 3]]);
    expect(x.toArray()).toEqual([1, 2, 3, 4]);
    expect(() => y.data()).toThrow(DONATED);
    // the same the other way round: donate the original, keep the reshape
    const z = array([1, 2, 3, 4]);
    const zr = z.reshape([2, 2]);
    update(z, array([1, 1, 1, 1]));
    expect(zr.toArray()).toEqual([[1, 2], [3, 4]]);
  });

  it("a jitted function's constant is not overwritten by donating it elsewhere", () => {
    const w = array([1, 2, 3]);
    const usesW = jit((x: Tensor) => x.mul(w));
    expect((usesW(array([1, 1, 1])) as Tensor).toArray()).toEqual([1, 2, 3]);
    const out = update(w, array([1, 1, 1])) as Tensor;
    expect(out.toArray()).toEqual([0, 1, 2]);
    expect(handleOf(out)).not.toBe(handleOf(w));
    expect((usesW(array([1, 1, 1])) as Tensor).toArray()).toEqual([1, 2, 3]);
  });

  it('an output that is an undonated input is not overwritten when it is donated later', () => {
    const pass = jit((x: Tensor, y: Tensor) => [x, y.add(1)], { donateArgnums: [1] });
    const x = array([1, 2]);
    const [same] = pass(x, array([0, 0])) as Tensor[];
    expect(handleOf(same!)).toBe(handleOf(x));
    update(same!, array([1, 1]));
    expect(x.toArray()).toEqual([1, 2]);
  });

  it('a borrowed host array is never written into', () => {
    const host = Float32Array.of(10, 20, 30);
    const p = fromTypedArray(host, [3], 'float32', { copy: false });
    expect(handleOf(p)).toBe(host);
    const out = update(p, array([1, 2, 3])) as Tensor;
    expect(out.toArray()).toEqual([9, 18, 27]);
    expect(Array.from(host)).toEqual([10, 20, 30]);
    expect(handleOf(out)).not.toBe(host);
    // its result owns its buffer: the next step reuses it
    const next = update(out, array([1, 1, 1])) as Tensor;
    expect(handleOf(next)).toBe(handleOf(out));
  });
});

describe('jit donateArgnums on a backend that does not reuse buffers', () => {
  it('invalidates the donated arrays, releases their buffers and allocates the outputs', () => {
    const cpu = getBackend('cpu');
    const released: unknown[] = [];
    const noReuse: Backend = { ...cpu, name: 'cpu-no-reuse', reusesDonatedBuffers: false, garbageCollected: false, dispose: (h) => released.push(h) };
    const on = (values: number[]): Tensor => new ConcreteTensor([values.length], 'float32', noReuse, cpu.upload(Float32Array.from(values), 'float32'));
    const f = jit((p: Tensor, g: Tensor) => p.sub(g), { donateArgnums: [0] });
    const p = on([3, 4]);
    const out = f(p, on([1, 1])) as ConcreteTensor;
    expect(out.backend).toBe(noReuse);
    expect(out.toArray()).toEqual([2, 3]);
    expect(out.handle).not.toBe(handleOf(p));
    expect(() => p.data()).toThrow(DONATED);
    expect(released).toEqual([handleOf(p)]);
  });
});

describe.skipIf(gpuSkip !== null)('jit donateArgnums on the gpu', () => {
  it('gives the undonated results, invalidates the donated arrays and never writes over them', () => {
    const step = (p: Tensor[], g: Tensor) => [p[0]!.sub(g.mul(0.5)), p[1]!.exp(), p[0]!];
    const on = (values: number[]) => fromTypedArray(Float32Array.from(values), [values.length], 'float32', { backend: 'gpu' });
    const want = (jit(step)([on([1, 2, 3]), on([0, 1, 2])], on([2, 2, 2])) as Tensor[]).map((t) => t.toArray());
    const p = [on([1, 2, 3]), on([0, 1, 2])];
    const got = jit(step, { donateArgnums: [0] })(p, on([2, 2, 2])) as Tensor[];
    got.forEach((t, i) => expect(t.toArray()).toEqual(want[i]));
    expect((got[0] as ConcreteTensor).backend.name).toBe('gpu');
    expect(() => p[0]!.data()).toThrow(DONATED);
    // the identity output keeps its buffer; disposing the donated array does not free it
    (p[0] as ConcreteTensor).dispose();
    expect(got[2]!.toArray()).toEqual([1, 2, 3]);
  });
});
