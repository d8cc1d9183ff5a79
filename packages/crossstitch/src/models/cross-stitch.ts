/**
 * The cross-stitch network of Misra et al. (CVPR 2016), for two tasks, on the seed notebook's MLPs, and the
 * hard-parameter-sharing baseline it is compared with.
 *
 * Two task towers `A` and `B` (each the notebook's sigmoid MLP: hidden layers `sigmoid(h·Wᵀ + b)`, head
 * `h·Wₗᵀ` without bias), and after EACH hidden layer's activation a cross-stitch unit
 *
 *     [hA'; hB'] = [[aAA, aAB], [aBA, aBB]] · [hA; hB]
 *
 * that mixes the two towers' activations; the next layer of tower A reads `hA'`, of tower B `hB'`. Each tower
 * keeps its own head and softmax. One 2x2 alpha per layer (`mode: 'layer'`, stored as `[2, 2, 1]`) or one per
 * unit (`mode: 'unit'`, `[2, 2, h]`: unit `u` of `hA'` is `aAA[u] hA[u] + aAB[u] hB[u]`). Initialised to
 * `(same, different) = (0.9, 0.1)` by default (`aAA = aBB = 0.9`, `aAB = aBA = 0.1`); the identity
 * `(1, 0)` reproduces the two towers exactly. The diagonal-only ablation ({@link initDiagonalAlpha},
 * {@link diagonalAlpha}) learns `aAA`, `aBB` and pins `aAB = aBA = 0`: two independent towers whose hidden
 * activations are scaled by learned factors.
 *
 * ## Gradients of the unit (derived from the formula above)
 *
 * Write `gA = ∂L/∂hA'` and `gB = ∂L/∂hB'` (what backpropagation brings to the unit's outputs). Since
 * `hA'[u] = aAA[u] hA[u] + aAB[u] hB[u]` and `hB'[u] = aBA[u] hA[u] + aBB[u] hB[u]`:
 *
 *     ∂L/∂aAA[u] = gA[u] hA[u]      ∂L/∂aAB[u] = gA[u] hB[u]
 *     ∂L/∂aBA[u] = gB[u] hA[u]      ∂L/∂aBB[u] = gB[u] hB[u]
 *     ∂L/∂hA[u]  = aAA[u] gA[u] + aBA[u] gB[u]
 *     ∂L/∂hB[u]  = aAB[u] gA[u] + aBB[u] gB[u]
 *
 * i.e. `∂L/∂α_ij = g_i ⊙ h_j` and `∂L/∂h_j = Σ_i α_ij g_i` (`∂L/∂h = αᵀ g`). For one alpha per layer, the
 * scalar `α_ij` is shared by all units, so its gradient is the sum over units, `Σ_u g_i[u] h_j[u]`; over a
 * batch, also summed over examples. (The paper prints `∂L/∂α_AB = ∂L/∂x̃_B x_A`, with the indices of the
 * output and input swapped relative to its own forward equation `x̃_A = α_AA x_A + α_AB x_B`; the formula
 * above follows the forward equation.) {@link crossStitchUnitVjp} implements exactly these formulas; the
 * tests check them against autodiff and against central finite differences in float64.
 */
import { type Tensor, fromTypedArray, nn, numpy as np } from '@xs/tensor';
import type { Layer, MlpParams } from './mlp.js';

/** One 2x2 alpha per hidden layer, or one per unit of the layer. */
export type AlphaMode = 'layer' | 'unit';

/** A cross-stitch network: two towers (`[[W0,b0],...,[Wₗ,bₗ]]` each, `W` as `[out, in]`) and one alpha per hidden layer. */
export interface CrossStitchParams {
  /** Tower of task A (MNIST in both benchmarks). */
  a: MlpParams;
  /** Tower of task B (Fashion-MNIST). */
  b: MlpParams;
  /** Per hidden layer, `[2, 2, k]` with `k = 1` (per layer) or the layer's width (per unit): `alpha[i][j]` weighs tower j's activation into tower i. */
  alpha: Tensor[];
}

/** The (same, different) initial values of the paper: 0.9 on the diagonal, 0.1 off it. */
export const PAPER_ALPHA_INIT: readonly [number, number] = Object.freeze([0.9, 0.1]) as readonly [number, number];

/**
 * Alphas for hidden layers of widths `hidden`: `[[same, diff], [diff, same]]`, per layer `[2, 2, 1]` or per unit `[2, 2, h]`.
 * @example initAlpha([60, 20], 'unit') // [ [2,2,60], [2,2,20] ], 0.9 / 0.1
 * @example initAlpha([60, 20], 'layer', [1, 0]) // identity: the towers run unchanged
 */
export function initAlpha(hidden: readonly number[], mode: AlphaMode, init: readonly [number, number] = PAPER_ALPHA_INIT, dtype: 'float32' | 'float64' = 'float32'): Tensor[] {
  const [same, diff] = init;
  return hidden.map((h) => {
    const k = mode === 'unit' ? h : 1;
    const data = dtype === 'float64' ? new Float64Array(4 * k) : new Float32Array(4 * k);
    for (let u = 0; u < k; u++) {
      data[u] = same; // AA
      data[k + u] = diff; // AB
      data[2 * k + u] = diff; // BA
      data[3 * k + u] = same; // BB
    }
    return fromTypedArray(data, [2, 2, k], dtype);
  });
}

/**
 * Initial diagonals of diagonal-only alphas (the `cross-stitch-diag` ablation): per hidden layer `[2, k]`, row 0
 * the scale of tower A, row 1 of tower B, all `same` (default 0.9, the paper's "same" weight); `k = 1` per
 * layer, the layer's width per unit. {@link diagonalAlpha} turns one into a `[2, 2, k]` alpha with zeros off
 * the diagonal.
 * @example initDiagonalAlpha([60, 20], 'layer') // [ [2,1], [2,1] ], all 0.9
 */
export function initDiagonalAlpha(hidden: readonly number[], mode: AlphaMode, same: number = PAPER_ALPHA_INIT[0], dtype: 'float32' | 'float64' = 'float32'): Tensor[] {
  return hidden.map((h) => {
    const k = mode === 'unit' ? h : 1;
    const data = dtype === 'float64' ? new Float64Array(2 * k) : new Float32Array(2 * k);
    data.fill(same);
    return fromTypedArray(data, [2, k], dtype);
  });
}

/**
 * The alpha `[[dA, 0], [0, dB]]` (`[2, 2, k]`) of a learned diagonal `diag` (`[2, k]`: row 0 `aAA`, row 1
 * `aBB`). The off-diagonal entries are constants, not parameters: gradients reach only `diag`, so they stay
 * exactly 0 through training, and each tower's next layer reads only its own (scaled) activations — two
 * independent towers with learned scales (per layer or per unit), run through the cross-stitch unit.
 * Differentiable (built from `slice`, `pad` and `concatenate`).
 * @example
 * const alpha = initDiagonalAlpha([60, 20], 'layer').map(diagonalAlpha); // [2,2,1] each: [[0.9, 0], [0, 0.9]]
 * const [logitsA, logitsB] = crossStitchLogits({ a, b, alpha }, x);
 */
export function diagonalAlpha(diag: Tensor): Tensor {
  if (diag.ndim !== 2 || diag.shape[0] !== 2) throw new RangeError(`diagonalAlpha: the diagonal must be [2, k], got [${diag.shape.join(', ')}]`);
  const k = diag.shape[1]!;
  const dA = np.reshape(np.slice(diag, [0, 0], [1, k]), [1, 1, k]);
  const dB = np.reshape(np.slice(diag, [1, 0], [2, k]), [1, 1, k]);
  // row A: [dA, 0]; row B: [0, dB]
  return np.concatenate([np.pad(dA, [0, 0, 0], [0, 1, 0], 0), np.pad(dB, [0, 1, 0], [0, 0, 0], 0)], 0);
}

/** The four entries of one alpha, each `[k]`. */
function alphaParts(alpha: Tensor): [aa: Tensor, ab: Tensor, ba: Tensor, bb: Tensor] {
  if (alpha.ndim !== 3 || alpha.shape[0] !== 2 || alpha.shape[1] !== 2) throw new RangeError(`cross-stitch: alpha must be [2, 2, k], got [${alpha.shape.join(', ')}]`);
  const k = alpha.shape[2]!;
  const part = (i: number, j: number): Tensor => np.reshape(np.slice(alpha, [i, j, 0], [i + 1, j + 1, k]), [k]);
  return [part(0, 0), part(0, 1), part(1, 0), part(1, 1)];
}

/**
 * The cross-stitch unit: `[hA'; hB'] = [[aAA, aAB], [aBA, aBB]] [hA; hB]`, elementwise over units (a per-layer
 * alpha broadcasts). `hA`, `hB` are `[h]` or `[n, h]`.
 * @example const [a2, b2] = crossStitchUnit(initAlpha([60], 'layer')[0], hA, hB);
 */
export function crossStitchUnit(alpha: Tensor, hA: Tensor, hB: Tensor): [Tensor, Tensor] {
  const [aa, ab, ba, bb] = alphaParts(alpha);
  return [np.add(np.multiply(hA, aa), np.multiply(hB, ab)), np.add(np.multiply(hA, ba), np.multiply(hB, bb))];
}

/**
 * The unit's backward pass written out from the formula (see the module comment), for checking autodiff and
 * for reading: given the upstream gradients `gA = ∂L/∂hA'`, `gB = ∂L/∂hB'` (same shape as `hA`, `hB`),
 * returns `∂L/∂alpha` (shape of `alpha`: summed over examples, and over units for a per-layer alpha), `∂L/∂hA`
 * and `∂L/∂hB`.
 * @example
 * const { dAlpha, dHA, dHB } = crossStitchUnitVjp(alpha, hA, hB, gA, gB);
 */
export function crossStitchUnitVjp(alpha: Tensor, hA: Tensor, hB: Tensor, gA: Tensor, gB: Tensor): {
  /** `∂L/∂alpha`, shape of `alpha` `[2, 2, k]`. */
  dAlpha: Tensor;
  /** `∂L/∂hA`, shape of `hA`. */
  dHA: Tensor;
  /** `∂L/∂hB`, shape of `hB`. */
  dHB: Tensor;
} {
  const [aa, ab, ba, bb] = alphaParts(alpha);
  const k = alpha.shape[2]!;
  // Sum over every axis but the unit axis (batch), and over units too when alpha is per layer.
  const reduce = (t: Tensor): Tensor => {
    let r = t;
    while (r.ndim > 1) r = np.sum(r, 0);
    return k === 1 ? np.reshape(np.sum(r), [1]) : r;
  };
  const dAA = reduce(np.multiply(gA, hA));
  const dAB = reduce(np.multiply(gA, hB));
  const dBA = reduce(np.multiply(gB, hA));
  const dBB = reduce(np.multiply(gB, hB));
  const dAlpha = np.reshape(np.concatenate([dAA, dAB, dBA, dBB], 0), [2, 2, k]);
  const dHA = np.add(np.multiply(gA, aa), np.multiply(gB, ba));
  const dHB = np.add(np.multiply(gA, ab), np.multiply(gB, bb));
  return { dAlpha, dHA, dHB };
}

/**
 * A cross-stitch network from two trained single-task nets (copied by reference: parameters are immutable
 * tensors) and fresh alphas.
 * @example const net = initCrossStitch(mnistNet, fashionNet, 'layer'); // alpha (0.9, 0.1) after both hidden layers
 */
export function initCrossStitch(a: MlpParams, b: MlpParams, mode: AlphaMode, init: readonly [number, number] = PAPER_ALPHA_INIT): CrossStitchParams {
  if (a.length !== b.length || a.length < 2) throw new RangeError(`initCrossStitch: the towers need the same number (>= 2) of layers, got ${a.length} and ${b.length}`);
  const hidden = a.slice(0, -1).map((l, i) => {
    const h = l[0].shape[0]!;
    if (b[i]![0].shape.join() !== l[0].shape.join()) throw new RangeError(`initCrossStitch: layer ${i} shapes differ: [${l[0].shape}] and [${b[i]![0].shape}]`);
    return h;
  });
  const dtype = a[0]![0].dtype === 'float64' ? 'float64' : 'float32';
  return { a, b, alpha: initAlpha(hidden, mode, init, dtype) };
}

const hiddenLayer = (h: Tensor, [w, b]: Layer): Tensor => nn.sigmoid(np.add(np.matmul(h, w.T), b));

/**
 * The two heads' logits (`[classes]` or `[n, classes]` each) for input `x` (`[features]` or `[n, features]`):
 * both towers read the same input; a cross-stitch unit follows every hidden layer.
 * @example
 * const [logitsA, logitsB] = crossStitchLogits(net, x); // x [n, 784] -> [n, 10] each
 */
export function crossStitchLogits(p: CrossStitchParams, x: Tensor): [Tensor, Tensor] {
  const L = p.a.length;
  if (p.alpha.length !== L - 1) throw new RangeError(`crossStitchLogits: ${L - 1} hidden layers need ${L - 1} alphas, got ${p.alpha.length}`);
  let hA = x;
  let hB = x;
  for (let i = 0; i < L - 1; i++) {
    [hA, hB] = crossStitchUnit(p.alpha[i]!, hiddenLayer(hA, p.a[i]!), hiddenLayer(hB, p.b[i]!));
  }
  return [np.matmul(hA, p.a[L - 1]![0].T), np.matmul(hB, p.b[L - 1]![0].T)];
}

/**
 * Class probabilities of both heads (each its own softmax). With identity alphas, exactly `[predict(a, x), predict(b, x)]`.
 * @example
 * const [probsA, probsB] = crossStitchPredict(net, x);
 */
export function crossStitchPredict(p: CrossStitchParams, x: Tensor): [Tensor, Tensor] {
  const [la, lb] = crossStitchLogits(p, x);
  return [nn.softmax(la), nn.softmax(lb)];
}

// ---------------------------------------------------------------- hard parameter sharing

/** Hard parameter sharing: shared hidden layers (`[[W0,b0],[W1,b1]]`) and one head per task (`[classes, h]`, no bias). */
export interface HardShareParams {
  /** The shared hidden layers, `[[W0,b0],[W1,b1]]` with `W` as `[out, in]`. */
  trunk: MlpParams;
  /** The heads of task A and task B, each `[classes, h]`, no bias. */
  heads: [Tensor, Tensor];
}

/**
 * Both heads' logits of a hard-sharing net.
 * @example
 * const [logitsA, logitsB] = hardShareLogits({ trunk, heads: [headA, headB] }, x);
 */
export function hardShareLogits(p: HardShareParams, x: Tensor): [Tensor, Tensor] {
  let h = x;
  for (const l of p.trunk) h = hiddenLayer(h, l);
  return [np.matmul(h, p.heads[0].T), np.matmul(h, p.heads[1].T)];
}

// ---------------------------------------------------------------- losses

/**
 * Per-example NLL `-log softmax(logits)[label]` from logits `[n, c]` and one-hot targets `[n, c]`: `[n]`.
 * @example
 * const losses = nllFromLogits(logitsA, tA); // [n]
 */
export function nllFromLogits(logits: Tensor, oneHot: Tensor): Tensor {
  return np.negative(np.sum(np.multiply(nn.logSoftmax(logits, -1), oneHot), -1));
}

/** A two-task batch: one input, a one-hot target per task, and a 0/1 mask per task (0 where the example has no label of that task). */
export interface TwoTaskBatch {
  /** Inputs `[n, 784]`. */
  x: Tensor;
  /** One-hot targets of task A `[n, classes]`. */
  tA: Tensor;
  /** One-hot targets of task B `[n, classes]`. */
  tB: Tensor;
  /** 0/1 mask of task A `[n]`: 1 where the example has a task A label. */
  mA: Tensor;
  /** 0/1 mask of task B `[n]`: 1 where the example has a task B label. */
  mB: Tensor;
}

/**
 * The multi-task loss: the batch mean of `wA mA NLL_A + wB mB NLL_B` (the sum of the task losses, weights
 * configurable; the masks drop a task's term for examples that carry no label of it).
 * @example
 * const loss = twoTaskLoss(crossStitchLogits(net, batch.x), batch, [1, 0.5]);
 */
export function twoTaskLoss(logits: [Tensor, Tensor], b: TwoTaskBatch, weights: readonly [number, number] = [1, 1]): Tensor {
  const la = np.multiply(nllFromLogits(logits[0], b.tA), b.mA);
  const lb = np.multiply(nllFromLogits(logits[1], b.tB), b.mB);
  return np.mean(np.add(np.multiply(la, weights[0]), np.multiply(lb, weights[1])));
}

/**
 * {@link twoTaskLoss} of a cross-stitch network.
 * @example
 * const [loss, grads] = valueAndGrad(crossStitchLoss)(net, { x, tA, tB, mA, mB });
 */
export function crossStitchLoss(p: CrossStitchParams, b: TwoTaskBatch, weights: readonly [number, number] = [1, 1]): Tensor {
  return twoTaskLoss(crossStitchLogits(p, b.x), b, weights);
}
