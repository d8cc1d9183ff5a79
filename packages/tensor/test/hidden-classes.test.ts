/**
 * The arrays on a jitted function's per-call path keep one hidden class (core/arrays.ts): Node 20's V8 builds
 * `Array.prototype.map`'s result PACKED in its builtin and HOLEY once the caller is optimised, and code
 * optimised on one kind deoptimises on the other ("wrong map"). A training loop in a child process with
 * V8's --trace-deopt: after its warm-up, none of the per-call functions may deoptimise on a wrong map, also
 * not when a second program (a forward pass over other shapes, as a validation runs) starts.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const script = `
  import { fromTypedArray, jit, nn, numpy as np, random, setDefaultBackend, tree, valueAndGrad, vmap } from './src/index.ts';
  setDefaultBackend('cpu');
  const sizes = [64, 24, 10];
  const keys = random.splitKeys(random.key(0), 2);
  let params = sizes.slice(1).map((n, i) => [random.normal(keys[i], [n, sizes[i]]).mul(0.1), np.zeros([n])]);
  const forward = (p, x) => {
    let h = x;
    p.forEach(([w, b], i) => { h = np.matmul(h, w.T).add(b); if (i < p.length - 1) h = nn.sigmoid(h); });
    return h;
  };
  const lossOne = (p, x, t) => np.sum(nn.logSoftmax(forward(p, x)).mul(t)).neg();
  const perExample = vmap(valueAndGrad(lossOne), { inAxes: [null, 0, 0] });
  const step = jit((p, x, t) => {
    const [losses, grads] = perExample(p, x, t);
    return [tree.map((w, g) => w.sub(g.sum(0).mul(0.01)), p, grads), losses.mean()];
  }, { donateArgnums: [0] });
  const predict = jit((p, x) => np.argmax(forward(p, x), 1));
  const xs = new Float32Array(50 * 64).map((_, i) => (i * 7919 % 13) / 13);
  const ts = new Float32Array(50 * 10).map((_, i) => (i % 10 === (i / 10 | 0) % 10 ? 1 : 0));
  const x = fromTypedArray(xs, [50, 64], 'float32');
  const t = fromTypedArray(ts, [50, 10], 'float32');
  const xv = fromTypedArray(xs.subarray(0, 20 * 64), [20, 64], 'float32');
  for (let s = 1; s <= 1500; s++) {
    if (s === 400) process.stdout.write('WARM\\n');
    const [next, loss] = step(params, x, t);
    loss.item();
    params = next;
    if (s % 100 === 0) predict(params, xv).data();
  }
`;

describe('hidden classes on the per-call path', () => {
  it('no wrong-map deoptimisations in jit, the plan, pytrees or kernels after the warm-up', () => {
    const res = spawnSync(process.execPath, ['--trace-deopt', '--import', 'tsx', '--input-type=module', '-e', script], {
      cwd: fileURLToPath(new URL('..', import.meta.url)),
      encoding: 'utf8',
      timeout: 120_000,
      maxBuffer: 64 << 20,
    });
    expect(res.status, res.stderr).toBe(0);
    const after = res.stdout.split('WARM\n')[1];
    expect(after, 'the loop did not run').toBeDefined();
    const wrongMaps = after!.split('\n').filter((l) => l.includes('reason: wrong map'));
    const names = wrongMaps.map((l) => /<JSFunction ([^ ]*) ?\(sfi/.exec(l)?.[1] || '(anonymous)');
    expect(names).toEqual([]);
  });
});
