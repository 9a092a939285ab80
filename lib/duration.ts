/** Durations as people read them, in every output of the project (notebooks, reports, the CLIs, results/). Browser-safe. */

/** A clock reading for runs of minutes: 75 -> "1:15", 3725 -> "1:02:05"; "?" for no valid time. */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '?';
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const rest = String(s % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${rest}` : `${m}:${rest}`;
}

/** A rough span for runs of hours (estimates, full runs): "42 s", "12.5 min", "3.4 h". */
export function formatSpan(seconds: number): string {
  if (seconds < 100) return `${seconds.toFixed(0)} s`;
  if (seconds < 6000) return `${(seconds / 60).toFixed(1)} min`;
  return `${(seconds / 3600).toFixed(1)} h`;
}
