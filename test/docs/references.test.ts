/**
 * The documentation names only things that exist: files and folders of the repository, npm scripts, the
 * training command's flags and the PIXEL_* environment variables the code reads. A renamed file or flag
 * fails here instead of leaving a reader with a dead reference.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as path from 'path';
import { commandLine } from '../../lib/cli/train';
import { RUNS } from '../../lib/results/runs';

const root = path.resolve(__dirname, '..', '..');

interface Doc {
  file: string;
  text: string;
}

/** README files, and the markdown and code cells of every notebook (their comments point at files too). */
function documents(): Doc[] {
  const docs: Doc[] = ['README.md', 'notebooks/README.md', 'datasets/README.md'].map((file) => ({
    file, text: fs.readFileSync(path.join(root, file), 'utf8'),
  }));
  for (const name of fs.readdirSync(path.join(root, 'notebooks')).filter((n) => n.endsWith('.ipynb')).sort()) {
    const notebook = JSON.parse(fs.readFileSync(path.join(root, 'notebooks', name), 'utf8')) as { cells: { source: string[] | string }[] };
    const text = notebook.cells.map((cell) => (Array.isArray(cell.source) ? cell.source.join('') : cell.source)).join('\n');
    docs.push({ file: `notebooks/${name}`, text });
  }
  return docs;
}

/** Where each occurrence of `pattern` is: "file:line: match". */
function occurrences(docs: Doc[], pattern: RegExp): { where: string; match: RegExpExecArray }[] {
  const found: { where: string; match: RegExpExecArray }[] = [];
  for (const doc of docs) {
    for (const match of doc.text.matchAll(new RegExp(pattern.source, pattern.flags.includes('g') ? pattern.flags : `${pattern.flags}g`))) {
      const line = doc.text.slice(0, match.index).split('\n').length;
      found.push({ where: `${doc.file}:${line}`, match: match as RegExpExecArray });
    }
  }
  return found;
}

/** Folders whose contents are committed: a path into them must exist (runs/, reports/ and caches are outputs). */
const SOURCE_FOLDERS = ['lib', 'test', 'scripts', 'bench', 'notebooks', 'docs', 'jupyter', 'results', 'native'];

/** results/NAME/ (or a run's name) is where `npm run reproduce` exports a run: named before the run is exported. */
const EXPORT_FOLDER = new RegExp(`^results/(NAME|${RUNS.map((run) => run.name).join('|')})(/|$)`);

function pathExists(reference: string): boolean {
  const clean = reference.replace(/[.,:;)]+$/, '').replace(/\/\.\.\.$/, '');
  if (clean.includes('*') || clean.includes('{')) return true; // a glob or pattern, not a path
  if (EXPORT_FOLDER.test(clean)) return true;
  const candidates = [clean, `${clean}.ts`, path.join(clean, 'index.ts')];
  return candidates.some((candidate) => fs.existsSync(path.join(root, candidate)));
}

describe('documentation references', () => {
  const docs = documents();

  test('every repository path named in README files and notebooks exists', () => {
    const pattern = new RegExp(`(?<![\\w./-])\\.?/?((?:${SOURCE_FOLDERS.join('|')})/[A-Za-z0-9_./-]*)`, 'g');
    const found = occurrences(docs, pattern);
    assert.ok(found.length > 20, `expected the docs to name files, found ${found.length}`);
    const missing = found.filter(({ match }) => !pathExists(match[1])).map(({ where, match }) => `${where}: ${match[1]}`);
    assert.deepEqual(missing, []);
  });

  test('every `npm run NAME` is a script in package.json', () => {
    const scripts = Object.keys(JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')).scripts as Record<string, string>);
    const found = occurrences(docs, /npm run ([a-z][\w:-]*)/);
    assert.ok(found.length > 5);
    const missing = found.filter(({ match }) => !scripts.includes(match[1])).map(({ where, match }) => `${where}: npm run ${match[1]}`);
    assert.deepEqual(missing, []);
  });

  test('every flag given to `npm run train` is one of its options', () => {
    const flags = new Set(commandLine().options.flatMap((option) => [option.short, option.long]).filter((f): f is string => !!f));
    const readme = docs.filter((doc) => doc.file === 'README.md');
    // Command lines, and the flag list of the README's section on the training command.
    const commandFlags = occurrences(readme, /npm run train -- ([^\n`]*)/).flatMap(({ where, match }) =>
      [...match[1].matchAll(/(?<=^|\s)(--?[a-zA-Z][\w-]*)/g)].map((flag) => ({ where, flag: flag[1] })));
    const section = /### Training from the command line\n([\s\S]*?)\n## /.exec(readme[0].text);
    assert.ok(section, 'README.md has a "### Training from the command line" section');
    const listed = [...section[1].matchAll(/`(--?[a-zA-Z][\w-]*)(?:\/(--?[a-zA-Z][\w-]*))?[^`]*`/g)]
      .flatMap((m) => [m[1], m[2]]).filter((f): f is string => !!f).map((flag) => ({ where: 'README.md (training section)', flag }));
    const all = [...commandFlags, ...listed];
    assert.ok(all.length > 20, `expected the README to list the training flags, found ${all.length}`);
    const unknown = all.filter(({ flag }) => !flags.has(flag)).map(({ where, flag }) => `${where}: ${flag}`);
    assert.deepEqual(unknown, []);
  });

  test('every PIXEL_* variable named in the docs is read by the code', () => {
    const code = ['lib', 'scripts', 'bench'].flatMap((folder) => fs.readdirSync(path.join(root, folder), { recursive: true, encoding: 'utf8' })
      .filter((file) => /\.(ts|js|sh)$/.test(file)).map((file) => fs.readFileSync(path.join(root, folder, file), 'utf8'))).join('\n');
    const found = occurrences(docs, /\b(PIXEL_[A-Z_]+)\b/);
    assert.ok(found.length > 3);
    const unread = found.filter(({ match }) => !code.includes(match[1])).map(({ where, match }) => `${where}: ${match[1]}`);
    assert.deepEqual(unread, []);
  });

  test('readers are not sent to internal issue numbers they cannot open', () => {
    const found = occurrences(docs, /\bissue \d+/i).map(({ where, match }) => `${where}: ${match[0]}`);
    assert.deepEqual(found, []);
  });
});
