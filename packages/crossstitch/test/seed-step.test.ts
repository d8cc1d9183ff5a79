import { describe, expect, it } from 'vitest';
import { ConcreteTensor, type Tensor, grad, numpy as np, random, tree } from '@xs/tensor';
import {
  type AlphaParams,
  type MlpParams,
  composeParameters,
  concatSplits,
  initMlp,
  makeStitchStep,
  makeTrainStep,
  permutationFromKey,
  predict,
  resolveSeedConfig,
  shuffleSplit,
  sliceSplit,
  takeShuffled,
  zeroAlpha,
} from '../src/index.js';
import { warmUpStitchStep } from '../src/experiments/seed.js';
import { classify, predictJit } from '../src/experiments/phase.js';
import { tinySeedData } from './seed-data.js';

const leaves = (t: unknown): Tensor[] => tree.leaves(t as never) as Tensor[];

/** Largest |a - b| relative to the largest |b| (1 when b is all zero). */
function relErr(a: unknown, b: unknown): number {
  const la = leaves(a);
  const lb = leaves(b);
  expect(la.map((l) => l.shape)).toEqual(lb.map((l) => l.shape));
  let err = 0;
  la.forEach((x, i) => {
    const scale = Math.max(np.max(np.abs(lb[i]!)).item() as number, 1e-30);
    err = Math.max(err, (np.max(np.abs(x.sub(lb[i]!))).item() as number) / scale);
  });
  return err;
}

/** The batch loss summed over examples, computed eagerly on the whole batch: -Σ t·log(predict). */
const batchLoss = (p: MlpParams, x: Tensor, t: Tensor): Tensor => np.negative(np.sum(t.mul(np.log(predict(p, x)))));

describe('the jitted per-example-sum steps', () => {
  const x = random.uniform(random.key(1), [100, 784]);
  const t = np.oneHot(random.randint(random.key(2), [100], 0, 10), 10);
  const lr = 0.01;

  it('makeTrainStep equals the eager batched gradient step (float32 tolerance), and returns the mean loss', () => {
    const p = initMlp(random.key(3));
    const [next, loss] = makeTrainStep(lr)(p, x, t) as [MlpParams, Tensor];
    const g = grad(batchLoss)(p, x, t) as MlpParams;
    const want = tree.map((a: Tensor, b: Tensor) => a.sub(b.mul(lr)), p as never, g as never);
    expect(relErr(next, want)).toBeLessThan(1e-5);
    // the updates themselves agree too, not just the (much larger) parameters
    const upd = tree.map((a: Tensor, b: Tensor) => a.sub(b), next as never, p as never);
    const wantUpd = tree.map((b: Tensor) => b.mul(-lr), g as never);
    expect(relErr(upd, wantUpd)).toBeLessThan(1e-3);
    expect(loss.shape).toEqual([]);
    expect(loss.item()).toBeCloseTo((batchLoss(p, x, t).item() as number) / 100, 5);
  });

  it('makeTrainStep compiles the summed per-example gradients into matmuls (no [batch, out, in] array)', () => {
    const p = initMlp(random.key(3));
    const program = makeTrainStep(lr).lower(p, x, t).toString();
    expect(program).toMatch(/f32\[60,784\] = dot_general/);
    expect(program).not.toMatch(/f32\[100,60,784\]|f32\[100,784,60\]/);
  });

  it('makeStitchStep equals the eager batched gradient step on alpha and leaves the nets alone', () => {
    const p1 = initMlp(random.key(4));
    const p2 = initMlp(random.key(5));
    const alpha: AlphaParams = [[random.normal(random.key(6), [20, 60]).div(10), random.normal(random.key(7), [20, 60]).div(10)]];
    const p1Before = leaves(p1).map((l) => Array.from(l.data()));
    const [next, loss] = makeStitchStep(lr)(p1, p2, alpha, x, t) as [AlphaParams, Tensor];
    const g = grad((a: AlphaParams) => batchLoss(composeParameters(p1, p2, a), x, t))(alpha) as AlphaParams;
    const want = tree.map((a: Tensor, b: Tensor) => a.sub(b.mul(lr)), alpha as never, g as never);
    expect(relErr(next, want)).toBeLessThan(1e-5);
    const upd = tree.map((a: Tensor, b: Tensor) => a.sub(b), next as never, alpha as never);
    expect(relErr(upd, tree.map((b: Tensor) => b.mul(-lr), g as never))).toBeLessThan(1e-3);
    expect(loss.item()).toBeCloseTo((batchLoss(composeParameters(p1, p2, alpha), x, t).item() as number) / 100, 5);
    expect(leaves(p1).map((l) => Array.from(l.data()))).toEqual(p1Before);
  });

  it('with { donate: true } the steps give the same values, reuse the trained arrays and invalidate them', () => {
    const values = (t: unknown): number[][] => leaves(t).map((l) => Array.from(l.data()));
    const [p1, p2] = [initMlp(random.key(4)), initMlp(random.key(5))];
    let [plain, donated] = [initMlp(random.key(3)), initMlp(random.key(3))];
    const [step, stepDonating] = [makeTrainStep(lr), makeTrainStep(lr, { donate: true })];
    for (let i = 0; i < 3; i++) {
      const before = leaves(donated) as ConcreteTensor[];
      const buffers = before.map((l) => l.handle);
      plain = (step(plain, x, t) as [MlpParams, Tensor])[0];
      donated = (stepDonating(donated, x, t) as [MlpParams, Tensor])[0];
      expect(values(donated)).toEqual(values(plain));
      expect(before.every((l) => l.isDonated())).toBe(true);
      if (i > 0) expect((leaves(donated) as ConcreteTensor[]).map((l) => l.handle)).toEqual(buffers); // (the first init arrays may be shared)
    }
    let [a, aDonated]: AlphaParams[] = [[[np.zeros([20, 60]), np.zeros([20, 60])]], [[np.zeros([20, 60]), np.zeros([20, 60])]]];
    const [stitch, stitchDonating] = [makeStitchStep(lr), makeStitchStep(lr, { donate: true })];
    for (let i = 0; i < 2; i++) {
      a = (stitch(p1, p2, a, x, t) as [AlphaParams, Tensor])[0];
      aDonated = (stitchDonating(p1, p2, aDonated, x, t) as [AlphaParams, Tensor])[0];
      expect(values(aDonated)).toEqual(values(a));
    }
    // the fixed nets are not donated
    expect((leaves(p1) as ConcreteTensor[]).some((l) => l.isDonated())).toBe(false);
    expect(() => leaves(p2)[0]!.data()).not.toThrow();
  });

  it('a zero alpha gets a non-zero update', () => {
    const p1 = initMlp(random.key(4));
    const p2 = initMlp(random.key(5));
    const [next] = makeStitchStep(lr)(p1, p2, [[np.zeros([20, 60]), np.zeros([20, 60])]], x, t) as [AlphaParams, Tensor];
    expect(np.max(np.abs(next[0]![0])).item()).toBeGreaterThan(0);
    expect(np.max(np.abs(next[0]![1])).item()).toBeGreaterThan(0);
  });
});

describe('takeShuffled', () => {
  it('is the first examples of shuffleSplit(concatSplits(...)) for the same key', () => {
    const d = tinySeedData(50, 10);
    const key = random.key(9);
    const want = sliceSplit(shuffleSplit(concatSplits(d.mnist.train, d.fashion.train), key), 0, 30);
    const got = takeShuffled([d.mnist.train, d.fashion.train], permutationFromKey(key, 100), 30);
    expect(Array.from(got.labels)).toEqual(Array.from(want.labels));
    expect(Array.from(got.images)).toEqual(Array.from(want.images));
    expect(() => takeShuffled([d.mnist.train], permutationFromKey(key, 100), 30)).toThrow(RangeError);
  });
});

describe('warming the stitch step up (warmUpStitchStep)', () => {
  const cfg = resolveSeedConfig({ batchSize: 50, stitchSamples: 200 });
  const samples = tinySeedData(200, 10).mnist.train;
  const net = initMlp(random.key(4));

  it('runs the steps asked for on the samples, compiling the jitted step once (the stitch then reuses it)', async () => {
    const step = makeStitchStep(cfg.lr, { donate: true });
    expect(step.cacheSize).toBe(0);
    expect(await warmUpStitchStep(step, cfg, net, samples, 7, () => false)).toBe(7);
    expect(step.cacheSize).toBe(1);
    // the nets it stood in with are untouched (only its own alpha was donated)
    expect(leaves(net).every((l) => l instanceof ConcreteTensor && !l.isDonated())).toBe(true);
  });

  it("then compiles the stitched net's forward pass for blocks of the samples' size: classifying later compiles nothing", async () => {
    const step = makeStitchStep(cfg.lr, { donate: true });
    const fewer = sliceSplit(samples, 0, 150); // (a block shape no other test compiles)
    const before = predictJit.cacheSize;
    await warmUpStitchStep(step, cfg, net, fewer, 2, () => false);
    expect(predictJit.cacheSize).toBe(before + 1);
    const other = initMlp(random.key(5));
    classify(composeParameters(other, net, zeroAlpha(cfg.hidden)), fewer);
    expect(predictJit.cacheSize).toBe(before + 1);
  });

  it('stops as soon as asked, and runs nothing without a whole batch of samples', async () => {
    const step = makeStitchStep(cfg.lr, { donate: true });
    let calls = 0;
    expect(await warmUpStitchStep(step, cfg, net, samples, 100, () => ++calls > 3)).toBe(3);
    expect(await warmUpStitchStep(step, cfg, net, sliceSplit(samples, 0, 40), 5, () => false)).toBe(0);
  });
});
