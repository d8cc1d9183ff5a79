import { describe, expect, it } from 'vitest';
import { trainsNetsSideBySide } from '../src/prestart.js';

describe('which command lines start the net workers ahead', () => {
  it('train of the seed variant on the CPU or auto backend, with two cores', () => {
    expect(trainsNetsSideBySide(['train'], {}, 2)).toBe(true);
    expect(trainsNetsSideBySide(['train', '--epochs', '1,1,1', '--backend', 'cpu'], {}, 2)).toBe(true);
    expect(trainsNetsSideBySide(['train', '--variant=seed'], { XS_BACKEND: 'auto' }, 4)).toBe(true);
  });
  it('not other commands, help, the paper variant, the GPU backend, one core or XS_PARALLEL=0', () => {
    expect(trainsNetsSideBySide(['eval'], {}, 2)).toBe(false);
    expect(trainsNetsSideBySide([], {}, 2)).toBe(false);
    expect(trainsNetsSideBySide(['train', '--help'], {}, 2)).toBe(false);
    expect(trainsNetsSideBySide(['train', '--variant', 'paper'], {}, 2)).toBe(false);
    expect(trainsNetsSideBySide(['train', '--backend=gpu'], {}, 2)).toBe(false);
    expect(trainsNetsSideBySide(['train'], { XS_BACKEND: 'gpu' }, 2)).toBe(false);
    expect(trainsNetsSideBySide(['train'], {}, 1)).toBe(false);
    expect(trainsNetsSideBySide(['train'], { XS_PARALLEL: '0' }, 2)).toBe(false);
  });
});
