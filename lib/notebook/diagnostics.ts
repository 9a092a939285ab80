/**
 * What notebook 05-blind-spot does, one call per cell:
 *
 *   await showBlindSpots(fields)             receptive fields of the centre pixel by kind and depth, blind area counted
 *   await showColourFields(fields)           what an RGB model's R, G and B outputs see of their own pixel
 *   await prepareLeakDemo(config)            two sessions: the configured model and the same with leak: true
 *   await train(demo.leaking) / (demo.correct)   (session.ts: live progress and chart, checkpoints)
 *   showTrainingComparison(demo)             both training curves on one chart
 *   await showSamples(demo.leaking) / ...    (session.ts: the sample grid)
 *   await showLikelihoodChecks(demo, check)  one pass vs pixel by pixel for both models
 *
 * The computations live in lib/diagnostics (receptive fields, likelihood check, pictures); this file only
 * arranges and shows them. Node only (sessions, outputs).
 */
import { initBackend } from '../backend/index';
import { DEFAULT_KIND, MODEL_SPECS, ModelConfig, ModelInput, ModelKind, modelSpec } from '../models';
import { colourFields, ColourStudy, DEFAULT_STUDY_DEPTHS, DEFAULT_STUDY_KINDS, FieldStudy, fieldsByDepth } from '../diagnostics/blind-spot';
import { LikelihoodCheck, likelihoodCheck } from '../diagnostics/likelihood';
import { colourStudyHtml, fieldLegendHtml, fieldStudyHtml, likelihoodTableHtml } from '../diagnostics/plots';
import { imageSize } from '../data/dataset';
import type { History } from '../train/trainer';
import type { NotebookConfig } from './config';
import { formatDuration, noteHtml } from './html';
import { interruptible, Interrupts, isInterruption } from './interrupt';
import { defaultOutputs, Outputs } from './output';
import { chartHtml, comparisonLayout, PlotlyFigure, PlotlyTrace } from './plotly';
import { PrepareOptions, prepare, Session } from './session';
import { downsample, smooth } from './training-chart';

export interface FieldStudyConfig {
  /** Model kinds compared, one row each (default simple, gated-blindspot, gated). */
  kinds?: ModelKind[];
  /** Depths (layers), one column each (default 1, 2, 5, 10). */
  depths?: number[];
  /** Kernel size (default 3: the blind spot of the simple model is then p*L*(L-1)/2 = L(L-1)/2 pixels). */
  kernelSize?: number;
  /** Screen pixels per image pixel in the depth table (default 6) and the colour table (default 24). */
  scale?: number;
  colourScale?: number;
  /** The RGB model of the colour study (default 'gated', 2 layers). */
  colourKind?: ModelKind;
  colourLayers?: number;
}

/**
 * Receptive fields of the centre pixel for each kind and depth, with the blind area marked and counted.
 * Kernel -> Interrupt stops it between fields (it then rejects, saying so on its progress line).
 */
export function showBlindSpots(config: FieldStudyConfig = {}, outputs: Outputs = defaultOutputs(), interrupts?: Interrupts): Promise<FieldStudy> {
  return interruptible((signal) => showBlindSpotsUntilStopped(config, outputs, signal), interrupts);
}

async function showBlindSpotsUntilStopped(config: FieldStudyConfig, outputs: Outputs, signal: AbortSignal): Promise<FieldStudy> {
  await initBackend();
  const live = outputs.live();
  const started = performance.now();
  const kinds = config.kinds ?? DEFAULT_STUDY_KINDS;
  const depths = config.depths ?? DEFAULT_STUDY_DEPTHS;
  let fieldsDone = 0;
  const study = await fieldsByDepth({
    kinds, depths, kernelSize: config.kernelSize, signal,
    onField: (done, total) => live.text(`receptive fields: ${(fieldsDone = done)} of ${total}`),
  }).catch((error: unknown) => {
    if (isInterruption(error, signal)) live.text(`receptive fields: interrupted after ${fieldsDone} of ${kinds.length * depths.length}`);
    throw error;
  });
  live.text(`receptive fields: ${kinds.length * depths.length} models in ${formatDuration((performance.now() - started) / 1000)}`);
  outputs.display.html(fieldLegendHtml() + fieldStudyHtml(study, { scale: config.scale ?? 6 }));
  const p = Math.floor(study.kernelSize / 2);
  const lines = kinds.map((kind, k) => `${kind}: blind ${study.fields[k].map((f) => f.counts.blind).join(', ')} at depth ${depths.join(', ')}`);
  outputs.display.html(noteHtml(`Blind pixels — ${lines.join('; ')}. A stack of L masked k x k convolutions (the simple model) ` +
    `misses p*L*(L-1)/2 pixels above-right of the output (p = k//2 = ${p}): ${depths.map((L) => (p * L * (L - 1)) / 2).join(', ')}.`));
  return study;
}

/** The colour study: each of R, G, B at the centre pixel of a fresh RGB model, per input colour (an interrupt stops it between colours). */
export function showColourFields(config: FieldStudyConfig = {}, outputs: Outputs = defaultOutputs(), interrupts?: Interrupts): Promise<ColourStudy> {
  return interruptible(async (signal) => {
    await initBackend();
    const study = await colourFields({ kind: config.colourKind ?? 'gated', layers: config.colourLayers ?? 2, kernelSize: config.kernelSize, signal });
    outputs.display.html(colourStudyHtml(study, { scale: config.colourScale ?? 24 }));
    return study;
  }, interrupts);
}

export interface LeakDemo {
  /** The configured model. */
  correct: Session;
  /** The same model, training and data with leak: true (its first layer sees the subpixel it predicts). */
  leaking: Session;
}

/** The input of a model that has a `leak` field: the plain PixelCNNs (a PixelVAE's PixelCNN has none to set). */
type LeakableInput = Partial<Extract<ModelConfig, { leak: boolean }>>;

/** Whether the model's kind has a `leak` field (what its spec's defaults hold, not which kind it is). */
function leakable(model: ModelInput): model is LeakableInput {
  return 'leak' in modelSpec(model.kind ?? DEFAULT_KIND).defaults;
}

/** The model input with `leak` set; throws for a model without one, which cannot show the leak. */
function withLeak(model: ModelInput, leak: boolean, what: string): LeakableInput {
  if (!leakable(model)) {
    const kinds = MODEL_SPECS.filter((spec) => 'leak' in spec.defaults).map((spec) => spec.kind);
    throw new Error(`${what}: the leak demonstration needs a model with a leak field (${kinds.join(', ')}), got model.kind ${model.kind}`);
  }
  return { ...model, leak };
}

/** The leaking variant of a notebook configuration: leak: true, its own name and checkpoint. */
export function leakingConfig(config: NotebookConfig): NotebookConfig {
  const checkpoint = config.checkpoint.replace(/(\.[^./]+)?$/, (ext) => `-leaking${ext}`);
  return { ...config, name: `${config.name} (leaking)`, model: withLeak(config.model, true, 'leakingConfig'), checkpoint };
}

/** Prepares both sessions (each shows its summary); `config` itself must not leak. */
export async function prepareLeakDemo(config: NotebookConfig, options: PrepareOptions = {}): Promise<LeakDemo> {
  const correctModel = withLeak(config.model, false, 'prepareLeakDemo');
  if (leakable(config.model) && config.model.leak) {
    throw new Error('prepareLeakDemo: config is the correct model; its leaking twin is made from it (leave model.leak unset)');
  }
  const leaking = await prepare(leakingConfig(config), options);
  const correct = await prepare({ ...config, model: correctModel }, options);
  return { correct, leaking };
}

const COMPARISON = [
  { key: 'leaking', label: 'leaking model', colour: '#c51b7d' },
  { key: 'correct', label: 'correct model', colour: '#1f5fbf' },
] as const;

/** Both runs' training curves (smoothed train bits/dim per step, test after each epoch) on one chart. */
export function comparisonFigure(histories: { label: string; colour: string; history: History; batchesPerEpoch: number }[], title: string): PlotlyFigure {
  const data: PlotlyTrace[] = [];
  for (const { label, colour, history, batchesPerEpoch } of histories) {
    const steps = history.steps.map((s) => s.step);
    const bits = history.steps.map((s) => s.bitsPerDim);
    const smoothed = downsample(steps, smooth(bits, steps.length < 50 ? 0.6 : 0.9), 1500);
    data.push({
      type: 'scatter', mode: 'lines', name: `${label}: train (smoothed)`, x: smoothed.x, y: smoothed.y,
      line: { color: colour, width: 2.5 }, hovertemplate: `step %{x}: %{y:.3f} bits/dim<extra>${label}</extra>`,
    });
    const tested = history.epochs.filter((e) => e.testBitsPerDim !== undefined);
    data.push({
      type: 'scatter', mode: 'markers', name: `${label}: test (one pass)`, x: tested.map((e) => (e.epoch + 1) * batchesPerEpoch),
      y: tested.map((e) => e.testBitsPerDim!), marker: { color: colour, size: 10 },
      hovertemplate: `after epoch %{text}: %{y:.4f} bits/dim<extra>${label}, test</extra>`, text: tested.map((e) => String(e.epoch + 1)),
    });
  }
  return {
    data,
    layout: comparisonLayout(title, 'training step', 'bits/dim (one pass)'),
  };
}

/** The two training curves on one chart. */
export function showTrainingComparison(demo: LeakDemo, outputs: Outputs = demo.correct.outputs): void {
  const histories = COMPARISON.map(({ key, label, colour }) => ({
    label, colour, history: demo[key].run.trainer.state.history, batchesPerEpoch: demo[key].run.trainer.batchesPerEpoch(),
  }));
  outputs.display.html(chartHtml(comparisonFigure(histories, `${demo.correct.config.name}: same model, same budget, with and without the leak`)));
}

export interface LikelihoodCheckConfig {
  /** Test images checked (the first ones of the test set; default 16; 4 under PIXEL_SMOKE=1). */
  images?: number;
}

/** One pass vs pixel by pixel on the first test images, for both models, as a table (an interrupt stops the sampling). */
export function showLikelihoodChecks(demo: LeakDemo, config: LikelihoodCheckConfig = {}, outputs: Outputs = demo.correct.outputs): Promise<Record<'correct' | 'leaking', LikelihoodCheck>> {
  return interruptible((signal) => checkLikelihoods(demo, config, outputs, signal), demo.correct.interrupts);
}

async function checkLikelihoods(demo: LeakDemo, config: LikelihoodCheckConfig, outputs: Outputs, signal: AbortSignal): Promise<Record<'correct' | 'leaking', LikelihoodCheck>> {
  const { dataset, smoke } = demo.correct;
  const count = Math.min(smoke ? 4 : config.images ?? 16, dataset.test.count);
  if (!Number.isInteger(count) || count < 1) throw new Error(`showLikelihoodChecks: images must be a positive integer, got ${config.images}`);
  const images = dataset.test.images.subarray(0, count * imageSize(dataset));
  const checks = {} as Record<'correct' | 'leaking', LikelihoodCheck>;
  for (const { key, label } of COMPARISON) {
    const live = outputs.live();
    let last = -Infinity;
    checks[key] = await likelihoodCheck(demo[key].run.model, images, {
      signal,
      onProgress: (p) => {
        const now = performance.now();
        if (now - last < 1000 && p.fraction < 1) return;
        last = now;
        live.text(`${label}: pixel by pixel ${(p.fraction * 100).toFixed(0)}%`);
      },
    });
    live.text(`${label}: checked ${count} test images (pixel by pixel in ${formatDuration(checks[key].seconds)})`);
  }
  outputs.display.html(likelihoodTableHtml(COMPARISON.map(({ key, label }) => ({ label, check: checks[key] }))));
  const { correct, leaking } = checks;
  outputs.display.html(noteHtml(`Correct model: ${correct.agrees ? 'the two values agree' : 'the values DIFFER (unexpected for a correct model)'} ` +
    `(difference ${correct.difference.toExponential(1)} bits/dim). Leaking model: one pass ${leaking.onePassBitsPerDim.toFixed(3)}, ` +
    `pixel by pixel ${leaking.pixelByPixelBitsPerDim.toFixed(3)} bits/dim — ${leaking.agrees ? 'no difference yet (it has not learnt to use the leak)' : 'its one-pass value was never a likelihood'}.`,
  leaking.agrees ? 'info' : 'warn'));
  return checks;
}
