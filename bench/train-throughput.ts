/**
 * Training throughput of the project's own trainer (lib/train/trainer.ts `Trainer.step`: forward, backward,
 * Adam, loss read back) on random images, for the benchmark configs. Run directly it measures one config in
 * this process and prints `BENCH_RESULT {json}` on stdout (progress on stderr):
 *
 *   node --import tsx bench/train-throughput.ts --config gated_mnist [--batch 64] [--warmup 2] [--steps 5] [--backend wasm] [--workers 1] [--profile]
 *
 * --workers N shares each step with N helper worker threads (lib/train/workers.ts).
 * --profile adds one step under tf.profile (main-thread kernels only): time per kernel, the convolution kernels' own GFLOP/s (FLOPs from
 * the profiled shapes) and the time spent outside kernels.
 *
 * bench/index.ts runs it as a child process per config, so that a config that exhausts the wasm heap
 * (`RuntimeError: Aborted()` leaves the module unusable) fails alone, and so that each config's peak memory
 * is its own.
 */
import * as tf from '@tensorflow/tfjs';
import { BackendName, initBackend } from '../lib/backend';
import { Dataset } from '../lib/data/dataset';
import { buildModel, ModelConfig, modelConfig } from '../lib/models';
import { trainConfig } from '../lib/train/config';
import { Trainer } from '../lib/train/trainer';
import { GradientWorkers } from '../lib/train/workers';
import { trainingStepFlops } from './flops';

export const TRAIN_CONFIGS = {
  simple_mnist: { kind: 'simple', height: 28, width: 28, colours: 1, layers: 5, kernelSize: 5, channels: 30 },
  gated_mnist: { kind: 'gated', height: 28, width: 28, colours: 1, layers: 5, kernelSize: 5, channels: 30 },
  gated_cifar: { kind: 'gated', height: 32, width: 32, colours: 3, layers: 12, kernelSize: 5, channels: 30 },
} as const satisfies Record<string, Partial<ModelConfig>>;

export type TrainConfigName = keyof typeof TRAIN_CONFIGS;
export const TRAIN_CONFIG_NAMES = Object.keys(TRAIN_CONFIGS) as TrainConfigName[];

export function describeConfig(name: TrainConfigName): string {
  const c = TRAIN_CONFIGS[name];
  return `${c.kind} ${c.layers} layers, ${c.channels} ch, k ${c.kernelSize}, ${c.height}x${c.width}x${c.colours}`;
}

export interface TrainMeasurement {
  config: TrainConfigName;
  backend: string;
  /** Helper worker threads that computed part of each step's gradients (lib/train/workers.ts); 0 = none. */
  workers: number;
  batch: number;
  warmupSteps: number;
  stepSeconds: number[];
  medianStepSeconds: number;
  imagesPerSecond: number;
  /** CPU time (user + system, all threads of the process) of each timed step: less sensitive to other load. */
  stepCpuSeconds: number[];
  /** batch / median CPU seconds per step. */
  imagesPerCpuSecond: number;
  /** Convolution FLOPs of one training step (bench/flops.ts), in GFLOP. */
  convGflopPerStep: number;
  /** convGflopPerStep / median step time. */
  achievedConvGflops: number;
  parameters: number;
  /** The trainer's micro-batch after the run: `batch` unless running out of memory made it split the batch. */
  microBatchSize: number;
  /** Why the trainer split the batch (the out-of-memory error), if it did. */
  microBatchCause?: string;
  /** Peak resident set size of the process (process.resourceUsage().maxRSS). */
  peakRssBytes: number;
  /** Size of the wasm module's memory at the end (it only grows, so this is its peak); null off wasm. */
  wasmHeapBytes: number | null;
  /** One extra step under tf.profile (with `profile: true`): where the time goes. */
  profile?: StepProfile;
}

export interface KernelTime {
  kernel: string;
  calls: number;
  ms: number;
  /** Convolution kernels only: FLOPs from the profiled shapes / their time. */
  gflops?: number;
}

export interface StepProfile {
  /** Wall-clock time of the profiled step (profiling adds a little). */
  stepMs: number;
  /** Sum of all kernel times; stepMs minus this is tfjs/JS overhead outside kernels. */
  kernelMs: number;
  /** Conv2D (or FusedConv2D: with its bias, lib/ops/conv-bias.ts), Conv2DBackpropInput and Conv2DBackpropFilter together. */
  convMs: number;
  convGflop: number;
  /** The convolution kernels' own rate: convGflop / convMs. */
  convKernelGflops: number;
  /** Kernels by total time, largest first. */
  kernels: KernelTime[];
}

const CONV_KERNELS = ['Conv2D', 'FusedConv2D', 'Conv2DBackpropInput', 'Conv2DBackpropFilter'];

/** FLOPs of one profiled convolution call: 2 x (elements of the forward output, i.e. dy) x Kh x Kw x Ci. */
function convCallFlops(name: string, inputShapes: number[][], outputShapes: number[][]): number {
  const prod = (s: number[]) => s.reduce((a, b) => a * b, 1);
  let dy: number[], filter: number[];
  if (name === 'Conv2D' || name === 'FusedConv2D') [dy, filter] = [outputShapes[0], inputShapes[1]]; // fused: x, filter, bias -> y
  else if (name === 'Conv2DBackpropInput') [dy, filter] = [inputShapes[0], inputShapes[1]];
  else [dy, filter] = [inputShapes[1], outputShapes[0]];
  return 2 * prod(dy) * filter[0] * filter[1] * filter[2];
}

/** Runs `step` once under tf.profile and sums kernel times by kernel name. */
export async function profileStep(step: () => Promise<unknown>): Promise<StepProfile> {
  const t0 = performance.now();
  const info = await tf.profile(async () => {
    await step();
    return [];
  });
  const stepMs = performance.now() - t0;
  const byName = new Map<string, KernelTime & { flops: number }>();
  let kernelMs = 0, convMs = 0, convFlops = 0;
  const backendName = tf.getBackend();
  for (const k of info.kernels) {
    // tf.customGrad ops (our fused gated activation and softmax cross-entropy, the loss's accurate sum) are
    // profiled too, as 'unnamed scope' (tfjs names a non-kernel entry after the enclosing scope); their time is
    // that of the kernels they run, which are listed on their own, so counting them would count those twice.
    if (!tf.getKernel(k.name, backendName)) continue;
    const ms = typeof k.kernelTimeMs === 'number' ? k.kernelTimeMs : 0;
    const entry = byName.get(k.name) ?? { kernel: k.name, calls: 0, ms: 0, flops: 0 };
    entry.calls++;
    entry.ms += ms;
    kernelMs += ms;
    if (CONV_KERNELS.includes(k.name)) {
      const f = convCallFlops(k.name, k.inputShapes as number[][], k.outputShapes as number[][]);
      entry.flops += f;
      convFlops += f;
      convMs += ms;
    }
    byName.set(k.name, entry);
  }
  const kernels = [...byName.values()].sort((a, b) => b.ms - a.ms).map(({ flops, ...rest }) =>
    (flops > 0 && rest.ms > 0 ? { ...rest, gflops: flops / rest.ms / 1e6 } : rest));
  return { stepMs, kernelMs, convMs, convGflop: convFlops / 1e9, convKernelGflops: convMs > 0 ? convFlops / convMs / 1e6 : 0, kernels };
}

/** The wasm module's linear memory size, or null when the backend is not wasm. */
export function wasmHeapBytes(): number | null {
  const backend = tf.backend() as unknown as { wasm?: { HEAPU8?: Uint8Array } };
  return backend.wasm?.HEAPU8?.buffer.byteLength ?? null;
}

export function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

export async function measureTraining(
  name: TrainConfigName,
  options: { batch: number; warmup: number; steps: number; backend?: BackendName; workers?: number; profile?: boolean; log?: (line: string) => void },
): Promise<TrainMeasurement> {
  const log = options.log ?? (() => undefined);
  const info = await initBackend(options.backend);
  const config = modelConfig(TRAIN_CONFIGS[name]);
  const { batch } = options;
  const imageBytes = config.height * config.width * config.colours;
  // Random images; the trainer only reads the dataset's shape in `step`.
  const images = new Uint8Array(batch * imageBytes);
  let s = 12345;
  for (let i = 0; i < images.length; i++) {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    images[i] = s >>> 24;
  }
  const labels = new Uint8Array(batch);
  const split = { images, labels, count: batch };
  const dataset: Dataset = {
    name: `random-${name}`, train: split, test: split,
    height: config.height, width: config.width, channels: config.colours, classNames: [],
  };
  const model = buildModel(config);
  const trainer = new Trainer(model.objective(), dataset, trainConfig({ batchSize: batch }));
  let microBatchCause: string | undefined;
  trainer.executor.onMicroBatchChange = (size, cause) => {
    microBatchCause = cause.message;
    log(`${name}: out of memory; the trainer now splits the batch into micro-batches of ${size} (${cause.message.slice(0, 160)})`);
  };
  const parameters = model.params.count();
  const workers = options.workers ? await GradientWorkers.start(options.workers, { backend: info.name, model: config }) : undefined;
  trainer.executor.helpers = workers;
  const times: number[] = [];
  const cpuTimes: number[] = [];
  let profile: StepProfile | undefined;
  try {
    for (let k = 0; k < options.warmup + options.steps; k++) {
      const t0 = performance.now();
      const cpu0 = process.cpuUsage();
      const { nats } = await trainer.step(images, labels, batch);
      const dt = (performance.now() - t0) / 1000;
      const cpu = process.cpuUsage(cpu0);
      if (k >= options.warmup) {
        times.push(dt);
        cpuTimes.push((cpu.user + cpu.system) / 1e6);
      }
      log(`${name} step ${k + 1}/${options.warmup + options.steps}: ${(dt * 1000).toFixed(0)} ms, loss ${nats.toFixed(3)} nats${k < options.warmup ? ' (warm-up)' : ''}`);
    }
    if (options.profile) {
      profile = await profileStep(() => trainer.step(images, labels, batch));
      log(`${name} profiled step: ${profile.stepMs.toFixed(0)} ms, kernels ${profile.kernelMs.toFixed(0)} ms, convolutions ${profile.convMs.toFixed(0)} ms at ${profile.convKernelGflops.toFixed(1)} GFLOP/s`);
      for (const k of profile.kernels.slice(0, 12)) {
        log(`  ${k.kernel.padEnd(24)} ${String(k.calls).padStart(5)} calls ${k.ms.toFixed(0).padStart(7)} ms${k.gflops ? `  ${k.gflops.toFixed(1)} GFLOP/s` : ''}`);
      }
    }
  } finally {
    await workers?.terminate();
    trainer.optimizer.dispose();
    model.params.dispose();
  }
  const med = median(times);
  const flops = trainingStepFlops(config, batch);
  return {
    config: name,
    backend: info.description,
    workers: workers?.count ?? 0,
    batch,
    warmupSteps: options.warmup,
    stepSeconds: times,
    medianStepSeconds: med,
    imagesPerSecond: batch / med,
    stepCpuSeconds: cpuTimes,
    imagesPerCpuSecond: batch / median(cpuTimes),
    convGflopPerStep: flops.training / 1e9,
    achievedConvGflops: flops.training / med / 1e9,
    parameters,
    microBatchSize: trainer.executor.microBatchSize ?? batch,
    ...(microBatchCause ? { microBatchCause } : {}),
    peakRssBytes: process.resourceUsage().maxRSS * 1024,
    wasmHeapBytes: wasmHeapBytes(),
    ...(profile ? { profile } : {}),
  };
}

function flag(name: string, fallback: string): string {
  const at = process.argv.indexOf(`--${name}`);
  return at >= 0 && at + 1 < process.argv.length ? process.argv[at + 1] : fallback;
}

async function main(): Promise<void> {
  const name = flag('config', 'gated_mnist') as TrainConfigName;
  if (!TRAIN_CONFIG_NAMES.includes(name)) throw new Error(`--config must be one of ${TRAIN_CONFIG_NAMES.join(', ')}, got ${name}`);
  const backend = flag('backend', '') || undefined;
  const result = await measureTraining(name, {
    batch: Number(flag('batch', '64')),
    warmup: Number(flag('warmup', '2')),
    steps: Number(flag('steps', '5')),
    backend: backend as BackendName | undefined,
    workers: Number(flag('workers', '0')),
    profile: process.argv.includes('--profile'),
    log: (line) => console.error(line),
  });
  console.log('BENCH_RESULT ' + JSON.stringify(result));
}

if (require.main === module) {
  main().catch((e) => {
    console.error(e);
    process.exit(1);
  });
}
