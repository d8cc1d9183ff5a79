import { describe, expect, it } from 'vitest';
import { type Backend, ConcreteTensor, type Kernel, type Tensor, array, grad, jit, makeJaxpr, nn, numpy as np, random, vmap } from '../src/index.js';
import { getBackend } from '../src/backends/backend.js';
import { compileJaxpr } from '../src/ir/execute.js';
import { optimize } from '../src/ir/optimize.js';

/** The CPU backend, with every kernel call recorded: did jit hand it a planned buffer? */
function countingBackend(): { backend: Backend; calls: { name: string; planned: boolean }[] } {
  const cpu = getBackend('cpu');
  const calls: { name: string; planned: boolean }[] = [];
  const kernels = new Map<string, Kernel>();
  for (const [name, k] of cpu.kernels) {
    kernels.set(name, (inputs, params, out) => {
      calls.push({ name, planned: out.buffer !== undefined });
      return k(inputs, params, out);
    });
  }
  const backend: Backend = {
    ...cpu,
    kernels,
    compileFused: (group) => {
      const f = cpu.compileFused!(group);
      return (inputs, buffers) => {
        calls.push({ name: 'fused_elementwise', planned: (buffers ?? []).every((b) => b !== undefined) });
        return f(inputs, buffers);
      };
    },
  };
  return { backend, calls };
}

const mlpLoss = (p: Tensor[], x: Tensor, t: Tensor): Tensor => {
  const h = nn.sigmoid(np.add(np.matmul(x, p[0]!.T), p[1]!));
  return np.negative(np.log(np.take(nn.softmax(np.matmul(h, p[2]!.T)), np.argmax(t))));
};

describe('jit buffer planning', () => {
  const keys = random.splitKeys(random.key(3), 4);
  const params = [random.normal(keys[0]!, [8, 12]), np.zeros([8]), random.normal(keys[1]!, [5, 8])];
  const xs = random.uniform(keys[2]!, [6, 12]);
  const ts = np.oneHot(random.randint(keys[3]!, [6], 0, 5), 5);
  const step = (p: Tensor[], x: Tensor, t: Tensor) => {
    const g = vmap(grad(mlpLoss), { inAxes: [null, 0, 0] })(p, x, t) as Tensor[];
    return p.map((w, i) => w.sub(g[i]!.sum(0).mul(0.1)));
  };

  it('writes every intermediate into a planned buffer; only returned arrays are allocated', () => {
    const staged = makeJaxpr(step)(params, xs, ts);
    const jaxpr = optimize(staged.jaxpr);
    const { backend, calls } = countingBackend();
    const run = compileJaxpr(jaxpr, backend);
    const args = [...params, xs, ts].map((t) => new ConcreteTensor(t.shape, t.dtype, backend, t.concrete('test').handle));
    const first = run(args);
    // A step produces an output of the jaxpr iff it was not given a planned buffer (aliasing reshapes aside).
    const outputs = new Set(jaxpr.outvars);
    const producedOutputs = jaxpr.eqns.filter((e) => e.outs.some((o) => outputs.has(o)) && e.prim.name !== 'reshape').length;
    const unplanned = calls.filter((c) => !c.planned && c.name !== 'reshape' && c.name !== 'stop_gradient');
    expect(unplanned.length).toBeLessThanOrEqual(producedOutputs);
    expect(calls.filter((c) => c.planned).length).toBeGreaterThan(unplanned.length);
    // Reusing buffers across calls must not change results.
    const second = run(args);
    first.forEach((t, i) => expect(Array.from(second[i]!.data())).toEqual(Array.from(t.data())));
  });

  it('with the params donated, the outputs too go into existing buffers: a call allocates nothing', () => {
    const staged = makeJaxpr(step)(params, xs, ts);
    const jaxpr = optimize(staged.jaxpr);
    const { backend, calls } = countingBackend();
    const run = compileJaxpr(jaxpr, backend, [true, true, true, false, false]);
    const fresh = (t: Tensor) => new ConcreteTensor(t.shape, t.dtype, backend, backend.upload(t.data(), t.dtype));
    const p = params.map(fresh);
    const x = fresh(xs);
    const t = fresh(ts);
    const want = run([...params.map(fresh), x, t]).map((r) => Array.from(r.data()));
    calls.length = 0;
    const out = run([...p, x, t]);
    expect(calls.filter((c) => !c.planned && c.name !== 'reshape' && c.name !== 'stop_gradient')).toEqual([]);
    out.forEach((r, i) => expect(r.handle).toBe(p[i]!.handle));
    out.forEach((r, i) => expect(Array.from(r.data())).toEqual(want[i]));
  });

  it('results stay correct when buffers are reused over many calls with different inputs', () => {
    const jitted = jit(step);
    for (let k = 0; k < 5; k++) {
      const x = xs.mul(k + 1);
      const got = jitted(params, x, ts) as Tensor[];
      const want = step(params, x, ts);
      got.forEach((g, i) => {
        const err = np.max(np.abs(g.sub(want[i]!))).item() as number;
        expect(err).toBeLessThan(1e-5);
      });
    }
  });

  it('returned arrays are never overwritten by a later call', () => {
    const f = jit((x: Tensor) => np.exp(x).mul(2).add(1));
    const a = f(array([1, 2, 3])) as Tensor;
    const keep = Array.from(a.data());
    f(array([4, 5, 6]));
    expect(Array.from(a.data())).toEqual(keep);
  });
});

describe('a planned matmul output reused across calls', () => {
  it('is right on every path: wasm float32 (not zeroed first), JS float64 and int32 (accumulating), K = 0', () => {
    // the product is an intermediate (its buffer is planned and reused), read by a following add
    const f = jit((a: Tensor, b: Tensor) => np.add(np.matmul(a, b), 1));
    const cases: [number[], number[], 'float32' | 'float64' | 'int32'][] = [
      [[40, 30], [30, 20], 'float32'],
      [[3, 4], [4, 5], 'float64'],
      [[3, 4], [4, 5], 'int32'],
      [[3, 0], [0, 5], 'float32'],
    ];
    for (const [sa, sb, dtype] of cases) {
      for (let call = 0; call < 3; call++) {
        const a = random.uniform(random.key(10 * call + 1), sa, { minval: -3, maxval: 3 }).astype(dtype);
        const b = random.uniform(random.key(10 * call + 2), sb, { minval: -3, maxval: 3 }).astype(dtype);
        const want = Array.from(np.add(np.matmul(a, b), 1).data());
        expect(Array.from((f(a, b) as Tensor).data())).toEqual(want);
      }
    }
  });
});

describe('planned buffers that kernels overwrite without zeroing them first', () => {
  it("hold each call's own values (transpose, broadcast, slice, concatenate, convert, select, reductions, elementwise)", () => {
    const program = (a: Tensor, b: Tensor): Tensor[] => {
      const t = a.T; // [5, 4]
      const both = np.concatenate([t, t.neg()], 0); // [10, 4]
      const part = np.slice(both, [1, 1], [9, 4]); // [8, 3]
      const picked = np.where(part.greater(0), part, np.multiply(part, b)); // b broadcasts
      const rows = picked.sum(1); // [8]
      const cols = np.max(picked, 0); // [3]
      return [rows.astype('int32'), np.exp(cols), picked];
    };
    const f = jit(program);
    for (let call = 0; call < 3; call++) {
      const a = random.normal(random.key(100 + call), [4, 5]);
      const b = random.normal(random.key(200 + call), [3]);
      const got = (f(a, b) as Tensor[]).map((x) => Array.from(x.data()));
      const want = program(a, b).map((x) => Array.from(x.data()));
      expect(got).toEqual(want);
    }
  });
});
