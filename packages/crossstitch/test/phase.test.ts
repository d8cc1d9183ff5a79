import { describe, expect, it } from 'vitest';
import { fromTypedArray, numpy as np } from '@xs/tensor';
import { oneHotRows } from '../src/experiments/phase.js';

describe('oneHotRows (the training loop\'s targets, made once per phase)', () => {
  it('equals np.oneHot row for row, including labels outside the classes', () => {
    const labels = Int32Array.from([0, 9, 3, 10, -1, 5, 5, 7]);
    const ours = oneHotRows(labels, 10);
    const theirs = np.oneHot(fromTypedArray(labels, [labels.length]), 10).data();
    expect(Array.from(ours)).toEqual(Array.from(theirs));
    expect(ours.slice(30, 40).every((v) => v === 0)).toBe(true); // label 10: no class
  });
});
