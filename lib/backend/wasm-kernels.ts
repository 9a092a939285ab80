/** Placeholder: the wasm backend's missing gradient kernels are registered here (see issue 2). */
export function registerWasmGradientKernels(): void {}
