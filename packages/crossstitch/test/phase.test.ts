import { describe, expect, it } from 'vitest';
import { type Tensor, fromTypedArray, numpy as np } from '@xs/tensor';
import { type ProgressEvent, resolveSeedConfig } from '../src/index.js';
import { oneHotRows, trainPhase } from '../src/experiments/phase.js';
import { tinySeedData } from './seed-data.js';

describe('oneHotRows (the training loop\'s targets, made once per phase)', () => {
  it('equals np.oneHot row for row, including labels outside the classes', () => {
    const labels = Int32Array.from([0, 9, 3, 10, -1, 5, 5, 7]);
    const ours = oneHotRows(labels, 10);
    const theirs = np.oneHot(fromTypedArray(labels, [labels.length]), 10).data();
    expect(Array.from(ours)).toEqual(Array.from(theirs));
    expect(ours.slice(30, 40).every((v) => v === 0)).toBe(true); // label 10: no class
  });
});

describe('trainPhase with a validation that answers later (another thread)', () => {
  const cfg = resolveSeedConfig({ epochs: { mnist: 4 }, batchesPerEpoch: { mnist: 3 }, batchSize: 10, trainExamples: { mnist: 100 } });
  const train = tinySeedData(100, 10).mnist.train;
  const base = {
    phase: 'mnist' as const,
    cfg,
    train,
    limit: 100,
    init: 0,
    step: (p: number, x: Tensor): [number, Tensor] => [p + 1, x.mean()],
    checkAborted: () => {},
  };

  it('keeps the curves and events in order, each epoch with its own answer, also when answers come out of order', async () => {
    const events: ProgressEvent[] = [];
    const delays = [30, 1, 15, 0];
    const out = await trainPhase({
      ...base,
      progressEvery: 2,
      onProgress: (e) => events.push(e),
      // the answer is the number of steps seen, read at once (as a real validator must read its params)
      validate: (p) => new Promise<number>((resolve) => setTimeout(() => resolve(p), delays[p / 3 - 1])),
    });
    expect(out.curves.map((c) => [c.epoch, c.valAccuracy])).toEqual([[1, 3], [2, 6], [3, 9], [4, 12]]);
    expect(events.map((e) => e.step)).toEqual([...events.map((e) => e.step)].sort((a, b) => a - b));
    expect(events.filter((e) => e.valAccuracy !== undefined).map((e) => [e.epoch, e.valAccuracy])).toEqual([[1, 3], [2, 6], [3, 9], [4, 12]]);
  });

  it('does not hold up the steps while a validation is pending; the events wait for it, in order', async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let steps = 0;
    const events: ProgressEvent[] = [];
    const run = trainPhase({
      ...base,
      progressEvery: 2,
      onProgress: (e) => events.push(e),
      step: (p: number, x: Tensor): [number, Tensor] => {
        steps++;
        return [p + 1, x.mean()];
      },
      validate: (p) => (p === 3 ? gate.then(() => p) : p),
    });
    for (let i = 0; i < 200 && steps < 12; i++) await new Promise((resolve) => setImmediate(resolve));
    expect(steps).toBe(12); // all four epochs ran while epoch 1's answer was pending
    expect(events.map((e) => e.step)).toEqual([2]);
    release();
    const out = await run;
    expect(events.map((e) => e.step)).toEqual([2, 3, 4, 6, 8, 9, 10, 12]);
    expect(out.curves.map((c) => [c.epoch, c.valAccuracy])).toEqual([[1, 3], [2, 6], [3, 9], [4, 12]]);
  });

  it('fails the phase when a validation fails', async () => {
    const run = trainPhase({ ...base, progressEvery: 100, validate: (p) => (p === 6 ? Promise.reject(new Error('validator broke')) : Promise.resolve(1)) });
    await expect(run).rejects.toThrow('validator broke');
  });
});
