/**
 * The contract between an experiment and whoever runs it (the CLI, tests, scripts): its configuration, the
 * progress events it emits while it runs, and the typed result it returns, which the CLI prints, saves as
 * JSON and plots.
 */
import type { Tensor } from '@xs/tensor';
import type { DataOptions } from '../datasets/resolve.js';

/** The phases of the seed experiment, in order. */
export type SeedPhase = 'mnist' | 'fashion' | 'stitch';

/** Configuration of the seed notebook's experiment; the defaults reproduce the notebook. */
export interface SeedConfig {
  /** Root PRNG seed; every random number (init, shuffles) derives from it. */
  seed: number;
  /** SGD learning rate (notebook: 0.01 for all phases). */
  lr: number;
  /** Batch size (notebook: 100). */
  batchSize: number;
  /** Epochs per phase (notebook: 5, 5, 40). */
  epochs: Record<SeedPhase, number>;
  /** Batches per epoch (notebook: 500 MNIST, 600 Fashion, 20 stitch). */
  batchesPerEpoch: Record<SeedPhase, number>;
  /** Combined samples the alpha blocks are trained on (notebook: 2000). */
  stitchSamples: number;
  /** Hidden sizes of each single-task net (notebook: [60, 20]; output 10). */
  hidden: [number, number];
  /**
   * Training examples each single-task net cycles through, from the start of its training split: the batch
   * counter wraps once the next batch would pass this (notebook: 50000 MNIST, 60000 Fashion). The stitch
   * phase's counterpart is `stitchSamples`.
   */
  trainExamples: {
    /** Training examples of the MNIST net (notebook: 50000). */
    mnist: number;
    /** Training examples of the Fashion-MNIST net (notebook: 60000). */
    fashion: number;
  };
  /**
   * Validation slices `[start, end)` of a TRAINING split, checked after every epoch (notebook: MNIST
   * train[50000:50100], Fashion train[30000:30100], and for the stitch Fashion train[30000:31000]; the stitch
   * phase's slice is of the Fashion-MNIST training split).
   */
  validation: Record<SeedPhase, [number, number]>;
}

/** One progress event: emitted every few steps and at the end of each epoch. */
export interface ProgressEvent {
  /** The phase running. */
  phase: SeedPhase;
  /** The current epoch of the phase, 1-based. */
  epoch: number; // 1-based
  /** Epochs of this phase in total. */
  epochs: number;
  /** Steps done in this phase so far (0..`steps`). */
  step: number; // steps done in this phase
  /** Total steps of this phase (epochs x batches per epoch). */
  steps: number; // total steps of this phase
  /** Mean training loss over the steps since the last event. */
  loss: number;
  /** Validation accuracy in percent, present at the end of an epoch. */
  valAccuracy?: number;
  /** Steps per second in this phase so far. */
  stepsPerSecond: number;
}

/** Per-epoch record of one phase (the training curves). */
export interface EpochRecord {
  /** The phase the epoch belongs to. */
  phase: SeedPhase;
  /** The epoch, 1-based within its phase. */
  epoch: number;
  /** Mean training loss over the epoch. */
  trainLoss: number;
  /** Validation accuracy in percent (the notebook's slices: 50000:50100, 30000:30100, Fashion 30000:31000 for the stitch). */
  valAccuracy: number;
  /** Wall-clock seconds the epoch took. */
  seconds: number;
}

/** Test metrics of one network on one test set. */
export interface TestMetrics {
  /** Test accuracy in percent. */
  accuracy: number;
  /** Accuracy within each true class (recall), in percent; NaN (null in JSON) for a class with no test examples. */
  perClassAccuracy: number[];
  /** Confusion matrix: `confusion[true][predicted]` counts (rows true classes, as scikit-learn). */
  confusion: number[][];
}

/** The typed result of `runSeedExperiment`: config, training curves, test metrics, timings, parameters and samples. */
export interface SeedResult {
  /** The full configuration the run used (defaults filled in). */
  config: SeedConfig;
  /** One record per epoch of every phase that ran, in order (the training curves). */
  curves: EpochRecord[];
  /** Test metrics of both nets on both test sets. */
  results: {
    /** On the MNIST test set. */
    mnist: {
      /** The single-task MNIST net. */
      alone: TestMetrics;
      /** The cross-stitched net's MNIST output. */
      stitched: TestMetrics;
    };
    /** On the Fashion-MNIST test set. */
    fashion: {
      /** The single-task Fashion-MNIST net. */
      alone: TestMetrics;
      /** The cross-stitched net's Fashion-MNIST output. */
      stitched: TestMetrics;
    };
  };
  /** The notebook's reported test accuracies, for the side-by-side table. */
  notebook: {
    /** MNIST test accuracies in percent. */
    mnist: {
      /** Of the single-task net, in percent. */
      alone: number;
      /** Of the cross-stitched net, in percent. */
      stitched: number;
    };
    /** Fashion-MNIST test accuracies in percent. */
    fashion: {
      /** Of the single-task net, in percent. */
      alone: number;
      /** Of the cross-stitched net, in percent. */
      stitched: number;
    };
  };
  /** Seconds per phase (data loading and evaluation included as their own entries) and in total. */
  timings: Record<string, number>;
  /** Trained parameters: the two single-task nets ([[W0,b0],[W1,b1],[W2,b2]], W as [out,in]) and the alpha blocks ([[a1 (20x60), a2 (20x60)]]). */
  params: {
    /** The MNIST net's `[W, b]` layers. */
    mnist: [Tensor, Tensor][];
    /** The Fashion-MNIST net's `[W, b]` layers. */
    fashion: [Tensor, Tensor][];
    /** The alpha blocks, one `[a1, a2]` pair per stitched layer. */
    alpha: [Tensor, Tensor][];
  };
  /** The first 8 test images of each dataset with predictions, for pictures: 28x28 pixels in [0,1], the label and both nets' predictions. */
  samples: {
    /** The test set the image is from. */
    dataset: 'mnist' | 'fashion';
    /** 784 pixel values (28x28, row-major) in [0,1]. */
    pixels: number[];
    /** The true class, 0..9. */
    label: number;
    /** The single-task net's predicted class, 0..9. */
    predictedAlone: number;
    /** The cross-stitched net's predicted class, 0..9. */
    predictedStitched: number;
  }[];
  /** Training steps per second of each phase that ran (absent for phases skipped by `resume`). */
  stepsPerSecond?: Partial<Record<SeedPhase, number>>;
  /** Phases skipped because `RunOptions.resume` gave their parameters. */
  resumed?: SeedPhase[];
}

/** A dataset as the experiment needs it: both splits (a loaded `Dataset` is one). */
export interface SeedData {
  /** The training split. */
  train: import('../datasets/load.js').Split;
  /** The test split. */
  test: import('../datasets/load.js').Split;
}

/** What both experiment runners (the seed one and the paper one) take besides their config. */
export interface ExperimentRunOptions {
  /** Stops cleanly at the next step when aborted (Ctrl-C); the promise then rejects with an AbortError. */
  signal?: AbortSignal;
  /** Where the data lives (see datasets/resolve.ts) when `data` is not given. */
  dataDir?: string;
  /** Pre-loaded datasets (tests use small generated ones); a loaded `Dataset` fits. */
  data?: {
    /** MNIST, both splits. */
    mnist: SeedData;
    /** Fashion-MNIST, both splits. */
    fashion: SeedData;
  };
  /** Emit a progress event every this many steps (default 25), besides those at the ends of epochs or runs. */
  progressEvery?: number;
}

/** What the runner may pass to the seed experiment besides the config. */
export interface RunOptions extends ExperimentRunOptions {
  /** Called with progress events (progress bars). */
  onProgress?: (e: ProgressEvent) => void;
  /**
   * Called (and awaited) when a phase finishes, with the parameters of every phase done so far (resumed ones
   * included; later phases absent), so a runner can checkpoint and later pass them back as `resume`. An
   * aborted run rejects after the onPhaseDone of its finished phases.
   */
  onPhaseDone?: (phase: SeedPhase, params: Partial<SeedResult['params']>) => void | Promise<void>;
  /** Parameters of phases already done (from checkpoints): those phases are skipped. */
  resume?: Partial<SeedResult['params']>;
  /**
   * How the datasets are found and loaded when `data` is not given (environment, download progress, `verify`,
   * ...: see DataOptions); `dataDir`, when given, overrides the one here.
   */
  dataOptions?: DataOptions;
  /**
   * Called (and awaited) with the data once it is loaded, before it is checked against the config and before
   * any training: the loaded datasets (with where they came from), or `data` as given, and the seconds loading
   * took. A runner can check the data its own way and make its run folder here; if it throws, the run stops
   * there and rejects with that error.
   */
  onData?: (data: { mnist: SeedData; fashion: SeedData }, seconds: number) => void | Promise<void>;
  /**
   * Train the MNIST and Fashion-MNIST nets at the same time, each in a worker thread (the results are
   * bit-identical to training them one after the other). `'auto'` (the default): when both need training,
   * the backend is the CPU, the machine has two or more cores and each phase has at least 200 steps;
   * the environment variable `XS_PARALLEL=0` turns `'auto'` off. The stitch phase then trains in the worker
   * that finished first (which warms its step up while the other net finishes), the other validates it, and
   * both workers classify the test sets (same numbers as in-process).
   */
  parallel?: boolean | 'auto';
}
