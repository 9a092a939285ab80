/**
 * Progress reporting for dataset loading: the caller's callback, or by default a cli-progress bar on a
 * terminal and a few log lines elsewhere (notebooks, CI). Browser-safe apart from the lazily required
 * cli-progress, which only runs where process.stderr is a TTY.
 */

export interface LoadProgress {
  /** 'download': bytes arriving over the network; 'decode': images being decoded from files. */
  phase: 'download' | 'decode';
  /** The file being downloaded, or the folder whose images are being decoded. */
  file: string;
  /** Bytes or images done so far. */
  done: number;
  /** Bytes or images expected in all, when known. */
  total: number | undefined;
  unit: 'bytes' | 'images';
  /** True on the last report of this phase (also sent when it fails). */
  finished: boolean;
}

export type ProgressCallback = (progress: LoadProgress) => void;

function formatAmount(n: number, unit: LoadProgress['unit']): string {
  return unit === 'bytes' ? `${(n / 1e6).toFixed(1)} MB` : `${n} images`;
}

/**
 * The default progress display. On a TTY (stderr): a cli-progress bar per phase. Otherwise: one log line
 * at the start, at every 10 % and at the end.
 */
export function defaultProgress(log: (line: string) => void = (line) => console.log(line)): ProgressCallback {
  const isTty = typeof process !== 'undefined' && process.stderr !== undefined && process.stderr.isTTY === true;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  let bar: any;
  let lastDecile = -1;
  return (p) => {
    if (isTty) {
      if (!bar) {
        // eslint-disable-next-line @typescript-eslint/no-var-requires
        const cliProgress = require('cli-progress') as typeof import('cli-progress');
        bar = new cliProgress.SingleBar(
          { format: `${p.phase} ${p.file} [{bar}] {percentage}% {amount}`, hideCursor: true },
          cliProgress.Presets.shades_classic,
        );
        bar.start(p.total ?? 0, 0, { amount: '' });
      }
      if (p.total !== undefined) bar.setTotal(p.total);
      bar.update(p.done, { amount: formatAmount(p.done, p.unit) });
      if (p.finished) {
        bar.stop();
        bar = undefined;
      }
      return;
    }
    const decile = p.total ? Math.floor((10 * p.done) / p.total) : -1;
    if (lastDecile === -1 && !p.finished) {
      log(`${p.phase} ${p.file}: started${p.total !== undefined ? ` (${formatAmount(p.total, p.unit)})` : ''}`);
      lastDecile = 0;
    } else if (p.finished) {
      log(`${p.phase} ${p.file}: finished, ${formatAmount(p.done, p.unit)}`);
      lastDecile = -1;
    } else if (decile > lastDecile && decile < 10) {
      log(`${p.phase} ${p.file}: ${decile * 10}% (${formatAmount(p.done, p.unit)})`);
      lastDecile = decile;
    }
  };
}
