/**
 * Makes the TensorFlow.js wasm backend fail loudly instead of returning wrong numbers.
 *
 * Two silent failure modes exist in tfjs-backend-wasm 4.22:
 * 1. When XNNPACK cannot create or set up an operator (status 6 = out of memory, for example) the C++ side
 *    prints "XNN status for xnn_... is not successful. Got status N" to stderr and carries on: the kernel's
 *    output is left uninitialised. The message reaches JavaScript through the Emscripten module's `printErr`,
 *    which is `console.warn.bind(console)` captured when the module is created. We wrap `console.warn`
 *    before that moment and record such messages; every wasm kernel is wrapped so that a recorded message
 *    turns into a thrown `WasmBackendError` right after the kernel that printed it.
 * 2. `BackendWasm.move` (every tensor allocation) does not check `_malloc`'s result: when the 4 GiB heap is
 *    exhausted it registers the tensor at address 0 and later writes overwrite the heap's start. We check it
 *    and throw.
 */
import * as tf from '@tensorflow/tfjs';
import { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import type { KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs';

export class WasmBackendError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'WasmBackendError';
  }
}

const HINT = 'The wasm heap is capped at 4 GiB: use a smaller batch, or split it into micro-batches with ' +
  'accumulated gradients.';

let installed = false;
let watchingMessages = false;
const pending: string[] = [];
const wrappedKernels = new WeakSet<KernelFunc>();

/** True when `text` is one of XNNPACK's failure messages printed by tfjs-backend-wasm. */
export function isXnnFailureMessage(text: string): boolean {
  return /XNN status/.test(text);
}

function takePending(): string | undefined {
  if (pending.length === 0) return undefined;
  const msg = pending.join('; ');
  pending.length = 0;
  return msg;
}

function hookConsoleWarn(): void {
  const original = console.warn;
  const hooked = function (this: unknown, ...args: unknown[]): void {
    const first = args[0];
    if (typeof first === 'string' && isXnnFailureMessage(first)) pending.push(first.trim());
    original.apply(console, args);
  };
  console.warn = hooked;
}

function disposeOutputs(backend: unknown, out: TensorInfo | TensorInfo[]): void {
  const b = backend as { disposeData(dataId: unknown): void };
  for (const t of Array.isArray(out) ? out : [out]) {
    try {
      b.disposeData(t.dataId);
    } catch {
      // best effort: we are about to throw anyway
    }
  }
}

function wrapKernel(config: KernelConfig): void {
  if (wrappedKernels.has(config.kernelFunc)) return;
  const inner = config.kernelFunc;
  const kernelName = config.kernelName;
  const wrapped: KernelFunc = (args) => {
    const out = inner(args);
    const msg = takePending();
    if (msg !== undefined) {
      disposeOutputs(args.backend, out);
      throw new WasmBackendError(`wasm backend kernel ${kernelName}: XNNPACK failed (${msg}); its result would ` +
        `be wrong, so it is refused. ${HINT}`);
    }
    return out;
  };
  wrappedKernels.add(wrapped);
  tf.unregisterKernel(config.kernelName, 'wasm');
  tf.registerKernel({ ...config, kernelFunc: wrapped });
}

/** Wraps every kernel registered for 'wasm' (call again after registering more; already wrapped ones stay). */
export function wrapWasmKernels(): void {
  for (const config of tf.getKernelsForBackend('wasm')) wrapKernel(config);
}

function guardAllocations(): void {
  type MoveFn = (dataId: object, values: unknown, shape: number[], dtype: string, refCount: number) => void;
  const proto = BackendWasm.prototype as unknown as {
    move: MoveFn;
    dataIdMap: { get(id: object): { memoryOffset: number | null } | undefined; delete(id: object): void };
  };
  const originalMove = proto.move;
  proto.move = function (this: typeof proto, dataId, values, shape, dtype, refCount) {
    originalMove.call(this, dataId, values, shape, dtype, refCount);
    if (dtype === 'string') return;
    const size = shape.reduce((a, b) => a * b, 1);
    const info = this.dataIdMap.get(dataId);
    if (size > 0 && info && info.memoryOffset === 0) {
      this.dataIdMap.delete(dataId);
      const bytes = size * (dtype === 'bool' ? 1 : 4);
      throw new WasmBackendError(`wasm backend out of memory: could not allocate ${bytes} bytes for a ` +
        `[${shape}] ${dtype} tensor. ${HINT}`);
    }
  };
}

/**
 * Installs the guard (idempotent). Watching XNNPACK messages only works for a wasm module created after
 * this call; `wasmGuardStatus()` says whether it is active.
 */
export function installWasmGuard(): void {
  if (!installed) {
    installed = true;
    const engine = tf.engine() as unknown as { registry: { [name: string]: unknown } };
    watchingMessages = !('wasm' in engine.registry);
    hookConsoleWarn();
    guardAllocations();
  }
  wrapWasmKernels();
}

export interface WasmGuardStatus {
  installed: boolean;
  /** False when the wasm module existed before the guard: XNNPACK messages then only go to the console. */
  watchingXnnMessages: boolean;
}

export function wasmGuardStatus(): WasmGuardStatus {
  return { installed, watchingXnnMessages: installed && watchingMessages };
}
