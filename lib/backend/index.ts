/**
 * Compute backend selection. Picks the fastest backend that loads on this machine and says which:
 * `tensorflow` (from @tensorflow/tfjs-node-gpu or -node, only when the user installed one), then `wasm`
 * (with our own gradient kernels registered), then the pure-JS `cpu` backend.
 * `PIXEL_BACKEND=wasm|cpu|tensorflow` forces one.
 *
 * Node-only at the edges: optional packages are loaded with `require` inside functions.
 */
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { registerWasmGradientKernels } from './wasm-kernels';

export const BACKEND_NAMES = ['tensorflow', 'wasm', 'cpu'] as const;
export type BackendName = (typeof BACKEND_NAMES)[number];

export interface BackendInfo {
  name: BackendName;
  /** Human-readable description, e.g. "wasm (SIMD, 1 thread, our Conv2DBackpropFilter)". */
  description: string;
}

let current: BackendInfo | undefined;

function parseForced(value: string | undefined): BackendName | undefined {
  if (value === undefined || value === '') return undefined;
  if ((BACKEND_NAMES as readonly string[]).includes(value)) return value as BackendName;
  throw new Error(`PIXEL_BACKEND=${value} is not a known backend; expected one of ${BACKEND_NAMES.join(', ')}`);
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
 * Selects and initialises the backend once per process (later calls return the same answer).
 * `forced` overrides the environment variable; both name a backend that must then load.
 */
export async function initBackend(forced?: BackendName): Promise<BackendInfo> {
  const want = forced ?? parseForced(process.env.PIXEL_BACKEND);
  if (current && (want === undefined || want === current.name)) return current;
  tf.enableProdMode();
  const candidates: BackendName[] = want ? [want] : [...BACKEND_NAMES];
  for (const name of candidates) {
    let detail = '';
    if (name === 'tensorflow') {
      const pkg = tryLoadTensorflow();
      if (!pkg) {
        if (want) throw new Error('PIXEL_BACKEND=tensorflow but neither @tensorflow/tfjs-node-gpu nor @tensorflow/tfjs-node loads; install one (npm install @tensorflow/tfjs-node)');
        continue;
      }
      detail = ` via ${pkg}`;
    }
    if (await activate(name)) {
      await tf.ready();
      if (name === 'wasm') detail = ' (SIMD, single-threaded in Node, with our weight-gradient kernels)';
      if (name === 'cpu') detail = ' (pure JavaScript; slow)';
      current = { name, description: `${name}${detail}` };
      return current;
    }
    if (want) throw new Error(`PIXEL_BACKEND=${want}: the ${want} backend failed to initialise`);
  }
  throw new Error('no TensorFlow.js backend could be initialised');
}

export function backendInfo(): BackendInfo | undefined {
  return current;
}
