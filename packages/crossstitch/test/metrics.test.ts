import { describe, expect, it } from 'vitest';
import { array } from '@xs/tensor';
import { accuracy, confusionMatrix, perClassAccuracy, predictedClasses } from '../src/index.js';

describe('metrics', () => {
  const pred = [0, 2, 1, 1, 2, 0, 2];
  const truth = [0, 1, 1, 2, 2, 0, 0];

  it('accuracy from arrays, typed arrays and int32 tensors', () => {
    expect(accuracy(pred, truth)).toBeCloseTo(4 / 7, 12);
    expect(accuracy(Int32Array.from(pred), array(truth, 'int32'))).toBeCloseTo(4 / 7, 12);
    expect(accuracy([], [])).toBeNaN();
  });

  it('confusion matrix: rows true, columns predicted', () => {
    expect(confusionMatrix(pred, truth)).toEqual([
      [2, 0, 1],
      [0, 1, 1],
      [0, 1, 1],
    ]);
    expect(confusionMatrix([1], [1], 4)).toEqual([
      [0, 0, 0, 0],
      [0, 1, 0, 0],
      [0, 0, 0, 0],
      [0, 0, 0, 0],
    ]);
    const m = confusionMatrix(pred, truth);
    expect(m.flat().reduce((a, b) => a + b, 0)).toBe(7);
  });

  it('per-class accuracy (recall), NaN for an absent class', () => {
    const pc = perClassAccuracy(pred, truth, 4);
    expect(pc.slice(0, 3)).toEqual([2 / 3, 0.5, 0.5]);
    expect(pc[3]).toBeNaN();
  });

  it('predictedClasses: argmax of scores per row', () => {
    const scores = array([[0.1, 0.7, 0.2], [0.5, 0.2, 0.3]]);
    expect([...predictedClasses(scores)]).toEqual([1, 0]);
    expect(accuracy(predictedClasses(scores), [1, 2])).toBe(0.5);
  });

  it('clear errors for mismatched or invalid labels', () => {
    expect(() => accuracy([1, 2], [1])).toThrow(/2 predictions but 1 true labels/);
    expect(() => confusionMatrix([0, 5], [0, 1], 3)).toThrow(/predicted label 5 at index 1 is not an integer in \[0, 3\)/);
    expect(() => confusionMatrix([0, 1], [0, -1])).toThrow(/true label -1 at index 1/);
    expect(() => accuracy(array([[0.1, 0.9]]), [1])).toThrow(/expected a 1-D array of labels, got shape \[1, 2\] \(use predictedClasses/);
    expect(() => accuracy(array([1, 2]), [1, 2])).toThrow(/expected integer labels, got a float32 tensor/);
  });
});
