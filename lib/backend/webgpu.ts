/**
 * The WebGPU backend: @tensorflow/tfjs-backend-webgpu on Dawn's Node bindings (npm `webgpu`, a prebuilt
 * dawn.node). Dawn runs on Vulkan (Linux), Metal (macOS) or D3D12 (Windows); on Linux any Vulkan driver
 * works: a GPU's (NVIDIA, AMD, Intel) or Mesa's CPU driver lavapipe (a "fallback" adapter: correct, slow).
 *
 * Lazy: importing this module loads neither Dawn nor the backend package. `initBackend` (lib/backend)
 * - when webgpu is forced (`PIXEL_BACKEND=webgpu`), probes for any adapter, a fallback one included;
 * - otherwise first asks `realGpuPossible()`, which only looks at files (Vulkan driver manifests, GPU device
 *   nodes) and takes about a millisecond; only when a GPU could exist does it load Dawn and ask for an
 *   adapter (`probeWebGpu`: ~20 ms to load Dawn, 70-450 ms for Vulkan to enumerate its drivers), and it takes
 *   webgpu only when that adapter is a real GPU.
 *
 * Reading tensors: never `dataSync()`/`arraySync()` on this backend (it throws); use `await t.data()`.
 * Exit: Node exits normally with the backend in use. Do not drop the GPU object while a device lives (Dawn
 * then aborts at exit): this module keeps it. `shutdownWebGpu()` frees the backend's buffers and destroys
 * the device (then the backend can be activated again).
 */
import * as fs from 'fs';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';

/** What Dawn says about the adapter (GPUAdapterInfo), and whether it is a fallback (software/CPU) adapter. */
export interface GpuAdapterReport {
  vendor: string;
  architecture: string;
  device: string;
  description: string;
  /** A fallback adapter: a CPU implementation such as Mesa's lavapipe (correct but slow), not a GPU. */
  fallback: boolean;
}

export interface WebGpuProbe {
  /** The adapter found; undefined when none (or only a fallback one where that was not accepted). */
  adapter?: GpuAdapterReport;
  /** Why no usable adapter was found. */
  reason?: string;
  /** Milliseconds the probe took (loading Dawn included, the first time). */
  ms: number;
}

export interface RealGpuCheck {
  possible: boolean;
  reason: string;
  /** Milliseconds the check took (file-system look-ups only). */
  ms: number;
}

// Minimal shapes of the WebGPU objects used here (the DOM lib of TypeScript 5.0 has no WebGPU types).
interface GpuAdapterInfo {
  vendor?: string;
  architecture?: string;
  device?: string;
  description?: string;
  isFallbackAdapter?: boolean;
}
interface GpuDevice {
  destroy(): void;
}
interface GpuAdapter {
  info?: GpuAdapterInfo;
  isFallbackAdapter?: boolean;
  features: { has(name: string): boolean };
  limits: Record<string, number>;
  requestDevice(descriptor?: unknown): Promise<GpuDevice>;
}
interface Gpu {
  requestAdapter(options?: { powerPreference?: 'high-performance' | 'low-power'; forceFallbackAdapter?: boolean }): Promise<GpuAdapter | null>;
}
interface Dawn {
  create(flags: string[]): Gpu;
  globals: Record<string, unknown>;
}
type WebGpuBackendClass = new (device: GpuDevice, adapterInfo?: GpuAdapterInfo) => tf.KernelBackend;

let dawn: Dawn | undefined;
let dawnError: string | undefined;
/** The one GPU object of this process; kept for the process's lifetime (see the module comment). */
let gpu: Gpu | undefined;
let chosen: GpuAdapter | undefined;
let device: GpuDevice | undefined;
let globalsInstalled = false;
let lastProbe: WebGpuProbe | undefined;
let lastCheck: RealGpuCheck | undefined;

const SETUP_HINT = 'install a Vulkan driver: as root, `npm run setup:system` adds Mesa 25\'s CPU driver lavapipe ' +
  '(slow, for tests); for an NVIDIA GPU install libvulkan1 and the NVIDIA driver (its ICD file nvidia_icd.json; ' +
  'point VK_DRIVER_FILES at it if the loader does not find it)';

function loadDawn(): Dawn | undefined {
  if (dawn || dawnError) return dawn;
  try {
    dawn = require('webgpu') as Dawn; // an ES module: Node >= 20.19 requires it directly
  } catch (first) {
    try {
      // older Node 20: load the native addon itself (the package's index.js only adds a buffer-unmapping patch)
      const dir = path.dirname(require.resolve('webgpu/package.json'));
      const arch = process.platform === 'darwin' ? 'universal' : process.arch;
      dawn = require(path.join(dir, 'dist', `${process.platform}-${arch}`, 'dawn.node')) as Dawn;
    } catch {
      dawnError = `Dawn's Node bindings (npm package webgpu) do not load here: ${(first as Error).message.split('\n')[0]}`;
    }
  }
  return dawn;
}

function gpuObject(): Gpu | undefined {
  const d = loadDawn();
  if (!d) return undefined;
  gpu ??= d.create([]);
  return gpu;
}

function listJson(dir: string): string[] {
  try {
    return fs.readdirSync(dir).filter((f) => f.endsWith('.json')).map((f) => path.join(dir, f));
  } catch {
    return [];
  }
}

/** The Vulkan loader's driver manifests (ICD files) on Linux, as the loader would find them. */
export function vulkanDriverFiles(env: NodeJS.ProcessEnv = process.env): string[] {
  const expand = (list: string | undefined): string[] => (list ?? '').split(':').filter(Boolean)
    .flatMap((p) => (p.endsWith('.json') ? (fs.existsSync(p) ? [p] : []) : listJson(p)));
  const override = env.VK_DRIVER_FILES || env.VK_ICD_FILENAMES;
  const added = expand(env.VK_ADD_DRIVER_FILES);
  if (override) return [...expand(override), ...added];
  const home = env.HOME ?? '';
  const configDirs = (env.XDG_CONFIG_DIRS || '/etc/xdg').split(':');
  const dataDirs = [env.XDG_DATA_HOME || path.join(home, '.local/share'), ...(env.XDG_DATA_DIRS || '/usr/local/share:/usr/share').split(':')];
  const dirs = [...configDirs.map((d) => path.join(d, 'vulkan/icd.d')), '/etc/vulkan/icd.d', ...dataDirs.map((d) => path.join(d, 'vulkan/icd.d'))];
  return [...new Set([...dirs.flatMap(listJson), ...added])];
}

/** Drivers that are CPU implementations (never a real GPU). */
const SOFTWARE_DRIVER = /(^|\/)(lvp_icd|vk_swiftshader_icd|swiftshader_icd)[^/]*\.json$/;

function gpuDeviceNodes(): string[] {
  const found: string[] = [];
  try {
    found.push(...fs.readdirSync('/dev/dri').filter((f) => f.startsWith('renderD')).map((f) => `/dev/dri/${f}`));
  } catch {
    // no DRM devices
  }
  try {
    found.push(...fs.readdirSync('/dev').filter((f) => /^nvidia(\d+|ctl)$/.test(f) || f === 'dxg').map((f) => `/dev/${f}`));
  } catch {
    // unreadable /dev
  }
  return found;
}

/**
 * Whether a real GPU adapter could exist, from files alone (no Dawn, no Vulkan). On Linux a GPU needs both a
 * Vulkan driver manifest that is not a CPU driver's and a GPU device node (/dev/dri/renderD*, /dev/nvidia*,
 * WSL's /dev/dxg). Other systems: always possible (Dawn uses Metal or D3D12 there).
 * `PIXEL_WEBGPU_PROBE=0` says no, `=1` says yes, without looking.
 */
export function realGpuPossible(env: NodeJS.ProcessEnv = process.env): RealGpuCheck {
  const t0 = performance.now();
  const done = (possible: boolean, reason: string): RealGpuCheck => (lastCheck = { possible, reason, ms: performance.now() - t0 });
  const forced = env.PIXEL_WEBGPU_PROBE?.trim();
  if (forced === '0') return done(false, 'PIXEL_WEBGPU_PROBE=0');
  if (forced === '1') return done(true, 'PIXEL_WEBGPU_PROBE=1');
  if (process.platform !== 'linux') return done(true, `${process.platform}: Dawn's native GPU API`);
  const drivers = vulkanDriverFiles(env);
  const gpuDrivers = drivers.filter((f) => !SOFTWARE_DRIVER.test(f));
  if (gpuDrivers.length === 0) {
    return done(false, drivers.length === 0 ? 'no Vulkan driver installed' : `only CPU Vulkan drivers (${drivers.map((f) => path.basename(f)).join(', ')})`);
  }
  const nodes = gpuDeviceNodes();
  if (nodes.length === 0) return done(false, 'no GPU device node (/dev/dri/renderD*, /dev/nvidia*, /dev/dxg)');
  return done(true, `Vulkan drivers ${gpuDrivers.map((f) => path.basename(f)).join(', ')}; devices ${nodes.join(', ')}`);
}

function report(adapter: GpuAdapter): GpuAdapterReport {
  const info = adapter.info ?? {};
  return {
    vendor: info.vendor || 'unknown vendor',
    architecture: info.architecture || '',
    device: info.device || '',
    description: info.description || '',
    fallback: !!(info.isFallbackAdapter ?? adapter.isFallbackAdapter),
  };
}

/**
 * Loads Dawn (once) and asks for a high-performance adapter; with `allowFallback`, a fallback adapter (a
 * CPU Vulkan driver) is accepted too. Never throws. Remembers the adapter for `activateWebGpu`.
 */
export async function probeWebGpu(options: { allowFallback: boolean }): Promise<WebGpuProbe> {
  const t0 = performance.now();
  const done = (adapter: GpuAdapterReport | undefined, reason?: string): WebGpuProbe =>
    (lastProbe = { adapter, reason, ms: performance.now() - t0 });
  const g = gpuObject();
  if (!g) return done(undefined, dawnError);
  let adapter: GpuAdapter | null = null;
  try {
    adapter = await g.requestAdapter({ powerPreference: 'high-performance' });
    if (!adapter && options.allowFallback) adapter = await g.requestAdapter({ forceFallbackAdapter: true });
  } catch (e) {
    return done(undefined, `Dawn's requestAdapter failed: ${(e as Error).message}`);
  }
  if (!adapter) return done(undefined, `no WebGPU adapter: Dawn found no usable Vulkan device; ${SETUP_HINT}`);
  const found = report(adapter);
  if (found.fallback && !options.allowFallback) {
    return done(undefined, `only a fallback adapter (${describeAdapter(found)}): used only when forced (PIXEL_BACKEND=webgpu)`);
  }
  chosen = adapter;
  return done(found);
}

/** The last probe's and file check's outcomes in this process (undefined where none ran). */
export function webgpuProbeStatus(): { check?: RealGpuCheck; probe?: WebGpuProbe } {
  return { check: lastCheck, probe: lastProbe };
}

function installGlobals(g: Gpu): void {
  if (globalsInstalled) return;
  Object.assign(globalThis, dawn!.globals); // GPUBufferUsage, GPUMapMode, ...
  const holder = globalThis as unknown as { navigator?: { gpu?: unknown } };
  if (holder.navigator && typeof holder.navigator === 'object') {
    Object.defineProperty(holder.navigator, 'gpu', { value: g, configurable: true, writable: true });
  } else {
    Object.defineProperty(globalThis, 'navigator', { value: { gpu: g }, configurable: true, writable: true });
  }
  globalsInstalled = true;
}

/**
 * Registers the webgpu backend on the adapter the last successful `probeWebGpu` found and makes it tf's
 * backend. Loads @tensorflow/tfjs-backend-webgpu (once) after installing `navigator.gpu`, without which it
 * registers nothing. Throws when the device cannot be created.
 */
export async function activateWebGpu(): Promise<void> {
  const adapter = chosen;
  if (!adapter || !gpu) throw new Error('activateWebGpu: no adapter (probeWebGpu found none)');
  installGlobals(gpu);
  const { WebGPUBackend } = require('@tensorflow/tfjs-backend-webgpu') as { WebGPUBackend: WebGpuBackendClass };
  // The package registers a factory that asks for its own adapter; ours uses the probed one and keeps its device.
  if (tf.findBackendFactory('webgpu')) tf.removeBackend('webgpu');
  tf.registerBackend('webgpu', async () => {
    const requiredFeatures = ['timestamp-query', 'bgra8unorm-storage'].filter((f) => adapter.features.has(f));
    const limits = adapter.limits;
    device = await adapter.requestDevice({
      requiredFeatures,
      requiredLimits: {
        maxComputeWorkgroupStorageSize: limits.maxComputeWorkgroupStorageSize,
        maxComputeWorkgroupsPerDimension: limits.maxComputeWorkgroupsPerDimension,
        maxStorageBufferBindingSize: limits.maxStorageBufferBindingSize,
        maxBufferSize: limits.maxBufferSize,
        maxComputeWorkgroupSizeX: limits.maxComputeWorkgroupSizeX,
        maxComputeInvocationsPerWorkgroup: limits.maxComputeInvocationsPerWorkgroup,
      },
    });
    return new WebGPUBackend(device, adapter.info);
  }, 3);
  let ok = false;
  try {
    ok = await tf.setBackend('webgpu');
  } catch (e) {
    throw new Error(`the webgpu backend failed to initialise: ${(e as Error).message}`);
  } finally {
    if (!ok) shutdownWebGpu();
  }
  if (!ok) throw new Error('the webgpu backend failed to initialise (device creation failed)');
}

/**
 * Frees the webgpu backend's GPU buffers and destroys its device (idempotent; a no-op when webgpu never
 * ran). Tensors on webgpu are lost; tf falls back to its next registered backend. Node exits without this;
 * call it to give the GPU back early (a long-lived notebook kernel, a test that switches backends).
 */
export function shutdownWebGpu(): void {
  if (tf.findBackendFactory('webgpu')) tf.removeBackend('webgpu');
  device?.destroy();
  device = undefined;
  chosen = undefined; // an adapter gives one device: initBackend probes again for the next
}

/** "vendor mesa, software, llvmpipe: Mesa 25.0.7 (LLVM 15.0.6), fallback (CPU) adapter". */
export function describeAdapter(a: GpuAdapterReport): string {
  const parts = [`vendor ${a.vendor}`];
  if (a.architecture) parts.push(a.architecture);
  if (a.description || a.device) parts.push(a.description || a.device);
  parts.push(a.fallback ? 'fallback (CPU) adapter: correct but slow' : 'GPU adapter');
  return parts.join(', ');
}
