/**
 * The notebooks for real: Debian's Jupyter (nbconvert) runs each notebook in the project's tslab kernel under
 * PIXEL_SMOKE=1 through the report command; each report must hold a chart with data and the sample grid as an
 * embedded PNG. Headless Chromium then renders one report: the chart is drawn (its traces' colours inside the
 * plot area of a screenshot) and the grid image loads (naturalWidth > 0). A notebook with a deliberate error
 * makes the command fail and print that error.
 *
 * Needs: jupyter-nbconvert, python3-nbclient, jupyter-client, chromium (`npm run setup:system`). ~2-3 minutes on
 * 2 cores, most of it three kernels type-checking lib/ with tslab.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { PNG } from 'pngjs';
import { PLOTLY_BUNDLE_ATTRIBUTE } from '../../lib/notebook/plotly';
import { TEST_COLOUR, TRAIN_SMOOTH_COLOUR } from '../../lib/notebook/training-chart';
import type { LivePayload } from '../../lib/live/payload';

const root = path.resolve(__dirname, '..', '..');
const NOTEBOOKS = ['01-simple', '02-gated', '03-conditional'];
/** Notebooks run in the same smoke command but checked by their own test (not one model's chart and grid). */
const OTHER_NOTEBOOKS = ['04-vae', '05-blind-spot'];
const ALL_NOTEBOOKS = [...NOTEBOOKS, ...OTHER_NOTEBOOKS];
/** The full run each model notebook ends with (nb.showFullRun); once it is in results/, it adds a chart and its grid. */
const FULL_RUNS: Record<string, string> = { '01-simple': 'simple-5x30', '02-gated': 'gated-5x30', '03-conditional': 'conditional-5x30', '04-vae': 'vae-up' };
const fullRunShown = (notebook: string): number => (fs.existsSync(path.join(root, 'results', FULL_RUNS[notebook], 'result.json')) ? 1 : 0);

/** `In [1]` ... `In [n]`, one per code cell of the notebook: every cell ran, in order. */
function expectedPrompts(name: string): string[] {
  const notebook = JSON.parse(fs.readFileSync(path.join(root, 'notebooks', `${name}.ipynb`), 'utf8')) as { cells: { cell_type: string }[] };
  const count = notebook.cells.filter((cell) => cell.cell_type === 'code').length;
  return Array.from({ length: count }, (_, i) => `In&nbsp;[${i + 1}]`);
}
const CHROMIUM = ['/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome'].find((p) => fs.existsSync(p));

const work = fs.mkdtempSync(path.join(os.tmpdir(), 'pixel-reports-test-'));
const outDir = path.join(work, 'reports');
let smokeRun: { status: number | null; stderr: string; seconds: number } | undefined;

function report(args: string[], env: NodeJS.ProcessEnv = {}): { status: number | null; stdout: string; stderr: string; seconds: number } {
  const started = Date.now();
  const r = spawnSync(process.execPath, ['--import', 'tsx', path.join(root, 'lib/report/cli.ts'), ...args], {
    cwd: root, env: { ...process.env, ...env }, encoding: 'utf8', timeout: 15 * 60 * 1000,
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr, seconds: (Date.now() - started) / 1000 };
}

after(() => fs.rmSync(work, { recursive: true, force: true }));

before(() => {
  // One command for all three notebooks, as a user would run it; their run records in a fresh folder (no earlier runs drawn).
  smokeRun = report(['--out', outDir, ...ALL_NOTEBOOKS], { PIXEL_SMOKE: '1', PIXEL_RUNS_DIR: path.join(work, 'runs') });
  console.log(smokeRun.stderr.split('\n').filter((l) => /done in|FAILED|succeeded/.test(l)).join('\n'));
});

test('every notebook executes under PIXEL_SMOKE=1 through the report command', () => {
  assert.ok(smokeRun);
  assert.equal(smokeRun.status, 0, `report command failed:\n${smokeRun.stderr.slice(-4000)}`);
  assert.match(smokeRun.stderr, new RegExp(`${ALL_NOTEBOOKS.length} of ${ALL_NOTEBOOKS.length} succeeded`));
  for (const name of ALL_NOTEBOOKS) assert.match(smokeRun.stderr, new RegExp(`${name}: done in \\d+:\\d\\d`));
});

interface ChartData { data: { name: string; x: number[]; y: number[] }[] }

function charts(html: string): ChartData[] {
  const out: ChartData[] = [];
  const re = /<script type="application\/json" id="[^"]+" class="pixel-chart-data">([\s\S]*?)<\/script>/g;
  for (let m = re.exec(html); m; m = re.exec(html)) out.push(JSON.parse(m[1]) as ChartData);
  return out;
}

function pngs(html: string): PNG[] {
  const out: PNG[] = [];
  const re = /<img[^>]+src="data:image\/png;base64,([A-Za-z0-9+/=\s]+)"/g;
  for (let m = re.exec(html); m; m = re.exec(html)) out.push(PNG.sync.read(Buffer.from(m[1], 'base64')));
  return out;
}

for (const name of NOTEBOOKS) {
  test(`${name}: a self-contained report with a chart with data, the sample grid PNG and numbered prompts`, () => {
    const file = path.join(outDir, `${name}.html`);
    assert.ok(fs.existsSync(file), `${file} written`);
    const html = fs.readFileSync(file, 'utf8');
    assert.equal(html.split(`${PLOTLY_BUNDLE_ATTRIBUTE}=`).length - 1, 1, 'plotly.js inlined exactly once');
    assert.doesNotMatch(html, /<script[^>]+src=/, 'no external scripts');
    assert.doesNotMatch(html, /<link[^>]+href="(https?:|file:)/, 'no external stylesheets');
    const found = charts(html);
    // The training chart (its last live state); 02-gated also compares its recorded run with 01-simple's; a
    // finished full run adds its curves beside this run's, last.
    assert.equal(found.length, (name === '02-gated' ? 2 : 1) + fullRunShown(name), 'one training chart (and the comparison, and the full run)');
    if (fullRunShown(name)) {
      const fullCurves = found[found.length - 1].data.filter((trace) => trace.x.length > 0);
      assert.ok(fullCurves.length >= 2 && fullCurves.every((trace) => trace.y.every((v) => v > 0 && v < 9)), "the full run's curves beside this run's");
    }
    if (name === '02-gated') {
      const compared = found[1].data.filter((trace) => trace.x.length > 0);
      assert.ok(compared.length >= 1 && compared.every((trace) => trace.y.every((v) => v > 0 && v < 9)), 'the comparison draws the recorded runs');
    }
    const [train, smoothed, testTrace] = found[0].data;
    assert.equal(train.x.length, 8, 'smoke: 2 epochs x 4 steps');
    assert.equal(smoothed.y.length, 8);
    assert.equal(testTrace.y.length, 2, 'a test point per epoch');
    for (const v of [...train.y, ...testTrace.y]) assert.ok(v > 0 && v < 9, `bits/dim ${v}`);
    const images = pngs(html);
    assert.equal(images.length, (name === '03-conditional' ? 2 : 1) + fullRunShown(name), "the sample grid (and the class grid, and the full run's)");
    assert.ok(images[0].width > 4 * 56 && images[0].height > 4 * 56, `grid ${images[0].width}x${images[0].height}`);
    if (name === '03-conditional') assert.ok(images[1].height > 10 * 56, 'ten class rows');
    const prompts = html.match(/In&nbsp;\[[^\]]*\]/g) ?? [];
    assert.deepEqual(prompts, expectedPrompts(name));
    // The full-run section: the committed result, or (none exported yet) what its work folder has done.
    assert.match(html, /The same model after the full run/);
    assert.equal(html.split('class="pixel-live-data"').length - 1, 1, 'the live sampler widget (model weights and test images) is embedded');
    assert.ok(html.length < 8e6, `report under 8 MB (${(html.length / 1e6).toFixed(2)} MB)`);
    assert.match(html, /final test bits\/dim/);
    assert.match(html, /class="pixel-table pixel-comparison"/, "the run's record beside earlier runs (none here: its own row)");
    assert.match(html, /PIXEL_SMOKE=1/);
    assert.match(html, /arxiv\.org\/abs\//);
    assert.match(html, /class="pixel-summary[^"]*"|pixel-table pixel-summary/);
    assert.match(html, /parameters<\/th><td[^>]*>[\d,]+</);
  });
}

test('04-vae: the negative ELBO chart with reconstruction and KL (KL in its own panel), the grid and the three latent pictures', () => {
  const html = fs.readFileSync(path.join(outDir, '04-vae.html'), 'utf8');
  assert.equal(html.split(`${PLOTLY_BUNDLE_ATTRIBUTE}=`).length - 1, 1, 'plotly.js inlined exactly once');
  const found = charts(html);
  assert.equal(found.length, 1 + fullRunShown('04-vae'), 'one training chart (its last live state; and the full run\'s)');
  const traces = new Map(found[0].data.map((t) => [t.name, t]));
  assert.equal(found[0].data[0].x.length, 8, 'smoke: 2 epochs x 4 steps');
  for (const name of ['test', 'reconstruction (test)', 'KL (test)']) assert.equal(traces.get(name)?.y.length, 2, `${name}: a point per epoch`);
  assert.equal((traces.get('KL (train, smoothed)') as { yaxis?: string } | undefined)?.yaxis, 'y2', 'the KL in the lower panel');
  assert.equal(pngs(html).length, 4 + fullRunShown('04-vae'), 'grid, reconstructions, fixed-z rows, interpolation (and the full run\'s grid)');
  const prompts = html.match(/In&nbsp;\[[^\]]*\]/g) ?? [];
  assert.deepEqual(prompts, expectedPrompts('04-vae'));
  assert.equal(html.split('class="pixel-live-data"').length - 1, 1, 'the live sampler widget (encoder, decoder and PixelCNN weights) is embedded');
  const payload = JSON.parse(/<script type="application\/json" class="pixel-live-data">([^<]*)<\/script>/.exec(html)?.[1] ?? '{}') as LivePayload;
  assert.equal(payload.modelConfig?.kind, 'vae-up');
  assert.ok(payload.weights.tensors.some((t) => t.name.startsWith('encoder.')) && payload.weights.tensors.some((t) => t.name.startsWith('decoder.')), 'encoder and decoder weights travel');
  assert.match(html, /arxiv\.org\/abs\/1611\.05013/);
  assert.match(html, /Does the PixelCNN use z\?/);
  assert.match(html, /final test bits\/dim \(negative ELBO\)/);
});

test('05-blind-spot: field tables with the blind area counted, the full runs compared, both training charts and the comparison, both grids, the check', () => {
  const html = fs.readFileSync(path.join(outDir, '05-blind-spot.html'), 'utf8');
  assert.equal(html.split(`${PLOTLY_BUNDLE_ATTRIBUTE}=`).length - 1, 1, 'plotly.js inlined exactly once');
  assert.equal(charts(html).length, 4, 'the full runs\' test curves, the two training charts and the comparison');
  // gated-5x30 is in results/ (15 epochs, each evaluated); gated-blindspot-5x30 joins it once it has an epoch
  const gated = charts(html)[0].data.find((trace) => trace.name === 'gated-5x30');
  assert.equal(gated?.y.length, 15, 'gated-5x30: a test point per epoch');
  if (fs.existsSync(path.join(root, 'results', 'gated-blindspot-5x30', 'result.json'))) {
    const blind = charts(html)[0].data.find((trace) => trace.name === 'gated-blindspot-5x30');
    assert.equal(blind?.y.length, 15, 'gated-blindspot-5x30, exported: a test point per epoch');
  }
  assert.match(html, /Full runs side by side/);
  assert.equal(charts(html)[3].data.length, 4, 'comparison: train and test of both models');
  assert.equal(pngs(html).length, 12 + 9 + 2, 'kinds x depths fields, 3 x 3 colour fields, two sample grids');
  assert.match(html, /seen 175, <b[^>]*>blind 45<\/b>/, 'simple model, 10 layers, kernel 3');
  assert.match(html, /own pixel: R: future, G: future, B: future/);
  assert.match(html, /correct model<\/td>(<td[^>]*>[^<]*<\/td>){4}<td[^>]*>agree</);
});

function chromium(args: string[], dataDir: string): { status: number | null; stdout: string } {
  const r = spawnSync(CHROMIUM!, [
    '--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
    '--disable-sync', '--no-first-run', '--hide-scrollbars', '--force-device-scale-factor=1', `--user-data-dir=${dataDir}`,
    '--virtual-time-budget=10000', ...args,
  ], { encoding: 'utf8', timeout: 120_000, maxBuffer: 64 * 1024 * 1024 });
  return { status: r.status, stdout: r.stdout };
}

function hex(colour: string): [number, number, number] {
  return [1, 3, 5].map((i) => parseInt(colour.slice(i, i + 2), 16)) as [number, number, number];
}

test('headless Chromium draws the chart and loads the grid image of a report', { skip: CHROMIUM ? false : 'chromium is not installed' }, () => {
  const source = path.join(outDir, '02-gated.html');
  assert.ok(fs.existsSync(source));
  // A probe appended to a copy of the report writes what the page holds after its scripts ran.
  const probe = `<script>window.addEventListener('load',function(){setTimeout(function(){
    var chart=document.querySelector('.pixel-chart');var plot=chart&&chart.querySelector('.nsewdrag');
    var rect=function(e){if(!e)return null;var r=e.getBoundingClientRect();return {x:r.left+scrollX,y:r.top+scrollY,w:r.width,h:r.height};};
    var out={plotly:typeof window.Plotly,chart:rect(chart),plot:rect(plot),traces:chart?chart.querySelectorAll('.scatterlayer .trace').length:0,
      images:[].slice.call(document.querySelectorAll('img')).map(function(i){return {w:i.naturalWidth,h:i.naturalHeight,rect:rect(i)};}),
      height:document.documentElement.scrollHeight};
    var pre=document.createElement('pre');pre.id='pixel-probe';pre.textContent=JSON.stringify(out);document.body.appendChild(pre);},300);});</script>`;
  const page = path.join(work, 'probe.html');
  fs.writeFileSync(page, fs.readFileSync(source, 'utf8').replace(/<\/body>/i, `${probe}</body>`));
  const width = 1200;
  const readProbe = (height: number) => {
    const dom = chromium([`--window-size=${width},${height}`, '--dump-dom', `file://${page}`], fs.mkdtempSync(path.join(work, 'chrome-')));
    assert.equal(dom.status, 0);
    const m = /<pre id="pixel-probe">([^<]*)<\/pre>/.exec(dom.stdout);
    assert.ok(m, 'the probe ran');
    return JSON.parse(m[1].replace(/&quot;/g, '"').replace(/&amp;/g, '&')) as {
      plotly: string; chart: Rect | null; plot: Rect | null; traces: number; images: { w: number; h: number; rect: Rect }[]; height: number;
    };
  };
  interface Rect { x: number; y: number; w: number; h: number }
  const first = readProbe(1000);
  const height = Math.min(Math.ceil(first.height) + 10, 16000);
  const info = readProbe(height);
  assert.equal(info.plotly, 'object', 'plotly.js loaded from the inlined bundle');
  assert.ok(info.chart && info.plot, 'the chart container and its plot area exist');
  assert.equal(info.traces, 3, 'three traces drawn');
  assert.equal(info.images.length, 1 + fullRunShown('02-gated'), "the grid (and the full run's)");
  for (const image of info.images) assert.ok(image.w > 0 && image.h > 0, `the grid image loads (naturalWidth ${image.w})`);

  const shotFile = path.join(work, 'shot.png');
  const shot = chromium([`--window-size=${width},${height}`, `--screenshot=${shotFile}`, `file://${page}`], fs.mkdtempSync(path.join(work, 'chrome-')));
  assert.equal(shot.status, 0);
  const png = PNG.sync.read(fs.readFileSync(shotFile));
  assert.equal(png.width, width);
  const count = (r: Rect, colour: [number, number, number], tolerance = 40) => {
    let n = 0;
    for (let y = Math.max(0, Math.floor(r.y)); y < Math.min(png.height, r.y + r.h); y++) {
      for (let x = Math.max(0, Math.floor(r.x)); x < Math.min(png.width, r.x + r.w); x++) {
        const o = (y * png.width + x) * 4;
        if (Math.abs(png.data[o] - colour[0]) + Math.abs(png.data[o + 1] - colour[1]) + Math.abs(png.data[o + 2] - colour[2]) <= tolerance) n++;
      }
    }
    return n;
  };
  const plot = info.plot!;
  const red = count(plot, hex(TEST_COLOUR));
  const blue = count(plot, hex(TRAIN_SMOOTH_COLOUR));
  console.log(`screenshot ${png.width}x${png.height}: plot area ${Math.round(plot.w)}x${Math.round(plot.h)} at (${Math.round(plot.x)}, ${Math.round(plot.y)}); ` +
    `test-colour pixels ${red}, train-colour pixels ${blue}`);
  assert.ok(red > 50, `the test curve is drawn inside the plot area (${red} pixels)`);
  assert.ok(blue > 100, `the smoothed train curve is drawn inside the plot area (${blue} pixels)`);
  // The grid image is on screen where the page says it is: grey separators and varied pixels, not background.
  const img = info.images[0].rect;
  const separators = count(img, [128, 128, 128], 6);
  assert.ok(separators > 100, `grid separators visible (${separators} pixels)`);
});

test('a notebook with a deliberate error makes the report command fail and print that error', () => {
  const kernelspec = { name: 'tslab', display_name: 'TypeScript (pixel-notebooks, tslab)', language: 'typescript' };
  const notebook = (cells: string[]) => JSON.stringify({
    nbformat: 4, nbformat_minor: 5, metadata: { kernelspec },
    cells: cells.map((source, i) => ({ cell_type: 'code', id: `c${i}`, metadata: {}, execution_count: null, outputs: [], source })),
  });
  const runtime = path.join(work, 'broken-runtime.ipynb');
  fs.writeFileSync(runtime, notebook([
    "console.log('first cell runs');",
    "function check(v: number): number {\n  if (v > 1) throw new Error(`deliberate failure: value ${v} is too large`);\n  return v;\n}\ncheck(42);",
    "console.log('never reached');",
  ]));
  const typeError = path.join(work, 'broken-types.ipynb');
  fs.writeFileSync(typeError, notebook(["const bitsPerDim: number = 'not a number';"]));
  const r = report(['--out', path.join(work, 'broken-out'), runtime, typeError]);
  assert.equal(r.status, 1, r.stderr);
  assert.match(r.stderr, /FAILED: broken-runtime after \d+:\d\d in code cell 2 of 3/);
  assert.match(r.stderr, /Error: deliberate failure: value 42 is too large/);
  assert.match(r.stderr, /check\(42\);/, 'the failing cell is shown');
  assert.match(r.stderr, /FAILED: broken-types .* in code cell 1 of 1/);
  assert.match(r.stderr, /Type 'string' is not assignable to type 'number'/);
  assert.doesNotMatch(r.stderr, /<Error>:/, 'not nbconvert\'s empty message');
  assert.match(r.stderr, /0 of 2 succeeded; failed: broken-runtime, broken-types/);
  assert.ok(!fs.existsSync(path.join(work, 'broken-out', 'broken-runtime.html')), 'no report for a failed notebook');
});
