/**
 * jit: for random programs `jit(f)(x)` equals `f(x)` (float32 within ~1e-5 relative, float64 ~1e-12); the cache
 * (one trace per signature: structure, shapes, dtypes, static values); trace-time side effects; the printed
 * jaxpr; constants, pytrees, numbers and errors.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { type Tensor, array, evalJaxpr, grad, jit, makeJaxpr, nn, numpy as np, vmap } from '../src/index.js';
import {
  buildProgram,
  compareTrees,
  describeProgram,
  generateProgram,
  programInputs,
  randomTensor,
  rngFrom,
  tolFor,
} from './helpers/random-programs.js';

const seedArb = fc.integer({ min: 0, max: 0x7fffffff });

describe('jit: random programs', () => {
  for (const dtype of ['float32', 'float64'] as const) {
    it(`jit(f)(x) equals f(x) (${dtype})`, () => {
      fc.assert(
        fc.property(seedArb, (seed) => {
          const p = generateProgram(seed, { dtype, maxSteps: 10 });
          const f = buildProgram(p);
          const xs = programInputs(p, rngFrom(seed + 1));
          const jf = jit(f);
          const expected = f(...xs);
          const m = compareTrees(jf(...xs), expected, tolFor(dtype));
          if (m) throw new Error(`${m}\n${describeProgram(p)}\n${jf.lower(...xs).toString()}`);
          // The staged (unoptimised) jaxpr, replayed op by op, agrees too.
          const staged = makeJaxpr(f)(...xs);
          const replayed = evalJaxpr(staged.jaxpr, xs);
          const m2 = compareTrees(replayed.length === 1 ? replayed[0] : replayed, expected, tolFor(dtype));
          if (m2) throw new Error(`makeJaxpr replay: ${m2}\n${describeProgram(p)}`);
        }),
        { numRuns: 150 },
      );
    });
  }

  it('repeated calls with new values hit the cache (one trace), and stay correct', () => {
    fc.assert(
      fc.property(seedArb, fc.integer({ min: 2, max: 4 }), (seed, calls) => {
        const p = generateProgram(seed, { dtype: 'float64' });
        const f = buildProgram(p);
        let traces = 0;
        const jf = jit((...xs: Tensor[]) => {
          traces++;
          return f(...xs);
        });
        for (let c = 0; c < calls; c++) {
          const xs = programInputs(p, rngFrom(seed + 17 * c));
          const m = compareTrees(jf(...xs), f(...xs), tolFor('float64'));
          if (m) throw new Error(`call ${c}: ${m}\n${describeProgram(p)}`);
        }
        expect(jf.cacheSize).toBe(1);
        expect(traces).toBe(1);
      }),
      { numRuns: 40 },
    );
  });
});

describe('jit: cache keys', () => {
  it('a new shape, dtype or structure retraces; a seen one does not', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.array(fc.integer({ min: 1, max: 3 }), { minLength: 1, maxLength: 3 }), fc.constantFrom('float32', 'float64') as fc.Arbitrary<'float32' | 'float64'>), {
          minLength: 1,
          maxLength: 6,
        }),
        seedArb,
        (sigs, seed) => {
          let traces = 0;
          const f = (x: Tensor) => {
            traces++;
            return np.sin(x).sum(0).add(x.max());
          };
          const jf = jit(f);
          const seen = new Set<string>();
          sigs.forEach(([shape, dtype], k) => {
            const x = randomTensor(rngFrom(seed + k), shape, dtype);
            const m = compareTrees(jf(x), f(x), tolFor(dtype));
            if (m) throw new Error(m);
            traces--; // the eager reference call above traced nothing, but counted
            seen.add(`${dtype}${shape}`);
            expect(jf.cacheSize).toBe(seen.size);
          });
          expect(traces).toBe(seen.size);
        },
      ),
      { numRuns: 40 },
    );
  });

  it('pytree structure is part of the key; numbers are dynamic (no retrace for a new value)', () => {
    let traces = 0;
    const jf = jit((p: { w: Tensor; b?: Tensor }, s: number) => {
      traces++;
      return p.b ? p.w.mul(s).add(p.b) : p.w.mul(s);
    });
    const w = array([1, 2]);
    expect((jf({ w }, 2) as Tensor).toArray()).toEqual([2, 4]);
    expect((jf({ w }, 3) as Tensor).toArray()).toEqual([3, 6]);
    expect(jf.cacheSize).toBe(1);
    expect((jf({ w, b: array([1, 1]) }, 3) as Tensor).toArray()).toEqual([4, 7]);
    expect(jf.cacheSize).toBe(2);
    expect(traces).toBe(2);
  });

  it('staticArgnums values are part of the key (numbers, strings, configs, functions, NaN/Infinity/-0)', () => {
    let traces = 0;
    const jf = jit(
      (x: Tensor, n: number, mode: string) => {
        traces++;
        return mode === 'pow' ? np.power(x, n) : x.mul(n);
      },
      { staticArgnums: [1, -1] },
    );
    const x = array([1, 2, 3]);
    expect((jf(x, 2, 'pow') as Tensor).toArray()).toEqual([1, 4, 9]);
    expect((jf(x, 3, 'pow') as Tensor).toArray()).toEqual([1, 8, 27]);
    expect((jf(x, 2, 'mul') as Tensor).toArray()).toEqual([2, 4, 6]);
    expect((jf(array([5, 6, 7]), 2, 'pow') as Tensor).toArray()).toEqual([25, 36, 49]);
    expect(jf.cacheSize).toBe(3);
    expect(traces).toBe(3);

    // Special numbers are distinct keys (JSON would print them all as null / 0).
    const scale = jit((t: Tensor, s: number) => t.mul(s), { staticArgnums: [1] });
    const one = array([1]);
    expect((scale(one, Infinity) as Tensor).toArray()).toEqual([Infinity]);
    expect((scale(one, -Infinity) as Tensor).toArray()).toEqual([-Infinity]);
    expect(Number.isNaN((scale(one, NaN) as Tensor).item())).toBe(true);
    expect(Object.is((scale(one, -0) as Tensor).item(), -0)).toBe(true);
    expect(Object.is((scale(one, 0) as Tensor).item(), 0)).toBe(true);
    expect(scale.cacheSize).toBe(5);

    // A static callable is keyed by identity.
    const act = jit((t: Tensor, g: (u: Tensor) => Tensor) => g(t), { staticArgnums: [1] });
    const y = array([-1, 0.5]);
    expect(compareTrees(act(y, nn.relu), nn.relu(y))).toBeNull();
    expect(compareTrees(act(y, nn.sigmoid), nn.sigmoid(y))).toBeNull();
    expect(compareTrees(act(y, nn.relu), nn.relu(y))).toBeNull();
    expect(act.cacheSize).toBe(2);

    // A plain config object is keyed by value.
    const cfg = jit((t: Tensor, c: { k: number; axes: number[] }) => t.mul(c.k).sum(c.axes), { staticArgnums: [1] });
    const z = array([[1, 2], [3, 4]]);
    expect((cfg(z, { k: 2, axes: [0] }) as Tensor).toArray()).toEqual([8, 12]);
    expect((cfg(z, { axes: [0], k: 2 }) as Tensor).toArray()).toEqual([8, 12]);
    expect((cfg(z, { k: 2, axes: [1] }) as Tensor).toArray()).toEqual([6, 14]);
    expect(cfg.cacheSize).toBe(2);
  });

  it('the check against the last call (no cache key built) takes nothing else for it: structure, shape, dtype, mutated configs', () => {
    let traces = 0;
    const jf = jit(
      (p: Tensor[] | { a: Tensor; b: Tensor | null }, c: { k: number }) => {
        traces++;
        const [a, b] = Array.isArray(p) ? [p[0]!, p[1]] : [p.a, p.b];
        return b ? a.mul(c.k).add(b) : a.mul(c.k);
      },
      { staticArgnums: [1] },
    );
    const cfg = { k: 2 };
    const a = array([1, 2]);
    const b = array([10, 20]);
    expect((jf([a, b], cfg) as Tensor).toArray()).toEqual([12, 24]);
    expect((jf([b, a], cfg) as Tensor).toArray()).toEqual([21, 42]); // the same signature: no new trace
    expect(traces).toBe(1);
    cfg.k = 3; // the same object, changed: a plain object is keyed by its contents
    expect((jf([a, b], cfg) as Tensor).toArray()).toEqual([13, 26]);
    expect((jf({ a, b }, cfg) as Tensor).toArray()).toEqual([13, 26]); // as many leaves, another structure
    expect((jf({ a, b: null }, cfg) as Tensor).toArray()).toEqual([3, 6]);
    expect((jf({ a, b, c: a } as never, cfg) as Tensor).toArray()).toEqual([13, 26]); // an extra key: another structure
    expect((jf([array([1, 2, 3]), array([1, 1, 1])], cfg) as Tensor).toArray()).toEqual([4, 7, 10]); // another shape
    expect((jf([array([1, 2], 'float64'), array([1, 1], 'float64')], cfg) as Tensor).dtype).toBe('float64'); // another dtype
    expect((jf([a, b], { k: 3 }) as Tensor).toArray()).toEqual([13, 26]); // an equal config: the cached program
    expect(jf.cacheSize).toBe(7);
    expect(traces).toBe(7);
  });

  it('staticArgnums out of range is an error', () => {
    expect(() => jit((x: Tensor) => x, { staticArgnums: [1] })(array([1]))).toThrow(/staticArgnums 1 out of range for 1 arguments/);
    expect(() => makeJaxpr((x: Tensor) => x, { staticArgnums: [-2] })(array([1]))).toThrow(/staticArgnums -2 out of range/);
  });
});

describe('jit: tracing semantics', () => {
  it('JS side effects run only while tracing', () => {
    const log: string[] = [];
    const jf = jit((x: Tensor) => {
      log.push('traced');
      return x.mul(2);
    });
    for (let i = 0; i < 5; i++) jf(array([i]));
    expect(log).toEqual(['traced']);
    jf(array([1, 2]));
    expect(log).toEqual(['traced', 'traced']);
  });

  it('a closed-over array becomes a constant; a global read at trace time is frozen', () => {
    const c = array([10, 20]);
    let k = 1;
    const jf = jit((x: Tensor) => x.add(c).mul(k));
    expect((jf(array([1, 2])) as Tensor).toArray()).toEqual([11, 22]);
    k = 2; // not seen: the cached trace baked in k = 1
    expect((jf(array([1, 2])) as Tensor).toArray()).toEqual([11, 22]);
    expect(makeJaxpr((x: Tensor) => x.add(c))(array([1, 2])).toString()).toBe(
      ['{ lambda a:f32[2] ; b:f32[2]. let', '    c:f32[2] = add b a', '  in (c) }'].join('\n'),
    );
  });

  it('outputs that are inputs, constants, numbers or nested pytrees', () => {
    const x = array([1, 2]);
    const c = array([5]);
    const out = jit((a: Tensor, b: { u: Tensor }) => ({ same: a, konst: c, num: 3, nested: [b.u.mul(2), [a.add(b.u)]] }))(x, { u: array([3, 4]) }) as any;
    expect(out.same.toArray()).toEqual([1, 2]);
    expect(out.konst.toArray()).toEqual([5]);
    expect(out.num.item()).toBe(3);
    expect(out.nested[0].toArray()).toEqual([6, 8]);
    expect(out.nested[1][0].toArray()).toEqual([4, 6]);
  });

  it('reading a value while tracing is an error that says so', () => {
    expect(() => jit((x: Tensor) => ((x.sum().item() as number) > 0 ? x : x.neg()))(array([1]))).toThrow(/not known while jit traces/);
    expect(() => jit((x: Tensor) => x.data())(array([1]))).toThrow(/staticArgnums/);
    expect(() => jit((x: Tensor) => x)('a' as unknown as Tensor)).toThrow(/pytrees of Tensors and numbers/);
    let leaked: Tensor | null = null;
    jit((x: Tensor) => {
      leaked = x;
      return x;
    })(array([1]));
    expect(() => leaked!.add(1)).toThrow(/escaped the transformation/);
  });

  it('jit(jit(f)) with foldable constants inside, and an eager inner jit inside an outer trace', () => {
    const inner = jit((x: Tensor) => x.add(np.exp(array([1, 2, 3]))));
    const x = array([1, 1, 1]);
    const expected = x.add(np.exp(array([1, 2, 3])));
    expect(compareTrees(jit(inner)(x), expected, tolFor('float32'))).toBeNull();
    // The inner jitted function is called on a constant (no tracer) while the outer one traces.
    const c = array([0.5, 0.25]);
    const outer = jit((y: Tensor) => y.mul(inner2(c)));
    const inner2 = jit((t: Tensor) => t.mul(np.exp(array([0, 0]))).add(1));
    expect(compareTrees(outer(array([2, 4])), array([3, 5]))).toBeNull();
  });
});

describe('jit: printed jaxprs', () => {
  it('makeJaxpr prints variable names, types, params and outputs like JAX', () => {
    const f = (x: Tensor, y: Tensor) => np.sin(x).mul(2).add(np.matmul(x, y).sum(1, true));
    const text = makeJaxpr(f)(array([[1, 2, 3], [4, 5, 6]]), array([[1], [2], [3]])).toString();
    expect(text).toBe(
      [
        '{ lambda a:f32[] ; b:f32[2,3] c:f32[3,1]. let',
        '    d:f32[2,3] = sin b',
        '    e:f32[1,1] = reshape[shape=[1,1]] a',
        '    f:f32[2,3] = mul d e',
        '    g:f32[2,1] = dot_general[contract=[[1],[0]], batch=[[],[]]] b c',
        '    h:f32[2] = reduce_sum[axes=[1]] g',
        '    i:f32[2,1] = reshape[shape=[2,1]] h',
        '    j:f32[2,3] = add f i',
        '  in (j) }',
      ].join('\n'),
    );
  });

  it('float64, int32 and bool types; several outputs', () => {
    const f = (x: Tensor, i: Tensor) => [nn.sigmoid(np.matmul(x, x.T)), np.take(x, i, 1).greater(0), np.argmax(x, 1)];
    const text = makeJaxpr(f)(array([[1, 2, 3], [4, 5, 6]], 'float64'), array([2, 0], 'int32')).toString();
    expect(text).toBe(
      [
        '{ lambda a:f64[] ; b:f64[2,3] c:i32[2]. let',
        '    d:f64[3,2] = transpose[perm=[1,0]] b',
        '    e:f64[2,2] = dot_general[contract=[[1],[0]], batch=[[],[]]] b d',
        '    f:f64[2,2] = logistic e',
        '    g:f64[2,2] = gather[axis=1] b c',
        '    h:f64[1,1] = reshape[shape=[1,1]] a',
        '    i:bool[2,2] = gt g h',
        '    j:i32[2] = argmax[axis=1] b',
        '  in (f, i, j) }',
      ].join('\n'),
    );
  });

  it('the optimised jaxpr shows fused groups with their sub-jaxpr', () => {
    const jf = jit((x: Tensor) => np.tanh(x.mul(x)).add(x));
    const text = jf.lower(array([1, 2, 3])).toString();
    expect(text).toBe(
      [
        '{ lambda ; a:f32[3]. let',
        '    b:f32[3] = fused_elementwise[jaxpr={...}] a',
        '      { lambda ; a:f32[3]. let',
        '          b:f32[3] = mul a a',
        '          c:f32[3] = tanh b',
        '          d:f32[3] = add c a',
        '        in (d) }',
        '  in (b) }',
      ].join('\n'),
    );
  });

  it('names continue past z as ba, bb, ...', () => {
    const f = (x: Tensor) => {
      let y = x;
      for (let i = 0; i < 30; i++) y = np.sin(y);
      return y;
    };
    const lines = makeJaxpr(f)(array([1])).toString().split('\n');
    expect(lines[26]).toBe('    ba:f32[1] = sin z');
    expect(lines.at(-1)).toBe('  in (be) }');
  });
});

describe('jit: under other transformations', () => {
  it('grad and vmap of a jitted random program agree with the plain program', () => {
    fc.assert(
      fc.property(seedArb, (seed) => {
        const p = generateProgram(seed, { dtype: 'float64', multiOutput: false });
        const f = buildProgram(p) as (...xs: Tensor[]) => Tensor;
        const loss = (...xs: Tensor[]) => f(...xs).sum();
        const xs = programInputs(p, rngFrom(seed + 3));
        const argnums = xs.map((_, i) => i);
        const m = compareTrees(grad(jit(loss), { argnums })(...xs), grad(loss, { argnums })(...xs), tolFor('float64'));
        if (m) throw new Error(`${m}\n${describeProgram(p)}`);
        const bx = programInputs(p, rngFrom(seed + 4), 2);
        const m2 = compareTrees(vmap(jit(f))(...bx), vmap(f)(...bx), tolFor('float64'));
        if (m2) throw new Error(`${m2}\n${describeProgram(p)}`);
      }),
      { numRuns: 60 },
    );
  });
});
