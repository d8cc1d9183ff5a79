import { describe, expect, it } from 'vitest';
import { EpochTracker, TrainingProgress } from '../src/progress.js';
import type { ProgressEvent, SeedPhase } from '../src/contract.js';

const ev = (phase: SeedPhase, step: number, loss: number, valAccuracy?: number): ProgressEvent => ({
  phase,
  epoch: Math.max(1, Math.ceil(step / 10)),
  epochs: 2,
  step,
  steps: 20,
  loss,
  stepsPerSecond: step / 2, // each phase has run for 2 s at every event
  ...(valAccuracy === undefined ? {} : { valAccuracy }),
});

function stream(isTTY: boolean) {
  const out: string[] = [];
  return { out, s: { isTTY, columns: 120, write: (t: string) => out.push(t) } };
}

describe('TrainingProgress with two phases running at once', () => {
  it('on a terminal keeps one line per running phase and redraws the block in place', () => {
    const { out, s } = stream(true);
    let t = 0;
    const p = new TrainingProgress(s, false, () => (t += 100));
    p.event(ev('mnist', 5, 2.0));
    p.event(ev('fashion', 5, 2.1));
    p.event(ev('mnist', 10, 1.5, 50));
    const last = out.at(-1)!;
    expect(last.startsWith('\x1b[1A\r')).toBe(true); // back to the block's first line
    const lines = last.slice('\x1b[1A\r'.length).split('\n');
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/^MNIST net .* 10\/20 .*val 50\.0%/);
    expect(lines[1]).toMatch(/^Fashion net .* 5\/20 /);
    p.phaseDone('mnist', 'checkpoint mnist.safetensors');
    const text = out.slice(-3).join('');
    expect(text).toContain('\x1b[J'); // the block is erased before the done line
    expect(text).toMatch(/MNIST net +done in 2\.0s; checkpoint mnist\.safetensors\n/); // 10 steps at 5 steps/s
    expect(out.at(-1)).toMatch(/^\rFashion net /); // the remaining phase is drawn again, alone
  });

  it('in a log writes one labelled line per epoch of each phase, interleaved as they come', () => {
    const { out, s } = stream(false);
    const p = new TrainingProgress(s);
    p.event(ev('mnist', 5, 2.0));
    p.event(ev('fashion', 10, 1.9, 40));
    p.event(ev('mnist', 10, 1.5, 50));
    p.phaseDone('fashion');
    expect(out).toEqual([expect.stringMatching(/^Fashion net +10\/20 .*val 40\.0%/), expect.stringMatching(/^MNIST net +10\/20 .*val 50\.0%/), 'Fashion net done in 2.0s\n']);
  });
});

describe('EpochTracker with interleaved phases', () => {
  it('keeps each phase its own running loss and epoch clock', () => {
    let t = 0;
    const tr = new EpochTracker(() => t);
    t = 1000;
    tr.event(ev('mnist', 5, 2.0));
    tr.event(ev('fashion', 5, 4.0));
    t = 3000;
    const m = tr.event(ev('mnist', 10, 1.0, 50));
    t = 4000;
    const f = tr.event(ev('fashion', 10, 2.0, 40));
    expect(m).toMatchObject({ phase: 'mnist', epoch: 1, trainLoss: 1.5, valAccuracy: 50, seconds: 3 });
    expect(f).toMatchObject({ phase: 'fashion', epoch: 1, trainLoss: 3.0, valAccuracy: 40, seconds: 4 });
    t = 6000;
    expect(tr.event(ev('mnist', 20, 0.5, 60))).toMatchObject({ epoch: 2, trainLoss: 0.5, seconds: 3 });
  });
});
