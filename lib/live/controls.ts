/**
 * The live sampler's plain-DOM controls: seed, temperature, grid size, the sample and complete rows, the
 * status line and the canvas, built from the payload as soon as the widget mounts; the pickers that depend on
 * the model (a class picker when it takes classes, a latent picker when it has a latent z) are added once the
 * model is built. Class names: `.pixel-live-*` (the tests and reports select by them).
 *
 * Browser only (bundled into lib/live/browser.ts).
 */
import type { LatentSource, PixelModel } from '../models/model';
import { composeGrid } from '../render/grid';
import type { LivePayload } from './payload';
import type { LiveAction, LiveSettings, TestImages } from './run';

function element<K extends keyof HTMLElementTagNameMap>(tag: K, attributes: Record<string, string> = {}, text?: string): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attributes)) el.setAttribute(key, value);
  if (text !== undefined) el.textContent = text;
  return el;
}

function labelled(text: string, control: HTMLElement): HTMLLabelElement {
  const label = element('label', { style: 'margin-right:12px;white-space:nowrap' }, `${text} `);
  label.appendChild(control);
  return label;
}

/** `count` images (NHWC bytes of the payload's model shape) as a rows x cols grid on the canvas. */
export function draw(canvas: HTMLCanvasElement, images: ArrayLike<number>, count: number, p: LivePayload, rows: number, cols: number): void {
  const { height, width, colours } = p.modelConfig;
  const grid = composeGrid({ images, count, height, width, colours }, { rows, cols, scale: p.defaults.scale });
  canvas.width = grid.width;
  canvas.height = grid.height;
  const context = canvas.getContext('2d');
  if (!context) return;
  context.putImageData(new ImageData(new Uint8ClampedArray(grid.data), grid.width, grid.height), 0, 0);
}

export interface LiveControls {
  status: HTMLElement;
  canvas: HTMLCanvasElement;
  /** Adds the pickers the model asks for: classes (`model.classes > 0`), where z comes from (`model.latentSources`). */
  addModelPickers(model: PixelModel): void;
  /** What a press of `action`'s button asks for, read from the controls (clamped to what the widget allows). */
  settings(action: LiveAction): LiveSettings;
  onRun(listener: (action: LiveAction) => void): void;
  /** Disables the buttons while a run (or loading) is in progress. */
  setBusy(busy: boolean): void;
}

/** Builds the controls into `root` (the buttons start disabled: the model is still loading). */
export function buildControls(root: HTMLElement, payload: LivePayload, testImages: TestImages): LiveControls {
  const config = payload.modelConfig;
  const d = payload.defaults;
  const ui = element('div', { class: 'pixel-live-ui', style: 'font:13px sans-serif;margin:6px 0' });
  const status = element('div', { class: 'pixel-live-status', style: 'margin:4px 0;color:#444' }, 'loading the model…');
  const controls = element('div', { style: 'margin:4px 0' });
  const seed = element('input', { type: 'number', class: 'pixel-live-seed', value: String(d.seed), step: '1', min: '0', style: 'width:6em' });
  const temperature = element('input', { type: 'range', class: 'pixel-live-temperature', min: '0', max: '2', step: '0.05', value: String(d.temperature) });
  const temperatureText = element('span', { style: 'display:inline-block;min-width:2.5em;margin-right:12px' }, String(d.temperature));
  temperature.addEventListener('input', () => { temperatureText.textContent = temperature.value; });
  const rowsInput = element('input', { type: 'number', class: 'pixel-live-rows', value: String(d.rows), min: '1', max: '8', style: 'width:3.5em' });
  const colsInput = element('input', { type: 'number', class: 'pixel-live-cols', value: String(d.cols), min: '1', max: '8', style: 'width:3.5em' });
  controls.append(labelled('seed', seed), labelled('temperature', temperature), temperatureText, labelled('grid rows', rowsInput), labelled('cols', colsInput));
  const sampleRow = element('div', { style: 'margin:4px 0' });
  const sampleButton = element('button', { class: 'pixel-live-sample', type: 'button', disabled: '' }, 'sample');
  sampleRow.append(sampleButton);
  const completeRow = element('div', { style: 'margin:4px 0' });
  const imagePicker = element('select', { class: 'pixel-live-image' });
  for (let n = 0; n < payload.images.count; n++) {
    const name = payload.classNames[payload.images.labels[n]];
    imagePicker.appendChild(element('option', { value: String(n) }, `test image ${n}${name ? ` (${name})` : ''}`));
  }
  const givenRows = element('input', { type: 'number', class: 'pixel-live-given', value: String(d.givenRows), min: '0', max: String(config.height), style: 'width:3.5em' });
  const completeButton = element('button', { class: 'pixel-live-complete', type: 'button', disabled: '' }, 'complete');
  const original = element('canvas', { class: 'pixel-live-original', style: 'vertical-align:middle;margin-left:8px;image-rendering:pixelated' });
  completeRow.append(labelled('complete', imagePicker), labelled('given rows', givenRows), completeButton, original);
  const canvas = element('canvas', { class: 'pixel-live-canvas', style: 'image-rendering:pixelated;display:block;margin-top:4px' });
  ui.append(controls, sampleRow, completeRow, status, canvas);
  root.appendChild(ui);

  let classPicker: HTMLSelectElement | undefined;
  let latentPicker: HTMLSelectElement | undefined;
  const keptRows = () => Math.max(0, Math.min(config.height, Math.floor(Number(givenRows.value) || 0)));
  const showOriginal = () => {
    const n = Number(imagePicker.value);
    const shown = testImages.data.slice(n * testImages.size, (n + 1) * testImages.size);
    const line = keptRows() * config.width * config.colours;
    for (let k = line; k < testImages.size; k++) shown[k] = Math.round(shown[k] * 0.25); // dim what will be sampled
    draw(original, shown, 1, payload, 1, 1);
    if (classPicker) classPicker.value = String(payload.images.labels[n] ?? 0);
  };
  imagePicker.addEventListener('change', showOriginal);
  givenRows.addEventListener('input', showOriginal);
  showOriginal();

  return {
    status,
    canvas,
    addModelPickers(model) {
      if (model.classes > 0) {
        classPicker = element('select', { class: 'pixel-live-class' });
        for (let c = 0; c < model.classes; c++) classPicker.appendChild(element('option', { value: String(c) }, payload.classNames[c] ?? `class ${c}`));
        controls.append(labelled('class', classPicker));
      }
      // A model with a latent samples given z: from the prior for "sample"; for "complete", the encoder's mean for
      // the test image seen through its given rows, or whole (a reconstruction: with 0 given rows, all from z).
      if (model.latentSources.length > 0) {
        latentPicker = element('select', { class: 'pixel-live-latent' });
        for (const source of model.latentSources) latentPicker.appendChild(element('option', { value: source }, source));
        completeRow.insertBefore(labelled('z from the encoder given', latentPicker), completeButton);
      }
      showOriginal();
    },
    settings(action) {
      const settings: LiveSettings = {
        action,
        rows: Math.max(1, Math.min(8, Math.floor(Number(rowsInput.value) || d.rows))),
        cols: Math.max(1, Math.min(8, Math.floor(Number(colsInput.value) || d.cols))),
        seed: Math.floor(Number(seed.value) || 0),
        temperature: Number(temperature.value),
      };
      if (classPicker) settings.label = Number(classPicker.value);
      if (action === 'complete') {
        settings.image = Number(imagePicker.value);
        settings.givenRows = keptRows();
        if (latentPicker) settings.latentFrom = latentPicker.value as LatentSource;
      }
      return settings;
    },
    onRun(listener) {
      sampleButton.addEventListener('click', () => listener('sample'));
      completeButton.addEventListener('click', () => listener('complete'));
    },
    setBusy(busy) {
      sampleButton.disabled = busy;
      completeButton.disabled = busy;
    },
  };
}
