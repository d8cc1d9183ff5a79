/**
 * Optimisers as pure functions on pytrees, in the style of optax: each is a pair `init(params) -> state` and
 * `update(grads, state, params?) -> [updates, newState]`; `applyUpdates(params, updates)` adds the updates.
 * Nothing is mutated: every call returns new trees and a new state. The step count in each state feeds
 * the learning-rate schedule (0 at the first update).
 */
import { type PyTree, type Tensor, tree, zerosLike } from '@xs/tensor';
import { type LearningRate, asSchedule } from './schedules.js';

/** An optimiser: state initialisation and a pure update rule. */
export interface GradientTransformation<S> {
  /**
   * The initial state for `params`.
   * @example
   * let state = opt.init(params);
   */
  init(params: PyTree): S;
  /**
   * The updates (to add to the parameters) for `grads`, and the next state. `grads` must have the structure of the params.
   * @example
   * const [updates, next] = opt.update(grads, state);
   */
  update(grads: PyTree, state: S, params?: PyTree): [PyTree, S];
}

/** State of {@link sgd}: the number of updates applied. */
export interface SgdState {
  /** Updates applied so far. */
  readonly count: number;
}

/** State of {@link momentum}: update count and velocity (a pytree like the params). */
export interface MomentumState {
  /** Updates applied so far. */
  readonly count: number;
  /** Running velocity `v <- g + beta v`. */
  readonly velocity: PyTree;
}

/** State of {@link adam}: update count and the first and second moment estimates. */
export interface AdamState {
  /** Updates applied so far. */
  readonly count: number;
  /** First moment (mean of gradients), a pytree like the params. */
  readonly mu: PyTree;
  /** Second moment (mean of squared gradients), a pytree like the params. */
  readonly nu: PyTree;
}

const map1 = (f: (a: Tensor) => Tensor, t: PyTree): PyTree => tree.map<Tensor>(f, t);
const map2 = (f: (a: Tensor, b: Tensor) => Tensor, t: PyTree, u: PyTree): PyTree => tree.map<Tensor>((a, b) => f(a, b!), t, u);
const map3 = (f: (a: Tensor, b: Tensor, c: Tensor) => Tensor, t: PyTree, u: PyTree, v: PyTree): PyTree => tree.map<Tensor>((a, b, c) => f(a, b!, c!), t, u, v);

/**
 * Stochastic gradient descent: `updates = -lr(step) * grads`.
 * @example
 * const opt = optim.sgd(0.01);
 * let state = opt.init(params);
 * const [updates, next] = opt.update(grads, state);
 * params = optim.applyUpdates(params, updates); state = next;
 */
export function sgd(learningRate: LearningRate): GradientTransformation<SgdState> {
  const lr = asSchedule(learningRate);
  return {
    init: () => Object.freeze({ count: 0 }),
    update(grads, state) {
      const rate = lr(state.count);
      return [map1((g) => g.mul(-rate), grads), Object.freeze({ count: state.count + 1 })];
    },
  };
}

/** Options of {@link momentum}. */
export interface MomentumOptions {
  /** Nesterov momentum: step along `g + beta v'` instead of `v'` (default false). */
  nesterov?: boolean;
}

/**
 * SGD with (heavy-ball) momentum, as optax's `sgd(lr, momentum=beta)`: `v' = g + beta v`, `updates = -lr(step) v'`
 * (Nesterov: `updates = -lr(step) (g + beta v')`). The velocity starts at zero.
 * @example const opt = optim.momentum(0.1, 0.9);
 */
export function momentum(learningRate: LearningRate, beta = 0.9, options: MomentumOptions = {}): GradientTransformation<MomentumState> {
  const lr = asSchedule(learningRate);
  if (!Number.isFinite(beta) || beta < 0) throw new RangeError(`momentum: beta must be a finite number >= 0, got ${beta}`);
  return {
    init: (params) => Object.freeze({ count: 0, velocity: map1((p) => zerosLike(p), params) }),
    update(grads, state) {
      const rate = lr(state.count);
      const velocity = map2((g, v) => g.add(v.mul(beta)), grads, state.velocity);
      const direction = options.nesterov ? map2((g, v) => g.add(v.mul(beta)), grads, velocity) : velocity;
      return [map1((d) => d.mul(-rate), direction), Object.freeze({ count: state.count + 1, velocity })];
    },
  };
}

/** Options of {@link adam} beyond the usual four numbers. */
export interface AdamOptions {
  /** Added to the second moment inside the square root (optax's `eps_root`, default 0). */
  epsRoot?: number;
}

/**
 * Adam (Kingma & Ba), as optax's `adam`: `m' = b1 m + (1-b1) g`, `v' = b2 v + (1-b2) g²`,
 * `m̂ = m' / (1 - b1^t)`, `v̂ = v' / (1 - b2^t)` with `t` the 1-based step, and
 * `updates = -lr(step) m̂ / (sqrt(v̂ + epsRoot) + eps)`.
 * @example const opt = optim.adam(1e-3); // b1 0.9, b2 0.999, eps 1e-8
 */
export function adam(learningRate: LearningRate, b1 = 0.9, b2 = 0.999, eps = 1e-8, options: AdamOptions = {}): GradientTransformation<AdamState> {
  const lr = asSchedule(learningRate);
  for (const [name, v] of [['b1', b1], ['b2', b2]] as const) {
    if (!(v >= 0 && v < 1)) throw new RangeError(`adam: ${name} must be in [0, 1), got ${v}`);
  }
  if (!(eps >= 0)) throw new RangeError(`adam: eps must be >= 0, got ${eps}`);
  const epsRoot = options.epsRoot ?? 0;
  return {
    init: (params) => Object.freeze({ count: 0, mu: map1((p) => zerosLike(p), params), nu: map1((p) => zerosLike(p), params) }),
    update(grads, state) {
      const rate = lr(state.count);
      const t = state.count + 1;
      const mu = map2((g, m) => m.mul(b1).add(g.mul(1 - b1)), grads, state.mu);
      const nu = map2((g, v) => v.mul(b2).add(g.mul(g).mul(1 - b2)), grads, state.nu);
      const c1 = 1 - b1 ** t;
      const c2 = 1 - b2 ** t;
      const updates = map3((_g, m, v) => m.div(c1).div(v.div(c2).add(epsRoot).sqrt().add(eps)).mul(-rate), grads, mu, nu);
      return [updates, Object.freeze({ count: t, mu, nu })];
    },
  };
}

/**
 * `params + updates`, leaf by leaf (the structures must match).
 * @example params = applyUpdates(params, updates);
 */
export function applyUpdates<T extends PyTree>(params: T, updates: PyTree): T {
  return map2((p, u) => p.add(u).astype(p.dtype), params, updates) as T;
}
