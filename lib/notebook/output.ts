/**
 * Where notebook helpers send what they show. Inside a tslab kernel that is tslab's `display` (rich
 * outputs; `live()` is a `tslab.newDisplay()`, whose later calls replace the same output in place);
 * anywhere else (tests, a plain `node` script) it is the console, with HTML reduced to text, or a recorder.
 *
 * Node only.
 */
import * as path from 'path';

/** One output area: each call shows something (in a live output, each call replaces the last). */
export interface Output {
  html(html: string): void;
  markdown(markdown: string): void;
  png(bytes: Uint8Array): void;
  text(text: string): void;
}

export interface Outputs {
  /** Appends a new output to the cell. */
  display: Output;
  /** A new output that each later call replaces (a live progress line, a chart that updates). */
  live(): Output;
}

/** Whether this process is a tslab kernel (`tslab kernel --config-path ...`). */
export function inTslabKernel(argv: readonly string[] = process.argv): boolean {
  return argv.length > 2 && path.basename(argv[1] ?? '') === 'tslab' && argv[2] === 'kernel';
}

interface TslabModule {
  display: Output;
  newDisplay(): Output;
}

/** tslab's displays (only inside a tslab kernel). */
export function tslabOutputs(): Outputs {
  // Loaded lazily: the tslab module pulls in its own TypeScript compiler, and only works inside its kernel.
  // eslint-disable-next-line @typescript-eslint/no-var-requires
  const tslab = require('tslab') as TslabModule;
  return { display: tslab.display, live: () => tslab.newDisplay() };
}

/** HTML to readable text: tags dropped (table cells separated), entities decoded, blank lines squeezed. */
export function htmlToText(html: string): string {
  return html
    .replace(/<(script|style)\b[^>]*>[\s\S]*?<\/\1>/gi, '')
    .replace(/<\/(td|th)>/gi, '\t')
    .replace(/<(br|\/tr|\/p|\/div|\/h\d|\/li|\/caption)\b[^>]*>/gi, '\n')
    .replace(/<[^>]+>/g, '')
    .replace(/&nbsp;/g, ' ')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&amp;/g, '&')
    .replace(/[ \t]+\n/g, '\n')
    .replace(/\n{3,}/g, '\n\n')
    .trim();
}

/** Console outputs: text and HTML (as text) to `write`, images as a one-line note. */
export function consoleOutputs(write: (text: string) => void = (text) => process.stdout.write(text)): Outputs {
  const output = (): Output => ({
    html: (html) => {
      const text = htmlToText(html);
      if (text) write(`${text}\n`);
    },
    markdown: (markdown) => write(`${markdown}\n`),
    png: (bytes) => write(`[PNG image, ${bytes.length} bytes]\n`),
    text: (text) => write(`${text}\n`),
  });
  return { display: output(), live: output };
}

export interface Recorded {
  /** Index of the output area (0, 1, ... in order of creation); a live output keeps its index. */
  area: number;
  kind: 'html' | 'markdown' | 'png' | 'text';
  value: string | Uint8Array;
}

/** Records every call (for tests): `areas()` gives the last value shown in each output area. */
export function recordingOutputs(): Outputs & { records: Recorded[]; areas(): Recorded[] } {
  const records: Recorded[] = [];
  let areas = 0;
  const output = (live: boolean): Output => {
    let area = live ? areas++ : -1;
    const add = (kind: Recorded['kind'], value: string | Uint8Array) => {
      records.push({ area: live ? area : areas++, kind, value });
    };
    return {
      html: (value) => add('html', value),
      markdown: (value) => add('markdown', value),
      png: (value) => add('png', value),
      text: (value) => add('text', value),
    };
  };
  return {
    records,
    display: output(false),
    live: () => output(true),
    areas: () => {
      const last = new Map<number, Recorded>();
      for (const r of records) last.set(r.area, r);
      return [...last.entries()].sort((a, b) => a[0] - b[0]).map(([, r]) => r);
    },
  };
}

/** tslab's displays inside a kernel, the console elsewhere. */
export function defaultOutputs(): Outputs {
  return inTslabKernel() ? tslabOutputs() : consoleOutputs();
}
