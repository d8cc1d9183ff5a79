import { describe, expect, it } from 'vitest';
import { type PyTree, type Tensor, array, grad } from '@xs/tensor';
import { optim } from '../src/index.js';

const flat = (t: PyTree): number[] => {
  const out: number[] = [];
  const walk = (x: unknown): void => {
    if (Array.isArray(x)) x.forEach(walk);
    else if (x && typeof x === 'object' && !('shape' in x)) Object.keys(x).sort().forEach((k) => walk((x as Record<string, unknown>)[k]));
    else out.push(...(x as Tensor).data());
  };
  walk(t);
  return out;
};
const close = (got: number[], want: number[], digits = 6) => {
  expect(got).toHaveLength(want.length);
  got.forEach((g, i) => expect(g).toBeCloseTo(want[i]!, digits));
};

// params {b: [[0.5]], w: [[1, 2]]} -> flat order b, w
const params = () => ({ w: array([[1, 2]]), b: [array([0.5])] });
const grads = () => ({ w: array([[0.5, -1]]), b: [array([2])] });

describe('sgd', () => {
  it('one step: params - lr * grads', () => {
    const opt = optim.sgd(0.1);
    const s0 = opt.init(params());
    expect(s0).toEqual({ count: 0 });
    const [u, s1] = opt.update(grads(), s0);
    close(flat(u), [-0.2, -0.05, 0.1]);
    expect(s1.count).toBe(1);
    expect(s0.count).toBe(0); // pure: the old state is unchanged
    const p = optim.applyUpdates(params(), u);
    close(flat(p), [0.3, 0.95, 2.1]);
    expect((p as { w: Tensor }).w.dtype).toBe('float32');
    expect((p as { w: Tensor }).w.shape).toEqual([1, 2]);
  });

  it('follows a schedule: lr(0) at the first update, lr(1) at the second', () => {
    const opt = optim.sgd((step) => 0.1 * (step + 1));
    let s = opt.init(params());
    const us: number[][] = [];
    for (let i = 0; i < 2; i++) {
      const [u, n] = opt.update(grads(), s);
      us.push(flat(u));
      s = n;
    }
    close(us[0]!, [-0.2, -0.05, 0.1]);
    close(us[1]!, [-0.4, -0.1, 0.2]);
  });

  it('minimises f(w) = sum((w-3)^2) with grad: w1 = 0.6, w2 = 1.08 from 0 at lr 0.1', () => {
    const f = (w: Tensor) => w.sub(3).square().sum();
    const opt = optim.sgd(0.1);
    let w: Tensor = array([0, 0]);
    let s = opt.init(w);
    const seen: number[] = [];
    for (let i = 0; i < 2; i++) {
      const [u, n] = opt.update(grad(f)(w), s, w);
      w = optim.applyUpdates(w, u);
      s = n;
      seen.push(w.data()[0]!);
    }
    close(seen, [0.6, 1.08]);
  });

  it('rejects grads whose structure differs from the state', () => {
    const opt = optim.momentum(0.1);
    const s = opt.init(params());
    expect(() => opt.update({ w: array([[1, 1]]) }, s)).toThrow(/structure/);
  });
});

describe('momentum', () => {
  it('heavy ball: v1 = g, v2 = g + 0.9 g; updates -lr v', () => {
    const opt = optim.momentum(0.1, 0.9);
    const s0 = opt.init(params());
    close(flat(s0.velocity), [0, 0, 0]);
    const [u1, s1] = opt.update(grads(), s0);
    const [u2, s2] = opt.update(grads(), s1);
    close(flat(u1), [-0.2, -0.05, 0.1]);
    close(flat(u2), [-0.38, -0.095, 0.19]);
    close(flat(s2.velocity), [3.8, 0.95, -1.9]);
    close(flat(s1.velocity), [2, 0.5, -1]); // pure
  });

  it('nesterov: updates -lr (g + beta v)', () => {
    const opt = optim.momentum(0.1, 0.9, { nesterov: true });
    const [u1, s1] = opt.update(grads(), opt.init(params()));
    const [u2] = opt.update(grads(), s1);
    close(flat(u1), [-0.38, -0.095, 0.19]);
    close(flat(u2), [-0.542, -0.1355, 0.271]);
  });
});

describe('adam', () => {
  it('three hand-computed steps (g = 1, 0.5, -2; lr 0.1)', () => {
    const opt = optim.adam(0.1, 0.9, 0.999, 1e-8);
    let s = opt.init(array([0]));
    const got: number[] = [];
    for (const g of [1, 0.5, -2]) {
      const [u, n] = opt.update(array([g]), s);
      got.push((u as Tensor).data()[0]!);
      s = n;
    }
    close(got, [-0.1, -0.0932179627, 0.0206357026], 6);
    expect(s.count).toBe(3);
    close(flat(s.mu), [-0.074]);
    close(flat(s.nu), [0.005247751], 8);
  });

  it('first step is -lr * sign(g) on every leaf of a pytree', () => {
    const opt = optim.adam(0.01);
    const [u] = opt.update(grads(), opt.init(params()));
    close(flat(u), [-0.01, -0.01, 0.01], 6);
  });

  it('converges on a quadratic', () => {
    const f = (w: Tensor) => w.sub(array([3, -1])).square().sum();
    const opt = optim.adam(0.1);
    let w: Tensor = array([0, 0]);
    let s = opt.init(w);
    for (let i = 0; i < 300; i++) {
      const [u, n] = opt.update(grad(f)(w), s);
      w = optim.applyUpdates(w, u);
      s = n;
    }
    close([...w.data()], [3, -1], 2);
  });

  it('validates hyper-parameters', () => {
    expect(() => optim.adam(0.1, 1)).toThrow(/b1 must be in \[0, 1\)/);
    expect(() => optim.momentum(0.1, -1)).toThrow(/beta/);
    expect(() => optim.sgd(NaN)).toThrow(/finite/);
  });
});

describe('schedules', () => {
  it('constant', () => {
    expect(optim.constant(0.01)(0)).toBe(0.01);
    expect(optim.constant(0.01)(12345)).toBe(0.01);
  });

  it('exponential decay: continuous, staircase, delayed, bounded', () => {
    const e = optim.exponentialDecay({ initValue: 0.1, transitionSteps: 10, decayRate: 0.96 });
    expect(e(0)).toBe(0.1);
    expect(e(5)).toBeCloseTo(0.0979795897, 10);
    expect(e(20)).toBeCloseTo(0.1 * 0.9216, 12);
    const st = optim.exponentialDecay({ initValue: 1, transitionSteps: 10, decayRate: 0.5, staircase: true });
    expect([st(9), st(10), st(25)]).toEqual([1, 0.5, 0.25]);
    const d = optim.exponentialDecay({ initValue: 1, transitionSteps: 2, decayRate: 0.5, transitionBegin: 4, endValue: 0.2 });
    expect([d(0), d(4), d(5), d(6), d(100)].map((v) => +v.toFixed(10))).toEqual([1, 1, 0.7071067812, 0.5, 0.2]);
  });

  it('cosine decay: 1 -> 0.5 at half way -> alpha at the end, held after', () => {
    const c = optim.cosineDecay({ initValue: 2, decaySteps: 100 });
    expect(c(0)).toBe(2);
    expect(c(25)).toBeCloseTo(2 * 0.8535533906, 10);
    expect(c(50)).toBeCloseTo(1, 12);
    expect(c(100)).toBeCloseTo(0, 12);
    expect(c(150)).toBeCloseTo(0, 12);
    const a = optim.cosineDecay({ initValue: 1, decaySteps: 10, alpha: 0.1 });
    expect(a(10)).toBeCloseTo(0.1, 12);
    expect(a(5)).toBeCloseTo(0.55, 12);
  });

  it('step decay and piecewise constant', () => {
    const s = optim.stepDecay({ initValue: 0.1, stepSize: 30, gamma: 0.1 });
    expect(s(29)).toBe(0.1);
    expect(s(30)).toBeCloseTo(0.01, 15);
    expect(s(65)).toBeCloseTo(0.001, 15);
    const p = optim.piecewiseConstant(1, { 20: 0.5, 10: 0.5 });
    expect([p(0), p(9), p(10), p(19), p(20), p(1000)]).toEqual([1, 1, 0.5, 0.5, 0.25, 0.25]);
  });

  it('rejects bad steps and options', () => {
    expect(() => optim.constant(1)(-1)).toThrow(/non-negative integer/);
    expect(() => optim.constant(1)(1.5)).toThrow(/non-negative integer/);
    expect(() => optim.cosineDecay({ initValue: 1, decaySteps: 0 })).toThrow(/decaySteps/);
    expect(() => optim.stepDecay({ initValue: 1, stepSize: 0, gamma: 0.5 })).toThrow(/stepSize/);
    expect(() => optim.exponentialDecay({ initValue: 1, transitionSteps: 0, decayRate: 0.5 })).toThrow(/transitionSteps/);
  });

  it('adam with a cosine schedule uses lr(step) per update', () => {
    const opt = optim.adam(optim.cosineDecay({ initValue: 0.1, decaySteps: 2 }));
    let s = opt.init(array([0]));
    const got: number[] = [];
    for (let i = 0; i < 3; i++) {
      const [u, n] = opt.update(array([1]), s);
      got.push((u as Tensor).data()[0]!);
      s = n;
    }
    // constant gradient: m̂ = v̂^(1/2) = 1, so update = -lr(step): 0.1, 0.05, 0
    close(got, [-0.1, -0.05, 0], 6);
  });
});
