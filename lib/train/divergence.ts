/**
 * Divergence that never becomes NaN: a too-large learning rate can throw the weights to where the loss is huge
 * but finite (lr 1e6 on MNIST: 3e12 bits/dim, later 3e6) and training would run on for hours. A watcher, fed each
 * step's bits/dim, warns when the smoothed loss is worse than a uniform guess or has risen well above the best it
 * reached, and gives a fatal verdict when worse-than-uniform persists. Pure: no tensors, no clock, no I/O.
 *
 * The smoothed loss is the lower median of the last `window` steps (the 10th smallest of 20), not their mean: one
 * wild batch (a spike of 1e6 bits/dim) moves a mean for a whole window but a median hardly at all; the lower median
 * is above a level exactly when more than half the window's steps are.
 */

export interface DivergenceOptions {
  /**
   * Bits per dimension of a uniform guess over the data's values: log2(256) = 8 for 8-bit data. An untrained
   * PixelCNN starts at about this (7.95-8.3 on MNIST), training only goes down from there.
   */
  uniformBitsPerDim: number;
  /**
   * The smoothed loss is the lower median of this many last steps; nothing is judged before this many steps. 20 is the
   * notebook progress line's "last 20" and far more than any notebook smoke run (8 steps).
   */
  window: number;
  /**
   * Warn when the smoothed loss exceeds uniformBitsPerDim by more than this. 1 bit/dim: three times the spread of
   * untrained models (up to 8.3), and a model 1 bit/dim worse than guessing has thrown away all it learned.
   */
  uniformMargin: number;
  /**
   * Warn when the smoothed loss exceeds the lowest smoothed loss so far by more than max(riseBits, riseFraction x
   * lowest): a sustained rise, e.g. 1.0 -> 1.5 or 4 -> 5 bits/dim. Healthy training's median moves down, or up by
   * a few hundredths when a new epoch reshuffles the batches; the absolute floor keeps a noisy, very low loss (an
   * overfitted 0.3 bits/dim) from warning on noise.
   */
  riseBits: number;
  riseFraction: number;
  /**
   * Fatal when the worse-than-uniform warning still holds this many steps after it began (at every step in
   * between). 100 steps (a tenth of an MNIST epoch at batch 64): an Adam spike that recovers does so within tens of
   * steps, while a model this far gone stays unusable; a rise alone is never fatal, it may recover.
   */
  fatalSteps: number;
}

export const DEFAULT_DIVERGENCE_OPTIONS: Readonly<DivergenceOptions> = {
  uniformBitsPerDim: 8,
  window: 20,
  uniformMargin: 1,
  riseBits: 0.5,
  riseFraction: 0.25,
  fatalSteps: 100,
};

/** What is wrong: the loss is worse than a uniform guess, or has risen well above its best. */
export type DivergenceSymptom = 'worse-than-uniform' | 'rising';

export interface DivergenceWarning {
  symptom: DivergenceSymptom;
  /** The step judged. */
  step: number;
  /** The step this warning began at; its condition has held at every step since. */
  since: number;
  /** The smoothed loss: the lower median bits/dim of the last `window` steps. */
  bitsPerDim: number;
  window: number;
  /** The level the smoothed loss exceeds. */
  threshold: number;
  /** 'rising': the lowest smoothed loss so far and its step. */
  best?: { bitsPerDim: number; step: number };
  /** 'worse-than-uniform': the step at which training stops if the warning still holds. */
  fatalAt?: number;
  /** One line, for a log or a progress line. */
  message: string;
}

export type DivergenceVerdict =
  | { status: 'ok' }
  /** `isNew`: this step began the warning (or changed its symptom). */
  | { status: 'warning'; warning: DivergenceWarning; isNew: boolean }
  | { status: 'fatal'; warning: DivergenceWarning };

/** Bits/dim for messages: fixed digits for sane values, exponent notation for the wild ones. */
export function formatBits(bits: number): string {
  return Math.abs(bits) < 1000 ? bits.toFixed(3) : bits.toExponential(2);
}

function lowerMedian(values: number[]): number {
  return [...values].sort((a, b) => a - b)[(values.length - 1) >> 1];
}

export function divergenceOptions(overrides: Partial<DivergenceOptions> = {}): DivergenceOptions {
  const options = { ...DEFAULT_DIVERGENCE_OPTIONS, ...overrides };
  for (const field of ['window', 'fatalSteps'] as const) {
    if (!Number.isInteger(options[field]) || options[field] < 1) throw new Error(`divergence options: ${field} must be a positive integer, got ${options[field]}`);
  }
  for (const field of ['uniformBitsPerDim', 'uniformMargin', 'riseBits', 'riseFraction'] as const) {
    if (!(Number.isFinite(options[field]) && options[field] >= 0)) throw new Error(`divergence options: ${field} must be a finite number >= 0, got ${options[field]}`);
  }
  return options;
}

export class DivergenceWatcher {
  readonly options: DivergenceOptions;
  private readonly recent: number[] = [];
  private lastStep = -Infinity;
  private best?: { bitsPerDim: number; step: number };
  private active?: DivergenceWarning;

  constructor(options: Partial<DivergenceOptions> = {}) {
    this.options = divergenceOptions(options);
  }

  /** The warning in force after the last step observed, if any. */
  get current(): DivergenceWarning | undefined {
    return this.active;
  }

  /** Judges step `step` (steps must increase) with loss `bitsPerDim` (finite: the trainer stops on NaN/inf first). */
  observe(step: number, bitsPerDim: number): DivergenceVerdict {
    if (!(step > this.lastStep)) throw new Error(`divergence watcher: steps must increase, got step ${step} after step ${this.lastStep}`);
    if (!Number.isFinite(bitsPerDim)) throw new Error(`divergence watcher: step ${step} has a non-finite loss (${bitsPerDim}); the trainer stops on those before`);
    this.lastStep = step;
    const { window, uniformBitsPerDim, uniformMargin, riseBits, riseFraction, fatalSteps } = this.options;
    this.recent.push(bitsPerDim);
    if (this.recent.length > window) this.recent.shift();
    if (this.recent.length < window) return { status: 'ok' };

    const smoothed = lowerMedian(this.recent);
    const uniformLimit = uniformBitsPerDim + uniformMargin;
    const best = this.best;
    const riseLimit = best ? best.bitsPerDim + Math.max(riseBits, riseFraction * best.bitsPerDim) : Infinity;
    let symptom: DivergenceSymptom | undefined;
    if (smoothed > uniformLimit) symptom = 'worse-than-uniform';
    else if (smoothed > riseLimit) symptom = 'rising';
    if (!best || smoothed < best.bitsPerDim) this.best = { bitsPerDim: smoothed, step };
    if (!symptom) {
      this.active = undefined;
      return { status: 'ok' };
    }

    const isNew = this.active?.symptom !== symptom;
    const since = isNew ? step : this.active!.since;
    const lastN = `the median of the last ${window} steps is ${formatBits(smoothed)} bits/dim`;
    let warning: DivergenceWarning;
    if (symptom === 'worse-than-uniform') {
      const fatalAt = since + fatalSteps;
      warning = {
        symptom, step, since, bitsPerDim: smoothed, window, threshold: uniformLimit, fatalAt,
        message: `step ${step}: training is diverging: ${lastN}, worse than a uniform guess (${uniformBitsPerDim} bits/dim) ` +
          `since step ${since}; lower the learning rate (training stops at step ${fatalAt} if it stays above ${uniformLimit})`,
      };
    } else {
      warning = {
        symptom, step, since, bitsPerDim: smoothed, window, threshold: riseLimit, best: best!,
        message: `step ${step}: the training loss is rising: ${lastN}, up from ${formatBits(best!.bitsPerDim)} at step ${best!.step} ` +
          `(above ${formatBits(riseLimit)} since step ${since}); if it keeps rising, lower the learning rate`,
      };
    }
    this.active = warning;
    if (symptom === 'worse-than-uniform' && step >= since + fatalSteps) return { status: 'fatal', warning };
    return { status: 'warning', warning, isNew };
  }
}

/**
 * Training stopped because the loss stayed worse than a uniform guess (see DivergenceWatcher): the weights are no
 * longer usable, as after a NaN (NonFiniteLossError), though every number is finite.
 */
export class DivergenceError extends Error {
  constructor(readonly warning: DivergenceWarning, learningRate: number) {
    super(`training diverged: at step ${warning.step} the median loss of the last ${warning.window} steps was ${formatBits(warning.bitsPerDim)} bits/dim, ` +
      `worse than a uniform guess (above ${warning.threshold}) at every step since step ${warning.since}; the weights are no longer usable: ` +
      `lower the learning rate (now ${learningRate})`);
    this.name = 'DivergenceError';
  }
}
