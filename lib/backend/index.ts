/**
 * Compute backend selection. Picks the fastest backend that loads on this machine and says which:
 * `webgpu` (Dawn's Node bindings; only when a real GPU adapter is found, see ./webgpu.ts), then `native`
 * (oneDNN on all cores through our addon, when `npm install` could build it: see ./native.ts), then
 * `tensorflow` (from @tensorflow/tfjs-node-gpu or -node, only when the user installed one), then `wasm`
 * (with our own gradient kernels registered), then the pure-JS `cpu` backend.
 * `PIXEL_BACKEND=webgpu|native|tensorflow|wasm|cpu` forces one (`webgpu` then also accepts a fallback adapter,
 * such as Mesa's CPU Vulkan driver lavapipe).
 *
 * Node-only at the edges: optional packages, Dawn and the webgpu backend are loaded with `require` inside
 * functions, and only when that backend is considered.
 */
import * as tf from '@tensorflow/tfjs';
import { getThreadsCount } from '@tensorflow/tfjs-backend-wasm';
import { registerWasmGradientKernels, WASM_GRADIENT_KERNELS } from './wasm-kernels';
import { wasmGuardStatus } from './wasm-guard';
import { loadNativeAddon, nativeDescription, registerNativeBackend } from './native';
import { activateWebGpu, describeAdapter, GpuAdapterReport, probeWebGpu, realGpuPossible, shutdownWebGpu } from './webgpu';

export { registerWasmGradientKernels, WASM_GRADIENT_KERNELS } from './wasm-kernels';
export { WasmBackendError, wasmGuardStatus } from './wasm-guard';
export { loadNativeAddon, nativeBuildDir, nativeKernelNames } from './native';
export type { NativeStatus } from './native';
export { realGpuPossible, vulkanDriverFiles, webgpuProbeStatus } from './webgpu';
export type { GpuAdapterReport, RealGpuCheck, WebGpuProbe } from './webgpu';

// Register at import: the wasm guard can only watch XNNPACK's messages in a wasm module created after it,
// and code may touch tf (which initialises the highest-priority backend, wasm) before calling initBackend.
registerWasmGradientKernels();

export const BACKEND_NAMES = ['webgpu', 'native', 'tensorflow', 'wasm', 'cpu'] as const;
export type BackendName = (typeof BACKEND_NAMES)[number];

export interface BackendInfo {
  name: BackendName;
  /**
   * Human-readable description, e.g. "wasm (SIMD, 1 thread; our XNNPACK-based BatchMatMul, ...)" or
   * "webgpu (Dawn; adapter: vendor nvidia, ampere, ..., GPU adapter)".
   */
  description: string;
  /** For webgpu: the adapter in use (a fallback adapter is a CPU driver such as lavapipe). */
  adapter?: GpuAdapterReport;
  /** Set when selection passed over the native backend: why it is unavailable (e.g. the addon was not built). */
  nativeUnavailable?: string;
}

let current: BackendInfo | undefined;

function parseForced(value: string | undefined): BackendName | undefined {
  const v = value?.trim().toLowerCase();
  if (v === undefined || v === '') return undefined;
  if ((BACKEND_NAMES as readonly string[]).includes(v)) return v as BackendName;
  throw new Error(`PIXEL_BACKEND=${JSON.stringify(value)} is not a known backend; expected one of ` +
    `${BACKEND_NAMES.join(', ')} (or unset, to pick the fastest that loads)`);
}

async function wasmDescription(): Promise<string> {
  const simd = await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT');
  const threads = getThreadsCount();
  const guard = wasmGuardStatus().watchingXnnMessages ? 'XNNPACK failures throw' : 'XNNPACK failures only logged';
  return ` (${simd ? 'SIMD' : 'no SIMD'}, ${threads} thread${threads === 1 ? '' : 's'}; our kernels: ` +
    `${WASM_GRADIENT_KERNELS.join(', ')}, fused softmax cross-entropy; ${guard})`;
}

function tryLoadTensorflow(): string | undefined {
  for (const pkg of ['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node']) {
    try {
      require(pkg);
      return pkg;
    } catch {
      // not installed or fails to load (no libtensorflow): fall through to the next candidate
    }
  }
  return undefined;
}

async function activate(name: BackendName): Promise<boolean> {
  if (name === 'wasm') registerWasmGradientKernels();
  try {
    return await tf.setBackend(name);
  } catch {
    return false;
  }
}

/**
 * Selects and initialises the backend once per process: later calls return the same answer, unless they
 * force a different backend, which is then switched to. `forced` overrides the environment variable
 * `PIXEL_BACKEND`; either names a backend that must then load (or this throws, naming it). Without either,
 * the first of webgpu (only when a real GPU adapter is found), native (only when its addon was built and loads),
 * tensorflow (only when @tensorflow/tfjs-node-gpu or -node is installed and loads), wasm, cpu that initialises
 * is used. When native was passed over, the result's description and `nativeUnavailable` say why.
 *
 * Switching away from webgpu in one process loses the tensors on it (the webgpu backend cannot be read
 * synchronously, which moving data needs): select once per process, or dispose everything first.
 */
export async function initBackend(forced?: BackendName): Promise<BackendInfo> {
  let want: BackendName | undefined;
  let source: string;
  if (forced !== undefined) {
    if (!(BACKEND_NAMES as readonly string[]).includes(forced)) {
      throw new Error(`initBackend(${JSON.stringify(forced)}): not a known backend; expected one of ${BACKEND_NAMES.join(', ')}`);
    }
    want = forced;
    source = `initBackend('${forced}')`;
  } else {
    want = parseForced(process.env.PIXEL_BACKEND);
    source = `PIXEL_BACKEND=${want}`;
  }
  if (current && (want === undefined || want === current.name)) return current;
  tf.enableProdMode(); // also silences the cpu backend's "install tfjs-node" banner
  const candidates: BackendName[] = want ? [want] : [...BACKEND_NAMES];
  let nativeUnavailable: string | undefined;
  const chosen = (info: BackendInfo): BackendInfo => (nativeUnavailable ? { ...info, nativeUnavailable } : info);
  for (const name of candidates) {
    let detail = '';
    if (name === 'native') {
      const native = registerNativeBackend();
      if (!native.available) {
        if (want) throw new Error(`${source}, but the native backend is unavailable: ${native.reason}`);
        nativeUnavailable = native.reason;
        continue;
      }
      if (!(await activate(name))) {
        if (want) throw new Error(`${source}: the native backend failed to initialise`);
        nativeUnavailable = 'it failed to initialise';
        continue;
      }
      await tf.ready();
      current = { name, description: nativeDescription() };
      return current;
    }
    if (name === 'webgpu') {
      // Unforced: only a real GPU, and Dawn is loaded only when the files say one could exist.
      if (!want && !realGpuPossible().possible) continue;
      const probe = await probeWebGpu({ allowFallback: want === 'webgpu' });
      if (!probe.adapter) {
        if (want) throw new Error(`${source}: ${probe.reason}`);
        continue;
      }
      try {
        await activateWebGpu();
      } catch (e) {
        if (want) throw new Error(`${source}: ${(e as Error).message}`);
        continue;
      }
      await tf.ready();
      current = { name, description: `webgpu (Dawn; adapter: ${describeAdapter(probe.adapter)})`, adapter: probe.adapter };
      return current;
    }
    if (name === 'tensorflow') {
      const pkg = tryLoadTensorflow();
      if (!pkg) {
        if (want) {
          throw new Error(`${source}, but neither @tensorflow/tfjs-node-gpu nor @tensorflow/tfjs-node loads; ` +
            'install one (npm install @tensorflow/tfjs-node) or choose wasm or cpu');
        }
        continue;
      }
      detail = ` via ${pkg}`;
    }
    if (await activate(name)) {
      await tf.ready();
      if (name === 'wasm') detail = await wasmDescription();
      if (name === 'cpu') detail = ' (pure JavaScript; slow)';
      if (nativeUnavailable) detail += `; native backend unavailable: ${nativeUnavailable}`;
      current = chosen({ name, description: `${name}${detail}` });
      return current;
    }
    if (want) throw new Error(`${source}: the ${want} backend failed to initialise`);
  }
  throw new Error('no TensorFlow.js backend could be initialised');
}

export function backendInfo(): BackendInfo | undefined {
  return current;
}

/**
 * Gives the GPU back: frees the webgpu backend's buffers and destroys its device (tensors on it are lost).
 * A no-op for the other backends. Node exits without it; the next `initBackend` selects again.
 */
export function shutdownBackend(): void {
  shutdownWebGpu();
  if (current?.name === 'webgpu') current = undefined;
}
