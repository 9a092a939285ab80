/**
 * The project's benchmark: one command that measures, in one run,
 *
 * - training throughput (images/s of forward + backward + Adam through `Trainer.step`, median of several
 *   steps after warm-up) of simple MNIST (5 layers, 30 ch, 5x5), gated MNIST (same) and gated CIFAR
 *   (12 layers, 30 ch, 5x5, 32x32x3), batch 64, random data, on our fastest available backend; each config
 *   runs in its own child process (bench/train-throughput.ts) so that one that fails (e.g. a wasm abort) is
 *   reported as "failed: <reason>" instead of ending the run. When the batch does not fit the wasm heap the
 *   trainer itself splits it into micro-batches with accumulated gradients (gated CIFAR: micro-batches of 16);
 *   the table says so. Also images per CPU-second (user + system time), which other load disturbs less, and
 *   one extra step under tf.profile (time per kernel, the convolution kernels' own GFLOP/s). On the single-
 *   threaded backends (wasm, cpu) the trainer shares each step with helper worker threads, one per extra core
 *   by default (lib/train/workers.ts; `--workers 0` for one thread), and the thread count is ours + helpers;
 * - the same for the PyTorch reference (bench/torch_reference.py: full masked kernels, as the original
 *   project) with Debian's python3-torch, at the same number of threads, and the ratio ours / PyTorch;
 * - the 12x12 sampling grid with the fast sampler (in full) and the reference sampler (first steps timed,
 *   EXTRAPOLATED per subpixel), via bench/sampling.ts;
 * - the convolution GFLOP/s achieved in training (FLOPs counted from the model config, bench/flops.ts)
 *   against the peak, and peak memory (process RSS, wasm heap).
 *
 *   npm run bench -- [--json FILE] [--backend webgpu|native|tensorflow|wasm|cpu] [--quick] [--threads N] [--workers N]
 *                    [--batch 64] [--configs simple_mnist,gated_mnist,gated_cifar] [--no-torch] [--no-sampling]
 *                    [--python /usr/bin/python3]
 *
 * The machine is shared: the 1-minute load average is printed at the start and end and saved in the JSON;
 * numbers taken with a load above the core count are not meaningful.
 */
import { spawn, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import { getThreadsCount } from '@tensorflow/tfjs-backend-wasm';
import { writeFileAtomic } from '../lib/io/atomic-file';
import { BACKEND_NAMES, BackendName, initBackend, loadNativeAddon } from '../lib/backend';
import { defaultWorkerCount } from '../lib/train/workers';
import { measureSampling, SamplingMeasurement } from './sampling';
import { describeConfig, TRAIN_CONFIG_NAMES, TRAIN_CONFIGS, TrainConfigName, TrainMeasurement, wasmHeapBytes } from './train-throughput';

/** Single-core sgemm peak measured on this machine type with AVX-512 (/work/shared/STACK.md). */
const CORE_PEAK_GFLOPS = 159;
const CORE_PEAK_SOURCE = 'measured single-core AVX-512 sgemm, ~159 GFLOP/s per core (project notes, STACK.md)';

interface Options {
  json?: string;
  backend?: BackendName;
  quick: boolean;
  threads?: number;
  workers?: number;
  batch: number;
  configs: TrainConfigName[];
  torch: boolean;
  sampling: boolean;
  python: string;
}

function parseArgs(argv: string[]): Options {
  const o: Options = { quick: false, batch: 64, configs: [...TRAIN_CONFIG_NAMES], torch: true, sampling: true, python: '/usr/bin/python3' };
  const value = (i: number, name: string): string => {
    if (i + 1 >= argv.length) throw new Error(`${name} needs a value`);
    return argv[i + 1];
  };
  const positive = (text: string, name: string): number => {
    const n = Number(text);
    if (!Number.isInteger(n) || n < 1) throw new Error(`${name} must be a positive integer, got ${text}`);
    return n;
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--json') o.json = value(i++, a);
    else if (a === '--backend') {
      const b = value(i++, a);
      if (!(BACKEND_NAMES as readonly string[]).includes(b)) throw new Error(`--backend must be one of ${BACKEND_NAMES.join(', ')}, got ${b}`);
      o.backend = b as BackendName;
    } else if (a === '--quick') o.quick = true;
    else if (a === '--threads') o.threads = positive(value(i++, a), a);
    else if (a === '--workers') {
      const n = Number(value(i++, a));
      if (!Number.isInteger(n) || n < 0) throw new Error(`--workers must be a whole number >= 0, got ${argv[i]}`);
      o.workers = n;
    }
    else if (a === '--batch') o.batch = positive(value(i++, a), a);
    else if (a === '--configs') {
      const names = value(i++, a).split(',').filter(Boolean);
      for (const n of names) if (!(TRAIN_CONFIG_NAMES as string[]).includes(n)) throw new Error(`--configs: unknown config ${n}; expected ${TRAIN_CONFIG_NAMES.join(', ')}`);
      o.configs = names as TrainConfigName[];
    } else if (a === '--no-torch') o.torch = false;
    else if (a === '--no-sampling') o.sampling = false;
    else if (a === '--python') o.python = value(i++, a);
    else if (a === '--help' || a === '-h') {
      console.log('npm run bench -- [--json FILE] [--backend webgpu|native|tensorflow|wasm|cpu] [--quick] [--threads N] [--workers N] [--batch 64] ' +
        `[--configs ${TRAIN_CONFIG_NAMES.join(',')}] [--no-torch] [--no-sampling] [--python /usr/bin/python3]`);
      process.exit(0);
    } else throw new Error(`unknown option ${a} (try --help)`);
  }
  return o;
}

interface ChildOutcome<T> {
  result?: T;
  error?: string;
  seconds: number;
}

/** The most telling line of a failed child's stderr: the last error-looking line, else the last line. */
function failureReason(stderr: string, code: number | null, signal: string | null, timedOut: boolean, limit: number): string {
  if (timedOut) return `timed out after ${limit} s`;
  const lines = stderr.split('\n').map((l) => l.trim()).filter(Boolean);
  const errorLine = [...lines].reverse().find((l) => /(Error|Aborted|XNN status|out of memory|heap)/i.test(l) && !/^at /.test(l));
  const why = errorLine ?? lines.at(-1) ?? 'no output';
  return `${why.slice(0, 300)} (exit ${code ?? signal})`;
}

/** Runs a child that prints `BENCH_RESULT {json}`; stderr lines are relayed with a prefix. */
function runChild<T>(command: string, args: string[], limitSeconds: number, prefix: string): Promise<ChildOutcome<T>> {
  return new Promise((resolve) => {
    const t0 = performance.now();
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], cwd: path.join(__dirname, '..') });
    let stdout = '', stderr = '', timedOut = false, pendingErr = '';
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, limitSeconds * 1000);
    child.stdout.on('data', (d: Buffer) => { stdout += d.toString(); });
    child.stderr.on('data', (d: Buffer) => {
      const text = d.toString();
      stderr += text;
      pendingErr += text;
      const lines = pendingErr.split('\n');
      pendingErr = lines.pop() ?? '';
      for (const line of lines) if (line.trim()) console.error(`  [${prefix}] ${line}`);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const seconds = (performance.now() - t0) / 1000;
      const line = stdout.split('\n').find((l) => l.startsWith('BENCH_RESULT '));
      if (code === 0 && line) {
        try {
          resolve({ result: JSON.parse(line.slice('BENCH_RESULT '.length)) as T, seconds });
          return;
        } catch (e) {
          resolve({ error: `unreadable result: ${(e as Error).message}`, seconds });
          return;
        }
      }
      resolve({ error: failureReason(stderr + pendingErr, code, signal, timedOut, limitSeconds), seconds });
    });
    child.on('error', (e) => {
      clearTimeout(timer);
      resolve({ error: e.message, seconds: (performance.now() - t0) / 1000 });
    });
  });
}

interface TorchResult {
  torch_version: string;
  threads: number;
  batch: number;
  step_seconds: number[];
  median_step_seconds: number;
  images_per_s: number;
  step_cpu_seconds: number[];
  images_per_cpu_s: number;
  conv_gflop_per_step: number;
  achieved_conv_gflops: number;
  parameters: number;
  peak_rss_bytes: number;
}

/**
 * Whether PyTorch runs, and what it computes with: the ratio means little without the instruction set and the
 * libraries each side uses (Debian's PyTorch 1.13 runs oneDNN with AVX2 kernels and a generic BLAS).
 */
function torchAvailable(python: string): { ok: boolean; note: string } {
  const r = spawnSync(python, ['-c', 'import torch; print(torch.__version__); print(torch.__config__.show())'], { encoding: 'utf8' });
  if (r.error) return { ok: false, note: `skipped: ${python} not found (${r.error.message})` };
  if (r.status !== 0) return { ok: false, note: `skipped: PyTorch is not installed for ${python} (apt-get install -y python3-torch)` };
  const [version, ...config] = r.stdout.trim().split('\n');
  const text = config.join('\n');
  const found = (pattern: RegExp) => pattern.exec(text)?.[1]?.trim();
  const libraries = [
    found(/CPU capability usage: (\S+)/) && `CPU capability ${found(/CPU capability usage: (\S+)/)}`,
    found(/MKL-DNN (v[\d.]+)/) && `oneDNN ${found(/MKL-DNN (v[\d.]+)/)}`,
    found(/BLAS_INFO=([^,\s]+)/) && `BLAS ${found(/BLAS_INFO=([^,\s]+)/)}`,
  ].filter(Boolean);
  return { ok: true, note: `PyTorch ${version} (${python}${libraries.length > 0 ? `; ${libraries.join(', ')}` : ''})` };
}

/**
 * Best GFLOP/s of a square matMul on the current backend: what its fast kernel can do at best. Reads the
 * result asynchronously (the webgpu backend cannot be read synchronously).
 */
async function backendMatMulGflops(n: number, seconds: number): Promise<number> {
  const a = tf.randomNormal([n, n]), b = tf.randomNormal([n, n]);
  const once = async () => {
    const c = tf.matMul(a, b);
    await c.data();
    c.dispose();
  };
  await once();
  let best = Infinity, calls = 0;
  const t0 = performance.now();
  while (calls < 3 || performance.now() - t0 < seconds * 1000) {
    const t = performance.now();
    await once();
    best = Math.min(best, (performance.now() - t) / 1000);
    calls++;
  }
  tf.dispose([a, b]);
  return (2 * n * n * n) / best / 1e9;
}

const fmt = (x: number | null | undefined, digits = 1): string => (x === null || x === undefined || !Number.isFinite(x) ? '–' : x.toFixed(digits));
const mib = (bytes: number | null | undefined): string => (bytes ? `${(bytes / 2 ** 20).toFixed(0)} MiB` : '–');
const loadText = (l: number[]): string => l.map((x) => x.toFixed(2)).join(' ');

async function main(): Promise<void> {
  const opts = parseArgs(process.argv.slice(2));
  const started = new Date();
  const loadStart = os.loadavg();
  const cpus = os.cpus();
  const machine = { cpu_model: cpus[0]?.model ?? 'unknown', cores: cpus.length, memory_bytes: os.totalmem(), node: process.version, platform: `${os.platform()} ${os.release()}` };
  console.log(`pixel-notebooks benchmark, ${started.toISOString()}${opts.quick ? ' (--quick: fewer steps, smoke run)' : ''}`);
  console.log(`machine: ${machine.cpu_model}, ${machine.cores} cores, ${(machine.memory_bytes / 2 ** 30).toFixed(0)} GiB; node ${machine.node}`);
  console.log(`load average at start: ${loadText(loadStart)} (1, 5, 15 min)${loadStart[0] > machine.cores * 0.5 ? '  WARNING: the machine is busy; numbers will be low' : ''}`);

  const backend = await initBackend(opts.backend);
  // Helper worker threads share each training step (lib/train/workers.ts): by default one per extra core on wasm/cpu.
  const workers = opts.workers ?? defaultWorkerCount(backend.name);
  // native: oneDNN's OpenMP threads (OMP_NUM_THREADS, default one per core); they share the machine with helpers, if any
  const ourThreads = backend.name === 'wasm' ? getThreadsCount() + workers : backend.name === 'cpu' ? 1 + workers
    : backend.name === 'native' ? loadNativeAddon().info!.threads : null;
  const torchThreads = opts.threads ?? ourThreads ?? machine.cores;
  console.log(`backend: ${backend.description}; training on ${workers ? `this thread + ${workers} helper worker thread${workers === 1 ? '' : 's'}` : 'one thread'}`);

  const warmup = opts.quick ? 1 : 2;
  const steps = (name: TrainConfigName) => (opts.quick ? 2 : name === 'gated_cifar' ? 3 : 5);
  const childLimit = opts.quick ? 600 : 1800;
  const tsxArgs = ['--import', 'tsx', path.join(__dirname, 'train-throughput.ts')];

  // 1. Our training throughput, one child process per config.
  const ours: Partial<Record<TrainConfigName, ChildOutcome<TrainMeasurement>>> = {};
  const fallback: Partial<Record<TrainConfigName, ChildOutcome<TrainMeasurement>>> = {};
  for (const name of opts.configs) {
    console.log(`\ntraining ${name} (${describeConfig(name)}), batch ${opts.batch}, ${warmup} warm-up + ${steps(name)} timed steps ...`);
    const backendArgs = opts.backend ? ['--backend', opts.backend] : [];
    const args = [...tsxArgs, '--config', name, '--batch', String(opts.batch), '--warmup', String(warmup), '--steps', String(steps(name)), '--workers', String(workers), '--profile', ...backendArgs];
    const outcome = await runChild<TrainMeasurement>(process.execPath, args, childLimit, name);
    ours[name] = outcome;
    console.log(outcome.result ? `  ${fmt(outcome.result.imagesPerSecond)} images/s` +
      (outcome.result.microBatchSize < outcome.result.batch ? ` (the trainer split the batch into micro-batches of ${outcome.result.microBatchSize} after running out of memory)` : '') : `  failed: ${outcome.error}`);
    // A batch that does not fit: measure a quarter batch too, so the table still has a number (marked as such).
    if (!outcome.result && !opts.quick && opts.batch >= 16) {
      const small = Math.max(1, Math.floor(opts.batch / 4));
      console.log(`  retrying ${name} at batch ${small} (reported separately, not as the batch-${opts.batch} figure) ...`);
      const retry = await runChild<TrainMeasurement>(process.execPath, [...tsxArgs, '--config', name, '--batch', String(small), '--warmup', '1', '--steps', '3', '--workers', String(workers), ...backendArgs], childLimit, `${name} b${small}`);
      fallback[name] = retry;
      console.log(retry.result ? `  batch ${small}: ${fmt(retry.result.imagesPerSecond)} images/s` : `  batch ${small} failed too: ${retry.error}`);
    }
  }

  // 2. PyTorch reference, same configs, batch and thread count.
  const torch: Partial<Record<TrainConfigName, ChildOutcome<TorchResult>>> = {};
  let torchNote = 'skipped: --no-torch';
  if (opts.torch) {
    const avail = torchAvailable(opts.python);
    torchNote = avail.note;
    if (avail.ok) {
      torchNote += `, ${torchThreads} thread${torchThreads === 1 ? '' : 's'} (torch.set_num_threads)`;
      for (const name of opts.configs) {
        const c = TRAIN_CONFIGS[name];
        console.log(`\nPyTorch ${name}, batch ${opts.batch}, ${torchThreads} thread(s) ...`);
        const outcome = await runChild<TorchResult>(opts.python, [
          path.join(__dirname, 'torch_reference.py'), '--model', c.kind, '--height', String(c.height), '--width', String(c.width),
          '--colours', String(c.colours), '--layers', String(c.layers), '--kernel', String(c.kernelSize), '--channels', String(c.channels),
          '--batch', String(opts.batch), '--warmup', String(warmup), '--steps', String(steps(name)), '--threads', String(torchThreads),
        ], childLimit, `torch ${name}`);
        torch[name] = outcome;
        console.log(outcome.result ? `  ${fmt(outcome.result.images_per_s)} images/s` : `  failed: ${outcome.error}`);
      }
    } else {
      console.log(`\nPyTorch reference ${torchNote}`);
    }
  }

  // 3. Sampling (in this process, on the chosen backend).
  let sampling: SamplingMeasurement | undefined;
  let samplingError: string | undefined;
  if (opts.sampling) {
    console.log('\nsampling the 12x12 grid (gated MNIST model) ...');
    try {
      sampling = await measureSampling({ referenceSteps: opts.quick ? 2 : 4, backend: opts.backend, log: (l) => console.log(`  ${l}`) });
    } catch (e) {
      samplingError = (e as Error).message;
      console.log(`  failed: ${samplingError}`);
    }
  }

  // 4. The backend's best matMul GFLOP/s (its fast kernel's ceiling on this machine).
  console.log('\nmeasuring the backend\'s matMul peak ...');
  const matMulGflops = await backendMatMulGflops(1024, opts.quick ? 0.3 : 1.5);
  console.log(`  ${fmt(matMulGflops)} GFLOP/s (1024x1024x1024 matMul, best call)`);
  const mainRss = process.resourceUsage().maxRSS * 1024;
  const mainHeap = wasmHeapBytes();
  const loadEnd = os.loadavg();

  // ------------------------------------------------------------------------------------------------------
  const corePeak = CORE_PEAK_GFLOPS;
  const ourPeak = corePeak * (ourThreads ?? machine.cores);
  const perConfig = <T>(f: (name: TrainConfigName) => T): Record<TrainConfigName, T> =>
    Object.fromEntries(TRAIN_CONFIG_NAMES.map((n) => [n, f(n)])) as Record<TrainConfigName, T>;
  const oursIps = perConfig((n) => ours[n]?.result?.imagesPerSecond ?? null);
  const torchIps = perConfig((n) => torch[n]?.result?.images_per_s ?? null);
  const ratio = perConfig((n) => (oursIps[n] !== null && torchIps[n] !== null ? oursIps[n]! / torchIps[n]! : null));
  const oursCpu = perConfig((n) => ours[n]?.result?.imagesPerCpuSecond ?? null);
  const torchCpu = perConfig((n) => torch[n]?.result?.images_per_cpu_s ?? null);
  const ratioCpu = perConfig((n) => (oursCpu[n] !== null && torchCpu[n] !== null ? oursCpu[n]! / torchCpu[n]! : null));

  const report = {
    date: started.toISOString(),
    machine,
    load_average: { start: loadStart, end: loadEnd },
    quick: opts.quick,
    backend: backend.name,
    backend_description: backend.description,
    threads: ourThreads,
    workers,
    torch_threads: opts.torch ? torchThreads : null,
    batch: opts.batch,
    configs: perConfig((n) => ({ ...TRAIN_CONFIGS[n] })),
    train_images_per_s: oursIps,
    train_micro_batch: perConfig((n) => ours[n]?.result?.microBatchSize ?? null),
    train_failures: perConfig((n) => (ours[n]?.error ? `failed: ${ours[n]!.error}` : ours[n] ? null : 'not run')),
    train_fallback: perConfig((n) => (fallback[n] ? { batch: fallback[n]!.result?.batch ?? Math.floor(opts.batch / 4), images_per_s: fallback[n]!.result?.imagesPerSecond ?? null, error: fallback[n]!.error ?? null } : null)),
    torch_images_per_s: torchIps,
    torch_note: torchNote,
    torch_failures: perConfig((n) => (torch[n]?.error ? `failed: ${torch[n]!.error}` : null)),
    train_ratio_vs_torch: ratio,
    train_images_per_cpu_s: oursCpu,
    torch_images_per_cpu_s: torchCpu,
    train_ratio_vs_torch_cpu: ratioCpu,
    cpu_time_note: 'images per CPU-second (user + system time of the process, median step): less disturbed by other load on a shared machine than wall-clock images/s, which is the headline figure',
    sampling_seconds: { naive: sampling?.referenceSecondsExtrapolated ?? null, fast: sampling?.fastSeconds ?? null },
    sampling_naive_extrapolated: true,
    sampling_speedup: sampling?.speedup ?? null,
    sampling: sampling ?? (samplingError ? { error: samplingError } : null),
    conv_flops_method: 'per convolution 2*N*H*W*Kh*Kw*Cin*Cout (colour-masked taps included, and the k//2 zero taps of the simple model right of the centre; the rows below the centre, all masked, are computed by neither of our models); one training step = forward + dW of all + dX of all but the input-reading convolutions (bench/flops.ts); ' +
      'GFLOP/s = that / median step time (the step also does non-convolution work, so this understates the convolutions\' own rate). PyTorch runs full k x k / 1 x k masked kernels (more FLOPs), counted the same way with hooks.',
    conv_gflop_per_step: perConfig((n) => ours[n]?.result?.convGflopPerStep ?? fallback[n]?.result?.convGflopPerStep ?? null),
    achieved_conv_gflops: perConfig((n) => ours[n]?.result?.achievedConvGflops ?? null),
    conv_kernel_gflops: perConfig((n) => ours[n]?.result?.profile?.convKernelGflops ?? null),
    conv_time_fraction: perConfig((n) => { const p = ours[n]?.result?.profile; return p ? p.convMs / p.stepMs : null; }),
    conv_kernel_method: 'one extra training step under tf.profile: FLOPs of each Conv2D / FusedConv2D / Conv2DBackpropInput / Conv2DBackpropFilter call from its shapes, divided by the time spent in those kernels; conv_time_fraction = that time / the profiled step\'s wall time',
    torch_conv_gflop_per_step: perConfig((n) => torch[n]?.result?.conv_gflop_per_step ?? null),
    torch_achieved_conv_gflops: perConfig((n) => torch[n]?.result?.achieved_conv_gflops ?? null),
    peak_gflops: {
      per_core: corePeak,
      per_core_source: CORE_PEAK_SOURCE,
      machine: corePeak * machine.cores,
      for_our_threads: ourPeak,
      backend_matmul_measured: matMulGflops,
      backend_matmul_method: 'best of repeated 1024x1024x1024 tf.matMul calls on the chosen backend (native: oneDNN on its threads; wasm: XNNPACK, 128-bit SIMD, 1 thread)',
    },
    memory: {
      train_peak_rss_bytes: perConfig((n) => ours[n]?.result?.peakRssBytes ?? null),
      train_wasm_heap_bytes: perConfig((n) => ours[n]?.result?.wasmHeapBytes ?? null),
      torch_peak_rss_bytes: perConfig((n) => torch[n]?.result?.peak_rss_bytes ?? null),
      sampling_process_peak_rss_bytes: mainRss,
      sampling_process_wasm_heap_bytes: mainHeap,
    },
    details: { train: ours, train_fallback: fallback, torch },
  };

  // ------------------------------------------------------------------------------------------------------
  const names = opts.configs;
  const head = ['', ...names.map((n) => n.replace('_', ' '))];
  const rows: string[][] = [
    [`ours: images/s (${backend.name}, batch ${opts.batch})`, ...names.map((n) => (ours[n]?.result ? fmt(oursIps[n]) +
      (ours[n]!.result!.microBatchSize < ours[n]!.result!.batch ? ` (micro-batches of ${ours[n]!.result!.microBatchSize})` : '') :
      `failed${fallback[n]?.result ? `; batch ${fallback[n]!.result!.batch}: ${fmt(fallback[n]!.result!.imagesPerSecond)}` : ''}`))],
    [`PyTorch: images/s (${opts.torch && torchNote.startsWith('PyTorch') ? `${torchThreads} thr` : 'skipped'})`, ...names.map((n) => (torch[n]?.result ? fmt(torchIps[n]) : torch[n]?.error ? 'failed' : '–'))],
    ['ours / PyTorch', ...names.map((n) => (ratio[n] !== null ? `${fmt(ratio[n], 2)}x` : '–'))],
    ['images per CPU-second, ours / PyTorch (ratio)', ...names.map((n) => `${fmt(oursCpu[n])} / ${fmt(torchCpu[n])} (${ratioCpu[n] !== null ? `${fmt(ratioCpu[n], 2)}x` : '–'})`)],
    ['conv GFLOP per step, ours (PyTorch)', ...names.map((n) => `${fmt(report.conv_gflop_per_step[n])} (${fmt(report.torch_conv_gflop_per_step[n])})`)],
    ['conv GFLOP/s achieved, ours (PyTorch)', ...names.map((n) => `${fmt(report.achieved_conv_gflops[n])} (${fmt(report.torch_achieved_conv_gflops[n])})`)],
    ['ours: conv kernels\' own GFLOP/s (profiled); share of step', ...names.map((n) => (report.conv_kernel_gflops[n] !== null ? `${fmt(report.conv_kernel_gflops[n])}; ${fmt(100 * report.conv_time_fraction[n]!, 0)}%` : '–'))],
    [`ours: % of peak (${fmt(ourPeak, 0)} GFLOP/s for ${ourThreads ?? machine.cores} core(s))`, ...names.map((n) => (report.achieved_conv_gflops[n] !== null ? `${fmt((100 * report.achieved_conv_gflops[n]!) / ourPeak)}%` : '–'))],
    ['ours: peak RSS / wasm heap', ...names.map((n) => `${mib(report.memory.train_peak_rss_bytes[n])} / ${mib(report.memory.train_wasm_heap_bytes[n])}`)],
    ['PyTorch: peak RSS', ...names.map((n) => mib(report.memory.torch_peak_rss_bytes[n]))],
  ];
  const table = [`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`, ...rows.map((r) => `| ${r.join(' | ')} |`)];
  console.log(`\n## Results (${started.toISOString().slice(0, 10)}, ${machine.cpu_model}, ${machine.cores} cores)\n`);
  console.log(table.join('\n'));
  for (const n of names) if (ours[n]?.error) console.log(`\n${n}: failed: ${ours[n]!.error}`);
  for (const n of names) {
    const p = ours[n]?.result?.profile;
    if (!p) continue;
    const top = p.kernels.slice(0, 6).map((k) => `${k.kernel} ${k.ms.toFixed(0)} ms${k.gflops ? ` (${k.gflops.toFixed(1)} GFLOP/s)` : ''}`).join(', ');
    console.log(`\n${n} profiled step (${p.stepMs.toFixed(0)} ms; convolutions ${p.convMs.toFixed(0)} ms = ${fmt((100 * p.convMs) / p.stepMs, 0)}%): ${top}`);
  }
  if (!torchNote.startsWith('PyTorch')) console.log(`\nPyTorch reference ${torchNote}`);
  if (sampling) {
    console.log(`\nsampling the 12x12 grid (72 samples + 72 completions, gated MNIST 5x30 k5, untrained):`);
    console.log(`  fast sampler ${fmt(sampling.fastSeconds)} s; reference sampler ${fmt(sampling.referenceSecondsExtrapolated, 0)} s ` +
      `EXTRAPOLATED (${fmt(sampling.referenceSecondsPerStep, 2)} s per subpixel step, mean of ${sampling.referenceStepsMeasured - 1} timed steps after the first, x ${sampling.referenceStepsInAll} steps); speed-up ${fmt(sampling.speedup, 0)}x`);
  } else if (samplingError) console.log(`\nsampling failed: ${samplingError}`);
  console.log(`\npeak: ${CORE_PEAK_SOURCE}; x ${ourThreads ?? machine.cores} thread(s) used by ours = ${fmt(ourPeak, 0)} GFLOP/s (machine: ${fmt(corePeak * machine.cores, 0)}).`);
  console.log(`the backend's own best matMul: ${fmt(matMulGflops)} GFLOP/s (1024^3, measured now): the ceiling for our convolutions on this backend.`);
  console.log(`conv FLOPs: ${report.conv_flops_method}`);
  console.log(`load average: start ${loadText(loadStart)}, end ${loadText(loadEnd)} (${machine.cores} cores)`);
  if (opts.json) {
    writeFileAtomic(opts.json, JSON.stringify(report, null, 2) + '\n');
    console.log(`JSON written to ${opts.json}`);
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
