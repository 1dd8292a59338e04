// placeholder replaced by the kernels helper
export function registerWasmConvGradients(): void {}
