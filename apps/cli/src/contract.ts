/**
 * The experiment contract the CLI codes against: the types of `@xs/crossstitch`'s experiments module
 * (SeedConfig, ProgressEvent, EpochRecord, TestMetrics, SeedResult, RunOptions) and the entry points the CLI
 * calls. The engine is passed in (see `engine.ts`), so tests can run the CLI with a fake one.
 */
import type { RunOptions, SeedConfig, SeedConfigInput, SeedPhase, SeedResult } from '@xs/crossstitch';
import type { Tensor } from '@xs/tensor';

export type { EpochRecord, ProgressEvent, RunOptions, SeedConfig, SeedConfigInput, SeedData, SeedPhase, SeedResult, TestMetrics } from '@xs/crossstitch';

/** The phases in the order they run. */
export const PHASES: readonly SeedPhase[] = ['mnist', 'fashion', 'stitch'];

/** One net's parameters, `[[W0, b0], [W1, b1], [W2, b2]]`, or the alpha blocks `[[a1, a2]]`. */
export type NetParams = [Tensor, Tensor][];

/** What the CLI needs from the experiment library. */
export interface Engine {
  runSeedExperiment(config: SeedConfig, options: RunOptions): Promise<SeedResult>;
  defaultSeedConfig(): SeedConfig;
  /** Completes and checks a configuration (throws a RangeError naming what is wrong); optional for fakes. */
  resolveSeedConfig?(config: SeedConfigInput): SeedConfig;
}

/** The seed notebook's reported test accuracies (percent), used when a result does not carry them. */
export const NOTEBOOK_RESULTS: SeedResult['notebook'] = {
  mnist: { alone: 95.72, stitched: 93.77 },
  fashion: { alone: 85.58, stitched: 84.34 },
};
