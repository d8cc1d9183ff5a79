/**
 * The cross-stitch of the seed notebook (`compose_parameters`): two trained single-task nets side by side,
 * joined at the second hidden layer by two learnable blocks `alpha`, so that each tower's second hidden
 * layer also reads the other tower's first hidden layer.
 */
import { type Tensor, numpy as np } from '@xs/tensor';
import type { Layer, MlpParams } from './mlp.js';

/**
 * The cross-stitch blocks, `[[a1, a2]]`: `a1` `[h2, h1]` feeds tower 2's first hidden layer into tower 1's
 * second, `a2` `[h2, h1]` feeds tower 1's into tower 2's (20x60 each for the notebook's nets).
 */
export type AlphaParams = [a1: Tensor, a2: Tensor][];

/**
 * Zero cross-stitch blocks for nets with hidden sizes `[h1, h2]` (the notebook's starting alpha).
 * @example const alpha = zeroAlpha([60, 20]); // [[zeros 20x60, zeros 20x60]]
 */
export function zeroAlpha(hidden: readonly [number, number] = [60, 20]): AlphaParams {
  const [h1, h2] = hidden;
  return [[np.zeros([h2, h1]), np.zeros([h2, h1])]];
}

function check(cond: boolean, msg: string): void {
  if (!cond) throw new RangeError(`composeParameters: ${msg}`);
}

/**
 * The notebook's `compose_parameters`: one 3-layer net from two 3-layer nets `p1`, `p2` and `alpha`.
 *
 * - layer 0: `W = [W0¹; W0²]` (rows stacked, 120x784), `b = [b0¹; b0²]`;
 * - layer 1: `W = [[W1¹, α₁], [α₂, W1²]]` (40x120) with `α₁ = alpha[0][0]` right of `W1¹` and
 *   `α₂ = alpha[0][1]` left of `W1²`, `b = [b1¹; b1²]`;
 * - layer 2: `W = [W2¹, W2²]` (columns side by side, 10x40), `b = b2¹` (zero and unused by `predict`).
 *
 * Built with `np.concatenate`, so gradients flow back into every input, `alpha` included. Note the composed
 * net's logits are the SUM of both towers' logits, so it does not reproduce either single net even with a zero
 * alpha.
 * @example
 * const stitched = composeParameters(mnistParams, fashionParams, zeroAlpha());
 * const probs = predict(stitched, x); // [n, 10]
 * const dAlpha = grad((a) => nllOne(composeParameters(p1, p2, a), x0, t0))(alpha);
 */
export function composeParameters(p1: MlpParams, p2: MlpParams, alpha: AlphaParams): MlpParams {
  check(p1.length === 3 && p2.length === 3, `both nets need 3 layers, got ${p1.length} and ${p2.length}`);
  check(alpha.length >= 1 && alpha[0]!.length === 2, 'alpha must be [[a1, a2]]');
  const [w0a, b0a] = p1[0]!;
  const [w0b, b0b] = p2[0]!;
  const [w1a, b1a] = p1[1]!;
  const [w1b, b1b] = p2[1]!;
  const [a1, a2] = alpha[0]!;
  check(w0a.shape[1] === w0b.shape[1], `input sizes differ: ${w0a.shape[1]} and ${w0b.shape[1]}`);
  check(
    a1.ndim === 2 && a1.shape[0] === w1a.shape[0] && a1.shape[1] === w1b.shape[1],
    `alpha[0][0] must be [${w1a.shape[0]}, ${w1b.shape[1]}] (right of W1 of net 1), got [${a1.shape.join(', ')}]`,
  );
  check(
    a2.ndim === 2 && a2.shape[0] === w1b.shape[0] && a2.shape[1] === w1a.shape[1],
    `alpha[0][1] must be [${w1b.shape[0]}, ${w1a.shape[1]}] (left of W1 of net 2), got [${a2.shape.join(', ')}]`,
  );
  const layer0: Layer = [np.concatenate([w0a, w0b], 0), np.concatenate([b0a, b0b], 0)];
  const top = np.concatenate([w1a, a1], 1);
  const bottom = np.concatenate([a2, w1b], 1);
  const layer1: Layer = [np.concatenate([top, bottom], 0), np.concatenate([b1a, b1b], 0)];
  const layer2: Layer = [np.concatenate([p1[2]![0], p2[2]![0]], 1), p1[2]![1]];
  return [layer0, layer1, layer2];
}
