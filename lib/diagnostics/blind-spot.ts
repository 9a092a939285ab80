/**
 * The blind-spot studies of notebook 05: receptive fields of one output subpixel for several model kinds
 * and depths (fresh, untrained models: a receptive field is a property of the architecture), and of each
 * colour of an RGB model. The fields come from lib/diagnostics/receptive-field.ts (input gradients,
 * classified seen / blind / unreachable / leaking / future).
 *
 * Browser-safe: no Node-only imports.
 */
import { buildModel, DataShape, modelConfig, ModelKind } from '../models';
import { eventLoopTurns, StoppedError } from '../train/stop';
import { FIELD_CLASSES, FieldClass, receptiveField, ReceptiveField } from './receptive-field';

export interface FieldStudyOptions {
  /** Model kinds, one row each (default: simple, gated-blindspot, gated). */
  kinds?: ModelKind[];
  /** Depths (number of layers), one column each (default 1, 2, 5, 10). */
  depths?: number[];
  /** Kernel size (default 3). */
  kernelSize?: number;
  /** Hidden channels (default 8: the field does not depend on the width). */
  channels?: number;
  /**
   * Image side (square). Default: just large enough for the deepest model's reach around the centre pixel,
   * 2 * depth * (kernelSize // 2) + 3.
   */
  size?: number;
  /** Seed of the weights (default 1). */
  seed?: number;
  /**
   * Random inputs the gradient magnitude is maximised over (default 32). Deep, narrow ReLU stacks switch
   * whole paths off for one input; with too few inputs such seen pixels would count as blind
   * (simple model, 10 layers, k = 5: 109 "blind" with 4 inputs, the true 90 with 32).
   */
  inputs?: number;
  /** Called after each field (for progress in notebooks). */
  onField?: (done: number, total: number) => void;
  /** Checked before each field (after an event-loop turn, so a SIGINT listener can abort it): throws a StoppedError. */
  signal?: AbortSignal;
}

/** Before each field: a turn of the event loop now and then, and a StoppedError once `signal` is aborted. */
function stopCheck(signal: AbortSignal | undefined): () => Promise<void> {
  const turn = eventLoopTurns();
  return async () => {
    await turn();
    if (signal?.aborted) throw new StoppedError('receptive fields');
  };
}

export interface FieldStudy {
  kinds: ModelKind[];
  depths: number[];
  kernelSize: number;
  size: number;
  /** The output pixel whose field is shown: the centre of the image. */
  row: number;
  col: number;
  /** fields[k][d]: kind k at depth d. */
  fields: ReceptiveField[][];
}

/** The images a study's models are built for: size x size, with ten classes for a class-conditional kind. */
function studyShape(size: number, channels: number): DataShape {
  return { name: 'receptive-field study', height: size, width: size, channels, classes: 10 };
}

export const DEFAULT_STUDY_KINDS: ModelKind[] = ['simple', 'gated-blindspot', 'gated'];
export const DEFAULT_STUDY_DEPTHS = [1, 2, 5, 10];

/** Receptive fields of the centre pixel for every kind and depth. */
export async function fieldsByDepth(options: FieldStudyOptions = {}): Promise<FieldStudy> {
  const kinds = options.kinds ?? DEFAULT_STUDY_KINDS;
  const depths = options.depths ?? DEFAULT_STUDY_DEPTHS;
  const kernelSize = options.kernelSize ?? 3;
  const p = Math.floor(kernelSize / 2);
  const size = options.size ?? 2 * Math.max(...depths) * p + 3;
  const centre = Math.floor(size / 2);
  const fields: ReceptiveField[][] = [];
  const check = stopCheck(options.signal);
  let done = 0;
  for (const kind of kinds) {
    const row: ReceptiveField[] = [];
    for (const layers of depths) {
      await check();
      const model = buildModel(modelConfig(
        { kind, layers, kernelSize, channels: options.channels ?? 8, seed: options.seed ?? 1 }, studyShape(size, 1),
      ));
      try {
        row.push(await receptiveField(model, centre, centre, 0, { inputs: options.inputs ?? 32 }));
      } finally {
        model.params.dispose();
      }
      options.onField?.(++done, kinds.length * depths.length);
    }
    fields.push(row);
  }
  return { kinds, depths, kernelSize, size, row: centre, col: centre, fields };
}

export interface ColourStudyOptions {
  /** Model kind (default 'gated'). */
  kind?: ModelKind;
  /** Layers (default 2) and kernel size (default 3). */
  layers?: number;
  kernelSize?: number;
  /** Hidden channels, divisible by 3 (default 12). */
  channels?: number;
  /** Image side (default 7). */
  size?: number;
  seed?: number;
  /** As FieldStudyOptions.signal. */
  signal?: AbortSignal;
}

export interface ColourStudy {
  kind: ModelKind;
  size: number;
  row: number;
  col: number;
  /** fields[c]: the field of output colour c (R, G, B) at the centre pixel, over all input subpixels. */
  fields: ReceptiveField[];
}

/** Receptive fields of the centre pixel's R, G and B outputs of an RGB model. */
export async function colourFields(options: ColourStudyOptions = {}): Promise<ColourStudy> {
  const kind = options.kind ?? 'gated';
  const size = options.size ?? 7;
  const centre = Math.floor(size / 2);
  const model = buildModel(modelConfig(
    { kind, layers: options.layers ?? 2, kernelSize: options.kernelSize ?? 3, channels: options.channels ?? 12, seed: options.seed ?? 1 },
    studyShape(size, 3),
  ));
  try {
    const fields: ReceptiveField[] = [];
    const check = stopCheck(options.signal);
    for (let colour = 0; colour < 3; colour++) {
      await check();
      fields.push(await receptiveField(model, centre, centre, colour, { inputs: 16 }));
    }
    return { kind, size, row: centre, col: centre, fields };
  } finally {
    model.params.dispose();
  }
}

/**
 * What the output subpixel sees of its own pixel: for each input colour, its class there
 * ('seen', 'future' or 'leaking').
 */
export function currentPixelClasses(field: ReceptiveField): FieldClass[] {
  const { row, col } = field.output;
  const out: FieldClass[] = [];
  for (let c = 0; c < field.colours; c++) out.push(FIELD_CLASSES[field.classes[(row * field.width + col) * field.colours + c]]);
  return out;
}
