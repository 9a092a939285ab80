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
  /** Set on the last report when the phase failed. */
  failed?: boolean;
}

export type ProgressCallback = (progress: LoadProgress) => void;

function formatAmount(n: number, unit: LoadProgress['unit']): string {
  if (unit === 'images') return `${n} image${n === 1 ? '' : 's'}`;
  return n < 1e6 ? `${(n / 1e3).toFixed(1)} kB` : `${(n / 1e6).toFixed(1)} MB`;
}

export interface DefaultProgressOptions {
  /** Where log lines go when no bar is drawn (default console.log). */
  log?: (line: string) => void;
  /** Draw a cli-progress bar (default: when process.stderr is a TTY). */
  bar?: boolean;
  /** The stream the bar is drawn on (default process.stderr). */
  stream?: { write(chunk: string): unknown };
}

/**
 * The default progress display. On a TTY (stderr): a cli-progress bar per phase. Otherwise: one log line
 * at the start, at every 10 % and at the end.
 */
export function defaultProgress(options: DefaultProgressOptions = {}): ProgressCallback {
  const log = options.log ?? ((line: string) => console.log(line));
  const useBar =
    options.bar ?? (typeof process !== 'undefined' && process.stderr !== undefined && process.stderr.isTTY === true);
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  let bar: any;
  let lastDecile = -1;
  return (p) => {
    if (useBar) {
      if (!bar) {
        // eslint-disable-next-line @typescript-eslint/no-var-requires
        const cliProgress = require('cli-progress') as typeof import('cli-progress');
        bar = new cliProgress.SingleBar(
          {
            format: `${p.phase} ${p.file} [{bar}] {percentage}% {amount}`,
            hideCursor: true,
            ...(options.stream ? { stream: options.stream as NodeJS.WritableStream, noTTYOutput: true } : {}),
          },
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
      log(`${p.phase} ${p.file}: ${p.failed ? 'failed after' : 'finished,'} ${formatAmount(p.done, p.unit)}`);
      lastDecile = -1;
    } else if (decile > lastDecile && decile < 10) {
      log(`${p.phase} ${p.file}: ${decile * 10}% (${formatAmount(p.done, p.unit)})`);
      lastDecile = decile;
    }
  };
}
