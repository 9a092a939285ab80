/** Small HTML builders for notebook outputs: escaping, key/value and column tables, durations. Browser-safe. */

export function escapeHtml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}

/** A table cell: text (escaped) or `{ html }` (inserted as is). */
export type Cell = string | number | { html: string };

function cellHtml(cell: Cell): string {
  if (typeof cell === 'object') return cell.html;
  return escapeHtml(String(cell));
}

const TABLE_STYLE = 'border-collapse:collapse;margin:4px 0;font-size:13px';
const CELL_STYLE = 'border:1px solid #ccc;padding:3px 8px;text-align:left;vertical-align:top';

/** A two-column table of labelled values. */
export function keyValueTable(rows: [string, Cell][], options: { caption?: string; className?: string } = {}): string {
  const body = rows
    .map(([key, value]) => `<tr><th style="${CELL_STYLE};font-weight:600">${escapeHtml(key)}</th><td style="${CELL_STYLE}">${cellHtml(value)}</td></tr>`)
    .join('');
  return `<table class="${options.className ?? 'pixel-table'}" style="${TABLE_STYLE}">` +
    `${options.caption ? `<caption style="text-align:left;font-weight:600;padding:2px 0">${escapeHtml(options.caption)}</caption>` : ''}` +
    `<tbody>${body}</tbody></table>`;
}

/** A table with a header row. */
export function columnTable(header: string[], rows: Cell[][], options: { caption?: string; className?: string } = {}): string {
  const head = header.map((h) => `<th style="${CELL_STYLE};font-weight:600">${escapeHtml(h)}</th>`).join('');
  const body = rows.map((row) => `<tr>${row.map((c) => `<td style="${CELL_STYLE}">${cellHtml(c)}</td>`).join('')}</tr>`).join('');
  return `<table class="${options.className ?? 'pixel-table'}" style="${TABLE_STYLE}">` +
    `${options.caption ? `<caption style="text-align:left;font-weight:600;padding:2px 0">${escapeHtml(options.caption)}</caption>` : ''}` +
    `<thead><tr>${head}</tr></thead><tbody>${body}</tbody></table>`;
}

/** Durations: one formatter for every output (lib/duration.ts). */
export { formatDuration } from '../duration';

/** A note box (e.g. the smoke-mode warning). */
export function noteHtml(text: string, tone: 'info' | 'warn' = 'info'): string {
  const colours = tone === 'warn' ? 'background:#fff4e5;border-left:4px solid #f0a030' : 'background:#eef5ff;border-left:4px solid #4a90d9';
  return `<div class="pixel-note" style="${colours};padding:6px 10px;margin:4px 0;font-size:13px">${escapeHtml(text)}</div>`;
}
