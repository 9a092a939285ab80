/** Elementwise and reduction kernels of the native backend (see ./native.ts); filled in from profiles. */
import type { TensorInfo } from '@tensorflow/tfjs';
import type { KernelArgs } from './wasm-kernel-util';
import type { NativeAddon } from './native';

export function nativeEltwiseKernels(addon: () => NativeAddon): Record<string, (args: KernelArgs) => TensorInfo | TensorInfo[]> {
  void addon;
  return {};
}
