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

/** What the display keeps of a running phase. */
interface PhaseLine {
  last: ProgressEvent;
  lastVal: number | undefined;
}

/**
 * Draws the per-phase progress bars. Phases may run at the same time (the two nets train side by side in
 * worker threads), so every running phase has its own line: on a terminal the block of lines is redrawn in
 * place; elsewhere each line is printed once per epoch, labelled with its phase.
 */
export class TrainingProgress {
  private readonly running = new Map<SeedPhase, PhaseLine>();
  private lastDraw = 0;
  /** Lines of the block currently on the terminal (the cursor sits at the end of its last line). */
  private drawn = 0;
  private phaseStart: number;

  constructor(
    private readonly stream: TextStream,
    private readonly quiet = false,
    private readonly now: () => number = () => Date.now(),
  ) {
    this.phaseStart = now();
  }

  /** Training starts now (a phase without events is timed from here, or from the previous phase's end). */
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
    const line = this.running.get(e.phase) ?? { last: e, lastVal: undefined };
    line.last = e;
    if (e.valAccuracy !== undefined) line.lastVal = e.valAccuracy;
    this.running.set(e.phase, line);
    if (this.stream.isTTY) {
      const t = this.now();
      if (e.valAccuracy === undefined && e.step < e.steps && t - this.lastDraw < 80) return;
      this.lastDraw = t;
      this.draw();
    } else if (e.valAccuracy !== undefined) {
      this.stream.write(`${this.label(e.phase)} ${describeEvent(e, line.lastVal)}\n`);
    }
  }

  /** Redraw the block of running phases in place. */
  private draw(): void {
    const cols = this.stream.columns && this.stream.columns > 40 ? this.stream.columns : 100;
    const lines = [...this.running].map(([phase, { last, lastVal }]) => {
      const status = describeEvent(last, lastVal);
      const barWidth = Math.max(10, Math.min(30, cols - status.length - 16));
      return `${this.label(phase)} ${this.bar(last.step / Math.max(last.steps, 1), barWidth)} ${status}`.slice(0, cols - 1);
    });
    const up = this.drawn > 1 ? `\x1b[${this.drawn - 1}A` : '';
    this.stream.write(`${up}\r${lines.map((l) => `${l}\x1b[K`).join('\n')}`);
    this.drawn = lines.length;
  }

  /** A phase finished (its checkpoint is written): its line becomes a "done" line; the others go on below it. */
  phaseDone(phase: SeedPhase, note = ''): void {
    if (this.quiet) return;
    const line = this.running.get(phase);
    // The library's own clock for the phase (steps / rate) when it reported; else since the last phase ended.
    const secs = line && line.last.stepsPerSecond > 0 ? line.last.step / line.last.stepsPerSecond : (this.now() - this.phaseStart) / 1000;
    this.running.delete(phase);
    this.clear();
    this.stream.write(`${this.label(phase)} done in ${secs.toFixed(1)}s${note ? `; ${note}` : ''}\n`);
    if (this.stream.isTTY && this.running.size > 0) this.draw();
    this.phaseStart = this.now();
  }

  /** Print a line of information (above the bars). */
  note(msg: string): void {
    if (this.quiet) return;
    this.clear();
    this.stream.write(`${msg}\n`);
    if (this.stream.isTTY && this.running.size > 0) this.draw();
  }

  /** Erase the block of bars (on a terminal), leaving the cursor at the start of its first line. */
  private clear(): void {
    if (this.drawn === 0) return;
    const up = this.drawn > 1 ? `\x1b[${this.drawn - 1}A` : '';
    this.stream.write(`${up}\r\x1b[J`);
    this.drawn = 0;
  }

  /** End the bars' block (on a terminal) so that what follows starts on a fresh line. */
  endLine(): void {
    if (this.drawn > 0) {
      this.stream.write('\n');
      this.drawn = 0;
    }
  }
}

/**
 * Rebuilds per-epoch records from progress events: the loss of an event is the mean over the steps since
 * the previous event, so the epoch's mean is the step-weighted mean of its events' losses.
 */
export class EpochTracker {
  readonly records: EpochRecord[] = [];
  /** Per phase (phases may interleave): loss accumulated since the last epoch end, and when that epoch began. */
  private readonly phases = new Map<SeedPhase, { lastStep: number; lossSum: number; lossSteps: number; epochStart: number }>();
  private startedAt: number;

  constructor(private readonly now: () => number = () => Date.now()) {
    this.startedAt = now();
  }

  /** Restart timing (e.g. when the run starts after data loading). */
  reset(): void {
    this.startedAt = this.now();
    for (const p of this.phases.values()) p.epochStart = this.startedAt;
  }

  /** Feed an event; returns the finished epoch's record when the event ends an epoch. */
  event(e: ProgressEvent): EpochRecord | undefined {
    let p = this.phases.get(e.phase);
    if (!p || e.step < p.lastStep) {
      // A new phase (or the same one run again): its first epoch began when the previous phase ended or at the start.
      p = { lastStep: 0, lossSum: 0, lossSteps: 0, epochStart: this.startedAt };
      this.phases.set(e.phase, p);
    }
    const n = Math.max(e.step - p.lastStep, 0);
    if (n > 0 && Number.isFinite(e.loss)) {
      p.lossSum += e.loss * n;
      p.lossSteps += n;
    }
    p.lastStep = e.step;
    if (e.valAccuracy === undefined) return undefined;
    const t = this.now();
    const rec: EpochRecord = {
      phase: e.phase,
      epoch: e.epoch,
      trainLoss: p.lossSteps > 0 ? p.lossSum / p.lossSteps : e.loss,
      valAccuracy: e.valAccuracy,
      seconds: (t - p.epochStart) / 1000,
    };
    this.records.push(rec);
    p.lossSum = 0;
    p.lossSteps = 0;
    p.epochStart = t;
    if (e.step >= e.steps) this.startedAt = t; // the next phase to start is timed from here
    return rec;
  }
}
