/**
 * Progress of a training run on stderr: one bar per phase with steps, epoch, loss, validation accuracy,
 * throughput and ETA. On a terminal the bar is redrawn in place (at most ~12 times a second); elsewhere
 * (logs, CI, pipes) one line is written per epoch, so logs stay short. Also reconstructs per-epoch records
 * (mean loss, validation accuracy, seconds) from the events, for metrics.csv while a run is still going.
 */
import type { EpochRecord, ProgressEvent, SeedPhase } from './contract.js';

/** Where progress goes (process.stderr, or a test double). */
export interface TextStream {
  write(text: string): unknown;
  readonly isTTY?: boolean;
  readonly columns?: number;
}

export const PHASE_LABELS: Record<SeedPhase, string> = { mnist: 'MNIST net', fashion: 'Fashion net', stitch: 'stitch' };

/** Seconds as `m:ss` (or `h:mm:ss`). @example formatDuration(75) // '1:15' */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '--:--';
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const r = s % 60;
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${String(r).padStart(2, '0')}` : `${m}:${String(r).padStart(2, '0')}`;
}

/** The status text of an event (everything but the bar). */
export function describeEvent(e: ProgressEvent, lastVal?: number): string {
  const val = e.valAccuracy ?? lastVal;
  const eta = e.stepsPerSecond > 0 ? (e.steps - e.step) / e.stepsPerSecond : NaN;
  const width = String(e.steps).length;
  return [
    `${String(e.step).padStart(width)}/${e.steps}`,
    `epoch ${String(e.epoch).padStart(String(e.epochs).length)}/${e.epochs}`,
    `loss ${Number.isFinite(e.loss) ? e.loss.toFixed(4) : 'nan'}`,
    `val ${val === undefined ? '  -  ' : `${val.toFixed(1)}%`}`,
    `${e.stepsPerSecond >= 100 ? e.stepsPerSecond.toFixed(0) : e.stepsPerSecond.toFixed(1)} step/s`,
    `ETA ${formatDuration(eta)}`,
  ].join('  ');
}

/** Draws the per-phase progress bars. */
export class TrainingProgress {
  private phase: SeedPhase | undefined;
  private lastDraw = 0;
  private lastVal: number | undefined;
  private phaseStart: number;
  private lineOpen = false;

  constructor(
    private readonly stream: TextStream,
    private readonly quiet = false,
    private readonly now: () => number = () => Date.now(),
  ) {
    this.phaseStart = now();
  }

  /** Training starts now (the first phase's clock starts here; each later one when the previous finishes). */
  start(): void {
    this.phaseStart = this.now();
  }

  private label(p: SeedPhase): string {
    return PHASE_LABELS[p].padEnd(11);
  }

  private bar(frac: number, width: number): string {
    const filled = Math.round(Math.min(Math.max(frac, 0), 1) * width);
    return `[${'='.repeat(Math.max(filled - 1, 0))}${filled > 0 ? (filled === width ? '=' : '>') : ''}${' '.repeat(width - filled)}]`;
  }

  /** Handle one progress event. */
  event(e: ProgressEvent): void {
    if (this.quiet) return;
    if (e.phase !== this.phase) {
      this.endLine();
      this.phase = e.phase;
      this.lastVal = undefined;
      this.lastDraw = 0;
    }
    if (e.valAccuracy !== undefined) this.lastVal = e.valAccuracy;
    const status = describeEvent(e, this.lastVal);
    if (this.stream.isTTY) {
      const t = this.now();
      if (e.valAccuracy === undefined && e.step < e.steps && t - this.lastDraw < 80) return;
      this.lastDraw = t;
      const cols = this.stream.columns && this.stream.columns > 40 ? this.stream.columns : 100;
      const barWidth = Math.max(10, Math.min(30, cols - status.length - 16));
      const line = `${this.label(e.phase)} ${this.bar(e.step / Math.max(e.steps, 1), barWidth)} ${status}`;
      this.stream.write(`\r${line.slice(0, cols - 1)}\x1b[K`);
      this.lineOpen = true;
    } else if (e.valAccuracy !== undefined) {
      this.stream.write(`${this.label(e.phase)} ${status}\n`);
    }
  }

  /** A phase finished (its checkpoint is written). */
  phaseDone(phase: SeedPhase, note = ''): void {
    if (this.quiet) return;
    this.endLine();
    const secs = (this.now() - this.phaseStart) / 1000;
    this.stream.write(`${this.label(phase)} done in ${secs.toFixed(1)}s${note ? `; ${note}` : ''}\n`);
    this.phase = undefined;
    this.phaseStart = this.now();
  }

  /** Print a line of information (between bars). */
  note(msg: string): void {
    if (this.quiet) return;
    this.endLine();
    this.stream.write(`${msg}\n`);
  }

  /** End the current bar's line (on a terminal). */
  endLine(): void {
    if (this.lineOpen) {
      this.stream.write('\n');
      this.lineOpen = false;
    }
  }
}

/**
 * Rebuilds per-epoch records from progress events: the loss of an event is the mean over the steps since
 * the previous event, so the epoch's mean is the step-weighted mean of its events' losses.
 */
export class EpochTracker {
  readonly records: EpochRecord[] = [];
  private phase: SeedPhase | undefined;
  private lastStep = 0;
  private lossSum = 0;
  private lossSteps = 0;
  private epochStart: number;

  constructor(private readonly now: () => number = () => Date.now()) {
    this.epochStart = now();
  }

  /** Restart timing (e.g. when the run starts after data loading). */
  reset(): void {
    this.epochStart = this.now();
  }

  /** Feed an event; returns the finished epoch's record when the event ends an epoch. */
  event(e: ProgressEvent): EpochRecord | undefined {
    if (e.phase !== this.phase) {
      this.phase = e.phase;
      this.lastStep = 0;
      this.lossSum = 0;
      this.lossSteps = 0;
    }
    const n = Math.max(e.step - this.lastStep, 0);
    if (n > 0 && Number.isFinite(e.loss)) {
      this.lossSum += e.loss * n;
      this.lossSteps += n;
    }
    this.lastStep = e.step;
    if (e.valAccuracy === undefined) return undefined;
    const t = this.now();
    const rec: EpochRecord = {
      phase: e.phase,
      epoch: e.epoch,
      trainLoss: this.lossSteps > 0 ? this.lossSum / this.lossSteps : e.loss,
      valAccuracy: e.valAccuracy,
      seconds: (t - this.epochStart) / 1000,
    };
    this.records.push(rec);
    this.lossSum = 0;
    this.lossSteps = 0;
    this.epochStart = t;
    return rec;
  }
}
